package loadtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay/relayclient"
)

// BrokerConfig shapes a brokering run.
type BrokerConfig struct {
	// Pairs is the number of technician/agent connection pairs. Each works
	// one session at a time, as a person would.
	Pairs int
	// Rate is the offered load in sessions per second, spread over idle
	// pairs (open loop: latency includes any wait for a free pair). Zero
	// runs every pair back to back, to find the maximum throughput.
	Rate float64
	// Duration is how long sessions are started.
	Duration time.Duration
}

// BrokerResult is what a brokering run measured, client side.
type BrokerResult struct {
	Sessions      int
	Errors        int
	FirstError    error
	Elapsed       time.Duration
	PerSecond     float64
	P50, P95, P99 time.Duration // code create → answer delivered
	Max           time.Duration
}

func (r BrokerResult) String() string {
	e := ""
	if r.FirstError != nil {
		e = " (first: " + r.FirstError.Error() + ")"
	}
	return fmt.Sprintf("sessions=%d errors=%d%s in %s: %.0f sessions/s; create→answer p50=%s p95=%s p99=%s max=%s",
		r.Sessions, r.Errors, e, r.Elapsed.Round(time.Millisecond), r.PerSecond,
		r.P50.Round(10*time.Microsecond), r.P95.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond))
}

// sampleSDP is the size of a real browser offer with one video and one data section.
var sampleSDP = "v=0\r\n" + strings.Repeat("a=candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host generation 0\r\n", 40)

type connPair struct{ tech, agent *relayclient.Conn }

// Broker runs attended sessions on cfg.Pairs pairs of connections:
// code.create → code.redeem → consent → session.start → offer → answer →
// session.end, and times each from its scheduled start to the answer.
func Broker(ctx context.Context, t Target, cfg BrokerConfig) (BrokerResult, error) {
	idle := make(chan connPair, cfg.Pairs)
	opts := relayclient.DialOptions{Client: "reach-loadgen"}
	for i := range cfg.Pairs {
		tt, err := t.token(proto.KindTechnician, fmt.Sprintf("tech-%04d", i), proto.PermView, proto.PermControl)
		if err != nil {
			return BrokerResult{}, err
		}
		at, err := t.token(proto.KindDevice, fmt.Sprintf("dev-%04d", i))
		if err != nil {
			return BrokerResult{}, err
		}
		var p connPair
		if p.tech, err = relayclient.Dial(ctx, t.URL+"/v1/technician", tt, opts); err != nil {
			return BrokerResult{}, err
		}
		defer p.tech.Close()
		if p.agent, err = relayclient.Dial(ctx, t.URL+"/v1/agent", at, opts); err != nil {
			return BrokerResult{}, err
		}
		defer p.agent.Close()
		idle <- p
	}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		firstErr  error
		wg        sync.WaitGroup
	)
	run := func(p connPair, scheduled time.Time) {
		defer wg.Done()
		d, err := oneSession(ctx, p.tech, p.agent, scheduled)
		mu.Lock()
		if err != nil {
			errs++
			if firstErr == nil {
				firstErr = err
			}
		} else {
			latencies = append(latencies, d)
		}
		mu.Unlock()
		idle <- p
	}
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	if cfg.Rate > 0 {
		interval := time.Duration(float64(time.Second) / cfg.Rate)
		for next := start; next.Before(deadline); next = next.Add(interval) {
			time.Sleep(time.Until(next))
			p := <-idle
			wg.Add(1)
			go run(p, next)
		}
	} else {
		for time.Now().Before(deadline) {
			p := <-idle
			wg.Add(1)
			go run(p, time.Now())
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(latencies) == 0 {
		return BrokerResult{}, fmt.Errorf("loadtest: no session completed (%d errors): %w", errs, firstErr)
	}
	slices.Sort(latencies)
	q := func(f float64) time.Duration { return latencies[int(f*float64(len(latencies)-1))] }
	return BrokerResult{
		Sessions: len(latencies), Errors: errs, FirstError: firstErr, Elapsed: elapsed,
		PerSecond: float64(len(latencies)) / elapsed.Seconds(),
		P50:       q(0.50), P95: q(0.95), P99: q(0.99), Max: latencies[len(latencies)-1],
	}, nil
}

func oneSession(ctx context.Context, tech, agent *relayclient.Conn, start time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := tech.Request(ctx, "", &proto.CodeCreate{})
	if err != nil {
		return 0, fmt.Errorf("code.create: %w", err)
	}
	sid, code := m.SID, m.Body.(*proto.CodeCreated).Code
	if _, err := agent.Send(ctx, "", &proto.CodeRedeem{Code: code}); err != nil {
		return 0, err
	}
	if err := await(ctx, agent, proto.TypeConsentRequest); err != nil {
		return 0, err
	}
	if _, err := agent.Send(ctx, sid, &proto.ConsentDecision{Decision: proto.DecisionControl, Permissions: []proto.Permission{proto.PermView, proto.PermControl}}); err != nil {
		return 0, err
	}
	if err := await(ctx, tech, proto.TypeSessionStart); err != nil {
		return 0, err
	}
	if err := await(ctx, agent, proto.TypeSessionStart); err != nil {
		return 0, err
	}
	if _, err := tech.Send(ctx, sid, &proto.Offer{SDP: proto.SDP{SDP: sampleSDP}}); err != nil {
		return 0, err
	}
	if err := await(ctx, agent, proto.TypeOffer); err != nil {
		return 0, err
	}
	if _, err := agent.Send(ctx, sid, &proto.Answer{SDP: proto.SDP{SDP: sampleSDP}}); err != nil {
		return 0, err
	}
	if err := await(ctx, tech, proto.TypeAnswer); err != nil {
		return 0, err
	}
	d := time.Since(start)
	if _, err := tech.Send(ctx, sid, &proto.SessionEnd{Reason: "done"}); err != nil {
		return 0, err
	}
	return d, await(ctx, agent, proto.TypeSessionEnd)
}

// await reads messages until one of type typ; an error message fails.
func await(ctx context.Context, c *relayclient.Conn, typ proto.Type) error {
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", typ, err)
		}
		if m.Type == typ {
			return nil
		}
		if e, ok := m.Body.(*proto.ErrorBody); ok {
			return fmt.Errorf("waiting for %s: %w", typ, e.Err())
		}
	}
}
