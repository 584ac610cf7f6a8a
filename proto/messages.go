package proto

import (
	"time"
)

// Message types. The comment on each says who sends it to whom.
const (
	TypeHello           Type = "hello"            // client → relay: first message, authenticates
	TypeWelcome         Type = "welcome"          // relay → client: hello accepted
	TypePing            Type = "ping"             // client → relay: heartbeat
	TypePong            Type = "pong"             // relay → client: answer to a ping that has an id
	TypeError           Type = "error"            // relay → client: a request failed
	TypeCodeCreate      Type = "code.create"      // technician → relay: ask for a session code
	TypeCodeCreated     Type = "code.created"     // relay → technician: the code to read out
	TypeCodeRedeem      Type = "code.redeem"      // agent → relay: the code the end user typed
	TypeConnect         Type = "connect.request"  // technician → relay: unattended connect to a device
	TypeSessionCreated  Type = "session.created"  // relay → technician: connect accepted, waiting for consent
	TypeConsentRequest  Type = "consent.request"  // relay → agent: who asks for what
	TypeConsentDecision Type = "consent.decision" // agent → relay → technician: the end user's (or policy's) answer
	TypePeerJoined      Type = "peer.joined"      // relay → technician: a device redeemed the code
	TypeSessionStart    Type = "session.start"    // relay → both: consent given, ICE servers, begin WebRTC
	TypeOffer           Type = "sdp.offer"        // technician → agent (forwarded)
	TypeAnswer          Type = "sdp.answer"       // agent → technician (forwarded)
	TypeCandidate       Type = "ice.candidate"    // either → the other (forwarded)
	TypeSessionEnd      Type = "session.end"      // either → relay → the other; relay → both
	TypeSessionResumed  Type = "session.resumed"  // relay → both: signaling is back after a reconnect
	TypePresenceQuery   Type = "presence.query"   // technician → relay: which of these devices are online
	TypePresence        Type = "presence"         // relay → technician: the answer
)

// Permission is something a session may allow. The console grants them per
// device group; the end user (or device policy) narrows them by consent.
type Permission string

// Permissions.
const (
	PermView       Permission = "view"
	PermControl    Permission = "control"
	PermClipboard  Permission = "clipboard"
	PermFiles      Permission = "files"
	PermUnattended Permission = "unattended"
)

// Valid reports whether p is a known permission.
func (p Permission) Valid() bool {
	switch p {
	case PermView, PermControl, PermClipboard, PermFiles, PermUnattended:
		return true
	}
	return false
}

// HasPermission reports whether list contains p.
func HasPermission(list []Permission, p Permission) bool {
	for _, q := range list {
		if q == p {
			return true
		}
	}
	return false
}

func checkPermissions(field string, ps []Permission) error {
	if err := checkList(field, len(ps), 8); err != nil {
		return err
	}
	for _, p := range ps {
		if !p.Valid() {
			return Errorf(CodeBadRequest, "%s: unknown permission %q", field, truncate(string(p), 32))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Hello authenticates a connection. Token is a console-signed [Claims] token;
// its kind must match the endpoint (agent or technician).
type Hello struct {
	Version    int      `json:"version"`
	Capability int      `json:"capability"`
	Token      string   `json:"token"`
	Client     string   `json:"client,omitempty"` // software and version, for logs
	Resume     []Resume `json:"resume,omitempty"` // sessions to pick up after a reconnect
}

// Resume names a session a reconnecting client was in, and the peer it was
// with: a user id for an agent, a device id for a technician. The relay
// re-pairs the session when both sides claim it with matching identities.
type Resume struct {
	SID  string `json:"sid"`
	Peer string `json:"peer"`
}

func (*Hello) MessageType() Type { return TypeHello }
func (b *Hello) Validate() error {
	if b.Version <= 0 || b.Capability <= 0 {
		return Errorf(CodeBadRequest, "version and capability are required")
	}
	if b.Token == "" {
		return Errorf(CodeUnauthorized, "token is required")
	}
	if len(b.Token) > MaxTokenLen {
		return Errorf(CodeTooLarge, "token is longer than %d bytes", MaxTokenLen)
	}
	if err := checkText("client", b.Client, MaxClientLen, false); err != nil {
		return err
	}
	if err := checkList("resume", len(b.Resume), MaxResume); err != nil {
		return err
	}
	for _, r := range b.Resume {
		if err := checkToken("resume.sid", r.SID, MaxIDLen, true); err != nil {
			return err
		}
		if err := checkToken("resume.peer", r.Peer, MaxIDLen, true); err != nil {
			return err
		}
	}
	return nil
}

// Welcome accepts a hello.
type Welcome struct {
	Capability int    `json:"capability"` // the capability both sides use: the lower one
	Heartbeat  int    `json:"heartbeat"`  // seconds between the client's pings
	Subject    string `json:"subject"`    // the authenticated user or device id
}

func (*Welcome) MessageType() Type { return TypeWelcome }
func (b *Welcome) Validate() error {
	if b.Capability <= 0 || b.Heartbeat <= 0 {
		return Errorf(CodeBadRequest, "capability and heartbeat are required")
	}
	return checkToken("subject", b.Subject, MaxIDLen, true)
}

// Ping is a heartbeat. Without an envelope id the relay only notes that the
// client is alive; with an id it answers with a Pong echoing T (the sender's
// clock in Unix milliseconds), e.g. to measure round-trip time.
type Ping struct {
	T int64 `json:"t,omitempty"`
}

func (*Ping) MessageType() Type { return TypePing }
func (*Ping) Validate() error   { return nil }

// Pong answers a Ping.
type Pong struct {
	T int64 `json:"t,omitempty"`
}

func (*Pong) MessageType() Type { return TypePong }
func (*Pong) Validate() error   { return nil }

// ErrorBody reports a failed request; the envelope's id echoes the request's.
type ErrorBody struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (*ErrorBody) MessageType() Type { return TypeError }
func (b *ErrorBody) Validate() error {
	if err := checkToken("code", string(b.Code), MaxTypeLen, true); err != nil {
		return err
	}
	return checkText("message", b.Message, MaxReasonLen, false)
}

// Err returns the body as an *Error.
func (b *ErrorBody) Err() *Error { return &Error{Code: b.Code, Msg: b.Message} }

// CodeCreate asks for a session code bound to the technician and the ticket
// named in their token. TTL is in seconds; zero means [DefaultCodeTTL].
type CodeCreate struct {
	TTL int `json:"ttl,omitempty"`
}

func (*CodeCreate) MessageType() Type { return TypeCodeCreate }
func (b *CodeCreate) Validate() error {
	if b.TTL < 0 || time.Duration(b.TTL)*time.Second > MaxCodeTTL {
		return Errorf(CodeBadRequest, "ttl must be between 0 and %d seconds", int(MaxCodeTTL/time.Second))
	}
	return nil
}

// CodeCreated returns the code. The envelope's sid is the session it opens.
type CodeCreated struct {
	Code    string    `json:"code"`
	Expires time.Time `json:"expires"`
}

func (*CodeCreated) MessageType() Type { return TypeCodeCreated }
func (b *CodeCreated) Validate() error {
	if !ValidCode(b.Code) {
		return Errorf(CodeBadRequest, "code must be %d digits", CodeDigits)
	}
	return nil
}

// CodeRedeem is sent by an agent with the code its user typed.
type CodeRedeem struct {
	Code string `json:"code"`
}

func (*CodeRedeem) MessageType() Type { return TypeCodeRedeem }
func (b *CodeRedeem) Validate() error {
	if !ValidCode(b.Code) {
		// Same answer as an unknown code: the format says nothing useful either.
		return ErrInvalidCode
	}
	return nil
}

// Connect asks for an unattended session with an online device. The
// technician's token must carry [PermUnattended] and name that device.
type Connect struct {
	DeviceID string `json:"device_id"`
}

func (*Connect) MessageType() Type { return TypeConnect }
func (b *Connect) Validate() error { return checkToken("device_id", b.DeviceID, MaxIDLen, true) }

// SessionCreated tells the technician the session id of an unattended connect.
type SessionCreated struct {
	Device DeviceRef `json:"device"`
}

func (*SessionCreated) MessageType() Type { return TypeSessionCreated }
func (b *SessionCreated) Validate() error { return b.Device.validate("device") }

// Person identifies a technician to the end user.
type Person struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Org  string `json:"org,omitempty"`
}

func (p Person) validate(field string) error {
	if err := checkToken(field+".id", p.ID, MaxIDLen, true); err != nil {
		return err
	}
	if err := checkText(field+".name", p.Name, MaxNameLen, false); err != nil {
		return err
	}
	return checkText(field+".org", p.Org, MaxNameLen, false)
}

// TicketRef names the ticket a session works on.
type TicketRef struct {
	ID    string `json:"id"`
	Title string `json:"title,omitempty"`
}

func (t *TicketRef) validate(field string) error {
	if t == nil {
		return nil
	}
	if err := checkToken(field+".id", t.ID, MaxIDLen, true); err != nil {
		return err
	}
	return checkText(field+".title", t.Title, MaxTitleLen, false)
}

// DeviceRef names a device to the technician.
type DeviceRef struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

func (d DeviceRef) validate(field string) error {
	if err := checkToken(field+".id", d.ID, MaxIDLen, true); err != nil {
		return err
	}
	return checkText(field+".name", d.Name, MaxNameLen, false)
}

// ConsentRequest asks the end user (or, unattended, the device's policy) to
// let Technician in. Timeout is in seconds; no answer by then means deny.
type ConsentRequest struct {
	Technician  Person       `json:"technician"`
	Ticket      *TicketRef   `json:"ticket,omitempty"`
	Permissions []Permission `json:"permissions"`
	Unattended  bool         `json:"unattended,omitempty"`
	Timeout     int          `json:"timeout"`
}

func (*ConsentRequest) MessageType() Type { return TypeConsentRequest }
func (b *ConsentRequest) Validate() error {
	if err := b.Technician.validate("technician"); err != nil {
		return err
	}
	if err := b.Ticket.validate("ticket"); err != nil {
		return err
	}
	if b.Timeout <= 0 || b.Timeout > 600 {
		return Errorf(CodeBadRequest, "timeout must be 1..600 seconds")
	}
	return checkPermissions("permissions", b.Permissions)
}

// Decision is the end user's answer to a consent request.
type Decision string

// Decisions.
const (
	DecisionDeny    Decision = "deny"
	DecisionView    Decision = "view"
	DecisionControl Decision = "control"
)

// ConsentDecision answers a ConsentRequest. Permissions are those granted,
// a subset of those requested; Reason says why a deny happened ("user",
// "timeout", "policy").
type ConsentDecision struct {
	Decision    Decision     `json:"decision"`
	Permissions []Permission `json:"permissions,omitempty"`
	Reason      string       `json:"reason,omitempty"`
}

func (*ConsentDecision) MessageType() Type { return TypeConsentDecision }
func (b *ConsentDecision) Validate() error {
	switch b.Decision {
	case DecisionDeny, DecisionView, DecisionControl:
	default:
		return Errorf(CodeBadRequest, "decision must be deny, view or control")
	}
	if b.Decision == DecisionView && HasPermission(b.Permissions, PermControl) {
		return Errorf(CodeBadRequest, "a view decision cannot grant control")
	}
	if b.Decision == DecisionDeny && len(b.Permissions) > 0 {
		return Errorf(CodeBadRequest, "a deny decision grants nothing")
	}
	if err := checkText("reason", b.Reason, MaxReasonLen, false); err != nil {
		return err
	}
	return checkPermissions("permissions", b.Permissions)
}

// PeerJoined tells the technician which device redeemed their code.
type PeerJoined struct {
	Device DeviceRef `json:"device"`
}

func (*PeerJoined) MessageType() Type { return TypePeerJoined }
func (b *PeerJoined) Validate() error { return b.Device.validate("device") }

// ICEServer is a STUN or TURN server with short-lived credentials.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// SessionStart begins WebRTC: the technician sends the offer, the agent answers.
type SessionStart struct {
	Permissions []Permission `json:"permissions"`
	ICEServers  []ICEServer  `json:"ice_servers,omitempty"`
}

func (*SessionStart) MessageType() Type { return TypeSessionStart }
func (b *SessionStart) Validate() error {
	if err := checkPermissions("permissions", b.Permissions); err != nil {
		return err
	}
	if err := checkList("ice_servers", len(b.ICEServers), MaxICEServers); err != nil {
		return err
	}
	for _, s := range b.ICEServers {
		if len(s.URLs) == 0 {
			return Errorf(CodeBadRequest, "ice_servers: urls is required")
		}
		if err := checkList("ice_servers.urls", len(s.URLs), 4); err != nil {
			return err
		}
		for _, u := range s.URLs {
			if err := checkText("ice_servers.urls", u, MaxURLLen, false); err != nil {
				return err
			}
		}
		if err := checkText("ice_servers.username", s.Username, MaxNameLen, false); err != nil {
			return err
		}
		if err := checkText("ice_servers.credential", s.Credential, MaxNameLen, false); err != nil {
			return err
		}
	}
	return nil
}

// SDP carries an offer or an answer. Signature, when present, binds the
// sender's DTLS fingerprint to its console-issued identity (see docs/security.md).
type SDP struct {
	SDP       string `json:"sdp"`
	Signature string `json:"signature,omitempty"`
}

func (s *SDP) validate() error {
	if s.SDP == "" {
		return Errorf(CodeBadRequest, "sdp is required")
	}
	if err := checkText("sdp", s.SDP, MaxSDPLen, true); err != nil {
		return err
	}
	return checkText("signature", s.Signature, MaxSignature, false)
}

// Offer is the technician's SDP offer.
type Offer struct{ SDP }

func (*Offer) MessageType() Type { return TypeOffer }
func (b *Offer) Validate() error { return b.validate() }

// Answer is the agent's SDP answer.
type Answer struct{ SDP }

func (*Answer) MessageType() Type { return TypeAnswer }
func (b *Answer) Validate() error { return b.validate() }

// Candidate is a trickled ICE candidate, as in RTCIceCandidateInit. An empty
// Candidate signals the end of candidates.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

func (*Candidate) MessageType() Type { return TypeCandidate }
func (b *Candidate) Validate() error {
	if err := checkText("candidate", b.Candidate, MaxCandidate, false); err != nil {
		return err
	}
	if b.SDPMid != nil {
		if err := checkText("sdpMid", *b.SDPMid, MaxIDLen, false); err != nil {
			return err
		}
	}
	if b.UsernameFragment != nil {
		if err := checkText("usernameFragment", *b.UsernameFragment, MaxIDLen, false); err != nil {
			return err
		}
	}
	return nil
}

// SessionEnd ends a session. Reason is shown to people ("stopped by the user").
type SessionEnd struct {
	Reason string `json:"reason,omitempty"`
}

func (*SessionEnd) MessageType() Type { return TypeSessionEnd }
func (b *SessionEnd) Validate() error { return checkText("reason", b.Reason, MaxReasonLen, false) }

// SessionResumed tells a reconnected client that its peer is back too and
// that signaling for the session flows again.
type SessionResumed struct{}

func (*SessionResumed) MessageType() Type { return TypeSessionResumed }
func (*SessionResumed) Validate() error   { return nil }

// PresenceQuery asks which of DeviceIDs are online.
type PresenceQuery struct {
	DeviceIDs []string `json:"device_ids"`
}

func (*PresenceQuery) MessageType() Type { return TypePresenceQuery }
func (b *PresenceQuery) Validate() error {
	if err := checkList("device_ids", len(b.DeviceIDs), MaxListLen); err != nil {
		return err
	}
	for _, id := range b.DeviceIDs {
		if err := checkToken("device_ids", id, MaxIDLen, true); err != nil {
			return err
		}
	}
	return nil
}

// DevicePresence is one device's state. Since is when it connected, or when
// the relay last saw it if it is offline and the relay still remembers.
type DevicePresence struct {
	ID     string     `json:"id"`
	Online bool       `json:"online"`
	Since  *time.Time `json:"since,omitempty"`
}

// Presence answers a PresenceQuery, in the query's order.
type Presence struct {
	Devices []DevicePresence `json:"devices"`
}

func (*Presence) MessageType() Type { return TypePresence }
func (b *Presence) Validate() error {
	if err := checkList("devices", len(b.Devices), MaxListLen); err != nil {
		return err
	}
	for _, d := range b.Devices {
		if err := checkToken("devices.id", d.ID, MaxIDLen, true); err != nil {
			return err
		}
	}
	return nil
}

func init() {
	for _, f := range []func() Body{
		func() Body { return new(Hello) },
		func() Body { return new(Welcome) },
		func() Body { return new(Ping) },
		func() Body { return new(Pong) },
		func() Body { return new(ErrorBody) },
		func() Body { return new(CodeCreate) },
		func() Body { return new(CodeCreated) },
		func() Body { return new(CodeRedeem) },
		func() Body { return new(Connect) },
		func() Body { return new(SessionCreated) },
		func() Body { return new(ConsentRequest) },
		func() Body { return new(ConsentDecision) },
		func() Body { return new(PeerJoined) },
		func() Body { return new(SessionStart) },
		func() Body { return new(Offer) },
		func() Body { return new(Answer) },
		func() Body { return new(Candidate) },
		func() Body { return new(SessionEnd) },
		func() Body { return new(SessionResumed) },
		func() Body { return new(PresenceQuery) },
		func() Body { return new(Presence) },
	} {
		register(f)
	}
}
