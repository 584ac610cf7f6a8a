package relaylink_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/reachdesk/reach/console/relaylink"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay"
	"github.com/reachdesk/reach/relay/relayclient"
)

// relayFor serves a real relay that trusts signer's key and counts the
// presence queries it answers.
func relayFor(t *testing.T, signer *signing.Signer) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	v := proto.NewVerifier(proto.AudienceRelay, nil, signer.PublicKey())
	r := relay.New(v, relay.Options{Logger: quiet})
	var queries atomic.Int32
	h := r.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/v1/presence" {
			queries.Add(1)
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(func() { r.Close(); srv.Close() })
	return srv, &queries
}

func newSigner(t *testing.T) *signing.Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signing.New(key, nil)
}

func TestOnlineReflectsAgentConnections(t *testing.T) {
	signer := newSigner(t)
	srv, queries := relayFor(t, signer)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	devToken, err := signer.Issue(proto.Claims{Kind: proto.KindDevice, Name: "laptop-7",
		RegisteredClaims: jwt.RegisteredClaims{Subject: "7"}}, proto.AudienceRelay, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	agent, err := relayclient.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v1/agent", devToken, relayclient.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()

	c, err := relaylink.NewPresence("ws"+strings.TrimPrefix(srv.URL, "http")+"/v1/agent", signer, relaylink.Options{CacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Online(ctx, []int64{7, 8})
	if err != nil {
		t.Fatal(err)
	}
	if !got[7] || got[8] || len(got) != 2 {
		t.Fatalf("Online = %v, want 7 online and 8 offline", got)
	}

	agent.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err = c.Online(ctx, []int64{7})
		if err != nil {
			t.Fatal(err)
		}
		if !got[7] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("device 7 still online 5 s after its agent left")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if queries.Load() < 2 {
		t.Fatalf("relay answered %d queries, want one per uncached call", queries.Load())
	}
}

func TestOnlineCachesAndBatches(t *testing.T) {
	signer := newSigner(t)
	srv, queries := relayFor(t, signer)
	now := time.Unix(1_800_000_000, 0)
	c, err := relaylink.NewPresence(srv.URL, signer, relaylink.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, proto.MaxListLen+5)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	ctx := context.Background()
	if got, err := c.Online(ctx, ids); err != nil || len(got) != len(ids) {
		t.Fatalf("Online: %d answers, err %v; want %d", len(got), err, len(ids))
	}
	if n := queries.Load(); n != 2 {
		t.Fatalf("%d ids took %d queries, want 2 batches", len(ids), n)
	}
	if _, err := c.Online(ctx, ids[:10]); err != nil {
		t.Fatal(err)
	}
	if n := queries.Load(); n != 2 {
		t.Fatalf("cached ids were asked again (%d queries)", n)
	}
	now = now.Add(6 * time.Second)
	if _, err := c.Online(ctx, ids[:10]); err != nil {
		t.Fatal(err)
	}
	if n := queries.Load(); n != 3 {
		t.Fatalf("after the TTL: %d queries, want 3", n)
	}
}

func TestOnlineErrors(t *testing.T) {
	signer := newSigner(t)
	other := newSigner(t)
	srv, _ := relayFor(t, other) // trusts another console
	c, err := relaylink.NewPresence(srv.URL, signer, relaylink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Online(context.Background(), []int64{1}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("relay trusting another key: err = %v, want a 401", err)
	}

	srv.Close()
	if _, err := c.Online(context.Background(), []int64{2}); err == nil {
		t.Fatal("relay down: want an error")
	}
	for _, bad := range []string{"relay.example", "ftp://relay.example", "::"} {
		if _, err := relaylink.NewPresence(bad, signer, relaylink.Options{}); err == nil {
			t.Errorf("New(%q): want an error", bad)
		}
	}
}

// quiet discards the in-process relays' logs.
var quiet = slog.New(slog.DiscardHandler)
