package console

import (
	"context"
	"time"
)

// LoginSession is a browser's signed-in session. The browser holds a random
// secret in a cookie; only a hash of it is stored, so a copy of the database
// cannot be used to sign in.
type LoginSession struct {
	ID     int64
	UserID int64
	Hash   []byte // SHA-256 of the cookie secret; unique
	// MFAPending marks a session whose password step succeeded while the
	// TOTP step is still due; it allows nothing but that step.
	MFAPending bool
	UserAgent  string // as the browser sent it, truncated
	Address    string // client address at sign-in
	CreatedAt  time.Time
	LastSeenAt time.Time // last request, at the auth layer's granularity
	ExpiresAt  time.Time // absolute expiry
}

// Login session bounds.
const (
	MaxUserAgentLen = 256
	MaxAddressLen   = 64
)

// Validate checks the session's fields and bounds.
func (s *LoginSession) Validate() error {
	switch {
	case s.UserID <= 0:
		return Errorf(CodeInvalid, "login session needs a user")
	case s.ExpiresAt.IsZero():
		return Errorf(CodeInvalid, "login session needs an expiry")
	}
	if err := checkHash("session hash", s.Hash); err != nil {
		return err
	}
	if err := checkText("user agent", s.UserAgent, MaxUserAgentLen, false); err != nil {
		return err
	}
	return checkText("address", s.Address, MaxAddressLen, false)
}

// MaxRecoveryCodes bounds the recovery codes of one user.
const MaxRecoveryCodes = 20

// AuthService stores sign-in state: login sessions, the last TOTP time step
// each user consumed, and two-factor recovery codes.
type AuthService interface {
	// CreateLoginSession stores s and sets its ID; CreatedAt and LastSeenAt
	// default to the store's now.
	CreateLoginSession(ctx context.Context, s *LoginSession) error
	// FindLoginSessionByHash returns the session with hash, ErrNotFound if
	// none. Expiry is the caller's check.
	FindLoginSessionByHash(ctx context.Context, hash []byte) (*LoginSession, error)
	// TouchLoginSession records activity at t; an earlier t is ignored.
	TouchLoginSession(ctx context.Context, id int64, t time.Time) error
	// DeleteLoginSession removes one session (sign-out).
	DeleteLoginSession(ctx context.Context, id int64) error
	// DeleteUserLoginSessions removes every session of a user, except the
	// one with ID keep if it is not zero, and returns how many it removed.
	DeleteUserLoginSessions(ctx context.Context, userID, keep int64) (int, error)
	// DeleteExpiredLoginSessions removes sessions whose absolute expiry is
	// at or before now or that were last seen before now minus idle.
	DeleteExpiredLoginSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error)

	// UseTOTPStep records that the user signed in with the TOTP code of time
	// step; ErrConflict if that step or a later one was already used, so a
	// code is never accepted twice. ErrNotFound if the user does not exist.
	UseTOTPStep(ctx context.Context, userID, step int64) error

	// SetRecoveryCodes replaces the user's recovery codes by these hashes
	// (nil removes them all).
	SetRecoveryCodes(ctx context.Context, userID int64, hashes [][]byte) error
	// UseRecoveryCode removes the user's recovery code with hash;
	// ErrNotFound if there is none, so each code works once.
	UseRecoveryCode(ctx context.Context, userID int64, hash []byte) error
	// CountRecoveryCodes returns how many unused codes the user has.
	CountRecoveryCodes(ctx context.Context, userID int64) (int, error)

	// FinishSession sets a remote session's EndedAt to at (and StartedAt to
	// at if it never started) and its EndReason, only if it has not ended
	// yet: of concurrent calls exactly one succeeds, the others get
	// ErrConflict. ErrNotFound if there is no such session.
	FinishSession(ctx context.Context, id int64, at time.Time, reason string) (*Session, error)
}

// MaxRelaySIDLen bounds Session.RelaySID.
const MaxRelaySIDLen = 64
