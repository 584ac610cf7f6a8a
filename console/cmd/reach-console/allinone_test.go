package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/relaylink"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/console/sqlite"
)

// TestDemoAndAllInOne seeds a console with `demo`, serves it with a relay
// in the same process, and checks that the relay runs and trusts the
// console's signing key.
func TestDemoAndAllInOne(t *testing.T) {
	t.Setenv(dbEnv, "")
	ctx := context.Background()
	data := t.TempDir()
	tokenFile := filepath.Join(t.TempDir(), "enroll.token")
	for range 2 { // idempotent apart from the token
		if err := demo(ctx, []string{"-data", data, "-token-file", tokenFile}); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(tokenFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v; want 0600", err, fi.Mode())
	}
	if b, _ := os.ReadFile(tokenFile); !strings.HasPrefix(string(b), "reachenroll_") {
		t.Fatalf("token file holds %q", b)
	}

	relayAddr := freeAddr(t)
	_, out, stop := startServe(t, data, "-relay-listen", relayAddr)
	if !strings.Contains(out.String(), "One-time password") {
		t.Fatalf("demo created a user: serve printed no first admin (%q)", out.String())
	}
	resp, err := http.Get("http://" + relayAddr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("in-process relay health: %v %v", err, resp)
	}
	resp.Body.Close()
	key, err := signing.LoadOrCreate(filepath.Join(data, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := relaylink.NewPresence("ws://"+relayAddr, signing.New(key, nil), relaylink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Online(ctx, []int64{1}); err != nil {
		t.Fatalf("the in-process relay does not trust the console's key: %v", err)
	}
	stop()

	st, err := sqlite.Open(ctx, filepath.Join(data, "console.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, _ := st.CountTickets(ctx, console.TicketFilter{}); n != 3 {
		t.Errorf("demo seeded %d tickets, want 3 (once)", n)
	}
	toks, _ := st.FindEnrollmentTokens(ctx, 0)
	groups, _ := st.FindDeviceGroups(ctx)
	if len(toks) != 2 || len(groups) != 1 || groups[0].Name != demoGroup {
		t.Errorf("demo made %d tokens and groups %v; want 2 tokens in %q", len(toks), groups, demoGroup)
	}
	if p, err := st.FindDefaultSLAPolicy(ctx); err != nil || p.Name != "Standard" {
		t.Errorf("default SLA policy: %v %v", p, err)
	}
}
