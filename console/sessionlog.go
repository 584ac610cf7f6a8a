package console

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// EventSessionAttached is the ticket event EndSession writes: RefID is the
// session.
const EventSessionAttached TicketEventKind = "session_attached"

// EndSession ends remote session id at at for reason, once, and attaches
// its log to its ticket, if it has one: a "session_attached" ticket event
// by actorID and an internal comment (SessionLog). Both the technician's
// API and the agent's session.end call it; of concurrent calls one ends
// the session and the others get ErrConflict.
func EndSession(ctx context.Context, st Store, id int64, at time.Time, reason string, actorID int64) (*Session, error) {
	s, err := st.FinishSession(ctx, id, at, reason)
	if err != nil {
		return nil, err
	}
	if s.TicketID == 0 {
		return s, nil
	}
	var tech *User
	if s.TechnicianID != 0 {
		if tech, err = st.FindUserByID(ctx, s.TechnicianID); err != nil && ErrorCode(err) != CodeNotFound {
			return s, fmt.Errorf("console: end session: %w", err)
		}
	}
	var dev *Device
	if s.DeviceID != 0 {
		if dev, err = st.FindDeviceByID(ctx, s.DeviceID); err != nil && ErrorCode(err) != CodeNotFound {
			return s, fmt.Errorf("console: end session: %w", err)
		}
	}
	var events []*SessionEvent
	for after := int64(0); len(events) < 5*MaxPageSize; {
		page, err := st.FindSessionEvents(ctx, SessionEventFilter{SessionID: id, AfterID: after, Limit: MaxPageSize})
		if err != nil {
			return s, fmt.Errorf("console: end session: %w", err)
		}
		events = append(events, page...)
		if len(page) < MaxPageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	csat, err := st.FindCSAT(ctx, id)
	if err != nil && ErrorCode(err) != CodeNotFound {
		return s, fmt.Errorf("console: end session: %w", err)
	}
	c := &Comment{TicketID: s.TicketID, AuthorID: actorID, Internal: true, Body: SessionLog(s, tech, dev, events, csat)}
	if err := st.AddComment(ctx, c); err != nil {
		return s, fmt.Errorf("console: end session: %w", err)
	}
	if err := st.AddTicketEvent(ctx, &TicketEvent{TicketID: s.TicketID, ActorID: actorID, At: s.EndedAt,
		Kind: EventSessionAttached, RefID: s.ID}); err != nil {
		return s, fmt.Errorf("console: end session: %w", err)
	}
	return s, nil
}

// SessionLog renders a session's log as plain text for its ticket: who,
// which device, when, how long, the consent decision and permissions, the
// chat transcript, file transfers, clipboard events, other events and the
// recording. Agent-reported details are shown as compact JSON, never
// interpreted as markup, and the whole is bounded by MaxTextLen. tech, dev
// and csat may be nil.
func SessionLog(s *Session, tech *User, dev *Device, events []*SessionEvent, csat *CSATAnswer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Remote session #%d (%s) ended.\n", s.ID, s.Kind)
	who := "unknown technician"
	if tech != nil {
		who = fmt.Sprintf("%s <%s>", tech.Name, tech.Email)
	}
	fmt.Fprintf(&b, "Technician: %s\n", who)
	switch {
	case dev != nil:
		fmt.Fprintf(&b, "Device: %s (#%d, %s)\n", dev.Name, dev.ID, dev.OS)
	case s.DeviceID != 0:
		fmt.Fprintf(&b, "Device: #%d\n", s.DeviceID)
	default:
		b.WriteString("Device: quick support (not enrolled)\n")
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	fmt.Fprintf(&b, "Started: %s\nEnded: %s\nDuration: %s\n", ts(s.StartedAt), ts(s.EndedAt), s.Duration().Round(time.Second))
	if s.EndReason != "" {
		fmt.Fprintf(&b, "End reason: %s\n", s.EndReason)
	}
	fmt.Fprintf(&b, "Consent: %s\nPermissions: %s\n", s.Consent, s.Permissions)
	rec := "none"
	if s.RecordingKey != "" {
		rec = fmt.Sprintf("/api/v1/sessions/%d/recording", s.ID)
	}
	fmt.Fprintf(&b, "Recording: %s\n", rec)
	if csat != nil {
		fmt.Fprintf(&b, "Satisfaction: %d/5\n", csat.Score)
	}

	sections := []struct {
		title string
		match func(string) bool
	}{
		{"Chat", func(t string) bool { return strings.HasPrefix(t, "chat") }},
		{"Files", func(t string) bool { return strings.HasPrefix(t, "file") }},
		{"Clipboard", func(t string) bool { return strings.HasPrefix(t, "clipboard") }},
		{"Other events", func(string) bool { return true }},
	}
	done := make([]bool, len(events))
	for _, sec := range sections {
		var lines []string
		for i, e := range events {
			if done[i] || !sec.match(e.Type) {
				continue
			}
			done[i] = true
			lines = append(lines, fmt.Sprintf("%s %s %s %s", e.At.UTC().Format("15:04:05"), e.Source, e.Type, eventText(e.Detail)))
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s:\n", sec.title)
		for _, l := range lines {
			b.WriteString("  " + strings.TrimSpace(l) + "\n")
		}
	}
	out := b.String()
	if len(out) > MaxTextLen {
		cut := MaxTextLen - 64
		for cut > 0 && !utf8RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "\n… (log truncated; see the session timeline)\n"
	}
	return out
}

// eventText renders an event's detail: a chat line as "from: text",
// anything else as compact JSON, at most 500 bytes, on one line.
func eventText(detail json.RawMessage) string {
	if len(detail) == 0 {
		return ""
	}
	var chat struct {
		From string `json:"from"`
		Text string `json:"text"`
	}
	s := ""
	if json.Unmarshal(detail, &chat) == nil && chat.Text != "" {
		s = chat.From + ": " + chat.Text
	} else {
		var v any
		if json.Unmarshal(detail, &v) != nil {
			return ""
		}
		b, _ := json.Marshal(v)
		s = string(b)
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if len(s) > 500 {
		cut := 500
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
