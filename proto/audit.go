package proto

import (
	"time"
)

// Audit events: the relay's own account of each session (code issued and
// redeemed, consent, parties leaving and resuming, the end), which the
// console pulls from GET /v1/events with a service token and adds to the
// session's timeline next to what the agent and the technician report.

// Audit event types.
const (
	AuditCodeCreated  = "code.created"      // a technician asked for a session code
	AuditCodeRedeemed = "code.redeemed"     // a device redeemed it; Detail is the device's address
	AuditRequested    = "session.requested" // an unattended connect reached the device
	AuditConsent      = "consent"           // the end user (or policy) answered; Detail is the decision and permissions
	AuditPartyLeft    = "party.left"        // a party of an active session disconnected; Detail says which
	AuditResumed      = "session.resumed"   // both parties are back
	AuditEnded        = "session.ended"     // the session is over; Detail is the reason
)

// MaxAuditPage bounds the events one GET /v1/events returns.
const MaxAuditPage = 1000

// AuditEvent is one thing the relay saw happen to a session.
type AuditEvent struct {
	Seq        uint64    `json:"seq"` // increases by one per event within an Instance
	At         time.Time `json:"at"`
	SID        string    `json:"sid"`
	Type       string    `json:"type"`
	Technician string    `json:"technician,omitempty"` // user id from the technician's token
	Device     string    `json:"device,omitempty"`     // device id from the agent's token
	Detail     string    `json:"detail,omitempty"`
}

// AuditPage answers GET /v1/events?after=SEQ. Instance changes when the
// relay restarts (sequence numbers start again at 1); Lost reports that
// events after the asked sequence number were dropped from the relay's
// bounded buffer before anyone fetched them.
type AuditPage struct {
	Instance string       `json:"instance"`
	Events   []AuditEvent `json:"events"`
	Lost     bool         `json:"lost,omitempty"`
}

// Validate bounds a page the console received.
func (p *AuditPage) Validate() error {
	if err := checkToken("instance", p.Instance, MaxIDLen, true); err != nil {
		return err
	}
	if err := checkList("events", len(p.Events), MaxAuditPage); err != nil {
		return err
	}
	for i := range p.Events {
		e := &p.Events[i]
		for _, check := range []error{
			checkToken("sid", e.SID, MaxIDLen, true),
			checkToken("type", e.Type, MaxIDLen, true),
			checkToken("technician", e.Technician, MaxIDLen, false),
			checkToken("device", e.Device, MaxIDLen, false),
			checkText("detail", e.Detail, MaxReasonLen, false),
		} {
			if check != nil {
				return check
			}
		}
	}
	return nil
}
