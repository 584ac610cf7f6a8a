package relaylink

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/signing"
	"github.com/reachdesk/reach/proto"
)

// EventStore is what EventPoller needs of the console's store.
type EventStore interface {
	console.RelayEventService
	FindSessions(ctx context.Context, f console.SessionFilter) ([]*console.Session, error)
}

// maxPending bounds the events kept for sessions the console does not know
// (yet); beyond it the oldest are dropped.
const maxPending = 10_000

// EventPoller copies the relay's audit events into the timelines of the
// console's sessions, matching them by the relay's session id
// (console.Session.RelaySID). The cursor moves in the same transaction as
// the events, so a console restart neither loses nor repeats any. Events of
// sessions the console does not know are kept in memory for PendingTTL (a
// console restart drops them) and then dropped: the relay also serves
// sessions the console did not start, such as load tests.
type EventPoller struct {
	link
	store EventStore
	relay string // the cursor's key

	// Owned by the goroutine calling Poll or Run.
	cursor  *console.RelayCursor
	pending []proto.AuditEvent
	known   map[string]int64 // relay sid → session id, bounded by clearing
}

// NewEventPoller returns a poller of the relay at relayURL.
func NewEventPoller(relayURL string, signer *signing.Signer, store EventStore, opts Options) (*EventPoller, error) {
	l, err := newLink(relayURL, signer, opts)
	if err != nil {
		return nil, err
	}
	if l.opts.Interval <= 0 {
		l.opts.Interval = 2 * time.Second
	}
	if l.opts.PendingTTL <= 0 {
		l.opts.PendingTTL = 10 * time.Minute
	}
	return &EventPoller{link: l, store: store, relay: l.base, known: make(map[string]int64)}, nil
}

// Run polls every Interval until ctx ends. Failures (a relay or database
// that is briefly gone) are logged and retried on the next tick.
func (p *EventPoller) Run(ctx context.Context) error {
	t := time.NewTicker(p.opts.Interval)
	defer t.Stop()
	failing := false
	for {
		if err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			if !failing {
				p.opts.Logger.Warn("relaylink: cannot read the relay's session events; retrying", "relay", p.base, "err", err)
			}
			failing = true
		} else if failing {
			p.opts.Logger.Info("relaylink: reading the relay's session events again", "relay", p.base)
			failing = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll reads the relay's new events once, until the relay has no more.
func (p *EventPoller) Poll(ctx context.Context) error {
	if p.cursor == nil {
		c, err := p.store.FindRelayCursor(ctx, p.relay)
		if err != nil {
			return err
		}
		p.cursor = c
	}
	for {
		page, err := p.fetch(ctx, p.cursor.Seq)
		if err != nil {
			return err
		}
		if page.Instance != p.cursor.Instance && p.cursor.Seq > 0 {
			// The relay restarted: its numbering starts again.
			if page, err = p.fetch(ctx, 0); err != nil {
				return err
			}
		}
		if page.Lost {
			p.opts.Logger.Warn("relaylink: the relay dropped session events before the console read them", "relay", p.base)
		}
		next := &console.RelayCursor{Relay: p.relay, Instance: page.Instance, Seq: p.cursor.Seq}
		if page.Instance != p.cursor.Instance {
			next.Seq = 0
		}
		if n := len(page.Events); n > 0 {
			next.Seq = int64(page.Events[n-1].Seq)
		}
		p.pending = append(p.pending, page.Events...)
		events, err := p.match(ctx)
		if err != nil {
			return err
		}
		if next.Instance != p.cursor.Instance || next.Seq != p.cursor.Seq || len(events) > 0 {
			if err := p.store.AppendRelayEvents(ctx, next, events); err != nil {
				return err
			}
			p.cursor = next
		}
		if len(page.Events) < proto.MaxAuditPage {
			return nil
		}
	}
}

func (p *EventPoller) fetch(ctx context.Context, after int64) (*proto.AuditPage, error) {
	var page proto.AuditPage
	q := url.Values{"after": {strconv.FormatInt(after, 10)}}
	if err := p.get(ctx, "/v1/events", q, &page); err != nil {
		return nil, fmt.Errorf("relaylink: events: %w", err)
	}
	if err := page.Validate(); err != nil {
		return nil, fmt.Errorf("relaylink: events: %w", err)
	}
	return &page, nil
}

// match turns the pending events whose session the console knows into
// session events (at most one store batch), keeps the others until
// PendingTTL, and drops the rest.
func (p *EventPoller) match(ctx context.Context) ([]*console.SessionEvent, error) {
	now := p.opts.Now()
	var out []*console.SessionEvent
	keep := p.pending[:0]
	for _, e := range p.pending {
		if len(out) == console.MaxEventBatch {
			keep = append(keep, e) // for the next round
			continue
		}
		id, ok := p.known[e.SID]
		if !ok {
			ss, err := p.store.FindSessions(ctx, console.SessionFilter{RelaySID: e.SID, Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(ss) == 1 {
				id, ok = ss[0].ID, true
				if len(p.known) >= maxPending {
					clear(p.known)
				}
				p.known[e.SID] = id
			}
		}
		switch {
		case ok:
			detail, _ := json.Marshal(struct {
				Detail     string `json:"detail,omitempty"`
				Technician string `json:"technician,omitempty"`
				Device     string `json:"device,omitempty"`
				Seq        uint64 `json:"relay_seq"`
			}{e.Detail, e.Technician, e.Device, e.Seq})
			out = append(out, &console.SessionEvent{SessionID: id, Source: console.SourceRelay, Type: eventType(e.Type), At: e.At, Detail: detail})
		case now.Sub(e.At) < p.opts.PendingTTL:
			keep = append(keep, e)
		}
	}
	if len(keep) > maxPending {
		keep = keep[len(keep)-maxPending:]
	}
	p.pending = keep
	return out, nil
}

// eventType maps a relay event type ("code.redeemed") to the console's
// alphabet for event types ("code_redeemed").
func eventType(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, s)
}
