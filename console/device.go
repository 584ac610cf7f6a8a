package console

import (
	"context"
	"crypto/ed25519"
	"time"
)

// EnrollmentToken lets agents enroll devices into a group. Only a hash of
// its secret is stored.
type EnrollmentToken struct {
	ID         int64
	GroupID    int64
	Name       string
	SecretHash []byte // unique
	ExpiresAt  time.Time
	MaxUses    int
	Uses       int
	Revoked    bool
	CreatedBy  int64 // zero once the creator is deleted
	CreatedAt  time.Time
}

// MaxEnrollmentUses bounds EnrollmentToken.MaxUses.
const MaxEnrollmentUses = 100_000

// Validate checks the token's fields and bounds.
func (t *EnrollmentToken) Validate() error {
	switch {
	case t.GroupID <= 0:
		return Errorf(CodeInvalid, "enrollment token needs a device group")
	case t.ExpiresAt.IsZero():
		return Errorf(CodeInvalid, "enrollment token needs an expiry")
	case t.MaxUses < 1 || t.MaxUses > MaxEnrollmentUses:
		return Errorf(CodeInvalid, "max uses must be 1 to %d", MaxEnrollmentUses)
	}
	if err := checkText("token name", t.Name, MaxNameLen, true); err != nil {
		return err
	}
	return checkHash("token secret hash", t.SecretHash)
}

// Usable reports whether the token may enroll one more device at now.
func (t *EnrollmentToken) Usable(now time.Time) bool {
	return !t.Revoked && now.Before(t.ExpiresAt) && t.Uses < t.MaxUses
}

// ErrEnrollmentRefused is returned for an unknown, revoked, expired or
// used-up enrollment token alike, so that callers learn nothing about which.
var ErrEnrollmentRefused = &Error{Code: CodeUnauthorized, Message: "invalid or expired enrollment token"}

// EnrollmentService stores enrollment tokens and enrolls devices with them.
type EnrollmentService interface {
	CreateEnrollmentToken(ctx context.Context, t *EnrollmentToken) error
	FindEnrollmentTokenByID(ctx context.Context, id int64) (*EnrollmentToken, error)
	// FindEnrollmentTokens returns the tokens of a group (all groups if
	// groupID is zero), newest first.
	FindEnrollmentTokens(ctx context.Context, groupID int64) ([]*EnrollmentToken, error)
	RevokeEnrollmentToken(ctx context.Context, id int64) error

	// Enroll atomically takes one use of the token whose secret hashes to
	// secretHash and creates d in the token's group, setting d's ID,
	// GroupID, EnrollmentTokenID and EnrolledAt. It returns
	// ErrEnrollmentRefused if the token is unknown, revoked, expired or used
	// up, and ErrConflict if the public key is already enrolled; a refused
	// or failed enrollment takes no use.
	Enroll(ctx context.Context, secretHash []byte, d *Device) error
}

// Device is an enrolled endpoint.
type Device struct {
	ID                int64
	GroupID           int64
	Name              string            // display name, editable
	PublicKey         ed25519.PublicKey // the agent's key; unique
	EnrollmentTokenID int64             // zero once the token is deleted
	EnrolledAt        time.Time
	LastSeenAt        time.Time // zero: never seen since enrollment

	// Summary of the latest inventory, kept for lists and fleet search.
	Hostname        string
	OS              OSInfo
	DiskUsedPercent float64   // fullest disk, 0 to 100
	InventoryAt     time.Time // when the latest inventory arrived; zero: none yet
}

// Validate checks the fields an enrollment sets.
func (d *Device) Validate() error {
	if err := checkText("device name", d.Name, MaxNameLen, true); err != nil {
		return err
	}
	if len(d.PublicKey) != ed25519.PublicKeySize {
		return Errorf(CodeInvalid, "device public key must be %d bytes", ed25519.PublicKeySize)
	}
	return checkText("hostname", d.Hostname, MaxNameLen, false)
}

// DeviceUpdate changes the non-nil fields of a device.
type DeviceUpdate struct {
	Name    *string
	GroupID *int64
}

// DeviceFilter selects devices for the fleet view. Zero fields match
// everything; conditions combine with AND.
type DeviceFilter struct {
	// GroupIDs restricts the result to these groups; nil means every group
	// and an empty, non-nil slice means none.
	GroupIDs []int64
	// Name matches a case-insensitive substring of the name or hostname.
	Name string
	// OS matches a case-insensitive substring of the OS name.
	OS string
	// Software keeps devices with at least one matching package installed.
	Software *SoftwareQuery
	// DiskUsedAbove keeps devices whose fullest disk is more than this
	// percentage full.
	DiskUsedAbove float64
	// SeenBefore and SeenAfter bound LastSeenAt; devices never seen count as
	// seen before any time.
	SeenBefore, SeenAfter time.Time

	Cursor string // from DevicePage.Next; devices are ordered by name, then ID
	Limit  int    // see PageLimit
}

// Validate checks the filter's bounds.
func (f *DeviceFilter) Validate() error {
	if err := checkText("name filter", f.Name, MaxNameLen, false); err != nil {
		return err
	}
	if err := checkText("OS filter", f.OS, MaxNameLen, false); err != nil {
		return err
	}
	if f.Software != nil {
		if err := f.Software.Validate(); err != nil {
			return err
		}
	}
	if f.DiskUsedAbove < 0 || f.DiskUsedAbove > 100 {
		return Errorf(CodeInvalid, "disk usage must be 0 to 100 percent")
	}
	if len(f.GroupIDs) > MaxPageSize {
		return Errorf(CodeInvalid, "too many groups in filter")
	}
	return nil
}

// DevicePage is one page of devices; Next is empty on the last page.
type DevicePage struct {
	Devices []*Device
	Next    string
}

// DiagnosticStatus is the outcome of a diagnostic check.
type DiagnosticStatus string

// Diagnostic outcomes.
const (
	DiagnosticOK    DiagnosticStatus = "ok"
	DiagnosticWarn  DiagnosticStatus = "warn"
	DiagnosticFail  DiagnosticStatus = "fail"
	DiagnosticError DiagnosticStatus = "error" // the check itself could not run
)

// DiagnosticResult is the outcome of one diagnostic check run on a device,
// optionally attached to a ticket.
type DiagnosticResult struct {
	ID          int64
	DeviceID    int64
	TicketID    int64 // zero: not attached
	Check       string
	Status      DiagnosticStatus
	Output      []byte // JSON as the agent reported it; untrusted
	RequestedBy int64  // zero: scheduled or the requester was deleted
	StartedAt   time.Time
	FinishedAt  time.Time
	CreatedAt   time.Time
}

// Validate checks the result's fields and bounds.
func (r *DiagnosticResult) Validate() error {
	if r.DeviceID <= 0 {
		return Errorf(CodeInvalid, "diagnostic result needs a device")
	}
	if err := checkText("check", r.Check, MaxShortLen, true); err != nil {
		return err
	}
	switch r.Status {
	case DiagnosticOK, DiagnosticWarn, DiagnosticFail, DiagnosticError:
	default:
		return Errorf(CodeInvalid, "unknown diagnostic status %q", r.Status)
	}
	if r.FinishedAt.Before(r.StartedAt) {
		return Errorf(CodeInvalid, "diagnostic finished before it started")
	}
	return checkJSON("diagnostic output", r.Output, MaxDiagnostic)
}

// DiagnosticFilter selects diagnostic results, newest first. DeviceID or
// TicketID must be set.
type DiagnosticFilter struct {
	DeviceID int64
	TicketID int64
	Limit    int
}

// DeviceService stores devices, their inventory and diagnostics.
type DeviceService interface {
	FindDeviceByID(ctx context.Context, id int64) (*Device, error)
	// FindDevices is the fleet search; see DeviceFilter.
	FindDevices(ctx context.Context, f DeviceFilter) (*DevicePage, error)
	// CountDevices counts the devices FindDevices would page through.
	CountDevices(ctx context.Context, f DeviceFilter) (int, error)
	UpdateDevice(ctx context.Context, id int64, upd DeviceUpdate) (*Device, error)
	// DeleteDevice removes the device with its inventory and diagnostics;
	// its sessions and ticket links keep history without it.
	DeleteDevice(ctx context.Context, id int64) error
	// TouchDevice records that the device was seen at t; an earlier t than
	// the stored one is ignored.
	TouchDevice(ctx context.Context, id int64, t time.Time) error

	// IngestInventory stores a report as the device's latest inventory,
	// refreshes the search summary and software index, and records a
	// snapshot of every tracked section whose hash changed plus the
	// resulting InventoryChanges, all in one transaction.
	IngestInventory(ctx context.Context, r *InventoryReport) (*IngestResult, error)
	// FindInventory returns the latest inventory; ErrNotFound if none.
	FindInventory(ctx context.Context, deviceID int64) (*Inventory, error)
	// FindDeviceSoftware returns the device's software by name, then version.
	FindDeviceSoftware(ctx context.Context, deviceID int64) ([]Software, error)
	// FindInventorySnapshots returns, per section, the snapshot in effect at
	// f.Since followed by every later one, ordered by section then time.
	FindInventorySnapshots(ctx context.Context, f SnapshotFilter) ([]*InventorySnapshot, error)
	// FindInventoryChanges returns changes in ID (arrival) order.
	FindInventoryChanges(ctx context.Context, f ChangeFilter) ([]*InventoryChange, error)

	CreateDiagnosticResult(ctx context.Context, r *DiagnosticResult) error
	FindDiagnosticResultByID(ctx context.Context, id int64) (*DiagnosticResult, error)
	FindDiagnosticResults(ctx context.Context, f DiagnosticFilter) ([]*DiagnosticResult, error)
}
