package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/reachdesk/reach/console"
)

const userCols = `id, email, name, password_hash, role, level, totp_secret, disabled, created_at, updated_at`

func scanUser(s pgx.Row) (*console.User, error) {
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
	err := db.pool.QueryRow(ctx, `INSERT INTO users (email, name, password_hash, role, level, totp_secret, disabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
		u.Email, u.Name, u.PasswordHash, u.Role, u.Level, u.TOTPSecret, u.Disabled, now).Scan(&u.ID)
	if err != nil {
		return wrap("create user", err)
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return nil
}

// FindUserByID implements console.UserService.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*console.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("find user", err)
	}
	return u, nil
}

// FindUserByEmail implements console.UserService.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*console.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE lower(email) = lower($1)`, email))
	if err != nil {
		return nil, wrap("find user", err)
	}
	return u, nil
}

// FindUsers implements console.UserService.
func (db *DB) FindUsers(ctx context.Context, f console.UserFilter) ([]*console.User, error) {
	var a args
	q := `SELECT ` + userCols + ` FROM users WHERE id > ` + a.add(f.AfterID)
	if f.Role != "" {
		q += ` AND role = ` + a.add(f.Role)
	}
	if f.Disabled != nil {
		q += ` AND disabled = ` + a.add(*f.Disabled)
	}
	q += ` ORDER BY id LIMIT ` + a.add(console.PageLimit(f.Limit))
	us, err := queryAll(ctx, db.pool, scanUser, q, a...)
	return us, wrap("find users", err)
}

// UpdateUser implements console.UserService.
func (db *DB) UpdateUser(ctx context.Context, id int64, upd console.UserUpdate) (*console.User, error) {
	var u *console.User
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1 FOR UPDATE`, id)); err != nil {
			return err
		}
		upd.Apply(u)
		if err := u.Validate(); err != nil {
			return err
		}
		u.UpdatedAt = db.nowUTC()
		_, err = tx.Exec(ctx, `UPDATE users SET email = $1, name = $2, password_hash = $3, role = $4, level = $5,
			totp_secret = $6, disabled = $7, updated_at = $8 WHERE id = $9`,
			u.Email, u.Name, u.PasswordHash, u.Role, u.Level, u.TOTPSecret, u.Disabled, u.UpdatedAt, id)
		return err
	})
	if err != nil {
		return nil, wrap("update user", err)
	}
	return u, nil
}

// DeleteUser implements console.UserService.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	return mustAffect("delete user", tag, err)
}

const tokenCols = `id, user_id, name, hash, expires_at, last_used_at, created_at`

func scanToken(s pgx.Row) (*console.APIToken, error) {
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
	err := db.pool.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, hash, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, t.UserID, t.Name, t.Hash, tv(t.ExpiresAt), t.CreatedAt).Scan(&t.ID)
	return missing("create API token", "user", err)
}

// FindAPITokenByHash implements console.UserService.
func (db *DB) FindAPITokenByHash(ctx context.Context, hash []byte) (*console.APIToken, error) {
	t, err := scanToken(db.pool.QueryRow(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = $1`, hash))
	if err != nil {
		return nil, wrap("find API token", err)
	}
	return t, nil
}

// FindAPITokens implements console.UserService.
func (db *DB) FindAPITokens(ctx context.Context, userID int64) ([]*console.APIToken, error) {
	ts, err := queryAll(ctx, db.pool, scanToken, `SELECT `+tokenCols+` FROM api_tokens WHERE user_id = $1 ORDER BY id`, userID)
	return ts, wrap("find API tokens", err)
}

// TouchAPIToken implements console.UserService.
func (db *DB) TouchAPIToken(ctx context.Context, id int64, t time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, tv(norm(t)), id)
	return mustAffect("touch API token", tag, err)
}

// DeleteAPIToken implements console.UserService.
func (db *DB) DeleteAPIToken(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM api_tokens WHERE id = $1`, id)
	return mustAffect("delete API token", tag, err)
}

// CreateTeam implements console.TeamService.
func (db *DB) CreateTeam(ctx context.Context, t *console.Team) error {
	if err := t.Validate(); err != nil {
		return err
	}
	t.CreatedAt = db.nowUTC()
	err := db.pool.QueryRow(ctx, `INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING id`, t.Name, t.CreatedAt).Scan(&t.ID)
	return wrap("create team", err)
}

func scanTeam(s pgx.Row) (*console.Team, error) {
	var t console.Team
	err := s.Scan(&t.ID, &t.Name, nullTime{&t.CreatedAt})
	return &t, err
}

// FindTeamByID implements console.TeamService.
func (db *DB) FindTeamByID(ctx context.Context, id int64) (*console.Team, error) {
	t, err := scanTeam(db.pool.QueryRow(ctx, `SELECT id, name, created_at FROM teams WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("find team", err)
	}
	return t, nil
}

// FindTeams implements console.TeamService.
func (db *DB) FindTeams(ctx context.Context, userID int64) ([]*console.Team, error) {
	q, a := `SELECT id, name, created_at FROM teams ORDER BY lower(name), id`, args(nil)
	if userID != 0 {
		q = `SELECT t.id, t.name, t.created_at FROM teams t JOIN team_members m ON m.team_id = t.id
			WHERE m.user_id = $1 ORDER BY lower(t.name), t.id`
		a = args{userID}
	}
	ts, err := queryAll(ctx, db.pool, scanTeam, q, a...)
	return ts, wrap("find teams", err)
}

// RenameTeam implements console.TeamService.
func (db *DB) RenameTeam(ctx context.Context, id int64, name string) (*console.Team, error) {
	t := &console.Team{ID: id, Name: name}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	err := db.pool.QueryRow(ctx, `UPDATE teams SET name = $1 WHERE id = $2 RETURNING created_at`, name, id).Scan(nullTime{&t.CreatedAt})
	if err != nil {
		return nil, wrap("rename team", err)
	}
	return t, nil
}

// DeleteTeam implements console.TeamService.
func (db *DB) DeleteTeam(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM teams WHERE id = $1`, id)
	return mustAffect("delete team", tag, err)
}

// AddTeamMember implements console.TeamService.
func (db *DB) AddTeamMember(ctx context.Context, teamID, userID int64) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, teamID, userID)
	return wrap("add team member", err)
}

// RemoveTeamMember implements console.TeamService.
func (db *DB) RemoveTeamMember(ctx context.Context, teamID, userID int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM team_members WHERE team_id = $1 AND user_id = $2`, teamID, userID)
	return mustAffect("remove team member", tag, err)
}

// FindTeamMembers implements console.TeamService.
func (db *DB) FindTeamMembers(ctx context.Context, teamID int64) ([]int64, error) {
	ids, err := queryAll(ctx, db.pool, scanInt64, `SELECT user_id FROM team_members WHERE team_id = $1 ORDER BY user_id`, teamID)
	return ids, wrap("find team members", err)
}

func scanInt64(s pgx.Row) (int64, error) {
	var v int64
	err := s.Scan(&v)
	return v, err
}
