package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/reachdesk/reach/console"
)

// Options configures a Dispatcher. The zero value is ready to use.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives logs; nil means slog.Default(). Secrets and bodies
	// are never logged.
	Logger *slog.Logger
	// Transport sends the requests; nil means http.DefaultTransport.
	// Redirects are never followed, whatever the transport.
	Transport http.RoundTripper
	// Timeout bounds one attempt, connection to response body; zero means
	// 10 seconds.
	Timeout time.Duration
	// MaxAttempts is the most attempts per delivery; zero means 8.
	MaxAttempts int
	// MaxAge is how long after the event a delivery is still attempted;
	// zero means 24 hours.
	MaxAge time.Duration
	// BaseDelay is the wait after the first failed attempt; attempt n
	// waits BaseDelay·3^(n-1), at most MaxDelay, minus a random jitter of
	// up to half. Zero means one minute.
	BaseDelay time.Duration
	// MaxDelay caps the wait between attempts; zero means 12 hours.
	MaxDelay time.Duration
	// PollInterval is how often Run looks for due deliveries when idle
	// (Publish wakes it at once); zero means one second.
	PollInterval time.Duration
	// Concurrency is how many deliveries run at once; zero means 4.
	Concurrency int
	// Retention is how long delivered and failed deliveries are kept for
	// inspection; zero means 30 days.
	Retention time.Duration
}

// Dispatcher enqueues events for the subscribed webhooks (Publish) and
// delivers them (Run). Several dispatchers, in one process or on several
// console nodes, may run on one store: claims are leased, so a delivery is
// attempted by one of them at a time, and one that dies mid-attempt is
// retried when the lease ends (at-least-once; receivers deduplicate on the
// delivery ID).
type Dispatcher struct {
	store  console.WebhookService
	now    func() time.Time
	log    *slog.Logger
	client *http.Client
	opts   Options
	wake   chan struct{}

	mu        sync.Mutex
	lastPurge time.Time // guarded by mu
}

// New returns a dispatcher on store.
func New(store console.WebhookService, opts Options) *Dispatcher {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.Timeout, 10*time.Second)
	def(&opts.MaxAge, 24*time.Hour)
	def(&opts.BaseDelay, time.Minute)
	def(&opts.MaxDelay, 12*time.Hour)
	def(&opts.PollInterval, time.Second)
	def(&opts.Retention, 30*24*time.Hour)
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 8
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	d := &Dispatcher{store: store, now: opts.Now, log: opts.Logger, opts: opts, wake: make(chan struct{}, 1)}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	d.client = &http.Client{
		Transport: opts.Transport,
		// A redirect could send the signed body somewhere the admin did not
		// configure; the 3xx counts as a failed attempt instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return d
}

// body is what a delivery POSTs.
type body struct {
	ID        string    `json:"id"` // the event's ID, the same for every subscriber
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

// Publish stores one delivery of e per enabled webhook subscribed to its
// type, in the database, and wakes Run. It fails on an unknown event type,
// data that does not marshal, a body over console.MaxWebhookPayload, or a
// store error; nothing is enqueued then.
func (d *Dispatcher) Publish(ctx context.Context, e Event) error {
	if !slices.Contains(EventTypes, e.Type) {
		return console.Errorf(console.CodeInvalid, "unknown event type %q", e.Type)
	}
	if e.At.IsZero() {
		e.At = d.now()
	}
	payload, err := json.Marshal(body{ID: console.NewDeliveryID(), Type: e.Type, CreatedAt: e.At.UTC(), Data: e.Data})
	if err != nil {
		return fmt.Errorf("webhook: marshal %s event: %w", e.Type, err)
	}
	n, err := d.store.EnqueueWebhookEvent(ctx, &console.WebhookEvent{Type: e.Type, At: e.At, Payload: payload})
	if err != nil {
		return fmt.Errorf("webhook: enqueue %s event: %w", e.Type, err)
	}
	if n > 0 {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Run delivers due deliveries until ctx is done, then returns nil. It
// picks up what a previous run left in the outbox, and purges finished
// deliveries older than Retention once an hour. Store errors are logged
// and retried at the next poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTicker(d.opts.PollInterval)
	defer t.Stop()
	for {
		n, err := d.DeliverDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			d.log.Error("webhook deliveries failed", "err", err)
		}
		d.purge(ctx)
		if n == d.opts.Concurrency && err == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-t.C:
		}
	}
}

// purge removes old finished deliveries, at most once an hour.
func (d *Dispatcher) purge(ctx context.Context) {
	now := d.now()
	d.mu.Lock()
	due := now.Sub(d.lastPurge) >= time.Hour
	if due {
		d.lastPurge = now
	}
	d.mu.Unlock()
	if !due {
		return
	}
	if n, err := d.store.PurgeWebhookDeliveries(ctx, now.Add(-d.opts.Retention)); err != nil {
		d.log.Error("webhook purge failed", "err", err)
	} else if n > 0 {
		d.log.Info("webhook deliveries purged", "count", n)
	}
}

// DeliverDue claims up to Concurrency due deliveries, attempts them in
// parallel, records the outcomes, and returns how many it attempted.
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	// The lease outlasts an attempt, so that a slow receiver is not sent
	// the same delivery again by another dispatcher meanwhile.
	claims, err := d.store.ClaimWebhookDeliveries(ctx, d.now(), d.opts.Timeout+time.Minute, d.opts.Concurrency)
	if err != nil {
		return 0, fmt.Errorf("webhook: claim deliveries: %w", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(claims))
	for i, c := range claims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.attempt(ctx, c)
		}()
	}
	wg.Wait()
	return len(claims), errors.Join(errs...)
}

// maxDrain bounds how much of a response is read so that the connection
// can be reused; the rest is dropped with the connection.
const maxDrain = 64 << 10

// attempt sends one delivery and records its outcome. If ctx ends during
// the attempt, nothing is recorded: the lease runs out and the delivery is
// attempted again.
func (d *Dispatcher) attempt(ctx context.Context, c *console.WebhookClaim) error {
	sent := d.now()
	actx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	o := &console.DeliveryOutcome{ID: c.ID, Attempt: c.Attempts}
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.URL, bytes.NewReader(c.Payload))
	if err != nil {
		o.Error = "invalid request: " + err.Error()
	} else {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Reach-Webhooks/1")
		req.Header.Set(SignatureHeader, Sign(c.Secret, c.Payload, sent))
		req.Header.Set(DeliveryHeader, c.DeliveryID)
		req.Header.Set(EventHeader, c.EventType)
		req.Header.Set(AttemptHeader, strconv.Itoa(c.Attempts))
		resp, err := d.client.Do(req)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil // shutting down
		case err != nil && actx.Err() != nil:
			o.Error = fmt.Sprintf("no response within %v", d.opts.Timeout)
		case err != nil:
			o.Error = err.Error()
		default:
			o.StatusCode = resp.StatusCode
			excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, console.MaxDeliveryExcerpt))
			io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
			resp.Body.Close()
			o.Error = string(excerpt)
			if resp.StatusCode >= 300 && resp.StatusCode < 400 {
				o.Error = "redirect not followed: " + console.Excerpt(resp.Header.Get("Location"), 256)
			}
		}
	}
	now := d.now()
	o.At = now
	log := d.log.With("webhook", c.WebhookID, "delivery", c.DeliveryID, "event", c.EventType, "attempt", c.Attempts)
	switch delay := d.backoff(c.Attempts); {
	case o.StatusCode >= 200 && o.StatusCode < 300:
		o.Status, o.Error = console.DeliveryDelivered, ""
		log.Debug("webhook delivered", "status", o.StatusCode)
	case c.Attempts >= d.opts.MaxAttempts || now.Add(delay).Sub(c.CreatedAt) > d.opts.MaxAge:
		o.Status = console.DeliveryFailed
		log.Warn("webhook delivery given up", "status", o.StatusCode, "err", console.Excerpt(o.Error, 200))
	default:
		o.Status, o.RetryAt = console.DeliveryPending, now.Add(delay)
		log.Info("webhook delivery failed, will retry", "status", o.StatusCode, "retry_in", delay.Round(time.Second))
	}
	if err := d.store.FinishWebhookDelivery(ctx, o); err != nil {
		return fmt.Errorf("webhook: record delivery %d: %w", c.ID, err)
	}
	return nil
}

// backoff returns the wait after failed attempt n (from 1): exponential
// with factor 3, capped, with up to half taken off at random so that
// receivers coming back are not hit by every retry at once.
func (d *Dispatcher) backoff(n int) time.Duration {
	delay := d.opts.BaseDelay
	for i := 1; i < n && delay < d.opts.MaxDelay; i++ {
		delay *= 3
	}
	delay = min(delay, d.opts.MaxDelay)
	return delay - time.Duration(rand.Int64N(int64(delay)/2+1))
}
