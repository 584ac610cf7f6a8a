package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay"
	"github.com/reachdesk/reach/relay/codes"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAttendedSessionJourney(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	tech := tr.dialTech(t, "u1")
	agent := tr.dialAgent(t, "dev-1")
	ctx := ctxT(t)

	m, err := tech.Request(ctx, "", &proto.CodeCreate{})
	if err != nil {
		t.Fatal(err)
	}
	created := m.Body.(*proto.CodeCreated)
	if !proto.ValidCode(created.Code) || m.SID == "" {
		t.Fatalf("code.created = %+v sid %q", created, m.SID)
	}
	if d := time.Until(created.Expires); d < 9*time.Minute || d > 10*time.Minute {
		t.Fatalf("code expires in %v, want 10 minutes", d)
	}
	sid := m.SID

	if _, err := agent.Send(ctx, "", &proto.CodeRedeem{Code: created.Code}); err != nil {
		t.Fatal(err)
	}
	rm, req := expect[*proto.ConsentRequest](t, agent)
	if rm.SID != sid || req.Technician.Name != "Ada Lovelace" || req.Technician.Org != "ACME IT" ||
		req.Ticket == nil || req.Ticket.ID != "42" || req.Ticket.Title != "VPN drops" || req.Unattended || req.Timeout != 30 {
		t.Fatalf("consent request = %+v (sid %s)", req, rm.SID)
	}
	if !proto.HasPermission(req.Permissions, proto.PermControl) {
		t.Fatalf("requested permissions %v lack control", req.Permissions)
	}
	_, joined := expect[*proto.PeerJoined](t, tech)
	if joined.Device.ID != "dev-1" || joined.Device.Name != "laptop-dev-1" {
		t.Fatalf("peer.joined = %+v", joined)
	}

	if _, err := agent.Send(ctx, sid, &proto.ConsentDecision{Decision: proto.DecisionControl, Permissions: []proto.Permission{proto.PermView, proto.PermControl}}); err != nil {
		t.Fatal(err)
	}
	_, dec := expect[*proto.ConsentDecision](t, tech)
	if dec.Decision != proto.DecisionControl {
		t.Fatalf("decision = %+v", dec)
	}
	_, start := expect[*proto.SessionStart](t, tech)
	// Clipboard was requested but not granted by the end user.
	if !proto.HasPermission(start.Permissions, proto.PermControl) || proto.HasPermission(start.Permissions, proto.PermClipboard) {
		t.Fatalf("granted %v, want view+control only", start.Permissions)
	}
	expect[*proto.SessionStart](t, agent)

	// Signaling is forwarded byte for byte, both ways.
	offer, _ := proto.Encode("o1", sid, &proto.Offer{SDP: proto.SDP{SDP: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", Signature: "sig"}})
	if err := tech.SendRaw(ctx, offer); err != nil {
		t.Fatal(err)
	}
	got, _ := expect[*proto.Offer](t, agent)
	if again, _ := proto.Encode(got.ID, got.SID, got.Body); !bytes.Equal(again, offer) {
		t.Fatalf("offer altered in transit:\n%s\n%s", again, offer)
	}
	if _, err := agent.Send(ctx, sid, &proto.Answer{SDP: proto.SDP{SDP: "v=0\r\n"}}); err != nil {
		t.Fatal(err)
	}
	expect[*proto.Answer](t, tech)
	if _, err := agent.Send(ctx, sid, &proto.Candidate{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}); err != nil {
		t.Fatal(err)
	}
	expect[*proto.Candidate](t, tech)
	if _, err := tech.Send(ctx, sid, &proto.Candidate{Candidate: ""}); err != nil {
		t.Fatal(err)
	}
	expect[*proto.Candidate](t, agent)

	// The end user stops the session; the technician is told.
	if _, err := agent.Send(ctx, sid, &proto.SessionEnd{Reason: "stopped by the user"}); err != nil {
		t.Fatal(err)
	}
	_, end := expect[*proto.SessionEnd](t, tech)
	if end.Reason != "stopped by the user" {
		t.Fatalf("end = %+v", end)
	}
	waitFor(t, func() bool { return tr.Stats().Sessions == 0 })
	// Nothing more flows in the ended session.
	_, err = tech.Request(ctx, sid, &proto.Candidate{Candidate: ""})
	wantCode(t, err, proto.CodeNotFound)
}

func TestConsentDenied(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	tech, agent := tr.dialTech(t, "u1"), tr.dialAgent(t, "dev-1")
	ctx := ctxT(t)
	m, _ := tech.Request(ctx, "", &proto.CodeCreate{})
	agent.Send(ctx, "", &proto.CodeRedeem{Code: m.Body.(*proto.CodeCreated).Code})
	req, _ := expect[*proto.ConsentRequest](t, agent)
	expect[*proto.PeerJoined](t, tech)
	agent.Send(ctx, req.SID, &proto.ConsentDecision{Decision: proto.DecisionDeny, Reason: "user"})
	_, dec := expect[*proto.ConsentDecision](t, tech)
	if dec.Decision != proto.DecisionDeny {
		t.Fatalf("decision = %+v", dec)
	}
	// No session.start, and signaling is refused.
	expectNothing(t, agent, 200*time.Millisecond)
	_, err := tech.Request(ctx, req.SID, &proto.Offer{SDP: proto.SDP{SDP: "v=0"}})
	wantCode(t, err, proto.CodeNotFound)
}

func TestConsentTimesOut(t *testing.T) {
	tr := newTestRelay(t, relay.Options{ConsentTimeout: time.Second})
	tech, agent := tr.dialTech(t, "u1"), tr.dialAgent(t, "dev-1")
	ctx := ctxT(t)
	m, _ := tech.Request(ctx, "", &proto.CodeCreate{})
	agent.Send(ctx, "", &proto.CodeRedeem{Code: m.Body.(*proto.CodeCreated).Code})
	_, req := expect[*proto.ConsentRequest](t, agent)
	if req.Timeout != 1 {
		t.Fatalf("timeout = %d", req.Timeout)
	}
	expect[*proto.PeerJoined](t, tech)
	_, end := expect[*proto.SessionEnd](t, tech)
	if !strings.Contains(end.Reason, "did not answer") {
		t.Fatalf("end = %+v", end)
	}
	expect[*proto.SessionEnd](t, agent)
}

func TestUnattendedConnect(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	agent := tr.dialAgent(t, "dev-1")
	ctx := ctxT(t)
	allowed := func(c *proto.Claims) {
		c.Permissions = append(c.Permissions, proto.PermUnattended)
		c.Device = "dev-1"
	}

	t.Run("authorized", func(t *testing.T) {
		tech := tr.dialTech(t, "u1", allowed)
		m, err := tech.Request(ctx, "", &proto.Connect{DeviceID: "dev-1"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Body.(*proto.SessionCreated).Device.ID != "dev-1" {
			t.Fatalf("session.created = %+v", m.Body)
		}
		rm, req := expect[*proto.ConsentRequest](t, agent)
		if !req.Unattended || rm.SID != m.SID || proto.HasPermission(req.Permissions, proto.PermUnattended) {
			t.Fatalf("consent request = %+v", req)
		}
		agent.Send(ctx, rm.SID, &proto.ConsentDecision{Decision: proto.DecisionView, Reason: "policy"})
		expect[*proto.ConsentDecision](t, tech)
		_, start := expect[*proto.SessionStart](t, tech)
		if proto.HasPermission(start.Permissions, proto.PermControl) {
			t.Fatalf("view decision granted %v", start.Permissions)
		}
		expect[*proto.SessionStart](t, agent)
	})
	t.Run("no unattended permission", func(t *testing.T) {
		tech := tr.dialTech(t, "u2", func(c *proto.Claims) { c.Device = "dev-1" })
		_, err := tech.Request(ctx, "", &proto.Connect{DeviceID: "dev-1"})
		wantCode(t, err, proto.CodeForbidden)
	})
	t.Run("token for another device", func(t *testing.T) {
		tech := tr.dialTech(t, "u3", allowed)
		_, err := tech.Request(ctx, "", &proto.Connect{DeviceID: "dev-2"})
		wantCode(t, err, proto.CodeForbidden)
	})
	t.Run("device offline", func(t *testing.T) {
		tech := tr.dialTech(t, "u4", func(c *proto.Claims) {
			c.Permissions = append(c.Permissions, proto.PermUnattended)
			c.Device = "dev-offline"
		})
		_, err := tech.Request(ctx, "", &proto.Connect{DeviceID: "dev-offline"})
		wantCode(t, err, proto.CodeNotFound)
	})
	expectNothing(t, agent, 100*time.Millisecond)
}

func TestHelloRejections(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	now := time.Now()
	tests := []struct {
		name string
		path string
		tok  string
		code proto.Code
		msg  string
	}{
		{"garbage token", "/v1/agent", "garbage", proto.CodeUnauthorized, "malformed"},
		{"expired", "/v1/agent", tr.token(t, proto.KindDevice, "d", func(c *proto.Claims) {
			c.IssuedAt = jwt.NewNumericDate(now.Add(-2 * time.Hour))
			c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour))
		}), proto.CodeUnauthorized, "expired"},
		{"wrong audience", "/v1/agent", tr.token(t, proto.KindDevice, "d", func(c *proto.Claims) {
			c.Audience = jwt.ClaimStrings{"reach-console"}
		}), proto.CodeUnauthorized, "audience"},
		{"device token at technician endpoint", "/v1/technician", tr.token(t, proto.KindDevice, "d"), proto.CodeUnauthorized, "technician"},
		{"technician token at agent endpoint", "/v1/agent", tr.token(t, proto.KindTechnician, "u"), proto.CodeUnauthorized, "device"},
		{"foreign key", "/v1/agent", newTestRelay(t, relay.Options{}).token(t, proto.KindDevice, "d"), proto.CodeUnauthorized, "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			_, err := dialRaw(ctx, tr.ws+tt.path, tt.tok, proto.Capability)
			wantCode(t, err, tt.code)
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.msg)
			}
		})
	}
	t.Run("old client", func(t *testing.T) {
		strict := newTestRelay(t, relay.Options{MinCapability: proto.Capability + 1})
		_, err := dialRaw(ctxT(t), strict.ws+"/v1/agent", strict.token(t, proto.KindDevice, "d"), proto.Capability)
		wantCode(t, err, proto.CodeUpgradeRequired)
		if !strings.Contains(err.Error(), "upgrade required") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("newer envelope version", func(t *testing.T) {
		ctx := ctxT(t)
		ws := wsDial(t, ctx, tr.ws+"/v1/agent")
		ws.Write(ctx, websocket.MessageText, []byte(`{"v":2,"type":"hello","body":{}}`))
		_, data, _ := ws.Read(ctx)
		m, err := proto.Decode(data)
		if err != nil || m.Body.(*proto.ErrorBody).Code != proto.CodeUpgradeRequired {
			t.Fatalf("got %s, %v", data, err)
		}
	})
	t.Run("first message not hello", func(t *testing.T) {
		ctx := ctxT(t)
		ws := wsDial(t, ctx, tr.ws+"/v1/agent")
		ping, _ := proto.Encode("", "", &proto.Ping{})
		ws.Write(ctx, websocket.MessageText, ping)
		_, data, _ := ws.Read(ctx)
		m, err := proto.Decode(data)
		if err != nil || m.Body.(*proto.ErrorBody).Code != proto.CodeUnauthorized {
			t.Fatalf("got %s, %v", data, err)
		}
	})
	t.Run("no subprotocol", func(t *testing.T) {
		ctx := ctxT(t)
		ws, _, err := websocket.Dial(ctx, tr.ws+"/v1/agent", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		_, _, err = ws.Read(ctx)
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Fatalf("read = %v, want policy violation close", err)
		}
	})
	if st := tr.Stats(); st.Agents != 0 || st.Technicians != 0 {
		t.Fatalf("refused connections were registered: %+v", st)
	}
}

// dialRaw says hello with the given capability and returns the connection,
// or the relay's error reply as an error.
func dialRaw(ctx context.Context, url, token string, capability int) (*websocket.Conn, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{proto.Subprotocol}})
	if err != nil {
		return nil, err
	}
	if err := helloRaw(ctx, ws, token, capability); err != nil {
		ws.CloseNow()
		return nil, err
	}
	return ws, nil
}

func helloRaw(ctx context.Context, ws *websocket.Conn, token string, capability int) error {
	hello, _ := json.Marshal(proto.Envelope{V: 1, Type: proto.TypeHello, Body: mustJSON(proto.Hello{Version: 1, Capability: capability, Token: token})})
	if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
		return err
	}
	_, data, err := ws.Read(ctx)
	if err != nil {
		return err
	}
	m, err := proto.Decode(data)
	if err != nil {
		return err
	}
	if e, ok := m.Body.(*proto.ErrorBody); ok {
		return e.Err()
	}
	return nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func wsDial(t *testing.T, ctx context.Context, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{proto.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

func TestCodeRejections(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	tech, agent := tr.dialTech(t, "u1"), tr.dialAgent(t, "dev-1")
	ctx := ctxT(t)

	t.Run("reused", func(t *testing.T) {
		sid := pair(t, tech, agent, proto.DecisionView)
		_ = sid
		// pair used the code; find a fresh one to reuse.
		m, _ := tech.Request(ctx, "", &proto.CodeCreate{})
		code := m.Body.(*proto.CodeCreated).Code
		agent.Send(ctx, "", &proto.CodeRedeem{Code: code})
		expect[*proto.ConsentRequest](t, agent)
		expect[*proto.PeerJoined](t, tech)
		agent2 := tr.dialAgent(t, "dev-2")
		_, err := agent2.Request(ctx, "", &proto.CodeRedeem{Code: code})
		wantCode(t, err, proto.CodeInvalidCode)
	})

	var invalidMsg, expiredMsg string
	t.Run("wrong", func(t *testing.T) {
		_, err := agent.Request(ctx, "", &proto.CodeRedeem{Code: "000000000"})
		wantCode(t, err, proto.CodeInvalidCode)
		invalidMsg = err.Error()
	})
	t.Run("expired", func(t *testing.T) {
		m, _ := tech.Request(ctx, "", &proto.CodeCreate{TTL: 1})
		code := m.Body.(*proto.CodeCreated).Code
		_, end := expect[*proto.SessionEnd](t, tech)
		if !strings.Contains(end.Reason, "expired") {
			t.Fatalf("end = %+v", end)
		}
		_, err := agent.Request(ctx, "", &proto.CodeRedeem{Code: code})
		wantCode(t, err, proto.CodeInvalidCode)
		expiredMsg = err.Error()
	})
	if invalidMsg != expiredMsg {
		t.Fatalf("wrong and expired codes are distinguishable: %q vs %q", invalidMsg, expiredMsg)
	}
	t.Run("technician left", func(t *testing.T) {
		tech2 := tr.dialTech(t, "u2")
		m, _ := tech2.Request(ctx, "", &proto.CodeCreate{})
		tech2.Close()
		waitFor(t, func() bool { return tr.Stats().Technicians == 1 })
		_, err := agent.Request(ctx, "", &proto.CodeRedeem{Code: m.Body.(*proto.CodeCreated).Code})
		wantCode(t, err, proto.CodeInvalidCode)
	})
	t.Run("one technician cannot hoard codes", func(t *testing.T) {
		hoarder := tr.dialTech(t, "u4")
		for i := range 20 {
			if _, err := hoarder.Request(ctx, "", &proto.CodeCreate{}); err != nil {
				t.Fatalf("code %d: %v", i, err)
			}
		}
		_, err := hoarder.Request(ctx, "", &proto.CodeCreate{})
		wantCode(t, err, proto.CodeRateLimited)
	})
	t.Run("viewer token cannot create codes", func(t *testing.T) {
		viewer := tr.dialTech(t, "u3", func(c *proto.Claims) { c.Permissions = nil })
		_, err := viewer.Request(ctx, "", &proto.CodeCreate{})
		wantCode(t, err, proto.CodeForbidden)
	})
}

func TestBruteForceLocksOut(t *testing.T) {
	tr := newTestRelay(t, relay.Options{Redeem: codes.LimiterOptions{PerSourceFailures: 5, GlobalRate: 1000, GlobalBurst: 1000}})
	tech, attacker := tr.dialTech(t, "u1"), tr.dialAgent(t, "evil")
	ctx := ctxT(t)
	m, _ := tech.Request(ctx, "", &proto.CodeCreate{})
	code := m.Body.(*proto.CodeCreated).Code
	wrong := "000000000"
	if wrong == code {
		wrong = "000000001"
	}
	for i := range 5 {
		_, err := attacker.Request(ctx, "", &proto.CodeRedeem{Code: wrong})
		wantCode(t, err, proto.CodeInvalidCode)
		_ = i
	}
	// Locked out: even the right code is refused now, from any connection at this address.
	other := tr.dialAgent(t, "dev-1")
	_, err := other.Request(ctx, "", &proto.CodeRedeem{Code: code})
	wantCode(t, err, proto.CodeRateLimited)
	expectNothing(t, tech, 100*time.Millisecond)
}

func TestThirdPartyCannotInject(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	tech, agent := tr.dialTech(t, "u1"), tr.dialAgent(t, "dev-1")
	sid := pair(t, tech, agent, proto.DecisionControl)
	ctx := ctxT(t)

	intruderTech := tr.dialTech(t, "u2")
	intruderAgent := tr.dialAgent(t, "dev-2")
	_, err := intruderTech.Request(ctx, sid, &proto.Offer{SDP: proto.SDP{SDP: "v=0 evil"}})
	wantCode(t, err, proto.CodeNotFound)
	_, err = intruderAgent.Request(ctx, sid, &proto.Answer{SDP: proto.SDP{SDP: "v=0 evil"}})
	wantCode(t, err, proto.CodeNotFound)
	_, err = intruderAgent.Request(ctx, sid, &proto.SessionEnd{})
	wantCode(t, err, proto.CodeNotFound)
	_, err = intruderTech.Request(ctx, sid, &proto.Candidate{Candidate: "candidate:1 1 udp 1 10.0.0.1 9 typ host"})
	wantCode(t, err, proto.CodeNotFound)
	// A party cannot send the other side's message types either.
	_, err = agent.Request(ctx, sid, &proto.Offer{SDP: proto.SDP{SDP: "v=0"}})
	wantCode(t, err, proto.CodeForbidden)
	_, err = tech.Request(ctx, sid, &proto.ConsentDecision{Decision: proto.DecisionControl})
	wantCode(t, err, proto.CodeForbidden)
	expectNothing(t, tech, 100*time.Millisecond)
	expectNothing(t, agent, 100*time.Millisecond)
}

func TestMalformedAndOversizedMessages(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	agent := tr.dialAgent(t, "dev-1")
	ctx := ctxT(t)

	// Malformed: a typed error, and the connection stays usable.
	if err := agent.SendRaw(ctx, []byte(`{"v":1,"type":"nope"}`)); err != nil {
		t.Fatal(err)
	}
	_, e := expect[*proto.ErrorBody](t, agent)
	if e.Code != proto.CodeUnknownType {
		t.Fatalf("error = %+v", e)
	}
	if err := agent.SendRaw(ctx, []byte(`not json`)); err != nil {
		t.Fatal(err)
	}
	_, e = expect[*proto.ErrorBody](t, agent)
	if e.Code != proto.CodeBadRequest {
		t.Fatalf("error = %+v", e)
	}
	m, err := agent.Request(ctx, "", &proto.Ping{T: 7})
	if err != nil || m.Body.(*proto.Pong).T != 7 {
		t.Fatalf("ping after errors: %v", err)
	}
}

func TestOversizedMessageClosesConnection(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	agent := tr.dialAgent(t, "dev-1")
	ctx := ctxT(t)
	big := `{"v":1,"type":"ping","id":"` + strings.Repeat("a", proto.MaxMessageSize) + `"}`
	agent.SendRaw(ctx, []byte(big))
	select {
	case <-agent.Done():
	case <-ctx.Done():
		t.Fatal("connection survived an oversized message")
	}
	if st := websocket.CloseStatus(agent.Err()); st != websocket.StatusMessageTooBig {
		t.Fatalf("closed with %v, want message too big", agent.Err())
	}
}

func TestMessageFloodClosesConnection(t *testing.T) {
	tr := newTestRelay(t, relay.Options{MessageRate: 10, MessageBurst: 20})
	agent := tr.dialAgent(t, "dev-1")
	ctx := ctxT(t)
	ping, _ := proto.Encode("", "", &proto.Ping{})
	for range 100 {
		if agent.SendRaw(ctx, ping) != nil {
			break
		}
	}
	select {
	case <-agent.Done():
	case <-ctx.Done():
		t.Fatal("flooding connection not closed")
	}
	if st := websocket.CloseStatus(agent.Err()); st != websocket.StatusPolicyViolation {
		t.Fatalf("closed with %v, want policy violation", agent.Err())
	}
}

func TestSilentPeerIsDropped(t *testing.T) {
	tr := newTestRelay(t, relay.Options{Heartbeat: time.Second})
	ctx := ctxT(t)
	// A raw client that says hello and then nothing, not even pings.
	ws, err := dialRaw(ctx, tr.ws+"/v1/agent", tr.token(t, proto.KindDevice, "dev-1"), proto.Capability)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	waitFor(t, func() bool { return tr.Stats().Agents == 1 })
	start := time.Now()
	_, _, err = ws.Read(ctx)
	if err == nil {
		t.Fatal("read succeeded")
	}
	if d := time.Since(start); d < 2*time.Second || d > 8*time.Second {
		t.Fatalf("dropped after %v, want about 2.5 heartbeats", d)
	}
	waitFor(t, func() bool { return tr.Stats().Agents == 0 })
}

func TestPresence(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	tr.dialAgent(t, "dev-1")
	get := func(tok string) (*http.Response, *proto.Presence) {
		req, _ := http.NewRequest("GET", tr.http.URL+"/v1/presence?device=dev-1&device=dev-2", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p proto.Presence
		json.NewDecoder(resp.Body).Decode(&p)
		return resp, &p
	}
	resp, p := get(tr.token(t, proto.KindService, "console"))
	if resp.StatusCode != 200 || len(p.Devices) != 2 || !p.Devices[0].Online || p.Devices[1].Online || p.Devices[0].Since == nil {
		t.Fatalf("presence = %d %+v", resp.StatusCode, p)
	}
	if resp, _ := get(""); resp.StatusCode != 401 {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	if resp, _ := get(tr.token(t, proto.KindTechnician, "u1")); resp.StatusCode != 401 {
		t.Fatalf("technician token: %d", resp.StatusCode)
	}
	// Technicians can ask over their connection too.
	tech := tr.dialTech(t, "u1")
	m, err := tech.Request(ctxT(t), "", &proto.PresenceQuery{DeviceIDs: []string{"dev-2", "dev-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Body.(*proto.Presence).Devices; d[0].Online || !d[1].Online {
		t.Fatalf("presence = %+v", d)
	}
}

func TestNewerConnectionReplacesOlder(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	old := tr.dialAgent(t, "dev-1")
	tr.dialAgent(t, "dev-1")
	select {
	case <-old.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("older connection still open")
	}
	waitFor(t, func() bool { return tr.Stats().Agents == 1 })
}

func TestHealth(t *testing.T) {
	tr := newTestRelay(t, relay.Options{})
	tr.dialAgent(t, "dev-1")
	waitFor(t, func() bool { return tr.Stats().Agents == 1 })
	resp, err := http.Get(tr.http.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Status string
		Agents int
	}
	json.NewDecoder(resp.Body).Decode(&h)
	if resp.StatusCode != 200 || h.Status != "ok" || h.Agents != 1 {
		t.Fatalf("health = %d %+v", resp.StatusCode, h)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
