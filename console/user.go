package console

import (
	"context"
	"fmt"
	"time"
)

// Role is what a user may do across the console.
type Role string

// Roles.
const (
	RoleAdmin      Role = "admin"      // everything, including users and settings
	RoleTechnician Role = "technician" // works tickets and devices, at a Level
	RoleViewer     Role = "viewer"     // reads only
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleTechnician, RoleViewer:
		return true
	}
	return false
}

// Level is a support tier: a technician's level and a ticket's escalation
// level. The zero Level means "none" (admins and viewers have none).
type Level int

// Support levels.
const (
	L1 Level = 1
	L2 Level = 2
	L3 Level = 3
)

// Valid reports whether l is L1, L2 or L3.
func (l Level) Valid() bool { return l >= L1 && l <= L3 }

// String returns "L1", "L2", "L3" or "none".
func (l Level) String() string {
	if !l.Valid() {
		return "none"
	}
	return fmt.Sprintf("L%d", int(l))
}

// User is a person who signs in to the console.
type User struct {
	ID    int64
	Email string // unique, compared case-insensitively
	Name  string

	// PasswordHash is an encoded argon2id or bcrypt hash; empty means the
	// user cannot sign in with a password.
	PasswordHash string
	Role         Role
	Level        Level // technicians only; zero otherwise

	// TOTPSecret is the two-factor secret; nil means 2FA is not enrolled.
	// It is stored as given: encrypting it at rest under a key outside the
	// database is the auth layer's job (not done yet).
	TOTPSecret []byte
	Disabled   bool

	CreatedAt time.Time
	UpdatedAt time.Time
}

// User bounds.
const (
	MaxPasswordHashLen = 512
	MaxTOTPSecretLen   = 128
)

// Validate checks the user's fields and bounds.
func (u *User) Validate() error {
	if err := checkEmail("email", u.Email, true); err != nil {
		return err
	}
	if err := checkText("name", u.Name, MaxNameLen, true); err != nil {
		return err
	}
	if err := checkText("password hash", u.PasswordHash, MaxPasswordHashLen, false); err != nil {
		return err
	}
	if !u.Role.Valid() {
		return Errorf(CodeInvalid, "unknown role %q", u.Role)
	}
	switch {
	case u.Role == RoleTechnician && !u.Level.Valid():
		return Errorf(CodeInvalid, "a technician needs a level L1, L2 or L3")
	case u.Role != RoleTechnician && u.Level != 0:
		return Errorf(CodeInvalid, "only technicians have a level")
	}
	if len(u.TOTPSecret) > MaxTOTPSecretLen {
		return Errorf(CodeInvalid, "TOTP secret is longer than %d bytes", MaxTOTPSecretLen)
	}
	return nil
}

// UserUpdate changes the non-nil fields of a user.
type UserUpdate struct {
	Email        *string
	Name         *string
	PasswordHash *string
	Role         *Role
	Level        *Level
	TOTPSecret   *[]byte // a pointer to nil removes 2FA
	Disabled     *bool
}

// Apply copies the non-nil fields of upd into u.
func (upd UserUpdate) Apply(u *User) {
	set(&u.Email, upd.Email)
	set(&u.Name, upd.Name)
	set(&u.PasswordHash, upd.PasswordHash)
	set(&u.Role, upd.Role)
	set(&u.Level, upd.Level)
	set(&u.TOTPSecret, upd.TOTPSecret)
	set(&u.Disabled, upd.Disabled)
}

// set copies *src into *dst when src is not nil.
func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// UserFilter selects users. Zero fields match everything.
type UserFilter struct {
	Role     Role
	Disabled *bool
	AfterID  int64 // keyset: users with a greater ID
	Limit    int   // see PageLimit
}

// APIToken lets automation call the API as a user. Only a hash of the
// secret is stored.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	Hash       []byte    // SHA-256 (or stronger) of the secret; unique
	ExpiresAt  time.Time // zero: never
	LastUsedAt time.Time // zero: never used
	CreatedAt  time.Time
}

// Validate checks the token's fields and bounds.
func (t *APIToken) Validate() error {
	if t.UserID <= 0 {
		return Errorf(CodeInvalid, "token needs a user")
	}
	if err := checkText("token name", t.Name, MaxNameLen, true); err != nil {
		return err
	}
	return checkHash("token hash", t.Hash)
}

// UserService stores users and their API tokens.
type UserService interface {
	// CreateUser stores u and sets its ID and timestamps; ErrConflict if the
	// email is taken.
	CreateUser(ctx context.Context, u *User) error
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserByEmail matches the email case-insensitively.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	// FindUsers returns users in ID order.
	FindUsers(ctx context.Context, f UserFilter) ([]*User, error)
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) (*User, error)
	// DeleteUser removes the user and its tokens; tickets, comments and
	// events they authored keep a null author.
	DeleteUser(ctx context.Context, id int64) error

	CreateAPIToken(ctx context.Context, t *APIToken) error
	// FindAPITokenByHash returns the token with hash, ErrNotFound if none.
	// Expiry is the caller's check.
	FindAPITokenByHash(ctx context.Context, hash []byte) (*APIToken, error)
	FindAPITokens(ctx context.Context, userID int64) ([]*APIToken, error)
	// TouchAPIToken records a use of the token at t.
	TouchAPIToken(ctx context.Context, id int64, t time.Time) error
	DeleteAPIToken(ctx context.Context, id int64) error
}

// Team is an assignment group that tickets are routed to ("Service desk",
// "Network"). It is unrelated to a DeviceGroup.
type Team struct {
	ID        int64
	Name      string // unique, compared case-insensitively
	CreatedAt time.Time
}

// Validate checks the team's fields and bounds.
func (t *Team) Validate() error { return checkText("team name", t.Name, MaxNameLen, true) }

// TeamService stores teams and their members.
type TeamService interface {
	CreateTeam(ctx context.Context, t *Team) error
	FindTeamByID(ctx context.Context, id int64) (*Team, error)
	// FindTeams returns all teams by name, or the teams of userID if it is
	// not zero.
	FindTeams(ctx context.Context, userID int64) ([]*Team, error)
	RenameTeam(ctx context.Context, id int64, name string) (*Team, error)
	// DeleteTeam removes the team; its tickets become unassigned to a team.
	DeleteTeam(ctx context.Context, id int64) error
	// AddTeamMember is idempotent.
	AddTeamMember(ctx context.Context, teamID, userID int64) error
	RemoveTeamMember(ctx context.Context, teamID, userID int64) error
	// FindTeamMembers returns the members' user IDs in ascending order.
	FindTeamMembers(ctx context.Context, teamID int64) ([]int64, error)
}
