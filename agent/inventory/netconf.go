package inventory

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// Route flags from <linux/route.h>.
const (
	rtfUp      = 0x1
	rtfGateway = 0x2
	rtfReject  = 0x200
)

// parseProcRoute returns the default IPv4 gateways in /proc/net/route,
// lowest metric first. The kernel prints addresses as host-order hex words.
// Malformed lines are skipped.
func parseProcRoute(b []byte) []inv.Gateway {
	type route struct {
		gw     inv.Gateway
		metric uint64
	}
	var routes []route
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		word, err2 := strconv.ParseUint(f[2], 16, 32)
		metric, err3 := strconv.ParseUint(f[6], 10, 32)
		if err1 != nil || err2 != nil || err3 != nil || flags&(rtfUp|rtfGateway) != rtfUp|rtfGateway || flags&rtfReject != 0 {
			continue
		}
		var a [4]byte
		binary.NativeEndian.PutUint32(a[:], uint32(word))
		routes = append(routes, route{inv.Gateway{Address: netip.AddrFrom4(a).String(), Interface: clean(f[0], inv.MaxShort)}, metric})
	}
	slices.SortStableFunc(routes, func(a, b route) int { return int(a.metric) - int(b.metric) })
	gws := make([]inv.Gateway, 0, len(routes))
	for _, r := range routes {
		if len(gws) < inv.MaxResolvers {
			gws = append(gws, r.gw)
		}
	}
	return gws
}

// parseProcIPv6Route returns the default IPv6 gateways in
// /proc/net/ipv6_route: destination ::/0 with a next hop.
func parseProcIPv6Route(b []byte) []inv.Gateway {
	gws := []inv.Gateway{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[0] != strings.Repeat("0", 32) || f[1] != "00" {
			continue
		}
		flags, err := strconv.ParseUint(f[8], 16, 32)
		hop, err2 := hex.DecodeString(f[4])
		if err != nil || err2 != nil || len(hop) != 16 || flags&(rtfUp|rtfGateway) != rtfUp|rtfGateway || flags&rtfReject != 0 {
			continue
		}
		if len(gws) < inv.MaxResolvers {
			gws = append(gws, inv.Gateway{Address: netip.AddrFrom16([16]byte(hop)).String(), Interface: clean(f[9], inv.MaxShort)})
		}
	}
	return gws
}

// resolvConf is what the collector takes from resolv.conf(5).
type resolvConf struct {
	Servers []string // in order; invalid addresses are dropped
	Search  []string
	Domain  string
}

// parseResolvConf parses resolv.conf: nameserver, search and domain lines;
// the last search or domain line wins, as in the resolver.
func parseResolvConf(b []byte) resolvConf {
	rc := resolvConf{Servers: []string{}, Search: []string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0][0] == '#' || f[0][0] == ';' {
			continue
		}
		switch f[0] {
		case "nameserver":
			if a, err := netip.ParseAddr(f[1]); err == nil && len(rc.Servers) < inv.MaxResolvers {
				rc.Servers = append(rc.Servers, a.String())
			}
		case "domain":
			rc.Domain = clean(f[1], inv.MaxName)
			rc.Search = []string{rc.Domain}
		case "search":
			rc.Search = []string{}
			for _, d := range f[1:] {
				if d[0] == '#' || d[0] == ';' {
					break
				}
				if d != "." && len(rc.Search) < inv.MaxResolvers {
					rc.Search = append(rc.Search, clean(d, inv.MaxName))
				}
			}
		}
	}
	return rc
}

// onlyStubResolver reports whether the servers are just a local stub, such as
// systemd-resolved's 127.0.0.53, which hides the real upstream servers.
func onlyStubResolver(servers []string) bool {
	for _, s := range servers {
		if a, err := netip.ParseAddr(s); err != nil || !a.IsLoopback() {
			return false
		}
	}
	return len(servers) > 0
}
