// Package loadtest drives a running relay from another process for the
// benchmarks in docs/benchmarks.md: thousands of idle agents at heartbeat
// rate (memory per connection, CPU), and session brokering throughput and
// latency. It signs its own tokens with the console key the relay trusts,
// and reads the relay's resource use from its /metrics endpoint.
//
// Every run is bounded by its counts and durations and stops by itself.
package loadtest

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/reachdesk/reach/proto"
)

// Target is the relay under test.
type Target struct {
	URL        string             // ws://host:port
	MetricsURL string             // http://host:port/metrics
	Key        ed25519.PrivateKey // the console key the relay trusts
}

func (t Target) token(kind proto.Kind, sub string, perms ...proto.Permission) (string, error) {
	now := time.Now()
	return proto.SignToken(t.Key, proto.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: sub, Audience: jwt.ClaimStrings{proto.AudienceRelay},
			ExpiresAt: jwt.NewNumericDate(now.Add(2 * time.Hour)),
		},
		Kind: kind, Name: sub, Org: "Load Test", Permissions: perms,
		Ticket: ticketFor(kind),
	}, now)
}

func ticketFor(kind proto.Kind) *proto.TicketRef {
	if kind != proto.KindTechnician {
		return nil
	}
	return &proto.TicketRef{ID: "1", Title: "load test"}
}

// sample is the relay process's resource use at one moment.
type sample struct {
	at         time.Time
	rss        float64 // bytes
	heapInuse  float64 // bytes
	stackInuse float64 // bytes
	cpu        float64 // seconds
	goroutines float64
}

// collectGarbage asks the relay for a heap profile with a GC first
// (/debug/pprof/heap?gc=1 on its metrics listener), so that the next sample
// counts live memory, not garbage waiting for collection.
func (t Target) collectGarbage(ctx context.Context) error {
	u := strings.TrimSuffix(t.MetricsURL, "/metrics") + "/debug/pprof/heap?gc=1"
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("loadtest: force GC: %w", err)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

func (t Target) scrape(ctx context.Context) (sample, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", t.MetricsURL, nil)
	if err != nil {
		return sample{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sample{}, fmt.Errorf("loadtest: scrape: %w", err)
	}
	defer resp.Body.Close()
	s := sample{at: time.Now()}
	fields := map[string]*float64{
		"process_resident_memory_bytes": &s.rss,
		"go_memstats_heap_inuse_bytes":  &s.heapInuse,
		"go_memstats_stack_inuse_bytes": &s.stackInuse,
		"process_cpu_seconds_total":     &s.cpu,
		"go_goroutines":                 &s.goroutines,
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if p := fields[name]; ok && p != nil {
			*p, _ = strconv.ParseFloat(val, 64)
		}
	}
	if s.rss == 0 {
		return s, fmt.Errorf("loadtest: %s has no process metrics", t.MetricsURL)
	}
	return s, sc.Err()
}
