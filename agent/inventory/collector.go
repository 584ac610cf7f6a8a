// Package inventory collects a device's inventory on the agent: gopsutil for
// host, CPU, memory, filesystems and network interfaces, and hand-written
// collectors for the rest (firmware, memory modules, disks and SMART, routes
// and DNS, displays, GPUs, batteries, accounts, packages, services, security
// posture). The result is a sealed [inv.Report] (proto/inventory).
//
// Collectors run concurrently, each under a timeout. Every collector
// degrades gracefully: a missing tool or file, a permission error, a timeout,
// a panic or a value that fails the schema's validation makes its section (or
// the part of it that depends on that source) unknown with a reason; it never
// fails the report.
//
// Parsers are pure functions over the bytes of a file or a command's output
// and live in files without build tags, so that the Windows and macOS ones
// are tested on Linux too; the glue that reads the live system is per
// platform (*_linux.go, *_windows.go, *_darwin.go, other.go).
package inventory

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/reachdesk/reach/internal/buildinfo"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// Default timeouts.
const (
	// DefaultTimeout bounds one collector.
	DefaultTimeout = 5 * time.Second
	// DefaultSlowTimeout bounds the collectors that may legitimately take
	// seconds: software (system_profiler on macOS) and security (the
	// pending-updates check runs the package manager's solver: apt-get -s
	// dist-upgrade takes 2-3 s on a small Debian VM without a package cache).
	DefaultSlowTimeout = 30 * time.Second
)

// Options configure a Collector. The zero value collects the live system.
type Options struct {
	// Timeout bounds each collector; zero means DefaultTimeout.
	Timeout time.Duration
	// SlowTimeout bounds the software and security collectors; zero means
	// DefaultSlowTimeout.
	SlowTimeout time.Duration
	// FS is the root filesystem the hand-written collectors read (etc/,
	// sys/, proc/, var/, paths without a leading slash); nil means the
	// real root. gopsutil and external commands always see the live system.
	FS fs.FS
	// AgentVersion goes into report headers; empty means buildinfo.Version.
	AgentVersion string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives a line per collector that timed out, panicked or
	// produced invalid values; nil discards. (Expected gaps, such as a
	// missing tool, are in the report, not the log.)
	Logger *slog.Logger
}

// Collector collects inventories. It is safe for concurrent use; it caches
// the pending-updates result until the package database changes.
type Collector struct {
	fsys        fs.FS
	timeout     time.Duration
	slowTimeout time.Duration
	version     string
	now         func() time.Time
	log         *slog.Logger

	updates updatesCache
}

// New returns a Collector.
func New(opts Options) *Collector {
	c := &Collector{
		fsys:        opts.FS,
		timeout:     opts.Timeout,
		slowTimeout: opts.SlowTimeout,
		version:     opts.AgentVersion,
		now:         opts.Now,
		log:         opts.Logger,
	}
	if c.fsys == nil {
		c.fsys = os.DirFS("/")
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.slowTimeout <= 0 {
		c.slowTimeout = DefaultSlowTimeout
	}
	if c.version == "" {
		c.version = buildinfo.Version
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// Collect gathers every section concurrently and returns the sealed report.
// It takes as long as the slowest collector, at most the longer of the two
// timeouts. The error is non-nil only if hashing fails, which would be a bug.
func (c *Collector) Collect(ctx context.Context) (*inv.Report, error) {
	r := &inv.Report{Header: c.header()}
	s := &r.Sections
	var wg sync.WaitGroup
	run(ctx, c, &wg, "os", c.timeout, &s.OS, c.os, unknownOS)
	run(ctx, c, &wg, "hardware", c.timeout, &s.Hardware, c.hardware, unknownHardware)
	run(ctx, c, &wg, "cpu", c.timeout, &s.CPU, c.cpu, unknownCPU)
	run(ctx, c, &wg, "memory", c.timeout, &s.Memory, c.memory, unknownMemory)
	run(ctx, c, &wg, "disks", c.timeout, &s.Disks, c.disks, unknownDisks)
	run(ctx, c, &wg, "filesystems", c.timeout, &s.Filesystems, c.Filesystems, unknownFilesystems)
	run(ctx, c, &wg, "network", c.timeout, &s.Network, c.Network, unknownNetwork)
	run(ctx, c, &wg, "displays", c.timeout, &s.Displays, c.displays, unknownDisplays)
	run(ctx, c, &wg, "gpus", c.timeout, &s.GPUs, c.gpus, unknownGPUs)
	run(ctx, c, &wg, "batteries", c.timeout, &s.Batteries, c.batteries, unknownBatteries)
	run(ctx, c, &wg, "users", c.timeout, &s.Users, c.users, unknownUsers)
	run(ctx, c, &wg, "software", c.slowTimeout, &s.Software, c.software, unknownSoftware)
	run(ctx, c, &wg, "services", c.timeout, &s.Services, c.Services, unknownServices)
	// The pending-updates check in security has the slow budget; its
	// firewall and reboot parts use c.timeout.
	run(ctx, c, &wg, "security", c.slowTimeout, &s.Security, c.security, unknownSecurity)
	wg.Wait()
	if err := r.Seal(); err != nil {
		return nil, fmt.Errorf("inventory: collect: %w", err)
	}
	return r, nil
}

func (c *Collector) header() inv.Header {
	return inv.Header{
		Schema:       inv.SchemaVersion,
		AgentVersion: c.version,
		CollectedAt:  c.now().UTC().Truncate(time.Second),
	}
}

// validator is what every section type implements.
type validator interface{ Validate() error }

// run starts fn in its own goroutine under timeout and stores its result in
// *dst. If fn overruns, panics or returns a value that fails validation,
// *dst is unknown(reason) instead. An overrunning fn keeps running until it
// notices ctx (commands are killed; file reads finish), but its result is
// dropped.
func run[S validator](ctx context.Context, c *Collector, wg *sync.WaitGroup, name string, timeout time.Duration,
	dst *S, fn func(context.Context) S, unknown func(reason string) S) {
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		done := make(chan S, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					c.log.Error("inventory: collector panicked", slog.String("section", name), slog.Any("panic", p))
					done <- unknown(clip(fmt.Sprintf("collector failed: %v", p), inv.MaxLong))
				}
			}()
			done <- fn(ctx)
		}()
		var reason string
		select {
		case v := <-done:
			err := v.Validate()
			if err == nil {
				*dst = v
				return
			}
			reason = clip(fmt.Sprintf("collected values are invalid: %v", err), inv.MaxLong)
		case <-ctx.Done():
			reason = "canceled"
			if ctx.Err() == context.DeadlineExceeded {
				reason = fmt.Sprintf("timed out after %s", timeout)
			}
		}
		c.log.Warn("inventory: section unknown", slog.String("section", name), slog.String("reason", reason))
		*dst = unknown(reason)
	})
}
