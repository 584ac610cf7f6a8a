package console

import (
	"context"
	"time"
)

// WebhookAdminService supports webhook administration beyond the
// dispatcher's needs: inspecting one delivery, test events sent to one
// subscription, and sending a finished delivery again.
type WebhookAdminService interface {
	FindWebhookDeliveryByID(ctx context.Context, id int64) (*WebhookDelivery, error)
	// EnqueueWebhookDelivery stores one pending delivery of e for webhook
	// webhookID alone, whatever event types it subscribes to, due at e.At;
	// ErrNotFound if the webhook does not exist.
	EnqueueWebhookDelivery(ctx context.Context, webhookID int64, e *WebhookEvent) (*WebhookDelivery, error)
	// RedeliverWebhookDelivery stores a new pending delivery due at at,
	// with the webhook, event type and payload of delivery id and a new
	// delivery ID, and returns it. The original stays as it was. It fails
	// with ErrConflict while id is still pending, ErrNotFound if it does
	// not exist.
	RedeliverWebhookDelivery(ctx context.Context, id int64, at time.Time) (*WebhookDelivery, error)
}
