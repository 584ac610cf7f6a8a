package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

func testWebhooks(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	secret := []byte("0123456789abcdef0123456789abcdef")
	w := &console.Webhook{Name: "Chat ops", URL: "https://hooks.example.com/reach?team=ops", Secret: secret,
		EventTypes: []string{"ticket.escalated", "ticket.sla_breached"}, Enabled: true}
	e.must(s.CreateWebhook(ctx, w))
	got, err := s.FindWebhookByID(ctx, w.ID)
	e.must(err)
	equal(t, "FindWebhookByID", *got, *w)
	all := &console.Webhook{Name: "Everything", URL: "http://10.0.0.5:8080/in", Secret: secret, Enabled: true}
	e.must(s.CreateWebhook(ctx, all))
	ws, err := s.FindWebhooks(ctx)
	e.must(err)
	equal(t, "FindWebhooks", deref(ws), []console.Webhook{*w, *all})

	for _, tc := range []struct {
		name string
		mod  func(*console.Webhook)
	}{
		{"file URL", func(w *console.Webhook) { w.URL = "file:///etc/passwd" }},
		{"ftp URL", func(w *console.Webhook) { w.URL = "ftp://example.com/x" }},
		{"relative URL", func(w *console.Webhook) { w.URL = "/hooks" }},
		{"credentials in URL", func(w *console.Webhook) { w.URL = "https://user:pw@example.com/" }},
		{"short secret", func(w *console.Webhook) { w.Secret = []byte("short") }},
		{"bad event type", func(w *console.Webhook) { w.EventTypes = []string{"Ticket Created"} }},
		{"no name", func(w *console.Webhook) { w.Name = "" }},
		{"long URL", func(w *console.Webhook) {
			w.URL = "https://example.com/" + strings.Repeat("a", console.MaxWebhookURLLen)
		}},
	} {
		bad := console.Webhook{Name: "x", URL: "https://example.com/", Secret: secret}
		tc.mod(&bad)
		wantCode(t, "CreateWebhook "+tc.name, s.CreateWebhook(ctx, &bad), console.CodeInvalid)
	}

	// Enqueue: one delivery per enabled, subscribed webhook.
	ev := func(typ string) *console.WebhookEvent {
		return &console.WebhookEvent{Type: typ, At: e.clock.Now(), Payload: []byte(`{"type":"` + typ + `"}`)}
	}
	n, err := s.EnqueueWebhookEvent(ctx, ev("ticket.escalated"))
	e.must(err)
	equal(t, "escalation goes to both", n, 2)
	n, err = s.EnqueueWebhookEvent(ctx, ev("ticket.created"))
	e.must(err)
	equal(t, "creation goes to the catch-all", n, 1)
	_, err = s.EnqueueWebhookEvent(ctx, &console.WebhookEvent{Type: "ticket.created", At: e.clock.Now(), Payload: []byte("{")})
	wantCode(t, "invalid payload", err, console.CodeInvalid)

	// Claim leases; a second claim gets nothing until the lease ends.
	now := e.clock.Now()
	claims, err := s.ClaimWebhookDeliveries(ctx, now, time.Minute, 10)
	e.must(err)
	equal(t, "claimed", len(claims), 3)
	c := claims[0]
	equal(t, "claim", []any{c.WebhookID, c.URL, string(c.Secret), c.EventType, string(c.Payload), c.Attempts, c.NextAttemptAt, c.LastAttemptAt},
		[]any{w.ID, w.URL, string(secret), "ticket.escalated", `{"type":"ticket.escalated"}`, 1, now.Add(time.Minute), now})
	if len(c.DeliveryID) != 32 || c.DeliveryID == claims[1].DeliveryID {
		t.Errorf("delivery IDs %q, %q", c.DeliveryID, claims[1].DeliveryID)
	}
	again, err := s.ClaimWebhookDeliveries(ctx, now.Add(30*time.Second), time.Minute, 10)
	e.must(err)
	equal(t, "leased deliveries are not claimed again", len(again), 0)

	// Outcomes: delivered, retry, failed; a stale outcome is ignored.
	e.must(s.FinishWebhookDelivery(ctx, &console.DeliveryOutcome{ID: claims[0].ID, Attempt: 1, Status: console.DeliveryDelivered,
		StatusCode: 204, At: now.Add(time.Second)}))
	e.must(s.FinishWebhookDelivery(ctx, &console.DeliveryOutcome{ID: claims[1].ID, Attempt: 1, Status: console.DeliveryPending,
		StatusCode: 500, Error: strings.Repeat("é", 1000), RetryAt: now.Add(5 * time.Minute)}))
	e.must(s.FinishWebhookDelivery(ctx, &console.DeliveryOutcome{ID: claims[2].ID, Attempt: 1, Status: console.DeliveryFailed,
		Error: "connection refused", At: now.Add(time.Second)}))
	e.must(s.FinishWebhookDelivery(ctx, &console.DeliveryOutcome{ID: claims[0].ID, Attempt: 1, Status: console.DeliveryFailed,
		At: now.Add(2 * time.Second)}))
	wantCode(t, "unknown status", s.FinishWebhookDelivery(ctx, &console.DeliveryOutcome{ID: claims[0].ID, Status: "lost"}), console.CodeInvalid)

	ds, err := s.FindWebhookDeliveries(ctx, console.WebhookDeliveryFilter{})
	e.must(err)
	equal(t, "deliveries, newest first", len(ds), 3)
	byID := map[int64]*console.WebhookDelivery{}
	for _, d := range ds {
		byID[d.ID] = d
	}
	d0, d1, d2 := byID[claims[0].ID], byID[claims[1].ID], byID[claims[2].ID]
	equal(t, "delivered", []any{d0.Status, d0.LastStatusCode, d0.FinishedAt}, []any{console.DeliveryDelivered, 204, now.Add(time.Second)})
	equal(t, "retry", []any{d1.Status, d1.NextAttemptAt, d1.LastStatusCode}, []any{console.DeliveryPending, now.Add(5 * time.Minute), 500})
	if len(d1.LastError) > console.MaxDeliveryExcerpt || !strings.HasPrefix(d1.LastError, "éé") || !utf8Valid(d1.LastError) {
		t.Errorf("error excerpt of %d bytes: %q", len(d1.LastError), d1.LastError)
	}
	equal(t, "failed", []any{d2.Status, d2.LastError}, []any{console.DeliveryFailed, "connection refused"})

	claims, err = s.ClaimWebhookDeliveries(ctx, now.Add(5*time.Minute), time.Minute, 10)
	e.must(err)
	equal(t, "the retry is due again", []any{len(claims), claims[0].ID, claims[0].Attempts}, []any{1, d1.ID, 2})
	e.must(s.FinishWebhookDelivery(ctx, &console.DeliveryOutcome{ID: d1.ID, Attempt: 1, Status: console.DeliveryDelivered, At: now}))
	pending, err := s.FindWebhookDeliveries(ctx, console.WebhookDeliveryFilter{Status: console.DeliveryPending, WebhookID: all.ID})
	e.must(err)
	equal(t, "outcome of a stale attempt ignored", len(pending), 1)

	// A disabled webhook's deliveries wait.
	all.Enabled = false
	e.must(s.UpdateWebhook(ctx, all))
	claims, err = s.ClaimWebhookDeliveries(ctx, now.Add(time.Hour), time.Minute, 10)
	e.must(err)
	equal(t, "nothing claimed for a disabled webhook", len(claims), 0)
	n, err = s.EnqueueWebhookEvent(ctx, ev("ticket.created"))
	e.must(err)
	equal(t, "nothing enqueued for a disabled webhook", n, 0)

	n, err = s.PurgeWebhookDeliveries(ctx, now.Add(time.Minute))
	e.must(err)
	equal(t, "purged finished deliveries", n, 2)
	ds, err = s.FindWebhookDeliveries(ctx, console.WebhookDeliveryFilter{Limit: 1})
	e.must(err)
	equal(t, "limit", len(ds), 1)

	e.must(s.DeleteWebhook(ctx, all.ID))
	ds, err = s.FindWebhookDeliveries(ctx, console.WebhookDeliveryFilter{WebhookID: all.ID})
	e.must(err)
	equal(t, "deliveries deleted with their webhook", len(ds), 0)
	wantCode(t, "delete twice", s.DeleteWebhook(ctx, all.ID), console.CodeNotFound)
}

// testWebhookClaimRace claims from several goroutines at once: every
// delivery is claimed exactly once.
func testWebhookClaimRace(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	w := &console.Webhook{Name: "w", URL: "https://example.com/", Secret: []byte("0123456789abcdef"), Enabled: true}
	e.must(s.CreateWebhook(ctx, w))
	const events = 200
	for range events {
		_, err := s.EnqueueWebhookEvent(ctx, &console.WebhookEvent{Type: "ticket.created", At: e.clock.Now(), Payload: []byte("{}")})
		e.must(err)
	}
	seen := make(chan int64, events)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				cs, err := s.ClaimWebhookDeliveries(ctx, e.clock.Now(), time.Hour, 7)
				if err != nil || len(cs) == 0 {
					errs <- err
					return
				}
				for _, c := range cs {
					seen <- c.ID
				}
			}
		}()
	}
	for range 4 {
		e.must(<-errs)
	}
	close(seen)
	ids := map[int64]bool{}
	for id := range seen {
		if ids[id] {
			t.Errorf("delivery %d claimed twice", id)
		}
		ids[id] = true
	}
	equal(t, "claimed", len(ids), events)
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\x00") == s }
