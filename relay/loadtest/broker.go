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
	Pairs    int           // technician/agent connection pairs working in parallel
	Duration time.Duration // how long to run sessions back to back
}

// BrokerResult is what a brokering run measured, client side.
type BrokerResult struct {
	Sessions      int
	Errors        int
	Elapsed       time.Duration
	PerSecond     float64
	P50, P95, P99 time.Duration // code create → answer delivered
	Max           time.Duration
}

func (r BrokerResult) String() string {
	return fmt.Sprintf("sessions=%d errors=%d in %s: %.0f sessions/s; create→answer p50=%s p95=%s p99=%s max=%s",
		r.Sessions, r.Errors, r.Elapsed.Round(time.Millisecond), r.PerSecond,
		r.P50.Round(10*time.Microsecond), r.P95.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond))
}

// sampleSDP is the size of a real browser offer with one video and one data section.
var sampleSDP = "v=0\r\n" + strings.Repeat("a=candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host generation 0\r\n", 40)

// Broker runs attended sessions back to back on cfg.Pairs pairs of
// connections: code.create → code.redeem → consent → session.start →
// offer → answer → session.end, and times each from create to answer.
func Broker(ctx context.Context, t Target, cfg BrokerConfig) (BrokerResult, error) {
	type pair struct{ tech, agent *relayclient.Conn }
	pairs := make([]pair, cfg.Pairs)
	quiet := relayclient.DialOptions{Client: "reach-loadgen"}
	for i := range pairs {
		tt, err := t.token(proto.KindTechnician, fmt.Sprintf("tech-%04d", i), proto.PermView, proto.PermControl)
		if err != nil {
			return BrokerResult{}, err
		}
		at, err := t.token(proto.KindDevice, fmt.Sprintf("dev-%04d", i))
		if err != nil {
			return BrokerResult{}, err
		}
		if pairs[i].tech, err = relayclient.Dial(ctx, t.URL+"/v1/technician", tt, quiet); err != nil {
			return BrokerResult{}, err
		}
		defer pairs[i].tech.Close()
		if pairs[i].agent, err = relayclient.Dial(ctx, t.URL+"/v1/agent", at, quiet); err != nil {
			return BrokerResult{}, err
		}
		defer pairs[i].agent.Close()
	}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		wg        sync.WaitGroup
	)
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	for _, p := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				d, err := oneSession(ctx, p.tech, p.agent)
				mu.Lock()
				if err != nil {
					errs++
				} else {
					latencies = append(latencies, d)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(latencies) == 0 {
		return BrokerResult{}, fmt.Errorf("loadtest: no session completed (%d errors)", errs)
	}
	slices.Sort(latencies)
	q := func(f float64) time.Duration { return latencies[int(f*float64(len(latencies)-1))] }
	return BrokerResult{
		Sessions: len(latencies), Errors: errs, Elapsed: elapsed,
		PerSecond: float64(len(latencies)) / elapsed.Seconds(),
		P50:       q(0.50), P95: q(0.95), P99: q(0.99), Max: latencies[len(latencies)-1],
	}, nil
}

func oneSession(ctx context.Context, tech, agent *relayclient.Conn) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
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
