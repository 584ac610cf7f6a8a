package e2e

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/reachdesk/reach/internal/xvfb"
)

// Benchmark phases, each this long.
const benchPhase = 10 * time.Second

// BenchmarkSession measures a real session end to end — Xvfb at 1920x1080,
// reach-relay, reach-agent and headless Chromium sharing the machine — and
// prints a table:
//
//   - glass-to-glass latency: an X client paints the time as a row of
//     black and white blocks; the page decodes it from every frame in
//     requestVideoFrameCallback (VideoFrame.copyTo) and compares it with
//     its clock;
//   - received bitrate on a static screen (after the first second);
//   - received bitrate and decoded fps while someone types in an xterm;
//   - decoded fps and bitrate while a full-screen terminal scrolls.
//
// Run it with: go test ./e2e -run '^$' -bench BenchmarkSession -benchtime 1x
func BenchmarkSession(b *testing.B) {
	for range b.N {
		x := xvfb.Start(b, xvfb.Options{Width: 1920, Height: 1080})
		c := NewConsole(b)
		relay := StartRelay(b, c)
		page := OpenPage(b, c, relay.Addr)
		agent := JoinAgent(b, c, relay, x, page.StartSession(b), "c")
		page.WaitEvent(b, "started", 30*time.Second, nil)

		lat := glassToGlass(b, page, x)
		in := inputLatency(b, page, x)
		cpu0 := cpuSeconds(b, agent.cmd.Process.Pid)
		static := measure(b, page, func() {})
		// The agent's CPU over the static phase (its settling second included).
		staticCPU := 100 * (cpuSeconds(b, agent.cmd.Process.Pid) - cpu0) / (benchPhase + time.Second).Seconds()
		typing := measure(b, page, func() {
			terminal(b, x)
			x.Run(b, "xdotool", "mousemove", "100", "50")
			time.Sleep(500 * time.Millisecond)
			// An end user typing ten characters a second, for the whole phase.
			x.Client(b, "xdotool", "type", "--delay", "100", longText(int(benchPhase/(100*time.Millisecond))+20))
		})
		scrolling := measure(b, page, func() { x.ScrollingTerminal(b, 60) })

		b.ReportMetric(percentile(lat, 50), "g2g-p50-ms")
		b.ReportMetric(percentile(lat, 95), "g2g-p95-ms")
		b.ReportMetric(percentile(in, 50), "input-p50-ms")
		b.ReportMetric(scrolling.fps, "scroll-fps")
		b.ReportMetric(static.kbps, "static-kbps")
		b.ReportMetric(staticCPU, "static-agent-cpu-%")
		b.ReportMetric(typing.kbps, "typing-kbps")
		b.ReportMetric(scrolling.kbps, "scroll-kbps")
		b.ReportMetric(scrolling.medianKbps, "scroll-median-kbps")
		b.ReportMetric(typing.medianKbps, "typing-median-kbps")

		w := os.Stdout
		fmt.Fprintf(w, "\nReach session, 1920x1080, agent + relay + Chromium on one machine (%s each phase)\n", benchPhase)
		fmt.Fprintf(w, "%-34s %10s %10s\n", "measure", "value", "target")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "glass-to-glass median, ms", percentile(lat, 50), "≤ 50")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "glass-to-glass p95, ms", percentile(lat, 95), "≤ 100")
		fmt.Fprintf(w, "%-34s %10d %10s\n", "glass-to-glass samples", len(lat), "")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "input browser → X median, ms", percentile(in, 50), "≤ 5")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "input browser → X p95, ms", percentile(in, 95), "")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "static screen, kbit/s", static.kbps, "≤ 10")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "static screen, fps decoded", static.fps, "")
		fmt.Fprintf(w, "%-34s %6d/%-3d %10s\n", "static screen, keyframes/PLIs", static.keyframes, static.plis, "")
		fmt.Fprintf(w, "%-34s %10.2f %10s\n", "static screen, agent CPU % of a core", staticCPU, "≤ 3")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "typing, kbit/s median of seconds", typing.medianKbps, "≤ 1000")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "typing, kbit/s mean", typing.kbps, "")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "typing, fps decoded", typing.fps, "")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "scrolling terminal, fps decoded", scrolling.fps, "≥ 30")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "scrolling, lowest fps of a second", scrolling.minFPS, "")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "scrolling, kbit/s median of seconds", scrolling.medianKbps, "≤ 1000")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "scrolling, kbit/s mean", scrolling.kbps, "")
		fmt.Fprintf(w, "%-34s %s\n", "scrolling, kbit/s each second", formatSeries(scrolling.perSecondKbps))
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "scrolling, fps sent by the agent", scrolling.sentFPS, "")
		fmt.Fprintf(w, "%-34s %10.1f %10s\n", "scrolling, agent encode ms/frame", scrolling.encodeMS, "")
		fmt.Fprintf(w, "%-34s %6d/%-3d %10s\n", "scrolling, keyframes/PLIs", scrolling.keyframes, scrolling.plis, "")
		fmt.Fprintf(w, "%-34s %10s\n", "codec", scrolling.codec)
	}
}

// cpuSeconds returns the user+system CPU time process pid has used, from
// /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func cpuSeconds(tb testing.TB, pid int) float64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// The command name (field 2) may hold spaces: count fields after its ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}

// rates are the browser's receive statistics over one phase, and the
// agent's own averages (from its stats messages) over the same time.
type rates struct {
	fps, kbps       float64 // frames decoded and kbit/s received, means over the phase
	medianKbps      float64 // median of the per-second bitrates
	minFPS          float64 // the lowest per-second decoded frame rate
	perSecondKbps   []float64
	codec           string
	keyframes, plis int
	sentFPS         float64 // frames the agent encoded per second
	encodeMS        float64 // the agent's mean encode time per frame
}

// receiverSample is one reading of the browser's inbound video counters.
type receiverSample struct {
	Codec                        string
	FramesDecoded, BytesReceived float64
	Keyframes, PLIs              int
	at                           time.Time
}

// measure runs setup, lets the screen settle for a second and returns what
// the browser received during benchPhase, read once a second: frames as
// Chromium decoded them (framesDecoded) and bytes as it received them.
func measure(tb testing.TB, page *Page, setup func()) rates {
	tb.Helper()
	setup()
	time.Sleep(time.Second)
	read := func() receiverSample {
		var s receiverSample
		page.MustEval("window.reachTest.session.receiverStats()", &s)
		s.at = time.Now()
		return s
	}
	since := time.Now()
	samples := []receiverSample{read()}
	tick := time.NewTicker(time.Second)
	for range int(benchPhase / time.Second) {
		<-tick.C
		samples = append(samples, read())
	}
	tick.Stop()
	r := rates{codec: samples[len(samples)-1].Codec, minFPS: -1}
	for i, s := range samples[1:] {
		prev := samples[i]
		dt := s.at.Sub(prev.at).Seconds()
		kbps := (s.BytesReceived - prev.BytesReceived) * 8 / 1000 / dt
		fps := (s.FramesDecoded - prev.FramesDecoded) / dt
		r.perSecondKbps = append(r.perSecondKbps, kbps)
		if r.minFPS < 0 || fps < r.minFPS {
			r.minFPS = fps
		}
		r.keyframes += s.Keyframes
		r.plis += s.PLIs
	}
	first, last := samples[0], samples[len(samples)-1]
	secs := last.at.Sub(first.at).Seconds()
	r.fps = (last.FramesDecoded - first.FramesDecoded) / secs
	r.kbps = (last.BytesReceived - first.BytesReceived) * 8 / 1000 / secs
	r.medianKbps = median(r.perSecondKbps)
	var ag struct{ FPS, EncodeMS float64 }
	page.MustEval(fmt.Sprintf("window.reachTest.agentStats(%d)", since.UnixMilli()), &ag)
	r.sentFPS, r.encodeMS = ag.FPS, ag.EncodeMS
	return r
}

// median returns the middle value of xs (the mean of the two middle ones
// for an even count; 0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// inputLatency moves the remote pointer 50 times from the page and returns,
// for each move, the ms from the page's send to the X pointer being there
// (both sides read the same system clock).
func inputLatency(tb testing.TB, page *Page, x *xvfb.Server) []float64 {
	tb.Helper()
	conn, err := xgb.NewConnDisplay(x.Display)
	if err != nil {
		tb.Fatalf("input latency: %v", err)
	}
	defer conn.Close()
	root := xproto.Setup(conn).DefaultScreen(conn).Root
	w, h := float64(x.Options.Width), float64(x.Options.Height)
	var out []float64
	for i := range 50 {
		tx, ty := 200+(i%2)*800, 300+(i%3)*200
		arrived := make(chan time.Time, 1)
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := xproto.QueryPointer(conn, root).Reply()
				if err == nil && abs(int(r.RootX)-tx) <= 1 && abs(int(r.RootY)-ty) <= 1 {
					arrived <- time.Now()
					return
				}
			}
		}()
		var sentMS float64
		page.MustEval(fmt.Sprintf("(() => { const t = Date.now(); window.reachTest.session.sendPointer(%g, %g); return t })()",
			(float64(tx)+0.5)/w, (float64(ty)+0.5)/h), &sentMS)
		select {
		case at := <-arrived:
			out = append(out, float64(at.UnixMicro())/1000-sentMS)
		case <-time.After(2 * time.Second):
			tb.Errorf("input latency: the pointer never reached (%d, %d)", tx, ty)
		}
		close(stop)
	}
	return out
}

func abs(v int) int { return max(v, -v) }

// Clock pattern: 32 blocks across the top of the screen, most significant
// first: 24 bits of Unix time in ms, then their byte sum (testpage.ts).
const clockBits = 32

// glassToGlass paints the time for benchPhase and returns the latencies
// the page measured, ms.
func glassToGlass(tb testing.TB, page *Page, x *xvfb.Server) []float64 {
	tb.Helper()
	blockW := x.Options.Width / clockBits
	p := newClockPainter(tb, x.Display, blockW)
	page.MustEval(fmt.Sprintf("window.reachTest.startClock(%s)", jsArg(map[string]int{
		"bits": clockBits, "blockW": blockW, "blockH": blockW,
	})), nil)
	tick := time.NewTicker(47 * time.Millisecond) // not a multiple of the capture interval
	defer tick.Stop()
	for end := time.Now().Add(benchPhase); time.Now().Before(end); <-tick.C {
		if err := p.paint(time.Now()); err != nil {
			tb.Fatalf("clock painter: %v", err)
		}
	}
	var lat []float64
	page.MustEval("window.reachTest.stopClock()", &lat)
	return lat
}

// clockPainter draws the clock pattern with two X requests and one round
// trip per paint, so painting adds little to what is measured.
type clockPainter struct {
	conn         *xgb.Conn
	root         xproto.Drawable
	white, black xproto.Gcontext
	blockW       int
}

func newClockPainter(tb testing.TB, display string, blockW int) *clockPainter {
	tb.Helper()
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		tb.Fatalf("clock painter: %v", err)
	}
	tb.Cleanup(conn.Close)
	screen := xproto.Setup(conn).DefaultScreen(conn)
	p := &clockPainter{conn: conn, root: xproto.Drawable(screen.Root), blockW: blockW}
	for gc, colour := range map[*xproto.Gcontext]uint32{&p.white: 0xffffff, &p.black: 0} {
		id, err := xproto.NewGcontextId(conn)
		if err != nil {
			tb.Fatalf("clock painter: %v", err)
		}
		if err := xproto.CreateGCChecked(conn, id, p.root, xproto.GcForeground|xproto.GcGraphicsExposures, []uint32{colour, 0}).Check(); err != nil {
			tb.Fatalf("clock painter: %v", err)
		}
		*gc = id
	}
	return p
}

// paint draws t and waits until the server has drawn it.
func (p *clockPainter) paint(t time.Time) error {
	ms := uint32(t.UnixMilli()) & (1<<24 - 1)
	v := ms<<8 | (ms>>16+ms>>8&255+ms&255)&255
	var ones, zeros []xproto.Rectangle
	for i := range clockBits {
		r := xproto.Rectangle{X: int16(i * p.blockW), Y: 0, Width: uint16(p.blockW), Height: uint16(p.blockW)}
		if v>>(clockBits-1-i)&1 == 1 {
			ones = append(ones, r)
		} else {
			zeros = append(zeros, r)
		}
	}
	xproto.PolyFillRectangle(p.conn, p.root, p.white, ones)
	xproto.PolyFillRectangle(p.conn, p.root, p.black, zeros)
	_, err := xproto.GetInputFocus(p.conn).Reply()
	return err
}

// percentile returns the p-th percentile of xs (0 for none).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

// longText is n characters of ordinary typing.
func longText(n int) string {
	const words = "the quick brown fox jumps over the lazy dog "
	out := make([]byte, n)
	for i := range out {
		out[i] = words[i%len(words)]
	}
	return string(out)
}

// formatSeries prints xs rounded, space-separated.
func formatSeries(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(int(x + 0.5))
	}
	return strings.Join(parts, " ")
}
