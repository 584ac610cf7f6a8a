// Package kpi computes the help desk's key performance indicators from the
// console store: mean time to resolve (wall clock and business hours),
// first-contact resolution, CSAT, SLA compliance, the backlog and tickets
// resolved per technician, for a period cut into day, week or month
// buckets of a time zone. The Report is JSON-tagged for charts; every
// definition is in docs/kpis.md.
package kpi

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/sla"
)

// Bucket is the length of one point of a series.
type Bucket string

// Buckets. Weeks start on Monday (ISO 8601).
const (
	Day   Bucket = "day"
	Week  Bucket = "week"
	Month Bucket = "month"
)

// Query bounds.
const (
	// MaxBuckets bounds a series: a year of days, eight years of weeks.
	MaxBuckets = 400
	// DefaultSpan is the period of a query without From.
	DefaultSpan = 30 * 24 * time.Hour
)

// Query selects what a Report covers. Zero fields take defaults.
type Query struct {
	// Period is [From, To) of resolution and session end times. A zero To
	// is Now; a zero From is DefaultSpan before To.
	Period console.Period
	// Bucket cuts the period into points; zero means Day.
	Bucket Bucket
	// TimeZone is the IANA zone whose days, weeks and months the buckets
	// follow; empty means UTC.
	TimeZone string
	// TechnicianID restricts tickets to this assignee and sessions to this
	// technician; zero: everyone.
	TechnicianID int64
	// TeamID restricts tickets to this team; zero: every team. Sessions
	// have no team, so a report for a team has no CSAT.
	TeamID int64
	// Now is the clock's time for the defaults and the breach count; zero
	// means time.Now.
	Now time.Time
}

// Report is the KPIs of a Query.
type Report struct {
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Bucket   Bucket    `json:"bucket"`
	TimeZone string    `json:"time_zone"`
	// Totals covers the whole period, Series each bucket in order. The
	// first and last bucket may start before From or end after To; their
	// figures still cover only [From, To).
	Totals      Stats        `json:"totals"`
	Series      []Point      `json:"series"`
	Technicians []Technician `json:"technicians"`
	// Backlog is the open work at Now, whatever the period.
	Backlog Backlog `json:"backlog"`
}

// Point is one bucket of a series.
type Point struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Stats
}

// Stats are the KPIs of tickets resolved, and sessions ended, in a period.
type Stats struct {
	Resolved     int   `json:"resolved"`
	MTTR         MTTR  `json:"mttr"`
	FirstContact Ratio `json:"first_contact_resolution"`
	SLA          SLA   `json:"sla"`
	// CSAT is null for a report restricted to a team.
	CSAT *CSAT `json:"csat"`
}

// MTTR is the time from creation to resolution, in seconds: wall clock,
// and business time of the ticket's SLA calendar minus paused time.
type MTTR struct {
	WallSeconds           float64 `json:"wall_seconds"`
	WallMedianSeconds     float64 `json:"wall_median_seconds"`
	BusinessSeconds       float64 `json:"business_seconds"`
	BusinessMedianSeconds float64 `json:"business_median_seconds"`
}

// Ratio is Count out of Of; Rate is Count/Of, 0 when Of is 0 (no data).
type Ratio struct {
	Count int     `json:"count"`
	Of    int     `json:"of"`
	Rate  float64 `json:"rate"`
}

func ratio(count, of int) Ratio {
	r := Ratio{Count: count, Of: of}
	if of > 0 {
		r.Rate = float64(count) / float64(of)
	}
	return r
}

// SLA is the share of deadlines met among resolved tickets that had them.
type SLA struct {
	FirstResponse Ratio `json:"first_response"`
	Resolution    Ratio `json:"resolution"`
}

// CSAT aggregates satisfaction answers of attended sessions.
type CSAT struct {
	Sessions     int     `json:"sessions"`
	Responses    int     `json:"responses"`
	Average      float64 `json:"average"`
	ResponseRate float64 `json:"response_rate"`
	Distribution [5]int  `json:"distribution"` // count of scores 1 to 5
}

// Technician is the work one assignee resolved in the period; ID 0
// collects tickets resolved without an assignee.
type Technician struct {
	ID                  int64   `json:"technician_id"`
	Resolved            int     `json:"resolved"`
	MTTRBusinessSeconds float64 `json:"mttr_business_seconds"`
	FirstContact        Ratio   `json:"first_contact_resolution"`
	SLAResolution       Ratio   `json:"sla_resolution"`
}

// Backlog counts tickets neither resolved nor closed.
type Backlog struct {
	Total int `json:"total"`
	// Breached is how many have a running deadline that has passed.
	Breached   int            `json:"breached"`
	ByPriority map[string]int `json:"by_priority"` // "P1" to "P4"
	ByStatus   map[string]int `json:"by_status"`
	ByTeam     []Count        `json:"by_team"`     // team 0: none
	ByAssignee []Count        `json:"by_assignee"` // assignee 0: unassigned
}

// Count is the backlog of one team or assignee.
type Count struct {
	ID    int64 `json:"id"`
	Count int   `json:"count"`
}

// Compute builds the report of q from store.
func Compute(ctx context.Context, store console.Store, q Query) (*Report, error) {
	q, loc, err := q.normalize()
	if err != nil {
		return nil, err
	}
	starts, err := bucketStarts(q.Period, q.Bucket, loc)
	if err != nil {
		return nil, err
	}
	r := &Report{From: q.Period.From, To: q.Period.To, Bucket: q.Bucket, TimeZone: loc.String(), Series: make([]Point, len(starts)-1)}
	for i := range r.Series {
		r.Series[i].Start, r.Series[i].End = starts[i], starts[i+1]
	}

	cals, err := calendars(ctx, store)
	if err != nil {
		return nil, err
	}
	f := console.KPIFilter{Period: q.Period, TechnicianID: q.TechnicianID, TeamID: q.TeamID}
	resolved, err := store.FindResolvedTickets(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("kpi: resolved tickets: %w", err)
	}
	facts := make([]fact, len(resolved))
	for i, t := range resolved {
		facts[i] = factOf(t, cals)
	}
	r.Totals = summarize(facts)
	byTech := map[int64][]fact{}
	for _, f := range facts {
		byTech[f.t.AssigneeID] = append(byTech[f.t.AssigneeID], f)
	}
	for id, fs := range byTech {
		s := summarize(fs)
		r.Technicians = append(r.Technicians, Technician{ID: id, Resolved: s.Resolved, MTTRBusinessSeconds: s.MTTR.BusinessSeconds,
			FirstContact: s.FirstContact, SLAResolution: s.SLA.Resolution})
	}
	sort.Slice(r.Technicians, func(i, j int) bool {
		a, b := r.Technicians[i], r.Technicians[j]
		return a.Resolved > b.Resolved || a.Resolved == b.Resolved && a.ID < b.ID
	})
	// facts are ordered by resolution time: each bucket is a slice of them.
	lo := 0
	for i := range r.Series {
		p := &r.Series[i]
		hi := lo + sort.Search(len(facts)-lo, func(k int) bool { return !facts[lo+k].t.ResolvedAt.Before(p.End) })
		p.Stats = summarize(facts[lo:hi])
		lo = hi
	}

	if q.TeamID == 0 {
		var sum console.CSATStats
		for i := range r.Series {
			p := &r.Series[i]
			bf := f
			bf.Period = console.Period{From: maxTime(p.Start, q.Period.From), To: minTime(p.End, q.Period.To)}
			st, err := store.CSATStats(ctx, bf)
			if err != nil {
				return nil, fmt.Errorf("kpi: CSAT: %w", err)
			}
			p.CSAT = csatOf(st)
			sum.Sessions += st.Sessions
			sum.Responses += st.Responses
			sum.Sum += st.Sum
			for k, n := range st.Distribution {
				sum.Distribution[k] += n
			}
		}
		r.Totals.CSAT = csatOf(&sum)
	}
	if r.Backlog, err = backlog(ctx, store, q); err != nil {
		return nil, err
	}
	return r, nil
}

// normalize applies the defaults and validates q.
func (q Query) normalize() (Query, *time.Location, error) {
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	if q.Period.To.IsZero() {
		q.Period.To = q.Now
	}
	if q.Period.From.IsZero() {
		q.Period.From = q.Period.To.Add(-DefaultSpan)
	}
	if !q.Period.From.Before(q.Period.To) {
		return q, nil, console.Errorf(console.CodeInvalid, "the period must end after it starts")
	}
	if q.Bucket == "" {
		q.Bucket = Day
	}
	if q.Bucket != Day && q.Bucket != Week && q.Bucket != Month {
		return q, nil, console.Errorf(console.CodeInvalid, "bucket must be day, week or month")
	}
	cal := console.BusinessCalendar{TimeZone: q.TimeZone}
	loc, err := cal.Location()
	if err != nil {
		return q, nil, err
	}
	return q, loc, nil
}

// bucketStarts returns the bucket boundaries covering p: the start of each
// bucket and, last, the end of the last one.
func bucketStarts(p console.Period, b Bucket, loc *time.Location) ([]time.Time, error) {
	y, m, d := p.From.In(loc).Date()
	switch b {
	case Week:
		wd := int(time.Date(y, m, d, 0, 0, 0, 0, loc).Weekday()+6) % 7 // Monday = 0
		d -= wd
	case Month:
		d = 1
	}
	var starts []time.Time
	for i := 0; ; i++ {
		var s time.Time
		switch b {
		case Day:
			s = time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		case Week:
			s = time.Date(y, m, d+7*i, 0, 0, 0, 0, loc)
		case Month:
			s = time.Date(y, m+time.Month(i), 1, 0, 0, 0, 0, loc)
		}
		starts = append(starts, s)
		if !s.Before(p.To) {
			return starts, nil
		}
		if len(starts) > MaxBuckets {
			return nil, console.Errorf(console.CodeInvalid, "more than %d %ss in the period", MaxBuckets, b)
		}
	}
}

// calendars compiles every SLA policy's calendar by policy ID.
func calendars(ctx context.Context, store console.Store) (map[int64]*sla.Calendar, error) {
	ps, err := store.FindSLAPolicies(ctx)
	if err != nil {
		return nil, fmt.Errorf("kpi: SLA policies: %w", err)
	}
	cals := make(map[int64]*sla.Calendar, len(ps))
	for _, p := range ps {
		cals[p.ID] = sla.For(p)
	}
	return cals, nil
}

// fact is one resolved ticket with its derived measures.
type fact struct {
	t            *console.ResolvedTicket
	wall, biz    time.Duration
	firstContact bool
}

func factOf(t *console.ResolvedTicket, cals map[int64]*sla.Calendar) fact {
	cal := cals[t.SLAPolicyID]
	if cal == nil {
		cal = sla.UTC // no policy, or deleted since: around the clock
	}
	return fact{
		t:            t,
		wall:         max(t.ResolvedAt.Sub(t.CreatedAt), 0),
		biz:          max(cal.Between(t.CreatedAt, t.ResolvedAt)-t.PausedFor, 0),
		firstContact: FirstContact(t),
	}
}

// FirstContact reports whether t counts as resolved at first contact: it
// was never reopened, its level at resolution is L1 (no escalation), and
// it took at most one public reply by a technician and at most one remote
// session. docs/kpis.md gives the reasons.
func FirstContact(t *console.ResolvedTicket) bool {
	return t.ReopenCount == 0 && t.Level <= console.L1 && t.PublicComments <= 1 && t.Sessions <= 1
}

// summarize computes the ticket KPIs of fs (CSAT is added separately).
func summarize(fs []fact) Stats {
	s := Stats{Resolved: len(fs)}
	if len(fs) == 0 {
		return s
	}
	wall := make([]time.Duration, len(fs))
	biz := make([]time.Duration, len(fs))
	var fcr, frOf, frMet, resOf, resMet int
	for i, f := range fs {
		wall[i], biz[i] = f.wall, f.biz
		if f.firstContact {
			fcr++
		}
		if t := f.t; !t.FirstResponseDue.IsZero() {
			frOf++
			if !t.FirstRespondedAt.IsZero() && !t.FirstRespondedAt.After(t.FirstResponseDue) {
				frMet++
			}
		}
		if t := f.t; !t.ResolutionDue.IsZero() {
			resOf++
			if !t.ResolvedAt.After(t.ResolutionDue) {
				resMet++
			}
		}
	}
	s.MTTR = MTTR{WallSeconds: mean(wall), WallMedianSeconds: median(wall), BusinessSeconds: mean(biz), BusinessMedianSeconds: median(biz)}
	s.FirstContact = ratio(fcr, len(fs))
	s.SLA = SLA{FirstResponse: ratio(frMet, frOf), Resolution: ratio(resMet, resOf)}
	return s
}

func mean(ds []time.Duration) float64 {
	var sum float64
	for _, d := range ds {
		sum += d.Seconds()
	}
	return sum / float64(len(ds))
}

// median sorts ds and returns its median; the mean of the two middle
// values for an even count.
func median(ds []time.Duration) float64 {
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2].Seconds()
	}
	return (ds[n/2-1] + ds[n/2]).Seconds() / 2
}

func csatOf(st *console.CSATStats) *CSAT {
	return &CSAT{Sessions: st.Sessions, Responses: st.Responses, Average: st.Average(), ResponseRate: st.ResponseRate(),
		Distribution: st.Distribution}
}

// backlog counts the open tickets that q's technician and team filters
// select, and those of them in breach at q.Now.
func backlog(ctx context.Context, store console.Store, q Query) (Backlog, error) {
	b := Backlog{ByPriority: map[string]int{}, ByStatus: map[string]int{}}
	es, err := store.Backlog(ctx)
	if err != nil {
		return b, fmt.Errorf("kpi: backlog: %w", err)
	}
	teams, assignees := map[int64]int{}, map[int64]int{}
	for _, e := range es {
		if q.TechnicianID != 0 && e.AssigneeID != q.TechnicianID || q.TeamID != 0 && e.TeamID != q.TeamID {
			continue
		}
		b.Total += e.Count
		b.ByPriority[e.Priority.String()] += e.Count
		b.ByStatus[string(e.Status)] += e.Count
		teams[e.TeamID] += e.Count
		assignees[e.AssigneeID] += e.Count
	}
	b.ByTeam, b.ByAssignee = counts(teams), counts(assignees)
	b.Breached, err = store.CountTickets(ctx, console.TicketFilter{SLA: console.SLABreached, AssigneeID: q.TechnicianID,
		TeamID: q.TeamID, Now: q.Now})
	if err != nil {
		return b, fmt.Errorf("kpi: breached tickets: %w", err)
	}
	return b, nil
}

// counts orders m by count, most first, then by ID.
func counts(m map[int64]int) []Count {
	out := make([]Count, 0, len(m))
	for id, n := range m {
		out = append(out, Count{ID: id, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Count > out[j].Count || out[i].Count == out[j].Count && out[i].ID < out[j].ID
	})
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
