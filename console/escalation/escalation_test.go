package escalation_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/escalation"
	"github.com/reachdesk/reach/console/sla"
	"github.com/reachdesk/reach/console/sqlite"
	"github.com/reachdesk/reach/console/webhook"
)

// clock is a settable clock shared by the store and the scheduler.
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

// recorder is a Publisher that keeps what it gets.
type recorder struct {
	mu     sync.Mutex
	events []webhook.Event // guarded by mu
}

func (r *recorder) Publish(_ context.Context, e webhook.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ts []string
	for _, e := range r.events {
		ts = append(ts, e.Type+":"+e.Data.(escalation.EventData).RuleName)
	}
	return ts
}

type env struct {
	t     *testing.T
	ctx   context.Context
	s     *sqlite.DB
	clock *clock
	pub   *recorder
	sched *escalation.Scheduler
}

func newEnv(t *testing.T, start time.Time) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), clock: &clock{t: start}, pub: &recorder{}}
	s, err := sqlite.Open(e.ctx, filepath.Join(t.TempDir(), "console.db"), sqlite.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e.s = s
	e.sched = escalation.New(s, escalation.Options{Now: e.clock.Now, Publisher: e.pub, Logger: quiet})
	return e
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) rule(r *console.EscalationRule) *console.EscalationRule {
	e.t.Helper()
	r.Enabled = true
	e.must(e.s.CreateEscalationRule(e.ctx, r))
	return r
}

func (e *env) ticket(p *console.SLAPolicy, mod func(*console.Ticket)) *console.Ticket {
	e.t.Helper()
	tk := &console.Ticket{Title: "t", Channel: console.ChannelPhone, Priority: console.P1, Status: console.StatusOpen, Level: console.L1,
		CreatedAt: e.clock.Now()}
	if mod != nil {
		mod(tk)
	}
	sla.Start(p, tk)
	e.must(e.s.CreateTicket(e.ctx, tk))
	return tk
}

// scan sets the clock to at, scans, and checks how many rules fired.
func (e *env) scan(at time.Time, wantFired int) {
	e.t.Helper()
	e.clock.set(at)
	res, err := e.sched.Scan(e.ctx)
	e.must(err)
	if res.Fired != wantFired {
		e.t.Errorf("scan at %v fired %d rules, want %d", at, res.Fired, wantFired)
	}
}

func (e *env) find(id int64) *console.Ticket {
	e.t.Helper()
	tk, err := e.s.FindTicketByID(e.ctx, id)
	e.must(err)
	return tk
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestScheduler(t *testing.T) {
	e := newEnv(t, t0)
	l1, l2, l3 := &console.Team{Name: "L1 desk"}, &console.Team{Name: "L2 network"}, &console.Team{Name: "L3"}
	for _, tm := range []*console.Team{l1, l2, l3} {
		e.must(e.s.CreateTeam(e.ctx, tm))
	}
	tech := &console.User{Email: "t@example.com", Name: "T", Role: console.RoleTechnician, Level: console.L1}
	e.must(e.s.CreateUser(e.ctx, tech))
	p := &console.SLAPolicy{Name: "24/7", Targets: map[console.Priority]console.SLATarget{
		console.P1: {FirstResponse: time.Hour, Resolution: 4 * time.Hour},
		console.P3: {FirstResponse: 4 * time.Hour, Resolution: 24 * time.Hour}}}
	e.must(e.s.CreateSLAPolicy(e.ctx, p))

	half := e.rule(&console.EscalationRule{Name: "P1 half way to L2", Priorities: []console.Priority{console.P1}, Level: console.L1,
		Deadline: console.DeadlineResolution, Trigger: console.TriggerElapsed, Percent: 50,
		SetLevel: console.L2, SetTeamID: l2.ID, Unassign: true})
	e.rule(&console.EscalationRule{Name: "response warning", Deadline: console.DeadlineFirstResponse,
		Trigger: console.TriggerRemaining, Minutes: 30})
	e.rule(&console.EscalationRule{Name: "resolution breach", Deadline: console.DeadlineResolution, Trigger: console.TriggerBreached})
	toL3 := e.rule(&console.EscalationRule{Name: "L2 breach to L3", Level: console.L2, Deadline: console.DeadlineResolution,
		Trigger: console.TriggerBreached, SetLevel: console.L3, SetTeamID: l3.ID})
	off := &console.EscalationRule{Name: "disabled", Deadline: console.DeadlineFirstResponse, Trigger: console.TriggerRemaining, Minutes: 600,
		SetLevel: console.L3}
	e.must(e.s.CreateEscalationRule(e.ctx, off))

	a := e.ticket(p, func(tk *console.Ticket) { tk.AssigneeID, tk.TeamID = tech.ID, l1.ID })
	b := e.ticket(p, func(tk *console.Ticket) { tk.Priority = console.P3 })
	paused := e.ticket(p, nil)
	e.clock.set(t0.Add(time.Minute))
	upd := console.TicketUpdate{Status: ptr(console.StatusPending)}
	sla.Plan(p, paused, &upd, e.clock.Now())
	_, err := e.s.UpdateTicket(e.ctx, paused.ID, upd)
	e.must(err)
	e.ticket(nil, nil) // no SLA: never near a deadline

	e.scan(t0.Add(10*time.Minute), 0)
	e.scan(t0.Add(35*time.Minute), 1) // A: 25 minutes left to respond
	e.scan(t0.Add(40*time.Minute), 0) // fired once only
	e.scan(t0.Add(2*time.Hour), 1)    // A: half of 4h used
	got := e.find(a.ID)
	equal(t, "A level", got.Level, console.L2)
	equal(t, "A team", got.TeamID, l2.ID)
	equal(t, "A assignee", got.AssigneeID, int64(0))
	// A breaches: the notice, then (A being L2 now) the move to L3. B's
	// response warning comes late, after its deadline: a breach event.
	e.scan(t0.Add(4*time.Hour+time.Minute), 3)
	got = e.find(a.ID)
	equal(t, "A level after breach", got.Level, console.L3)
	equal(t, "A team after breach", got.TeamID, l3.ID)
	equal(t, "paused ticket untouched", e.find(paused.ID).Version, int64(2))
	e.scan(t0.Add(30*time.Hour), 1) // B's resolution breach
	e.scan(t0.Add(40*time.Hour), 0)

	want := []string{"ticket.sla_warning:response warning", "ticket.escalated:P1 half way to L2",
		"ticket.sla_breached:resolution breach", "ticket.escalated:L2 breach to L3", "ticket.sla_breached:response warning",
		"ticket.sla_breached:resolution breach"}
	equal(t, "published events", len(e.pub.types()), len(want))
	for i, typ := range e.pub.types() {
		if i < len(want) {
			equal(t, "event", typ, want[i])
		}
	}
	ev := e.pub.events[1].Data.(escalation.EventData)
	equal(t, "event ticket", ev.TicketID, a.ID)
	equal(t, "event level", ev.Level, "L2")
	equal(t, "event due", ev.Due, t0.Add(4*time.Hour))
	equal(t, "event changes", len(ev.Changes), 3)
	equal(t, "event at", e.pub.events[1].At, t0.Add(2*time.Hour))
	equal(t, "second event is about B", e.pub.events[4].Data.(escalation.EventData).TicketID, b.ID)

	evs, err := e.s.FindTicketEvents(e.ctx, a.ID)
	e.must(err)
	var kinds []console.TicketEventKind
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	wantKinds := []console.TicketEventKind{console.EventCreated, console.EventSLAWarning, console.EventEscalated,
		console.EventSLABreached, console.EventEscalated}
	equal(t, "A's history", len(kinds), len(wantKinds))
	for i := range min(len(kinds), len(wantKinds)) {
		equal(t, "A's history", kinds[i], wantKinds[i])
	}
	equal(t, "escalation event names the rule", evs[2].RefID, half.ID)
	equal(t, "L3 event names the rule", evs[4].RefID, toL3.ID)
}

// TestSchedulerBusinessHours checks that a remaining-time window counts
// business time: a deadline on Monday 10:00 is an hour away from Friday's
// closing time on.
func TestSchedulerBusinessHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	fri := time.Date(2026, 3, 6, 15, 0, 0, 0, berlin)
	e := newEnv(t, fri)
	var week [7][]console.MinuteRange
	for d := time.Monday; d <= time.Friday; d++ {
		week[d] = []console.MinuteRange{{Start: 9 * 60, End: 17 * 60}}
	}
	p := &console.SLAPolicy{Name: "Office", Calendar: console.BusinessCalendar{TimeZone: "Europe/Berlin", Week: week},
		Targets: map[console.Priority]console.SLATarget{console.P2: {FirstResponse: 3 * time.Hour, Resolution: 40 * time.Hour}}}
	e.must(e.s.CreateSLAPolicy(e.ctx, p))
	e.rule(&console.EscalationRule{Name: "an hour left", Deadline: console.DeadlineFirstResponse, Trigger: console.TriggerRemaining,
		Minutes: 60, SetLevel: console.L2})
	tk := e.ticket(p, func(tk *console.Ticket) { tk.Priority = console.P2 })
	equal(t, "due", tk.FirstResponseDue.Equal(time.Date(2026, 3, 9, 10, 0, 0, 0, berlin)), true)

	// Friday 16:30 and 16:59: 90 and 61 business minutes left (Monday
	// 09:00–10:00 included); at closing time, one hour is left.
	e.scan(time.Date(2026, 3, 6, 16, 30, 0, 0, berlin), 0)
	e.scan(time.Date(2026, 3, 6, 16, 59, 0, 0, berlin), 0)
	e.scan(time.Date(2026, 3, 6, 17, 0, 0, 0, berlin), 1)
	equal(t, "level", e.find(tk.ID).Level, console.L2)
}

// TestConcurrentSchedulers runs several schedulers on one store at once:
// every rule still fires once per ticket.
func TestConcurrentSchedulers(t *testing.T) {
	e := newEnv(t, t0)
	p := &console.SLAPolicy{Name: "24/7", Targets: map[console.Priority]console.SLATarget{
		console.P1: {FirstResponse: time.Hour, Resolution: 4 * time.Hour}}}
	e.must(e.s.CreateSLAPolicy(e.ctx, p))
	e.rule(&console.EscalationRule{Name: "breach", Deadline: console.DeadlineFirstResponse, Trigger: console.TriggerBreached, SetLevel: console.L2})
	e.rule(&console.EscalationRule{Name: "notice", Deadline: console.DeadlineResolution, Trigger: console.TriggerElapsed, Percent: 10})
	const tickets = 60
	for range tickets {
		e.ticket(p, nil)
	}
	e.clock.set(t0.Add(2 * time.Hour))
	var wg sync.WaitGroup
	results := make([]escalation.Result, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := escalation.New(e.s, escalation.Options{Now: e.clock.Now, Publisher: e.pub, Logger: quiet})
			var err error
			results[i], err = s.Scan(e.ctx)
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	fired := 0
	for _, r := range results {
		fired += r.Fired
	}
	equal(t, "firings over all schedulers", fired, 2*tickets)
	equal(t, "events published", len(e.pub.types()), 2*tickets)
}

func TestRunStopsWithContext(t *testing.T) {
	e := newEnv(t, t0)
	p := &console.SLAPolicy{Name: "24/7", Targets: map[console.Priority]console.SLATarget{console.P1: {FirstResponse: time.Minute, Resolution: time.Hour}}}
	e.must(e.s.CreateSLAPolicy(e.ctx, p))
	e.rule(&console.EscalationRule{Name: "breach", Deadline: console.DeadlineFirstResponse, Trigger: console.TriggerBreached})
	e.ticket(p, nil)
	e.clock.set(t0.Add(time.Hour))
	ctx, cancel := context.WithCancel(e.ctx)
	s := escalation.New(e.s, escalation.Options{Now: e.clock.Now, Publisher: e.pub, Logger: quiet, Interval: 10 * time.Millisecond})
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(e.pub.types()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	equal(t, "events from Run", len(e.pub.types()), 1)
}

func ptr[T any](v T) *T { return &v }
