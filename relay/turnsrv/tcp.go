package turnsrv

import (
	"net"
	"sync"
)

// tcpListener wraps a TURN-over-TCP listener and keeps the connections it
// accepted: pion's Server.Close closes the listener only, which would leave
// every connected client, and its goroutine, alive.
type tcpListener struct {
	net.Listener

	mu    sync.Mutex
	conns map[*trackedConn]struct{} // open connections; nil once closed. Guarded by mu.
}

func newTCPListener(l net.Listener) *tcpListener {
	return &tcpListener{Listener: l, conns: make(map[*trackedConn]struct{})}
}

// Accept implements net.Listener.
func (l *tcpListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, owner: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns == nil {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	l.conns[tc] = struct{}{}
	return tc, nil
}

// Close closes the listener and every connection it accepted.
func (l *tcpListener) Close() error {
	err := l.Listener.Close()
	l.mu.Lock()
	conns := l.conns
	l.conns = nil
	l.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close()
	}
	return err
}

// trackedConn removes itself from its listener's set when closed.
type trackedConn struct {
	net.Conn
	owner *tcpListener
}

// Close implements net.Conn.
func (c *trackedConn) Close() error {
	c.owner.mu.Lock()
	delete(c.owner.conns, c) // no-op once the listener is closed
	c.owner.mu.Unlock()
	return c.Conn.Close()
}
