package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/reachdesk/reach/console"
)

// FindRelayCursor implements console.RelayEventService.
func (db *DB) FindRelayCursor(ctx context.Context, relay string) (*console.RelayCursor, error) {
	c := &console.RelayCursor{Relay: relay}
	err := db.r.QueryRowContext(ctx, `SELECT instance, seq, updated_at FROM relay_cursors WHERE relay = ?`, relay).
		Scan(&c.Instance, &c.Seq, nullTime{&c.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
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
	err := db.write(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			if err := tx.QueryRowContext(ctx, `INSERT INTO session_events (session_id, source, type, at, detail)
				VALUES (?, ?, ?, ?, ?) RETURNING id`, e.SessionID, e.Source, e.Type, tv(e.At), []byte(e.Detail)).Scan(&e.ID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO relay_cursors (relay, instance, seq, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (relay) DO UPDATE SET instance = excluded.instance, seq = excluded.seq, updated_at = excluded.updated_at`,
			c.Relay, c.Instance, c.Seq, tv(c.UpdatedAt))
		return err
	})
	return missing("append relay events", "session", err)
}
