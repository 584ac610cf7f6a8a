package console

import (
	"context"
	"time"
)

// Escalation event kinds, written by the escalation scheduler.
const (
	EventEscalated   TicketEventKind = "escalated"    // a rule raised the level or moved the ticket
	EventSLAWarning  TicketEventKind = "sla_warning"  // a notify-only rule fired before the deadline
	EventSLABreached TicketEventKind = "sla_breached" // a notify-only rule fired after the deadline
)

// Deadline names one of a ticket's SLA deadlines.
type Deadline string

// Deadlines.
const (
	DeadlineFirstResponse Deadline = "first_response"
	DeadlineResolution    Deadline = "resolution"
)

// EscalationTrigger says when a rule fires, relative to its deadline.
type EscalationTrigger string

// Triggers. Times are business time of the ticket's SLA calendar.
const (
	TriggerRemaining EscalationTrigger = "remaining" // at most Minutes left before the deadline
	TriggerElapsed   EscalationTrigger = "elapsed"   // at least Percent of the target used
	TriggerBreached  EscalationTrigger = "breached"  // the deadline has passed
)

// EscalationRule raises a ticket's level and/or moves it to another team
// when one of its deadlines nears or passes. Zero match fields match every
// ticket. A rule fires at most once per ticket; rules without an action
// only notify (ticket events and webhooks).
type EscalationRule struct {
	ID      int64
	Name    string // unique, compared case-insensitively
	Enabled bool

	// Match.
	Priorities []Priority // empty: any
	Category   string     // empty: any
	TeamID     int64      // zero: any; the rule is deleted with its team
	Level      Level      // zero: any

	// Trigger.
	Deadline Deadline
	Trigger  EscalationTrigger
	Minutes  int // TriggerRemaining: 1 to MaxEscalationMinutes
	Percent  int // TriggerElapsed: 1 to 100

	// Action.
	SetLevel  Level // zero, L2 or L3; the level only ever rises
	SetTeamID int64 // zero: keep the team; cleared if that team is deleted
	Unassign  bool  // clear the assignee (with SetTeamID: let the new team pick it up)

	CreatedAt time.Time
	UpdatedAt time.Time
}

// MaxEscalationMinutes bounds a TriggerRemaining window (30 days).
const MaxEscalationMinutes = 30 * 24 * 60

// Validate checks the rule's fields and bounds.
func (r *EscalationRule) Validate() error {
	if err := checkText("rule name", r.Name, MaxNameLen, true); err != nil {
		return err
	}
	if err := checkText("category", r.Category, MaxShortLen, false); err != nil {
		return err
	}
	if len(r.Priorities) > 4 {
		return Errorf(CodeInvalid, "more than 4 priorities")
	}
	for _, p := range r.Priorities {
		if !p.Valid() {
			return Errorf(CodeInvalid, "priority must be P1 to P4")
		}
	}
	switch {
	case r.Level != 0 && !r.Level.Valid():
		return Errorf(CodeInvalid, "escalation level must be L1 to L3")
	case r.Deadline != DeadlineFirstResponse && r.Deadline != DeadlineResolution:
		return Errorf(CodeInvalid, "deadline must be first_response or resolution")
	case r.TeamID < 0 || r.SetTeamID < 0:
		return Errorf(CodeInvalid, "invalid team")
	case r.SetLevel != 0 && r.SetLevel != L2 && r.SetLevel != L3:
		return Errorf(CodeInvalid, "a rule raises the level to L2 or L3")
	}
	switch r.Trigger {
	case TriggerRemaining:
		if r.Minutes < 1 || r.Minutes > MaxEscalationMinutes || r.Percent != 0 {
			return Errorf(CodeInvalid, "a remaining-time trigger needs 1 to %d minutes and no percent", MaxEscalationMinutes)
		}
	case TriggerElapsed:
		if r.Percent < 1 || r.Percent > 100 || r.Minutes != 0 {
			return Errorf(CodeInvalid, "an elapsed trigger needs a percent from 1 to 100 and no minutes")
		}
	case TriggerBreached:
		if r.Minutes != 0 || r.Percent != 0 {
			return Errorf(CodeInvalid, "a breach trigger takes no minutes or percent")
		}
	default:
		return Errorf(CodeInvalid, "trigger must be remaining, elapsed or breached")
	}
	return nil
}

// HasAction reports whether the rule changes the ticket.
func (r *EscalationRule) HasAction() bool { return r.SetLevel != 0 || r.SetTeamID != 0 || r.Unassign }

// EscalationFiring records that a rule fired on a ticket, and what it did.
type EscalationFiring struct {
	RuleID   int64
	TicketID int64
	Kind     TicketEventKind // EventEscalated, EventSLAWarning or EventSLABreached
	At       time.Time       // set by the store

	// The action; zero values change nothing. Level only rises.
	Level    Level
	TeamID   int64
	Unassign bool
	// IfVersion, if not zero, makes ApplyEscalation fail with ErrConflict
	// unless the ticket is still at this version.
	IfVersion int64
}

// Validate checks the firing's fields.
func (f *EscalationFiring) Validate() error {
	switch {
	case f.RuleID <= 0 || f.TicketID <= 0:
		return Errorf(CodeInvalid, "a firing needs a rule and a ticket")
	case f.Kind != EventEscalated && f.Kind != EventSLAWarning && f.Kind != EventSLABreached:
		return Errorf(CodeInvalid, "unknown escalation event kind %q", f.Kind)
	case f.Level != 0 && !f.Level.Valid():
		return Errorf(CodeInvalid, "escalation level must be L1 to L3")
	case f.TeamID < 0:
		return Errorf(CodeInvalid, "invalid team")
	}
	return nil
}

// Update returns the change the firing's action makes to t: the level
// only rises, and fields already at their target are left out.
func (f *EscalationFiring) Update(t *Ticket) TicketUpdate {
	var upd TicketUpdate
	if f.Level > t.Level {
		upd.Level = &f.Level
	}
	if f.TeamID != 0 && f.TeamID != t.TeamID {
		upd.TeamID = &f.TeamID
	}
	if f.Unassign && t.AssigneeID != 0 {
		var none int64
		upd.AssigneeID = &none
	}
	return upd
}

// EscalationService stores escalation rules and their firings.
type EscalationService interface {
	CreateEscalationRule(ctx context.Context, r *EscalationRule) error
	FindEscalationRuleByID(ctx context.Context, id int64) (*EscalationRule, error)
	// FindEscalationRules returns every rule by ID, which is the order the
	// scheduler applies them in.
	FindEscalationRules(ctx context.Context) ([]*EscalationRule, error)
	// UpdateEscalationRule replaces the rule with r.ID by r; its firings stay.
	UpdateEscalationRule(ctx context.Context, r *EscalationRule) error
	// DeleteEscalationRule removes the rule and its firings.
	DeleteEscalationRule(ctx context.Context, id int64) error

	// ApplyEscalation records f and applies its action to the ticket in one
	// transaction, appending a ticket event of f.Kind by the system with
	// RefID f.RuleID and the changed fields. It returns ErrConflict, and
	// changes nothing, if the rule already fired on the ticket or the
	// ticket is no longer at f.IfVersion.
	ApplyEscalation(ctx context.Context, f *EscalationFiring) (*Ticket, error)
	// FindEscalationFirings returns the firings on the given tickets (at
	// most MaxPageSize), by ticket and rule.
	FindEscalationFirings(ctx context.Context, ticketIDs []int64) ([]*EscalationFiring, error)
}
