package kpi_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/kpi"
	"github.com/reachdesk/reach/console/sla"
	"github.com/reachdesk/reach/console/sqlite"
)

var berlin = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return l
}()

// day returns a time in the week of Monday 2 March 2026, Berlin; day 0 is
// that Monday.
func day(d, h, m int) time.Time { return time.Date(2026, 3, 2+d, h, m, 0, 0, berlin) }

// desk is a SQLite store with a settable clock and the helpers to work
// tickets the way the API does (sla.Start, sla.Plan, sla.Responded).
type desk struct {
	t     *testing.T
	ctx   context.Context
	s     *sqlite.DB
	clock *clock
}

func newDesk(t *testing.T, start time.Time) *desk {
	t.Helper()
	d := &desk{t: t, ctx: context.Background(), clock: &clock{t: start}}
	s, err := sqlite.Open(d.ctx, filepath.Join(t.TempDir(), "console.db"), sqlite.Options{Now: d.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d.s = s
	return d
}

func (d *desk) must(err error) {
	d.t.Helper()
	if err != nil {
		d.t.Fatal(err)
	}
}

func (d *desk) at(when time.Time) { d.clock.set(when) }

// clock is a settable clock for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time // guarded by mu
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (d *desk) user(name string) *console.User {
	u := &console.User{Email: strings.ToLower(name) + "@example.com", Name: name, Role: console.RoleTechnician, Level: console.L1}
	d.must(d.s.CreateUser(d.ctx, u))
	return u
}

func (d *desk) team(name string) *console.Team {
	tm := &console.Team{Name: name}
	d.must(d.s.CreateTeam(d.ctx, tm))
	return tm
}

func (d *desk) create(when time.Time, p *console.SLAPolicy, mod func(*console.Ticket)) *console.Ticket {
	d.t.Helper()
	d.at(when)
	tk := &console.Ticket{Title: "t", Channel: console.ChannelPhone, Priority: console.P2, Status: console.StatusNew, Level: console.L1,
		CreatedAt: when}
	mod(tk)
	sla.Start(p, tk)
	d.must(d.s.CreateTicket(d.ctx, tk))
	return tk
}

func (d *desk) update(when time.Time, p *console.SLAPolicy, tk *console.Ticket, upd console.TicketUpdate) {
	d.t.Helper()
	d.at(when)
	cur, err := d.s.FindTicketByID(d.ctx, tk.ID)
	d.must(err)
	sla.Plan(p, cur, &upd, when)
	_, err = d.s.UpdateTicket(d.ctx, tk.ID, upd)
	d.must(err)
}

// reply adds a public comment by u and records the first response.
func (d *desk) reply(when time.Time, tk *console.Ticket, u *console.User) {
	d.t.Helper()
	d.at(when)
	d.must(d.s.AddComment(d.ctx, &console.Comment{TicketID: tk.ID, AuthorID: u.ID, Body: "On it."}))
	cur, err := d.s.FindTicketByID(d.ctx, tk.ID)
	d.must(err)
	if upd := sla.Responded(cur, when); upd != nil {
		_, err = d.s.UpdateTicket(d.ctx, tk.ID, *upd)
		d.must(err)
	}
}

func (d *desk) session(tech *console.User, ticketID int64, end time.Time, score int) {
	d.t.Helper()
	d.at(end)
	ss := &console.Session{Kind: console.SessionAttended, TicketID: ticketID, TechnicianID: tech.ID, Consent: console.ConsentControl,
		StartedAt: end.Add(-20 * time.Minute), EndedAt: end}
	d.must(d.s.CreateSession(d.ctx, ss))
	if score > 0 {
		d.must(d.s.RecordCSAT(d.ctx, &console.CSATAnswer{SessionID: ss.ID, Score: score}))
	}
}

var office = &console.SLAPolicy{Name: "Office", Targets: map[console.Priority]console.SLATarget{
	console.P1: {FirstResponse: 30 * time.Minute, Resolution: 4 * time.Hour},
	console.P2: {FirstResponse: time.Hour, Resolution: 8 * time.Hour},
}, Calendar: console.BusinessCalendar{TimeZone: "Europe/Berlin", Week: func() (w [7][]console.MinuteRange) {
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = []console.MinuteRange{{Start: 9 * 60, End: 12 * 60}, {Start: 13 * 60, End: 17 * 60}}
	}
	return w
}()}}

// world builds the help desk of docs/kpis.md's worked example.
type world struct {
	d           *desk
	alice, bob  *console.User
	t1, t2      *console.Team
	a, b, c, dd *console.Ticket
	week        console.Period
	now         time.Time
}

func buildWorld(t *testing.T) *world {
	d := newDesk(t, day(-1, 9, 0))
	w := &world{d: d, week: console.Period{From: day(0, 0, 0), To: day(7, 0, 0)}, now: day(7, 10, 0)}
	policy := *office
	d.must(d.s.CreateSLAPolicy(d.ctx, &policy))
	p := &policy
	w.alice, w.bob = d.user("Alice"), d.user("Bob")
	w.t1, w.t2 = d.team("Network"), d.team("Desktop")

	// Before the week: resolved Sunday, answered 1 (not counted).
	e := d.create(day(-1, 10, 0), p, func(tk *console.Ticket) { tk.AssigneeID = w.alice.ID })
	d.session(w.alice, e.ID, day(-1, 11, 0), 1)
	d.update(day(-1, 20, 0), p, e, console.TicketUpdate{Status: ptr(console.StatusResolved)})

	// A: answered in 30 min, resolved in 1h30, both met; first contact.
	w.a = d.create(day(0, 10, 0), p, func(tk *console.Ticket) { tk.AssigneeID, tk.TeamID = w.alice.ID, w.t1.ID })
	d.reply(day(0, 10, 30), w.a, w.alice)
	d.session(w.alice, w.a.ID, day(0, 11, 0), 5)
	d.update(day(0, 11, 30), p, w.a, console.TicketUpdate{Status: ptr(console.StatusResolved)})

	// B: pending 16:30–10:00 (1h30 of business time), two replies.
	w.b = d.create(day(0, 16, 0), p, func(tk *console.Ticket) { tk.AssigneeID, tk.TeamID = w.alice.ID, w.t1.ID })
	d.update(day(0, 16, 30), p, w.b, console.TicketUpdate{Status: ptr(console.StatusPending)})
	d.update(day(1, 10, 0), p, w.b, console.TicketUpdate{Status: ptr(console.StatusOpen)})
	d.reply(day(1, 10, 15), w.b, w.alice)
	d.reply(day(2, 9, 45), w.b, w.alice)
	d.update(day(2, 10, 0), p, w.b, console.TicketUpdate{Status: ptr(console.StatusResolved)})

	// C: P1, escalated to L2, no reply, resolved late.
	w.c = d.create(day(1, 9, 0), p, func(tk *console.Ticket) {
		tk.Priority, tk.AssigneeID, tk.TeamID = console.P1, w.bob.ID, w.t2.ID
	})
	d.update(day(1, 11, 0), p, w.c, console.TicketUpdate{Level: ptr(console.L2)})
	d.session(w.bob, 0, day(1, 12, 0), 0)
	d.update(day(1, 15, 0), p, w.c, console.TicketUpdate{Status: ptr(console.StatusResolved)})

	// D: no SLA, Saturday, one session, no reply.
	w.dd = d.create(day(5, 10, 0), nil, func(tk *console.Ticket) {
		tk.Priority, tk.AssigneeID, tk.TeamID = console.P3, w.bob.ID, w.t1.ID
	})
	d.session(w.bob, w.dd.ID, day(5, 11, 30), 4)
	d.update(day(5, 12, 0), nil, w.dd, console.TicketUpdate{Status: ptr(console.StatusResolved)})

	// Backlog: F breaches its first response on Thursday; G waits on the requester.
	d.create(day(3, 10, 0), p, func(tk *console.Ticket) {
		tk.Priority, tk.Status, tk.AssigneeID, tk.TeamID = console.P1, console.StatusOpen, w.alice.ID, w.t1.ID
	})
	d.create(day(4, 10, 0), nil, func(tk *console.Ticket) { tk.Priority, tk.Status = console.P4, console.StatusPending })
	d.at(w.now)
	return w
}

func ptr[T any](v T) *T { return &v }

const hour = 3600.0

func TestComputeWorkedExample(t *testing.T) {
	w := buildWorld(t)
	r, err := kpi.Compute(w.d.ctx, w.d.s, kpi.Query{Period: w.week, TimeZone: "Europe/Berlin", Now: w.now})
	if err != nil {
		t.Fatal(err)
	}
	third := func(n int) kpi.Ratio { return kpi.Ratio{Count: n, Of: 3, Rate: float64(n) / 3} }
	want := kpi.Stats{
		Resolved: 4,
		// Wall: 1.5h, 42h, 6h, 2h. Business: 1.5h, 9h − 1.5h paused, 5h, 2h.
		MTTR:         kpi.MTTR{WallSeconds: 12.875 * hour, WallMedianSeconds: 4 * hour, BusinessSeconds: 4 * hour, BusinessMedianSeconds: 3.5 * hour},
		FirstContact: kpi.Ratio{Count: 2, Of: 4, Rate: 0.5},
		SLA:          kpi.SLA{FirstResponse: third(2), Resolution: third(2)},
		CSAT:         &kpi.CSAT{Sessions: 3, Responses: 2, Average: 4.5, ResponseRate: 2.0 / 3, Distribution: [5]int{0, 0, 0, 1, 1}},
	}
	equal(t, "totals", r.Totals, want)

	if len(r.Series) != 7 {
		t.Fatalf("%d day buckets, want 7", len(r.Series))
	}
	var resolved []int
	for i, p := range r.Series {
		resolved = append(resolved, p.Resolved)
		if !p.Start.Equal(day(i, 0, 0)) || !p.End.Equal(day(i+1, 0, 0)) {
			t.Errorf("bucket %d is [%v, %v)", i, p.Start, p.End)
		}
	}
	equal(t, "resolved per day", resolved, []int{1, 1, 1, 0, 0, 1, 0})
	equal(t, "Monday's CSAT", *r.Series[0].CSAT, kpi.CSAT{Sessions: 1, Responses: 1, Average: 5, ResponseRate: 1, Distribution: [5]int{0, 0, 0, 0, 1}})
	equal(t, "Tuesday's CSAT", *r.Series[1].CSAT, kpi.CSAT{Sessions: 1})
	equal(t, "Wednesday's resolution", r.Series[2].SLA.Resolution, kpi.Ratio{Count: 1, Of: 1, Rate: 1})

	equal(t, "technicians", r.Technicians, []kpi.Technician{
		{ID: w.alice.ID, Resolved: 2, MTTRBusinessSeconds: 4.5 * hour, FirstContact: kpi.Ratio{Count: 1, Of: 2, Rate: 0.5}, SLAResolution: kpi.Ratio{Count: 2, Of: 2, Rate: 1}},
		{ID: w.bob.ID, Resolved: 2, MTTRBusinessSeconds: 3.5 * hour, FirstContact: kpi.Ratio{Count: 1, Of: 2, Rate: 0.5}, SLAResolution: kpi.Ratio{Count: 0, Of: 1}},
	})
	equal(t, "backlog", r.Backlog, kpi.Backlog{Total: 2, Breached: 1,
		ByPriority: map[string]int{"P1": 1, "P4": 1}, ByStatus: map[string]int{"open": 1, "pending": 1},
		ByTeam: []kpi.Count{{ID: 0, Count: 1}, {ID: w.t1.ID, Count: 1}}, ByAssignee: []kpi.Count{{ID: 0, Count: 1}, {ID: w.alice.ID, Count: 1}}})

	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"series":[{"start":`, `"first_contact_resolution":{"count":2,"of":4,"rate":0.5}`, `"by_priority":{"P1":1,"P4":1}`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}

func TestComputeFilters(t *testing.T) {
	w := buildWorld(t)
	ctx, s := w.d.ctx, w.d.s
	r, err := kpi.Compute(ctx, s, kpi.Query{Period: w.week, TimeZone: "Europe/Berlin", Now: w.now, TechnicianID: w.bob.ID})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "bob's resolved", r.Totals.Resolved, 2)
	equal(t, "bob's CSAT", *r.Totals.CSAT, kpi.CSAT{Sessions: 2, Responses: 1, Average: 4, ResponseRate: 0.5, Distribution: [5]int{0, 0, 0, 1, 0}})
	equal(t, "bob's backlog", r.Backlog.Total, 0)

	r, err = kpi.Compute(ctx, s, kpi.Query{Period: w.week, Now: w.now, TeamID: w.t1.ID, Bucket: kpi.Week})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "team resolved (A, B, D)", r.Totals.Resolved, 3)
	if r.Totals.CSAT != nil {
		t.Errorf("a team report has CSAT %+v", r.Totals.CSAT)
	}
	equal(t, "team backlog", []int{r.Backlog.Total, r.Backlog.Breached}, []int{1, 1})
	// The UTC week bucket starts Monday 00:00 UTC, one hour after Berlin's.
	equal(t, "one UTC week", len(r.Series), 2)

	r, err = kpi.Compute(ctx, s, kpi.Query{Period: console.Period{From: day(-20, 0, 0), To: day(12, 0, 0)}, Bucket: kpi.Month,
		TimeZone: "Europe/Berlin", Now: w.now})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "months", []any{len(r.Series), r.Series[0].Resolved, r.Series[1].Resolved}, []any{2, 0, 5})
	equal(t, "February starts on the 1st", r.Series[0].Start, time.Date(2026, 2, 1, 0, 0, 0, 0, berlin))

	// Defaults: the 30 days before Now, by day.
	r, err = kpi.Compute(ctx, s, kpi.Query{Now: w.now})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "default period", []any{r.From, r.To, r.Bucket, len(r.Series), r.Totals.Resolved},
		[]any{w.now.Add(-kpi.DefaultSpan), w.now, kpi.Day, 31, 5})

	for _, q := range []kpi.Query{
		{Bucket: "year"},
		{TimeZone: "Mars/Olympus"},
		{Period: console.Period{From: day(1, 0, 0), To: day(0, 0, 0)}},
		{Period: console.Period{From: day(-800, 0, 0), To: day(0, 0, 0)}},
	} {
		q.Now = w.now
		if _, err := kpi.Compute(ctx, s, q); console.ErrorCode(err) != console.CodeInvalid {
			t.Errorf("Compute(%+v) = %v, want invalid input", q, err)
		}
	}
}

func TestDayBucketsFollowDST(t *testing.T) {
	d := newDesk(t, day(0, 9, 0))
	p := console.Period{From: time.Date(2026, 3, 28, 0, 0, 0, 0, berlin), To: time.Date(2026, 3, 31, 0, 0, 0, 0, berlin)}
	r, err := kpi.Compute(d.ctx, d.s, kpi.Query{Period: p, TimeZone: "Europe/Berlin", Now: p.To})
	if err != nil {
		t.Fatal(err)
	}
	var hours []float64
	for _, pt := range r.Series {
		hours = append(hours, pt.End.Sub(pt.Start).Hours())
	}
	equal(t, "day lengths", hours, []float64{24, 23, 24})
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}
