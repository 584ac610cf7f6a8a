package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/enduser"
	"github.com/reachdesk/reach/agent/enroll"
	"github.com/reachdesk/reach/console/webui"
)

// ConsoleServer is a `reach-console serve` process in a test, on a
// fresh SQLite data directory holding the test's signing keys, with the
// relay r named for browsers and agents.
type ConsoleServer struct {
	URL string
	// AdminPassword is the bootstrap admin's one-time password, read from
	// serve's standard output.
	AdminPassword string
}

// Password is the password of every user the tests create.
const Password = "correct horse battery staple"

// AdminEmail is the bootstrap admin.
const AdminEmail = "admin@example.com"

var oneTimePassword = regexp.MustCompile(`One-time password: (\S+)`)

// StartConsoleServer runs `reach-console serve` for relay r with c's
// signing key and waits until it is healthy.
func StartConsoleServer(tb testing.TB, c *Console, r *Relay) *ConsoleServer {
	tb.Helper()
	data := tb.TempDir()
	if err := os.Symlink(c.Dir, filepath.Join(data, "keys")); err != nil {
		tb.Fatal(err)
	}
	addr := freeAddr(tb)
	cmd := exec.Command(binary(tb, "./console/cmd/reach-console"), "serve", "-data", data, "-listen", addr,
		"-public-url", "http://"+addr, "-relay-url", "ws://"+r.Addr, "-org", "Help Desk", "-admin-email", AdminEmail, "-log-level", "debug")
	cmd.Stderr = logWriter{tb, "reach-console"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start reach-console: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	pw := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := oneTimePassword.FindStringSubmatch(sc.Text()); m != nil {
				pw <- m[1]
			}
		}
	}()
	s := &ConsoleServer{URL: "http://" + addr}
	select {
	case s.AdminPassword = <-pw:
	case <-done:
		tb.Fatal("reach-console serve exited (set REACH_E2E_VERBOSE=1 for its log)")
	case <-time.After(30 * time.Second):
		tb.Fatal("reach-console serve printed no first admin password")
	}
	ok := waitFor(context.Background(), 30*time.Second, func() bool {
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !ok {
		tb.Fatal("reach-console serve did not become healthy")
	}
	return s
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
	pw := Password
	if email == AdminEmail {
		pw = s.AdminPassword
	}
	c.Must("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw}, &r)
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

// OpenConsole opens the console in a fresh browser and signs in as email
// through the login page, keyboard only.
func OpenConsole(tb testing.TB, s *ConsoleServer, email string) *Browser {
	tb.Helper()
	b := StartBrowser(tb)
	b.Must(map[string]any{"op": "goto", "url": s.URL + "/tickets"}, nil)
	waitJS(tb, b, "document.activeElement && document.activeElement.id === 'login-email'", 15*time.Second)
	b.Must(map[string]any{"op": "type", "text": email}, nil)
	b.Must(map[string]any{"op": "press", "key": "Tab"}, nil)
	pw := Password
	if email == AdminEmail {
		pw = s.AdminPassword
	}
	b.Must(map[string]any{"op": "type", "text": pw}, nil)
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

// TestEmbeddedBundlesFresh checks that the console and end-user bundles
// compiled into the binaries (console/webui, agent/enduser) are what
// web/build.mjs makes of the sources today: run `npm run build` in web/ and
// commit the assets after changing web/console or web/enduser.
func TestEmbeddedBundlesFresh(t *testing.T) {
	webDist(t)
	out := t.TempDir()
	cmd := exec.Command("node", "build.mjs", "--out", out)
	cmd.Dir = filepath.Join(repoRoot, "web")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node build.mjs: %v: %s", err, b)
	}
	ui, err := webui.Handler(webui.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui)
	defer srv.Close()
	eu, err := enduser.New("127.0.0.1:1", enduser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		built string
		serve func(name string) []byte
	}{
		{"console/webui/assets/console.js", func(string) []byte { return fetch(t, srv.URL+"/console.js") }},
		{"console/webui/assets/console.css", func(string) []byte { return fetch(t, srv.URL+"/console.css") }},
		{"agent/enduser/assets/enduser.js", func(string) []byte { return serveEndUser(t, eu, "enduser.js") }},
		{"agent/enduser/assets/enduser.css", func(string) []byte { return serveEndUser(t, eu, "enduser.css") }},
	} {
		want, err := os.ReadFile(filepath.Join(out, tc.built))
		if err != nil {
			t.Fatal(err)
		}
		if got := tc.serve(tc.built); !bytes.Equal(got, want) {
			t.Errorf("%s is stale: the binaries embed %d bytes, the sources build %d (run npm run build in web/ and commit it)", tc.built, len(got), len(want))
		}
	}
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// serveEndUser reads one asset from an end-user server without a listener.
func serveEndUser(t *testing.T, s *enduser.Server, name string) []byte {
	t.Helper()
	u, _ := url.Parse(s.URL() + name)
	req := httptest.NewRequest(http.MethodGet, u.Path, nil)
	req.Host = u.Host
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Body.Bytes()
}
