// Package diag runs the agent's diagnostics: a fixed, read-only set of
// checks a technician can request for a device and attach to a ticket (disk
// space, top processes, failed services, recent errors in the system log,
// DNS, gateway and console reachability, time synchronisation, pending
// reboot). Each check returns an [inv.DiagResult] with a status and a
// one-line summary.
//
// There is no way to run anything else: the checks and the commands they
// run (journalctl, with fixed arguments) are in the code, each under a
// timeout and with bounded output.
package diag

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/reachdesk/reach/agent/inventory"
	"github.com/reachdesk/reach/internal/buildinfo"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// Check names, in the order results are reported.
const (
	CheckDiskSpace      = "disk_space"
	CheckTopProcesses   = "top_processes"
	CheckFailedServices = "failed_services"
	CheckErrorLog       = "error_log"
	CheckDNS            = "dns"
	CheckGateway        = "gateway"
	CheckConsole        = "console"
	CheckTimeSync       = "time_sync"
	CheckPendingReboot  = "pending_reboot"
)

// DefaultTimeout bounds one check.
const DefaultTimeout = 5 * time.Second

// Options configure a Runner. The zero value diagnoses the live system
// without a console check.
type Options struct {
	// ConsoleURL is the console's base URL ("https://reach.example.com");
	// empty makes the console check unknown and the DNS check resolve a
	// name that cannot exist.
	ConsoleURL string
	// Timeout bounds each check; zero means DefaultTimeout.
	Timeout time.Duration
	// SampleInterval is how long CPU use is sampled for top processes;
	// zero means 500 ms.
	SampleInterval time.Duration
	// Inventory provides filesystems, services, network configuration and
	// the reboot flag; nil means inventory.New with FS.
	Inventory *inventory.Collector
	// FS is the root filesystem read for logs and routes; nil means the
	// real root.
	FS fs.FS
	// Dial opens the console, DNS and gateway connections; nil means a
	// net.Dialer. Tests redirect it to loopback.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// AgentVersion goes into the report header; empty means buildinfo.Version.
	AgentVersion string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives a line per check that failed to run; nil discards.
	Logger *slog.Logger
}

// Runner runs the diagnostics. It is safe for concurrent use.
type Runner struct {
	opts Options
	inv  *inventory.Collector
	fsys fs.FS
	log  *slog.Logger
}

// New returns a Runner.
func New(opts Options) *Runner {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.SampleInterval <= 0 {
		opts.SampleInterval = 500 * time.Millisecond
	}
	if opts.FS == nil {
		opts.FS = os.DirFS("/")
	}
	if opts.Dial == nil {
		var d net.Dialer
		opts.Dial = d.DialContext
	}
	if opts.AgentVersion == "" {
		opts.AgentVersion = buildinfo.Version
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Runner{opts: opts, inv: opts.Inventory, fsys: opts.FS, log: opts.Logger}
	if r.inv == nil {
		r.inv = inventory.New(inventory.Options{FS: opts.FS, Timeout: opts.Timeout, AgentVersion: opts.AgentVersion, Now: opts.Now})
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return r
}

// check is one diagnostic.
type check struct {
	name string
	run  func(ctx context.Context) inv.DiagResult
}

// Run runs every check concurrently, each under the timeout, and returns
// the results in the fixed order of the Check constants.
func (r *Runner) Run(ctx context.Context) *inv.DiagReport { return r.RunChecks(ctx, nil) }

// Checks returns the names of every check, in the order Run runs them.
func Checks() []string {
	return []string{CheckDiskSpace, CheckTopProcesses, CheckFailedServices, CheckErrorLog, CheckDNS, CheckGateway,
		CheckConsole, CheckTimeSync, CheckPendingReboot}
}

// RunChecks runs the named checks (every check when names is empty) like
// Run. A name that is not a check gets an unknown result saying so: there
// is nothing else to run.
func (r *Runner) RunChecks(ctx context.Context, names []string) *inv.DiagReport {
	all := []check{
		{CheckDiskSpace, r.diskSpace},
		{CheckTopProcesses, r.topProcesses},
		{CheckFailedServices, r.failedServices},
		{CheckErrorLog, r.errorLog},
		{CheckDNS, r.dns},
		{CheckGateway, r.gateway},
		{CheckConsole, r.console},
		{CheckTimeSync, r.timeSync},
		{CheckPendingReboot, r.pendingReboot},
	}
	checks := all
	if len(names) > 0 {
		checks = nil
		for _, n := range names {
			c := check{n, func(context.Context) inv.DiagResult { return unknown("no such check") }}
			for _, a := range all {
				if a.name == n {
					c = a
				}
			}
			if !slices.ContainsFunc(checks, func(x check) bool { return x.name == n }) && len(checks) < len(all) {
				checks = append(checks, c)
			}
		}
	}
	rep := &inv.DiagReport{Header: inv.Header{Schema: inv.SchemaVersion, AgentVersion: r.opts.AgentVersion,
		CollectedAt: r.opts.Now().UTC().Truncate(time.Second)}, Results: make([]inv.DiagResult, len(checks))}
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { rep.Results[i] = r.runOne(ctx, c) })
	}
	wg.Wait()
	return rep
}

// runOne runs a check under the timeout. A check that overruns, panics or
// returns an invalid result becomes unknown with the reason.
func (r *Runner) runOne(ctx context.Context, c check) inv.DiagResult {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	start := time.Now()
	done := make(chan inv.DiagResult, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("diag: check panicked", slog.String("check", c.name), slog.Any("panic", p))
				done <- unknown(fmt.Sprintf("check failed: %v", p))
			}
		}()
		done <- c.run(ctx)
	}()
	var res inv.DiagResult
	select {
	case res = <-done:
	case <-ctx.Done():
		res = unknown(fmt.Sprintf("timed out after %s", r.opts.Timeout))
	}
	res.Check = c.name
	res.DurationMS = time.Since(start).Milliseconds()
	res.Summary = clip(res.Summary, inv.MaxLong)
	if err := res.Validate(); err != nil {
		r.log.Warn("diag: invalid result", slog.String("check", c.name), slog.Any("err", err))
		res = unknown(clip(fmt.Sprintf("result is invalid: %v", err), inv.MaxLong))
		res.Check, res.DurationMS = c.name, time.Since(start).Milliseconds()
	}
	return res
}

func unknown(summary string) inv.DiagResult {
	return inv.DiagResult{Status: inv.DiagUnknown, Summary: summary}
}
