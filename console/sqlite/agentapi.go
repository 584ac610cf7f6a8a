package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/reachdesk/reach/console"
)

// This file implements console.AgentService: receipts, device commands,
// agent events and quick-support keys (migration 0005).

// FindAgentReceipt implements console.AgentService.
func (db *DB) FindAgentReceipt(ctx context.Context, deviceID int64, key string) (*console.AgentReceipt, error) {
	r := &console.AgentReceipt{DeviceID: deviceID, Key: key}
	var result []byte
	err := db.r.QueryRowContext(ctx, `SELECT kind, status, result, created_at FROM agent_receipts WHERE device_id = ? AND key = ?`,
		deviceID, key).Scan(&r.Kind, &r.Status, &result, nullTime{&r.CreatedAt})
	if err != nil {
		return nil, wrap("find agent receipt", err)
	}
	r.Result = result
	return r, nil
}

// CreateAgentReceipt implements console.AgentService.
func (db *DB) CreateAgentReceipt(ctx context.Context, r *console.AgentReceipt) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.CreatedAt = db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error { return insertReceipt(ctx, tx, r) })
	return missing("create agent receipt", "device", err)
}

func insertReceipt(ctx context.Context, tx *sql.Tx, r *console.AgentReceipt) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO agent_receipts (device_id, key, kind, status, result, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.DeviceID, r.Key, r.Kind, r.Status, []byte(r.Result), tv(r.CreatedAt))
	return err
}

// DeleteAgentReceipts implements console.AgentService.
func (db *DB) DeleteAgentReceipts(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM agent_receipts WHERE created_at < ?`, norm(t).UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, wrap("delete agent receipts", err)
}

const commandCols = `id, device_id, kind, checks, requested_by, created_at, delivered_at, completed_at`

func scanCommand(s scanner) (*console.DeviceCommand, error) {
	var c console.DeviceCommand
	var checks string
	err := s.Scan(&c.ID, &c.DeviceID, &c.Kind, &checks, nullID{&c.RequestedBy}, nullTime{&c.CreatedAt},
		nullTime{&c.DeliveredAt}, nullTime{&c.CompletedAt})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(checks), &c.Checks); err != nil {
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
	checks, err := json.Marshal(c.Checks)
	if err != nil {
		return fmt.Errorf("sqlite: encode command checks: %w", err)
	}
	if c.Checks == nil {
		checks = []byte("[]")
	}
	now := db.nowUTC()
	err = db.write(ctx, func(tx *sql.Tx) error {
		if c.Kind == console.CommandInventory {
			prev, err := scanCommand(tx.QueryRowContext(ctx, `SELECT `+commandCols+` FROM device_commands
				WHERE device_id = ? AND kind = 'inventory' AND completed_at IS NULL ORDER BY id LIMIT 1`, c.DeviceID))
			if err == nil {
				*c = *prev
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		} else {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM device_commands WHERE device_id = ? AND kind = 'diagnostics'
				AND completed_at IS NULL`, c.DeviceID).Scan(&n); err != nil {
				return err
			}
			if n >= console.MaxPendingCommands {
				return console.Errorf(console.CodeConflict, "the device has %d diagnostics requests pending", n)
			}
		}
		c.CreatedAt, c.DeliveredAt, c.CompletedAt = now, time.Time{}, time.Time{}
		return tx.QueryRowContext(ctx, `INSERT INTO device_commands (device_id, kind, checks, requested_by, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, c.DeviceID, c.Kind, string(checks), iv(c.RequestedBy), tv(now)).Scan(&c.ID)
	})
	return missing("create device command", "device or user", err)
}

// FindDeviceCommandByID implements console.AgentService.
func (db *DB) FindDeviceCommandByID(ctx context.Context, id int64) (*console.DeviceCommand, error) {
	c, err := scanCommand(db.r.QueryRowContext(ctx, `SELECT `+commandCols+` FROM device_commands WHERE id = ?`, id))
	return c, wrap("find device command", err)
}

// FindPendingCommands implements console.AgentService.
func (db *DB) FindPendingCommands(ctx context.Context, deviceID int64, since time.Time) ([]*console.DeviceCommand, error) {
	cs, err := queryAll(ctx, db.r, scanCommand, `SELECT `+commandCols+` FROM device_commands
		WHERE device_id = ? AND completed_at IS NULL AND created_at >= ? ORDER BY id LIMIT ?`,
		deviceID, norm(since).UnixMicro(), console.MaxPendingCommands+1)
	return cs, wrap("find pending commands", err)
}

// MarkCommandsDelivered implements console.AgentService.
func (db *DB) MarkCommandsDelivered(ctx context.Context, deviceID int64, ids []int64, t time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{tv(norm(t)), deviceID}
	for _, id := range ids {
		args = append(args, id)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE device_commands SET delivered_at = ? WHERE device_id = ? AND id IN (`+
			placeholders(len(ids))+`)`, args...)
		return err
	})
	return wrap("mark commands delivered", err)
}

// CompleteInventoryCommands implements console.AgentService.
func (db *DB) CompleteInventoryCommands(ctx context.Context, deviceID int64, t time.Time) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE device_commands SET completed_at = ? WHERE device_id = ? AND kind = 'inventory'
			AND completed_at IS NULL AND created_at <= ?`, tv(db.nowUTC()), deviceID, norm(t).UnixMicro())
		return err
	})
	return wrap("complete inventory commands", err)
}

// CommandDevicesAfter implements console.AgentService.
func (db *DB) CommandDevicesAfter(ctx context.Context, afterID int64) ([]int64, int64, error) {
	maxID := afterID
	var devices []int64
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM device_commands`).Scan(&maxID); err != nil {
			return err
		}
		if maxID <= afterID {
			maxID = afterID
			return nil
		}
		var err error
		devices, err = queryAll(ctx, tx, func(s scanner) (int64, error) {
			var id int64
			return id, s.Scan(&id)
		}, `SELECT DISTINCT device_id FROM device_commands WHERE id > ? AND id <= ? AND completed_at IS NULL`, afterID, maxID)
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
	err := db.write(ctx, func(tx *sql.Tx) error {
		var prev console.AgentReceipt
		var result []byte
		err := tx.QueryRowContext(ctx, `SELECT kind, status, result, created_at FROM agent_receipts WHERE device_id = ? AND key = ?`,
			r.DeviceID, r.Key).Scan(&prev.Kind, &prev.Status, &result, nullTime{&prev.CreatedAt})
		if err == nil {
			prev.DeviceID, prev.Key, prev.Result = r.DeviceID, r.Key, result
			stored = &prev
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if commandID != 0 {
			res, err := tx.ExecContext(ctx, `UPDATE device_commands SET completed_at = COALESCE(completed_at, ?)
				WHERE id = ? AND device_id = ? AND kind = 'diagnostics'`, tv(now), commandID, r.DeviceID)
			if err := mustAffect("complete diagnostics command", res, err); err != nil {
				return err
			}
		}
		for _, res := range results {
			res.CreatedAt, res.StartedAt, res.FinishedAt = now, norm(res.StartedAt), norm(res.FinishedAt)
			if err := tx.QueryRowContext(ctx, `INSERT INTO diagnostic_results (device_id, ticket_id, check_name, status, output,
				requested_by, started_at, finished_at, created_at, command_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				res.DeviceID, iv(res.TicketID), res.Check, res.Status, res.Output, iv(res.RequestedBy),
				tv(res.StartedAt), tv(res.FinishedAt), tv(res.CreatedAt), iv(commandID)).Scan(&res.ID); err != nil {
				return err
			}
		}
		r.CreatedAt = now
		stored = r
		return insertReceipt(ctx, tx, r)
	})
	if err != nil {
		return nil, missing("record diagnostics", "device or ticket", err)
	}
	return stored, nil
}

// FindCommandDiagnostics implements console.AgentService.
func (db *DB) FindCommandDiagnostics(ctx context.Context, commandID int64) ([]*console.DiagnosticResult, error) {
	rs, err := queryAll(ctx, db.r, scanDiagnostic, `SELECT `+diagnosticCols+` FROM diagnostic_results WHERE command_id = ? ORDER BY id`, commandID)
	return rs, wrap("find command diagnostics", err)
}

const agentEventCols = `id, device_id, key, sid, type, at, detail, received_at, session_id`

func scanAgentEvent(s scanner) (*console.AgentEvent, error) {
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
	err := db.write(ctx, func(tx *sql.Tx) error {
		type sidKey struct {
			sid    string
			device int64
		}
		sessions := map[sidKey]int64{}
		for _, e := range events {
			prev, err := scanAgentEvent(tx.QueryRowContext(ctx, `SELECT `+agentEventCols+` FROM agent_events WHERE device_id = ? AND key = ?`,
				e.DeviceID, e.Key))
			if err == nil {
				*e = *prev
				e.Duplicate = true
				continue
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			sessionID, ok := sessions[sidKey{e.SID, e.DeviceID}]
			if !ok {
				if sessionID, err = sessionOfSID(ctx, tx, e.SID, e.DeviceID); err != nil {
					return err
				}
				sessions[sidKey{e.SID, e.DeviceID}] = sessionID
			}
			e.At, e.ReceivedAt, e.SessionID, e.Duplicate = norm(e.At), now, sessionID, false
			if e.At.IsZero() {
				e.At = now
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO agent_events (device_id, key, sid, type, at, detail, received_at, session_id)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.DeviceID, e.Key, e.SID, e.Type, tv(e.At), []byte(e.Detail),
				tv(now), iv(sessionID)).Scan(&e.ID); err != nil {
				return err
			}
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
func sessionOfSID(ctx context.Context, tx *sql.Tx, sid string, deviceID int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM sessions WHERE relay_sid = ? AND (device_id IS NULL OR device_id = ?)`,
		sid, deviceID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE sessions SET device_id = ? WHERE id = ? AND device_id IS NULL`, deviceID, id)
	return id, err
}

// copyToTimeline appends e to its session's timeline as an agent event
// whose detail carries the agent's time and the original detail.
func copyToTimeline(ctx context.Context, tx *sql.Tx, e *console.AgentEvent, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO session_events (session_id, source, type, at, detail) VALUES (?, 'agent', ?, ?, ?)`,
		e.SessionID, e.Type, tv(now), []byte(console.TimelineDetail(e)))
	return err
}

// LinkAgentEvents implements console.AgentService.
func (db *DB) LinkAgentEvents(ctx context.Context, sid string) (int, error) {
	n := 0
	now := db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		es, err := queryAll(ctx, tx, scanAgentEvent, `SELECT `+agentEventCols+` FROM agent_events
			WHERE sid = ? AND session_id IS NULL ORDER BY id`, sid)
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
			if _, err := tx.ExecContext(ctx, `UPDATE agent_events SET session_id = ? WHERE id = ?`, e.SessionID, e.ID); err != nil {
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
	q := `SELECT ` + agentEventCols + ` FROM agent_events WHERE id > ?`
	args := []any{f.AfterID}
	if f.DeviceID != 0 {
		q += ` AND device_id = ?`
		args = append(args, f.DeviceID)
	}
	if f.SID != "" {
		q += ` AND sid = ?`
		args = append(args, f.SID)
	}
	args = append(args, console.PageLimit(f.Limit))
	es, err := queryAll(ctx, db.r, scanAgentEvent, q+` ORDER BY id LIMIT ?`, args...)
	return es, wrap("find agent events", err)
}

// CreateQuickKey implements console.QuickKeyService.
func (db *DB) CreateQuickKey(ctx context.Context, k *console.QuickKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		var prev console.QuickKey
		var pub []byte
		err := tx.QueryRowContext(ctx, `SELECT id, public_key, expires_at, created_at FROM quick_keys WHERE code_hash = ?`, k.CodeHash).
			Scan(&prev.ID, &pub, nullTime{&prev.ExpiresAt}, nullTime{&prev.CreatedAt})
		switch {
		case err == nil && !prev.ExpiresAt.After(now):
			// An expired key of a code that is live again: replace it.
			if _, err := tx.ExecContext(ctx, `DELETE FROM quick_keys WHERE id = ?`, prev.ID); err != nil {
				return err
			}
		case err == nil && bytes.Equal(pub, k.PublicKey):
			k.ID, k.ExpiresAt, k.CreatedAt = prev.ID, prev.ExpiresAt, prev.CreatedAt
			return nil
		case err == nil:
			return console.Errorf(console.CodeConflict, "another key is registered for this code")
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		k.CreatedAt, k.ExpiresAt = now, norm(k.ExpiresAt)
		return tx.QueryRowContext(ctx, `INSERT INTO quick_keys (code_hash, public_key, expires_at, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			k.CodeHash, []byte(k.PublicKey), tv(k.ExpiresAt), tv(now)).Scan(&k.ID)
	})
	return wrap("create quick key", err)
}

// FindQuickKey implements console.QuickKeyService.
func (db *DB) FindQuickKey(ctx context.Context, codeHash []byte) (*console.QuickKey, error) {
	k := &console.QuickKey{}
	var pub, hash []byte
	err := db.r.QueryRowContext(ctx, `SELECT id, code_hash, public_key, expires_at, created_at FROM quick_keys
		WHERE code_hash = ? AND expires_at > ?`, codeHash, db.nowUTC().UnixMicro()).
		Scan(&k.ID, &hash, &pub, nullTime{&k.ExpiresAt}, nullTime{&k.CreatedAt})
	if err != nil {
		return nil, wrap("find quick key", err)
	}
	k.CodeHash, k.PublicKey = hash, pub
	return k, nil
}

// DeleteExpiredQuickKeys implements console.QuickKeyService.
func (db *DB) DeleteExpiredQuickKeys(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM quick_keys WHERE expires_at < ?`, norm(t).UnixMicro())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, wrap("delete quick keys", err)
}
