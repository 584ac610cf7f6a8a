package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reachdesk/reach/internal/xvfb"
	"github.com/reachdesk/reach/proto"
)

// Agent is a reach-agent process in a test.
type Agent struct {
	cmd *exec.Cmd
}

// agentState writes a device identity for id into a state directory, as
// enrollment would: device.key, device.token and console.pub.
func agentState(tb testing.TB, c *Console, id string) string {
	tb.Helper()
	dir := tb.TempDir()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	c.Enroll(id, pub)
	keyPEM, err := proto.MarshalPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	consolePub, err := os.ReadFile(c.PubPEM)
	if err != nil {
		tb.Fatal(err)
	}
	tok := c.Token(tb, "-kind", "device", "-sub", id, "-name", "Test PC")
	for name, data := range map[string][]byte{"device.key": keyPEM, "device.token": []byte(tok + "\n"), "console.pub": consolePub} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// JoinAgent runs `reach-agent join CODE` on display x, answering the
// consent prompt with answer ("c" control, "v" view, "d" deny).
func JoinAgent(tb testing.TB, c *Console, r *Relay, x *xvfb.Server, code, answer string) *Agent {
	tb.Helper()
	state := agentState(tb, c, "dev-1")
	cmd := exec.Command(binary(tb, "./agent/cmd/reach-agent"), "join", "-state", state, "-relay", "ws://"+r.Addr, "-display", x.Display, code)
	cmd.Env = x.Env()
	cmd.Stderr = logWriter{tb, "reach-agent"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	// The prompt discards lines typed before it asks: answer once it shows.
	cmd.Stdout = &prompter{log: logWriter{tb, "reach-agent"}, answer: func() { fmt.Fprintln(stdin, answer) }}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start reach-agent: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		stdin.Close()
	})
	return &Agent{cmd: cmd}
}

// prompter watches the agent's terminal and answers its consent question
// once, when the "> " prompt appears.
type prompter struct {
	log      logWriter
	answer   func()
	mu       sync.Mutex
	answered bool
}

func (p *prompter) Write(b []byte) (int, error) {
	p.mu.Lock()
	if !p.answered && strings.Contains(string(b), "> ") {
		p.answered = true
		p.answer()
	}
	p.mu.Unlock()
	return p.log.Write(b)
}

// Stop asks the agent to end the session, as the end user's Ctrl+C does.
func (a *Agent) Stop() { a.cmd.Process.Signal(syscall.SIGINT) }

// terminal starts an xterm at the top-left corner whose typed lines land in
// the returned file.
func terminal(tb testing.TB, x *xvfb.Server) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "typed")
	x.Client(tb, "xterm", "-geometry", "60x8+0+0", "-e", "sh", "-c", "cat > "+out)
	x.WaitWindow(tb, "xterm")
	return out
}

// pointer returns the X pointer position, read with xdotool.
func pointer(tb testing.TB, x *xvfb.Server) image.Point {
	tb.Helper()
	var p image.Point
	for _, f := range strings.Fields(x.Run(tb, "xdotool", "getmouselocation")) {
		k, v, _ := strings.Cut(f, ":")
		n, _ := strconv.Atoi(v)
		switch k {
		case "x":
			p.X = n
		case "y":
			p.Y = n
		}
	}
	return p
}

// pageAt converts a screen position of the 1280x720 display to page
// coordinates of the test page's letterboxed 800x600 video.
func pageAt(p image.Point) (float64, float64) {
	return float64(p.X) * 0.625, 75 + float64(p.Y)*0.625
}

// agentSession runs an attended session with the real agent; consent is
// the end user's answer.
func agentSession(t *testing.T, consent string, tamper bool) (*Page, *Agent, *xvfb.Server, map[image.Point]color.RGBA) {
	t.Helper()
	x := xvfb.Start(t, xvfb.Options{Width: 1280, Height: 720})
	want := quadrants(t, x)
	c := NewConsole(t)
	relay := StartRelay(t, c)
	addr := relay.Addr
	if tamper {
		addr = tamperingProxy(t, relay, proto.TypeOffer)
	}
	page := OpenPage(t, c, addr)
	code := page.StartSession(t)
	a := JoinAgent(t, c, relay, x, code, consent)
	return page, a, x, want
}

// TestAgentAttended is the attended journey with the real agent: the
// browser shows the X display, a click moves the X pointer and typed text
// lands in an xterm, and the end user's stop ends the stream.
func TestAgentAttended(t *testing.T) {
	page, agent, x, want := agentSession(t, "c", false)
	page.WaitEvent(t, "started", 30*time.Second, nil)
	waitPattern(t, page, want)

	typed := terminal(t, x)
	target := image.Pt(100, 50)
	px, py := pageAt(target)
	page.Must(map[string]any{"op": "click", "x": px, "y": py}, nil)
	if !waitFor(context.Background(), 5*time.Second, func() bool { return near2(pointer(t, x), target) }) {
		t.Fatalf("X pointer at %v after the click, want %v", pointer(t, x), target)
	}
	page.Must(map[string]any{"op": "type", "text": "hello reach"}, nil)
	page.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	var got []byte
	if !waitFor(context.Background(), 5*time.Second, func() bool {
		got, _ = os.ReadFile(typed)
		return string(got) == "hello reach\n"
	}) {
		t.Fatalf("the xterm received %q, want %q", got, "hello reach\n")
	}

	agent.Stop()
	var ended struct{ Reason string }
	page.WaitEvent(t, "ended", 10*time.Second, &ended)
	// The end user's stop reaches the technician through the relay, with its reason.
	if !strings.Contains(ended.Reason, "stopped by the user") {
		t.Errorf("ended with %q, want the end user's stop", ended.Reason)
	}
	var f1, f2 int
	page.MustEval("window.reachTest.presentedFrames()", &f1)
	time.Sleep(500 * time.Millisecond)
	page.MustEval("window.reachTest.presentedFrames()", &f2)
	if f1 != f2 {
		t.Errorf("frames still presented after stop: %d → %d", f1, f2)
	}
}

func near2(a, b image.Point) bool {
	d := a.Sub(b)
	return d.X*d.X+d.Y*d.Y <= 8
}

// TestAgentViewOnly: the end user allows view only, so the agent drops the
// input the browser sends — nothing reaches the xterm, the pointer stays.
func TestAgentViewOnly(t *testing.T) {
	page, _, x, want := agentSession(t, "v", false)
	var started struct{ Permissions []string }
	page.WaitEvent(t, "started", 30*time.Second, &started)
	if strings.Contains(strings.Join(started.Permissions, ","), "control") {
		t.Errorf("view consent started with %v", started.Permissions)
	}
	waitPattern(t, page, want)
	typed := terminal(t, x)
	x.Run(t, "xdotool", "mousemove", "600", "600")
	px, py := pageAt(image.Pt(100, 50))
	page.Must(map[string]any{"op": "click", "x": px, "y": py}, nil)
	page.Must(map[string]any{"op": "type", "text": "nope"}, nil)
	page.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	time.Sleep(time.Second)
	if p := pointer(t, x); !near2(p, image.Pt(600, 600)) {
		t.Errorf("view-only: the X pointer moved to %v", p)
	}
	if got, _ := os.ReadFile(typed); len(got) != 0 {
		t.Errorf("view-only: the xterm received %q", got)
	}
}

// TestAgentRefusesTamperedOffer: a relay that swaps the browser's DTLS
// fingerprint in the offer is caught by the agent (the console's grant no
// longer matches); the session never starts and the technician sees why.
func TestAgentRefusesTamperedOffer(t *testing.T) {
	page, _, _, _ := agentSession(t, "c", true)
	var ended struct {
		Reason string
		Error  bool
	}
	page.WaitEvent(t, "ended", 30*time.Second, &ended)
	if !strings.Contains(ended.Reason, "intercepted") {
		t.Errorf("ended with %q, want the interception reason", ended.Reason)
	}
	var shown string
	page.MustEval("document.getElementById('status').textContent", &shown)
	if !strings.Contains(shown, "may be intercepted") {
		t.Errorf("the page shows %q, want the interception reason", shown)
	}
	var events []struct{ Name string }
	page.MustEval("window.reachTest.events()", &events)
	for _, ev := range events {
		if ev.Name == "started" {
			t.Error("the session started although the offer was tampered with")
		}
	}
}

// TestAgentUnattended: `reach-agent serve` with a control policy accepts an
// authorized technician's unattended connect without asking; the browser
// sees the screen.
func TestAgentUnattended(t *testing.T) {
	x := xvfb.Start(t, xvfb.Options{Width: 1280, Height: 720})
	want := quadrants(t, x)
	c := NewConsole(t)
	relay := StartRelay(t, c)
	state := agentState(t, c, "dev-1")
	process(t, x.Env(), binary(t, "./agent/cmd/reach-agent"), "serve", "-state", state,
		"-relay", "ws://"+relay.Addr, "-display", x.Display, "-policy", "control")
	relay.WaitAgents(t, 1)
	page := OpenPage(t, c, relay.Addr)
	page.Token = c.Token(t, "-sub", "tech-1", "-name", "Ada Tech", "-perms", "view,control,unattended", "-device", "dev-1")
	var sid string
	page.MustEval(fmt.Sprintf("window.reachTest.start(%s)", jsArg(map[string]any{
		"relayURL": relay.URL("technician"), "token": page.Token, "deviceId": "dev-1",
		"grantURL": page.Web.URL + "/grant", "keyURL": page.Web.URL + "/key",
	})), &sid)
	if sid == "" {
		t.Fatal("connectDevice returned no session id")
	}
	var consent struct{ Decision string }
	page.WaitEvent(t, "consent", 10*time.Second, &consent)
	if consent.Decision != "control" {
		t.Errorf("consent = %+v, want control by policy", consent)
	}
	page.WaitEvent(t, "started", 30*time.Second, nil)
	waitPattern(t, page, want)
	page.MustEval("window.reachTest.session.end()", nil)
	page.WaitEvent(t, "ended", 5*time.Second, nil)
}
