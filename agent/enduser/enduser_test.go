package enduser

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/agent/session"
	"github.com/reachdesk/reach/proto"
)

// fakeSession records what the page asked of a session.
type fakeSession struct {
	mu      sync.Mutex
	stopped bool
	revoked bool
	chat    []string
}

func (f *fakeSession) Stop()   { f.mu.Lock(); f.stopped = true; f.mu.Unlock() }
func (f *fakeSession) Revoke() { f.mu.Lock(); f.revoked = true; f.mu.Unlock() }
func (f *fakeSession) SendChat(t string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.chat = append(f.chat, t)
	return nil
}

type harness struct {
	srv   *Server
	ts    *httptest.Server
	fake  *fakeSession
	csat  chan int
	codes chan string
}

// newHarness serves a Server on a real loopback listener.
func newHarness(t *testing.T) *harness {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &harness{fake: &fakeSession{}, csat: make(chan int, 1), codes: make(chan string, 1)}
	hs.srv, err = New(l.Addr().String(), Options{
		Join: func(_ context.Context, code string) error {
			hs.codes <- code
			if code == "000000000" {
				return proto.ErrInvalidCode
			}
			return nil
		},
		Lookup: func(sid string) Controller {
			if sid == "s1" {
				return hs.fake
			}
			return nil
		},
		OnCSAT: func(_ string, score int) { hs.csat <- score },
	})
	if err != nil {
		t.Fatal(err)
	}
	hs.ts = httptest.NewUnstartedServer(hs.srv)
	hs.ts.Listener.Close()
	hs.ts.Listener = l
	hs.ts.Start()
	t.Cleanup(hs.ts.Close)
	return hs
}

func (hs *harness) post(t *testing.T, path, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, hs.srv.URL()+"api/"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func (hs *harness) state(t *testing.T) snapshot {
	t.Helper()
	resp, err := http.Get(hs.srv.URL() + "api/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:80", "192.168.1.2:8080", "localhost", "example.com:80"} {
		if _, err := New(addr, Options{}); err == nil {
			t.Errorf("New(%q) accepted a non-loopback address", addr)
		}
	}
}

func TestAccess(t *testing.T) {
	hs := newHarness(t)
	base := "http://" + hs.srv.addr
	tests := []struct {
		name   string
		url    string
		host   string
		status int
	}{
		{"page with token", hs.srv.URL(), "", http.StatusOK},
		{"script with token", hs.srv.URL() + "enduser.js", "", http.StatusOK},
		{"no token", base + "/", "", http.StatusNotFound},
		{"wrong token", base + "/" + strings.Repeat("A", 43) + "/", "", http.StatusNotFound},
		{"no token, asset", base + "/enduser.js", "", http.StatusNotFound},
		{"unknown file", hs.srv.URL() + "secret.txt", "", http.StatusNotFound},
		{"dns rebinding host", hs.srv.URL(), "evil.example:80", http.StatusMisdirectedRequest},
		{"state", hs.srv.URL() + "api/state", "", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != CSP {
				t.Errorf("CSP %q", got)
			}
			if resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("missing referrer or cache headers: %v", resp.Header)
			}
		})
	}
}

func TestLaunchURLIsOneTime(t *testing.T) {
	hs := newHarness(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(hs.srv.LaunchURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || "http://"+hs.srv.addr+resp.Header.Get("Location") != hs.srv.URL() {
		t.Fatalf("launch: %d to %q, want 303 to the page", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = client.Get(hs.srv.LaunchURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("second launch: %d, want 404", resp.StatusCode)
	}
}

func TestPostRules(t *testing.T) {
	hs := newHarness(t)
	tests := []struct {
		name   string
		body   string
		hdr    map[string]string
		status int
	}{
		{"cross origin", `{"sid":"s1"}`, map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"cross site", `{"sid":"s1"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"form post", `sid=s1`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"unknown field", `{"sid":"s1","x":1}`, nil, http.StatusBadRequest},
		{"unknown session", `{"sid":"nope"}`, nil, http.StatusConflict},
		{"same origin", `{"sid":"s1"}`, map[string]string{"Origin": "http://" + hs.srv.addr, "Sec-Fetch-Site": "same-origin"}, http.StatusNoContent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, body := hs.post(t, "stop", tc.body, tc.hdr); got != tc.status {
				t.Errorf("status %d (%s), want %d", got, body, tc.status)
			}
		})
	}
	hs.fake.mu.Lock()
	defer hs.fake.mu.Unlock()
	if !hs.fake.stopped {
		t.Error("the same-origin stop did not reach the session")
	}
}

func TestConsent(t *testing.T) {
	req := consent.Request{
		Technician:  proto.Person{ID: "t1", Name: "Ada <b>Tech</b>", Org: "Help Desk"},
		Ticket:      &proto.TicketRef{ID: "42", Title: "Printer"},
		Permissions: []proto.Permission{proto.PermView, proto.PermControl},
		Timeout:     30 * time.Second,
	}
	tests := []struct {
		decision string
		want     proto.Decision
	}{
		{"control", proto.DecisionControl},
		{"view", proto.DecisionView},
		{"deny", proto.DecisionDeny},
	}
	for _, tc := range tests {
		t.Run(tc.decision, func(t *testing.T) {
			hs := newHarness(t)
			got := make(chan consent.Answer, 1)
			go func() { got <- consent.Decide(context.Background(), req, consent.PolicyDeny, hs.srv) }()
			var p *promptView
			if !waitUntil(func() bool { p = hs.state(t).Prompt; return p != nil }) {
				t.Fatal("no prompt in the page state")
			}
			if p.Technician.Name != req.Technician.Name || p.Ticket.ID != "42" || !p.Control || p.RemainingMS <= 25000 || p.TimeoutMS != 30000 {
				t.Fatalf("prompt %+v", p)
			}
			if st, body := hs.post(t, "consent", `{"id":"`+p.ID+`","decision":"`+tc.decision+`"}`, nil); st != http.StatusNoContent {
				t.Fatalf("answer: %d %s", st, body)
			}
			if a := <-got; a.Decision != tc.want {
				t.Fatalf("decision %v, want %v", a.Decision, tc.want)
			}
			if st, _ := hs.post(t, "consent", `{"id":"`+p.ID+`","decision":"control"}`, nil); st != http.StatusConflict {
				t.Errorf("a second answer got %d, want 409", st)
			}
			if hs.state(t).Prompt != nil {
				t.Error("the prompt is still shown after the answer")
			}
		})
	}
}

func TestConsentTimeoutDenies(t *testing.T) {
	hs := newHarness(t)
	req := consent.Request{Technician: proto.Person{ID: "t1", Name: "Ada"}, Permissions: []proto.Permission{proto.PermView}, Timeout: 200 * time.Millisecond}
	start := time.Now()
	a := consent.Decide(context.Background(), req, consent.PolicyDeny, hs.srv)
	if a.Decision != proto.DecisionDeny || a.Reason != "timeout" {
		t.Fatalf("answer %+v, want a deny for timeout", a)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
		t.Errorf("denied after %v", d)
	}
	if hs.state(t).Prompt != nil {
		t.Error("the prompt is still shown after the timeout")
	}
}

func TestJoin(t *testing.T) {
	hs := newHarness(t)
	if st, _ := hs.post(t, "join", `{"code":"12345"}`, nil); st != http.StatusBadRequest {
		t.Errorf("short code: %d", st)
	}
	st, body := hs.post(t, "join", `{"code":"000000000"}`, nil)
	if st != http.StatusBadRequest || !strings.Contains(body, "invalid or has expired") {
		t.Errorf("wrong code: %d %s", st, body)
	}
	<-hs.codes
	if s := hs.state(t); !s.CodeEntry || s.JoinError == "" {
		t.Errorf("after a wrong code: %+v", s)
	}
	if st, body := hs.post(t, "join", `{"code":"123456789"}`, nil); st != http.StatusNoContent {
		t.Fatalf("good code: %d %s", st, body)
	}
	if c := <-hs.codes; c != "123456789" {
		t.Errorf("joined with %q", c)
	}
	if s := hs.state(t); s.CodeEntry {
		t.Error("code entry still offered after a good code")
	}
	if st, _ := hs.post(t, "join", `{"code":"123456789"}`, nil); st != http.StatusNotFound {
		t.Errorf("second join: %d, want 404", st)
	}
}

func TestSessionChatAndCSAT(t *testing.T) {
	hs := newHarness(t)
	tech := proto.Person{ID: "t1", Name: "Ada"}
	hs.srv.Status(session.Status{SID: "s1", State: session.StateWaiting, Technician: tech})
	hs.srv.Status(session.Status{SID: "s1", State: session.StateActive, Technician: tech, Permissions: []proto.Permission{proto.PermView, proto.PermControl}})
	hs.srv.Chat("s1", "<script>alert(1)</script>")
	if st, body := hs.post(t, "chat", `{"sid":"s1","text":"hello"}`, nil); st != http.StatusNoContent {
		t.Fatalf("chat: %d %s", st, body)
	}
	if st, _ := hs.post(t, "chat", `{"sid":"s1","text":"`+strings.Repeat("x", proto.MaxChat+1)+`"}`, nil); st != http.StatusBadRequest {
		t.Errorf("oversized chat: %d", st)
	}
	if st, _ := hs.post(t, "revoke", `{"sid":"s1"}`, nil); st != http.StatusNoContent {
		t.Errorf("revoke: %d", st)
	}
	s := hs.state(t)
	if s.Session == nil || s.Session.State != session.StateActive || len(s.Session.Chat) != 2 ||
		s.Session.Chat[0].Text != "<script>alert(1)</script>" || s.Session.Chat[1] != (chatLine{From: "user", Text: "hello"}) {
		t.Fatalf("session view %+v", s.Session)
	}
	hs.fake.mu.Lock()
	if !hs.fake.revoked || len(hs.fake.chat) != 1 {
		t.Errorf("session saw revoke=%v chat=%q", hs.fake.revoked, hs.fake.chat)
	}
	hs.fake.mu.Unlock()

	if st, _ := hs.post(t, "csat", `{"sid":"s1","score":5}`, nil); st != http.StatusConflict {
		t.Errorf("rating a running session: %d, want 409", st)
	}
	hs.srv.Status(session.Status{SID: "s1", State: session.StateEnded, Technician: tech, Reason: "stopped by the user"})
	if s := hs.state(t); s.Session.CSAT != "ask" {
		t.Fatalf("csat %q after an active session ended, want ask", s.Session.CSAT)
	}
	for _, body := range []string{`{"sid":"s1","score":0}`, `{"sid":"s1","score":6}`} {
		if st, _ := hs.post(t, "csat", body, nil); st != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", body, st)
		}
	}
	waited := make(chan struct{})
	go func() { hs.srv.WaitCSAT(context.Background(), "s1"); close(waited) }()
	if st, body := hs.post(t, "csat", `{"sid":"s1","score":4}`, nil); st != http.StatusNoContent {
		t.Fatalf("csat: %d %s", st, body)
	}
	<-waited
	// The answer was handed on before WaitCSAT returned.
	select {
	case got := <-hs.csat:
		if got != 4 {
			t.Errorf("OnCSAT got %d", got)
		}
	default:
		t.Error("WaitCSAT returned before OnCSAT had the answer")
	}
	if st, _ := hs.post(t, "csat", `{"sid":"s1","score":1}`, nil); st != http.StatusConflict {
		t.Errorf("second rating: %d, want 409", st)
	}
}

func TestNoCSATWithoutActiveSession(t *testing.T) {
	hs := newHarness(t)
	hs.srv.Status(session.Status{SID: "s2", State: session.StateConsent})
	hs.srv.Status(session.Status{SID: "s2", State: session.StateEnded, Reason: "access denied (user)"})
	if s := hs.state(t); s.Session.CSAT != "none" {
		t.Errorf("csat %q for a denied session", s.Session.CSAT)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	hs.srv.WaitCSAT(ctx, "s2")
	if ctx.Err() != nil {
		t.Error("WaitCSAT waited for a session that takes no rating")
	}
}

func TestEventsStream(t *testing.T) {
	hs := newHarness(t)
	resp, err := http.Get(hs.srv.URL() + "api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	next := func() snapshot {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var s snapshot
				if err := json.Unmarshal([]byte(data), &s); err != nil {
					t.Fatal(err)
				}
				return s
			}
		}
	}
	first := next()
	hs.srv.Status(session.Status{SID: "s1", State: session.StateActive})
	second := next()
	if second.Version <= first.Version || second.Session == nil || second.Session.SID != "s1" {
		t.Errorf("after a status change: %+v", second)
	}
	if hs.srv.Clients() != 1 || !hs.srv.Followed() {
		t.Errorf("clients %d, followed %v", hs.srv.Clients(), hs.srv.Followed())
	}
}

func TestJoinMessage(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{proto.ErrInvalidCode, "invalid or has expired"},
		{&proto.Error{Code: proto.CodeRateLimited, Msg: "x"}, "Too many attempts"},
		{session.ErrNotConnected, "Cannot reach"},
		{errors.New("internal detail"), "could not be checked"},
	}
	for _, tc := range tests {
		if got := joinMessage(tc.err); !strings.Contains(got, tc.want) || strings.Contains(got, "internal") {
			t.Errorf("joinMessage(%v) = %q", tc.err, got)
		}
	}
}

func waitUntil(cond func() bool) bool {
	for range 250 {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
