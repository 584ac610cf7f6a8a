package inventory

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	inv "github.com/reachdesk/reach/proto/inventory"
)

var update = flag.Bool("update", false, "rewrite testdata/table.txt")

func TestWriteTable(t *testing.T) {
	r, err := inv.Decode(fixture(t, "../../../proto/inventory/testdata/report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := WriteTable(&got, r); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("testdata/table.txt", got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := fixture(t, "table.txt"); !bytes.Equal(got.Bytes(), want) {
		t.Errorf("table differs from testdata/table.txt (run with -update after checking):\n%s", got.Bytes())
	}
}

func TestWriteTableUnknown(t *testing.T) {
	r := &inv.Report{Header: inv.Header{Schema: inv.SchemaVersion, AgentVersion: "dev"}}
	r.Hardware = unknownHardware("/sys/class/dmi/id: not found; dmidecode not installed")
	r.Memory = &inv.Memory{Status: inv.Known("gopsutil"), TotalBytes: 8 << 30, Slots: inv.Slots{Status: inv.Unknown("dmidecode not installed")}}
	var b bytes.Buffer
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(strings.Fields(b.String()), " ") // alignment aside
	for _, want := range []string{
		"Hardware unknown: /sys/class/dmi/id: not found; dmidecode not installed",
		"Modules unknown: dmidecode not installed",
		"8.0 GiB RAM,",
		"OS not collected",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}
