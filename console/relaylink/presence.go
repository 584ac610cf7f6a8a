package relaylink

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/proto"
)

// Presence asks one relay which devices are online. It is safe for
// concurrent use.
type Presence struct {
	link

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

// NewPresence returns a presence client for the relay at relayURL.
func NewPresence(relayURL string, signer *signing.Signer, opts Options) (*Presence, error) {
	l, err := newLink(relayURL, signer, opts)
	if err != nil {
		return nil, err
	}
	if l.opts.CacheTTL == 0 {
		l.opts.CacheTTL = 5 * time.Second
	}
	return &Presence{link: l, cache: make(map[int64]entry)}, nil
}

// Online reports, for each of ids, whether the device holds a connection to
// the relay. It fails only if the relay cannot be asked; callers show
// presence as unknown then.
func (c *Presence) Online(ctx context.Context, ids []int64) (map[int64]bool, error) {
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
func (c *Presence) query(ctx context.Context, ids []int64) (map[int64]bool, error) {
	q := url.Values{}
	for _, id := range ids {
		q.Add("device", strconv.FormatInt(id, 10))
	}
	var p proto.Presence
	if err := c.get(ctx, "/v1/presence", q, &p); err != nil {
		return nil, fmt.Errorf("relaylink: presence: %w", err)
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
