//go:build linux || darwin

package inventory

import (
	"context"

	"github.com/reachdesk/reach/agent/inventory/probe"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// dns reads the resolvers from /etc/resolv.conf; when that names only
// systemd-resolved's stub, the upstream servers come from resolved's own file.
func (c *Collector) dns(context.Context) inv.DNS {
	b, err := probe.ReadFile(c.fsys, "etc/resolv.conf", 64<<10)
	if err != nil {
		return inv.DNS{Status: inv.Unknown(why("/etc/resolv.conf", err))}
	}
	rc, src := parseResolvConf(b), "resolv.conf"
	if onlyStubResolver(rc.Servers) {
		if b, err := probe.ReadFile(c.fsys, "run/systemd/resolve/resolv.conf", 64<<10); err == nil {
			if up := parseResolvConf(b); len(up.Servers) > 0 {
				rc.Servers, src = up.Servers, "systemd-resolved"
			}
		}
	}
	return inv.DNS{Status: inv.Known(src), Servers: rc.Servers, Search: rc.Search}
}
