// Command reach-relay brokers Reach sessions: WebSocket signaling between
// technicians and agents, session codes, and an embedded TURN server.
//
// Every flag can also be set as REACH_RELAY_<FLAG> (e.g. REACH_RELAY_LISTEN).
// The TURN shared secret comes from -turn-secret-file or REACH_RELAY_TURN_SECRET,
// never from the command line.
//
// TLS: -tls-cert/-tls-key serve certificate files, reloaded when they change
// or on SIGHUP; -acme-domain obtains and renews certificates automatically
// (TLS-ALPN-01, so -listen must be reachable on port 443), cached in
// -acme-cache. Neither serves plain HTTP for a TLS-terminating proxy.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/reachdesk/reach/internal/buildinfo"
	"github.com/reachdesk/reach/internal/envflag"
	"github.com/reachdesk/reach/internal/tlsconfig"
	"github.com/reachdesk/reach/proto"
	"github.com/reachdesk/reach/relay/node"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "reach-relay:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reach-relay", flag.ContinueOnError)
	var (
		listen        = fs.String("listen", ":8081", "HTTP(S) address for agents, technicians and /healthz")
		tlsCert       = fs.String("tls-cert", "", "TLS certificate PEM file (with -tls-key); none serves plain HTTP")
		tlsKey        = fs.String("tls-key", "", "TLS private key PEM file")
		acmeDomain    = fs.String("acme-domain", "", "comma-separated host names to get certificates for automatically over ACME (instead of -tls-cert)")
		acmeEmail     = fs.String("acme-email", "", "contact address for the ACME account (certificate expiry notices)")
		acmeCache     = fs.String("acme-cache", "/var/lib/reach/relay/acme", "directory caching the ACME account key and certificates")
		acmeDirectory = fs.String("acme-directory", "", "ACME directory URL; default Let's Encrypt")
		metricsListen = fs.String("metrics-listen", "127.0.0.1:9464", "address of /metrics; empty disables")
		consoleKeys   = fs.String("console-keys", "", "PEM file with the console's token-signing public key(s) (required)")
		origins       = fs.String("allowed-origins", "", "comma-separated browser origins (host patterns) allowed to connect as technicians")
		turnListen    = fs.String("turn-listen", ":3478", "UDP address of the embedded TURN server; empty disables it")
		turnSockets   = fs.Int("turn-sockets", 2, "SO_REUSEPORT sockets for TURN (one per core)")
		turnRelayIP   = fs.String("turn-relay-ip", "", "address peers reach relayed media on (required if -turn-listen has no IP)")
		turnURLs      = fs.String("turn-urls", "", "comma-separated STUN/TURN URLs given to clients; default from -turn-relay-ip")
		turnSecret    = fs.String("turn-secret-file", "", "file with the TURN REST shared secret (or env REACH_RELAY_TURN_SECRET); default random")
		turnLoopback  = fs.Bool("turn-allow-loopback", false, "allow TURN relaying to loopback addresses (tests, single host)")
		turnPrivate   = fs.Bool("turn-allow-private", false, "allow TURN relaying to private address ranges")
		codeTTL       = fs.Duration("code-ttl", proto.DefaultCodeTTL, "lifetime of a session code")
		heartbeat     = fs.Duration("heartbeat", proto.DefaultHeartbeat, "client ping interval; silent clients are dropped after 2.5 of them")
		logLevel      = fs.String("log-level", "info", "debug, info, warn or error")
		logFormat     = fs.String("log-format", "text", "text or json")
		version       = fs.Bool("version", false, "print the version and exit")
	)
	if err := envflag.Parse(fs, "REACH_RELAY", args); err != nil {
		return err
	}
	if *version {
		fmt.Println("reach-relay", buildinfo.Version)
		return nil
	}
	log, err := newLogger(*logLevel, *logFormat)
	if err != nil {
		return err
	}
	cfg := node.Config{
		Listen: *listen, MetricsListen: *metricsListen,
		AllowedOrigins: splitList(*origins), TURNListen: *turnListen, TURNSockets: *turnSockets,
		TURNURLs: splitList(*turnURLs), TURNAllowLoopback: *turnLoopback, TURNAllowPrivate: *turnPrivate,
		Logger: log,
	}
	cfg.Relay.CodeTTL = *codeTTL
	cfg.Relay.Heartbeat = *heartbeat
	if *consoleKeys == "" {
		return fmt.Errorf("-console-keys is required: the console's public key file")
	}
	pem, err := os.ReadFile(*consoleKeys)
	if err != nil {
		return err
	}
	if cfg.ConsoleKeys, err = proto.ParsePublicKeys(pem); err != nil {
		return fmt.Errorf("%s: %w", *consoleKeys, err)
	}
	if *turnRelayIP != "" {
		if cfg.TURNRelayIP, err = netip.ParseAddr(*turnRelayIP); err != nil {
			return fmt.Errorf("-turn-relay-ip: %w", err)
		}
	}
	if cfg.TURNSecret, err = readSecret(*turnSecret, "REACH_RELAY_TURN_SECRET"); err != nil {
		return err
	}

	tlsSrc, err := tlsconfig.New(tlsconfig.Options{
		CertFile: *tlsCert, KeyFile: *tlsKey,
		ACMEDomains: splitList(*acmeDomain), ACMEEmail: *acmeEmail, ACMECacheDir: *acmeCache,
		ACMEDirectoryURL: *acmeDirectory, Logger: log,
	})
	switch {
	case errors.Is(err, tlsconfig.ErrNoTLS):
	case err != nil:
		return err
	default:
		cfg.TLSConfig = tlsSrc.TLSConfig()
	}

	n, err := node.Listen(ctx, cfg)
	if err != nil {
		return err
	}
	if tlsSrc == nil {
		signal.Ignore(syscall.SIGHUP) // `systemctl reload` has nothing to reload
	} else {
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { tlsSrc.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
	}
	return n.Run(ctx)
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("-log-format must be text or json, not %q", format)
}

// readSecret reads a secret from file, else from the environment variable
// env; neither gives nil.
func readSecret(file, env string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return nil, fmt.Errorf("%s is empty", file)
		}
		return []byte(s), nil
	}
	if v := os.Getenv(env); v != "" {
		return []byte(v), nil
	}
	return nil, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
