package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/reachdesk/reach/console"
	"github.com/reachdesk/reach/console/auth"
	"github.com/reachdesk/reach/console/sla"
	"github.com/reachdesk/reach/console/webhook"
)

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request, _ *principal) error {
	q := query{r: r}
	f := console.TicketFilter{
		AssigneeID: q.int("assignee_id"), Unassigned: q.bool("unassigned"), TeamID: q.int("team_id"),
		Category: q.str("category", console.MaxShortLen), DeviceID: q.int("device_id"),
		Text: q.str("q", console.MaxShortLen), SLA: console.SLAState(q.str("sla", 20)),
		Sort: console.TicketSort(q.str("sort", 20)), Cursor: q.str("cursor", 1024), Limit: int(q.int("limit")),
		Now: s.now(), WarnWithin: slaWarning,
	}
	withCount := q.bool("count")
	if q.err != nil {
		return q.err
	}
	for _, v := range splitList(r.URL.Query().Get("status")) {
		f.Statuses = append(f.Statuses, console.Status(v))
	}
	for _, v := range splitList(r.URL.Query().Get("priority")) {
		p, ok := parsePriority(v)
		if !ok {
			return errBadRequest("priority must be a comma-separated list of P1 to P4")
		}
		f.Priorities = append(f.Priorities, p)
	}
	if v := r.URL.Query().Get("level"); v != "" {
		l, ok := parseLevel(v)
		if !ok {
			return errBadRequest("level must be L1, L2 or L3")
		}
		f.Level = l
	}
	ctx := r.Context()
	page, err := s.store.FindTickets(ctx, f)
	if err != nil {
		return err
	}
	now := s.now()
	resp := struct {
		list[ticketJSON]
		Total *int `json:"total,omitempty"`
	}{list: newList(mapSlice(page.Tickets, func(t *console.Ticket) ticketJSON { return toTicket(t, now) }), page.Next)}
	if withCount {
		n, err := s.store.CountTickets(ctx, f)
		if err != nil {
			return err
		}
		resp.Total = &n
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// splitList splits a comma-separated query value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

type ticketRequest struct {
	Title       *string        `json:"title"`
	Description *string        `json:"description"`
	Requester   *requesterJSON `json:"requester"`
	Channel     *string        `json:"channel"`
	Category    *string        `json:"category"`
	Priority    *priority      `json:"priority"`
	Status      *string        `json:"status"`
	AssigneeID  *int64         `json:"assignee_id"`
	TeamID      *int64         `json:"team_id"`
	Level       *level         `json:"level"`
	SLAPolicyID *int64         `json:"sla_policy_id"`
	DeviceIDs   []int64        `json:"device_ids"`
	Version     int64          `json:"version"`
}

func (s *Server) createTicket(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req ticketRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.Version != 0 {
		return errBadRequest("version is for updates")
	}
	t := &console.Ticket{Title: deref(req.Title), Description: deref(req.Description), Channel: console.ChannelPhone,
		Category: deref(req.Category), Priority: console.P3, Status: console.StatusNew, AssigneeID: deref(req.AssigneeID),
		TeamID: deref(req.TeamID), Level: console.L1, DeviceIDs: req.DeviceIDs, CreatedBy: p.user.ID}
	if req.Requester != nil {
		t.Requester = console.Requester(*req.Requester)
	}
	if req.Channel != nil {
		t.Channel = console.Channel(*req.Channel)
	}
	if req.Priority != nil {
		t.Priority = console.Priority(*req.Priority)
	}
	if req.Status != nil {
		t.Status = console.Status(*req.Status)
	}
	if req.Level != nil {
		t.Level = console.Level(*req.Level)
	}
	if err := canWork(p, t); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.checkAssignee(ctx, t.AssigneeID); err != nil {
		return err
	}
	for _, id := range t.DeviceIDs {
		if _, _, err := s.device(ctx, p, id, console.PermView); err != nil {
			return err
		}
	}
	policy, err := s.ticketPolicy(ctx, req.SLAPolicyID)
	if err != nil {
		return err
	}
	if policy != nil {
		t.SLAPolicyID = policy.ID
	}
	t.CreatedAt = s.now()
	sla.Start(policy, t)
	if err := s.store.CreateTicket(ctx, t); err != nil {
		return err
	}
	tj := toTicket(t, s.now())
	s.publish(ctx, webhook.TicketCreated, tj)
	w.Header().Set("ETag", etag(t.Version))
	writeJSON(w, http.StatusCreated, tj)
	return nil
}

// ticketPolicy returns the policy with id, or the default policy when id
// is nil; nil for id 0 or no default.
func (s *Server) ticketPolicy(ctx context.Context, id *int64) (*console.SLAPolicy, error) {
	switch {
	case id == nil:
		p, err := s.store.FindDefaultSLAPolicy(ctx)
		if console.ErrorCode(err) == console.CodeNotFound {
			return nil, nil
		}
		return p, err
	case *id == 0:
		return nil, nil
	}
	p, err := s.store.FindSLAPolicyByID(ctx, *id)
	if console.ErrorCode(err) == console.CodeNotFound {
		return nil, errBadRequest("SLA policy %d does not exist", *id)
	}
	return p, err
}

// checkAssignee refuses assignees who are not technicians or admins.
func (s *Server) checkAssignee(ctx context.Context, id int64) error {
	if id == 0 {
		return nil
	}
	u, err := s.store.FindUserByID(ctx, id)
	if console.ErrorCode(err) == console.CodeNotFound {
		return errBadRequest("assignee %d does not exist", id)
	} else if err != nil {
		return err
	}
	if u.Role == console.RoleViewer || u.Disabled {
		return errBadRequest("the assignee must be an active technician or admin")
	}
	return nil
}

func etag(version int64) string { return `"v` + strconv.FormatInt(version, 10) + `"` }

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.ticket(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(t.Version))
	writeJSON(w, http.StatusOK, toTicket(t, s.now()))
	return nil
}

// ifVersion reads the version an update is conditional on: the If-Match
// header (an ETag from GET) or the body's version; zero if neither.
func ifVersion(r *http.Request, body int64) (int64, bool, error) {
	h := r.Header.Get("If-Match")
	if h == "" {
		return body, false, nil
	}
	v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(h, "W/"), `"v`), `"`), 10, 64)
	if err != nil || v <= 0 {
		return 0, true, errBadRequest(`If-Match must be an ETag of this ticket, e.g. "v3"`)
	}
	return v, true, nil
}

func errPrecondition() error {
	return &apiError{status: http.StatusPreconditionFailed, code: "precondition_failed",
		msg: "the ticket changed since you read it; reload and try again"}
}

func (s *Server) updateTicket(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req ticketRequest
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	if req.DeviceIDs != nil {
		return errBadRequest("link devices with PUT /api/v1/tickets/{id}/devices/{device_id}")
	}
	version, header, err := ifVersion(r, req.Version)
	if err != nil {
		return err
	}
	ctx := r.Context()
	t, err := s.work(ctx, p, id)
	if err != nil {
		return err
	}
	upd := console.TicketUpdate{Title: req.Title, Description: req.Description, Category: req.Category,
		AssigneeID: req.AssigneeID, TeamID: req.TeamID, SLAPolicyID: req.SLAPolicyID, ActorID: p.user.ID, IfVersion: version}
	if req.Requester != nil {
		rq := console.Requester(*req.Requester)
		upd.Requester = &rq
	}
	if req.Channel != nil {
		c := console.Channel(*req.Channel)
		upd.Channel = &c
	}
	if req.Priority != nil {
		pr := console.Priority(*req.Priority)
		upd.Priority = &pr
	}
	if req.Status != nil {
		st := console.Status(*req.Status)
		upd.Status = &st
	}
	if req.Level != nil {
		l := console.Level(*req.Level)
		upd.Level = &l
	}
	if req.AssigneeID != nil {
		if err := s.checkAssignee(ctx, *req.AssigneeID); err != nil {
			return err
		}
	}
	return s.applyTicketUpdate(ctx, w, t, upd, header)
}

// applyTicketUpdate plans the SLA fields of upd, stores it and answers
// with the ticket.
func (s *Server) applyTicketUpdate(ctx context.Context, w http.ResponseWriter, t *console.Ticket, upd console.TicketUpdate, header bool) error {
	var policy *console.SLAPolicy
	var err error
	if upd.SLAPolicyID != nil {
		if policy, err = s.ticketPolicy(ctx, upd.SLAPolicyID); err != nil {
			return err
		}
	} else if t.SLAPolicyID != 0 {
		// The ticket's own policy; if it was deleted the ticket keeps its
		// deadlines and runs on without one.
		policy, err = s.store.FindSLAPolicyByID(ctx, t.SLAPolicyID)
		if console.ErrorCode(err) == console.CodeNotFound {
			policy, err = nil, nil
		} else if err != nil {
			return err
		}
	}
	sla.Plan(policy, t, &upd, s.now())
	oldLevel := t.Level
	nt, err := s.store.UpdateTicket(ctx, t.ID, upd)
	if console.ErrorCode(err) == console.CodeConflict && header {
		return errPrecondition()
	} else if err != nil {
		return err
	}
	tj := toTicket(nt, s.now())
	s.publish(ctx, webhook.TicketUpdated, tj)
	if nt.Level > oldLevel {
		s.publish(ctx, webhook.TicketEscalated, tj)
	}
	w.Header().Set("ETag", etag(nt.Version))
	writeJSON(w, http.StatusOK, tj)
	return nil
}

func (s *Server) deleteTicket(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	as, err := s.store.FindAttachments(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTicket(ctx, id); err != nil {
		return err
	}
	for _, a := range as {
		s.removeBlob(ctx, a.BlobKey)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// escalateTicket raises a ticket's level (by one unless given) and may
// move it to another team, with an optional internal note of why.
func (s *Server) escalateTicket(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req struct {
		Level  *level `json:"level"`
		TeamID *int64 `json:"team_id"`
		Reason string `json:"reason"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	ctx := r.Context()
	t, err := s.work(ctx, p, id)
	if err != nil {
		return err
	}
	to := t.Level + 1
	if req.Level != nil {
		to = console.Level(*req.Level)
	}
	if !to.Valid() || to <= t.Level {
		return errConflict(fmt.Sprintf("the ticket is at %s; escalation must raise its level", t.Level))
	}
	if req.TeamID != nil && *req.TeamID != 0 {
		if _, err := s.store.FindTeamByID(ctx, *req.TeamID); err != nil {
			return err
		}
	}
	if req.Reason != "" {
		c := &console.Comment{TicketID: t.ID, AuthorID: p.user.ID, Internal: true,
			Body: fmt.Sprintf("Escalated from %s to %s: %s", t.Level, to, req.Reason)}
		if err := s.store.AddComment(ctx, c); err != nil {
			return err
		}
		if t, err = s.ticket(ctx, id); err != nil {
			return err
		}
	}
	return s.applyTicketUpdate(ctx, w, t, console.TicketUpdate{Level: &to, TeamID: req.TeamID, ActorID: p.user.ID}, false)
}

func (s *Server) ticketHistory(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.ticket(ctx, id); err != nil {
		return err
	}
	es, err := s.store.FindTicketEvents(ctx, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(es, toTicketEvent), ""))
	return nil
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.ticket(ctx, id); err != nil {
		return err
	}
	internal := true
	if r.URL.Query().Get("internal") == "false" {
		internal = false
	}
	cs, err := s.store.FindComments(ctx, id, internal)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(cs, toComment), ""))
	return nil
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req struct {
		Body     string `json:"body"`
		Internal bool   `json:"internal"`
	}
	if err := decode(w, r, s.opts.MaxBodyBytes, &req); err != nil {
		return err
	}
	ctx := r.Context()
	t, err := s.work(ctx, p, id)
	if err != nil {
		return err
	}
	c := &console.Comment{TicketID: id, AuthorID: p.user.ID, Body: req.Body, Internal: req.Internal}
	if err := s.store.AddComment(ctx, c); err != nil {
		return err
	}
	// The first public reply by a console user is the first response.
	if !c.Internal {
		if upd := sla.Responded(t, s.now()); upd != nil {
			upd.ActorID = p.user.ID
			if _, err := s.store.UpdateTicket(ctx, id, *upd); err != nil {
				return err
			}
		}
	}
	cj := toComment(c)
	s.publish(ctx, webhook.TicketCommented, cj)
	writeJSON(w, http.StatusCreated, cj)
	return nil
}

func (s *Server) listAttachments(w http.ResponseWriter, r *http.Request, _ *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.ticket(ctx, id); err != nil {
		return err
	}
	as, err := s.store.FindAttachments(ctx, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newList(mapSlice(as, toAttachment), ""))
	return nil
}

// uploadAttachment stores the raw request body as a file of the ticket:
// POST /api/v1/tickets/{id}/attachments?name=screenshot.png with the
// file's Content-Type.
func (s *Server) uploadAttachment(w http.ResponseWriter, r *http.Request, p *principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	q := query{r: r}
	name := strings.TrimSpace(q.str("name", console.MaxNameLen))
	comment := q.int("comment_id")
	if q.err != nil {
		return q.err
	}
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "" || name == "." || name == "/" {
		return errBadRequest("name (the file name) is required")
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || len(mt) > console.MaxShortLen {
		ct = "application/octet-stream"
	} else {
		ct = mt
	}
	ctx := r.Context()
	if _, err := s.work(ctx, p, id); err != nil {
		return err
	}
	key, sum, size, err := s.writeBlob(http.MaxBytesReader(w, r.Body, s.opts.MaxAttachmentBytes))
	if err != nil {
		var tooL *http.MaxBytesError
		if errors.As(err, &tooL) {
			return &apiError{status: http.StatusRequestEntityTooLarge, code: "too_large",
				msg: fmt.Sprintf("attachments are limited to %d bytes", s.opts.MaxAttachmentBytes)}
		}
		return err
	}
	a := &console.Attachment{TicketID: id, CommentID: comment, Name: name, ContentType: ct, Size: size, SHA256: sum,
		BlobKey: key, UploadedBy: p.user.ID}
	if err := s.store.CreateAttachment(ctx, a); err != nil {
		s.removeBlob(ctx, key)
		return err
	}
	writeJSON(w, http.StatusCreated, toAttachment(a))
	return nil
}

// writeBlob copies body into a new attachment file under the blob
// directory and returns its key, SHA-256 and size.
func (s *Server) writeBlob(body io.Reader) (string, []byte, int64, error) {
	return s.saveBlob("attachments", "", body)
}

// saveBlob copies body into a new file of blob directory dir (attachments
// or recordings) named at random with suffix, and returns its key, SHA-256
// and size. Nothing is left behind on failure.
func (s *Server) saveBlob(dir, suffix string, body io.Reader) (string, []byte, int64, error) {
	secret, err := auth.NewSecret()
	if err != nil {
		return "", nil, 0, err
	}
	key := dir + "/" + hex.EncodeToString(auth.HashSecret(secret)[:16]) + suffix
	dir = filepath.Join(s.opts.BlobDir, dir)
	f, err := os.CreateTemp(dir, "upload-*")
	if err != nil {
		return "", nil, 0, fmt.Errorf("api: blob: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", nil, 0, err
	}
	if err := os.Rename(f.Name(), filepath.Join(s.opts.BlobDir, filepath.FromSlash(key))); err != nil {
		return "", nil, 0, fmt.Errorf("api: blob: %w", err)
	}
	return key, h.Sum(nil), n, nil
}

// blobPath returns the file of a blob key, refusing keys that leave the
// blob directory.
func (s *Server) blobPath(key string) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(key)) {
		return "", fmt.Errorf("api: blob key %q leaves the blob directory", key)
	}
	return filepath.Join(s.opts.BlobDir, filepath.FromSlash(key)), nil
}

func (s *Server) removeBlob(ctx context.Context, key string) {
	path, err := s.blobPath(key)
	if err == nil {
		err = os.Remove(path)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.WarnContext(ctx, "api: remove blob", "err", err)
	}
}

// inlineTypes may keep their content type on download; everything else is
// served as application/octet-stream. All downloads are attachments.
var inlineTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"application/pdf": true, "text/plain": true, "application/json": true, "application/zip": true,
}

func (s *Server) attachment(r *http.Request) (*console.Attachment, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	aid, err := pathID(r, "aid")
	if err != nil {
		return nil, err
	}
	a, err := s.store.FindAttachmentByID(r.Context(), aid)
	if console.ErrorCode(err) == console.CodeNotFound || (err == nil && a.TicketID != id) {
		return nil, errNotFound("attachment")
	}
	return a, err
}

func (s *Server) downloadAttachment(w http.ResponseWriter, r *http.Request, _ *principal) error {
	a, err := s.attachment(r)
	if err != nil {
		return err
	}
	path, err := s.blobPath(a.BlobKey)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return errNotFound("attachment file")
	} else if err != nil {
		return err
	}
	defer f.Close()
	ct := "application/octet-stream"
	if inlineTypes[a.ContentType] {
		ct = a.ContentType
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(a.Name))
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", a.CreatedAt, f)
	return nil
}

func (s *Server) deleteAttachment(w http.ResponseWriter, r *http.Request, p *principal) error {
	a, err := s.attachment(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.work(ctx, p, a.TicketID); err != nil {
		return err
	}
	if err := s.store.DeleteAttachment(ctx, a.ID, p.user.ID); err != nil {
		return err
	}
	s.removeBlob(ctx, a.BlobKey)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) linkDevice(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.setLink(w, r, p, true)
}

func (s *Server) unlinkDevice(w http.ResponseWriter, r *http.Request, p *principal) error {
	return s.setLink(w, r, p, false)
}

func (s *Server) setLink(w http.ResponseWriter, r *http.Request, p *principal, link bool) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	did, err := pathID(r, "device_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.work(ctx, p, id); err != nil {
		return err
	}
	if _, _, err := s.device(ctx, p, did, console.PermView); err != nil {
		return err
	}
	if link {
		err = s.store.LinkDevice(ctx, id, did, p.user.ID)
	} else {
		err = s.store.UnlinkDevice(ctx, id, did, p.user.ID)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
