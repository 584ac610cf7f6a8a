package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

func testSessions(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	tech := e.tech()
	tk := e.ticket(nil)
	d := e.device(e.group(), "pc")

	att := &console.Session{Kind: console.SessionAttended, TicketID: tk.ID, TechnicianID: tech.ID, CodeHash: hash("123456789"),
		Consent: console.ConsentPending}
	e.must(s.CreateSession(ctx, att))
	got, err := s.FindSessionByID(ctx, att.ID)
	e.must(err)
	equal(t, "FindSessionByID", *got, *att)
	un := &console.Session{Kind: console.SessionUnattended, DeviceID: d.ID, TechnicianID: tech.ID,
		Consent: console.ConsentNotRequired, Permissions: console.PermView | console.PermControl, StartedAt: epoch}
	e.must(s.CreateSession(ctx, un))

	for _, tc := range []struct {
		name string
		s    console.Session
	}{
		{"unknown kind", console.Session{Kind: "magic", TechnicianID: tech.ID, Consent: console.ConsentPending}},
		{"unattended without device", console.Session{Kind: console.SessionUnattended, TechnicianID: tech.ID, Consent: console.ConsentPending}},
		{"no technician", console.Session{Kind: console.SessionAttended, Consent: console.ConsentPending}},
		{"unknown consent", console.Session{Kind: console.SessionAttended, TechnicianID: tech.ID, Consent: "maybe"}},
		{"unknown ticket", console.Session{Kind: console.SessionAttended, TicketID: 9999, TechnicianID: tech.ID, Consent: console.ConsentPending}},
	} {
		wantCode(t, "CreateSession "+tc.name, s.CreateSession(ctx, &tc.s), console.CodeInvalid)
	}

	e.clock.Advance(time.Minute)
	start := e.clock.Now()
	upd, err := s.UpdateSession(ctx, att.ID, console.SessionUpdate{Consent: ptr(console.ConsentControl),
		Permissions: ptr(console.PermView | console.PermControl | console.PermClipboard), StartedAt: &start})
	e.must(err)
	end := start.Add(12*time.Minute + 30*time.Second)
	upd, err = s.UpdateSession(ctx, att.ID, console.SessionUpdate{EndedAt: &end, EndReason: ptr("technician_ended"),
		RecordingKey: ptr("recordings/1.webm")})
	e.must(err)
	equal(t, "duration", upd.Duration(), 12*time.Minute+30*time.Second)
	got, err = s.FindSessionByID(ctx, att.ID)
	e.must(err)
	equal(t, "updated session", *got, *upd)
	_, err = s.UpdateSession(ctx, att.ID, console.SessionUpdate{EndedAt: ptr(start.Add(-time.Hour))})
	wantCode(t, "end before start", err, console.CodeInvalid)
	_, err = s.UpdateSession(ctx, 9999, console.SessionUpdate{EndReason: ptr("x")})
	wantCode(t, "update missing", err, console.CodeNotFound)
	_, err = s.FindSessionByID(ctx, 9999)
	wantCode(t, "find missing", err, console.CodeNotFound)

	for _, tc := range []struct {
		name string
		f    console.SessionFilter
		want []int64
	}{
		{"all", console.SessionFilter{}, []int64{att.ID, un.ID}},
		{"by ticket", console.SessionFilter{TicketID: tk.ID}, []int64{att.ID}},
		{"by device", console.SessionFilter{DeviceID: d.ID}, []int64{un.ID}},
		{"by technician", console.SessionFilter{TechnicianID: tech.ID}, []int64{att.ID, un.ID}},
		{"active", console.SessionFilter{Active: true}, []int64{un.ID}},
		{"after", console.SessionFilter{AfterID: att.ID}, []int64{un.ID}},
		{"limit", console.SessionFilter{Limit: 1}, []int64{att.ID}},
	} {
		ss, err := s.FindSessions(ctx, tc.f)
		e.must(err)
		var got []int64
		for _, x := range ss {
			got = append(got, x.ID)
		}
		equal(t, "FindSessions "+tc.name, got, tc.want)
	}

	// Sessions outlive their ticket and device.
	e.must(s.DeleteTicket(ctx, tk.ID))
	e.must(s.DeleteDevice(ctx, d.ID))
	got, err = s.FindSessionByID(ctx, att.ID)
	e.must(err)
	equal(t, "session without its ticket", got.TicketID, int64(0))
	got, err = s.FindSessionByID(ctx, un.ID)
	e.must(err)
	equal(t, "session without its device", got.DeviceID, int64(0))
}

func testSessionEvents(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	tech := e.tech()
	s1 := &console.Session{Kind: console.SessionAttended, TechnicianID: tech.ID, Consent: console.ConsentPending}
	e.must(s.CreateSession(ctx, s1))
	s2 := &console.Session{Kind: console.SessionAttended, TechnicianID: tech.ID, Consent: console.ConsentPending}
	e.must(s.CreateSession(ctx, s2))

	detail := func(v any) json.RawMessage {
		b, _ := json.Marshal(v)
		return b
	}
	// Batches from several sources interleave across sessions; each
	// session's timeline keeps arrival order, including events with the same
	// time and agent-reported times that run backwards.
	batches := [][]*console.SessionEvent{
		{{SessionID: s1.ID, Source: console.SourceConsole, Type: "created"},
			{SessionID: s1.ID, Source: console.SourceRelay, Type: "code_redeemed", Detail: detail(map[string]string{"ip": "192.0.2.1"})}},
		{{SessionID: s2.ID, Source: console.SourceConsole, Type: "created"}},
		{{SessionID: s1.ID, Source: console.SourceAgent, Type: "consent", At: epoch.Add(time.Minute), Detail: detail(map[string]string{"decision": "control"})},
			{SessionID: s1.ID, Source: console.SourceTechnician, Type: "chat", At: epoch.Add(time.Minute), Detail: detail(map[string]string{"text": "Hi <b>there</b>"})},
			{SessionID: s1.ID, Source: console.SourceAgent, Type: "clipboard", At: epoch.Add(30 * time.Second)}},
	}
	for _, b := range batches {
		e.must(s.AppendSessionEvents(ctx, b))
	}
	var want []console.SessionEvent
	for _, b := range batches {
		for _, ev := range b {
			if ev.ID == 0 {
				t.Fatal("AppendSessionEvents did not set an ID")
			}
			if ev.SessionID == s1.ID {
				want = append(want, *ev)
			}
		}
	}
	if !want[0].At.Equal(epoch) {
		t.Errorf("event without time got %v, want the store's now %v", want[0].At, epoch)
	}
	got, err := s.FindSessionEvents(ctx, console.SessionEventFilter{SessionID: s1.ID})
	e.must(err)
	equal(t, "timeline", deref(got), want)
	got, err = s.FindSessionEvents(ctx, console.SessionEventFilter{SessionID: s1.ID, AfterID: want[1].ID, Limit: 2})
	e.must(err)
	equal(t, "timeline page", deref(got), want[2:4])

	// A batch is all or nothing.
	err = s.AppendSessionEvents(ctx, []*console.SessionEvent{
		{SessionID: s1.ID, Source: console.SourceAgent, Type: "ok"},
		{SessionID: 9999, Source: console.SourceAgent, Type: "orphan"},
	})
	wantCode(t, "batch with unknown session", err, console.CodeNotFound)
	for _, bad := range []console.SessionEvent{
		{SessionID: s1.ID, Source: "browser", Type: "x"},
		{SessionID: s1.ID, Source: console.SourceAgent, Type: "Bad Type"},
		{SessionID: s1.ID, Source: console.SourceAgent, Type: "x", Detail: json.RawMessage(`{"a":`)},
		{SessionID: s1.ID, Source: console.SourceAgent, Type: "x", Detail: json.RawMessage(fmt.Sprintf("%q", make([]byte, console.MaxDetailBytes)))},
	} {
		wantCode(t, fmt.Sprintf("event %+v", bad.Type), s.AppendSessionEvents(ctx, []*console.SessionEvent{&bad}), console.CodeInvalid)
	}
	got, err = s.FindSessionEvents(ctx, console.SessionEventFilter{SessionID: s1.ID})
	e.must(err)
	equal(t, "timeline after failed batches", len(got), len(want))
	many := make([]*console.SessionEvent, console.MaxEventBatch+1)
	wantCode(t, "oversized batch", s.AppendSessionEvents(ctx, many), console.CodeInvalid)
}

func testCSAT(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	sess := &console.Session{Kind: console.SessionAttended, TechnicianID: e.tech().ID, Consent: console.ConsentView}
	e.must(s.CreateSession(ctx, sess))
	a := &console.CSATAnswer{SessionID: sess.ID, Score: 4, Comment: "Quick, thanks!"}
	e.must(s.RecordCSAT(ctx, a))
	equal(t, "AnsweredAt defaults to now", a.AnsweredAt, epoch)
	got, err := s.FindCSAT(ctx, sess.ID)
	e.must(err)
	equal(t, "FindCSAT", *got, *a)
	wantCode(t, "second answer", s.RecordCSAT(ctx, &console.CSATAnswer{SessionID: sess.ID, Score: 1}), console.CodeConflict)
	wantCode(t, "score 0", s.RecordCSAT(ctx, &console.CSATAnswer{SessionID: sess.ID, Score: 0}), console.CodeInvalid)
	wantCode(t, "score 6", s.RecordCSAT(ctx, &console.CSATAnswer{SessionID: sess.ID, Score: 6}), console.CodeInvalid)
	wantCode(t, "unknown session", s.RecordCSAT(ctx, &console.CSATAnswer{SessionID: 9999, Score: 5}), console.CodeNotFound)
	_, err = s.FindCSAT(ctx, 9999)
	wantCode(t, "FindCSAT missing", err, console.CodeNotFound)
}

func testKPIs(t *testing.T, h Harness) {
	e := newEnv(t, h)
	s, ctx := e.s, e.ctx
	alice, bob := e.tech(), e.tech()
	team := e.team()
	week := console.Period{From: epoch, To: epoch.Add(7 * 24 * time.Hour)}

	// Tickets resolved before, inside and after the week.
	resolve := func(assignee *console.User, resolvedAt time.Time, reopen bool) *console.Ticket {
		t := e.ticket(func(t *console.Ticket) {
			t.AssigneeID, t.TeamID, t.Priority = assignee.ID, team.ID, console.P2
			t.FirstResponseDue, t.ResolutionDue = resolvedAt.Add(-time.Hour), resolvedAt.Add(time.Hour)
		})
		if reopen {
			_, err := s.UpdateTicket(ctx, t.ID, console.TicketUpdate{Status: ptr(console.StatusResolved)})
			e.must(err)
			_, err = s.UpdateTicket(ctx, t.ID, console.TicketUpdate{Status: ptr(console.StatusReopened)})
			e.must(err)
		}
		upd, err := s.UpdateTicket(ctx, t.ID, console.TicketUpdate{Status: ptr(console.StatusResolved), ResolvedAt: &resolvedAt,
			FirstRespondedAt: ptr(resolvedAt.Add(-2 * time.Hour)), PausedFor: ptr(15 * time.Minute)})
		e.must(err)
		return upd
	}
	resolve(alice, epoch.Add(-time.Hour), false)
	t1 := resolve(alice, epoch.Add(2*time.Hour), false)
	t2 := resolve(bob, epoch.Add(26*time.Hour), true)
	resolve(bob, week.To, false)
	e.ticket(func(t *console.Ticket) { t.AssigneeID, t.Priority = alice.ID, console.P1 })
	e.ticket(func(t *console.Ticket) { t.Status, t.Priority = console.StatusOpen, console.P1 })

	e.must(s.AddComment(ctx, &console.Comment{TicketID: t1.ID, AuthorID: alice.ID, Body: "Fixed."}))
	e.must(s.AddComment(ctx, &console.Comment{TicketID: t1.ID, AuthorID: alice.ID, Body: "note", Internal: true}))
	e.must(s.AddComment(ctx, &console.Comment{TicketID: t1.ID, Body: "thanks (requester)"}))

	// Attended sessions: three end in the week (two answered), one after it,
	// one unattended.
	session := func(tech *console.User, ticket int64, kind console.SessionKind, end time.Time, score int) {
		ss := &console.Session{Kind: kind, TicketID: ticket, TechnicianID: tech.ID, Consent: console.ConsentControl,
			StartedAt: end.Add(-10 * time.Minute), EndedAt: end}
		if kind == console.SessionUnattended {
			ss.DeviceID = e.device(e.group(), "pc").ID
		}
		e.must(s.CreateSession(ctx, ss))
		if score > 0 {
			e.must(s.RecordCSAT(ctx, &console.CSATAnswer{SessionID: ss.ID, Score: score}))
		}
	}
	session(alice, t1.ID, console.SessionAttended, epoch.Add(time.Hour), 5)
	session(alice, 0, console.SessionAttended, epoch.Add(3*time.Hour), 0)
	session(bob, t2.ID, console.SessionAttended, epoch.Add(25*time.Hour), 2)
	session(bob, 0, console.SessionAttended, week.To.Add(time.Hour), 1)
	session(bob, 0, console.SessionUnattended, epoch.Add(time.Hour), 0)

	rs, err := s.FindResolvedTickets(ctx, console.KPIFilter{Period: week})
	e.must(err)
	equal(t, "resolved in the week", deref(rs), []console.ResolvedTicket{
		{ID: t1.ID, Priority: console.P2, Channel: console.ChannelPhone, AssigneeID: alice.ID, TeamID: team.ID, Level: console.L1,
			CreatedAt: t1.CreatedAt, FirstResponseDue: t1.FirstResponseDue, FirstRespondedAt: t1.FirstRespondedAt,
			ResolutionDue: t1.ResolutionDue, ResolvedAt: t1.ResolvedAt, PausedFor: 15 * time.Minute, PublicComments: 1, Sessions: 1},
		{ID: t2.ID, Priority: console.P2, Channel: console.ChannelPhone, AssigneeID: bob.ID, TeamID: team.ID, Level: console.L1,
			CreatedAt: t2.CreatedAt, FirstResponseDue: t2.FirstResponseDue, FirstRespondedAt: t2.FirstRespondedAt,
			ResolutionDue: t2.ResolutionDue, ResolvedAt: t2.ResolvedAt, PausedFor: 15 * time.Minute, ReopenCount: 1, Sessions: 1},
	})
	rs, err = s.FindResolvedTickets(ctx, console.KPIFilter{Period: week, TechnicianID: bob.ID})
	e.must(err)
	equal(t, "resolved by bob", len(rs), 1)
	rs, err = s.FindResolvedTickets(ctx, console.KPIFilter{TeamID: team.ID})
	e.must(err)
	equal(t, "resolved by the team, any time", len(rs), 4)
	_, err = s.FindResolvedTickets(ctx, console.KPIFilter{Period: console.Period{From: week.To, To: week.From}})
	wantCode(t, "inverted period", err, console.CodeInvalid)

	st, err := s.CSATStats(ctx, console.KPIFilter{Period: week})
	e.must(err)
	equal(t, "CSAT of the week", *st, console.CSATStats{Sessions: 3, Responses: 2, Sum: 7, Distribution: [5]int{0, 1, 0, 0, 1}})
	equal(t, "average", st.Average(), 3.5)
	equal(t, "response rate", st.ResponseRate(), 2.0/3)
	st, err = s.CSATStats(ctx, console.KPIFilter{Period: week, TechnicianID: alice.ID})
	e.must(err)
	equal(t, "CSAT of alice", *st, console.CSATStats{Sessions: 2, Responses: 1, Sum: 5, Distribution: [5]int{0, 0, 0, 0, 1}})
	st, err = s.CSATStats(ctx, console.KPIFilter{})
	e.must(err)
	equal(t, "CSAT of all time", []int{st.Sessions, st.Responses, st.Sum}, []int{4, 3, 8})

	backlog, err := s.Backlog(ctx)
	e.must(err)
	equal(t, "backlog", deref(backlog), []console.BacklogEntry{
		{AssigneeID: 0, TeamID: 0, Priority: console.P1, Status: console.StatusOpen, Count: 1},
		{AssigneeID: alice.ID, TeamID: 0, Priority: console.P1, Status: console.StatusNew, Count: 1},
	})
}
