package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachdesk/reach/agent/consent"
	"github.com/reachdesk/reach/agent/uibridge"
	"github.com/reachdesk/reach/proto"
)

// recorder is a session of the service the user acts on.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(s string)               { r.mu.Lock(); r.calls = append(r.calls, s); r.mu.Unlock() }
func (r *recorder) Stop()                      { r.add("stop") }
func (r *recorder) Revoke()                    { r.add("revoke") }
func (r *recorder) SendChat(text string) error { r.add("chat:" + text); return nil }
func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.calls, ",")
}

func bridgeService(t *testing.T, ctl uibridge.Controller) (*uibridge.Service, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ui.sock")
	l, err := uibridge.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	svc := uibridge.NewService(uibridge.ServiceOptions{
		Authorize: func(uibridge.Peer) error { return nil },
		Lookup:    func(string) uibridge.Controller { return ctl },
		Logger:    slog.New(slog.DiscardHandler),
	})
	go svc.Serve(l)
	t.Cleanup(func() { svc.Close() })
	return svc, path
}

func runUIProcess(t *testing.T, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"ui"}, args...), &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("reach-agent ui exited %d: %s", code, stderr.String())
		}
	})
	return &stdout
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pageState is the part of the end-user page's state the test reads.
type pageState struct {
	Prompt *struct {
		ID         string
		Technician proto.Person
		Control    bool
	}
	Session *struct {
		SID   string
		State string
	}
}

func getState(t *testing.T, base string) pageState {
	t.Helper()
	resp, err := http.Get(base + "api/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st pageState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func post(t *testing.T, base, action string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(base+"api/"+action, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %s %s", action, resp.Status, msg)
	}
}

// TestUIPageAnswersTheService: the user process shows the service's
// question in the end-user page; the page's answer is what the service
// applies, and Stop and revoke in the page act on the service's session.
func TestUIPageAnswersTheService(t *testing.T) {
	for _, answer := range []string{"view", "control", "deny"} {
		t.Run(answer, func(t *testing.T) {
			ctl := &recorder{}
			svc, sock := bridgeService(t, ctl)
			out := runUIProcess(t, "-socket", sock, "-ui", "browser", "-open=false")
			out.waitFor(t, "show at http://127.0.0.1:")
			base := regexp.MustCompile(`http://127\.0\.0\.1:\d+/[^/\s]+/`).FindString(out.String())
			waitUntil(t, "attach", func() bool { return svc.Attached() == 1 })
			r := consent.Request{Technician: proto.Person{ID: "t", Name: "Ada Tech"}, Unattended: true,
				Permissions: []proto.Permission{proto.PermView, proto.PermControl}, Timeout: 10 * time.Second}
			got := make(chan consent.Answer, 1)
			go func() { got <- consent.Decide(context.Background(), r, consent.PolicyAsk, svc) }()
			var st pageState
			waitUntil(t, "the question in the page", func() bool { st = getState(t, base); return st.Prompt != nil })
			if st.Prompt.Technician.Name != "Ada Tech" || !st.Prompt.Control {
				t.Fatalf("page shows %+v", st.Prompt)
			}
			post(t, base, "consent", map[string]string{"id": st.Prompt.ID, "decision": answer})
			a := <-got
			if string(a.Decision) != answer {
				t.Fatalf("the service applied %+v, the page answered %s", a, answer)
			}
			if answer == "deny" {
				return
			}
			svc.Status(uibridge.Status{SID: "s1", State: "active", Technician: r.Technician, Permissions: r.Permissions})
			waitUntil(t, "the indicator", func() bool { st = getState(t, base); return st.Session != nil && st.Session.State == "active" })
			post(t, base, "revoke", map[string]string{"sid": "s1"})
			post(t, base, "stop", map[string]string{"sid": "s1"})
			waitUntil(t, "revoke and stop in the service", func() bool { return ctl.String() == "revoke,stop" })
		})
	}
}

// TestUITerminal: without a browser the question is asked on the
// terminal, and the answer typed there reaches the service.
func TestUITerminal(t *testing.T) {
	pr, pw := io.Pipe()
	old := stdin
	stdin = pr
	t.Cleanup(func() { stdin = old; pw.Close() })
	svc, sock := bridgeService(t, &recorder{})
	out := runUIProcess(t, "-socket", sock, "-ui", "terminal")
	waitUntil(t, "attach", func() bool { return svc.Attached() == 1 })
	got := make(chan consent.Answer, 1)
	go func() {
		got <- consent.Decide(context.Background(), consent.Request{Technician: proto.Person{Name: "Ada Tech"},
			Permissions: []proto.Permission{proto.PermView}, Timeout: 10 * time.Second}, consent.PolicyAsk, svc)
	}()
	out.waitFor(t, "Ada Tech asks for remote access")
	io.WriteString(pw, "v\n")
	if a := <-got; a.Decision != proto.DecisionView {
		t.Fatalf("got %+v", a)
	}
}
