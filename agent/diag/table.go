package diag

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/reachdesk/reach/agent/inventory"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// WriteTable writes a diagnostics report as one line per check, followed by
// its details, for people reading `reach-agent diagnose --format table`.
func WriteTable(w io.Writer, rep *inv.DiagReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Reach diagnostics, agent %s, collected %s\n\n", rep.AgentVersion, rep.CollectedAt.UTC().Format(time.DateTime+" MST"))
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.ToUpper(string(r.Status)), r.Check, r.Summary)
		detail := func(format string, args ...any) { fmt.Fprintf(tw, "\t\t  "+format+"\n", args...) }
		for _, d := range r.Disks {
			detail("%s %.1f%% used, %s free of %s", d.Mount, d.UsedPercent, inventory.HumanBytes(d.FreeBytes), inventory.HumanBytes(d.TotalBytes))
		}
		for _, p := range r.TopCPU {
			detail("cpu %5.1f%%  %s (pid %d, %s)", p.CPUPercent, p.Name, p.PID, firstOf(p.User, "?"))
		}
		for _, p := range r.TopMemory {
			detail("memory %s  %s (pid %d, %s)", inventory.HumanBytes(p.RSSBytes), p.Name, p.PID, firstOf(p.User, "?"))
		}
		for _, s := range r.Services {
			detail("%s %s/%s %s", s.Name, s.State, s.SubState, s.Description)
		}
		for _, e := range r.Log {
			detail("%s %s: %s", e.Time.UTC().Format(time.DateTime), firstOf(e.Unit, "?"), e.Message)
		}
		for _, p := range r.Probes {
			state := "ok"
			if !p.OK {
				state = "FAILED"
			}
			detail("%s: %s in %d ms, %s", p.Target, state, p.LatencyMS, p.Detail)
		}
		if c := r.Clock; c != nil {
			detail("synchronized=%v service=%s offset=%d ms max error=%d ms", c.Synchronized, firstOf(c.Service, "none"),
				c.OffsetMS, c.MaxErrorMS)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("diag: write table: %w", err)
	}
	return nil
}
