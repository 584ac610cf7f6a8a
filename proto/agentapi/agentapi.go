// Package agentapi defines the wire format of the console's device-facing
// HTTP API (/agent/v1/, docs/agent-api.md): the request and response bodies
// the agent and console exchange, and the Ed25519 request signatures that
// authenticate an enrolled agent.
//
// Both sides import it: console/agentapi serves the API, agent/enroll and
// agent/report call it. It depends only on the standard library and
// proto/inventory.
package agentapi

import (
	"encoding/json"
	"time"

	"github.com/reachdesk/reach/proto/inventory"
)

// Version is the API's version, the v1 in /agent/v1/.
//
// Changelog:
//   - 1 (2026-11-23): enroll, token, reports, diagnostics, events, commands, quick.
const Version = 1

// Prefix is where the API is mounted on the console.
const Prefix = "/agent/v1/"

// Paths of the endpoints, below the console's base URL.
const (
	PathEnroll      = Prefix + "enroll"
	PathToken       = Prefix + "token"
	PathReports     = Prefix + "reports"
	PathDiagnostics = Prefix + "diagnostics"
	PathEvents      = Prefix + "events"
	PathCommands    = Prefix + "commands"
	PathQuick       = Prefix + "quick"
)

// Bounds of request bodies, checked by the console before parsing.
const (
	MaxEnrollSize = inventory.MaxReportSize + 64<<10
	MaxReportSize = inventory.MaxReportSize + 4<<10
	MaxDiagSize   = inventory.MaxDiagSize + 4<<10
	MaxEventsSize = 4 << 20
	MaxQuickSize  = 4 << 10
	MaxEvents     = 500 // events in one POST /agent/v1/events
	MaxWait       = 60 * time.Second
	MaxSecretLen  = 256 // an enrollment secret
	MaxHostname   = 256
)

// EnrollRequest is the body of POST /agent/v1/enroll.
type EnrollRequest struct {
	// Token is the enrollment secret an administrator created.
	Token string `json:"token"`
	// PublicKey is the device's Ed25519 public key, base64 of the raw 32
	// bytes.
	PublicKey string `json:"public_key"`
	// Hostname names the device until someone renames it.
	Hostname string `json:"hostname"`
	// Inventory is the device's first full report; optional.
	Inventory json.RawMessage `json:"inventory,omitempty"`
}

// EnrollResponse is the answer to a successful enrollment (201).
type EnrollResponse struct {
	DeviceID string `json:"device_id"`
	// Token is the device's relay token (see TokenResponse).
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	// ConsoleKeys are the console's public keys (base64 raw Ed25519) that
	// sign technicians' session grants and relay tokens.
	ConsoleKeys []string `json:"console_keys"`
	// RelayURL is the relay's base URL (wss://…), empty if the console
	// does not know one.
	RelayURL string `json:"relay_url,omitempty"`
	// Inventory is the console's answer to the first report, if one was
	// sent and accepted.
	Inventory *ReportResponse `json:"inventory,omitempty"`
	// ReportInterval is how often the console wants inventory, in seconds.
	ReportInterval int `json:"report_interval_s"`
}

// TokenResponse is the answer to GET /agent/v1/token: a fresh relay token
// for the device.
type TokenResponse struct {
	Token       string    `json:"token"`
	ExpiresAt   time.Time `json:"expires_at"`
	ConsoleKeys []string  `json:"console_keys"`
	RelayURL    string    `json:"relay_url,omitempty"`
}

// ReportRequest is the body of POST /agent/v1/reports: exactly one of Full
// and Delta.
type ReportRequest struct {
	Key   string          `json:"key"`             // idempotency key of the outbox item
	Full  json.RawMessage `json:"full,omitempty"`  // an inventory.Report
	Delta json.RawMessage `json:"delta,omitempty"` // an inventory.Delta
}

// ReportResponse is the answer to an accepted report: the state the console
// now holds, which the next delta must start from.
type ReportResponse struct {
	State   string   `json:"state"`
	Changed []string `json:"changed,omitempty"` // sections whose hash changed
}

// DiagnosticsRequest is the body of POST /agent/v1/diagnostics.
type DiagnosticsRequest struct {
	Key       string          `json:"key"`
	CommandID int64           `json:"command_id,omitempty"` // the command answered; zero: none
	Report    json.RawMessage `json:"report"`               // an inventory.DiagReport
}

// DiagnosticsResponse is the answer to accepted diagnostics.
type DiagnosticsResponse struct {
	Stored int `json:"stored"` // results stored
}

// Event is one session event an agent reports.
type Event struct {
	Key    string          `json:"key"`  // idempotency key
	SID    string          `json:"sid"`  // the relay's session id
	Type   string          `json:"type"` // see the Event* constants
	At     time.Time       `json:"at"`   // the agent's clock
	Detail json.RawMessage `json:"detail,omitempty"`
}

// Event types the agent sends. The console stores others as they are.
const (
	EventConsent     = "consent"     // {"decision": "view"|"control"|"denied"|"timeout"|"not_required"}
	EventPermissions = "permissions" // {"permissions": [...]}: what the technician may do now
	EventChat        = "chat"        // {"from": "user"|"technician", "text": …}
	EventClipboard   = "clipboard"   // {"direction": "to_device"|"from_device", "bytes": n}
	EventFile        = "file"        // {"direction": …, "name": …, "bytes": n}
	EventEnd         = "end"         // {"reason": …}
	EventCSAT        = "csat"        // {"score": 1-5, "comment": …}
	EventDropped     = "dropped"     // {"count": n}: events the outbox refused when full
)

// EventsRequest is the body of POST /agent/v1/events.
type EventsRequest struct {
	Events []Event `json:"events"`
}

// EventResult is the console's answer for one event.
type EventResult struct {
	Key       string `json:"key"`
	ID        int64  `json:"id"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// EventsResponse answers EventsRequest, one result per event in order.
type EventsResponse struct {
	Events []EventResult `json:"events"`
}

// Command kinds.
const (
	CommandInventory   = "inventory"
	CommandDiagnostics = "diagnostics"
)

// Command is something the console asks the agent to do.
type Command struct {
	ID     int64    `json:"id"`
	Kind   string   `json:"kind"`
	Checks []string `json:"checks,omitempty"` // diagnostics; empty: all
}

// CommandsResponse answers GET /agent/v1/commands?wait=50s.
type CommandsResponse struct {
	Commands []Command `json:"commands"`
}

// QuickRequest is the body of POST /agent/v1/quick.
type QuickRequest struct {
	Code      string `json:"code"`       // the session code the end user typed
	PublicKey string `json:"public_key"` // base64 raw Ed25519, ephemeral
}

// QuickResponse is the answer to a registered quick-support key.
type QuickResponse struct {
	ExpiresAt   time.Time `json:"expires_at"`
	Token       string    `json:"token"` // a relay token for this quick agent
	ConsoleKeys []string  `json:"console_keys"`
	RelayURL    string    `json:"relay_url,omitempty"`
}

// Error is the body of every error answer.
type Error struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody says what went wrong; Code is for programs, Message for people.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// State is set with CodeBaseMismatch: the state the console holds.
	State string `json:"state,omitempty"`
}

// Error codes.
const (
	CodeInvalid           = "invalid"            // the request is malformed or fails validation (400)
	CodeTooLarge          = "too_large"          // the body is over its bound (413)
	CodeUnauthorized      = "unauthorized"       // bad, expired or replayed signature (401)
	CodeClockSkew         = "clock_skew"         // the signature's time is too far from the console's (401); see the Date header
	CodeUnknownDevice     = "unknown_device"     // the device is not enrolled (any more) (401)
	CodeEnrollmentRefused = "enrollment_refused" // wrong, expired, used-up or revoked token (401)
	CodeConflict          = "conflict"           // e.g. the key is already enrolled (409)
	CodeBaseMismatch      = "base_mismatch"      // a delta for another state: send a full report (409)
	CodeUnsupported       = "unsupported_schema" // the inventory schema is not this console's (422)
	CodeRateLimited       = "rate_limited"       // retry after the Retry-After header (429)
	CodeUnavailable       = "unavailable"        // a console-side dependency is missing or down (503)
	CodeInternal          = "internal"           // (500)
)

// DiagChecks are the diagnostics an agent can run, in the order it runs
// them (agent/diag). A diagnostics command may name only these.
var DiagChecks = []string{"disk_space", "top_processes", "failed_services", "error_log", "dns", "gateway", "console",
	"time_sync", "pending_reboot"}
