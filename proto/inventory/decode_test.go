package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json and the fuzz seed corpus")

func TestDecodeRoundTrip(t *testing.T) {
	want := testReport(t)
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got.Hashes, want.Hashes) {
		t.Fatal("hashes changed over the wire")
	}
	h, err := got.Sections.Hashes()
	if err != nil || !maps.Equal(h, want.Hashes) {
		t.Fatalf("decoded sections hash differently (%v)", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	good, err := json.Marshal(testReport(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrInvalid},
		{"not an object", []byte(`[1,2]`), ErrInvalid},
		{"no schema", []byte(`{}`), ErrInvalid},
		{"newer schema", []byte(`{"schema":2,"from_the":"future"}`), ErrUnsupportedSchema},
		{"unknown field", bytes.Replace(good, []byte(`"hostname":`), []byte(`"extra":1,"hostname":`), 1), ErrInvalid},
		{"trailing data", append(bytes.Clone(good), []byte(` {}`)...), ErrInvalid},
		{"wrong type", bytes.Replace(good, []byte(`"sockets":1`), []byte(`"sockets":"1"`), 1), ErrInvalid},
		{"tampered section", bytes.Replace(good, []byte(`"pc-042"`), []byte(`"pc-043"`), 1), ErrHashMismatch},
		{"too large", append(bytes.Clone(good), bytes.Repeat([]byte(" "), MaxReportSize)...), ErrTooLarge},
		{"invalid field", bytes.Replace(good, []byte(`"ext4"`), []byte(`"ext4\u0007"`), 1), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.data); !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeDiag(t *testing.T) {
	b, err := json.Marshal(testDiag())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeDiag(b); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(b, []byte(`"warn"`), []byte(`"meh"`), 1)
	if _, err := DecodeDiag(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("DecodeDiag of an unknown status = %v, want ErrInvalid", err)
	}
}

// TestGoldenFiles keeps testdata/report.json, delta.json and diag.json (the
// examples docs/inventory.md points to) and the fuzz seed corpus in step
// with the schema. Regenerate with: go test ./proto/inventory -run Golden -update
func TestGoldenFiles(t *testing.T) {
	prev := testReport(t)
	cur := testReport(t)
	cur.Security.Updates.Pending, cur.Security.Updates.Security, cur.Security.Updates.Packages = 0, 0, nil
	if err := cur.Seal(); err != nil {
		t.Fatal(err)
	}
	docs := map[string]any{"report.json": prev, "delta.json": Diff(prev.Hashes, cur), "diag.json": testDiag(),
		"delta-unchanged.json": Diff(cur.Hashes, cur)}
	for name, v := range docs {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		compareGolden(t, filepath.Join("testdata", name), append(b, '\n'))
	}

	// Seeds: the examples, compact, plus malformed variants.
	report, _ := json.Marshal(prev)
	delta, _ := json.Marshal(docs["delta.json"])
	diag, _ := json.Marshal(testDiag())
	seeds := map[string][][]byte{
		"FuzzDecode": {report, report[:len(report)/2], []byte(`{"schema":1}`), []byte(`{"schema":2}`),
			bytes.Replace(report, []byte(`"x86_64"`), []byte(`"x86\u0000"`), 1)},
		"FuzzDecodeDelta": {delta, []byte(`{"schema":1,"agent_version":"1","collected_at":"2026-01-01T00:00:00Z","base":"","state":""}`)},
		"FuzzDecodeDiag":  {diag, []byte(`{"schema":1,"results":[{"check":"x","status":"ok","summary":"s","clock":{}}]}`)},
	}
	for fuzz, list := range seeds {
		for i, s := range list {
			compareGolden(t, filepath.Join("testdata", "fuzz", fuzz, fmt.Sprintf("seed-%d", i)),
				[]byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)))
		}
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale; run go test ./proto/inventory -run Golden -update", path)
	}
}

func TestGoldenDecode(t *testing.T) {
	for _, name := range []string{"report.json", "delta.json", "delta-unchanged.json", "diag.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case name == "report.json":
			_, err = Decode(b)
		case strings.HasPrefix(name, "delta"):
			_, err = DecodeDelta(b)
		default:
			_, err = DecodeDiag(b)
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
