package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/console"
)

func TestAttachDiagnostics(t *testing.T) {
	e := newEnv(t, nil)
	c := e.session(e.user(console.RoleTechnician, console.L1))
	seen := e.device(e.group(console.PermView), "ws-<b>1</b>")
	hidden := e.device(e.group(0), "ceo-laptop")
	tk := &console.Ticket{Title: "Slow", Channel: console.ChannelPhone, Priority: console.P3, Status: console.StatusOpen, Level: console.L1}
	e.must(e.store.CreateTicket(e.ctx, tk))
	cmd := &console.DeviceCommand{DeviceID: seen.ID, Kind: console.CommandDiagnostics}
	e.must(e.store.CreateDeviceCommand(e.ctx, cmd))
	_, err := e.store.RecordDiagnostics(e.ctx, &console.AgentReceipt{DeviceID: seen.ID, Key: "d1", Kind: "diagnostics", Status: 200,
		Result: json.RawMessage(`{}`)}, cmd.ID, []*console.DiagnosticResult{
		{DeviceID: seen.ID, Check: "disk_space", Status: console.DiagnosticWarn, Output: []byte(`{"summary":"/ is 91% full"}`)},
		{DeviceID: seen.ID, Check: "dns", Status: console.DiagnosticFail,
			Output: []byte(`{"summary":"no answer from 10.0.0.53\nFAKE LINE <script>alert(1)</script>"}`)},
	})
	e.must(err)
	run, err := e.store.FindCommandDiagnostics(e.ctx, cmd.ID)
	e.must(err)
	secret := &console.DiagnosticResult{DeviceID: hidden.ID, Check: "disk_space", Status: console.DiagnosticOK, Output: []byte(`{}`)}
	e.must(e.store.CreateDiagnosticResult(e.ctx, secret))

	tp := "/api/v1/tickets/" + itoa(tk.ID)
	c.do("POST", tp+"/diagnostics/"+itoa(secret.ID), nil).want(t, "a device the caller may not view", 404)
	c.do("POST", tp+"/diagnostics/99999", nil).want(t, "unknown result", 404)
	c.do("POST", "/api/v1/tickets/99999/diagnostics/"+itoa(run[0].ID), nil).want(t, "unknown ticket", 404)

	r := c.do("POST", tp+"/diagnostics/"+itoa(run[1].ID), nil).want(t, "attach", 201).json()
	body := r["comment"].(map[string]any)["body"].(string)
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	want := []string{
		"Diagnostics from device ws-<b>1</b> (#" + itoa(seen.ID) + "), 2026-03-02 09:00:00 UTC:",
		"  [WARN] disk_space: / is 91% full",
		"  [FAIL] dns: no answer from 10.0.0.53 FAKE LINE <script>alert(1)</script>",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("comment\n got %q\nwant %q", lines, want)
	}
	if r["comment"].(map[string]any)["internal"] != true || len(r["results"].([]any)) != 2 {
		t.Errorf("answer %v", r)
	}
	hist := c.do("GET", tp+"/history", nil).json()["items"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	if last["kind"] != string(console.EventDiagnosticsAttached) || int64(last["ref_id"].(float64)) != run[1].ID {
		t.Errorf("last ticket event %v", last)
	}
	ds := c.do("GET", "/api/v1/devices/"+itoa(seen.ID)+"/diagnostics", nil).json()["items"].([]any)
	for _, d := range ds {
		if int64(d.(map[string]any)["ticket_id"].(float64)) != tk.ID {
			t.Errorf("result not attached: %v", d)
		}
	}
}

// TestTicketSessions checks that a ticket lists its sessions with their
// whole timelines, from every source in time order, and CSAT answers,
// hiding sessions on devices the caller may not view.
func TestTicketSessions(t *testing.T) {
	e := newEnv(t, nil)
	tech := e.user(console.RoleTechnician, console.L1)
	c := e.session(tech)
	admin := e.session(e.user(console.RoleAdmin, 0))
	seen := e.device(e.group(console.PermAll), "ws-1")
	hidden := e.device(e.group(0), "ceo-laptop")
	tk := &console.Ticket{Title: "Slow", Channel: console.ChannelPhone, Priority: console.P3, Status: console.StatusOpen, Level: console.L1}
	e.must(e.store.CreateTicket(e.ctx, tk))

	// The first session through the API; the relay's and the agent's
	// accounts arrive later but happened earlier.
	s1 := c.do("POST", "/api/v1/sessions", map[string]any{"kind": "unattended", "device_id": seen.ID, "ticket_id": tk.ID}).
		want(t, "create", 201).json()["session"].(map[string]any)
	sid := int64(s1["id"].(float64))
	sp := "/api/v1/sessions/" + itoa(sid)
	e.clock.Advance(time.Minute)
	c.do("POST", sp+"/events", []map[string]any{{"type": "chat", "detail": map[string]string{"from": "tech", "text": "hi"}}}).want(t, "events", 201)
	e.must(e.store.AppendRelayEvents(e.ctx, &console.RelayCursor{Relay: "wss://relay.example/", Seq: 1},
		[]*console.SessionEvent{{SessionID: sid, Type: "peer_joined", At: e.clock.Now().Add(-30 * time.Second)}}))
	e.must(e.store.AppendSessionEvents(e.ctx, []*console.SessionEvent{{SessionID: sid, Source: console.SourceAgent, Type: "consent",
		At: e.clock.Now().Add(-20 * time.Second), Detail: json.RawMessage(`{"decision":"control"}`)}}))
	e.must(e.store.RecordCSAT(e.ctx, &console.CSATAnswer{SessionID: sid, Score: 5, Comment: "quick", AnsweredAt: e.clock.Now()}))
	// A second session on a device the technician may not view.
	s2 := &console.Session{Kind: console.SessionUnattended, DeviceID: hidden.ID, TicketID: tk.ID, TechnicianID: tech.ID,
		Consent: console.ConsentPending, Permissions: console.PermView}
	e.must(e.store.CreateSession(e.ctx, s2))

	var page struct {
		Items []struct {
			ID       int64 `json:"id"`
			Timeline []struct {
				Source string `json:"source"`
				Type   string `json:"type"`
			} `json:"timeline"`
			CSAT *csatJSON `json:"csat"`
		} `json:"items"`
	}
	json.Unmarshal(c.do("GET", "/api/v1/tickets/"+itoa(tk.ID)+"/sessions", nil).want(t, "ticket sessions", 200).body, &page)
	if len(page.Items) != 1 || page.Items[0].ID != sid {
		t.Fatalf("technician sees %+v", page.Items)
	}
	var got []string
	for _, ev := range page.Items[0].Timeline {
		got = append(got, ev.Source+" "+ev.Type)
	}
	if want := "console created, relay peer_joined, agent consent, technician chat"; strings.Join(got, ", ") != want {
		t.Errorf("timeline\n got %s\nwant %s", strings.Join(got, ", "), want)
	}
	if cs := page.Items[0].CSAT; cs == nil || cs.Score != 5 || cs.Comment != "quick" {
		t.Errorf("csat %+v", cs)
	}
	json.Unmarshal(admin.do("GET", "/api/v1/tickets/"+itoa(tk.ID)+"/sessions?limit=1", nil).want(t, "admin page 1", 200).body, &page)
	if len(page.Items) != 1 || page.Items[0].ID != sid {
		t.Errorf("admin page 1 %+v", page.Items)
	}
	json.Unmarshal(admin.do("GET", "/api/v1/tickets/"+itoa(tk.ID)+"/sessions?after="+itoa(sid), nil).want(t, "admin page 2", 200).body, &page)
	if len(page.Items) != 1 || page.Items[0].ID != s2.ID {
		t.Errorf("admin page 2 %+v", page.Items)
	}
	c.do("GET", "/api/v1/tickets/99999/sessions", nil).want(t, "unknown ticket", 404)

	// The session itself carries the same timeline.
	full := c.do("GET", sp, nil).want(t, "session", 200).json()
	if n := len(full["timeline"].([]any)); n != 4 || full["csat"] == nil || full["timeline_truncated"] != nil {
		t.Errorf("session detail: %d events, csat %v, truncated %v", n, full["csat"], full["timeline_truncated"])
	}
}

// TestSessionTimelineBound checks that a session's detail pages through
// the whole timeline up to maxTimeline and says when it stops there.
func TestSessionTimelineBound(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.session(e.user(console.RoleAdmin, 0))
	s := &console.Session{Kind: console.SessionAttended, TechnicianID: e.user(console.RoleTechnician, console.L1).ID,
		Consent: console.ConsentPending, Permissions: console.PermView}
	e.must(e.store.CreateSession(e.ctx, s))
	sp := "/api/v1/sessions/" + itoa(s.ID)
	add := func(n int) {
		for n > 0 {
			batch := make([]*console.SessionEvent, min(n, console.MaxEventBatch))
			for i := range batch {
				batch[i] = &console.SessionEvent{SessionID: s.ID, Source: console.SourceAgent, Type: "clipboard"}
			}
			e.must(e.store.AppendSessionEvents(e.ctx, batch))
			n -= len(batch)
		}
	}
	add(maxTimeline)
	full := admin.do("GET", sp, nil).want(t, "session", 200).json()
	if n := len(full["timeline"].([]any)); n != maxTimeline || full["timeline_truncated"] != nil {
		t.Errorf("%d events, truncated %v", n, full["timeline_truncated"])
	}
	add(1)
	full = admin.do("GET", sp, nil).want(t, "session", 200).json()
	if n := len(full["timeline"].([]any)); n != maxTimeline || full["timeline_truncated"] != true {
		t.Errorf("%d events, truncated %v", n, full["timeline_truncated"])
	}
}
