package media

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/reachdesk/reach/agent/capture"
	"github.com/reachdesk/reach/agent/colorconv"
	"github.com/reachdesk/reach/agent/encode"
	"github.com/reachdesk/reach/proto"
)

// Defaults of Options and pacing.
const (
	DefaultFPS = 30
	// IdlePoll is how often an idle screen is looked at anyway, for
	// pointer moves (which X reports as no damage) and sources that
	// cannot report changes.
	IdlePoll = 100 * time.Millisecond
	// HeartbeatGap is the longest a still screen goes without a frame.
	// Chromium asks for a keyframe when it has decoded nothing for 3 s
	// while packets still arrive; on a still screen that meant a
	// keyframe every 3 s. A heartbeat — a frame that repeats the
	// picture in a few hundred bytes — keeps it from asking.
	HeartbeatGap = 2 * time.Second
	// RefineFrames is how many frames sharpen the picture once it stops
	// changing: at RefineBoost times the bitrate cap, the quantizer of
	// what was sent coarsely while it moved comes down by about six
	// steps a frame (PSNR of a scrolled terminal: 35.6 → 43.2 dB).
	RefineFrames = 10
	// RefineBoost multiplies the screen-content cap for refinement
	// frames.
	RefineBoost = 4
	// refineDelay is how long the screen must stand still before it is
	// refined: typing pauses shorter than this do not trigger it.
	refineDelay = 150 * time.Millisecond
	// minKeyframeGap spaces keyframes asked for in a burst of PLIs.
	minKeyframeGap = 250 * time.Millisecond
)

// ScreenBitrate is the bitrate cap for changing screen content at
// 1920x1080; ScreenCap scales it to other sizes. Text stays legible at
// it while a terminal scrolls 60 lines a second (quantizer about 53 of
// encode.DefaultMaxQuantizer's 56); more bandwidth would only sharpen
// frames that are gone 33 ms later, and refinement frames sharpen the
// picture once it stands still.
const ScreenBitrate = 1_000_000

// rcHeadroom is the share of a bitrate limit the encoder's rate control
// aims at, in percent. libvpx's CBR spends its target to the last bit on
// a scrolling screen, and a frame that breaks the scroll's pace (a late
// capture, a terminal that drew late) overshoots it: aimed at the limit
// itself, a scrolling terminal's seconds came out at 0.98-1.2 times the
// limit (docs/benchmarks.md).
const rcHeadroom = 90

// encoderTarget is the bitrate the encoder aims at to stay within limit.
func encoderTarget(limit int) int { return limit / 100 * rcHeadroom }

// ScreenCap returns the bitrate cap for changing screen content of the
// given size: ScreenBitrate in proportion to the pixels, at least
// MinBitrate.
func ScreenCap(size image.Point) int {
	px := float64(size.X) * float64(size.Y)
	return max(MinBitrate, int(ScreenBitrate*px/(1920*1080)))
}

// Options tune a Streamer. Zero values take the defaults noted.
type Options struct {
	// FPS is the highest frame rate; zero means DefaultFPS.
	FPS int
	// Threads for the encoder; zero lets the encoder choose.
	Threads int
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Stats is a snapshot of what a Streamer sent since the previous snapshot.
type Stats = proto.Stats

// SampleWriter takes the encoded frames: a *webrtc.TrackLocalStaticSample
// made by NewTrack.
type SampleWriter interface {
	WriteSample(media.Sample) error
}

// Streamer captures, converts, encodes and sends one screen to one track.
// Run owns the capture loop; the other methods may be called from any
// goroutine.
type Streamer struct {
	src   capture.Source
	track SampleWriter
	codec encode.Codec
	opts  Options
	log   *slog.Logger

	keyframe chan struct{} // a keyframe is wanted
	poke     chan struct{} // look at the screen now (input was injected)

	mu        sync.Mutex // guards the fields below
	enc       encode.Encoder
	bwe       int // congestion controller's estimate, bps; 0 unknown
	capKbps   int // technician's cap; 0 none
	capFPS    int
	mode      string
	refining  bool // refinement frames are being sent
	shown     image.Rectangle
	lastKey   time.Time
	frames    int
	bytes     int
	encodeDur time.Duration
	statsAt   time.Time
	size      image.Point
}

// NewStreamer prepares to stream src to track in codec. It does not take
// ownership of src.
func NewStreamer(src capture.Source, track SampleWriter, codec encode.Codec, opts Options) *Streamer {
	if opts.FPS <= 0 {
		opts.FPS = DefaultFPS
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Streamer{
		src: src, track: track, codec: codec, opts: opts, log: opts.Logger,
		keyframe: make(chan struct{}, 1), poke: make(chan struct{}, 1),
		statsAt: time.Now(),
	}
	if ms := src.Monitors(); len(ms) > 0 {
		s.shown = ms[0].Bounds
	}
	return s
}

// Codec returns the codec the streamer sends.
func (s *Streamer) Codec() encode.Codec { return s.codec }

// ForceKeyframe makes the next frame a keyframe and sends it even if the
// screen did not change.
func (s *Streamer) ForceKeyframe() {
	s.mu.Lock()
	now := time.Now()
	if now.Sub(s.lastKey) < minKeyframeGap {
		s.mu.Unlock()
		return
	}
	s.lastKey = now
	if s.enc != nil {
		s.enc.ForceKeyframe()
	}
	s.mu.Unlock()
	select {
	case s.keyframe <- struct{}{}:
	default:
	}
}

// Poke makes the streamer look at the screen soon, e.g. after the pointer
// was moved (X reports no damage for the pointer).
func (s *Streamer) Poke() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// Shown returns the area of the screen the stream shows, in screen
// coordinates: where normalized input coordinates point.
func (s *Streamer) Shown() image.Rectangle {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shown
}

// Monitors describes the displays and the one shown.
func (s *Streamer) Monitors(shown int) proto.Monitors {
	var out proto.Monitors
	for i, m := range s.src.Monitors() {
		if i >= proto.MaxMonitors {
			break
		}
		out.Monitors = append(out.Monitors, proto.Monitor{
			Index: i, Name: m.Name, X: m.Bounds.Min.X, Y: m.Bounds.Min.Y,
			Width: m.Bounds.Dx(), Height: m.Bounds.Dy(), Primary: m.Primary,
		})
	}
	out.Shown = shown
	return out
}

// SelectMonitor shows monitor i, or all of them (capture.AllMonitors).
func (s *Streamer) SelectMonitor(i int) error {
	if err := s.src.SelectMonitor(i); err != nil {
		return fmt.Errorf("media: select monitor: %w", err)
	}
	s.Poke()
	return nil
}

// SetEstimate applies the congestion controller's bandwidth estimate.
func (s *Streamer) SetEstimate(bps int) {
	s.mu.Lock()
	s.bwe = bps
	s.applyRateLocked()
	s.mu.Unlock()
}

// SetQuality applies the technician's preference: caps of zero mean none.
func (s *Streamer) SetQuality(q proto.Quality) {
	s.mu.Lock()
	s.capKbps, s.capFPS, s.mode = q.MaxKbps, q.MaxFPS, q.Mode
	s.applyRateLocked()
	s.mu.Unlock()
}

// rateLocked returns the bitrate limit and frame rate to encode at now: the
// congestion controller's estimate, capped for screen content (higher
// while refining, and in "quality" mode, whose frames are fewer and
// sharper), and by the technician's caps.
func (s *Streamer) rateLocked() (bps, fps int) {
	bps = InitialBitrate
	if s.bwe > 0 {
		bps = s.bwe
	}
	content := ScreenCap(s.size)
	if s.mode == "quality" {
		content *= 2
	}
	if s.refining {
		content *= RefineBoost
	}
	bps = min(bps, content)
	if s.capKbps > 0 {
		bps = min(bps, s.capKbps*1000)
	}
	fps = s.opts.FPS
	if s.mode == "quality" {
		fps = min(fps, 15) // fewer, sharper frames
	}
	// The frame rate does not follow the bandwidth estimate: fewer
	// frames make a scrolling screen costlier, not cheaper (each frame
	// then moves further than the encoder's motion search reaches: 24 KB
	// a frame at 15 fps against 4 KB at 30, docs/benchmarks.md).
	if s.capFPS > 0 {
		fps = min(fps, s.capFPS)
	}
	return bps, max(fps, 1)
}

func (s *Streamer) applyRateLocked() {
	if s.enc == nil {
		return
	}
	bps, fps := s.rateLocked()
	s.enc.SetBitrate(encoderTarget(bps))
	s.enc.SetFrameRate(fps)
}

// Stats returns what was sent since the previous call.
func (s *Streamer) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	secs := now.Sub(s.statsAt).Seconds()
	st := Stats{Width: s.size.X, Height: s.size.Y, Codec: string(s.codec)}
	if secs > 0 {
		st.FPS = float64(s.frames) / secs
		st.Kbps = float64(s.bytes) * 8 / 1000 / secs
	}
	if s.frames > 0 {
		st.EncodeMS = float64(s.encodeDur.Microseconds()) / 1000 / float64(s.frames)
	}
	s.frames, s.bytes, s.encodeDur, s.statsAt = 0, 0, 0, now
	return st
}

// WatchRTCP reads the sender's RTCP until it fails (the PeerConnection
// closed) and turns PLIs and FIRs into keyframes. Run it on its own
// goroutine.
func (s *Streamer) WatchRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.ForceKeyframe()
			}
		}
	}
}

// Run streams until ctx ends or capture fails for good. It closes the
// encoder on return, not the source.
//
// Frames are paced on a grid of the frame rate (a changing screen is sent
// at exactly that rate when the machine keeps up), capture waits for X
// damage, and only the damaged macroblocks are converted and encoded.
// A frame is encoded while the next one is captured and converted, so
// that a slow encode does not make the next capture late: a late capture
// shows a scrolling terminal one line further on, which the encoder
// follows only at a price.
// When the screen stops changing, RefineFrames frames sharpen what
// changed; a still screen then sends only a heartbeat every HeartbeatGap.
func (s *Streamer) Run(ctx context.Context) error {
	var encoding inflight
	defer func() {
		encoding.wait()
		s.mu.Lock()
		if s.enc != nil {
			s.enc.Close()
			s.enc = nil
		}
		s.mu.Unlock()
	}()
	var (
		img        *image.YCbCr // the screen as captured
		pic        *image.YCbCr // its copy that the encoder reads
		start      = time.Now()
		slot       time.Time // frame slot of the last capture
		lastSent   time.Time
		lastChange time.Time
		poll       = time.NewTimer(0)
		pending    bool              // a keyframe is due even without changes
		unrefined  []image.Rectangle // changed since the last refinement
		refineLeft int
		errLog     time.Time
	)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.src.Changes():
		case <-s.poke:
		case <-s.keyframe:
			pending = true
		case <-poll.C:
		}
		s.mu.Lock()
		_, fps := s.rateLocked()
		s.mu.Unlock()
		period := time.Second / time.Duration(fps)
		if next := slot.Add(period); time.Until(next) > 0 {
			// Changes that arrive before the next slot wait for it,
			// and are all in it.
			t := time.NewTimer(time.Until(next))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			slot = next
		} else if time.Since(next) < period/2 {
			slot = next // a little late: stay on the grid
		} else {
			slot = time.Now()
		}
		select {
		case <-s.keyframe:
			pending = true
		default:
		}
		poll.Reset(IdlePoll)
		f, err := s.src.Capture()
		if errors.Is(err, capture.ErrClosed) {
			return err
		}
		if err != nil {
			if time.Since(errLog) > 10*time.Second {
				s.log.Warn("media: capture failed", "err", err)
				errLog = time.Now()
			}
			continue
		}
		bounds, at := f.Bounds, f.Time
		size := bounds.Size()
		if img == nil || img.Rect.Size() != size {
			img = image.NewYCbCr(image.Rectangle{Max: size}, image.YCbCrSubsampleRatio420)
			f.Changed = append(f.Changed[:0], img.Rect)
			pending = true
		}
		for _, r := range f.Changed {
			if err := colorconv.BGRXToI420(img, f.Pix, f.Stride, r); err != nil {
				return fmt.Errorf("media: convert: %w", err)
			}
		}
		// The capture above ran while the last frame was encoded; the
		// decisions below change the encoder's rate, so they wait.
		if err := encoding.wait(); err != nil {
			return err
		}
		var opts encode.FrameOptions
		switch now := time.Now(); {
		case len(f.Changed) > 0 || pending:
			for _, r := range f.Changed {
				unrefined = mergeRect(unrefined, r)
			}
			if !pending {
				opts.Changed = f.Changed
			}
			lastChange, refineLeft = now, RefineFrames
			s.setRefining(false)
		case refineLeft > 0 && now.Sub(lastChange) >= refineDelay:
			refineLeft--
			opts.Changed = unrefined
			s.setRefining(true)
		case now.Sub(lastSent) >= HeartbeatGap && !lastSent.IsZero():
			opts.Changed = []image.Rectangle{}
		default:
			if refineLeft > 0 {
				poll.Reset(max(period, refineDelay-now.Sub(lastChange)))
			}
			continue
		}
		if refineLeft > 0 {
			poll.Reset(max(period, refineDelay-time.Since(lastChange)))
		}
		enc, err := s.encoder(size)
		if err != nil {
			return err
		}
		if pic == nil || pic.Rect != img.Rect {
			pic = image.NewYCbCr(img.Rect, image.YCbCrSubsampleRatio420)
		}
		copy(pic.Y, img.Y)
		copy(pic.Cb, img.Cb)
		copy(pic.Cr, img.Cr)
		dur := period
		if !lastSent.IsZero() {
			dur = at.Sub(lastSent)
		}
		lastSent = at
		// The encoder runs beside the next capture, which reuses the
		// frame's slices, and beside changes to unrefined: it gets
		// copies (nil stays nil: the whole picture).
		opts.Changed = slices.Clone(opts.Changed)
		pts, frame := at.Sub(start), pic
		encoding.start(func() error { return s.encodeAndSend(enc, frame, opts, at, pts, dur) })
		s.mu.Lock()
		s.shown = bounds
		s.size = size
		s.mu.Unlock()
		pending = false
		if refineLeft == 0 && len(unrefined) > 0 && len(f.Changed) == 0 {
			unrefined = unrefined[:0]
			s.setRefining(false)
		}
	}
}

// encodeAndSend encodes pic and writes the frame to the track.
func (s *Streamer) encodeAndSend(enc encode.Encoder, pic *image.YCbCr, opts encode.FrameOptions, at time.Time, pts, dur time.Duration) error {
	t0 := time.Now()
	out, err := enc.EncodeFrame(pic, pts, opts)
	took := time.Since(t0)
	if err != nil {
		return fmt.Errorf("media: encode: %w", err)
	}
	s.log.Debug("media: frame", "bytes", len(out.Data), "quantizer", out.Quantizer, "keyframe", out.Keyframe,
		"areas", len(opts.Changed), "all", opts.Changed == nil, "encode", took)
	s.mu.Lock()
	s.frames++
	s.bytes += len(out.Data)
	s.encodeDur += took
	s.mu.Unlock()
	if len(out.Data) == 0 {
		return nil
	}
	if err := s.track.WriteSample(media.Sample{Data: out.Data, Duration: dur, Timestamp: at}); err != nil && !errors.Is(err, context.Canceled) {
		s.log.Debug("media: write sample", "err", err)
	}
	return nil
}

// inflight runs one job at a time beside its caller: the encoding of a
// frame while the next is captured.
type inflight struct {
	done chan error // nil when nothing runs
}

// start runs job; the previous job must have been waited for.
func (j *inflight) start(job func() error) {
	j.done = make(chan error, 1)
	go func() { j.done <- job() }()
}

// wait waits for the running job, if any, and returns its error.
func (j *inflight) wait() error {
	if j.done == nil {
		return nil
	}
	err := <-j.done
	j.done = nil
	return err
}

// setRefining switches the refinement bitrate on or off.
func (s *Streamer) setRefining(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refining != on {
		s.refining = on
		s.applyRateLocked()
	}
}

// maxRefine bounds the areas waiting for refinement; more are merged
// into their bounding box.
const maxRefine = 16

// mergeRect adds r to rs, merging into one bounding box once there are
// maxRefine rectangles.
func mergeRect(rs []image.Rectangle, r image.Rectangle) []image.Rectangle {
	if r.Empty() {
		return rs
	}
	if len(rs) < maxRefine {
		return append(rs, r)
	}
	for _, o := range rs {
		r = r.Union(o)
	}
	return append(rs[:0], r)
}

// encoder returns the encoder, making it on the first frame.
func (s *Streamer) encoder(size image.Point) (encode.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.enc != nil {
		return s.enc, nil
	}
	s.size = size // the content cap depends on it
	bps, fps := s.rateLocked()
	enc, err := encode.New(s.codec, encode.Config{Width: size.X, Height: size.Y, Bitrate: encoderTarget(bps), FrameRate: fps, Threads: s.opts.Threads})
	if err != nil {
		return nil, fmt.Errorf("media: encoder: %w", err)
	}
	s.enc = enc
	return enc, nil
}
