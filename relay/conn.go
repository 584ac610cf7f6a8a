package relay

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"github.com/reachdesk/reach/proto"
)

// peer is one authenticated WebSocket connection. Its fields are set before
// it is published and then only read, except sessions (guarded by Server.mu).
// Its reader goroutine (serveWS) owns limiter.
type peer struct {
	ws      *websocket.Conn
	kind    proto.Kind
	claims  *proto.Claims
	src     netip.Addr
	since   time.Time
	limiter *rate.Limiter

	lastSeen atomic.Int64 // Unix nanoseconds of the last message; read by the sweeper
	silent   atomic.Bool  // the sweeper closed the connection for silence

	sessions map[string]*session // guarded by Server.mu
}

func (p *peer) subject() string { return p.claims.Subject }

// logFor returns a logger naming p. It is built on demand rather than kept
// per connection: idle connections should cost as little memory as possible.
func (s *Server) logFor(p *peer) *slog.Logger {
	return s.log.With("kind", p.kind, "subject", p.subject(), "remote", p.src)
}

// serveWS runs one connection from upgrade to close.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request, kind proto.Kind) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:   []string{proto.Subprotocol},
		OriginPatterns: s.opts.OriginPatterns,
	})
	if err != nil {
		s.log.Debug("relay: websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return // Accept has answered the request
	}
	if ws.Subprotocol() != proto.Subprotocol {
		ws.Close(websocket.StatusPolicyViolation, "subprotocol "+proto.Subprotocol+" required")
		return
	}
	ws.SetReadLimit(proto.MaxMessageSize)
	src := remoteAddr(r)

	// Authenticate on a short-lived goroutine: token verification and JSON
	// decoding grow a stack, and this goroutine's stack stays allocated for
	// the connection's life (thousands of idle agents per relay).
	type result struct {
		p   *peer
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := s.hello(ws, kind, src)
		done <- result{p, err}
	}()
	res := <-done
	p, err := res.p, res.err
	if err != nil {
		s.metrics.authFailures.Inc()
		s.log.Info("relay: hello refused", "remote", src, "kind", kind, "err", err)
		s.sendError(ws, "", err)
		ws.Close(websocket.StatusPolicyViolation, string(proto.CodeOf(err)))
		return
	}
	defer s.detach(p)
	s.logFor(p).Info("relay: connected")

	for {
		// No per-read deadline: the sweeper closes connections that have
		// been silent too long, which costs nothing per message.
		_, data, err := ws.Read(context.Background())
		if err != nil {
			s.logFor(p).Info("relay: disconnected", "reason", closeReason(err, p))
			return
		}
		p.lastSeen.Store(s.opts.Now().UnixNano())
		if !p.limiter.Allow() {
			s.metrics.rateLimited.Inc()
			s.sendError(ws, "", proto.Errorf(proto.CodeRateLimited, "more than %g messages per second", s.opts.MessageRate))
			ws.Close(websocket.StatusPolicyViolation, "message rate exceeded")
			return
		}
		m, err := proto.Decode(data)
		if err != nil {
			s.metrics.errors.WithLabelValues(string(proto.CodeOf(err))).Inc()
			s.sendError(ws, "", err)
			continue
		}
		s.metrics.received.WithLabelValues(string(m.Type)).Inc()
		if err := s.handle(p, m, data); err != nil {
			s.metrics.errors.WithLabelValues(string(proto.CodeOf(err))).Inc()
			s.sendError(ws, m.ID, err)
		}
	}
}

// hello reads and checks the first message and registers the peer.
func (s *Server) hello(ws *websocket.Conn, kind proto.Kind, src netip.Addr) (*peer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), helloTimeout)
	defer cancel()
	_, data, err := ws.Read(ctx)
	if err != nil {
		return nil, proto.Errorf(proto.CodeBadRequest, "no hello received")
	}
	m, err := proto.Decode(data)
	if err != nil {
		return nil, err
	}
	h, ok := m.Body.(*proto.Hello)
	if !ok {
		return nil, proto.Errorf(proto.CodeUnauthorized, "the first message must be hello")
	}
	if h.Version != proto.Version || h.Capability < s.opts.MinCapability {
		return nil, proto.Errorf(proto.CodeUpgradeRequired,
			"client speaks version %d capability %d; this relay needs version %d capability %d or newer: upgrade required",
			h.Version, h.Capability, proto.Version, s.opts.MinCapability)
	}
	claims, err := s.verifier.Verify(h.Token, kind)
	if err != nil {
		return nil, err
	}
	p := &peer{
		ws:       ws,
		kind:     kind,
		claims:   claims,
		src:      src,
		since:    s.opts.Now(),
		limiter:  rate.NewLimiter(rate.Limit(s.opts.MessageRate), s.opts.MessageBurst),
		sessions: make(map[string]*session),
	}
	p.lastSeen.Store(p.since.UnixNano())
	welcome, err := proto.Encode(m.ID, "", &proto.Welcome{
		Capability: min(h.Capability, proto.Capability),
		Heartbeat:  int(s.opts.Heartbeat / time.Second),
		Subject:    claims.Subject,
	})
	if err != nil {
		return nil, err
	}
	out, err := s.register(p, h.Resume)
	if err != nil {
		return nil, err
	}
	// welcome goes first so that the client knows it is in before any
	// session.resumed arrives.
	s.send(p, welcome)
	s.deliver(out)
	return p, nil
}

// register publishes p, replacing an older connection of the same device,
// and re-attaches the sessions it resumes.
func (s *Server) register(p *peer, resume []proto.Resume) ([]delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, proto.Errorf(proto.CodeInternal, "relay shutting down")
	}
	var replaced *peer
	if p.kind == proto.KindDevice {
		replaced = s.agents[p.subject()]
		s.agents[p.subject()] = p
	}
	s.peers[p] = struct{}{}
	s.metrics.connections.WithLabelValues(string(p.kind)).Inc()
	var out []delivery
	for _, r := range resume {
		out = append(out, s.resumeLocked(p, r)...)
	}
	if replaced != nil {
		// Its reader ends and detaches it; sessions it held and p did not
		// resume wait out the resume window.
		go replaced.ws.Close(websocket.StatusPolicyViolation, "replaced by a newer connection")
	}
	return out, nil
}

// detach forgets a closed connection. Sessions not yet established end;
// established ones wait ResumeWindow for the party to come back.
func (s *Server) detach(p *peer) {
	s.mu.Lock()
	delete(s.peers, p)
	if p.kind == proto.KindDevice && s.agents[p.subject()] == p {
		delete(s.agents, p.subject())
	}
	s.metrics.connections.WithLabelValues(string(p.kind)).Dec()
	var out []delivery
	for _, sess := range p.sessions {
		out = append(out, s.leaveLocked(sess, p)...)
	}
	s.mu.Unlock()
	s.deliver(out)
	p.ws.CloseNow()
}

// delivery is a message to send once Server.mu is released.
type delivery struct {
	to   *peer
	data []byte
}

func (s *Server) deliver(out []delivery) {
	for _, d := range out {
		s.send(d.to, d.data)
	}
}

// send writes one message; a peer that cannot take it in writeTimeout is dropped.
func (s *Server) send(p *peer, data []byte) {
	ctx, cancel := writeCtx()
	defer cancel()
	if err := p.ws.Write(ctx, websocket.MessageText, data); err != nil {
		s.logFor(p).Debug("relay: write failed", "err", err)
		p.ws.CloseNow()
	}
}

// sendError reports err to the client. Errors that are not protocol errors
// are logged and reported as "internal" without their text.
func (s *Server) sendError(ws *websocket.Conn, ref string, err error) {
	var pe *proto.Error
	if !errors.As(err, &pe) {
		s.log.Error("relay: internal error", "err", err)
		pe = proto.Errorf(proto.CodeInternal, "internal error")
	}
	data, encErr := proto.Encode(ref, "", &proto.ErrorBody{Code: pe.Code, Message: pe.Msg})
	if encErr != nil {
		s.log.Error("relay: encode error message", "err", encErr)
		return
	}
	ctx, cancel := writeCtx()
	defer cancel()
	_ = ws.Write(ctx, websocket.MessageText, data) // the peer may be gone already
}

func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	return a.Unmap()
}

func closeReason(err error, p *peer) string {
	if p.silent.Load() {
		return "heartbeat timeout"
	}
	if st := websocket.CloseStatus(err); st != -1 {
		return st.String()
	}
	return "connection lost"
}

// dropSilent closes connections that sent nothing for 2.5 heartbeats.
func (s *Server) dropSilent() {
	limit := s.opts.Now().Add(-time.Duration(2.5 * float64(s.opts.Heartbeat))).UnixNano()
	var silent []*peer
	s.mu.Lock()
	for p := range s.peers {
		if p.lastSeen.Load() < limit {
			silent = append(silent, p)
		}
	}
	s.mu.Unlock()
	for _, p := range silent {
		p.silent.Store(true)
		p.ws.CloseNow()
	}
}
