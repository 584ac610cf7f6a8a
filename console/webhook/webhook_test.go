package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/sqlite"
	"github.com/reachdesk/reach/console/webhook"
)

var (
	secret = []byte("whsec-0123456789abcdef")
	t0     = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	quiet  = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// clock is a settable clock shared by the store and the dispatcher.
type clock struct {
	mu sync.Mutex
	t  time.Time // guarded by mu
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// receiver is a real HTTP server that verifies and records deliveries and
// answers with the statuses it is given, then 200.
type receiver struct {
	t     *testing.T
	srv   *httptest.Server
	clock *clock

	mu       sync.Mutex
	statuses []int      // guarded by mu: answers to come
	got      []delivery // guarded by mu
}

type delivery struct {
	id, event, attempt string
	body               map[string]any
	verifyErr          error
}

func newReceiver(t *testing.T, c *clock, statuses ...int) *receiver {
	r := &receiver{t: t, clock: c, statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		d := delivery{id: req.Header.Get(webhook.DeliveryHeader), event: req.Header.Get(webhook.EventHeader),
			attempt:   req.Header.Get(webhook.AttemptHeader),
			verifyErr: webhook.Verify(secret, raw, req.Header.Get(webhook.SignatureHeader), c.Now(), webhook.DefaultTolerance)}
		json.Unmarshal(raw, &d.body)
		r.mu.Lock()
		r.got = append(r.got, d)
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		if status == http.StatusInternalServerError {
			w.WriteHeader(status)
			io.WriteString(w, strings.Repeat("stack trace line\n", 10_000))
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

type env struct {
	t     *testing.T
	ctx   context.Context
	path  string
	s     *sqlite.DB
	clock *clock
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "console.db"), clock: &clock{t: t0}}
	e.open()
	t.Cleanup(func() { e.s.Close() })
	return e
}

func (e *env) open() {
	s, err := sqlite.Open(e.ctx, e.path, sqlite.Options{Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.s = s
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) subscribe(url string, types ...string) *console.Webhook {
	w := &console.Webhook{Name: "hook " + url, URL: url, Secret: secret, EventTypes: types, Enabled: true}
	e.must(e.s.CreateWebhook(e.ctx, w))
	return w
}

func (e *env) dispatcher(opts webhook.Options) *webhook.Dispatcher {
	opts.Now, opts.Logger = e.clock.Now, quiet
	return webhook.New(e.s, opts)
}

func (e *env) deliverDue(d *webhook.Dispatcher, want int) {
	e.t.Helper()
	n, err := d.DeliverDue(e.ctx)
	e.must(err)
	if n != want {
		e.t.Errorf("DeliverDue attempted %d, want %d", n, want)
	}
}

func (e *env) onlyDelivery() *console.WebhookDelivery {
	e.t.Helper()
	ds, err := e.s.FindWebhookDeliveries(e.ctx, console.WebhookDeliveryFilter{})
	e.must(err)
	if len(ds) != 1 {
		e.t.Fatalf("%d deliveries, want 1", len(ds))
	}
	return ds[0]
}

type ticketData struct {
	TicketID int64  `json:"ticket_id"`
	Title    string `json:"title"`
}

func TestDeliveryIsSignedAndVerifies(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t, e.clock)
	other := newReceiver(t, e.clock)
	e.subscribe(r.srv.URL+"/hooks", webhook.TicketEscalated)
	e.subscribe(other.srv.URL, webhook.SessionCSAT)
	d := e.dispatcher(webhook.Options{})
	e.must(d.Publish(e.ctx, webhook.Event{Type: webhook.TicketEscalated, At: t0, Data: ticketData{42, "VPN <down>"}}))
	e.deliverDue(d, 1)
	e.deliverDue(d, 0)

	got := r.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries received, want 1", len(got))
	}
	g := got[0]
	if g.verifyErr != nil {
		t.Errorf("signature: %v", g.verifyErr)
	}
	if len(g.id) != 32 || g.event != webhook.TicketEscalated || g.attempt != "1" {
		t.Errorf("headers: delivery %q, event %q, attempt %q", g.id, g.event, g.attempt)
	}
	data, _ := g.body["data"].(map[string]any)
	if g.body["type"] != webhook.TicketEscalated || g.body["created_at"] != "2026-03-02T09:00:00Z" || data["title"] != "VPN <down>" ||
		len(g.body["id"].(string)) != 32 {
		t.Errorf("body: %v", g.body)
	}
	if len(other.deliveries()) != 0 {
		t.Error("a webhook got an event type it did not subscribe to")
	}
	if st := e.onlyDelivery(); st.Status != console.DeliveryDelivered || st.LastStatusCode != 200 || st.Attempts != 1 {
		t.Errorf("stored delivery: %+v", st)
	}
	if err := d.Publish(e.ctx, webhook.Event{Type: "ticket.deleted"}); console.ErrorCode(err) != console.CodeInvalid {
		t.Errorf("Publish of an unknown type = %v", err)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"type":"ticket.created"}`)
	sig := webhook.Sign(secret, body, t0)
	ts := strconv.FormatInt(t0.Unix(), 10)
	for _, tc := range []struct {
		name   string
		secret []byte
		body   []byte
		header string
		now    time.Time
		want   error
	}{
		{"valid", secret, body, sig, t0.Add(time.Minute), nil},
		{"second signature of a rotation", secret, body, "t=" + ts + ",v1=00ff," + strings.Split(sig, ",")[1], t0, nil},
		{"wrong secret", []byte("another secret!!"), body, sig, t0, webhook.ErrBadSignature},
		{"altered body", secret, []byte(`{"type":"ticket.updated"}`), sig, t0, webhook.ErrBadSignature},
		{"replayed later", secret, body, sig, t0.Add(6 * time.Minute), webhook.ErrStale},
		{"from the future", secret, body, sig, t0.Add(-6 * time.Minute), webhook.ErrStale},
		{"timestamp changed", secret, body, strings.Replace(sig, ts, strconv.FormatInt(t0.Unix()+1, 10), 1), t0, webhook.ErrBadSignature},
		{"no signature", secret, body, "t=" + ts, t0, webhook.ErrMalformed},
		{"garbage", secret, body, "sha256=abc", t0, webhook.ErrMalformed},
		{"not hex", secret, body, "t=" + ts + ",v1=zz", t0, webhook.ErrMalformed},
	} {
		if err := webhook.Verify(tc.secret, tc.body, tc.header, tc.now, webhook.DefaultTolerance); err != tc.want {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestRetriesWithBackoff(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t, e.clock, 500, 503, 200)
	e.subscribe(r.srv.URL)
	d := e.dispatcher(webhook.Options{BaseDelay: time.Minute})
	e.must(d.Publish(e.ctx, webhook.Event{Type: webhook.TicketCreated, Data: ticketData{1, "x"}}))

	// Attempt n waits 1·3^(n-1) minutes minus up to half.
	for i, max := range []time.Duration{time.Minute, 3 * time.Minute} {
		e.deliverDue(d, 1)
		st := e.onlyDelivery()
		wait := st.NextAttemptAt.Sub(e.clock.Now())
		if st.Status != console.DeliveryPending || wait < max/2 || wait > max {
			t.Fatalf("after failure %d: status %s, next attempt in %v, want %v to %v", i+1, st.Status, wait, max/2, max)
		}
		if len(st.LastError) > console.MaxDeliveryExcerpt || !strings.HasPrefix(st.LastError, "stack trace line") && i == 0 {
			t.Errorf("stored error excerpt of %d bytes: %.40q", len(st.LastError), st.LastError)
		}
		e.deliverDue(d, 0) // not due yet
		e.clock.Advance(wait)
	}
	e.deliverDue(d, 1)
	st := e.onlyDelivery()
	if st.Status != console.DeliveryDelivered || st.Attempts != 3 || st.LastError != "" {
		t.Errorf("after the third attempt: %+v", st)
	}
	got := r.deliveries()
	if len(got) != 3 || got[0].id != got[2].id || got[2].attempt != "3" {
		t.Errorf("receiver saw %d attempts; ids %q, %q", len(got), got[0].id, got[len(got)-1].id)
	}
	// Delivered once: nothing more, however late it gets.
	e.clock.Advance(48 * time.Hour)
	e.deliverDue(d, 0)
	if len(r.deliveries()) != 3 {
		t.Error("delivered again after success")
	}
}

func TestGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts webhook.Options
	}{
		{"after max attempts", webhook.Options{MaxAttempts: 3, BaseDelay: time.Second}},
		{"after max age", webhook.Options{MaxAttempts: 100, BaseDelay: time.Hour, MaxAge: 5 * time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			r := newReceiver(t, e.clock, 500, 500, 500, 500, 500, 500)
			e.subscribe(r.srv.URL)
			d := e.dispatcher(tc.opts)
			e.must(d.Publish(e.ctx, webhook.Event{Type: webhook.TicketCreated, Data: 1}))
			for range 10 {
				e.deliverDue(d, 1)
				st := e.onlyDelivery()
				if st.Status == console.DeliveryFailed {
					break
				}
				e.clock.Advance(st.NextAttemptAt.Sub(e.clock.Now()))
			}
			st := e.onlyDelivery()
			if st.Status != console.DeliveryFailed || st.LastStatusCode != 500 || st.FinishedAt.IsZero() {
				t.Fatalf("delivery not given up: %+v", st)
			}
			if tc.opts.MaxAttempts == 3 && st.Attempts != 3 {
				t.Errorf("gave up after %d attempts, want 3", st.Attempts)
			}
			// 1h, then up to 3h: the next wait would pass 5h.
			if tc.opts.MaxAttempts == 100 && (st.Attempts < 2 || st.Attempts > 3) {
				t.Errorf("gave up after %d attempts, want 2 or 3 within 5h", st.Attempts)
			}
			e.clock.Advance(24 * time.Hour)
			e.deliverDue(d, 0)
		})
	}
}

func TestSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	r := newReceiver(t, e.clock)
	e.subscribe(r.srv.URL)
	d := e.dispatcher(webhook.Options{})
	for i := range 3 {
		e.must(d.Publish(e.ctx, webhook.Event{Type: webhook.TicketUpdated, Data: ticketData{int64(i), "x"}}))
	}
	// A dispatcher claims the deliveries and dies before sending them.
	claims, err := e.s.ClaimWebhookDeliveries(e.ctx, e.clock.Now(), 10*time.Second+time.Minute, 2)
	e.must(err)
	if len(claims) != 2 {
		t.Fatalf("claimed %d", len(claims))
	}
	e.must(e.s.Close())

	// Restart: a new store on the same file and a new dispatcher. The one
	// never claimed goes out at once, the two claimed ones when their lease
	// ends.
	e.open()
	d = e.dispatcher(webhook.Options{PollInterval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	waitFor(t, func() bool { return len(r.deliveries()) == 1 })
	e.clock.Advance(2 * time.Minute)
	waitFor(t, func() bool { return len(r.deliveries()) == 3 })
	time.Sleep(50 * time.Millisecond) // a few more polls: nothing more arrives
	cancel()
	e.must(<-done)
	got := r.deliveries()
	ids := map[string]bool{}
	for _, g := range got {
		ids[g.id] = true
	}
	if len(got) != 3 || len(ids) != 3 {
		t.Errorf("received %d deliveries with %d distinct ids, want 3 and 3", len(got), len(ids))
	}
	ds, err := e.s.FindWebhookDeliveries(e.ctx, console.WebhookDeliveryFilter{Status: console.DeliveryDelivered})
	e.must(err)
	if len(ds) != 3 {
		t.Errorf("%d delivered in the store, want 3", len(ds))
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	e := newEnv(t)
	target := newReceiver(t, e.clock)
	redirect := httptest.NewServer(http.RedirectHandler(target.srv.URL, http.StatusFound))
	t.Cleanup(redirect.Close)
	e.subscribe(redirect.URL)
	d := e.dispatcher(webhook.Options{})
	e.must(d.Publish(e.ctx, webhook.Event{Type: webhook.SessionEnded, Data: map[string]int{"session_id": 3}}))
	e.deliverDue(d, 1)
	if len(target.deliveries()) != 0 {
		t.Error("the redirect was followed")
	}
	st := e.onlyDelivery()
	if st.Status != console.DeliveryPending || st.LastStatusCode != 302 || !strings.HasPrefix(st.LastError, "redirect not followed") {
		t.Errorf("after a redirect: %+v", st)
	}
}

func TestTimeout(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(func() { close(release); slow.Close() })
	e.subscribe(slow.URL)
	d := e.dispatcher(webhook.Options{Timeout: 100 * time.Millisecond})
	e.must(d.Publish(e.ctx, webhook.Event{Type: webhook.SessionStarted, Data: nil}))
	start := time.Now()
	e.deliverDue(d, 1)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("attempt took %v", el)
	}
	if st := e.onlyDelivery(); st.Status != console.DeliveryPending || !strings.Contains(st.LastError, "no response within") {
		t.Errorf("after a timeout: %+v", st)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
