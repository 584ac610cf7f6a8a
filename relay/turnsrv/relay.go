package turnsrv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"

	"github.com/pion/turn/v5"
)

// relayAllocator opens the relay sockets of UDP allocations, tells clients
// the relay address peers must use, and counts the bytes relayed. It
// implements turn.RelayAddressGenerator and is immutable once built.
type relayAllocator struct {
	relayIP          netip.Addr // told to clients (XOR-RELAYED-ADDRESS)
	bindIP           netip.Addr // relay sockets bind here; unspecified means every interface
	minPort, maxPort uint16     // inclusive; both 0 means an ephemeral port
	toPeers          *atomic.Uint64
	fromPeers        *atomic.Uint64
}

var _ turn.RelayAddressGenerator = (*relayAllocator)(nil)

// Validate implements turn.RelayAddressGenerator; New validated the fields.
func (*relayAllocator) Validate() error { return nil }

// AllocatePacketConn opens the relay socket of a UDP allocation.
func (r *relayAllocator) AllocatePacketConn(cfg turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if (cfg.Network == "udp6") != r.relayIP.Is6() {
		return nil, nil, fmt.Errorf("%w: %s for relay address %s", errAddressFamily, cfg.Network, r.relayIP)
	}
	conn, err := r.listen(cfg.Network, cfg.RequestedPort)
	if err != nil {
		return nil, nil, err
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	relayAddr := &net.UDPAddr{IP: r.relayIP.AsSlice(), Port: port}
	return &countingConn{PacketConn: conn, written: r.toPeers, read: r.fromPeers}, relayAddr, nil
}

// listen binds a UDP socket for network ("udp4" or "udp6") on the requested
// port, else on a free port of the range, else on an ephemeral port.
func (r *relayAllocator) listen(network string, requested int) (net.PacketConn, error) {
	host := ""
	if !r.bindIP.IsUnspecified() {
		host = r.bindIP.String()
	}
	var lc net.ListenConfig
	bind := func(port int) (net.PacketConn, error) {
		conn, err := lc.ListenPacket(context.Background(), network, net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("turnsrv: open relay socket: %w", err)
		}
		return conn, nil
	}
	if requested != 0 || r.minPort == 0 {
		return bind(requested)
	}
	// Scan the range from a random start so that allocations do not pile up
	// on the low ports, and a nearly full range still finds its free port.
	size := int(r.maxPort) - int(r.minPort) + 1
	start := rand.IntN(size)
	for i := range size {
		conn, err := bind(int(r.minPort) + (start+i)%size)
		if err == nil {
			return conn, nil
		}
	}
	return nil, fmt.Errorf("%w %d-%d", errPortRangeFull, r.minPort, r.maxPort)
}

// AllocateListener refuses RFC 6062 TCP allocations.
func (*relayAllocator) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errTCPRelay
}

// AllocateConn refuses RFC 6062 TCP connections to peers.
func (*relayAllocator) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, errTCPRelay
}

// countingConn counts the payload bytes a relay socket sends to and
// receives from peers.
type countingConn struct {
	net.PacketConn
	written, read *atomic.Uint64
}

func (c *countingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	c.read.Add(uint64(n))
	return n, addr, err
}

func (c *countingConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(p, addr)
	c.written.Add(uint64(n))
	return n, err
}
