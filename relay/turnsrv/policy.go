package turnsrv

import (
	"net"
	"net/netip"
)

var (
	// thisNetwork is 0.0.0.0/8 (RFC 1122 "this host on this network"): on
	// Linux, datagrams sent to 0.0.0.0 reach the local host.
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	// cgnat is the RFC 6598 shared address space used by carrier-grade NAT.
	cgnat = netip.MustParsePrefix("100.64.0.0/10")
	// reservedV4 is 240.0.0.0/4 (RFC 1112 "future use"), which holds the
	// limited broadcast address 255.255.255.255.
	reservedV4 = netip.MustParsePrefix("240.0.0.0/4")
)

// peerPolicy decides which peer addresses an allocation may relay to. It is
// immutable once built.
type peerPolicy struct {
	allowLoopback bool
	allowPrivate  bool
	allow         []netip.Prefix // always permitted, whatever the class
}

// permits reports whether a client may relay to peer.
func (p peerPolicy) permits(peer netip.Addr) bool {
	if !peer.IsValid() {
		return false
	}
	peer = peer.Unmap()
	for _, pfx := range p.allow {
		if pfx.Contains(peer) {
			return true
		}
	}
	switch {
	case isLoopback(peer):
		return p.allowLoopback
	case isPrivate(peer):
		return p.allowPrivate
	default:
		return true
	}
}

// isLoopback reports whether datagrams to a reach this host. The unspecified
// addresses count as loopback because the kernel delivers to them locally,
// so AllowPrivate alone must not open them.
func isLoopback(a netip.Addr) bool {
	return a.IsLoopback() || a.IsUnspecified() || thisNetwork.Contains(a)
}

// isPrivate reports whether a is not a public unicast address: RFC 1918,
// RFC 4193 unique local, link-local, CGNAT, multicast and reserved.
func isPrivate(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsMulticast() ||
		cgnat.Contains(a) || reservedV4.Contains(a)
}

// toAddr converts a net.IP, as pion hands it over, to a netip.Addr; the
// result is invalid if ip is malformed.
func toAddr(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}
