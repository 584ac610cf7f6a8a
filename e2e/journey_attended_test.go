package e2e

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/reachdesk/reach/internal/xvfb"
)

// consoleVideoSample reads the colours at screen points of the console
// viewer's video (a canvas copy of the current frame).
const consoleVideoSample = `((points) => {
  const v = document.querySelector('#remote-screen');
  if (!v || !v.videoWidth) return null;
  const c = new OffscreenCanvas(v.videoWidth, v.videoHeight);
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  return points.map(([x, y]) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3)));
})`

// consoleScreenAt returns the page position of a screen point in the
// viewer's fitted video.
const consoleScreenAt = `(([x, y]) => {
  const v = document.querySelector('#remote-screen');
  const r = v.getBoundingClientRect();
  const s = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
  const w = v.videoWidth * s, h = v.videoHeight * s;
  return [r.left + (r.width - w) / 2 + (x + 0.5) * s, r.top + (r.height - h) / 2 + (y + 0.5) * s];
})`

// waitConsolePattern waits until the console's video shows want.
func waitConsolePattern(t *testing.T, b *Browser, want map[image.Point]color.RGBA) {
	t.Helper()
	var points [][2]int
	var cols []color.RGBA
	for pt, c := range want {
		points = append(points, [2]int{pt.X, pt.Y})
		cols = append(cols, c)
	}
	var got [][3]int
	ok := waitFor(context.Background(), 20*time.Second, func() bool {
		if err := b.Eval(consoleVideoSample+"("+jsArg(points)+")", &got); err != nil || len(got) != len(cols) {
			return false
		}
		for i, c := range cols {
			if !near(got[i], c, 40) {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("the console's video does not show the X display: at %v got %v, want %v", points, got, cols)
	}
}

// clickScreen clicks the viewer's video at a point of the remote screen.
func clickScreen(t *testing.T, b *Browser, p image.Point) {
	t.Helper()
	var at [2]float64
	b.MustEval(consoleScreenAt+"("+jsArg([2]int{p.X, p.Y})+")", &at)
	b.Must(map[string]any{"op": "click", "x": at[0], "y": at[1]}, nil)
}

// TestJourneyAttended is DESIGN.md's journey 1 through the console UI: a
// technician opens a ticket, starts a remote session and reads out the
// code; the end user enters it in the agent's page and allows control; the
// technician sees the screen, a click moves the X pointer and typed text
// lands in an xterm; the end user stops; the session log is on the ticket;
// the CSAT answer is recorded and counted in the KPIs.
func TestJourneyAttended(t *testing.T) {
	x := xvfb.Start(t, xvfb.Options{Width: 1280, Height: 720})
	want := quadrants(t, x)
	c := NewConsole(t)
	relay := StartRelay(t, c)
	cs := StartConsoleServer(t, c, relay)
	fleet := cs.SetUpFleet(t)
	state, dev := cs.EnrollDevice(t, fleet, "front-desk-pc", nil)

	tech := cs.SignIn(t, fleet.TechEmail)
	var ticket struct{ ID int64 }
	tech.Must("POST", "/api/v1/tickets", map[string]any{"title": "Printer prints blank pages", "description": "Since this morning.",
		"priority": "P2", "channel": "phone", "requester": map[string]string{"name": "Rita Requester", "email": "rita@example.com", "phone": "+1 555 0100"}}, nil)
	var list struct{ Items []struct{ ID int64 } }
	tech.Must("GET", "/api/v1/tickets?q=Printer", nil, &list)
	if len(list.Items) != 1 {
		t.Fatalf("ticket search found %d tickets", len(list.Items))
	}
	ticket.ID = list.Items[0].ID

	// The technician works from the queue, keyboard and mouse.
	b := OpenConsole(t, cs, fleet.TechEmail)
	installCSPWatch(b)
	waitJS(t, b, "document.querySelector('table[aria-label=Tickets] a')", 15*time.Second)
	screenshot(t, b, "ticket-queue")
	b.MustEval(fmt.Sprintf("document.querySelector('a[href=\"/tickets/%d\"]').click()", ticket.ID), nil)
	waitJS(t, b, "document.querySelector('#start-session')", 15*time.Second)
	if got := text(t, b, "#ticket-title"); !strings.Contains(got, "Printer prints blank pages") {
		t.Errorf("ticket page title %q", got)
	}
	screenshot(t, b, "ticket")
	b.MustEval("document.querySelector('#start-session').click()", nil)
	waitJS(t, b, "document.querySelector('#session-code')", 20*time.Second)
	screenshot(t, b, "session-code")
	var code string
	b.MustEval("document.querySelector('#session-code').textContent.replace(/\\s/g, '')", &code)

	// The end user runs the agent, types the code and allows control.
	agent := startEndUserAgent(t, state, relay, x, "")
	user := StartBrowser(t)
	user.Must(map[string]any{"op": "goto", "url": agent.URL}, nil)
	waitJS(t, user, "document.activeElement && document.activeElement.id === 'code'", 15*time.Second)
	user.Must(map[string]any{"op": "type", "text": code}, nil)
	user.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	waitJS(t, user, "document.querySelector('#allow-control')", 20*time.Second)
	if got := text(t, user, "#consent-tech"); got != "Tess Tech" {
		t.Errorf("consent names %q, want the technician", got)
	}
	if got := text(t, user, "#consent-ticket"); !strings.Contains(got, "Printer prints blank pages") {
		t.Errorf("consent names ticket %q", got)
	}
	screenshot(t, user, "enduser-consent")
	user.MustEval("document.querySelector('#allow-control').click()", nil)

	// The technician sees the screen and controls it.
	waitJS(t, b, "document.querySelector('#session-state')?.textContent === 'connected'", 30*time.Second)
	waitConsolePattern(t, b, want)
	typed := terminal(t, x)
	target := image.Pt(100, 50)
	clickScreen(t, b, target)
	if !waitFor(context.Background(), 5*time.Second, func() bool { return near2(pointer(t, x), target) }) {
		t.Fatalf("X pointer at %v after the click, want %v", pointer(t, x), target)
	}
	b.Must(map[string]any{"op": "type", "text": "hello reach"}, nil)
	b.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	var got []byte
	if !waitFor(context.Background(), 5*time.Second, func() bool {
		got, _ = os.ReadFile(typed)
		return string(got) == "hello reach\n"
	}) {
		t.Fatalf("the xterm received %q, want %q", got, "hello reach\n")
	}
	waitJS(t, b, "/fps/.test(document.querySelector('#session-numbers').textContent)", 10*time.Second)
	screenshot(t, b, "viewer")
	waitJS(t, user, "document.querySelector('#indicator-text')?.textContent.startsWith('Session active')", 10*time.Second)
	screenshot(t, user, "enduser-active")

	// The end user stops; the technician sees why.
	user.MustEval("document.querySelector('#stop').click()", nil)
	waitJS(t, b, "document.querySelector('#ended-reason')?.textContent.includes('stopped by the user')", 15*time.Second)
	consoleErrors(t, b)

	// The session log is on the ticket.
	var comments struct {
		Items []struct {
			Body     string
			Internal bool
		}
	}
	ok := waitFor(context.Background(), 15*time.Second, func() bool {
		tech.Do("GET", fmt.Sprintf("/api/v1/tickets/%d/comments", ticket.ID), nil, &comments)
		for _, cm := range comments.Items {
			if cm.Internal && strings.Contains(cm.Body, "Tess Tech") {
				return true
			}
		}
		return false
	})
	if !ok {
		t.Errorf("no session log comment on the ticket: %+v", comments.Items)
	}

	// CSAT: the end user answers; the console records it and counts it.
	waitJS(t, user, "document.querySelector('#score-5')", 10*time.Second)
	screenshot(t, user, "enduser-csat")
	user.MustEval("document.querySelector('#score-5').click(); document.querySelector('#csat-submit').click()", nil)
	waitJS(t, user, "document.querySelector('#ended')?.textContent.includes('Thank you')", 10*time.Second)
	var kpis struct {
		Totals struct {
			CSAT *struct{ Responses int }
		}
	}
	from := time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	to := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	ok = waitFor(context.Background(), 20*time.Second, func() bool {
		tech.Do("GET", "/api/v1/kpis?bucket=day&from="+from+"&to="+to, nil, &kpis)
		return kpis.Totals.CSAT != nil && kpis.Totals.CSAT.Responses == 1
	})
	if !ok {
		t.Errorf("the CSAT answer is not counted in the KPIs (device %d): %+v", dev.DeviceID, kpis.Totals.CSAT)
	}

	// The ticket page shows the session's timeline.
	b.Must(map[string]any{"op": "goto", "url": fmt.Sprintf("%s/tickets/%d", cs.URL, ticket.ID)}, nil)
	waitJS(t, b, "document.querySelector('#tab-sessions')", 15*time.Second)
	b.MustEval("document.querySelector('#tab-sessions').click()", nil)
	waitJS(t, b, "document.querySelector('#ticket-sessions .timeline li')", 15*time.Second)
}
