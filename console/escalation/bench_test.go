package escalation_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/escalation"
	"github.com/reachdesk/reach/console/postgres"
	"github.com/reachdesk/reach/console/sla"
	"github.com/reachdesk/reach/console/sqlite"
	"github.com/reachdesk/reach/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// benchTickets is the size of the desk the benchmarks scan.
const benchTickets = 100_000

// benchStore is a store with the maintenance call the seeding needs.
type benchStore interface {
	console.Store
	Analyze(ctx context.Context) error
}

var benchStores = []struct {
	name string
	open func(b *testing.B, now func() time.Time) benchStore
}{
	{"SQLite", func(b *testing.B, now func() time.Time) benchStore {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "console.db"), sqlite.Options{Now: now})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
	{"PostgreSQL", func(b *testing.B, now func() time.Time) benchStore {
		s, err := postgres.Open(context.Background(), pgtest.NewDatabase(b), postgres.Options{Now: now})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}},
}

// seedDesk fills s with benchTickets tickets of a year-old desk under two
// policies (office hours in Berlin, and 24/7): 80% resolved or closed, and
// an open backlog of about 20,000 whose deadlines lie around now.
func seedDesk(b *testing.B, s benchStore, now time.Time) {
	ctx := context.Background()
	var week [7][]console.MinuteRange
	for d := time.Monday; d <= time.Friday; d++ {
		week[d] = []console.MinuteRange{{Start: 8 * 60, End: 18 * 60}}
	}
	targets := map[console.Priority]console.SLATarget{
		console.P1: {FirstResponse: 30 * time.Minute, Resolution: 4 * time.Hour},
		console.P2: {FirstResponse: 2 * time.Hour, Resolution: 16 * time.Hour},
		console.P3: {FirstResponse: 8 * time.Hour, Resolution: 40 * time.Hour},
		console.P4: {FirstResponse: 24 * time.Hour, Resolution: 120 * time.Hour}}
	office := &console.SLAPolicy{Name: "Office", Default: true, Targets: targets,
		Calendar: console.BusinessCalendar{TimeZone: "Europe/Berlin", Week: week}}
	always := &console.SLAPolicy{Name: "24/7", Targets: targets}
	for _, p := range []*console.SLAPolicy{office, always} {
		if err := s.CreateSLAPolicy(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for done := 0; done < benchTickets; done += 10_000 {
		ts := make([]*console.Ticket, 0, 10_000)
		for range 10_000 {
			ts = append(ts, benchTicket(rng, now, office, always))
		}
		if err := s.ImportTickets(ctx, ts); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Analyze(ctx); err != nil {
		b.Fatal(err)
	}
}

func benchTicket(rng *rand.Rand, now time.Time, office, always *console.SLAPolicy) *console.Ticket {
	p := office
	if rng.IntN(10) < 3 {
		p = always
	}
	t := &console.Ticket{Title: fmt.Sprintf("issue %d", rng.IntN(1e6)), Channel: console.ChannelPhone,
		Category: []string{"hardware", "software", "network", "access"}[rng.IntN(4)],
		Priority: console.Priority([]int{1, 2, 2, 3, 3, 3, 3, 4, 4, 4}[rng.IntN(10)]),
		Level:    console.Level([]int{1, 1, 1, 1, 1, 1, 1, 1, 2, 3}[rng.IntN(10)]), Status: console.StatusOpen}
	r := rng.IntN(100)
	age := 5 * 24 * time.Hour
	if r < 80 {
		age = 365 * 24 * time.Hour
	}
	t.CreatedAt = now.Add(-time.Duration(rng.Int64N(int64(age))))
	sla.Start(p, t)
	target := p.Targets[t.Priority]
	if rng.IntN(10) < 6 {
		t.FirstRespondedAt = t.CreatedAt.Add(time.Duration(rng.Int64N(int64(target.FirstResponse * 2))))
	}
	switch {
	case r < 80:
		t.Status = []console.Status{console.StatusResolved, console.StatusClosed}[rng.IntN(2)]
		t.ResolvedAt = sla.For(p).Add(t.CreatedAt, time.Duration(rng.Int64N(int64(target.Resolution*2))))
		if t.FirstRespondedAt.IsZero() || t.FirstRespondedAt.After(t.ResolvedAt) {
			t.FirstRespondedAt = t.ResolvedAt
		}
	case r < 90:
		t.Status = []console.Status{console.StatusNew, console.StatusOpen, console.StatusReopened}[rng.IntN(3)]
	case r < 95:
		t.Status, t.PausedAt = console.StatusPending, now.Add(-time.Duration(rng.Int64N(int64(24*time.Hour))))
	}
	if t.FirstRespondedAt.After(now) {
		t.FirstRespondedAt = time.Time{}
	}
	if t.ResolvedAt.After(now) {
		t.Status, t.ResolvedAt = console.StatusOpen, time.Time{}
	}
	return t
}

// benchRules are a desk's usual rules: a response warning, a move to L2
// at 75% of the resolution target, L2 to L3 on breach, and a breach notice.
var benchRules = []console.EscalationRule{
	{Name: "response warning", Deadline: console.DeadlineFirstResponse, Trigger: console.TriggerRemaining, Minutes: 30},
	{Name: "P1/P2 late response to L2", Priorities: []console.Priority{console.P1, console.P2}, Level: console.L1,
		Deadline: console.DeadlineFirstResponse, Trigger: console.TriggerBreached, SetLevel: console.L2},
	{Name: "75% to L2", Level: console.L1, Deadline: console.DeadlineResolution, Trigger: console.TriggerElapsed, Percent: 75,
		SetLevel: console.L2},
	{Name: "L2 breach to L3", Level: console.L2, Deadline: console.DeadlineResolution, Trigger: console.TriggerBreached,
		SetLevel: console.L3, Unassign: true},
	{Name: "network breach notice", Category: "network", Deadline: console.DeadlineResolution, Trigger: console.TriggerBreached},
}

// BenchmarkScan measures escalation scans of a 100,000-ticket desk: the
// first scan, which fires every rule due on the backlog (reported as
// first-scan-ms and first-fired), and the steady state that runs every
// minute, when nothing new is due (ns/op, tickets/scan).
func BenchmarkScan(b *testing.B) {
	now := time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC) // a Wednesday, inside office hours
	clock := func() time.Time { return now }
	for _, st := range benchStores {
		// The store's benchmark runs once (it has a sub-benchmark), and only
		// if the -bench pattern selects it: seeding happens only then.
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b, clock)
			defer s.Close()
			start := time.Now()
			seedDesk(b, s, now)
			b.Logf("%s: seeded %d tickets in %v", st.name, benchTickets, time.Since(start).Round(time.Millisecond))
			for _, r := range benchRules {
				r.Enabled = true
				if err := s.CreateEscalationRule(context.Background(), &r); err != nil {
					b.Fatal(err)
				}
			}
			sched := escalation.New(s, escalation.Options{Now: clock, Logger: quiet})
			start = time.Now()
			first, err := sched.Scan(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			firstTime := time.Since(start)
			b.Run("Steady", func(b *testing.B) {
				var res escalation.Result
				for b.Loop() {
					if res, err = sched.Scan(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(res.Scanned), "tickets/scan")
				b.ReportMetric(float64(res.Fired), "fired")
				b.ReportMetric(float64(firstTime.Milliseconds()), "first-scan-ms")
				b.ReportMetric(float64(first.Fired), "first-fired")
			})
		})
	}
}
