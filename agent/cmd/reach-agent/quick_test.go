package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/reachdesk/reach/console/agentapi"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/console/sqlite"
	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay/node"
	"github.com/reachdesk/reach/relay/relayclient"
)

// syncBuffer is a bytes.Buffer safe for the command and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in output:\n%s", want, s.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listing is every path under dir with its mode and size.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := d.Info()
		b.WriteString(p + " " + info.Mode().String() + "\n")
		return nil
	})
	return b.String()
}

// TestQuickSupport runs `reach-agent quick` against a real relay and the
// console's agent API (SQLite): the end user types a short code (refused at
// once), a wrong one (the relay refuses it), then the right one, sees who
// asks and denies. The console holds a key for the code, the technician got
// the denial, and nothing was written to the home, working or temporary
// directory.
func TestQuickSupport(t *testing.T) {
	_, ckey, _ := ed25519.GenerateKey(rand.Reader)
	signer := signing.New(ckey, nil)
	cpub := ckey.Public().(ed25519.PublicKey)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := node.Listen(ctx, node.Config{Listen: "127.0.0.1:0", ConsoleKeys: []ed25519.PublicKey{cpub}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	relayDone := make(chan struct{})
	go func() { n.Run(ctx); close(relayDone) }()
	defer func() { cancel(); <-relayDone }()
	relayURL := "ws://" + n.Addr().String()

	// The technician makes a code.
	techTok, _ := signer.Issue(proto.Claims{Kind: proto.KindTechnician, Name: "Ann Tech", Org: "ACME IT",
		Permissions: []proto.Permission{proto.PermView, proto.PermControl}, Ticket: &proto.TicketRef{ID: "42", Title: "Printer"},
		RegisteredClaims: jwt.RegisteredClaims{Subject: "u1"}}, proto.AudienceRelay, 10*time.Minute)
	tc, err := relayclient.Dial(ctx, relayURL+"/v1/technician", techTok, relayclient.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	m, err := tc.Request(ctx, "", &proto.CodeCreate{})
	if err != nil {
		t.Fatal(err)
	}
	code := m.Body.(*proto.CodeCreated).Code

	// The console: its agent API on SQLite, signing with the relay's key.
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "console.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	api, err := agentapi.New(db, signer, agentapi.Options{RelayURL: relayURL})
	if err != nil {
		t.Fatal(err)
	}
	console := httptest.NewServer(api)
	defer console.Close()

	// Nothing may be written here.
	home, work, tmp := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("TMPDIR", tmp)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Chdir(work)
	before := listing(t, home) + listing(t, work) + listing(t, tmp)

	in, typeIn := io.Pipe()
	defer typeIn.Close()
	stdin = in
	defer func() { stdin = os.Stdin }()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"quick", "-server", console.URL, "-ui", "terminal"}, &stdout, &stderr)
	}()

	stdout.waitFor(t, "Session code from your technician: ")
	io.WriteString(typeIn, "12345\n") // refused by the agent
	stdout.waitFor(t, "invalid or has expired")
	io.WriteString(typeIn, "123 456 780\n") // accepted by the console, refused by the relay
	waitCount(t, &stdout, "invalid or has expired", 2)
	io.WriteString(typeIn, code[:3]+"-"+code[3:6]+"-"+code[6:]+"\n")
	stdout.waitFor(t, "Ann Tech (ACME IT) asks for remote access")
	if !strings.Contains(stdout.String(), "Ticket: 42 Printer") {
		t.Errorf("consent prompt lacks the ticket:\n%s", stdout.String())
	}
	io.WriteString(typeIn, "d\n")

	// The technician hears the denial.
	deadline := time.After(20 * time.Second)
	for denied := false; !denied; {
		rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
		msg, err := tc.Recv(rctx)
		rcancel()
		if err != nil {
			t.Fatalf("technician: %v", err)
		}
		if d, ok := msg.Body.(*proto.ConsentDecision); ok {
			if d.Decision != proto.DecisionDeny {
				t.Fatalf("decision %q", d.Decision)
			}
			denied = true
		}
		select {
		case <-deadline:
			t.Fatal("no consent decision")
		default:
		}
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("quick did not exit after the denial; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	// The key the console holds for the code is the one quick made; the
	// session's own key is in memory only, so it is compared by presence.
	h := sha256.Sum256([]byte(code))
	if k, err := db.FindQuickKey(ctx, h[:]); err != nil || len(k.PublicKey) != ed25519.PublicKeySize {
		t.Fatalf("console holds no quick key for the code: %v", err)
	}
	if after := listing(t, home) + listing(t, work) + listing(t, tmp); after != before {
		t.Fatalf("quick wrote files:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func waitCount(t *testing.T, b *syncBuffer, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(b.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d %q in output:\n%s", n, want, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestQuickFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"quick"}, 2, "-server is required"},
		{[]string{"quick", "-server", "http://help.example.com"}, 2, "https://"},
		{[]string{"quick", "-server", "https://help.example.com", "-ui", "carrier-pigeon"}, 2, "-ui"},
		{[]string{"quick", "-server", "https://help.example.com", "1", "2"}, 2, ""},
		{[]string{"quick", "-server", "https://help.example.com", "-ui", "terminal", "12345"}, 1, "invalid or has expired"},
	} {
		var stdout, stderr bytes.Buffer
		got := run(context.Background(), tc.args, &stdout, &stderr)
		if got != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, got, stderr.String(), tc.code, tc.want)
		}
	}
}
