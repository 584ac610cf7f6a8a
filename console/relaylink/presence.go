// Package presence tells the console which devices are online right now by
// asking the relay, the only component that sees agents' live connections.
//
// The console authenticates with a short-lived service token it signs
// itself; answers are cached for a few seconds so that a busy device list
// does not turn into a query per row.
package presence

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/proto"
)

// Options tune a Client. Zero values take the defaults noted.
type Options struct {
	// HTTPClient sends the queries; nil means a client with a 5 s timeout.
	HTTPClient *http.Client
	// CacheTTL is how long an answer is reused; zero means 5 s, negative
	// disables the cache.
	CacheTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives logs; nil means slog.Default().
	Logger *slog.Logger
}

// Client asks one relay for device presence. It is safe for concurrent use.
type Client struct {
	endpoint string
	signer   *signing.Signer
	opts     Options

	mu    sync.Mutex
	cache map[int64]entry // guarded by mu
}

type entry struct {
	online bool
	at     time.Time
}

// maxCached bounds the cache; beyond it the cache is cleared (a fleet this
// large re-asks once per TTL anyway).
const maxCached = 100_000

// New returns a client for the relay at relayURL (http(s)://host[:port] or
// the ws(s):// URL agents use; the path is replaced by /v1/presence).
func New(relayURL string, signer *signing.Signer, opts Options) (*Client, error) {
	u, err := url.Parse(relayURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("presence: relay URL %q is not an absolute URL", relayURL)
	}
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "http"
	case "wss", "https":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("presence: relay URL scheme %q is not ws, wss, http or https", u.Scheme)
	}
	u.Path, u.RawQuery, u.Fragment = "/v1/presence", "", ""
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Client{endpoint: u.String(), signer: signer, opts: opts, cache: make(map[int64]entry)}, nil
}

// Online reports, for each of ids, whether the device holds a connection to
// the relay. It fails only if the relay cannot be asked; callers show
// presence as unknown then.
func (c *Client) Online(ctx context.Context, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	var missing []int64
	now := c.opts.Now()
	c.mu.Lock()
	for _, id := range ids {
		if e, ok := c.cache[id]; ok && c.opts.CacheTTL > 0 && now.Sub(e.at) < c.opts.CacheTTL {
			out[id] = e.online
		} else if _, dup := out[id]; !dup {
			missing = append(missing, id)
			out[id] = false
		}
	}
	c.mu.Unlock()

	for len(missing) > 0 {
		n := min(len(missing), proto.MaxListLen)
		batch := missing[:n]
		missing = missing[n:]
		got, err := c.query(ctx, batch)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if len(c.cache)+len(got) > maxCached {
			clear(c.cache)
		}
		for id, online := range got {
			out[id] = online
			c.cache[id] = entry{online: online, at: now}
		}
		c.mu.Unlock()
	}
	return out, nil
}

// query asks the relay about ids (at most proto.MaxListLen).
func (c *Client) query(ctx context.Context, ids []int64) (map[int64]bool, error) {
	token, err := c.signer.Issue(proto.Claims{Kind: proto.KindService, RegisteredClaims: jwt.RegisteredClaims{Subject: "reach-console"}}, proto.AudienceRelay, time.Minute)
	if err != nil {
		return nil, fmt.Errorf("presence: %w", err)
	}
	q := url.Values{}
	for _, id := range ids {
		q.Add("device", strconv.FormatInt(id, 10))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint+"?"+q.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("presence: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("presence: ask the relay: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("presence: read the relay's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("presence: the relay answered %s: %s", resp.Status, strings.TrimSpace(string(body[:min(len(body), 200)])))
	}
	var p proto.Presence
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("presence: the relay's answer is not JSON: %w", err)
	}
	out := make(map[int64]bool, len(ids))
	for _, d := range p.Devices {
		id, err := strconv.ParseInt(d.ID, 10, 64)
		if err != nil {
			continue // not a console device id: ignore
		}
		out[id] = d.Online
	}
	return out, nil
}
