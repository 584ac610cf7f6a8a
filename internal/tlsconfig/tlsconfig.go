// Package tlsconfig gives Reach's servers (relay, console) their TLS
// certificates: either from PEM files, reloaded when the files change or on
// SIGHUP, or obtained and renewed automatically over ACME (Let's Encrypt or
// any RFC 8555 server) with golang.org/x/crypto/acme/autocert, cached in the
// server's data directory.
//
// A Source hands out a *tls.Config whose GetCertificate always returns the
// current certificate, so a renewal or reload never needs a restart and
// never drops open connections.
package tlsconfig

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// ErrNoTLS is returned by New when the options ask for no TLS at all.
var ErrNoTLS = errors.New("tlsconfig: no certificate files and no ACME domain")

// DefaultPollInterval is how often certificate files are checked for changes.
const DefaultPollInterval = 30 * time.Second

// Options say where certificates come from. Set CertFile and KeyFile, or
// ACMEDomains, not both.
type Options struct {
	// CertFile and KeyFile are PEM files (the certificate file may hold the
	// chain). They are read at New and again when they change.
	CertFile, KeyFile string

	// ACMEDomains are the host names to obtain certificates for; a TLS
	// handshake for any other name is refused.
	ACMEDomains []string
	// ACMEEmail is the contact address for expiry notices; empty registers
	// the account without one.
	ACMEEmail string
	// ACMECacheDir keeps the ACME account key and certificates (created
	// 0700). Required with ACMEDomains: without a cache every restart would
	// ask the CA again and hit its rate limits.
	ACMECacheDir string
	// ACMEDirectoryURL is the ACME server; empty means Let's Encrypt's
	// production directory.
	ACMEDirectoryURL string
	// ACMEHTTPClient talks to the ACME server; nil means http.DefaultClient.
	// Tests use it to trust a local test CA.
	ACMEHTTPClient *http.Client

	// PollInterval is how often certificate files are checked for changes;
	// zero means DefaultPollInterval.
	PollInterval time.Duration
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Source provides the current certificate to a tls.Config.
type Source struct {
	opts Options
	log  *slog.Logger
	acme *autocert.Manager // nil for files

	mu   sync.Mutex // guards cert and sum
	cert *tls.Certificate
	sum  [sha256.Size]byte // of the cert and key file contents last loaded
}

// New checks opts and loads the certificate files, or prepares ACME. It
// returns ErrNoTLS when opts name neither, so a caller can serve plain HTTP
// (behind a TLS-terminating proxy).
func New(opts Options) (*Source, error) {
	files := opts.CertFile != "" || opts.KeyFile != ""
	switch {
	case files && len(opts.ACMEDomains) > 0:
		return nil, errors.New("tlsconfig: certificate files and ACME are exclusive")
	case files && (opts.CertFile == "" || opts.KeyFile == ""):
		return nil, errors.New("tlsconfig: a certificate file needs its key file and the other way round")
	case !files && len(opts.ACMEDomains) == 0:
		return nil, ErrNoTLS
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	s := &Source{opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	if files {
		if _, err := s.Reload(); err != nil {
			return nil, err
		}
		return s, nil
	}
	if opts.ACMECacheDir == "" {
		return nil, errors.New("tlsconfig: ACME needs a cache directory")
	}
	if err := os.MkdirAll(opts.ACMECacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("tlsconfig: ACME cache: %w", err)
	}
	for _, d := range opts.ACMEDomains {
		if d == "" || bytes.ContainsAny([]byte(d), "/:* ") {
			return nil, fmt.Errorf("tlsconfig: %q is not a host name", d)
		}
	}
	s.acme = &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(opts.ACMECacheDir),
		HostPolicy: autocert.HostWhitelist(opts.ACMEDomains...),
		Email:      opts.ACMEEmail,
		Client:     &acme.Client{DirectoryURL: opts.ACMEDirectoryURL, HTTPClient: opts.ACMEHTTPClient},
	}
	return s, nil
}

// TLSConfig is a server configuration (TLS 1.2 or newer) serving the
// source's current certificate. With ACME it also answers the CA's
// TLS-ALPN-01 challenges, so the listener must be reachable on port 443
// under the ACME domain (or use HTTPHandler on port 80).
func (s *Source) TLSConfig() *tls.Config {
	if s.acme != nil {
		c := s.acme.TLSConfig()
		c.MinVersion = tls.VersionTLS12
		return c
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: s.getCertificate,
	}
}

// HTTPHandler answers ACME HTTP-01 challenges and passes every other request
// to fallback (nil redirects to HTTPS). Serve it on port 80 when port 443 is
// not reachable for TLS-ALPN-01. Without ACME it returns fallback.
func (s *Source) HTTPHandler(fallback http.Handler) http.Handler {
	if s.acme == nil {
		if fallback == nil {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusFound)
			})
		}
		return fallback
	}
	return s.acme.HTTPHandler(fallback)
}

func (s *Source) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cert, nil
}

// Reload reads the certificate files again and switches to them if they
// changed and are a valid pair; on error the current certificate stays in
// use. It reports whether the certificate changed. With ACME it does
// nothing: autocert renews by itself.
func (s *Source) Reload() (bool, error) {
	if s.acme != nil {
		return false, nil
	}
	certPEM, err := os.ReadFile(s.opts.CertFile)
	if err != nil {
		return false, fmt.Errorf("tlsconfig: %w", err)
	}
	keyPEM, err := os.ReadFile(s.opts.KeyFile)
	if err != nil {
		return false, fmt.Errorf("tlsconfig: %w", err)
	}
	h := sha256.New()
	h.Write(certPEM)
	h.Write(keyPEM)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	s.mu.Lock()
	same := s.cert != nil && sum == s.sum
	s.mu.Unlock()
	if same {
		return false, nil
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return false, fmt.Errorf("tlsconfig: %s and %s: %w", s.opts.CertFile, s.opts.KeyFile, err)
	}
	s.mu.Lock()
	s.cert, s.sum = &cert, sum
	s.mu.Unlock()
	if leaf := cert.Leaf; leaf != nil {
		s.log.Info("tls: certificate loaded", "file", s.opts.CertFile, "subject", leaf.Subject.String(), "not_after", leaf.NotAfter)
	}
	return true, nil
}

// Run reloads the certificate files every PollInterval and on SIGHUP until
// ctx ends; a failed reload is logged and the old certificate kept. With
// ACME it only waits for ctx (renewal happens on handshakes). It returns
// nil when ctx ends.
func (s *Source) Run(ctx context.Context) error {
	if s.acme != nil {
		<-ctx.Done()
		return nil
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-hup:
			s.log.Info("tls: SIGHUP, reloading certificate")
		}
		if _, err := s.Reload(); err != nil {
			s.log.Error("tls: reload failed, keeping the current certificate", "err", err)
		}
	}
}
