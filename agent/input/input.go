// Package input injects a technician's pointer, keyboard and clipboard input
// into the end user's X11 session.
//
// Pointer motion, buttons and the wheel go through robotgo. Keys and text go
// through the XTEST extension on a connection of our own (jezek/xgb): robotgo
// types text one XTest call per character with an XSync and a sleep each, which
// took 299 ms for 53 characters under Xvfb, while raw XTest requests on one
// connection typed the same line in 17 ms; and robotgo names keys by
// character, while the technician's browser names physical keys
// (KeyboardEvent.code), which map directly onto X keycodes.
//
// robotgo terminates the process when it cannot reach an X display, so Open
// first connects with xgb and fails with an error when the display is not
// there. robotgo holds a single process-wide X connection: all Injectors of a
// process must use the same display.
//
// Nothing here checks permissions; agent/session decides what to inject.
package input

import (
	"errors"
	"fmt"
	"image"
	"io"
	"log"
	"math"
	"os"
	"sync"
	"unicode/utf8"

	"github.com/go-vgo/robotgo"
	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"

	"github.com/reachdesk/reach/proto"
)

var (
	// ErrNoDisplay is wrapped in the error Open returns when no X display is
	// reachable.
	ErrNoDisplay = errors.New("input: X display unreachable")
	// ErrUnknownKey is returned for a key code or button this package cannot map.
	ErrUnknownKey = errors.New("input: unknown key")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("input: injector closed")
)

func init() {
	// xgb logs "Could not get authority info" and the like on every dial.
	xgb.Logger = log.New(io.Discard, "", 0)
}

// robotMu serialises robotgo calls: Xlib, which robotgo uses without
// XInitThreads, is not safe for concurrent use, and robotgo's display is
// process-wide.
var robotMu sync.Mutex

// robotDisplay is the display robotgo was last pointed at, guarded by
// robotMu. (robotgo.GetXDisplayName crashes before a name was set.)
var robotDisplay string

// WheelStep is how many pixels of a browser wheel event make one wheel
// click (X buttons 4–7): Chromium reports 100 px per notch.
const WheelStep = 100

// Injector injects input into one X display. Its methods are safe for
// concurrent use.
type Injector struct {
	display string

	mu      sync.Mutex // guards the fields below
	conn    *xgb.Conn
	root    xproto.Window
	minKC   xproto.Keycode
	keysyms [][]xproto.Keysym // per keycode from minKC
	scratch xproto.Keycode    // a keycode with no symbols, remapped to type any character
	held    map[xproto.Keycode]bool
	buttons map[string]bool
	wheelX  float64 // accumulated sub-click wheel deltas
	wheelY  float64
	closed  bool
}

// Open connects to display (empty means $DISPLAY). It fails with an error
// wrapping ErrNoDisplay when the display is unreachable, before robotgo gets
// a chance to crash the process.
func Open(display string) (*Injector, error) {
	if display == "" {
		display = os.Getenv("DISPLAY")
	}
	if display == "" {
		return nil, fmt.Errorf("%w: DISPLAY is not set", ErrNoDisplay)
	}
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoDisplay, display, err)
	}
	if err := xtest.Init(conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("input: display %s lacks the XTEST extension: %w", display, err)
	}
	in := &Injector{
		display: display, conn: conn, root: xproto.Setup(conn).DefaultScreen(conn).Root,
		held: map[xproto.Keycode]bool{}, buttons: map[string]bool{},
	}
	if err := in.loadKeymap(); err != nil {
		conn.Close()
		return nil, err
	}
	robotMu.Lock()
	if robotDisplay != display {
		robotgo.SetXDisplayName(display)
		robotDisplay = display
	}
	robotMu.Unlock()
	return in, nil
}

func (in *Injector) loadKeymap() error {
	setup := xproto.Setup(in.conn)
	in.minKC = setup.MinKeycode
	n := byte(setup.MaxKeycode - setup.MinKeycode + 1)
	rep, err := xproto.GetKeyboardMapping(in.conn, setup.MinKeycode, n).Reply()
	if err != nil {
		return fmt.Errorf("input: read keyboard mapping: %w", err)
	}
	per := int(rep.KeysymsPerKeycode)
	in.keysyms = make([][]xproto.Keysym, n)
	in.scratch = 0
	for i := range int(n) {
		syms := rep.Keysyms[i*per : (i+1)*per]
		in.keysyms[i] = syms
		empty := true
		for _, s := range syms {
			if s != 0 {
				empty = false
			}
		}
		if empty && in.scratch == 0 && i > 8 {
			in.scratch = in.minKC + xproto.Keycode(i)
		}
	}
	return nil
}

// Display returns the display the injector works on.
func (in *Injector) Display() string { return in.display }

// Move moves the pointer to p, in screen coordinates.
func (in *Injector) Move(p image.Point) error {
	if err := in.check(); err != nil {
		return err
	}
	robotMu.Lock()
	robotgo.Move(p.X, p.Y)
	robotMu.Unlock()
	return nil
}

// Location returns the pointer's position in screen coordinates.
func (in *Injector) Location() (image.Point, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return image.Point{}, ErrClosed
	}
	rep, err := xproto.QueryPointer(in.conn, in.root).Reply()
	if err != nil {
		return image.Point{}, fmt.Errorf("input: query pointer: %w", err)
	}
	return image.Pt(int(rep.RootX), int(rep.RootY)), nil
}

// Button presses or releases a mouse button: left, middle, right, back or forward.
func (in *Injector) Button(name string, down bool) error {
	if err := in.check(); err != nil {
		return err
	}
	var rb string
	var xb byte
	switch name {
	case "left", "right":
		rb = name
	case "middle":
		rb = "center"
	case "back":
		xb = 8
	case "forward":
		xb = 9
	default:
		return fmt.Errorf("%w: button %q", ErrUnknownKey, name)
	}
	in.mu.Lock()
	in.buttons[name] = down
	if !down {
		delete(in.buttons, name)
	}
	in.mu.Unlock()
	if xb != 0 {
		// robotgo knows no side buttons.
		return in.fakeButton(xb, down)
	}
	dir := "down"
	if !down {
		dir = "up"
	}
	robotMu.Lock()
	err := robotgo.Toggle(rb, dir)
	robotMu.Unlock()
	return err
}

func (in *Injector) fakeButton(b byte, down bool) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	typ := byte(xproto.ButtonRelease)
	if down {
		typ = xproto.ButtonPress
	}
	return xtest.FakeInputChecked(in.conn, typ, b, 0, in.root, 0, 0, 0).Check()
}

// Wheel scrolls by dx, dy pixels (positive: right, down), in whole clicks of
// WheelStep pixels; remainders carry over to the next call.
func (in *Injector) Wheel(dx, dy float64) error {
	if err := in.check(); err != nil {
		return err
	}
	in.mu.Lock()
	in.wheelX += dx
	in.wheelY += dy
	cx := math.Trunc(in.wheelX / WheelStep)
	cy := math.Trunc(in.wheelY / WheelStep)
	in.wheelX -= cx * WheelStep
	in.wheelY -= cy * WheelStep
	in.mu.Unlock()
	if cx == 0 && cy == 0 {
		return nil
	}
	// robotgo: positive y scrolls up, positive x scrolls left.
	robotMu.Lock()
	robotgo.Scroll(-int(cx), -int(cy), 0)
	robotMu.Unlock()
	return nil
}

// Key presses or releases the physical key code (KeyboardEvent.code). Before a
// press, modifiers set in mods that are not held are pressed; they are
// released again with the key.
func (in *Injector) Key(code string, down bool, mods proto.Modifiers) error {
	kc, ok := keycode(code)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownKey, code)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return ErrClosed
	}
	key := xproto.Keycode(kc)
	if isModifier(code) {
		return in.keyLocked(key, down)
	}
	var extra []xproto.Keycode
	if down {
		for _, m := range []struct {
			on   bool
			code []string
		}{
			{mods.Ctrl, []string{"ControlLeft", "ControlRight"}},
			{mods.Shift, []string{"ShiftLeft", "ShiftRight"}},
			{mods.Alt, []string{"AltLeft", "AltRight"}},
			{mods.Meta, []string{"MetaLeft", "MetaRight"}},
		} {
			if !m.on || in.heldAny(m.code) {
				continue
			}
			mk, _ := keycode(m.code[0])
			extra = append(extra, xproto.Keycode(mk))
		}
	}
	for _, k := range extra {
		if err := in.keyLocked(k, true); err != nil {
			return err
		}
	}
	err := in.keyLocked(key, down)
	for i := len(extra) - 1; i >= 0; i-- {
		if rerr := in.keyLocked(extra[i], false); err == nil {
			err = rerr
		}
	}
	return err
}

func (in *Injector) heldAny(codes []string) bool {
	for _, c := range codes {
		if k, ok := keycode(c); ok && in.held[xproto.Keycode(k)] {
			return true
		}
	}
	return false
}

func (in *Injector) keyLocked(k xproto.Keycode, down bool) error {
	typ := byte(xproto.KeyRelease)
	if down {
		typ = xproto.KeyPress
		in.held[k] = true
	} else {
		delete(in.held, k)
	}
	return xtest.FakeInputChecked(in.conn, typ, byte(k), 0, in.root, 0, 0, 0).Check()
}

// Combo presses codes in order, then releases them in reverse order.
func (in *Injector) Combo(codes []string) error {
	kcs := make([]xproto.Keycode, 0, len(codes))
	for _, c := range codes {
		k, ok := keycode(c)
		if !ok {
			return fmt.Errorf("%w: %q", ErrUnknownKey, c)
		}
		kcs = append(kcs, xproto.Keycode(k))
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return ErrClosed
	}
	var err error
	for _, k := range kcs {
		if e := in.keyLocked(k, true); err == nil {
			err = e
		}
	}
	for i := len(kcs) - 1; i >= 0; i-- {
		if e := in.keyLocked(kcs[i], false); err == nil {
			err = e
		}
	}
	return err
}

// Text types s. Characters the keyboard map has are typed with their key
// (and Shift where needed); others are typed through a spare keycode that is
// remapped to the character for the moment, as xdotool does.
func (in *Injector) Text(s string) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return ErrClosed
	}
	shift, _ := keycode(codeShift)
	for _, r := range s {
		if r == utf8.RuneError {
			continue
		}
		sym := keysymOf(r)
		if sym == 0 {
			continue
		}
		k, level, ok := in.lookup(sym)
		if !ok {
			if in.scratch == 0 {
				continue
			}
			syms := []xproto.Keysym{sym, sym}
			if err := xproto.ChangeKeyboardMappingChecked(in.conn, 1, in.scratch, 2, syms).Check(); err != nil {
				return fmt.Errorf("input: remap keycode: %w", err)
			}
			k, level = in.scratch, 0
		}
		useShift := level == 1 && !in.held[xproto.Keycode(shift)]
		var err error
		if useShift {
			err = in.fake(xproto.KeyPress, byte(shift))
		}
		if err == nil {
			err = in.fake(xproto.KeyPress, byte(k))
		}
		if err == nil {
			err = in.fake(xproto.KeyRelease, byte(k))
		}
		if useShift {
			if e := in.fake(xproto.KeyRelease, byte(shift)); err == nil {
				err = e
			}
		}
		if err != nil {
			return fmt.Errorf("input: type: %w", err)
		}
		if !ok {
			// The server must have processed the key before the next remap.
			if _, err := xproto.GetInputFocus(in.conn).Reply(); err != nil {
				return fmt.Errorf("input: type: %w", err)
			}
		}
	}
	// One round trip for the whole string: errors surface here.
	if _, err := xproto.GetInputFocus(in.conn).Reply(); err != nil {
		return fmt.Errorf("input: type: %w", err)
	}
	return nil
}

func (in *Injector) fake(typ byte, detail byte) error {
	xtest.FakeInput(in.conn, typ, detail, 0, in.root, 0, 0, 0)
	return nil
}

// lookup finds the keycode and shift level (0 or 1) that produce sym.
func (in *Injector) lookup(sym xproto.Keysym) (xproto.Keycode, int, bool) {
	for level := range 2 {
		for i, syms := range in.keysyms {
			if len(syms) > level && syms[level] == sym {
				return in.minKC + xproto.Keycode(i), level, true
			}
		}
	}
	return 0, 0, false
}

// keysymOf returns the X keysym of a character.
func keysymOf(r rune) xproto.Keysym {
	switch r {
	case '\n', '\r':
		return 0xff0d // Return
	case '\t':
		return 0xff09 // Tab
	case '\b':
		return 0xff08 // BackSpace
	}
	switch {
	case r < 0x20 || r == 0x7f:
		return 0
	case r < 0x100:
		return xproto.Keysym(r) // Latin-1 keysyms equal their code points
	default:
		return xproto.Keysym(0x01000000 | r)
	}
}

// ReleaseAll releases every key and button the injector holds down, so that
// nothing stays stuck when control is revoked or the session ends.
func (in *Injector) ReleaseAll() {
	in.mu.Lock()
	for k := range in.held {
		in.keyLocked(k, false)
	}
	buttons := in.buttons
	in.buttons = map[string]bool{}
	closed := in.closed
	in.mu.Unlock()
	if closed {
		return
	}
	for b := range buttons {
		in.Button(b, false)
	}
}

func (in *Injector) check() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return ErrClosed
	}
	return nil
}

// Close releases held keys and buttons and closes the connections. It must
// be called while the X server still runs: robotgo's Xlib connection exits
// the process when closed on a dead server.
func (in *Injector) Close() error {
	in.ReleaseAll()
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return nil
	}
	in.closed = true
	robotMu.Lock()
	robotgo.CloseMainDisplay()
	robotMu.Unlock()
	in.conn.Close()
	return nil
}
