package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhook is a subscription: events of the given types are POSTed to URL,
// signed with Secret.
type Webhook struct {
	ID   int64
	Name string
	URL  string // http or https, without credentials
	// Secret is the HMAC-SHA256 key the deliveries are signed with. It is
	// stored as given, since signing needs it; the API shows it once.
	Secret     []byte
	EventTypes []string // empty: every event type
	Enabled    bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Webhook bounds.
const (
	MaxWebhookURLLen     = 2048
	MinWebhookSecretLen  = 16
	MaxWebhookSecretLen  = 256
	maxWebhookEventTypes = 32
)

// Validate checks the subscription's fields and bounds. Private and
// loopback addresses are allowed: the console is self-hosted and internal
// receivers are the common case (docs/webhooks.md).
func (w *Webhook) Validate() error {
	if err := checkText("webhook name", w.Name, MaxNameLen, true); err != nil {
		return err
	}
	if err := checkText("webhook URL", w.URL, MaxWebhookURLLen, true); err != nil {
		return err
	}
	u, err := url.Parse(w.URL)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return Errorf(CodeInvalid, "webhook URL is not an absolute URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return Errorf(CodeInvalid, "webhook URL must be http or https")
	case u.User != nil:
		return Errorf(CodeInvalid, "webhook URL must not hold credentials; receivers verify the signature")
	case u.Fragment != "":
		return Errorf(CodeInvalid, "webhook URL must not have a fragment")
	case len(w.Secret) < MinWebhookSecretLen || len(w.Secret) > MaxWebhookSecretLen:
		return Errorf(CodeInvalid, "webhook secret must be %d to %d bytes", MinWebhookSecretLen, MaxWebhookSecretLen)
	case len(w.EventTypes) > maxWebhookEventTypes:
		return Errorf(CodeInvalid, "more than %d event types", maxWebhookEventTypes)
	}
	for _, t := range w.EventTypes {
		if !ValidEventType(t) {
			return Errorf(CodeInvalid, "invalid event type %q", t)
		}
	}
	return nil
}

// ValidEventType reports whether t looks like an event type: two words of
// lower-case letters and underscores joined by a dot, as "ticket.created".
func ValidEventType(t string) bool {
	a, b, ok := strings.Cut(t, ".")
	return ok && len(t) <= MaxShortLen && lowerWord(a) && lowerWord(b)
}

func lowerWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}

// Subscribes reports whether w is enabled and wants events of type t.
func (w *Webhook) Subscribes(t string) bool {
	return w.Enabled && (len(w.EventTypes) == 0 || slices.Contains(w.EventTypes, t))
}

// DeliveryStatus is where a webhook delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its next attempt
	DeliveryDelivered DeliveryStatus = "delivered" // the receiver answered 2xx
	DeliveryFailed    DeliveryStatus = "failed"    // attempts or age used up
)

// WebhookEvent is one event to deliver to every subscribed webhook.
type WebhookEvent struct {
	Type    string
	At      time.Time // the first attempt is due then
	Payload []byte    // the JSON body, sent as is to every subscriber
}

// Webhook delivery bounds.
const (
	MaxWebhookPayload  = 256 << 10
	MaxDeliveryExcerpt = 512 // bytes of the last response or error kept
)

// Validate checks the event's fields and bounds.
func (e *WebhookEvent) Validate() error {
	switch {
	case !ValidEventType(e.Type):
		return Errorf(CodeInvalid, "invalid event type %q", e.Type)
	case e.At.IsZero():
		return Errorf(CodeInvalid, "event needs a time")
	}
	return checkJSON("webhook payload", e.Payload, MaxWebhookPayload)
}

// WebhookDelivery is one event for one subscriber, kept in the outbox
// until delivered or given up.
type WebhookDelivery struct {
	ID         int64
	WebhookID  int64
	DeliveryID string // unique, random; sent to the receiver for deduplication
	EventType  string
	Payload    []byte
	Status     DeliveryStatus
	Attempts   int
	// NextAttemptAt is when a pending delivery is due, or the end of the
	// lease of an attempt in progress.
	NextAttemptAt  time.Time
	LastAttemptAt  time.Time
	LastStatusCode int    // zero: no HTTP response
	LastError      string // at most MaxDeliveryExcerpt bytes
	CreatedAt      time.Time
	FinishedAt     time.Time // delivered or failed
}

// WebhookClaim is a delivery leased for an attempt, with where and how to
// send it.
type WebhookClaim struct {
	WebhookDelivery
	URL    string
	Secret []byte
}

// DeliveryOutcome is the result of one attempt.
type DeliveryOutcome struct {
	ID         int64
	Attempt    int // the claim's Attempts; a stale outcome is ignored
	Status     DeliveryStatus
	RetryAt    time.Time // Status pending: the next attempt
	StatusCode int
	Error      string // truncated to MaxDeliveryExcerpt bytes by the store
	At         time.Time
}

// WebhookDeliveryFilter selects deliveries, newest first.
type WebhookDeliveryFilter struct {
	WebhookID int64          // zero: every webhook
	Status    DeliveryStatus // empty: any
	BeforeID  int64          // keyset: deliveries with a smaller ID
	Limit     int            // see PageLimit
}

// NewDeliveryID returns a random delivery ID: 32 hex digits.
func NewDeliveryID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

// Excerpt returns s cut to at most n bytes of valid UTF-8 without NUL
// bytes, for storing what a remote party said.
func Excerpt(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// WebhookService stores webhook subscriptions and their delivery outbox.
type WebhookService interface {
	CreateWebhook(ctx context.Context, w *Webhook) error
	FindWebhookByID(ctx context.Context, id int64) (*Webhook, error)
	// FindWebhooks returns every subscription by ID.
	FindWebhooks(ctx context.Context) ([]*Webhook, error)
	// UpdateWebhook replaces the subscription with w.ID by w.
	UpdateWebhook(ctx context.Context, w *Webhook) error
	// DeleteWebhook removes the subscription and its deliveries.
	DeleteWebhook(ctx context.Context, id int64) error

	// EnqueueWebhookEvent stores one pending delivery of e for every
	// enabled webhook subscribed to e.Type, due at e.At, in one
	// transaction, and returns how many.
	EnqueueWebhookEvent(ctx context.Context, e *WebhookEvent) (int, error)
	// ClaimWebhookDeliveries leases up to limit pending deliveries due at
	// now, of enabled webhooks, oldest due first: their attempt count goes
	// up and they are not due again until now+lease, so that a delivery
	// whose dispatcher dies is retried. Concurrent claims never return the
	// same delivery.
	ClaimWebhookDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*WebhookClaim, error)
	// FinishWebhookDelivery records an attempt's outcome; it does nothing
	// if the delivery was claimed again since (o.Attempt is stale) or is
	// no longer pending.
	FinishWebhookDelivery(ctx context.Context, o *DeliveryOutcome) error
	FindWebhookDeliveries(ctx context.Context, f WebhookDeliveryFilter) ([]*WebhookDelivery, error)
	// PurgeWebhookDeliveries removes delivered and failed deliveries
	// finished before before, and returns how many.
	PurgeWebhookDeliveries(ctx context.Context, before time.Time) (int, error)
}
