// Package console holds the domain of the Reach console: users and roles,
// device groups and their permissions, enrollment, devices and inventory,
// tickets with SLA and escalation, remote sessions and their timelines, and
// the inputs of the KPIs.
//
// The package defines types, their validation and the service interfaces the
// storage adapters implement (console/sqlite, console/postgres); it imports no
// database or HTTP code. Every agent-reported value is untrusted: Validate
// methods bound sizes before anything is stored.
package console

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Store is everything the console persists. Implementations are safe for
// concurrent use.
type Store interface {
	UserService
	TeamService
	GroupService
	EnrollmentService
	DeviceService
	TicketService
	SLAPolicyService
	SessionService
	KPIService
	AgentService
	EscalationService
	WebhookService
	WebhookAdminService
	DiagnosticRunService
	AuthService
	RelayEventService

	// Close releases the store's connections.
	Close() error
}

// Page limits shared by every Find method that pages.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PageLimit returns n bounded to [1, MaxPageSize], DefaultPageSize for n <= 0.
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// Shared bounds.
const (
	MaxNameLen     = 200       // names of people, groups, teams, devices
	MaxEmailLen    = 254       // RFC 5321
	MaxPhoneLen    = 40        // phone numbers as typed
	MaxShortLen    = 100       // categories, section names, event types
	MaxTextLen     = 64 << 10  // ticket descriptions, comments
	MaxDetailBytes = 16 << 10  // JSON detail of events
	MaxBlobKeyLen  = 512       // blob references
	MaxHashLen     = 64        // stored hashes of secrets
	MaxDiagnostic  = 256 << 10 // diagnostic output
)

// checkText reports an invalid-input error unless s is valid UTF-8 without
// NUL bytes, at most max bytes long and, if required, not blank.
func checkText(field, s string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return Errorf(CodeInvalid, "%s is required", field)
	case len(s) > max:
		return Errorf(CodeInvalid, "%s is longer than %d bytes", field, max)
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return Errorf(CodeInvalid, "%s is not valid text", field)
	}
	return nil
}

// checkJSON reports an invalid-input error unless b is empty or valid JSON of
// at most max bytes.
func checkJSON(field string, b []byte, max int) error {
	switch {
	case len(b) == 0:
		return nil
	case len(b) > max:
		return Errorf(CodeInvalid, "%s is larger than %d bytes", field, max)
	case !json.Valid(b):
		return Errorf(CodeInvalid, "%s is not valid JSON", field)
	}
	return nil
}

// checkEmail reports an invalid-input error unless s looks like an address.
// Deliverability is not the store's business.
func checkEmail(field, s string, required bool) error {
	if s == "" && !required {
		return nil
	}
	if err := checkText(field, s, MaxEmailLen, true); err != nil {
		return err
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n<>") {
		return Errorf(CodeInvalid, "%s is not an email address", field)
	}
	return nil
}

// checkHash reports an invalid-input error unless h holds 16 to MaxHashLen bytes.
func checkHash(field string, h []byte) error {
	if len(h) < 16 || len(h) > MaxHashLen {
		return Errorf(CodeInvalid, "%s must be 16 to %d bytes", field, MaxHashLen)
	}
	return nil
}

// Period is a half-open time range [From, To). A zero bound is open.
type Period struct {
	From, To time.Time
}

// Validate checks that From is not after To.
func (p Period) Validate() error {
	if !p.From.IsZero() && !p.To.IsZero() && p.To.Before(p.From) {
		return Errorf(CodeInvalid, "period ends before it starts")
	}
	return nil
}
