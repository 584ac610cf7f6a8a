package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/reachdesk/reach/console"
)

// FindRelayCursor implements console.RelayEventService.
func (db *DB) FindRelayCursor(ctx context.Context, relay string) (*console.RelayCursor, error) {
	c := &console.RelayCursor{Relay: relay}
	err := db.pool.QueryRow(ctx, `SELECT instance, seq, updated_at FROM relay_cursors WHERE relay = $1`, relay).
		Scan(&c.Instance, &c.Seq, nullTime{&c.UpdatedAt})
	if errors.Is(err, pgx.ErrNoRows) {
		return c, nil
	}
	return c, wrap("find relay cursor", err)
}

// AppendRelayEvents implements console.RelayEventService.
func (db *DB) AppendRelayEvents(ctx context.Context, c *console.RelayCursor, events []*console.SessionEvent) error {
	if err := c.Validate(); err != nil {
		return err
	}
	for _, e := range events {
		e.Source = console.SourceRelay
	}
	if err := console.PrepareEvents(events, db.nowUTC(), norm); err != nil {
		return err
	}
	c.UpdatedAt = db.nowUTC()
	err := db.tx(ctx, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		for _, e := range events {
			batch.Queue(`INSERT INTO session_events (session_id, source, type, at, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
				e.SessionID, e.Source, e.Type, e.At, []byte(e.Detail)).QueryRow(func(row pgx.Row) error { return row.Scan(&e.ID) })
		}
		batch.Queue(`INSERT INTO relay_cursors (relay, instance, seq, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (relay) DO UPDATE SET instance = excluded.instance, seq = excluded.seq, updated_at = excluded.updated_at`,
			c.Relay, c.Instance, c.Seq, c.UpdatedAt)
		return tx.SendBatch(ctx, batch).Close()
	})
	return missing("append relay events", "session", err)
}
