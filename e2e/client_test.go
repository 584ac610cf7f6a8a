package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/reachdesk/reach/internal/xvfb"
	"github.com/reachdesk/reach/proto"
)

// quadrants paints the four quarters of the screen in four colours and
// returns, for each, its centre and colour.
func quadrants(tb testing.TB, x *xvfb.Server) map[image.Point]color.RGBA {
	tb.Helper()
	p := x.Painter(tb)
	w, h := p.Bounds.Dx(), p.Bounds.Dy()
	want := map[image.Point]color.RGBA{
		{w / 4, h / 4}:         {R: 230, G: 30, B: 30, A: 255},
		{3 * w / 4, h / 4}:     {R: 30, G: 200, B: 30, A: 255},
		{w / 4, 3 * h / 4}:     {R: 30, G: 30, B: 230, A: 255},
		{3 * w / 4, 3 * h / 4}: {R: 240, G: 240, B: 240, A: 255},
	}
	for c, col := range want {
		p.Fill(tb, image.Rect(c.X-w/4, c.Y-h/4, c.X+w/4, c.Y+h/4), col)
	}
	return want
}

// waitPattern waits until the page's decoded frames show want.
func waitPattern(t *testing.T, page *Page, want map[image.Point]color.RGBA) {
	t.Helper()
	var points [][2]int
	var cols []color.RGBA
	for pt, c := range want {
		points = append(points, [2]int{pt.X, pt.Y})
		cols = append(cols, c)
	}
	var got [][3]int
	var err error
	ok := waitFor(context.Background(), 15*time.Second, func() bool {
		if err = page.Eval(fmt.Sprintf("window.reachTest.sample(%s)", jsArg(points)), &got); err != nil {
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
		t.Fatalf("decoded frames do not show the painted pattern: at %v got %v, want %v (last error %v)", points, got, cols, err)
	}
}

func near(got [3]int, want color.RGBA, tol int) bool {
	d := func(a int, b uint8) bool { return math.Abs(float64(a-int(b))) <= float64(tol) }
	return d(got[0], want.R) && d(got[1], want.G) && d(got[2], want.B)
}

// session starts Xvfb, the relay, a test page and a stand-in peer, and runs
// an attended session until it is started.
func session(t *testing.T, tamper bool) (*Page, *Peer, *xvfb.Server, map[image.Point]color.RGBA) {
	t.Helper()
	x := xvfb.Start(t, xvfb.Options{Width: 1280, Height: 720})
	want := quadrants(t, x)
	c := NewConsole(t)
	relay := StartRelay(t, c)
	addr := relay.Addr
	if tamper {
		addr = tamperingProxy(t, relay, proto.TypeAnswer)
	}
	page := OpenPage(t, c, addr)
	peer := NewPeer(t, c, relay, "dev-1", x.Display)
	code := page.StartSession(t)
	peer.Join(t, code)
	return page, peer, x, want
}

// TestClientConformance runs the browser client against a pion peer: video
// shows what is on the X display; input is normalized to the letterboxed
// picture; chat, clipboard, control messages and view-only behave; end()
// ends the session on both sides.
func TestClientConformance(t *testing.T) {
	page, peer, _, want := session(t, false)
	var started struct{ Permissions []string }
	page.WaitEvent(t, "started", 30*time.Second, &started)
	if !strings.Contains(strings.Join(started.Permissions, ","), "control") {
		t.Errorf("started with permissions %v, want control", started.Permissions)
	}
	waitPattern(t, page, want)
	var size struct{ Width, Height int }
	page.MustEval("window.reachTest.videoSize()", &size)
	if size.Width != 1280 || size.Height != 720 {
		t.Errorf("video is %dx%d, want 1280x720", size.Width, size.Height)
	}
	var mons struct {
		Monitors []proto.Monitor
		Shown    int
	}
	page.WaitEvent(t, "monitors", 5*time.Second, &mons)
	if len(mons.Monitors) == 0 || mons.Monitors[0].Width != 1280 {
		t.Errorf("monitors event = %+v", mons)
	}
	page.WaitEvent(t, "permissions", 5*time.Second, nil)
	page.WaitEvent(t, "stats", 5*time.Second, nil)

	// The 800x600 element shows 1280x720 letterboxed: 800x450 at y = 75.
	page.Must(map[string]any{"op": "click", "x": 400, "y": 30}, nil) // on the bar: nothing
	page.Must(map[string]any{"op": "click", "x": 200, "y": 75 + 112.5}, nil)
	page.Must(map[string]any{"op": "move", "x": 600, "y": 75 + 337.5}, nil)
	page.Must(map[string]any{"op": "type", "text": "hi"}, nil)
	page.Must(map[string]any{"op": "press", "key": "Shift+Tab"}, nil)
	page.MustEval(`window.reachTest.session.sendText("héllo") && window.reachTest.session.sendCombo(["ControlLeft","AltLeft","Delete"])`, nil)
	var inputs []map[string]any
	if !waitFor(context.Background(), 5*time.Second, func() bool {
		inputs = peer.Inputs()
		return len(inputs) > 0 && inputs[len(inputs)-1]["t"] == "combo"
	}) {
		t.Fatalf("peer did not receive the input; got %v", inputs)
	}
	checkInputs(t, inputs)

	var chat struct{ From, Text string }
	page.MustEval(`window.reachTest.session.sendChat("hello there")`, nil)
	page.WaitEvent(t, "chat", 5*time.Second, &chat)
	if chat.From != "user" || chat.Text != "echo: hello there" {
		t.Errorf("chat event = %+v", chat)
	}
	var clip struct{ Text string }
	page.MustEval(`window.reachTest.session.sendClipboard("copied")`, nil)
	page.WaitEvent(t, "clipboard", 5*time.Second, &clip)
	if clip.Text != "echo: copied" {
		t.Errorf("clipboard event = %+v", clip)
	}

	// View-only: the client sends the switch and no input at all.
	n := len(peer.Inputs())
	page.MustEval(`window.reachTest.session.setViewOnly(true)`, nil)
	page.Must(map[string]any{"op": "click", "x": 300, "y": 300}, nil)
	page.Must(map[string]any{"op": "type", "text": "x"}, nil)
	var sent bool
	page.MustEval(`window.reachTest.session.sendPointer(0.5, 0.5)`, &sent)
	time.Sleep(300 * time.Millisecond)
	after := peer.Inputs()
	if sent || len(after) != n+1 || after[n]["t"] != "view_only" || after[n]["on"] != true {
		t.Errorf("view-only: sendPointer returned %v; peer got %v after the switch, want only view_only", sent, after[n-1:])
	}

	page.MustEval(`window.reachTest.session.end()`, nil)
	var ended struct {
		Reason string
		Error  bool
	}
	page.WaitEvent(t, "ended", 5*time.Second, &ended)
	if ended.Error {
		t.Errorf("end() ended with an error: %+v", ended)
	}
	if !waitFor(context.Background(), 5*time.Second, func() bool { return peer.Ended() != "" }) {
		t.Error("the peer was not told the session ended")
	}
	var frames1, frames2 int
	page.MustEval("window.reachTest.presentedFrames()", &frames1)
	time.Sleep(500 * time.Millisecond)
	page.MustEval("window.reachTest.presentedFrames()", &frames2)
	if frames2 != frames1 {
		t.Errorf("frames still presented after end: %d → %d", frames1, frames2)
	}
}

// checkInputs asserts what the peer received for the input sequence of
// TestClientConformance.
func checkInputs(t *testing.T, inputs []map[string]any) {
	t.Helper()
	var buttons, pointers []map[string]any
	var keys []string
	var text, combo string
	for _, m := range inputs {
		switch m["t"] {
		case "button":
			buttons = append(buttons, m)
		case "pointer":
			pointers = append(pointers, m)
		case "key":
			keys = append(keys, fmt.Sprintf("%v:%v:%v", m["code"], m["down"], m["mods"]))
		case "text":
			text += m["text"].(string)
		case "combo":
			combo = fmt.Sprint(m["keys"])
		}
	}
	if len(buttons) != 2 || buttons[0]["down"] != true || buttons[1]["down"] != false {
		t.Fatalf("buttons = %v, want one press and release (the click on the bar is dropped)", buttons)
	}
	for _, b := range buttons {
		if b["button"] != "left" || !approx(b["x"], 0.25) || !approx(b["y"], 0.25) {
			t.Errorf("button = %v, want left at (0.25, 0.25)", b)
		}
	}
	if len(pointers) == 0 || !approx(pointers[len(pointers)-1]["x"], 0.75) || !approx(pointers[len(pointers)-1]["y"], 0.75) {
		t.Errorf("pointer moves = %v, want the last at (0.75, 0.75)", pointers)
	}
	wantKeys := []string{
		"KeyH:true:map[]", "KeyH:false:map[]", "KeyI:true:map[]", "KeyI:false:map[]",
		"ShiftLeft:true:map[shift:true]", "Tab:true:map[shift:true]", "Tab:false:map[shift:true]", "ShiftLeft:false:map[]",
	}
	if strings.Join(keys, " ") != strings.Join(wantKeys, " ") {
		t.Errorf("keys = %v\nwant %v", keys, wantKeys)
	}
	if text != "héllo" || combo != "[ControlLeft AltLeft Delete]" {
		t.Errorf("text %q combo %q", text, combo)
	}
}

func approx(v any, want float64) bool {
	f, ok := v.(float64)
	return ok && math.Abs(f-want) < 0.01
}

// TestFingerprintTampering puts a relay-side man in the middle that swaps
// the DTLS fingerprint in the agent's answer: the browser refuses the
// answer, never connects, and shows the technician why.
func TestFingerprintTampering(t *testing.T) {
	page, peer, _, _ := session(t, true)
	var e struct{ Code, Message string }
	page.WaitEvent(t, "error", 30*time.Second, &e)
	if e.Code != "forbidden" || !strings.Contains(e.Message, "may be intercepted") {
		t.Errorf("error event = %+v, want forbidden, may be intercepted", e)
	}
	var shown string
	page.MustEval("window.reachTest.errorText()", &shown)
	if !strings.Contains(shown, "may be intercepted") {
		t.Errorf("page shows %q, want the interception error", shown)
	}
	var ended struct {
		Reason string
		Error  bool
	}
	page.WaitEvent(t, "ended", 5*time.Second, &ended)
	if !ended.Error {
		t.Errorf("ended = %+v, want an error", ended)
	}
	var events []struct{ Name string }
	page.MustEval("window.reachTest.events()", &events)
	for _, ev := range events {
		if ev.Name == "started" {
			t.Error("the session started although the answer was tampered with")
		}
	}
	if !waitFor(context.Background(), 5*time.Second, func() bool { return peer.Ended() != "" }) {
		t.Error("the peer was not told the session ended")
	}
	if !strings.Contains(peer.Ended(), "may be intercepted") {
		t.Errorf("the peer was told %q", peer.Ended())
	}
}

var fingerprintLine = regexp.MustCompile(`(a=fingerprint:sha-256 )([0-9A-Fa-f]{2})`)

// tamperingProxy is a hostile relay front: it forwards the technician
// endpoint to r, but swaps the first byte of the DTLS fingerprint in every
// message of type typ (sdp.offer on its way to the agent, sdp.answer on its
// way to the browser). It returns its address.
func tamperingProxy(t *testing.T, r *Relay, typ proto.Type) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		in, err := websocket.Accept(w, req, &websocket.AcceptOptions{Subprotocols: []string{proto.Subprotocol}, InsecureSkipVerify: true})
		if err != nil {
			return
		}
		defer in.CloseNow()
		ctx := req.Context()
		out, _, err := websocket.Dial(ctx, r.URL("technician"), &websocket.DialOptions{Subprotocols: []string{proto.Subprotocol}})
		if err != nil {
			return
		}
		defer out.CloseNow()
		in.SetReadLimit(proto.MaxMessageSize)
		out.SetReadLimit(proto.MaxMessageSize)
		edit := func(data []byte) []byte { return swapFingerprint(typ, data) }
		go pump(ctx, in, out, edit)
		pump(ctx, out, in, edit)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// pump copies messages from src to dst, passing each through edit.
func pump(ctx context.Context, src, dst *websocket.Conn, edit func([]byte) []byte) {
	for {
		typ, data, err := src.Read(ctx)
		if err != nil {
			dst.Close(websocket.StatusNormalClosure, "")
			return
		}
		if dst.Write(ctx, typ, edit(data)) != nil {
			return
		}
	}
}

// swapFingerprint changes the fingerprint in an envelope of type typ.
func swapFingerprint(typ proto.Type, data []byte) []byte {
	var env proto.Envelope
	if json.Unmarshal(data, &env) != nil || env.Type != typ {
		return data
	}
	var body proto.SDP
	if json.Unmarshal(env.Body, &body) != nil {
		return data
	}
	body.SDP = fingerprintLine.ReplaceAllStringFunc(body.SDP, func(m string) string {
		hex := m[len(m)-2:]
		swapped := "00"
		if strings.EqualFold(hex, "00") {
			swapped = "FF"
		}
		return m[:len(m)-2] + swapped
	})
	env.Body, _ = json.Marshal(body)
	out, _ := json.Marshal(env)
	return out
}
