package diag

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// errNoICMP: neither an unprivileged ICMP socket (Linux ping_group_range,
// macOS) nor a raw one (root) could be opened.
var errNoICMP = errors.New("cannot open an ICMP socket (needs root or net.ipv4.ping_group_range)")

// ping sends one ICMP echo request to a and waits for the reply.
func ping(ctx context.Context, a netip.Addr) (time.Duration, error) {
	proto, echo, reply := 1, icmp.Type(ipv4.ICMPTypeEcho), icmp.Type(ipv4.ICMPTypeEchoReply)
	networks := []string{"udp4", "ip4:icmp"}
	if a.Is6() {
		proto, echo, reply = 58, ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
		networks = []string{"udp6", "ip6:ipv6-icmp"}
	}
	var conn *icmp.PacketConn
	var network string
	for _, network = range networks {
		c, err := icmp.ListenPacket(network, "")
		if err == nil {
			conn = c
			break
		}
	}
	if conn == nil {
		return 0, errNoICMP
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	id := os.Getpid() & 0xffff
	msg := icmp.Message{Type: echo, Body: &icmp.Echo{ID: id, Seq: 1, Data: []byte("reach-diagnostics")}}
	b, err := msg.Marshal(nil)
	if err != nil {
		return 0, err
	}
	var dst net.Addr = &net.IPAddr{IP: a.AsSlice(), Zone: a.Zone()}
	if network == "udp4" || network == "udp6" {
		dst = &net.UDPAddr{IP: a.AsSlice(), Zone: a.Zone()}
	}
	start := time.Now()
	if _, err := conn.WriteTo(b, dst); err != nil {
		return 0, fmt.Errorf("send echo request: %w", err)
	}
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return 0, fmt.Errorf("no echo reply: %w", err)
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != reply || !sameHost(from, a) {
			continue
		}
		// Unprivileged sockets rewrite the ID; raw ones see every reply.
		if e, ok := m.Body.(*icmp.Echo); ok && (e.ID == id || network[:3] == "udp") {
			return time.Since(start), nil
		}
	}
}

func sameHost(from net.Addr, a netip.Addr) bool {
	var ip net.IP
	switch f := from.(type) {
	case *net.IPAddr:
		ip = f.IP
	case *net.UDPAddr:
		ip = f.IP
	}
	got, ok := netip.AddrFromSlice(ip)
	return ok && got.Unmap() == a.WithZone("").Unmap()
}
