package uibridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/proto"
)

// Reasons a consent question is denied without an answer; the technician
// sees them.
const (
	ReasonNobody = "nobody is signed in to answer"
	ReasonGone   = "the signed-in user's consent window closed"
)

// Controller is a running session the user acts on; *session.Session
// implements it.
type Controller interface {
	Stop()
	Revoke()
	SendChat(text string) error
}

// Peer is who is on the other end of a connection, from SO_PEERCRED.
type Peer struct {
	UID, GID uint32
	PID      int32
}

// ServiceOptions are optional. Zero values take the defaults noted.
type ServiceOptions struct {
	// Authorize decides whether a peer may attach and answer; it is asked
	// at attach and again for every question. Nil admits only root; the
	// agent passes SeatAuthorizer.
	Authorize func(Peer) error
	// Lookup finds a running session for stop, revoke and chat; nil
	// means those fail.
	Lookup func(sid string) Controller
	// OnCSAT receives a 1–5 rating for a session that was active and
	// ended; nil drops ratings.
	OnCSAT func(sid string, score int)
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the service's end of the bridge; create it with NewService,
// serve a listener with Serve and use it as the session's Prompter.
type Service struct {
	opts ServiceOptions
	log  *slog.Logger

	mu        sync.Mutex // guards everything below
	clients   map[*client]struct{}
	prompts   map[string]*pending
	sessions  map[string]*Status   // not ended
	wasActive map[string]bool      // sessions (not ended) that were active
	rateable  map[string]time.Time // ended sessions that take a rating, by end time
	ls        []net.Listener
	closed    bool
}

type client struct {
	*conn
	peer  Peer
	ready bool // hello exchanged
}

type pending struct {
	id       string
	prompt   Prompt
	deadline time.Time
	asked    map[*client]struct{}
	answer   chan proto.Decision // buffered 1
	gone     chan struct{}       // closed when every asked client left
}

// csatWindow is how long after a session a rating is taken.
const csatWindow = 10 * time.Minute

// NewService returns a bridge with nobody attached.
func NewService(opts ServiceOptions) *Service {
	if opts.Authorize == nil {
		opts.Authorize = func(p Peer) error {
			if p.UID != 0 {
				return errors.New("only root may attach")
			}
			return nil
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts, log: opts.Logger, clients: map[*client]struct{}{}, prompts: map[string]*pending{},
		sessions: map[string]*Status{}, wasActive: map[string]bool{}, rateable: map[string]time.Time{}}
}

// ErrClosed is returned by Serve after Close.
var ErrClosed = errors.New("uibridge: closed")

// Serve accepts user processes on l until Close; it closes l.
func (s *Service) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrClosed
	}
	s.ls = append(s.ls, l)
	s.mu.Unlock()
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			return fmt.Errorf("uibridge: accept: %w", err)
		}
		go s.handle(nc)
	}
}

// Close stops accepting and hangs up on every user process; questions
// open now are denied.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	ls := s.ls
	cs := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	for _, c := range cs {
		c.close()
	}
	return nil
}

// Attached returns how many user processes are attached.
func (s *Service) Attached() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.clients {
		if c.ready {
			n++
		}
	}
	return n
}

func (s *Service) handle(nc net.Conn) {
	c := &client{conn: newConn(nc)}
	defer c.close()
	peer, err := peerCred(nc)
	if err == nil {
		err = s.opts.Authorize(peer)
	}
	c.peer = peer
	if err != nil {
		s.log.Warn("uibridge: refused a user process", "uid", peer.UID, "pid", peer.PID, "err", err)
		c.sendAndClose(&Message{Type: TypeError, Reason: "not allowed: " + err.Error()})
		return
	}
	s.mu.Lock()
	if s.closed || len(s.clients) >= maxClients {
		s.mu.Unlock()
		c.sendAndClose(&Message{Type: TypeError, Reason: "too many consent windows attached"})
		return
	}
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	defer s.detach(c)

	c.send(&Message{Type: TypeHello, Version: Version})
	m, err := c.read(s.opts.Now().Add(helloWait))
	if err != nil || m.Type != TypeHello {
		s.log.Info("uibridge: no hello", "uid", peer.UID, "err", err)
		return
	}
	if m.Version != Version {
		c.sendAndClose(&Message{Type: TypeError, Reason: fmt.Sprintf("protocol version %d is not supported (want %d): update reach-agent", m.Version, Version)})
		return
	}
	s.attach(c)
	s.log.Info("uibridge: user process attached", "uid", peer.UID, "pid", peer.PID)
	for {
		m, err := c.read(time.Time{})
		if err == nil {
			err = checkFromUI(m)
		}
		if err != nil {
			if errors.Is(err, errBadMessage) || errors.Is(err, errLineTooLong) {
				s.log.Warn("uibridge: hanging up on a user process", "uid", peer.UID, "err", err)
				c.sendAndClose(&Message{Type: TypeError, Reason: err.Error()})
			}
			return
		}
		s.apply(c, m)
	}
}

// attach marks c ready and sends it the sessions and open questions.
func (s *Service) attach(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.ready = true
	for _, st := range s.sessions {
		c.send(&Message{Type: TypeStatus, Status: st})
	}
	for _, p := range s.prompts {
		if s.opts.Authorize(c.peer) == nil {
			p.asked[c] = struct{}{}
			c.send(p.messageLocked(s.opts.Now()))
		}
	}
}

// detach forgets c; questions that only c was asked are denied.
func (s *Service) detach(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, c)
	for _, p := range s.prompts {
		if _, ok := p.asked[c]; ok {
			delete(p.asked, c)
			if len(p.asked) == 0 {
				close(p.gone)
			}
		}
	}
	if c.ready {
		s.log.Info("uibridge: user process left", "uid", c.peer.UID, "pid", c.peer.PID)
	}
}

func (s *Service) apply(c *client, m *Message) {
	switch m.Type {
	case TypeAnswer:
		s.mu.Lock()
		p := s.prompts[m.ID]
		if p != nil {
			if _, asked := p.asked[c]; asked {
				select {
				case p.answer <- m.Decision:
				default: // answered already
				}
			}
		}
		s.mu.Unlock()
	case TypeStop, TypeRevoke, TypeChat:
		var ctl Controller
		if s.opts.Lookup != nil {
			ctl = s.opts.Lookup(m.SID)
		}
		if ctl == nil {
			c.send(&Message{Type: TypeError, SID: m.SID, Reason: "no such session"})
			return
		}
		switch m.Type {
		case TypeStop:
			s.log.Info("uibridge: the user stopped the session", "sid", m.SID, "uid", c.peer.UID)
			ctl.Stop()
		case TypeRevoke:
			s.log.Info("uibridge: the user revoked control", "sid", m.SID, "uid", c.peer.UID)
			ctl.Revoke()
		case TypeChat:
			if err := ctl.SendChat(m.Text); err != nil {
				c.send(&Message{Type: TypeError, SID: m.SID, Reason: "the message could not be sent: the chat is not open yet"})
				return
			}
			// Other attached windows show the user's own line too.
			s.broadcast(&Message{Type: TypeChat, SID: m.SID, Text: m.Text, From: "user"}, c)
		}
	case TypeCSAT:
		s.mu.Lock()
		ended, ok := s.rateable[m.SID]
		ok = ok && s.opts.Now().Sub(ended) <= csatWindow
		delete(s.rateable, m.SID)
		s.mu.Unlock()
		if ok && s.opts.OnCSAT != nil {
			s.opts.OnCSAT(m.SID, m.Score)
		}
	}
}

// broadcast sends m to every ready client but skip.
func (s *Service) broadcast(m *Message, skip *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		if c.ready && c != skip {
			c.send(m)
		}
	}
}

// Ask implements consent.Prompter: it asks every attached user process
// the peer check admits and returns the first answer. With nobody
// attached it denies at once (*consent.Unanswered, ReasonNobody); when
// every asked process goes away it denies (ReasonGone); when ctx ends it
// denies with ctx's error, ignoring answers that come later.
func (s *Service) Ask(ctx context.Context, r consent.Request) (proto.Decision, error) {
	now := s.opts.Now()
	timeout := r.Timeout
	if timeout <= 0 || timeout > proto.DefaultConsentWait {
		timeout = proto.DefaultConsentWait
	}
	deadline := now.Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	p := &pending{
		id: newID(), deadline: deadline, asked: map[*client]struct{}{},
		prompt: Prompt{Technician: r.Technician, Ticket: r.Ticket, Permissions: append([]proto.Permission{}, r.Permissions...),
			Unattended: r.Unattended},
		answer: make(chan proto.Decision, 1), gone: make(chan struct{}),
	}
	s.mu.Lock()
	for c := range s.clients {
		if !c.ready {
			continue
		}
		if err := s.opts.Authorize(c.peer); err != nil {
			s.log.Info("uibridge: not asking a user process", "uid", c.peer.UID, "err", err)
			continue
		}
		p.asked[c] = struct{}{}
	}
	if len(p.asked) == 0 {
		s.mu.Unlock()
		s.log.Info("uibridge: consent denied: nobody attached")
		return proto.DecisionDeny, &consent.Unanswered{Reason: ReasonNobody}
	}
	s.prompts[p.id] = p
	m := p.messageLocked(now)
	for c := range p.asked {
		c.send(m)
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.prompts, p.id)
		for c := range p.asked {
			c.send(&Message{Type: TypeCancel, ID: p.id})
		}
		s.mu.Unlock()
	}()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case d := <-p.answer:
		if ctx.Err() != nil || !s.opts.Now().Before(deadline) {
			return proto.DecisionDeny, context.DeadlineExceeded
		}
		return d, nil
	case <-p.gone:
		return proto.DecisionDeny, &consent.Unanswered{Reason: ReasonGone}
	case <-ctx.Done():
		return proto.DecisionDeny, ctx.Err()
	case <-t.C:
		return proto.DecisionDeny, context.DeadlineExceeded
	}
}

func (p *pending) messageLocked(now time.Time) *Message {
	pr := p.prompt
	pr.TimeoutMS = max(0, p.deadline.Sub(now).Milliseconds())
	return &Message{Type: TypePrompt, ID: p.id, Prompt: &pr}
}

// Status shows a session's state to the attached user processes
// (session.Options.OnStatus, converted).
func (s *Service) Status(st Status) {
	st.Permissions = append([]proto.Permission{}, st.Permissions...)
	s.mu.Lock()
	if st.State == "active" {
		s.wasActive[st.SID] = true
	}
	if st.State == "ended" {
		if s.wasActive[st.SID] {
			s.rateable[st.SID] = s.opts.Now()
			s.forgetRatingsLocked()
		}
		delete(s.sessions, st.SID)
		delete(s.wasActive, st.SID)
	} else {
		s.sessions[st.SID] = &st
	}
	s.mu.Unlock()
	s.broadcast(&Message{Type: TypeStatus, Status: &st}, nil)
}

// Chat shows a technician's line (session.Options.OnChat).
func (s *Service) Chat(sid, text string) {
	s.broadcast(&Message{Type: TypeChat, SID: sid, Text: text, From: "technician"}, nil)
}

// forgetRatingsLocked bounds the sessions that await a rating.
func (s *Service) forgetRatingsLocked() {
	now := s.opts.Now()
	for sid, ended := range s.rateable {
		if now.Sub(ended) > csatWindow || len(s.rateable) > maxClients {
			delete(s.rateable, sid)
		}
	}
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
