package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"crypto/ed25519"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/proto"
)

func TestBadRequests(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBodyBytes = 1024 })
	c := e.login(e.user(console.RoleTechnician, console.L1))
	for _, tc := range []struct {
		name, body, ct string
		status         int
		code, msg      string
	}{
		{"malformed", `{"title": "x",`, "", 400, "invalid", "malformed JSON"},
		{"syntax", `{"title" "x"}`, "", 400, "invalid", "malformed JSON at byte"},
		{"unknown field", `{"title": "x", "owner": 1}`, "", 400, "invalid", `unknown field "owner"`},
		{"wrong type", `{"title": 5}`, "", 400, "invalid", `field "title" must be a string`},
		{"bad priority", `{"title": "x", "priority": "urgent"}`, "", 400, "invalid", "priority must be one of P1"},
		{"two values", `{"title": "x"} {"title": "y"}`, "", 400, "invalid", "one JSON value"},
		{"array", `[1]`, "", 400, "invalid", "must be a JSON object"},
		{"empty", ``, "", 400, "invalid", "request body is empty"},
		{"too large", `{"title": "` + strings.Repeat("x", 2000) + `"}`, "", 413, "too_large", "larger than 1024 bytes"},
		{"not JSON", `title=x`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", "application/json"},
		{"invalid domain value", `{"title": ""}`, "", 400, "invalid", "title is required"},
	} {
		hdr := []string{}
		if tc.ct != "" {
			hdr = []string{"Content-Type", tc.ct}
		}
		r := c.do("POST", "/api/v1/tickets", tc.body, hdr...)
		msg, _ := r.json()["error"].(map[string]any)["message"].(string)
		if r.status != tc.status || r.errCode() != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %d %s, want %d %s containing %q", tc.name, r.status, r.body, tc.status, tc.code, tc.msg)
		}
	}
	// Unknown paths and methods answer in JSON too.
	r := c.do("GET", "/api/v1/nothing", nil).want(t, "unknown path", 404)
	if r.errCode() != "not_found" {
		t.Errorf("unknown path body %s", r.body)
	}
	r = c.do("PUT", "/api/v1/tickets", nil).want(t, "wrong method", 405)
	if r.errCode() != "method_not_allowed" || !strings.Contains(r.header.Get("Allow"), "GET") {
		t.Errorf("wrong method: %s, Allow %q", r.body, r.header.Get("Allow"))
	}
	c.do("GET", "/api/v1/tickets/abc", nil).want(t, "non-numeric id", 400)
	c.do("GET", "/api/v1/tickets?limit=-1", nil).want(t, "negative limit", 400)
	c.do("GET", "/api/v1/tickets?cursor=garbage", nil).want(t, "bad cursor", 400)
	c.do("GET", "/api/v1/devices?software=Chrome+%3C", nil).want(t, "bad software query", 400)
	c.do("GET", "/api/v1/tickets/999", nil).want(t, "missing ticket", 404)
}

func TestTicketLifecycle(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.SessionIdle = 24 * time.Hour })
	tech := e.user(console.RoleTechnician, console.L1)
	c := e.login(tech)
	admin := e.login(e.user(console.RoleAdmin, 0))
	pol := admin.do("POST", "/api/v1/sla-policies", map[string]any{"name": "Standard", "default": true,
		"targets": map[string]any{"P2": map[string]int{"first_response_seconds": 3600, "resolution_seconds": 8 * 3600}}}).
		want(t, "create policy", 201).json()

	r := c.do("POST", "/api/v1/tickets", map[string]any{"title": "Outlook crashes", "priority": "P2",
		"requester": map[string]string{"name": "Ann", "email": "ann@example.com", "phone": "+1 555"}, "category": "email"}).
		want(t, "create", 201)
	tk := r.json()
	id := int64(tk["id"].(float64))
	// Golden-ish: the fields a queue shows, with SLA state and deadlines.
	want := map[string]any{"title": "Outlook crashes", "priority": "P2", "status": "new", "level": "L1", "channel": "phone",
		"sla_state": "ok", "sla_policy_id": pol["id"], "first_response_due": "2026-03-02T10:00:00Z",
		"resolution_due": "2026-03-02T17:00:00Z", "next_due": "2026-03-02T10:00:00Z", "version": 1.0,
		"created_by": float64(tech.ID), "paused_for_seconds": 0.0, "device_ids": []any{}}
	for k, v := range want {
		if fmt.Sprint(tk[k]) != fmt.Sprint(v) {
			t.Errorf("created ticket %s = %v, want %v", k, tk[k], v)
		}
	}
	if r.header.Get("ETag") != `"v1"` {
		t.Errorf("ETag %q", r.header.Get("ETag"))
	}
	path := fmt.Sprintf("/api/v1/tickets/%d", id)

	// 50 minutes later the first response is due within the hour: warning.
	e.clock.Advance(50 * time.Minute)
	got := c.do("GET", path, nil).want(t, "get", 200).json()
	if got["sla_state"] != "warning" {
		t.Errorf("sla_state after 50m = %v", got["sla_state"])
	}
	list := c.do("GET", "/api/v1/tickets?sla=warning&count=true", nil).want(t, "queue", 200).json()
	if list["total"].(float64) != 1 || len(list["items"].([]any)) != 1 {
		t.Errorf("warning queue %v", list)
	}
	// An internal note is not a response; a public reply is.
	c.do("POST", path+"/comments", map[string]any{"body": "checking logs", "internal": true}).want(t, "note", 201)
	if got = c.do("GET", path, nil).json(); got["first_responded_at"] != nil {
		t.Errorf("internal note counted as response: %v", got["first_responded_at"])
	}
	c.do("POST", path+"/comments", map[string]any{"body": "Hi Ann, looking into it."}).want(t, "reply", 201)
	got = c.do("GET", path, nil).json()
	if got["first_responded_at"] != "2026-03-02T09:50:00Z" || got["next_due"] != "2026-03-02T17:00:00Z" {
		t.Errorf("after reply: responded %v next due %v", got["first_responded_at"], got["next_due"])
	}
	v := got["version"].(float64)

	// Optimistic concurrency: a stale If-Match is refused.
	c.do("PATCH", path, map[string]any{"status": "pending"}, "If-Match", `"v1"`).want(t, "stale If-Match", 412)
	r = c.do("PATCH", path, map[string]any{"status": "pending"}, "If-Match", fmt.Sprintf(`"v%d"`, int(v))).want(t, "pending", 200)
	if r.json()["sla_state"] != "paused" {
		t.Errorf("pending ticket sla_state %v", r.json()["sla_state"])
	}
	e.clock.Advance(2 * time.Hour)
	r = c.do("PATCH", path, map[string]any{"status": "open"}).want(t, "reopen from pending", 200)
	if r.json()["resolution_due"] != "2026-03-02T19:00:00Z" || r.json()["paused_for_seconds"].(float64) != 7200 {
		t.Errorf("after a 2h pause: due %v paused %v", r.json()["resolution_due"], r.json()["paused_for_seconds"])
	}

	// Escalation to L2 locks the L1 technician out of further changes.
	r = c.do("POST", path+"/escalate", map[string]any{"reason": "Exchange side"}).want(t, "escalate", 200)
	if r.json()["level"] != "L2" {
		t.Errorf("escalated level %v", r.json()["level"])
	}
	c.do("PATCH", path, map[string]any{"title": "x"}).want(t, "L1 on an L2 ticket", 403)
	c.do("GET", path, nil).want(t, "L1 reads an L2 ticket", 200)

	hist := c.do("GET", path+"/history", nil).want(t, "history", 200).json()["items"].([]any)
	kinds := []string{}
	for _, h := range hist {
		kinds = append(kinds, h.(map[string]any)["kind"].(string))
	}
	if strings.Join(kinds, ",") != "created,commented,commented,updated,updated,updated,commented,updated" {
		t.Errorf("history kinds %v", kinds)
	}

	// Attachments: uploaded, listed, served as a download.
	a := admin.do("POST", path+"/attachments?name=..%2F..%2Fevil.html", []byte("<script>alert(1)</script>"),
		"Content-Type", "text/html").want(t, "upload", 201).json()
	if a["name"] != "evil.html" || a["size"].(float64) != 25 {
		t.Errorf("attachment %v", a)
	}
	dl := c.do("GET", fmt.Sprintf("%s/attachments/%d", path, int64(a["id"].(float64))), nil).want(t, "download", 200)
	if dl.header.Get("Content-Type") != "application/octet-stream" || dl.header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(dl.header.Get("Content-Disposition"), "attachment;") || string(dl.body) != "<script>alert(1)</script>" {
		t.Errorf("download headers %v", dl.header)
	}
	big := make([]byte, 1<<20+1)
	admin.do("POST", path+"/attachments?name=big.bin", big).want(t, "oversized attachment", 413)
}

func TestSessionJourney(t *testing.T) {
	e := newEnv(t, nil)
	m := &matrix{env: e}
	tech := e.user(console.RoleTechnician, console.L2)
	viewer := e.user(console.RoleViewer, 0)
	m.group = &console.DeviceGroup{Name: "Office"}
	e.must(e.store.CreateDeviceGroup(e.ctx, m.group))
	m.device = m.enroll("front-desk")
	c, v := e.login(tech), e.login(viewer)
	tk := c.do("POST", "/api/v1/tickets", map[string]any{"title": "Screen flickers"}).want(t, "ticket", 201).json()
	tid := int64(tk["id"].(float64))

	// Without a grant on the group the device does not exist for them.
	c.do("POST", "/api/v1/sessions", map[string]any{"kind": "unattended", "device_id": m.device.ID}).want(t, "no grant", 404)
	e.must(e.store.SetGrant(e.ctx, &console.Grant{GroupID: m.group.ID, UserID: tech.ID, Permissions: console.PermView | console.PermControl}))
	c.do("POST", "/api/v1/sessions", map[string]any{"kind": "unattended", "device_id": m.device.ID}).want(t, "no unattended grant", 403)
	v.do("POST", "/api/v1/sessions", map[string]any{"kind": "attended", "ticket_id": tid}).want(t, "viewer", 403)

	r := c.do("POST", "/api/v1/sessions", map[string]any{"kind": "attended", "ticket_id": tid}).want(t, "attended", 201).json()
	if r["relay_url"] != "wss://relay.example/" {
		t.Errorf("relay_url %v", r["relay_url"])
	}
	claims, err := proto.NewVerifier(proto.AudienceRelay, e.clock.Now, e.key.Public().(ed25519.PublicKey)).Verify(r["token"].(string), proto.KindTechnician)
	if err != nil {
		t.Fatalf("technician token: %v", err)
	}
	if claims.Subject != itoa(tech.ID) || claims.Ticket == nil || claims.Ticket.ID != itoa(tid) || claims.Org != "Acme IT" ||
		claims.ExpiresAt.Sub(claims.IssuedAt.Time) != 10*time.Minute {
		t.Errorf("claims %+v", claims)
	}
	sess := r["session"].(map[string]any)
	sid := int64(sess["id"].(float64))
	sp := fmt.Sprintf("/api/v1/sessions/%d", sid)

	c.do("POST", sp+"/relay", map[string]string{"sid": "s-123", "code": "12345"}).want(t, "bad code", 400)
	c.do("POST", sp+"/relay", map[string]string{"sid": "s-123", "code": "123456789"}).want(t, "relay", 200)
	c.do("POST", sp+"/relay", map[string]string{"sid": "s-123", "code": "123456789"}).want(t, "relay again", 200) // one event
	st, err := e.store.FindSessionByID(e.ctx, sid)
	e.must(err)
	if st.RelaySID != "s-123" || len(st.CodeHash) != 32 {
		t.Errorf("stored relay sid %q code hash %x", st.RelaySID, st.CodeHash)
	}
	other := e.login(e.user(console.RoleTechnician, console.L3))
	other.do("POST", sp+"/end", nil).want(t, "another technician ends it", 403)

	fp := "sha-256 " + strings.Repeat("0A:", 31) + "0A"
	g := c.do("POST", sp+"/grant", map[string]string{"fingerprint": strings.ToLower(fp), "device_id": "quick-1"}).want(t, "grant", 200).json()
	gc, err := proto.NewVerifier(proto.AudienceAgent, e.clock.Now, e.key.Public().(ed25519.PublicKey)).Verify(g["grant"].(string), proto.KindGrant)
	if err != nil || gc.Fingerprint != fp || gc.Device != "quick-1" {
		t.Errorf("grant %+v, %v", gc, err)
	}
	c.do("POST", sp+"/events", []map[string]any{
		{"type": "started"},
		{"type": "consent", "detail": map[string]string{"decision": "control"}},
		{"type": "chat", "detail": map[string]string{"from": "tech", "text": "I'll move your mouse now"}},
		{"type": "clipboard", "detail": map[string]any{"direction": "to_device", "bytes": 42}},
	}).want(t, "events", 201)
	e.must(e.store.AppendSessionEvents(e.ctx, []*console.SessionEvent{{SessionID: sid, Source: console.SourceAgent, Type: "consent",
		Detail: json.RawMessage(`{"decision":"control"}`)}}))
	e.clock.Advance(7 * time.Minute)
	end := c.do("POST", sp+"/end", map[string]string{"reason": "resolved"}).want(t, "end", 200).json()
	if end["ended_at"] != "2026-03-02T09:07:00Z" || end["end_reason"] != "resolved" {
		t.Errorf("ended session %v", end)
	}
	c.do("POST", sp+"/end", nil).want(t, "end twice", 409)

	// The log is on the ticket: an event and an internal comment.
	hist := c.do("GET", fmt.Sprintf("/api/v1/tickets/%d/history", tid), nil).json()["items"].([]any)
	last := hist[len(hist)-1].(map[string]any)
	if last["kind"] != "session_attached" || int64(last["ref_id"].(float64)) != sid {
		t.Errorf("last ticket event %v", last)
	}
	cs := c.do("GET", fmt.Sprintf("/api/v1/tickets/%d/comments", tid), nil).json()["items"].([]any)
	log := cs[len(cs)-1].(map[string]any)
	body := log["body"].(string)
	for _, want := range []string{"Remote session #", tech.Name, "quick support", "Duration: 7m0s", "Chat:", "tech: I'll move your mouse now",
		"Clipboard:", `"bytes":42`, "Consent: control", "Permissions: view,control,clipboard,files"} {
		if !strings.Contains(body, want) {
			t.Errorf("session log lacks %q:\n%s", want, body)
		}
	}
	if log["internal"] != true {
		t.Error("session log is not internal")
	}
	full := v.do("GET", sp, nil).want(t, "viewer reads the session", 200).json()
	var got []string
	for _, ev := range full["timeline"].([]any) {
		m := ev.(map[string]any)
		got = append(got, m["source"].(string)+" "+m["type"].(string))
	}
	want := []string{"console created", "console relay_linked", "console grant_issued", "technician started", "technician consent",
		"technician chat", "technician clipboard", "agent consent", "console ended"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("timeline\n got %v\nwant %v", got, want)
	}
}
