package console

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Priority is a ticket's urgency, P1 (highest) to P4.
type Priority int

// Priorities.
const (
	P1 Priority = 1
	P2 Priority = 2
	P3 Priority = 3
	P4 Priority = 4
)

// Valid reports whether p is P1 to P4.
func (p Priority) Valid() bool { return p >= P1 && p <= P4 }

// String returns "P1" to "P4".
func (p Priority) String() string { return fmt.Sprintf("P%d", int(p)) }

// Status is where a ticket is in its life.
type Status string

// Ticket statuses.
const (
	StatusNew      Status = "new"
	StatusOpen     Status = "open"
	StatusPending  Status = "pending" // waiting on the requester; the SLA clock pauses
	StatusResolved Status = "resolved"
	StatusClosed   Status = "closed"
	StatusReopened Status = "reopened"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusNew, StatusOpen, StatusPending, StatusResolved, StatusClosed, StatusReopened:
		return true
	}
	return false
}

// Done reports whether s is resolved or closed.
func (s Status) Done() bool { return s == StatusResolved || s == StatusClosed }

// Channel is how a ticket came in.
type Channel string

// Ticket channels.
const (
	ChannelPhone  Channel = "phone"
	ChannelEmail  Channel = "email"
	ChannelChat   Channel = "chat"
	ChannelPortal Channel = "portal"
	ChannelAgent  Channel = "agent" // raised from the agent on the device
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	switch c {
	case ChannelPhone, ChannelEmail, ChannelChat, ChannelPortal, ChannelAgent:
		return true
	}
	return false
}

// Requester is the person a ticket is for; usually not a console user.
type Requester struct {
	Name  string
	Email string
	Phone string
}

// Ticket is a help-desk case.
type Ticket struct {
	ID          int64
	Title       string
	Description string
	Requester   Requester
	Channel     Channel
	Category    string
	Priority    Priority
	Status      Status
	AssigneeID  int64 // zero: unassigned
	TeamID      int64 // zero: no team
	Level       Level // escalation level, L1 to L3
	SLAPolicyID int64 // zero: no SLA

	// SLA clock, kept by the SLA engine. Zero times mean "not set".
	FirstResponseDue time.Time
	ResolutionDue    time.Time
	FirstRespondedAt time.Time
	ResolvedAt       time.Time
	PausedAt         time.Time     // the clock has been paused since; zero while it runs
	PausedFor        time.Duration // total paused time before PausedAt

	ReopenCount int
	DeviceIDs   []int64 // linked devices, ascending
	Version     int64   // increments on every update
	CreatedBy   int64   // zero: the requester (portal, email) or a deleted user
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Ticket bounds.
const (
	MaxTitleLen = 200
	MaxDevices  = 100 // linked to one ticket
)

// Validate checks the ticket's fields and bounds.
func (t *Ticket) Validate() error {
	if err := checkText("title", t.Title, MaxTitleLen, true); err != nil {
		return err
	}
	if err := checkText("description", t.Description, MaxTextLen, false); err != nil {
		return err
	}
	if err := checkText("requester name", t.Requester.Name, MaxNameLen, false); err != nil {
		return err
	}
	if err := checkEmail("requester email", t.Requester.Email, false); err != nil {
		return err
	}
	if err := checkText("requester phone", t.Requester.Phone, MaxPhoneLen, false); err != nil {
		return err
	}
	if err := checkText("category", t.Category, MaxShortLen, false); err != nil {
		return err
	}
	switch {
	case !t.Channel.Valid():
		return Errorf(CodeInvalid, "unknown channel %q", t.Channel)
	case !t.Priority.Valid():
		return Errorf(CodeInvalid, "priority must be P1 to P4")
	case !t.Status.Valid():
		return Errorf(CodeInvalid, "unknown status %q", t.Status)
	case !t.Level.Valid():
		return Errorf(CodeInvalid, "escalation level must be L1 to L3")
	case t.PausedFor < 0 || t.ReopenCount < 0:
		return Errorf(CodeInvalid, "negative SLA pause or reopen count")
	case len(t.DeviceIDs) > MaxDevices:
		return Errorf(CodeInvalid, "more than %d linked devices", MaxDevices)
	}
	return nil
}

// NextDue returns the earliest deadline whose clock runs: the first-response
// deadline until the first response, the resolution deadline until
// resolution. It is zero while the clock is paused, once the ticket is
// resolved or closed, and when no deadline is set.
func (t *Ticket) NextDue() time.Time {
	if t.Status.Done() || !t.PausedAt.IsZero() {
		return time.Time{}
	}
	var due time.Time
	if t.FirstRespondedAt.IsZero() && !t.FirstResponseDue.IsZero() {
		due = t.FirstResponseDue
	}
	if t.ResolvedAt.IsZero() && !t.ResolutionDue.IsZero() && (due.IsZero() || t.ResolutionDue.Before(due)) {
		due = t.ResolutionDue
	}
	return due
}

// SLAState is where a ticket stands against its deadlines right now.
type SLAState string

// SLA states.
const (
	SLANone     SLAState = "none"     // no running deadline
	SLAOK       SLAState = "ok"       // the next deadline is further than the warning window
	SLAWarning  SLAState = "warning"  // the next deadline is within the warning window
	SLABreached SLAState = "breached" // a running deadline has passed
	SLAPaused   SLAState = "paused"   // the clock is paused
)

// Valid reports whether s is a known state.
func (s SLAState) Valid() bool {
	switch s {
	case SLANone, SLAOK, SLAWarning, SLABreached, SLAPaused:
		return true
	}
	return false
}

// SLAState returns the ticket's state at now with a warning window.
func (t *Ticket) SLAState(now time.Time, warn time.Duration) SLAState {
	if !t.Status.Done() && !t.PausedAt.IsZero() {
		return SLAPaused
	}
	due := t.NextDue()
	switch {
	case due.IsZero():
		return SLANone
	case due.Before(now):
		return SLABreached
	case due.Before(now.Add(warn)):
		return SLAWarning
	}
	return SLAOK
}

// FieldChange is one changed field in a TicketEvent.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// TicketUpdate changes the non-nil fields of a ticket. A pointer to a zero
// ID or time clears the field.
type TicketUpdate struct {
	Title       *string
	Description *string
	Requester   *Requester
	Channel     *Channel
	Category    *string
	Priority    *Priority
	Status      *Status
	AssigneeID  *int64
	TeamID      *int64
	Level       *Level
	SLAPolicyID *int64

	FirstResponseDue *time.Time
	ResolutionDue    *time.Time
	FirstRespondedAt *time.Time
	ResolvedAt       *time.Time
	PausedAt         *time.Time
	PausedFor        *time.Duration

	ActorID   int64 // who makes the change; zero: the system
	IfVersion int64 // if not zero, ErrConflict unless the ticket is at this version
}

// Apply copies the non-nil fields of upd into t and returns what changed.
// Moving a resolved or closed ticket to reopened counts a reopen.
func (upd *TicketUpdate) Apply(t *Ticket) []FieldChange {
	var ch []FieldChange
	str := func(field string, dst *string, src *string) {
		if src != nil && *src != *dst {
			ch = append(ch, FieldChange{field, *dst, *src})
			*dst = *src
		}
	}
	id := func(field string, dst *int64, src *int64) {
		if src != nil && *src != *dst {
			ch = append(ch, FieldChange{field, formatID(*dst), formatID(*src)})
			*dst = *src
		}
	}
	tm := func(field string, dst *time.Time, src *time.Time) {
		if src != nil && !src.Equal(*dst) {
			ch = append(ch, FieldChange{field, formatTime(*dst), formatTime(*src)})
			*dst = *src
		}
	}
	str("title", &t.Title, upd.Title)
	str("description", &t.Description, upd.Description)
	if r := upd.Requester; r != nil {
		str("requester_name", &t.Requester.Name, &r.Name)
		str("requester_email", &t.Requester.Email, &r.Email)
		str("requester_phone", &t.Requester.Phone, &r.Phone)
	}
	if upd.Channel != nil && *upd.Channel != t.Channel {
		ch = append(ch, FieldChange{"channel", string(t.Channel), string(*upd.Channel)})
		t.Channel = *upd.Channel
	}
	str("category", &t.Category, upd.Category)
	if upd.Priority != nil && *upd.Priority != t.Priority {
		ch = append(ch, FieldChange{"priority", t.Priority.String(), upd.Priority.String()})
		t.Priority = *upd.Priority
	}
	if upd.Status != nil && *upd.Status != t.Status {
		ch = append(ch, FieldChange{"status", string(t.Status), string(*upd.Status)})
		if t.Status.Done() && *upd.Status == StatusReopened {
			t.ReopenCount++
		}
		t.Status = *upd.Status
	}
	id("assignee", &t.AssigneeID, upd.AssigneeID)
	id("team", &t.TeamID, upd.TeamID)
	if upd.Level != nil && *upd.Level != t.Level {
		ch = append(ch, FieldChange{"level", t.Level.String(), upd.Level.String()})
		t.Level = *upd.Level
	}
	id("sla_policy", &t.SLAPolicyID, upd.SLAPolicyID)
	tm("first_response_due", &t.FirstResponseDue, upd.FirstResponseDue)
	tm("resolution_due", &t.ResolutionDue, upd.ResolutionDue)
	tm("first_responded_at", &t.FirstRespondedAt, upd.FirstRespondedAt)
	tm("resolved_at", &t.ResolvedAt, upd.ResolvedAt)
	tm("paused_at", &t.PausedAt, upd.PausedAt)
	if upd.PausedFor != nil && *upd.PausedFor != t.PausedFor {
		ch = append(ch, FieldChange{"paused_for", t.PausedFor.String(), upd.PausedFor.String()})
		t.PausedFor = *upd.PausedFor
	}
	return ch
}

func formatID(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// TicketSort orders a ticket queue.
type TicketSort string

// Ticket orders. Ties break on ID in the same direction.
const (
	SortNewest  TicketSort = "newest"  // created, newest first (the default)
	SortUpdated TicketSort = "updated" // last update, most recent first
	SortDue     TicketSort = "due"     // next SLA deadline, soonest first, none last
)

// Valid reports whether s is a known order; the zero value is SortNewest.
func (s TicketSort) Valid() bool {
	switch s {
	case "", SortNewest, SortUpdated, SortDue:
		return true
	}
	return false
}

// TicketFilter selects tickets for a queue. Zero fields match everything;
// conditions combine with AND, values inside a slice with OR.
type TicketFilter struct {
	Statuses   []Status
	Priorities []Priority
	AssigneeID int64
	Unassigned bool // only tickets without an assignee
	TeamID     int64
	Level      Level
	Category   string
	DeviceID   int64 // only tickets linked to this device

	// Text matches tickets whose title, description or requester contain
	// every word of Text as a word prefix (case-insensitive). A Text of the
	// form "#123" matches ticket 123 only.
	Text string

	// SLA keeps tickets in this state at Now (the store's clock when zero)
	// with the WarnWithin window (DefaultSLAWarning when zero).
	SLA        SLAState
	Now        time.Time
	WarnWithin time.Duration

	Sort   TicketSort
	Cursor string // from TicketPage.Next with the same Sort
	Limit  int    // see PageLimit
}

// DefaultSLAWarning is the warning window used when a filter sets none.
const DefaultSLAWarning = time.Hour

// Filter bounds.
const (
	maxFilterValues = 16
	maxTextWords    = 8
)

// Validate checks the filter's values and bounds.
func (f *TicketFilter) Validate() error {
	if len(f.Statuses) > maxFilterValues || len(f.Priorities) > maxFilterValues {
		return Errorf(CodeInvalid, "too many filter values")
	}
	for _, s := range f.Statuses {
		if !s.Valid() {
			return Errorf(CodeInvalid, "unknown status %q", s)
		}
	}
	for _, p := range f.Priorities {
		if !p.Valid() {
			return Errorf(CodeInvalid, "priority must be P1 to P4")
		}
	}
	switch {
	case f.Level != 0 && !f.Level.Valid():
		return Errorf(CodeInvalid, "escalation level must be L1 to L3")
	case f.SLA != "" && !f.SLA.Valid():
		return Errorf(CodeInvalid, "unknown SLA state %q", f.SLA)
	case !f.Sort.Valid():
		return Errorf(CodeInvalid, "unknown sort %q", f.Sort)
	case f.WarnWithin < 0:
		return Errorf(CodeInvalid, "negative warning window")
	case f.Unassigned && f.AssigneeID != 0:
		return Errorf(CodeInvalid, "a ticket cannot be unassigned and assigned")
	}
	if err := checkText("category", f.Category, MaxShortLen, false); err != nil {
		return err
	}
	if err := checkText("search text", f.Text, MaxShortLen, false); err != nil {
		return err
	}
	if len(SearchWords(f.Text)) > maxTextWords {
		return Errorf(CodeInvalid, "search text has more than %d words", maxTextWords)
	}
	return nil
}

// SearchWords splits text into lower-case words of letters and numbers.
// Both stores index and query these words, so that search behaves the same
// on SQLite and PostgreSQL.
func SearchWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
}

// SearchDocument returns the words a ticket is found by: its title,
// description and requester, joined by spaces.
func (t *Ticket) SearchDocument() string {
	var words []string
	for _, s := range []string{t.Title, t.Description, t.Requester.Name, t.Requester.Email, t.Requester.Phone} {
		words = append(words, SearchWords(s)...)
	}
	return strings.Join(words, " ")
}

// TicketNumber returns n for search text "#n".
func TicketNumber(s string) (int64, bool) {
	if len(s) < 2 || s[0] != '#' {
		return 0, false
	}
	n, err := strconv.ParseInt(s[1:], 10, 64)
	return n, err == nil && n > 0
}

// TicketPage is one page of a ticket queue; Next is empty on the last page.
type TicketPage struct {
	Tickets []*Ticket
	Next    string
}

// Comment is a note on a ticket: public (the requester sees it) or internal.
type Comment struct {
	ID        int64
	TicketID  int64
	AuthorID  int64 // zero: the requester or a deleted user
	Body      string
	Internal  bool
	CreatedAt time.Time
}

// Validate checks the comment's fields and bounds.
func (c *Comment) Validate() error {
	if c.TicketID <= 0 {
		return Errorf(CodeInvalid, "comment needs a ticket")
	}
	return checkText("comment", c.Body, MaxTextLen, true)
}

// Attachment is a file on a ticket; its bytes live in the blob store under
// BlobKey.
type Attachment struct {
	ID          int64
	TicketID    int64
	CommentID   int64 // zero: attached to the ticket itself
	Name        string
	ContentType string
	Size        int64
	SHA256      []byte
	BlobKey     string
	UploadedBy  int64
	CreatedAt   time.Time
}

// Validate checks the attachment's fields and bounds.
func (a *Attachment) Validate() error {
	if a.TicketID <= 0 {
		return Errorf(CodeInvalid, "attachment needs a ticket")
	}
	if err := checkText("file name", a.Name, MaxNameLen, true); err != nil {
		return err
	}
	if err := checkText("content type", a.ContentType, MaxShortLen, true); err != nil {
		return err
	}
	if err := checkText("blob key", a.BlobKey, MaxBlobKeyLen, true); err != nil {
		return err
	}
	if a.Size < 0 {
		return Errorf(CodeInvalid, "negative attachment size")
	}
	if len(a.SHA256) != 32 {
		return Errorf(CodeInvalid, "attachment needs a SHA-256")
	}
	return nil
}

// TicketEventKind names what happened to a ticket.
type TicketEventKind string

// Event kinds the store writes; other layers add their own (for example
// "session_attached" or "sla_breached") with AddTicketEvent.
const (
	EventCreated           TicketEventKind = "created"
	EventUpdated           TicketEventKind = "updated"
	EventCommented         TicketEventKind = "commented"
	EventDeviceLinked      TicketEventKind = "device_linked"
	EventDeviceUnlinked    TicketEventKind = "device_unlinked"
	EventAttachmentAdded   TicketEventKind = "attachment_added"
	EventAttachmentRemoved TicketEventKind = "attachment_removed"
)

// TicketEvent is one entry of a ticket's history: who did what, when.
type TicketEvent struct {
	ID       int64
	TicketID int64
	ActorID  int64 // zero: the system, the requester or a deleted user
	At       time.Time
	Kind     TicketEventKind
	RefID    int64 // the comment, device, attachment or session concerned
	Changes  []FieldChange
}

// maxChanges bounds the changes of one event.
const maxChanges = 64

// Validate checks the event's fields and bounds.
func (e *TicketEvent) Validate() error {
	if e.TicketID <= 0 {
		return Errorf(CodeInvalid, "event needs a ticket")
	}
	if !validSectionName(string(e.Kind)) {
		return Errorf(CodeInvalid, "invalid event kind")
	}
	if len(e.Changes) > maxChanges {
		return Errorf(CodeInvalid, "more than %d changes in one event", maxChanges)
	}
	for _, c := range e.Changes {
		if err := checkText("changed field", c.Field, MaxShortLen, true); err != nil {
			return err
		}
		if err := checkText("old value", c.Old, MaxTextLen, false); err != nil {
			return err
		}
		if err := checkText("new value", c.New, MaxTextLen, false); err != nil {
			return err
		}
	}
	return nil
}

// TicketService stores tickets, their comments, attachments, device links
// and history. Every change appends a TicketEvent in the same transaction.
type TicketService interface {
	// CreateTicket stores t with its DeviceIDs and a "created" event by
	// t.CreatedBy; it sets ID, Version and timestamps.
	CreateTicket(ctx context.Context, t *Ticket) error
	// ImportTickets bulk-loads tickets from another help desk, each with a
	// "created" event, in one transaction. It keeps given timestamps and
	// rejects linked devices (link them afterwards).
	ImportTickets(ctx context.Context, ts []*Ticket) error
	FindTicketByID(ctx context.Context, id int64) (*Ticket, error)
	// FindTickets is the ticket queue; see TicketFilter.
	FindTickets(ctx context.Context, f TicketFilter) (*TicketPage, error)
	// CountTickets counts what FindTickets would page through.
	CountTickets(ctx context.Context, f TicketFilter) (int, error)
	// UpdateTicket applies upd and appends an "updated" event with the
	// changes, if any; ErrConflict if upd.IfVersion is stale.
	UpdateTicket(ctx context.Context, id int64, upd TicketUpdate) (*Ticket, error)
	// DeleteTicket removes the ticket with everything attached to it
	// (sessions keep a null ticket). Blobs are the caller's to remove.
	DeleteTicket(ctx context.Context, id int64) error

	// LinkDevice and UnlinkDevice are idempotent; they append an event only
	// when something changed.
	LinkDevice(ctx context.Context, ticketID, deviceID, actorID int64) error
	UnlinkDevice(ctx context.Context, ticketID, deviceID, actorID int64) error

	AddComment(ctx context.Context, c *Comment) error
	// FindComments returns comments oldest first, internal ones only if
	// asked to.
	FindComments(ctx context.Context, ticketID int64, internal bool) ([]*Comment, error)

	CreateAttachment(ctx context.Context, a *Attachment) error
	FindAttachmentByID(ctx context.Context, id int64) (*Attachment, error)
	FindAttachments(ctx context.Context, ticketID int64) ([]*Attachment, error)
	DeleteAttachment(ctx context.Context, id, actorID int64) error

	// AddTicketEvent appends an event written by another layer.
	AddTicketEvent(ctx context.Context, e *TicketEvent) error
	// FindTicketEvents returns the ticket's history oldest first.
	FindTicketEvents(ctx context.Context, ticketID int64) ([]*TicketEvent, error)
}
