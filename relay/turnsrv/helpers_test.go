package turnsrv

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"

	"github.com/pion/turn/v5"
	"go.uber.org/goleak"
)

var testSecret = []byte("test-secret-not-for-production")

// checkLeaks fails t if goroutines started during the test outlive it. Call
// it first, so that it runs after every other cleanup.
func checkLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestLogger returns a logger at level into a buffer that is printed if
// tb fails. Writing to tb directly would panic if pion logs after the test.
func newTestLogger(tb testing.TB, level slog.Level) (*slog.Logger, *syncBuffer) {
	tb.Helper()
	buf := new(syncBuffer)
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("server log:\n%s", buf)
		}
	})
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level})), buf
}

// mustServer starts a Server on n SO_REUSEPORT sockets on 127.0.0.1 and
// returns it with its address; it is closed when tb ends.
func mustServer(tb testing.TB, n int, opts Options) (*Server, string) {
	tb.Helper()
	conns, err := ListenUDPReusePort(context.Background(), "127.0.0.1:0", n)
	if err != nil {
		tb.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger, _ = newTestLogger(tb, slog.LevelDebug)
	}
	s, err := New(testSecret, conns, opts)
	if err != nil {
		for _, c := range conns {
			_ = c.Close()
		}
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s, conns[0].LocalAddr().String()
}

// mustTURNClient returns a listening pion TURN client of server on UDP,
// closed when tb ends.
func mustTURNClient(tb testing.TB, server, username, password string) *turn.Client {
	tb.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return startTURNClient(tb, conn, server, username, password)
}

// startTURNClient starts a pion TURN client of server on conn, closed when
// tb ends.
func startTURNClient(tb testing.TB, conn net.PacketConn, server, username, password string) *turn.Client {
	tb.Helper()
	logger, _ := newTestLogger(tb, slog.LevelInfo)
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: server,
		TURNServerAddr: server,
		Conn:           conn,
		Username:       username,
		Password:       password,
		LoggerFactory:  pionLoggerFactory{log: logger.With("side", "client"), lim: new(logLimiter)},
	})
	if err != nil {
		_ = conn.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		c.Close()
		_ = conn.Close()
	})
	if err := c.Listen(); err != nil {
		tb.Fatal(err)
	}
	return c
}
