package proto

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// samples holds one valid body of every registered type.
func samples() []Body {
	mid, idx := "0", uint16(0)
	return []Body{
		&Hello{Version: Version, Capability: Capability, Token: "t.o.k", Client: "reach-agent/1.0", Resume: []Resume{{SID: "s1", Peer: "u1"}}},
		&Welcome{Capability: 1, Heartbeat: 25, Subject: "dev-1"},
		&Ping{T: 1},
		&Pong{T: 1},
		&ErrorBody{Code: CodeInvalidCode, Message: "invalid or expired code"},
		&CodeCreate{TTL: 600},
		&CodeCreated{Code: "123456789", Expires: time.Unix(1700000000, 0).UTC()},
		&CodeRedeem{Code: "123456789"},
		&Connect{DeviceID: "dev-1"},
		&SessionCreated{Device: DeviceRef{ID: "dev-1", Name: "laptop"}},
		&ConsentRequest{Technician: Person{ID: "u1", Name: "Ada", Org: "ACME IT"}, Ticket: &TicketRef{ID: "42", Title: "VPN"}, Permissions: []Permission{PermView, PermControl}, Timeout: 30},
		&ConsentDecision{Decision: DecisionControl, Permissions: []Permission{PermView, PermControl}},
		&PeerJoined{Device: DeviceRef{ID: "dev-1"}},
		&SessionStart{Permissions: []Permission{PermView}, ICEServers: []ICEServer{{URLs: []string{"turn:127.0.0.1:3478"}, Username: "1:s", Credential: "x"}}},
		&Offer{SDP{SDP: "v=0\r\n"}},
		&Answer{SDP{SDP: "v=0\r\n", Signature: "sig"}},
		&Candidate{Candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", SDPMid: &mid, SDPMLineIndex: &idx},
		&SessionEnd{Reason: "stopped by the user"},
		&SessionResumed{},
		&PresenceQuery{DeviceIDs: []string{"dev-1", "dev-2"}},
		&Presence{Devices: []DevicePresence{{ID: "dev-1", Online: true}}},
	}
}

func TestEveryTypeRoundTrips(t *testing.T) {
	seen := map[Type]bool{}
	for _, b := range samples() {
		data, err := Encode("7", "sid-1", b)
		if err != nil {
			t.Fatalf("encode %s: %v", b.MessageType(), err)
		}
		m, err := Decode(data)
		if err != nil {
			t.Fatalf("decode %s: %v", b.MessageType(), err)
		}
		if m.Type != b.MessageType() || m.ID != "7" || m.SID != "sid-1" {
			t.Fatalf("%s: envelope = %+v", b.MessageType(), m)
		}
		want, _ := json.Marshal(b)
		got, _ := json.Marshal(m.Body)
		if string(want) != string(got) {
			t.Fatalf("%s: body = %s, want %s", b.MessageType(), got, want)
		}
		seen[b.MessageType()] = true
	}
	for typ := range registry {
		if !seen[typ] {
			t.Errorf("type %s has no sample in this test", typ)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name string
		in   string
		code Code
	}{
		{"not json", `{"v":1,`, CodeBadRequest},
		{"array", `[]`, CodeBadRequest},
		{"old version", `{"v":0,"type":"ping"}`, CodeUpgradeRequired},
		{"new version", `{"v":2,"type":"ping"}`, CodeUpgradeRequired},
		{"missing type", `{"v":1}`, CodeBadRequest},
		{"unknown type", `{"v":1,"type":"rm.rf"}`, CodeUnknownType},
		{"type with space", `{"v":1,"type":"a b"}`, CodeBadRequest},
		{"id too long", `{"v":1,"type":"ping","id":"` + long(65) + `"}`, CodeTooLarge},
		{"sid bad chars", `{"v":1,"type":"ping","sid":"<script>"}`, CodeBadRequest},
		{"body wrong type", `{"v":1,"type":"code.redeem","body":{"code":123456789}}`, CodeBadRequest},
		{"body not object", `{"v":1,"type":"code.redeem","body":"x"}`, CodeBadRequest},
		{"code short", `{"v":1,"type":"code.redeem","body":{"code":"12345678"}}`, CodeInvalidCode},
		{"code letters", `{"v":1,"type":"code.redeem","body":{"code":"12345678a"}}`, CodeInvalidCode},
		{"hello no token", `{"v":1,"type":"hello","body":{"version":1,"capability":1}}`, CodeUnauthorized},
		{"hello huge token", `{"v":1,"type":"hello","body":{"version":1,"capability":1,"token":"` + long(MaxTokenLen+1) + `"}}`, CodeTooLarge},
		{"hello too many resumes", `{"v":1,"type":"hello","body":{"version":1,"capability":1,"token":"x","resume":[` + strings.TrimSuffix(strings.Repeat(`{"sid":"a","peer":"b"},`, MaxResume+1), ",") + `]}}`, CodeTooLarge},
		{"ttl too long", `{"v":1,"type":"code.create","body":{"ttl":999999}}`, CodeBadRequest},
		{"ttl negative", `{"v":1,"type":"code.create","body":{"ttl":-1}}`, CodeBadRequest},
		{"view grants control", `{"v":1,"type":"consent.decision","body":{"decision":"view","permissions":["control"]}}`, CodeBadRequest},
		{"deny grants", `{"v":1,"type":"consent.decision","body":{"decision":"deny","permissions":["view"]}}`, CodeBadRequest},
		{"unknown decision", `{"v":1,"type":"consent.decision","body":{"decision":"maybe"}}`, CodeBadRequest},
		{"unknown permission", `{"v":1,"type":"consent.decision","body":{"decision":"control","permissions":["root"]}}`, CodeBadRequest},
		{"empty sdp", `{"v":1,"type":"sdp.offer","body":{"sdp":""}}`, CodeBadRequest},
		{"candidate too long", `{"v":1,"type":"ice.candidate","body":{"candidate":"` + long(MaxCandidate+1) + `"}}`, CodeTooLarge},
		{"control char in reason", `{"v":1,"type":"session.end","body":{"reason":"a\u0000b"}}`, CodeBadRequest},
		{"connect no device", `{"v":1,"type":"connect.request","body":{}}`, CodeBadRequest},
		{"presence too many", `{"v":1,"type":"presence.query","body":{"device_ids":[` + strings.TrimSuffix(strings.Repeat(`"d",`, MaxListLen+1), ",") + `]}}`, CodeTooLarge},
		{"oversized", `{"v":1,"type":"ping","id":"` + long(MaxMessageSize) + `"}`, CodeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode([]byte(tt.in))
			if err == nil {
				t.Fatalf("Decode accepted %+v", m)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *proto.Error", err)
			}
			if pe.Code != tt.code {
				t.Fatalf("code = %s (%v), want %s", pe.Code, err, tt.code)
			}
		})
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	// Newer peers may add fields; older ones must still understand the rest.
	m, err := Decode([]byte(`{"v":1,"type":"code.redeem","extra":1,"body":{"code":"000000001","future":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Body.(*CodeRedeem).Code; got != "000000001" {
		t.Fatalf("code = %q", got)
	}
}

func TestDecodeReplacesInvalidUTF8(t *testing.T) {
	m, err := Decode([]byte("{\"v\":1,\"type\":\"session.end\",\"body\":{\"reason\":\"a\xffb\"}}"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Body.(*SessionEnd).Reason; !utf8.ValidString(got) {
		t.Fatalf("reason %q is not valid UTF-8", got)
	}
}

func TestEncodeRefusesInvalidBody(t *testing.T) {
	if _, err := Encode("", "", &CodeRedeem{Code: "1"}); CodeOf(err) != CodeInvalidCode {
		t.Fatalf("err = %v", err)
	}
	big := &Offer{SDP{SDP: strings.Repeat("a", MaxSDPLen)}}
	if _, err := Encode("", "", big); err != nil {
		t.Fatalf("largest legal SDP refused: %v", err)
	}
}

func TestErrorMessagesDoNotEchoInput(t *testing.T) {
	secret := "s3cr3t-value"
	_, err := Decode([]byte(`{"v":1,"type":"code.redeem","body":{"code":["` + secret + `"]}}`))
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("err = %v", err)
	}
}
