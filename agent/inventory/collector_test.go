package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// section is a minimal validator for exercising run.
type section struct {
	Status inv.Status
	Name   string
}

func (s *section) Validate() error {
	if len(s.Name) > 4 {
		return errors.New("name too long")
	}
	if !s.Status.OK && s.Status.Reason == "" {
		return errors.New("reason missing")
	}
	return nil
}

func unknownSection(reason string) *section { return &section{Status: inv.Unknown(reason)} }

func TestRunDegrades(t *testing.T) {
	c := New(Options{Timeout: 50 * time.Millisecond})
	ctx := context.Background()
	release := make(chan struct{})
	defer close(release)
	tests := []struct {
		name   string
		fn     func(context.Context) *section
		reason string
	}{
		{"ok", func(context.Context) *section { return &section{Status: inv.Known("x"), Name: "ok"} }, ""},
		{"timeout", func(context.Context) *section { <-release; return &section{} }, "timed out after 50ms"},
		{"panic", func(context.Context) *section { panic("boom") }, "collector failed: boom"},
		{"invalid", func(context.Context) *section { return &section{Status: inv.Known("x"), Name: "too long"} },
			"collected values are invalid: name too long"},
	}
	results := make([]*section, len(tests))
	var wg sync.WaitGroup
	start := time.Now()
	for i, tt := range tests {
		run(ctx, c, &wg, tt.name, c.timeout, &results[i], tt.fn, unknownSection)
	}
	wg.Wait()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("run waited %v for a stuck collector", d)
	}
	for i, tt := range tests {
		if got := results[i].Status.Reason; got != tt.reason || results[i].Status.OK != (tt.reason == "") {
			t.Errorf("%s: status %+v, want reason %q", tt.name, results[i].Status, tt.reason)
		}
	}
}

// TestCollectLive collects this machine: whatever it lacks, the report is
// complete, valid and sealed, and a second collection of an unchanged system
// hashes the stable sections the same.
func TestCollectLive(t *testing.T) {
	if testing.Short() {
		t.Skip("collects the live system")
	}
	c := New(Options{})
	ctx := context.Background()
	r1, err := c.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inv.Decode(b); err != nil {
		t.Fatalf("the console would refuse this report: %v", err)
	}
	for _, name := range inv.AllSections() {
		t.Logf("%-11s %s", name, statusLine(r1.Sections.Get(name)))
	}
	if !r1.OS.Status.OK || r1.OS.Hostname == "" || r1.CPU.Threads == 0 || r1.Memory.TotalBytes == 0 {
		t.Errorf("gopsutil sections are empty: %+v %+v %+v", r1.OS, r1.CPU, r1.Memory)
	}

	r2, err := c.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []inv.Section{inv.SectionOS, inv.SectionHardware, inv.SectionCPU, inv.SectionMemory,
		inv.SectionDisks, inv.SectionGPUs, inv.SectionSoftware, inv.SectionSecurity} {
		if r1.Hashes[name] != r2.Hashes[name] {
			t.Errorf("section %s changed between two collections", name)
		}
	}

	// Nothing changed since the last acknowledged report: the delta is small.
	d, err := json.Marshal(inv.Diff(maps.Clone(r2.Hashes), r2))
	if err != nil {
		t.Fatal(err)
	}
	if len(d) > 1024 {
		t.Fatalf("unchanged delta is %d bytes, want ≤ 1024", len(d))
	}
	t.Logf("full report %d bytes, unchanged delta %d bytes", len(b), len(d))
}

// statusLine summarizes a section's status for the test log.
func statusLine(section any) string {
	b, _ := json.Marshal(section)
	var s struct{ Status inv.Status }
	_ = json.Unmarshal(b, &s)
	if s.Status.OK {
		return "ok (" + s.Status.Source + ")"
	}
	return "unknown: " + strings.TrimSpace(s.Status.Reason)
}

// BenchmarkCollectFull measures a full collection in steady state: the
// pending-updates result is cached, as in a running agent, after the first
// collection.
func BenchmarkCollectFull(b *testing.B) {
	c := New(Options{})
	ctx := context.Background()
	if _, err := c.Collect(ctx); err != nil { // warms the updates cache
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Collect(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCollectCold measures the first collection of a fresh agent,
// which runs the package manager's update simulation. Run it with
// -benchtime=3x.
func BenchmarkCollectCold(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := New(Options{}).Collect(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
