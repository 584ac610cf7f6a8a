package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/webhook"
	"github.com/reachdesk/reach/proto"
)

// Token lifetimes.
const (
	technicianTokenTTL = 10 * time.Minute
	grantTTL           = 10 * time.Minute
)

// attendedPerms are what an attended session may ask the end user for;
// the end user's consent decides what it gets.
const attendedPerms = console.PermView | console.PermControl | console.PermClipboard | console.PermFiles

// sessionVisible reports whether the caller may see session ss: always
// unless it is on a device the caller may not view.
func (s *Server) sessionVisible(r *http.Request, p *principal, a *acl, ss *console.Session) bool {
	if ss.DeviceID == 0 || a.all {
		return true
	}
	d, err := s.store.FindDeviceByID(r.Context(), ss.DeviceID)
	if err != nil {
		return console.ErrorCode(err) == console.CodeNotFound // deleted device: history stays visible
	}
	return a.on(d.GroupID).Has(console.PermView)
}

// session loads the session of the path's {id}; own requires the caller to
// be its technician (or an admin).
func (s *Server) session(r *http.Request, p *principal, own bool) (*console.Session, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	ss, err := s.store.FindSessionByID(ctx, id)
	if console.ErrorCode(err) == console.CodeNotFound {
		return nil, errNotFound("session")
	} else if err != nil {
		return nil, err
	}
	a, err := s.permissions(ctx, p.user)
	if err != nil {
		return nil, err
	}
	if !s.sessionVisible(r, p, a, ss) {
		return nil, errNotFound("session")
	}
	if own && !p.admin() && ss.TechnicianID != p.user.ID {
		return nil, errForbidden("this is another technician's session")
	}
	return ss, nil
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := query{r: r}
	f := console.SessionFilter{TicketID: q.int("ticket_id"), DeviceID: q.int("device_id"), TechnicianID: q.int("technician_id"),
		Active: q.bool("active"), AfterID: q.int("after"), Limit: int(q.int("limit"))}
	if q.err != nil {
		return q.err
	}
	ctx := r.Context()
	ss, err := s.store.FindSessions(ctx, f)
	if err != nil {
		return err
	}
	a, err := s.permissions(ctx, p.user)
	if err != nil {
		return err
	}
	next := ""
	if len(ss) == console.PageLimit(f.Limit) {
		next = itoa(ss[len(ss)-1].ID)
	}
	items := []sessionJSON{}
	for _, x := range ss {
		if s.sessionVisible(r, p, a, x) {
			items = append(items, toSession(x))
		}
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req struct {
		Kind     string `json:"kind"`
		TicketID int64  `json:"ticket_id"`
		DeviceID int64  `json:"device_id"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	ctx := r.Context()
	ss := &console.Session{Kind: console.SessionKind(req.Kind), TicketID: req.TicketID, TechnicianID: p.user.ID,
		Consent: console.ConsentPending}
	claims := proto.Claims{Kind: proto.KindTechnician, Name: p.user.Name, Org: s.opts.Org}
	claims.Subject = itoa(p.user.ID)
	var ticket *console.Ticket
	if req.TicketID != 0 {
		t, err := s.work(ctx, p, req.TicketID)
		if err != nil {
			return err
		}
		ticket = t
		title := t.Title
		if len(title) > proto.MaxTitleLen {
			title = title[:proto.MaxTitleLen]
		}
		claims.Ticket = &proto.TicketRef{ID: itoa(t.ID), Title: strings.ToValidUTF8(title, "")}
	}
	switch ss.Kind {
	case console.SessionAttended:
		if ticket == nil {
			return errBadRequest("an attended session needs a ticket_id")
		}
		if req.DeviceID != 0 {
			return errBadRequest("an attended session gets its device from the session code")
		}
		ss.Permissions = attendedPerms
	case console.SessionUnattended:
		if req.DeviceID == 0 {
			return errBadRequest("an unattended session needs a device_id")
		}
		d, have, err := s.device(ctx, p, req.DeviceID, console.PermUnattended)
		if err != nil {
			return err
		}
		ss.DeviceID = d.ID
		ss.Permissions = have
		claims.Device = itoa(d.ID)
	default:
		return errBadRequest("kind must be attended or unattended")
	}
	claims.Permissions = protoPerms(ss.Permissions)
	if err := s.store.CreateSession(ctx, ss); err != nil {
		return err
	}
	if err := s.consoleEvent(ctx, ss.ID, "created", map[string]any{"kind": ss.Kind, "by": p.user.ID,
		"ticket_id": ss.TicketID, "device_id": ss.DeviceID, "permissions": perms(ss.Permissions)}); err != nil {
		return err
	}
	tok, err := s.signer.Issue(claims, proto.AudienceRelay, technicianTokenTTL)
	if err != nil {
		return err
	}
	sj := toSession(ss)
	s.publish(ctx, webhook.SessionStarted, sj)
	writeJSON(w, http.StatusCreated, map[string]any{"session": sj, "relay_url": s.opts.RelayURL, "token": tok})
	return nil
}

// protoPerms lists p as token permissions.
func protoPerms(p console.Permissions) []proto.Permission {
	var out []proto.Permission
	for _, name := range strings.Split(p.String(), ",") {
		if pp := proto.Permission(name); pp.Valid() {
			out = append(out, pp)
		}
	}
	return out
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.session(r, p, false)
	if err != nil {
		return err
	}
	d, err := s.sessionDetail(r.Context(), ss)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// maxTimeline bounds the events GET /sessions/{id} returns; longer
// timelines are marked truncated and read in full through
// GET /sessions/{id}/events.
const maxTimeline = 10 * console.MaxPageSize

// sessionDetailJSON is a session with its whole timeline and CSAT answer.
type sessionDetailJSON struct {
	sessionJSON
	Timeline          []sessionEventJSON `json:"timeline"`
	TimelineTruncated bool               `json:"timeline_truncated,omitempty"`
	CSAT              *csatJSON          `json:"csat,omitempty"`
}

// sessionDetail loads the timeline of ss from every source (console,
// technician, relay, agent) in time order, and its CSAT answer.
func (s *Server) sessionDetail(ctx context.Context, ss *console.Session) (*sessionDetailJSON, error) {
	d := &sessionDetailJSON{sessionJSON: toSession(ss), Timeline: []sessionEventJSON{}}
	for after := int64(0); ; {
		page, err := s.store.FindSessionEvents(ctx, console.SessionEventFilter{SessionID: ss.ID, AfterID: after, Limit: console.MaxPageSize})
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if len(d.Timeline) == maxTimeline {
				d.TimelineTruncated = true
				break
			}
			d.Timeline = append(d.Timeline, toSessionEvent(e))
		}
		if len(page) < console.MaxPageSize || d.TimelineTruncated {
			break
		}
		after = page[len(page)-1].ID
	}
	// Events arrive late from the relay's audit log and the agents'
	// outboxes: order by time, then arrival.
	slices.SortStableFunc(d.Timeline, func(a, b sessionEventJSON) int { return a.At.Compare(b.At) })
	a, err := s.store.FindCSAT(ctx, ss.ID)
	if err == nil {
		d.CSAT = &csatJSON{Score: a.Score, Comment: a.Comment, AnsweredAt: a.AnsweredAt}
	} else if console.ErrorCode(err) != console.CodeNotFound {
		return nil, err
	}
	return d, nil
}

// consoleEvent appends an event of the console's own to a session's
// timeline.
func (s *Server) consoleEvent(ctx context.Context, sessionID int64, typ string, detail map[string]any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	return s.store.AppendSessionEvents(ctx, []*console.SessionEvent{{SessionID: sessionID, Source: console.SourceConsole, Type: typ, Detail: b}})
}

// maxTicketSessions bounds one page of GET /tickets/{id}/sessions, whose
// items carry whole timelines.
const maxTicketSessions = 20

// ticketSessions lists a ticket's sessions, oldest first, each with its
// timeline and CSAT answer, for the ticket page.
func (s *Server) ticketSessions(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := query{r: r}
	after, limit := q.int("after"), int(q.int("limit"))
	if q.err != nil {
		return q.err
	}
	if limit <= 0 || limit > maxTicketSessions {
		limit = maxTicketSessions
	}
	ctx := r.Context()
	if _, err := s.ticket(ctx, id); err != nil {
		return err
	}
	ss, err := s.store.FindSessions(ctx, console.SessionFilter{TicketID: id, AfterID: after, Limit: limit})
	if err != nil {
		return err
	}
	a, err := s.permissions(ctx, p.user)
	if err != nil {
		return err
	}
	items := []*sessionDetailJSON{}
	for _, x := range ss {
		if !s.sessionVisible(r, p, a, x) {
			continue
		}
		d, err := s.sessionDetail(ctx, x)
		if err != nil {
			return err
		}
		items = append(items, d)
	}
	next := ""
	if len(ss) == limit {
		next = itoa(ss[len(ss)-1].ID)
	}
	writeJSON(w, http.StatusOK, newList(items, next))
	return nil
}

type csatJSON struct {
	Score      int       `json:"score"`
	Comment    string    `json:"comment,omitempty"`
	AnsweredAt time.Time `json:"answered_at"`
}

func (s *Server) listSessionEvents(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.session(r, p, false)
	if err != nil {
		return err
	}
	q := query{r: r}
	f := console.SessionEventFilter{SessionID: ss.ID, AfterID: q.int("after"), Limit: int(q.int("limit"))}
	if q.err != nil {
		return q.err
	}
	es, err := s.store.FindSessionEvents(r.Context(), f)
	if err != nil {
		return err
	}
	next := ""
	if len(es) == console.PageLimit(f.Limit) {
		next = itoa(es[len(es)-1].ID)
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(es, toSessionEvent), next))
	return nil
}

// maxTechnicianEvents bounds one batch from the browser.
const maxTechnicianEvents = 100

func (s *Server) addSessionEvents(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.session(r, p, true)
	if err != nil {
		return err
	}
	var req []struct {
		Type   string          `json:"type"`
		Detail json.RawMessage `json:"detail"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if len(req) == 0 || len(req) > maxTechnicianEvents {
		return errBadRequest("send 1 to %d events", maxTechnicianEvents)
	}
	events := make([]*console.SessionEvent, len(req))
	for i, e := range req {
		events[i] = &console.SessionEvent{SessionID: ss.ID, Source: console.SourceTechnician, Type: e.Type, Detail: e.Detail}
	}
	ctx := r.Context()
	if err := s.store.AppendSessionEvents(ctx, events); err != nil {
		return err
	}
	// The browser reports when the media connection is up ("started") and
	// the end user's answer as it saw it ("consent"); the first of each
	// sets the session's StartedAt and Consent.
	var upd console.SessionUpdate
	for _, e := range req {
		switch e.Type {
		case "started":
			if ss.StartedAt.IsZero() && upd.StartedAt == nil {
				now := s.now()
				upd.StartedAt = &now
			}
		case "consent":
			var d struct {
				Decision console.Consent `json:"decision"`
			}
			if json.Unmarshal(e.Detail, &d) == nil && d.Decision.Valid() && d.Decision != console.ConsentPending &&
				ss.Consent == console.ConsentPending {
				upd.Consent = &d.Decision
			}
		}
	}
	if upd.StartedAt != nil || upd.Consent != nil {
		if _, err := s.store.UpdateSession(ctx, ss.ID, upd); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, newList(mapSlice(events, toSessionEvent), ""))
	return nil
}

// sessionRelay records the relay's session id and, for attended sessions,
// the hash of the session code.
func (s *Server) sessionRelay(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.session(r, p, true)
	if err != nil {
		return err
	}
	var req struct {
		SID  string `json:"sid"`
		Code string `json:"code"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if !validSID(req.SID) {
		return errBadRequest("sid must be 1 to %d letters, digits, '-' or '_'", console.MaxRelaySIDLen)
	}
	if ss.RelaySID != "" && ss.RelaySID != req.SID {
		return errConflict("the session already has a relay session id")
	}
	if !ss.EndedAt.IsZero() {
		return errConflict("the session has ended")
	}
	first := ss.RelaySID == "" // a repeated report of the same sid adds no event
	upd := console.SessionUpdate{RelaySID: &req.SID}
	if ss.Kind == console.SessionAttended {
		if len(req.Code) != 9 || strings.Trim(req.Code, "0123456789") != "" {
			return errBadRequest("code must be the 9-digit session code")
		}
		h := sha256.Sum256([]byte(req.Code))
		hash := h[:]
		upd.CodeHash = &hash
	} else if req.Code != "" {
		return errBadRequest("unattended sessions have no code")
	}
	ctx := r.Context()
	ss, err = s.store.UpdateSession(ctx, ss.ID, upd)
	if err != nil {
		return err
	}
	if first {
		if err := s.consoleEvent(ctx, ss.ID, "relay_linked", map[string]any{"sid": req.SID}); err != nil {
			return err
		}
	}
	// Agent events that arrived before the sid was known join the timeline.
	if _, err := s.store.LinkAgentEvents(ctx, req.SID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSession(ss))
	return nil
}

func validSID(sid string) bool {
	if sid == "" || len(sid) > console.MaxRelaySIDLen {
		return false
	}
	for _, c := range []byte(sid) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// sessionGrant issues the grant that binds the technician's DTLS
// fingerprint to the session, for the agent to check.
func (s *Server) sessionGrant(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.session(r, p, true)
	if err != nil {
		return err
	}
	var req struct {
		Fingerprint string `json:"fingerprint"`
		DeviceID    string `json:"device_id"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if !ss.EndedAt.IsZero() {
		return errConflict("the session has ended")
	}
	fp, err := proto.Fingerprint("a=fingerprint:" + req.Fingerprint)
	if err != nil || !strings.HasPrefix(fp, "sha-256 ") {
		return errBadRequest(`fingerprint must be a DTLS fingerprint, "sha-256 AB:CD:…"`)
	}
	if len(req.DeviceID) > proto.MaxIDLen {
		return errBadRequest("device_id is too long")
	}
	if ss.DeviceID != 0 && req.DeviceID != itoa(ss.DeviceID) {
		return errForbidden("the session is for another device")
	}
	c := proto.Claims{Kind: proto.KindGrant, Name: p.user.Name, Org: s.opts.Org, Device: req.DeviceID, Fingerprint: fp,
		Permissions: protoPerms(ss.Permissions)}
	c.Subject = itoa(p.user.ID)
	grant, err := s.signer.Issue(c, proto.AudienceAgent, grantTTL)
	if err != nil {
		return errBadRequest("cannot issue a grant for these values")
	}
	if err := s.consoleEvent(r.Context(), ss.ID, "grant_issued", map[string]any{"device_id": req.DeviceID, "fingerprint": fp,
		"by": p.user.ID}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"grant": grant})
	return nil
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.session(r, p, true)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
			return err
		}
	}
	if req.Reason == "" {
		req.Reason = "technician_ended"
	}
	ctx := r.Context()
	ended, err := console.EndSession(ctx, s.store, ss.ID, s.now(), req.Reason, p.user.ID)
	if console.ErrorCode(err) == console.CodeConflict {
		return errConflict("the session has already ended")
	} else if err != nil {
		return err
	}
	if err := s.consoleEvent(ctx, ss.ID, "ended", map[string]any{"reason": req.Reason, "by": p.user.ID}); err != nil {
		return err
	}
	sj := toSession(ended)
	s.publish(ctx, webhook.SessionEnded, sj)
	writeJSON(w, http.StatusOK, sj)
	return nil
}

// sessionDeviceKey serves the public key of the session's agent: the
// enrolled device's key, or for quick support the ephemeral key the agent
// registered for the session code.
func (s *Server) sessionDeviceKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.session(r, p, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if ss.DeviceID != 0 {
		d, _, err := s.device(ctx, p, ss.DeviceID, console.PermView)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]string{"public_key": base64.StdEncoding.EncodeToString(d.PublicKey),
			"device_id": itoa(d.ID)})
		return nil
	}
	if len(ss.CodeHash) == 0 {
		return errNotFound("device key (the session code is not recorded yet)")
	}
	k, err := s.store.FindQuickKey(ctx, ss.CodeHash)
	if console.ErrorCode(err) == console.CodeNotFound {
		return errNotFound("device key (the agent has not registered yet)")
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"public_key": base64.StdEncoding.EncodeToString(k.PublicKey)})
	return nil
}
