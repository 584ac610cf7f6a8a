package console

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"time"
)

// Bounds of what agents send through the device-facing API (console/agentapi).
const (
	MaxIdempotencyKeyLen = 64   // an outbox item's key
	MaxReceiptBytes      = 4096 // the stored answer to a keyed request
	MaxCommandChecks     = 32   // checks one diagnostics command names
	MaxCheckNameLen      = 64
	MaxPendingCommands   = 16 // undelivered diagnostics commands per device
)

// AgentReceipt records the console's answer to one request an agent sent
// with an idempotency key, so that a retry of the same item gets the same
// answer and changes nothing.
type AgentReceipt struct {
	DeviceID  int64
	Key       string          // the outbox item's key, unique per device
	Kind      string          // "report", "diagnostics", …
	Status    int             // the HTTP status answered
	Result    json.RawMessage // the JSON body answered
	CreatedAt time.Time
}

// Validate checks the receipt's fields and bounds.
func (r *AgentReceipt) Validate() error {
	if r.DeviceID <= 0 {
		return Errorf(CodeInvalid, "receipt needs a device")
	}
	if !ValidIdempotencyKey(r.Key) {
		return Errorf(CodeInvalid, "invalid idempotency key")
	}
	if err := checkText("receipt kind", r.Kind, MaxShortLen, true); err != nil {
		return err
	}
	if r.Status < 100 || r.Status > 599 {
		return Errorf(CodeInvalid, "receipt status out of range")
	}
	return checkJSON("receipt result", r.Result, MaxReceiptBytes)
}

// ValidIdempotencyKey reports whether k is 1 to MaxIdempotencyKeyLen bytes
// of [A-Za-z0-9_-].
func ValidIdempotencyKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKeyLen {
		return false
	}
	for _, c := range []byte(k) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CommandKind is what a console asks an agent to do.
type CommandKind string

// Command kinds. There is deliberately no way to run anything else.
const (
	CommandInventory   CommandKind = "inventory"   // send an inventory report now
	CommandDiagnostics CommandKind = "diagnostics" // run diagnostics and send the results
)

// DeviceCommand is a request for an agent, kept until the agent has
// answered it so that a console restart loses none.
type DeviceCommand struct {
	ID          int64
	DeviceID    int64
	Kind        CommandKind
	Checks      []string // diagnostics: the checks to run; empty means all
	RequestedBy int64    // zero: the system or a deleted user
	CreatedAt   time.Time
	DeliveredAt time.Time // last handed to the agent; zero: never
	CompletedAt time.Time // the agent answered; zero: pending
}

// Validate checks the command's fields and bounds.
func (c *DeviceCommand) Validate() error {
	if c.DeviceID <= 0 {
		return Errorf(CodeInvalid, "command needs a device")
	}
	switch c.Kind {
	case CommandInventory:
		if len(c.Checks) > 0 {
			return Errorf(CodeInvalid, "an inventory command takes no checks")
		}
	case CommandDiagnostics:
		if len(c.Checks) > MaxCommandChecks {
			return Errorf(CodeInvalid, "at most %d checks", MaxCommandChecks)
		}
		for _, ch := range c.Checks {
			if !validSectionName(ch) || len(ch) > MaxCheckNameLen {
				return Errorf(CodeInvalid, "invalid check name")
			}
		}
	default:
		return Errorf(CodeInvalid, "unknown command kind")
	}
	return nil
}

// maxAgentSIDLen bounds AgentEvent.SID; it equals Session.RelaySID's bound.
const maxAgentSIDLen = 64

// AgentEvent is a session event an agent reported through its outbox,
// keyed by the relay's session id. The store links it to the console's
// session whose RelaySID it names, as soon as that is known, and copies it
// to that session's timeline.
type AgentEvent struct {
	ID         int64
	DeviceID   int64
	Key        string // the outbox item's key, unique per device
	SID        string // the relay's session id
	Type       string // consent, chat, clipboard, file, end, csat, …
	At         time.Time
	Detail     json.RawMessage // untrusted JSON, stored as received
	ReceivedAt time.Time
	SessionID  int64 // zero until the sid is linked to a session
	// Duplicate is set by AppendAgentEvents when the key was already
	// stored; the other fields are then the stored event's.
	Duplicate bool
}

// Validate checks the event's fields and bounds.
func (e *AgentEvent) Validate() error {
	if e.DeviceID <= 0 {
		return Errorf(CodeInvalid, "event needs a device")
	}
	if !ValidIdempotencyKey(e.Key) {
		return Errorf(CodeInvalid, "invalid idempotency key")
	}
	if err := checkText("relay session id", e.SID, maxAgentSIDLen, true); err != nil {
		return err
	}
	if !validSectionName(e.Type) {
		return Errorf(CodeInvalid, "invalid event type")
	}
	return checkJSON("event detail", e.Detail, MaxDetailBytes-timelineOverhead)
}

// timelineOverhead is room for TimelineDetail's wrapping of a detail.
const timelineOverhead = 256

// TimelineDetail returns the detail of the SessionEvent an agent event
// becomes on its session's timeline: {"agent_at": …, "sid": …, "detail": …}.
func TimelineDetail(e *AgentEvent) json.RawMessage {
	v := struct {
		AgentAt time.Time       `json:"agent_at"`
		SID     string          `json:"sid"`
		Detail  json.RawMessage `json:"detail,omitempty"`
	}{e.At.UTC(), e.SID, e.Detail}
	b, err := json.Marshal(v)
	if err != nil { // Detail is not JSON: Validate refuses that
		v.Detail = nil
		b, _ = json.Marshal(v)
	}
	return b
}

// AgentEventFilter selects agent events in arrival order.
type AgentEventFilter struct {
	DeviceID int64
	SID      string
	AfterID  int64
	Limit    int
}

// QuickKey is the ephemeral public key a quick-support (not enrolled) agent
// registered for a session code, so that the technician's browser can check
// the agent's signed DTLS fingerprint against a key that did not come
// through the relay.
type QuickKey struct {
	ID        int64
	CodeHash  []byte // SHA-256 of the session code; unique
	PublicKey ed25519.PublicKey
	ExpiresAt time.Time // with the code
	CreatedAt time.Time
}

// Validate checks the key's fields and bounds.
func (k *QuickKey) Validate() error {
	if len(k.CodeHash) != 32 {
		return Errorf(CodeInvalid, "code hash must be a SHA-256")
	}
	if len(k.PublicKey) != ed25519.PublicKeySize {
		return Errorf(CodeInvalid, "public key must be Ed25519")
	}
	if k.ExpiresAt.IsZero() {
		return Errorf(CodeInvalid, "quick key needs an expiry")
	}
	return nil
}

// QuickKeyService stores quick-support agents' ephemeral keys.
type QuickKeyService interface {
	// CreateQuickKey stores k and sets its ID and CreatedAt. The first key
	// registered for a code stays: registering the same key again returns
	// the stored one, another key ErrConflict.
	CreateQuickKey(ctx context.Context, k *QuickKey) error
	// FindQuickKey returns the key registered for the code whose SHA-256
	// is codeHash; ErrNotFound if there is none or it expired.
	FindQuickKey(ctx context.Context, codeHash []byte) (*QuickKey, error)
	// DeleteExpiredQuickKeys removes keys that expired before t.
	DeleteExpiredQuickKeys(ctx context.Context, t time.Time) (int64, error)
}

// AgentService stores what the device-facing API needs besides devices
// and inventory: answers to keyed requests, commands for agents, agent
// session events and quick-support keys.
type AgentService interface {
	QuickKeyService

	// FindAgentReceipt returns the receipt for (deviceID, key);
	// ErrNotFound if none.
	FindAgentReceipt(ctx context.Context, deviceID int64, key string) (*AgentReceipt, error)
	// CreateAgentReceipt stores r and sets CreatedAt; ErrConflict if the
	// key is taken.
	CreateAgentReceipt(ctx context.Context, r *AgentReceipt) error
	// DeleteAgentReceipts removes receipts created before t.
	DeleteAgentReceipts(ctx context.Context, t time.Time) (int64, error)

	// CreateDeviceCommand stores c and sets its ID and CreatedAt. An
	// inventory command while another one of the device is pending returns
	// that one instead; more than MaxPendingCommands pending diagnostics
	// commands is ErrConflict.
	CreateDeviceCommand(ctx context.Context, c *DeviceCommand) error
	FindDeviceCommandByID(ctx context.Context, id int64) (*DeviceCommand, error)
	// FindPendingCommands returns the device's commands created at or
	// after since that are not completed, oldest first.
	FindPendingCommands(ctx context.Context, deviceID int64, since time.Time) ([]*DeviceCommand, error)
	// MarkCommandsDelivered sets DeliveredAt of the device's commands ids.
	MarkCommandsDelivered(ctx context.Context, deviceID int64, ids []int64, t time.Time) error
	// CompleteInventoryCommands completes the device's pending inventory
	// commands created at or before t.
	CompleteInventoryCommands(ctx context.Context, deviceID int64, t time.Time) error
	// CommandDevicesAfter returns the devices of pending commands with an ID
	// above afterID, and the highest command ID (afterID if none is
	// higher), so that one query per interval can wake long polls on every
	// console node.
	CommandDevicesAfter(ctx context.Context, afterID int64) (devices []int64, maxID int64, err error)

	// RecordDiagnostics stores one diagnostics run: the results, the
	// completion of command commandID (zero: none) and the receipt r, all
	// in one transaction. If r's key is already stored it stores nothing
	// and returns the stored receipt; otherwise it returns r.
	RecordDiagnostics(ctx context.Context, r *AgentReceipt, commandID int64, results []*DiagnosticResult) (*AgentReceipt, error)
	// FindCommandDiagnostics returns the results recorded for a command.
	FindCommandDiagnostics(ctx context.Context, commandID int64) ([]*DiagnosticResult, error)

	// AppendAgentEvents stores the events of one device in one
	// transaction. An event whose key the device sent before is not stored
	// again: it is marked Duplicate and filled from the stored one. New
	// events are linked to the session whose RelaySID is their SID (and
	// whose device is theirs or none) and copied to its timeline as agent
	// events.
	AppendAgentEvents(ctx context.Context, events []*AgentEvent) error
	// LinkAgentEvents links the not yet linked events of relay session sid
	// to its console session, if known now, copying them to its timeline;
	// it returns how many it linked.
	LinkAgentEvents(ctx context.Context, sid string) (int, error)
	// FindAgentEvents returns agent events in arrival order.
	FindAgentEvents(ctx context.Context, f AgentEventFilter) ([]*AgentEvent, error)
}
