package relayclient

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/reachdesk/reach/proto"
)

// Backoff computes reconnect delays: full jitter over an exponential
// ceiling, so that thousands of agents dropped by a relay restart do not
// come back in one wave.
type Backoff struct {
	Min, Max time.Duration // zero means 500 ms and 30 s
}

// Delay returns the wait before reconnect attempt n (0-based): a uniform
// random duration in [Min/2, min(Max, Min·2ⁿ)].
func (b Backoff) Delay(n int) time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 500 * time.Millisecond
	}
	if hi <= 0 {
		hi = 30 * time.Second
	}
	ceil := lo
	for i := 0; i < n && ceil < hi; i++ {
		ceil *= 2
	}
	ceil = min(ceil, hi)
	floor := lo / 2
	return floor + rand.N(ceil-floor+1)
}

// RunOptions configure Run.
type RunOptions struct {
	DialOptions
	// Token returns a fresh token for each connection attempt (tokens are
	// short-lived). Required.
	Token func(ctx context.Context) (string, error)
	// ResumeSessions returns the sessions to resume at each (re)connect; nil
	// means none.
	ResumeSessions func() []proto.Resume
	// Backoff shapes the delays between attempts.
	Backoff Backoff
	// StableAfter is how long a connection must last for the next failure to
	// start the backoff from scratch; zero means one minute.
	StableAfter time.Duration
}

// Run keeps a connection to url until ctx ends: it dials, calls serve with
// the connection, and when the connection drops or serve returns, waits a
// jittered backoff and dials again. It returns ctx's error, or a
// *proto.Error with CodeUpgradeRequired, which retrying cannot fix.
func Run(ctx context.Context, url string, opts RunOptions, serve func(context.Context, *Conn)) error {
	if opts.StableAfter <= 0 {
		opts.StableAfter = time.Minute
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	attempt := 0
	for {
		started := time.Now()
		err := runOnce(ctx, url, opts, serve)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if proto.CodeOf(err) == proto.CodeUpgradeRequired {
			return err
		}
		if time.Since(started) >= opts.StableAfter {
			attempt = 0
		}
		wait := opts.Backoff.Delay(attempt)
		attempt++
		log.Info("relayclient: reconnecting", "in", wait.Round(time.Millisecond), "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func runOnce(ctx context.Context, url string, opts RunOptions, serve func(context.Context, *Conn)) error {
	token, err := opts.Token(ctx)
	if err != nil {
		return err
	}
	d := opts.DialOptions
	if opts.ResumeSessions != nil {
		d.Resume = opts.ResumeSessions()
	}
	dialCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	c, err := Dial(dialCtx, url, token, d)
	cancel()
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	go func() {
		select {
		case <-c.Done():
			stop()
		case <-sctx.Done():
		}
	}()
	serve(sctx, c)
	stop()
	c.Close()
	if err := c.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return errors.New("relayclient: connection ended")
}
