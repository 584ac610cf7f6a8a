package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/reachdesk/reach/console"
)

const userCols = `id, email, name, password_hash, role, level, totp_secret, disabled, created_at, updated_at`

func scanUser(s scanner) (*console.User, error) {
	var u console.User
	err := s.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Role, &u.Level, &u.TOTPSecret, &u.Disabled,
		nullTime{&u.CreatedAt}, nullTime{&u.UpdatedAt})
	return &u, err
}

// CreateUser implements console.UserService.
func (db *DB) CreateUser(ctx context.Context, u *console.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO users (email, name, password_hash, role, level, totp_secret, disabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Email, u.Name, u.PasswordHash, u.Role, u.Level, u.TOTPSecret, u.Disabled, tv(now), tv(now)).Scan(&u.ID)
	})
	if err != nil {
		return wrap("create user", err)
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return nil
}

// FindUserByID implements console.UserService.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*console.User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	return u, wrap("find user", err)
}

// FindUserByEmail implements console.UserService.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*console.User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, email))
	return u, wrap("find user", err)
}

// FindUsers implements console.UserService.
func (db *DB) FindUsers(ctx context.Context, f console.UserFilter) ([]*console.User, error) {
	q := `SELECT ` + userCols + ` FROM users WHERE id > ?`
	args := []any{f.AfterID}
	if f.Role != "" {
		q += ` AND role = ?`
		args = append(args, f.Role)
	}
	if f.Disabled != nil {
		q += ` AND disabled = ?`
		args = append(args, *f.Disabled)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, console.PageLimit(f.Limit))
	us, err := queryAll(ctx, db.r, scanUser, q, args...)
	return us, wrap("find users", err)
}

// UpdateUser implements console.UserService.
func (db *DB) UpdateUser(ctx context.Context, id int64, upd console.UserUpdate) (*console.User, error) {
	var u *console.User
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id)); err != nil {
			return err
		}
		upd.Apply(u)
		if err := u.Validate(); err != nil {
			return err
		}
		u.UpdatedAt = db.nowUTC()
		_, err = tx.ExecContext(ctx, `UPDATE users SET email = ?, name = ?, password_hash = ?, role = ?, level = ?,
			totp_secret = ?, disabled = ?, updated_at = ? WHERE id = ?`,
			u.Email, u.Name, u.PasswordHash, u.Role, u.Level, u.TOTPSecret, u.Disabled, tv(u.UpdatedAt), id)
		return err
	})
	if err != nil {
		return nil, wrap("update user", err)
	}
	return u, nil
}

// DeleteUser implements console.UserService.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		return mustAffect("delete user", res, err)
	})
}

const tokenCols = `id, user_id, name, hash, expires_at, last_used_at, created_at`

func scanToken(s scanner) (*console.APIToken, error) {
	var t console.APIToken
	err := s.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, nullTime{&t.ExpiresAt}, nullTime{&t.LastUsedAt}, nullTime{&t.CreatedAt})
	return &t, err
}

// CreateAPIToken implements console.UserService.
func (db *DB) CreateAPIToken(ctx context.Context, t *console.APIToken) error {
	if err := t.Validate(); err != nil {
		return err
	}
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt = db.nowUTC(), norm(t.ExpiresAt), time.Time{}
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, hash, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`,
			t.UserID, t.Name, t.Hash, tv(t.ExpiresAt), tv(t.CreatedAt)).Scan(&t.ID)
	})
	return missing("create API token", "user", err)
}

// FindAPITokenByHash implements console.UserService.
func (db *DB) FindAPITokenByHash(ctx context.Context, hash []byte) (*console.APIToken, error) {
	t, err := scanToken(db.r.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = ?`, hash))
	return t, wrap("find API token", err)
}

// FindAPITokens implements console.UserService.
func (db *DB) FindAPITokens(ctx context.Context, userID int64) ([]*console.APIToken, error) {
	ts, err := queryAll(ctx, db.r, scanToken, `SELECT `+tokenCols+` FROM api_tokens WHERE user_id = ? ORDER BY id`, userID)
	return ts, wrap("find API tokens", err)
}

// TouchAPIToken implements console.UserService.
func (db *DB) TouchAPIToken(ctx context.Context, id int64, t time.Time) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, tv(norm(t)), id)
		return mustAffect("touch API token", res, err)
	})
}

// DeleteAPIToken implements console.UserService.
func (db *DB) DeleteAPIToken(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ?`, id)
		return mustAffect("delete API token", res, err)
	})
}

// CreateTeam implements console.TeamService.
func (db *DB) CreateTeam(ctx context.Context, t *console.Team) error {
	if err := t.Validate(); err != nil {
		return err
	}
	t.CreatedAt = db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO teams (name, created_at) VALUES (?, ?) RETURNING id`,
			t.Name, tv(t.CreatedAt)).Scan(&t.ID)
	})
	return wrap("create team", err)
}

func scanTeam(s scanner) (*console.Team, error) {
	var t console.Team
	err := s.Scan(&t.ID, &t.Name, nullTime{&t.CreatedAt})
	return &t, err
}

// FindTeamByID implements console.TeamService.
func (db *DB) FindTeamByID(ctx context.Context, id int64) (*console.Team, error) {
	t, err := scanTeam(db.r.QueryRowContext(ctx, `SELECT id, name, created_at FROM teams WHERE id = ?`, id))
	return t, wrap("find team", err)
}

// FindTeams implements console.TeamService.
func (db *DB) FindTeams(ctx context.Context, userID int64) ([]*console.Team, error) {
	q, args := `SELECT id, name, created_at FROM teams ORDER BY name`, []any(nil)
	if userID != 0 {
		q = `SELECT t.id, t.name, t.created_at FROM teams t JOIN team_members m ON m.team_id = t.id
			WHERE m.user_id = ? ORDER BY t.name`
		args = []any{userID}
	}
	ts, err := queryAll(ctx, db.r, scanTeam, q, args...)
	return ts, wrap("find teams", err)
}

// RenameTeam implements console.TeamService.
func (db *DB) RenameTeam(ctx context.Context, id int64, name string) (*console.Team, error) {
	t := &console.Team{ID: id, Name: name}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE teams SET name = ? WHERE id = ? RETURNING created_at`, name, id).
			Scan(nullTime{&t.CreatedAt})
	})
	if err != nil {
		return nil, wrap("rename team", err)
	}
	return t, nil
}

// DeleteTeam implements console.TeamService.
func (db *DB) DeleteTeam(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM teams WHERE id = ?`, id)
		return mustAffect("delete team", res, err)
	})
}

// AddTeamMember implements console.TeamService.
func (db *DB) AddTeamMember(ctx context.Context, teamID, userID int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO team_members (team_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, teamID, userID)
		return wrap("add team member", err)
	})
}

// RemoveTeamMember implements console.TeamService.
func (db *DB) RemoveTeamMember(ctx context.Context, teamID, userID int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM team_members WHERE team_id = ? AND user_id = ?`, teamID, userID)
		return mustAffect("remove team member", res, err)
	})
}

// FindTeamMembers implements console.TeamService.
func (db *DB) FindTeamMembers(ctx context.Context, teamID int64) ([]int64, error) {
	ids, err := queryAll(ctx, db.r, scanInt64, `SELECT user_id FROM team_members WHERE team_id = ? ORDER BY user_id`, teamID)
	return ids, wrap("find team members", err)
}

func scanInt64(s scanner) (int64, error) {
	var v int64
	err := s.Scan(&v)
	return v, err
}
