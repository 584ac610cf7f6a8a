package uibridge_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/agent/uibridge"
	"github.com/reachdesk/reach/proto"
)

// TestMain doubles as a user process for the tests that kill one.
func TestMain(m *testing.M) {
	if path := os.Getenv("UIBRIDGE_TEST_CLIENT"); path != "" {
		h := &handler{onAsk: func(*uibridge.Prompt) { fmt.Println("PROMPT") }, block: true}
		uibridge.NewClient(path, h, uibridge.ClientOptions{}).Run(context.Background())
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var req = consent.Request{
	Technician:  proto.Person{ID: "t1", Name: "Ada Tech", Org: "Help Inc"},
	Ticket:      &proto.TicketRef{ID: "42", Title: "printer"},
	Permissions: []proto.Permission{proto.PermView, proto.PermControl},
	Unattended:  true,
	Timeout:     5 * time.Second,
}

var quiet = slog.New(slog.DiscardHandler)

// handler is a scripted user.
type handler struct {
	answer proto.Decision
	delay  time.Duration
	block  bool // never answer
	onAsk  func(*uibridge.Prompt)

	mu       sync.Mutex
	prompts  []*uibridge.Prompt
	statuses []uibridge.Status
	chats    []string
	attached bool
}

func (h *handler) Ask(ctx context.Context, p *uibridge.Prompt) (proto.Decision, error) {
	h.mu.Lock()
	h.prompts = append(h.prompts, p)
	h.mu.Unlock()
	if h.onAsk != nil {
		h.onAsk(p)
	}
	if h.block {
		<-ctx.Done()
		return proto.DecisionDeny, ctx.Err()
	}
	select {
	case <-time.After(h.delay):
		return h.answer, nil
	case <-ctx.Done():
		return proto.DecisionDeny, ctx.Err()
	}
}

func (h *handler) Status(st uibridge.Status) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.statuses = append(h.statuses, st)
}

func (h *handler) Chat(sid, from, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.chats = append(h.chats, sid+"/"+from+"/"+text)
}

func (h *handler) Attached(ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attached = ok
}

func (h *handler) snapshot() (prompts int, statuses []uibridge.Status, chats []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.prompts), append([]uibridge.Status{}, h.statuses...), append([]string{}, h.chats...)
}

// startService serves a bridge on a fresh socket.
func startService(t *testing.T, opts uibridge.ServiceOptions) (*uibridge.Service, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run", "ui.sock")
	return serveAt(t, path, opts), path
}

func serveAt(t *testing.T, path string, opts uibridge.ServiceOptions) *uibridge.Service {
	t.Helper()
	l, err := uibridge.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = quiet
	if opts.Authorize == nil {
		opts.Authorize = func(uibridge.Peer) error { return nil }
	}
	s := uibridge.NewService(opts)
	done := make(chan struct{})
	go func() { s.Serve(l); close(done) }()
	t.Cleanup(func() { s.Close(); <-done })
	return s
}

func startClient(t *testing.T, path string, h uibridge.Handler) *uibridge.Client {
	t.Helper()
	c := uibridge.NewClient(path, h, uibridge.ClientOptions{MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func attached(s *uibridge.Service, n int) func() bool {
	return func() bool { return s.Attached() == n }
}

func TestNobodyAttachedDeniesAtOnce(t *testing.T) {
	s, _ := startService(t, uibridge.ServiceOptions{})
	start := time.Now()
	a := consent.Decide(context.Background(), req, consent.PolicyAsk, s)
	if a.Decision != proto.DecisionDeny || a.Reason != uibridge.ReasonNobody {
		t.Fatalf("got %+v, want deny (%s)", a, uibridge.ReasonNobody)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("deny took %s, want at once", d)
	}
}

func TestAnswerIsApplied(t *testing.T) {
	for _, tc := range []struct {
		name   string
		perms  []proto.Permission
		answer proto.Decision
		want   proto.Decision
		reason string
	}{
		{"view", req.Permissions, proto.DecisionView, proto.DecisionView, ""},
		{"control", req.Permissions, proto.DecisionControl, proto.DecisionControl, ""},
		{"deny", req.Permissions, proto.DecisionDeny, proto.DecisionDeny, "user"},
		{"control not asked for is view", []proto.Permission{proto.PermView}, proto.DecisionControl, proto.DecisionView, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := startService(t, uibridge.ServiceOptions{})
			h := &handler{answer: tc.answer, delay: 20 * time.Millisecond}
			startClient(t, path, h)
			waitFor(t, "attach", attached(s, 1))
			r := req
			r.Permissions = tc.perms
			a := consent.Decide(context.Background(), r, consent.PolicyAsk, s)
			if a.Decision != tc.want || a.Reason != tc.reason {
				t.Fatalf("got %+v, want %s (%q)", a, tc.want, tc.reason)
			}
			h.mu.Lock()
			p := h.prompts[0]
			h.mu.Unlock()
			if p.Technician.Name != "Ada Tech" || p.Ticket.ID != "42" || !p.Unattended || p.TimeoutMS <= 0 || p.TimeoutMS > 5000 {
				t.Fatalf("prompt shown: %+v", p)
			}
		})
	}
}

func TestUserProcessDiesMidPrompt(t *testing.T) {
	s, path := startService(t, uibridge.ServiceOptions{})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "UIBRIDGE_TEST_CLIENT="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, "the user process to attach", attached(s, 1))
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "PROMPT" {
				cmd.Process.Kill()
			}
		}
	}()
	start := time.Now()
	a := consent.Decide(context.Background(), req, consent.PolicyAsk, s)
	if a.Decision != proto.DecisionDeny || a.Reason != uibridge.ReasonGone {
		t.Fatalf("got %+v, want deny (%s)", a, uibridge.ReasonGone)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("deny took %s: should follow the process's death, not the timeout", d)
	}
}

// rawUI speaks the protocol by hand, to misbehave.
type rawUI struct {
	nc net.Conn
	rd *bufio.Reader
}

func dialRaw(t *testing.T, path string) *rawUI {
	t.Helper()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	u := &rawUI{nc: nc, rd: bufio.NewReader(nc)}
	if m := u.read(t); m.Type != uibridge.TypeHello || m.Version != uibridge.Version {
		t.Fatalf("first message %+v", m)
	}
	u.write(t, uibridge.Message{Type: uibridge.TypeHello, Version: uibridge.Version})
	return u
}

func (u *rawUI) read(t *testing.T) *uibridge.Message {
	t.Helper()
	u.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := u.rd.ReadBytes('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m uibridge.Message
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func (u *rawUI) write(t *testing.T, m uibridge.Message) {
	t.Helper()
	b, _ := json.Marshal(m)
	if _, err := u.nc.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
}

func TestTimeoutDeniesEvenIfTheUIAnswersLate(t *testing.T) {
	s, path := startService(t, uibridge.ServiceOptions{})
	u := dialRaw(t, path)
	waitFor(t, "attach", attached(s, 1))
	r := req
	r.Timeout = 300 * time.Millisecond
	got := make(chan consent.Answer, 1)
	go func() { got <- consent.Decide(context.Background(), r, consent.PolicyAsk, s) }()
	m := u.read(t)
	if m.Type != uibridge.TypePrompt || m.Prompt.TimeoutMS > 300 {
		t.Fatalf("prompt %+v", m)
	}
	// A forged id first, then the real one after the deadline.
	u.write(t, uibridge.Message{Type: uibridge.TypeAnswer, ID: "not-" + m.ID, Decision: proto.DecisionControl})
	time.Sleep(400 * time.Millisecond)
	u.write(t, uibridge.Message{Type: uibridge.TypeAnswer, ID: m.ID, Decision: proto.DecisionControl})
	a := <-got
	if a.Decision != proto.DecisionDeny || a.Reason != "timeout" {
		t.Fatalf("got %+v, want deny (timeout)", a)
	}
	if m := u.read(t); m.Type != uibridge.TypeCancel || m.ID != m.ID {
		t.Fatalf("after the timeout the UI got %+v, want cancel", m)
	}
}

func TestUIHandlerCannotExtendTheTimeout(t *testing.T) {
	s, path := startService(t, uibridge.ServiceOptions{})
	h := &handler{answer: proto.DecisionControl, delay: time.Hour}
	startClient(t, path, h)
	waitFor(t, "attach", attached(s, 1))
	r := req
	r.Timeout = 200 * time.Millisecond
	start := time.Now()
	a := consent.Decide(context.Background(), r, consent.PolicyAsk, s)
	if a.Decision != proto.DecisionDeny || a.Reason != "timeout" || time.Since(start) > 2*time.Second {
		t.Fatalf("got %+v after %s", a, time.Since(start))
	}
}

func TestFirstAnswerWinsAndOthersAreWithdrawn(t *testing.T) {
	s, path := startService(t, uibridge.ServiceOptions{})
	slow := dialRaw(t, path)
	fast := &handler{answer: proto.DecisionView, delay: 50 * time.Millisecond}
	startClient(t, path, fast)
	waitFor(t, "attach", attached(s, 2))
	a := consent.Decide(context.Background(), req, consent.PolicyAsk, s)
	if a.Decision != proto.DecisionView {
		t.Fatalf("got %+v", a)
	}
	p := slow.read(t)
	if c := slow.read(t); p.Type != uibridge.TypePrompt || c.Type != uibridge.TypeCancel || c.ID != p.ID {
		t.Fatalf("the other window got %+v then %+v", p, c)
	}
}

func TestRefusedPeer(t *testing.T) {
	var seen []uibridge.Peer
	var mu sync.Mutex
	s, path := startService(t, uibridge.ServiceOptions{Authorize: func(p uibridge.Peer) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, p)
		return errors.New("not signed in to display :0")
	}})
	h := &handler{answer: proto.DecisionControl}
	c := startClient(t, path, h)
	waitFor(t, "the refusal", func() bool { return strings.Contains(c.Refused(), "not signed in to display :0") })
	if s.Attached() != 0 {
		t.Fatal("a refused peer is attached")
	}
	mu.Lock()
	p := seen[0]
	mu.Unlock()
	if p.PID != int32(os.Getpid()) || p.UID != uint32(os.Getuid()) {
		t.Fatalf("peer %+v, want pid %d uid %d", p, os.Getpid(), os.Getuid())
	}
	a := consent.Decide(context.Background(), req, consent.PolicyAsk, s)
	if a.Decision != proto.DecisionDeny || a.Reason != uibridge.ReasonNobody {
		t.Fatalf("got %+v", a)
	}
}

func TestBadMessagesHangUp(t *testing.T) {
	for name, line := range map[string]string{
		"too long":     `{"type":"chat","sid":"s","text":"` + strings.Repeat("a", uibridge.MaxLine) + `"}`,
		"not json":     `hello`,
		"unknown type": `{"type":"grant"}`,
		"bad decision": `{"type":"answer","id":"x","decision":"all"}`,
		"bad score":    `{"type":"csat","sid":"s","score":9}`,
	} {
		t.Run(name, func(t *testing.T) {
			s, path := startService(t, uibridge.ServiceOptions{})
			u := dialRaw(t, path)
			waitFor(t, "attach", attached(s, 1))
			u.nc.Write([]byte(line + "\n"))
			u.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			rest, _ := io.ReadAll(u.rd)
			if !strings.Contains(string(rest), `"type":"error"`) {
				t.Fatalf("got %q, want an error then hang-up", rest)
			}
			waitFor(t, "detach", attached(s, 0))
		})
	}
}

func TestVersionMismatch(t *testing.T) {
	s, path := startService(t, uibridge.ServiceOptions{})
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rd := bufio.NewReader(nc)
	rd.ReadBytes('\n')
	nc.Write([]byte(`{"type":"hello","version":99}` + "\n"))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, _ := io.ReadAll(rd)
	if !strings.Contains(string(rest), "version 99 is not supported") || s.Attached() != 0 {
		t.Fatalf("got %q", rest)
	}
}

func TestReconnectsWhenTheServiceRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ui.sock")
	s1 := serveAt(t, path, uibridge.ServiceOptions{})
	h := &handler{answer: proto.DecisionControl, delay: 10 * time.Millisecond}
	startClient(t, path, h)
	waitFor(t, "attach", attached(s1, 1))
	s1.Close()
	s2 := serveAt(t, path, uibridge.ServiceOptions{}) // replaces the stale socket
	waitFor(t, "re-attach", attached(s2, 1))
	if a := consent.Decide(context.Background(), req, consent.PolicyAsk, s2); a.Decision != proto.DecisionControl {
		t.Fatalf("after the restart: %+v", a)
	}
}

// controller records what the user asked of a session.
type controller struct {
	mu    sync.Mutex
	calls []string
}

func (c *controller) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}
func (c *controller) Stop()                      { c.add("stop") }
func (c *controller) Revoke()                    { c.add("revoke") }
func (c *controller) SendChat(text string) error { c.add("chat:" + text); return nil }
func (c *controller) got() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.calls, ",")
}

func TestSessionIndicatorStopRevokeChatCSAT(t *testing.T) {
	ctl := &controller{}
	var mu sync.Mutex
	ratings := map[string]int{}
	s, path := startService(t, uibridge.ServiceOptions{
		Lookup: func(sid string) uibridge.Controller {
			if sid == "s1" {
				return ctl
			}
			return nil
		},
		OnCSAT: func(sid string, score int) { mu.Lock(); ratings[sid] = score; mu.Unlock() },
	})
	// A session already running when the window attaches is shown.
	s.Status(uibridge.Status{SID: "s1", State: "active", Technician: req.Technician, Permissions: req.Permissions})
	h := &handler{}
	c := startClient(t, path, h)
	waitFor(t, "attach", attached(s, 1))
	waitFor(t, "the indicator", func() bool { _, st, _ := h.snapshot(); return len(st) == 1 && st[0].State == "active" })
	s.Chat("s1", "hello from the technician")
	waitFor(t, "chat", func() bool { _, _, ch := h.snapshot(); return len(ch) == 1 })
	if _, _, ch := h.snapshot(); ch[0] != "s1/technician/hello from the technician" {
		t.Fatalf("chat %q", ch)
	}
	for _, err := range []error{c.SendChat("s1", "thanks"), c.Revoke("s1"), c.Stop("s1"), c.Stop("other")} {
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the service to act", func() bool { return ctl.got() == "chat:thanks,revoke,stop" })
	// A rating before the session ended is ignored; after, it is handed on once.
	c.CSAT("s1", 2)
	c.SendChat("s1", "sync") // handled in order: the early rating was seen
	waitFor(t, "the early rating", func() bool { return strings.HasSuffix(ctl.got(), "chat:sync") })
	s.Status(uibridge.Status{SID: "s1", State: "ended", Reason: "stopped by the user"})
	waitFor(t, "the end", func() bool { _, st, _ := h.snapshot(); return len(st) == 2 && st[1].State == "ended" })
	c.CSAT("s1", 5)
	c.CSAT("s1", 1)
	c.CSAT("never", 4)
	waitFor(t, "the rating", func() bool { mu.Lock(); defer mu.Unlock(); return ratings["s1"] != 0 })
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(ratings) != 1 || ratings["s1"] != 5 {
		t.Fatalf("ratings %v, want s1=5 only", ratings)
	}
}

func TestSeatAuthorizer(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("2", "UID=1000\nUSER=alice\nACTIVE=1\nTYPE=x11\nDISPLAY=:0\n")
	write("3", "UID=1001\nUSER=bob\nACTIVE=0\nTYPE=x11\nDISPLAY=:1\n")  // switched away
	write("4", "UID=1002\nUSER=carol\nACTIVE=1\nTYPE=tty\nREMOTE=1\n")  // ssh
	write("5", "UID=1003\nUSER=dave\nACTIVE=1\nTYPE=x11\nDISPLAY=:2\n") // another display
	auth := uibridge.SeatAuthorizer(":0.0", dir, "")
	for uid, ok := range map[uint32]bool{0: true, 1000: true, 1001: false, 1002: false, 1003: false, 4242: false} {
		if err := auth(uibridge.Peer{UID: uid}); (err == nil) != ok {
			t.Errorf("uid %d: err %v, want allowed=%v", uid, err, ok)
		}
	}
	// Without logind, the owner of the X authority file.
	xa := filepath.Join(t.TempDir(), "Xauthority")
	write("unused", "")
	os.WriteFile(xa, nil, 0o600)
	os.Chown(xa, 1005, 1005)
	noLogind := uibridge.SeatAuthorizer(":0", filepath.Join(dir, "missing"), xa)
	if err := noLogind(uibridge.Peer{UID: 1005}); err != nil {
		t.Errorf("X authority owner: %v", err)
	}
	if err := noLogind(uibridge.Peer{UID: 1000}); err == nil || !strings.Contains(err.Error(), "no systemd-logind") {
		t.Errorf("other user without logind: %v", err)
	}
}
