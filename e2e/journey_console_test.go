package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/internal/xvfb"
	"github.com/reachdesk/reach/proto"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// consoleRig is a console, a relay and an X display for a journey.
type consoleRig struct {
	x     *xvfb.Server
	c     *Console
	relay *Relay
	cs    *ConsoleServer
	fleet *Fleet
}

// newConsoleRig starts Xvfb, the relay and the console; browserRelay, when
// set, is where the console sends browsers instead of the relay (a hostile
// front in journey 6).
func newConsoleRig(t *testing.T, browserRelay func(*Relay) *Relay) *consoleRig {
	t.Helper()
	x := xvfb.Start(t, xvfb.Options{Width: 1280, Height: 720})
	c := NewConsole(t)
	relay := StartRelay(t, c)
	forBrowser := relay
	if browserRelay != nil {
		forBrowser = browserRelay(relay)
	}
	cs := StartConsoleServer(t, c, forBrowser)
	return &consoleRig{x: x, c: c, relay: relay, cs: cs, fleet: cs.SetUpFleet(t)}
}

// serve runs `reach-agent serve` for the enrolled device in state.
func (r *consoleRig) serve(t *testing.T, state, policy string) {
	t.Helper()
	process(t, r.x.Env(), binary(t, "./agent/cmd/reach-agent"), "serve", "-state", state, "-relay", "ws://"+r.relay.Addr,
		"-policy", policy, "-ui", "terminal", "-display", r.x.Display, "-poll-wait", "2s")
	r.relay.WaitAgents(t, 1)
}

// ticket creates a ticket as the technician and returns its id.
func (r *consoleRig) ticket(t *testing.T, title string) int64 {
	t.Helper()
	var tk struct{ ID int64 }
	r.cs.SignIn(t, r.fleet.TechEmail).Must("POST", "/api/v1/tickets", map[string]any{"title": title, "priority": "P3", "channel": "phone",
		"requester": map[string]string{"name": "Rita Requester", "email": "rita@example.com", "phone": ""}}, &tk)
	return tk.ID
}

// TestJourneyUnattended is journey 2: an authorized technician connects
// to an enrolled device from its page; a viewer is refused.
func TestJourneyUnattended(t *testing.T) {
	r := newConsoleRig(t, nil)
	want := quadrants(t, r.x)
	state, dev := r.cs.EnrollDevice(t, r.fleet, "kiosk-7", nil)
	r.serve(t, state, "control")

	// The viewer sees the device but cannot connect, in the UI or the API.
	v := OpenConsole(t, r.cs, r.fleet.ViewEmail)
	v.Must(map[string]any{"op": "goto", "url": fmt.Sprintf("%s/devices/%d", r.cs.URL, dev.DeviceID)}, nil)
	waitJS(t, v, "document.querySelector('#connect')", 15*time.Second)
	var disabled bool
	v.MustEval("document.querySelector('#connect').disabled", &disabled)
	if !disabled {
		t.Error("Connect is enabled for a viewer")
	}
	if st, err := r.cs.SignIn(t, r.fleet.ViewEmail).Do("POST", "/api/v1/sessions", map[string]any{"kind": "unattended", "device_id": dev.DeviceID}, nil); st != 403 {
		t.Errorf("a viewer's unattended session: %d %v, want 403", st, err)
	}

	// The technician connects; the device's policy allows control.
	b := OpenConsole(t, r.cs, r.fleet.TechEmail)
	installCSPWatch(b)
	b.Must(map[string]any{"op": "goto", "url": fmt.Sprintf("%s/devices/%d", r.cs.URL, dev.DeviceID)}, nil)
	waitJS(t, b, "document.querySelector('#connect') && !document.querySelector('#connect').disabled", 15*time.Second)
	b.MustEval("document.querySelector('#connect').click()", nil)
	waitJS(t, b, "document.querySelector('#session-state')?.textContent === 'connected'", 30*time.Second)
	waitConsolePattern(t, b, want)
	var perms string
	b.MustEval("document.querySelector('#session-permissions').textContent", &perms)
	if !strings.Contains(perms, "control") {
		t.Errorf("permissions shown %q", perms)
	}
	b.MustEval("document.querySelector('#end-session').click()", nil)
	waitJS(t, b, "document.querySelector('#ended-reason')", 10*time.Second)
	consoleErrors(t, b)
}

// TestJourneyConsentRefused is journey 3: the end user denies, or nobody
// answers; no video ever reaches the technician, who is told why.
func TestJourneyConsentRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(user *Browser)
		reason string
		wait   time.Duration
	}{
		{"deny", func(user *Browser) { user.MustEval("document.querySelector('#deny').click()", nil) }, "denied access (user)", 10 * time.Second},
		{"timeout", func(*Browser) {}, "denied access (timeout)", 45 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newConsoleRig(t, nil)
			state, _ := r.cs.EnrollDevice(t, r.fleet, "desk-"+tc.name, nil)
			id := r.ticket(t, "Cannot print")
			b := OpenConsole(t, r.cs, r.fleet.TechEmail)
			b.Must(map[string]any{"op": "goto", "url": fmt.Sprintf("%s/sessions/new?ticket=%d", r.cs.URL, id)}, nil)
			waitJS(t, b, "document.querySelector('#session-code')", 20*time.Second)
			var code string
			b.MustEval("document.querySelector('#session-code').textContent.replace(/\\s/g, '')", &code)
			agent := startEndUserAgent(t, state, r.relay, r.x, code)
			user := StartBrowser(t)
			user.Must(map[string]any{"op": "goto", "url": agent.URL}, nil)
			waitJS(t, user, "document.querySelector('#deny')", 20*time.Second)
			tc.answer(user)
			waitJS(t, b, "document.querySelector('#ended-reason')", tc.wait)
			if got := text(t, b, "#ended-reason"); !strings.Contains(got, tc.reason) {
				t.Errorf("the technician was told %q, want %q", got, tc.reason)
			}
			var w int
			b.MustEval("document.querySelector('#remote-screen').videoWidth", &w)
			if w != 0 {
				t.Errorf("video of width %d reached the technician", w)
			}
		})
	}
}

// hostile are markup payloads planted in agent-reported fields.
const (
	hostileHost = `<img src=x onerror="window.pwned=1">pc`
	hostileOS   = `<script>window.pwned=2</script>Evil OS`
	hostilePkg  = `<svg onload="window.pwned=3">pkg`
)

// doctoredInventory runs `reach-agent inventory` and applies edit to the
// report, resealing its section hashes.
func doctoredInventory(t *testing.T, edit func(*inv.Report)) []byte {
	t.Helper()
	out, err := exec.Command(binary(t, "./agent/cmd/reach-agent"), "inventory", "-format", "json").Output()
	if err != nil {
		t.Fatalf("reach-agent inventory: %v", err)
	}
	var rep inv.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	edit(&rep)
	if rep.Hashes, err = rep.Sections.Hashes(); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(&rep)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestJourneyInventory is journeys 4 and 5: the device page shows the
// agent's inventory by section; a change since enrollment shows in its
// history; markup in reported fields renders as inert text.
func TestJourneyInventory(t *testing.T) {
	r := newConsoleRig(t, nil)
	// At enrollment the device reported a hostile package and OS name; the
	// running agent then reports the real ones.
	first := doctoredInventory(t, func(rep *inv.Report) {
		rep.OS.Name = hostileOS
		rep.Software.Packages = append([]inv.Package{{Source: "dpkg", Name: hostilePkg, Version: "1.0"}}, rep.Software.Packages...)
	})
	state, dev := r.cs.EnrollDevice(t, r.fleet, hostileHost, first)

	b := OpenConsole(t, r.cs, r.fleet.TechEmail)
	installCSPWatch(b)
	b.Must(map[string]any{"op": "goto", "url": r.cs.URL + "/devices"}, nil)
	waitJS(t, b, "document.querySelector('table[aria-label=Devices]')", 15*time.Second)
	screenshot(t, b, "devices")
	b.Must(map[string]any{"op": "goto", "url": fmt.Sprintf("%s/devices/%d", r.cs.URL, dev.DeviceID)}, nil)
	waitJS(t, b, "document.querySelector('#inventory section')", 15*time.Second)
	var sections []string
	b.MustEval("[...document.querySelectorAll('#inventory section h3')].map((e) => e.textContent)", &sections)
	for _, s := range []string{"Os", "Cpu", "Memory", "Filesystems", "Network", "Software", "Services"} {
		found := false
		for _, got := range sections {
			found = found || got == s
		}
		if !found {
			t.Errorf("inventory section %q missing; shown %v", s, sections)
		}
	}
	var page string
	b.MustEval("document.querySelector('main').textContent", &page)
	for _, raw := range []string{hostileHost, hostileOS, hostilePkg} {
		if !strings.Contains(page, raw) {
			t.Errorf("the device page does not show %q as text", raw)
		}
	}
	var inert bool
	b.MustEval("window.pwned === undefined && !document.querySelector('main img, main script, main svg:not([role=img])')", &inert)
	if !inert {
		t.Fatal("markup from the agent was rendered")
	}
	screenshot(t, b, "device")

	// The agent comes up and reports the real inventory: the OS name
	// change and the removed package show in the device's history, as text.
	r.serve(t, state, "deny")
	ok := waitFor(context.Background(), 30*time.Second, func() bool {
		b.Must(map[string]any{"op": "goto", "url": fmt.Sprintf("%s/devices/%d", r.cs.URL, dev.DeviceID)}, nil)
		waitJS(t, b, "document.querySelector('#tab-changes')", 15*time.Second)
		b.MustEval("document.querySelector('#tab-changes').click()", nil)
		time.Sleep(500 * time.Millisecond)
		var changes string
		b.MustEval("document.querySelector('#changes')?.textContent ?? ''", &changes)
		return strings.Contains(changes, hostileOS) && strings.Contains(changes, "removed "+hostilePkg)
	})
	if !ok {
		var changes any
		r.cs.SignIn(t, r.fleet.TechEmail).Do("GET", fmt.Sprintf("/api/v1/devices/%d/changes", dev.DeviceID), nil, &changes)
		t.Errorf("the changes do not show in the device's history; the API has %v", changes)
	}
	screenshot(t, b, "device-changes")

	// Diagnostics on demand reach the agent and come back to the page.
	b.MustEval("document.querySelector('#tab-diagnostics').click()", nil)
	waitJS(t, b, "document.querySelector('#run-diagnostics')", 10*time.Second)
	b.MustEval("document.querySelector('#run-diagnostics').click()", nil)
	waitJS(t, b, "document.querySelector('#diagnostics li.diag')", 60*time.Second)
	var inertAfter bool
	b.MustEval("window.pwned === undefined", &inertAfter)
	if !inertAfter {
		t.Error("markup from the agent ran in the changes view")
	}
	consoleErrors(t, b)
}

// TestJourneyTamperedFingerprint is journey 6: the relay in front of the
// browser swaps the agent's DTLS fingerprint; the session is refused on
// both sides and the technician sees why.
func TestJourneyTamperedFingerprint(t *testing.T) {
	r := newConsoleRig(t, func(relay *Relay) *Relay {
		return &Relay{Addr: tamperingProxy(t, relay, proto.TypeAnswer)}
	})
	state, _ := r.cs.EnrollDevice(t, r.fleet, "desk-9", nil)
	id := r.ticket(t, "Screen flickers")
	b := OpenConsole(t, r.cs, r.fleet.TechEmail)
	b.Must(map[string]any{"op": "goto", "url": fmt.Sprintf("%s/sessions/new?ticket=%d", r.cs.URL, id)}, nil)
	waitJS(t, b, "document.querySelector('#session-code')", 20*time.Second)
	var code string
	b.MustEval("document.querySelector('#session-code').textContent.replace(/\\s/g, '')", &code)
	agent := startEndUserAgent(t, state, r.relay, r.x, code)
	user := StartBrowser(t)
	user.Must(map[string]any{"op": "goto", "url": agent.URL}, nil)
	waitJS(t, user, "document.querySelector('#allow-control')", 20*time.Second)
	user.MustEval("document.querySelector('#allow-control').click()", nil)

	waitJS(t, b, "document.querySelector('#ended-reason')", 30*time.Second)
	if got := text(t, b, "#ended-reason"); !strings.Contains(got, "refused") || !strings.Contains(strings.ToLower(got), "intercept") {
		t.Errorf("the technician was told %q, want the interception refusal", got)
	}
	screenshot(t, b, "viewer-refused")
	var w int
	b.MustEval("document.querySelector('#remote-screen').videoWidth", &w)
	if w != 0 {
		t.Errorf("video of width %d was shown from an unverified peer", w)
	}
	// The end user's side ends too.
	waitJS(t, user, "document.querySelector('#ended-reason') || document.querySelector('#csat-title')", 20*time.Second)
}
