package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/reachdesk/reach/agent/capture"
	"github.com/reachdesk/reach/agent/media"
	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay/relayclient"
)

// Peer is a stand-in agent written with pion for client conformance tests:
// it redeems a code, consents with control, checks the browser's grant,
// streams an X display through the agent's media pipeline (capture, VP8/VP9,
// congestion control, playout delay), signs its answer's fingerprint, echoes
// chat and clipboard lines, and records every input message it receives.
type Peer struct {
	ID      string
	Display string // X display it streams

	key      ed25519.PrivateKey
	verifier *proto.Verifier
	conn     *relayclient.Conn
	log      *slog.Logger

	mu       sync.Mutex // guards the fields below
	inputs   []map[string]any
	grantErr error
	ended    string
}

// NewPeer connects a stand-in agent for device id to the relay and enrolls
// its key with the console.
func NewPeer(tb testing.TB, c *Console, r *Relay, id, display string) *Peer {
	tb.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	c.Enroll(id, pub)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tok := c.Token(tb, "-kind", "device", "-sub", id, "-name", "Test PC")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := relayclient.Dial(ctx, r.URL("agent"), tok, relayclient.DialOptions{Client: "e2e-peer", Logger: log})
	if err != nil {
		tb.Fatalf("peer: dial relay: %v", err)
	}
	tb.Cleanup(func() { conn.Close() })
	return &Peer{
		ID: id, Display: display, key: key, conn: conn, log: log,
		verifier: proto.NewVerifier(proto.AudienceAgent, time.Now, c.Signer.PublicKey()),
	}
}

// Inputs returns the input messages received so far.
func (p *Peer) Inputs() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.inputs...)
}

// GrantErr returns why the browser's grant was refused, if it was.
func (p *Peer) GrantErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.grantErr
}

// Ended returns the reason the session ended, or "" while it runs.
func (p *Peer) Ended() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ended
}

// Join redeems code and serves the session until it ends or the test does.
func (p *Peer) Join(tb testing.TB, code string) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	tb.Cleanup(func() { cancel(); <-done })
	// A redeemed code gets no reply; a consent request follows.
	if _, err := p.conn.Send(ctx, "", &proto.CodeRedeem{Code: code}); err != nil {
		tb.Fatalf("peer: redeem: %v", err)
	}
	go func() {
		defer close(done)
		p.serve(ctx)
	}()
}

// serve answers the relay's messages for one session.
func (p *Peer) serve(ctx context.Context) {
	var (
		pc        *webrtc.PeerConnection
		streamer  *media.Streamer
		src       capture.Source
		streaming = make(chan struct{}) // closed when the streamer stops
	)
	streamCtx, stopStream := context.WithCancel(ctx)
	defer func() {
		stopStream()
		if pc != nil {
			pc.Close()
		}
		if src != nil {
			if streamer != nil {
				<-streaming // the streamer reads src's shared memory until it returns
			}
			src.Close()
		}
	}()
	for {
		m, err := p.conn.Recv(ctx)
		if err != nil {
			return
		}
		switch b := m.Body.(type) {
		case *proto.ConsentRequest:
			p.conn.Send(ctx, m.SID, &proto.ConsentDecision{Decision: proto.DecisionControl,
				Permissions: []proto.Permission{proto.PermView, proto.PermControl, proto.PermClipboard}})
		case *proto.Offer:
			if _, err := proto.VerifyGrant(p.verifier, p.ID, b.SDP.SDP, b.Signature); err != nil {
				p.mu.Lock()
				p.grantErr = err
				p.mu.Unlock()
				p.conn.Send(ctx, m.SID, &proto.SessionEnd{Reason: err.(*proto.Error).Msg})
				return
			}
			if src, err = capture.OpenX11(capture.Options{Display: p.Display, Logger: p.log}); err != nil {
				p.end(ctx, m.SID, "capture: "+err.Error())
				return
			}
			if pc, streamer, err = p.answer(ctx, m.SID, b.SDP.SDP, src); err != nil {
				p.end(ctx, m.SID, err.Error())
				return
			}
			go func() {
				defer close(streaming)
				streamer.Run(streamCtx)
			}()
		case *proto.Candidate:
			if pc != nil && b.Candidate != "" {
				pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: b.Candidate, SDPMid: b.SDPMid,
					SDPMLineIndex: b.SDPMLineIndex, UsernameFragment: b.UsernameFragment})
			}
		case *proto.SessionEnd:
			p.mu.Lock()
			p.ended = b.Reason
			p.mu.Unlock()
			return
		}
	}
}

func (p *Peer) end(ctx context.Context, sid, reason string) {
	p.conn.Send(ctx, sid, &proto.SessionEnd{Reason: reason})
}

// answer builds the PeerConnection for offer, sends the signed answer and
// trickles candidates.
func (p *Peer) answer(ctx context.Context, sid, offer string, src capture.Source) (*webrtc.PeerConnection, *media.Streamer, error) {
	api, err := media.NewAPI(nil)
	if err != nil {
		return nil, nil, err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, nil, err
	}
	codec := media.PreferredCodec(offer)
	track, err := media.NewTrack(codec)
	if err != nil {
		return nil, nil, err
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		return nil, nil, err
	}
	streamer := media.NewStreamer(src, track, codec, media.Options{Logger: p.log})
	go streamer.WatchRTCP(sender)
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		p.conn.Send(ctx, sid, &proto.Candidate{Candidate: init.Candidate, SDPMid: init.SDPMid,
			SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment})
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) { p.channel(dc, streamer) })
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return nil, nil, err
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, nil, err
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		return nil, nil, err
	}
	fp, err := proto.Fingerprint(ans.SDP)
	if err != nil {
		return nil, nil, err
	}
	_, err = p.conn.Send(ctx, sid, &proto.Answer{SDP: proto.SDP{SDP: ans.SDP, Signature: proto.SignDTLS(p.key, sid, fp)}})
	return pc, streamer, err
}

// channel serves one data channel the browser opened.
func (p *Peer) channel(dc *webrtc.DataChannel, streamer *media.Streamer) {
	label := dc.Label()
	send := func(m proto.DCMessage) {
		if data, err := proto.EncodeDC(m); err == nil {
			dc.SendText(string(data))
		}
	}
	if label == proto.ChannelControl {
		dc.OnOpen(func() {
			send(streamer.Monitors(0))
			send(proto.Permissions{Permissions: []proto.Permission{proto.PermView, proto.PermControl, proto.PermClipboard}})
			send(streamer.Stats())
		})
	}
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		m, err := proto.DecodeDC(label, msg.Data)
		if err != nil {
			return // the real agent refuses such messages too
		}
		switch v := m.(type) {
		case proto.Chat:
			send(proto.Chat{From: "user", Text: "echo: " + v.Text})
		case proto.Clipboard:
			send(proto.Clipboard{Text: "echo: " + v.Text})
		case proto.Keyframe:
			streamer.ForceKeyframe()
		}
		if label == proto.ChannelInput || m.DCType() == proto.DCViewOnly {
			var raw map[string]any
			json.Unmarshal(msg.Data, &raw)
			p.mu.Lock()
			p.inputs = append(p.inputs, raw)
			p.mu.Unlock()
		}
	})
}
