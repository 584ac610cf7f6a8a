// Package buildinfo carries the version stamped into every Reach binary at
// link time (make build sets Version with -ldflags -X).
package buildinfo

// Version is the release or git description of this build; "dev" when unset.
var Version = "dev"
