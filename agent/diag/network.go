package diag

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	inv "github.com/reachdesk/reach/proto/inventory"
)

// maxProbes bounds the DNS servers and gateways probed; they are probed
// concurrently, each for at most probeTimeout, so that a dead one does not
// use up the check's whole budget.
const (
	maxProbes    = 4
	probeTimeout = 2 * time.Second
)

// probeAll runs fn for each target concurrently under probeTimeout and
// returns the probes in target order.
func probeAll(ctx context.Context, targets []string, fn func(ctx context.Context, target string) inv.Probe) []inv.Probe {
	targets = targets[:min(len(targets), maxProbes)]
	probes := make([]inv.Probe, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			start := time.Now()
			probes[i] = fn(ctx, t)
			probes[i].LatencyMS = time.Since(start).Milliseconds()
			probes[i].Detail = clip(probes[i].Detail, inv.MaxLong)
		})
	}
	wg.Wait()
	return probes
}

// succeeded counts the probes that succeeded.
func succeeded(probes []inv.Probe) int {
	n := 0
	for _, p := range probes {
		if p.OK {
			n++
		}
	}
	return n
}

// unresolvable is asked when there is no console name: a server that
// answers at all (even "no such name") is reachable.
const unresolvable = "reach-diagnostics.invalid."

// consoleAddr returns the console's host and host:port from ConsoleURL.
func (r *Runner) consoleAddr() (host, addr string, err error) {
	u, err := url.Parse(r.opts.ConsoleURL)
	if err != nil || u.Hostname() == "" {
		return "", "", fmt.Errorf("console URL %q has no host", r.opts.ConsoleURL)
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" || u.Scheme == "ws" {
			port = "80"
		}
	}
	return u.Hostname(), net.JoinHostPort(u.Hostname(), port), nil
}

// dns asks each configured DNS server for the console's address (or, with
// no console URL or an IP address for one, for a name that cannot exist).
func (r *Runner) dns(ctx context.Context) inv.DiagResult {
	d := r.inv.Network(ctx).DNS
	if !d.Status.OK {
		return unknown(d.Status.Reason)
	}
	if len(d.Servers) == 0 {
		return inv.DiagResult{Status: inv.DiagFail, Summary: "no DNS servers configured"}
	}
	name := unresolvable
	if host, _, err := r.consoleAddr(); err == nil {
		if _, err := netip.ParseAddr(host); err != nil {
			name = strings.TrimSuffix(host, ".") + "."
		}
	}
	probes := probeAll(ctx, d.Servers, func(ctx context.Context, server string) inv.Probe {
		detail, err := r.query(ctx, server, name)
		if err != nil {
			return inv.Probe{Target: "dns " + server, Detail: err.Error()}
		}
		return inv.Probe{Target: "dns " + server, OK: true, Detail: detail}
	})
	answered := succeeded(probes)
	res := inv.DiagResult{Status: verdict(answered, len(probes)), Probes: probes,
		Summary: fmt.Sprintf("%d of %d DNS servers answered for %s", answered, len(probes), strings.TrimSuffix(name, "."))}
	for _, p := range probes {
		if p.OK {
			res.Summary += ": " + p.Detail
			break
		}
	}
	return res
}

// verdict is ok when every probe succeeded, fail when none did.
func verdict(ok, total int) inv.DiagStatus {
	switch {
	case ok == total:
		return inv.DiagOK
	case ok == 0:
		return inv.DiagFail
	}
	return inv.DiagWarn
}

// query sends one A query for name to server over UDP and returns the
// addresses, or "no such name" for NXDOMAIN of the unresolvable name.
func (r *Runner) query(ctx context.Context, server, name string) (string, error) {
	qname, err := dnsmessage.NewName(name)
	if err != nil {
		return "", fmt.Errorf("bad name %q: %w", name, err)
	}
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])
	msg := dnsmessage.Message{Header: dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: qname, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}}}
	packed, err := msg.Pack()
	if err != nil {
		return "", err
	}
	conn, err := r.opts.Dial(ctx, "udp", net.JoinHostPort(server, "53"))
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write(packed); err != nil {
		return "", err
	}
	buf := make([]byte, 1232)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return "", err
		}
		var resp dnsmessage.Message
		if resp.Unpack(buf[:n]) != nil || resp.ID != id || !resp.Response {
			continue // not our answer
		}
		switch {
		case resp.RCode == dnsmessage.RCodeNameError && name == unresolvable:
			return "answered (no such name, as expected)", nil
		case resp.RCode != dnsmessage.RCodeSuccess:
			return "", fmt.Errorf("server answered %s", resp.RCode)
		}
		var addrs []string
		for _, a := range resp.Answers {
			if body, ok := a.Body.(*dnsmessage.AResource); ok {
				addrs = append(addrs, netip.AddrFrom4(body.A).String())
			}
		}
		if len(addrs) == 0 {
			return "", errors.New("no address in the answer")
		}
		return strings.TrimSuffix(name, ".") + " is " + strings.Join(addrs, ", "), nil
	}
}

// console opens a TCP connection to the console.
func (r *Runner) console(ctx context.Context) inv.DiagResult {
	if r.opts.ConsoleURL == "" {
		return unknown("no console URL given")
	}
	_, addr, err := r.consoleAddr()
	if err != nil {
		return unknown(err.Error())
	}
	start := time.Now()
	conn, err := r.opts.Dial(ctx, "tcp", addr)
	p := inv.Probe{Target: "console " + addr, OK: err == nil, LatencyMS: time.Since(start).Milliseconds()}
	if err != nil {
		p.Detail = clip(err.Error(), inv.MaxLong)
		return inv.DiagResult{Status: inv.DiagFail, Summary: "cannot connect to the console at " + addr + ": " + p.Detail,
			Probes: []inv.Probe{p}}
	}
	conn.Close()
	p.Detail = "connected"
	return inv.DiagResult{Status: inv.DiagOK, Probes: []inv.Probe{p},
		Summary: fmt.Sprintf("console %s reachable (TCP connect in %d ms)", addr, p.LatencyMS)}
}

// gateway pings the default gateways.
func (r *Runner) gateway(ctx context.Context) inv.DiagResult {
	routes := r.inv.Network(ctx).Routes
	if !routes.Status.OK {
		return unknown(routes.Status.Reason)
	}
	if len(routes.Gateways) == 0 {
		return inv.DiagResult{Status: inv.DiagFail, Summary: "no default gateway"}
	}
	var targets []string
	for _, gw := range routes.Gateways {
		if a, err := netip.ParseAddr(gw.Address); err == nil {
			if a.Is6() && a.IsLinkLocalUnicast() {
				a = a.WithZone(gw.Interface)
			}
			targets = append(targets, a.String())
		}
	}
	var noICMP atomic.Bool
	probes := probeAll(ctx, targets, func(ctx context.Context, target string) inv.Probe {
		_, err := ping(ctx, netip.MustParseAddr(target))
		if errors.Is(err, errNoICMP) {
			noICMP.Store(true)
		}
		if err != nil {
			return inv.Probe{Target: "gateway " + target, Detail: err.Error()}
		}
		return inv.Probe{Target: "gateway " + target, OK: true, Detail: "echo reply"}
	})
	if noICMP.Load() {
		return unknown(errNoICMP.Error())
	}
	reached := succeeded(probes)
	return inv.DiagResult{Status: verdict(reached, len(probes)), Probes: probes,
		Summary: fmt.Sprintf("%d of %d gateways answered ping", reached, len(probes))}
}
