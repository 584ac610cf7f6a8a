// Command reach-loadgen loads a running relay from a separate process, for
// the benchmarks in docs/benchmarks.md:
//
//	reach-loadgen idle   -agents 10000 -hold 60s   # memory per connection, CPU at heartbeat rate
//	reach-loadgen broker -pairs 500 -rate 1000      # latency at an offered 1,000 sessions/s
//	reach-loadgen broker -pairs 200                 # maximum sessions brokered per second
//
// It signs tokens with the console private key the relay trusts (-key) and
// only targets the relay URL given, which must be on this machine.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"time"

	"github.com/reachdesk/reach/internal/envflag"
	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay/loadtest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "reach-loadgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || (args[0] != "idle" && args[0] != "broker") {
		return fmt.Errorf("usage: reach-loadgen idle|broker [flags]")
	}
	mode := args[0]
	fs := flag.NewFlagSet("reach-loadgen "+mode, flag.ContinueOnError)
	relayURL := fs.String("relay", "ws://127.0.0.1:8081", "relay WebSocket base URL (loopback only)")
	metrics := fs.String("metrics", "http://127.0.0.1:9464/metrics", "relay metrics URL")
	keyFile := fs.String("key", "", "console signing private key (PEM) the relay trusts (required)")
	agents := fs.Int("agents", 10000, "idle: agent connections")
	hold := fs.Duration("hold", 60*time.Second, "idle: CPU measuring window")
	pairs := fs.Int("pairs", 200, "broker: technician/agent connection pairs")
	rate := fs.Float64("rate", 0, "broker: offered sessions per second (0: every pair back to back)")
	duration := fs.Duration("duration", 10*time.Second, "broker: run time")
	if err := envflag.Parse(fs, "REACH_LOADGEN", args[1:]); err != nil {
		return err
	}
	if err := loopbackOnly(*relayURL, *metrics); err != nil {
		return err
	}
	pem, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("-key: %w", err)
	}
	key, err := proto.ParsePrivateKey(pem)
	if err != nil {
		return err
	}
	target := loadtest.Target{URL: *relayURL, MetricsURL: *metrics, Key: key}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch mode {
	case "idle":
		r, err := loadtest.Idle(ctx, target, loadtest.IdleConfig{Agents: *agents, Hold: *hold})
		if err != nil {
			return err
		}
		fmt.Println("idle:", r)
	case "broker":
		r, err := loadtest.Broker(ctx, target, loadtest.BrokerConfig{Pairs: *pairs, Rate: *rate, Duration: *duration})
		if err != nil {
			return err
		}
		fmt.Println("broker:", r)
	}
	return nil
}

// loopbackOnly refuses targets off this machine: load goes to loopback only.
func loopbackOnly(urls ...string) error {
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil {
			return err
		}
		switch u.Hostname() {
		case "127.0.0.1", "localhost", "::1":
		default:
			return fmt.Errorf("%s: reach-loadgen only targets loopback", s)
		}
	}
	return nil
}
