package uibridge

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// conn is one end of the protocol: a reader of bounded lines and a
// writer goroutine fed by a queue, so that a stuck peer never blocks the
// side that sends to it.
type conn struct {
	nc   net.Conn
	rd   *bufio.Reader
	out  chan []byte   // lines to write; closed by close
	dead chan struct{} // closed when the connection is finished

	once sync.Once
}

const (
	outQueue     = 64
	writeTimeout = 5 * time.Second
)

func newConn(nc net.Conn) *conn {
	c := &conn{nc: nc, rd: bufio.NewReaderSize(nc, 4096), out: make(chan []byte, outQueue), dead: make(chan struct{})}
	go c.writeLoop()
	return c
}

func (c *conn) writeLoop() {
	for {
		select {
		case b := <-c.out:
			c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := c.nc.Write(b); err != nil {
				c.close()
				return
			}
		case <-c.dead:
			return
		}
	}
}

// send queues m; a peer that does not keep up is hung up on.
func (c *conn) send(m *Message) {
	b, err := json.Marshal(m)
	if err != nil || len(b) >= MaxLine {
		return // our own messages are bounded by proto's limits: a bug
	}
	select {
	case c.out <- append(b, '\n'):
	case <-c.dead:
	default:
		c.close()
	}
}

// sendAndClose writes m directly (best effort) and closes.
func (c *conn) sendAndClose(m *Message) {
	if b, err := json.Marshal(m); err == nil {
		c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		c.nc.Write(append(b, '\n'))
	}
	c.close()
}

// errLineTooLong: the peer sent more than MaxLine without a newline.
var errLineTooLong = errors.New("uibridge: message too long")

// read returns the next message; deadline zero means none.
func (c *conn) read(deadline time.Time) (*Message, error) {
	c.nc.SetReadDeadline(deadline)
	var line []byte
	for {
		chunk, err := c.rd.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxLine {
			return nil, errLineTooLong
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
	var m Message
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadMessage, err)
	}
	return &m, nil
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.dead)
		c.nc.Close()
	})
}
