package turnsrv

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mustPeer returns a plain UDP socket on loopback, closed when t ends.
func mustPeer(t *testing.T) net.PacketConn {
	t.Helper()
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	return peer
}

// readWithin reads one datagram from c, failing t after d.
func readWithin(t *testing.T, c net.PacketConn, d time.Duration) (string, net.Addr) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(d)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, from, err := c.ReadFrom(buf)
	if err != nil {
		t.Fatalf("read on %s: %v", c.LocalAddr(), err)
	}
	return string(buf[:n]), from
}

func TestAllocateAndRelay(t *testing.T) {
	checkLeaks(t)
	s, addr := mustServer(t, 2, Options{AllowLoopback: true})
	user, pass := Credentials(testSecret, "sess-1", time.Minute, time.Now())
	client := mustTURNClient(t, addr, user, pass)

	relay, err := client.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	if ip := relay.LocalAddr().(*net.UDPAddr).IP; !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("relay address %s, want 127.0.0.1 (the listening IP)", relay.LocalAddr())
	}
	if st := s.Stats(); st.AllocationsActive != 1 || st.AllocationsTotal != 1 {
		t.Errorf("after Allocate: %+v, want 1 active, 1 total", st)
	}

	peer := mustPeer(t)
	if _, err := relay.WriteTo([]byte("to peer"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	msg, from := readWithin(t, peer, 5*time.Second)
	if msg != "to peer" || from.String() != relay.LocalAddr().String() {
		t.Errorf("peer got %q from %s, want %q from the relay address %s", msg, from, "to peer", relay.LocalAddr())
	}
	if _, err := peer.WriteTo([]byte("to client"), relay.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if msg, _ := readWithin(t, relay, 5*time.Second); msg != "to client" {
		t.Errorf("client got %q, want %q", msg, "to client")
	}
	// The server counts a datagram after the kernel took it: the peer may
	// see it first.
	waitFor(t, time.Second, "bytes to/from peers to be counted", func() bool {
		st := s.Stats()
		return st.BytesToPeers == uint64(len("to peer")) && st.BytesFromPeers == uint64(len("to client"))
	})
	if st := s.Stats(); st.AuthFailures != 0 || st.PermissionsRefused != 0 {
		t.Errorf("failures counted on a good session: %+v", st)
	}

	if err := relay.Close(); err != nil { // sends a Refresh with lifetime 0
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the allocation to be deleted", func() bool { return s.Stats().AllocationsActive == 0 })
}

func TestAllocateRefusesBadCredentials(t *testing.T) {
	checkLeaks(t)
	now := time.Unix(1_700_000_000, 0)
	logger, logs := newTestLogger(t, levelTrace)
	s, addr := mustServer(t, 1, Options{Now: func() time.Time { return now }, Logger: logger})

	valid, validPass := Credentials(testSecret, "sess-1", time.Minute, now)
	expired, expiredPass := Credentials(testSecret, "sess-1", time.Minute, now.Add(-time.Hour))
	tests := []struct {
		name, user, pass string
	}{
		{"wrong password", valid, "bm90IHRoZSBwYXNzd29yZA=="},
		{"other secret", valid, restPassword([]byte("another secret"), valid)},
		{"expired", expired, expiredPass},
		{"malformed username", "sess-1", restPassword(testSecret, "sess-1")},
		// The expired credentials with their expiry pushed into the future.
		{"forged expiry", strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + ":sess-1", expiredPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Stats().AuthFailures
			client := mustTURNClient(t, addr, tt.user, tt.pass)
			relay, err := client.Allocate()
			if err == nil {
				_ = relay.Close()
				t.Fatal("Allocate succeeded")
			}
			var turnErr *stun.TurnError
			if !errors.As(err, &turnErr) || turnErr.ErrorCodeAttr.Code != stun.CodeUnauthorized {
				t.Errorf("Allocate error = %v, want 401 Unauthorized", err)
			}
			if got := s.Stats().AuthFailures - before; got != 1 {
				t.Errorf("AuthFailures grew by %d, want 1", got)
			}
		})
	}
	if st := s.Stats(); st.AllocationsTotal != 0 {
		t.Errorf("bad credentials made %d allocations", st.AllocationsTotal)
	}

	// The valid credentials work on the same server, and secrets stay out
	// of the log even at trace level.
	client := mustTURNClient(t, addr, valid, validPass)
	relay, err := client.Allocate()
	if err != nil {
		t.Fatalf("Allocate with valid credentials: %v", err)
	}
	_ = relay.Close()
	out := logs.String()
	for _, secret := range []string{string(testSecret), validPass, expiredPass} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains secret %q", secret)
		}
	}
	if !strings.Contains(out, "turn request refused") {
		t.Errorf("refusals not logged:\n%s", out)
	}
}

func TestPermissionPolicy(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		permit bool
	}{
		{"default refuses loopback", Options{}, false},
		{"AllowPrivate does not open loopback", Options{AllowPrivate: true}, false},
		{"AllowPeers outside the peer", Options{AllowPeers: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}}, false},
		{"AllowLoopback", Options{AllowLoopback: true}, true},
		{"AllowPeers", Options{AllowPeers: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			s, addr := mustServer(t, 1, tt.opts)
			user, pass := Credentials(testSecret, "sess-1", time.Minute, time.Now())
			relay, err := mustTURNClient(t, addr, user, pass).Allocate()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = relay.Close() })
			peer := mustPeer(t)

			// WriteTo creates the permission first and fails if it is refused.
			_, err = relay.WriteTo([]byte("hello"), peer.LocalAddr())
			if tt.permit {
				if err != nil {
					t.Fatalf("WriteTo permitted peer: %v", err)
				}
				if msg, _ := readWithin(t, peer, 5*time.Second); msg != "hello" {
					t.Errorf("peer got %q", msg)
				}
				if n := s.Stats().PermissionsRefused; n != 0 {
					t.Errorf("PermissionsRefused = %d, want 0", n)
				}
				return
			}
			var turnErr *stun.TurnError
			if !errors.As(err, &turnErr) || turnErr.ErrorCodeAttr.Code != stun.CodeForbidden {
				t.Fatalf("WriteTo refused peer: error %v, want 403 Forbidden", err)
			}
			if n := s.Stats().PermissionsRefused; n != 1 {
				t.Errorf("PermissionsRefused = %d, want 1", n)
			}
			// Nothing reaches the peer, even by Send indication.
			_ = peer.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if n, _, err := peer.ReadFrom(make([]byte, 100)); err == nil {
				t.Errorf("refused peer received %d bytes", n)
			}
		})
	}
}

func TestRelayAddressOptions(t *testing.T) {
	checkLeaks(t)
	// A free port for a one-port range.
	probe, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(probe.LocalAddr().(*net.UDPAddr).Port)
	_ = probe.Close()

	advertised := netip.MustParseAddr("192.0.2.7")
	_, addr := mustServer(t, 1, Options{RelayIP: advertised, RelayPortMin: port, RelayPortMax: port})
	user, pass := Credentials(testSecret, "sess-1", time.Minute, time.Now())
	relay, err := mustTURNClient(t, addr, user, pass).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	want := netip.AddrPortFrom(advertised, port).String()
	if got := relay.LocalAddr().String(); got != want {
		t.Errorf("relay address = %s, want %s", got, want)
	}
	if _, err := mustTURNClient(t, addr, user, pass).Allocate(); err == nil {
		t.Error("second allocation succeeded in a full one-port range")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	udp := func(t *testing.T, addr string) []net.PacketConn {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return []net.PacketConn{c}
	}
	tests := []struct {
		name   string
		secret []byte
		addr   string // "" means no sockets
		opts   Options
		want   string
	}{
		{"empty secret", nil, "127.0.0.1:0", Options{}, "empty secret"},
		{"no sockets", testSecret, "", Options{}, "no sockets"},
		{"unspecified address without RelayIP", testSecret, "0.0.0.0:0", Options{}, "set Options.RelayIP"},
		{"half a port range", testSecret, "127.0.0.1:0", Options{RelayPortMin: 50000}, "port range"},
		{"inverted port range", testSecret, "127.0.0.1:0", Options{RelayPortMin: 50001, RelayPortMax: 50000}, "port range"},
		{"family mismatch", testSecret, "127.0.0.1:0", Options{RelayIP: netip.MustParseAddr("2001:db8::1")}, "family"},
		{"invalid prefix", testSecret, "127.0.0.1:0", Options{AllowPeers: []netip.Prefix{{}}}, "AllowPeers[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var conns []net.PacketConn
			if tt.addr != "" {
				conns = udp(t, tt.addr)
			}
			s, err := New(tt.secret, conns, tt.opts)
			if err == nil {
				_ = s.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error %q does not mention %q", err, tt.want)
			}
		})
	}
	t.Run("unspecified address with RelayIP", func(t *testing.T) {
		checkLeaks(t)
		s, err := New(testSecret, udp(t, "0.0.0.0:0"), Options{RelayIP: netip.MustParseAddr("192.0.2.7"), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTURNOverTCP(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logger, _ := newTestLogger(t, slog.LevelDebug)
	s, err := New(testSecret, nil, Options{Listeners: []net.Listener{ln}, AllowLoopback: true, Logger: logger})
	if err != nil {
		_ = ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	tcp, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	user, pass := Credentials(testSecret, "sess-1", time.Minute, time.Now())
	relay, err := startTURNClient(t, turn.NewSTUNConn(tcp), ln.Addr().String(), user, pass).Allocate()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	if ip := relay.LocalAddr().(*net.UDPAddr).IP; !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("relay address %s, want 127.0.0.1", relay.LocalAddr())
	}
	peer := mustPeer(t)
	if _, err := relay.WriteTo([]byte("over tcp"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if msg, _ := readWithin(t, peer, 5*time.Second); msg != "over tcp" {
		t.Errorf("peer got %q", msg)
	}

	// Close ends connected TCP clients too (pion alone leaves them open).
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Responses still in flight may be read first; then the stream must end.
	_ = tcp.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	for {
		_, err := tcp.Read(buf)
		if err == nil {
			continue
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("client read after server Close: %v, want EOF", err)
		}
		break
	}
}

func TestListenUDPReusePort(t *testing.T) {
	checkLeaks(t)
	if _, err := ListenUDPReusePort(context.Background(), "127.0.0.1:0", 0); err == nil {
		t.Error("n=0 accepted")
	}
	conns, err := ListenUDPReusePort(context.Background(), "127.0.0.1:0", 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	if len(conns) != 3 {
		t.Fatalf("got %d sockets, want 3", len(conns))
	}
	for _, c := range conns[1:] {
		if c.LocalAddr().String() != conns[0].LocalAddr().String() {
			t.Fatalf("sockets on %s and %s, want one address", conns[0].LocalAddr(), c.LocalAddr())
		}
	}

	// The kernel spreads senders over the sockets, each datagram to one.
	const senders = 30
	got := make(chan int, senders*2)
	for i, c := range conns {
		go func() {
			buf := make([]byte, 16)
			for {
				if _, _, err := c.ReadFrom(buf); err != nil {
					return
				}
				got <- i
			}
		}()
	}
	for range senders {
		s, err := net.Dial("udp4", conns[0].LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Write([]byte("x"))
		_ = s.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	perSocket := make(map[int]int)
	for range senders {
		select {
		case i := <-got:
			perSocket[i]++
		case <-time.After(5 * time.Second):
			t.Fatalf("received %v, want %d datagrams", perSocket, senders)
		}
	}
	if len(perSocket) < 2 {
		t.Errorf("all datagrams went to one socket: %v", perSocket)
	}
	select {
	case i := <-got:
		t.Errorf("extra datagram on socket %d", i)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestLogLimiter(t *testing.T) {
	var l logLimiter
	t0 := time.Unix(1_700_000_000, 0)
	for i := range logBurst {
		if ok, _ := l.allow(t0); !ok {
			t.Fatalf("record %d of the burst dropped", i)
		}
	}
	for range 5 {
		if ok, _ := l.allow(t0.Add(logInterval / 2)); ok {
			t.Fatal("record past the burst let through")
		}
	}
	ok, dropped := l.allow(t0.Add(logInterval))
	if !ok || dropped != 5 {
		t.Errorf("next window: ok=%v dropped=%d, want true, 5", ok, dropped)
	}
	if _, dropped := l.allow(t0.Add(2 * logInterval)); dropped != 0 {
		t.Errorf("dropped reported twice: %d", dropped)
	}
}
