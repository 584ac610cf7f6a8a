// Package relayclient connects agents, technicians' tools and tests to a
// Reach relay: it says hello, keeps the heartbeat, matches replies to
// requests, and (with [Run]) reconnects with jittered exponential backoff,
// resuming the sessions the caller names.
//
// It depends only on proto and the WebSocket library, so the agent can link
// it without pulling in any of the relay.
package relayclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/reachdesk/reach/proto"
)

// ErrClosed is returned by operations on a closed Conn.
var ErrClosed = errors.New("relayclient: connection closed")

// DialOptions configure one connection. Zero values take the defaults noted.
type DialOptions struct {
	// HTTPClient performs the upgrade request; nil means a client whose
	// connections fail when the relay stops acknowledging (see DeadPeerTimeout).
	HTTPClient *http.Client
	// Client describes the software in hello, for the relay's logs.
	Client string
	// Resume lists sessions to pick up on this connection.
	Resume []proto.Resume
	// Inbox is how many unsolicited messages are buffered before the reader
	// waits for Recv; zero means 64.
	Inbox int
	// Logger receives connection logs; nil means slog.Default().
	Logger *slog.Logger
}

// DeadPeerTimeout is how long data sent to the relay may stay unacknowledged
// before the default client gives the connection up (TCP_USER_TIMEOUT on
// Linux). Heartbeats keep data flowing, so a dead relay is noticed within
// this time although the relay does not answer heartbeats.
const DeadPeerTimeout = 60 * time.Second

var defaultHTTPClient = &http.Client{Transport: &http.Transport{
	Proxy: http.ProxyFromEnvironment,
	DialContext: (&net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 15 * time.Second,
		Control: func(_, _ string, c syscall.RawConn) error {
			return setUserTimeout(c, int(DeadPeerTimeout/time.Millisecond))
		},
	}).DialContext,
	TLSHandshakeTimeout: 15 * time.Second,
	ForceAttemptHTTP2:   false,
}}

// Conn is one authenticated connection to the relay.
type Conn struct {
	ws        *websocket.Conn
	welcome   proto.Welcome
	log       *slog.Logger
	inbox     chan *proto.Message
	done      chan struct{} // closed when the reader ends
	nextID    atomic.Uint64
	closeOnce sync.Once
	err       error // why the reader ended; set before done is closed

	mu      sync.Mutex
	pending map[string]chan *proto.Message // request id → reply; guarded by mu
}

// Dial connects to url (ws:// or wss://, ending in /v1/agent or
// /v1/technician), authenticates with token and starts the heartbeat. A
// refusal by the relay is returned as a *proto.Error (for example
// CodeUnauthorized or CodeUpgradeRequired).
func Dial(ctx context.Context, url, token string, opts DialOptions) (*Conn, error) {
	if opts.Inbox <= 0 {
		opts.Inbox = 64
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = defaultHTTPClient
	}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:   opts.HTTPClient,
		Subprotocols: []string{proto.Subprotocol},
	})
	if err != nil {
		return nil, fmt.Errorf("relayclient: dial: %w", err)
	}
	ws.SetReadLimit(proto.MaxMessageSize)
	hello, err := proto.Encode("hello", "", &proto.Hello{
		Version: proto.Version, Capability: proto.Capability, Token: token,
		Client: opts.Client, Resume: opts.Resume,
	})
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("relayclient: send hello: %w", err)
	}
	_, data, err := ws.Read(ctx)
	if err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("relayclient: read welcome: %w", err)
	}
	m, err := proto.Decode(data)
	if err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("relayclient: read welcome: %w", err)
	}
	switch b := m.Body.(type) {
	case *proto.Welcome:
		c := &Conn{
			ws: ws, welcome: *b, log: opts.Logger,
			inbox: make(chan *proto.Message, opts.Inbox), done: make(chan struct{}),
			pending: make(map[string]chan *proto.Message),
		}
		go c.read()
		go c.heartbeat(time.Duration(b.Heartbeat) * time.Second)
		return c, nil
	case *proto.ErrorBody:
		ws.CloseNow()
		return nil, b.Err()
	default:
		ws.CloseNow()
		return nil, fmt.Errorf("relayclient: expected welcome, got %s", m.Type)
	}
}

// Welcome returns what the relay said when it accepted the connection.
func (c *Conn) Welcome() proto.Welcome { return c.welcome }

// Done is closed when the connection has ended; Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended, or nil while it is open.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Send sends body in session sid (empty for none) and returns the message id.
func (c *Conn) Send(ctx context.Context, sid string, body proto.Body) (string, error) {
	id := strconv.FormatUint(c.nextID.Add(1), 10)
	return id, c.send(ctx, id, sid, body)
}

func (c *Conn) send(ctx context.Context, id, sid string, body proto.Body) error {
	data, err := proto.Encode(id, sid, body)
	if err != nil {
		return err
	}
	return c.SendRaw(ctx, data)
}

// SendRaw sends an already encoded message.
func (c *Conn) SendRaw(ctx context.Context, data []byte) error {
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		if c.Err() != nil {
			return ErrClosed
		}
		return fmt.Errorf("relayclient: send: %w", err)
	}
	return nil
}

// Request sends body and waits for the relay's reply to it. An error reply
// is returned as a *proto.Error.
func (c *Conn) Request(ctx context.Context, sid string, body proto.Body) (*proto.Message, error) {
	id := strconv.FormatUint(c.nextID.Add(1), 10)
	reply := make(chan *proto.Message, 1)
	c.mu.Lock()
	c.pending[id] = reply
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	if err := c.send(ctx, id, sid, body); err != nil {
		return nil, err
	}
	select {
	case m := <-reply:
		if e, ok := m.Body.(*proto.ErrorBody); ok {
			return nil, e.Err()
		}
		return m, nil
	case <-c.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Recv returns the next message that is not a reply to a Request.
func (c *Conn) Recv(ctx context.Context) (*proto.Message, error) {
	select {
	case m := <-c.inbox:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		// Drain what arrived before the end.
		select {
		case m := <-c.inbox:
			return m, nil
		default:
			return nil, ErrClosed
		}
	}
}

// Close ends the connection normally.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { c.ws.Close(websocket.StatusNormalClosure, "") })
	<-c.done
	return nil
}

func (c *Conn) read() {
	defer close(c.done)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		m, err := proto.Decode(data)
		if err != nil {
			c.log.Warn("relayclient: dropped malformed message", "err", err)
			continue
		}
		if m.ID != "" {
			c.mu.Lock()
			reply := c.pending[m.ID]
			c.mu.Unlock()
			if reply != nil {
				reply <- m
				continue
			}
		}
		if _, ok := m.Body.(*proto.Pong); ok {
			continue // answer to a heartbeat
		}
		select {
		case c.inbox <- m:
		case <-time.After(30 * time.Second):
			c.err = errors.New("relayclient: inbox full for 30s; nobody reads")
			c.ws.CloseNow()
			return
		}
	}
}

func (c *Conn) heartbeat(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			_ = c.send(ctx, "", "", &proto.Ping{T: now.UnixMilli()})
			cancel()
		}
	}
}
