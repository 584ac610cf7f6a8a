package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/reachdesk/reach/internal/xvfb"
)

// EndUserAgent is `reach-agent join -ui browser` with its end-user page.
type EndUserAgent struct {
	cmd    *exec.Cmd
	URL    string        // the page, token included
	exited chan struct{} // closed when the process has exited

	mu     sync.Mutex
	stderr strings.Builder
}

// Log returns what the agent logged so far.
func (a *EndUserAgent) Log() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stderr.String()
}

var pageURL = regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/[A-Za-z0-9_-]{43}/) in your browser`)

// StartEndUserAgent runs `reach-agent join -ui browser` on display x with
// code (empty: the page asks for it) and waits for the page's address.
func StartEndUserAgent(tb testing.TB, c *Console, r *Relay, x *xvfb.Server, code string) *EndUserAgent {
	tb.Helper()
	return startEndUserAgent(tb, agentState(tb, c, "dev-1"), r, x, code)
}

// startEndUserAgent is StartEndUserAgent with the identity in state.
func startEndUserAgent(tb testing.TB, state string, r *Relay, x *xvfb.Server, code string) *EndUserAgent {
	tb.Helper()
	args := []string{"join", "-ui", "browser", "-open=false", "-state", state, "-relay", "ws://" + r.Addr, "-display", x.Display}
	if code != "" {
		args = append(args, code)
	}
	a := &EndUserAgent{}
	cmd := exec.Command(binary(tb, "./agent/cmd/reach-agent"), args...)
	cmd.Env = x.Env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = io.MultiWriter(logWriter{tb, "reach-agent"}, writerFunc(func(p []byte) {
		a.mu.Lock()
		a.stderr.Write(p)
		a.mu.Unlock()
	}))
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start reach-agent: %v", err)
	}
	a.cmd = cmd
	done := make(chan struct{})
	a.exited = done
	go func() { cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			logWriter{tb, "reach-agent"}.Write(append(sc.Bytes(), '\n'))
			if m := pageURL.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case a.URL = <-found:
	case <-time.After(20 * time.Second):
		tb.Fatal("reach-agent printed no end-user page address")
	}
	return a
}

// writerFunc adapts a function to io.Writer.
type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

// waitJS polls a JavaScript condition in b until it is true.
func waitJS(tb testing.TB, b *Browser, cond string, timeout time.Duration) {
	tb.Helper()
	var last string
	ok := waitFor(context.Background(), timeout, func() bool {
		var v bool
		if err := b.Eval("!!("+cond+")", &v); err != nil {
			last = err.Error()
			return false
		}
		return v
	})
	if !ok {
		var text string
		b.Eval("document.body.innerText", &text)
		tb.Fatalf("page never satisfied %s (%s); page text:\n%s", cond, last, text)
	}
}

// text returns the textContent of the element matching selector.
func text(tb testing.TB, b *Browser, selector string) string {
	tb.Helper()
	var s string
	b.MustEval(fmt.Sprintf("document.querySelector(%s)?.textContent ?? ''", jsArg(selector)), &s)
	return s
}

// hostile is a technician name and organisation full of markup.
const (
	hostileName = `<img src=x onerror="window.pwned=1">Eve`
	hostileOrg  = `<script>window.pwned=2</script>Org`
)

// endUserSession starts a technician's attended session from the test page
// (name and org in the technician's token) and the agent with its page
// open in a second browser, code typed by the end user.
func endUserSession(t *testing.T, name, org string) (*Page, *Browser, *EndUserAgent) {
	t.Helper()
	x := xvfb.Start(t, xvfb.Options{Width: 1280, Height: 720})
	c := NewConsole(t)
	relay := StartRelay(t, c)
	tech := OpenPage(t, c, relay.Addr)
	tech.Token = c.Token(t, "-sub", "tech-1", "-name", name, "-org", org, "-perms", "view,control,clipboard", "-ticket", "42")
	code := tech.StartSession(t)
	agent := StartEndUserAgent(t, c, relay, x, "")
	user := StartBrowser(t)
	user.Must(map[string]any{"op": "goto", "url": agent.URL}, nil)
	waitJS(t, user, "document.querySelector('#code') === document.activeElement", 15*time.Second)
	// The end user types the code with the spaces it is read out with.
	user.Must(map[string]any{"op": "type", "text": code[:3] + " " + code[3:6] + " " + code[6:]}, nil)
	user.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	waitJS(t, user, "document.querySelector('[role=alertdialog]')", 20*time.Second)
	return tech, user, agent
}

// TestEndUserAllowStopCSAT: code entry, consent by keyboard with the
// technician named as text, the session indicator, revoke, stop from the
// page reaching the technician, and the satisfaction question.
func TestEndUserAllowStopCSAT(t *testing.T) {
	tech, user, agent := endUserSession(t, hostileName, hostileOrg)

	// Agent-relayed identity renders as text, never as markup.
	if got := text(t, user, "#consent-tech"); got != hostileName {
		t.Errorf("technician shown as %q, want the raw text %q", got, hostileName)
	}
	if got := text(t, user, "#consent-org"); got != hostileOrg {
		t.Errorf("organisation shown as %q", got)
	}
	if got := text(t, user, "#consent-ticket"); !strings.HasPrefix(got, "#42") {
		t.Errorf("ticket shown as %q", got)
	}
	var inert bool
	user.MustEval("window.pwned === undefined && !document.querySelector('main img, main script')", &inert)
	if !inert {
		t.Fatal("markup in the technician's name was rendered")
	}
	var secs1, secs2 int
	user.MustEval("Number(document.querySelector('#countdown-secs').textContent)", &secs1)
	time.Sleep(1200 * time.Millisecond)
	user.MustEval("Number(document.querySelector('#countdown-secs').textContent)", &secs2)
	if secs1 < 20 || secs1 > 30 || secs2 >= secs1 {
		t.Errorf("countdown %d then %d: want a visible count down from about 30", secs1, secs2)
	}

	// Keyboard only: Deny has the focus; Tab twice reaches Allow control.
	var focused string
	user.MustEval("document.activeElement.id", &focused)
	if focused != "deny" {
		t.Errorf("focus on %q when the dialog opened, want deny", focused)
	}
	user.Must(map[string]any{"op": "press", "key": "Tab"}, nil)
	user.Must(map[string]any{"op": "press", "key": "Tab"}, nil)
	user.MustEval("document.activeElement.id", &focused)
	if focused != "allow-control" {
		t.Fatalf("Tab Tab focused %q, want allow-control", focused)
	}
	user.Must(map[string]any{"op": "press", "key": "Enter"}, nil)

	var consent struct{ Decision string }
	tech.WaitEvent(t, "consent", 10*time.Second, &consent)
	if consent.Decision != "control" {
		t.Fatalf("technician got %q, want control", consent.Decision)
	}
	tech.WaitEvent(t, "started", 30*time.Second, nil)
	waitJS(t, user, "document.querySelector('#indicator-text')?.textContent.startsWith('Session active')", 15*time.Second)
	if got := text(t, user, "#indicator-text"); !strings.Contains(got, hostileName) || !strings.Contains(got, "control") {
		t.Errorf("indicator says %q", got)
	}

	// Revoke control: the technician is told, the page says view only.
	user.MustEval("document.querySelector('#revoke').click()", nil)
	waitJS(t, tech.Browser, "window.reachTest.events().some((e) => e.name === 'permissions' && !e.detail.permissions.includes('control'))", 10*time.Second)
	waitJS(t, user, "document.querySelector('#allowed')?.textContent === 'view only'", 10*time.Second)

	// Stop from the page, by keyboard: focus Stop and press Enter.
	user.MustEval("document.querySelector('#stop').focus()", nil)
	user.Must(map[string]any{"op": "press", "key": "Enter"}, nil)
	var ended struct{ Reason string }
	tech.WaitEvent(t, "ended", 10*time.Second, &ended)
	if !strings.Contains(ended.Reason, "stopped by the user") {
		t.Errorf("technician saw %q, want the end user's stop", ended.Reason)
	}

	// The satisfaction question follows; 4 goes to the agent.
	waitJS(t, user, "document.querySelector('#score-4')", 10*time.Second)
	user.MustEval("document.querySelector('#score-4').click()", nil)
	user.MustEval("document.querySelector('#csat-submit').click()", nil)
	waitJS(t, user, "document.querySelector('#ended')?.textContent.includes('Thank you')", 10*time.Second)
	// The agent exits once the rating is in (join is over).
	select {
	case <-agent.exited:
	case <-time.After(10 * time.Second):
		t.Error("reach-agent join did not exit after the rating")
	}
	if log := agent.Log(); !strings.Contains(log, "score=4") {
		t.Errorf("the agent did not take the rating; its log:\n%s", log)
	}
}

// TestEndUserDeny: Deny in the page ends the session; no video is sent.
func TestEndUserDeny(t *testing.T) {
	tech, user, _ := endUserSession(t, "Ada Tech", "Help Desk")
	user.MustEval("document.querySelector('#deny').click()", nil)
	var consent struct{ Decision, Reason string }
	tech.WaitEvent(t, "consent", 10*time.Second, &consent)
	if consent.Decision != "deny" || consent.Reason != "user" {
		t.Errorf("technician got %+v, want a deny by the user", consent)
	}
	tech.WaitEvent(t, "ended", 10*time.Second, nil)
	waitJS(t, user, "document.querySelector('#ended-reason')?.textContent.includes('denied')", 10*time.Second)
	noVideo(t, tech)
}

// TestEndUserConsentTimeout: nobody answers; the countdown reaches zero and
// the agent denies.
func TestEndUserConsentTimeout(t *testing.T) {
	tech, user, _ := endUserSession(t, "Ada Tech", "Help Desk")
	var consent struct{ Decision, Reason string }
	tech.WaitEvent(t, "consent", 40*time.Second, &consent)
	if consent.Decision != "deny" || consent.Reason != "timeout" {
		t.Errorf("technician got %+v, want a deny for timeout", consent)
	}
	waitJS(t, user, "document.body.textContent.includes('denied')", 10*time.Second)
	var buttons int
	user.MustEval("document.querySelectorAll('#allow-control:not([disabled]), #allow-view:not([disabled])').length", &buttons)
	if buttons != 0 {
		t.Error("allow buttons still usable after the timeout")
	}
	noVideo(t, tech)
}

// noVideo checks that the technician's page never decoded a frame.
func noVideo(t *testing.T, p *Page) {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	var frames int
	p.MustEval("window.reachTest.presentedFrames()", &frames)
	var started bool
	p.MustEval("window.reachTest.events().some((e) => e.name === 'started')", &started)
	if frames != 0 || started {
		t.Errorf("video after a refused consent: %d frames, started=%v", frames, started)
	}
}
