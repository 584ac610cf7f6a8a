package session

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/reachdesk/reach/agent/capture"
	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/agent/encode"
	"github.com/reachdesk/reach/agent/input"
	"github.com/reachdesk/reach/agent/media"
	"github.com/reachdesk/reach/proto"
)

// State is where a session is in its life.
type State string

const (
	StateConsent State = "consent" // asking the end user
	StateWaiting State = "waiting" // consent given, WebRTC being set up
	StateActive  State = "active"  // the technician sees the screen
	StateEnded   State = "ended"
)

// Status describes a session for the end user's UI.
type Status struct {
	SID         string
	State       State
	Technician  proto.Person
	Ticket      *proto.TicketRef
	Permissions []proto.Permission // allowed now
	Reason      string             // why it ended
	Err         error              // set when it ended on an error (e.g. a forged fingerprint)
}

// Session is one remote-support session. Its loop goroutine owns the
// signaling state and the PeerConnection; Revoke, Stop and the data-channel
// handlers may run on any goroutine.
type Session struct {
	a   *Agent
	sid string
	req *proto.ConsentRequest
	log *slog.Logger

	inbox  chan *proto.Message
	stopCh chan string // reason
	failed chan string // the PeerConnection failed
	done   chan struct{}
	ctx    context.Context // cancelled when the session ends
	cancel context.CancelFunc

	// Owned by the loop goroutine.
	pc      *webrtc.PeerConnection
	api     *media.API
	pending []webrtc.ICECandidateInit
	src     capture.Source
	wg      sync.WaitGroup // media goroutines

	dropped atomic.Int64 // input events dropped for lack of permission

	mu       sync.Mutex // guards the fields below
	state    State
	granted  []proto.Permission
	revoked  bool // the end user took control (and clipboard) back
	viewOnly bool // the technician switched their own input off
	streamer *media.Streamer
	inj      *input.Injector
	clip     *input.Clipboard
	control  *webrtc.DataChannel
	clipDC   *webrtc.DataChannel
	chatDC   *webrtc.DataChannel
	shownIdx int
	reason   string
	err      error
}

func newSession(a *Agent, sid string, req *proto.ConsentRequest) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	return &Session{
		a: a, sid: sid, req: req, log: a.log.With("sid", sid),
		inbox: make(chan *proto.Message, 64), stopCh: make(chan string, 1), failed: make(chan string, 1),
		done: make(chan struct{}), ctx: ctx, cancel: cancel, state: StateConsent,
	}
}

// ID returns the session id.
func (s *Session) ID() string { return s.sid }

// Request returns who asked for the session and for what.
func (s *Session) Request() proto.ConsentRequest { return *s.req }

// Done is closed when the session has ended and everything is torn down.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended on an error, or nil.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Status returns the session's current status.
func (s *Session) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusLocked()
}

func (s *Session) statusLocked() Status {
	return Status{
		SID: s.sid, State: s.state, Technician: s.req.Technician, Ticket: s.req.Ticket,
		Permissions: s.allowedLocked(), Reason: s.reason, Err: s.err,
	}
}

// DroppedInput returns how many input and clipboard messages were dropped
// because they were not allowed.
func (s *Session) DroppedInput() int64 { return s.dropped.Load() }

// Stop ends the session for the end user: the technician is told, the
// PeerConnection closed and the capture stopped. Done is closed when all is
// torn down.
func (s *Session) Stop() { s.stop("stopped by the user") }

func (s *Session) stop(reason string) {
	select {
	case s.stopCh <- reason:
	default:
	}
}

// Revoke takes control (and clipboard access) back from the technician:
// from now on input and clipboard writes are dropped, held keys and buttons
// are released, and the technician is told on the control channel. Viewing
// goes on; Stop ends it.
func (s *Session) Revoke() {
	s.mu.Lock()
	if s.revoked || s.state == StateEnded {
		s.mu.Unlock()
		return
	}
	s.revoked = true
	inj, dc := s.inj, s.control
	perms := proto.Permissions{Permissions: s.allowedLocked(), Reason: "control revoked by the user"}
	st := s.statusLocked()
	s.mu.Unlock()
	if inj != nil {
		inj.ReleaseAll()
	}
	sendDC(dc, perms)
	s.notify(st)
}

// allowedLocked lists what is allowed now.
func (s *Session) allowedLocked() []proto.Permission {
	var out []proto.Permission
	for _, p := range s.granted {
		if s.revoked && (p == proto.PermControl || p == proto.PermClipboard) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// may reports whether the technician may do what needs p now.
func (s *Session) may(p proto.Permission) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == StateEnded || s.viewOnly && p == proto.PermControl {
		return false
	}
	return slices.Contains(s.allowedLocked(), p)
}

func (s *Session) resumable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == StateWaiting || s.state == StateActive
}

func (s *Session) notify(st Status) {
	if s.a.opts.OnStatus != nil {
		s.a.opts.OnStatus(st)
	}
}

func (s *Session) setState(st State) {
	s.mu.Lock()
	s.state = st
	status := s.statusLocked()
	s.mu.Unlock()
	s.notify(status)
}

func (s *Session) deliver(m *proto.Message) {
	select {
	case s.inbox <- m:
	default:
		s.log.Warn("session: signaling backlog, message dropped", "type", m.Type)
	}
}

// run is the session's loop: consent, then signaling until the end.
func (s *Session) run() {
	s.notify(s.Status())
	if !s.askConsent() {
		return
	}
	for {
		select {
		case m := <-s.inbox:
			if s.handle(m) {
				return
			}
		case reason := <-s.stopCh:
			s.a.send(s.sid, &proto.SessionEnd{Reason: reason})
			s.finish(reason, nil)
			return
		case reason := <-s.failed:
			s.a.send(s.sid, &proto.SessionEnd{Reason: reason})
			s.finish(reason, nil)
			return
		}
	}
}

// askConsent asks and sends the decision; it reports whether the session
// goes on.
func (s *Session) askConsent() bool {
	req := consent.Request{
		Technician: s.req.Technician, Ticket: s.req.Ticket, Permissions: s.req.Permissions,
		Unattended: s.req.Unattended, Timeout: time.Duration(s.req.Timeout) * time.Second,
	}
	actx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	answer := make(chan consent.Answer, 1)
	go func() { answer <- consent.Decide(actx, req, s.a.cfg.Policy, s.a.cfg.Prompter) }()
	var ans consent.Answer
	for waiting := true; waiting; {
		select {
		case ans = <-answer:
			waiting = false
		case m := <-s.inbox:
			if b, ok := m.Body.(*proto.SessionEnd); ok {
				cancel()
				<-answer
				s.finish(orDefault(b.Reason, "the technician ended the session"), nil)
				return false
			}
		case reason := <-s.stopCh:
			cancel()
			<-answer
			ans = consent.Answer{Decision: proto.DecisionDeny, Reason: "user"}
			s.log.Debug("session: stopped while asking", "reason", reason)
			waiting = false
		}
	}
	d := &proto.ConsentDecision{Decision: ans.Decision, Reason: ans.Reason}
	if ans.Decision != proto.DecisionDeny {
		d.Permissions = consent.Granted(s.req.Permissions, ans.Decision)
	}
	if err := s.a.send(s.sid, d); err != nil {
		s.finish("the relay is unreachable", fmt.Errorf("session: send consent: %w", err))
		return false
	}
	s.log.Info("session: consent", "decision", ans.Decision, "reason", ans.Reason, "technician", s.req.Technician.ID)
	if ans.Decision == proto.DecisionDeny {
		s.finish("access denied ("+ans.Reason+")", nil)
		return false
	}
	s.setState(StateWaiting)
	return true
}

// handle applies one signaling message; it reports whether the session ended.
func (s *Session) handle(m *proto.Message) bool {
	switch b := m.Body.(type) {
	case *proto.SessionStart:
		if s.pc != nil {
			return false
		}
		s.mu.Lock()
		s.granted = slices.DeleteFunc(slices.Clone(b.Permissions), func(p proto.Permission) bool { return p == proto.PermUnattended })
		s.mu.Unlock()
		if err := s.startPeer(b.ICEServers); err != nil {
			s.a.send(s.sid, &proto.SessionEnd{Reason: "the device could not start the session"})
			s.finish("could not start", err)
			return true
		}
	case *proto.Offer:
		if err := s.answer(b); err != nil {
			reason := "the device could not answer"
			var pe *proto.Error
			if errors.As(err, &pe) {
				reason = pe.Msg
			}
			s.log.Warn("session: refusing the offer", "err", err)
			s.a.send(s.sid, &proto.SessionEnd{Reason: reason})
			s.finish(reason, err)
			return true
		}
	case *proto.Candidate:
		if b.Candidate == "" || s.pc == nil {
			return false
		}
		c := webrtc.ICECandidateInit{Candidate: b.Candidate, SDPMid: b.SDPMid, SDPMLineIndex: b.SDPMLineIndex, UsernameFragment: b.UsernameFragment}
		// Trickled candidates can overtake the offer they belong to.
		if s.pc.RemoteDescription() == nil {
			s.pending = append(s.pending, c)
			return false
		}
		if err := s.pc.AddICECandidate(c); err != nil {
			s.log.Debug("session: bad candidate", "err", err)
		}
	case *proto.SessionEnd:
		s.finish(orDefault(b.Reason, "the technician ended the session"), nil)
		return true
	case *proto.SessionResumed:
		s.log.Info("session: signaling resumed")
	}
	return false
}

func (s *Session) startPeer(servers []proto.ICEServer) error {
	api, err := media.NewAPI(s.a.opts.SettingEngine)
	if err != nil {
		return err
	}
	var ice []webrtc.ICEServer
	for _, v := range servers {
		ice = append(ice, webrtc.ICEServer{URLs: v.URLs, Username: v.Username, Credential: v.Credential})
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: ice})
	if err != nil {
		return fmt.Errorf("session: peer connection: %w", err)
	}
	s.api, s.pc = api, pc
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		s.a.send(s.sid, &proto.Candidate{Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment})
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		s.log.Debug("session: connection state", "state", st)
		switch st {
		case webrtc.PeerConnectionStateConnected:
			s.setState(StateActive)
			// Frames written before SRTP was up are lost: start the
			// viewer with a keyframe (a static screen sends no other).
			s.mu.Lock()
			st := s.streamer
			s.mu.Unlock()
			if st != nil {
				st.ForceKeyframe()
			}
		case webrtc.PeerConnectionStateFailed:
			select {
			case s.failed <- "the connection to the technician failed":
			default:
			}
		}
	})
	pc.OnDataChannel(s.attach)
	return nil
}

// answer checks the technician's grant and answers the offer with a signed
// fingerprint.
func (s *Session) answer(b *proto.Offer) error {
	if s.pc == nil {
		return proto.Errorf(proto.CodeConflict, "offer before session start")
	}
	claims, err := proto.VerifyGrant(s.a.verifier, s.a.DeviceID(), b.SDP.SDP, b.Signature)
	if err != nil {
		return err
	}
	if claims.Subject != "" && s.req.Technician.ID != "" && claims.Subject != s.req.Technician.ID {
		return proto.Errorf(proto.CodeForbidden, "the session grant is for another technician: the session may be intercepted")
	}
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: b.SDP.SDP}); err != nil {
		return fmt.Errorf("session: set offer: %w", err)
	}
	for _, c := range s.pending {
		if err := s.pc.AddICECandidate(c); err != nil {
			s.log.Debug("session: bad candidate", "err", err)
		}
	}
	s.pending = nil
	if s.src == nil && hasVideo(b.SDP.SDP) {
		if err := s.startVideo(media.PreferredCodec(b.SDP.SDP)); err != nil {
			return err
		}
	}
	ans, err := s.pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("session: answer: %w", err)
	}
	if err := s.pc.SetLocalDescription(ans); err != nil {
		return fmt.Errorf("session: set answer: %w", err)
	}
	sdp := s.pc.LocalDescription().SDP
	fp, err := proto.Fingerprint(sdp)
	if err != nil {
		return err
	}
	return s.a.send(s.sid, &proto.Answer{SDP: proto.SDP{SDP: sdp, Signature: proto.SignDTLS(s.a.cfg.DeviceKey, s.sid, fp)}})
}

func hasVideo(sdp string) bool { return strings.Contains(sdp, "\nm=video ") }

// startVideo opens the capture (and, when control or clipboard were
// granted, input) and starts the streamer on a new video track.
func (s *Session) startVideo(codec encode.Codec) error {
	src, err := capture.Open(capture.Options{Display: s.a.opts.Display, DrawCursor: true, Logger: s.log})
	if err != nil {
		return fmt.Errorf("session: capture: %w", err)
	}
	track, err := media.NewTrack(codec)
	if err != nil {
		src.Close()
		return err
	}
	sender, err := s.pc.AddTrack(track)
	if err != nil {
		src.Close()
		return fmt.Errorf("session: add track: %w", err)
	}
	s.src = src
	st := media.NewStreamer(src, track, codec, media.Options{FPS: s.a.opts.FPS, Logger: s.log})
	var inj *input.Injector
	var clip *input.Clipboard
	if s.may(proto.PermControl) {
		if inj, err = input.Open(s.a.opts.Display); err != nil {
			s.log.Warn("session: input unavailable", "err", err)
		}
	}
	if s.may(proto.PermClipboard) {
		if clip, err = input.OpenClipboard(s.a.opts.Display); err != nil {
			s.log.Warn("session: clipboard unavailable", "err", err)
		}
	}
	s.mu.Lock()
	s.streamer, s.inj, s.clip = st, inj, clip
	s.mu.Unlock()
	s.wg.Add(4)
	go func() {
		defer s.wg.Done()
		if err := st.Run(s.ctx); err != nil {
			s.log.Warn("session: video stopped", "err", err)
		}
	}()
	go func() { defer s.wg.Done(); st.WatchRTCP(sender) }()
	go func() { defer s.wg.Done(); s.followEstimate(st) }()
	go func() { defer s.wg.Done(); s.housekeeping(st, clip) }()
	return nil
}

// followEstimate feeds the congestion controller's estimate to the encoder.
func (s *Session) followEstimate(st *media.Streamer) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	last := 0
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		if bwe := s.api.Estimator(); bwe != nil {
			if r := bwe.GetTargetBitrate(); r != last && r > 0 {
				st.SetEstimate(r)
				last = r
			}
		}
	}
}

// housekeeping sends stats about once a second and the end user's
// clipboard when it changes (if clipboard access is allowed).
func (s *Session) housekeeping(st *media.Streamer, clip *input.Clipboard) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var clipChanges <-chan struct{}
	if clip != nil {
		clipChanges = clip.Changes()
	}
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.mu.Lock()
			dc := s.control
			s.mu.Unlock()
			if dc != nil {
				sendDC(dc, st.Stats())
			}
		case <-clipChanges:
			if !s.may(proto.PermClipboard) {
				continue
			}
			ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
			text, err := clip.Get(ctx)
			cancel()
			s.mu.Lock()
			dc := s.clipDC
			s.mu.Unlock()
			if err == nil && text != "" && dc != nil {
				sendDC(dc, proto.Clipboard{Text: text})
			}
		}
	}
}

// attach wires a data channel the technician opened; unknown labels are
// refused.
func (s *Session) attach(dc *webrtc.DataChannel) {
	label := dc.Label()
	switch label {
	case proto.ChannelInput:
	case proto.ChannelControl:
		dc.OnOpen(func() {
			s.mu.Lock()
			s.control = dc
			perms := proto.Permissions{Permissions: s.allowedLocked()}
			st, shown := s.streamer, s.shownIdx
			s.mu.Unlock()
			sendDC(dc, perms)
			if st != nil {
				sendDC(dc, st.Monitors(shown))
			}
		})
	case proto.ChannelClipboard:
		dc.OnOpen(func() { s.mu.Lock(); s.clipDC = dc; s.mu.Unlock() })
	case proto.ChannelChat:
		dc.OnOpen(func() { s.mu.Lock(); s.chatDC = dc; s.mu.Unlock() })
	default:
		s.log.Warn("session: refusing a data channel", "label_len", len(label))
		dc.OnOpen(func() { dc.Close() })
		return
	}
	var bad atomic.Int64
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		m, err := proto.DecodeDC(label, msg.Data)
		if err != nil {
			if bad.Add(1)%100 == 1 {
				s.log.Info("session: bad data-channel message", "channel", label, "err", err)
			}
			return
		}
		s.onMessage(m)
	})
}

// onMessage acts on one data-channel message, enforcing permissions.
func (s *Session) onMessage(m proto.DCMessage) {
	s.mu.Lock()
	st, inj, clip := s.streamer, s.inj, s.clip
	s.mu.Unlock()
	var err error
	switch m := m.(type) {
	case proto.Pointer, proto.Button, proto.Wheel, proto.Key, proto.Text, proto.Combo:
		if !s.may(proto.PermControl) || inj == nil || st == nil {
			s.dropped.Add(1)
			return
		}
		err = s.inject(m, inj, st)
	case proto.Clipboard:
		if !s.may(proto.PermClipboard) || clip == nil {
			s.dropped.Add(1)
			return
		}
		err = clip.Set(m.Text)
	case proto.MonitorSelect:
		if st != nil {
			if err = st.SelectMonitor(m.Index); err == nil {
				s.mu.Lock()
				s.shownIdx = m.Index
				dc := s.control
				s.mu.Unlock()
				sendDC(dc, st.Monitors(m.Index))
			}
		}
	case proto.Quality:
		if st != nil {
			st.SetQuality(m)
		}
	case proto.Keyframe:
		if st != nil {
			st.ForceKeyframe()
		}
	case proto.ViewOnly:
		s.mu.Lock()
		s.viewOnly = m.On
		s.mu.Unlock()
		if m.On && inj != nil {
			inj.ReleaseAll()
		}
	case proto.Chat:
		if s.a.opts.OnChat != nil {
			s.a.opts.OnChat(s.sid, m.Text)
		}
	}
	if err != nil {
		s.log.Debug("session: data-channel message failed", "type", m.DCType(), "err", err)
	}
}

func (s *Session) inject(m proto.DCMessage, inj *input.Injector, st *media.Streamer) error {
	switch m := m.(type) {
	case proto.Pointer:
		defer st.Poke()
		return inj.Move(toScreen(st.Shown(), m.X, m.Y))
	case proto.Button:
		defer st.Poke()
		if err := inj.Move(toScreen(st.Shown(), m.X, m.Y)); err != nil {
			return err
		}
		return inj.Button(m.Button, m.Down)
	case proto.Wheel:
		return inj.Wheel(m.DX, m.DY)
	case proto.Key:
		return inj.Key(m.Code, m.Down, m.Mods)
	case proto.Text:
		return inj.Text(m.Text)
	case proto.Combo:
		return inj.Combo(m.Keys)
	}
	return nil
}

// toScreen maps normalized coordinates of the shown area to screen pixels.
func toScreen(r image.Rectangle, x, y float64) image.Point {
	x, y = max(0, min(1, x)), max(0, min(1, y))
	return image.Pt(r.Min.X+int(math.Round(x*float64(r.Dx()-1))), r.Min.Y+int(math.Round(y*float64(r.Dy()-1))))
}

// SendChat sends a chat line from the end user.
func (s *Session) SendChat(text string) error {
	s.mu.Lock()
	dc := s.chatDC
	s.mu.Unlock()
	if dc == nil {
		return errors.New("session: chat is not open")
	}
	return sendDC(dc, proto.Chat{From: "user", Text: text})
}

func sendDC(dc *webrtc.DataChannel, m proto.DCMessage) error {
	if dc == nil {
		return nil
	}
	data, err := proto.EncodeDC(m)
	if err != nil {
		return err
	}
	return dc.SendText(string(data))
}

// finish tears the session down; only the loop goroutine calls it.
func (s *Session) finish(reason string, err error) {
	s.mu.Lock()
	s.state, s.reason, s.err = StateEnded, reason, err
	inj, clip := s.inj, s.clip
	s.mu.Unlock()
	if s.pc != nil {
		s.pc.Close()
	}
	s.cancel()
	s.wg.Wait()
	if s.src != nil {
		s.src.Close()
	}
	if inj != nil {
		inj.Close()
	}
	if clip != nil {
		clip.Close()
	}
	s.a.remove(s)
	s.log.Info("session: ended", "reason", reason, "err", err)
	s.notify(s.Status())
	close(s.done)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
