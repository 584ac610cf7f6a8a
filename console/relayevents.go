package console

import (
	"context"
	"time"
)

// RelayCursor is how far the console has read one relay's audit events
// (proto.AuditPage): the relay's instance and the last sequence number
// stored. A new instance means the relay restarted and counts from 1 again.
type RelayCursor struct {
	Relay     string // the relay's URL, as configured
	Instance  string
	Seq       int64
	UpdatedAt time.Time // set by the store
}

// Validate bounds the cursor's fields.
func (c *RelayCursor) Validate() error {
	switch {
	case checkText("relay", c.Relay, MaxBlobKeyLen, true) != nil:
		return Errorf(CodeInvalid, "relay must be a URL of at most %d bytes", MaxBlobKeyLen)
	case checkText("relay instance", c.Instance, MaxShortLen, false) != nil:
		return Errorf(CodeInvalid, "relay instance must be at most %d bytes", MaxShortLen)
	case c.Seq < 0:
		return Errorf(CodeInvalid, "relay sequence number must not be negative")
	}
	return nil
}

// RelayEventService stores the relay's account of sessions.
type RelayEventService interface {
	// FindRelayCursor returns the cursor of relay; a zero cursor (Seq 0,
	// no instance) if nothing was read yet.
	FindRelayCursor(ctx context.Context, relay string) (*RelayCursor, error)
	// AppendRelayEvents appends events (source relay) and moves the cursor
	// to c in one transaction, so that a crash neither loses nor repeats
	// them. events may be empty to move the cursor alone.
	AppendRelayEvents(ctx context.Context, c *RelayCursor, events []*SessionEvent) error
}
