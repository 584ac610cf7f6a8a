// Package relaylink is the console's side of its link to the relay, which
// alone sees agents' live connections and the signaling of sessions:
// Presence tells which devices are online, and EventPoller pulls the
// relay's audit events into the sessions' timelines.
//
// The console authenticates with short-lived service tokens it signs
// itself, so the relay needs nothing but the console's public key.
package relaylink

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/proto"
)

// Options tune the relay clients. Zero values take the defaults noted.
type Options struct {
	// HTTPClient sends the queries; nil means a client with a 5 s timeout.
	HTTPClient *http.Client
	// CacheTTL is how long a presence answer is reused; zero means 5 s,
	// negative disables the cache.
	CacheTTL time.Duration
	// Interval is how often EventPoller asks for new events; zero means 2 s.
	Interval time.Duration
	// PendingTTL is how long EventPoller keeps events of a session the
	// console does not know yet (the browser reports the relay's session id
	// right after the code is issued); zero means 10 minutes.
	PendingTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives logs; nil means slog.Default().
	Logger *slog.Logger
}

// maxAnswer bounds a relay's answer.
const maxAnswer = 4 << 20

// link is what both clients share: the relay's base URL, the signer of
// service tokens, and the options.
type link struct {
	base   string // http(s)://host[:port]
	signer *signing.Signer
	opts   Options
}

// newLink accepts http(s)://host[:port] or the ws(s):// URL agents use;
// only the scheme and host are kept.
func newLink(relayURL string, signer *signing.Signer, opts Options) (link, error) {
	u, err := url.Parse(relayURL)
	if err != nil || u.Host == "" {
		return link{}, fmt.Errorf("relaylink: relay URL %q is not an absolute URL", relayURL)
	}
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "http"
	case "wss", "https":
		u.Scheme = "https"
	default:
		return link{}, fmt.Errorf("relaylink: relay URL scheme %q is not ws, wss, http or https", u.Scheme)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return link{base: u.Scheme + "://" + u.Host, signer: signer, opts: opts}, nil
}

// get fetches path?q from the relay with a fresh service token and decodes
// the JSON answer into v.
func (l *link) get(ctx context.Context, path string, q url.Values, v any) error {
	token, err := l.signer.Issue(proto.Claims{Kind: proto.KindService, RegisteredClaims: jwt.RegisteredClaims{Subject: "reach-console"}}, proto.AudienceRelay, time.Minute)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := l.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask the relay: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("read the relay's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the relay answered %s: %s", resp.Status, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("the relay's answer is not JSON: %w", err)
	}
	return nil
}
