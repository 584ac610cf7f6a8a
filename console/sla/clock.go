package sla

import (
	"time"

	"github.com/reachdesk/reach/console"
)

// For returns the compiled calendar of policy p, UTC when p is nil.
func For(p *console.SLAPolicy) *Calendar {
	if p == nil {
		return UTC
	}
	return compile(p.Calendar)
}

// Start sets the SLA fields of a new ticket t under policy p (nil: no SLA):
// SLAPolicyID, and FirstResponseDue and ResolutionDue counted in business
// time from t.CreatedAt, which the caller sets to its clock's now. A policy
// without a target for t's priority sets no deadlines. A ticket created
// pending starts paused; one created resolved or closed (solved during the
// call) is resolved and responded to at creation.
func Start(p *console.SLAPolicy, t *console.Ticket) {
	t.FirstResponseDue, t.ResolutionDue = time.Time{}, time.Time{}
	if p != nil {
		t.SLAPolicyID = p.ID
		if target, ok := p.Targets[t.Priority]; ok && !t.CreatedAt.IsZero() {
			cal := For(p)
			t.FirstResponseDue = cal.Add(t.CreatedAt, target.FirstResponse+t.PausedFor)
			t.ResolutionDue = cal.Add(t.CreatedAt, target.Resolution+t.PausedFor)
		}
	}
	switch {
	case t.Status == console.StatusPending && t.PausedAt.IsZero():
		t.PausedAt = t.CreatedAt
	case t.Status.Done():
		if t.ResolvedAt.IsZero() {
			t.ResolvedAt = t.CreatedAt
		}
		if t.FirstRespondedAt.IsZero() {
			t.FirstRespondedAt = t.ResolvedAt
		}
	}
}

// Plan adds to upd the SLA fields implied by applying upd to ticket t at
// now, under policy p (the ticket's policy after the update; nil: none):
//
//   - status becomes pending: the clock pauses (PausedAt = now);
//   - status leaves pending: the business time paused since PausedAt is
//     added to PausedFor and the running deadlines move by it;
//   - status becomes resolved or closed: ResolvedAt = now, and
//     FirstRespondedAt = now if nobody had responded (the resolution
//     reaches the requester); a pause in progress ends as above;
//   - a resolved or closed ticket reopens (any other status): ResolvedAt is
//     cleared and the business time it spent resolved counts as paused, so
//     the resolution deadline moves by it;
//   - the priority or the policy changes: the running deadlines are
//     recomputed from the new targets, counted from CreatedAt plus
//     PausedFor; a policy without a target for the priority, or SLAPolicyID
//     set to zero, clears them.
//
// Fields the caller already set in upd are left as they are. Paused time
// is business time of p's calendar (wall time without a policy).
func Plan(p *console.SLAPolicy, t *console.Ticket, upd *console.TicketUpdate, now time.Time) {
	cal := For(p)
	oldStatus, newStatus := t.Status, t.Status
	if upd.Status != nil {
		newStatus = *upd.Status
	}
	pausedFor := t.PausedFor
	var shift time.Duration
	if !t.PausedAt.IsZero() && newStatus != console.StatusPending {
		b := max(cal.Between(t.PausedAt, now), 0)
		shift += b
		pausedFor += b
		setTime(&upd.PausedAt, time.Time{})
	}
	if oldStatus.Done() && !newStatus.Done() {
		if !t.ResolvedAt.IsZero() {
			b := max(cal.Between(t.ResolvedAt, now), 0)
			shift += b
			pausedFor += b
		}
		setTime(&upd.ResolvedAt, time.Time{})
	}
	if newStatus.Done() && !oldStatus.Done() {
		setTime(&upd.ResolvedAt, now)
		if t.FirstRespondedAt.IsZero() {
			setTime(&upd.FirstRespondedAt, now)
		}
	}
	if newStatus == console.StatusPending && (oldStatus != console.StatusPending || t.PausedAt.IsZero()) {
		setTime(&upd.PausedAt, now)
	}
	if pausedFor != t.PausedFor && upd.PausedFor == nil {
		upd.PausedFor = &pausedFor
	}

	respondedBefore := !t.FirstRespondedAt.IsZero()
	resolvedBefore := !t.ResolvedAt.IsZero() && oldStatus.Done()
	priority := t.Priority
	if upd.Priority != nil {
		priority = *upd.Priority
	}
	policyChanged := upd.SLAPolicyID != nil && *upd.SLAPolicyID != t.SLAPolicyID
	switch {
	case upd.SLAPolicyID != nil && *upd.SLAPolicyID == 0, policyChanged && p == nil:
		setTime(&upd.FirstResponseDue, time.Time{})
		setTime(&upd.ResolutionDue, time.Time{})
	case p != nil && (policyChanged || priority != t.Priority):
		target, ok := p.Targets[priority]
		if !ok {
			setTime(&upd.FirstResponseDue, time.Time{})
			setTime(&upd.ResolutionDue, time.Time{})
			break
		}
		if !respondedBefore {
			setTime(&upd.FirstResponseDue, cal.Add(t.CreatedAt, target.FirstResponse+pausedFor))
		}
		if !resolvedBefore || !newStatus.Done() {
			setTime(&upd.ResolutionDue, cal.Add(t.CreatedAt, target.Resolution+pausedFor))
		}
	case shift > 0:
		if !respondedBefore && !t.FirstResponseDue.IsZero() {
			setTime(&upd.FirstResponseDue, cal.Add(t.FirstResponseDue, shift))
		}
		if !t.ResolutionDue.IsZero() {
			setTime(&upd.ResolutionDue, cal.Add(t.ResolutionDue, shift))
		}
	}
}

// setTime sets *dst to v unless the caller already set it.
func setTime(dst **time.Time, v time.Time) {
	if *dst == nil {
		*dst = &v
	}
}

// Responded returns the update that records the first public reply by a
// console user to ticket t at now, or nil if t was already responded to.
func Responded(t *console.Ticket, now time.Time) *console.TicketUpdate {
	if !t.FirstRespondedAt.IsZero() {
		return nil
	}
	return &console.TicketUpdate{FirstRespondedAt: &now}
}

// Remaining returns the business time left until due at now under cal,
// negative once due has passed, and zero for a zero due.
func (c *Calendar) Remaining(now, due time.Time) time.Duration {
	if due.IsZero() {
		return 0
	}
	return c.Between(now, due)
}
