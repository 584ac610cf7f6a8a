package node_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay/node"
	"github.com/reachdesk/reach/relay/relayclient"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startNode runs a relay node until the returned stop function is called.
func startNode(t *testing.T, key ed25519.PrivateKey, listen, turnListen string) (n *node.Node, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.Listen(ctx, node.Config{
		Listen:            listen,
		ConsoleKeys:       []ed25519.PublicKey{key.Public().(ed25519.PublicKey)},
		TURNListen:        turnListen,
		TURNAllowLoopback: true,
		Logger:            quiet,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return n, stop
}

func token(t *testing.T, key ed25519.PrivateKey, kind proto.Kind, sub string) string {
	t.Helper()
	now := time.Now()
	c := proto.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: sub, Audience: jwt.ClaimStrings{proto.AudienceRelay}, ExpiresAt: jwt.NewNumericDate(now.Add(10 * time.Minute))},
		Kind:             kind,
		Name:             "name of " + sub,
	}
	if kind == proto.KindTechnician {
		c.Permissions = []proto.Permission{proto.PermView, proto.PermControl}
	}
	tok, err := proto.SignToken(key, c, now)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// endpoint is one side's signaling: a reconnecting relay connection whose
// messages land in inbox, and the session it resumes after a reconnect.
type endpoint struct {
	inbox     chan *proto.Message
	connected chan struct{} // one value per (re)connect

	mu   sync.Mutex
	conn *relayclient.Conn
	sid  string // guarded by mu
	peer string // guarded by mu
}

func runEndpoint(t *testing.T, ctx context.Context, url, tok string) *endpoint {
	e := &endpoint{inbox: make(chan *proto.Message, 64), connected: make(chan struct{}, 8)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		relayclient.Run(ctx, url, relayclient.RunOptions{
			DialOptions:    relayclient.DialOptions{Logger: quiet},
			Token:          func(context.Context) (string, error) { return tok, nil },
			ResumeSessions: e.resume,
			Backoff:        relayclient.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
		}, e.serve)
	}()
	t.Cleanup(func() { <-done })
	select {
	case <-e.connected:
	case <-time.After(10 * time.Second):
		t.Fatal("endpoint did not connect")
	}
	return e
}

func (e *endpoint) serve(ctx context.Context, c *relayclient.Conn) {
	e.mu.Lock()
	e.conn = c
	e.mu.Unlock()
	e.connected <- struct{}{}
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			return
		}
		e.inbox <- m
	}
}

func (e *endpoint) resume() []proto.Resume {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sid == "" {
		return nil
	}
	return []proto.Resume{{SID: e.sid, Peer: e.peer}}
}

func (e *endpoint) remember(sid, peer string) {
	e.mu.Lock()
	e.sid, e.peer = sid, peer
	e.mu.Unlock()
}

func (e *endpoint) send(t *testing.T, sid string, b proto.Body) {
	e.mu.Lock()
	c := e.conn
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Send(ctx, sid, b); err != nil {
		t.Errorf("send %s: %v", b.MessageType(), err)
	}
}

func (e *endpoint) request(t *testing.T, b proto.Body) *proto.Message {
	e.mu.Lock()
	c := e.conn
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := c.Request(ctx, "", b)
	if err != nil {
		t.Fatalf("%s: %v", b.MessageType(), err)
	}
	return m
}

func next[B proto.Body](t *testing.T, e *endpoint) (*proto.Message, B) {
	t.Helper()
	for {
		select {
		case m := <-e.inbox:
			if b, ok := m.Body.(B); ok {
				return m, b
			}
			t.Logf("skipping %s while waiting for %T", m.Type, *new(B))
		case <-time.After(15 * time.Second):
			t.Fatalf("no %T within 15s", *new(B))
		}
	}
}

// pairSession runs code → redeem → consent (control) and returns the session
// id and each side's session.start.
func pairSession(t *testing.T, tech, agent *endpoint) (string, *proto.SessionStart, *proto.SessionStart) {
	m := tech.request(t, &proto.CodeCreate{})
	agent.send(t, "", &proto.CodeRedeem{Code: m.Body.(*proto.CodeCreated).Code})
	req, _ := next[*proto.ConsentRequest](t, agent)
	next[*proto.PeerJoined](t, tech)
	agent.send(t, req.SID, &proto.ConsentDecision{Decision: proto.DecisionControl, Permissions: []proto.Permission{proto.PermView, proto.PermControl}})
	_, ts := next[*proto.SessionStart](t, tech)
	_, as := next[*proto.SessionStart](t, agent)
	return req.SID, ts, as
}

func iceServers(ss []proto.ICEServer) []webrtc.ICEServer {
	var out []webrtc.ICEServer
	for _, s := range ss {
		out = append(out, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return out
}

// rtcPeer is a pion PeerConnection whose signaling goes through an endpoint.
type rtcPeer struct {
	pc      *webrtc.PeerConnection
	dc      chan *webrtc.DataChannel
	msg     chan string
	pending []webrtc.ICECandidateInit // candidates that arrived before the remote description
}

func newRTCPeer(t *testing.T, e *endpoint, sid string, start *proto.SessionStart, policy webrtc.ICETransportPolicy) *rtcPeer {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{ICEServers: iceServers(start.ICEServers), ICETransportPolicy: policy})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	p := &rtcPeer{pc: pc, dc: make(chan *webrtc.DataChannel, 1), msg: make(chan string, 16)}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		e.send(t, sid, &proto.Candidate{Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex})
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) { p.watch(dc) })
	return p
}

func (p *rtcPeer) watch(dc *webrtc.DataChannel) {
	dc.OnOpen(func() { p.dc <- dc })
	dc.OnMessage(func(m webrtc.DataChannelMessage) { p.msg <- string(m.Data) })
}

// handle applies one signaling message to the peer; the agent side answers offers.
func (p *rtcPeer) handle(t *testing.T, e *endpoint, sid string, m *proto.Message) {
	switch b := m.Body.(type) {
	case *proto.Offer:
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: b.SDP.SDP}); err != nil {
			t.Errorf("agent: set offer: %v", err)
			return
		}
		ans, err := p.pc.CreateAnswer(nil)
		if err != nil {
			t.Errorf("agent: answer: %v", err)
			return
		}
		p.pc.SetLocalDescription(ans)
		e.send(t, sid, &proto.Answer{SDP: proto.SDP{SDP: ans.SDP}})
		p.flush(t)
	case *proto.Answer:
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: b.SDP.SDP}); err != nil {
			t.Errorf("technician: set answer: %v", err)
		}
		p.flush(t)
	case *proto.Candidate:
		if b.Candidate == "" {
			return
		}
		// Trickled candidates can overtake the description they belong to.
		p.pending = append(p.pending, webrtc.ICECandidateInit{Candidate: b.Candidate, SDPMid: b.SDPMid, SDPMLineIndex: b.SDPMLineIndex})
		if p.pc.RemoteDescription() != nil {
			p.flush(t)
		}
	}
}

func (p *rtcPeer) flush(t *testing.T) {
	for _, c := range p.pending {
		if err := p.pc.AddICECandidate(c); err != nil {
			t.Errorf("add candidate: %v", err)
		}
	}
	p.pending = nil
}

// pump feeds e's signaling messages to p until ctx ends; other messages go to rest.
func pump(ctx context.Context, t *testing.T, e *endpoint, p *rtcPeer, sid string, rest chan<- *proto.Message) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-e.inbox:
			switch m.Body.(type) {
			case *proto.Offer, *proto.Answer, *proto.Candidate:
				p.handle(t, e, sid, m)
			default:
				rest <- m
			}
		}
	}
}

func offer(t *testing.T, tech *endpoint, p *rtcPeer, sid string, restart bool) {
	o, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: restart})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	tech.send(t, sid, &proto.Offer{SDP: proto.SDP{SDP: o.SDP}})
}

func waitDC(t *testing.T, p *rtcPeer) *webrtc.DataChannel {
	select {
	case dc := <-p.dc:
		return dc
	case <-time.After(20 * time.Second):
		t.Fatal("data channel did not open in 20s")
		return nil
	}
}

func roundTrip(t *testing.T, from *webrtc.DataChannel, to *rtcPeer, text string) {
	t.Helper()
	if err := from.SendText(text); err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
	select {
	case got := <-to.msg:
		if got != text {
			t.Fatalf("got %q, want %q", got, text)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%q did not arrive", text)
	}
}

func TestWebRTCThroughEmbeddedTURN(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	n, _ := startNode(t, key, "127.0.0.1:0", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := "ws://" + n.Addr().String()
	tech := runEndpoint(t, ctx, url+"/v1/technician", token(t, key, proto.KindTechnician, "u1"))
	agent := runEndpoint(t, ctx, url+"/v1/agent", token(t, key, proto.KindDevice, "dev-1"))

	sid, techStart, agentStart := pairSession(t, tech, agent)
	if len(techStart.ICEServers) != 2 || techStart.ICEServers[1].Username == "" || techStart.ICEServers[1].Username == agentStart.ICEServers[1].Username {
		t.Fatalf("ICE servers: tech %+v agent %+v; want per-party TURN credentials", techStart.ICEServers, agentStart.ICEServers)
	}

	tp := newRTCPeer(t, tech, sid, techStart, webrtc.ICETransportPolicyRelay)
	ap := newRTCPeer(t, agent, sid, agentStart, webrtc.ICETransportPolicyRelay)
	rest := make(chan *proto.Message, 16)
	go pump(ctx, t, tech, tp, sid, rest)
	go pump(ctx, t, agent, ap, sid, rest)
	dc, err := tp.pc.CreateDataChannel("chat", nil)
	if err != nil {
		t.Fatal(err)
	}
	tp.watch(dc)
	offer(t, tech, tp, sid, false)
	waitDC(t, tp)
	agentDC := waitDC(t, ap)

	for name, p := range map[string]*rtcPeer{"technician": tp, "agent": ap} {
		pair, err := p.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			t.Fatalf("%s: no selected pair: %v", name, err)
		}
		if pair.Local.Typ != webrtc.ICECandidateTypeRelay {
			t.Fatalf("%s: local candidate is %s, want relay", name, pair.Local.Typ)
		}
	}
	roundTrip(t, dc, ap, "hello through TURN")
	roundTrip(t, agentDC, tp, "and back")
}

func TestSessionSurvivesRelayRestart(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	// Signaling only: media goes host to host, as between two LAN peers.
	n, stop := startNode(t, key, "127.0.0.1:0", "")
	addr := n.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := "ws://" + addr
	tech := runEndpoint(t, ctx, url+"/v1/technician", token(t, key, proto.KindTechnician, "u1"))
	agent := runEndpoint(t, ctx, url+"/v1/agent", token(t, key, proto.KindDevice, "dev-1"))

	sid, techStart, agentStart := pairSession(t, tech, agent)
	tech.remember(sid, "dev-1")
	agent.remember(sid, "u1")
	tp := newRTCPeer(t, tech, sid, techStart, webrtc.ICETransportPolicyAll)
	ap := newRTCPeer(t, agent, sid, agentStart, webrtc.ICETransportPolicyAll)
	rest := make(chan *proto.Message, 16)
	go pump(ctx, t, tech, tp, sid, rest)
	go pump(ctx, t, agent, ap, sid, rest)
	dc, _ := tp.pc.CreateDataChannel("chat", nil)
	tp.watch(dc)
	offer(t, tech, tp, sid, false)
	waitDC(t, tp)
	waitDC(t, ap)
	roundTrip(t, dc, ap, "before restart")

	// The relay goes away: media keeps flowing peer to peer.
	stop()
	for i := range 5 {
		roundTrip(t, dc, ap, fmt.Sprintf("while the relay is down %d", i))
		time.Sleep(50 * time.Millisecond)
	}

	// A new relay process on the same address: both sides reconnect with
	// backoff, resume the session, and signaling works again (an ICE restart
	// offer is answered through it).
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("relisten %s: %v", addr, err)
	}
	l.Close()
	startNode(t, key, addr, "")
	for _, e := range []*endpoint{tech, agent} {
		select {
		case m := <-rest:
			if _, ok := m.Body.(*proto.SessionResumed); !ok || m.SID != sid {
				t.Fatalf("got %s for %s, want session.resumed for %s", m.Type, m.SID, sid)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("session not resumed (%p)", e)
		}
	}
	offer(t, tech, tp, sid, true)
	deadline := time.Now().Add(10 * time.Second)
	for tp.pc.SignalingState() != webrtc.SignalingStateStable {
		if time.Now().After(deadline) {
			t.Fatal("ICE restart offer not answered after resume")
		}
		time.Sleep(20 * time.Millisecond)
	}
	roundTrip(t, dc, ap, "after restart")
}

func TestMetricsHealthAndGracefulShutdown(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.Listen(ctx, node.Config{
		Listen: "127.0.0.1:0", MetricsListen: "127.0.0.1:0", TURNListen: "127.0.0.1:0",
		ConsoleKeys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	var runErr error
	stopped := make(chan struct{})
	go func() { runErr = n.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })

	c, err := relayclient.Dial(ctx, "ws://"+n.Addr().String()+"/v1/agent", token(t, key, proto.KindDevice, "dev-1"), relayclient.DialOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	body := httpGet(t, "http://"+n.Addr().String()+"/healthz")
	if !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"agents":1`) {
		t.Fatalf("healthz = %s", body)
	}
	metrics := httpGet(t, "http://"+n.MetricsAddr().String()+"/metrics")
	for _, want := range []string{`reach_relay_connections{kind="device"} 1`, "reach_turn_allocations 0", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if len(n.TURNURLs()) != 2 || !strings.HasPrefix(n.TURNURLs()[1], "turn:127.0.0.1:") {
		t.Errorf("TURN URLs = %v", n.TURNURLs())
	}

	// Shutdown tells clients to go away (and come back), and Run returns nil.
	cancel()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client still connected after shutdown")
	}
	if st := websocket.CloseStatus(c.Err()); st != websocket.StatusGoingAway {
		t.Fatalf("closed with %v, want going away", c.Err())
	}
	<-stopped
	if runErr != nil {
		t.Fatalf("Run = %v", runErr)
	}
}

func TestListenRefusesMissingKey(t *testing.T) {
	_, err := node.Listen(context.Background(), node.Config{Listen: "127.0.0.1:0", Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "console public key") {
		t.Fatalf("Listen without keys = %v", err)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}
