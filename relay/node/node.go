// Package node runs one relay node: the signaling server on HTTP(S), the
// embedded TURN server, and the metrics endpoint, wired from a Config. It
// opens the sockets (Listen) and serves them until its context ends (Run),
// then shuts down in reverse order of construction.
package node

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay"
	"github.com/reachdesk/reach/relay/turnsrv"
)

// Config describes a relay node. Zero values take the defaults noted.
type Config struct {
	// Listen is the HTTP address for WebSocket clients and health, e.g. ":8081".
	Listen string
	// TLSCert and TLSKey are PEM files; both empty serves plain HTTP (for a
	// TLS-terminating proxy in front, or loopback).
	TLSCert, TLSKey string
	// TLSConfig, when set, serves TLS with it instead (certificates that
	// reload or come from ACME, see internal/tlsconfig); TLSCert and TLSKey
	// must then be empty.
	TLSConfig *tls.Config
	// MetricsListen serves /metrics and /debug/pprof/; empty disables them.
	// Keep it on a private address.
	MetricsListen string
	// ConsoleKeys are the console's token-signing public keys. Required.
	ConsoleKeys []ed25519.PublicKey
	// AllowedOrigins are the browser origins (host patterns) allowed to open
	// technician connections, e.g. the console's host.
	AllowedOrigins []string

	// TURNListen is the UDP address of the embedded TURN server, e.g.
	// ":3478"; empty disables it (use an external TURN server, or none).
	TURNListen string
	// TURNSockets is the number of SO_REUSEPORT sockets; zero means 2.
	TURNSockets int
	// TURNRelayIP is the address peers reach relayed traffic on; zero means
	// the TURNListen IP, which must then be specific.
	TURNRelayIP netip.Addr
	// TURNURLs are advertised to clients; nil means stun: and turn: URLs of
	// TURNRelayIP and the TURN port.
	TURNURLs []string
	// TURNSecret is the TURN REST shared secret; nil means a random one
	// (fine unless an external TURN server must share it).
	TURNSecret []byte
	// TURNCredentialTTL bounds a session's TURN credentials; zero means 12 h.
	TURNCredentialTTL time.Duration
	// TURNAllowLoopback and TURNAllowPrivate permit relaying to those
	// address classes; see turnsrv.Options.
	TURNAllowLoopback, TURNAllowPrivate bool

	// Relay tunes the signaling server; its Logger, ICEServers and
	// Registerer are set by the node.
	Relay relay.Options
	// Logger receives logs; nil means slog.Default().
	Logger *slog.Logger
}

// Node is a relay node with its sockets open.
type Node struct {
	cfg      Config
	log      *slog.Logger
	registry *prometheus.Registry
	relay    *relay.Server
	turn     *turnsrv.Server
	http     *http.Server
	ln       net.Listener
	metrics  *http.Server
	metLn    net.Listener
}

// Listen opens the node's sockets and builds its parts.
func Listen(ctx context.Context, cfg Config) (_ *Node, err error) {
	if len(cfg.ConsoleKeys) == 0 {
		return nil, errors.New("relay: no console public key configured")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	n := &Node{cfg: cfg, log: cfg.Logger, registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			n.closeAll()
		}
	}()
	n.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if cfg.TURNListen != "" {
		if err := n.listenTURN(ctx); err != nil {
			return nil, err
		}
	}

	opts := cfg.Relay
	opts.Logger = n.log
	opts.Registerer = n.registry
	opts.OriginPatterns = cfg.AllowedOrigins
	if n.turn != nil {
		opts.ICEServers = n.iceServers
	}
	verifier := proto.NewVerifier(proto.AudienceRelay, opts.Now, cfg.ConsoleKeys...)
	n.relay = relay.New(verifier, opts)

	lc := net.ListenConfig{}
	if n.ln, err = lc.Listen(ctx, "tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("relay: listen: %w", err)
	}
	n.http = &http.Server{Handler: n.relay.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)}
	if cfg.MetricsListen != "" {
		if n.metLn, err = lc.Listen(ctx, "tcp", cfg.MetricsListen); err != nil {
			return nil, fmt.Errorf("relay: listen metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(n.registry, promhttp.HandlerOpts{}))
		// Profiles, for operators and the load benchmarks: this listener is
		// meant for a private address (loopback by default).
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		n.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	}
	return n, nil
}

func (n *Node) listenTURN(ctx context.Context) error {
	cfg := &n.cfg
	if cfg.TURNSockets <= 0 {
		cfg.TURNSockets = 2
	}
	if cfg.TURNCredentialTTL <= 0 {
		cfg.TURNCredentialTTL = 12 * time.Hour
	}
	if len(cfg.TURNSecret) == 0 {
		cfg.TURNSecret = make([]byte, 32)
		if _, err := rand.Read(cfg.TURNSecret); err != nil {
			return fmt.Errorf("relay: turn secret: %w", err)
		}
	}
	conns, err := turnsrv.ListenUDPReusePort(ctx, cfg.TURNListen, cfg.TURNSockets)
	if err != nil {
		return fmt.Errorf("relay: turn: %w", err)
	}
	n.turn, err = turnsrv.New(cfg.TURNSecret, conns, turnsrv.Options{
		RelayIP:       cfg.TURNRelayIP,
		AllowLoopback: cfg.TURNAllowLoopback,
		AllowPrivate:  cfg.TURNAllowPrivate,
		Logger:        n.log.With("component", "turn"),
	})
	if err != nil {
		for _, c := range conns {
			c.Close()
		}
		return fmt.Errorf("relay: turn: %w", err)
	}
	if cfg.TURNURLs == nil {
		ip := cfg.TURNRelayIP
		if !ip.IsValid() {
			ip = conns[0].LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		}
		hp := net.JoinHostPort(ip.String(), strconv.Itoa(conns[0].LocalAddr().(*net.UDPAddr).Port))
		cfg.TURNURLs = []string{"stun:" + hp, "turn:" + hp + "?transport=udp"}
	}
	n.registerTURNMetrics()
	return nil
}

// iceServers gives one party of a session its own short-lived TURN credentials.
func (n *Node) iceServers(sid, subject string) []proto.ICEServer {
	user, pass := turnsrv.Credentials(n.cfg.TURNSecret, subject, n.cfg.TURNCredentialTTL, time.Now())
	var stun, turn []string
	for _, u := range n.cfg.TURNURLs {
		if strings.HasPrefix(u, "stun:") {
			stun = append(stun, u)
		} else {
			turn = append(turn, u)
		}
	}
	var out []proto.ICEServer
	if len(stun) > 0 {
		out = append(out, proto.ICEServer{URLs: stun})
	}
	if len(turn) > 0 {
		out = append(out, proto.ICEServer{URLs: turn, Username: user, Credential: pass})
	}
	return out
}

func (n *Node) registerTURNMetrics() {
	gauge := func(name, help string, f func(turnsrv.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(n.turn.Stats()) })
	}
	counter := func(name, help string, f func(turnsrv.Stats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return f(n.turn.Stats()) })
	}
	n.registry.MustRegister(
		gauge("reach_turn_allocations", "TURN allocations open now.", func(s turnsrv.Stats) float64 { return float64(s.AllocationsActive) }),
		counter("reach_turn_allocations_total", "TURN allocations created.", func(s turnsrv.Stats) float64 { return float64(s.AllocationsTotal) }),
		counter("reach_turn_auth_failures_total", "TURN requests refused for bad or expired credentials.", func(s turnsrv.Stats) float64 { return float64(s.AuthFailures) }),
		counter("reach_turn_permissions_refused_total", "TURN permissions refused by the peer address policy.", func(s turnsrv.Stats) float64 { return float64(s.PermissionsRefused) }),
		counter("reach_turn_bytes_to_peers_total", "Payload bytes relayed to peers.", func(s turnsrv.Stats) float64 { return float64(s.BytesToPeers) }),
		counter("reach_turn_bytes_from_peers_total", "Payload bytes received from peers.", func(s turnsrv.Stats) float64 { return float64(s.BytesFromPeers) }),
	)
}

// Addr is the address the signaling server listens on.
func (n *Node) Addr() net.Addr { return n.ln.Addr() }

// MetricsAddr is the address of /metrics, or nil when disabled.
func (n *Node) MetricsAddr() net.Addr {
	if n.metLn == nil {
		return nil
	}
	return n.metLn.Addr()
}

// TURNURLs are the STUN/TURN URLs clients are given; nil without TURN.
func (n *Node) TURNURLs() []string { return n.cfg.TURNURLs }

// Run serves until ctx ends, then shuts down: stop accepting, disconnect
// clients (they reconnect elsewhere or after a restart), stop TURN (live
// relayed media ends here), stop metrics.
func (n *Node) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() {
		var err error
		if n.cfg.TLSConfig != nil {
			n.http.TLSConfig = n.cfg.TLSConfig
			err = n.http.ServeTLS(n.ln, "", "")
		} else if n.cfg.TLSCert != "" || n.cfg.TLSKey != "" {
			err = n.http.ServeTLS(n.ln, n.cfg.TLSCert, n.cfg.TLSKey)
		} else {
			err = n.http.Serve(n.ln)
		}
		errc <- err
	}()
	if n.metrics != nil {
		go func() { errc <- n.metrics.Serve(n.metLn) }()
	}
	n.log.Info("relay: serving", "addr", n.ln.Addr().String(), "turn", n.cfg.TURNURLs, "metrics", addrString(n.MetricsAddr()))
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("relay: serve: %w", err)
	}
	n.shutdown()
	return err
}

func (n *Node) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = n.http.Shutdown(ctx) // stops accepting; WebSockets are hijacked and closed next
	n.relay.Close()
	if n.turn != nil {
		n.turn.Close()
	}
	if n.metrics != nil {
		_ = n.metrics.Shutdown(ctx)
	}
	n.log.Info("relay: stopped")
}

// closeAll releases what Listen opened when it fails half way.
func (n *Node) closeAll() {
	if n.relay != nil {
		n.relay.Close()
	}
	if n.turn != nil {
		n.turn.Close()
	}
	for _, l := range []net.Listener{n.ln, n.metLn} {
		if l != nil {
			l.Close()
		}
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
