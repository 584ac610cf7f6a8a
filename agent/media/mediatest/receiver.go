package mediatest

import (
	"image"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/reachdesk/reach/agent/internal/vpxdec"
)

// Receiver decodes a remote video track. Its methods are safe for concurrent use.
type Receiver struct {
	Codec string // "VP8" or "VP9"

	mu      sync.Mutex
	frames  int
	bytes   int
	keys    int
	last    *image.YCbCr
	lastAt  time.Time
	err     error
	changed chan struct{}
	playout bool // a packet carried the playout-delay extension
	done    chan struct{}
}

// Receive starts decoding track until it ends. playoutExtID is the
// negotiated id of the playout-delay extension, or 0.
func Receive(track *webrtc.TrackRemote, playoutExtID uint8) *Receiver {
	codec := strings.TrimPrefix(track.Codec().MimeType, "video/")
	r := &Receiver{Codec: codec, changed: make(chan struct{}, 1), done: make(chan struct{})}
	go r.run(track, playoutExtID)
	return r
}

func (r *Receiver) run(track *webrtc.TrackRemote, extID uint8) {
	defer close(r.done)
	var dep rtp.Depacketizer = &codecs.VP8Packet{}
	vp9 := r.Codec == "VP9"
	if vp9 {
		dep = &codecs.VP9Packet{}
	}
	dec, err := vpxdec.New(vp9)
	if err != nil {
		r.fail(err)
		return
	}
	defer dec.Close()
	var (
		frame  []byte
		ts     uint32
		seq    uint16
		broken bool
	)
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		if extID != 0 && pkt.GetExtension(extID) != nil {
			r.mu.Lock()
			r.playout = true
			r.mu.Unlock()
		}
		// A frame is complete at the packet with the marker bit; a
		// static screen sends no next frame that would flush it
		// from pion's samplebuilder.
		if pkt.Timestamp != ts || pkt.SequenceNumber != seq+1 && len(frame) > 0 {
			frame, broken = frame[:0], pkt.Timestamp == ts
		}
		ts, seq = pkt.Timestamp, pkt.SequenceNumber
		part, err := dep.Unmarshal(pkt.Payload)
		if err != nil {
			broken = true
		}
		frame = append(frame, part...)
		if !pkt.Marker {
			continue
		}
		if broken {
			frame, broken = frame[:0], false
			continue
		}
		{
			img, err := dec.Decode(frame)
			r.mu.Lock()
			r.frames++
			r.bytes += len(frame)
			if isKeyframe(frame, vp9) {
				r.keys++
			}
			frame = frame[:0]
			if err == nil {
				r.last, r.lastAt = img, time.Now()
			} else if r.err == nil {
				r.err = err
			}
			r.mu.Unlock()
			select {
			case r.changed <- struct{}{}:
			default:
			}
		}
	}
}

func (r *Receiver) fail(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

// Done is closed when the track ended.
func (r *Receiver) Done() <-chan struct{} { return r.done }

// Frames returns how many frames arrived, and their bytes.
func (r *Receiver) Frames() (n, bytes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames, r.bytes
}

// Keyframes returns how many of the frames were keyframes.
func (r *Receiver) Keyframes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys
}

// isKeyframe reads the frame type from a VP8 frame tag (bit 0 clear) or
// a VP9 profile 0/1 uncompressed header (show_existing_frame and
// frame_type, bits 3 and 2 of the first byte, both clear).
func isKeyframe(frame []byte, vp9 bool) bool {
	if len(frame) == 0 {
		return false
	}
	if vp9 {
		return frame[0]&0b1100 == 0
	}
	return frame[0]&1 == 0
}

// PlayoutDelay reports whether packets carried the playout-delay extension.
func (r *Receiver) PlayoutDelay() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.playout
}

// Last returns the latest decoded picture and the first decode error.
func (r *Receiver) Last() (*image.YCbCr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last, r.err
}

// WaitFor waits until a decoded picture satisfies ok, or timeout.
func (r *Receiver) WaitFor(timeout time.Duration, ok func(*image.YCbCr) bool) (*image.YCbCr, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if img, _ := r.Last(); img != nil && ok(img) {
			return img, true
		}
		select {
		case <-r.changed:
		case <-deadline.C:
			img, _ := r.Last()
			return img, false
		}
	}
}

// RGBAt returns the colour at (x, y) of a decoded picture, converted back
// from BT.601 limited range.
func RGBAt(img *image.YCbCr, x, y int) (r, g, b uint8) {
	yi, ci := img.YOffset(x, y), img.COffset(x, y)
	yy := (float64(img.Y[yi]) - 16) * 255 / 219
	cb := (float64(img.Cb[ci]) - 128) * 255 / 224
	cr := (float64(img.Cr[ci]) - 128) * 255 / 224
	clamp := func(v float64) uint8 { return uint8(max(0, min(255, v+0.5))) }
	return clamp(yy + 1.402*cr), clamp(yy - 0.344136*cb - 0.714136*cr), clamp(yy + 1.772*cb)
}
