package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/enroll"
	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/agentapi"
	"github.com/reachdesk/reach/console/api"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/sqlite"
	"github.com/reachdesk/reach/console/webui"
)

// ConsoleServer is the console's HTTP server in a test: the REST API, the
// agent API and the embedded web UI on one SQLite store, mounted as
// CONTRACTS.md lays out the one console server. It runs in the test
// process; the relay and the agent are real processes.
type ConsoleServer struct {
	URL   string
	Store *sqlite.DB
	// Admin signs in with AdminEmail and Password.
	Admin *console.User
}

// Password is every test user's password.
const Password = "correct horse battery staple"

// AdminEmail is the bootstrap admin.
const AdminEmail = "admin@example.com"

// StartConsoleServer serves the console for relay r with c's signing key
// and one admin user.
func StartConsoleServer(tb testing.TB, c *Console, r *Relay) *ConsoleServer {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "console.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	sealer, err := auth.NewSealer(key)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(logWriter{tb, "console"}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	relayURL := "ws://" + r.Addr
	agents, err := agentapi.New(store, c.Signer, agentapi.Options{RelayURL: relayURL, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	apiSrv, err := api.New(store, c.Signer, api.Options{Sealer: sealer, BlobDir: filepath.Join(dir, "blobs"), RelayURL: relayURL,
		Org: "Help Desk", Agents: agents, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	ui, err := webui.Handler(webui.Options{RelayURL: relayURL})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/healthz", "/metrics", "/.well-known/"} {
		mux.Handle(p, apiSrv)
	}
	mux.Handle("/agent/", agents)
	mux.Handle("/", ui)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)

	hash, err := auth.NewHasher(auth.DefaultParams, 0).Hash(ctx, Password)
	if err != nil {
		tb.Fatal(err)
	}
	admin := &console.User{Email: AdminEmail, Name: "Alice Admin", Role: console.RoleAdmin, PasswordHash: hash}
	if err := store.CreateUser(ctx, admin); err != nil {
		tb.Fatal(err)
	}
	return &ConsoleServer{URL: srv.URL, Store: store, Admin: admin}
}

// APIClient calls the console API as one signed-in user, the way the web
// UI does: session cookie plus X-CSRF-Token.
type APIClient struct {
	tb   testing.TB
	base string
	http *http.Client
	csrf string
}

// SignIn signs in with a password (accounts without two-factor).
func (s *ConsoleServer) SignIn(tb testing.TB, email string) *APIClient {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &APIClient{tb: tb, base: s.URL, http: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	var r struct {
		CSRFToken   string `json:"csrf_token"`
		MFARequired bool   `json:"mfa_required"`
	}
	c.Must("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": Password}, &r)
	if r.MFARequired {
		tb.Fatalf("%s needs a two-factor code", email)
	}
	c.csrf = r.CSRFToken
	return c
}

// Do makes one API call; out may be nil. It returns the status.
func (c *APIClient) Do(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.base)
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		return resp.StatusCode, json.Unmarshal(data, out)
	}
	return resp.StatusCode, nil
}

// Must is Do that fails the test on error.
func (c *APIClient) Must(method, path string, body, out any) {
	c.tb.Helper()
	if _, err := c.Do(method, path, body, out); err != nil {
		c.tb.Fatal(err)
	}
}

// Fleet is what the journeys share: a device group with an enrollment
// token, a technician allowed to control it unattended and a viewer.
type Fleet struct {
	GroupID    int64
	EnrollTok  string
	TechEmail  string
	ViewEmail  string
	Technician int64
}

// SetUpFleet creates the group, users, grants and an enrollment token as
// the admin, through the API.
func (s *ConsoleServer) SetUpFleet(tb testing.TB) *Fleet {
	tb.Helper()
	admin := s.SignIn(tb, AdminEmail)
	f := &Fleet{TechEmail: "tess@example.com", ViewEmail: "victor@example.com"}
	var g struct{ ID int64 }
	admin.Must("POST", "/api/v1/device-groups", map[string]string{"name": "Office laptops", "description": "Front office"}, &g)
	f.GroupID = g.ID
	var tech struct{ User struct{ ID int64 } }
	admin.Must("POST", "/api/v1/users", map[string]any{"email": f.TechEmail, "name": "Tess Tech", "role": "technician", "level": "L2", "password": Password}, &tech)
	f.Technician = tech.User.ID
	admin.Must("POST", "/api/v1/users", map[string]any{"email": f.ViewEmail, "name": "Victor Viewer", "role": "viewer", "password": Password}, nil)
	admin.Must("PUT", fmt.Sprintf("/api/v1/device-groups/%d/grants", g.ID), map[string]any{"user_id": f.Technician, "permissions": []string{"view", "control", "unattended", "clipboard"}}, nil)
	admin.Must("PUT", fmt.Sprintf("/api/v1/device-groups/%d/grants", g.ID), map[string]any{"role": "viewer", "permissions": []string{"view"}}, nil)
	var tok struct{ Secret string }
	admin.Must("POST", "/api/v1/enrollment-tokens", map[string]any{"group_id": g.ID, "name": "e2e", "expires_in_seconds": 3600, "max_uses": 5}, &tok)
	f.EnrollTok = tok.Secret
	return f
}

// EnrollDevice enrolls a device with the console's real enrollment
// endpoint, sending inventory (JSON of an inventory.Report; nil collects
// it with `reach-agent inventory`), and returns its state directory, as
// `reach-agent install` leaves it.
func (s *ConsoleServer) EnrollDevice(tb testing.TB, f *Fleet, hostname string, inventory []byte) (string, *enroll.State) {
	tb.Helper()
	if inventory == nil {
		out, err := exec.Command(binary(tb, "./agent/cmd/reach-agent"), "inventory", "-format", "json").Output()
		if err != nil {
			tb.Fatalf("reach-agent inventory: %v", err)
		}
		inventory = out
	}
	dir := filepath.Join(tb.TempDir(), "state")
	res, err := enroll.Enroll(context.Background(), enroll.Options{Server: s.URL, Token: f.EnrollTok, Dir: dir, Hostname: hostname, Inventory: inventory})
	if err != nil {
		tb.Fatalf("enroll: %v", err)
	}
	return dir, res.State
}

// ServeAgent runs `reach-agent serve` for an enrolled device on display
// x, connected to relay r, answering unattended connects by policy.
func ServeAgent(tb testing.TB, r *Relay, display, env []string, state, policy string) {
	tb.Helper()
	process(tb, env, binary(tb, "./agent/cmd/reach-agent"), append([]string{"serve", "-state", state, "-relay", "ws://" + r.Addr, "-policy", policy, "-ui", "terminal"}, display...)...)
}

// OpenConsole opens the console in a fresh browser and signs in as email
// through the login page, keyboard only.
func OpenConsole(tb testing.TB, s *ConsoleServer, email string) *Browser {
	tb.Helper()
	b := StartBrowser(tb)
	b.Must(map[string]any{"op": "goto", "url": s.URL + "/tickets"}, nil)
	waitJS(tb, b, "document.activeElement && document.activeElement.id === 'login-email'", 15*time.Second)
	b.Must(map[string]any{"op": "type", "text": email}, nil)
	b.Must(map[string]any{"op": "press", "key": "Tab"}, nil)
	b.Must(map[string]any{"op": "type", "text": Password}, nil)
	b.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	waitJS(tb, b, "document.querySelector('#me-name')", 15*time.Second)
	return b
}

// consoleErrors fails the test if the page logged CSP violations or
// script errors (the driver forwards them to the log; this checks the
// page's own record).
func consoleErrors(tb testing.TB, b *Browser) {
	tb.Helper()
	var n int
	b.MustEval("window.__cspViolations ?? 0", &n)
	if n != 0 {
		tb.Errorf("%d Content-Security-Policy violations in the console", n)
	}
}

// installCSPWatch counts CSP violations in the page from now on.
func installCSPWatch(b *Browser) {
	b.Eval("window.__cspViolations = 0; document.addEventListener('securitypolicyviolation', () => window.__cspViolations++); true", nil)
}

// screenshot saves the page to docs/screenshots/name.png when
// REACH_SCREENSHOTS is set (see docs/ui.md).
func screenshot(tb testing.TB, b *Browser, name string) {
	tb.Helper()
	if os.Getenv("REACH_SCREENSHOTS") == "" {
		return
	}
	dir := filepath.Join(repoRoot, "docs", "screenshots")
	os.MkdirAll(dir, 0o755)
	b.Must(map[string]any{"op": "screenshot", "path": filepath.Join(dir, strings.TrimSuffix(name, ".png")+".png")}, nil)
}
