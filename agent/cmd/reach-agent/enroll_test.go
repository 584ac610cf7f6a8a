package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/enroll"
	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/agentapi"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/console/sqlite"
)

// TestEnrollCommand enrolls against a real console API on SQLite: the
// token from a file, then from the environment with --force; a wrong token
// and a second enrollment without --force fail with a clear message.
func TestEnrollCommand(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	api, err := agentapi.New(db, signing.New(key, nil), agentapi.Options{RelayURL: "wss://relay.example"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	g := &console.DeviceGroup{Name: "g"}
	if err := db.CreateDeviceGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	secret, _ := auth.NewSecret()
	if err := db.CreateEnrollmentToken(ctx, &console.EnrollmentToken{GroupID: g.ID, Name: "t", SecretHash: auth.HashSecret(secret),
		ExpiresAt: time.Now().Add(time.Hour), MaxUses: 3}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte(secret+"\n"), 0o600)
	enrollCmd := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(ctx, append([]string{"enroll", "-server", srv.URL, "-state", state, "-no-inventory"}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := enrollCmd("-token-file", tokenFile); code != 0 || !strings.Contains(out, "Enrolled as device") {
		t.Fatalf("enroll: %d %s", code, out)
	}
	st, err := enroll.Load(state)
	if err != nil || st.RelayURL != "wss://relay.example" {
		t.Fatalf("state after enroll: %+v, %v", st, err)
	}
	if got := enrolledRelay(state); got != "wss://relay.example" {
		t.Errorf("enrolledRelay = %q", got)
	}
	if code, out := enrollCmd("-token-file", tokenFile); code != 1 || !strings.Contains(out, "already enrolled") {
		t.Errorf("second enroll: %d %s; want a refusal naming --force", code, out)
	}
	t.Setenv(enrollTokenEnv, "wrong")
	if code, out := enrollCmd("-force"); code != 1 || !strings.Contains(out, "refused the enrollment token") {
		t.Errorf("wrong token: %d %s", code, out)
	}
	t.Setenv(enrollTokenEnv, secret)
	if code, out := enrollCmd("-force"); code != 0 {
		t.Errorf("forced enroll with the token from the environment: %d %s", code, out)
	}
	if st2, _ := enroll.Load(state); st2 == nil || st2.DeviceID == st.DeviceID {
		t.Errorf("forced enroll kept the old identity")
	}
	if code, out := enrollCmd("-token", secret, "-force"); code != 0 || !strings.Contains(out, "visible to other users") {
		t.Errorf("token on the command line: %d %s; want a warning", code, out)
	}
}
