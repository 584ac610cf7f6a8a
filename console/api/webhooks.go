package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/webhook"
)

// EventWebhookPing is the type of the test event an admin sends to one
// webhook; it is never published to subscribers.
const EventWebhookPing = "webhook.ping"

// webhookSecretPrefix marks secrets the console generates.
const webhookSecretPrefix = "whsec_"

type webhookJSON struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	URL        string    `json:"url"`
	EventTypes []string  `json:"event_types"`
	Enabled    bool      `json:"enabled"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Secret is set only in the answer that creates or rotates it.
	Secret string `json:"secret,omitempty"`
}

func toWebhook(w *console.Webhook) webhookJSON {
	types := w.EventTypes
	if types == nil {
		types = []string{}
	}
	return webhookJSON{ID: w.ID, Name: w.Name, URL: w.URL, EventTypes: types, Enabled: w.Enabled,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

type deliveryJSON struct {
	ID             int64           `json:"id"`
	WebhookID      int64           `json:"webhook_id"`
	DeliveryID     string          `json:"delivery_id"`
	EventType      string          `json:"event_type"`
	Status         string          `json:"status"`
	Attempts       int             `json:"attempts"`
	NextAttemptAt  time.Time       `json:"next_attempt_at,omitzero"`
	LastAttemptAt  time.Time       `json:"last_attempt_at,omitzero"`
	LastStatusCode int             `json:"last_status_code,omitempty"`
	LastResponse   string          `json:"last_response,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	FinishedAt     time.Time       `json:"finished_at,omitzero"`
	Payload        json.RawMessage `json:"payload,omitempty"`
}

func toDelivery(d *console.WebhookDelivery) deliveryJSON {
	j := deliveryJSON{ID: d.ID, WebhookID: d.WebhookID, DeliveryID: d.DeliveryID, EventType: d.EventType,
		Status: string(d.Status), Attempts: d.Attempts, LastAttemptAt: d.LastAttemptAt, LastStatusCode: d.LastStatusCode,
		LastResponse: d.LastError, CreatedAt: d.CreatedAt, FinishedAt: d.FinishedAt}
	if d.Status == console.DeliveryPending {
		j.NextAttemptAt = d.NextAttemptAt
	}
	if json.Valid(d.Payload) {
		j.Payload = d.Payload
	}
	return j
}

// webhookRequest is the body of create and update; nil fields are left
// as they are on update.
type webhookRequest struct {
	Name         *string   `json:"name"`
	URL          *string   `json:"url"`
	EventTypes   *[]string `json:"event_types"`
	Enabled      *bool     `json:"enabled"`
	Secret       *string   `json:"secret"`
	RotateSecret bool      `json:"rotate_secret"`
}

// apply copies the request into w and returns the new secret to show, if
// the console generated one.
func (req *webhookRequest) apply(w *console.Webhook) (string, error) {
	set(&w.Name, req.Name)
	set(&w.URL, req.URL)
	set(&w.Enabled, req.Enabled)
	if req.EventTypes != nil {
		for _, t := range *req.EventTypes {
			if !slices.Contains(webhook.EventTypes, t) {
				return "", errBadRequest("unknown event type %q; see GET /api/v1/webhook-event-types", t)
			}
		}
		w.EventTypes = slices.Compact(slices.Sorted(slices.Values(*req.EventTypes)))
	}
	switch {
	case req.Secret != nil && req.RotateSecret:
		return "", errBadRequest("give a secret or ask to rotate it, not both")
	case req.Secret != nil:
		w.Secret = []byte(*req.Secret)
	case req.RotateSecret || w.Secret == nil:
		secret, err := auth.NewSecret()
		if err != nil {
			return "", err
		}
		secret = webhookSecretPrefix + secret
		w.Secret = []byte(secret)
		return secret, nil
	}
	return "", nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, _ *principal) error {
	ws, err := s.store.FindWebhooks(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(ws, toWebhook), ""))
	return nil
}

func (s *Server) webhookEventTypes(w http.ResponseWriter, _ *http.Request, _ *principal) error {
	writeJSON(w, http.StatusOK, newList(webhook.EventTypes, ""))
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var req webhookRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.RotateSecret {
		return errBadRequest("rotate_secret applies to an existing webhook")
	}
	wh := &console.Webhook{Enabled: true}
	secret, err := req.apply(wh)
	if err != nil {
		return err
	}
	if err := s.store.CreateWebhook(r.Context(), wh); err != nil {
		return err
	}
	j := toWebhook(wh)
	j.Secret = secret
	writeJSON(w, http.StatusCreated, j)
	return nil
}

// webhook loads the webhook of the path's {id}.
func (s *Server) webhook(r *http.Request) (*console.Webhook, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	wh, err := s.store.FindWebhookByID(r.Context(), id)
	if console.ErrorCode(err) == console.CodeNotFound {
		return nil, errNotFound("webhook")
	}
	return wh, err
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, _ *principal) error {
	wh, err := s.webhook(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWebhook(wh))
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var req webhookRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	wh, err := s.webhook(r)
	if err != nil {
		return err
	}
	secret, err := req.apply(wh)
	if err != nil {
		return err
	}
	if err := s.store.UpdateWebhook(r.Context(), wh); err != nil {
		return err
	}
	j := toWebhook(wh)
	j.Secret = secret
	writeJSON(w, http.StatusOK, j)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, _ *principal) error {
	wh, err := s.webhook(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhook(r.Context(), wh.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, _ *principal) error {
	wh, err := s.webhook(r)
	if err != nil {
		return err
	}
	q := query{r: r}
	f := console.WebhookDeliveryFilter{WebhookID: wh.ID, Status: console.DeliveryStatus(q.str("status", 20)),
		BeforeID: q.int("before"), Limit: int(q.int("limit"))}
	if q.err != nil {
		return q.err
	}
	switch f.Status {
	case "", console.DeliveryPending, console.DeliveryDelivered, console.DeliveryFailed:
	default:
		return errBadRequest("status must be pending, delivered or failed")
	}
	ds, err := s.store.FindWebhookDeliveries(r.Context(), f)
	if err != nil {
		return err
	}
	next := ""
	if len(ds) == console.PageLimit(f.Limit) {
		next = itoa(ds[len(ds)-1].ID)
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(ds, toDelivery), next))
	return nil
}

// pingWebhook queues a webhook.ping delivery for this webhook alone; the
// dispatcher sends it like any other and its outcome shows in the
// webhook's deliveries.
func (s *Server) pingWebhook(w http.ResponseWriter, r *http.Request, p *principal) error {
	wh, err := s.webhook(r)
	if err != nil {
		return err
	}
	if !wh.Enabled {
		return errConflict("the webhook is disabled; enable it to send a test event")
	}
	now := s.now()
	payload, err := json.Marshal(map[string]any{"id": console.NewDeliveryID(), "type": EventWebhookPing, "created_at": now.UTC(),
		"data": map[string]any{"webhook_id": wh.ID, "message": "Test event from the Reach console", "requested_by": p.user.ID}})
	if err != nil {
		return err
	}
	d, err := s.store.EnqueueWebhookDelivery(r.Context(), wh.ID, &console.WebhookEvent{Type: EventWebhookPing, At: now, Payload: payload})
	if console.ErrorCode(err) == console.CodeNotFound {
		return errNotFound("webhook")
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toDelivery(d))
	return nil
}

// redeliver queues a finished delivery again, as a new delivery.
func (s *Server) redeliver(w http.ResponseWriter, r *http.Request, _ *principal) error {
	wh, err := s.webhook(r)
	if err != nil {
		return err
	}
	did, err := pathID(r, "did")
	if err != nil {
		return err
	}
	ctx := r.Context()
	old, err := s.store.FindWebhookDeliveryByID(ctx, did)
	if console.ErrorCode(err) == console.CodeNotFound || err == nil && old.WebhookID != wh.ID {
		return errNotFound("delivery")
	} else if err != nil {
		return err
	}
	if !wh.Enabled {
		return errConflict("the webhook is disabled; enable it to redeliver")
	}
	d, err := s.store.RedeliverWebhookDelivery(ctx, old.ID, s.now())
	if console.ErrorCode(err) == console.CodeConflict {
		return errConflict("the delivery is still pending; the dispatcher will attempt it")
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, toDelivery(d))
	return nil
}
