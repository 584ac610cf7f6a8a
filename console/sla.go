package console

import (
	"context"
	"time"
)

// SLATarget is how soon a ticket of one priority must get a first response
// and a resolution, counted in business hours of the policy's calendar.
type SLATarget struct {
	FirstResponse time.Duration `json:"first_response"`
	Resolution    time.Duration `json:"resolution"`
}

// SLAPolicy sets the deadlines of the tickets it applies to.
type SLAPolicy struct {
	ID       int64
	Name     string // unique, compared case-insensitively
	Default  bool   // applied to new tickets; at most one policy is the default
	Targets  map[Priority]SLATarget
	Calendar BusinessCalendar
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the policy's fields and bounds.
func (p *SLAPolicy) Validate() error {
	if err := checkText("policy name", p.Name, MaxNameLen, true); err != nil {
		return err
	}
	if len(p.Targets) == 0 {
		return Errorf(CodeInvalid, "policy needs a target for at least one priority")
	}
	for prio, t := range p.Targets {
		if !prio.Valid() {
			return Errorf(CodeInvalid, "priority must be P1 to P4")
		}
		if t.FirstResponse <= 0 || t.Resolution <= 0 || t.FirstResponse > t.Resolution {
			return Errorf(CodeInvalid, "%s targets must be positive with first response before resolution", prio)
		}
	}
	return p.Calendar.Validate()
}

// BusinessCalendar says when the SLA clock runs. A calendar without any
// hours runs around the clock.
type BusinessCalendar struct {
	TimeZone string           `json:"tz"`                 // IANA name; empty means UTC
	Week     [7][]MinuteRange `json:"week"`               // indexed by time.Weekday
	Holidays []string         `json:"holidays,omitempty"` // YYYY-MM-DD in TimeZone
}

// MinuteRange is [Start, End) in minutes after local midnight.
type MinuteRange struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Calendar bounds.
const (
	maxRangesPerDay = 8
	maxHolidays     = 400
)

// Validate checks the calendar's ranges, zone and holidays.
func (c *BusinessCalendar) Validate() error {
	if _, err := c.Location(); err != nil {
		return err
	}
	for day, ranges := range c.Week {
		if len(ranges) > maxRangesPerDay {
			return Errorf(CodeInvalid, "%s has more than %d ranges", time.Weekday(day), maxRangesPerDay)
		}
		prevEnd := 0
		for _, r := range ranges {
			if r.Start < prevEnd || r.End <= r.Start || r.End > 24*60 {
				return Errorf(CodeInvalid, "%s has an invalid or overlapping range", time.Weekday(day))
			}
			prevEnd = r.End
		}
	}
	if len(c.Holidays) > maxHolidays {
		return Errorf(CodeInvalid, "more than %d holidays", maxHolidays)
	}
	for _, h := range c.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			return Errorf(CodeInvalid, "holiday %q is not YYYY-MM-DD", h)
		}
	}
	return nil
}

// Location returns the calendar's time zone.
func (c *BusinessCalendar) Location() (*time.Location, error) {
	if c.TimeZone == "" {
		return time.UTC, nil
	}
	if len(c.TimeZone) > MaxShortLen {
		return nil, Errorf(CodeInvalid, "unknown time zone")
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return nil, Errorf(CodeInvalid, "unknown time zone %q", c.TimeZone)
	}
	return loc, nil
}

// SLAPolicyService stores SLA policies.
type SLAPolicyService interface {
	// CreateSLAPolicy stores p; if p is the default, the previous default
	// stops being one.
	CreateSLAPolicy(ctx context.Context, p *SLAPolicy) error
	FindSLAPolicyByID(ctx context.Context, id int64) (*SLAPolicy, error)
	// FindDefaultSLAPolicy returns ErrNotFound if no policy is the default.
	FindDefaultSLAPolicy(ctx context.Context) (*SLAPolicy, error)
	// FindSLAPolicies returns every policy by name.
	FindSLAPolicies(ctx context.Context) ([]*SLAPolicy, error)
	// UpdateSLAPolicy replaces the policy with p.ID by p. Deadlines already
	// computed for tickets do not change.
	UpdateSLAPolicy(ctx context.Context, p *SLAPolicy) error
	// DeleteSLAPolicy removes the policy; its tickets keep their deadlines.
	DeleteSLAPolicy(ctx context.Context, id int64) error
}
