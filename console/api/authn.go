package api

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
)

// principal is the caller of a request: a user signed in by a session
// cookie or an API token, or nobody.
type principal struct {
	user    *console.User         // nil: anonymous
	session *console.LoginSession // cookie sign-in
	secret  string                // the cookie's secret, for the CSRF token
	token   *console.APIToken     // API token sign-in
}

func (p *principal) admin() bool { return p.user != nil && p.user.Role == console.RoleAdmin }

func (p *principal) id() int64 {
	if p.user == nil {
		return 0
	}
	return p.user.ID
}

// cookieName is the session cookie's name; with Secure cookies the __Host-
// prefix makes browsers refuse it from subdomains and plain HTTP.
func (s *Server) cookieName() string {
	if s.opts.SecureCookies {
		return "__Host-reach_session"
	}
	return "reach_session"
}

// touchEvery is how stale LastSeenAt and LastUsedAt may get before a
// request writes them, so that reads do not turn into a write each.
const touchEvery = time.Minute

// mfaTTL is how long a password-verified sign-in waits for its TOTP code.
const mfaTTL = 5 * time.Minute

// authenticate identifies the caller and checks access and CSRF.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, access Access) (*principal, error) {
	p, err := s.identify(r)
	if err != nil {
		return nil, err
	}
	if unsafeMethod(r.Method) && p.token == nil {
		// Browsers: the request must come from the console's own pages.
		if err := s.checkOrigin(r); err != nil {
			return nil, err
		}
		if access != Public && p.session != nil && !auth.CheckCSRF(p.secret, r.Header.Get("X-CSRF-Token")) {
			return nil, errForbidden("missing or wrong X-CSRF-Token header")
		}
	}
	switch {
	case access == Public:
		return p, nil
	case access == MFAPending:
		if p.session == nil || !p.session.MFAPending {
			return nil, errUnauthorized("no sign-in is waiting for a two-factor code")
		}
		return p, nil
	case p.user == nil:
		return nil, errUnauthorized("sign in required")
	case p.session != nil && p.session.MFAPending:
		return nil, errUnauthorized("two-factor code required")
	case access == Interactive && p.token != nil:
		return nil, errForbidden("API tokens cannot change credentials; sign in")
	case access == Technician && p.user.Role == console.RoleViewer:
		return nil, errForbidden("viewers cannot change anything")
	case access == Admin && p.user.Role != console.RoleAdmin:
		return nil, errForbidden("admins only")
	}
	return p, nil
}

// identify finds the caller from an API token or the session cookie. A
// credential that is present but bad is an error; none is anonymous.
func (s *Server) identify(r *http.Request) (*principal, error) {
	ctx := r.Context()
	now := s.now()
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, errUnauthorized("Authorization must be a Bearer API token")
		}
		return s.identifyToken(ctx, strings.TrimSpace(tok), now)
	}
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" {
		return &principal{}, nil
	}
	if !auth.WellFormedSecret(c.Value) {
		return &principal{}, nil // a stale or foreign cookie counts as none
	}
	ls, err := s.store.FindLoginSessionByHash(ctx, auth.HashSecret(c.Value))
	if console.ErrorCode(err) == console.CodeNotFound {
		return &principal{}, nil
	} else if err != nil {
		return nil, err
	}
	if !now.Before(ls.ExpiresAt) || now.Sub(ls.LastSeenAt) > s.opts.SessionIdle {
		s.store.DeleteLoginSession(ctx, ls.ID)
		return &principal{}, nil
	}
	u, err := s.store.FindUserByID(ctx, ls.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		s.store.DeleteLoginSession(ctx, ls.ID)
		return &principal{}, nil
	}
	if now.Sub(ls.LastSeenAt) >= touchEvery {
		if err := s.store.TouchLoginSession(ctx, ls.ID, now); err != nil {
			return nil, err
		}
		ls.LastSeenAt = now
	}
	s.maybeSweep(ctx, now)
	return &principal{user: u, session: ls, secret: c.Value}, nil
}

func (s *Server) identifyToken(ctx context.Context, tok string, now time.Time) (*principal, error) {
	bad := errUnauthorized("invalid or expired API token")
	hash, ok := auth.ParseAPIToken(tok)
	if !ok {
		return nil, bad
	}
	t, err := s.store.FindAPITokenByHash(ctx, hash)
	if console.ErrorCode(err) == console.CodeNotFound {
		return nil, bad
	} else if err != nil {
		return nil, err
	}
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return nil, bad
	}
	u, err := s.store.FindUserByID(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, bad
	}
	if now.Sub(t.LastUsedAt) >= touchEvery {
		if err := s.store.TouchAPIToken(ctx, t.ID, now); err != nil {
			return nil, err
		}
		t.LastUsedAt = now
	}
	return &principal{user: u, token: t}, nil
}

// maybeSweep removes expired login sessions at most every ten minutes.
func (s *Server) maybeSweep(ctx context.Context, now time.Time) {
	s.sweepMu.Lock()
	due := now.Sub(s.lastSweep) >= 10*time.Minute
	if due {
		s.lastSweep = now
	}
	s.sweepMu.Unlock()
	if !due {
		return
	}
	if _, err := s.store.DeleteExpiredLoginSessions(ctx, now, s.opts.SessionIdle); err != nil {
		s.log.WarnContext(ctx, "api: sweep login sessions", "err", err)
	}
}

func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// checkOrigin refuses cross-site browser requests: Origin, when sent, must
// be the console's own (the request's Host) or an allowed origin; without
// Origin, Sec-Fetch-Site, when sent, must be same-origin or none. Clients
// that send neither are not browsers and need the CSRF token anyway.
func (s *Server) checkOrigin(r *http.Request) error {
	if o := r.Header.Get("Origin"); o != "" {
		if o == "null" {
			return errForbidden("cross-origin request refused")
		}
		u, err := url.Parse(o)
		if err != nil || u.Host == "" {
			return errForbidden("cross-origin request refused")
		}
		if strings.EqualFold(u.Host, r.Host) {
			return nil
		}
		for _, a := range s.opts.AllowedOrigins {
			if strings.EqualFold(strings.TrimSuffix(a, "/"), o) {
				return nil
			}
		}
		return errForbidden("cross-origin request refused")
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return nil
	}
	return errForbidden("cross-site request refused")
}

// clientAddr returns the client's IP address.
func (s *Server) clientAddr(r *http.Request) string {
	if s.opts.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if a := strings.TrimSpace(parts[len(parts)-1]); a != "" {
				return a
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// startSession creates a login session for u and sets its cookie.
func (s *Server) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u *console.User, mfaPending bool) (string, error) {
	secret, err := auth.NewSecret()
	if err != nil {
		return "", err
	}
	now := s.now()
	ttl := s.opts.SessionMax
	if mfaPending {
		ttl = mfaTTL
	}
	ua := r.UserAgent()
	if len(ua) > console.MaxUserAgentLen {
		ua = ua[:console.MaxUserAgentLen]
	}
	ua = strings.ToValidUTF8(ua, "")
	addr := s.clientAddr(r)
	if len(addr) > console.MaxAddressLen {
		addr = addr[:console.MaxAddressLen]
	}
	ls := &console.LoginSession{UserID: u.ID, Hash: auth.HashSecret(secret), MFAPending: mfaPending, UserAgent: ua,
		Address: addr, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.store.CreateLoginSession(ctx, ls); err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: secret, Path: "/", MaxAge: int(ttl / time.Second),
		HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
	return secret, nil
}

// clearCookie removes the session cookie from the browser.
func (s *Server) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.opts.SecureCookies, SameSite: http.SameSiteStrictMode})
}
