// Package auth holds the console's sign-in primitives: argon2id password
// hashing (bcrypt hashes are still verified), TOTP two-factor codes with
// secrets sealed under a key kept outside the database, login throttling,
// and the random secrets behind session cookies, CSRF tokens, API tokens
// and recovery codes. It knows nothing of HTTP; console/api wires it up.
package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultParams follow RFC 9106's second recommended option (64 MiB, three
// passes) with two lanes, for a console on a small server: about 0.1 s per
// hash on one core of a current machine.
var DefaultParams = Params{Memory: 64 << 10, Time: 3, Threads: 2}

// Bounds on parameters read back from stored hashes, so that a tampered
// hash cannot make a verification allocate without limit.
const (
	maxMemory  = 1 << 20 // 1 GiB in KiB
	maxTime    = 16
	saltLen    = 16
	keyLen     = 32
	MaxPassLen = 1024 // bytes; longer passwords are refused before hashing
	MinPassLen = 12   // characters a new password needs
)

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("auth: password does not match")

// Hasher hashes and verifies passwords. It bounds how many hashes run at
// once, since each holds Params.Memory.
type Hasher struct {
	params Params
	slots  chan struct{}
	dummy  string // a hash of nothing, verified for unknown users
}

// NewHasher returns a Hasher with params (DefaultParams if zero) that runs at
// most concurrent hashes at once (4 if zero or less).
func NewHasher(params Params, concurrent int) *Hasher {
	if params == (Params{}) {
		params = DefaultParams
	}
	if concurrent <= 0 {
		concurrent = 4
	}
	h := &Hasher{params: params, slots: make(chan struct{}, concurrent)}
	h.dummy = h.encode(make([]byte, saltLen), []byte("reach: no such user"))
	return h
}

// Hash returns the PHC-encoded argon2id hash of password:
// $argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash> with unpadded base64.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPassLen {
		return "", fmt.Errorf("auth: password longer than %d bytes", MaxPassLen)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.encode(salt, []byte(password)), nil
}

func (h *Hasher) encode(salt, password []byte) string {
	p := h.params
	key := argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify checks password against an encoded argon2id or bcrypt hash; it
// returns ErrMismatch if they do not match. An empty hash (no password set)
// never matches, but costs as much time as a real check, as does
// VerifyNone, so that response times do not reveal which users exist.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) error {
	if len(password) > MaxPassLen {
		return ErrMismatch
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	switch {
	case encoded == "":
		h.verifyArgon2(h.dummy, password)
		return ErrMismatch
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		if err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)); err != nil {
			if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
				return ErrMismatch
			}
			return fmt.Errorf("auth: bcrypt hash: %w", err)
		}
		return nil
	}
	return h.verifyArgon2(encoded, password)
}

// VerifyNone spends the time of a verification and fails; callers use it
// when the user does not exist.
func (h *Hasher) VerifyNone(ctx context.Context, password string) error {
	return h.Verify(ctx, "", password)
}

func (h *Hasher) verifyArgon2(encoded, password string) error {
	p, salt, key, err := decodeArgon2(encoded)
	if err != nil {
		return err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return ErrMismatch
	}
	return nil
}

// NeedsRehash reports whether encoded should be replaced by a fresh Hash
// after a successful sign-in: it is bcrypt or uses other parameters.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decodeArgon2(encoded)
	return err != nil || p != h.params
}

// decodeArgon2 parses a PHC argon2id string.
func decodeArgon2(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("auth: not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errors.New("auth: unsupported argon2 version")
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 {
		return p, nil, nil, errors.New("auth: bad argon2 parameters")
	}
	if p.Memory < 8 || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || threads < 1 || threads > 255 {
		return p, nil, nil, errors.New("auth: argon2 parameters out of range")
	}
	p.Threads = uint8(threads)
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errors.New("auth: bad argon2 salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errors.New("auth: bad argon2 key")
	}
	return p, salt, key, nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// CheckNewPassword returns a client-safe reason why password is not
// acceptable as a new password, or "" if it is. Policy (NIST SP 800-63B):
// at least MinPassLen characters, at most MaxPassLen bytes, not only
// whitespace, not the email address; no composition rules.
func CheckNewPassword(password, email string) string {
	switch {
	case len([]rune(password)) < MinPassLen:
		return fmt.Sprintf("password must have at least %d characters", MinPassLen)
	case len(password) > MaxPassLen:
		return fmt.Sprintf("password must be at most %d bytes", MaxPassLen)
	case strings.TrimSpace(password) == "":
		return "password must not be blank"
	case email != "" && strings.EqualFold(strings.TrimSpace(password), email):
		return "password must not be the email address"
	case bytes.IndexByte([]byte(password), 0) >= 0:
		return "password must not contain NUL"
	}
	return ""
}
