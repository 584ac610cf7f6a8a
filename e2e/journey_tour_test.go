package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// tourPage is one page the screenshot script visits.
type tourPage struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	Wait      string `json:"wait"`
	Click     string `json:"click,omitempty"`
	WaitAfter string `json:"waitAfter,omitempty"`
}

// seedTour fills a console with what a help desk's morning looks like: an
// SLA policy, tickets of every priority (one breached, one due within the
// hour, one resolved on first contact), a webhook, and enrolled devices,
// one online with a change in its history.
func seedTour(t *testing.T, r *consoleRig) (ticketID, deviceID int64) {
	t.Helper()
	admin := r.cs.SignIn(t, AdminEmail)
	day := []map[string]int{{"start": 0, "end": 1440}}
	week := [][]map[string]int{day, day, day, day, day, day, day}
	admin.Must("POST", "/api/v1/sla-policies", map[string]any{"name": "Standard", "default": true, "calendar": map[string]any{"tz": "UTC", "week": week},
		"targets": map[string]any{
			"P1": map[string]int{"first_response_seconds": 2, "resolution_seconds": 4 * 3600},
			"P2": map[string]int{"first_response_seconds": 45 * 60, "resolution_seconds": 8 * 3600},
			"P3": map[string]int{"first_response_seconds": 4 * 3600, "resolution_seconds": 3 * 24 * 3600},
			"P4": map[string]int{"first_response_seconds": 8 * 3600, "resolution_seconds": 5 * 24 * 3600},
		}}, nil)
	admin.Must("POST", "/api/v1/webhooks", map[string]any{"name": "Chat-ops", "url": "https://hooks.example.com/reach", "event_types": []string{"ticket.created", "ticket.sla_breached"}, "enabled": true}, nil)

	tech := r.cs.SignIn(t, r.fleet.TechEmail)
	type ticket struct {
		ID      int64
		Version int64
	}
	create := func(title, prio, name, channel string) ticket {
		var tk ticket
		tech.Must("POST", "/api/v1/tickets", map[string]any{"title": title, "priority": prio, "channel": channel, "description": "Reported by phone.",
			"requester": map[string]string{"name": name, "email": strings.ToLower(strings.Fields(name)[0]) + "@example.com", "phone": ""}}, &tk)
		return tk
	}
	down := create("Accounting share unreachable for the whole floor", "P1", "Marta Lopez", "phone")
	vpn := create("VPN drops every 10 minutes", "P2", "Sam Carter", "email")
	create("New starter needs a laptop on Monday", "P3", "Priya Natarajan", "portal")
	create("Request: second monitor", "P4", "Tom Becker", "portal")
	printer := create("Printer prints blank pages", "P3", "Rita Requester", "phone")
	tech.Must("POST", fmt.Sprintf("/api/v1/tickets/%d/comments", printer.ID), map[string]any{"body": "Replaced the toner cartridge with the user on the phone.", "internal": false}, nil)
	var got ticket
	tech.Must("GET", fmt.Sprintf("/api/v1/tickets/%d", printer.ID), nil, &got)
	tech.Must("PATCH", fmt.Sprintf("/api/v1/tickets/%d", printer.ID), map[string]any{"status": "resolved", "version": got.Version}, nil)
	tech.Must("POST", fmt.Sprintf("/api/v1/tickets/%d/comments", vpn.ID), map[string]any{"body": "Asked for the VPN client log.", "internal": true}, nil)

	// An older report at enrollment makes the running agent's first report a change.
	first := doctoredInventory(t, func(rep *inv.Report) {
		rep.Software.Packages = append(rep.Software.Packages, inv.Package{Source: "dpkg", Name: "teamviewer", Version: "15.48.4"})
	})
	state, dev := r.cs.EnrollDevice(t, r.fleet, "front-desk-pc", first)
	r.cs.EnrollDevice(t, r.fleet, "warehouse-scanner", nil)
	r.serve(t, state, "ask")
	tech.Must("PUT", fmt.Sprintf("/api/v1/tickets/%d/devices/%d", down.ID, dev.DeviceID), nil, nil)
	return down.ID, dev.DeviceID
}

// TestConsoleTour visits the console's main pages at 1366x768 with
// web/console/screenshots.mjs: every page renders without script errors or
// CSP violations, has no horizontal scroll at that size, and labels every
// form control. With REACH_SCREENSHOTS=1 the PNGs go to docs/screenshots/.
func TestConsoleTour(t *testing.T) {
	r := newConsoleRig(t, nil)
	ticketID, deviceID := seedTour(t, r)
	time.Sleep(2 * time.Second) // the P1 first response breaches

	pages := []tourPage{
		{Name: "ticket-queue", Path: "/tickets", Wait: "table[aria-label=Tickets] .sla.breached"},
		{Name: "ticket", Path: fmt.Sprintf("/tickets/%d", ticketID), Wait: "#start-session"},
		{Name: "devices", Path: "/devices", Wait: "table[aria-label=Devices] .badge.online"},
		{Name: "device", Path: fmt.Sprintf("/devices/%d", deviceID), Wait: "#inventory section"},
		{Name: "device-changes", Path: fmt.Sprintf("/devices/%d", deviceID), Wait: "#tab-changes", Click: "#tab-changes", WaitAfter: "#changes li"},
		{Name: "kpis", Path: "/kpis", Wait: "#kpi-report .kpis"},
		{Name: "admin-users", Path: "/admin/users", Wait: "table[aria-label=Users]"},
		{Name: "admin-groups", Path: "/admin/groups", Wait: "table[aria-label='Device groups']"},
		{Name: "admin-enrollment", Path: "/admin/enrollment", Wait: "table[aria-label='Enrollment tokens']"},
		{Name: "admin-sla", Path: "/admin/sla", Wait: "table[aria-label='SLA policies']"},
		{Name: "admin-webhooks", Path: "/admin/webhooks", Wait: "table[aria-label=Webhooks]"},
		{Name: "account", Path: "/account", Wait: "#totp-start"},
	}
	out := t.TempDir()
	if os.Getenv("REACH_SCREENSHOTS") != "" {
		out = filepath.Join(repoRoot, "docs", "screenshots")
		os.MkdirAll(out, 0o755)
	}
	spec, _ := json.Marshal(pages)
	webDist(t)
	cmd := exec.Command("node", filepath.Join(repoRoot, "web", "console", "screenshots.mjs"))
	cmd.Env = append(os.Environ(), "REACH_URL="+r.cs.URL, "REACH_EMAIL="+AdminEmail, "REACH_PASSWORD="+r.cs.AdminPassword,
		"REACH_PAGES="+string(spec), "REACH_OUT="+out, "REACH_USER_DATA_DIR="+t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("screenshots.mjs: %v\n%s", err, stderr.String())
	}
	var rep struct {
		Pages []struct {
			Name          string
			OverflowX     int
			Unlabelled    []string
			CSPViolations int
			Errors        []string
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || len(rep.Pages) != len(pages) {
		t.Fatalf("screenshots.mjs reported %q (%v)", stdout.String(), err)
	}
	for _, p := range rep.Pages {
		if p.OverflowX > 0 {
			t.Errorf("%s scrolls sideways at 1366x768 (%d px)", p.Name, p.OverflowX)
		}
		if len(p.Unlabelled) > 0 {
			t.Errorf("%s has form controls without a label: %q", p.Name, p.Unlabelled)
		}
		if p.CSPViolations > 0 || len(p.Errors) > 0 {
			t.Errorf("%s: %d CSP violations, errors %q", p.Name, p.CSPViolations, p.Errors)
		}
		if fi, err := os.Stat(filepath.Join(out, p.Name+".png")); err != nil || fi.Size() < 5000 {
			t.Errorf("%s: no screenshot (%v)", p.Name, err)
		}
	}
}
