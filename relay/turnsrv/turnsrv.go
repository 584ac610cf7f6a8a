// Package turnsrv is the relay's embedded TURN server (RFC 8656), built on
// pion/turn, for WebRTC sessions that cannot connect directly.
//
// Clients authenticate with short-lived per-session credentials in the TURN
// REST scheme (see Credentials), derived from a secret the relay shares with
// the server. Any TURN server that implements the scheme can therefore
// replace this one; for coturn:
//
//	use-auth-secret
//	static-auth-secret=<the same secret>
//
// The server takes its sockets instead of opening them, so callers choose
// the addresses and tests run on 127.0.0.1:0; ListenUDPReusePort opens
// several UDP sockets on one port so that a server spreads over several
// cores.
//
// Relaying to loopback and private peer addresses is refused unless
// Options allow it: a TURN server on the relay's network would otherwise be
// a way into that network. The refusal answers CreatePermission and
// ChannelBind with 403 Forbidden.
package turnsrv

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/turn/v5"
)

// defaultRealm is the TURN realm when Options.Realm is empty.
const defaultRealm = "reach"

// Options configures a Server. The zero value is a UDP-only server that
// relays to public addresses only, on ephemeral ports of the address the
// first socket is bound to.
type Options struct {
	// Listeners accept TURN over TCP (or TLS, if they are tls listeners),
	// served alongside the UDP sockets; the Server takes ownership of them.
	// Nil means UDP only.
	Listeners []net.Listener

	// Realm is the TURN realm. Empty means "reach". With REST credentials
	// it only scopes the keys: clients learn it from the server.
	Realm string

	// RelayIP is the address peers are told to send to for a client (the
	// XOR-RELAYED-ADDRESS), e.g. the public IP of a host behind 1:1 NAT.
	// The zero value means the IP the first socket (conns[0], else
	// Listeners[0]) is bound to, e.g. 127.0.0.1 when listening on loopback;
	// then New fails if that socket is bound to an unspecified address.
	// Relay sockets always bind to the first socket's IP.
	RelayIP netip.Addr

	// RelayPortMin and RelayPortMax bound the UDP ports of relay sockets,
	// inclusive, for firewalls. Both zero means ephemeral ports chosen by
	// the kernel; otherwise both must be set and Min <= Max.
	RelayPortMin, RelayPortMax uint16

	// AllowLoopback permits relaying to loopback and unspecified peer
	// addresses (127.0.0.0/8, ::1, 0.0.0.0/8, ::), which reach the relay's
	// own host. False refuses them; set it only for tests and single-host
	// setups.
	AllowLoopback bool

	// AllowPrivate permits relaying to non-public peer addresses: RFC 1918,
	// RFC 4193 (fc00::/7), link-local, CGNAT (100.64.0.0/10), multicast and
	// 240.0.0.0/4. False refuses them; set it when technicians and agents
	// share a private network that only the relay bridges.
	AllowPrivate bool

	// AllowPeers lists prefixes always permitted as peers, whatever their
	// class, e.g. one office subnet instead of AllowPrivate. Nil adds none.
	AllowPeers []netip.Prefix

	// Logger receives the server's logs and pion's; nil means
	// slog.Default(). Records a remote party can trigger are rate-limited.
	// Secrets and passwords are never logged.
	Logger *slog.Logger

	// Now is the clock credentials are checked against; nil means time.Now.
	Now func() time.Time
}

// Stats is a snapshot of a Server's counters, for metrics.
type Stats struct {
	// AllocationsActive is the number of allocations open now.
	AllocationsActive int
	// AllocationsTotal counts allocations created since New.
	AllocationsTotal uint64
	// AuthFailures counts authenticated requests refused because their
	// credentials were malformed, expired or wrong (bad secret or
	// password). The first, unauthenticated request of each exchange, which
	// every client sends to learn the realm and nonce, is not a failure.
	AuthFailures uint64
	// PermissionsRefused counts peer addresses refused by the peer policy in
	// CreatePermission and ChannelBind requests.
	PermissionsRefused uint64
	// BytesToPeers counts payload bytes sent from relay sockets to peers.
	BytesToPeers uint64
	// BytesFromPeers counts payload bytes received on relay sockets,
	// including datagrams then dropped because the sender had no permission.
	BytesFromPeers uint64
}

// Server is a running TURN server. Its methods are safe for concurrent use.
type Server struct {
	turn   *turn.Server
	secret []byte
	now    func() time.Time
	log    *slog.Logger
	lim    logLimiter // for records triggered by clients
	policy peerPolicy

	allocationsTotal   atomic.Uint64
	authFailures       atomic.Uint64
	permissionsRefused atomic.Uint64
	bytesToPeers       atomic.Uint64
	bytesFromPeers     atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

// New starts a TURN server on conns (UDP) and opts.Listeners (TCP), which
// it takes ownership of: Close closes them. Clients authenticate with
// credentials made by Credentials from secret, which must not be empty. If
// New fails, the caller still owns the sockets.
func New(secret []byte, conns []net.PacketConn, opts Options) (*Server, error) {
	if len(secret) == 0 {
		return nil, errors.New("turnsrv: empty secret")
	}
	if len(conns) == 0 && len(opts.Listeners) == 0 {
		return nil, errors.New("turnsrv: no sockets to serve")
	}
	for i, c := range conns {
		if c == nil {
			return nil, fmt.Errorf("turnsrv: conns[%d] is nil", i)
		}
	}
	for i, l := range opts.Listeners {
		if l == nil {
			return nil, fmt.Errorf("turnsrv: Listeners[%d] is nil", i)
		}
	}
	var first net.Addr
	if len(conns) > 0 {
		first = conns[0].LocalAddr()
	} else {
		first = opts.Listeners[0].Addr()
	}
	firstAddrPort, err := netip.ParseAddrPort(first.String())
	if err != nil {
		return nil, fmt.Errorf("turnsrv: address of first socket: %w", err)
	}
	bindIP := firstAddrPort.Addr().Unmap()
	relayIP := opts.RelayIP.Unmap()
	if !relayIP.IsValid() {
		relayIP = bindIP.WithZone("")
	}
	if relayIP.IsUnspecified() {
		return nil, fmt.Errorf("turnsrv: socket bound to %s: set Options.RelayIP to an address peers can reach", first)
	}
	if !bindIP.IsUnspecified() && bindIP.Is4() != relayIP.Is4() {
		return nil, fmt.Errorf("turnsrv: relay address %s and socket address %s differ in family", relayIP, bindIP)
	}
	if (opts.RelayPortMin == 0) != (opts.RelayPortMax == 0) || opts.RelayPortMin > opts.RelayPortMax {
		return nil, fmt.Errorf("turnsrv: bad relay port range %d-%d", opts.RelayPortMin, opts.RelayPortMax)
	}
	allow := make([]netip.Prefix, len(opts.AllowPeers))
	for i, p := range opts.AllowPeers {
		if !p.IsValid() {
			return nil, fmt.Errorf("turnsrv: AllowPeers[%d] is not a valid prefix", i)
		}
		allow[i] = p.Masked()
	}
	realm := opts.Realm
	if realm == "" {
		realm = defaultRealm
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		secret: bytes.Clone(secret),
		now:    opts.Now,
		log:    log,
		policy: peerPolicy{allowLoopback: opts.AllowLoopback, allowPrivate: opts.AllowPrivate, allow: allow},
	}
	if s.now == nil {
		s.now = time.Now
	}
	relays := &relayAllocator{
		relayIP:   relayIP,
		bindIP:    bindIP,
		minPort:   opts.RelayPortMin,
		maxPort:   opts.RelayPortMax,
		toPeers:   &s.bytesToPeers,
		fromPeers: &s.bytesFromPeers,
	}
	cfg := turn.ServerConfig{
		Realm:         realm,
		AuthHandler:   s.authenticate,
		LoggerFactory: pionLoggerFactory{log: log, lim: new(logLimiter)},
		EventHandler: turn.EventHandler{
			OnAuth:              s.onAuth,
			OnAllocationCreated: s.onAllocationCreated,
		},
	}
	for _, c := range conns {
		cfg.PacketConnConfigs = append(cfg.PacketConnConfigs, turn.PacketConnConfig{
			PacketConn:            c,
			RelayAddressGenerator: relays,
			PermissionHandler:     s.permit,
		})
	}
	for _, l := range opts.Listeners {
		cfg.ListenerConfigs = append(cfg.ListenerConfigs, turn.ListenerConfig{
			Listener:              newTCPListener(l),
			RelayAddressGenerator: relays,
			PermissionHandler:     s.permit,
		})
	}
	if s.turn, err = turn.NewServer(cfg); err != nil {
		return nil, fmt.Errorf("turnsrv: start: %w", err)
	}
	log.Info("turn server started", slog.Int("udp_sockets", len(conns)), slog.Int("tcp_listeners", len(opts.Listeners)),
		slog.String("listen", first.String()), slog.String(keyRelay, relayIP.String()))
	return s, nil
}

// Close stops the server and closes its sockets, its clients' TCP
// connections and, shortly after (pion finishes them in the background),
// the relay sockets of open allocations. Later calls return the first
// call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if err := s.turn.Close(); err != nil {
			s.closeErr = fmt.Errorf("turnsrv: close: %w", err)
		}
	})
	return s.closeErr
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		AllocationsActive:  s.turn.AllocationCount(),
		AllocationsTotal:   s.allocationsTotal.Load(),
		AuthFailures:       s.authFailures.Load(),
		PermissionsRefused: s.permissionsRefused.Load(),
		BytesToPeers:       s.bytesToPeers.Load(),
		BytesFromPeers:     s.bytesFromPeers.Load(),
	}
}

// authenticate is the turn.AuthHandler: it refuses malformed and expired
// usernames and returns the long-term key of valid ones, with which pion
// checks the request's MESSAGE-INTEGRITY (see onAuth for that verdict).
func (s *Server) authenticate(ra *turn.RequestAttributes) (userID string, key []byte, ok bool) {
	id, password, err := checkUsername(s.secret, ra.Username, s.now())
	if err != nil {
		s.authFailures.Add(1)
		s.lim.log(s.log, slog.LevelInfo, "turn request refused", slog.String(keyReason, err.Error()),
			slog.String(keyMethod, ra.Method.String()), slog.String(keyClient, ra.SrcAddr.String()))
		return "", nil, false
	}
	return id, turn.GenerateAuthKey(ra.Username, ra.Realm, password), true
}

// onAuth counts requests whose MESSAGE-INTEGRITY did not match: a wrong
// password, or a client whose credentials came from another secret.
func (s *Server) onAuth(src, _ net.Addr, _, username, _, method string, verdict bool) {
	if verdict {
		return
	}
	s.authFailures.Add(1)
	s.lim.log(s.log, slog.LevelInfo, "turn request refused", slog.String(keyReason, "wrong password"),
		slog.String(keyMethod, method), slog.String(keyClient, src.String()), slog.String(keyUser, username))
}

func (s *Server) onAllocationCreated(src, _ net.Addr, _, userID, _ string, relay net.Addr, _ int) {
	s.allocationsTotal.Add(1)
	s.log.Debug("turn allocation created", slog.String(keyUser, userID),
		slog.String(keyClient, src.String()), slog.String(keyRelay, relay.String()))
}

// permit is the turn.PermissionHandler: it applies the peer policy to
// CreatePermission and ChannelBind requests.
func (s *Server) permit(client net.Addr, peerIP net.IP) bool {
	peer := toAddr(peerIP)
	if s.policy.permits(peer) {
		return true
	}
	s.permissionsRefused.Add(1)
	s.lim.log(s.log, slog.LevelInfo, "turn peer refused", slog.String(keyClient, client.String()),
		slog.String(keyPeer, peer.String()))
	return false
}
