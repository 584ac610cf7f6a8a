package storetest

import (
	"strconv"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

func testEscalationRules(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	t1, t2 := e.team(), e.team()
	r := &console.EscalationRule{Name: "P1/P2 to L2", Enabled: true, Priorities: []console.Priority{console.P2, console.P1, console.P2},
		Category: "network", TeamID: t1.ID, Level: console.L1, Deadline: console.DeadlineResolution,
		Trigger: console.TriggerElapsed, Percent: 80, SetLevel: console.L2, SetTeamID: t2.ID, Unassign: true}
	e.must(s.CreateEscalationRule(ctx, r))
	if r.ID == 0 || !r.CreatedAt.Equal(epoch) {
		t.Fatalf("CreateEscalationRule set ID %d, created %v", r.ID, r.CreatedAt)
	}
	equal(t, "priorities sorted and unique", r.Priorities, []console.Priority{console.P1, console.P2})
	got, err := s.FindEscalationRuleByID(ctx, r.ID)
	e.must(err)
	equal(t, "FindEscalationRuleByID", *got, *r)

	notify := &console.EscalationRule{Name: "Breach notice", Deadline: console.DeadlineFirstResponse, Trigger: console.TriggerBreached}
	e.must(s.CreateEscalationRule(ctx, notify))
	all, err := s.FindEscalationRules(ctx)
	e.must(err)
	equal(t, "FindEscalationRules", deref(all), []console.EscalationRule{*r, *notify})

	for _, tc := range []struct {
		name string
		mod  func(*console.EscalationRule)
		code console.Code
	}{
		{"duplicate name", func(r *console.EscalationRule) { r.Name = "breach NOTICE" }, console.CodeConflict},
		{"no name", func(r *console.EscalationRule) { r.Name = " " }, console.CodeInvalid},
		{"unknown deadline", func(r *console.EscalationRule) { r.Deadline = "lunch" }, console.CodeInvalid},
		{"unknown trigger", func(r *console.EscalationRule) { r.Trigger = "soon" }, console.CodeInvalid},
		{"remaining without minutes", func(r *console.EscalationRule) { r.Trigger = console.TriggerRemaining }, console.CodeInvalid},
		{"remaining too long", func(r *console.EscalationRule) {
			r.Trigger, r.Minutes = console.TriggerRemaining, console.MaxEscalationMinutes+1
		}, console.CodeInvalid},
		{"elapsed over 100%", func(r *console.EscalationRule) { r.Trigger, r.Percent = console.TriggerElapsed, 101 }, console.CodeInvalid},
		{"breach with minutes", func(r *console.EscalationRule) { r.Minutes = 5 }, console.CodeInvalid},
		{"lower to L1", func(r *console.EscalationRule) { r.SetLevel = console.L1 }, console.CodeInvalid},
		{"priority P5", func(r *console.EscalationRule) { r.Priorities = []console.Priority{5} }, console.CodeInvalid},
		{"unknown team", func(r *console.EscalationRule) { r.TeamID = 9999 }, console.CodeInvalid},
		{"unknown target team", func(r *console.EscalationRule) { r.SetTeamID = 9999 }, console.CodeInvalid},
	} {
		bad := console.EscalationRule{Name: "x", Deadline: console.DeadlineResolution, Trigger: console.TriggerBreached}
		tc.mod(&bad)
		wantCode(t, "CreateEscalationRule "+tc.name, s.CreateEscalationRule(ctx, &bad), tc.code)
	}

	e.clock.Advance(time.Minute)
	r.Enabled, r.Percent, r.Priorities = false, 90, nil
	e.must(s.UpdateEscalationRule(ctx, r))
	got, err = s.FindEscalationRuleByID(ctx, r.ID)
	e.must(err)
	equal(t, "updated rule", *got, *r)
	equal(t, "UpdatedAt", got.UpdatedAt, epoch.Add(time.Minute))
	wantCode(t, "update missing", s.UpdateEscalationRule(ctx, &console.EscalationRule{ID: 9999, Name: "y",
		Deadline: console.DeadlineResolution, Trigger: console.TriggerBreached}), console.CodeNotFound)

	// Deleting the target team drops the move; deleting the matched team
	// deletes the rule.
	e.must(s.DeleteTeam(ctx, t2.ID))
	got, err = s.FindEscalationRuleByID(ctx, r.ID)
	e.must(err)
	equal(t, "target team cleared", got.SetTeamID, int64(0))
	e.must(s.DeleteTeam(ctx, t1.ID))
	_, err = s.FindEscalationRuleByID(ctx, r.ID)
	wantCode(t, "rule of a deleted team", err, console.CodeNotFound)

	e.must(s.DeleteEscalationRule(ctx, notify.ID))
	wantCode(t, "delete twice", s.DeleteEscalationRule(ctx, notify.ID), console.CodeNotFound)
}

func testApplyEscalation(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	tech := e.tech()
	l1, l2 := e.team(), e.team()
	rule := func(name string) *console.EscalationRule {
		r := &console.EscalationRule{Name: name, Enabled: true, Deadline: console.DeadlineResolution, Trigger: console.TriggerBreached}
		e.must(s.CreateEscalationRule(ctx, r))
		return r
	}
	raise, notify, l3 := rule("raise"), rule("notify"), rule("to L3")
	tk := e.ticket(func(t *console.Ticket) { t.AssigneeID, t.TeamID = tech.ID, l1.ID })

	e.clock.Advance(time.Hour)
	f := &console.EscalationFiring{RuleID: raise.ID, TicketID: tk.ID, Kind: console.EventEscalated, Level: console.L2, TeamID: l2.ID,
		Unassign: true, IfVersion: tk.Version}
	got, err := s.ApplyEscalation(ctx, f)
	e.must(err)
	equal(t, "escalated ticket", []any{got.Level, got.TeamID, got.AssigneeID, got.Version, got.UpdatedAt},
		[]any{console.L2, l2.ID, int64(0), int64(2), epoch.Add(time.Hour)})
	stored, err := s.FindTicketByID(ctx, tk.ID)
	e.must(err)
	equal(t, "stored ticket", *stored, *got)
	evs, err := s.FindTicketEvents(ctx, tk.ID)
	e.must(err)
	last := evs[len(evs)-1]
	equal(t, "escalated event", []any{last.Kind, last.ActorID, last.RefID, last.At}, []any{console.EventEscalated, int64(0), raise.ID, epoch.Add(time.Hour)})
	equal(t, "escalated changes", last.Changes, []console.FieldChange{{Field: "assignee", Old: formatID(tech.ID)},
		{Field: "team", Old: formatID(l1.ID), New: formatID(l2.ID)}, {Field: "level", Old: "L1", New: "L2"}})

	_, err = s.ApplyEscalation(ctx, &console.EscalationFiring{RuleID: raise.ID, TicketID: tk.ID, Kind: console.EventEscalated, Level: console.L3})
	wantCode(t, "a rule fires once per ticket", err, console.CodeConflict)
	_, err = s.ApplyEscalation(ctx, &console.EscalationFiring{RuleID: l3.ID, TicketID: tk.ID, Kind: console.EventEscalated, Level: console.L3,
		IfVersion: 1})
	wantCode(t, "stale version", err, console.CodeConflict)
	stored, err = s.FindTicketByID(ctx, tk.ID)
	e.must(err)
	equal(t, "conflicts change nothing", []any{stored.Level, stored.Version}, []any{console.L2, int64(2)})

	// The stale attempt recorded nothing: the rule can still fire.
	got, err = s.ApplyEscalation(ctx, &console.EscalationFiring{RuleID: l3.ID, TicketID: tk.ID, Kind: console.EventEscalated,
		Level: console.L3, IfVersion: 2})
	e.must(err)
	equal(t, "level L3", got.Level, console.L3)

	// A notify-only firing writes its event and keeps the version; a rule
	// never lowers the level.
	got, err = s.ApplyEscalation(ctx, &console.EscalationFiring{RuleID: notify.ID, TicketID: tk.ID, Kind: console.EventSLABreached,
		Level: console.L2})
	e.must(err)
	equal(t, "notify keeps level and version", []any{got.Level, got.Version}, []any{console.L3, int64(3)})
	evs, err = s.FindTicketEvents(ctx, tk.ID)
	e.must(err)
	last = evs[len(evs)-1]
	equal(t, "breach event", []any{last.Kind, last.RefID, len(last.Changes)}, []any{console.EventSLABreached, notify.ID, 0})

	other := e.ticket(nil)
	fs, err := s.FindEscalationFirings(ctx, []int64{tk.ID, other.ID, 9999})
	e.must(err)
	equal(t, "firings", deref(fs), []console.EscalationFiring{
		{RuleID: raise.ID, TicketID: tk.ID, Kind: console.EventEscalated, At: epoch.Add(time.Hour)},
		{RuleID: notify.ID, TicketID: tk.ID, Kind: console.EventSLABreached, At: epoch.Add(time.Hour)},
		{RuleID: l3.ID, TicketID: tk.ID, Kind: console.EventEscalated, At: epoch.Add(time.Hour)},
	})
	_, err = s.FindEscalationFirings(ctx, make([]int64, console.MaxPageSize+1))
	wantCode(t, "too many tickets", err, console.CodeInvalid)

	_, err = s.ApplyEscalation(ctx, &console.EscalationFiring{RuleID: raise.ID, TicketID: 9999, Kind: console.EventEscalated})
	wantCode(t, "unknown ticket", err, console.CodeNotFound)
	_, err = s.ApplyEscalation(ctx, &console.EscalationFiring{RuleID: raise.ID, TicketID: other.ID, Kind: "nudged"})
	wantCode(t, "unknown kind", err, console.CodeInvalid)

	e.must(s.DeleteEscalationRule(ctx, raise.ID))
	fs, err = s.FindEscalationFirings(ctx, []int64{tk.ID})
	e.must(err)
	equal(t, "firings of a deleted rule go with it", len(fs), 2)
}

// formatID renders an ID as ticket history does.
func formatID(id int64) string { return strconv.FormatInt(id, 10) }
