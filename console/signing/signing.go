// Package signing holds the console's Ed25519 token-signing key and issues
// the short-lived tokens that technicians, devices and the console itself
// present to the relay. The relay only ever sees the public key.
package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/reachdesk/reach/proto"
)

// File names inside the key directory.
const (
	PrivateKeyFile = "signing.key" // PKCS #8 PEM, mode 0600
	PublicKeyFile  = "signing.pub" // PKIX PEM, for relays
)

// Signer issues tokens with the console's key.
type Signer struct {
	key ed25519.PrivateKey
	now func() time.Time
}

// New returns a Signer for key; now may be nil for time.Now.
func New(key ed25519.PrivateKey, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, now: now}
}

// LoadOrCreate reads the key pair from dir, creating the directory (0700)
// and a fresh key pair if there is none.
func LoadOrCreate(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, PrivateKeyFile)
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := proto.ParsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("signing: %s: %w", path, err)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("signing: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("signing: generate key: %w", err)
	}
	priv, err := proto.MarshalPrivateKey(key)
	if err != nil {
		return nil, err
	}
	pub, err := proto.MarshalPublicKey(key.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	if err := os.WriteFile(path, priv, 0o600); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, PublicKeyFile), pub, 0o644); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return key, nil
}

// PublicKey returns the key relays verify tokens with.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Issue signs claims for audience, valid for ttl from now. Claims' kind,
// subject and kind-specific fields must be set by the caller.
func (s *Signer) Issue(c proto.Claims, audience string, ttl time.Duration) (string, error) {
	now := s.now()
	c.Audience = jwt.ClaimStrings{audience}
	c.IssuedAt = jwt.NewNumericDate(now)
	c.ExpiresAt = jwt.NewNumericDate(now.Add(ttl))
	if c.ID == "" {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("signing: %w", err)
		}
		c.ID = fmt.Sprintf("%x", b)
	}
	return proto.SignToken(s.key, c, now)
}
