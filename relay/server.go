package relay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay/codes"
)

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CodeTTL is the lifetime of a session code when the technician asks for
	// none; zero means proto.DefaultCodeTTL (10 minutes).
	CodeTTL time.Duration
	// MaxCodes bounds live session codes; zero means 100,000.
	MaxCodes int
	// Redeem limits failed code redemptions per source and globally.
	Redeem codes.LimiterOptions
	// Heartbeat is the ping interval asked of clients; a client silent for
	// 2.5 heartbeats is dropped. Zero means proto.DefaultHeartbeat.
	Heartbeat time.Duration
	// ConsentTimeout is how long the end user has to answer a consent
	// request; zero means proto.DefaultConsentWait (30 s). The relay ends a
	// session whose agent has not answered a sixth later (at most 5 s), so
	// that the agent's own timeout-to-deny arrives first.
	ConsentTimeout time.Duration
	// ResumeWindow is how long an established session waits for a party
	// that disconnected (or for both, after a relay restart); zero means 2 minutes.
	ResumeWindow time.Duration
	// MessageRate and MessageBurst limit messages per connection; a
	// connection over the limit is closed. Zero means 50/s, burst 200.
	MessageRate  float64
	MessageBurst int
	// OriginPatterns lists the browser origins (host patterns, as in
	// websocket.AcceptOptions) allowed to open technician connections; nil
	// allows only the relay's own origin. Agents send no Origin header.
	OriginPatterns []string
	// ICEServers returns the STUN/TURN servers, with credentials, that one
	// party of a session should use; nil gives none.
	ICEServers func(sid, subject string) []proto.ICEServer
	// MinCapability refuses clients older than this with "upgrade
	// required"; zero means proto.MinCapability. Raise it to retire clients.
	MinCapability int
	// Registerer receives the relay's Prometheus metrics; nil registers them
	// nowhere (the Server still counts, see Stats).
	Registerer prometheus.Registerer
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CodeTTL <= 0 {
		o.CodeTTL = proto.DefaultCodeTTL
	}
	if o.MaxCodes <= 0 {
		o.MaxCodes = 100_000
	}
	if o.MinCapability < proto.MinCapability {
		o.MinCapability = proto.MinCapability
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = proto.DefaultHeartbeat
	}
	if o.ConsentTimeout <= 0 {
		o.ConsentTimeout = proto.DefaultConsentWait
	}
	if o.ResumeWindow <= 0 {
		o.ResumeWindow = 2 * time.Minute
	}
	if o.MessageRate <= 0 {
		o.MessageRate = 50
	}
	if o.MessageBurst <= 0 {
		o.MessageBurst = 200
	}
}

// Timeouts that are not worth configuring.
const (
	helloTimeout = 10 * time.Second // a new connection must say hello by then
	writeTimeout = 10 * time.Second // a peer that does not take a message by then is dropped
	sweepEvery   = time.Minute      // expired codes and limiter state
	maxOpenCodes = 20               // unredeemed codes one technician connection may hold
)

// Server is the relay's signaling hub.
type Server struct {
	verifier *proto.Verifier
	opts     Options
	log      *slog.Logger
	codes    *codes.Store[string] // code → session id
	limiter  *codes.Limiter
	metrics  *metrics
	auditLog *auditLog
	stop     chan struct{} // closed by Close; ends the sweeper
	sweeper  sync.WaitGroup

	mu       sync.Mutex
	agents   map[string]*peer    // device id → its current connection; guarded by mu
	sessions map[string]*session // session id → session; guarded by mu
	peers    map[*peer]struct{}  // every authenticated connection; guarded by mu
	closed   bool                // Close was called; guarded by mu
}

// New returns a Server that trusts tokens verified by verifier (which must
// be built for audience proto.AudienceRelay).
func New(verifier *proto.Verifier, opts Options) *Server {
	opts.setDefaults()
	s := &Server{
		verifier: verifier,
		opts:     opts,
		log:      opts.Logger,
		codes:    codes.NewStore[string](opts.MaxCodes, opts.Now),
		limiter:  codes.NewLimiter(opts.Redeem, opts.Now),
		metrics:  newMetrics(opts.Registerer),
		auditLog: newAuditLog(),
		stop:     make(chan struct{}),
		agents:   make(map[string]*peer),
		sessions: make(map[string]*session),
		peers:    make(map[*peer]struct{}),
	}
	s.sweeper.Add(1)
	go s.sweep()
	return s
}

// Handler serves the relay's public endpoints:
//
//	GET /v1/agent       WebSocket for agents (device token)
//	GET /v1/technician  WebSocket for technicians (technician token)
//	GET /v1/presence    which devices are online (service token, Bearer)
//	GET /v1/events      the audit events of sessions, for the console (service token)
//	GET /healthz        liveness and counts
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/agent", func(w http.ResponseWriter, r *http.Request) { s.serveWS(w, r, proto.KindDevice) })
	mux.HandleFunc("GET /v1/technician", func(w http.ResponseWriter, r *http.Request) { s.serveWS(w, r, proto.KindTechnician) })
	mux.HandleFunc("GET /v1/presence", s.servePresence)
	mux.HandleFunc("GET /v1/events", s.serveEvents)
	mux.HandleFunc("GET /healthz", s.serveHealth)
	return mux
}

// Close disconnects every client with "going away" so that they reconnect
// (to this relay once restarted, or to another node), and stops background
// work. Sessions' media is unaffected: it flows peer to peer.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	peers := make([]*peer, 0, len(s.peers))
	for p := range s.peers {
		peers = append(peers, p)
	}
	for _, sess := range s.sessions {
		sess.stopTimer()
	}
	s.mu.Unlock()
	close(s.stop)
	s.sweeper.Wait()
	for _, p := range peers {
		p.ws.Close(websocket.StatusGoingAway, "relay shutting down")
	}
	return nil
}

// Stats is a snapshot of the relay's state, for health checks and tests.
type Stats struct {
	Agents      int `json:"agents"`
	Technicians int `json:"technicians"`
	Sessions    int `json:"sessions"`
	Codes       int `json:"codes"`
}

// Stats returns current counts.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	st := Stats{Agents: len(s.agents), Sessions: len(s.sessions)}
	for p := range s.peers {
		if p.kind == proto.KindTechnician {
			st.Technicians++
		}
	}
	s.mu.Unlock()
	st.Codes = s.codes.Len()
	return st
}

// sweep drops silent connections every half heartbeat and forgets expired
// codes and limiter state every sweepEvery, until Close.
func (s *Server) sweep() {
	defer s.sweeper.Done()
	silence := time.NewTicker(s.opts.Heartbeat / 2)
	defer silence.Stop()
	state := time.NewTicker(sweepEvery)
	defer state.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-silence.C:
			s.dropSilent()
		case <-state.C:
			s.codes.Sweep()
			s.limiter.Sweep()
		}
	}
}

// newID returns a random 128-bit identifier, base64url.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("relay: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// writeCtx bounds one write to a peer.
func writeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), writeTimeout)
}
