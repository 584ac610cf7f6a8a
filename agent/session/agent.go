// Package session runs the agent's side of remote-support sessions: it keeps
// the connection to the relay (reconnecting and resuming sessions), redeems
// session codes, asks the end user's consent (or applies the unattended
// policy), and for each consented session runs one WebRTC PeerConnection
// with the screen as a video track and the input, control, clipboard and
// chat data channels.
//
// Permissions are enforced here, not in the technician's UI: input and
// clipboard writes are dropped unless control (resp. clipboard) was granted
// and not revoked, and the end user can revoke control or stop the session at
// any moment.
//
// The DTLS fingerprints are bound to console-issued identities
// (docs/security.md): an offer is accepted only with a console-signed grant
// for its fingerprint, and the answer's fingerprint is signed with the
// device key. A mismatch ends the session with a session.end that says so,
// never a silent downgrade.
package session

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay/relayclient"
)

// ErrNotConnected is returned when the relay connection is down for longer
// than the operation may wait.
var ErrNotConnected = errors.New("session: not connected to the relay")

// Config is what an agent needs to take sessions. All fields are required
// except Prompter (nil denies every request that would ask the user).
type Config struct {
	// RelayURL is the relay's agent endpoint, e.g. wss://relay.example/v1/agent.
	RelayURL string
	// Token returns the device's relay token for each connection attempt.
	Token func(ctx context.Context) (string, error)
	// DeviceKey signs the agent's DTLS fingerprints.
	DeviceKey ed25519.PrivateKey
	// ConsoleKeys verify technicians' session grants.
	ConsoleKeys []ed25519.PublicKey
	// Policy answers unattended connects.
	Policy consent.Policy
	// Prompter asks the end user.
	Prompter consent.Prompter
}

// Options are optional. Zero values take the defaults noted.
type Options struct {
	// Display is the X display to share and control; empty means $DISPLAY.
	Display string
	// FPS caps the video frame rate; zero means media.DefaultFPS.
	FPS int
	// OnStatus is called on every change of a session's state or
	// permissions, for the end user's UI (a "session active — Stop"
	// indicator). It must not block. Nil means none.
	OnStatus func(Status)
	// OnChat receives the technician's chat lines. Nil drops them.
	OnChat func(sid, text string)
	// SettingEngine tunes pion (ports, interfaces, timeouts); nil means
	// pion's defaults.
	SettingEngine *webrtc.SettingEngine
	// Backoff shapes relay reconnects.
	Backoff relayclient.Backoff
	// Logger; nil means slog.Default(). Tokens and keys are never logged.
	Logger *slog.Logger
	// Now is the clock for token checks; nil means time.Now.
	Now func() time.Time
}

// Agent keeps the relay connection and runs sessions on it.
type Agent struct {
	cfg      Config
	opts     Options
	log      *slog.Logger
	verifier *proto.Verifier

	mu        sync.Mutex // guards the fields below
	conn      *relayclient.Conn
	connected chan struct{} // closed while conn != nil
	deviceID  string        // from the relay's welcome
	sessions  map[string]*Session
	join      *pendingJoin
	stopping  bool // Run returned: nothing will reconnect
}

type pendingJoin struct {
	id  string // message id of the code.redeem; "" until sent
	ch  chan joinResult
	ctx context.Context
}

type joinResult struct {
	s   *Session
	err error
}

// New checks cfg and returns an agent; Run connects it.
func New(cfg Config, opts Options) (*Agent, error) {
	switch {
	case cfg.RelayURL == "":
		return nil, errors.New("session: no relay URL")
	case cfg.Token == nil:
		return nil, errors.New("session: no device token")
	case len(cfg.DeviceKey) != ed25519.PrivateKeySize:
		return nil, errors.New("session: no device key")
	case len(cfg.ConsoleKeys) == 0:
		return nil, errors.New("session: no console public key")
	}
	if cfg.Policy == "" {
		cfg.Policy = consent.PolicyDeny
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Agent{
		cfg: cfg, opts: opts, log: opts.Logger,
		verifier:  proto.NewVerifier(proto.AudienceAgent, opts.Now, cfg.ConsoleKeys...),
		connected: make(chan struct{}),
		sessions:  map[string]*Session{},
	}, nil
}

// Run keeps the relay connection until ctx ends, then stops every session.
// It returns ctx's error, or an error retrying cannot fix (the relay
// requires a newer agent).
func (a *Agent) Run(ctx context.Context) error {
	err := relayclient.Run(ctx, a.cfg.RelayURL, relayclient.RunOptions{
		DialOptions:    relayclient.DialOptions{Client: "reach-agent", Logger: a.log},
		Token:          a.cfg.Token,
		ResumeSessions: a.resume,
		Backoff:        a.opts.Backoff,
	}, a.serve)
	a.mu.Lock()
	a.stopping = true
	close(a.connected) // wake senders; they see stopping
	a.mu.Unlock()
	for _, s := range a.Sessions() {
		s.stop("the agent is shutting down")
		<-s.Done()
	}
	return err
}

// serve handles one relay connection.
func (a *Agent) serve(ctx context.Context, c *relayclient.Conn) {
	a.mu.Lock()
	a.conn = c
	a.deviceID = c.Welcome().Subject
	close(a.connected)
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.conn = nil
		a.connected = make(chan struct{})
		a.mu.Unlock()
	}()
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			return
		}
		a.dispatch(ctx, m)
	}
}

func (a *Agent) dispatch(ctx context.Context, m *proto.Message) {
	switch b := m.Body.(type) {
	case *proto.ErrorBody:
		a.mu.Lock()
		j := a.join
		if j != nil && (j.id == "" || j.id == m.ID) {
			a.join = nil
		} else {
			j = nil
		}
		a.mu.Unlock()
		if j != nil {
			j.ch <- joinResult{err: b.Err()}
			return
		}
		a.log.Info("session: relay reported an error", "sid", m.SID, "code", b.Code, "msg", b.Message)
	case *proto.ConsentRequest:
		a.mu.Lock()
		if a.sessions[m.SID] != nil {
			a.mu.Unlock()
			return
		}
		s := newSession(a, m.SID, b)
		a.sessions[m.SID] = s
		var j *pendingJoin
		if !b.Unattended && a.join != nil {
			j, a.join = a.join, nil
		}
		a.mu.Unlock()
		go s.run()
		if j != nil {
			j.ch <- joinResult{s: s}
		}
	default:
		a.mu.Lock()
		s := a.sessions[m.SID]
		a.mu.Unlock()
		if s == nil {
			if m.SID != "" {
				a.log.Debug("session: message for an unknown session", "type", m.Type)
			}
			return
		}
		s.deliver(m)
	}
}

// Join redeems a session code the end user typed and returns the session
// once the relay asks for consent. A wrong code fails with a *proto.Error
// (CodeInvalidCode).
func (a *Agent) Join(ctx context.Context, code string) (*Session, error) {
	if !proto.ValidCode(code) {
		return nil, proto.ErrInvalidCode
	}
	j := &pendingJoin{ch: make(chan joinResult, 1), ctx: ctx}
	a.mu.Lock()
	if a.join != nil {
		a.mu.Unlock()
		return nil, errors.New("session: another code is being redeemed")
	}
	a.join = j
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		if a.join == j {
			a.join = nil
		}
		a.mu.Unlock()
	}()
	c, err := a.waitConn(ctx)
	if err != nil {
		return nil, err
	}
	id, err := c.Send(ctx, "", &proto.CodeRedeem{Code: code})
	if err != nil {
		return nil, fmt.Errorf("session: redeem code: %w", err)
	}
	a.mu.Lock()
	if a.join == j {
		j.id = id
	}
	a.mu.Unlock()
	select {
	case r := <-j.ch:
		return r.s, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Sessions returns the sessions that have not ended.
func (a *Agent) Sessions() []*Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*Session, 0, len(a.sessions))
	for _, s := range a.sessions {
		out = append(out, s)
	}
	return out
}

// DeviceID returns the device id the relay knows this agent by, once
// connected.
func (a *Agent) DeviceID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.deviceID
}

// Connected is closed while the agent is connected to the relay.
func (a *Agent) Connected() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.connected
}

func (a *Agent) resume() []proto.Resume {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []proto.Resume
	for sid, s := range a.sessions {
		if s.resumable() && len(out) < proto.MaxResume {
			out = append(out, proto.Resume{SID: sid, Peer: s.req.Technician.ID})
		}
	}
	return out
}

func (a *Agent) remove(s *Session) {
	a.mu.Lock()
	if a.sessions[s.sid] == s {
		delete(a.sessions, s.sid)
	}
	a.mu.Unlock()
}

// waitConn returns the relay connection, waiting for a reconnect.
func (a *Agent) waitConn(ctx context.Context) (*relayclient.Conn, error) {
	for {
		a.mu.Lock()
		c, ch, stopping := a.conn, a.connected, a.stopping
		a.mu.Unlock()
		if c != nil {
			return c, nil
		}
		if stopping {
			return nil, ErrNotConnected
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrNotConnected, ctx.Err())
		}
	}
}

// send sends a signaling message in session sid, waiting up to 10 s for the
// relay connection.
func (a *Agent) send(sid string, body proto.Body) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := a.waitConn(ctx)
	if err != nil {
		return err
	}
	_, err = c.Send(ctx, sid, body)
	return err
}
