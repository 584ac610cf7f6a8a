package turnsrv

import (
	"context"
	"fmt"
	"net"
)

// ListenUDPReusePort opens n UDP sockets bound to the same addr with
// SO_REUSEPORT, for New: the kernel spreads clients over them by address
// hash, and the server reads each on its own goroutine, so n up to the
// number of cores scales a busy server. If addr has port 0, all sockets
// share the port the first one got. Where SO_REUSEPORT is not supported
// (anything but Linux) it opens a single socket whatever n is.
func ListenUDPReusePort(ctx context.Context, addr string, n int) ([]net.PacketConn, error) {
	if n < 1 {
		return nil, fmt.Errorf("turnsrv: listen %s: %d sockets requested", addr, n)
	}
	if reusePortControl == nil {
		n = 1
	}
	lc := net.ListenConfig{Control: reusePortControl}
	conns := make([]net.PacketConn, 0, n)
	for range n {
		c, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			for _, c := range conns {
				_ = c.Close()
			}
			return nil, fmt.Errorf("turnsrv: listen %s: %w", addr, err)
		}
		conns = append(conns, c)
		addr = c.LocalAddr().String() // the rest join the port the first got
	}
	return conns, nil
}
