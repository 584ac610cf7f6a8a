package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/agentapi"
	"github.com/reachdesk/reach/console/api"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/escalation"
	"github.com/reachdesk/reach/console/postgres"
	"github.com/reachdesk/reach/console/relaylink"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/console/sqlite"
	"github.com/reachdesk/reach/console/webhook"
	"github.com/reachdesk/reach/console/webui"
	"github.com/reachdesk/reach/internal/envflag"
	"github.com/reachdesk/reach/internal/tlsconfig"
	"github.com/reachdesk/reach/relay/node"
)

// dbEnv holds a PostgreSQL DSN; DSNs carry passwords, so there is no flag
// for one, only this variable or -db-file.
const dbEnv = "REACH_CONSOLE_DB"

// serveConfig is serve's parsed command line.
type serveConfig struct {
	data, dbFile, listen, publicURL, relayURL, org       string
	tlsCert, tlsKey, acmeDomain, acmeEmail, acmeDir      string
	metricsListen, origins, adminEmail, logLevel, logFmt string
	trustProxy                                           bool
	sessionIdle, sessionMax                              time.Duration
	maxAttachment                                        int64
	shutdownGrace                                        time.Duration
	allInOne                                             allInOne
}

func parseServe(args []string) (*serveConfig, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := &serveConfig{}
	fs.StringVar(&c.data, "data", "/var/lib/reach/console", "data directory: SQLite database, keys/, blobs/, secrets.key, acme/")
	fs.StringVar(&c.dbFile, "db-file", "", "file holding a PostgreSQL DSN (postgres://…); or set "+dbEnv+"; default SQLite in -data")
	fs.StringVar(&c.listen, "listen", ":8080", "HTTP(S) address of the console")
	fs.StringVar(&c.publicURL, "public-url", "", "URL technicians reach the console at, e.g. https://help.example.com (names the first admin's email domain)")
	fs.StringVar(&c.relayURL, "relay-url", "", "relay base URL (wss://…) for browsers, agents and presence; empty: no relay features")
	fs.StringVar(&c.org, "org", "Reach", "help desk name shown to end users and in authenticator apps")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "TLS certificate PEM file (with -tls-key); none serves plain HTTP (behind a TLS proxy)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "TLS private key PEM file")
	fs.StringVar(&c.acmeDomain, "acme-domain", "", "comma-separated host names to get certificates for over ACME (instead of -tls-cert)")
	fs.StringVar(&c.acmeEmail, "acme-email", "", "contact address for the ACME account")
	fs.StringVar(&c.acmeDir, "acme-directory", "", "ACME directory URL; default Let's Encrypt")
	fs.StringVar(&c.metricsListen, "metrics-listen", "", "separate address serving /metrics without sign-in (e.g. 127.0.0.1:9465); empty: /metrics on -listen for admins only")
	fs.StringVar(&c.origins, "allowed-origins", "", "comma-separated extra origins allowed to make signed-in browser requests")
	fs.StringVar(&c.adminEmail, "admin-email", "", "email of the admin created on first start; default admin@<host of -public-url>")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFmt, "log-format", "text", "text or json")
	fs.BoolVar(&c.trustProxy, "trust-proxy", false, "take client addresses from X-Forwarded-For (only behind a proxy that sets it)")
	fs.DurationVar(&c.sessionIdle, "session-idle", time.Hour, "sign out after this long without a request")
	fs.DurationVar(&c.sessionMax, "session-max", 12*time.Hour, "sign out this long after signing in")
	fs.Int64Var(&c.maxAttachment, "max-attachment", 25<<20, "largest ticket attachment in bytes")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 10*time.Second, "how long shutdown waits for open requests")
	c.allInOne.flags(fs)
	if err := envflag.Parse(fs, "REACH_CONSOLE", args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}

// openStore opens PostgreSQL if a DSN is configured, else SQLite in data.
func openStore(ctx context.Context, c *serveConfig) (console.Store, string, error) {
	dsn := os.Getenv(dbEnv)
	if c.dbFile != "" {
		b, err := os.ReadFile(c.dbFile)
		if err != nil {
			return nil, "", err
		}
		if dsn = strings.TrimSpace(string(b)); dsn == "" {
			return nil, "", fmt.Errorf("%s is empty", c.dbFile)
		}
	}
	if dsn != "" {
		st, err := postgres.Open(ctx, dsn, postgres.Options{})
		return st, "postgres", err
	}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return nil, "", err
	}
	path := filepath.Join(c.data, "console.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, "", err
	}
	// The database holds password hashes: owner only (SQLite gives its
	// -wal and -shm files the database file's mode).
	if err := os.Chmod(path, 0o600); err != nil {
		st.Close()
		return nil, "", err
	}
	return st, "sqlite", nil
}

// serve runs the console until ctx ends. stdout receives the first admin's
// one-time password, and nothing else.
func serve(ctx context.Context, args []string, stdout io.Writer) error {
	c, err := parseServe(args)
	if err != nil {
		return err
	}
	log, err := newLogger(c.logLevel, c.logFmt)
	if err != nil {
		return err
	}
	st, kind, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("store open", "kind", kind)

	key, err := signing.LoadOrCreate(filepath.Join(c.data, "keys"))
	if err != nil {
		return err
	}
	signer := signing.New(key, nil)
	sealKey, err := auth.LoadOrCreateKey(c.data)
	if err != nil {
		return err
	}
	sealer, err := auth.NewSealer(sealKey)
	if err != nil {
		return err
	}
	hasher := auth.NewHasher(auth.DefaultParams, 0)
	if err := bootstrapAdmin(ctx, st, hasher, c, stdout, log); err != nil {
		return err
	}

	tlsSrc, err := tlsconfig.New(tlsconfig.Options{CertFile: c.tlsCert, KeyFile: c.tlsKey,
		ACMEDomains: splitList(c.acmeDomain), ACMEEmail: c.acmeEmail, ACMECacheDir: filepath.Join(c.data, "acme"),
		ACMEDirectoryURL: c.acmeDir, Logger: log})
	if errors.Is(err, tlsconfig.ErrNoTLS) {
		tlsSrc, err = nil, nil
	}
	if err != nil {
		return err
	}

	hooks := webhook.New(st, webhook.Options{Logger: log})

	// The in-process relay (all-in-one mode) opens its sockets before
	// anything that needs its URL.
	var relayNode *node.Node
	if c.allInOne.relayListen != "" {
		n, url, err := c.allInOne.start(ctx, signer.PublicKey(), relayOrigins(c), log)
		if err != nil {
			return err
		}
		relayNode = n
		if c.relayURL == "" {
			c.relayURL = url
		}
	}

	agents, err := agentapi.New(st, signer, agentapi.Options{Events: hooks, RelayURL: c.relayURL, ClientAddr: clientAddr(c.trustProxy)})
	if err != nil {
		return err
	}
	opts := api.Options{Events: hooks, Sealer: sealer, BlobDir: filepath.Join(c.data, "blobs"), RelayURL: c.relayURL, Org: c.org,
		Hasher: hasher, Agents: agents, SecureCookies: tlsSrc != nil || strings.HasPrefix(c.publicURL, "https://"),
		AllowedOrigins: splitList(c.origins), TrustProxy: c.trustProxy, SessionIdle: c.sessionIdle, SessionMax: c.sessionMax,
		MaxAttachmentBytes: c.maxAttachment, Logger: log}
	if c.relayURL != "" {
		p, err := relaylink.NewPresence(c.relayURL, signer, relaylink.Options{Logger: log})
		if err != nil {
			return err
		}
		opts.Presence = p
	}
	apiSrv, err := api.New(st, signer, opts)
	if err != nil {
		return err
	}
	ui, err := webui.Handler(webui.Options{RelayURL: c.relayURL})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", apiSrv)
	mux.Handle("/healthz", apiSrv)
	mux.Handle("/metrics", apiSrv)
	mux.Handle("/.well-known/reach/", apiSrv)
	mux.Handle("/agent/", agents)
	mux.Handle("/", ui)

	var handler http.Handler = mux
	if tlsSrc != nil {
		handler = tlsSrc.HTTPHandler(mux)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	if tlsSrc != nil {
		srv.TLSConfig = tlsSrc.TLSConfig()
	}

	// Background work, each stopped by ctx and awaited on shutdown.
	bg, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	start := func(name string, run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(bg); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("background task stopped", "task", name, "err", err)
			}
		}()
	}
	start("agentapi", agents.Run)
	start("escalation", escalation.New(st, escalation.Options{Logger: log, Publisher: hooks}).Run)
	start("webhooks", hooks.Run)
	if relayNode != nil {
		start("relay", relayNode.Run)
	}
	if c.relayURL != "" {
		poller, err := relaylink.NewEventPoller(c.relayURL, signer, st, relaylink.Options{Logger: log})
		if err != nil {
			cancel()
			wg.Wait()
			ln.Close()
			return err
		}
		start("relay events", poller.Run)
	}
	if tlsSrc != nil {
		start("tls", tlsSrc.Run)
	}
	var metricsSrv *http.Server
	if c.metricsListen != "" {
		mln, err := net.Listen("tcp", c.metricsListen)
		if err != nil {
			cancel()
			wg.Wait()
			ln.Close()
			return err
		}
		metricsSrv = &http.Server{Handler: apiSrv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go metricsSrv.Serve(mln)
	}

	errc := make(chan error, 1)
	go func() {
		if tlsSrc != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	log.Info("console listening", "addr", ln.Addr().String(), "tls", tlsSrc != nil, "public_url", c.publicURL)

	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
	}
	// Reverse order: stop taking requests, then background work, then the
	// store (deferred).
	sctx, scancel := context.WithTimeout(context.Background(), c.shutdownGrace)
	defer scancel()
	if serr := srv.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	if metricsSrv != nil {
		metricsSrv.Shutdown(sctx)
	}
	cancel()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// relayOrigins are the browser origins the in-process relay accepts
// technician connections from: the console's own host and -allowed-origins.
func relayOrigins(c *serveConfig) []string {
	origins := splitList(c.origins)
	if u, err := url.Parse(c.publicURL); err == nil && u.Host != "" {
		origins = append(origins, u.Host)
	}
	for i, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			origins[i] = u.Host
		}
	}
	return origins
}

// clientAddr returns the agent API's client address function.
func clientAddr(trustProxy bool) func(*http.Request) string {
	return func(r *http.Request) string {
		if trustProxy {
			if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
				parts := strings.Split(xff, ",")
				return strings.TrimSpace(parts[len(parts)-1])
			}
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}
}

// bootstrapAdmin creates the first admin when there are no users, with a
// random password printed once to stdout (never to the log).
func bootstrapAdmin(ctx context.Context, st console.Store, h *auth.Hasher, c *serveConfig, stdout io.Writer, log *slog.Logger) error {
	us, err := st.FindUsers(ctx, console.UserFilter{Limit: 1})
	if err != nil || len(us) > 0 {
		return err
	}
	email := c.adminEmail
	if email == "" {
		host := "localhost"
		if u, err := url.Parse(c.publicURL); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		email = "admin@" + host
	}
	password, err := randomPassword(20)
	if err != nil {
		return err
	}
	hash, err := h.Hash(ctx, password)
	if err != nil {
		return err
	}
	u := &console.User{Email: email, Name: "Administrator", Role: console.RoleAdmin, PasswordHash: hash}
	if err := st.CreateUser(ctx, u); err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	log.Info("created the first admin; its password is printed on stdout once", "email", email)
	_, err = fmt.Fprintf(stdout, "First admin: %s\nOne-time password: %s\nSign in and change it (Account → Password).\n", email, password)
	return err
}

// randomPassword returns n characters from an alphabet without look-alikes.
func randomPassword(n int) (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
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

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
