// Package webhook tells other systems what happens in the console: event
// subscriptions (URL, secret, event types), a delivery outbox kept in the
// console's database so that a restart loses nothing, and a Dispatcher that
// enqueues events (Publish) and delivers them (Run) signed with HMAC-SHA256,
// retrying with exponential backoff. docs/webhooks.md tells receivers how
// to verify a delivery.
package webhook

import "time"

// Event is something that happened in the console that subscribers may
// want to hear about. Data is marshalled to JSON as the "data" member of
// the delivered body.
type Event struct {
	Type string
	At   time.Time
	Data any
}

// Event types.
const (
	TicketCreated     = "ticket.created"
	TicketUpdated     = "ticket.updated"
	TicketCommented   = "ticket.commented"
	TicketEscalated   = "ticket.escalated"
	TicketSLAWarning  = "ticket.sla_warning"
	TicketSLABreached = "ticket.sla_breached"
	SessionStarted    = "session.started"
	SessionEnded      = "session.ended"
	SessionCSAT       = "session.csat"
)

// EventTypes lists every event type, in documentation order.
var EventTypes = []string{TicketCreated, TicketUpdated, TicketCommented, TicketEscalated, TicketSLAWarning, TicketSLABreached,
	SessionStarted, SessionEnded, SessionCSAT}
