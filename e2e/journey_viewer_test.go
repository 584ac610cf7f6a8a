package e2e

import (
	"context"
	"fmt"
	"image"
	"strings"
	"testing"
	"time"
)

// spyDataChannels records every data-channel message the page sends in
// window.__sent; install it before the session starts.
const spyDataChannels = `(() => {
  window.__sent = [];
  const send = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (d) { window.__sent.push(String(d)); return send.call(this, d); };
  return true;
})()`

// sent reports whether the page sent a data-channel message containing s.
func sent(t *testing.T, b *Browser, s string) bool {
	t.Helper()
	var ok bool
	b.MustEval(fmt.Sprintf("window.__sent.some((m) => m.includes(%s))", jsArg(s)), &ok)
	return ok
}

// TestConsoleViewerControls drives the live viewer's controls by keyboard
// and mouse in an attended session: chat both ways, the key-combination
// menu, clipboard, fit/actual size, view-only (input stops reaching X) and
// the status line.
func TestConsoleViewerControls(t *testing.T) {
	r := newConsoleRig(t, nil)
	state, _ := r.cs.EnrollDevice(t, r.fleet, "desk-3", nil)
	id := r.ticket(t, "Outlook keeps asking for the password")
	b := OpenConsole(t, r.cs, r.fleet.TechEmail)
	installCSPWatch(b)
	b.Must(map[string]any{"op": "goto", "url": fmt.Sprintf("%s/tickets/%d", r.cs.URL, id)}, nil)
	waitJS(t, b, "document.querySelector('#start-session')", 15*time.Second)
	b.MustEval(spyDataChannels, nil)
	b.MustEval("document.querySelector('#start-session').click()", nil)
	waitJS(t, b, "document.querySelector('#session-code')", 20*time.Second)
	var code string
	b.MustEval("document.querySelector('#session-code').textContent.replace(/\\s/g, '')", &code)
	agent := startEndUserAgent(t, state, r.relay, r.x, code)
	user := StartBrowser(t)
	user.Must(map[string]any{"op": "goto", "url": agent.URL}, nil)
	waitJS(t, user, "document.querySelector('#allow-control')", 20*time.Second)
	user.MustEval("document.querySelector('#allow-control').click()", nil)
	waitJS(t, b, "document.querySelector('#session-state')?.textContent === 'connected'", 30*time.Second)
	waitJS(t, b, "document.querySelector('#remote-screen').videoWidth > 0", 15*time.Second)

	// Chat, technician to end user and back; lines render as text.
	b.MustEval("document.querySelector('#chat-toggle').click()", nil)
	waitJS(t, b, "document.activeElement?.id === 'chat-input'", 5*time.Second)
	b.Must(map[string]any{"op": "type", "text": "<b>Hi</b>, I am looking at it"}, nil)
	b.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	waitJS(t, user, "document.querySelector('#chat-log')?.textContent.includes('<b>Hi</b>, I am looking at it')", 10*time.Second)
	user.MustEval("document.querySelector('#chat-input').focus()", nil)
	user.Must(map[string]any{"op": "type", "text": "thanks!"}, nil)
	user.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	waitJS(t, b, "document.querySelector('#chat-log')?.textContent.includes('End user: thanks!')", 10*time.Second)
	var bold int
	user.MustEval("document.querySelectorAll('#chat-log b').length", &bold)
	if bold != 0 {
		t.Error("the technician's chat markup was rendered on the end user's page")
	}

	// Clipboard to the remote machine.
	b.MustEval("document.querySelector('#clipboard-text').value = 'ticket 42 password hint'; document.querySelector('#clipboard-send').click()", nil)
	waitJS(t, b, "window.__sent.some((m) => m.includes('ticket 42 password hint'))", 5*time.Second)
	b.MustEval("document.querySelector('#chat-toggle').click()", nil)

	// The key-combination menu, by keyboard: open, first item, Enter.
	b.MustEval("document.querySelector('#keys').focus()", nil)
	b.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	waitJS(t, b, "!document.querySelector('#keys-menu').hidden && document.activeElement?.getAttribute('role') === 'menuitem'", 5*time.Second)
	var item string
	b.MustEval("document.activeElement.textContent", &item)
	if item != "Ctrl+Alt+Del" {
		t.Errorf("first menu item %q", item)
	}
	b.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	waitJS(t, b, "document.querySelector('#keys-menu').hidden", 5*time.Second)
	if !sent(t, b, `"keys":["ControlLeft","AltLeft","Delete"]`) {
		t.Error("Ctrl+Alt+Del was not sent")
	}

	// Fit and actual size.
	b.MustEval("document.querySelector('#fit').click()", nil)
	waitJS(t, b, "document.querySelector('#remote-screen').classList.contains('actual')", 5*time.Second)
	b.MustEval("document.querySelector('#fit').click()", nil)
	waitJS(t, b, "document.querySelector('#remote-screen').classList.contains('fit')", 5*time.Second)

	// Input works, then view-only stops it.
	first := image.Pt(300, 200)
	clickScreen(t, b, first)
	if !waitFor(context.Background(), 5*time.Second, func() bool { return near2(pointer(t, r.x), first) }) {
		t.Fatalf("X pointer at %v, want %v", pointer(t, r.x), first)
	}
	b.MustEval("document.querySelector('#view-only').click()", nil)
	waitJS(t, b, "document.querySelector('#view-only').getAttribute('aria-pressed') === 'true'", 5*time.Second)
	clickScreen(t, b, image.Pt(900, 600))
	time.Sleep(700 * time.Millisecond)
	if p := pointer(t, r.x); !near2(p, first) {
		t.Errorf("X pointer moved to %v in view-only mode", p)
	}

	// The status line reports the stream.
	waitJS(t, b, "/fps .* kbit\\/s .* latency/.test(document.querySelector('#session-numbers').textContent)", 10*time.Second)
	var status string
	b.MustEval("document.querySelector('#status-line').textContent", &status)
	if !strings.Contains(status, "access: control") {
		t.Errorf("status line %q", status)
	}
	b.MustEval("document.querySelector('#end-session').click()", nil)
	waitJS(t, b, "document.querySelector('#ended-reason')", 10*time.Second)
	waitJS(t, user, "!document.querySelector('#indicator')", 10*time.Second)
	consoleErrors(t, b)
}
