package sla

import (
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

var officePolicy = &console.SLAPolicy{ID: 7, Name: "Office", Calendar: office, Targets: map[console.Priority]console.SLATarget{
	console.P1: {FirstResponse: 30 * time.Minute, Resolution: 4 * time.Hour},
	console.P2: {FirstResponse: time.Hour, Resolution: 8 * time.Hour},
	console.P3: {FirstResponse: 4 * time.Hour, Resolution: 16 * time.Hour},
}}

func ptr[T any](v T) *T { return &v }

// step applies upd planned at now to t, as the API and the store do.
func step(t *testing.T, tk *console.Ticket, p *console.SLAPolicy, now time.Time, upd console.TicketUpdate) {
	t.Helper()
	Plan(p, tk, &upd, now)
	upd.Apply(tk)
}

func wantTimes(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got.In(berlin), want.In(berlin))
	}
}

// TestTicketLifecycle follows one ticket of the office calendar (09–12,
// 13–17 on weekdays) through response, pending, priority change,
// resolution and reopening; docs/sla.md tells the same story.
func TestTicketLifecycle(t *testing.T) {
	mon := func(day, h, m int) time.Time { return at(berlin, 2026, 3, 2+day, h, m) } // day 0 is Monday 2 March
	tk := &console.Ticket{Title: "VPN down", Priority: console.P2, Status: console.StatusNew, Level: console.L1, CreatedAt: mon(0, 10, 0)}
	Start(officePolicy, tk)
	if tk.SLAPolicyID != 7 {
		t.Errorf("SLAPolicyID = %d", tk.SLAPolicyID)
	}
	wantTimes(t, "first response due", tk.FirstResponseDue, mon(0, 11, 0))
	// 8h from Monday 10:00: 2h before lunch, 4h after, 2h on Tuesday.
	wantTimes(t, "resolution due", tk.ResolutionDue, mon(1, 11, 0))

	if upd := Responded(tk, mon(0, 10, 30)); upd == nil {
		t.Fatal("Responded = nil before any response")
	} else {
		upd.Apply(tk)
	}
	if Responded(tk, mon(0, 10, 40)) != nil {
		t.Error("Responded twice")
	}
	wantTimes(t, "responded", tk.FirstRespondedAt, mon(0, 10, 30))

	step(t, tk, officePolicy, mon(0, 14, 0), console.TicketUpdate{Status: ptr(console.StatusPending)})
	wantTimes(t, "paused at", tk.PausedAt, mon(0, 14, 0))
	if tk.NextDue() != (time.Time{}) || tk.SLAState(mon(0, 15, 0), time.Hour) != console.SLAPaused {
		t.Errorf("pending ticket is not paused: next due %v", tk.NextDue())
	}
	// A change while pending keeps the clock stopped.
	step(t, tk, officePolicy, mon(0, 16, 0), console.TicketUpdate{Title: ptr("VPN down on floor 3")})
	wantTimes(t, "still paused at", tk.PausedAt, mon(0, 14, 0))

	// Resumed Tuesday 10:00: paused 14–17 Monday and 9–10 Tuesday, 4h.
	step(t, tk, officePolicy, mon(1, 10, 0), console.TicketUpdate{Status: ptr(console.StatusOpen)})
	if tk.PausedFor != 4*time.Hour || !tk.PausedAt.IsZero() {
		t.Errorf("after resume: paused for %v, paused at %v", tk.PausedFor, tk.PausedAt)
	}
	wantTimes(t, "resolution due after resume", tk.ResolutionDue, mon(1, 16, 0))
	wantTimes(t, "first response due unchanged once responded", tk.FirstResponseDue, mon(0, 11, 0))

	// P3 (16h): from creation plus 4h paused, 20h: Monday 6, Tuesday 7, Wednesday 7.
	step(t, tk, officePolicy, mon(1, 11, 0), console.TicketUpdate{Priority: ptr(console.P3)})
	wantTimes(t, "resolution due after priority change", tk.ResolutionDue, mon(2, 17, 0))

	step(t, tk, officePolicy, mon(2, 12, 30), console.TicketUpdate{Status: ptr(console.StatusResolved)})
	wantTimes(t, "resolved at", tk.ResolvedAt, mon(2, 12, 30))
	wantTimes(t, "resolution due unchanged by resolving", tk.ResolutionDue, mon(2, 17, 0))

	// Reopened Thursday 10:00: resolved for Wednesday 13–17 and Thursday
	// 9–10, 5h, which count as paused.
	step(t, tk, officePolicy, mon(3, 10, 0), console.TicketUpdate{Status: ptr(console.StatusReopened)})
	if !tk.ResolvedAt.IsZero() || tk.ReopenCount != 1 || tk.PausedFor != 9*time.Hour {
		t.Errorf("after reopen: resolved at %v, reopens %d, paused for %v", tk.ResolvedAt, tk.ReopenCount, tk.PausedFor)
	}
	wantTimes(t, "resolution due after reopen", tk.ResolutionDue, mon(3, 15, 0))
	// The same deadline follows from creation: 16h + 9h paused.
	wantTimes(t, "consistent with creation", Add(office, tk.CreatedAt, 16*time.Hour+tk.PausedFor), tk.ResolutionDue)

	// Pending, then resolved from pending: the pause ends at resolution.
	step(t, tk, officePolicy, mon(3, 11, 0), console.TicketUpdate{Status: ptr(console.StatusPending)})
	step(t, tk, officePolicy, mon(3, 14, 0), console.TicketUpdate{Status: ptr(console.StatusResolved)})
	if tk.PausedFor != 11*time.Hour || !tk.PausedAt.IsZero() {
		t.Errorf("resolved from pending: paused for %v, paused at %v", tk.PausedFor, tk.PausedAt)
	}
	wantTimes(t, "resolution due moved by the last pause", tk.ResolutionDue, mon(3, 17, 0))
	wantTimes(t, "resolved from pending at", tk.ResolvedAt, mon(3, 14, 0))
	// Closing a resolved ticket changes nothing.
	before := *tk
	step(t, tk, officePolicy, mon(4, 9, 0), console.TicketUpdate{Status: ptr(console.StatusClosed)})
	if !tk.ResolvedAt.Equal(before.ResolvedAt) || tk.PausedFor != before.PausedFor || !tk.ResolutionDue.Equal(before.ResolutionDue) {
		t.Errorf("closing a resolved ticket changed its clock: %+v", tk)
	}
}

func TestPlan(t *testing.T) {
	created := at(berlin, 2026, 3, 2, 10, 0)
	newTicket := func(p *console.SLAPolicy, mod func(*console.Ticket)) *console.Ticket {
		tk := &console.Ticket{Priority: console.P2, Status: console.StatusOpen, Level: console.L1, CreatedAt: created}
		if mod != nil {
			mod(tk)
		}
		Start(p, tk)
		return tk
	}
	t.Run("without a policy pauses in wall time", func(t *testing.T) {
		tk := newTicket(nil, nil)
		if !tk.FirstResponseDue.IsZero() || !tk.ResolutionDue.IsZero() || tk.SLAPolicyID != 0 {
			t.Fatalf("deadlines without a policy: %+v", tk)
		}
		step(t, tk, nil, created.Add(time.Hour), console.TicketUpdate{Status: ptr(console.StatusPending)})
		step(t, tk, nil, created.Add(40*time.Hour), console.TicketUpdate{Status: ptr(console.StatusOpen)})
		if tk.PausedFor != 39*time.Hour {
			t.Errorf("paused for %v, want 39h", tk.PausedFor)
		}
	})
	t.Run("resolving first responds", func(t *testing.T) {
		tk := newTicket(officePolicy, nil)
		step(t, tk, officePolicy, created.Add(20*time.Minute), console.TicketUpdate{Status: ptr(console.StatusResolved)})
		wantTimes(t, "first responded", tk.FirstRespondedAt, created.Add(20*time.Minute))
		wantTimes(t, "resolved", tk.ResolvedAt, created.Add(20*time.Minute))
	})
	t.Run("priority change before a response moves both deadlines", func(t *testing.T) {
		tk := newTicket(officePolicy, nil)
		step(t, tk, officePolicy, created.Add(10*time.Minute), console.TicketUpdate{Priority: ptr(console.P1)})
		wantTimes(t, "first response", tk.FirstResponseDue, created.Add(30*time.Minute))
		wantTimes(t, "resolution", tk.ResolutionDue, at(berlin, 2026, 3, 2, 15, 0))
	})
	t.Run("a priority without a target clears the deadlines", func(t *testing.T) {
		tk := newTicket(officePolicy, nil)
		step(t, tk, officePolicy, created.Add(time.Minute), console.TicketUpdate{Priority: ptr(console.P4)})
		if !tk.FirstResponseDue.IsZero() || !tk.ResolutionDue.IsZero() {
			t.Errorf("deadlines for P4: %v, %v", tk.FirstResponseDue, tk.ResolutionDue)
		}
	})
	t.Run("removing the policy clears the deadlines", func(t *testing.T) {
		tk := newTicket(officePolicy, nil)
		step(t, tk, nil, created.Add(time.Minute), console.TicketUpdate{SLAPolicyID: ptr(int64(0))})
		if !tk.FirstResponseDue.IsZero() || !tk.ResolutionDue.IsZero() || tk.SLAPolicyID != 0 {
			t.Errorf("after removing the policy: %+v", tk)
		}
	})
	t.Run("a new policy recomputes from creation", func(t *testing.T) {
		tk := newTicket(nil, nil)
		vip := &console.SLAPolicy{ID: 9, Name: "VIP", Targets: map[console.Priority]console.SLATarget{console.P2: {FirstResponse: 15 * time.Minute, Resolution: 2 * time.Hour}}}
		step(t, tk, vip, created.Add(5*time.Minute), console.TicketUpdate{SLAPolicyID: ptr(int64(9))})
		wantTimes(t, "first response", tk.FirstResponseDue, created.Add(15*time.Minute))
		wantTimes(t, "resolution", tk.ResolutionDue, created.Add(2*time.Hour))
	})
	t.Run("fields set by the caller win", func(t *testing.T) {
		tk := newTicket(officePolicy, nil)
		mine := created.Add(-time.Hour)
		upd := console.TicketUpdate{Status: ptr(console.StatusResolved), ResolvedAt: &mine}
		Plan(officePolicy, tk, &upd, created.Add(time.Hour))
		wantTimes(t, "caller's resolved at", *upd.ResolvedAt, mine)
	})
	t.Run("pause before the first response moves its deadline", func(t *testing.T) {
		tk := newTicket(officePolicy, nil)
		step(t, tk, officePolicy, created.Add(30*time.Minute), console.TicketUpdate{Status: ptr(console.StatusPending)})
		// Paused 10:30–12:00 and 13:00–13:30 (lunch is not business time):
		// the 30 minutes left at 10:30 run from 13:30.
		step(t, tk, officePolicy, at(berlin, 2026, 3, 2, 13, 30), console.TicketUpdate{Status: ptr(console.StatusOpen)})
		wantTimes(t, "first response", tk.FirstResponseDue, at(berlin, 2026, 3, 2, 14, 0))
	})
	t.Run("created pending starts paused", func(t *testing.T) {
		tk := newTicket(officePolicy, func(tk *console.Ticket) { tk.Status = console.StatusPending })
		wantTimes(t, "paused at", tk.PausedAt, created)
	})
	t.Run("created resolved", func(t *testing.T) {
		tk := newTicket(officePolicy, func(tk *console.Ticket) { tk.Status = console.StatusResolved })
		wantTimes(t, "resolved at", tk.ResolvedAt, created)
		wantTimes(t, "responded at", tk.FirstRespondedAt, created)
	})
	t.Run("reopened into pending", func(t *testing.T) {
		tk := newTicket(officePolicy, nil)
		step(t, tk, officePolicy, created.Add(time.Hour), console.TicketUpdate{Status: ptr(console.StatusResolved)})
		step(t, tk, officePolicy, created.Add(90*time.Minute), console.TicketUpdate{Status: ptr(console.StatusPending)})
		if !tk.ResolvedAt.IsZero() || tk.PausedFor != 30*time.Minute {
			t.Errorf("reopened into pending: resolved %v, paused for %v", tk.ResolvedAt, tk.PausedFor)
		}
		wantTimes(t, "paused at", tk.PausedAt, created.Add(90*time.Minute))
	})
}
