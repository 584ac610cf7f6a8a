package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/reachdesk/reach/console"
)

// priority is console.Priority on the wire: "P1" to "P4".
type priority console.Priority

func (p priority) MarshalJSON() ([]byte, error) {
	return json.Marshal(console.Priority(p).String())
}

func (p *priority) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errBadRequest("priority must be one of P1, P2, P3, P4")
	}
	v, ok := parsePriority(s)
	if !ok {
		return errBadRequest("priority must be one of P1, P2, P3, P4")
	}
	*p = priority(v)
	return nil
}

func parsePriority(s string) (console.Priority, bool) {
	if len(s) == 2 && (s[0] == 'P' || s[0] == 'p') && s[1] >= '1' && s[1] <= '4' {
		return console.Priority(s[1] - '0'), true
	}
	return 0, false
}

// level is console.Level on the wire: "L1" to "L3", or null for none.
type level console.Level

func (l level) MarshalJSON() ([]byte, error) {
	if !console.Level(l).Valid() {
		return []byte("null"), nil
	}
	return json.Marshal(console.Level(l).String())
}

func (l *level) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*l = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errBadRequest("level must be one of L1, L2, L3 or null")
	}
	v, ok := parseLevel(s)
	if !ok {
		return errBadRequest("level must be one of L1, L2, L3 or null")
	}
	*l = level(v)
	return nil
}

func parseLevel(s string) (console.Level, bool) {
	if len(s) == 2 && (s[0] == 'L' || s[0] == 'l') && s[1] >= '1' && s[1] <= '3' {
		return console.Level(s[1] - '0'), true
	}
	return 0, false
}

// perms is console.Permissions on the wire: a list of names.
type perms console.Permissions

var permByName = map[string]console.Permissions{
	"view": console.PermView, "control": console.PermControl, "unattended": console.PermUnattended,
	"clipboard": console.PermClipboard, "files": console.PermFiles,
}

func (p perms) MarshalJSON() ([]byte, error) {
	names := []string{}
	if p != 0 {
		names = strings.Split(console.Permissions(p).String(), ",")
	}
	return json.Marshal(names)
}

func (p *perms) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil || len(names) > len(permByName) {
		return errBadRequest("permissions must be a list of view, control, unattended, clipboard, files")
	}
	var v console.Permissions
	for _, n := range names {
		bit, ok := permByName[n]
		if !ok {
			return errBadRequest("permissions must be a list of view, control, unattended, clipboard, files")
		}
		v |= bit
	}
	*p = perms(v)
	return nil
}

// seconds is a duration on the wire as whole seconds.
type seconds time.Duration

func (d seconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(int64(time.Duration(d) / time.Second))
}

func (d *seconds) UnmarshalJSON(b []byte) error {
	var n int64
	if err := json.Unmarshal(b, &n); err != nil || n < 0 || n > 10*365*24*3600 {
		return errBadRequest("durations are whole seconds from 0 to ten years")
	}
	*d = seconds(time.Duration(n) * time.Second)
	return nil
}

// b64 is bytes on the wire as standard base64.
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

type userJSON struct {
	ID          int64     `json:"id"`
	Email       string    `json:"email"`
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Level       level     `json:"level"`
	Disabled    bool      `json:"disabled"`
	TOTPEnabled bool      `json:"totp_enabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func toUser(u *console.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role), Level: level(u.Level),
		Disabled: u.Disabled, TOTPEnabled: u.TOTPSecret != nil, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type tokenJSON struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
}

func toToken(t *console.APIToken) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, CreatedAt: t.CreatedAt}
}

type teamJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

func toTeam(t *console.Team) teamJSON {
	return teamJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt}
}

type groupJSON struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

func toGroup(g *console.DeviceGroup) groupJSON {
	return groupJSON{ID: g.ID, Name: g.Name, Description: g.Description, CreatedAt: g.CreatedAt}
}

type grantJSON struct {
	GroupID     int64  `json:"group_id"`
	UserID      int64  `json:"user_id,omitempty"`
	Role        string `json:"role,omitempty"`
	Permissions perms  `json:"permissions"`
}

func toGrant(g *console.Grant) grantJSON {
	return grantJSON{GroupID: g.GroupID, UserID: g.UserID, Role: string(g.Role), Permissions: perms(g.Permissions)}
}

type enrollmentTokenJSON struct {
	ID        int64     `json:"id"`
	GroupID   int64     `json:"group_id"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expires_at"`
	MaxUses   int       `json:"max_uses"`
	Uses      int       `json:"uses"`
	Revoked   bool      `json:"revoked"`
	Usable    bool      `json:"usable"`
	CreatedBy int64     `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func toEnrollmentToken(t *console.EnrollmentToken, now time.Time) enrollmentTokenJSON {
	return enrollmentTokenJSON{ID: t.ID, GroupID: t.GroupID, Name: t.Name, ExpiresAt: t.ExpiresAt, MaxUses: t.MaxUses,
		Uses: t.Uses, Revoked: t.Revoked, Usable: t.Usable(now), CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt}
}

type requesterJSON struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

type ticketJSON struct {
	ID               int64         `json:"id"`
	Title            string        `json:"title"`
	Description      string        `json:"description"`
	Requester        requesterJSON `json:"requester"`
	Channel          string        `json:"channel"`
	Category         string        `json:"category"`
	Priority         priority      `json:"priority"`
	Status           string        `json:"status"`
	AssigneeID       int64         `json:"assignee_id,omitempty"`
	TeamID           int64         `json:"team_id,omitempty"`
	Level            level         `json:"level"`
	SLAPolicyID      int64         `json:"sla_policy_id,omitempty"`
	SLAState         string        `json:"sla_state"`
	NextDue          time.Time     `json:"next_due,omitzero"`
	FirstResponseDue time.Time     `json:"first_response_due,omitzero"`
	ResolutionDue    time.Time     `json:"resolution_due,omitzero"`
	FirstRespondedAt time.Time     `json:"first_responded_at,omitzero"`
	ResolvedAt       time.Time     `json:"resolved_at,omitzero"`
	PausedAt         time.Time     `json:"paused_at,omitzero"`
	PausedFor        seconds       `json:"paused_for_seconds"`
	ReopenCount      int           `json:"reopen_count"`
	DeviceIDs        []int64       `json:"device_ids"`
	Version          int64         `json:"version"`
	CreatedBy        int64         `json:"created_by,omitempty"`
	CreatedAt        time.Time     `json:"created_at"`
	UpdatedAt        time.Time     `json:"updated_at"`
}

// slaWarning is the window in which a running deadline shows as "warning".
const slaWarning = console.DefaultSLAWarning

func toTicket(t *console.Ticket, now time.Time) ticketJSON {
	ids := t.DeviceIDs
	if ids == nil {
		ids = []int64{}
	}
	return ticketJSON{ID: t.ID, Title: t.Title, Description: t.Description,
		Requester: requesterJSON{Name: t.Requester.Name, Email: t.Requester.Email, Phone: t.Requester.Phone},
		Channel:   string(t.Channel), Category: t.Category, Priority: priority(t.Priority), Status: string(t.Status),
		AssigneeID: t.AssigneeID, TeamID: t.TeamID, Level: level(t.Level), SLAPolicyID: t.SLAPolicyID,
		SLAState: string(t.SLAState(now, slaWarning)), NextDue: t.NextDue(),
		FirstResponseDue: t.FirstResponseDue, ResolutionDue: t.ResolutionDue, FirstRespondedAt: t.FirstRespondedAt,
		ResolvedAt: t.ResolvedAt, PausedAt: t.PausedAt, PausedFor: seconds(t.PausedFor), ReopenCount: t.ReopenCount,
		DeviceIDs: ids, Version: t.Version, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

type commentJSON struct {
	ID        int64     `json:"id"`
	TicketID  int64     `json:"ticket_id"`
	AuthorID  int64     `json:"author_id,omitempty"`
	Body      string    `json:"body"`
	Internal  bool      `json:"internal"`
	CreatedAt time.Time `json:"created_at"`
}

func toComment(c *console.Comment) commentJSON {
	return commentJSON{ID: c.ID, TicketID: c.TicketID, AuthorID: c.AuthorID, Body: c.Body, Internal: c.Internal, CreatedAt: c.CreatedAt}
}

type attachmentJSON struct {
	ID          int64     `json:"id"`
	TicketID    int64     `json:"ticket_id"`
	CommentID   int64     `json:"comment_id,omitempty"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	UploadedBy  int64     `json:"uploaded_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

func toAttachment(a *console.Attachment) attachmentJSON {
	return attachmentJSON{ID: a.ID, TicketID: a.TicketID, CommentID: a.CommentID, Name: a.Name, ContentType: a.ContentType,
		Size: a.Size, SHA256: fmt.Sprintf("%x", a.SHA256), UploadedBy: a.UploadedBy, CreatedAt: a.CreatedAt}
}

type changeJSON struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

type ticketEventJSON struct {
	ID      int64        `json:"id"`
	ActorID int64        `json:"actor_id,omitempty"`
	At      time.Time    `json:"at"`
	Kind    string       `json:"kind"`
	RefID   int64        `json:"ref_id,omitempty"`
	Changes []changeJSON `json:"changes"`
}

func toTicketEvent(e *console.TicketEvent) ticketEventJSON {
	return ticketEventJSON{ID: e.ID, ActorID: e.ActorID, At: e.At, Kind: string(e.Kind), RefID: e.RefID,
		Changes: mapSlice(e.Changes, func(c console.FieldChange) changeJSON { return changeJSON(c) })}
}

type targetJSON struct {
	FirstResponse seconds `json:"first_response_seconds"`
	Resolution    seconds `json:"resolution_seconds"`
}

type slaPolicyJSON struct {
	ID        int64                    `json:"id"`
	Name      string                   `json:"name"`
	Default   bool                     `json:"default"`
	Targets   map[string]targetJSON    `json:"targets"`
	Calendar  console.BusinessCalendar `json:"calendar"`
	CreatedAt time.Time                `json:"created_at"`
	UpdatedAt time.Time                `json:"updated_at"`
}

func toSLAPolicy(p *console.SLAPolicy) slaPolicyJSON {
	ts := make(map[string]targetJSON, len(p.Targets))
	for prio, t := range p.Targets {
		ts[prio.String()] = targetJSON{FirstResponse: seconds(t.FirstResponse), Resolution: seconds(t.Resolution)}
	}
	return slaPolicyJSON{ID: p.ID, Name: p.Name, Default: p.Default, Targets: ts, Calendar: p.Calendar,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

type osJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type deviceJSON struct {
	ID              int64     `json:"id"`
	GroupID         int64     `json:"group_id"`
	Name            string    `json:"name"`
	Hostname        string    `json:"hostname"`
	OS              osJSON    `json:"os"`
	DiskUsedPercent float64   `json:"disk_used_percent"`
	EnrolledAt      time.Time `json:"enrolled_at"`
	LastSeenAt      time.Time `json:"last_seen_at,omitzero"`
	InventoryAt     time.Time `json:"inventory_at,omitzero"`
	// Online is null when presence is unknown (no relay configured or
	// the relay did not answer).
	Online *bool `json:"online"`
}

func toDevice(d *console.Device, online map[int64]bool) deviceJSON {
	j := deviceJSON{ID: d.ID, GroupID: d.GroupID, Name: d.Name, Hostname: d.Hostname,
		OS: osJSON{Name: d.OS.Name, Version: d.OS.Version}, DiskUsedPercent: d.DiskUsedPercent,
		EnrolledAt: d.EnrolledAt, LastSeenAt: d.LastSeenAt, InventoryAt: d.InventoryAt}
	if online != nil {
		on := online[d.ID]
		j.Online = &on
	}
	return j
}

type sessionJSON struct {
	ID           int64     `json:"id"`
	Kind         string    `json:"kind"`
	TicketID     int64     `json:"ticket_id,omitempty"`
	DeviceID     int64     `json:"device_id,omitempty"`
	TechnicianID int64     `json:"technician_id,omitempty"`
	Consent      string    `json:"consent"`
	Permissions  perms     `json:"permissions"`
	RelaySID     string    `json:"relay_sid,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	StartedAt    time.Time `json:"started_at,omitzero"`
	EndedAt      time.Time `json:"ended_at,omitzero"`
	EndReason    string    `json:"end_reason,omitempty"`
	Duration     seconds   `json:"duration_seconds"`
	Recording    bool      `json:"recording"`
}

func toSession(s *console.Session) sessionJSON {
	return sessionJSON{ID: s.ID, Kind: string(s.Kind), TicketID: s.TicketID, DeviceID: s.DeviceID,
		TechnicianID: s.TechnicianID, Consent: string(s.Consent), Permissions: perms(s.Permissions), RelaySID: s.RelaySID,
		CreatedAt: s.CreatedAt, StartedAt: s.StartedAt, EndedAt: s.EndedAt, EndReason: s.EndReason,
		Duration: seconds(s.Duration()), Recording: s.RecordingKey != ""}
}

type sessionEventJSON struct {
	ID     int64           `json:"id"`
	Source string          `json:"source"`
	Type   string          `json:"type"`
	At     time.Time       `json:"at"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

func toSessionEvent(e *console.SessionEvent) sessionEventJSON {
	return sessionEventJSON{ID: e.ID, Source: string(e.Source), Type: e.Type, At: e.At, Detail: e.Detail}
}
