package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

// apiAdminTests cover the store methods the API's administration routes
// use: webhook test events and redelivery, diagnostics runs on tickets.
var apiAdminTests = []struct {
	name string
	fn   func(*testing.T, Harness)
}{
	{"WebhookAdmin", testWebhookAdmin},
	{"AttachDiagnosticRun", testAttachDiagnosticRun},
}

func testWebhookAdmin(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	secret := []byte("0123456789abcdef0123456789abcdef")
	w := &console.Webhook{Name: "Escalations", URL: "https://hooks.example.com/in", Secret: secret,
		EventTypes: []string{"ticket.escalated"}, Enabled: true}
	e.must(s.CreateWebhook(ctx, w))
	other := &console.Webhook{Name: "Everything", URL: "https://other.example.com/in", Secret: secret, Enabled: true}
	e.must(s.CreateWebhook(ctx, other))

	// A test event goes to the one webhook named, whatever it subscribes to.
	ping := &console.WebhookEvent{Type: "webhook.ping", At: e.clock.Now(), Payload: []byte(`{"type":"webhook.ping"}`)}
	d, err := s.EnqueueWebhookDelivery(ctx, w.ID, ping)
	e.must(err)
	equal(t, "ping delivery", []any{d.WebhookID, d.EventType, d.Status, d.Attempts, d.NextAttemptAt, len(d.DeliveryID)},
		[]any{w.ID, "webhook.ping", console.DeliveryPending, 0, epoch, 32})
	got, err := s.FindWebhookDeliveryByID(ctx, d.ID)
	e.must(err)
	equal(t, "FindWebhookDeliveryByID", *got, *d)
	ds, err := s.FindWebhookDeliveries(ctx, console.WebhookDeliveryFilter{WebhookID: other.ID})
	e.must(err)
	equal(t, "the other webhook gets nothing", len(ds), 0)
	_, err = s.EnqueueWebhookDelivery(ctx, 9999, ping)
	wantCode(t, "ping to an unknown webhook", err, console.CodeNotFound)
	_, err = s.EnqueueWebhookDelivery(ctx, w.ID, &console.WebhookEvent{Type: "webhook.ping", At: e.clock.Now(), Payload: []byte("{")})
	wantCode(t, "invalid payload", err, console.CodeInvalid)
	_, err = s.FindWebhookDeliveryByID(ctx, 9999)
	wantCode(t, "unknown delivery", err, console.CodeNotFound)

	// A pending delivery cannot be sent again; a failed one can, as a new
	// delivery with the same payload and a new ID.
	_, err = s.RedeliverWebhookDelivery(ctx, d.ID, e.clock.Now())
	wantCode(t, "redeliver a pending delivery", err, console.CodeConflict)
	claims, err := s.ClaimWebhookDeliveries(ctx, e.clock.Now(), time.Minute, 10)
	e.must(err)
	equal(t, "claimed", len(claims), 1)
	e.must(s.FinishWebhookDelivery(ctx, &console.DeliveryOutcome{ID: d.ID, Attempt: 1, Status: console.DeliveryFailed,
		StatusCode: 500, Error: "boom", At: e.clock.Now()}))
	e.clock.Advance(time.Hour)
	again, err := s.RedeliverWebhookDelivery(ctx, d.ID, e.clock.Now())
	e.must(err)
	equal(t, "redelivery", []any{again.WebhookID, again.EventType, string(again.Payload), again.Status, again.Attempts,
		again.CreatedAt, again.NextAttemptAt}, []any{w.ID, "webhook.ping", `{"type":"webhook.ping"}`, console.DeliveryPending, 0,
		epoch.Add(time.Hour), epoch.Add(time.Hour)})
	if again.ID == d.ID || again.DeliveryID == d.DeliveryID {
		t.Errorf("redelivery reuses the original's IDs")
	}
	orig, err := s.FindWebhookDeliveryByID(ctx, d.ID)
	e.must(err)
	equal(t, "the original stays failed", []any{orig.Status, orig.LastStatusCode, orig.LastError}, []any{console.DeliveryFailed, 500, "boom"})
	claims, err = s.ClaimWebhookDeliveries(ctx, e.clock.Now(), time.Minute, 10)
	e.must(err)
	equal(t, "the redelivery is claimable", []int64{claims[0].ID}, []int64{again.ID})
	_, err = s.RedeliverWebhookDelivery(ctx, 9999, e.clock.Now())
	wantCode(t, "redeliver an unknown delivery", err, console.CodeNotFound)
}

func testAttachDiagnosticRun(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	d := e.device(e.group(), "ws-1")
	cmd := &console.DeviceCommand{DeviceID: d.ID, Kind: console.CommandDiagnostics}
	e.must(s.CreateDeviceCommand(ctx, cmd))
	_, err := s.RecordDiagnostics(ctx, &console.AgentReceipt{DeviceID: d.ID, Key: "diag-1", Kind: "diagnostics", Status: 200,
		Result: json.RawMessage(`{}`)}, cmd.ID, []*console.DiagnosticResult{
		{DeviceID: d.ID, Check: "disk_space", Status: console.DiagnosticOK, Output: []byte(`{"summary":"fine"}`)},
		{DeviceID: d.ID, Check: "dns", Status: console.DiagnosticFail, Output: []byte(`{"summary":"no answer"}`)},
	})
	e.must(err)
	run, err := s.FindCommandDiagnostics(ctx, cmd.ID)
	e.must(err)
	alone := &console.DiagnosticResult{DeviceID: d.ID, Check: "time_sync", Status: console.DiagnosticWarn, Output: []byte(`{}`)}
	e.must(s.CreateDiagnosticResult(ctx, alone))
	tk := e.ticket(nil)

	// Naming the second result of the run attaches the whole run.
	got, err := s.AttachDiagnosticRun(ctx, run[1].ID, tk.ID)
	e.must(err)
	equal(t, "run attached", []any{len(got), got[0].Check, got[1].Check, got[0].TicketID, got[1].TicketID},
		[]any{2, "disk_space", "dns", tk.ID, tk.ID})
	onTicket, err := s.FindDiagnosticResults(ctx, console.DiagnosticFilter{TicketID: tk.ID})
	e.must(err)
	equal(t, "ticket's results", len(onTicket), 2)

	// A result without a command is a run of its own.
	got, err = s.AttachDiagnosticRun(ctx, alone.ID, tk.ID)
	e.must(err)
	equal(t, "lone result attached", []any{len(got), got[0].ID, got[0].TicketID}, []any{1, alone.ID, tk.ID})

	_, err = s.AttachDiagnosticRun(ctx, 9999, tk.ID)
	wantCode(t, "unknown result", err, console.CodeNotFound)
	_, err = s.AttachDiagnosticRun(ctx, alone.ID, 9999)
	wantCode(t, "unknown ticket", err, console.CodeNotFound)
}
