package inventory

import (
	"context"
	"net/netip"
	"slices"

	gnet "github.com/shirou/gopsutil/v3/net"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// Network returns the interfaces (gopsutil, refined per platform with kind,
// state, link speed and driver), the default gateways and the resolvers.
func (c *Collector) Network(ctx context.Context) *inv.Network {
	n := &inv.Network{Status: inv.Known("gopsutil")}
	ifaces, err := gnet.InterfacesWithContext(ctx)
	if err != nil {
		n.Status = inv.Unknown(why("gopsutil interfaces", err))
	}
	for _, i := range ifaces {
		if len(n.Interfaces) == inv.MaxInterfaces {
			break
		}
		iface := inv.Interface{Name: clean(i.Name, inv.MaxShort), MAC: clean(i.HardwareAddr, inv.MaxShort), MTU: i.MTU,
			Addresses: []string{}}
		if slices.Contains(i.Flags, "loopback") {
			iface.Kind = inv.KindLoopback
		}
		for _, a := range i.Addrs {
			if p, err := netip.ParsePrefix(a.Addr); err == nil && len(iface.Addresses) < inv.MaxAddresses {
				iface.Addresses = append(iface.Addresses, p.String())
			}
		}
		c.linkDetails(&iface)
		n.Interfaces = append(n.Interfaces, iface)
	}
	n.Routes = c.routes(ctx)
	n.DNS = c.dns(ctx)
	return n
}
