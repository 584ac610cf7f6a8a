// Package report keeps an enrolled agent's console informed: it collects
// the inventory on a jittered interval (default one hour) and on demand,
// sends a full report first and per-section deltas after, long-polls the
// console for commands ("report inventory now", "run diagnostics"), sends
// session events, and refreshes the relay token. Everything goes through a
// crash-safe on-disk Outbox and is delivered exactly once: items carry
// idempotency keys and the console answers a repeat with its first answer.
package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/reachdesk/reach/agent/enroll"
	wire "github.com/reachdesk/reach/proto/agentapi"
	inv "github.com/reachdesk/reach/proto/inventory"
	"github.com/reachdesk/reach/relay/relayclient"
)

// Defaults for Options.
const (
	DefaultInterval = time.Hour
	DefaultPollWait = 50 * time.Second
	// maxEventBatch is how many queued events go in one request.
	maxEventBatch = 200
)

// Options configure a Reporter. Collect is required.
type Options struct {
	// Collect returns a sealed full inventory report.
	Collect func(ctx context.Context) (*inv.Report, error)
	// Diagnose runs the named checks (all when empty); nil refuses
	// diagnostics commands.
	Diagnose func(ctx context.Context, checks []string) *inv.DiagReport
	// Interval between inventory reports; zero means the console's
	// setting, else DefaultInterval. Each wait is jittered by ±10 %.
	Interval time.Duration
	// PollWait is the command long poll's wait; zero means
	// DefaultPollWait; negative disables polling.
	PollWait time.Duration
	// RefreshToken enables relay-token refresh (at start, then halfway
	// through each token's life).
	RefreshToken bool
	// Backoff shapes retries after the console could not be reached.
	Backoff relayclient.Backoff
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Reporter runs the reporting loops of one enrolled device.
type Reporter struct {
	client *enroll.Client
	out    *Outbox
	opts   Options
	log    *slog.Logger
	now    func() time.Time

	collectNow chan struct{} // a report was asked for

	ackMu sync.Mutex
	acked inv.Hashes // guarded by ackMu: the section hashes the console acknowledged
}

// ackedFile holds the acknowledged section hashes, per device.
const ackedFile = "inventory.acked"

type ackedState struct {
	DeviceID int64      `json:"device_id"`
	Hashes   inv.Hashes `json:"hashes"`
}

// New returns a Reporter for the enrolled device of client, with its
// outbox in the state directory's "outbox" folder.
func New(client *enroll.Client, opts Options) (*Reporter, error) {
	if opts.Collect == nil {
		return nil, errors.New("report: Collect is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	st := client.State()
	if opts.Interval <= 0 {
		opts.Interval = st.ReportInterval
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.PollWait == 0 {
		opts.PollWait = DefaultPollWait
	}
	out, err := OpenOutbox(filepath.Join(st.Dir, "outbox"), opts.Logger, opts.Now)
	if err != nil {
		return nil, err
	}
	r := &Reporter{client: client, out: out, opts: opts, log: opts.Logger, now: opts.Now, collectNow: make(chan struct{}, 1)}
	r.acked = LoadAcked(st.Dir, st.DeviceID)
	return r, nil
}

// Outbox returns the reporter's outbox.
func (r *Reporter) Outbox() *Outbox { return r.out }

// LoadAcked returns the section hashes the console acknowledged for
// device, nil if none are recorded (the next report is then full).
func LoadAcked(dir string, device int64) inv.Hashes {
	b, err := os.ReadFile(filepath.Join(dir, ackedFile))
	if err != nil {
		return nil
	}
	var a ackedState
	if json.Unmarshal(b, &a) != nil || a.DeviceID != device {
		return nil
	}
	return a.Hashes
}

// SaveAcked records the section hashes the console acknowledged.
func SaveAcked(dir string, device int64, h inv.Hashes) error {
	b, err := json.Marshal(ackedState{DeviceID: device, Hashes: h})
	if err != nil {
		return fmt.Errorf("report: encode acknowledged state: %w", err)
	}
	return enroll.WriteFile(filepath.Join(dir, ackedFile), b)
}

// ReportNow asks for an inventory report at once.
func (r *Reporter) ReportNow() {
	select {
	case r.collectNow <- struct{}{}:
	default:
	}
}

// Event queues a session event of relay session sid. detail is encoded as
// JSON. It returns ErrFull when the outbox refuses it (the event is then
// counted and reported as dropped).
func (r *Reporter) Event(sid, typ string, detail any) error {
	var raw json.RawMessage
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("report: encode event: %w", err)
		}
		raw = b
	}
	return r.out.PutEvent(wire.Event{SID: sid, Type: typ, At: r.now().UTC(), Detail: raw})
}

// Run runs the loops until ctx ends: inventory on the interval and on
// demand, delivery of the outbox, the command poll and token refresh.
func (r *Reporter) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	run(r.inventoryLoop)
	run(r.deliverLoop)
	if r.opts.PollWait > 0 {
		run(r.pollLoop)
	}
	if r.opts.RefreshToken {
		run(r.tokenLoop)
	}
	wg.Wait()
	return ctx.Err()
}

// jitter returns d ± 10 %.
func jitter(d time.Duration) time.Duration {
	return d - d/10 + time.Duration(rand.Int64N(int64(d/5)+1))
}

// inventoryLoop collects at start (unless a report is already queued), on
// every interval and on demand.
func (r *Reporter) inventoryLoop(ctx context.Context) {
	first := true
	for {
		if !first || !r.hasReport() {
			r.collect(ctx)
		}
		first = false
		t := time.NewTimer(jitter(r.opts.Interval))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-r.collectNow:
			t.Stop()
		}
	}
}

func (r *Reporter) hasReport() bool {
	for _, it := range r.out.Items() {
		if it.Kind == KindReport {
			return true
		}
	}
	return false
}

// collect queues a fresh report.
func (r *Reporter) collect(ctx context.Context) {
	rep, err := r.opts.Collect(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("report: collect inventory", "err", err)
		}
		return
	}
	rep.DeviceID = fmt.Sprint(r.client.State().DeviceID)
	if err := r.out.PutReport(rep); err != nil {
		r.log.Error("report: queue inventory", "err", err)
	}
}

// deliverLoop sends queued items whenever there are some, backing off
// while the console cannot be reached.
func (r *Reporter) deliverLoop(ctx context.Context) {
	failures := 0
	for {
		err := r.Flush(ctx)
		if ctx.Err() != nil {
			return
		}
		var wait <-chan time.Time
		if err != nil {
			d := r.opts.Backoff.Delay(failures)
			failures++
			r.log.Warn("report: console unreachable; will retry", "in", d.Round(time.Millisecond), "queued", r.out.Len(), "err", err)
			wait = time.After(d)
		} else {
			failures = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-r.out.Notify():
			if wait != nil { // still respect the backoff
				select {
				case <-ctx.Done():
					return
				case <-wait:
				}
			}
		case <-wait:
		}
	}
}

// Flush sends every queued item in order; it stops at the first that the
// console could not take for now and returns that error.
func (r *Reporter) Flush(ctx context.Context) error {
	for {
		items := r.out.Items()
		if len(items) == 0 {
			return nil
		}
		it := items[0]
		var err error
		switch it.Kind {
		case KindReport:
			err = r.sendReport(ctx, it)
		case KindDiagnostics:
			err = r.sendDiagnostics(ctx, it)
		case KindEvent:
			batch := []*Item{}
			for _, e := range items {
				if e.Kind != KindEvent || len(batch) == maxEventBatch {
					break
				}
				batch = append(batch, e)
			}
			err = r.sendEvents(ctx, batch)
		default:
			r.log.Error("report: unknown outbox item dropped", "kind", it.Kind)
			err = r.out.Done(it.Seq)
		}
		if err != nil {
			return err
		}
	}
}

// permanent handles an answer that retrying cannot change: the items are
// removed, loudly. It returns nil for such answers and err otherwise.
func (r *Reporter) permanent(err error, what string, items ...*Item) error {
	var ae *enroll.APIError
	if !errors.As(err, &ae) || !ae.Permanent() {
		return err
	}
	seqs := make([]uint64, len(items))
	for i, it := range items {
		seqs[i] = it.Seq
	}
	r.log.Error("report: the console refused "+what+"; dropped", "items", len(items), "status", ae.Status, "code", ae.Code, "message", ae.Message)
	return r.out.Done(seqs...)
}

func (r *Reporter) sendReport(ctx context.Context, it *Item) error {
	r.ackMu.Lock()
	acked := r.acked
	r.ackMu.Unlock()
	req := wire.ReportRequest{Key: it.Key}
	var err error
	if acked == nil {
		req.Full, err = json.Marshal(it.Report)
	} else {
		req.Delta, err = json.Marshal(inv.Diff(acked, it.Report))
	}
	if err != nil {
		return fmt.Errorf("report: encode report: %w", err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("report: encode report: %w", err)
	}
	var resp wire.ReportResponse
	err = r.client.Do(ctx, http.MethodPost, wire.PathReports, body, &resp)
	var ae *enroll.APIError
	if errors.As(err, &ae) && ae.Code == wire.CodeBaseMismatch {
		// The console holds another state: forget ours and send this
		// report in full, under a new key.
		r.log.Info("report: the console holds another inventory state; sending a full report")
		r.setAcked(nil)
		return r.requeue(it)
	}
	if err != nil {
		return r.permanent(err, "an inventory report", it)
	}
	if resp.State == inv.StateHash(it.Report.Hashes) {
		r.setAcked(it.Report.Hashes)
	} else {
		r.setAcked(nil)
	}
	return r.out.Done(it.Seq)
}

// requeue replaces a report item by a copy with a fresh key.
func (r *Reporter) requeue(it *Item) error {
	return r.out.PutReport(it.Report)
}

func (r *Reporter) setAcked(h inv.Hashes) {
	r.ackMu.Lock()
	r.acked = h
	r.ackMu.Unlock()
	st := r.client.State()
	if err := SaveAcked(st.Dir, st.DeviceID, h); err != nil {
		r.log.Error("report: save acknowledged state", "err", err)
	}
}

func (r *Reporter) sendDiagnostics(ctx context.Context, it *Item) error {
	rep, err := json.Marshal(it.Diagnostics)
	if err != nil {
		return fmt.Errorf("report: encode diagnostics: %w", err)
	}
	body, err := json.Marshal(wire.DiagnosticsRequest{Key: it.Key, CommandID: it.CommandID, Report: rep})
	if err != nil {
		return fmt.Errorf("report: encode diagnostics: %w", err)
	}
	if err := r.client.Do(ctx, http.MethodPost, wire.PathDiagnostics, body, nil); err != nil {
		return r.permanent(err, "diagnostics", it)
	}
	return r.out.Done(it.Seq)
}

func (r *Reporter) sendEvents(ctx context.Context, batch []*Item) error {
	req := wire.EventsRequest{Events: make([]wire.Event, len(batch))}
	seqs := make([]uint64, len(batch))
	for i, it := range batch {
		req.Events[i] = *it.Event
		req.Events[i].Key = it.Key
		seqs[i] = it.Seq
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("report: encode events: %w", err)
	}
	err = r.client.Do(ctx, http.MethodPost, wire.PathEvents, body, nil)
	var ae *enroll.APIError
	if len(batch) > 1 && errors.As(err, &ae) && ae.Permanent() {
		// One bad event must not take the others with it: one by one.
		for _, it := range batch {
			if err := r.sendEvents(ctx, []*Item{it}); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil {
		return r.permanent(err, "a session event", batch...)
	}
	return r.out.Done(seqs...)
}

// pollLoop long-polls the console for commands.
func (r *Reporter) pollLoop(ctx context.Context) {
	path := wire.PathCommands + "?wait=" + r.opts.PollWait.String()
	failures := 0
	var diagRunning sync.Mutex // one diagnostics run at a time
	for ctx.Err() == nil {
		var resp wire.CommandsResponse
		err := r.client.Do(ctx, http.MethodGet, path, nil, &resp)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d := r.opts.Backoff.Delay(failures)
			failures++
			r.log.Debug("report: command poll failed", "retry_in", d, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(d):
			}
			continue
		}
		failures = 0
		for _, c := range resp.Commands {
			switch c.Kind {
			case wire.CommandInventory:
				r.ReportNow()
			case wire.CommandDiagnostics:
				if r.opts.Diagnose == nil {
					continue
				}
				go func(c wire.Command) {
					diagRunning.Lock()
					defer diagRunning.Unlock()
					rep := r.opts.Diagnose(ctx, c.Checks)
					if ctx.Err() != nil {
						return
					}
					rep.DeviceID = fmt.Sprint(r.client.State().DeviceID)
					if err := r.out.PutDiagnostics(fmt.Sprintf("cmd-%d", c.ID), c.ID, rep); err != nil {
						r.log.Error("report: queue diagnostics", "err", err)
					}
				}(c)
			default:
				r.log.Warn("report: unknown command ignored", "kind", c.Kind)
			}
		}
	}
}

// tokenLoop refreshes the relay token at start and then halfway through
// each token's life.
func (r *Reporter) tokenLoop(ctx context.Context) {
	failures := 0
	for {
		var wait time.Duration
		tr, err := r.client.RefreshToken(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait = r.opts.Backoff.Delay(failures)
			failures++
			r.log.Warn("report: refresh relay token", "retry_in", wait, "err", err)
		} else {
			failures = 0
			wait = max(tr.ExpiresAt.Sub(r.now())/2, time.Minute)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
