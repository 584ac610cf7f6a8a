// Package webui serves the technician console's web UI: the TypeScript
// bundle built from web/console by web/build.mjs and embedded at build time
// (no CDN, works offline). Every path that is not an asset gets index.html,
// so the single-page app's own routes (/tickets/42, /devices/7, …) load on
// a reload or a pasted link.
//
// Responses carry a strict Content-Security-Policy: scripts and styles from
// the console only (no inline code, no eval), connections to the console and
// the relay's WebSocket URL, no framing. Assets are referenced from
// index.html with a content hash, so they are cached for a year while
// index.html is revalidated every time.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// Options configure the UI. The zero value serves a console whose relay is
// reached on the console's own origin (the all-in-one mode).
type Options struct {
	// RelayURL is the relay's WebSocket base URL (ws:// or wss://) browsers
	// connect to; the CSP allows connections to its origin. Empty means
	// the console's own origin only.
	RelayURL string
	// ConnectSources are further CSP connect-src origins (another relay
	// node, say); each must be an absolute ws, wss, http or https URL.
	ConnectSources []string
}

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// Server serves the UI; it is an http.Handler.
type Server struct {
	csp    string
	index  []byte
	assets map[string]asset // by path without the leading slash
}

// Handler returns the UI's handler, or an error for a bad option.
func Handler(opts Options) (http.Handler, error) {
	s, err := newServer(assets, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func newServer(fsys fs.FS, opts Options) (*Server, error) {
	connect := []string{"'self'"}
	for _, u := range append([]string{opts.RelayURL}, opts.ConnectSources...) {
		if u == "" {
			continue
		}
		o, err := origin(u)
		if err != nil {
			return nil, fmt.Errorf("webui: %w", err)
		}
		connect = append(connect, o)
	}
	s := &Server{
		csp: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; " +
			"font-src 'self'; connect-src " + strings.Join(connect, " ") + "; object-src 'none'; base-uri 'none'; " +
			"form-action 'self'; frame-ancestors 'none'",
		assets: map[string]asset{},
	}
	index, err := fs.ReadFile(fsys, "assets/index.html")
	if err != nil {
		return nil, fmt.Errorf("webui: the console bundle is missing (run `npm run build` in web/): %w", err)
	}
	for _, name := range []string{"console.js", "console.css"} {
		body, err := fs.ReadFile(fsys, "assets/"+name)
		if err != nil {
			return nil, fmt.Errorf("webui: the console bundle is incomplete: %w", err)
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:8])
		ctype := "text/javascript; charset=utf-8"
		if path.Ext(name) == ".css" {
			ctype = "text/css; charset=utf-8"
		}
		s.assets[name] = asset{body: body, ctype: ctype, etag: `"` + hash + `"`}
		// index.html names its assets without a version; add the hash.
		ref := []byte(`"` + name + `"`)
		if !bytes.Contains(index, ref) {
			return nil, fmt.Errorf("webui: index.html does not reference %s", name)
		}
		index = bytes.ReplaceAll(index, ref, []byte(`"/`+name+`?v=`+hash+`"`))
	}
	s.index = index
	return s, nil
}

// origin returns scheme://host[:port] of an absolute URL.
func origin(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("connect source %q: %w", raw, err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return "", fmt.Errorf("connect source %q: want a ws, wss, http or https URL", raw)
	}
	if u.Host == "" || strings.ContainsAny(u.Host, " ;'") {
		return "", errors.New("connect source " + raw + ": no host")
	}
	return u.Scheme + "://" + u.Host, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	if a, ok := s.assets[name]; ok {
		if r.URL.Query().Get("v") != "" {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
		return
	}
	// An unknown file (anything with an extension) or a path of another
	// component is a real 404; every other path is one of the app's pages.
	if path.Ext(name) != "" || reserved(name) {
		h.Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(s.index))
}

// reserved reports whether p belongs to another part of the console
// server, which must never answer with the app's page.
func reserved(p string) bool {
	for _, prefix := range []string{"api/", "agent/", "v1/", ".well-known/"} {
		if strings.HasPrefix(p+"/", prefix) {
			return true
		}
	}
	return p == "healthz" || p == "metrics"
}
