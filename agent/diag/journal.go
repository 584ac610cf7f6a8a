package diag

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/reachdesk/reach/agent/inventory/probe"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// journalDirs are where journald keeps its files (persistent, volatile).
var journalDirs = []string{"var/log/journal", "run/log/journal"}

// errorLog reports the last error-or-worse entries of the last 24 hours
// from the systemd journal.
func (r *Runner) errorLog(ctx context.Context) inv.DiagResult {
	if !probe.Installed("journalctl") {
		return unknown("journalctl not installed")
	}
	if !r.hasJournal() {
		return unknown("journald keeps no logs here (no files in /var/log/journal or /run/log/journal)")
	}
	out, err := probe.Run(ctx, 4<<20, "journalctl", "--no-pager", "--quiet", "--priority=err", "--lines=50",
		"--output=json", "--since=-24h")
	if err != nil {
		return unknown(clip("journalctl: "+err.Error(), inv.MaxLong))
	}
	entries := parseJournal(out)
	if len(entries) == 0 {
		return inv.DiagResult{Status: inv.DiagOK, Summary: "no errors logged in the last 24 hours"}
	}
	last := entries[len(entries)-1]
	return inv.DiagResult{Status: inv.DiagWarn, Log: entries,
		Summary: fmt.Sprintf("%d errors in the last 24 hours; latest: %s: %s", len(entries), firstOf(last.Unit, "?"), last.Message)}
}

// hasJournal reports whether any journal directory holds a file.
func (r *Runner) hasJournal() bool {
	for _, dir := range journalDirs {
		found := false
		_ = fs.WalkDir(r.fsys, dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				found = true
				return fs.SkipAll
			}
			return nil
		})
		if found {
			return true
		}
	}
	return false
}

// parseJournal parses `journalctl -o json`: one JSON object per line.
// MESSAGE is a string, or an array of bytes when it is not valid UTF-8.
// Malformed lines are skipped; at most inv.MaxDiagItems entries are kept,
// the most recent last.
func parseJournal(b []byte) []inv.LogEntry {
	var entries []inv.LogEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e struct {
			Realtime   string          `json:"__REALTIME_TIMESTAMP"`
			Priority   string          `json:"PRIORITY"`
			Unit       string          `json:"_SYSTEMD_UNIT"`
			Identifier string          `json:"SYSLOG_IDENTIFIER"`
			Message    json.RawMessage `json:"MESSAGE"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		msg := journalMessage(e.Message)
		if msg == "" {
			continue
		}
		entry := inv.LogEntry{Unit: clip(clean(firstOf(e.Unit, e.Identifier)), inv.MaxName), Message: msg, Priority: 3}
		if us, err := strconv.ParseInt(e.Realtime, 10, 64); err == nil && us > 0 {
			entry.Time = time.UnixMicro(us).UTC()
		}
		if p, err := strconv.Atoi(e.Priority); err == nil && p >= 0 && p <= 7 {
			entry.Priority = p
		}
		entries = append(entries, entry)
	}
	return entries[max(0, len(entries)-inv.MaxDiagItems):]
}

// journalMessage decodes MESSAGE and bounds it.
func journalMessage(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var bs []byte
		var ints []int
		if json.Unmarshal(raw, &ints) != nil {
			return ""
		}
		for _, i := range ints {
			bs = append(bs, byte(i))
		}
		s = string(bs)
	}
	return clip(clean(s), inv.MaxLong)
}
