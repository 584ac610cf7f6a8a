package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/reachdesk/reach/console"
)

// FindWebhookDeliveryByID implements console.WebhookAdminService.
func (db *DB) FindWebhookDeliveryByID(ctx context.Context, id int64) (*console.WebhookDelivery, error) {
	d, err := scanDelivery(db.r.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries d WHERE d.id = ?`, id))
	if err != nil {
		return nil, wrap("find webhook delivery", err)
	}
	return d, nil
}

// EnqueueWebhookDelivery implements console.WebhookAdminService.
func (db *DB) EnqueueWebhookDelivery(ctx context.Context, webhookID int64, e *console.WebhookEvent) (*console.WebhookDelivery, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	var d *console.WebhookDelivery
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = insertDelivery(ctx, tx, webhookID, e.Type, e.Payload, norm(e.At))
		return err
	})
	if err != nil {
		return nil, missing("enqueue webhook delivery", "webhook", err)
	}
	return d, nil
}

// RedeliverWebhookDelivery implements console.WebhookAdminService.
func (db *DB) RedeliverWebhookDelivery(ctx context.Context, id int64, at time.Time) (*console.WebhookDelivery, error) {
	if at.IsZero() {
		return nil, console.Errorf(console.CodeInvalid, "a redelivery needs a time")
	}
	var d *console.WebhookDelivery
	err := db.write(ctx, func(tx *sql.Tx) error {
		old, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries d WHERE d.id = ?`, id))
		if err != nil {
			return err
		}
		if old.Status == console.DeliveryPending {
			return console.Errorf(console.CodeConflict, "the delivery is still pending")
		}
		d, err = insertDelivery(ctx, tx, old.WebhookID, old.EventType, old.Payload, norm(at))
		return err
	})
	if err != nil {
		return nil, wrap("redeliver webhook delivery", err)
	}
	return d, nil
}

// insertDelivery stores a pending delivery due at at and returns it.
func insertDelivery(ctx context.Context, tx *sql.Tx, webhookID int64, typ string, payload []byte, at time.Time) (*console.WebhookDelivery, error) {
	d := &console.WebhookDelivery{WebhookID: webhookID, DeliveryID: console.NewDeliveryID(), EventType: typ, Payload: payload,
		Status: console.DeliveryPending, NextAttemptAt: at, CreatedAt: at}
	err := tx.QueryRowContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, delivery_id, event_type, payload, status,
		next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?) RETURNING id`,
		webhookID, d.DeliveryID, typ, payload, tv(at), tv(at)).Scan(&d.ID)
	return d, err
}
