package media

import (
	"context"
	"image"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/reachdesk/reach/agent/capture"
	"github.com/reachdesk/reach/agent/encode"
	"github.com/reachdesk/reach/agent/internal/vpxdec"
	"github.com/reachdesk/reach/proto"
)

// fakeScreen is a capture.Source whose pixels the test paints.
type fakeScreen struct {
	changes chan struct{}

	mu      sync.Mutex
	pix     []byte
	w, h    int
	changed []image.Rectangle // since the last Capture
	frame   capture.Frame
}

func newFakeScreen(w, h int) *fakeScreen {
	s := &fakeScreen{changes: make(chan struct{}, 1), pix: make([]byte, 4*w*h), w: w, h: h}
	s.paint(image.Rect(0, 0, w, h), 200)
	return s
}

// paint fills r with grey level v and reports it as changed.
func (s *fakeScreen) paint(r image.Rectangle, v byte) {
	s.mu.Lock()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := 4 * (y*s.w + x)
			s.pix[i], s.pix[i+1], s.pix[i+2] = v, v, v
		}
	}
	s.changed = append(s.changed, r)
	s.mu.Unlock()
	select {
	case s.changes <- struct{}{}:
	default:
	}
}

func (s *fakeScreen) Capture() (*capture.Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frame = capture.Frame{
		Pix: append(s.frame.Pix[:0], s.pix...), Stride: 4 * s.w, Bounds: image.Rect(0, 0, s.w, s.h),
		// Like capture.X11, reuse the frame's slices: what the streamer
		// hands on must not alias them.
		Time: time.Now(), Changed: append(s.frame.Changed[:0], s.changed...),
	}
	s.changed = s.changed[:0]
	return &s.frame, nil
}

func (s *fakeScreen) Monitors() []capture.Monitor {
	return []capture.Monitor{{Name: "fake", Bounds: image.Rect(0, 0, s.w, s.h), Primary: true}}
}
func (s *fakeScreen) SelectMonitor(int) error  { return nil }
func (s *fakeScreen) Changes() <-chan struct{} { return s.changes }
func (s *fakeScreen) Close() error             { return nil }

// sample is one frame the streamer wrote, decoded.
type sample struct {
	at  time.Time
	n   int
	key bool
	img *image.YCbCr
}

// recorder is a SampleWriter that decodes every frame.
type recorder struct {
	t   *testing.T
	dec *vpxdec.Decoder

	mu      sync.Mutex
	samples []sample
}

func newRecorder(t *testing.T) *recorder {
	dec, err := vpxdec.New(false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dec.Close)
	return &recorder{t: t, dec: dec}
}

func (r *recorder) WriteSample(s media.Sample) error {
	img, err := r.dec.Decode(s.Data)
	if err != nil {
		r.t.Errorf("decode sample %d: %v", len(r.samples), err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// A VP8 keyframe has bit 0 of its first byte clear.
	r.samples = append(r.samples, sample{at: time.Now(), n: len(s.Data), key: s.Data[0]&1 == 0, img: img})
	return nil
}

// since returns the samples written after t.
func (r *recorder) since(t time.Time) []sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sample
	for _, s := range r.samples {
		if s.at.After(t) {
			out = append(out, s)
		}
	}
	return out
}

func (r *recorder) last() (sample, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.samples) == 0 {
		return sample{}, false
	}
	return r.samples[len(r.samples)-1], true
}

// stream runs a VP8 streamer of screen into a recorder until the test ends.
func stream(t *testing.T, screen *fakeScreen, fps int) (*Streamer, *recorder) {
	t.Helper()
	rec := newRecorder(t)
	st := NewStreamer(screen, rec, encode.VP8, Options{FPS: fps, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return st, rec
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// lumaOf is the decoded luma at p.
func lumaOf(img *image.YCbCr, p image.Point) int { return int(img.Y[p.Y*img.YStride+p.X]) }

// TestStreamerStillScreen: a change is sent, then refined, and then a
// still screen costs only a tiny heartbeat every HeartbeatGap — no
// keyframes, and the picture stays what it was.
func TestStreamerStillScreen(t *testing.T) {
	screen := newFakeScreen(320, 240)
	_, rec := stream(t, screen, 30)
	waitFor(t, 2*time.Second, "the first frame", func() bool { _, ok := rec.last(); return ok })

	box := image.Rect(64, 64, 128, 128)
	changedAt := time.Now()
	screen.paint(box, 30)
	waitFor(t, 2*time.Second, "the change", func() bool {
		s, _ := rec.last()
		return s.img != nil && lumaOf(s.img, image.Pt(96, 96)) < 60
	})
	// Refinement follows within about RefineFrames frames after refineDelay.
	time.Sleep(refineDelay + RefineFrames*time.Second/30 + 300*time.Millisecond)
	after := rec.since(changedAt)
	if len(after) < RefineFrames || len(after) > RefineFrames+3 {
		t.Errorf("%d frames for one change, want it and %d refinement frames", len(after), RefineFrames)
	}

	settled := time.Now()
	time.Sleep(HeartbeatGap + 600*time.Millisecond)
	still := rec.since(settled)
	if len(still) != 1 {
		t.Fatalf("still screen: %d frames in %v, want one heartbeat", len(still), HeartbeatGap+600*time.Millisecond)
	}
	if hb := still[0]; hb.key || hb.n > 1000 {
		t.Errorf("heartbeat: %d bytes, keyframe %v; want a small inter frame", hb.n, hb.key)
	}
	if got := lumaOf(still[0].img, image.Pt(96, 96)); got > 60 {
		t.Errorf("heartbeat shows luma %d inside the box, want about 30", got)
	}
}

// TestStreamerPacing: a screen that changes all the time is sent at the
// frame rate, not slower.
func TestStreamerPacing(t *testing.T) {
	screen := newFakeScreen(320, 240)
	_, rec := stream(t, screen, 20)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			screen.paint(image.Rect(0, (i%24)*10, 320, (i%24)*10+10), byte(i))
		}
	})
	defer func() { close(stop); wg.Wait() }()
	time.Sleep(300 * time.Millisecond)
	from := time.Now()
	time.Sleep(2 * time.Second)
	n := len(rec.since(from))
	if n < 38 || n > 42 {
		t.Errorf("%d frames in 2 s at 20 fps, want 40", n)
	}
}

// TestStreamerKeyframe: ForceKeyframe sends a keyframe even when nothing
// changed; requests closer than minKeyframeGap make one.
func TestStreamerKeyframe(t *testing.T) {
	screen := newFakeScreen(320, 240)
	st, rec := stream(t, screen, 30)
	waitFor(t, 2*time.Second, "the first frame", func() bool { _, ok := rec.last(); return ok })
	time.Sleep(refineDelay + RefineFrames*time.Second/30 + 300*time.Millisecond)
	asked := time.Now()
	st.ForceKeyframe()
	st.ForceKeyframe() // within minKeyframeGap: no second keyframe
	time.Sleep(200 * time.Millisecond)
	var keys int
	for _, s := range rec.since(asked) {
		if s.key {
			keys++
		}
	}
	if keys != 1 {
		t.Errorf("%d keyframes after two quick requests, want 1", keys)
	}
}

// TestRate checks the bitrate and frame-rate policy.
func TestRate(t *testing.T) {
	hd := image.Pt(1920, 1080)
	for _, tc := range []struct {
		name             string
		size             image.Point
		bwe              int
		q                proto.Quality
		refining         bool
		wantBps, wantFPS int
	}{
		{"no estimate yet, capped for screen content", hd, 0, proto.Quality{}, false, ScreenBitrate, 30},
		{"a fast link is capped for screen content", hd, 8_000_000, proto.Quality{}, false, ScreenBitrate, 30},
		{"a slow link sets the bitrate", hd, 400_000, proto.Quality{}, false, 400_000, 30},
		{"a very slow link keeps the frame rate", hd, 160_000, proto.Quality{}, false, 160_000, 30},
		{"refinement may spend more", hd, 8_000_000, proto.Quality{}, true, RefineBoost * ScreenBitrate, 30},
		{"refinement within the estimate", hd, 2_000_000, proto.Quality{}, true, 2_000_000, 30},
		{"smaller screens get less", image.Pt(960, 540), 8_000_000, proto.Quality{}, false, ScreenBitrate / 4, 30},
		{"quality mode: sharper, fewer frames", hd, 8_000_000, proto.Quality{Mode: "quality"}, false, 2 * ScreenBitrate, 15},
		{"technician caps", hd, 8_000_000, proto.Quality{MaxKbps: 300, MaxFPS: 12}, false, 300_000, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Streamer{opts: Options{FPS: DefaultFPS}, size: tc.size, bwe: tc.bwe, refining: tc.refining,
				capKbps: tc.q.MaxKbps, capFPS: tc.q.MaxFPS, mode: tc.q.Mode}
			bps, fps := s.rateLocked()
			if bps != tc.wantBps || fps != tc.wantFPS {
				t.Errorf("rate = %d bit/s at %d fps, want %d at %d", bps, fps, tc.wantBps, tc.wantFPS)
			}
		})
	}
}

func TestEncoderTarget(t *testing.T) {
	for _, tc := range []struct{ limit, want int }{
		{ScreenBitrate, 900_000},
		{MinBitrate, MinBitrate * rcHeadroom / 100},
		{2_500_000, 2_250_000},
	} {
		if got := encoderTarget(tc.limit); got != tc.want || got > tc.limit {
			t.Errorf("encoderTarget(%d) = %d, want %d", tc.limit, got, tc.want)
		}
	}
}

func TestScreenCap(t *testing.T) {
	for _, tc := range []struct {
		size image.Point
		want int
	}{
		{image.Pt(1920, 1080), ScreenBitrate},
		{image.Pt(3840, 2160), 4 * ScreenBitrate},
		{image.Pt(1280, 720), ScreenBitrate * 1280 * 720 / (1920 * 1080)},
		{image.Pt(320, 200), MinBitrate},
		{image.Point{}, MinBitrate},
	} {
		if got := ScreenCap(tc.size); got != tc.want {
			t.Errorf("ScreenCap(%v) = %d, want %d", tc.size, got, tc.want)
		}
	}
}

func TestMergeRect(t *testing.T) {
	var rs []image.Rectangle
	for i := range maxRefine {
		rs = mergeRect(rs, image.Rect(i, i, i+1, i+1))
	}
	rs = mergeRect(rs, image.Rectangle{})
	if len(rs) != maxRefine {
		t.Fatalf("%d rectangles, want %d (empty ones are dropped)", len(rs), maxRefine)
	}
	rs = mergeRect(rs, image.Rect(100, 100, 101, 101))
	if len(rs) != 1 || rs[0] != image.Rect(0, 0, 101, 101) {
		t.Fatalf("after overflowing: %v, want one bounding box", rs)
	}
}

func TestPreferredCodec(t *testing.T) {
	offer := func(rtpmaps ...string) string {
		sdp := "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF"
		for i := range rtpmaps {
			sdp += " " + string(rune('0'+i)) + "0"
		}
		sdp += "\r\n"
		for i, m := range rtpmaps {
			sdp += "a=rtpmap:" + string(rune('0'+i)) + "0 " + m + "/90000\r\n"
		}
		return sdp
	}
	for _, tc := range []struct {
		name, offer string
		want        encode.Codec
	}{
		{"browser order VP8 first", offer("VP8", "VP9"), encode.VP8},
		{"browser prefers VP9", offer("VP9", "VP8"), encode.VP9},
		{"unknown codecs skipped", offer("AV1", "H265", "VP9"), encode.VP9},
		{"nothing we encode", offer("AV1"), encode.VP8},
		{"not SDP", "garbage", encode.VP8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PreferredCodec(tc.offer); got != tc.want {
				t.Errorf("PreferredCodec = %s, want %s", got, tc.want)
			}
		})
	}
}
