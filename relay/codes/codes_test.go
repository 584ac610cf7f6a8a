package codes

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestCodeIsOneTimeAndExpires(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	s := NewStore[string](10, clk.now)
	code, exp, err := s.Create("sid-1", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != Digits || !exp.Equal(clk.now().Add(10*time.Minute)) {
		t.Fatalf("code %q expires %v", code, exp)
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			t.Fatalf("code %q has a non-digit", code)
		}
	}
	v, err := s.Redeem(code)
	if err != nil || v != "sid-1" {
		t.Fatalf("Redeem = %q, %v", v, err)
	}
	if _, err := s.Redeem(code); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second redeem: %v, want ErrInvalid", err)
	}

	code2, _, _ := s.Create("sid-2", time.Minute)
	clk.add(time.Minute)
	if _, err := s.Redeem(code2); !errors.Is(err, ErrInvalid) {
		t.Fatalf("expired redeem: %v, want ErrInvalid", err)
	}
	if _, err := s.Redeem("000000000"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown redeem: %v, want ErrInvalid", err)
	}
}

func TestStoreBoundsLiveCodes(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	s := NewStore[int](3, clk.now)
	for i := range 3 {
		if _, _, err := s.Create(i, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Create(4, time.Minute); !errors.Is(err, ErrFull) {
		t.Fatalf("4th code: %v, want ErrFull", err)
	}
	clk.add(2 * time.Minute) // all expire: room again
	if _, _, err := s.Create(5, time.Minute); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d after sweep, want 1", s.Len())
	}
}

func TestCodesAreUniqueAndSpread(t *testing.T) {
	s := NewStore[int](20000, nil)
	seen := map[string]bool{}
	firstDigit := map[byte]int{}
	for i := range 10000 {
		c, _, err := s.Create(i, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if seen[c] {
			t.Fatalf("duplicate live code %s", c)
		}
		seen[c] = true
		firstDigit[c[0]]++
	}
	// Uniform digits: each leading digit ~1000 of 10000. Leading zeros must occur.
	for d := byte('0'); d <= '9'; d++ {
		if n := firstDigit[d]; n < 800 || n > 1200 {
			t.Fatalf("leading digit %c appears %d times in 10000 codes", d, n)
		}
	}
}

func TestLimiterLocksOutSource(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := NewLimiter(LimiterOptions{PerSourceFailures: 3, Lockout: time.Minute, GlobalRate: 1000, GlobalBurst: 1000}, clk.now)
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("192.0.2.2")
	for range 2 {
		if ok, _ := l.Allow(a); !ok {
			t.Fatal("refused before the limit")
		}
		l.Fail(a)
	}
	l.Fail(a)
	if ok, wait := l.Allow(a); ok || wait != time.Minute {
		t.Fatalf("after 3 failures Allow = %v, %v; want locked for 1m", ok, wait)
	}
	if ok, _ := l.Allow(b); !ok {
		t.Fatal("another source was locked out")
	}
	clk.add(time.Minute)
	if ok, _ := l.Allow(a); !ok {
		t.Fatal("still locked after the lockout")
	}
}

func TestLimiterWindowForgetsOldFailures(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := NewLimiter(LimiterOptions{PerSourceFailures: 3, PerSourceWindow: time.Minute, GlobalRate: 1000, GlobalBurst: 1000}, clk.now)
	a := netip.MustParseAddr("192.0.2.1")
	l.Fail(a)
	l.Fail(a)
	clk.add(2 * time.Minute)
	l.Fail(a)
	if ok, _ := l.Allow(a); !ok {
		t.Fatal("failures outside the window counted")
	}
}

func TestLimiterGroupsIPv6By64(t *testing.T) {
	l := NewLimiter(LimiterOptions{PerSourceFailures: 2, GlobalRate: 1000, GlobalBurst: 1000}, nil)
	l.Fail(netip.MustParseAddr("2001:db8::1"))
	l.Fail(netip.MustParseAddr("2001:db8::ffff:2"))
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8::3")); ok {
		t.Fatal("rotating addresses inside one /64 escaped the limit")
	}
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8:0:1::1")); !ok {
		t.Fatal("a different /64 was locked out")
	}
}

func TestLimiterGlobalLockout(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	l := NewLimiter(LimiterOptions{PerSourceFailures: 1000, GlobalRate: 1, GlobalBurst: 5, GlobalLockout: 30 * time.Second}, clk.now)
	// A distributed guesser: one failure from each of many addresses.
	for i := range 6 {
		l.Fail(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}))
	}
	fresh := netip.MustParseAddr("203.0.113.9")
	if ok, wait := l.Allow(fresh); ok || wait != 30*time.Second {
		t.Fatalf("after a global flood Allow = %v, %v; want refused for 30s", ok, wait)
	}
	clk.add(30 * time.Second)
	if ok, _ := l.Allow(fresh); !ok {
		t.Fatal("still refused after the global lockout")
	}
}

func TestLimiterBoundsMemory(t *testing.T) {
	l := NewLimiter(LimiterOptions{MaxSources: 100, GlobalRate: 1e6, GlobalBurst: 1e6}, nil)
	for i := range 1000 {
		l.Fail(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	l.mu.Lock()
	n := len(l.sources)
	l.mu.Unlock()
	if n > 100 {
		t.Fatalf("limiter holds %d sources, max 100", n)
	}
}
