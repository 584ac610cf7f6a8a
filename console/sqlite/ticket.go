package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reachdesk/reach/console"
)

// noDue is sla_next_due for tickets without a running deadline.
const noDue = math.MaxInt64

func dueValue(t *console.Ticket) int64 {
	if due := t.NextDue(); !due.IsZero() {
		return due.UnixMicro()
	}
	return noDue
}

const ticketCols = `t.id, t.title, t.description, t.requester_name, t.requester_email, t.requester_phone, t.channel,
	t.category, t.priority, t.status, t.assignee_id, t.team_id, t.level, t.sla_policy_id, t.first_response_due,
	t.resolution_due, t.first_responded_at, t.resolved_at, t.paused_at, t.paused_us, t.reopen_count, t.version,
	t.created_by, t.created_at, t.updated_at`

// scanTicket scans ticketCols followed by extra destinations.
func scanTicket(s scanner, extra ...any) (*console.Ticket, error) {
	var t console.Ticket
	var pausedUS int64
	dest := append([]any{&t.ID, &t.Title, &t.Description, &t.Requester.Name, &t.Requester.Email, &t.Requester.Phone,
		&t.Channel, &t.Category, &t.Priority, &t.Status, nullID{&t.AssigneeID}, nullID{&t.TeamID}, &t.Level,
		nullID{&t.SLAPolicyID}, nullTime{&t.FirstResponseDue}, nullTime{&t.ResolutionDue}, nullTime{&t.FirstRespondedAt},
		nullTime{&t.ResolvedAt}, nullTime{&t.PausedAt}, &pausedUS, &t.ReopenCount, &t.Version, nullID{&t.CreatedBy},
		nullTime{&t.CreatedAt}, nullTime{&t.UpdatedAt}}, extra...)
	err := s.Scan(dest...)
	t.PausedFor = time.Duration(pausedUS) * time.Microsecond
	return &t, err
}

// ticketArgs returns the column values of t in insertCols order.
func ticketArgs(t *console.Ticket) []any {
	return []any{t.Title, t.Description, t.Requester.Name, t.Requester.Email, t.Requester.Phone, t.Channel,
		t.Category, t.Priority, t.Status, iv(t.AssigneeID), iv(t.TeamID), t.Level, iv(t.SLAPolicyID),
		tv(t.FirstResponseDue), tv(t.ResolutionDue), tv(t.FirstRespondedAt), tv(t.ResolvedAt), tv(t.PausedAt),
		t.PausedFor.Microseconds(), dueValue(t), t.ReopenCount, t.Version, iv(t.CreatedBy), tv(t.CreatedAt), tv(t.UpdatedAt)}
}

const insertTicket = `INSERT INTO tickets (title, description, requester_name, requester_email, requester_phone, channel,
	category, priority, status, assignee_id, team_id, level, sla_policy_id, first_response_due, resolution_due,
	first_responded_at, resolved_at, paused_at, paused_us, sla_next_due, reopen_count, version, created_by,
	created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// normTicket brings t's times to the stored precision.
func normTicket(t *console.Ticket) {
	for _, p := range []*time.Time{&t.FirstResponseDue, &t.ResolutionDue, &t.FirstRespondedAt, &t.ResolvedAt,
		&t.PausedAt, &t.CreatedAt, &t.UpdatedAt} {
		*p = norm(*p)
	}
	t.PausedFor = t.PausedFor.Truncate(time.Microsecond)
}

// CreateTicket implements console.TicketService.
func (db *DB) CreateTicket(ctx context.Context, t *console.Ticket) error {
	if err := t.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	normTicket(t)
	t.CreatedAt, t.UpdatedAt, t.Version = now, now, 1
	err := db.write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, insertTicket, ticketArgs(t)...).Scan(&t.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tickets_fts (rowid, doc) VALUES (?, ?)`, t.ID, t.SearchDocument()); err != nil {
			return err
		}
		for _, d := range t.DeviceIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_devices (ticket_id, device_id) VALUES (?, ?) ON CONFLICT DO NOTHING`,
				t.ID, d); err != nil {
				return err
			}
		}
		return addEvent(ctx, tx, &console.TicketEvent{TicketID: t.ID, ActorID: t.CreatedBy, At: now, Kind: console.EventCreated})
	})
	if err != nil {
		return wrap("create ticket", err)
	}
	t.DeviceIDs = sortedUnique(t.DeviceIDs)
	return nil
}

// ImportTickets implements console.TicketService.
func (db *DB) ImportTickets(ctx context.Context, ts []*console.Ticket) error {
	now := db.nowUTC()
	for _, t := range ts {
		if err := t.Validate(); err != nil {
			return err
		}
		if len(t.DeviceIDs) > 0 {
			return console.Errorf(console.CodeInvalid, "import does not link devices")
		}
		normTicket(t)
		if t.CreatedAt.IsZero() {
			t.CreatedAt = now
		}
		if t.UpdatedAt.IsZero() {
			t.UpdatedAt = t.CreatedAt
		}
		t.Version = 1
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		insT, err := tx.PrepareContext(ctx, insertTicket)
		if err != nil {
			return err
		}
		defer insT.Close()
		insF, err := tx.PrepareContext(ctx, `INSERT INTO tickets_fts (rowid, doc) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer insF.Close()
		insE, err := tx.PrepareContext(ctx, `INSERT INTO ticket_events (ticket_id, actor_id, at, kind) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insE.Close()
		for _, t := range ts {
			if err := insT.QueryRowContext(ctx, ticketArgs(t)...).Scan(&t.ID); err != nil {
				return err
			}
			if _, err := insF.ExecContext(ctx, t.ID, t.SearchDocument()); err != nil {
				return err
			}
			if _, err := insE.ExecContext(ctx, t.ID, iv(t.CreatedBy), tv(t.CreatedAt), console.EventCreated); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("import tickets", err)
}

// FindTicketByID implements console.TicketService.
func (db *DB) FindTicketByID(ctx context.Context, id int64) (*console.Ticket, error) {
	var t *console.Ticket
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = findTicket(ctx, tx, id)
		return err
	})
	return t, wrap("find ticket", err)
}

// findTicket reads a ticket with its device links.
func findTicket(ctx context.Context, tx *sql.Tx, id int64) (*console.Ticket, error) {
	t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM tickets t WHERE t.id = ?`, id))
	if err != nil {
		return nil, err
	}
	if t.DeviceIDs, err = queryAll(ctx, tx, scanInt64, `SELECT device_id FROM ticket_devices WHERE ticket_id = ? ORDER BY device_id`, id); err != nil {
		return nil, err
	}
	return t, nil
}

// ticketWhere builds the WHERE clause of a ticket queue.
//
// For a paged, ordered query (ordered) on several statuses, it keeps
// SQLite's planner off the status indexes with a unary +: they would yield
// each status in order but not their union, so the planner would sort every
// matching ticket, while walking the ORDER BY index stops when the page is
// full. One status walks its (status, order) index. A text search matching
// many tickets (broadText) walks the ORDER BY index too; one matching few
// looks its tickets up by ID.
func ticketWhere(f *console.TicketFilter, now time.Time, ordered, broadText bool) (string, []any) {
	conds := []string{"1 = 1"}
	var args []any
	if len(f.Statuses) > 0 {
		col := "t.status"
		if ordered && len(f.Statuses) > 1 {
			col = "+t.status"
		}
		conds = append(conds, col+" IN ("+placeholders(len(f.Statuses))+")")
		for _, s := range f.Statuses {
			args = append(args, s)
		}
	}
	if len(f.Priorities) > 0 {
		conds = append(conds, "t.priority IN ("+placeholders(len(f.Priorities))+")")
		for _, p := range f.Priorities {
			args = append(args, p)
		}
	}
	if f.AssigneeID != 0 {
		conds = append(conds, "t.assignee_id = ?")
		args = append(args, f.AssigneeID)
	}
	if f.Unassigned {
		conds = append(conds, "t.assignee_id IS NULL")
	}
	if f.TeamID != 0 {
		conds = append(conds, "t.team_id = ?")
		args = append(args, f.TeamID)
	}
	if f.Level != 0 {
		conds = append(conds, "t.level = ?")
		args = append(args, f.Level)
	}
	if f.Category != "" {
		conds = append(conds, "t.category = ?")
		args = append(args, f.Category)
	}
	if f.DeviceID != 0 {
		conds = append(conds, "t.id IN (SELECT ticket_id FROM ticket_devices WHERE device_id = ?)")
		args = append(args, f.DeviceID)
	}
	if n, ok := console.TicketNumber(strings.TrimSpace(f.Text)); ok {
		conds = append(conds, "t.id = ?")
		args = append(args, n)
	} else if match := ftsQuery(f.Text); match != "" {
		col := "t.id"
		if ordered && broadText {
			col = "+t.id"
		}
		conds = append(conds, col+" IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?)")
		args = append(args, match)
	}
	if f.SLA != "" {
		warn := f.WarnWithin
		if warn == 0 {
			warn = console.DefaultSLAWarning
		}
		n, w := now.UnixMicro(), now.Add(warn).UnixMicro()
		const paused = "(t.paused_at IS NOT NULL AND t.status NOT IN ('resolved', 'closed'))"
		switch f.SLA {
		case console.SLABreached:
			conds = append(conds, "t.sla_next_due < ?")
			args = append(args, n)
		case console.SLAWarning:
			conds = append(conds, "t.sla_next_due >= ? AND t.sla_next_due < ?")
			args = append(args, n, w)
		case console.SLAOK:
			conds = append(conds, "t.sla_next_due >= ? AND t.sla_next_due < ?")
			args = append(args, w, int64(noDue))
		case console.SLAPaused:
			conds = append(conds, paused)
		case console.SLANone:
			conds = append(conds, "t.sla_next_due = ? AND NOT "+paused)
			args = append(args, int64(noDue))
		}
	}
	return strings.Join(conds, " AND "), args
}

// ftsQuery returns the FTS5 query for search text: every word as a
// prefix, all required; "" if the text has no words or is a ticket number.
// Words hold only letters and digits, so quoting them escapes them.
func ftsQuery(text string) string {
	if _, ok := console.TicketNumber(strings.TrimSpace(text)); ok {
		return ""
	}
	words := console.SearchWords(text)
	for i, w := range words {
		words[i] = `"` + w + `"*`
	}
	return strings.Join(words, " ")
}

// broadSearch is the number of text matches from which walking the ORDER
// BY index is cheaper than looking every match up.
const broadSearch = 1000

// ticketOrder returns the sort column, its direction and the ORDER BY clause.
func ticketOrder(s console.TicketSort) (col string, desc bool, order string) {
	switch s {
	case console.SortUpdated:
		return "t.updated_at", true, "t.updated_at DESC, t.id DESC"
	case console.SortDue:
		return "t.sla_next_due", false, "t.sla_next_due, t.id"
	}
	return "t.created_at", true, "t.created_at DESC, t.id DESC"
}

// cursorOp is the keyset comparison that continues an order.
func cursorOp(desc bool) string {
	if desc {
		return "<"
	}
	return ">"
}

// FindTickets implements console.TicketService.
func (db *DB) FindTickets(ctx context.Context, f console.TicketFilter) (*console.TicketPage, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if f.Sort == "" {
		f.Sort = console.SortNewest
	}
	cur, err := console.DecodeCursor(f.Cursor, string(f.Sort))
	if err != nil {
		return nil, err
	}
	now := norm(f.Now)
	if now.IsZero() {
		now = db.nowUTC()
	}
	col, desc, order := ticketOrder(f.Sort)
	var cursorKey int64
	if cur != nil {
		if cursorKey, err = strconv.ParseInt(cur.Key, 10, 64); err != nil {
			return nil, console.Errorf(console.CodeInvalid, "invalid cursor")
		}
	}
	limit := console.PageLimit(f.Limit)
	page := &console.TicketPage{}
	err = db.read(ctx, func(tx *sql.Tx) error {
		broad := false
		if match := ftsQuery(f.Text); match != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM tickets_fts WHERE tickets_fts MATCH ? LIMIT ?)`,
				match, broadSearch).Scan(&n); err != nil {
				return err
			}
			broad = n >= broadSearch
		}
		where, args := ticketWhere(&f, now, true, broad)
		if cur != nil {
			where += fmt.Sprintf(" AND (%s, t.id) %s (?, ?)", col, cursorOp(desc))
			args = append(args, cursorKey, cur.ID)
		}
		args = append(args, limit+1)
		rows, err := tx.QueryContext(ctx, `SELECT `+ticketCols+`, `+col+` FROM tickets t WHERE `+where+
			` ORDER BY `+order+` LIMIT ?`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var lastKey int64
		for rows.Next() {
			if len(page.Tickets) == limit {
				page.Next = console.Cursor{Sort: string(f.Sort), Key: int64Key(lastKey), ID: page.Tickets[limit-1].ID}.Encode()
				break
			}
			t, err := scanTicket(rows, &lastKey)
			if err != nil {
				return err
			}
			page.Tickets = append(page.Tickets, t)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return loadDeviceLinks(ctx, tx, page.Tickets)
	})
	if err != nil {
		return nil, wrap("find tickets", err)
	}
	return page, nil
}

// loadDeviceLinks fills DeviceIDs of ts with one query.
func loadDeviceLinks(ctx context.Context, tx *sql.Tx, ts []*console.Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	byID := make(map[int64]*console.Ticket, len(ts))
	args := make([]any, len(ts))
	for i, t := range ts {
		byID[t.ID] = t
		args[i] = t.ID
	}
	rows, err := tx.QueryContext(ctx, `SELECT ticket_id, device_id FROM ticket_devices WHERE ticket_id IN (`+
		placeholders(len(ts))+`) ORDER BY ticket_id, device_id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var tid, did int64
		if err := rows.Scan(&tid, &did); err != nil {
			return err
		}
		byID[tid].DeviceIDs = append(byID[tid].DeviceIDs, did)
	}
	return rows.Err()
}

// CountTickets implements console.TicketService.
func (db *DB) CountTickets(ctx context.Context, f console.TicketFilter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	now := norm(f.Now)
	if now.IsZero() {
		now = db.nowUTC()
	}
	where, args := ticketWhere(&f, now, false, false)
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM tickets t WHERE `+where, args...).Scan(&n)
	return n, wrap("count tickets", err)
}

// UpdateTicket implements console.TicketService.
func (db *DB) UpdateTicket(ctx context.Context, id int64, upd console.TicketUpdate) (*console.Ticket, error) {
	var t *console.Ticket
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if t, err = findTicket(ctx, tx, id); err != nil {
			return err
		}
		if upd.IfVersion != 0 && upd.IfVersion != t.Version {
			return console.Errorf(console.CodeConflict, "the ticket was changed by someone else")
		}
		doc := t.SearchDocument()
		changes := upd.Apply(t)
		if len(changes) == 0 {
			return nil
		}
		normTicket(t)
		if err := t.Validate(); err != nil {
			return err
		}
		t.Version++
		t.UpdatedAt = db.nowUTC()
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET title = ?, description = ?, requester_name = ?,
			requester_email = ?, requester_phone = ?, channel = ?, category = ?, priority = ?, status = ?, assignee_id = ?,
			team_id = ?, level = ?, sla_policy_id = ?, first_response_due = ?, resolution_due = ?, first_responded_at = ?,
			resolved_at = ?, paused_at = ?, paused_us = ?, sla_next_due = ?, reopen_count = ?, version = ?, created_by = ?,
			created_at = ?, updated_at = ? WHERE id = ?`, append(ticketArgs(t), id)...); err != nil {
			return err
		}
		if newDoc := t.SearchDocument(); newDoc != doc {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO tickets_fts (rowid, doc) VALUES (?, ?)`, id, newDoc); err != nil {
				return err
			}
		}
		return addEvent(ctx, tx, &console.TicketEvent{TicketID: id, ActorID: upd.ActorID, At: t.UpdatedAt,
			Kind: console.EventUpdated, Changes: changes})
	})
	if err != nil {
		return nil, wrap("update ticket", err)
	}
	return t, nil
}

// DeleteTicket implements console.TicketService.
func (db *DB) DeleteTicket(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tickets WHERE id = ?`, id)
		if err := mustAffect("delete ticket", res, err); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM tickets_fts WHERE rowid = ?`, id)
		return wrap("delete ticket", err)
	})
}

// touchTicket bumps the ticket's update time; ErrNotFound if it is missing.
func touchTicket(ctx context.Context, tx *sql.Tx, id int64, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = ? WHERE id = ?`, tv(now), id)
	return mustAffect("ticket", res, err)
}

// LinkDevice implements console.TicketService.
func (db *DB) LinkDevice(ctx context.Context, ticketID, deviceID, actorID int64) error {
	return db.linkDevice(ctx, ticketID, deviceID, actorID, true)
}

// UnlinkDevice implements console.TicketService.
func (db *DB) UnlinkDevice(ctx context.Context, ticketID, deviceID, actorID int64) error {
	return db.linkDevice(ctx, ticketID, deviceID, actorID, false)
}

func (db *DB) linkDevice(ctx context.Context, ticketID, deviceID, actorID int64, link bool) error {
	now := db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		var ticketOK, deviceOK bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM tickets WHERE id = ?), EXISTS (SELECT 1 FROM devices WHERE id = ?)`,
			ticketID, deviceID).Scan(&ticketOK, &deviceOK); err != nil {
			return err
		}
		if !ticketOK || (link && !deviceOK) {
			return console.Errorf(console.CodeNotFound, "ticket or device not found")
		}
		q, kind := `INSERT INTO ticket_devices (ticket_id, device_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, console.EventDeviceLinked
		if !link {
			q, kind = `DELETE FROM ticket_devices WHERE ticket_id = ? AND device_id = ?`, console.EventDeviceUnlinked
		}
		res, err := tx.ExecContext(ctx, q, ticketID, deviceID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		if err := touchTicket(ctx, tx, ticketID, now); err != nil {
			return err
		}
		return addEvent(ctx, tx, &console.TicketEvent{TicketID: ticketID, ActorID: actorID, At: now, Kind: kind, RefID: deviceID})
	})
	return wrap("link device", err)
}

// AddComment implements console.TicketService.
func (db *DB) AddComment(ctx context.Context, c *console.Comment) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.CreatedAt = db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		if err := touchTicket(ctx, tx, c.TicketID, c.CreatedAt); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO comments (ticket_id, author_id, body, internal, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, c.TicketID, iv(c.AuthorID), c.Body, c.Internal, tv(c.CreatedAt)).Scan(&c.ID); err != nil {
			return err
		}
		return addEvent(ctx, tx, &console.TicketEvent{TicketID: c.TicketID, ActorID: c.AuthorID, At: c.CreatedAt,
			Kind: console.EventCommented, RefID: c.ID})
	})
	return wrap("add comment", err)
}

// FindComments implements console.TicketService.
func (db *DB) FindComments(ctx context.Context, ticketID int64, internal bool) ([]*console.Comment, error) {
	q := `SELECT id, ticket_id, author_id, body, internal, created_at FROM comments WHERE ticket_id = ?`
	if !internal {
		q += ` AND NOT internal`
	}
	cs, err := queryAll(ctx, db.r, func(s scanner) (*console.Comment, error) {
		var c console.Comment
		err := s.Scan(&c.ID, &c.TicketID, nullID{&c.AuthorID}, &c.Body, &c.Internal, nullTime{&c.CreatedAt})
		return &c, err
	}, q+` ORDER BY id`, ticketID)
	return cs, wrap("find comments", err)
}

const attachmentCols = `id, ticket_id, comment_id, name, content_type, size, sha256, blob_key, uploaded_by, created_at`

func scanAttachment(s scanner) (*console.Attachment, error) {
	var a console.Attachment
	err := s.Scan(&a.ID, &a.TicketID, nullID{&a.CommentID}, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.BlobKey,
		nullID{&a.UploadedBy}, nullTime{&a.CreatedAt})
	return &a, err
}

// CreateAttachment implements console.TicketService.
func (db *DB) CreateAttachment(ctx context.Context, a *console.Attachment) error {
	if err := a.Validate(); err != nil {
		return err
	}
	a.CreatedAt = db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		if err := touchTicket(ctx, tx, a.TicketID, a.CreatedAt); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO attachments (ticket_id, comment_id, name, content_type, size, sha256,
			blob_key, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.TicketID, iv(a.CommentID), a.Name, a.ContentType, a.Size, a.SHA256, a.BlobKey, iv(a.UploadedBy),
			tv(a.CreatedAt)).Scan(&a.ID); err != nil {
			return err
		}
		return addEvent(ctx, tx, &console.TicketEvent{TicketID: a.TicketID, ActorID: a.UploadedBy, At: a.CreatedAt,
			Kind: console.EventAttachmentAdded, RefID: a.ID})
	})
	return wrap("create attachment", err)
}

// FindAttachmentByID implements console.TicketService.
func (db *DB) FindAttachmentByID(ctx context.Context, id int64) (*console.Attachment, error) {
	a, err := scanAttachment(db.r.QueryRowContext(ctx, `SELECT `+attachmentCols+` FROM attachments WHERE id = ?`, id))
	return a, wrap("find attachment", err)
}

// FindAttachments implements console.TicketService.
func (db *DB) FindAttachments(ctx context.Context, ticketID int64) ([]*console.Attachment, error) {
	as, err := queryAll(ctx, db.r, scanAttachment, `SELECT `+attachmentCols+` FROM attachments WHERE ticket_id = ? ORDER BY id`, ticketID)
	return as, wrap("find attachments", err)
}

// DeleteAttachment implements console.TicketService.
func (db *DB) DeleteAttachment(ctx context.Context, id, actorID int64) error {
	now := db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		var ticketID int64
		if err := tx.QueryRowContext(ctx, `DELETE FROM attachments WHERE id = ? RETURNING ticket_id`, id).Scan(&ticketID); err != nil {
			return err
		}
		if err := touchTicket(ctx, tx, ticketID, now); err != nil {
			return err
		}
		return addEvent(ctx, tx, &console.TicketEvent{TicketID: ticketID, ActorID: actorID, At: now,
			Kind: console.EventAttachmentRemoved, RefID: id})
	})
	return wrap("delete attachment", err)
}

// addEvent appends e in tx and sets its ID.
func addEvent(ctx context.Context, tx *sql.Tx, e *console.TicketEvent) error {
	changes, err := json.Marshal(e.Changes)
	if err != nil {
		return fmt.Errorf("encode changes: %w", err)
	}
	if e.Changes == nil {
		changes = []byte("[]")
	}
	return tx.QueryRowContext(ctx, `INSERT INTO ticket_events (ticket_id, actor_id, at, kind, ref_id, changes)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, e.TicketID, iv(e.ActorID), tv(e.At), e.Kind, e.RefID, string(changes)).Scan(&e.ID)
}

// AddTicketEvent implements console.TicketService.
func (db *DB) AddTicketEvent(ctx context.Context, e *console.TicketEvent) error {
	if err := e.Validate(); err != nil {
		return err
	}
	e.At = norm(e.At)
	if e.At.IsZero() {
		e.At = db.nowUTC()
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		if err := touchTicket(ctx, tx, e.TicketID, e.At); err != nil {
			return err
		}
		return addEvent(ctx, tx, e)
	})
	return wrap("add ticket event", err)
}

// FindTicketEvents implements console.TicketService.
func (db *DB) FindTicketEvents(ctx context.Context, ticketID int64) ([]*console.TicketEvent, error) {
	es, err := queryAll(ctx, db.r, func(s scanner) (*console.TicketEvent, error) {
		var e console.TicketEvent
		var changes string
		if err := s.Scan(&e.ID, &e.TicketID, nullID{&e.ActorID}, nullTime{&e.At}, &e.Kind, &e.RefID, &changes); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return nil, fmt.Errorf("decode changes: %w", err)
		}
		if len(e.Changes) == 0 {
			e.Changes = nil
		}
		return &e, nil
	}, `SELECT id, ticket_id, actor_id, at, kind, ref_id, changes FROM ticket_events WHERE ticket_id = ? ORDER BY id`, ticketID)
	return es, wrap("find ticket events", err)
}

// sortedUnique returns ids sorted without duplicates.
func sortedUnique(ids []int64) []int64 {
	if len(ids) == 0 {
		return nil
	}
	out := append([]int64(nil), ids...)
	slices.Sort(out)
	return slices.Compact(out)
}
