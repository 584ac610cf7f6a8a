package uibridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/reachdesk/reach/proto"
)

// Handler shows what the service sends; Client calls it.
type Handler interface {
	// Ask shows a consent question and returns the user's decision. ctx
	// ends when the service withdraws the question (answered in another
	// window, timed out, session ended) or the connection drops; an error
	// sends no answer.
	Ask(ctx context.Context, p *Prompt) (proto.Decision, error)
	// Status shows a session's state.
	Status(st Status)
	// Chat shows a chat line; from is "technician" or "user".
	Chat(sid, from, text string)
	// Attached says whether the service is reachable now.
	Attached(ok bool)
}

// ClientOptions are optional. Zero values take the defaults noted.
type ClientOptions struct {
	// MinBackoff and MaxBackoff bound the wait between connection
	// attempts (full jitter, doubling); zero means 250 ms and 15 s.
	MinBackoff, MaxBackoff time.Duration
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Client is the user process's end of the bridge; create it with
// NewClient and Run it.
type Client struct {
	path string
	h    Handler
	opts ClientOptions
	log  *slog.Logger

	mu      sync.Mutex // guards cur and asks
	cur     *conn
	asks    map[string]context.CancelFunc
	refused string // the service's last error message
}

// NewClient returns a client of the service listening on path.
func NewClient(path string, h Handler, opts ClientOptions) *Client {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 250 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 15 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Client{path: path, h: h, opts: opts, log: opts.Logger, asks: map[string]context.CancelFunc{}}
}

// Run stays attached until ctx ends, reconnecting with backoff when the
// service restarts. It returns ctx's error.
func (c *Client) Run(ctx context.Context) error {
	wait := c.opts.MinBackoff
	for {
		attached, err := c.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if attached {
			wait = c.opts.MinBackoff
		}
		c.log.Debug("uibridge: not attached", "err", err, "retry_in", wait)
		t := time.NewTimer(rand.N(wait) + time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, c.opts.MaxBackoff)
	}
}

// Refused returns why the service last hung up on this client ("" if it
// did not), e.g. because the user is not signed in to the shared display.
func (c *Client) Refused() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refused
}

// session runs one connection; it reports whether the hello succeeded.
func (c *Client) session(ctx context.Context) (bool, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return false, err
	}
	cn := newConn(nc)
	defer cn.close()
	stop := context.AfterFunc(ctx, cn.close)
	defer stop()
	m, err := cn.read(time.Now().Add(helloWait))
	if err != nil {
		return false, err
	}
	if m.Type == TypeError {
		c.setRefused(m.Reason)
		return false, errors.New(m.Reason)
	}
	if m.Type != TypeHello || m.Version != Version {
		return false, fmt.Errorf("uibridge: the service speaks version %d, this program %d: update reach-agent", m.Version, Version)
	}
	cn.send(&Message{Type: TypeHello, Version: Version})
	c.mu.Lock()
	c.cur = cn
	c.refused = ""
	c.mu.Unlock()
	c.h.Attached(true)
	defer func() {
		c.mu.Lock()
		c.cur = nil
		for id, cancel := range c.asks {
			cancel()
			delete(c.asks, id)
		}
		c.mu.Unlock()
		c.h.Attached(false)
	}()
	for {
		m, err := cn.read(time.Time{})
		if err != nil {
			return true, err
		}
		c.receive(ctx, cn, m)
	}
}

func (c *Client) setRefused(reason string) {
	c.mu.Lock()
	c.refused = reason
	c.mu.Unlock()
	c.log.Warn("uibridge: the agent service refused this window", "reason", reason)
}

func (c *Client) receive(ctx context.Context, cn *conn, m *Message) {
	switch m.Type {
	case TypePrompt:
		if m.Prompt == nil || m.ID == "" || len(m.ID) > maxID {
			return
		}
		actx, cancel := context.WithTimeout(ctx, time.Duration(m.Prompt.TimeoutMS)*time.Millisecond)
		c.mu.Lock()
		if old := c.asks[m.ID]; old != nil {
			old()
		}
		c.asks[m.ID] = cancel
		c.mu.Unlock()
		go func() {
			defer cancel()
			d, err := c.h.Ask(actx, m.Prompt)
			c.mu.Lock()
			delete(c.asks, m.ID)
			c.mu.Unlock()
			if err == nil && actx.Err() == nil {
				cn.send(&Message{Type: TypeAnswer, ID: m.ID, Decision: d})
			}
		}()
	case TypeCancel:
		c.mu.Lock()
		if cancel := c.asks[m.ID]; cancel != nil {
			cancel()
			delete(c.asks, m.ID)
		}
		c.mu.Unlock()
	case TypeStatus:
		if m.Status != nil {
			c.h.Status(*m.Status)
		}
	case TypeChat:
		c.h.Chat(m.SID, m.From, m.Text)
	case TypeError:
		c.log.Warn("uibridge: the agent service says", "sid", m.SID, "reason", m.Reason)
	}
}

// ErrNotAttached is returned by the actions while the service is not
// reachable.
var ErrNotAttached = errors.New("uibridge: the Reach agent service is not reachable")

func (c *Client) sendNow(m *Message) error {
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	if cn == nil {
		return ErrNotAttached
	}
	if err := checkFromUI(m); err != nil {
		return err
	}
	cn.send(m)
	return nil
}

// Stop asks the service to end session sid.
func (c *Client) Stop(sid string) error { return c.sendNow(&Message{Type: TypeStop, SID: sid}) }

// Revoke asks the service to take control of session sid back.
func (c *Client) Revoke(sid string) error { return c.sendNow(&Message{Type: TypeRevoke, SID: sid}) }

// SendChat sends the user's chat line in session sid.
func (c *Client) SendChat(sid, text string) error {
	return c.sendNow(&Message{Type: TypeChat, SID: sid, Text: text})
}

// CSAT sends the user's 1–5 rating of session sid.
func (c *Client) CSAT(sid string, score int) error {
	return c.sendNow(&Message{Type: TypeCSAT, SID: sid, Score: score})
}
