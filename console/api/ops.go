package api

import (
	"crypto/ed25519"
	_ "embed"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/reachdesk/reach/internal/buildinfo"
	"github.com/reachdesk/reach/proto"
)

// healthz answers while the store does.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if _, err := s.store.FindDeviceGroups(r.Context()); err != nil {
		return errUnavailable("store unavailable")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": buildinfo.Version})
	return nil
}

// serveMetrics serves the Prometheus registry (admins only: Prometheus
// scrapes with an admin's API token as bearer token).
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request, _ *principal) error {
	promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}

// MetricsHandler serves the metrics without authentication, for a separate
// (loopback) metrics listener.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{})
}

// keys serves the console's token-verification keys as concatenated PEM
// blocks, the signer's first, for relays and agents.
func (s *Server) keys(w http.ResponseWriter, _ *http.Request, _ *principal) error {
	var out []byte
	seen := map[string]bool{}
	for _, k := range append([]ed25519.PublicKey{s.signer.PublicKey()}, s.opts.PublicKeys...) {
		if seen[string(k)] {
			continue
		}
		seen[string(k)] = true
		pem, err := proto.MarshalPublicKey(k)
		if err != nil {
			return err
		}
		out = append(out, pem...)
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(out)
	return nil
}

//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the embedded OpenAPI 3 document.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request, _ *principal) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
	return nil
}
