package report_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/reachdesk/reach/agent/report"
	wire "github.com/reachdesk/reach/proto/agentapi"
	inv "github.com/reachdesk/reach/proto/inventory"
)

func openOutbox(t *testing.T, dir string) *report.Outbox {
	t.Helper()
	o, err := report.OpenOutbox(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func kinds(o *report.Outbox) []string {
	var ks []string
	for _, it := range o.Items() {
		ks = append(ks, it.Kind)
	}
	return ks
}

func sealed(t *testing.T, version string) *inv.Report {
	t.Helper()
	b, err := os.ReadFile("../../proto/inventory/testdata/report.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := inv.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	r.OS.Version = version
	if err := r.Seal(); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOutboxOrderAndReopen(t *testing.T) {
	dir := t.TempDir()
	o := openOutbox(t, dir)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(o.PutEvent(wire.Event{SID: "s", Type: "chat"}))
	must(o.PutReport(sealed(t, "1")))
	must(o.PutEvent(wire.Event{SID: "s", Type: "end"}))
	must(o.PutReport(sealed(t, "2"))) // supersedes "1"
	must(o.PutDiagnostics("cmd-1", 1, &inv.DiagReport{}))
	must(o.PutDiagnostics("cmd-1", 1, &inv.DiagReport{})) // the same command again
	if got, want := kinds(o), []string{"event", "event", "report", "diagnostics"}; !slices.Equal(got, want) {
		t.Fatalf("queue = %q, want %q", got, want)
	}
	// An interrupted write and a leftover superseded report (a crash
	// between writing the new one and removing the old) are cleaned up.
	os.WriteFile(filepath.Join(dir, ".00000000000000000009-event.json.tmp123"), []byte("{"), 0o600)
	items := o.Items()
	old, _ := json.Marshal(report.Item{Seq: 2, Kind: report.KindReport, Key: "old", Report: sealed(t, "0")})
	os.WriteFile(filepath.Join(dir, "00000000000000000002-report.json"), old, 0o600)

	o2 := openOutbox(t, dir)
	got := o2.Items()
	if len(got) != len(items) {
		t.Fatalf("reopened queue has %d items, want %d", len(got), len(items))
	}
	for i := range got {
		if got[i].Seq != items[i].Seq || got[i].Key != items[i].Key {
			t.Errorf("item %d after reopen = %d %s, want %d %s", i, got[i].Seq, got[i].Key, items[i].Seq, items[i].Key)
		}
	}
	if got[2].Report.OS.Version != "2" {
		t.Errorf("kept report %q, want the newest", got[2].Report.OS.Version)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name()[0] == '.' {
			t.Errorf("leftover %s not removed", e.Name())
		}
		if fi, _ := e.Info(); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
	// New items continue the sequence.
	must(o2.PutEvent(wire.Event{SID: "s", Type: "chat"}))
	if its := o2.Items(); its[len(its)-1].Seq <= items[len(items)-1].Seq {
		t.Errorf("sequence went backwards after reopen")
	}
	must(o2.Done(got[0].Seq, got[1].Seq))
	if got, want := kinds(openOutbox(t, dir)), []string{"report", "diagnostics", "event"}; !slices.Equal(got, want) {
		t.Errorf("after Done: %q, want %q", got, want)
	}
}

// At the bound, events are refused with ErrFull, never dropped silently:
// the count goes to the console as a "dropped" event once there is room.
func TestOutboxBounds(t *testing.T) {
	o := openOutbox(t, t.TempDir())
	o.SetLimits(3, 1<<20, 2)
	for i := range 5 {
		err := o.PutEvent(wire.Event{SID: "s1", Type: "chat"})
		if want := i >= 3; errors.Is(err, report.ErrFull) != want {
			t.Fatalf("event %d: %v, full = %v", i, err, want)
		}
	}
	items := o.Items()
	if err := o.Done(items[0].Seq, items[1].Seq); err != nil {
		t.Fatal(err)
	}
	items = o.Items()
	last := items[len(items)-1]
	if last.Event.Type != wire.EventDropped || string(last.Event.Detail) != `{"count":2}` || last.Event.SID != "s1" {
		t.Errorf("after room was made: last item %+v, want a dropped event counting 2", last.Event)
	}
	// Diagnostics beyond the bound drop the oldest run.
	for i := range 3 {
		if err := o.PutDiagnostics("cmd-"+string(rune('a'+i)), int64(i), &inv.DiagReport{}); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	for _, it := range o.Items() {
		if it.Kind == report.KindDiagnostics {
			keys = append(keys, it.Key)
		}
	}
	if !slices.Equal(keys, []string{"cmd-b", "cmd-c"}) {
		t.Errorf("diagnostics kept %q, want the newest two", keys)
	}
}
