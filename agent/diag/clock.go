package diag

import (
	"context"
	"fmt"
	"slices"

	"github.com/shirou/gopsutil/v3/process"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// timeServices are the processes that discipline the clock.
var timeServices = []string{"chronyd", "ntpd", "systemd-timesyncd", "openntpd", "timed", "w32time"}

// timeSync reports whether the kernel considers the clock synchronized and
// which time service runs.
func (r *Runner) timeSync(ctx context.Context) inv.DiagResult {
	synced, offset, maxErr, err := kernelClock()
	if err != nil {
		return unknown(err.Error())
	}
	service := runningTimeService(ctx)
	clock := &inv.Clock{Synchronized: synced, Service: service, OffsetMS: offset.Milliseconds(), MaxErrorMS: maxErr.Milliseconds()}
	switch {
	case synced:
		return inv.DiagResult{Status: inv.DiagOK, Clock: clock,
			Summary: fmt.Sprintf("clock synchronized by %s, estimated error ±%d ms", firstOf(service, "an NTP client"), clock.MaxErrorMS)}
	case service != "":
		return inv.DiagResult{Status: inv.DiagWarn, Clock: clock, Summary: "clock not synchronized although " + service + " is running"}
	}
	return inv.DiagResult{Status: inv.DiagWarn, Clock: clock,
		Summary: "clock not synchronized: no time service running (chronyd, ntpd, systemd-timesyncd)"}
}

// runningTimeService returns the first time service found among the
// running processes, or "".
func runningTimeService(ctx context.Context) string {
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return ""
	}
	for _, p := range procs {
		if name, err := p.NameWithContext(ctx); err == nil && slices.Contains(timeServices, name) {
			return name
		}
	}
	return ""
}
