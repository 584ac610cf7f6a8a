package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/reachdesk/reach/console"
)

const sessionCols = `id, kind, ticket_id, device_id, technician_id, code_hash, consent, permissions, created_at,
	started_at, ended_at, end_reason, recording_key, relay_sid`

func scanSession(s pgx.Row) (*console.Session, error) {
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
	err := db.pool.QueryRow(ctx, `INSERT INTO sessions (kind, ticket_id, device_id, technician_id, code_hash, consent,
		permissions, created_at, started_at, ended_at, end_reason, recording_key, relay_sid)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		s.Kind, iv(s.TicketID), iv(s.DeviceID), s.TechnicianID, s.CodeHash, s.Consent, s.Permissions, s.CreatedAt,
		tv(s.StartedAt), tv(s.EndedAt), s.EndReason, s.RecordingKey, sv(s.RelaySID)).Scan(&s.ID)
	return wrap("create session", err)
}

// FindSessionByID implements console.SessionService.
func (db *DB) FindSessionByID(ctx context.Context, id int64) (*console.Session, error) {
	s, err := scanSession(db.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("find session", err)
	}
	return s, nil
}

// FindSessions implements console.SessionService.
func (db *DB) FindSessions(ctx context.Context, f console.SessionFilter) ([]*console.Session, error) {
	var a args
	q := `SELECT ` + sessionCols + ` FROM sessions WHERE id > ` + a.add(f.AfterID)
	if f.TicketID != 0 {
		q += ` AND ticket_id = ` + a.add(f.TicketID)
	}
	if f.DeviceID != 0 {
		q += ` AND device_id = ` + a.add(f.DeviceID)
	}
	if f.TechnicianID != 0 {
		q += ` AND technician_id = ` + a.add(f.TechnicianID)
	}
	if f.RelaySID != "" {
		q += ` AND relay_sid = ` + a.add(f.RelaySID)
	}
	if f.Active {
		q += ` AND ended_at IS NULL`
	}
	q += ` ORDER BY id LIMIT ` + a.add(console.PageLimit(f.Limit))
	ss, err := queryAll(ctx, db.pool, scanSession, q, a...)
	return ss, wrap("find sessions", err)
}

// UpdateSession implements console.SessionService.
func (db *DB) UpdateSession(ctx context.Context, id int64, upd console.SessionUpdate) (*console.Session, error) {
	var s *console.Session
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if s, err = scanSession(tx.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1 FOR UPDATE`, id)); err != nil {
			return err
		}
		upd.Apply(s)
		s.StartedAt, s.EndedAt = norm(s.StartedAt), norm(s.EndedAt)
		if err := s.Validate(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE sessions SET ticket_id = $1, consent = $2, permissions = $3, started_at = $4,
			ended_at = $5, end_reason = $6, recording_key = $7, relay_sid = $8, code_hash = $9 WHERE id = $10`,
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
	err := db.tx(ctx, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		for _, e := range events {
			batch.Queue(`INSERT INTO session_events (session_id, source, type, at, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
				e.SessionID, e.Source, e.Type, e.At, []byte(e.Detail)).QueryRow(func(row pgx.Row) error { return row.Scan(&e.ID) })
		}
		return tx.SendBatch(ctx, batch).Close()
	})
	return missing("append session events", "session", err)
}

// FindSessionEvents implements console.SessionService.
func (db *DB) FindSessionEvents(ctx context.Context, f console.SessionEventFilter) ([]*console.SessionEvent, error) {
	es, err := queryAll(ctx, db.pool, func(s pgx.Row) (*console.SessionEvent, error) {
		var e console.SessionEvent
		var detail []byte
		err := s.Scan(&e.ID, &e.SessionID, &e.Source, &e.Type, nullTime{&e.At}, &detail)
		e.Detail = detail
		return &e, err
	}, `SELECT id, session_id, source, type, at, detail FROM session_events WHERE session_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
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
	_, err := db.pool.Exec(ctx, `INSERT INTO csat_answers (session_id, score, comment, answered_at) VALUES ($1, $2, $3, $4)`,
		a.SessionID, a.Score, a.Comment, a.AnsweredAt)
	return missing("record CSAT", "session", err)
}

// FindCSAT implements console.SessionService.
func (db *DB) FindCSAT(ctx context.Context, sessionID int64) (*console.CSATAnswer, error) {
	var a console.CSATAnswer
	err := db.pool.QueryRow(ctx, `SELECT session_id, score, comment, answered_at FROM csat_answers WHERE session_id = $1`,
		sessionID).Scan(&a.SessionID, &a.Score, &a.Comment, nullTime{&a.AnsweredAt})
	if err != nil {
		return nil, wrap("find CSAT", err)
	}
	return &a, nil
}
