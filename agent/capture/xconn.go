//go:build linux

package capture

import (
	"fmt"
	"image"
	"io"
	"log"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/damage"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"
)

func init() {
	// xgb logs "Could not get authority info" on every connection to a
	// server without an Xauthority entry, and its other messages duplicate
	// the errors its calls return.
	xgb.Logger = log.New(io.Discard, "", 0)
}

// xconn is one connection to the X server and the resources made on it.
type xconn struct {
	conn   *xgb.Conn
	root   xproto.Window
	randr  bool // RandR 1.5 (monitors) is available
	damage damage.Damage
	region xfixes.Region // scratch region that receives damage
	done   chan struct{} // closed when readEvents returns

	// Set by readEvents, cleared by Capture.
	damaged     atomic.Bool // the DAMAGE region became non-empty
	reconfigure atomic.Bool // screen size or monitors may have changed
	lost        atomic.Bool // the connection is gone
}

// dial connects to display and sets up damage tracking and change events;
// readEvents signals changes until the connection closes.
func dial(display string, changes chan struct{}, logger *slog.Logger) (*xconn, error) {
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("capture: connect to X display %q: %w: %w", display, ErrDisconnected, err)
	}
	xc := &xconn{conn: conn, done: make(chan struct{})}
	if err := xc.init(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("capture: X display %q: %w", display, err)
	}
	go xc.readEvents(changes, logger)
	return xc, nil
}

func (xc *xconn) init() error {
	setup := xproto.Setup(xc.conn)
	screen := setup.DefaultScreen(xc.conn)
	xc.root = screen.Root
	if err := checkFormat(setup, screen); err != nil {
		return err
	}
	for _, ext := range []string{"MIT-SHM", "XFIXES", "DAMAGE"} {
		if err := initExtension(xc.conn, ext); err != nil {
			return err
		}
	}
	// XFIXES and DAMAGE refuse requests until the client states its version.
	if _, err := xfixes.QueryVersion(xc.conn, 5, 0).Reply(); err != nil {
		return fmt.Errorf("XFIXES version: %w", err)
	}
	if _, err := damage.QueryVersion(xc.conn, 1, 1).Reply(); err != nil {
		return fmt.Errorf("DAMAGE version: %w", err)
	}
	if initExtension(xc.conn, "RANDR") == nil {
		v, err := randr.QueryVersion(xc.conn, 1, 5).Reply()
		if err != nil {
			return fmt.Errorf("RANDR version: %w", err)
		}
		xc.randr = v.MajorVersion > 1 || v.MinorVersion >= 5
	}

	// Resolution changes: the root window's ConfigureNotify always, and
	// RandR's notifications for monitor changes that keep the root size.
	err := xproto.ChangeWindowAttributesChecked(xc.conn, xc.root, xproto.CwEventMask,
		[]uint32{xproto.EventMaskStructureNotify}).Check()
	if err != nil {
		return fmt.Errorf("select root events: %w", err)
	}
	if xc.randr {
		mask := uint16(randr.NotifyMaskScreenChange | randr.NotifyMaskCrtcChange | randr.NotifyMaskOutputChange)
		if err := randr.SelectInputChecked(xc.conn, xc.root, mask).Check(); err != nil {
			return fmt.Errorf("select RandR events: %w", err)
		}
	}

	if xc.damage, err = damage.NewDamageId(xc.conn); err != nil {
		return fmt.Errorf("damage id: %w", err)
	}
	// NonEmpty: one event when the region turns non-empty, whatever is
	// drawn afterwards until Capture subtracts it.
	err = damage.CreateChecked(xc.conn, xc.damage, xproto.Drawable(xc.root), damage.ReportLevelNonEmpty).Check()
	if err != nil {
		return fmt.Errorf("create damage: %w", err)
	}
	if xc.region, err = xfixes.NewRegionId(xc.conn); err != nil {
		return fmt.Errorf("region id: %w", err)
	}
	if err := xfixes.CreateRegionChecked(xc.conn, xc.region, nil).Check(); err != nil {
		return fmt.Errorf("create region: %w", err)
	}
	return nil
}

// checkFormat accepts the screens whose pixels read back as BGRX: depth 24
// (or 32) TrueColor in 32-bit little-endian pixels.
func checkFormat(setup *xproto.SetupInfo, screen *xproto.ScreenInfo) error {
	bpp := 0
	for _, f := range setup.PixmapFormats {
		if f.Depth == screen.RootDepth {
			bpp = int(f.BitsPerPixel)
		}
	}
	var visual *xproto.VisualInfo
	for _, d := range screen.AllowedDepths {
		for i, v := range d.Visuals {
			if v.VisualId == screen.RootVisual {
				visual = &d.Visuals[i]
			}
		}
	}
	if setup.ImageByteOrder != xproto.ImageOrderLSBFirst || bpp != 32 || visual == nil ||
		visual.RedMask != 0xff0000 || visual.GreenMask != 0xff00 || visual.BlueMask != 0xff {
		return fmt.Errorf("%w: root depth %d with %d bits per pixel; want 24-bit TrueColor in 32-bit pixels",
			ErrUnsupported, screen.RootDepth, bpp)
	}
	return nil
}

// extMu serialises extension set-up; registered records, per extension,
// the first event and error codes already in xgb's global tables.
var (
	extMu      sync.Mutex
	registered = map[string][2]byte{}
)

// initExtension does what the xgb extension packages' Init does, except
// that it writes xgb's global event and error tables only when they
// change. Those maps are read without a lock by every connection's reader
// goroutine, so rewriting them on each reconnect would be a data race.
func initExtension(c *xgb.Conn, name string) error {
	reply, err := xproto.QueryExtension(c, uint16(len(name)), name).Reply()
	if err != nil {
		return fmt.Errorf("query extension %s: %w", name, err)
	}
	if !reply.Present {
		return fmt.Errorf("%w: the X server lacks the %s extension", ErrUnsupported, name)
	}
	c.ExtLock.Lock()
	c.Extensions[name] = reply.MajorOpcode
	c.ExtLock.Unlock()

	extMu.Lock()
	defer extMu.Unlock()
	codes := [2]byte{reply.FirstEvent, reply.FirstError}
	if prev, ok := registered[name]; ok && prev == codes {
		return nil
	}
	for n, fn := range xgb.NewExtEventFuncs[name] {
		xgb.NewEventFuncs[int(reply.FirstEvent)+n] = fn
	}
	for n, fn := range xgb.NewExtErrorFuncs[name] {
		xgb.NewErrorFuncs[int(reply.FirstError)+n] = fn
	}
	registered[name] = codes
	return nil
}

// readEvents turns X events into flags and a signal on changes, until the
// connection closes.
func (xc *xconn) readEvents(changes chan struct{}, logger *slog.Logger) {
	defer close(xc.done)
	for {
		ev, xerr := xc.conn.WaitForEvent()
		switch ev.(type) {
		case nil:
			if xerr == nil {
				xc.lost.Store(true)
				signal(changes)
				return
			}
			// An unchecked request failed; Capture reports the errors of
			// the requests it waits for.
			logger.Debug("capture: X error", "err", xerr)
			continue
		case damage.NotifyEvent:
			xc.damaged.Store(true)
		case xproto.ConfigureNotifyEvent, randr.ScreenChangeNotifyEvent, randr.NotifyEvent:
			xc.reconfigure.Store(true)
		default:
			continue
		}
		signal(changes)
	}
}

// signal wakes a waiter on changes without blocking.
func signal(changes chan struct{}) {
	select {
	case changes <- struct{}{}:
	default:
	}
}

// close frees the connection's server resources and waits for readEvents.
func (xc *xconn) close() {
	if !xc.lost.Load() {
		damage.Destroy(xc.conn, xc.damage)
		xfixes.DestroyRegion(xc.conn, xc.region)
	}
	xc.conn.Close()
	<-xc.done
}

// rootBounds returns the root window's current rectangle.
func (xc *xconn) rootBounds() (image.Rectangle, error) {
	g, err := xproto.GetGeometry(xc.conn, xproto.Drawable(xc.root)).Reply()
	if err != nil {
		return image.Rectangle{}, fmt.Errorf("root geometry: %w", err)
	}
	return image.Rect(0, 0, int(g.Width), int(g.Height)), nil
}

// monitors lists the active RandR monitors: the primary first, then those
// backed by outputs, each group from left to right. Without RandR 1.5 the
// whole screen is one monitor.
func (xc *xconn) monitors(root image.Rectangle) ([]Monitor, error) {
	if !xc.randr {
		return []Monitor{{Name: "screen", Bounds: root, Primary: true}}, nil
	}
	reply, err := randr.GetMonitors(xc.conn, xc.root, true).Reply()
	if err != nil {
		return nil, fmt.Errorf("list monitors: %w", err)
	}
	type monitor struct {
		Monitor
		automatic bool // backed by an output rather than defined by a client
	}
	var found []monitor
	for _, m := range reply.Monitors {
		name, err := xproto.GetAtomName(xc.conn, m.Name).Reply()
		if err != nil {
			return nil, fmt.Errorf("monitor name: %w", err)
		}
		r := image.Rect(int(m.X), int(m.Y), int(m.X)+int(m.Width), int(m.Y)+int(m.Height)).Intersect(root)
		if !r.Empty() {
			found = append(found, monitor{Monitor{Name: name.Name, Bounds: r, Primary: m.Primary}, m.Automatic})
		}
	}
	if len(found) == 0 {
		return []Monitor{{Name: "screen", Bounds: root, Primary: true}}, nil
	}
	// Without a primary, a monitor backed by an output comes first.
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i], found[j]
		switch {
		case a.Primary != b.Primary:
			return a.Primary
		case a.automatic != b.automatic:
			return a.automatic
		case a.Bounds.Min.X != b.Bounds.Min.X:
			return a.Bounds.Min.X < b.Bounds.Min.X
		}
		return a.Bounds.Min.Y < b.Bounds.Min.Y
	})
	ms := make([]Monitor, len(found))
	for i, m := range found {
		ms[i] = m.Monitor
	}
	return ms, nil
}

// takeDamage empties the damage region and returns what it held, clipped
// to bounds and in coordinates relative to bounds.Min.
func (xc *xconn) takeDamage(bounds image.Rectangle, rs []image.Rectangle) ([]image.Rectangle, error) {
	damage.Subtract(xc.conn, xc.damage, xfixes.RegionNone, xc.region)
	reply, err := xfixes.FetchRegion(xc.conn, xc.region).Reply()
	if err != nil {
		return rs, fmt.Errorf("fetch damage: %w", err)
	}
	for _, d := range reply.Rectangles {
		r := image.Rect(int(d.X), int(d.Y), int(d.X)+int(d.Width), int(d.Y)+int(d.Height))
		rs = appendChanged(rs, r.Intersect(bounds).Sub(bounds.Min))
	}
	return rs, nil
}

// discardDamage empties the damage region.
func (xc *xconn) discardDamage() {
	xc.damaged.Store(false)
	damage.Subtract(xc.conn, xc.damage, xfixes.RegionNone, xfixes.RegionNone)
}

// getImage reads rows [y0,y1) of bounds into seg, at their place in a
// frame of bounds' width.
func (xc *xconn) getImage(seg *segment, bounds image.Rectangle, y0, y1 int) error {
	stride := 4 * bounds.Dx()
	_, err := shm.GetImage(xc.conn, xproto.Drawable(xc.root),
		int16(bounds.Min.X), int16(bounds.Min.Y+y0), uint16(bounds.Dx()), uint16(y1-y0),
		0xffffffff, xproto.ImageFormatZPixmap, seg.seg, uint32(y0*stride)).Reply()
	if err != nil {
		return fmt.Errorf("read screen: %w", err)
	}
	return nil
}

// cursor reads the pointer's position (in screen coordinates) and, if its
// serial differs from prev's, its new shape; otherwise it returns prev.
func (xc *xconn) cursor(prev *CursorShape) (image.Point, *CursorShape, error) {
	c, err := xfixes.GetCursorImage(xc.conn).Reply()
	if err != nil {
		return image.Point{}, prev, fmt.Errorf("read cursor: %w", err)
	}
	pos := image.Pt(int(c.X), int(c.Y))
	if prev != nil && prev.Serial == c.CursorSerial {
		return pos, prev, nil
	}
	img := image.NewRGBA(image.Rect(0, 0, int(c.Width), int(c.Height)))
	for i, argb := range c.CursorImage[:min(len(c.CursorImage), int(c.Width)*int(c.Height))] {
		p := img.Pix[4*i : 4*i+4 : 4*i+4]
		p[0], p[1], p[2], p[3] = uint8(argb>>16), uint8(argb>>8), uint8(argb), uint8(argb>>24)
	}
	return pos, &CursorShape{Serial: c.CursorSerial, Hot: image.Pt(int(c.Xhot), int(c.Yhot)), Image: img}, nil
}
