package inventory

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestEncodeMatchesMarshal checks that the encodings Decode and Apply keep
// are what json.Marshal produces: the stored document and the section
// snapshots must not depend on which path built the report.
func TestEncodeMatchesMarshal(t *testing.T) {
	prev := testReport(t)
	prevJSON, err := json.Marshal(prev)
	if err != nil {
		t.Fatal(err)
	}
	base, err := Decode(prevJSON)
	if err != nil {
		t.Fatal(err)
	}
	cur := testReport(t)
	cur.CPU.MHz = 4800
	cur.Software.Packages = packages(3)
	if err := cur.Seal(); err != nil {
		t.Fatal(err)
	}
	deltaJSON, err := json.Marshal(Diff(prev.Hashes, cur))
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeDelta(deltaJSON)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := d.Apply(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want *Report
	}{{"decoded", base, prev}, {"applied", applied, cur}, {"sealed", cur, cur}} {
		if tc.name != "sealed" && tc.got.encoded == nil {
			t.Errorf("%s: no encodings kept", tc.name)
		}
		got, err := tc.got.Encode()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(tc.want)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Encode =\n%s\nwant\n%s", tc.name, got, want)
		}
		for _, name := range AllSections() {
			got, err := tc.got.SectionJSON(name)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(tc.want.Get(name))
			if !bytes.Equal(got, want) {
				t.Errorf("%s: SectionJSON(%s) = %s, want %s", tc.name, name, got, want)
			}
		}
	}
	if b, err := (&Report{}).SectionJSON(SectionOS); b != nil || err != nil {
		t.Errorf("absent section = %s, %v; want nil", b, err)
	}
}
