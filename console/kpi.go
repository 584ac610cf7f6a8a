package console

import (
	"context"
	"time"
)

// KPIFilter selects the tickets or sessions a KPI is computed over.
type KPIFilter struct {
	Period       Period
	TechnicianID int64 // the assignee of tickets, the technician of sessions
	TeamID       int64 // tickets only
}

// ResolvedTicket holds the timestamps and counts of one resolved ticket
// that MTTR, first-contact resolution and SLA compliance are computed from.
type ResolvedTicket struct {
	ID               int64
	Priority         Priority
	Channel          Channel
	AssigneeID       int64
	TeamID           int64
	Level            Level
	SLAPolicyID      int64
	CreatedAt        time.Time
	FirstResponseDue time.Time
	FirstRespondedAt time.Time
	ResolutionDue    time.Time
	ResolvedAt       time.Time
	PausedFor        time.Duration
	ReopenCount      int
	PublicComments   int // public comments by console users
	Sessions         int // remote sessions attached to the ticket
}

// CSATStats aggregates the CSAT answers of attended sessions that ended in
// a period. Sessions is the denominator of the response rate.
type CSATStats struct {
	Sessions     int    // attended sessions that ended
	Responses    int    // of which answered
	Sum          int    // of the scores
	Distribution [5]int // count of scores 1 to 5
}

// Average returns the mean score, 0 without responses.
func (s *CSATStats) Average() float64 {
	if s.Responses == 0 {
		return 0
	}
	return float64(s.Sum) / float64(s.Responses)
}

// ResponseRate returns Responses/Sessions, 0 without sessions.
func (s *CSATStats) ResponseRate() float64 {
	if s.Sessions == 0 {
		return 0
	}
	return float64(s.Responses) / float64(s.Sessions)
}

// BacklogEntry counts unresolved tickets for one combination of assignee,
// team, priority and status.
type BacklogEntry struct {
	AssigneeID int64
	TeamID     int64
	Priority   Priority
	Status     Status
	Count      int
}

// KPIService reads the inputs of the KPIs.
type KPIService interface {
	// FindResolvedTickets returns tickets resolved in the period, by
	// resolution time.
	FindResolvedTickets(ctx context.Context, f KPIFilter) ([]*ResolvedTicket, error)
	// CSATStats aggregates the CSAT of attended sessions that ended in the
	// period.
	CSATStats(ctx context.Context, f KPIFilter) (*CSATStats, error)
	// Backlog counts tickets neither resolved nor closed, grouped.
	Backlog(ctx context.Context) ([]*BacklogEntry, error)
}
