package loadtest_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/reachdesk/reach/relay/loadtest"
	"github.com/reachdesk/reach/relay/node"
)

// startRelay runs a relay node with metrics on loopback for the load tools.
func startRelay(t *testing.T) loadtest.Target {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.Listen(ctx, node.Config{
		Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0",
		ConsoleKeys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return loadtest.Target{URL: "ws://" + n.Addr().String(), MetricsURL: "http://" + n.MetricsAddr().String() + "/metrics", Key: key}
}

func TestIdleMeasuresTheRelay(t *testing.T) {
	target := startRelay(t)
	r, err := loadtest.Idle(context.Background(), target, loadtest.IdleConfig{Agents: 50, Hold: time.Second, Heartbeat: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Agents != 50 || r.Failed != 0 {
		t.Fatalf("result %v", r)
	}
	// In one process the counts include the load generator's own
	// goroutines and memory: check only that they were measured, and that
	// pings flowed at the asked rate (50 agents every 100 ms).
	if r.GoroutinesPer < 0.9 || r.HeapStackPerCon <= 0 || r.PingsPerSecond < 250 {
		t.Fatalf("implausible result %v", r)
	}
}

func TestBrokerCompletesSessions(t *testing.T) {
	target := startRelay(t)
	for _, cfg := range []loadtest.BrokerConfig{
		{Pairs: 4, Duration: 500 * time.Millisecond},
		{Pairs: 4, Rate: 40, Duration: 500 * time.Millisecond},
	} {
		r, err := loadtest.Broker(context.Background(), target, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if r.Errors != 0 || r.Sessions < 10 || r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
			t.Fatalf("%+v: result %v", cfg, r)
		}
	}
}
