package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/reachdesk/reach/internal/xvfb"
)

// TestConsentBridge: the installed service's mode. `reach-agent serve -ui
// bridge -policy ask` denies an unattended connect at once while nobody's
// `reach-agent ui` is attached; once one is, the question reaches the
// user's end-user page and the page's answer is what the technician gets.
func TestConsentBridge(t *testing.T) {
	x := xvfb.Start(t, xvfb.Options{Width: 1280, Height: 720})
	c := NewConsole(t)
	relay := StartRelay(t, c)
	state := agentState(t, c, "dev-1")
	sock := filepath.Join(t.TempDir(), "run", "ui.sock")
	bin := binary(t, "./agent/cmd/reach-agent")
	process(t, x.Env(), bin, "serve", "-state", state, "-relay", "ws://"+relay.Addr, "-display", x.Display,
		"-policy", "ask", "-ui", "bridge", "-ui-socket", sock)
	relay.WaitAgents(t, 1)

	connect := func() *Page {
		page := OpenPage(t, c, relay.Addr)
		page.Token = c.Token(t, "-sub", "tech-1", "-name", "Ada Tech", "-perms", "view,control,unattended", "-device", "dev-1")
		var sid string
		page.MustEval(fmt.Sprintf("window.reachTest.start(%s)", jsArg(map[string]any{
			"relayURL": relay.URL("technician"), "token": page.Token, "deviceId": "dev-1",
			"grantURL": page.Web.URL + "/grant", "keyURL": page.Web.URL + "/key",
		})), &sid)
		return page
	}
	var consent struct{ Decision, Reason string }
	start := time.Now()
	connect().WaitEvent(t, "consent", 10*time.Second, &consent)
	if consent.Decision != "deny" || consent.Reason != "nobody is signed in to answer" {
		t.Fatalf("with nobody attached: %+v", consent)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("the deny took %s, want at once (not the 30 s timeout)", d)
	}

	// The signed-in user's process attaches.
	ui := exec.Command(bin, "ui", "-socket", sock, "-ui", "browser", "-open=false")
	ui.Env = x.Env()
	out, _ := ui.StdoutPipe()
	ui.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := ui.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ui.Process.Kill(); ui.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u := regexp.MustCompile(`http://127\.0\.0\.1:\d+/[^/\s]+/`).FindString(sc.Text()); u != "" {
				urls <- u
			}
		}
	}()
	var base string
	select {
	case base = <-urls:
	case <-time.After(20 * time.Second):
		t.Fatal("reach-agent ui printed no page address")
	}
	time.Sleep(500 * time.Millisecond) // attached (the first attempt is immediate)

	page := connect()
	var id string
	deadline := time.Now().Add(15 * time.Second)
	for id == "" && time.Now().Before(deadline) {
		var st struct{ Prompt *struct{ ID string } }
		if resp, err := http.Get(base + "api/state"); err == nil {
			json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
		}
		if st.Prompt != nil {
			id = st.Prompt.ID
		}
		time.Sleep(50 * time.Millisecond)
	}
	if id == "" {
		t.Fatal("the question never reached the user's page")
	}
	b, _ := json.Marshal(map[string]string{"id": id, "decision": "view"})
	resp, err := http.Post(base+"api/consent", "application/json", bytes.NewReader(b))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("answer: %v %v", resp, err)
	}
	resp.Body.Close()
	page.WaitEvent(t, "consent", 10*time.Second, &consent)
	if consent.Decision != "view" {
		t.Fatalf("the technician got %+v, the user allowed view", consent)
	}
}
