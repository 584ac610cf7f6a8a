package report_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/enroll"
	"github.com/reachdesk/reach/agent/report"
	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/agentapi"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/console/sqlite"
	inv "github.com/reachdesk/reach/proto/inventory"
	"github.com/reachdesk/reach/relay/relayclient"
)

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestReporter runs a reporter against the real console API on SQLite:
// the first report is full, later ones are deltas, a console request for
// inventory or diagnostics is answered through the long poll, a delta
// against a state the console does not hold turns into a full report, and
// the relay token is refreshed on disk.
func TestReporter(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	api, err := agentapi.New(db, signing.New(key, nil), agentapi.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	g := &console.DeviceGroup{Name: "g"}
	db.CreateDeviceGroup(ctx, g)
	secret, _ := auth.NewSecret()
	db.CreateEnrollmentToken(ctx, &console.EnrollmentToken{GroupID: g.ID, Name: "t", SecretHash: auth.HashSecret(secret),
		ExpiresAt: time.Now().Add(time.Hour), MaxUses: 1})
	res, err := enroll.Enroll(ctx, enroll.Options{Server: srv.URL, Token: secret, Dir: filepath.Join(t.TempDir(), "state")})
	if err != nil {
		t.Fatal(err)
	}
	st := res.State
	oldToken, _ := st.Token()

	version := "1"
	versions := make(chan string, 100)
	diagChecks := make(chan []string, 10)
	rep, err := report.New(enroll.NewClient(st, enroll.ClientOptions{}), report.Options{
		Collect: func(context.Context) (*inv.Report, error) {
			v := <-versions
			return sealed(t, v), nil
		},
		Diagnose: func(_ context.Context, checks []string) *inv.DiagReport {
			diagChecks <- checks
			return &inv.DiagReport{Header: inv.Header{Schema: inv.SchemaVersion, AgentVersion: "t",
				CollectedAt: time.Now().UTC().Truncate(time.Second)},
				Results: []inv.DiagResult{{Check: "dns", Status: inv.DiagOK, Summary: "all answer"}}}
		},
		Interval:     time.Hour,
		PollWait:     2 * time.Second,
		RefreshToken: true,
		Backoff:      relayclient.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond},
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	versions <- version
	go rep.Run(ctx)
	stateOf := func() string {
		got, err := db.FindInventory(context.Background(), st.DeviceID)
		if err != nil {
			return ""
		}
		r, err := inv.Decode(got.Raw)
		if err != nil {
			return ""
		}
		return r.OS.Version
	}
	eventually(t, "the first report", func() bool { return stateOf() == "1" })
	eventually(t, "a refreshed token", func() bool { tok, _ := st.Token(); return tok != oldToken })

	// The console asks for inventory: a delta arrives.
	versions <- "2"
	if err := api.RequestInventory(ctx, st.DeviceID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the requested report", func() bool { return stateOf() == "2" })

	// The console asks for diagnostics: the named checks run, results are stored.
	id, err := api.RequestDiagnostics(ctx, st.DeviceID, []string{"dns"})
	if err != nil {
		t.Fatal(err)
	}
	if got := <-diagChecks; len(got) != 1 || got[0] != "dns" {
		t.Errorf("diagnostics ran %q, want dns", got)
	}
	eventually(t, "stored diagnostics", func() bool {
		rs, _ := db.FindCommandDiagnostics(ctx, id)
		return len(rs) == 1
	})

	// The agent believes the console holds another state: its delta is
	// refused and it sends the report in full.
	if err := report.SaveAcked(st.Dir, st.DeviceID, sealed(t, "elsewhere").Hashes); err != nil {
		t.Fatal(err)
	}
	rep2, err := report.New(enroll.NewClient(st, enroll.ClientOptions{}), report.Options{
		Collect:  func(context.Context) (*inv.Report, error) { return sealed(t, "3"), nil },
		PollWait: -1, Interval: time.Hour, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go rep2.Run(ctx2)
	eventually(t, "the full report after a base mismatch", func() bool { return stateOf() == "3" })
}
