package relay_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay"
	"github.com/reachdesk/reach/relay/relayclient"
)

// testRelay is a relay on a loopback httptest server with its own console key.
type testRelay struct {
	*relay.Server
	http *httptest.Server
	key  ed25519.PrivateKey
	ws   string // ws://host:port
}

func newTestRelay(t *testing.T, opts relay.Options) *testRelay {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startRelay(t, key, l, opts)
}

// startRelay serves a new relay trusting key on l.
func startRelay(t *testing.T, key ed25519.PrivateKey, l net.Listener, opts relay.Options) *testRelay {
	t.Helper()
	v := proto.NewVerifier(proto.AudienceRelay, nil, key.Public().(ed25519.PublicKey))
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	s := relay.New(v, opts)
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: s.Handler()}}
	srv.Start()
	tr := &testRelay{Server: s, http: srv, key: key, ws: "ws" + strings.TrimPrefix(srv.URL, "http")}
	t.Cleanup(tr.stop)
	return tr
}

func (tr *testRelay) stop() {
	tr.Server.Close()
	tr.http.Close()
}

type tokenOpt func(*proto.Claims)

func (tr *testRelay) token(t *testing.T, kind proto.Kind, sub string, opts ...tokenOpt) string {
	t.Helper()
	now := time.Now()
	c := proto.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: sub, Audience: jwt.ClaimStrings{proto.AudienceRelay},
			ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)),
		},
		Kind: kind,
	}
	switch kind {
	case proto.KindTechnician:
		c.Name, c.Org = "Ada Lovelace", "ACME IT"
		c.Permissions = []proto.Permission{proto.PermView, proto.PermControl, proto.PermClipboard}
		c.Ticket = &proto.TicketRef{ID: "42", Title: "VPN drops"}
	case proto.KindDevice:
		c.Name = "laptop-" + sub
	}
	for _, o := range opts {
		o(&c)
	}
	tok, err := proto.SignToken(tr.key, c, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (tr *testRelay) dialTech(t *testing.T, sub string, opts ...tokenOpt) *relayclient.Conn {
	t.Helper()
	return mustDial(t, tr.ws+"/v1/technician", tr.token(t, proto.KindTechnician, sub, opts...))
}

func (tr *testRelay) dialAgent(t *testing.T, device string) *relayclient.Conn {
	t.Helper()
	return mustDial(t, tr.ws+"/v1/agent", tr.token(t, proto.KindDevice, device))
}

func mustDial(t *testing.T, url, token string) *relayclient.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := relayclient.Dial(ctx, url, token, relayclient.DialOptions{Client: "test"})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// expect receives the next message and checks its type.
func expect[B proto.Body](t *testing.T, c *relayclient.Conn) (*proto.Message, B) {
	t.Helper()
	m, err := c.Recv(ctxT(t))
	if err != nil {
		t.Fatalf("waiting for %T: %v", *new(B), err)
	}
	b, ok := m.Body.(B)
	if !ok {
		t.Fatalf("got %s %+v, want %T", m.Type, m.Body, *new(B))
	}
	return m, b
}

// expectNothing checks that no message arrives within d.
func expectNothing(t *testing.T, c *relayclient.Conn, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if m, err := c.Recv(ctx); err == nil {
		t.Fatalf("unexpected %s %+v", m.Type, m.Body)
	}
}

func wantCode(t *testing.T, err error, code proto.Code) {
	t.Helper()
	var pe *proto.Error
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

// pair runs an attended session up to session.start and returns its id.
func pair(t *testing.T, tech, agent *relayclient.Conn, decision proto.Decision) string {
	t.Helper()
	ctx := ctxT(t)
	m, err := tech.Request(ctx, "", &proto.CodeCreate{})
	if err != nil {
		t.Fatal(err)
	}
	code := m.Body.(*proto.CodeCreated).Code
	if _, err := agent.Send(ctx, "", &proto.CodeRedeem{Code: code}); err != nil {
		t.Fatal(err)
	}
	req, _ := expect[*proto.ConsentRequest](t, agent)
	expect[*proto.PeerJoined](t, tech)
	perms := []proto.Permission{proto.PermView, proto.PermControl}
	if decision == proto.DecisionView {
		perms = perms[:1]
	}
	if _, err := agent.Send(ctx, req.SID, &proto.ConsentDecision{Decision: decision, Permissions: perms}); err != nil {
		t.Fatal(err)
	}
	expect[*proto.ConsentDecision](t, tech)
	expect[*proto.SessionStart](t, tech)
	expect[*proto.SessionStart](t, agent)
	return req.SID
}

// testLogger sends logs to t.Log, shown only for failing tests or with -v.
// Connections close asynchronously, so it stops logging once the test is over.
func testLogger(t testing.TB) *slog.Logger {
	w := &tWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool // guarded by mu
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}
