// Package uibridge carries the end user's side of an agent that runs as a
// system service to the user signed in to the shared display: consent
// questions, the "session active — Stop" indicator with revoke, chat and
// the satisfaction question.
//
// The service (root) listens on a Unix socket, by default
// /run/reach-agent/ui.sock, and implements consent.Prompter with Service.
// A small process in the user's graphical session (`reach-agent ui`,
// started by an XDG autostart entry) attaches with Client and shows what
// it is sent in the end-user page or on a terminal.
//
// The service stays the authority: it checks each peer's credentials
// (SO_PEERCRED) before it sends anything, enforces the consent timeout
// itself (an answer after the deadline is ignored), denies at once when no
// one is attached ("nobody is signed in to answer") and denies when the
// user's process goes away mid-question. It never grants without an
// answer.
//
// The protocol is one JSON object per line, at most MaxLine bytes, in
// both directions; each side first sends a hello naming Version.
package uibridge

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/proto"
)

// Version is the bridge protocol's version; both sides refuse another.
//
// Changelog:
//   - 1 (2025-06): hello, prompt, cancel, status, chat, answer, stop,
//     revoke, csat, error.
const Version = 1

// DefaultSocket is where the service listens (systemd's RuntimeDirectory
// reach-agent).
const DefaultSocket = "/run/reach-agent/ui.sock"

// Limits of the protocol.
const (
	MaxLine    = 64 << 10 // one message, newline included
	maxID      = 64       // prompt and session ids
	maxClients = 16       // attached user processes
	helloWait  = 10 * time.Second
)

// Message types.
const (
	TypeHello  = "hello"  // both ways, first: Version
	TypeError  = "error"  // service → UI before it hangs up: Reason
	TypePrompt = "prompt" // service → UI: ID, Prompt
	TypeCancel = "cancel" // service → UI: ID (answered elsewhere, timed out, ended)
	TypeStatus = "status" // service → UI: Status
	TypeChat   = "chat"   // both ways: SID, Text
	TypeAnswer = "answer" // UI → service: ID, Decision
	TypeStop   = "stop"   // UI → service: SID
	TypeRevoke = "revoke" // UI → service: SID
	TypeCSAT   = "csat"   // UI → service: SID, Score 1–5
)

// Message is one line of the protocol; Type says which fields are set.
type Message struct {
	Type     string         `json:"type"`
	Version  int            `json:"version,omitempty"`
	ID       string         `json:"id,omitempty"`
	SID      string         `json:"sid,omitempty"`
	Prompt   *Prompt        `json:"prompt,omitempty"`
	Decision proto.Decision `json:"decision,omitempty"`
	Status   *Status        `json:"status,omitempty"`
	Text     string         `json:"text,omitempty"`
	From     string         `json:"from,omitempty"` // chat: technician or user
	Score    int            `json:"score,omitempty"`
	Reason   string         `json:"reason,omitempty"`
}

// Prompt is a consent question as the UI shows it.
type Prompt struct {
	Technician  proto.Person       `json:"technician"`
	Ticket      *proto.TicketRef   `json:"ticket,omitempty"`
	Permissions []proto.Permission `json:"permissions"`
	Unattended  bool               `json:"unattended"`
	// TimeoutMS is what is left of the service's deadline when sent; the
	// UI counts down from it but cannot extend it.
	TimeoutMS int64 `json:"timeout_ms"`
}

// Request is the prompt as a consent.Request.
func (p *Prompt) Request() consent.Request {
	return consent.Request{Technician: p.Technician, Ticket: p.Ticket, Permissions: p.Permissions,
		Unattended: p.Unattended, Timeout: time.Duration(p.TimeoutMS) * time.Millisecond}
}

// Status is a session's state for the indicator (agent/session.Status
// without the error).
type Status struct {
	SID         string             `json:"sid"`
	State       string             `json:"state"` // consent, waiting, active, ended
	Technician  proto.Person       `json:"technician"`
	Ticket      *proto.TicketRef   `json:"ticket,omitempty"`
	Permissions []proto.Permission `json:"permissions"`
	Reason      string             `json:"reason,omitempty"`
	Failed      bool               `json:"failed,omitempty"`
}

// errBadMessage is what a malformed message from the UI gets.
var errBadMessage = errors.New("uibridge: bad message")

// checkFromUI validates a message a user process sent.
func checkFromUI(m *Message) error {
	if len(m.ID) > maxID || len(m.SID) > maxID {
		return fmt.Errorf("%w: id too long", errBadMessage)
	}
	switch m.Type {
	case TypeHello:
	case TypeAnswer:
		switch m.Decision {
		case proto.DecisionView, proto.DecisionControl, proto.DecisionDeny:
		default:
			return fmt.Errorf("%w: decision must be view, control or deny", errBadMessage)
		}
	case TypeStop, TypeRevoke:
		if m.SID == "" {
			return fmt.Errorf("%w: no session", errBadMessage)
		}
	case TypeChat:
		if m.SID == "" || m.Text == "" || len(m.Text) > proto.MaxChat || !utf8.ValidString(m.Text) {
			return fmt.Errorf("%w: a chat line is 1 to %d bytes of text", errBadMessage, proto.MaxChat)
		}
	case TypeCSAT:
		if m.SID == "" || m.Score < 1 || m.Score > 5 {
			return fmt.Errorf("%w: the rating is a number from 1 to 5", errBadMessage)
		}
	default:
		return fmt.Errorf("%w: unknown type", errBadMessage)
	}
	return nil
}
