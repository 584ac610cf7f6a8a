package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/reachdesk/reach/console"
)

// sv converts text to its column value: NULL if empty.
func sv(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullText scans a nullable text column into a string, empty for NULL.
type nullText struct{ p *string }

func (n nullText) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.p = ""
	case string:
		*n.p = v
	case []byte:
		*n.p = string(v)
	default:
		return fmt.Errorf("sqlite: text column holds %T", src)
	}
	return nil
}

const loginSessionCols = `id, user_id, hash, mfa_pending, user_agent, address, created_at, last_seen_at, expires_at`

func scanLoginSession(s scanner) (*console.LoginSession, error) {
	var ls console.LoginSession
	err := s.Scan(&ls.ID, &ls.UserID, &ls.Hash, &ls.MFAPending, &ls.UserAgent, &ls.Address,
		nullTime{&ls.CreatedAt}, nullTime{&ls.LastSeenAt}, nullTime{&ls.ExpiresAt})
	return &ls, err
}

// CreateLoginSession implements console.AuthService.
func (db *DB) CreateLoginSession(ctx context.Context, s *console.LoginSession) error {
	if err := s.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	if s.CreatedAt = norm(s.CreatedAt); s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	if s.LastSeenAt = norm(s.LastSeenAt); s.LastSeenAt.IsZero() {
		s.LastSeenAt = s.CreatedAt
	}
	s.ExpiresAt = norm(s.ExpiresAt)
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO login_sessions (user_id, hash, mfa_pending, user_agent, address,
			created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			s.UserID, s.Hash, s.MFAPending, s.UserAgent, s.Address, tv(s.CreatedAt), tv(s.LastSeenAt), tv(s.ExpiresAt)).Scan(&s.ID)
	})
	return missing("create login session", "user", err)
}

// FindLoginSessionByHash implements console.AuthService.
func (db *DB) FindLoginSessionByHash(ctx context.Context, hash []byte) (*console.LoginSession, error) {
	s, err := scanLoginSession(db.r.QueryRowContext(ctx, `SELECT `+loginSessionCols+` FROM login_sessions WHERE hash = ?`, hash))
	if err != nil {
		return nil, wrap("find login session", err)
	}
	return s, nil
}

// TouchLoginSession implements console.AuthService.
func (db *DB) TouchLoginSession(ctx context.Context, id int64, t time.Time) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE login_sessions SET last_seen_at = max(last_seen_at, ?) WHERE id = ?`, tv(norm(t)), id)
		return wrap("touch login session", err)
	})
}

// DeleteLoginSession implements console.AuthService.
func (db *DB) DeleteLoginSession(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM login_sessions WHERE id = ?`, id)
		return mustAffect("delete login session", res, err)
	})
}

// DeleteUserLoginSessions implements console.AuthService.
func (db *DB) DeleteUserLoginSessions(ctx context.Context, userID, keep int64) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM login_sessions WHERE user_id = ? AND id <> ?`, userID, keep)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), wrap("delete user login sessions", err)
}

// DeleteExpiredLoginSessions implements console.AuthService.
func (db *DB) DeleteExpiredLoginSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM login_sessions WHERE expires_at <= ? OR last_seen_at < ?`,
			tv(norm(now)), tv(norm(now.Add(-idle))))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), wrap("delete expired login sessions", err)
}

// UseTOTPStep implements console.AuthService.
func (db *DB) UseTOTPStep(ctx context.Context, userID, step int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT totp_last_step FROM users WHERE id = ?`, userID).Scan(&last); err != nil {
			return wrap("use TOTP step", err)
		}
		if step <= last {
			return console.Errorf(console.CodeConflict, "TOTP code already used")
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ?`, step, userID)
		return wrap("use TOTP step", err)
	})
}

// SetRecoveryCodes implements console.AuthService.
func (db *DB) SetRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte) error {
	if len(hashes) > console.MaxRecoveryCodes {
		return console.Errorf(console.CodeInvalid, "more than %d recovery codes", console.MaxRecoveryCodes)
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if len(h) < 16 || len(h) > console.MaxHashLen {
				return console.Errorf(console.CodeInvalid, "recovery code hash must be 16 to %d bytes", console.MaxHashLen)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)`, userID, h); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("set recovery codes", err)
}

// UseRecoveryCode implements console.AuthService.
func (db *DB) UseRecoveryCode(ctx context.Context, userID int64, hash []byte) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ? AND hash = ?`, userID, hash)
		return mustAffect("use recovery code", res, err)
	})
}

// CountRecoveryCodes implements console.AuthService.
func (db *DB) CountRecoveryCodes(ctx context.Context, userID int64) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ?`, userID).Scan(&n)
	return n, wrap("count recovery codes", err)
}

// finishTimes returns the start and end of a session that started at
// started (zero: never) and ends at at; the end is never before the start.
func finishTimes(started, at time.Time) (time.Time, time.Time) {
	switch {
	case started.IsZero():
		return at, at
	case at.Before(started):
		return started, started
	}
	return started, at
}

// FinishSession implements console.AuthService.
func (db *DB) FinishSession(ctx context.Context, id int64, at time.Time, reason string) (*console.Session, error) {
	if err := (&console.Session{Kind: console.SessionAttended, TechnicianID: 1, Consent: console.ConsentPending,
		EndReason: reason}).Validate(); err != nil {
		return nil, err
	}
	at = norm(at)
	var s *console.Session
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if s, err = scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id)); err != nil {
			return err
		}
		if !s.EndedAt.IsZero() {
			return console.Errorf(console.CodeConflict, "session has already ended")
		}
		s.StartedAt, s.EndedAt = finishTimes(s.StartedAt, at)
		s.EndReason = reason
		_, err = tx.ExecContext(ctx, `UPDATE sessions SET started_at = ?, ended_at = ?, end_reason = ? WHERE id = ?`,
			tv(s.StartedAt), tv(s.EndedAt), s.EndReason, id)
		return err
	})
	if err != nil {
		return nil, wrap("finish session", err)
	}
	return s, nil
}
