package kpi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/kpi"
	"github.com/reachdesk/reach/console/postgres"
	"github.com/reachdesk/reach/console/sla"
	"github.com/reachdesk/reach/console/sqlite"
	"github.com/reachdesk/reach/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Benchmark sizes.
const (
	benchTickets  = 100_000
	benchTechs    = 50
	benchComments = 3_000 // public replies, on as many tickets
	benchSessions = 1_000 // attended sessions, half of them answered
)

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

// seedKPIs fills s with a year of a desk: benchTickets tickets spread over
// the year before now, 90% resolved, under an office-hours policy and a
// 24/7 one, assigned to benchTechs technicians; and some replies and
// sessions with CSAT answers.
func seedKPIs(b *testing.B, s benchStore, now time.Time) {
	ctx := context.Background()
	var week [7][]console.MinuteRange
	for d := time.Monday; d <= time.Friday; d++ {
		week[d] = []console.MinuteRange{{Start: 8 * 60, End: 12 * 60}, {Start: 13 * 60, End: 18 * 60}}
	}
	targets := map[console.Priority]console.SLATarget{
		console.P1: {FirstResponse: 30 * time.Minute, Resolution: 4 * time.Hour},
		console.P2: {FirstResponse: 2 * time.Hour, Resolution: 16 * time.Hour},
		console.P3: {FirstResponse: 8 * time.Hour, Resolution: 40 * time.Hour},
		console.P4: {FirstResponse: 24 * time.Hour, Resolution: 120 * time.Hour}}
	office := &console.SLAPolicy{Name: "Office", Targets: targets, Calendar: console.BusinessCalendar{TimeZone: "Europe/Berlin", Week: week,
		Holidays: []string{"2025-12-25", "2025-12-26", "2026-01-01"}}}
	always := &console.SLAPolicy{Name: "24/7", Targets: targets}
	for _, p := range []*console.SLAPolicy{office, always} {
		if err := s.CreateSLAPolicy(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	var techs []int64
	for i := range benchTechs {
		u := &console.User{Email: fmt.Sprintf("tech%d@example.com", i), Name: "Tech", Role: console.RoleTechnician, Level: console.L1}
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
		techs = append(techs, u.ID)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	var resolved []int64
	for done := 0; done < benchTickets; done += 10_000 {
		ts := make([]*console.Ticket, 0, 10_000)
		for range 10_000 {
			p := office
			if rng.IntN(10) < 3 {
				p = always
			}
			t := &console.Ticket{Title: "issue", Channel: console.ChannelEmail, Priority: console.Priority(1 + rng.IntN(4)),
				Level: console.Level([]int{1, 1, 1, 1, 1, 1, 1, 1, 2, 3}[rng.IntN(10)]), Status: console.StatusOpen,
				AssigneeID: techs[rng.IntN(len(techs))], CreatedAt: now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))}
			sla.Start(p, t)
			target := p.Targets[t.Priority]
			if rng.IntN(10) < 9 {
				t.Status = console.StatusResolved
				t.ResolvedAt = sla.For(p).Add(t.CreatedAt, time.Duration(rng.Int64N(int64(target.Resolution*2))))
				t.FirstRespondedAt = sla.For(p).Add(t.CreatedAt, time.Duration(rng.Int64N(int64(target.FirstResponse*2))))
				t.PausedFor = time.Duration(rng.IntN(4)) * time.Hour
				if rng.IntN(20) == 0 {
					t.ReopenCount = 1
				}
				if t.ResolvedAt.After(now) {
					t.Status, t.ResolvedAt = console.StatusOpen, time.Time{}
				}
			}
			ts = append(ts, t)
		}
		if err := s.ImportTickets(ctx, ts); err != nil {
			b.Fatal(err)
		}
		for _, t := range ts {
			if !t.ResolvedAt.IsZero() {
				resolved = append(resolved, t.ID)
			}
		}
	}
	for i := range benchComments {
		c := &console.Comment{TicketID: resolved[i*7%len(resolved)], AuthorID: techs[i%len(techs)], Body: "Fixed it."}
		if err := s.AddComment(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	for i := range benchSessions {
		end := now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		ss := &console.Session{Kind: console.SessionAttended, TicketID: resolved[i*11%len(resolved)], TechnicianID: techs[i%len(techs)],
			Consent: console.ConsentControl, StartedAt: end.Add(-15 * time.Minute), EndedAt: end}
		if err := s.CreateSession(ctx, ss); err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			if err := s.RecordCSAT(ctx, &console.CSATAnswer{SessionID: ss.ID, Score: 1 + rng.IntN(5)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := s.Analyze(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCompute measures kpi.Compute on a desk of 100,000 tickets: a
// year by month (about 90,000 resolved tickets), a quarter by day, and
// one technician's month by day.
func BenchmarkCompute(b *testing.B) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	queries := []struct {
		name string
		q    kpi.Query
	}{
		{"YearByMonth", kpi.Query{Period: console.Period{From: now.AddDate(-1, 0, 0), To: now}, Bucket: kpi.Month, TimeZone: "Europe/Berlin"}},
		{"QuarterByDay", kpi.Query{Period: console.Period{From: now.AddDate(0, -3, 0), To: now}, Bucket: kpi.Day, TimeZone: "Europe/Berlin"}},
		{"TechnicianMonthByDay", kpi.Query{Period: console.Period{From: now.AddDate(0, -1, 0), To: now}, Bucket: kpi.Day}},
	}
	for _, st := range benchStores {
		// The store's benchmark runs once (it has sub-benchmarks), and only
		// if the -bench pattern selects it: seeding happens only then.
		b.Run(st.name, func(b *testing.B) {
			s := st.open(b, clock)
			defer s.Close()
			start := time.Now()
			seedKPIs(b, s, now)
			b.Logf("%s: seeded %d tickets in %v", st.name, benchTickets, time.Since(start).Round(time.Millisecond))
			for _, q := range queries {
				q.q.Now = now
				if q.name == "TechnicianMonthByDay" {
					q.q.TechnicianID = 1
				}
				b.Run(q.name, func(b *testing.B) {
					var r *kpi.Report
					var err error
					for b.Loop() {
						if r, err = kpi.Compute(context.Background(), s, q.q); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(r.Totals.Resolved), "resolved")
				})
			}
		})
	}
}
