package xvfb

import (
	"image"
	"image/color"
	"io"
	"log"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

func init() {
	// xgb logs "Could not get authority info" on every connection to a
	// server without an Xauthority entry, which Xvfb never has.
	xgb.Logger = log.New(io.Discard, "", 0)
}

// Painter draws on the root window of a server through its own X
// connection. It assumes a TrueColor visual with depth 24, Xvfb's default.
type Painter struct {
	// Bounds is the root window's rectangle.
	Bounds image.Rectangle

	conn *xgb.Conn
	root xproto.Window
	gc   xproto.Gcontext
	stop chan struct{}
	wg   sync.WaitGroup // animation goroutines
}

// Painter connects a painter to the server; it is closed on tb.Cleanup.
func (s *Server) Painter(tb testing.TB) *Painter {
	tb.Helper()
	conn, err := xgb.NewConnDisplay(s.Display)
	if err != nil {
		tb.Fatalf("xvfb: painter: connect %s: %v", s.Display, err)
	}
	screen := xproto.Setup(conn).DefaultScreen(conn)
	gc, err := xproto.NewGcontextId(conn)
	if err != nil {
		conn.Close()
		tb.Fatalf("xvfb: painter: %v", err)
	}
	if err := xproto.CreateGCChecked(conn, gc, xproto.Drawable(screen.Root), xproto.GcGraphicsExposures, []uint32{0}).Check(); err != nil {
		conn.Close()
		tb.Fatalf("xvfb: painter: create GC: %v", err)
	}
	p := &Painter{
		Bounds: image.Rect(0, 0, int(screen.WidthInPixels), int(screen.HeightInPixels)),
		conn:   conn,
		root:   screen.Root,
		gc:     gc,
		stop:   make(chan struct{}),
	}
	tb.Cleanup(func() {
		close(p.stop)
		p.wg.Wait()
		conn.Close()
	})
	return p
}

// Fill paints r in colour c and returns once the server has drawn it.
func (p *Painter) Fill(tb testing.TB, r image.Rectangle, c color.RGBA) {
	tb.Helper()
	p.fill(r, c)
	if err := p.sync(); err != nil {
		tb.Fatalf("xvfb: painter: fill: %v", err)
	}
}

func (p *Painter) fill(r image.Rectangle, c color.RGBA) {
	xproto.ChangeGC(p.conn, p.gc, xproto.GcForeground, []uint32{pixel(c)})
	xproto.PolyFillRectangle(p.conn, xproto.Drawable(p.root), p.gc, []xproto.Rectangle{{
		X: int16(r.Min.X), Y: int16(r.Min.Y), Width: uint16(r.Dx()), Height: uint16(r.Dy()),
	}})
}

// sync waits for a round trip, so every earlier request has been executed.
func (p *Painter) sync() error {
	_, err := xproto.GetInputFocus(p.conn).Reply()
	return err
}

// Animate repaints the whole root window fps times a second until the test
// ends: a detailed picture pans in a Lissajous path under a grid of tiles
// whose colours change every frame, so every pixel changes between frames
// much as in a playing video.
func (p *Painter) Animate(tb testing.TB, fps int) {
	tb.Helper()
	w, h := p.Bounds.Dx(), p.Bounds.Dy()
	src, err := xproto.NewPixmapId(p.conn)
	if err != nil {
		tb.Fatalf("xvfb: painter: %v", err)
	}
	if err := xproto.CreatePixmapChecked(p.conn, 24, src, xproto.Drawable(p.root), uint16(2*w), uint16(2*h)).Check(); err != nil {
		tb.Fatalf("xvfb: painter: create pixmap: %v", err)
	}
	p.put(xproto.Drawable(src), 2*w, 2*h, busy(2*w, 2*h))
	if err := p.sync(); err != nil {
		tb.Fatalf("xvfb: painter: draw pattern: %v", err)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(fps))
		defer tick.Stop()
		for frame := 0; ; frame++ {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			t := float64(frame) / 20
			dx := int16(float64(w/2) * (1 + math.Sin(t*1.3)))
			dy := int16(float64(h/2) * (1 + math.Sin(t*0.7)))
			xproto.CopyArea(p.conn, xproto.Drawable(src), xproto.Drawable(p.root), p.gc, dx, dy, 0, 0, uint16(w), uint16(h))
			for i := range 8 {
				tile := image.Rect(0, 0, w/8, h/8).Add(image.Pt(i*w/8, (frame+i*3)%8*h/8))
				p.fill(tile, color.RGBA{R: uint8(frame * 7), G: uint8(i * 32), B: uint8(255 - frame*3), A: 255})
			}
			if p.sync() != nil {
				return // the server went away; the test reports that itself
			}
		}
	}()
}

// put fills a w×h drawable with the colours of paint, sent in bands that
// fit the server's maximum request length.
func (p *Painter) put(dst xproto.Drawable, w, h int, paint func(x, y int) (r, g, b uint8)) {
	maxBytes := int(xproto.Setup(p.conn).MaximumRequestLength)*4 - 64
	rows := max(1, maxBytes/(w*4))
	buf := make([]byte, w*rows*4)
	for y0 := 0; y0 < h; y0 += rows {
		n := min(rows, h-y0)
		for y := range n {
			for x := range w {
				i := (y*w + x) * 4
				buf[i+2], buf[i+1], buf[i] = paint(x, y0+y)
			}
		}
		xproto.PutImage(p.conn, xproto.ImageFormatZPixmap, dst, p.gc,
			uint16(w), uint16(n), 0, int16(y0), 0, 24, buf[:w*n*4])
	}
}

// busy is a picture full of detail for the motion scene: gradients, fine
// checks and stripes, w×h pixels.
func busy(w, h int) func(x, y int) (r, g, b uint8) {
	return func(x, y int) (r, g, b uint8) {
		check := uint8(((x/4)^(y/4))&1) * 60
		return uint8(128 + 127*math.Sin(float64(x+y)/23)), uint8(y*255/h) + uint8(x/37%2*90), uint8(x*255/w) ^ check
	}
}

// wallpaper is a calm desktop background of w×h pixels: a diagonal
// gradient with two soft glows.
func wallpaper(w, h int) func(x, y int) (r, g, b uint8) {
	glow := func(x, y, cx, cy, radius int) float64 {
		dx, dy := float64(x-cx), float64(y-cy)
		return math.Exp(-(dx*dx + dy*dy) / float64(radius*radius))
	}
	return func(x, y int) (r, g, b uint8) {
		t := float64(x+y) / float64(w+h)
		g1, g2 := glow(x, y, w/4, h/3, h/2), glow(x, y, 3*w/4, 3*h/4, h/3)
		return uint8(20 + 40*t + 120*g2), uint8(40 + 60*t + 90*g1), uint8(90 + 100*t + 60*g1)
	}
}

// pixel converts c to a depth-24 TrueColor pixel value.
func pixel(c color.RGBA) uint32 {
	return uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B)
}
