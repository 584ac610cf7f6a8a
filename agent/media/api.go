// Package media drives a session's video: it captures the screen when the X
// server reports damage (at most at the target frame rate), converts the
// changed areas to I420, encodes them and writes the frames to a pion video
// track. A static screen costs neither CPU nor bandwidth: no damage, no frame,
// except a keyframe when the viewer asks for one (PLI, FIR or the control
// channel's "keyframe").
//
// NewAPI builds the pion API a session's PeerConnection is made with: VP8
// and VP9 with NACK, PLI and FIR feedback, transport-wide congestion control
// (pion's GCC) whose estimate drives the encoder's bitrate and, under
// pressure, its frame rate, RTCP reports, and the playout-delay header
// extension with min = max = 0, which tells Chromium to render frames as soon
// as they are decoded (about 35 ms less delay; see ../shared/FACTS.md).
package media

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/reachdesk/reach/agent/encode"
)

// PlayoutDelayURI names the playout-delay RTP header extension.
const PlayoutDelayURI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"

// Bitrate bounds for congestion control, bits per second.
const (
	InitialBitrate = 2_500_000
	MinBitrate     = 150_000
	MaxBitrate     = 10_000_000
)

// payload types of the codecs the agent sends.
var payloadTypes = map[encode.Codec]webrtc.PayloadType{encode.VP8: 96, encode.VP9: 98}

var videoFeedback = []webrtc.RTCPFeedback{
	{Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "transport-cc"},
}

// codecParameters returns the pion codec parameters of c.
func codecParameters(c encode.Codec) webrtc.RTPCodecParameters {
	p := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: c.MimeType(), ClockRate: 90000, RTCPFeedback: videoFeedback},
		PayloadType:        payloadTypes[c],
	}
	if c == encode.VP9 {
		p.SDPFmtpLine = "profile-id=0"
	}
	return p
}

// API is a pion API for one session, with the session's congestion
// controller.
type API struct {
	*webrtc.API

	mu  sync.Mutex
	bwe cc.BandwidthEstimator // set when the PeerConnection is created
}

// NewAPI returns an API whose PeerConnections send VP8 or VP9 video under
// congestion control. settings may be nil.
func NewAPI(settings *webrtc.SettingEngine) (*API, error) {
	a := &API{}
	m := &webrtc.MediaEngine{}
	for _, c := range encode.Codecs() {
		if _, ok := payloadTypes[c]; !ok {
			continue
		}
		if err := m.RegisterCodec(codecParameters(c), webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("media: register %s: %w", c, err)
		}
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: PlayoutDelayURI}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("media: register playout delay: %w", err)
	}
	ir := &interceptor.Registry{}
	// Congestion control first, then the TWCC sequence numbers it reads,
	// then NACK (see cc.NewInterceptor), reports, playout delay.
	ccf, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(InitialBitrate),
			gcc.SendSideBWEMinBitrate(MinBitrate),
			gcc.SendSideBWEMaxBitrate(MaxBitrate),
			// No pacing: a keyframe leaves at once instead of being
			// spread over tens of milliseconds; on a help-desk link
			// latency matters more than smoothness.
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
		)
	})
	if err != nil {
		return nil, fmt.Errorf("media: congestion control: %w", err)
	}
	ccf.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) {
		a.mu.Lock()
		a.bwe = e
		a.mu.Unlock()
	})
	ir.Add(ccf)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		return nil, fmt.Errorf("media: twcc: %w", err)
	}
	if err := webrtc.ConfigureNack(m, ir); err != nil {
		return nil, fmt.Errorf("media: nack: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, fmt.Errorf("media: rtcp reports: %w", err)
	}
	ir.Add(playoutDelayFactory{})
	opts := []func(*webrtc.API){webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir)}
	if settings != nil {
		opts = append(opts, webrtc.WithSettingEngine(*settings))
	}
	a.API = webrtc.NewAPI(opts...)
	return a, nil
}

// Estimator returns the congestion controller of the PeerConnection made
// with this API, or nil before it was made.
func (a *API) Estimator() cc.BandwidthEstimator {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.bwe
}

// PreferredCodec picks the codec for a viewer's offer: the first video codec
// in the offer's order that this build encodes, so the viewer chooses (a
// browser can reorder with setCodecPreferences). VP8 when the offer names
// none.
func PreferredCodec(offer string) encode.Codec {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal([]byte(offer)); err == nil {
		for _, md := range sd.MediaDescriptions {
			if md.MediaName.Media != "video" {
				continue
			}
			names := map[string]string{}
			for _, a := range md.Attributes {
				if a.Key != "rtpmap" {
					continue
				}
				pt, rest, _ := strings.Cut(a.Value, " ")
				name, _, _ := strings.Cut(rest, "/")
				names[pt] = strings.ToUpper(name)
			}
			for _, pt := range md.MediaName.Formats {
				for _, c := range encode.Codecs() {
					if _, ok := payloadTypes[c]; ok && names[pt] == string(c) {
						return c
					}
				}
			}
		}
	}
	return encode.VP8
}

// NewTrack returns a video track for codec.
func NewTrack(codec encode.Codec) (*webrtc.TrackLocalStaticSample, error) {
	t, err := webrtc.NewTrackLocalStaticSample(codecParameters(codec).RTPCodecCapability, "screen", "reach")
	if err != nil {
		return nil, fmt.Errorf("media: track: %w", err)
	}
	return t, nil
}

// playoutDelayFactory makes the interceptor that writes the playout-delay
// extension (min = max = 0) on every video packet of a stream that
// negotiated it.
type playoutDelayFactory struct{}

func (playoutDelayFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &playoutDelay{}, nil
}

type playoutDelay struct{ interceptor.NoOp }

func (*playoutDelay) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == PlayoutDelayURI {
			id = uint8(e.ID)
		}
	}
	if id == 0 {
		return w
	}
	ext, _ := rtp.PlayoutDelayExtension{MinDelay: 0, MaxDelay: 0}.Marshal()
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if err := h.SetExtension(id, ext); err != nil {
			return 0, err
		}
		return w.Write(h, payload, a)
	})
}
