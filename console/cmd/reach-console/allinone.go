package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/reachdesk/reach/relay/node"
)

// allInOne configures the relay that `serve` may run in the console's
// process (DESIGN.md: the single-process default for small sites and
// `make run`). Production sites with several relays leave -relay-listen
// empty and point -relay-url at them.
type allInOne struct {
	relayListen   string
	turnListen    string
	turnRelayIP   string
	turnLoopback  bool
	metricsListen string
}

// flags registers the all-in-one flags on fs.
func (a *allInOne) flags(fs *flag.FlagSet) {
	fs.StringVar(&a.relayListen, "relay-listen", "", "run a relay in this process on this address (all-in-one mode), e.g. :8081; empty: use -relay-url")
	fs.StringVar(&a.turnListen, "relay-turn-listen", "", "UDP address of the in-process relay's TURN server, e.g. :3478; empty: no TURN")
	fs.StringVar(&a.turnRelayIP, "relay-turn-ip", "", "address peers reach relayed media on (required if -relay-turn-listen has no IP)")
	fs.BoolVar(&a.turnLoopback, "relay-turn-allow-loopback", false, "let TURN relay to loopback addresses (single-host demos and tests)")
	fs.StringVar(&a.metricsListen, "relay-metrics-listen", "", "private address serving the in-process relay's /metrics and pprof")
}

// start opens the in-process relay's sockets, trusting the console's key,
// and returns the node (to Run) and the ws:// URL clients reach it at when
// no -relay-url names another.
func (a *allInOne) start(ctx context.Context, consoleKey ed25519.PublicKey, origins []string, log *slog.Logger) (*node.Node, string, error) {
	cfg := node.Config{
		Listen:            a.relayListen,
		MetricsListen:     a.metricsListen,
		ConsoleKeys:       []ed25519.PublicKey{consoleKey},
		AllowedOrigins:    origins,
		TURNListen:        a.turnListen,
		TURNAllowLoopback: a.turnLoopback,
		Logger:            log.With("component", "relay"),
	}
	if a.turnRelayIP != "" {
		ip, err := netip.ParseAddr(a.turnRelayIP)
		if err != nil {
			return nil, "", fmt.Errorf("-relay-turn-ip: %w", err)
		}
		cfg.TURNRelayIP = ip
	}
	n, err := node.Listen(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	addr := n.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return n, "ws://" + net.JoinHostPort(host, fmt.Sprint(addr.Port)), nil
}
