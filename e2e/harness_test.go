package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/proto"
)

// repoRoot is the module root: the tests run in e2e/.
var repoRoot = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(wd)
}()

// binDir holds the binaries built for this test process.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "reach-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildMu    sync.Mutex
	built      = map[string]error{}
	webOnce    sync.Once
	webErr     error
	webDistDir = filepath.Join(repoRoot, "web", "dist")
)

// binary builds the command in package pkg (e.g. "./relay/cmd/reach-relay")
// once per test process and returns its path.
func binary(tb testing.TB, pkg string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	out := filepath.Join(binDir, filepath.Base(pkg))
	err, done := built[pkg]
	if !done {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = repoRoot
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err = cmd.Run(); err != nil {
			err = fmt.Errorf("go build %s: %v: %s", pkg, err, stderr.String())
		}
		built[pkg] = err
	}
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// webDist builds web/dist (client bundle and test page) once per test
// process. Missing node_modules fails the test with the fix.
func webDist(tb testing.TB) string {
	tb.Helper()
	webOnce.Do(func() {
		web := filepath.Join(repoRoot, "web")
		if _, err := os.Stat(filepath.Join(web, "node_modules", "playwright-core")); err != nil {
			webErr = fmt.Errorf("web/node_modules is missing: run `make setup` (or `cd web && npm ci`): %v", err)
			return
		}
		cmd := exec.Command("npm", "run", "--silent", "build")
		cmd.Dir = web
		if out, err := cmd.CombinedOutput(); err != nil {
			webErr = fmt.Errorf("npm run build in web/: %v: %s", err, out)
		}
	})
	if webErr != nil {
		tb.Fatal(webErr)
	}
	return webDistDir
}

// freeAddr returns a loopback TCP address that was free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// process starts a program whose output goes to the test log, and kills it
// (and its process group) when the test ends.
func process(tb testing.TB, env []string, name string, args ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.Stdout = logWriter{tb, filepath.Base(name)}
	cmd.Stderr = logWriter{tb, filepath.Base(name)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	return cmd
}

// logWriter forwards a process's output to the test log, line by line,
// until the test ends.
type logWriter struct {
	tb     testing.TB
	prefix string
}

var logMu sync.Mutex

func (w logWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	if os.Getenv("REACH_E2E_VERBOSE") != "" {
		for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
			fmt.Fprintf(os.Stderr, "%s: %s\n", w.prefix, line)
		}
	}
	return len(p), nil
}

// Console is the console's part in a test: its signing keys, made with
// `reach-console keys`, tokens from `reach-console token`, and grants and
// device keys served to the browser as the console API would.
type Console struct {
	Dir    string // key directory
	PubPEM string // public key file for the relay
	Signer *signing.Signer

	mu      sync.Mutex
	devices map[string]ed25519.PublicKey // enrolled device keys
}

// NewConsole creates the console's key pair with the real binary.
func NewConsole(tb testing.TB) *Console {
	tb.Helper()
	dir := tb.TempDir()
	out, err := exec.Command(binary(tb, "./console/cmd/reach-console"), "keys", "-dir", dir).Output()
	if err != nil {
		tb.Fatalf("reach-console keys: %v", err)
	}
	key, err := signing.LoadOrCreate(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return &Console{Dir: dir, PubPEM: strings.TrimSpace(string(out)), Signer: signing.New(key, nil),
		devices: map[string]ed25519.PublicKey{}}
}

// Token issues a token with `reach-console token` and the given flags.
func (c *Console) Token(tb testing.TB, args ...string) string {
	tb.Helper()
	cmd := exec.Command(binary(tb, "./console/cmd/reach-console"), append([]string{"token", "-dir", c.Dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("reach-console token %v: %v: %s", args, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// Enroll records a device's public key, as enrollment does.
func (c *Console) Enroll(id string, pub ed25519.PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.devices[id] = pub
}

// Handler serves the test page and client from web/dist, /grant (a session
// grant for ?fp=&device=) and /key (?device=, base64 raw Ed25519 key).
func (c *Console) Handler(dist string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(dist)))
	mux.HandleFunc("/grant", func(w http.ResponseWriter, r *http.Request) {
		claims := proto.Claims{Kind: proto.KindGrant, Fingerprint: r.FormValue("fp"), Device: r.FormValue("device")}
		claims.Subject = "tech-1"
		tok, err := c.Signer.Issue(claims, proto.AudienceAgent, 5*time.Minute)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, tok)
	})
	mux.HandleFunc("/key", func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		pub, ok := c.devices[r.FormValue("device")]
		c.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, base64.StdEncoding.EncodeToString(pub))
	})
	return mux
}

// Relay is a running reach-relay process.
type Relay struct {
	Addr string // host:port
}

// URL returns the WebSocket URL of an endpoint ("technician" or "agent").
func (r *Relay) URL(endpoint string) string { return "ws://" + r.Addr + "/v1/" + endpoint }

// StartRelay runs reach-relay on loopback with the console's public key,
// without TURN (peers reach each other directly on loopback).
func StartRelay(tb testing.TB, c *Console) *Relay {
	tb.Helper()
	addr := freeAddr(tb)
	process(tb, os.Environ(), binary(tb, "./relay/cmd/reach-relay"),
		"-listen", addr, "-console-keys", c.PubPEM, "-metrics-listen", "", "-turn-listen", "",
		"-allowed-origins", "127.0.0.1:*", "-log-level", "debug")
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &Relay{Addr: addr}
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("reach-relay did not become healthy on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// commandTimeout bounds one driver command, so that a stuck page fails
// the test instead of hanging it.
const commandTimeout = 60 * time.Second

// Browser is headless Chromium driven by driver.mjs.
type Browser struct {
	tb      testing.TB
	stdin   io.Writer
	replies chan []byte // one line per command; closed when the driver exits

	mu     sync.Mutex // serializes commands; guards nextID
	nextID int
}

// StartBrowser starts Chromium with a fresh profile; it is closed when the test ends.
func StartBrowser(tb testing.TB) *Browser {
	tb.Helper()
	webDist(tb)
	env := append(os.Environ(),
		"REACH_WEB_DIR="+filepath.Join(repoRoot, "web"),
		"REACH_USER_DATA_DIR="+tb.TempDir(),
	)
	cmd := exec.Command("node", filepath.Join(repoRoot, "e2e", "driver.mjs"))
	cmd.Env = env
	cmd.Stderr = logWriter{tb, "chromium"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start node driver.mjs: %v", err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	replies := make(chan []byte, 1)
	go func() {
		defer close(replies)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			replies <- append([]byte(nil), sc.Bytes()...)
		}
	}()
	return &Browser{tb: tb, stdin: stdin, replies: replies}
}

// Do runs one driver command and decodes its value into out (may be nil).
func (b *Browser) Do(cmd map[string]any, out any) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	cmd["id"] = b.nextID
	req, _ := json.Marshal(cmd)
	if _, err := b.stdin.Write(append(req, '\n')); err != nil {
		return fmt.Errorf("browser: send %v: %w", cmd["op"], err)
	}
	var line []byte
	select {
	case l, ok := <-b.replies:
		if !ok {
			return fmt.Errorf("browser: driver exited (is Chromium at /usr/bin/chromium? set REACH_E2E_VERBOSE=1 for its log)")
		}
		line = l
	case <-time.After(commandTimeout):
		return fmt.Errorf("browser: %v did not answer within %v", cmd["op"], commandTimeout)
	}
	var reply struct {
		ID    int             `json:"id"`
		OK    bool            `json:"ok"`
		Value json.RawMessage `json:"value"`
		Error string          `json:"error"`
	}
	if err := json.Unmarshal(line, &reply); err != nil {
		return fmt.Errorf("browser: bad reply %q: %w", line, err)
	}
	if !reply.OK {
		return fmt.Errorf("browser: %v: %s", cmd["op"], reply.Error)
	}
	if out != nil {
		return json.Unmarshal(reply.Value, out)
	}
	return nil
}

// Must runs a driver command and fails the test on error.
func (b *Browser) Must(cmd map[string]any, out any) {
	b.tb.Helper()
	if err := b.Do(cmd, out); err != nil {
		b.tb.Fatal(err)
	}
}

// Eval evaluates a JavaScript expression in the page (promises are awaited).
func (b *Browser) Eval(expr string, out any) error {
	return b.Do(map[string]any{"op": "eval", "expr": expr}, out)
}

// MustEval is Eval that fails the test on error.
func (b *Browser) MustEval(expr string, out any) {
	b.tb.Helper()
	if err := b.Eval(expr, out); err != nil {
		b.tb.Fatal(err)
	}
}

// jsArg encodes v as a JavaScript literal.
func jsArg(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// Page is the test page open in a browser, with the servers it talks to.
type Page struct {
	*Browser
	Web   *httptest.Server
	Relay *Relay
	Token string
}

// OpenPage serves web/dist and the console endpoints, opens the test page
// and returns it ready for StartSession with the relay at relayAddr.
func OpenPage(tb testing.TB, c *Console, relayAddr string) *Page {
	tb.Helper()
	web := httptest.NewServer(c.Handler(webDist(tb)))
	tb.Cleanup(web.Close)
	b := StartBrowser(tb)
	b.Must(map[string]any{"op": "goto", "url": web.URL + "/index.html"}, nil)
	tok := c.Token(tb, "-sub", "tech-1", "-name", "Ada Tech", "-org", "Help Desk", "-perms", "view,control,clipboard", "-ticket", "42")
	return &Page{Browser: b, Web: web, Relay: &Relay{Addr: relayAddr}, Token: tok}
}

// StartSession starts an attended session in the page and returns its code.
func (p *Page) StartSession(tb testing.TB) string {
	tb.Helper()
	var code string
	p.MustEval(fmt.Sprintf("window.reachTest.start(%s)", jsArg(map[string]any{
		"relayURL": p.Relay.URL("technician"), "token": p.Token,
		"grantURL": p.Web.URL + "/grant", "keyURL": p.Web.URL + "/key",
	})), &code)
	if !proto.ValidCode(code) {
		tb.Fatalf("page returned %q, not a session code", code)
	}
	return code
}

// WaitEvent waits for a session event in the page and decodes its detail.
func (p *Page) WaitEvent(tb testing.TB, name string, timeout time.Duration, out any) {
	tb.Helper()
	p.MustEval(fmt.Sprintf("window.reachTest.waitEvent(%s, %d)", jsArg(name), timeout.Milliseconds()), out)
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true
}

// WaitAgents waits until n agents are connected to the relay (its /healthz counts).
func (r *Relay) WaitAgents(tb testing.TB, n int) {
	tb.Helper()
	var h struct{ Agents int }
	ok := waitFor(context.Background(), 15*time.Second, func() bool {
		resp, err := http.Get("http://" + r.Addr + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(&h) == nil && h.Agents == n
	})
	if !ok {
		tb.Fatalf("relay has %d agents connected, want %d", h.Agents, n)
	}
}
