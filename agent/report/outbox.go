package report

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reachdesk/reach/agent/enroll"
	wire "github.com/reachdesk/reach/proto/agentapi"
	inv "github.com/reachdesk/reach/proto/inventory"
)

// Kinds of outbox items.
const (
	KindReport      = "report"      // the latest sealed inventory report; a newer one supersedes it
	KindDiagnostics = "diagnostics" // one diagnostics run
	KindEvent       = "event"       // one session event
)

// Outbox bounds. Reports never accumulate (one at most); diagnostics runs
// beyond MaxDiagnostics drop the oldest (the console asks again for runs
// it does not get); events beyond MaxEvents or MaxEventBytes are refused
// with ErrFull and counted, and the count is sent as a "dropped" event of
// that session as soon as there is room again.
const (
	MaxEvents      = 10_000
	MaxEventBytes  = 32 << 20
	MaxDiagnostics = 16
)

// ErrFull is returned when the outbox refuses an event.
var ErrFull = errors.New("report: outbox full; the event is counted as dropped")

// Item is one queued request.
type Item struct {
	Seq  uint64 `json:"seq"`
	Kind string `json:"kind"`
	Key  string `json:"key"` // idempotency key, sent with the request
	// Report: the sealed full report; the delta against what the console
	// acknowledged is computed when the item is sent.
	Report *inv.Report `json:"report,omitempty"`
	// Diagnostics: the command answered and the run.
	CommandID   int64           `json:"command_id,omitempty"`
	Diagnostics *inv.DiagReport `json:"diagnostics,omitempty"`
	// Event.
	Event *wire.Event `json:"event,omitempty"`
	// Created is when the item was queued.
	Created time.Time `json:"created"`

	size int64 // bytes on disk
}

// Outbox is a crash-safe queue of requests for the console: one file per
// item, written to a temporary file, fsynced, renamed into place and the
// directory fsynced, so that after a crash (or a power cut) every item is
// either completely there or not at all. Items are delivered in order and
// removed only after the console acknowledged them; each carries an
// idempotency key so that the console answers a repeat with its first
// answer and changes nothing.
type Outbox struct {
	dir string
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	items      []*Item        // guarded by mu, by Seq
	seq        uint64         // guarded by mu: the last Seq given
	eventBytes int64          // guarded by mu
	dropped    map[string]int // guarded by mu: refused events by session id
	notify     chan struct{}

	maxEvents, maxEventBytes, maxDiagnostics int // the bounds; tests lower them
}

// droppedFile persists the refused-event counts.
const droppedFile = "dropped.json"

// OpenOutbox opens (creating) the outbox in dir, removing leftovers of
// writes a crash interrupted.
func OpenOutbox(dir string, log *slog.Logger, now func() time.Time) (*Outbox, error) {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	if err := enroll.EnsureDir(dir); err != nil {
		return nil, err
	}
	o := &Outbox{dir: dir, log: log, now: now, dropped: map[string]int{}, notify: make(chan struct{}, 1),
		maxEvents: MaxEvents, maxEventBytes: MaxEventBytes, maxDiagnostics: MaxDiagnostics}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("report: outbox: %w", err)
	}
	var reports []*Item
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") { // an interrupted write
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if name == droppedFile {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err == nil {
				json.Unmarshal(b, &o.dropped)
			}
			continue
		}
		it, err := o.read(name)
		if err != nil {
			// Cannot happen with atomic writes short of disk corruption;
			// keep the file for a person to look at, out of the way.
			o.log.Error("report: unreadable outbox item set aside", "file", name, "err", err)
			os.Rename(filepath.Join(dir, name), filepath.Join(dir, "."+name+".bad"))
			continue
		}
		o.items = append(o.items, it)
		o.seq = max(o.seq, it.Seq)
		if it.Kind == KindEvent {
			o.eventBytes += it.size
		}
		if it.Kind == KindReport {
			reports = append(reports, it)
		}
	}
	sort.Slice(o.items, func(i, j int) bool { return o.items[i].Seq < o.items[j].Seq })
	// A crash between writing a report and removing the one it supersedes
	// leaves two: keep the newest.
	sort.Slice(reports, func(i, j int) bool { return reports[i].Seq < reports[j].Seq })
	for _, it := range reports[:max(0, len(reports)-1)] {
		if err := o.remove(it.Seq); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// fileName is the file of an item: its sequence number first, so that a
// directory listing is the delivery order.
func fileName(seq uint64, kind string) string { return fmt.Sprintf("%020d-%s.json", seq, kind) }

func (o *Outbox) read(name string) (*Item, error) {
	num, _, ok := strings.Cut(name, "-")
	if !ok || !strings.HasSuffix(name, ".json") {
		return nil, errors.New("not an outbox item name")
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(o.dir, name))
	if err != nil {
		return nil, err
	}
	var it Item
	if err := json.Unmarshal(b, &it); err != nil {
		return nil, err
	}
	if it.Seq != seq || fileName(seq, it.Kind) != name || !validKey(it.Key) {
		return nil, errors.New("item does not match its file name")
	}
	it.size = int64(len(b))
	return &it, nil
}

func validKey(k string) bool { return k != "" && len(k) <= 64 && !strings.ContainsAny(k, "/ \n") }

// NewKey returns a random idempotency key.
func NewKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Notify is signalled whenever an item is added.
func (o *Outbox) Notify() <-chan struct{} { return o.notify }

// put writes it durably and adds it to the queue. o.mu must be held.
func (o *Outbox) put(it *Item) error {
	o.seq++
	it.Seq = o.seq
	if it.Key == "" {
		it.Key = NewKey()
	}
	it.Created = o.now().UTC()
	b, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("report: encode outbox item: %w", err)
	}
	if err := enroll.WriteFile(filepath.Join(o.dir, fileName(it.Seq, it.Kind)), b); err != nil {
		return fmt.Errorf("report: outbox: %w", err)
	}
	it.size = int64(len(b))
	o.items = append(o.items, it)
	if it.Kind == KindEvent {
		o.eventBytes += it.size
	}
	select {
	case o.notify <- struct{}{}:
	default:
	}
	return nil
}

// remove deletes the item with seq, if present, and makes that durable.
// o.mu must be held.
func (o *Outbox) remove(seq uint64) error {
	if err := o.unlink(seq); err != nil {
		return err
	}
	return enroll.SyncDir(o.dir)
}

// unlink deletes the item with seq, if present, without syncing the
// directory. o.mu must be held.
func (o *Outbox) unlink(seq uint64) error {
	for i, it := range o.items {
		if it.Seq != seq {
			continue
		}
		err := os.Remove(filepath.Join(o.dir, fileName(it.Seq, it.Kind)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("report: outbox: %w", err)
		}
		o.items = append(o.items[:i], o.items[i+1:]...)
		if it.Kind == KindEvent {
			o.eventBytes -= it.size
		}
		return nil
	}
	return nil
}

// PutReport queues a sealed report, superseding any queued one.
func (o *Outbox) PutReport(r *inv.Report) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var old []uint64
	for _, it := range o.items {
		if it.Kind == KindReport {
			old = append(old, it.Seq)
		}
	}
	if err := o.put(&Item{Kind: KindReport, Report: r}); err != nil {
		return err
	}
	for _, seq := range old {
		if err := o.remove(seq); err != nil {
			return err
		}
	}
	return nil
}

// PutDiagnostics queues a diagnostics run under key (stable per command,
// so that running a redelivered command twice sends one result).
func (o *Outbox) PutDiagnostics(key string, commandID int64, d *inv.DiagReport) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var diags []*Item
	for _, it := range o.items {
		if it.Kind == KindDiagnostics {
			if it.Key == key {
				return nil // already queued
			}
			diags = append(diags, it)
		}
	}
	for len(diags) >= o.maxDiagnostics {
		o.log.Warn("report: outbox holds too many diagnostics runs; dropping the oldest (the console asks again)",
			"command", diags[0].CommandID)
		if err := o.remove(diags[0].Seq); err != nil {
			return err
		}
		diags = diags[1:]
	}
	return o.put(&Item{Kind: KindDiagnostics, Key: key, CommandID: commandID, Diagnostics: d})
}

// PutEvent queues a session event. When the outbox is full it returns
// ErrFull and counts the event; the count is sent later as a "dropped"
// event of the same session.
func (o *Outbox) PutEvent(e wire.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e.Key == "" {
		e.Key = NewKey()
	}
	if e.At.IsZero() {
		e.At = o.now().UTC()
	}
	if err := o.putDropped(); err != nil {
		return err
	}
	for _, it := range o.items {
		if it.Kind == KindEvent && it.Key == e.Key {
			return nil // already queued
		}
	}
	if o.full(len(e.Detail)) {
		o.dropped[e.SID]++
		o.saveDropped()
		return ErrFull
	}
	return o.put(&Item{Kind: KindEvent, Key: e.Key, Event: &e})
}

// full reports whether one more event of about n bytes would pass a bound.
// o.mu must be held.
func (o *Outbox) full(n int) bool {
	events := 0
	for _, it := range o.items {
		if it.Kind == KindEvent {
			events++
		}
	}
	return events >= o.maxEvents || o.eventBytes+int64(n)+512 > int64(o.maxEventBytes)
}

// putDropped queues the "dropped" events of sessions that had events
// refused, once there is room. o.mu must be held.
func (o *Outbox) putDropped() error {
	if len(o.dropped) == 0 {
		return nil
	}
	for sid, n := range o.dropped {
		if o.full(64) {
			return nil
		}
		detail, _ := json.Marshal(map[string]int{"count": n})
		if err := o.put(&Item{Kind: KindEvent, Key: NewKey(), Event: &wire.Event{SID: sid, Type: wire.EventDropped,
			At: o.now().UTC(), Detail: detail}}); err != nil {
			return err
		}
		delete(o.dropped, sid)
		o.saveDropped()
	}
	return nil
}

// saveDropped persists the refused-event counts. o.mu must be held.
func (o *Outbox) saveDropped() {
	b, _ := json.Marshal(o.dropped)
	if err := enroll.WriteFile(filepath.Join(o.dir, droppedFile), b); err != nil {
		o.log.Error("report: save dropped-event counts", "err", err)
	}
}

// Items returns the queued items in delivery order.
func (o *Outbox) Items() []*Item {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*Item(nil), o.items...)
}

// Len returns how many items are queued.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.items)
}

// Done removes delivered items and queues pending "dropped" events if
// there is room now.
func (o *Outbox) Done(seqs ...uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, seq := range seqs {
		if err := o.unlink(seq); err != nil {
			return err
		}
	}
	if err := enroll.SyncDir(o.dir); err != nil {
		return err
	}
	return o.putDropped()
}
