package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/reachdesk/reach/console"
)

const webhookCols = `id, name, url, secret, event_types, enabled, created_at, updated_at`

func scanWebhook(s scanner) (*console.Webhook, error) {
	var w console.Webhook
	var types string
	if err := s.Scan(&w.ID, &w.Name, &w.URL, &w.Secret, &types, &w.Enabled, nullTime{&w.CreatedAt}, nullTime{&w.UpdatedAt}); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &w.EventTypes); err != nil {
		return nil, fmt.Errorf("decode webhook event types: %w", err)
	}
	if len(w.EventTypes) == 0 {
		w.EventTypes = nil
	}
	return &w, nil
}

func eventTypesJSON(ts []string) string {
	if len(ts) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ts) // cannot fail: strings
	return string(b)
}

// CreateWebhook implements console.WebhookService.
func (db *DB) CreateWebhook(ctx context.Context, w *console.Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO webhooks (name, url, secret, event_types, enabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, w.Name, w.URL, w.Secret, eventTypesJSON(w.EventTypes), w.Enabled,
			tv(now), tv(now)).Scan(&w.ID)
	})
	if err != nil {
		return wrap("create webhook", err)
	}
	w.CreatedAt, w.UpdatedAt = now, now
	return nil
}

// FindWebhookByID implements console.WebhookService.
func (db *DB) FindWebhookByID(ctx context.Context, id int64) (*console.Webhook, error) {
	w, err := scanWebhook(db.r.QueryRowContext(ctx, `SELECT `+webhookCols+` FROM webhooks WHERE id = ?`, id))
	return w, wrap("find webhook", err)
}

// FindWebhooks implements console.WebhookService.
func (db *DB) FindWebhooks(ctx context.Context) ([]*console.Webhook, error) {
	ws, err := queryAll(ctx, db.r, scanWebhook, `SELECT `+webhookCols+` FROM webhooks ORDER BY id`)
	return ws, wrap("find webhooks", err)
}

// UpdateWebhook implements console.WebhookService.
func (db *DB) UpdateWebhook(ctx context.Context, w *console.Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE webhooks SET name = ?, url = ?, secret = ?, event_types = ?, enabled = ?,
			updated_at = ? WHERE id = ? RETURNING created_at`, w.Name, w.URL, w.Secret, eventTypesJSON(w.EventTypes), w.Enabled,
			tv(now), w.ID).Scan(nullTime{&w.CreatedAt})
	})
	if err != nil {
		return wrap("update webhook", err)
	}
	w.UpdatedAt = now
	return nil
}

// DeleteWebhook implements console.WebhookService.
func (db *DB) DeleteWebhook(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
		return mustAffect("delete webhook", res, err)
	})
}

// EnqueueWebhookEvent implements console.WebhookService.
func (db *DB) EnqueueWebhookEvent(ctx context.Context, e *console.WebhookEvent) (int, error) {
	if err := e.Validate(); err != nil {
		return 0, err
	}
	at := norm(e.At)
	n := 0
	err := db.write(ctx, func(tx *sql.Tx) error {
		ws, err := queryAll(ctx, tx, scanWebhook, `SELECT `+webhookCols+` FROM webhooks WHERE enabled ORDER BY id`)
		if err != nil {
			return err
		}
		for _, w := range ws {
			if !w.Subscribes(e.Type) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, delivery_id, event_type, payload, status,
				next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)`,
				w.ID, console.NewDeliveryID(), e.Type, e.Payload, tv(at), tv(at)); err != nil {
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

func scanDelivery(s scanner, extra ...any) (*console.WebhookDelivery, error) {
	var d console.WebhookDelivery
	err := s.Scan(append([]any{&d.ID, &d.WebhookID, &d.DeliveryID, &d.EventType, &d.Payload, &d.Status, &d.Attempts,
		nullTime{&d.NextAttemptAt}, nullTime{&d.LastAttemptAt}, &d.LastStatusCode, &d.LastError, nullTime{&d.CreatedAt},
		nullTime{&d.FinishedAt}}, extra...)...)
	return &d, err
}

// ClaimWebhookDeliveries implements console.WebhookService. Writes are
// serialized on the single writer, so two claims never overlap.
func (db *DB) ClaimWebhookDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*console.WebhookClaim, error) {
	if lease <= 0 {
		return nil, console.Errorf(console.CodeInvalid, "a claim needs a lease")
	}
	now = norm(now)
	var claims []*console.WebhookClaim
	err := db.write(ctx, func(tx *sql.Tx) error {
		ids, err := queryAll(ctx, tx, scanInt64, `SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND w.enabled ORDER BY d.next_attempt_at, d.id LIMIT ?`,
			now.UnixMicro(), console.PageLimit(limit))
		if err != nil || len(ids) == 0 {
			return err
		}
		args := []any{now.Add(lease).UnixMicro(), now.UnixMicro()}
		for _, id := range ids {
			args = append(args, id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?,
			last_attempt_at = ? WHERE id IN (`+placeholders(len(ids))+`)`, args...); err != nil {
			return err
		}
		claims, err = queryAll(ctx, tx, func(s scanner) (*console.WebhookClaim, error) {
			var c console.WebhookClaim
			d, err := scanDelivery(s, &c.URL, &c.Secret)
			if d != nil {
				c.WebhookDelivery = *d
			}
			return &c, err
		}, `SELECT `+deliveryCols+`, w.url, w.secret FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.id IN (`+placeholders(len(ids))+`) ORDER BY d.id`, args[2:]...)
		return err
	})
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
	return db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, next_attempt_at = COALESCE(?, next_attempt_at),
			last_status_code = ?, last_error = ?, finished_at = ? WHERE id = ? AND attempts = ? AND status = 'pending'`,
			o.Status, tv(next), o.StatusCode, console.Excerpt(o.Error, console.MaxDeliveryExcerpt), tv(finished), o.ID, o.Attempt)
		return wrap("finish webhook delivery", err)
	})
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
	conds, args := []string{"1 = 1"}, []any{}
	if f.WebhookID != 0 {
		conds, args = append(conds, "d.webhook_id = ?"), append(args, f.WebhookID)
	}
	if f.Status != "" {
		conds, args = append(conds, "d.status = ?"), append(args, f.Status)
	}
	if f.BeforeID != 0 {
		conds, args = append(conds, "d.id < ?"), append(args, f.BeforeID)
	}
	ds, err := queryAll(ctx, db.r, func(s scanner) (*console.WebhookDelivery, error) { return scanDelivery(s) },
		`SELECT `+deliveryCols+` FROM webhook_deliveries d WHERE `+strings.Join(conds, " AND ")+` ORDER BY d.id DESC LIMIT ?`,
		append(args, console.PageLimit(f.Limit))...)
	return ds, wrap("find webhook deliveries", err)
}

// PurgeWebhookDeliveries implements console.WebhookService.
func (db *DB) PurgeWebhookDeliveries(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE finished_at < ? AND status <> 'pending'`, norm(before).UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), wrap("purge webhook deliveries", err)
}
