package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/reachdesk/reach/console"
)

const webhookCols = `id, name, url, secret, event_types, enabled, created_at, updated_at`

func scanWebhook(s pgx.Row) (*console.Webhook, error) {
	var w console.Webhook
	if err := s.Scan(&w.ID, &w.Name, &w.URL, &w.Secret, &w.EventTypes, &w.Enabled, nullTime{&w.CreatedAt}, nullTime{&w.UpdatedAt}); err != nil {
		return nil, err
	}
	if len(w.EventTypes) == 0 {
		w.EventTypes = nil
	}
	return &w, nil
}

func eventTypes(ts []string) []string {
	if ts == nil {
		return []string{}
	}
	return ts
}

// CreateWebhook implements console.WebhookService.
func (db *DB) CreateWebhook(ctx context.Context, w *console.Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.pool.QueryRow(ctx, `INSERT INTO webhooks (name, url, secret, event_types, enabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, w.Name, w.URL, w.Secret, eventTypes(w.EventTypes), w.Enabled, now).Scan(&w.ID)
	if err != nil {
		return wrap("create webhook", err)
	}
	w.CreatedAt, w.UpdatedAt = now, now
	return nil
}

// FindWebhookByID implements console.WebhookService.
func (db *DB) FindWebhookByID(ctx context.Context, id int64) (*console.Webhook, error) {
	w, err := scanWebhook(db.pool.QueryRow(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = $1`, id))
	return w, wrap("find webhook", err)
}

// FindWebhooks implements console.WebhookService.
func (db *DB) FindWebhooks(ctx context.Context) ([]*console.Webhook, error) {
	ws, err := queryAll(ctx, db.pool, scanWebhook, `SELECT `+webhookCols+` FROM webhooks ORDER BY id`)
	return ws, wrap("find webhooks", err)
}

// UpdateWebhook implements console.WebhookService.
func (db *DB) UpdateWebhook(ctx context.Context, w *console.Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.pool.QueryRow(ctx, `UPDATE webhooks SET name = $1, url = $2, secret = $3, event_types = $4, enabled = $5,
		updated_at = $6 WHERE id = $7 RETURNING created_at`, w.Name, w.URL, w.Secret, eventTypes(w.EventTypes), w.Enabled,
		now, w.ID).Scan(nullTime{&w.CreatedAt})
	if err != nil {
		return wrap("update webhook", err)
	}
	w.UpdatedAt = now
	return nil
}

// DeleteWebhook implements console.WebhookService.
func (db *DB) DeleteWebhook(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
	return mustAffect("delete webhook", tag, err)
}

// EnqueueWebhookEvent implements console.WebhookService.
func (db *DB) EnqueueWebhookEvent(ctx context.Context, e *console.WebhookEvent) (int, error) {
	if err := e.Validate(); err != nil {
		return 0, err
	}
	at := norm(e.At)
	n := 0
	err := db.tx(ctx, func(tx pgx.Tx) error {
		ws, err := queryAll(ctx, tx, scanWebhook, `SELECT `+webhookCols+` FROM webhooks WHERE enabled ORDER BY id`)
		if err != nil {
			return err
		}
		for _, w := range ws {
			if !w.Subscribes(e.Type) {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, delivery_id, event_type, payload, status,
				next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'pending', $5, $5)`,
				w.ID, console.NewDeliveryID(), e.Type, e.Payload, at); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, wrap("enqueue webhook event", err)
	}
	return n, nil
}

const deliveryCols = `d.id, d.webhook_id, d.delivery_id, d.event_type, d.payload, d.status, d.attempts, d.next_attempt_at,
	d.last_attempt_at, d.last_status_code, d.last_error, d.created_at, d.finished_at`

func scanDelivery(s pgx.Row, extra ...any) (*console.WebhookDelivery, error) {
	var d console.WebhookDelivery
	err := s.Scan(append([]any{&d.ID, &d.WebhookID, &d.DeliveryID, &d.EventType, &d.Payload, &d.Status, &d.Attempts,
		nullTime{&d.NextAttemptAt}, nullTime{&d.LastAttemptAt}, &d.LastStatusCode, &d.LastError, nullTime{&d.CreatedAt},
		nullTime{&d.FinishedAt}}, extra...)...)
	return &d, err
}

// ClaimWebhookDeliveries implements console.WebhookService. FOR UPDATE
// SKIP LOCKED lets dispatchers on several nodes claim side by side without
// waiting for, or taking, each other's rows.
func (db *DB) ClaimWebhookDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*console.WebhookClaim, error) {
	if lease <= 0 {
		return nil, console.Errorf(console.CodeInvalid, "a claim needs a lease")
	}
	now = norm(now)
	claims, err := queryAll(ctx, db.pool, func(s pgx.Row) (*console.WebhookClaim, error) {
		var c console.WebhookClaim
		d, err := scanDelivery(s, &c.URL, &c.Secret)
		if d != nil {
			c.WebhookDelivery = *d
		}
		return &c, err
	}, `WITH c AS (
			SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.enabled
			ORDER BY d.next_attempt_at, d.id LIMIT $3 FOR UPDATE OF d SKIP LOCKED
		), u AS (
			UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = $2, last_attempt_at = $1
			FROM c WHERE d.id = c.id RETURNING d.*
		)
		SELECT `+deliveryCols+`, w.url, w.secret FROM u d JOIN webhooks w ON w.id = d.webhook_id ORDER BY d.id`,
		now, now.Add(lease), console.PageLimit(limit))
	if err != nil {
		return nil, wrap("claim webhook deliveries", err)
	}
	return claims, nil
}

// FinishWebhookDelivery implements console.WebhookService.
func (db *DB) FinishWebhookDelivery(ctx context.Context, o *console.DeliveryOutcome) error {
	next, finished, err := outcomeTimes(o)
	if err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, `UPDATE webhook_deliveries SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at),
		last_status_code = $3, last_error = $4, finished_at = $5 WHERE id = $6 AND attempts = $7 AND status = 'pending'`,
		o.Status, tv(next), o.StatusCode, console.Excerpt(o.Error, console.MaxDeliveryExcerpt), tv(finished), o.ID, o.Attempt)
	return wrap("finish webhook delivery", err)
}

// outcomeTimes validates o and returns its next attempt (pending) or its
// finish time (delivered, failed).
func outcomeTimes(o *console.DeliveryOutcome) (next, finished time.Time, err error) {
	switch o.Status {
	case console.DeliveryPending:
		if o.RetryAt.IsZero() {
			return next, finished, console.Errorf(console.CodeInvalid, "a retried delivery needs a retry time")
		}
		return norm(o.RetryAt), finished, nil
	case console.DeliveryDelivered, console.DeliveryFailed:
		if o.At.IsZero() {
			return next, finished, console.Errorf(console.CodeInvalid, "a finished delivery needs a time")
		}
		return next, norm(o.At), nil
	}
	return next, finished, console.Errorf(console.CodeInvalid, "unknown delivery status %q", o.Status)
}

// FindWebhookDeliveries implements console.WebhookService.
func (db *DB) FindWebhookDeliveries(ctx context.Context, f console.WebhookDeliveryFilter) ([]*console.WebhookDelivery, error) {
	var a args
	conds := []string{"true"}
	if f.WebhookID != 0 {
		conds = append(conds, "d.webhook_id = "+a.add(f.WebhookID))
	}
	if f.Status != "" {
		conds = append(conds, "d.status = "+a.add(f.Status))
	}
	if f.BeforeID != 0 {
		conds = append(conds, "d.id < "+a.add(f.BeforeID))
	}
	ds, err := queryAll(ctx, db.pool, func(s pgx.Row) (*console.WebhookDelivery, error) { return scanDelivery(s) },
		`SELECT `+deliveryCols+` FROM webhook_deliveries d WHERE `+strings.Join(conds, " AND ")+` ORDER BY d.id DESC LIMIT `+
			a.add(console.PageLimit(f.Limit)), a...)
	return ds, wrap("find webhook deliveries", err)
}

// PurgeWebhookDeliveries implements console.WebhookService.
func (db *DB) PurgeWebhookDeliveries(ctx context.Context, before time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM webhook_deliveries WHERE finished_at < $1 AND status <> 'pending'`, norm(before))
	if err != nil {
		return 0, wrap("purge webhook deliveries", err)
	}
	return int(tag.RowsAffected()), nil
}
