package sqlite

import (
	"context"
	"database/sql"

	"github.com/reachdesk/reach/console"
)

const sessionCols = `id, kind, ticket_id, device_id, technician_id, code_hash, consent, permissions, created_at,
	started_at, ended_at, end_reason, recording_key, relay_sid`

func scanSession(s scanner) (*console.Session, error) {
	var ss console.Session
	err := s.Scan(&ss.ID, &ss.Kind, nullID{&ss.TicketID}, nullID{&ss.DeviceID}, nullID{&ss.TechnicianID}, &ss.CodeHash,
		&ss.Consent, &ss.Permissions, nullTime{&ss.CreatedAt}, nullTime{&ss.StartedAt}, nullTime{&ss.EndedAt},
		&ss.EndReason, &ss.RecordingKey, nullText{&ss.RelaySID})
	return &ss, err
}

// CreateSession implements console.SessionService.
func (db *DB) CreateSession(ctx context.Context, s *console.Session) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.CreatedAt, s.StartedAt, s.EndedAt = db.nowUTC(), norm(s.StartedAt), norm(s.EndedAt)
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO sessions (kind, ticket_id, device_id, technician_id, code_hash, consent,
			permissions, created_at, started_at, ended_at, end_reason, recording_key, relay_sid)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			s.Kind, iv(s.TicketID), iv(s.DeviceID), s.TechnicianID, s.CodeHash, s.Consent, s.Permissions, tv(s.CreatedAt),
			tv(s.StartedAt), tv(s.EndedAt), s.EndReason, s.RecordingKey, sv(s.RelaySID)).Scan(&s.ID)
	})
	return wrap("create session", err)
}

// FindSessionByID implements console.SessionService.
func (db *DB) FindSessionByID(ctx context.Context, id int64) (*console.Session, error) {
	s, err := scanSession(db.r.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id))
	return s, wrap("find session", err)
}

// FindSessions implements console.SessionService.
func (db *DB) FindSessions(ctx context.Context, f console.SessionFilter) ([]*console.Session, error) {
	q := `SELECT ` + sessionCols + ` FROM sessions WHERE id > ?`
	args := []any{f.AfterID}
	if f.TicketID != 0 {
		q += ` AND ticket_id = ?`
		args = append(args, f.TicketID)
	}
	if f.DeviceID != 0 {
		q += ` AND device_id = ?`
		args = append(args, f.DeviceID)
	}
	if f.TechnicianID != 0 {
		q += ` AND technician_id = ?`
		args = append(args, f.TechnicianID)
	}
	if f.RelaySID != "" {
		q += ` AND relay_sid = ?`
		args = append(args, f.RelaySID)
	}
	if f.Active {
		q += ` AND ended_at IS NULL`
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, console.PageLimit(f.Limit))
	ss, err := queryAll(ctx, db.r, scanSession, q, args...)
	return ss, wrap("find sessions", err)
}

// UpdateSession implements console.SessionService.
func (db *DB) UpdateSession(ctx context.Context, id int64, upd console.SessionUpdate) (*console.Session, error) {
	var s *console.Session
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if s, err = scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id)); err != nil {
			return err
		}
		upd.Apply(s)
		s.StartedAt, s.EndedAt = norm(s.StartedAt), norm(s.EndedAt)
		if err := s.Validate(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sessions SET ticket_id = ?, consent = ?, permissions = ?, started_at = ?,
			ended_at = ?, end_reason = ?, recording_key = ?, relay_sid = ?, code_hash = ? WHERE id = ?`,
			iv(s.TicketID), s.Consent, s.Permissions, tv(s.StartedAt), tv(s.EndedAt), s.EndReason, s.RecordingKey,
			sv(s.RelaySID), s.CodeHash, id)
		return err
	})
	if err != nil {
		return nil, wrap("update session", err)
	}
	return s, nil
}

// AppendSessionEvents implements console.SessionService.
func (db *DB) AppendSessionEvents(ctx context.Context, events []*console.SessionEvent) error {
	if err := console.PrepareEvents(events, db.nowUTC(), norm); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO session_events (session_id, source, type, at, detail)
			VALUES (?, ?, ?, ?, ?) RETURNING id`)
		if err != nil {
			return err
		}
		defer ins.Close()
		for _, e := range events {
			if err := ins.QueryRowContext(ctx, e.SessionID, e.Source, e.Type, tv(e.At), []byte(e.Detail)).Scan(&e.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return missing("append session events", "session", err)
}

// FindSessionEvents implements console.SessionService.
func (db *DB) FindSessionEvents(ctx context.Context, f console.SessionEventFilter) ([]*console.SessionEvent, error) {
	es, err := queryAll(ctx, db.r, func(s scanner) (*console.SessionEvent, error) {
		var e console.SessionEvent
		var detail []byte
		err := s.Scan(&e.ID, &e.SessionID, &e.Source, &e.Type, nullTime{&e.At}, &detail)
		e.Detail = detail
		return &e, err
	}, `SELECT id, session_id, source, type, at, detail FROM session_events WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?`,
		f.SessionID, f.AfterID, console.PageLimit(f.Limit))
	return es, wrap("find session events", err)
}

// RecordCSAT implements console.SessionService.
func (db *DB) RecordCSAT(ctx context.Context, a *console.CSATAnswer) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if a.AnsweredAt = norm(a.AnsweredAt); a.AnsweredAt.IsZero() {
		a.AnsweredAt = db.nowUTC()
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO csat_answers (session_id, score, comment, answered_at) VALUES (?, ?, ?, ?)`,
			a.SessionID, a.Score, a.Comment, tv(a.AnsweredAt))
		return err
	})
	return missing("record CSAT", "session", err)
}

// FindCSAT implements console.SessionService.
func (db *DB) FindCSAT(ctx context.Context, sessionID int64) (*console.CSATAnswer, error) {
	var a console.CSATAnswer
	err := db.r.QueryRowContext(ctx, `SELECT session_id, score, comment, answered_at FROM csat_answers WHERE session_id = ?`,
		sessionID).Scan(&a.SessionID, &a.Score, &a.Comment, nullTime{&a.AnsweredAt})
	if err != nil {
		return nil, wrap("find CSAT", err)
	}
	return &a, nil
}
