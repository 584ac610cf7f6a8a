// Package codes issues and redeems the one-time session codes that an end
// user reads back to a technician, and limits how fast anyone can guess them.
//
// A code is 9 random digits, valid once, for a bounded time. Redeeming a code
// that is wrong, expired or already used yields the same [ErrInvalid], so a
// caller learns nothing about which codes exist. Failed redemptions are
// limited per source network and globally (see [Limiter]).
package codes

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// Digits is the length of a code.
const Digits = 9

// Errors.
var (
	// ErrInvalid is the only answer to a wrong, expired or reused code.
	ErrInvalid = errors.New("codes: invalid or expired code")
	// ErrFull means the store holds its maximum number of live codes.
	ErrFull = errors.New("codes: too many live codes")
)

var codeSpace = big.NewInt(1_000_000_000) // 10^Digits

// Store holds live codes, each bound to a value the caller chooses (the
// relay binds a session id). It is safe for concurrent use.
type Store[V any] struct {
	now func() time.Time
	max int

	mu    sync.Mutex
	codes map[string]entry[V] // guarded by mu
}

type entry[V any] struct {
	value   V
	expires time.Time
}

// NewStore returns a Store that holds at most max live codes. now may be nil
// for time.Now.
func NewStore[V any](max int, now func() time.Time) *Store[V] {
	if now == nil {
		now = time.Now
	}
	return &Store[V]{now: now, max: max, codes: make(map[string]entry[V])}
}

// Create issues a fresh code bound to v, valid for ttl.
func (s *Store[V]) Create(v V, ttl time.Duration) (code string, expires time.Time, err error) {
	now := s.now()
	expires = now.Add(ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.codes) >= s.max {
		s.sweepLocked(now)
		if len(s.codes) >= s.max {
			return "", time.Time{}, ErrFull
		}
	}
	for {
		n, err := rand.Int(rand.Reader, codeSpace)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("codes: random: %w", err)
		}
		code = fmt.Sprintf("%0*d", Digits, n)
		if e, taken := s.codes[code]; !taken || !now.Before(e.expires) {
			s.codes[code] = entry[V]{value: v, expires: expires}
			return code, expires, nil
		}
	}
}

// Redeem consumes code and returns its value. A code can be redeemed once.
func (s *Store[V]) Redeem(code string) (V, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.codes[code]
	delete(s.codes, code)
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, ErrInvalid
	}
	return e.value, nil
}

// Revoke removes code if it is still live, e.g. when its technician leaves.
func (s *Store[V]) Revoke(code string) {
	s.mu.Lock()
	delete(s.codes, code)
	s.mu.Unlock()
}

// Len returns the number of codes held, expired ones not yet swept included.
func (s *Store[V]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.codes)
}

// Sweep drops expired codes. Call it periodically.
func (s *Store[V]) Sweep() {
	now := s.now()
	s.mu.Lock()
	s.sweepLocked(now)
	s.mu.Unlock()
}

func (s *Store[V]) sweepLocked(now time.Time) {
	for c, e := range s.codes {
		if !now.Before(e.expires) {
			delete(s.codes, c)
		}
	}
}
