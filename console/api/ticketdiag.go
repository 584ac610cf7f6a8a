package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/webhook"
)

// attachDiagnostics attaches a diagnostics run (the result named and the
// other checks of the same request) to a ticket: the results point to the
// ticket, the ticket gets a diagnostics_attached event and an internal
// comment with one line per check.
func (s *Server) attachDiagnostics(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rid, err := pathID(r, "result_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.work(ctx, p, id); err != nil {
		return err
	}
	res, err := s.store.FindDiagnosticResultByID(ctx, rid)
	if console.ErrorCode(err) == console.CodeNotFound {
		return errNotFound("diagnostic result")
	} else if err != nil {
		return err
	}
	d, _, err := s.device(ctx, p, res.DeviceID, console.PermView)
	if err != nil {
		if toAPIError(err).status == http.StatusNotFound {
			return errNotFound("diagnostic result") // of a device the caller may not view
		}
		return err
	}
	run, err := s.store.AttachDiagnosticRun(ctx, rid, id)
	if err != nil {
		return err
	}
	c := &console.Comment{TicketID: id, AuthorID: p.user.ID, Internal: true, Body: diagnosticsSummary(d, run)}
	if err := s.store.AddComment(ctx, c); err != nil {
		return err
	}
	if err := s.store.AddTicketEvent(ctx, &console.TicketEvent{TicketID: id, ActorID: p.user.ID, Kind: console.EventDiagnosticsAttached,
		RefID: rid}); err != nil {
		return err
	}
	cj := toComment(c)
	s.publish(ctx, webhook.TicketCommented, cj)
	writeJSON(w, http.StatusCreated, map[string]any{"comment": cj, "results": mapSlice(run, toDiagnostic)})
	return nil
}

// diagnosticsSummary renders a run as plain text: a heading naming the
// device, then one line per check with its status and the agent's
// one-line summary. Agent output is untrusted: only the summary string is
// taken, flattened to one line and bounded.
func diagnosticsSummary(d *console.Device, run []*console.DiagnosticResult) string {
	var b strings.Builder
	at := "-"
	if len(run) > 0 {
		t := run[0].FinishedAt
		if t.IsZero() {
			t = run[0].CreatedAt
		}
		at = t.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	fmt.Fprintf(&b, "Diagnostics from device %s (#%d), %s:\n", oneLine(d.Name, 200), d.ID, at)
	for _, r := range run {
		var out struct {
			Summary string `json:"summary"`
		}
		json.Unmarshal(r.Output, &out) // not JSON or no summary: the line has none
		line := fmt.Sprintf("  [%s] %s", strings.ToUpper(string(r.Status)), oneLine(r.Check, 100))
		if sum := oneLine(out.Summary, 300); sum != "" {
			line += ": " + sum
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// oneLine flattens s to one line of valid UTF-8 of at most max bytes.
func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	s = strings.TrimSpace(s)
	if len(s) > max {
		s = console.Excerpt(s, max-3) + "…"
	}
	return s
}
