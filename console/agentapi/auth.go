package agentapi

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
	wire "github.com/reachdesk/reach/proto/agentapi"
	"golang.org/x/time/rate"
)

// ctxKey keys the authenticated device in a request's context.
type ctxKey struct{}

// deviceFrom returns the device a signed request came from.
func deviceFrom(ctx context.Context) *console.Device {
	d, _ := ctx.Value(ctxKey{}).(*console.Device)
	return d
}

// maxNonces bounds the replay cache; past it, signed requests are refused
// with 503 until old nonces age out (2·MaxSkew).
const maxNonces = 1 << 20

// signed wraps h with request-signature checks: it reads the body (at most
// max bytes), verifies the Authorization header against the device's
// enrolled key, the clock skew and the nonce, records that the device was
// seen, and passes the body on.
func (s *Server) signed(max int64, h func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := wire.ParseAuth(r.Header.Get("Authorization"))
		if err != nil {
			writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "missing or malformed signature")
			return
		}
		var body []byte
		if max > 0 {
			var ok bool
			if body, ok = readBody(w, r, max); !ok {
				return
			}
		}
		now := s.opts.Now()
		if d := now.Sub(time.Unix(a.Timestamp, 0)); d > wire.MaxSkew || d < -wire.MaxSkew {
			w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
			writeError(w, http.StatusUnauthorized, wire.CodeClockSkew, "the request's time is more than 5 minutes from the console's; see the Date header")
			return
		}
		dev, err := s.store.FindDeviceByID(r.Context(), a.DeviceID)
		if console.ErrorCode(err) == console.CodeNotFound {
			writeError(w, http.StatusUnauthorized, wire.CodeUnknownDevice, "this device is not enrolled")
			return
		}
		if err != nil {
			s.writeStoreError(w, "find device", err)
			return
		}
		if !a.Verify(dev.PublicKey, r.Method, r.URL.RequestURI(), body) {
			writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "bad signature")
			return
		}
		switch s.nonces.use(a.DeviceID, a.Nonce, now) {
		case nonceReplayed:
			writeError(w, http.StatusUnauthorized, wire.CodeUnauthorized, "replayed request")
			return
		case nonceFull:
			s.log.Warn("agentapi: nonce cache full")
			writeError(w, http.StatusServiceUnavailable, wire.CodeUnavailable, "busy, retry later")
			return
		}
		s.touch(r.Context(), dev.ID, now)
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, dev)), body)
	})
}

// touchEvery is how often a device's LastSeenAt is written at most: an
// idle agent polls every 50 s, and "last seen 3 minutes ago" is precise
// enough (presence comes from the relay).
const touchEvery = 5 * time.Minute

// touch records that device id was seen, at most once per touchEvery.
func (s *Server) touch(ctx context.Context, id int64, now time.Time) {
	s.touchMu.Lock()
	last, ok := s.touched[id]
	if ok && now.Sub(last) < touchEvery {
		s.touchMu.Unlock()
		return
	}
	s.touched[id] = now
	if len(s.touched) > 1<<20 { // bound: forget everyone, costing one write each
		clear(s.touched)
	}
	s.touchMu.Unlock()
	if err := s.store.TouchDevice(ctx, id, now); err != nil && ctx.Err() == nil {
		s.log.Warn("agentapi: touch device", "device", id, "err", err)
	}
}

// nonceCache remembers the nonces of recent signed requests. Timestamps are
// accepted within MaxSkew of now, so a nonce needs remembering for
// 2·MaxSkew; two generations of 2·MaxSkew each cover that.
type nonceCache struct {
	mu       sync.Mutex
	cur, old map[nonceKey]struct{} // guarded by mu
	rotated  time.Time             // guarded by mu: when cur started
}

type nonceKey struct {
	device int64
	nonce  string
}

type nonceResult int

const (
	nonceFresh nonceResult = iota
	nonceReplayed
	nonceFull
)

func newNonceCache() *nonceCache {
	return &nonceCache{cur: map[nonceKey]struct{}{}, old: map[nonceKey]struct{}{}}
}

// use records a nonce and says whether it was fresh.
func (c *nonceCache) use(device int64, nonce string, now time.Time) nonceResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate(now)
	k := nonceKey{device, nonce}
	if _, ok := c.cur[k]; ok {
		return nonceReplayed
	}
	if _, ok := c.old[k]; ok {
		return nonceReplayed
	}
	if len(c.cur)+len(c.old) >= maxNonces {
		return nonceFull
	}
	c.cur[k] = struct{}{}
	return nonceFresh
}

// sweep drops generations that are too old to matter.
func (c *nonceCache) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate(now)
}

// rotate starts a new generation every 2·MaxSkew.
func (c *nonceCache) rotate(now time.Time) {
	if c.rotated.IsZero() {
		c.rotated = now
	}
	for now.Sub(c.rotated) >= 2*wire.MaxSkew {
		c.old, c.cur = c.cur, map[nonceKey]struct{}{}
		c.rotated = c.rotated.Add(2 * wire.MaxSkew)
		if now.Sub(c.rotated) >= 2*wire.MaxSkew { // idle for long: both are stale
			c.old = map[nonceKey]struct{}{}
			c.rotated = now
		}
	}
}

// limits are the rate limits of the unauthenticated endpoints.
type limits struct {
	mu                  sync.Mutex
	enroll              map[string]*rate.Limiter // guarded by mu, by client address
	quick               map[string]*rate.Limiter // guarded by mu
	global              *rate.Limiter            // quick registrations from everyone
	perEnroll, perQuick int
	now                 func() time.Time
}

func newLimits(enroll, quick, global int, now func() time.Time) *limits {
	if enroll <= 0 {
		enroll = 10
	}
	if quick <= 0 {
		quick = 20
	}
	if global <= 0 {
		global = 600
	}
	return &limits{enroll: map[string]*rate.Limiter{}, quick: map[string]*rate.Limiter{},
		global:    rate.NewLimiter(rate.Limit(float64(global)/60), global),
		perEnroll: enroll, perQuick: quick, now: now}
}

// maxLimited bounds the per-address maps; a full map is cleared, which
// only forgives.
const maxLimited = 100_000

// allow takes one token for addr from the enroll or quick limiter.
func (l *limits) allow(quick bool, addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, per := l.enroll, l.perEnroll
	if quick {
		m, per = l.quick, l.perQuick
	}
	key := auth.AddressKey(addr)
	lim, ok := m[key]
	if !ok {
		if len(m) >= maxLimited {
			clear(m)
		}
		lim = rate.NewLimiter(rate.Limit(float64(per)/60), per)
		m[key] = lim
	}
	now := l.now()
	if !lim.AllowN(now, 1) {
		return false
	}
	return !quick || l.global.AllowN(now, 1)
}

// remoteHost returns the host part of r.RemoteAddr.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
