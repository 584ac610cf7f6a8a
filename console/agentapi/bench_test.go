package agentapi_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/enroll"
	"github.com/reachdesk/reach/console/agentapi"
	wire "github.com/reachdesk/reach/proto/agentapi"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// BenchmarkIngestReports measures inventory ingestion through the whole
// device API on SQLite: signed HTTP requests from 32 enrolled devices, 8 at
// a time.
//
//   - full/120, full/1500, delta/1500: each report changes the OS version
//     and one package, so that every one is stored, diffed and indexed;
//     full reports are what an enrollment, or an agent whose base the
//     console lost, sends; deltas carry the changed sections against the
//     device's previous report;
//   - steady/120, steady/1500: the hourly report of a device where nothing
//     but usage changed (disk space, battery charge): a delta of the
//     filesystems and batteries sections, software unchanged.
func BenchmarkIngestReports(b *testing.B) {
	for _, bc := range []struct {
		name     string
		packages int
		delta    bool
		steady   bool
	}{
		{"full/120", 120, false, false}, {"full/1500", 1500, false, false}, {"delta/1500", 1500, true, false},
		{"steady/120", 120, true, true}, {"steady/1500", 1500, true, true},
	} {
		b.Run(bc.name, func(b *testing.B) { benchIngest(b, bc.packages, bc.delta, bc.steady) })
	}
}

func benchIngest(b *testing.B, packages int, delta, steady bool) {
	e := newEnv(b, agentapi.Options{EnrollLimit: 100, Logger: slog.New(slog.DiscardHandler)})
	const devices = 32
	build := func(n int) *inv.Report {
		r := report(b)
		if steady {
			r.Filesystems.Filesystems[0].UsedBytes += uint64(n) << 20
			r.Filesystems.Filesystems[0].FreeBytes -= uint64(n) << 20
			r.Batteries.Batteries[0].ChargePercent = 20 + n%80
		} else {
			r.OS.Version = fmt.Sprintf("12.%d", n)
		}
		for i := range packages {
			v := "1.0"
			if !steady && i == n%packages {
				v = fmt.Sprintf("2.%d", n)
			}
			r.Software.Packages = append(r.Software.Packages, inv.Package{Source: "dpkg", Name: fmt.Sprintf("package-%04d", i),
				Version: v, Arch: "amd64", Publisher: "Debian", SizeBytes: 1 << 20})
		}
		if err := r.Seal(); err != nil {
			b.Fatal(err)
		}
		return r
	}
	// Each device gets a chain of request bodies, prepared before the
	// timer starts: the first is its base (sent before timing when the
	// benchmark is about deltas), each next one a full report or the delta
	// from the previous one.
	type device struct {
		client *enroll.Client
		bodies [][]byte
		sent   int
		busy   atomic.Bool
	}
	perDevice := b.N/devices + 2
	devs := make([]*device, devices)
	key := 0
	for i := range devs {
		_, c := e.enroll(nil)
		d := &device{client: c}
		var prev *inv.Report
		for k := range perDevice {
			r := build(i*perDevice + k)
			key++
			req := wire.ReportRequest{Key: fmt.Sprintf("k%d", key)}
			if delta && prev != nil {
				req.Delta, _ = json.Marshal(inv.Diff(prev.Hashes, r))
			} else {
				req.Full, _ = json.Marshal(r)
			}
			body, _ := json.Marshal(req)
			d.bodies = append(d.bodies, body)
			prev = r
		}
		if delta {
			if err := c.Do(e.ctx, http.MethodPost, wire.PathReports, d.bodies[0], nil); err != nil {
				b.Fatal(err)
			}
			d.sent = 1
		}
		devs[i] = d
	}
	var next atomic.Int64
	b.SetParallelism(4) // 8 senders on 2 cores
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			// Each sender takes a device nobody else is reporting for, so
			// that a device's deltas arrive in order.
			var d *device
			for d == nil {
				c := devs[next.Add(1)%devices]
				if c.busy.CompareAndSwap(false, true) {
					if c.sent < len(c.bodies) {
						d = c
					} else {
						c.busy.Store(false)
					}
				}
			}
			err := d.client.Do(e.ctx, http.MethodPost, wire.PathReports, d.bodies[d.sent], nil)
			d.sent++
			d.busy.Store(false)
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "reports/s")
	// CPU per report, console and senders together: steadier than the rate
	// when other jobs share the machine.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/report")
}

// cpuTime returns the user and system CPU time of this process.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
