package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/webhook"
)

// receiver is a webhook endpoint that records what it gets and answers
// with the status its test sets.
type receiver struct {
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies [][]byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got, rc.bodies = append(rc.got, r), append(rc.bodies, b)
	w.WriteHeader(rc.status)
	io.WriteString(w, "receiver says "+http.StatusText(rc.status)+strings.Repeat(".", 2000))
}

func (rc *receiver) last() (*http.Request, []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.got[len(rc.got)-1], rc.bodies[len(rc.bodies)-1]
}

// TestWebhookAdministration subscribes a real receiver through the API,
// sends it a test event through the real dispatcher, inspects the
// deliveries, and redelivers a failed one.
func TestWebhookAdministration(t *testing.T) {
	e := newEnv(t, nil)
	// The dispatcher needs the store, which exists once the env does; set
	// it before the first request.
	disp := webhook.New(e.store, webhook.Options{Now: e.clock.Now, MaxAttempts: 1})
	e.srv.opts.Events = disp
	rc := &receiver{status: 200}
	hs := httptest.NewServer(rc)
	defer hs.Close()
	admin := e.session(e.user(console.RoleAdmin, 0))

	// Creation returns a generated secret once.
	created := admin.do("POST", "/api/v1/webhooks", map[string]any{"name": "Ops", "url": hs.URL + "/in",
		"event_types": []string{"ticket.created", "session.ended"}}).want(t, "create", 201).json()
	secret, _ := created["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 30 {
		t.Fatalf("created secret %q", secret)
	}
	whID := int64(created["id"].(float64))
	path := "/api/v1/webhooks/" + itoa(whID)
	for _, p := range []string{path, "/api/v1/webhooks"} {
		if r := admin.do("GET", p, nil).want(t, "read "+p, 200); strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), `"secret"`) {
			t.Errorf("GET %s shows the secret: %s", p, r.body)
		}
	}

	// Bad input is refused and changes nothing.
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"unknown event type", map[string]any{"event_types": []string{"ticket.exploded"}}},
		{"short secret", map[string]any{"secret": "short"}},
		{"secret and rotation", map[string]any{"secret": strings.Repeat("s", 20), "rotate_secret": true}},
		{"file URL", map[string]any{"url": "file:///etc/passwd"}},
		{"credentials in URL", map[string]any{"url": "https://u:p@example.com/"}},
	} {
		admin.do("PATCH", path, tc.body).want(t, tc.name, 400)
	}
	admin.do("POST", "/api/v1/webhooks", map[string]any{"name": "x", "url": "https://example.com/", "rotate_secret": true}).
		want(t, "rotate on create", 400)

	// A test event reaches the receiver, signed with the secret.
	ping := admin.do("POST", path+"/ping", nil).want(t, "ping", 202).json()
	if ping["event_type"] != EventWebhookPing || ping["status"] != "pending" {
		t.Fatalf("ping delivery %v", ping)
	}
	if n, err := disp.DeliverDue(e.ctx); err != nil || n != 1 {
		t.Fatalf("DeliverDue: %d, %v", n, err)
	}
	req, body := rc.last()
	if err := webhook.Verify([]byte(secret), body, req.Header.Get(webhook.SignatureHeader), e.clock.Now(), 5*time.Minute); err != nil {
		t.Errorf("ping signature: %v", err)
	}
	if req.Header.Get(webhook.EventHeader) != EventWebhookPing || !strings.Contains(string(body), `"webhook_id":`+itoa(whID)) {
		t.Errorf("ping: event %q, body %s", req.Header.Get(webhook.EventHeader), body)
	}

	// Rotation shows the new secret once; the next delivery is signed with it.
	rot := admin.do("PATCH", path, map[string]any{"rotate_secret": true}).want(t, "rotate", 200).json()
	secret2, _ := rot["secret"].(string)
	if secret2 == "" || secret2 == secret {
		t.Fatalf("rotated secret %q", secret2)
	}
	// A failed delivery: the receiver answers 500; with one attempt allowed it fails at once.
	rc.mu.Lock()
	rc.status = 500
	rc.mu.Unlock()
	e.must(disp.Publish(e.ctx, webhook.Event{Type: webhook.TicketCreated, Data: map[string]int{"id": 7}}))
	e.must(disp.Publish(e.ctx, webhook.Event{Type: webhook.TicketUpdated, Data: map[string]int{"id": 7}})) // not subscribed
	if n, err := disp.DeliverDue(e.ctx); err != nil || n != 1 {
		t.Fatalf("DeliverDue: %d, %v", n, err)
	}
	req, body = rc.last()
	if err := webhook.Verify([]byte(secret2), body, req.Header.Get(webhook.SignatureHeader), e.clock.Now(), 5*time.Minute); err != nil {
		t.Errorf("signature after rotation: %v", err)
	}

	var page struct {
		Items []deliveryJSON `json:"items"`
	}
	json.Unmarshal(admin.do("GET", path+"/deliveries", nil).want(t, "deliveries", 200).body, &page)
	if len(page.Items) != 2 {
		t.Fatalf("deliveries: %+v", page.Items)
	}
	failed, delivered := page.Items[0], page.Items[1]
	if failed.EventType != webhook.TicketCreated || failed.Status != "failed" || failed.Attempts != 1 || failed.LastStatusCode != 500 ||
		!strings.HasPrefix(failed.LastResponse, "receiver says Internal Server Error") || len(failed.LastResponse) > console.MaxDeliveryExcerpt {
		t.Errorf("failed delivery %+v", failed)
	}
	if delivered.EventType != EventWebhookPing || delivered.Status != "delivered" || delivered.LastStatusCode != 200 {
		t.Errorf("delivered ping %+v", delivered)
	}
	json.Unmarshal(admin.do("GET", path+"/deliveries?status=failed", nil).want(t, "failed deliveries", 200).body, &page)
	if len(page.Items) != 1 || page.Items[0].ID != failed.ID {
		t.Errorf("status filter: %+v", page.Items)
	}
	admin.do("GET", path+"/deliveries?status=lost", nil).want(t, "bad status", 400)

	// Redelivery sends the same payload again as a new delivery.
	rc.mu.Lock()
	rc.status = 204
	rc.mu.Unlock()
	again := admin.do("POST", path+"/deliveries/"+itoa(failed.ID)+"/redeliver", nil).want(t, "redeliver", 202).json()
	if again["delivery_id"] == failed.DeliveryID || again["status"] != "pending" {
		t.Errorf("redelivery %v", again)
	}
	if n, err := disp.DeliverDue(e.ctx); err != nil || n != 1 {
		t.Fatalf("DeliverDue: %d, %v", n, err)
	}
	_, body2 := rc.last()
	if string(body2) != string(body) {
		t.Errorf("redelivered body differs:\n%s\n%s", body2, body)
	}
	admin.do("POST", path+"/deliveries/"+itoa(int64(again["id"].(float64)))+"/redeliver", nil).want(t, "redeliver delivered", 202)
	disp.DeliverDue(e.ctx)

	// A pending delivery, another webhook's delivery, an unknown one.
	admin.do("POST", path+"/ping", nil).want(t, "ping", 202)
	json.Unmarshal(admin.do("GET", path+"/deliveries?status=pending", nil).body, &page)
	admin.do("POST", path+"/deliveries/"+itoa(page.Items[0].ID)+"/redeliver", nil).want(t, "redeliver pending", 409)
	other := admin.do("POST", "/api/v1/webhooks", map[string]any{"name": "Other", "url": hs.URL, "secret": strings.Repeat("k", 16)}).
		want(t, "create other", 201).json()
	if other["secret"] != nil {
		t.Errorf("an admin-set secret is echoed: %v", other["secret"])
	}
	otherPath := "/api/v1/webhooks/" + itoa(int64(other["id"].(float64)))
	admin.do("POST", otherPath+"/deliveries/"+itoa(failed.ID)+"/redeliver", nil).want(t, "another webhook's delivery", 404)
	admin.do("POST", path+"/deliveries/99999/redeliver", nil).want(t, "unknown delivery", 404)

	// A disabled webhook gets no test event; deleting removes it.
	admin.do("PATCH", otherPath, map[string]any{"enabled": false}).want(t, "disable", 200)
	admin.do("POST", otherPath+"/ping", nil).want(t, "ping disabled", 409)
	admin.do("DELETE", otherPath, nil).want(t, "delete", 204)
	admin.do("GET", otherPath, nil).want(t, "deleted", 404)
	types := admin.do("GET", "/api/v1/webhook-event-types", nil).want(t, "event types", 200)
	if !strings.Contains(string(types.body), `"session.csat"`) {
		t.Errorf("event types: %s", types.body)
	}
}
