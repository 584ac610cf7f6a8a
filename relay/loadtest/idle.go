package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/reachdesk/reach/proto"
)

// IdleConfig shapes an idle-agents run.
type IdleConfig struct {
	Agents      int           // connections to open
	Parallel    int           // dials in flight; zero means 100
	Hold        time.Duration // how long to measure CPU once all are connected
	Heartbeat   time.Duration // ping interval per agent; zero means the relay's
	ConnTimeout time.Duration // per dial; zero means 30 s
}

// IdleResult is what an idle-agents run measured on the relay.
type IdleResult struct {
	Agents          int
	Failed          int
	ConnectTime     time.Duration
	RSSPerConn      float64 // bytes: RSS growth / agents, once connected
	RSSPerConnEnd   float64 // the same at the end of Hold
	HeapStackPerCon float64 // bytes: (heap + stack in use) growth / agents
	GoroutinesPer   float64
	CPUPercent      float64 // of one core, averaged over Hold
	PingsPerSecond  float64
}

func (r IdleResult) String() string {
	return fmt.Sprintf("agents=%d failed=%d connect=%s live heap+stack/conn=%.1fKiB rss/conn=%.1fKiB (%.1fKiB after hold) goroutines/conn=%.2f cpu=%.2f%% of a core at %.0f pings/s",
		r.Agents, r.Failed, r.ConnectTime.Round(time.Millisecond), r.HeapStackPerCon/1024, r.RSSPerConn/1024, r.RSSPerConnEnd/1024, r.GoroutinesPer, r.CPUPercent, r.PingsPerSecond)
}

// Idle connects cfg.Agents agents, keeps them pinging, and measures the relay.
func Idle(ctx context.Context, t Target, cfg IdleConfig) (IdleResult, error) {
	if cfg.Parallel <= 0 {
		cfg.Parallel = 100
	}
	if cfg.ConnTimeout <= 0 {
		cfg.ConnTimeout = 30 * time.Second
	}
	if err := t.collectGarbage(ctx); err != nil {
		return IdleResult{}, err
	}
	before, err := t.scrape(ctx)
	if err != nil {
		return IdleResult{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu      sync.Mutex
		conns   []*websocket.Conn
		failed  atomic.Int64
		pings   atomic.Int64
		firstEr error
		wg      sync.WaitGroup
		sem     = make(chan struct{}, cfg.Parallel)
	)
	start := time.Now()
	var heartbeat atomic.Int64
	for i := range cfg.Agents {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, hb, err := dialAgent(ctx, t, fmt.Sprintf("load-%06d", i), cfg.ConnTimeout)
			if err != nil {
				failed.Add(1)
				mu.Lock()
				if firstEr == nil {
					firstEr = err
				}
				mu.Unlock()
				return
			}
			heartbeat.Store(int64(hb))
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}()
	}
	wg.Wait()
	connectTime := time.Since(start)
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	if len(conns) == 0 {
		return IdleResult{}, fmt.Errorf("loadtest: no agent connected: %w", firstEr)
	}
	hb := cfg.Heartbeat
	if hb <= 0 {
		hb = time.Duration(heartbeat.Load())
	}
	// Each connection reads (pongs) on its own goroutine; one scheduler
	// spreads the pings evenly over the heartbeat interval.
	for _, c := range conns {
		go func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		}()
	}
	go schedulePings(ctx, conns, hb, &pings)

	// Let allocation settle, collect the connect phase's garbage, then
	// measure memory; then CPU over Hold, and RSS again at its end.
	time.Sleep(5 * time.Second)
	if err := t.collectGarbage(ctx); err != nil {
		return IdleResult{}, err
	}
	settled, err := t.scrape(ctx)
	if err != nil {
		return IdleResult{}, err
	}
	p0 := pings.Load()
	select {
	case <-time.After(cfg.Hold):
	case <-ctx.Done():
		return IdleResult{}, ctx.Err()
	}
	after, err := t.scrape(ctx)
	if err != nil {
		return IdleResult{}, err
	}
	n := float64(len(conns))
	elapsed := after.at.Sub(settled.at).Seconds()
	return IdleResult{
		Agents:          len(conns),
		Failed:          int(failed.Load()),
		ConnectTime:     connectTime,
		RSSPerConn:      (settled.rss - before.rss) / n,
		RSSPerConnEnd:   (after.rss - before.rss) / n,
		HeapStackPerCon: (settled.heapInuse + settled.stackInuse - before.heapInuse - before.stackInuse) / n,
		GoroutinesPer:   (settled.goroutines - before.goroutines) / n,
		CPUPercent:      100 * (after.cpu - settled.cpu) / elapsed,
		PingsPerSecond:  float64(pings.Load()-p0) / elapsed,
	}, nil
}

func dialAgent(ctx context.Context, t Target, id string, timeout time.Duration) (*websocket.Conn, time.Duration, error) {
	tok, err := t.token(proto.KindDevice, id)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, t.URL+"/v1/agent", &websocket.DialOptions{Subprotocols: []string{proto.Subprotocol}})
	if err != nil {
		return nil, 0, err
	}
	hello, _ := proto.Encode("h", "", &proto.Hello{Version: proto.Version, Capability: proto.Capability, Token: tok, Client: "reach-loadgen"})
	if err := c.Write(ctx, websocket.MessageText, hello); err != nil {
		c.CloseNow()
		return nil, 0, err
	}
	_, data, err := c.Read(ctx)
	if err != nil {
		c.CloseNow()
		return nil, 0, err
	}
	m, err := proto.Decode(data)
	if err != nil {
		c.CloseNow()
		return nil, 0, err
	}
	w, ok := m.Body.(*proto.Welcome)
	if !ok {
		c.CloseNow()
		return nil, 0, fmt.Errorf("loadtest: hello refused: %s", data)
	}
	return c, time.Duration(w.Heartbeat) * time.Second, nil
}

func schedulePings(ctx context.Context, conns []*websocket.Conn, every time.Duration, count *atomic.Int64) {
	ping, _ := proto.Encode("", "", &proto.Ping{})
	step := every / time.Duration(len(conns))
	if step <= 0 {
		step = time.Microsecond
	}
	t := time.NewTicker(step)
	defer t.Stop()
	for i := 0; ; i = (i + 1) % len(conns) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if conns[i].Write(wctx, websocket.MessageText, ping) == nil {
			count.Add(1)
		}
		cancel()
	}
}
