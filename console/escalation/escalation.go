// Package escalation applies the stored escalation rules to open tickets
// whose SLA deadlines near or pass: a Scheduler scans the tickets every
// minute, raises their level and/or moves them to another team as the
// matching rules say, writes an "escalated", "sla_warning" or
// "sla_breached" ticket event, and publishes the matching webhook event.
// Each rule fires at most once per ticket, even with several console nodes
// (the store records firings under a unique key). docs/sla.md describes
// the rules.
package escalation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/sla"
	"github.com/reachdesk/reach/console/webhook"
)

// Publisher receives the events of the rules that fire; *webhook.Dispatcher
// implements it.
type Publisher interface {
	Publish(ctx context.Context, e webhook.Event) error
}

// Options configures a Scheduler. The zero value is ready to use.
type Options struct {
	// Interval is the time between scans; zero means one minute.
	Interval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives logs; nil means slog.Default().
	Logger *slog.Logger
	// Publisher receives an event per firing; nil publishes nothing.
	Publisher Publisher
}

// Scheduler scans open tickets and applies the escalation rules.
type Scheduler struct {
	store    console.Store
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger
	pub      Publisher
}

// New returns a scheduler on store.
func New(store console.Store, opts Options) *Scheduler {
	s := &Scheduler{store: store, interval: opts.Interval, now: opts.Now, log: opts.Logger, pub: opts.Publisher}
	if s.interval <= 0 {
		s.interval = time.Minute
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Run scans at once and then every Interval until ctx is done; it returns
// nil then. A failed scan is logged and retried at the next tick.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		if res, err := s.Scan(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error("escalation scan failed", "err", err)
		} else if res.Fired > 0 {
			s.log.Info("escalation scan", "tickets", res.Scanned, "fired", res.Fired)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Result says what one scan did.
type Result struct {
	Scanned int // tickets examined (those with a deadline inside the horizon)
	Fired   int // rule firings applied
}

// EventData is the Data of the webhook events the scheduler publishes.
type EventData struct {
	TicketID   int64            `json:"ticket_id"`
	Title      string           `json:"title"`
	Priority   string           `json:"priority"`
	Status     console.Status   `json:"status"`
	Level      string           `json:"level"`
	TeamID     int64            `json:"team_id,omitempty"`
	AssigneeID int64            `json:"assignee_id,omitempty"`
	RuleID     int64            `json:"rule_id"`
	RuleName   string           `json:"rule_name"`
	Deadline   console.Deadline `json:"deadline"`
	Due        time.Time        `json:"due"`
	Changes    []change         `json:"changes,omitempty"`
}

type change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// policy is an SLA policy with its compiled calendar.
type policy struct {
	p   *console.SLAPolicy
	cal *sla.Calendar
}

// activeStatuses are the statuses whose clock runs; pending tickets are
// paused and never near a deadline.
var activeStatuses = []console.Status{console.StatusNew, console.StatusOpen, console.StatusReopened}

// Scan applies the enabled rules once, to every open ticket whose next
// deadline is close enough for some rule to fire. It walks the ticket
// queue by deadline and stops at the first ticket past the horizon, so a
// scan reads only tickets in warning or breach.
func (s *Scheduler) Scan(ctx context.Context) (Result, error) {
	var res Result
	all, err := s.store.FindEscalationRules(ctx)
	if err != nil {
		return res, fmt.Errorf("escalation: rules: %w", err)
	}
	rules := slices.DeleteFunc(all, func(r *console.EscalationRule) bool { return !r.Enabled })
	if len(rules) == 0 {
		return res, nil
	}
	ps, err := s.store.FindSLAPolicies(ctx)
	if err != nil {
		return res, fmt.Errorf("escalation: SLA policies: %w", err)
	}
	policies := make(map[int64]policy, len(ps))
	for _, p := range ps {
		policies[p.ID] = policy{p: p, cal: sla.For(p)}
	}
	now := s.now()
	horizon := horizonOf(rules, policies, now)

	f := console.TicketFilter{Statuses: activeStatuses, Sort: console.SortDue, Now: now, Limit: console.MaxPageSize}
	for {
		page, err := s.store.FindTickets(ctx, f)
		if err != nil {
			return res, fmt.Errorf("escalation: tickets: %w", err)
		}
		ts := page.Tickets
		for i, t := range ts {
			if due := t.NextDue(); due.IsZero() || due.After(horizon) {
				ts = ts[:i]
				page.Next = ""
				break
			}
		}
		if err := s.scanPage(ctx, ts, rules, policies, now, &res); err != nil {
			return res, err
		}
		if page.Next == "" {
			return res, nil
		}
		f.Cursor = page.Next
	}
}

// horizonOf returns the latest deadline at which some rule can fire at now:
// a deadline after it is too far for every rule.
func horizonOf(rules []*console.EscalationRule, policies map[int64]policy, now time.Time) time.Time {
	cals := []*sla.Calendar{sla.UTC} // tickets without a policy
	for _, p := range policies {
		cals = append(cals, p.cal)
	}
	horizon := now
	for _, r := range rules {
		switch r.Trigger {
		case console.TriggerRemaining:
			for _, cal := range cals {
				horizon = later(horizon, cal.Add(now, time.Duration(r.Minutes)*time.Minute))
			}
		case console.TriggerElapsed:
			for _, p := range policies {
				for prio, target := range p.p.Targets {
					if matchesPriority(r, prio) {
						horizon = later(horizon, p.cal.Add(now, left(r, target)))
					}
				}
			}
		}
	}
	return horizon
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// left returns how much of target may remain when r's elapsed trigger fires.
func left(r *console.EscalationRule, target console.SLATarget) time.Duration {
	d := target.Resolution
	if r.Deadline == console.DeadlineFirstResponse {
		d = target.FirstResponse
	}
	return d * time.Duration(100-r.Percent) / 100
}

func matchesPriority(r *console.EscalationRule, p console.Priority) bool {
	return len(r.Priorities) == 0 || slices.Contains(r.Priorities, p)
}

// scanPage applies the rules to the tickets of one page.
func (s *Scheduler) scanPage(ctx context.Context, ts []*console.Ticket, rules []*console.EscalationRule,
	policies map[int64]policy, now time.Time, res *Result) error {
	if len(ts) == 0 {
		return nil
	}
	ids := make([]int64, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	firings, err := s.store.FindEscalationFirings(ctx, ids)
	if err != nil {
		return fmt.Errorf("escalation: firings: %w", err)
	}
	type key struct{ ticket, rule int64 }
	fired := make(map[key]bool, len(firings))
	for _, f := range firings {
		fired[key{f.TicketID, f.RuleID}] = true
	}
	for _, t := range ts {
		res.Scanned++
		pol, ok := policies[t.SLAPolicyID]
		if !ok {
			pol = policy{cal: sla.UTC}
		}
		for _, r := range rules {
			if fired[key{t.ID, r.ID}] || !matches(r, t) {
				continue
			}
			due, ok := triggered(r, t, pol, now)
			if !ok {
				continue
			}
			next, err := s.fire(ctx, r, t, due, now)
			if err != nil {
				return err
			}
			if next != nil {
				*t = *next // later rules see the new level and team
				res.Fired++
			}
		}
	}
	return nil
}

// matches reports whether r's match fields select t.
func matches(r *console.EscalationRule, t *console.Ticket) bool {
	return matchesPriority(r, t.Priority) && (r.Category == "" || r.Category == t.Category) &&
		(r.TeamID == 0 || r.TeamID == t.TeamID) && (r.Level == 0 || r.Level == t.Level)
}

// triggered returns r's deadline on t and whether r fires at now.
func triggered(r *console.EscalationRule, t *console.Ticket, pol policy, now time.Time) (time.Time, bool) {
	var due time.Time
	switch r.Deadline {
	case console.DeadlineFirstResponse:
		if t.FirstRespondedAt.IsZero() {
			due = t.FirstResponseDue
		}
	case console.DeadlineResolution:
		if t.ResolvedAt.IsZero() {
			due = t.ResolutionDue
		}
	}
	if due.IsZero() || !t.PausedAt.IsZero() || t.Status.Done() {
		return due, false
	}
	remaining := pol.cal.Between(now, due)
	switch r.Trigger {
	case console.TriggerBreached:
		return due, now.After(due)
	case console.TriggerRemaining:
		return due, remaining <= time.Duration(r.Minutes)*time.Minute
	case console.TriggerElapsed:
		if pol.p == nil {
			return due, false // no target to take a share of
		}
		target, ok := pol.p.Targets[t.Priority]
		return due, ok && remaining <= left(r, target)
	}
	return due, false
}

// fire applies r to t and publishes the event. It returns the updated
// ticket, or nil if another scheduler fired the rule first or the ticket
// changed meanwhile (the next scan looks again).
func (s *Scheduler) fire(ctx context.Context, r *console.EscalationRule, t *console.Ticket, due, now time.Time) (*console.Ticket, error) {
	kind, typ := console.EventSLAWarning, webhook.TicketSLAWarning
	switch {
	case r.HasAction():
		kind, typ = console.EventEscalated, webhook.TicketEscalated
	case now.After(due):
		kind, typ = console.EventSLABreached, webhook.TicketSLABreached
	}
	f := &console.EscalationFiring{RuleID: r.ID, TicketID: t.ID, Kind: kind, Level: r.SetLevel, TeamID: r.SetTeamID,
		Unassign: r.Unassign, IfVersion: t.Version}
	before, upd := *t, f.Update(t)
	changes := upd.Apply(&before) // what the store changes at t.Version
	next, err := s.store.ApplyEscalation(ctx, f)
	switch {
	case errors.Is(err, console.ErrConflict), errors.Is(err, console.ErrNotFound):
		s.log.Debug("escalation skipped", "ticket", t.ID, "rule", r.ID, "err", err)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("escalation: apply rule %d to ticket %d: %w", r.ID, t.ID, err)
	}
	s.log.Info("escalation fired", "ticket", t.ID, "rule", r.ID, "kind", kind)
	if s.pub != nil {
		data := EventData{TicketID: next.ID, Title: next.Title, Priority: next.Priority.String(), Status: next.Status,
			Level: next.Level.String(), TeamID: next.TeamID, AssigneeID: next.AssigneeID, RuleID: r.ID, RuleName: r.Name,
			Deadline: r.Deadline, Due: due.UTC()}
		for _, c := range changes {
			data.Changes = append(data.Changes, change(c))
		}
		if err := s.pub.Publish(ctx, webhook.Event{Type: typ, At: f.At, Data: data}); err != nil {
			s.log.Error("escalation event not published", "ticket", t.ID, "rule", r.ID, "err", err)
		}
	}
	return next, nil
}
