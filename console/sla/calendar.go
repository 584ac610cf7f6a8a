// Package sla keeps the SLA clock of tickets: business-hours arithmetic on a
// console.BusinessCalendar (Add, Between) and the first-response and
// resolution deadlines of a ticket under a console.SLAPolicy (Start, Plan,
// Responded): the clock pauses while a ticket is pending or resolved, and
// deadlines move by the business time it was stopped.
//
// Business hours are local wall-clock minutes in the calendar's time zone,
// so a day on which daylight saving time starts or ends has its real
// length: 09:00–17:00 is always eight hours, 00:00–24:00 is 23 or 25 hours
// on a switch day. docs/sla.md describes the rules with examples.
package sla

import (
	"sync"
	"time"

	"github.com/reachdesk/reach/console"
)

// Calendar is a compiled console.BusinessCalendar. It is immutable and safe
// for concurrent use; compile a calendar once when it is used many times.
type Calendar struct {
	loc      *time.Location
	week     [7][]console.MinuteRange
	allDay   bool         // no hours configured: every day is 00:00–24:00
	holidays map[int]bool // local dates as yyyymmdd
	wall     bool         // allDay without holidays: business time is wall time
}

// maxSpans is the most business ranges a day can have (the domain allows 8).
const maxSpans = 8

// maxGapDays bounds the search for the next business day. A valid calendar
// (at most 400 holidays, or no hours at all) never has a gap this long; an
// invalid one falls back to wall time instead of looping.
const maxGapDays = 4000

// fullDay is the range of a calendar without hours.
var fullDay = []console.MinuteRange{{Start: 0, End: 24 * 60}}

// UTC is the calendar of tickets without an SLA policy: around the clock in
// UTC, so that business time equals wall time.
var UTC = &Calendar{loc: time.UTC, allDay: true, wall: true}

// Compile validates cal and compiles it.
func Compile(cal console.BusinessCalendar) (*Calendar, error) {
	if err := cal.Validate(); err != nil {
		return nil, err
	}
	return compile(cal), nil
}

// compile builds a Calendar from cal without validating it: an unknown time
// zone counts as UTC, malformed holidays and ranges are skipped. Add and
// Between use it, so that they never fail on a calendar that the store
// validated when it was saved.
func compile(cal console.BusinessCalendar) *Calendar {
	c := &Calendar{loc: location(cal.TimeZone), allDay: true}
	for day, ranges := range cal.Week {
		prevEnd := 0
		for _, r := range ranges {
			if r.Start < prevEnd || r.End <= r.Start || r.End > 24*60 || len(c.week[day]) == maxSpans {
				continue
			}
			c.week[day] = append(c.week[day], r)
			prevEnd = r.End
			c.allDay = false
		}
	}
	for _, h := range cal.Holidays {
		d, err := time.Parse(time.DateOnly, h)
		if err != nil {
			continue
		}
		if c.holidays == nil {
			c.holidays = make(map[int]bool, len(cal.Holidays))
		}
		c.holidays[dateKey(d.Date())] = true
	}
	c.wall = c.allDay && len(c.holidays) == 0
	return c
}

// locations caches loaded time zones: time.LoadLocation reads the zone
// database on every call.
var locations sync.Map // string → *time.Location

// location returns the zone named name, UTC for "" or an unknown name.
func location(name string) *time.Location {
	if name == "" || name == "UTC" {
		return time.UTC
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location)
	}
	cal := console.BusinessCalendar{TimeZone: name}
	loc, err := cal.Location()
	if err != nil {
		return time.UTC
	}
	locations.Store(name, loc)
	return loc
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

func dateKey(y int, m time.Month, d int) int { return y*10000 + int(m)*100 + d }

// span is a business interval [start, end).
type span struct{ start, end time.Time }

// day returns the business spans of local day y-m-d (d may overflow the
// month: it is normalized), in order and without overlap, and the start of
// the day. Times are built from wall-clock minutes, so DST switch days
// have their real length; a range start in a skipped hour moves to the
// first instant after it.
func (c *Calendar) day(y int, m time.Month, d int, buf *[maxSpans]span) ([]span, time.Time) {
	midnight := time.Date(y, m, d, 0, 0, 0, 0, c.loc)
	y, m, d = midnight.Date()
	if c.holidays[dateKey(y, m, d)] {
		return nil, midnight
	}
	ranges := c.week[midnight.Weekday()]
	if c.allDay {
		ranges = fullDay
	}
	out := buf[:0]
	var prev time.Time
	for _, r := range ranges {
		s := time.Date(y, m, d, 0, r.Start, 0, 0, c.loc)
		e := time.Date(y, m, d, 0, r.End, 0, 0, c.loc)
		if s.Before(prev) {
			s = prev
		}
		if !e.After(s) {
			continue
		}
		out = append(out, span{s, e})
		prev = e
	}
	return out, midnight
}

// Add returns the instant at which d of business time has passed since
// start. A d of zero or less returns start. When d ends exactly at the end
// of a business range, Add returns that end (17:00, not the next morning).
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	if c.wall {
		return start.Add(d)
	}
	y, m, day := start.In(c.loc).Date()
	var buf [maxSpans]span
	gap := 0
	for i := 0; ; i++ {
		spans, _ := c.day(y, m, day+i, &buf)
		if len(spans) == 0 {
			if gap++; gap > maxGapDays {
				return start.Add(d)
			}
			continue
		}
		gap = 0
		for _, s := range spans {
			if !s.end.After(start) {
				continue
			}
			from := s.start
			if start.After(from) {
				from = start
			}
			if avail := s.end.Sub(from); d <= avail {
				return from.Add(d).In(start.Location())
			} else {
				d -= avail
			}
		}
	}
}

// Between returns the business time in [from, to); it is negative when to
// is before from (Between(to, from) negated), so that a deadline's
// remaining time is Between(now, due) whether or not it has passed.
func (c *Calendar) Between(from, to time.Time) time.Duration {
	if to.Before(from) {
		return -c.Between(to, from)
	}
	if c.wall {
		return to.Sub(from)
	}
	y, m, day := from.In(c.loc).Date()
	var buf [maxSpans]span
	var total time.Duration
	for i := 0; ; i++ {
		spans, midnight := c.day(y, m, day+i, &buf)
		if !midnight.Before(to) {
			return total
		}
		for _, s := range spans {
			lo, hi := s.start, s.end
			if from.After(lo) {
				lo = from
			}
			if to.Before(hi) {
				hi = to
			}
			if hi.After(lo) {
				total += hi.Sub(lo)
			}
		}
	}
}

// Add returns the instant at which d of business time of cal has passed
// since start; see Calendar.Add. cal is expected to be valid (the store
// validates policies): an unknown zone counts as UTC.
func Add(cal console.BusinessCalendar, start time.Time, d time.Duration) time.Time {
	return compile(cal).Add(start, d)
}

// Between returns the business time of cal in [from, to), negative when to
// is before from; see Calendar.Between.
func Between(cal console.BusinessCalendar, from, to time.Time) time.Duration {
	return compile(cal).Between(from, to)
}
