package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/console/sqlite"
)

// password is every fixture user's password.
const password = "correct horse battery staple"

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeAgents records requests to agents.
type fakeAgents struct {
	mu          sync.Mutex
	inventory   []int64
	diagnostics [][]string
}

func (a *fakeAgents) RequestInventory(_ context.Context, id int64) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inventory = append(a.inventory, id)
	return nil
}

func (a *fakeAgents) RequestDiagnostics(_ context.Context, id int64, checks []string) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.diagnostics = append(a.diagnostics, checks)
	return int64(len(a.diagnostics)), nil
}

// env is a console API on a real SQLite store behind a real HTTP server.
type env struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlite.DB
	srv    *Server
	http   *httptest.Server
	clock  *testClock
	hasher *auth.Hasher
	key    ed25519.PrivateKey
	agents *fakeAgents
	seq    atomic.Int64
}

func newEnv(t *testing.T, mod func(*Options)) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clock: &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)},
		hasher: auth.NewHasher(auth.Params{Memory: 64, Time: 1, Threads: 1}, 4), agents: &fakeAgents{}}
	dir := t.TempDir()
	st, err := sqlite.Open(e.ctx, filepath.Join(dir, "console.db"), sqlite.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.store = st
	_, e.key, _ = ed25519.GenerateKey(rand.Reader)
	sealer, _ := auth.NewSealer(bytes.Repeat([]byte{7}, 32))
	opts := Options{Sealer: sealer, BlobDir: filepath.Join(dir, "blobs"), RelayURL: "wss://relay.example/", Org: "Acme IT",
		Hasher: e.hasher, Agents: e.agents, Now: e.clock.Now, Registry: prometheus.NewRegistry(), MaxAttachmentBytes: 1 << 20}
	if mod != nil {
		mod(&opts)
	}
	srv, err := New(st, signing.New(e.key, e.clock.Now), opts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	hs := httptest.NewUnstartedServer(srv)
	hs.Start()
	t.Cleanup(hs.Close)
	e.http = hs
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) next() int64 { return e.seq.Add(1) }

// user creates a user with the fixture password.
func (e *env) user(role console.Role, lvl console.Level) *console.User {
	e.t.Helper()
	h, err := e.hasher.Hash(e.ctx, password)
	e.must(err)
	n := e.next()
	u := &console.User{Email: fmt.Sprintf("%s%d@example.com", role, n), Name: fmt.Sprintf("%s %d", role, n),
		Role: role, Level: lvl, PasswordHash: h}
	e.must(e.store.CreateUser(e.ctx, u))
	return u
}

// client is a caller of the API: cookies and CSRF token, or a bearer token.
type client struct {
	e       *env
	cookies []*http.Cookie
	csrf    string
	bearer  string
	origin  string // sent on unsafe methods; "" for the server's own
}

func (e *env) anon() *client { return &client{e: e} }

// login signs u in through the API and returns a cookie client.
func (e *env) login(u *console.User) *client {
	e.t.Helper()
	c := e.anon()
	resp := c.do("POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": password})
	if resp.status != 200 {
		e.t.Fatalf("login %s: %d %s", u.Email, resp.status, resp.body)
	}
	c.csrf = resp.json()["csrf_token"].(string)
	return c
}

// session signs u in directly in the store (no API round trip).
func (e *env) session(u *console.User) *client {
	e.t.Helper()
	secret, err := auth.NewSecret()
	e.must(err)
	now := e.clock.Now()
	e.must(e.store.CreateLoginSession(e.ctx, &console.LoginSession{UserID: u.ID, Hash: auth.HashSecret(secret),
		ExpiresAt: now.Add(time.Hour), LastSeenAt: now}))
	return &client{e: e, cookies: []*http.Cookie{{Name: e.srv.cookieName(), Value: secret}}, csrf: auth.CSRFToken(secret)}
}

// token gives u an API token.
func (e *env) token(u *console.User) *client {
	e.t.Helper()
	tok, hash, err := auth.NewAPIToken()
	e.must(err)
	e.must(e.store.CreateAPIToken(e.ctx, &console.APIToken{UserID: u.ID, Name: "test", Hash: hash}))
	return &client{e: e, bearer: tok}
}

type response struct {
	status int
	header http.Header
	body   []byte
	cookie []*http.Cookie
}

func (r *response) json() map[string]any {
	var m map[string]any
	json.Unmarshal(r.body, &m)
	return m
}

// errCode returns the error code of a JSON error body.
func (r *response) errCode() string {
	m, _ := r.json()["error"].(map[string]any)
	s, _ := m["code"].(string)
	return s
}

// upload is a raw request body with its content type.
type upload struct {
	contentType string
	data        []byte
}

// do sends a request; body is JSON-encoded unless it is []byte, a string
// or an upload.
func (c *client) do(method, path string, body any, hdr ...string) *response {
	c.e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), "application/octet-stream"
	case upload:
		rd, ct = bytes.NewReader(b.data), b.contentType
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		c.e.must(err)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.e.http.URL+path, rd)
	c.e.must(err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if method != "GET" {
		o := c.origin
		if o == "" {
			o = c.e.http.URL
		}
		req.Header.Set("Origin", o)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.e.http.Client().Do(req)
	c.e.must(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	c.e.must(err)
	for _, ck := range resp.Cookies() {
		if ck.Name == c.e.srv.cookieName() {
			if ck.MaxAge < 0 {
				c.cookies = nil
			} else {
				c.cookies = []*http.Cookie{ck}
			}
		}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b, cookie: resp.Cookies()}
}

// want fails unless the response has status.
func (r *response) want(t *testing.T, what string, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	return r
}
