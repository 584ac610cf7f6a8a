package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"strings"
)

// SecretLen is the entropy of session ids and API tokens: 256 bits.
const SecretLen = 32

// NewSecret returns SecretLen random bytes, base64url without padding.
func NewSecret() (string, error) {
	b := make([]byte, SecretLen)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecret returns the SHA-256 of a secret, which is what the store keeps.
// A fast hash suffices: the secrets are 256-bit random, not passwords.
func HashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// WellFormedSecret reports whether s looks like a NewSecret value, so that
// garbage is refused before any lookup.
func WellFormedSecret(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(SecretLen) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// CSRFToken returns the anti-CSRF token of a login session: an HMAC of a
// fixed label keyed by the session's cookie secret. It is stable for the
// session, unguessable without the cookie, and cannot be derived from the
// stored hash of the cookie.
func CSRFToken(sessionSecret string) string {
	m := hmac.New(sha256.New, []byte(sessionSecret))
	m.Write([]byte("reach csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports in constant time whether token is the session's CSRF
// token.
func CheckCSRF(sessionSecret, token string) bool {
	return hmac.Equal([]byte(CSRFToken(sessionSecret)), []byte(token))
}

// APITokenPrefix starts every API token, so that secret scanners can find
// leaked ones and the API can tell them from other bearer tokens.
const APITokenPrefix = "reach_"

// NewAPIToken returns a fresh API token and the hash to store.
func NewAPIToken() (token string, hash []byte, err error) {
	s, err := NewSecret()
	if err != nil {
		return "", nil, err
	}
	token = APITokenPrefix + s
	return token, HashSecret(token), nil
}

// ParseAPIToken returns the hash of a well-formed API token.
func ParseAPIToken(token string) ([]byte, bool) {
	s, ok := strings.CutPrefix(token, APITokenPrefix)
	if !ok || !WellFormedSecret(s) {
		return nil, false
	}
	return HashSecret(token), true
}

// RecoveryCodeCount is how many recovery codes a user gets.
const RecoveryCodeCount = 10

var recoveryEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewRecoveryCodes returns n one-time codes of 80 bits each, formatted as
// xxxx-xxxx-xxxx-xxxx, and their hashes.
func NewRecoveryCodes(n int) ([]string, [][]byte, error) {
	codes := make([]string, n)
	hashes := make([][]byte, n)
	for i := range n {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, fmt.Errorf("auth: random: %w", err)
		}
		s := strings.ToLower(recoveryEncoding.EncodeToString(b)) // 16 characters
		codes[i] = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
		hashes[i] = HashRecoveryCode(codes[i])
	}
	return codes, hashes, nil
}

// HashRecoveryCode hashes a recovery code as typed: case, spaces and dashes
// do not matter.
func HashRecoveryCode(code string) []byte {
	code = strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(code))
	return HashSecret("reach recovery " + code)
}
