package inventory

import "time"

// DiagStatus is a diagnostic's verdict.
type DiagStatus string

// Diagnostic verdicts.
const (
	DiagOK      DiagStatus = "ok"
	DiagWarn    DiagStatus = "warn"
	DiagFail    DiagStatus = "fail"
	DiagUnknown DiagStatus = "unknown" // the check could not run; Summary says why
)

// DiagReport is the result of one diagnostics run, requested by a
// technician and attached to a ticket.
type DiagReport struct {
	Header
	Results []DiagResult `json:"results"`
}

// DiagResult is one diagnostic. Check names it; Summary is one line for a
// technician; the detail lists that apply to the check are filled, the others
// are empty.
type DiagResult struct {
	Check      string     `json:"check"` // "disk_space", "top_processes", …
	Status     DiagStatus `json:"status"`
	Summary    string     `json:"summary"`
	DurationMS int64      `json:"duration_ms"`

	Disks     []DiskUsage    `json:"disks,omitempty"`      // disk_space
	TopCPU    []ProcessUsage `json:"top_cpu,omitempty"`    // top_processes
	TopMemory []ProcessUsage `json:"top_memory,omitempty"` // top_processes
	Services  []Service      `json:"services,omitempty"`   // failed_services
	Log       []LogEntry     `json:"log,omitempty"`        // error_log
	Probes    []Probe        `json:"probes,omitempty"`     // dns, gateway, console
	Clock     *Clock         `json:"clock,omitempty"`      // time_sync
	Reasons   []string       `json:"reasons,omitempty"`    // pending_reboot
}

// DiskUsage is one filesystem's fill level.
type DiskUsage struct {
	Mount       string  `json:"mount"`
	TotalBytes  uint64  `json:"total_bytes"`
	FreeBytes   uint64  `json:"free_bytes"`
	UsedPercent float64 `json:"used_percent"`
}

// ProcessUsage is one process's resource use.
type ProcessUsage struct {
	PID        int32   `json:"pid"`
	Name       string  `json:"name"`
	User       string  `json:"user,omitempty"`
	CPUPercent float64 `json:"cpu_percent"` // of one core, sampled over the check
	RSSBytes   uint64  `json:"rss_bytes"`
}

// LogEntry is one line from the system log.
type LogEntry struct {
	Time     time.Time `json:"time,omitzero"`
	Unit     string    `json:"unit,omitempty"` // systemd unit or syslog identifier
	Priority int       `json:"priority"`       // syslog priority: 0 emerg … 3 err
	Message  string    `json:"message"`
}

// Probe is one reachability test.
type Probe struct {
	Target    string `json:"target"`           // what was tested: "dns 10.0.0.53", "console reach.example.com:443"
	OK        bool   `json:"ok"`               //
	LatencyMS int64  `json:"latency_ms"`       //
	Detail    string `json:"detail,omitempty"` // resolved addresses, or the error
}

// Clock is the time synchronisation state.
type Clock struct {
	Synchronized bool   `json:"synchronized"`           // the kernel considers the clock synchronized
	Service      string `json:"service,omitempty"`      // "systemd-timesyncd", "chronyd", "ntpd"
	OffsetMS     int64  `json:"offset_ms"`              // estimated offset from the reference
	MaxErrorMS   int64  `json:"max_error_ms,omitempty"` // kernel's maximum error estimate
}

// Validate checks a diagnostics report's bounds and values.
func (d *DiagReport) Validate() error {
	if err := d.Header.validate(); err != nil {
		return err
	}
	return each("results", d.Results, MaxDiagResults, (*DiagResult).Validate)
}

// Validate checks one result's bounds and values.
func (r *DiagResult) Validate() error {
	return first(
		ident("check", r.Check, true),
		oneOf("status", string(r.Status), string(DiagOK), string(DiagWarn), string(DiagFail), string(DiagUnknown)),
		text("summary", r.Summary, MaxLong, true),
		bounded("duration_ms", r.DurationMS, 0, 1<<40),
		each("disks", r.Disks, MaxDiagItems, func(u *DiskUsage) error {
			return first(text("mount", u.Mount, MaxLong, true), percent("used_percent", u.UsedPercent, 100))
		}),
		each("top_cpu", r.TopCPU, MaxDiagItems, (*ProcessUsage).validate),
		each("top_memory", r.TopMemory, MaxDiagItems, (*ProcessUsage).validate),
		each("services", r.Services, MaxDiagItems, func(s *Service) error {
			return first(
				text("name", s.Name, MaxName, true),
				text("description", s.Description, MaxName, false),
				text("state", s.State, MaxShort, true),
				text("sub_state", s.SubState, MaxShort, false),
				text("startup", s.Startup, MaxShort, false),
			)
		}),
		each("log", r.Log, MaxDiagItems, func(e *LogEntry) error {
			return first(
				timestamp("time", e.Time, false),
				text("unit", e.Unit, MaxName, false),
				bounded("priority", e.Priority, 0, 7),
				text("message", e.Message, MaxLong, true),
			)
		}),
		each("probes", r.Probes, MaxDiagItems, func(p *Probe) error {
			return first(
				text("target", p.Target, MaxName, true),
				bounded("latency_ms", p.LatencyMS, 0, 1<<40),
				text("detail", p.Detail, MaxLong, false),
			)
		}),
		r.Clock.validate(),
		each("reasons", r.Reasons, MaxReasons, func(s *string) error { return text("", *s, MaxLong, true) }),
	)
}

func (p *ProcessUsage) validate() error {
	return first(
		bounded("pid", int64(p.PID), 0, 1<<31-1),
		text("name", p.Name, MaxName, true),
		text("user", p.User, MaxShort, false),
		percent("cpu_percent", p.CPUPercent, 100*4096),
	)
}

func (c *Clock) validate() error {
	if c == nil {
		return nil
	}
	return within("clock", first(
		text("service", c.Service, MaxShort, false),
		bounded("offset_ms", c.OffsetMS, -1<<40, 1<<40),
		bounded("max_error_ms", c.MaxErrorMS, 0, 1<<40),
	))
}

// percent bounds a percentage to [0, max]; NaN is refused.
func percent(field string, p, max float64) error {
	if !(p >= 0 && p <= max) {
		return invalid(field, "is outside [0, %g]", max)
	}
	return nil
}
