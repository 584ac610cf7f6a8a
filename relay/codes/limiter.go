package codes

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// LimiterOptions bound failed redemptions. Zero values take the defaults noted.
type LimiterOptions struct {
	// PerSourceFailures failed attempts from one source network within
	// PerSourceWindow lock that network out for Lockout. Defaults: 10 in 15 minutes.
	PerSourceFailures int
	PerSourceWindow   time.Duration
	// Lockout is how long a source, or everyone after a global flood, is
	// refused. Default 15 minutes for a source; GlobalLockout for everyone.
	Lockout time.Duration
	// GlobalRate and GlobalBurst bound failed attempts per second across all
	// sources. When exceeded, every redemption is refused for GlobalLockout.
	// Defaults: 10/s, burst 100, lockout 30 s. With 10^9 codes this bounds an
	// attacker to about 6,000 guesses per 10-minute code lifetime.
	GlobalRate    float64
	GlobalBurst   int
	GlobalLockout time.Duration
	// MaxSources bounds the memory used for per-source state. Default 100,000;
	// when full, the oldest-idle entries are dropped.
	MaxSources int
}

func (o *LimiterOptions) setDefaults() {
	if o.PerSourceFailures <= 0 {
		o.PerSourceFailures = 10
	}
	if o.PerSourceWindow <= 0 {
		o.PerSourceWindow = 15 * time.Minute
	}
	if o.Lockout <= 0 {
		o.Lockout = 15 * time.Minute
	}
	if o.GlobalRate <= 0 {
		o.GlobalRate = 10
	}
	if o.GlobalBurst <= 0 {
		o.GlobalBurst = 100
	}
	if o.GlobalLockout <= 0 {
		o.GlobalLockout = 30 * time.Second
	}
	if o.MaxSources <= 0 {
		o.MaxSources = 100_000
	}
}

// Limiter decides whether a source may try to redeem a code, and records
// failures. Sources are grouped by network: an IPv4 address, or an IPv6 /64.
// It is safe for concurrent use.
type Limiter struct {
	opts LimiterOptions
	now  func() time.Time

	mu          sync.Mutex
	global      *rate.Limiter              // failed attempts, all sources; guarded by mu
	globalUntil time.Time                  // everyone locked out until then; guarded by mu
	sources     map[netip.Prefix]*failures // guarded by mu
}

type failures struct {
	times       []time.Time // failures within the window, oldest first
	lockedUntil time.Time
	last        time.Time
}

// NewLimiter returns a Limiter. now may be nil for time.Now.
func NewLimiter(opts LimiterOptions, now func() time.Time) *Limiter {
	opts.setDefaults()
	if now == nil {
		now = time.Now
	}
	return &Limiter{
		opts:    opts,
		now:     now,
		global:  rate.NewLimiter(rate.Limit(opts.GlobalRate), opts.GlobalBurst),
		sources: make(map[netip.Prefix]*failures),
	}
}

// SourceOf groups addr into the network that limits apply to.
func SourceOf(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	return p
}

// Allow reports whether src may attempt a redemption now, and if not, how long
// until it may.
func (l *Limiter) Allow(src netip.Addr) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.globalUntil) {
		return false, l.globalUntil.Sub(now)
	}
	if f := l.sources[SourceOf(src)]; f != nil && now.Before(f.lockedUntil) {
		return false, f.lockedUntil.Sub(now)
	}
	return true, 0
}

// Fail records a failed redemption from src.
func (l *Limiter) Fail(src netip.Addr) {
	now := l.now()
	key := SourceOf(src)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.global.AllowN(now, 1) {
		l.globalUntil = now.Add(l.opts.GlobalLockout)
	}
	f := l.sources[key]
	if f == nil {
		if len(l.sources) >= l.opts.MaxSources {
			l.evictLocked(now)
		}
		f = &failures{}
		l.sources[key] = f
	}
	f.last = now
	cut := 0
	for cut < len(f.times) && now.Sub(f.times[cut]) >= l.opts.PerSourceWindow {
		cut++
	}
	f.times = append(f.times[cut:], now)
	if len(f.times) >= l.opts.PerSourceFailures {
		f.lockedUntil = now.Add(l.opts.Lockout)
		f.times = f.times[:0]
	}
}

// evictLocked drops sources whose state no longer matters, and if none, the
// one idle longest.
func (l *Limiter) evictLocked(now time.Time) {
	var oldestKey netip.Prefix
	var oldest time.Time
	for k, f := range l.sources {
		if now.After(f.lockedUntil) && now.Sub(f.last) >= l.opts.PerSourceWindow {
			delete(l.sources, k)
			continue
		}
		if oldest.IsZero() || f.last.Before(oldest) {
			oldestKey, oldest = k, f.last
		}
	}
	if len(l.sources) >= l.opts.MaxSources {
		delete(l.sources, oldestKey)
	}
}

// Sweep forgets sources with no recent failures and no lockout. Call it periodically.
func (l *Limiter) Sweep() {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, f := range l.sources {
		if now.After(f.lockedUntil) && now.Sub(f.last) >= l.opts.PerSourceWindow {
			delete(l.sources, k)
		}
	}
}
