package agentapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reachdesk/reach/console"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// untracked are sections kept in the raw document only: their values
// change on nearly every report (filesystem usage), so recording a
// snapshot of each would fill the history with noise. Fleet search still
// sees disk usage through InventoryReport.Disks.
var untracked = map[inv.Section]bool{inv.SectionFilesystems: true}

// toStore turns a decoded, validated report into what the store ingests.
// raw is the report's JSON as it will be stored.
func toStore(deviceID int64, r *inv.Report, raw []byte, received time.Time) (*console.InventoryReport, error) {
	out := &console.InventoryReport{
		DeviceID: deviceID, SchemaVersion: r.Schema, CollectedAt: r.CollectedAt, ReceivedAt: received,
		Raw: raw, Sections: map[string]json.RawMessage{},
	}
	for _, name := range inv.AllSections() {
		if untracked[name] {
			continue
		}
		b, err := r.SectionJSON(name) // the bytes its hash was checked over
		if err != nil {
			return nil, fmt.Errorf("encode section %s: %w", name, err)
		}
		if b != nil {
			out.Sections[string(name)] = b
		}
	}
	if o := r.OS; o != nil && o.Status.OK {
		out.Hostname = clip(o.Hostname, console.MaxNameLen)
		out.OS = console.OSInfo{Name: clip(o.Name, console.MaxNameLen), Version: clip(o.Version, console.MaxVersionLen)}
	}
	if sw := r.Software; sw != nil {
		for _, p := range sw.Packages {
			if len(out.Software) == console.MaxSoftware {
				break // the raw document keeps every package; the index keeps the first MaxSoftware
			}
			out.Software = append(out.Software, console.Software{
				Name:      clip(p.Name, console.MaxSoftwareNameLen),
				Version:   clip(p.Version, console.MaxVersionLen),
				Publisher: clip(p.Publisher, console.MaxSoftwareNameLen),
			})
		}
	}
	if fs := r.Filesystems; fs != nil {
		for _, f := range fs.Filesystems {
			if len(out.Disks) == console.MaxDisks || strings.TrimSpace(f.Mount) == "" {
				continue
			}
			used := min(f.UsedBytes, f.TotalBytes)
			out.Disks = append(out.Disks, console.Disk{Mount: clip(f.Mount, console.MaxNameLen), TotalBytes: f.TotalBytes, UsedBytes: used})
		}
	}
	return out, nil
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// diagStatus maps a diagnostic's status to the store's.
func diagStatus(s inv.DiagStatus) console.DiagnosticStatus {
	switch s {
	case inv.DiagOK:
		return console.DiagnosticOK
	case inv.DiagWarn:
		return console.DiagnosticWarn
	case inv.DiagFail:
		return console.DiagnosticFail
	}
	return console.DiagnosticError
}
