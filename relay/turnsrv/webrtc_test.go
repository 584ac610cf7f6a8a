package turnsrv

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// relayOnlyPeer returns a PeerConnection that may only use relay candidates
// from turnAddr, closed when t ends.
func relayOnlyPeer(t *testing.T, name, turnAddr string) *webrtc.PeerConnection {
	t.Helper()
	user, pass := Credentials(testSecret, name, time.Minute, time.Now())
	logger, _ := newTestLogger(t, slog.LevelWarn)
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.LoggerFactory = pionLoggerFactory{log: logger.With("peer", name), lim: new(logLimiter)}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		ICEServers: []webrtc.ICEServer{{
			URLs:       []string{"turn:" + turnAddr + "?transport=udp"},
			Username:   user,
			Credential: pass,
		}},
		ICETransportPolicy: webrtc.ICETransportPolicyRelay,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pc.Close(); err != nil {
			t.Error(err)
		}
	})
	return pc
}

// negotiate exchanges complete (non-trickle) offer and answer between a and
// b, and returns them.
func negotiate(t *testing.T, a, b *webrtc.PeerConnection) (offer, answer string) {
	t.Helper()
	local := func(pc *webrtc.PeerConnection, desc webrtc.SessionDescription) string {
		gathered := webrtc.GatheringCompletePromise(pc)
		if err := pc.SetLocalDescription(desc); err != nil {
			t.Fatal(err)
		}
		select {
		case <-gathered:
		case <-time.After(10 * time.Second):
			t.Fatal("ICE gathering did not complete")
		}
		return pc.LocalDescription().SDP
	}
	o, err := a.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	offer = local(a, o)
	if err := b.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	ans, err := b.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	answer = local(b, ans)
	if err := a.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	return offer, answer
}

// checkRelayOnly fails t unless sdp offers relay candidates and nothing
// else, so that a session can only succeed or fail through the server.
func checkRelayOnly(t *testing.T, who, sdp string) {
	t.Helper()
	if !strings.Contains(sdp, " typ relay") {
		t.Fatalf("%s offers no relay candidate:\n%s", who, sdp)
	}
	for _, typ := range []string{" typ host", " typ srflx", " typ prflx"} {
		if strings.Contains(sdp, typ) {
			t.Fatalf("%s offers a%s candidate:\n%s", who, typ, sdp)
		}
	}
}

// echoSession sets a data channel from a to b, where b echoes what it
// receives, and returns the channel of echoes a gets back.
func echoSession(t *testing.T, a, b *webrtc.PeerConnection) <-chan string {
	t.Helper()
	b.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(msg webrtc.DataChannelMessage) {
			_ = dc.SendText("echo: " + string(msg.Data))
		})
	})
	dc, err := a.CreateDataChannel("echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	echoes := make(chan string, 1)
	dc.OnOpen(func() { _ = dc.SendText("ping") })
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		select {
		case echoes <- string(msg.Data):
		default:
		}
	})
	return echoes
}

func TestWebRTCThroughTURN(t *testing.T) {
	checkLeaks(t)
	s, addr := mustServer(t, 2, Options{AllowLoopback: true})
	a := relayOnlyPeer(t, "technician", addr)
	b := relayOnlyPeer(t, "agent", addr)
	echoes := echoSession(t, a, b)
	offer, answer := negotiate(t, a, b)
	checkRelayOnly(t, "offer", offer)
	checkRelayOnly(t, "answer", answer)

	select {
	case got := <-echoes:
		if got != "echo: ping" {
			t.Fatalf("got %q, want %q", got, "echo: ping")
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no data channel round trip; a: %s, b: %s; stats %+v", a.ICEConnectionState(), b.ICEConnectionState(), s.Stats())
	}

	for name, pc := range map[string]*webrtc.PeerConnection{"offerer": a, "answerer": b} {
		pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil {
			t.Fatalf("%s: no selected candidate pair: %v", name, err)
		}
		if pair.Local.Typ != webrtc.ICECandidateTypeRelay || pair.Remote.Typ != webrtc.ICECandidateTypeRelay {
			t.Errorf("%s: selected pair %s, want relay on both ends", name, pair)
		}
		if pair.Local.Address != "127.0.0.1" {
			t.Errorf("%s: local relay address %s, want the server's 127.0.0.1", name, pair.Local.Address)
		}
	}
	st := s.Stats()
	if st.AllocationsActive != 2 || st.BytesToPeers == 0 || st.BytesFromPeers == 0 || st.PermissionsRefused != 0 {
		t.Errorf("stats after a relayed session: %+v", st)
	}
}

func TestWebRTCLoopbackPeersRefused(t *testing.T) {
	checkLeaks(t)
	s, addr := mustServer(t, 2, Options{})
	a := relayOnlyPeer(t, "technician", addr)
	b := relayOnlyPeer(t, "agent", addr)
	connected := make(chan struct{})
	a.OnICEConnectionStateChange(func(state webrtc.ICEConnectionState) {
		if state == webrtc.ICEConnectionStateConnected {
			close(connected)
		}
	})
	echoes := echoSession(t, a, b)
	offer, answer := negotiate(t, a, b)
	// Allocations succeed: only the relaying between them is refused.
	checkRelayOnly(t, "offer", offer)
	checkRelayOnly(t, "answer", answer)

	// Permitted, this pair connects in well under a second (see
	// TestWebRTCThroughTURN).
	select {
	case <-connected:
		t.Fatalf("ICE connected through a refused peer address; stats %+v", s.Stats())
	case got := <-echoes:
		t.Fatalf("data channel round trip %q through a refused peer address", got)
	case <-time.After(5 * time.Second):
	}
	if st := s.Stats(); st.PermissionsRefused == 0 || st.AllocationsTotal < 2 || st.BytesToPeers != 0 {
		t.Errorf("stats after refused session: %+v, want refusals, 2 allocations and no bytes to peers", st)
	}
}
