// Package inventory defines the versioned inventory and diagnostics schema an
// agent reports to the console: the Go types with their JSON encoding, the
// bounds that [Report.Validate] enforces on every string and list, per-section
// hashes and the [Delta] that carries only changed sections.
//
// A [Report] holds every section of a device's inventory. Each section, and
// each part of a section that comes from its own source, carries a [Status]:
// either the values were collected (OK) or they are unknown and Reason says
// why ("dmidecode not installed", "timed out after 5s"). Within an OK part an
// empty field means the source reported no value.
//
// Agent-reported data is untrusted at the console: [Decode] bounds the input
// size, decodes strictly (unknown fields are refused), checks the schema
// version, validates every field and verifies the section hashes. Errors are
// [*FieldError] values that wrap one of the sentinels in errors.go.
//
// The canonical form of a section is its encoding/json encoding after
// [Sections.Normalize]; its hash is the hex SHA-256 of that form. An agent
// sends a full report once, then deltas: [Diff] keeps the sections whose hash
// changed, and the console applies them with [Delta.Apply], which checks that
// the delta starts from the state the console holds.
package inventory
