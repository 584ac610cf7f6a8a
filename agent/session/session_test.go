package session_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"image"
	"image/color"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/agent/input"
	"github.com/reachdesk/reach/agent/media"
	"github.com/reachdesk/reach/agent/media/mediatest"
	"github.com/reachdesk/reach/agent/session"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/internal/xvfb"
	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay"
	"github.com/reachdesk/reach/relay/node"
	"github.com/reachdesk/reach/relay/relayclient"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The terminal prompter's reader and pion's/xgb's shutdown stragglers.
		goleak.IgnoreAnyFunction("github.com/jezek/xgb.(*Conn).readResponses"),
		goleak.IgnoreAnyFunction("github.com/jezek/xgb.(*Conn).sendRequests"),
		goleak.IgnoreAnyFunction("github.com/jezek/xgb.(*Conn).generateXIds"),
		goleak.IgnoreAnyFunction("github.com/jezek/xgb.(*Conn).generateSeqIds"),
	)
}

var quiet = func() *slog.Logger {
	if os.Getenv("REACH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

// env is a relay with embedded TURN, an Xvfb, and an agent connected to both.
type env struct {
	x        *xvfb.Server
	url      string
	console  *signing.Signer
	devKey   ed25519.PrivateKey
	agent    *session.Agent
	decision chan proto.Decision // what the end user answers; nothing: no answer
	statuses chan session.Status
	chats    chan string // chat lines from the technician
}

func newEnv(t *testing.T, policy consent.Policy, consentTimeout time.Duration) *env {
	t.Helper()
	_, ckey, _ := ed25519.GenerateKey(rand.Reader)
	_, dkey, _ := ed25519.GenerateKey(rand.Reader)
	e := &env{
		x: xvfb.Start(t, xvfb.Options{Width: 640, Height: 480}), console: signing.New(ckey, nil), devKey: dkey,
		decision: make(chan proto.Decision, 1), statuses: make(chan session.Status, 64), chats: make(chan string, 16),
	}
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.Listen(ctx, node.Config{
		Listen: "127.0.0.1:0", TURNListen: "127.0.0.1:0", TURNAllowLoopback: true,
		ConsoleKeys: []ed25519.PublicKey{ckey.Public().(ed25519.PublicKey)}, Logger: quiet,
		Relay: relay.Options{ConsentTimeout: consentTimeout},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	relayDone := make(chan struct{})
	go func() { n.Run(ctx); close(relayDone) }()
	e.url = "ws://" + n.Addr().String()

	devTok := e.token(t, proto.Claims{Kind: proto.KindDevice, Name: "Reception PC", RegisteredClaims: jwt.RegisteredClaims{Subject: "dev-1"}}, proto.AudienceRelay)
	prompter := consent.PrompterFunc(func(ctx context.Context, r consent.Request) (proto.Decision, error) {
		select {
		case d := <-e.decision:
			return d, nil
		case <-ctx.Done():
			return proto.DecisionDeny, ctx.Err()
		}
	})
	e.agent, err = session.New(session.Config{
		RelayURL: e.url + "/v1/agent", Token: func(context.Context) (string, error) { return devTok, nil },
		DeviceKey: dkey, ConsoleKeys: []ed25519.PublicKey{ckey.Public().(ed25519.PublicKey)},
		Policy: policy, Prompter: prompter,
	}, session.Options{
		Display: e.x.Display, Logger: quiet,
		OnStatus: func(s session.Status) {
			select {
			case e.statuses <- s:
			default:
			}
		},
		OnChat: func(_, text string) { e.chats <- text },
	})
	if err != nil {
		t.Fatal(err)
	}
	agentDone := make(chan struct{})
	actx, acancel := context.WithCancel(context.Background())
	go func() { e.agent.Run(actx); close(agentDone) }()
	t.Cleanup(func() {
		acancel()
		<-agentDone
		cancel()
		<-relayDone
	})
	select {
	case <-e.agent.Connected():
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not connect")
	}
	return e
}

func (e *env) token(t *testing.T, c proto.Claims, aud string) string {
	t.Helper()
	tok, err := e.console.Issue(c, aud, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tech is the technician: a relay connection and a pion PeerConnection.
type tech struct {
	t       *testing.T
	e       *env
	conn    *relayclient.Conn
	inbox   chan *proto.Message
	sid     string
	pc      *webrtc.PeerConnection
	dcs     map[string]*webrtc.DataChannel
	control chan string // messages on the control channel
	clip    chan string // messages on the clipboard channel
	chat    chan string // messages on the chat channel
	video   chan *mediatest.Receiver
	mu      sync.Mutex
	pending []webrtc.ICECandidateInit
}

func newTech(t *testing.T, e *env, url string) *tech {
	t.Helper()
	tok := e.token(t, proto.Claims{
		Kind: proto.KindTechnician, Name: "Ann Tech", Org: "ACME IT",
		Permissions:      []proto.Permission{proto.PermView, proto.PermControl, proto.PermClipboard},
		Ticket:           &proto.TicketRef{ID: "42", Title: "Printer"},
		RegisteredClaims: jwt.RegisteredClaims{Subject: "u1"},
	}, proto.AudienceRelay)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := relayclient.Dial(ctx, url+"/v1/technician", tok, relayclient.DialOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	tc := &tech{t: t, e: e, conn: c, inbox: make(chan *proto.Message, 64), control: make(chan string, 64), clip: make(chan string, 16), chat: make(chan string, 16), video: make(chan *mediatest.Receiver, 1)}
	go func() {
		for {
			m, err := c.Recv(context.Background())
			if err != nil {
				close(tc.inbox)
				return
			}
			tc.inbox <- m
		}
	}()
	t.Cleanup(func() { c.Close() })
	return tc
}

func next[B proto.Body](t *testing.T, tc *tech) B {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-tc.inbox:
			if !ok {
				t.Fatalf("relay connection closed while waiting for %T", *new(B))
			}
			if b, ok := m.Body.(B); ok {
				return b
			}
			if !tc.signal(m) {
				t.Logf("skipping %s while waiting for %T", m.Type, *new(B))
			}
		case <-deadline:
			t.Fatalf("no %T within 20s", *new(B))
		}
	}
}

// invite creates a code and lets the agent join it, returning the agent's session.
func (tc *tech) invite() *session.Session {
	t := tc.t
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := tc.conn.Request(ctx, "", &proto.CodeCreate{})
	if err != nil {
		t.Fatal(err)
	}
	tc.sid = m.SID
	s, err := tc.e.agent.Join(ctx, m.Body.(*proto.CodeCreated).Code)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Request(); r.Technician.Name != "Ann Tech" || r.Ticket == nil || r.Ticket.ID != "42" {
		t.Fatalf("consent request = %+v", r)
	}
	return s
}

// connect answers a session.start with an offer bound by a grant, and waits
// for the video track. tamper may alter the offer's SDP after the grant was made.
func (tc *tech) connect(start *proto.SessionStart, codecs ...string) {
	t := tc.t
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: media.PlayoutDelayURI}, webrtc.RTPCodecTypeVideo)
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir))
	var ice []webrtc.ICEServer
	for _, s := range start.ICEServers {
		ice = append(ice, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: ice})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	tc.pc = pc
	tr, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
	if err != nil {
		t.Fatal(err)
	}
	if len(codecs) > 0 {
		var prefs []webrtc.RTPCodecParameters
		for _, want := range codecs {
			prefs = append(prefs, webrtc.RTPCodecParameters{
				RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: "video/" + want, ClockRate: 90000},
			})
		}
		tr.SetCodecPreferences(prefs)
	}
	pc.OnTrack(func(track *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		var id uint8
		for _, h := range r.GetParameters().HeaderExtensions {
			if h.URI == media.PlayoutDelayURI {
				id = uint8(h.ID)
			}
		}
		tc.video <- mediatest.Receive(track, id)
	})
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		tc.conn.Send(context.Background(), tc.sid, &proto.Candidate{Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex})
	})
	tc.dcs = map[string]*webrtc.DataChannel{}
	for _, label := range []string{proto.ChannelInput, proto.ChannelControl, proto.ChannelClipboard, proto.ChannelChat, "exfiltrate"} {
		dc, err := pc.CreateDataChannel(label, nil)
		if err != nil {
			t.Fatal(err)
		}
		tc.dcs[label] = dc
	}
	for label, ch := range map[string]chan string{proto.ChannelControl: tc.control, proto.ChannelClipboard: tc.clip, proto.ChannelChat: tc.chat} {
		tc.dcs[label].OnMessage(func(m webrtc.DataChannelMessage) {
			select {
			case ch <- string(m.Data):
			default:
			}
		})
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	fp, err := proto.Fingerprint(offer.SDP)
	if err != nil {
		t.Fatal(err)
	}
	grant := tc.e.token(t, proto.Claims{Kind: proto.KindGrant, Device: "dev-1", Fingerprint: fp, RegisteredClaims: jwt.RegisteredClaims{Subject: "u1"}}, proto.AudienceAgent)
	if _, err := tc.conn.Send(context.Background(), tc.sid, &proto.Offer{SDP: proto.SDP{SDP: offer.SDP, Signature: grant}}); err != nil {
		t.Fatal(err)
	}
}

// signal applies an answer or a candidate; it reports whether m was one.
func (tc *tech) signal(m *proto.Message) bool {
	switch b := m.Body.(type) {
	case *proto.Answer:
		if err := proto.VerifyDTLS(tc.e.devKey.Public().(ed25519.PublicKey), tc.sid, b.SDP.SDP, b.Signature); err != nil {
			tc.t.Errorf("technician: answer not signed by the device: %v", err)
			return true
		}
		if err := tc.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: b.SDP.SDP}); err != nil {
			tc.t.Errorf("technician: set answer: %v", err)
		}
		for _, c := range tc.pending {
			tc.pc.AddICECandidate(c)
		}
		tc.pending = nil
		return true
	case *proto.Candidate:
		c := webrtc.ICECandidateInit{Candidate: b.Candidate, SDPMid: b.SDPMid, SDPMLineIndex: b.SDPMLineIndex}
		if b.Candidate == "" {
			return true
		}
		if tc.pc == nil || tc.pc.RemoteDescription() == nil {
			tc.pending = append(tc.pending, c)
		} else {
			tc.pc.AddICECandidate(c)
		}
		return true
	}
	return false
}

// waitVideo pumps signaling until the video track arrives.
func (tc *tech) waitVideo() *mediatest.Receiver {
	tc.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case r := <-tc.video:
			return r
		case m := <-tc.inbox:
			if !tc.signal(m) {
				tc.t.Fatalf("unexpected %s while connecting: %+v", m.Type, m.Body)
			}
		case <-deadline:
			tc.t.Fatal("no video track within 20s")
		}
	}
}

// pumpSignaling keeps applying candidates in the background until the test ends.
func (tc *tech) pumpSignaling(rest chan<- *proto.Message) {
	go func() {
		for m := range tc.inbox {
			if !tc.signal(m) {
				rest <- m
			}
		}
		close(rest)
	}()
}

func (tc *tech) sendDC(label string, m proto.DCMessage) {
	tc.t.Helper()
	dc := tc.dcs[label]
	deadline := time.Now().Add(10 * time.Second)
	for dc.ReadyState() != webrtc.DataChannelStateOpen {
		if time.Now().After(deadline) {
			tc.t.Fatalf("%s channel not open", label)
		}
		time.Sleep(10 * time.Millisecond)
	}
	data, _ := proto.EncodeDC(m)
	if err := dc.SendText(string(data)); err != nil {
		tc.t.Fatal(err)
	}
}

// waitControl waits for a control message of type typ.
func (tc *tech) waitControl(typ proto.DCType) string {
	tc.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-tc.control:
			var h struct{ T proto.DCType }
			json.Unmarshal([]byte(m), &h)
			if h.T == typ {
				return m
			}
		case <-deadline:
			tc.t.Fatalf("no %s on the control channel", typ)
		}
	}
}

func pointer(t *testing.T, x *xvfb.Server) string {
	return strings.TrimSpace(x.Run(t, "xdotool", "getmouselocation"))
}

func waitFile(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got []byte
	for time.Now().Before(deadline) {
		got, _ = os.ReadFile(path)
		if strings.Contains(string(got), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("typed text = %q, want %q", got, want)
}

func isRed(img *image.YCbCr, x, y int) bool {
	r, g, b := mediatest.RGBAt(img, x, y)
	return r > 200 && g < 60 && b < 60
}

func TestControlSession(t *testing.T) {
	e := newEnv(t, consent.PolicyDeny, 0)
	out := filepath.Join(t.TempDir(), "typed")
	e.x.Client(t, "xterm", "-geometry", "40x10+0+0", "-e", "sh", "-c", "stty -echo; cat > "+out)
	e.x.WaitWindow(t, "xterm")
	painter := e.x.Painter(t)
	painter.Fill(t, image.Rect(400, 300, 560, 420), color.RGBA{R: 255, A: 255})

	tc := newTech(t, e, e.url)
	s := tc.invite()
	e.decision <- proto.DecisionControl
	if d := next[*proto.ConsentDecision](t, tc); d.Decision != proto.DecisionControl {
		t.Fatalf("decision %+v", d)
	}
	start := next[*proto.SessionStart](t, tc)
	tc.connect(start)
	video := tc.waitVideo()
	rest := make(chan *proto.Message, 16)
	tc.pumpSignaling(rest)

	// Frames arrive and show what is on the display.
	img, ok := video.WaitFor(10*time.Second, func(img *image.YCbCr) bool { return isRed(img, 480, 360) })
	if !ok {
		n, b := video.Frames()
		_, err := video.Last()
		t.Fatalf("no frame with the red rectangle (%d frames, %d bytes, decode error %v)", n, b, err)
	}
	if img.Rect.Dx() != 640 || img.Rect.Dy() != 480 || isRed(img, 300, 200) {
		t.Fatalf("decoded %v; red outside the rectangle", img.Rect)
	}
	if !video.PlayoutDelay() {
		t.Error("packets carry no playout-delay extension")
	}
	tc.waitControl(proto.DCPermissions)
	tc.waitControl(proto.DCMonitors)

	// Pointer, click, keys and text land on the display.
	tc.sendDC(proto.ChannelInput, proto.Pointer{X: 0.5, Y: 0.25})
	waitPointer(t, e.x, "x:320 y:120")
	tc.sendDC(proto.ChannelInput, proto.Pointer{X: 0.1, Y: 0.05}) // over the xterm: focus follows the pointer
	tc.sendDC(proto.ChannelInput, proto.Button{Button: "left", Down: true, X: 0.1, Y: 0.05})
	tc.sendDC(proto.ChannelInput, proto.Button{Button: "left", Down: false, X: 0.1, Y: 0.05})
	tc.sendDC(proto.ChannelInput, proto.Key{Code: "KeyH", Down: true, Mods: proto.Modifiers{Shift: true}})
	tc.sendDC(proto.ChannelInput, proto.Key{Code: "KeyH", Down: false, Mods: proto.Modifiers{Shift: true}})
	tc.sendDC(proto.ChannelInput, proto.Text{Text: "ello from the technician\n"})
	waitFile(t, out, "Hello from the technician\n")
	// A channel of an unknown label is refused (closed by the agent).
	for deadline := time.Now().Add(10 * time.Second); tc.dcs["exfiltrate"].ReadyState() != webrtc.DataChannelStateClosed; {
		if time.Now().After(deadline) {
			t.Fatalf("unknown channel is %s, want closed", tc.dcs["exfiltrate"].ReadyState())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A static screen sends only heartbeats of a few hundred bytes.
	time.Sleep(1500 * time.Millisecond)
	n0, b0 := video.Frames()
	cpu0 := cpuTime()
	time.Sleep(3 * time.Second)
	cpu := cpuTime() - cpu0
	n1, b1 := video.Frames()
	t.Logf("static screen: %d frames, %d bytes in 3 s; test process (agent, relay, technician) CPU %.1f%% of a core", n1-n0, b1-b0, 100*cpu.Seconds()/3)
	if beats := int(3*time.Second/media.HeartbeatGap) + 1; n1-n0 > beats || b1-b0 > 500*beats {
		t.Errorf("static screen: %d frames, %d bytes in 3 s, want at most %d heartbeats", n1-n0, b1-b0, beats)
	}
	// A keyframe request sends one anyway.
	tc.sendDC(proto.ChannelControl, proto.Keyframe{})
	waitFrames(t, video, n1+1)
	stats := tc.waitControl(proto.DCStats)
	t.Logf("stats: %s", stats)

	// Revoke: the technician is told, and input is dropped.
	s.Revoke()
	if p := tc.waitControl(proto.DCPermissions); strings.Contains(p, `"control"`) || !strings.Contains(p, "revoked") {
		t.Fatalf("permissions after revoke: %s", p)
	}
	before := pointer(t, e.x)
	dropped := s.DroppedInput()
	tc.sendDC(proto.ChannelInput, proto.Pointer{X: 0.9, Y: 0.9})
	tc.sendDC(proto.ChannelInput, proto.Text{Text: "after revoke\n"})
	deadline := time.Now().Add(5 * time.Second)
	for s.DroppedInput() < dropped+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := pointer(t, e.x); got != before || s.DroppedInput() < dropped+2 {
		t.Fatalf("after revoke: pointer %s (was %s), dropped %d", got, before, s.DroppedInput()-dropped)
	}
	if b, _ := os.ReadFile(out); strings.Contains(string(b), "after revoke") {
		t.Fatal("text typed after revoke")
	}

	// Stop ends the stream on both sides.
	s.Stop()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("session not torn down")
	}
	deadline2 := time.After(10 * time.Second)
	for got := false; !got; {
		select {
		case m := <-rest:
			if end, ok := m.Body.(*proto.SessionEnd); ok && strings.Contains(end.Reason, "stopped by the user") {
				got = true
			}
		case <-deadline2:
			t.Fatal("technician got no session.end")
		}
	}
	select {
	case <-video.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("video track did not end")
	}
	if st := s.Status(); st.State != session.StateEnded || len(e.agent.Sessions()) != 0 {
		t.Fatalf("after stop: %+v, %d sessions", st, len(e.agent.Sessions()))
	}
}

func waitPointer(t *testing.T, x *xvfb.Server, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := pointer(t, x)
		if strings.HasPrefix(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pointer at %q, want %q", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitFrames(t *testing.T, r *mediatest.Receiver, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, _ := r.Frames(); got >= n {
			return
		}
		if time.Now().After(deadline) {
			got, _ := r.Frames()
			t.Fatalf("%d frames, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDenyAndTimeoutSendNoVideo(t *testing.T) {
	e := newEnv(t, consent.PolicyDeny, 2*time.Second)
	tc := newTech(t, e, e.url)

	s := tc.invite()
	e.decision <- proto.DecisionDeny
	if d := next[*proto.ConsentDecision](t, tc); d.Decision != proto.DecisionDeny || d.Reason != "user" {
		t.Fatalf("decision %+v", d)
	}
	<-s.Done()

	// No answer: the agent denies on its own timeout.
	s = tc.invite()
	if d := next[*proto.ConsentDecision](t, tc); d.Decision != proto.DecisionDeny || d.Reason != "timeout" {
		t.Fatalf("decision %+v", d)
	}
	<-s.Done()
	// Neither session started: no session.start, no offer was possible.
	drain := time.After(500 * time.Millisecond)
	for {
		select {
		case m := <-tc.inbox:
			if _, ok := m.Body.(*proto.SessionStart); ok {
				t.Fatal("session.start after a deny")
			}
		case <-drain:
			return
		}
	}
}

func TestViewOnlyDropsInput(t *testing.T) {
	e := newEnv(t, consent.PolicyDeny, 0)
	tc := newTech(t, e, e.url)
	s := tc.invite()
	e.decision <- proto.DecisionView
	start := next[*proto.SessionStart](t, tc)
	if proto.HasPermission(start.Permissions, proto.PermControl) {
		t.Fatalf("view grant carries control: %v", start.Permissions)
	}
	tc.connect(start, "VP9") // the viewer prefers VP9
	video := tc.waitVideo()
	rest := make(chan *proto.Message, 16)
	tc.pumpSignaling(rest)
	if video.Codec != "VP9" {
		t.Errorf("codec %s, want the viewer's VP9", video.Codec)
	}
	if _, ok := video.WaitFor(10*time.Second, func(*image.YCbCr) bool { return true }); !ok {
		t.Fatal("no frame")
	}
	before := pointer(t, e.x)
	tc.sendDC(proto.ChannelInput, proto.Pointer{X: 0.7, Y: 0.7})
	tc.sendDC(proto.ChannelInput, proto.Button{Button: "left", Down: true, X: 0.7, Y: 0.7})
	tc.sendDC(proto.ChannelClipboard, proto.Clipboard{Text: "not allowed"})
	deadline := time.Now().Add(5 * time.Second)
	for s.DroppedInput() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := pointer(t, e.x); got != before || s.DroppedInput() != 3 {
		t.Fatalf("view only: pointer %s (was %s), %d dropped", got, before, s.DroppedInput())
	}
}

// tamperingProxy sits between the technician and the relay and swaps the
// DTLS fingerprint in offers, as a malicious relay could.
func tamperingProxy(t *testing.T, relayURL string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{proto.Subprotocol}})
		if err != nil {
			return
		}
		defer in.CloseNow()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		out, _, err := websocket.Dial(ctx, relayURL+r.URL.Path, &websocket.DialOptions{Subprotocols: []string{proto.Subprotocol}})
		if err != nil {
			return
		}
		defer out.CloseNow()
		out.SetReadLimit(proto.MaxMessageSize)
		in.SetReadLimit(proto.MaxMessageSize)
		go func() {
			defer cancel()
			for {
				typ, data, err := out.Read(ctx)
				if err != nil || in.Write(ctx, typ, data) != nil {
					return
				}
			}
		}()
		for {
			typ, data, err := in.Read(ctx)
			if err != nil {
				return
			}
			if m, err := proto.Decode(data); err == nil {
				if o, ok := m.Body.(*proto.Offer); ok {
					fp, _ := proto.Fingerprint(o.SDP.SDP)
					hash, hex, _ := strings.Cut(fp, " ")
					forged := "AA" + hex[2:]
					if strings.HasPrefix(hex, "AA") {
						forged = "BB" + hex[2:]
					}
					o.SDP.SDP = strings.Replace(o.SDP.SDP, "a=fingerprint:"+hash+" "+hex, "a=fingerprint:"+hash+" "+forged, 1)
					data, _ = proto.Encode(m.ID, m.SID, o)
				}
			}
			if out.Write(ctx, typ, data) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestForgedFingerprintRefused(t *testing.T) {
	e := newEnv(t, consent.PolicyDeny, 0)
	tc := newTech(t, e, tamperingProxy(t, e.url))
	s := tc.invite()
	e.decision <- proto.DecisionControl
	start := next[*proto.SessionStart](t, tc)
	tc.connect(start)
	end := next[*proto.SessionEnd](t, tc)
	if !strings.Contains(end.Reason, "may be intercepted") {
		t.Fatalf("technician got session.end %q", end.Reason)
	}
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("agent session still running")
	}
	if err := s.Err(); proto.CodeOf(err) != proto.CodeForbidden || !strings.Contains(err.Error(), "DTLS fingerprint") {
		t.Fatalf("agent session error %v", err)
	}
	if tc.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
		t.Fatal("the technician connected despite the forged fingerprint")
	}
}

// cpuTime returns the CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// recv waits for a message on ch and decodes it into out.
func recv(t *testing.T, ch <-chan string, what string, out any) {
	t.Helper()
	select {
	case m := <-ch:
		if err := json.Unmarshal([]byte(m), out); err != nil {
			t.Fatalf("%s: %v in %q", what, err, m)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10 s", what)
	}
}

// TestSessionControls drives what the control, chat and clipboard channels
// offer: monitor switch (with input landing on the shown monitor), quality
// caps, keyframe on request, chat both ways, and clipboard both ways.
func TestSessionControls(t *testing.T) {
	e := newEnv(t, consent.PolicyDeny, 0)
	e.x.Run(t, "xrandr", "--setmonitor", "left", "320/80x480/120+0+0", "none")
	e.x.Run(t, "xrandr", "--setmonitor", "right", "320/80x480/120+320+0", "none")
	painter := e.x.Painter(t)
	painter.Fill(t, image.Rect(0, 0, 320, 480), color.RGBA{R: 255, A: 255})
	painter.Fill(t, image.Rect(320, 0, 640, 480), color.RGBA{B: 255, A: 255})

	tc := newTech(t, e, e.url)
	s := tc.invite()
	e.decision <- proto.DecisionControl
	tc.connect(next[*proto.SessionStart](t, tc))
	video := tc.waitVideo()
	rest := make(chan *proto.Message, 16)
	tc.pumpSignaling(rest)

	// Monitors: the whole screen first, then the two halves.
	var mons proto.Monitors
	if err := json.Unmarshal([]byte(tc.waitControl(proto.DCMonitors)), &mons); err != nil {
		t.Fatal(err)
	}
	if len(mons.Monitors) != 3 || mons.Monitors[2].Name != "right" || mons.Monitors[2].X != 320 || mons.Shown != 0 {
		t.Fatalf("monitors = %+v, want screen, left, right", mons)
	}
	if _, ok := video.WaitFor(10*time.Second, func(img *image.YCbCr) bool { return img.Rect.Dx() == 640 }); !ok {
		t.Fatal("no frame of the whole screen")
	}
	tc.sendDC(proto.ChannelControl, proto.MonitorSelect{Index: 2})
	if err := json.Unmarshal([]byte(tc.waitControl(proto.DCMonitors)), &mons); err != nil || mons.Shown != 2 {
		t.Fatalf("after selecting monitor 2: %+v, %v", mons, err)
	}
	blue := func(img *image.YCbCr) bool {
		r, _, b := mediatest.RGBAt(img, 160, 240)
		return img.Rect.Dx() == 320 && img.Rect.Dy() == 480 && b > 200 && r < 60
	}
	if img, ok := video.WaitFor(10*time.Second, blue); !ok {
		t.Fatalf("after selecting the right monitor the video shows %v", img.Rect)
	}
	// Normalized input points into the monitor shown.
	tc.sendDC(proto.ChannelInput, proto.Pointer{X: 0.5, Y: 0.5})
	waitPointer(t, e.x, "x:480 y:240")

	// Keyframe on request, on a still screen.
	time.Sleep(time.Second)
	keys := video.Keyframes()
	tc.sendDC(proto.ChannelControl, proto.Keyframe{})
	deadline := time.Now().Add(5 * time.Second)
	for video.Keyframes() == keys && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if video.Keyframes() != keys+1 {
		t.Errorf("keyframes %d → %d after a request, want one more", keys, video.Keyframes())
	}

	// Quality: a frame-rate cap holds while the screen changes all the time.
	tc.sendDC(proto.ChannelControl, proto.Quality{Mode: "auto", MaxFPS: 5})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(15 * time.Millisecond):
			}
			painter.Fill(t, image.Rect(400, 100, 500, 200), color.RGBA{G: uint8(i * 7), A: 255})
		}
	})
	time.Sleep(1500 * time.Millisecond)
	for range 3 { // skip the stats that straddle the change
		tc.waitControl(proto.DCStats)
	}
	var st proto.Stats
	if err := json.Unmarshal([]byte(tc.waitControl(proto.DCStats)), &st); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if st.FPS < 3 || st.FPS > 6 {
		t.Errorf("with max_fps 5 on a changing screen the agent sent %.1f fps", st.FPS)
	}

	// Chat both ways.
	tc.sendDC(proto.ChannelChat, proto.Chat{From: "technician", Text: "Can you see the printer dialog?"})
	select {
	case got := <-e.chats:
		if got != "Can you see the printer dialog?" {
			t.Errorf("end user got chat %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the end user got no chat line")
	}
	if err := s.SendChat("yes, it is open"); err != nil {
		t.Fatal(err)
	}
	var chat proto.Chat
	recv(t, tc.chat, "chat line", &chat)
	if chat.From != "user" || chat.Text != "yes, it is open" {
		t.Errorf("technician got chat %+v", chat)
	}

	// Clipboard both ways, through another X client on the display.
	other, err := input.OpenClipboard(e.x.Display)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tc.sendDC(proto.ChannelClipboard, proto.Clipboard{Text: "copied by the technician ✓"})
	var got string
	for deadline := time.Now().Add(5 * time.Second); got != "copied by the technician ✓"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the display's clipboard holds %q", got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		got, _ = other.Get(ctx)
		cancel()
	}
	if err := other.Set("copied by the user"); err != nil {
		t.Fatal(err)
	}
	var clip proto.Clipboard
	recv(t, tc.clip, "clipboard", &clip)
	if clip.Text != "copied by the user" {
		t.Errorf("technician got clipboard %q", clip.Text)
	}
	if n := s.DroppedInput(); n != 0 {
		t.Errorf("%d messages dropped in a control session", n)
	}
}
