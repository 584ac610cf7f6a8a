package turnsrv

import (
	"net"
	"net/netip"
	"testing"
)

func TestPeerPolicy(t *testing.T) {
	closed := peerPolicy{}
	loopback := peerPolicy{allowLoopback: true}
	private := peerPolicy{allowPrivate: true}
	office := peerPolicy{allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("127.0.0.1/32")}}

	tests := []struct {
		peer                              string
		closed, loopback, private, office bool
	}{
		// public
		{"8.8.8.8", true, true, true, true},
		{"2001:4860:4860::8888", true, true, true, true},
		{"100.128.0.1", true, true, true, true}, // just past CGNAT
		{"172.32.0.1", true, true, true, true},  // just past 172.16/12
		// loopback and this host
		{"127.0.0.1", false, true, false, true},
		{"127.8.9.10", false, true, false, false},
		{"::1", false, true, false, false},
		{"::ffff:127.0.0.1", false, true, false, true},
		{"0.0.0.0", false, true, false, false},
		{"0.1.2.3", false, true, false, false},
		{"::", false, true, false, false},
		// private
		{"10.0.0.1", false, false, true, false},
		{"10.1.2.3", false, false, true, true},
		{"::ffff:10.1.2.3", false, false, true, true},
		{"172.16.0.1", false, false, true, false},
		{"192.168.1.1", false, false, true, false},
		{"fd12:3456::1", false, false, true, false},
		{"169.254.169.254", false, false, true, false}, // cloud metadata
		{"fe80::1", false, false, true, false},
		{"100.64.0.1", false, false, true, false},
		{"224.0.0.1", false, false, true, false},
		{"ff02::1", false, false, true, false},
		{"255.255.255.255", false, false, true, false},
		{"240.0.0.1", false, false, true, false},
	}
	for _, tt := range tests {
		peer := netip.MustParseAddr(tt.peer)
		for _, c := range []struct {
			name   string
			policy peerPolicy
			want   bool
		}{
			{"closed", closed, tt.closed},
			{"AllowLoopback", loopback, tt.loopback},
			{"AllowPrivate", private, tt.private},
			{"AllowPeers", office, tt.office},
		} {
			if got := c.policy.permits(peer); got != c.want {
				t.Errorf("%s: permits(%s) = %v, want %v", c.name, tt.peer, got, c.want)
			}
		}
	}
	if closed.permits(toAddr(net.IP{1, 2, 3})) {
		t.Error("permits a malformed IP")
	}
	if !closed.permits(toAddr(net.ParseIP("8.8.8.8"))) { // 16-byte form, as pion passes it
		t.Error("refuses 8.8.8.8 in 16-byte form")
	}
}
