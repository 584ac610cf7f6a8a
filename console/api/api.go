// Package api is the console's technician and admin REST API under
// /api/v1/, plus /healthz, /metrics and /.well-known/reach/keys.
//
// Callers authenticate with a session cookie (browsers; unsafe methods then
// need the X-CSRF-Token header and a same-origin request) or with an API
// token in "Authorization: Bearer reach_…" (automation). Every route states
// who may call it (see Routes); handlers add per-object checks: device
// group grants, a technician's level against a ticket's escalation level,
// the technician of a session. Errors are JSON,
// {"error":{"code":"not_found","message":"…"}}, with internal causes logged
// and never sent. docs/api.md describes the API; openapi.json is its
// OpenAPI 3 document, served at /api/v1/openapi.json.
package api

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/signing"
)

// Agents reaches enrolled agents (implemented by console/agentapi).
type Agents interface {
	RequestInventory(ctx context.Context, deviceID int64) error
	RequestDiagnostics(ctx context.Context, deviceID int64, checks []string) (requestID int64, err error)
}

// Presence tells which devices are connected to the relay now.
type Presence interface {
	Online(ctx context.Context, deviceIDs []int64) (map[int64]bool, error)
}

// Options configures a Server. Zero fields take the defaults in brackets.
type Options struct {
	// Sealer seals TOTP secrets; required.
	Sealer *auth.Sealer
	// BlobDir is where attachments and session recordings are stored;
	// required.
	BlobDir string
	// PublicKeys are published at /.well-known/reach/keys besides the
	// signer's own key (older keys during a rotation).
	PublicKeys []ed25519.PublicKey
	// RelayURL is the relay's WebSocket base URL handed to browsers with
	// their technician tokens.
	RelayURL string
	// Org names the help desk in technician tokens and TOTP apps [Reach].
	Org string

	// Hasher hashes passwords [auth.NewHasher with DefaultParams].
	Hasher *auth.Hasher
	// Throttle limits failed sign-ins [auth.NewThrottle defaults].
	Throttle *auth.Throttle
	// Agents, Events and Presence are the hooks to the agent API, the
	// webhook dispatcher and the relay; nil makes the routes that need
	// them answer 503 and publishes nothing.
	Agents   Agents
	Events   Events
	Presence Presence

	// SecureCookies marks the session cookie Secure and names it with the
	// __Host- prefix; set it whenever the console is served over HTTPS.
	SecureCookies bool
	// AllowedOrigins are origins (scheme://host[:port]) besides the
	// console's own that may make cookie-authenticated unsafe requests.
	AllowedOrigins []string
	// TrustProxy takes the client address from the last X-Forwarded-For
	// entry; set it only behind a reverse proxy that sets that header.
	TrustProxy bool
	// SessionIdle and SessionMax end a login session after that long
	// without a request [1h] and that long after sign-in [12h].
	SessionIdle time.Duration
	SessionMax  time.Duration
	// MaxBodyBytes bounds JSON request bodies [1 MiB]; MaxAttachmentBytes
	// bounds one uploaded attachment [25 MiB].
	MaxBodyBytes       int64
	MaxAttachmentBytes int64
	// MaxRecordingBytes bounds one uploaded session recording [2 GiB].
	MaxRecordingBytes int64

	// Registry receives the API's metrics [a new registry, served at
	// /metrics].
	Registry *prometheus.Registry
	// Now is the clock [time.Now]; Logger the logger [slog.Default()].
	Now    func() time.Time
	Logger *slog.Logger
}

// Server serves the API. It is an http.Handler.
type Server struct {
	store  console.Store
	signer *signing.Signer
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	totp   *auth.TOTP

	mux     *http.ServeMux
	routes  []Route
	metrics *metrics

	// sweep limits expired-session cleanup to one run at a time.
	sweepMu   sync.Mutex
	lastSweep time.Time // guarded by sweepMu
}

// Route is one endpoint of the API and who may call it.
type Route struct {
	Method  string
	Pattern string // a net/http pattern path, e.g. /api/v1/tickets/{id}
	Access  Access
}

// Access says who may call a route. Handlers check objects on top.
type Access int

// Access levels, from the most open.
const (
	Public      Access = iota // anyone, signed in or not
	MFAPending                // a login session waiting for its TOTP code
	SignedIn                  // any signed-in user, by cookie or API token
	Interactive               // a signed-in user by cookie only: credential changes
	Technician                // technicians and admins
	Admin                     // admins
)

var accessNames = [...]string{"public", "mfa-pending", "signed-in", "interactive", "technician", "admin"}

// String names the access level.
func (a Access) String() string { return accessNames[a] }

// New returns a Server on store that signs tokens with signer.
func New(store console.Store, signer *signing.Signer, opts Options) (*Server, error) {
	if store == nil || signer == nil {
		return nil, errors.New("api: a store and a signer are required")
	}
	if opts.Sealer == nil {
		return nil, errors.New("api: Options.Sealer is required")
	}
	if opts.BlobDir == "" {
		return nil, errors.New("api: Options.BlobDir is required")
	}
	for _, dir := range []string{"attachments", "recordings"} {
		if err := os.MkdirAll(filepath.Join(opts.BlobDir, dir), 0o700); err != nil {
			return nil, fmt.Errorf("api: blob directory: %w", err)
		}
	}
	if opts.Org == "" {
		opts.Org = "Reach"
	}
	if opts.Hasher == nil {
		opts.Hasher = auth.NewHasher(auth.DefaultParams, 0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Throttle == nil {
		opts.Throttle = auth.NewThrottle(auth.ThrottleOptions{Now: opts.Now})
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = time.Hour
	}
	if opts.SessionMax <= 0 {
		opts.SessionMax = 12 * time.Hour
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxAttachmentBytes <= 0 {
		opts.MaxAttachmentBytes = 25 << 20
	}
	if opts.MaxRecordingBytes <= 0 {
		opts.MaxRecordingBytes = 2 << 30
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	for _, o := range opts.AllowedOrigins {
		if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			return nil, fmt.Errorf("api: allowed origin %q must start with http:// or https://", o)
		}
	}
	s := &Server{
		store:  store,
		signer: signer,
		opts:   opts,
		log:    opts.Logger,
		now:    opts.Now,
		totp:   auth.NewTOTP(opts.Org, opts.Sealer, opts.Now),
		mux:    http.NewServeMux(),
	}
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	s.register()
	return s, nil
}

// Routes returns every route the server serves, in registration order.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Cache-Control", "no-store")
	}
	h, pattern := s.mux.Handler(r)
	if pattern == "" {
		// No route: let the mux decide between 404 and 405, answer in JSON.
		probe := &statusProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		if probe.status == http.StatusMethodNotAllowed {
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", msg: "method not allowed"})
		} else {
			writeError(w, &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such endpoint"})
		}
		return
	}
	s.mux.ServeHTTP(w, r)
}

// statusProbe records the status a handler would write, and nothing else.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *statusProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}

// handlerFunc is an API handler; a returned error is written as JSON.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p *principal) error

// handle registers h for method and pattern behind authentication, the
// access check, CSRF protection and metrics.
func (s *Server) handle(method, pattern string, access Access, h handlerFunc) {
	s.routes = append(s.routes, Route{Method: method, Pattern: pattern, Access: access})
	route := method + " " + pattern
	s.mux.Handle(route, s.metrics.instrument(route, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(w, r, access)
		if err == nil {
			err = h(w, r, p)
		}
		if err != nil {
			s.fail(w, r, err)
		}
	})))
}

// fail writes err as a JSON error, logging internal ones.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae.status >= 500 && ae.status != http.StatusServiceUnavailable {
		s.log.ErrorContext(r.Context(), "api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int((ae.retryAfter+time.Second-1)/time.Second)))
	}
	writeError(w, ae)
}
