package sla

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

var (
	berlin  = mustZone("Europe/Berlin")
	newYork = mustZone("America/New_York")
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// weekdays returns a week with ranges on Monday to Friday.
func weekdays(ranges ...console.MinuteRange) [7][]console.MinuteRange {
	var w [7][]console.MinuteRange
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = ranges
	}
	return w
}

func hm(h, m int) int { return h*60 + m }

// Calendars under test.
var (
	// office: Berlin, 09:00–12:00 and 13:00–17:00 (a lunch break), two holidays.
	office = console.BusinessCalendar{TimeZone: "Europe/Berlin",
		Week:     weekdays(console.MinuteRange{Start: hm(9, 0), End: hm(12, 0)}, console.MinuteRange{Start: hm(13, 0), End: hm(17, 0)}),
		Holidays: []string{"2026-04-03", "2026-12-25"}}
	// nyOffice: New York, 09:00–17:00 on weekdays.
	nyOffice = console.BusinessCalendar{TimeZone: "America/New_York", Week: weekdays(console.MinuteRange{Start: hm(9, 0), End: hm(17, 0)})}
	// night: a Sunday night shift 01:00–04:00 that spans the DST switch hour.
	nightBerlin = console.BusinessCalendar{TimeZone: "Europe/Berlin", Week: [7][]console.MinuteRange{time.Sunday: {{Start: hm(1, 0), End: hm(4, 0)}}}}
	nightNY     = console.BusinessCalendar{TimeZone: "America/New_York", Week: [7][]console.MinuteRange{time.Sunday: {{Start: hm(1, 0), End: hm(4, 0)}}}}
	// allDayBerlin: around the clock, but not on a holiday.
	allDayBerlin = console.BusinessCalendar{TimeZone: "Europe/Berlin", Holidays: []string{"2026-03-30"}}
	// edges: ranges touching midnight on both sides, several per day.
	edges = console.BusinessCalendar{TimeZone: "America/New_York", Week: [7][]console.MinuteRange{
		time.Saturday:  {{Start: 0, End: 30}, {Start: hm(1, 30), End: hm(2, 30)}, {Start: hm(23, 0), End: 24 * 60}},
		time.Sunday:    {{Start: 0, End: hm(3, 0)}, {Start: hm(22, 0), End: 24 * 60}},
		time.Wednesday: {{Start: hm(8, 0), End: hm(8, 1)}}}}
	always = console.BusinessCalendar{}
)

func at(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, loc)
}

func TestAdd(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cal   console.BusinessCalendar
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"inside a range", office, at(berlin, 2026, 3, 2, 10, 0), time.Hour, at(berlin, 2026, 3, 2, 11, 0)},
		{"across lunch", office, at(berlin, 2026, 3, 2, 11, 30), time.Hour, at(berlin, 2026, 3, 2, 13, 30)},
		{"starting at lunch", office, at(berlin, 2026, 3, 2, 12, 30), 30 * time.Minute, at(berlin, 2026, 3, 2, 13, 30)},
		{"before opening", office, at(berlin, 2026, 3, 2, 7, 0), time.Hour, at(berlin, 2026, 3, 2, 10, 0)},
		{"overnight", office, at(berlin, 2026, 3, 2, 16, 0), 2 * time.Hour, at(berlin, 2026, 3, 3, 10, 0)},
		{"over the weekend", office, at(berlin, 2026, 3, 6, 16, 0), 2 * time.Hour, at(berlin, 2026, 3, 9, 10, 0)},
		{"from Saturday", office, at(berlin, 2026, 3, 7, 10, 0), time.Hour, at(berlin, 2026, 3, 9, 10, 0)},
		{"exactly a day ends at closing", office, at(berlin, 2026, 3, 2, 9, 0), 7 * time.Hour, at(berlin, 2026, 3, 2, 17, 0)},
		{"a whole week", office, at(berlin, 2026, 3, 2, 9, 0), 35 * time.Hour, at(berlin, 2026, 3, 6, 17, 0)},
		{"zero", office, at(berlin, 2026, 3, 2, 20, 0), 0, at(berlin, 2026, 3, 2, 20, 0)},
		{"negative", office, at(berlin, 2026, 3, 2, 20, 0), -time.Hour, at(berlin, 2026, 3, 2, 20, 0)},
		{"Christmas holiday", office, at(berlin, 2026, 12, 24, 16, 0), 2 * time.Hour, at(berlin, 2026, 12, 28, 10, 0)},
		{"Good Friday and the weekend", office, at(berlin, 2026, 4, 2, 16, 30), time.Hour, at(berlin, 2026, 4, 6, 9, 30)},
		{"over spring forward, Berlin", office, at(berlin, 2026, 3, 27, 16, 0), 2 * time.Hour, at(berlin, 2026, 3, 30, 10, 0)},
		{"over fall back, Berlin", office, at(berlin, 2026, 10, 23, 16, 0), 2 * time.Hour, at(berlin, 2026, 10, 26, 10, 0)},
		{"over spring forward, New York", nyOffice, at(newYork, 2026, 3, 6, 16, 0), 2 * time.Hour, at(newYork, 2026, 3, 9, 10, 0)},
		{"over fall back, New York", nyOffice, at(newYork, 2026, 10, 30, 16, 0), 2 * time.Hour, at(newYork, 2026, 11, 2, 10, 0)},
		// 01:00 CET + 1h30 of a range that loses 02:00–03:00: 03:30 CEST.
		{"night shift on spring forward, Berlin", nightBerlin, at(berlin, 2026, 3, 29, 0, 0), 90 * time.Minute, at(berlin, 2026, 3, 29, 3, 30)},
		// The 01:00–04:00 range lasts 4 hours when 02:00–03:00 happens twice.
		{"night shift on fall back, Berlin", nightBerlin, at(berlin, 2026, 10, 25, 0, 0), 4 * time.Hour, at(berlin, 2026, 10, 25, 4, 0)},
		{"night shift on spring forward, New York", nightNY, at(newYork, 2026, 3, 8, 1, 0), 2 * time.Hour, at(newYork, 2026, 3, 8, 4, 0)},
		{"night shift on fall back, New York", nightNY, at(newYork, 2026, 11, 1, 1, 0), 3*time.Hour + 30*time.Minute, at(newYork, 2026, 11, 1, 3, 30)},
		// Around the clock with a holiday: the 23-hour Sunday, then Monday is skipped.
		{"all day over spring forward", allDayBerlin, at(berlin, 2026, 3, 28, 23, 0), 4 * time.Hour, at(berlin, 2026, 3, 29, 4, 0)},
		{"all day skips a holiday", allDayBerlin, at(berlin, 2026, 3, 29, 23, 0), 2 * time.Hour, at(berlin, 2026, 3, 31, 1, 0)},
		{"no hours: wall time", always, time.Date(2026, 3, 7, 22, 0, 0, 0, time.UTC), 5 * time.Hour, time.Date(2026, 3, 8, 3, 0, 0, 0, time.UTC)},
		{"range ending at midnight continues after it", edges, at(newYork, 2026, 3, 7, 23, 30), time.Hour, at(newYork, 2026, 3, 8, 0, 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Add(tc.cal, tc.start, tc.d)
			if !got.Equal(tc.want) {
				t.Errorf("Add(%v, %v) = %v, want %v", tc.start, tc.d, got.In(tc.want.Location()), tc.want)
			}
			if tc.d > 0 {
				if back := Between(tc.cal, tc.start, got); back != tc.d {
					t.Errorf("Between(start, Add(start, d)) = %v, want %v", back, tc.d)
				}
			}
		})
	}
}

func TestBetween(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cal      console.BusinessCalendar
		from, to time.Time
		want     time.Duration
	}{
		{"same instant", office, at(berlin, 2026, 3, 2, 10, 0), at(berlin, 2026, 3, 2, 10, 0), 0},
		{"lunch excluded", office, at(berlin, 2026, 3, 2, 11, 0), at(berlin, 2026, 3, 2, 14, 0), 2 * time.Hour},
		{"inside lunch", office, at(berlin, 2026, 3, 2, 12, 10), at(berlin, 2026, 3, 2, 12, 50), 0},
		{"night only", office, at(berlin, 2026, 3, 2, 17, 0), at(berlin, 2026, 3, 3, 9, 0), 0},
		{"weekend", office, at(berlin, 2026, 3, 6, 17, 0), at(berlin, 2026, 3, 9, 9, 0), 0},
		{"a week", office, at(berlin, 2026, 3, 2, 0, 0), at(berlin, 2026, 3, 9, 0, 0), 35 * time.Hour},
		{"reversed is negative", office, at(berlin, 2026, 3, 3, 10, 0), at(berlin, 2026, 3, 2, 16, 0), -2 * time.Hour},
		{"holiday week", office, at(berlin, 2026, 12, 21, 0, 0), at(berlin, 2026, 12, 28, 0, 0), 28 * time.Hour},
		{"office hours keep their length on spring forward", office, at(berlin, 2026, 3, 27, 16, 0), at(berlin, 2026, 3, 30, 10, 0), 2 * time.Hour},
		{"New York weekend over spring forward", nyOffice, at(newYork, 2026, 3, 6, 16, 0), at(newYork, 2026, 3, 9, 10, 0), 2 * time.Hour},
		{"Berlin night shift, 23-hour day", nightBerlin, at(berlin, 2026, 3, 29, 0, 0), at(berlin, 2026, 3, 30, 0, 0), 2 * time.Hour},
		{"Berlin night shift, 25-hour day", nightBerlin, at(berlin, 2026, 10, 25, 0, 0), at(berlin, 2026, 10, 26, 0, 0), 4 * time.Hour},
		{"New York night shift, 23-hour day", nightNY, at(newYork, 2026, 3, 8, 0, 0), at(newYork, 2026, 3, 9, 0, 0), 2 * time.Hour},
		{"New York night shift, 25-hour day", nightNY, at(newYork, 2026, 11, 1, 0, 0), at(newYork, 2026, 11, 2, 0, 0), 4 * time.Hour},
		{"all day: 23-hour Sunday, holiday Monday", allDayBerlin, at(berlin, 2026, 3, 29, 0, 0), at(berlin, 2026, 3, 31, 0, 0), 23 * time.Hour},
		{"all day: 25-hour Sunday", allDayBerlin, at(berlin, 2026, 10, 25, 0, 0), at(berlin, 2026, 10, 26, 0, 0), 25 * time.Hour},
		{"no hours: wall time", always, at(berlin, 2026, 10, 25, 0, 0), at(berlin, 2026, 10, 26, 0, 0), 25 * time.Hour},
		{"time zone of the arguments does not matter", office, at(berlin, 2026, 3, 2, 9, 0).UTC(), at(newYork, 2026, 3, 2, 11, 0), 7 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Between(tc.cal, tc.from, tc.to); got != tc.want {
				t.Errorf("Between(%v, %v) = %v, want %v", tc.from, tc.to, got, tc.want)
			}
		})
	}
}

// TestAddBetweenProperties checks, for random starts and durations on every
// calendar, that Between(a, Add(a, d)) == d, that Add is additive and
// monotonic, and that the result is never inside a non-business gap unless
// d is zero.
func TestAddBetweenProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	year := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, cal := range []console.BusinessCalendar{office, nyOffice, nightBerlin, nightNY, allDayBerlin, edges, always} {
		c, err := Compile(cal)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprint(cal.TimeZone, len(cal.Holidays), cal.Week[time.Sunday]), func(t *testing.T) {
			for range 3000 {
				a := year.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
				d1 := time.Duration(rng.Int64N(int64(60 * time.Hour)))
				d2 := time.Duration(rng.Int64N(int64(60 * time.Hour)))
				end := c.Add(a, d1)
				if got := c.Between(a, end); got != d1 {
					t.Fatalf("Between(%v, Add(%v, %v) = %v) = %v", a, a, d1, end, got)
				}
				if got, want := c.Add(end, d2), c.Add(a, d1+d2); !got.Equal(want) {
					t.Fatalf("Add(Add(%v, %v), %v) = %v, want Add(a, d1+d2) = %v", a, d1, d2, got, want)
				}
				if d2 > d1 && c.Add(a, d2).Before(end) {
					t.Fatalf("Add not monotonic at %v: %v, %v", a, d1, d2)
				}
				if got := c.Between(a, end.Add(time.Minute)) - c.Between(a, end); d1 > 0 && got == 0 && c.Between(end.Add(-time.Minute), end) == 0 {
					t.Fatalf("Add(%v, %v) = %v lies outside business hours", a, d1, end)
				}
			}
		})
	}
}

func TestCompileRejectsInvalidCalendars(t *testing.T) {
	for _, cal := range []console.BusinessCalendar{
		{TimeZone: "Mars/Olympus"},
		{Week: [7][]console.MinuteRange{1: {{Start: 600, End: 500}}}},
		{Holidays: []string{"25.12.2026"}},
	} {
		if _, err := Compile(cal); console.ErrorCode(err) != console.CodeInvalid {
			t.Errorf("Compile(%+v) = %v, want an invalid-input error", cal, err)
		}
	}
	// The lenient path used by Add and Between counts an unknown zone as UTC.
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if got := Add(console.BusinessCalendar{TimeZone: "Mars/Olympus"}, start, time.Hour); !got.Equal(start.Add(time.Hour)) {
		t.Errorf("Add with an unknown zone = %v", got)
	}
}

func BenchmarkAdd(b *testing.B) {
	c, _ := Compile(office)
	start := at(berlin, 2026, 3, 6, 16, 0)
	for b.Loop() {
		c.Add(start, 40*time.Hour)
	}
}

func BenchmarkBetween(b *testing.B) {
	c, _ := Compile(office)
	from, to := at(berlin, 2026, 3, 2, 10, 0), at(berlin, 2026, 3, 13, 15, 0)
	for b.Loop() {
		c.Between(from, to)
	}
}
