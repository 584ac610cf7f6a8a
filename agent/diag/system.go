package diag

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v3/mem"
	"github.com/shirou/gopsutil/v3/process"

	"github.com/reachdesk/reach/agent/inventory"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// Disk fill thresholds, in percent used (as df computes it).
const (
	diskWarnPercent = 85
	diskFailPercent = 95
)

// diskSpace reports how full the writable local filesystems are, fullest
// first.
func (r *Runner) diskSpace(ctx context.Context) inv.DiagResult {
	f := r.inv.Filesystems(ctx)
	if !f.Status.OK {
		return unknown(f.Status.Reason)
	}
	var usage []inv.DiskUsage
	for _, fs := range f.Filesystems {
		if fs.ReadOnly || fs.UsedBytes+fs.FreeBytes == 0 {
			continue
		}
		pct := 100 * float64(fs.UsedBytes) / float64(fs.UsedBytes+fs.FreeBytes)
		usage = append(usage, inv.DiskUsage{Mount: fs.Mount, TotalBytes: fs.TotalBytes, FreeBytes: fs.FreeBytes,
			UsedPercent: float64(int(pct*10)) / 10})
	}
	if len(usage) == 0 {
		return inv.DiagResult{Status: inv.DiagOK, Summary: "no writable local filesystems"}
	}
	slices.SortFunc(usage, func(a, b inv.DiskUsage) int { return cmp.Compare(b.UsedPercent, a.UsedPercent) })
	usage = usage[:min(len(usage), inv.MaxDiagItems)]
	worst := usage[0]
	res := inv.DiagResult{Status: inv.DiagOK, Disks: usage}
	switch {
	case worst.UsedPercent >= diskFailPercent:
		res.Status = inv.DiagFail
	case worst.UsedPercent >= diskWarnPercent:
		res.Status = inv.DiagWarn
	}
	res.Summary = fmt.Sprintf("fullest: %s %.0f%% used, %s free (%d filesystems checked)", worst.Mount, worst.UsedPercent,
		inventory.HumanBytes(worst.FreeBytes), len(usage))
	return res
}

// topN is how many processes each top list keeps.
const topN = 5

// memoryWarnPercent is the RAM use that makes top_processes warn.
const memoryWarnPercent = 90

// topProcesses samples every process's CPU time over SampleInterval and
// reports the top CPU and memory users.
func (r *Runner) topProcesses(ctx context.Context) inv.DiagResult {
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return unknown(fmt.Sprintf("list processes: %v", err))
	}
	before := make(map[int32]float64, len(procs))
	for _, p := range procs {
		if t, err := p.TimesWithContext(ctx); err == nil {
			before[p.Pid] = t.User + t.System
		}
	}
	start := time.Now()
	select {
	case <-time.After(r.opts.SampleInterval):
	case <-ctx.Done():
		return unknown("canceled while sampling")
	}
	elapsed := time.Since(start).Seconds()
	type sample struct {
		p   *process.Process
		cpu float64
		rss uint64
	}
	var samples []sample
	for _, p := range procs {
		t0, ok := before[p.Pid]
		t, err := p.TimesWithContext(ctx)
		if !ok || err != nil { // gone, or not ours to read
			continue
		}
		s := sample{p: p, cpu: max(0, (t.User+t.System-t0)/elapsed*100)}
		if m, err := p.MemoryInfoWithContext(ctx); err == nil {
			s.rss = m.RSS
		}
		samples = append(samples, s)
	}
	usage := func(s sample) inv.ProcessUsage {
		name, _ := s.p.NameWithContext(ctx)
		user, _ := s.p.UsernameWithContext(ctx)
		return inv.ProcessUsage{PID: s.p.Pid, Name: clip(clean(firstOf(name, "?")), inv.MaxName), User: clip(clean(user), inv.MaxShort),
			CPUPercent: float64(int(s.cpu*10)) / 10, RSSBytes: s.rss}
	}
	res := inv.DiagResult{Status: inv.DiagOK}
	slices.SortFunc(samples, func(a, b sample) int { return cmp.Compare(b.cpu, a.cpu) })
	for _, s := range samples[:min(topN, len(samples))] {
		res.TopCPU = append(res.TopCPU, usage(s))
	}
	slices.SortFunc(samples, func(a, b sample) int { return cmp.Compare(b.rss, a.rss) })
	for _, s := range samples[:min(topN, len(samples))] {
		res.TopMemory = append(res.TopMemory, usage(s))
	}
	var parts []string
	if len(res.TopCPU) > 0 {
		parts = append(parts, fmt.Sprintf("top CPU %s %.0f%% (pid %d)", res.TopCPU[0].Name, res.TopCPU[0].CPUPercent, res.TopCPU[0].PID))
	}
	if len(res.TopMemory) > 0 {
		parts = append(parts, fmt.Sprintf("top memory %s %s (pid %d)", res.TopMemory[0].Name, inventory.HumanBytes(res.TopMemory[0].RSSBytes), res.TopMemory[0].PID))
	}
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		parts = append(parts, fmt.Sprintf("RAM %.0f%% used", vm.UsedPercent))
		if vm.UsedPercent >= memoryWarnPercent {
			res.Status = inv.DiagWarn
		}
	}
	res.Summary = fmt.Sprintf("%d processes; %s", len(samples), strings.Join(parts, "; "))
	return res
}

// failedServices lists services that failed (systemd) or auto-start
// services that are stopped (Windows).
func (r *Runner) failedServices(ctx context.Context) inv.DiagResult {
	s := r.inv.Services(ctx)
	if !s.Status.OK {
		return unknown(s.Status.Reason)
	}
	res := inv.DiagResult{Status: inv.DiagOK}
	var names []string
	for _, v := range s.Services {
		failed := v.State == "failed" || (s.Manager == "windows" && v.Startup == "auto" && v.State == "stopped")
		if failed && len(res.Services) < inv.MaxDiagItems {
			res.Services = append(res.Services, v)
			names = append(names, v.Name)
		}
	}
	if len(names) == 0 {
		res.Summary = fmt.Sprintf("no failed services (%d checked)", len(s.Services))
		return res
	}
	res.Status = inv.DiagWarn
	res.Summary = fmt.Sprintf("%d failed: %s", len(names), strings.Join(names, ", "))
	return res
}

// pendingReboot reports whether the system waits for a reboot.
func (r *Runner) pendingReboot(ctx context.Context) inv.DiagResult {
	rb := r.inv.Reboot(ctx)
	switch {
	case !rb.Status.OK:
		return unknown(rb.Status.Reason)
	case rb.Required:
		return inv.DiagResult{Status: inv.DiagWarn, Summary: "reboot required: " + strings.Join(rb.Reasons, "; "), Reasons: rb.Reasons}
	}
	return inv.DiagResult{Status: inv.DiagOK, Summary: "no reboot pending"}
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
