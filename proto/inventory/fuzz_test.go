package inventory

import (
	"encoding/json"
	"errors"
	"maps"
	"testing"
)

// FuzzDecode: Decode never panics, and whatever it accepts survives a round
// trip through encoding/json with the same hashes.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("re-encode accepted report: %v", err)
		}
		r2, err := Decode(b)
		if err != nil {
			t.Fatalf("re-decode accepted report: %v", err)
		}
		if !maps.Equal(r.Hashes, r2.Hashes) {
			t.Fatal("hashes changed in a round trip")
		}
	})
}

// FuzzDecodeDelta: DecodeDelta never panics, an accepted delta survives a
// round trip, and applying it either works or fails with a sentinel.
func FuzzDecodeDelta(f *testing.F) {
	base := testReport(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeDelta(data)
		if err != nil {
			return
		}
		if _, err := d.Apply(base); err != nil && !errors.Is(err, ErrBaseMismatch) && !errors.Is(err, ErrHashMismatch) {
			t.Fatalf("Apply: untyped error %v", err)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("re-encode accepted delta: %v", err)
		}
		if _, err := DecodeDelta(b); err != nil {
			t.Fatalf("re-decode accepted delta: %v", err)
		}
	})
}

// FuzzDecodeDiag: DecodeDiag never panics and accepted reports re-validate.
func FuzzDecodeDiag(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeDiag(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("re-encode accepted diagnostics: %v", err)
		}
		if _, err := DecodeDiag(b); err != nil {
			t.Fatalf("re-decode accepted diagnostics: %v", err)
		}
	})
}
