package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFile is the name of the sealing key inside the console's data
// directory: 32 random bytes, mode 0600.
const KeyFile = "secrets.key"

// sealVersion is the first byte of every sealed value, so that the format
// can change.
const sealVersion = 1

// Sealer encrypts small secrets (TOTP secrets, enrollment state) with
// AES-256-GCM under a key that lives in a file, not in the database: a copy
// of the database alone does not reveal them. The additional data binds a
// sealed value to its purpose and owner, so it cannot be moved to another
// user's row.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("auth: sealing key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// LoadOrCreateKey reads the sealing key from dir/KeyFile, creating dir
// (0700) and a fresh key if the file does not exist.
func LoadOrCreateKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, KeyFile)
	key, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(key) != 32 {
			return nil, fmt.Errorf("auth: %s must hold 32 bytes, has %d", path, len(key))
		}
		return key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("auth: %w", err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("auth: generate key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			return LoadOrCreateKey(dir)
		}
		return nil, fmt.Errorf("auth: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("auth: write key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("auth: write key: %w", err)
	}
	return key, nil
}

// Seal encrypts plaintext bound to ad.
func (s *Sealer) Seal(plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("auth: nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:], plaintext, ad), nil
}

// ErrUnseal is returned for a sealed value that is malformed, was sealed
// under another key or for other additional data.
var ErrUnseal = errors.New("auth: sealed value is invalid")

// Open decrypts a value sealed with ad.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrUnseal
	}
	pt, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], ad)
	if err != nil {
		return nil, ErrUnseal
	}
	return pt, nil
}
