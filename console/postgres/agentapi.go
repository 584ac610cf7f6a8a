package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/reachdesk/reach/console"
)

// This file implements console.AgentService: receipts, device commands,
// agent events and quick-support keys (migration 0005). Inserts that may
// race between console nodes use ON CONFLICT, so two nodes handling the
// same retry store it once.

// FindAgentReceipt implements console.AgentService.
func (db *DB) FindAgentReceipt(ctx context.Context, deviceID int64, key string) (*console.AgentReceipt, error) {
	r, err := findReceipt(ctx, db.pool, deviceID, key)
	if err != nil {
		return nil, wrap("find agent receipt", err)
	}
	return r, nil
}

func findReceipt(ctx context.Context, q querier, deviceID int64, key string) (*console.AgentReceipt, error) {
	r := &console.AgentReceipt{DeviceID: deviceID, Key: key}
	var result []byte
	err := q.QueryRow(ctx, `SELECT kind, status, result, created_at FROM agent_receipts WHERE device_id = $1 AND key = $2`,
		deviceID, key).Scan(&r.Kind, &r.Status, &result, nullTime{&r.CreatedAt})
	r.Result = result
	return r, err
}

// CreateAgentReceipt implements console.AgentService.
func (db *DB) CreateAgentReceipt(ctx context.Context, r *console.AgentReceipt) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.CreatedAt = db.nowUTC()
	_, err := db.pool.Exec(ctx, `INSERT INTO agent_receipts (device_id, key, kind, status, result, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.DeviceID, r.Key, r.Kind, r.Status, []byte(r.Result), r.CreatedAt)
	return missing("create agent receipt", "device", err)
}

// DeleteAgentReceipts implements console.AgentService.
func (db *DB) DeleteAgentReceipts(ctx context.Context, t time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM agent_receipts WHERE created_at < $1`, norm(t))
	if err != nil {
		return 0, wrap("delete agent receipts", err)
	}
	return tag.RowsAffected(), nil
}

const commandCols = `id, device_id, kind, checks, requested_by, created_at, delivered_at, completed_at`

func scanCommand(s pgx.Row) (*console.DeviceCommand, error) {
	var c console.DeviceCommand
	var checks []byte
	err := s.Scan(&c.ID, &c.DeviceID, &c.Kind, &checks, nullID{&c.RequestedBy}, nullTime{&c.CreatedAt},
		nullTime{&c.DeliveredAt}, nullTime{&c.CompletedAt})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(checks, &c.Checks); err != nil {
		return nil, fmt.Errorf("decode command checks: %w", err)
	}
	if len(c.Checks) == 0 {
		c.Checks = nil
	}
	return &c, nil
}

// CreateDeviceCommand implements console.AgentService.
func (db *DB) CreateDeviceCommand(ctx context.Context, c *console.DeviceCommand) error {
	if err := c.Validate(); err != nil {
		return err
	}
	checks := []byte("[]")
	if len(c.Checks) > 0 {
		var err error
		if checks, err = json.Marshal(c.Checks); err != nil {
			return fmt.Errorf("postgres: encode command checks: %w", err)
		}
	}
	now := db.nowUTC()
	err := db.tx(ctx, func(tx pgx.Tx) error {
		// One writer per device at a time, so that the checks below hold.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM devices WHERE id = $1 FOR UPDATE`, c.DeviceID); err != nil {
			return err
		}
		if c.Kind == console.CommandInventory {
			prev, err := scanCommand(tx.QueryRow(ctx, `SELECT `+commandCols+` FROM device_commands
				WHERE device_id = $1 AND kind = 'inventory' AND completed_at IS NULL ORDER BY id LIMIT 1`, c.DeviceID))
			if err == nil {
				*c = *prev
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		} else {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM device_commands WHERE device_id = $1 AND kind = 'diagnostics'
				AND completed_at IS NULL`, c.DeviceID).Scan(&n); err != nil {
				return err
			}
			if n >= console.MaxPendingCommands {
				return console.Errorf(console.CodeConflict, "the device has %d diagnostics requests pending", n)
			}
		}
		c.CreatedAt, c.DeliveredAt, c.CompletedAt = now, time.Time{}, time.Time{}
		return tx.QueryRow(ctx, `INSERT INTO device_commands (device_id, kind, checks, requested_by, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, c.DeviceID, c.Kind, string(checks), iv(c.RequestedBy), now).Scan(&c.ID)
	})
	return missing("create device command", "device or user", err)
}

// FindDeviceCommandByID implements console.AgentService.
func (db *DB) FindDeviceCommandByID(ctx context.Context, id int64) (*console.DeviceCommand, error) {
	c, err := scanCommand(db.pool.QueryRow(ctx, `SELECT `+commandCols+` FROM device_commands WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("find device command", err)
	}
	return c, nil
}

// FindPendingCommands implements console.AgentService.
func (db *DB) FindPendingCommands(ctx context.Context, deviceID int64, since time.Time) ([]*console.DeviceCommand, error) {
	cs, err := queryAll(ctx, db.pool, scanCommand, `SELECT `+commandCols+` FROM device_commands
		WHERE device_id = $1 AND completed_at IS NULL AND created_at >= $2 ORDER BY id LIMIT $3`,
		deviceID, norm(since), console.MaxPendingCommands+1)
	return cs, wrap("find pending commands", err)
}

// MarkCommandsDelivered implements console.AgentService.
func (db *DB) MarkCommandsDelivered(ctx context.Context, deviceID int64, ids []int64, t time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.pool.Exec(ctx, `UPDATE device_commands SET delivered_at = $1 WHERE device_id = $2 AND id = ANY($3)`,
		norm(t), deviceID, ids)
	return wrap("mark commands delivered", err)
}

// CompleteInventoryCommands implements console.AgentService.
func (db *DB) CompleteInventoryCommands(ctx context.Context, deviceID int64, t time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE device_commands SET completed_at = $1 WHERE device_id = $2 AND kind = 'inventory'
		AND completed_at IS NULL AND created_at <= $3`, db.nowUTC(), deviceID, norm(t))
	return wrap("complete inventory commands", err)
}

// CommandDevicesAfter implements console.AgentService.
func (db *DB) CommandDevicesAfter(ctx context.Context, afterID int64) ([]int64, int64, error) {
	maxID := afterID
	var devices []int64
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM device_commands`).Scan(&maxID); err != nil {
			return err
		}
		if maxID <= afterID {
			maxID = afterID
			return nil
		}
		var err error
		devices, err = queryAll(ctx, tx, func(s pgx.Row) (int64, error) {
			var id int64
			return id, s.Scan(&id)
		}, `SELECT DISTINCT device_id FROM device_commands WHERE id > $1 AND id <= $2 AND completed_at IS NULL`, afterID, maxID)
		return err
	})
	if err != nil {
		return nil, afterID, wrap("find command devices", err)
	}
	return devices, maxID, nil
}

// RecordDiagnostics implements console.AgentService.
func (db *DB) RecordDiagnostics(ctx context.Context, r *console.AgentReceipt, commandID int64, results []*console.DiagnosticResult) (*console.AgentReceipt, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	for _, res := range results {
		if res.DeviceID != r.DeviceID {
			return nil, console.Errorf(console.CodeInvalid, "diagnostic result of another device")
		}
		if err := res.Validate(); err != nil {
			return nil, err
		}
	}
	now := db.nowUTC()
	var stored *console.AgentReceipt
	err := db.tx(ctx, func(tx pgx.Tx) error {
		// The receipt goes first: a concurrent retry on another node waits
		// for this transaction and then finds the key taken.
		tag, err := tx.Exec(ctx, `INSERT INTO agent_receipts (device_id, key, kind, status, result, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, r.DeviceID, r.Key, r.Kind, r.Status, []byte(r.Result), now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			stored, err = findReceipt(ctx, tx, r.DeviceID, r.Key)
			return err
		}
		if commandID != 0 {
			tag, err := tx.Exec(ctx, `UPDATE device_commands SET completed_at = COALESCE(completed_at, $1)
				WHERE id = $2 AND device_id = $3 AND kind = 'diagnostics'`, now, commandID, r.DeviceID)
			if err := mustAffect("complete diagnostics command", tag, err); err != nil {
				return err
			}
		}
		for _, res := range results {
			res.CreatedAt, res.StartedAt, res.FinishedAt = now, norm(res.StartedAt), norm(res.FinishedAt)
			if err := tx.QueryRow(ctx, `INSERT INTO diagnostic_results (device_id, ticket_id, check_name, status, output,
				requested_by, started_at, finished_at, created_at, command_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
				res.DeviceID, iv(res.TicketID), res.Check, res.Status, res.Output, iv(res.RequestedBy),
				tv(res.StartedAt), tv(res.FinishedAt), res.CreatedAt, iv(commandID)).Scan(&res.ID); err != nil {
				return err
			}
		}
		r.CreatedAt = now
		stored = r
		return nil
	})
	if err != nil {
		return nil, missing("record diagnostics", "device or ticket", err)
	}
	return stored, nil
}

// FindCommandDiagnostics implements console.AgentService.
func (db *DB) FindCommandDiagnostics(ctx context.Context, commandID int64) ([]*console.DiagnosticResult, error) {
	rs, err := queryAll(ctx, db.pool, scanDiagnostic, `SELECT `+diagnosticCols+` FROM diagnostic_results WHERE command_id = $1 ORDER BY id`, commandID)
	return rs, wrap("find command diagnostics", err)
}

const agentEventCols = `id, device_id, key, sid, type, at, detail, received_at, session_id`

func scanAgentEvent(s pgx.Row) (*console.AgentEvent, error) {
	var e console.AgentEvent
	var detail []byte
	err := s.Scan(&e.ID, &e.DeviceID, &e.Key, &e.SID, &e.Type, nullTime{&e.At}, &detail, nullTime{&e.ReceivedAt}, nullID{&e.SessionID})
	e.Detail = detail
	return &e, err
}

// AppendAgentEvents implements console.AgentService.
func (db *DB) AppendAgentEvents(ctx context.Context, events []*console.AgentEvent) error {
	if len(events) > console.MaxEventBatch {
		return console.Errorf(console.CodeInvalid, "at most %d events at once", console.MaxEventBatch)
	}
	for _, e := range events {
		if err := e.Validate(); err != nil {
			return err
		}
	}
	now := db.nowUTC()
	err := db.tx(ctx, func(tx pgx.Tx) error {
		type sidKey struct {
			sid    string
			device int64
		}
		sessions := map[sidKey]int64{}
		for _, e := range events {
			sessionID, ok := sessions[sidKey{e.SID, e.DeviceID}]
			if !ok {
				var err error
				if sessionID, err = sessionOfSID(ctx, tx, e.SID, e.DeviceID); err != nil {
					return err
				}
				sessions[sidKey{e.SID, e.DeviceID}] = sessionID
			}
			at := norm(e.At)
			if at.IsZero() {
				at = now
			}
			var id int64
			err := tx.QueryRow(ctx, `INSERT INTO agent_events (device_id, key, sid, type, at, detail, received_at, session_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (device_id, key) DO NOTHING RETURNING id`,
				e.DeviceID, e.Key, e.SID, e.Type, at, []byte(e.Detail), now, iv(sessionID)).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				prev, err := scanAgentEvent(tx.QueryRow(ctx, `SELECT `+agentEventCols+` FROM agent_events WHERE device_id = $1 AND key = $2`,
					e.DeviceID, e.Key))
				if err != nil {
					return err
				}
				*e = *prev
				e.Duplicate = true
				continue
			}
			if err != nil {
				return err
			}
			e.ID, e.At, e.ReceivedAt, e.SessionID, e.Duplicate = id, at, now, sessionID, false
			if sessionID != 0 {
				if err := copyToTimeline(ctx, tx, e, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return missing("append agent events", "device", err)
}

// sessionOfSID returns the console session with relay id sid that device
// may report on (its own, or one without a device), zero if none. A
// session without a device — an attended one, whose device the console
// learns only when it joins — becomes the reporting device's: only a party
// of the session knows its relay id, and the device's requests are signed.
func sessionOfSID(ctx context.Context, tx pgx.Tx, sid string, deviceID int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM sessions WHERE relay_sid = $1 AND (device_id IS NULL OR device_id = $2)`,
		sid, deviceID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	_, err = tx.Exec(ctx, `UPDATE sessions SET device_id = $1 WHERE id = $2 AND device_id IS NULL`, deviceID, id)
	return id, err
}

// copyToTimeline appends e to its session's timeline as an agent event.
func copyToTimeline(ctx context.Context, tx pgx.Tx, e *console.AgentEvent, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO session_events (session_id, source, type, at, detail) VALUES ($1, 'agent', $2, $3, $4)`,
		e.SessionID, e.Type, now, []byte(console.TimelineDetail(e)))
	return err
}

// LinkAgentEvents implements console.AgentService.
func (db *DB) LinkAgentEvents(ctx context.Context, sid string) (int, error) {
	n := 0
	now := db.nowUTC()
	err := db.tx(ctx, func(tx pgx.Tx) error {
		es, err := queryAll(ctx, tx, scanAgentEvent, `SELECT `+agentEventCols+` FROM agent_events
			WHERE sid = $1 AND session_id IS NULL ORDER BY id FOR UPDATE`, sid)
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.SessionID, err = sessionOfSID(ctx, tx, e.SID, e.DeviceID); err != nil {
				return err
			}
			if e.SessionID == 0 {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE agent_events SET session_id = $1 WHERE id = $2`, e.SessionID, e.ID); err != nil {
				return err
			}
			if err := copyToTimeline(ctx, tx, e, now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, wrap("link agent events", err)
}

// FindAgentEvents implements console.AgentService.
func (db *DB) FindAgentEvents(ctx context.Context, f console.AgentEventFilter) ([]*console.AgentEvent, error) {
	var a args
	q := `SELECT ` + agentEventCols + ` FROM agent_events WHERE id > ` + a.add(f.AfterID)
	if f.DeviceID != 0 {
		q += ` AND device_id = ` + a.add(f.DeviceID)
	}
	if f.SID != "" {
		q += ` AND sid = ` + a.add(f.SID)
	}
	q += ` ORDER BY id LIMIT ` + a.add(console.PageLimit(f.Limit))
	es, err := queryAll(ctx, db.pool, scanAgentEvent, q, a...)
	return es, wrap("find agent events", err)
}

// CreateQuickKey implements console.QuickKeyService.
func (db *DB) CreateQuickKey(ctx context.Context, k *console.QuickKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.tx(ctx, func(tx pgx.Tx) error {
		// An expired key of a code that is live again gives way.
		if _, err := tx.Exec(ctx, `DELETE FROM quick_keys WHERE code_hash = $1 AND expires_at <= $2`, k.CodeHash, now); err != nil {
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO quick_keys (code_hash, public_key, expires_at, created_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (code_hash) DO NOTHING RETURNING id`, k.CodeHash, []byte(k.PublicKey), norm(k.ExpiresAt), now).Scan(&id)
		if err == nil {
			k.ID, k.CreatedAt, k.ExpiresAt = id, now, norm(k.ExpiresAt)
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var pub []byte
		if err := tx.QueryRow(ctx, `SELECT id, public_key, expires_at, created_at FROM quick_keys WHERE code_hash = $1`, k.CodeHash).
			Scan(&k.ID, &pub, nullTime{&k.ExpiresAt}, nullTime{&k.CreatedAt}); err != nil {
			return err
		}
		if !bytes.Equal(pub, k.PublicKey) {
			return console.Errorf(console.CodeConflict, "another key is registered for this code")
		}
		return nil
	})
	return wrap("create quick key", err)
}

// FindQuickKey implements console.QuickKeyService.
func (db *DB) FindQuickKey(ctx context.Context, codeHash []byte) (*console.QuickKey, error) {
	k := &console.QuickKey{}
	var pub, hash []byte
	err := db.pool.QueryRow(ctx, `SELECT id, code_hash, public_key, expires_at, created_at FROM quick_keys
		WHERE code_hash = $1 AND expires_at > $2`, codeHash, db.nowUTC()).
		Scan(&k.ID, &hash, &pub, nullTime{&k.ExpiresAt}, nullTime{&k.CreatedAt})
	if err != nil {
		return nil, wrap("find quick key", err)
	}
	k.CodeHash, k.PublicKey = hash, pub
	return k, nil
}

// DeleteExpiredQuickKeys implements console.QuickKeyService.
func (db *DB) DeleteExpiredQuickKeys(ctx context.Context, t time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM quick_keys WHERE expires_at < $1`, norm(t))
	if err != nil {
		return 0, wrap("delete quick keys", err)
	}
	return tag.RowsAffected(), nil
}
