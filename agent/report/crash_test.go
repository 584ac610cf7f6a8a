package report_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/enroll"
	"github.com/reachdesk/reach/agent/report"
	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/agentapi"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/console/sqlite"
	wire "github.com/reachdesk/reach/proto/agentapi"
	inv "github.com/reachdesk/reach/proto/inventory"
	"github.com/reachdesk/reach/relay/relayclient"
)

// The crash test runs the console and the agent as child processes of the
// test binary (this TestMain, with REACH_CRASH_ROLE set) so that it can
// SIGKILL them.
const roleEnv = "REACH_CRASH_ROLE"

func TestMain(m *testing.M) {
	switch os.Getenv(roleEnv) {
	case "console":
		os.Exit(crashConsole())
	case "agent":
		os.Exit(crashAgent())
	}
	os.Exit(m.Run())
}

// crashConsole serves the agent API on REACH_CRASH_ADDR from the SQLite
// file REACH_CRASH_DB until killed.
func crashConsole() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	db, err := sqlite.Open(ctx, os.Getenv("REACH_CRASH_DB"), sqlite.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Close()
	key, err := signing.LoadOrCreate(os.Getenv("REACH_CRASH_KEYS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	api, err := agentapi.New(db, signing.New(key, nil), agentapi.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var ln net.Listener
	for range 100 { // the port may linger briefly after the last process died
		if ln, err = net.Listen("tcp", os.Getenv("REACH_CRASH_ADDR")); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go api.Run(ctx)
	srv := &http.Server{Handler: api}
	go srv.Serve(ln)
	<-ctx.Done()
	srv.Close()
	return 0
}

// crashAgent runs the reporter of the device enrolled in REACH_CRASH_STATE
// and produces REACH_CRASH_EVENTS numbered session events. Like any
// producer that must not lose or repeat, it derives each event's key from
// its number, so that an event produced again after a crash (before its
// number was recorded) is the same event. It exits 0 once every event is
// produced and the outbox holds no event.
func crashAgent() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	dir := os.Getenv("REACH_CRASH_STATE")
	total, _ := strconv.Atoi(os.Getenv("REACH_CRASH_EVENTS"))
	st, err := enroll.Load(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	base, err := os.ReadFile(os.Getenv("REACH_CRASH_REPORT"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	collections := 0
	rep, err := report.New(enroll.NewClient(st, enroll.ClientOptions{HTTPClient: &http.Client{Timeout: 5 * time.Second}}), report.Options{
		Collect: func(context.Context) (*inv.Report, error) {
			r, err := inv.Decode(base)
			if err != nil {
				return nil, err
			}
			collections++
			r.OS.Version = fmt.Sprintf("pid %d run %d", os.Getpid(), collections)
			r.CollectedAt = time.Now().UTC().Truncate(time.Second)
			return r, r.Seal()
		},
		Interval: 150 * time.Millisecond,
		PollWait: time.Second,
		Backoff:  relayclient.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go rep.Run(ctx)
	counter := filepath.Join(dir, "produced")
	b, _ := os.ReadFile(counter)
	next, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for n := next; n < total; n++ {
		ev := wire.Event{Key: fmt.Sprintf("ev-%d", n), SID: "crash-sid", Type: wire.EventChat,
			Detail: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
		if err := rep.Outbox().PutEvent(ev); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := enroll.WriteFile(counter, []byte(strconv.Itoa(n+1))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		time.Sleep(3 * time.Millisecond)
	}
	// Done when every event is delivered and a report was acknowledged
	// after that, with nothing left in the outbox.
	drained := time.Time{}
	for {
		if drained.IsZero() {
			events := 0
			for _, it := range rep.Outbox().Items() {
				if it.Kind == report.KindEvent {
					events++
				}
			}
			if events == 0 {
				drained = time.Now()
			}
		} else if fi, err := os.Stat(filepath.Join(dir, "inventory.acked")); err == nil && fi.ModTime().After(drained) &&
			rep.Outbox().Len() == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return 1
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// proc is a child process of the crash test.
type proc struct {
	cmd    *exec.Cmd
	done   chan error
	reaped bool
}

func start(t *testing.T, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	return p
}

// kill SIGKILLs the process and reaps it, unless that happened already.
func (p *proc) kill() {
	if p.reaped {
		return
	}
	p.cmd.Process.Kill()
	<-p.done
	p.reaped = true
}

func randDuration(min, max time.Duration) time.Duration {
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(max-min)))
	return min + time.Duration(n.Int64())
}

// TestCrashExactlyOnce kills the agent and the console (SIGKILL) at random
// moments while the agent reports inventory and sends session events,
// restarts them, and checks that every event reached the console's SQLite
// file exactly once and that the console holds the agent's last
// acknowledged inventory.
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: real processes, about 20 s")
	}
	const events = 400
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "console.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	consoleEnv := []string{roleEnv + "=console", "REACH_CRASH_DB=" + dbPath, "REACH_CRASH_ADDR=" + addr, "REACH_CRASH_KEYS=" + filepath.Join(dir, "keys")}
	state := filepath.Join(dir, "state")
	reportPath, _ := filepath.Abs("../../proto/inventory/testdata/report.json")
	agentEnv := []string{roleEnv + "=agent", "REACH_CRASH_STATE=" + state, "REACH_CRASH_EVENTS=" + strconv.Itoa(events),
		"REACH_CRASH_REPORT=" + reportPath}

	// A console, an enrollment token, an enrolled device.
	c := start(t, consoleEnv...)
	defer func() { c.kill() }()
	waitUp(t, "http://"+addr)
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := &console.DeviceGroup{Name: "g"}
	secret, _ := auth.NewSecret()
	if err := db.CreateDeviceGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateEnrollmentToken(ctx, &console.EnrollmentToken{GroupID: g.ID, Name: "t", SecretHash: auth.HashSecret(secret),
		ExpiresAt: time.Now().Add(time.Hour), MaxUses: 1}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	res, err := enroll.Enroll(ctx, enroll.Options{Server: "http://" + addr, Token: secret, Dir: state})
	if err != nil {
		t.Fatal(err)
	}

	// Kill either process at random moments, restart it after a pause.
	a := start(t, agentEnv...)
	deadline := time.Now().Add(15 * time.Second)
	kills := map[string]int{}
	for time.Now().Before(deadline) {
		time.Sleep(randDuration(50*time.Millisecond, 400*time.Millisecond))
		select {
		case err := <-a.done: // finished early: start it again to keep reporting
			a.reaped = true
			if err != nil {
				t.Fatalf("agent failed: %v", err)
			}
			a = start(t, agentEnv...)
			continue
		default:
		}
		if n, _ := rand.Int(rand.Reader, big.NewInt(2)); n.Int64() == 0 {
			a.kill()
			kills["agent"]++
			time.Sleep(randDuration(0, 100*time.Millisecond))
			a = start(t, agentEnv...)
		} else {
			c.kill()
			kills["console"]++
			time.Sleep(randDuration(0, 300*time.Millisecond))
			c = start(t, consoleEnv...)
		}
	}
	// Let them finish in peace: the agent exits once every event is
	// produced and delivered.
	select {
	case err := <-a.done:
		a.reaped = true
		if err != nil {
			t.Fatalf("final agent run: %v", err)
		}
	case <-time.After(60 * time.Second):
		a.kill()
		t.Fatal("the agent did not drain its outbox in 60 s")
	}
	c.kill()
	t.Logf("killed the agent %d and the console %d times", kills["agent"], kills["console"])
	if kills["agent"] == 0 || kills["console"] == 0 {
		t.Errorf("kills %v: want both processes killed", kills)
	}

	db, err = sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seen := make([]int, events)
	var after int64
	for {
		got, err := db.FindAgentEvents(ctx, console.AgentEventFilter{DeviceID: res.State.DeviceID, AfterID: after, Limit: console.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		for _, e := range got {
			var d struct{ N int }
			if err := json.Unmarshal(e.Detail, &d); err != nil || d.N < 0 || d.N >= events {
				t.Fatalf("event %+v: bad detail", e)
			}
			seen[d.N]++
			after = e.ID
		}
	}
	for n, k := range seen {
		if k != 1 {
			t.Errorf("event %d arrived %d times, want exactly once", n, k)
		}
	}
	// The console holds the inventory the agent last had acknowledged.
	stored, err := db.FindInventory(ctx, res.State.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := inv.Decode(stored.Raw)
	if err != nil {
		t.Fatal(err)
	}
	acked := report.LoadAcked(state, res.State.DeviceID)
	if acked == nil || inv.StateHash(acked) != inv.StateHash(r.Hashes) {
		t.Errorf("agent's acknowledged state %s, console's %s", inv.StateHash(acked), inv.StateHash(r.Hashes))
	}
}

// waitUp waits until the console answers.
func waitUp(t *testing.T, base string) {
	t.Helper()
	for range 200 {
		resp, err := http.Get(base + wire.PathToken)
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("console did not start")
}
