package console

import (
	"context"
	"encoding/json"
	"time"
)

// SessionKind says how a remote session was started.
type SessionKind string

// Session kinds.
const (
	SessionAttended   SessionKind = "attended"   // the end user typed a session code
	SessionUnattended SessionKind = "unattended" // a technician connected to an enrolled device
)

// Consent is the end user's answer to a session request.
type Consent string

// Consent decisions.
const (
	ConsentPending     Consent = "pending"      // not answered yet
	ConsentView        Consent = "view"         // allowed to view
	ConsentControl     Consent = "control"      // allowed to view and control
	ConsentDenied      Consent = "denied"       // refused
	ConsentTimeout     Consent = "timeout"      // not answered in time, which denies
	ConsentNotRequired Consent = "not_required" // the device policy needs no consent
)

// Valid reports whether c is a known decision.
func (c Consent) Valid() bool {
	switch c {
	case ConsentPending, ConsentView, ConsentControl, ConsentDenied, ConsentTimeout, ConsentNotRequired:
		return true
	}
	return false
}

// Session is one remote-support session.
type Session struct {
	ID           int64
	Kind         SessionKind
	TicketID     int64 // zero: no ticket
	DeviceID     int64 // zero: quick-support device not enrolled, or deleted
	TechnicianID int64
	// CodeHash is a hash of the attended session code, kept for audit; nil
	// for unattended sessions.
	CodeHash     []byte
	Consent      Consent
	Permissions  Permissions // granted for the session
	CreatedAt    time.Time
	StartedAt    time.Time // zero: not connected yet
	EndedAt      time.Time // zero: still running or never started
	EndReason    string
	RecordingKey string // blob key of the recording; empty: none
	// RelaySID is the relay's id of the session; empty until the browser
	// reports it. Unique among sessions.
	RelaySID string
}

// Validate checks the session's fields and bounds.
func (s *Session) Validate() error {
	switch {
	case s.Kind != SessionAttended && s.Kind != SessionUnattended:
		return Errorf(CodeInvalid, "unknown session kind %q", s.Kind)
	case s.Kind == SessionUnattended && s.DeviceID <= 0:
		return Errorf(CodeInvalid, "an unattended session needs a device")
	case s.TechnicianID <= 0:
		return Errorf(CodeInvalid, "session needs a technician")
	case !s.Consent.Valid():
		return Errorf(CodeInvalid, "unknown consent %q", s.Consent)
	case !s.Permissions.Valid():
		return Errorf(CodeInvalid, "unknown permission bits")
	case len(s.CodeHash) > MaxHashLen:
		return Errorf(CodeInvalid, "code hash is longer than %d bytes", MaxHashLen)
	case !s.EndedAt.IsZero() && s.EndedAt.Before(s.StartedAt):
		return Errorf(CodeInvalid, "session ends before it starts")
	}
	if err := checkText("end reason", s.EndReason, MaxShortLen, false); err != nil {
		return err
	}
	if err := checkText("recording key", s.RecordingKey, MaxBlobKeyLen, false); err != nil {
		return err
	}
	return checkText("relay session id", s.RelaySID, MaxRelaySIDLen, false)
}

// Duration returns how long the session ran, zero if it has not ended.
func (s *Session) Duration() time.Duration {
	if s.StartedAt.IsZero() || s.EndedAt.IsZero() {
		return 0
	}
	return s.EndedAt.Sub(s.StartedAt)
}

// SessionUpdate changes the non-nil fields of a session.
type SessionUpdate struct {
	TicketID     *int64
	Consent      *Consent
	Permissions  *Permissions
	StartedAt    *time.Time
	EndedAt      *time.Time
	EndReason    *string
	RecordingKey *string
	RelaySID     *string
	CodeHash     *[]byte
}

// Apply copies the non-nil fields of upd into s.
func (upd SessionUpdate) Apply(s *Session) {
	set(&s.TicketID, upd.TicketID)
	set(&s.Consent, upd.Consent)
	set(&s.Permissions, upd.Permissions)
	set(&s.StartedAt, upd.StartedAt)
	set(&s.EndedAt, upd.EndedAt)
	set(&s.EndReason, upd.EndReason)
	set(&s.RecordingKey, upd.RecordingKey)
	set(&s.RelaySID, upd.RelaySID)
	set(&s.CodeHash, upd.CodeHash)
}

// SessionFilter selects sessions in ID order. Zero fields match everything.
type SessionFilter struct {
	TicketID     int64
	DeviceID     int64
	TechnicianID int64
	RelaySID     string
	Active       bool  // only sessions that have not ended
	AfterID      int64 // keyset
	Limit        int
}

// EventSource is who reported a session event.
type EventSource string

// Event sources.
const (
	SourceRelay      EventSource = "relay"
	SourceAgent      EventSource = "agent"
	SourceTechnician EventSource = "technician"
	SourceConsole    EventSource = "console"
)

// SessionEvent is one entry of a session's timeline: consent, permission
// changes, chat lines, clipboard and file transfers, disconnects.
type SessionEvent struct {
	ID        int64 // arrival order
	SessionID int64
	Source    EventSource
	Type      string          // e.g. "consent", "chat", "file", "clipboard"
	At        time.Time       // when the console received it; zero: the store's now
	Detail    json.RawMessage // untrusted when the source is the agent
}

// MaxEventBatch bounds one AppendSessionEvents call.
const MaxEventBatch = 1000

// PrepareEvents checks a batch for AppendSessionEvents and sets each event's
// time to norm(At), or to now when it has none. Stores call it before writing;
// norm brings times to the store's precision.
func PrepareEvents(events []*SessionEvent, now time.Time, norm func(time.Time) time.Time) error {
	if len(events) > MaxEventBatch {
		return Errorf(CodeInvalid, "more than %d events in one batch", MaxEventBatch)
	}
	for _, e := range events {
		if err := e.Validate(); err != nil {
			return err
		}
		if e.At = norm(e.At); e.At.IsZero() {
			e.At = now
		}
	}
	return nil
}

// Validate checks the event's fields and bounds.
func (e *SessionEvent) Validate() error {
	if e.SessionID <= 0 {
		return Errorf(CodeInvalid, "event needs a session")
	}
	switch e.Source {
	case SourceRelay, SourceAgent, SourceTechnician, SourceConsole:
	default:
		return Errorf(CodeInvalid, "unknown event source %q", e.Source)
	}
	if !validSectionName(e.Type) {
		return Errorf(CodeInvalid, "invalid event type")
	}
	return checkJSON("event detail", e.Detail, MaxDetailBytes)
}

// SessionEventFilter selects one session's events in arrival order.
type SessionEventFilter struct {
	SessionID int64
	AfterID   int64 // keyset: events that arrived after this one
	Limit     int
}

// CSATAnswer is an end user's satisfaction score for a session.
type CSATAnswer struct {
	SessionID  int64
	Score      int // 1 (bad) to 5 (great)
	Comment    string
	AnsweredAt time.Time
}

// Validate checks the answer's fields and bounds.
func (a *CSATAnswer) Validate() error {
	if a.SessionID <= 0 {
		return Errorf(CodeInvalid, "answer needs a session")
	}
	if a.Score < 1 || a.Score > 5 {
		return Errorf(CodeInvalid, "score must be 1 to 5")
	}
	return checkText("comment", a.Comment, MaxTextLen, false)
}

// SessionService stores sessions, their timelines and CSAT answers.
type SessionService interface {
	CreateSession(ctx context.Context, s *Session) error
	FindSessionByID(ctx context.Context, id int64) (*Session, error)
	FindSessions(ctx context.Context, f SessionFilter) ([]*Session, error)
	UpdateSession(ctx context.Context, id int64, upd SessionUpdate) (*Session, error)

	// AppendSessionEvents stores the events in order and sets their IDs;
	// either all are stored or none.
	AppendSessionEvents(ctx context.Context, events []*SessionEvent) error
	FindSessionEvents(ctx context.Context, f SessionEventFilter) ([]*SessionEvent, error)

	// RecordCSAT stores the one answer a session may get; ErrConflict if it
	// already has one.
	RecordCSAT(ctx context.Context, a *CSATAnswer) error
	FindCSAT(ctx context.Context, sessionID int64) (*CSATAnswer, error)
}
