package auth

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// ThrottleOptions configures a Throttle. Zero fields take the defaults in
// brackets.
type ThrottleOptions struct {
	Window       time.Duration // failures count within this window [15m]
	AccountLimit int           // failures of one account that lock it [5]
	AddressLimit int           // failures from one address that lock it [20]
	Lockout      time.Duration // how long a lock lasts [15m]
	MaxKeys      int           // accounts and addresses tracked [100000]
	Now          func() time.Time
}

// Throttle slows password guessing: too many failed sign-ins for one
// account, or from one client address (IPv4 /32, IPv6 /64), lock further
// attempts for a while. Locks are per console node; the client learns only
// when to retry, never whether the account exists.
type Throttle struct {
	opts ThrottleOptions

	mu        sync.Mutex
	accounts  map[string]*bucket // guarded by mu
	addresses map[string]*bucket // guarded by mu
}

type bucket struct {
	first    time.Time // of the failures counted
	failures int
	locked   time.Time // until
}

// NewThrottle returns a Throttle.
func NewThrottle(opts ThrottleOptions) *Throttle {
	if opts.Window <= 0 {
		opts.Window = 15 * time.Minute
	}
	if opts.AccountLimit <= 0 {
		opts.AccountLimit = 5
	}
	if opts.AddressLimit <= 0 {
		opts.AddressLimit = 20
	}
	if opts.Lockout <= 0 {
		opts.Lockout = 15 * time.Minute
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = 100_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Throttle{opts: opts, accounts: map[string]*bucket{}, addresses: map[string]*bucket{}}
}

// AddressKey returns the throttling key of a client address: the address
// for IPv4, its /64 for IPv6, "" if it does not parse.
func AddressKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

func accountKey(account string) string { return strings.ToLower(strings.TrimSpace(account)) }

// Check returns how long the caller must wait before another attempt for
// account from address; zero means go ahead. Either may be empty.
func (t *Throttle) Check(account, address string) time.Duration {
	now := t.opts.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	if b := t.accounts[accountKey(account)]; account != "" && b != nil && now.Before(b.locked) {
		wait = b.locked.Sub(now)
	}
	if b := t.addresses[AddressKey(address)]; address != "" && b != nil && now.Before(b.locked) {
		wait = max(wait, b.locked.Sub(now))
	}
	return wait
}

// Fail records a failed attempt.
func (t *Throttle) Fail(account, address string) {
	now := t.opts.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if account != "" {
		t.fail(t.accounts, accountKey(account), t.opts.AccountLimit, now)
	}
	if k := AddressKey(address); k != "" {
		t.fail(t.addresses, k, t.opts.AddressLimit, now)
	}
}

// Succeed forgets the failures of account (not of the address, so that an
// attacker cannot reset it with an account of their own).
func (t *Throttle) Succeed(account string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.accounts, accountKey(account))
}

func (t *Throttle) fail(m map[string]*bucket, key string, limit int, now time.Time) {
	b := m[key]
	if b == nil {
		if len(m) >= t.opts.MaxKeys {
			t.sweep(m, now)
		}
		b = &bucket{}
		m[key] = b
	}
	if now.Sub(b.first) > t.opts.Window {
		b.first, b.failures = now, 0
	}
	b.failures++
	if b.failures >= limit {
		b.locked = now.Add(t.opts.Lockout)
		b.first, b.failures = now, 0
	}
}

// sweep drops entries with no lock and no failures in the window; if the map
// is still full it is cleared, which bounds memory at the price of
// forgetting (documented in docs/security.md).
func (t *Throttle) sweep(m map[string]*bucket, now time.Time) {
	for k, b := range m {
		if !now.Before(b.locked) && now.Sub(b.first) > t.opts.Window {
			delete(m, k)
		}
	}
	if len(m) >= t.opts.MaxKeys {
		clear(m)
	}
}
