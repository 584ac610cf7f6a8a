package console

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Inventory bounds. Reports come from agents and are untrusted.
const (
	MaxInventoryBytes  = 8 << 20 // a whole report; equals proto/inventory.MaxReportSize
	MaxSections        = 32
	MaxSectionNameLen  = 64
	MaxSoftware        = 10_000
	MaxSoftwareNameLen = 256
	MaxVersionLen      = 128
	MaxDisks           = 256
)

// OSInfo names an operating system, e.g. {"Ubuntu", "24.04"} or
// {"Windows 11 Pro", "10.0.22631"}.
type OSInfo struct {
	Name    string
	Version string
}

// Software is one installed package.
type Software struct {
	Name      string
	Version   string
	Publisher string
}

// Disk is one mounted volume.
type Disk struct {
	Mount      string
	TotalBytes uint64
	UsedBytes  uint64
}

// InventoryReport is one inventory upload from an agent, already decoded by
// the protocol layer. Raw is the document as received; Sections are its
// tracked parts, whose changes are recorded as history, so volatile values
// (usage counters, uptime) belong in Raw only. Hostname, OS, Software and
// Disks are the facts fleet search indexes.
type InventoryReport struct {
	DeviceID      int64
	SchemaVersion int
	CollectedAt   time.Time // the agent's clock: informative only
	ReceivedAt    time.Time // the console's clock; zero means the store's now

	Raw      json.RawMessage
	Sections map[string]json.RawMessage

	Hostname string
	OS       OSInfo
	Software []Software
	Disks    []Disk

	// CompleteCommandsBefore, when set, completes the device's pending
	// inventory commands created at or before it: the report answers them.
	CompleteCommandsBefore time.Time
	// Receipt, when set, is the idempotency receipt of the request that
	// carried the report, stored in the ingestion's transaction so that a
	// report is never stored without its receipt nor the receipt without
	// the report.
	Receipt *IngestReceipt
}

// IngestReceipt describes the receipt IngestInventory stores with a report.
// If the device already holds a receipt with Key, nothing is ingested and
// the stored receipt is returned in IngestResult.Replayed.
type IngestReceipt struct {
	Key    string
	Kind   string
	Status int
	// Result returns the answer to store given what the ingestion changed;
	// it runs inside the transaction and must not block.
	Result func(*IngestResult) (json.RawMessage, error)
}

// Receipt returns the receipt to store for a report of deviceID given the
// ingestion's result res, validated, created at t.
func (r *IngestReceipt) Receipt(deviceID int64, res *IngestResult, t time.Time) (*AgentReceipt, error) {
	if r.Result == nil {
		return nil, Errorf(CodeInvalid, "receipt needs a result")
	}
	b, err := r.Result(res)
	if err != nil {
		return nil, fmt.Errorf("encode receipt result: %w", err)
	}
	rc := &AgentReceipt{DeviceID: deviceID, Key: r.Key, Kind: r.Kind, Status: r.Status, Result: b, CreatedAt: t}
	if err := rc.Validate(); err != nil {
		return nil, err
	}
	return rc, nil
}

// Validate checks the report's bounds.
func (r *InventoryReport) Validate() error {
	if r.DeviceID <= 0 {
		return Errorf(CodeInvalid, "inventory needs a device")
	}
	if r.SchemaVersion < 1 {
		return Errorf(CodeInvalid, "inventory needs a schema version")
	}
	if rc := r.Receipt; rc != nil {
		probe := AgentReceipt{DeviceID: r.DeviceID, Key: rc.Key, Kind: rc.Kind, Status: rc.Status, Result: json.RawMessage("{}")}
		if err := probe.Validate(); err != nil {
			return err
		}
	}
	if len(r.Raw) == 0 {
		return Errorf(CodeInvalid, "inventory is empty")
	}
	if err := checkJSON("inventory", r.Raw, MaxInventoryBytes); err != nil {
		return err
	}
	if len(r.Sections) > MaxSections {
		return Errorf(CodeInvalid, "inventory has more than %d sections", MaxSections)
	}
	for name, b := range r.Sections {
		if !validSectionName(name) {
			return Errorf(CodeInvalid, "invalid inventory section name")
		}
		if err := checkJSON("inventory section "+name, b, MaxInventoryBytes); err != nil {
			return err
		}
	}
	if err := checkText("hostname", r.Hostname, MaxNameLen, false); err != nil {
		return err
	}
	if err := checkText("OS name", r.OS.Name, MaxNameLen, false); err != nil {
		return err
	}
	if err := checkText("OS version", r.OS.Version, MaxVersionLen, false); err != nil {
		return err
	}
	if len(r.Software) > MaxSoftware {
		return Errorf(CodeInvalid, "inventory lists more than %d packages", MaxSoftware)
	}
	for _, s := range r.Software {
		if err := checkText("software name", s.Name, MaxSoftwareNameLen, true); err != nil {
			return err
		}
		if err := checkText("software version", s.Version, MaxVersionLen, false); err != nil {
			return err
		}
		if err := checkText("software publisher", s.Publisher, MaxSoftwareNameLen, false); err != nil {
			return err
		}
	}
	if len(r.Disks) > MaxDisks {
		return Errorf(CodeInvalid, "inventory lists more than %d disks", MaxDisks)
	}
	for _, d := range r.Disks {
		if err := checkText("disk mount", d.Mount, MaxNameLen, true); err != nil {
			return err
		}
		if d.UsedBytes > d.TotalBytes {
			return Errorf(CodeInvalid, "disk %q uses more than its size", d.Mount)
		}
	}
	return nil
}

// validSectionName accepts [a-z0-9_]{1,MaxSectionNameLen}.
func validSectionName(s string) bool {
	if s == "" || len(s) > MaxSectionNameLen {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// DiskUsedPercent returns how full the fullest disk of r is, 0 to 100.
func (r *InventoryReport) DiskUsedPercent() float64 {
	var top float64
	for _, d := range r.Disks {
		if d.TotalBytes == 0 {
			continue
		}
		if p := 100 * float64(d.UsedBytes) / float64(d.TotalBytes); p > top {
			top = p
		}
	}
	return top
}

// NormalizeSoftware returns sw trimmed, sorted by name then version, with
// exact duplicates removed.
func NormalizeSoftware(sw []Software) []Software {
	out := make([]Software, 0, len(sw))
	for _, s := range sw {
		s.Name = strings.TrimSpace(s.Name)
		s.Version = strings.TrimSpace(s.Version)
		s.Publisher = strings.TrimSpace(s.Publisher)
		out = append(out, s)
	}
	slices.SortFunc(out, compareSoftware)
	return slices.CompactFunc(out, func(a, b Software) bool {
		return a.Name == b.Name && a.Version == b.Version
	})
}

func compareSoftware(a, b Software) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Version, b.Version)
}

// SoftwareDelta returns the entries of prev missing from next and the
// entries of next missing from prev, in their slices' order.
func SoftwareDelta(prev, next []Software) (removed, added []Software) {
	inPrev := make(map[Software]bool, len(prev))
	for _, s := range prev {
		inPrev[s] = true
	}
	inNext := make(map[Software]bool, len(next))
	for _, s := range next {
		inNext[s] = true
		if !inPrev[s] {
			added = append(added, s)
		}
	}
	for _, s := range prev {
		if !inNext[s] {
			removed = append(removed, s)
		}
	}
	return removed, added
}

// SectionHash returns the hex SHA-256 of a section's bytes.
func SectionHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// SoftwareHash returns a hex SHA-256 over normalized software, so that an
// unchanged list can skip rewriting the index.
func SoftwareHash(sw []Software) string {
	h := sha256.New()
	for _, s := range sw {
		h.Write([]byte(s.Name))
		h.Write([]byte{0})
		h.Write([]byte(s.Version))
		h.Write([]byte{0})
		h.Write([]byte(s.Publisher))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Inventory is a device's latest inventory.
type Inventory struct {
	DeviceID      int64
	SchemaVersion int
	Raw           json.RawMessage
	SectionHashes map[string]string // section name → SectionHash
	CollectedAt   time.Time
	ReceivedAt    time.Time
}

// InventorySnapshot is a tracked section as it was from ReceivedAt until
// the next snapshot of the same section.
type InventorySnapshot struct {
	ID         int64
	DeviceID   int64
	Section    string
	Hash       string
	Data       json.RawMessage
	ReceivedAt time.Time
}

// SnapshotFilter selects inventory snapshots of one device.
type SnapshotFilter struct {
	DeviceID int64
	Section  string    // empty: every section
	Since    time.Time // zero: the whole history
}

// ChangeOp is the kind of an InventoryChange.
type ChangeOp string

// Inventory change kinds.
const (
	ChangeAdded   ChangeOp = "added"   // a package appeared
	ChangeRemoved ChangeOp = "removed" // a package disappeared
	ChangeUpdated ChangeOp = "updated" // a package or the OS changed version
	ChangeSection ChangeOp = "section" // a tracked section changed; see its snapshots
)

// InventoryChange is one entry of a device's "what changed" feed. For
// packages Key is the name and Old/New the versions; for the OS Key is "os"
// and Old/New "name version"; for sections Key is empty and Old/New the
// section hashes (empty when the section appeared or disappeared).
type InventoryChange struct {
	ID       int64
	DeviceID int64
	At       time.Time
	Section  string
	Op       ChangeOp
	Key      string
	Old      string
	New      string
}

// ChangeFilter selects inventory changes. Zero fields match everything.
type ChangeFilter struct {
	DeviceID int64
	Section  string
	Since    time.Time // changes at or after Since
	AfterID  int64     // keyset: changes with a greater ID
	Limit    int
}

// IngestResult tells what an ingestion changed.
type IngestResult struct {
	Replayed        *AgentReceipt // the request's receipt was already stored: nothing was ingested
	First           bool          // the device had no inventory before
	ChangedSections []string      // tracked sections whose hash changed, sorted
	Changes         []*InventoryChange
}

// DiffSoftware returns the package changes from prev to next, both normalized.
// Packages are keyed by name; several installed versions of one name
// compare as their sorted, comma-joined versions.
func DiffSoftware(deviceID int64, at time.Time, prev, next []Software) []*InventoryChange {
	ov, nv := versionsByName(prev), versionsByName(next)
	var out []*InventoryChange
	add := func(op ChangeOp, name, o, n string) {
		out = append(out, &InventoryChange{DeviceID: deviceID, At: at, Section: "software", Op: op, Key: name, Old: o, New: n})
	}
	for _, name := range sortedKeys(ov, nv) {
		o, inOld := ov[name]
		n, inNew := nv[name]
		switch {
		case !inOld:
			add(ChangeAdded, name, "", n)
		case !inNew:
			add(ChangeRemoved, name, o, "")
		case o != n:
			add(ChangeUpdated, name, o, n)
		}
	}
	return out
}

func versionsByName(sw []Software) map[string]string {
	m := make(map[string]string, len(sw))
	for _, s := range sw {
		if v, ok := m[s.Name]; ok {
			m[s.Name] = v + ", " + s.Version
		} else {
			m[s.Name] = s.Version
		}
	}
	return m
}

// DiffSections returns one ChangeSection entry per tracked section whose
// hash differs between the prev and next hash maps.
func DiffSections(deviceID int64, at time.Time, prev, next map[string]string) []*InventoryChange {
	var out []*InventoryChange
	for _, name := range sortedKeys(prev, next) {
		if o, n := prev[name], next[name]; o != n {
			out = append(out, &InventoryChange{DeviceID: deviceID, At: at, Section: name, Op: ChangeSection, Old: o, New: n})
		}
	}
	return out
}

// sortedKeys returns the union of the keys of a and b, sorted.
func sortedKeys(a, b map[string]string) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// String returns "name version", or "" for an unknown OS.
func (o OSInfo) String() string { return strings.TrimSpace(o.Name + " " + o.Version) }
