package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/reachdesk/reach/console"
)

// sv converts text to a parameter: NULL if empty.
func sv(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullText scans a nullable text column into a string, empty for NULL.
type nullText struct{ p *string }

func (n nullText) ScanText(v pgtype.Text) error {
	*n.p = v.String // empty when not valid
	return nil
}

const loginSessionCols = `id, user_id, hash, mfa_pending, user_agent, address, created_at, last_seen_at, expires_at`

func scanLoginSession(s pgx.Row) (*console.LoginSession, error) {
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
	err := db.pool.QueryRow(ctx, `INSERT INTO login_sessions (user_id, hash, mfa_pending, user_agent, address,
		created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		s.UserID, s.Hash, s.MFAPending, s.UserAgent, s.Address, s.CreatedAt, s.LastSeenAt, s.ExpiresAt).Scan(&s.ID)
	return missing("create login session", "user", err)
}

// FindLoginSessionByHash implements console.AuthService.
func (db *DB) FindLoginSessionByHash(ctx context.Context, hash []byte) (*console.LoginSession, error) {
	s, err := scanLoginSession(db.pool.QueryRow(ctx, `SELECT `+loginSessionCols+` FROM login_sessions WHERE hash = $1`, hash))
	if err != nil {
		return nil, wrap("find login session", err)
	}
	return s, nil
}

// TouchLoginSession implements console.AuthService.
func (db *DB) TouchLoginSession(ctx context.Context, id int64, t time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE login_sessions SET last_seen_at = greatest(last_seen_at, $1) WHERE id = $2`, norm(t), id)
	return wrap("touch login session", err)
}

// DeleteLoginSession implements console.AuthService.
func (db *DB) DeleteLoginSession(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM login_sessions WHERE id = $1`, id)
	return mustAffect("delete login session", tag, err)
}

// DeleteUserLoginSessions implements console.AuthService.
func (db *DB) DeleteUserLoginSessions(ctx context.Context, userID, keep int64) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM login_sessions WHERE user_id = $1 AND id <> $2`, userID, keep)
	if err != nil {
		return 0, wrap("delete user login sessions", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpiredLoginSessions implements console.AuthService.
func (db *DB) DeleteExpiredLoginSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM login_sessions WHERE expires_at <= $1 OR last_seen_at < $2`,
		norm(now), norm(now.Add(-idle)))
	if err != nil {
		return 0, wrap("delete expired login sessions", err)
	}
	return int(tag.RowsAffected()), nil
}

// UseTOTPStep implements console.AuthService.
func (db *DB) UseTOTPStep(ctx context.Context, userID, step int64) error {
	// One statement: the row lock makes concurrent uses of one step
	// serialize, and only the first sees totp_last_step below step.
	tag, err := db.pool.Exec(ctx, `UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, userID)
	if err != nil {
		return wrap("use TOTP step", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var one int
	if err := db.pool.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1`, userID).Scan(&one); err != nil {
		return wrap("use TOTP step", err)
	}
	return console.Errorf(console.CodeConflict, "TOTP code already used")
}

// SetRecoveryCodes implements console.AuthService.
func (db *DB) SetRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte) error {
	if len(hashes) > console.MaxRecoveryCodes {
		return console.Errorf(console.CodeInvalid, "more than %d recovery codes", console.MaxRecoveryCodes)
	}
	for _, h := range hashes {
		if len(h) < 16 || len(h) > console.MaxHashLen {
			return console.Errorf(console.CodeInvalid, "recovery code hash must be 16 to %d bytes", console.MaxHashLen)
		}
	}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&one); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, hash) VALUES ($1, $2)`, userID, h); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("set recovery codes", err)
}

// UseRecoveryCode implements console.AuthService.
func (db *DB) UseRecoveryCode(ctx context.Context, userID int64, hash []byte) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1 AND hash = $2`, userID, hash)
	return mustAffect("use recovery code", tag, err)
}

// CountRecoveryCodes implements console.AuthService.
func (db *DB) CountRecoveryCodes(ctx context.Context, userID int64) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = $1`, userID).Scan(&n)
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
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if s, err = scanSession(tx.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1 FOR UPDATE`, id)); err != nil {
			return err
		}
		if !s.EndedAt.IsZero() {
			return console.Errorf(console.CodeConflict, "session has already ended")
		}
		s.StartedAt, s.EndedAt = finishTimes(s.StartedAt, at)
		s.EndReason = reason
		_, err = tx.Exec(ctx, `UPDATE sessions SET started_at = $1, ended_at = $2, end_reason = $3 WHERE id = $4`,
			s.StartedAt, s.EndedAt, s.EndReason, id)
		return err
	})
	if err != nil {
		return nil, wrap("finish session", err)
	}
	return s, nil
}
