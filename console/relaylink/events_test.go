package relaylink_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/relaylink"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/console/sqlite"
	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay"
	"github.com/reachdesk/reach/relay/relayclient"
)

// session runs one attended session through the relay at srv: code,
// redeem, consent with control, end by the technician. It returns the
// relay's session id.
func runSession(t *testing.T, srv *httptest.Server, signer *signing.Signer, before func(sid string)) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(srv.URL, "http")
	issue := func(kind proto.Kind, sub string, perms ...proto.Permission) string {
		tok, err := signer.Issue(proto.Claims{Kind: kind, Name: "n-" + sub, Permissions: perms,
			RegisteredClaims: jwt.RegisteredClaims{Subject: sub}}, proto.AudienceRelay, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tech, err := relayclient.Dial(ctx, ws+"/v1/technician", issue(proto.KindTechnician, "3", proto.PermView, proto.PermControl), relayclient.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tech.Close()
	agent, err := relayclient.Dial(ctx, ws+"/v1/agent", issue(proto.KindDevice, "7"), relayclient.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()

	m, err := tech.Request(ctx, "", &proto.CodeCreate{})
	if err != nil {
		t.Fatal(err)
	}
	sid := m.SID
	before(sid)
	recv := func(c *relayclient.Conn, want proto.Type) {
		t.Helper()
		for {
			m, err := c.Recv(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", want, err)
			}
			if m.Type == want {
				return
			}
		}
	}
	agent.Send(ctx, "", &proto.CodeRedeem{Code: m.Body.(*proto.CodeCreated).Code})
	recv(agent, proto.TypeConsentRequest)
	agent.Send(ctx, sid, &proto.ConsentDecision{Decision: proto.DecisionControl, Permissions: []proto.Permission{proto.PermView, proto.PermControl}})
	recv(agent, proto.TypeSessionStart)
	tech.Send(ctx, sid, &proto.SessionEnd{Reason: "fixed"})
	recv(agent, proto.TypeSessionEnd)
	return sid
}

func timeline(t *testing.T, db *sqlite.DB, id int64) string {
	t.Helper()
	es, err := db.FindSessionEvents(context.Background(), console.SessionEventFilter{SessionID: id})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range es {
		if e.Source != console.SourceRelay {
			t.Fatalf("event %+v is not from the relay", e)
		}
		types = append(types, e.Type)
	}
	return strings.Join(types, " ")
}

func TestEventPollerFillsTimelinesExactlyOnce(t *testing.T) {
	ctx := context.Background()
	signer := newSigner(t)
	relaySrv, _ := relayFor(t, signer)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "console.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	user := &console.User{Email: "ada@example.com", Name: "Ada", Role: console.RoleTechnician, Level: console.L1}
	if err := db.CreateUser(ctx, user); err != nil {
		t.Fatal(err)
	}
	newSession := func(sid string) *console.Session {
		s := &console.Session{Kind: console.SessionAttended, TechnicianID: user.ID, Consent: console.ConsentPending, RelaySID: sid}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	poller := func() *relaylink.EventPoller {
		p, err := relaylink.NewEventPoller(relaySrv.URL, signer, db, relaylink.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	var s1 *console.Session
	runSession(t, relaySrv, signer, func(sid string) { s1 = newSession(sid) })
	// A session the console does not know (a load test, say).
	runSession(t, relaySrv, signer, func(string) {})

	p := poller()
	const want = "code_created code_redeemed consent session_ended"
	deadline := time.Now().Add(5 * time.Second)
	for timeline(t, db, s1.ID) != want {
		if time.Now().After(deadline) {
			t.Fatalf("timeline = %q, want %q", timeline(t, db, s1.ID), want)
		}
		if err := p.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A restarted console (new poller, same database) repeats nothing.
	if err := poller().Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := timeline(t, db, s1.ID); got != want {
		t.Fatalf("after a console restart: %q, want %q", got, want)
	}
	c, _ := db.FindRelayCursor(ctx, relaySrv.URL)
	if c.Seq != 8 {
		t.Fatalf("cursor at %d, want 8 (both sessions' events read)", c.Seq)
	}
}

func TestEventPollerFollowsARelayRestart(t *testing.T) {
	ctx := context.Background()
	signer := newSigner(t)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "console.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	user := &console.User{Email: "ada@example.com", Name: "Ada", Role: console.RoleTechnician, Level: console.L1}
	db.CreateUser(ctx, user)

	// The poller keeps one URL while the relay behind it restarts: the
	// first relay serves more events than the second will.
	first := relay.New(proto.NewVerifier(proto.AudienceRelay, nil, signer.PublicKey()), relay.Options{Logger: quiet})
	var current atomic.Pointer[http.Handler]
	h := first.Handler()
	current.Store(&h)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*current.Load()).ServeHTTP(w, r) }))
	defer srv.Close()
	runSession(t, srv, signer, func(string) {})
	runSession(t, srv, signer, func(string) {})
	p, err := relaylink.NewEventPoller(srv.URL, signer, db, relaylink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	first.Close()

	second := relay.New(proto.NewVerifier(proto.AudienceRelay, nil, signer.PublicKey()), relay.Options{Logger: quiet})
	defer second.Close()
	h2 := second.Handler()
	current.Store(&h2)
	var s *console.Session
	runSession(t, srv, signer, func(sid string) {
		s = &console.Session{Kind: console.SessionAttended, TechnicianID: user.ID, Consent: console.ConsentPending, RelaySID: sid}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	})
	time.Sleep(100 * time.Millisecond)
	if err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := timeline(t, db, s.ID), "code_created code_redeemed consent session_ended"; got != want {
		t.Fatalf("after the relay restarted: %q, want %q", got, want)
	}
}
