package input

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xproto"

	"github.com/reachdesk/reach/proto"
)

// ErrClipboardTooLarge is returned for clipboard text over proto.MaxClipboard,
// and for selections their owner sends incrementally (INCR), which only
// happens far beyond that size.
var ErrClipboardTooLarge = errors.New("input: clipboard text too large")

// Clipboard reads and writes the X11 CLIPBOARD selection as UTF-8 text,
// speaking the selection protocol itself on a connection of its own, so no
// xclip or xsel is needed. While it owns the selection (after Set) it answers
// other clients' requests for it from its event loop.
type Clipboard struct {
	conn                      *xgb.Conn
	win                       xproto.Window
	clipboard, utf8, targets  xproto.Atom
	prop, text, incr, atomTyp xproto.Atom
	changes                   chan struct{}
	done                      chan struct{}

	mu      sync.Mutex // guards the fields below
	owned   string     // text we own the selection with
	owning  bool
	waiting chan xproto.SelectionNotifyEvent // a Get in progress
	getMu   sync.Mutex                       // one Get at a time
}

// OpenClipboard connects to display (empty means $DISPLAY).
func OpenClipboard(display string) (*Clipboard, error) {
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoDisplay, display, err)
	}
	c := &Clipboard{conn: conn, changes: make(chan struct{}, 1), done: make(chan struct{})}
	if err := c.setup(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("input: clipboard: %w", err)
	}
	go c.loop()
	return c, nil
}

func (c *Clipboard) setup() error {
	screen := xproto.Setup(c.conn).DefaultScreen(c.conn)
	win, err := xproto.NewWindowId(c.conn)
	if err != nil {
		return err
	}
	c.win = win
	if err := xproto.CreateWindowChecked(c.conn, 0, win, screen.Root, -10, -10, 1, 1, 0,
		xproto.WindowClassInputOnly, screen.RootVisual, xproto.CwEventMask,
		[]uint32{xproto.EventMaskPropertyChange}).Check(); err != nil {
		return err
	}
	for name, dst := range map[string]*xproto.Atom{
		"CLIPBOARD": &c.clipboard, "UTF8_STRING": &c.utf8, "TARGETS": &c.targets,
		"REACH_CLIPBOARD": &c.prop, "TEXT": &c.text, "INCR": &c.incr, "ATOM": &c.atomTyp,
	} {
		rep, err := xproto.InternAtom(c.conn, false, uint16(len(name)), name).Reply()
		if err != nil {
			return err
		}
		*dst = rep.Atom
	}
	// XFixes tells us when another client takes the selection; without it
	// Changes never fires and the caller may poll Get.
	if xfixes.Init(c.conn) == nil {
		if _, err := xfixes.QueryVersion(c.conn, 5, 0).Reply(); err == nil {
			// Checked, so that the server has it before Open returns.
			if err := xfixes.SelectSelectionInputChecked(c.conn, win, c.clipboard, xfixes.SelectionEventMaskSetSelectionOwner).Check(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Changes receives a value when another client takes the clipboard, i.e.
// the end user copied something.
func (c *Clipboard) Changes() <-chan struct{} { return c.changes }

func (c *Clipboard) loop() {
	defer close(c.done)
	for {
		ev, err := c.conn.WaitForEvent()
		if ev == nil && err == nil {
			return // connection closed
		}
		switch e := ev.(type) {
		case xproto.SelectionRequestEvent:
			c.serve(e)
		case xproto.SelectionNotifyEvent:
			c.mu.Lock()
			if c.waiting != nil {
				c.waiting <- e
				c.waiting = nil
			}
			c.mu.Unlock()
		case xproto.SelectionClearEvent:
			c.mu.Lock()
			c.owning, c.owned = false, ""
			c.mu.Unlock()
		case xfixes.SelectionNotifyEvent:
			if e.Owner != c.win && e.Owner != 0 {
				select {
				case c.changes <- struct{}{}:
				default:
				}
			}
		}
	}
}

// serve answers another client's request for the text we own.
func (c *Clipboard) serve(e xproto.SelectionRequestEvent) {
	c.mu.Lock()
	text, owning := c.owned, c.owning
	c.mu.Unlock()
	prop := e.Property
	if prop == 0 {
		prop = e.Target // obsolete clients
	}
	switch {
	case !owning || e.Selection != c.clipboard:
		prop = 0
	case e.Target == c.targets:
		data := make([]byte, 0, 16)
		for _, a := range []xproto.Atom{c.targets, c.utf8, xproto.AtomString, c.text} {
			data = append(data, byte(a), byte(a>>8), byte(a>>16), byte(a>>24))
		}
		xproto.ChangeProperty(c.conn, xproto.PropModeReplace, e.Requestor, prop, c.atomTyp, 32, 4, data)
	case e.Target == c.utf8 || e.Target == c.text || e.Target == xproto.AtomString:
		typ := c.utf8
		if e.Target == xproto.AtomString {
			typ = xproto.AtomString
		}
		xproto.ChangeProperty(c.conn, xproto.PropModeReplace, e.Requestor, prop, typ, 8, uint32(len(text)), []byte(text))
	default:
		prop = 0
	}
	ev := xproto.SelectionNotifyEvent{Time: e.Time, Requestor: e.Requestor, Selection: e.Selection, Target: e.Target, Property: prop}
	xproto.SendEvent(c.conn, false, e.Requestor, 0, string(ev.Bytes()))
}

// Set makes text the clipboard's content.
func (c *Clipboard) Set(text string) error {
	if len(text) > proto.MaxClipboard {
		return ErrClipboardTooLarge
	}
	c.mu.Lock()
	c.owned, c.owning = text, true
	c.mu.Unlock()
	if err := xproto.SetSelectionOwnerChecked(c.conn, c.win, c.clipboard, xproto.TimeCurrentTime).Check(); err != nil {
		return fmt.Errorf("input: clipboard: take selection: %w", err)
	}
	rep, err := xproto.GetSelectionOwner(c.conn, c.clipboard).Reply()
	if err != nil {
		return fmt.Errorf("input: clipboard: %w", err)
	}
	if rep.Owner != c.win {
		return errors.New("input: clipboard: another client kept the selection")
	}
	return nil
}

// Get returns the clipboard's text ("" when it is empty or holds no text).
func (c *Clipboard) Get(ctx context.Context) (string, error) {
	c.getMu.Lock()
	defer c.getMu.Unlock()
	rep, err := xproto.GetSelectionOwner(c.conn, c.clipboard).Reply()
	if err != nil {
		return "", fmt.Errorf("input: clipboard: %w", err)
	}
	if rep.Owner == 0 {
		return "", nil
	}
	if rep.Owner == c.win {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.owned, nil
	}
	ch := make(chan xproto.SelectionNotifyEvent, 1)
	c.mu.Lock()
	c.waiting = ch
	c.mu.Unlock()
	xproto.ConvertSelection(c.conn, c.win, c.clipboard, c.utf8, c.prop, xproto.TimeCurrentTime)
	var ev xproto.SelectionNotifyEvent
	select {
	case ev = <-ch:
	case <-ctx.Done():
		c.mu.Lock()
		c.waiting = nil
		c.mu.Unlock()
		return "", fmt.Errorf("input: clipboard: owner did not answer: %w", ctx.Err())
	case <-c.done:
		return "", ErrClosed
	}
	if ev.Property == 0 {
		return "", nil // the owner has no text
	}
	prop, err := xproto.GetProperty(c.conn, true, c.win, c.prop, xproto.GetPropertyTypeAny, 0, (proto.MaxClipboard+3)/4+1).Reply()
	if err != nil {
		return "", fmt.Errorf("input: clipboard: read: %w", err)
	}
	if prop.Type == c.incr || prop.BytesAfter > 0 || len(prop.Value) > proto.MaxClipboard {
		return "", ErrClipboardTooLarge
	}
	text := string(prop.Value)
	if !utf8.ValidString(text) {
		text = string([]rune(latin1(prop.Value)))
	}
	return text, nil
}

func latin1(b []byte) []rune {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return r
}

// Close gives the selection up and closes the connection.
func (c *Clipboard) Close() error {
	c.conn.Close()
	<-c.done
	return nil
}
