package inventory

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"
)

// TestUnchangedDeltaIsSmall asserts the property the reporting interval
// relies on: with nothing changed a delta is at most 1 KB, however large the
// inventory.
func TestUnchangedDeltaIsSmall(t *testing.T) {
	r := testReport(t)
	r.Software.Packages = append(r.Software.Packages, packages(5000)...)
	if err := r.Seal(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(Diff(r.Hashes, r))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 1024 {
		t.Fatalf("unchanged delta is %d bytes, want ≤ 1024:\n%s", len(b), b)
	}
	d, err := DecodeDelta(b)
	if err != nil {
		t.Fatal(err)
	}
	if missing := d.Missing(); len(missing) != len(AllSections()) {
		t.Fatalf("unchanged delta carries sections: %v present", len(AllSections())-len(missing))
	}
	t.Logf("unchanged delta: %d bytes", len(b))
}

func TestDiffCarriesOnlyChangedSections(t *testing.T) {
	prev := testReport(t)
	cur := testReport(t)
	cur.Security.Reboot.Required = false
	cur.Network.DNS.Servers = []string{"192.0.2.54"}
	if err := cur.Seal(); err != nil {
		t.Fatal(err)
	}
	d := Diff(prev.Hashes, cur)
	if got := slices.Sorted(maps.Keys(d.Hashes)); !slices.Equal(got, []Section{SectionNetwork, SectionSecurity}) {
		t.Fatalf("delta hashes %v, want network and security", got)
	}
	if d.OS != nil || d.Software != nil || d.Network == nil || d.Security == nil {
		t.Fatal("delta carries the wrong sections")
	}

	// Over the wire and back, then applied to the console's state.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := DecodeDelta(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d2.Apply(prev)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got.Hashes, cur.Hashes) {
		t.Fatal("applied delta does not reproduce the current hashes")
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
	if got.Network.DNS.Servers[0] != "192.0.2.54" || got.Security.Reboot.Required {
		t.Fatal("applied delta lost the changes")
	}
	if prev.Network.DNS.Servers[0] != "192.0.2.53" {
		t.Fatal("Apply modified the base report")
	}
}

func TestApplyRefusesWrongBaseAndTampering(t *testing.T) {
	prev := testReport(t)
	cur := testReport(t)
	cur.CPU.MHz = 4800
	if err := cur.Seal(); err != nil {
		t.Fatal(err)
	}
	d := Diff(prev.Hashes, cur)

	other := testReport(t)
	other.OS.Hostname = "elsewhere"
	if err := other.Seal(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Apply(other); !errors.Is(err, ErrBaseMismatch) {
		t.Fatalf("Apply on another base = %v, want ErrBaseMismatch", err)
	}

	tampered := *d
	cpu := *d.CPU
	cpu.MHz = 9999
	tampered.CPU = &cpu
	if _, err := tampered.Apply(prev); !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("Apply of a tampered section = %v, want ErrHashMismatch", err)
	}

	wrongState := *d
	wrongState.State = StateHash(prev.Hashes)
	if _, err := wrongState.Apply(prev); !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("Apply with a wrong state = %v, want ErrHashMismatch", err)
	}
}

func TestHashIgnoresSetOrder(t *testing.T) {
	a := testReport(t)
	b := testReport(t)
	slices.Reverse(b.Software.Packages)
	slices.Reverse(b.Memory.Slots.Modules)
	slices.Reverse(b.Network.Interfaces[0].Addresses)
	if err := b.Seal(); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(a.Hashes, b.Hashes) {
		t.Fatal("hashes depend on the order of set-like lists")
	}
	// DNS order is meaningful.
	slices.Reverse(b.Network.DNS.Servers)
	if err := b.Seal(); err != nil {
		t.Fatal(err)
	}
	if a.Hashes[SectionNetwork] == b.Hashes[SectionNetwork] {
		t.Fatal("DNS server order does not change the network hash")
	}
}

func TestFirstDeltaCarriesEverything(t *testing.T) {
	r := testReport(t)
	d := Diff(nil, r)
	if len(d.Missing()) != 0 || len(d.Hashes) != len(AllSections()) {
		t.Fatal("delta from nothing is not complete")
	}
}

func BenchmarkSeal(b *testing.B) {
	r := testReport(b)
	r.Software.Packages = append(r.Software.Packages, packages(2000)...)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Seal(); err != nil {
			b.Fatal(err)
		}
	}
}
