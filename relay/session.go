package relay

import (
	"errors"
	"strings"
	"time"

	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay/codes"
)

// state is where a session is in its life.
type state int

const (
	waitingAgent    state = iota // code issued, no device yet
	awaitingConsent              // device joined, end user (or policy) deciding
	active                       // consent given: WebRTC signaling flows
)

// session pairs one technician with one device. All fields are guarded by
// Server.mu. tech or agent is nil while that party is disconnected.
type session struct {
	sid        string
	state      state
	code       string // while waitingAgent
	tech       *peer
	agent      *peer
	techID     string // identities, to re-pair after reconnects
	deviceID   string
	techClaims *proto.Claims // nil for a session re-formed after a relay restart
	requested  []proto.Permission
	timer      *time.Timer // consent deadline, or resume window while a party is away
}

func (sess *session) stopTimer() {
	if sess.timer != nil {
		sess.timer.Stop()
		sess.timer = nil
	}
}

// other returns the party that is not p.
func (sess *session) other(p *peer) *peer {
	if p == sess.tech {
		return sess.agent
	}
	return sess.tech
}

// accepts lists the message types each kind of client may send.
var accepts = map[proto.Kind]map[proto.Type]bool{
	proto.KindTechnician: {
		proto.TypePing: true, proto.TypeCodeCreate: true, proto.TypeConnect: true,
		proto.TypeOffer: true, proto.TypeCandidate: true, proto.TypeSessionEnd: true,
		proto.TypePresenceQuery: true,
	},
	proto.KindDevice: {
		proto.TypePing: true, proto.TypeCodeRedeem: true, proto.TypeConsentDecision: true,
		proto.TypeAnswer: true, proto.TypeCandidate: true, proto.TypeSessionEnd: true,
	},
}

// handle acts on one message from p. raw is the message as received; the
// relay forwards it unchanged. A returned error is reported to p.
func (s *Server) handle(p *peer, m *proto.Message, raw []byte) error {
	if !accepts[p.kind][m.Type] {
		return proto.Errorf(proto.CodeForbidden, "%s messages are not accepted from a %s", m.Type, p.kind)
	}
	switch b := m.Body.(type) {
	case *proto.Ping:
		// A heartbeat (no id) needs no answer: the relay saw it, and the
		// client's TCP stack learns the relay is alive from the ACK. A ping
		// with an id asks for a pong, e.g. to measure round-trip time.
		if m.ID == "" {
			return nil
		}
		return s.reply(p, m.ID, "", &proto.Pong{T: b.T})
	case *proto.CodeCreate:
		return s.createCode(p, m.ID, b)
	case *proto.CodeRedeem:
		return s.redeem(p, m.ID, b)
	case *proto.Connect:
		return s.connect(p, m.ID, b)
	case *proto.ConsentDecision:
		return s.decide(p, m.SID, b, raw)
	case *proto.Offer, *proto.Answer, *proto.Candidate:
		return s.forward(p, m, raw)
	case *proto.SessionEnd:
		return s.end(p, m.SID, raw)
	case *proto.PresenceQuery:
		return s.reply(p, m.ID, "", s.presence(b.DeviceIDs))
	}
	return proto.Errorf(proto.CodeForbidden, "%s messages are not accepted from a %s", m.Type, p.kind)
}

func (s *Server) reply(p *peer, id, sid string, body proto.Body) error {
	data, err := proto.Encode(id, sid, body)
	if err != nil {
		return err
	}
	s.send(p, data)
	return nil
}

func (s *Server) createCode(p *peer, id string, b *proto.CodeCreate) error {
	if !proto.HasPermission(p.claims.Permissions, proto.PermView) {
		return proto.Errorf(proto.CodeForbidden, "your token does not allow remote sessions")
	}
	ttl := s.opts.CodeTTL
	if b.TTL > 0 {
		ttl = time.Duration(b.TTL) * time.Second
	}
	s.mu.Lock()
	open := 0
	for _, sess := range p.sessions {
		if sess.state == waitingAgent {
			open++
		}
	}
	s.mu.Unlock()
	if open >= maxOpenCodes {
		return proto.Errorf(proto.CodeRateLimited, "you have %d session codes waiting; use or let one expire first", open)
	}
	sid := newID()
	code, expires, err := s.codes.Create(sid, ttl)
	if errors.Is(err, codes.ErrFull) {
		return proto.Errorf(proto.CodeRateLimited, "too many open session codes; try again later")
	}
	if err != nil {
		return err
	}
	sess := &session{
		sid: sid, state: waitingAgent, code: code, tech: p, techID: p.subject(),
		techClaims: p.claims, requested: sessionPermissions(p.claims.Permissions),
	}
	s.mu.Lock()
	s.sessions[sid] = sess
	p.sessions[sid] = sess
	// The code expires on its own; the session goes with it.
	sess.timer = time.AfterFunc(ttl, func() { s.expire(sess, waitingAgent, "the session code expired") })
	s.audit(sess, proto.AuditCodeCreated, "")
	s.mu.Unlock()
	s.metrics.codes.WithLabelValues("created").Inc()
	return s.reply(p, id, sid, &proto.CodeCreated{Code: code, Expires: expires})
}

func (s *Server) redeem(p *peer, id string, b *proto.CodeRedeem) error {
	if ok, _ := s.limiter.Allow(p.src); !ok {
		s.metrics.codes.WithLabelValues("rate_limited").Inc()
		return proto.Errorf(proto.CodeRateLimited, "too many failed attempts; wait and try again")
	}
	sid, err := s.codes.Redeem(b.Code)
	if err != nil {
		s.limiter.Fail(p.src)
		s.metrics.codes.WithLabelValues("invalid").Inc()
		return proto.ErrInvalidCode
	}
	s.mu.Lock()
	sess := s.sessions[sid]
	if sess == nil || sess.state != waitingAgent || sess.tech == nil {
		s.mu.Unlock()
		// The technician left after creating the code.
		s.metrics.codes.WithLabelValues("invalid").Inc()
		return proto.ErrInvalidCode
	}
	sess.stopTimer()
	sess.state = awaitingConsent
	sess.code = ""
	sess.agent = p
	sess.deviceID = p.subject()
	p.sessions[sid] = sess
	s.audit(sess, proto.AuditCodeRedeemed, p.src.String())
	out := s.askConsentLocked(sess, false)
	joined, err := proto.Encode("", sid, &proto.PeerJoined{Device: proto.DeviceRef{ID: p.subject(), Name: p.claims.Name}})
	if err == nil {
		out = append(out, delivery{sess.tech, joined})
	}
	s.mu.Unlock()
	s.metrics.codes.WithLabelValues("redeemed").Inc()
	s.deliver(out)
	return err
}

func (s *Server) connect(p *peer, id string, b *proto.Connect) error {
	if !proto.HasPermission(p.claims.Permissions, proto.PermUnattended) || p.claims.Device != b.DeviceID {
		return proto.Errorf(proto.CodeForbidden, "your token does not allow unattended access to this device")
	}
	s.mu.Lock()
	agent := s.agents[b.DeviceID]
	if agent == nil {
		s.mu.Unlock()
		return proto.Errorf(proto.CodeNotFound, "the device is offline")
	}
	sid := newID()
	sess := &session{
		sid: sid, state: awaitingConsent, tech: p, agent: agent, techID: p.subject(), deviceID: b.DeviceID,
		techClaims: p.claims, requested: sessionPermissions(p.claims.Permissions),
	}
	s.sessions[sid] = sess
	p.sessions[sid] = sess
	agent.sessions[sid] = sess
	s.audit(sess, proto.AuditRequested, "")
	created, err := proto.Encode(id, sid, &proto.SessionCreated{Device: proto.DeviceRef{ID: agent.subject(), Name: agent.claims.Name}})
	if err != nil {
		s.mu.Unlock()
		return err
	}
	out := append([]delivery{{p, created}}, s.askConsentLocked(sess, true)...)
	s.mu.Unlock()
	s.deliver(out)
	return nil
}

// askConsentLocked builds the consent request and arms its deadline.
func (s *Server) askConsentLocked(sess *session, unattended bool) []delivery {
	c := sess.techClaims
	req, err := proto.Encode("", sess.sid, &proto.ConsentRequest{
		Technician:  proto.Person{ID: c.Subject, Name: c.Name, Org: c.Org},
		Ticket:      c.Ticket,
		Permissions: sess.requested,
		Unattended:  unattended,
		Timeout:     int(s.opts.ConsentTimeout / time.Second),
	})
	if err != nil {
		s.log.Error("relay: encode consent request", "err", err)
		return s.endLocked(sess, "internal error")
	}
	grace := min(s.opts.ConsentTimeout/6, 5*time.Second)
	sess.timer = time.AfterFunc(s.opts.ConsentTimeout+grace, func() {
		s.expire(sess, awaitingConsent, "the end user did not answer")
	})
	return []delivery{{sess.agent, req}}
}

func (s *Server) decide(p *peer, sid string, b *proto.ConsentDecision, raw []byte) error {
	s.mu.Lock()
	sess, err := s.partyLocked(p, sid)
	if err == nil && (sess.state != awaitingConsent || sess.agent != p) {
		err = proto.Errorf(proto.CodeConflict, "no consent is pending for this session")
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	sess.stopTimer()
	var out []delivery
	if sess.tech != nil {
		out = append(out, delivery{sess.tech, raw})
	}
	if b.Decision == proto.DecisionDeny {
		s.audit(sess, proto.AuditConsent, string(b.Decision))
		s.metrics.sessions.WithLabelValues("denied").Inc()
		out = append(out, s.endLockedAs(sess, "", "consent denied")...)
		s.mu.Unlock()
		s.deliver(out)
		return nil
	}
	sess.state = active
	granted := grant(sess.requested, b)
	s.audit(sess, proto.AuditConsent, auditGrant(b.Decision, granted))
	for _, party := range []*peer{sess.tech, sess.agent} {
		if party == nil {
			continue
		}
		var ice []proto.ICEServer
		if s.opts.ICEServers != nil {
			ice = s.opts.ICEServers(sess.sid, party.subject())
		}
		start, err := proto.Encode("", sess.sid, &proto.SessionStart{Permissions: granted, ICEServers: ice})
		if err != nil {
			s.mu.Unlock()
			return err
		}
		out = append(out, delivery{party, start})
	}
	s.metrics.sessions.WithLabelValues("started").Inc()
	s.mu.Unlock()
	s.deliver(out)
	return nil
}

// forward passes an offer, answer or candidate to the other party of an
// active session.
func (s *Server) forward(p *peer, m *proto.Message, raw []byte) error {
	s.mu.Lock()
	sess, err := s.partyLocked(p, m.SID)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	to, st := sess.other(p), sess.state
	s.mu.Unlock()
	if st != active {
		return proto.Errorf(proto.CodeConflict, "the session is not established yet")
	}
	if to == nil {
		return proto.Errorf(proto.CodeConflict, "the other party is reconnecting; try again")
	}
	s.send(to, raw)
	return nil
}

func (s *Server) end(p *peer, sid string, raw []byte) error {
	s.mu.Lock()
	sess, err := s.partyLocked(p, sid)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var out []delivery
	if to := sess.other(p); to != nil {
		out = append(out, delivery{to, raw})
	}
	by := "ended by the technician"
	if p == sess.agent {
		by = "ended by the device"
	}
	s.endLockedAs(sess, "", by)
	s.mu.Unlock()
	s.deliver(out)
	return nil
}

// partyLocked returns p's session sid, or an error that says nothing about
// sessions p is not part of.
func (s *Server) partyLocked(p *peer, sid string) (*session, error) {
	sess := p.sessions[sid]
	if sid == "" || sess == nil || (sess.tech != p && sess.agent != p) {
		return nil, proto.Errorf(proto.CodeNotFound, "no such session")
	}
	return sess, nil
}

// endLocked removes sess and returns a session.end for every party still
// connected when reason is not empty.
func (s *Server) endLocked(sess *session, reason string) []delivery {
	return s.endLockedAs(sess, reason, reason)
}

// endLockedAs is endLocked recording audit as the reason in the relay's
// audit log.
func (s *Server) endLockedAs(sess *session, reason, audit string) []delivery {
	if s.sessions[sess.sid] != sess {
		return nil // already ended
	}
	s.audit(sess, proto.AuditEnded, audit)
	sess.stopTimer()
	delete(s.sessions, sess.sid)
	if sess.code != "" {
		s.codes.Revoke(sess.code)
	}
	var out []delivery
	for _, party := range []*peer{sess.tech, sess.agent} {
		if party == nil {
			continue
		}
		delete(party.sessions, sess.sid)
		if reason == "" {
			continue
		}
		if data, err := proto.Encode("", sess.sid, &proto.SessionEnd{Reason: reason}); err == nil {
			out = append(out, delivery{party, data})
		}
	}
	s.metrics.sessions.WithLabelValues("ended").Inc()
	return out
}

// expire ends sess if it is still in state st when its timer fires.
func (s *Server) expire(sess *session, st state, reason string) {
	s.mu.Lock()
	if s.sessions[sess.sid] != sess || sess.state != st {
		s.mu.Unlock()
		return
	}
	out := s.endLocked(sess, reason)
	s.mu.Unlock()
	s.deliver(out)
}

// leaveLocked handles p disconnecting from sess.
func (s *Server) leaveLocked(sess *session, p *peer) []delivery {
	if sess.tech != p && sess.agent != p {
		return nil // p was replaced in this session already
	}
	if sess.state != active {
		who := "the device disconnected"
		if p == sess.tech {
			who = "the technician left"
		}
		return s.endLocked(sess, who)
	}
	if p == sess.tech {
		sess.tech = nil
		s.audit(sess, proto.AuditPartyLeft, "technician")
	} else {
		sess.agent = nil
		s.audit(sess, proto.AuditPartyLeft, "device")
	}
	if sess.timer == nil {
		s.armResumeLocked(sess)
	}
	return nil
}

func (s *Server) armResumeLocked(sess *session) {
	sess.timer = time.AfterFunc(s.opts.ResumeWindow, func() {
		s.mu.Lock()
		if s.sessions[sess.sid] != sess || (sess.tech != nil && sess.agent != nil) {
			s.mu.Unlock()
			return
		}
		out := s.endLocked(sess, "the other party did not come back")
		s.mu.Unlock()
		s.deliver(out)
	})
}

// resumeLocked re-attaches p to the session it names, or, when the relay
// does not know the session (it restarted), records p's claim so that the
// other party can complete it. Identities must match both ways: the
// technician's user id and the device id are vouched for by their tokens.
func (s *Server) resumeLocked(p *peer, r proto.Resume) []delivery {
	techID, deviceID := p.subject(), r.Peer
	if p.kind == proto.KindDevice {
		techID, deviceID = r.Peer, p.subject()
	}
	sess := s.sessions[r.SID]
	if sess == nil {
		sess = &session{sid: r.SID, state: active, techID: techID, deviceID: deviceID}
		s.sessions[r.SID] = sess
		s.armResumeLocked(sess)
	}
	if sess.state != active || sess.techID != techID || sess.deviceID != deviceID {
		s.logFor(p).Info("relay: resume refused", "sid", r.SID)
		return nil
	}
	if p.kind == proto.KindDevice {
		sess.agent = p
	} else {
		sess.tech = p
	}
	p.sessions[r.SID] = sess
	if sess.tech == nil || sess.agent == nil {
		return nil
	}
	sess.stopTimer()
	s.metrics.sessions.WithLabelValues("resumed").Inc()
	s.audit(sess, proto.AuditResumed, "")
	var out []delivery
	for _, party := range []*peer{sess.tech, sess.agent} {
		if data, err := proto.Encode("", sess.sid, &proto.SessionResumed{}); err == nil {
			out = append(out, delivery{party, data})
		}
	}
	return out
}

// sessionPermissions is what a technician's token lets them ask for in a
// session: everything but unattended, which only gates connect.
func sessionPermissions(ps []proto.Permission) []proto.Permission {
	out := make([]proto.Permission, 0, len(ps))
	for _, p := range ps {
		if p != proto.PermUnattended {
			out = append(out, p)
		}
	}
	return out
}

// grant narrows the requested permissions to what the decision allows.
func grant(requested []proto.Permission, d *proto.ConsentDecision) []proto.Permission {
	var out []proto.Permission
	for _, p := range requested {
		if p == proto.PermControl && d.Decision != proto.DecisionControl {
			continue
		}
		if len(d.Permissions) > 0 && !proto.HasPermission(d.Permissions, p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// auditGrant describes a consent decision and the permissions it granted,
// e.g. "control: view,control,clipboard".
func auditGrant(d proto.Decision, granted []proto.Permission) string {
	names := make([]string, len(granted))
	for i, p := range granted {
		names[i] = string(p)
	}
	return string(d) + ": " + strings.Join(names, ",")
}
