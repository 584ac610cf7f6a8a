package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/reachdesk/reach/console"
)

// noDue is sla_next_due for tickets without a running deadline.
var noDue = pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}

func dueValue(t *console.Ticket) pgtype.Timestamptz {
	if due := t.NextDue(); !due.IsZero() {
		return pgtype.Timestamptz{Time: due, Valid: true}
	}
	return noDue
}

// timeKey encodes a sort value for a cursor: microseconds or "inf".
func timeKey(v pgtype.Timestamptz) string {
	if v.InfinityModifier == pgtype.Infinity {
		return "inf"
	}
	return strconv.FormatInt(v.Time.UnixMicro(), 10)
}

// parseTimeKey decodes timeKey.
func parseTimeKey(s string) (pgtype.Timestamptz, error) {
	if s == "inf" {
		return noDue, nil
	}
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return pgtype.Timestamptz{}, console.Errorf(console.CodeInvalid, "invalid cursor")
	}
	return pgtype.Timestamptz{Time: time.UnixMicro(us), Valid: true}, nil
}

const ticketCols = `t.id, t.title, t.description, t.requester_name, t.requester_email, t.requester_phone, t.channel,
	t.category, t.priority, t.status, t.assignee_id, t.team_id, t.level, t.sla_policy_id, t.first_response_due,
	t.resolution_due, t.first_responded_at, t.resolved_at, t.paused_at, t.paused_us, t.reopen_count, t.version,
	t.created_by, t.created_at, t.updated_at`

// scanTicket scans ticketCols followed by extra destinations.
func scanTicket(s pgx.Row, extra ...any) (*console.Ticket, error) {
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

// ticketValues returns the column values of t in insertCols order,
// followed by its search document.
func ticketValues(t *console.Ticket) []any {
	return []any{t.Title, t.Description, t.Requester.Name, t.Requester.Email, t.Requester.Phone, t.Channel,
		t.Category, t.Priority, t.Status, iv(t.AssigneeID), iv(t.TeamID), t.Level, iv(t.SLAPolicyID),
		tv(t.FirstResponseDue), tv(t.ResolutionDue), tv(t.FirstRespondedAt), tv(t.ResolvedAt), tv(t.PausedAt),
		t.PausedFor.Microseconds(), dueValue(t), t.ReopenCount, t.Version, iv(t.CreatedBy), t.CreatedAt, t.UpdatedAt,
		t.SearchDocument()}
}

// insertCols lists the columns ticketValues fills, but the last (the
// search document becomes search).
var insertCols = []string{"title", "description", "requester_name", "requester_email", "requester_phone", "channel",
	"category", "priority", "status", "assignee_id", "team_id", "level", "sla_policy_id", "first_response_due",
	"resolution_due", "first_responded_at", "resolved_at", "paused_at", "paused_us", "sla_next_due", "reopen_count",
	"version", "created_by", "created_at", "updated_at"}

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
	t.DeviceIDs = sortedUnique(t.DeviceIDs)
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var a args
		q := `INSERT INTO tickets (` + strings.Join(insertCols, ", ") + `, search) VALUES (` + list(&a, ticketValues(t)[:len(insertCols)]) +
			`, to_tsvector('simple', ` + a.add(t.SearchDocument()) + `)) RETURNING id`
		if err := tx.QueryRow(ctx, q, a...).Scan(&t.ID); err != nil {
			return err
		}
		if len(t.DeviceIDs) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO ticket_devices (ticket_id, device_id) SELECT $1, unnest($2::bigint[])`,
				t.ID, t.DeviceIDs); err != nil {
				return err
			}
		}
		return addEvent(ctx, tx, &console.TicketEvent{TicketID: t.ID, ActorID: t.CreatedBy, At: now, Kind: console.EventCreated})
	})
	return wrap("create ticket", err)
}

// ImportTickets implements console.TicketService. It reserves IDs from the
// tickets' identity sequence, copies the rows into a temporary table with
// COPY and moves them into tickets with one INSERT ... SELECT, which
// computes the search vectors.
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
	if len(ts) == 0 {
		return nil
	}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT nextval(pg_get_serial_sequence('tickets', 'id')) FROM generate_series(1, $1)`, len(ts))
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		slices.Sort(ids)
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE ticket_import (LIKE tickets INCLUDING DEFAULTS, doc text) ON COMMIT DROP`); err != nil {
			return err
		}
		cols := append([]string{"id"}, insertCols...)
		cols = append(cols, "doc")
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ticket_import"}, cols, pgx.CopyFromSlice(len(ts), func(i int) ([]any, error) {
			return append([]any{ids[i]}, ticketValues(ts[i])...), nil
		})); err != nil {
			return err
		}
		all := "id, " + strings.Join(insertCols, ", ")
		if _, err := tx.Exec(ctx, `INSERT INTO tickets (`+all+`, search) SELECT `+all+`, to_tsvector('simple', doc) FROM ticket_import`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ticket_events (ticket_id, actor_id, at, kind)
			SELECT id, created_by, created_at, $1 FROM ticket_import ORDER BY id`, console.EventCreated); err != nil {
			return err
		}
		for i, t := range ts {
			t.ID = ids[i]
		}
		return nil
	})
	return wrap("import tickets", err)
}

// FindTicketByID implements console.TicketService.
func (db *DB) FindTicketByID(ctx context.Context, id int64) (*console.Ticket, error) {
	t, err := findTicket(ctx, db.pool, id, "")
	if err != nil {
		return nil, wrap("find ticket", err)
	}
	return t, nil
}

// findTicket reads a ticket with its device links; lock is appended to the
// query ("FOR UPDATE" inside a transaction).
func findTicket(ctx context.Context, q querier, id int64, lock string) (*console.Ticket, error) {
	var devices []int64
	t, err := scanTicket(q.QueryRow(ctx, `SELECT `+ticketCols+`, ARRAY(SELECT device_id FROM ticket_devices
		WHERE ticket_id = t.id ORDER BY device_id) FROM tickets t WHERE t.id = $1 `+lock, id), &devices)
	if err != nil {
		return nil, err
	}
	if len(devices) > 0 {
		t.DeviceIDs = devices
	}
	return t, nil
}

// ticketWhere builds the WHERE clause of a ticket queue.
func ticketWhere(f *console.TicketFilter, now time.Time, a *args) string {
	conds := []string{"true"}
	if len(f.Statuses) > 0 {
		conds = append(conds, "t.status IN ("+list(a, f.Statuses)+")")
	}
	if len(f.Priorities) > 0 {
		conds = append(conds, "t.priority IN ("+list(a, f.Priorities)+")")
	}
	if f.AssigneeID != 0 {
		conds = append(conds, "t.assignee_id = "+a.add(f.AssigneeID))
	}
	if f.Unassigned {
		conds = append(conds, "t.assignee_id IS NULL")
	}
	if f.TeamID != 0 {
		conds = append(conds, "t.team_id = "+a.add(f.TeamID))
	}
	if f.Level != 0 {
		conds = append(conds, "t.level = "+a.add(f.Level))
	}
	if f.Category != "" {
		conds = append(conds, "t.category = "+a.add(f.Category))
	}
	if f.DeviceID != 0 {
		conds = append(conds, "t.id IN (SELECT ticket_id FROM ticket_devices WHERE device_id = "+a.add(f.DeviceID)+")")
	}
	if n, ok := console.TicketNumber(strings.TrimSpace(f.Text)); ok {
		conds = append(conds, "t.id = "+a.add(n))
	} else if words := console.SearchWords(f.Text); len(words) > 0 {
		for i, w := range words {
			words[i] = "'" + w + "':*"
		}
		conds = append(conds, "t.search @@ to_tsquery('simple', "+a.add(strings.Join(words, " & "))+")")
	}
	if f.SLA != "" {
		warn := f.WarnWithin
		if warn == 0 {
			warn = console.DefaultSLAWarning
		}
		const paused = "(t.paused_at IS NOT NULL AND t.status NOT IN ('resolved', 'closed'))"
		switch f.SLA {
		case console.SLABreached:
			conds = append(conds, "t.sla_next_due < "+a.add(now))
		case console.SLAWarning:
			conds = append(conds, "t.sla_next_due >= "+a.add(now)+" AND t.sla_next_due < "+a.add(now.Add(warn)))
		case console.SLAOK:
			conds = append(conds, "t.sla_next_due >= "+a.add(now.Add(warn))+" AND t.sla_next_due < 'infinity'")
		case console.SLAPaused:
			conds = append(conds, paused)
		case console.SLANone:
			conds = append(conds, "t.sla_next_due = 'infinity' AND NOT "+paused)
		}
	}
	return strings.Join(conds, " AND ")
}

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
	var a args
	where := ticketWhere(&f, now, &a)
	col, desc, order := ticketOrder(f.Sort)
	if cur != nil {
		key, err := parseTimeKey(cur.Key)
		if err != nil {
			return nil, err
		}
		op := ">"
		if desc {
			op = "<"
		}
		where += fmt.Sprintf(" AND (%s, t.id) %s (%s, %s)", col, op, a.add(key), a.add(cur.ID))
	}
	limit := console.PageLimit(f.Limit)
	q := `SELECT ` + ticketCols + `, ` + col + `, ARRAY(SELECT device_id FROM ticket_devices WHERE ticket_id = t.id ORDER BY device_id)
		FROM tickets t WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ` + a.add(limit+1)
	rows, err := db.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, wrap("find tickets", err)
	}
	defer rows.Close()
	page := &console.TicketPage{}
	var lastKey pgtype.Timestamptz
	for rows.Next() {
		if len(page.Tickets) == limit {
			page.Next = console.Cursor{Sort: string(f.Sort), Key: timeKey(lastKey), ID: page.Tickets[limit-1].ID}.Encode()
			break
		}
		var devices []int64
		t, err := scanTicket(rows, &lastKey, &devices)
		if err != nil {
			return nil, wrap("find tickets", err)
		}
		if len(devices) > 0 {
			t.DeviceIDs = devices
		}
		page.Tickets = append(page.Tickets, t)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("find tickets", err)
	}
	return page, nil
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
	var a args
	where := ticketWhere(&f, now, &a)
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM tickets t WHERE `+where, a...).Scan(&n)
	return n, wrap("count tickets", err)
}

// UpdateTicket implements console.TicketService.
func (db *DB) UpdateTicket(ctx context.Context, id int64, upd console.TicketUpdate) (*console.Ticket, error) {
	var t *console.Ticket
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if t, err = findTicket(ctx, tx, id, "FOR UPDATE OF t"); err != nil {
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
		var a args
		sets := make([]string, len(insertCols))
		for i, v := range ticketValues(t)[:len(insertCols)] {
			sets[i] = insertCols[i] + " = " + a.add(v)
		}
		if newDoc := t.SearchDocument(); newDoc != doc {
			sets = append(sets, "search = to_tsvector('simple', "+a.add(newDoc)+")")
		}
		if _, err := tx.Exec(ctx, `UPDATE tickets SET `+strings.Join(sets, ", ")+` WHERE id = `+a.add(id), a...); err != nil {
			return err
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
	tag, err := db.pool.Exec(ctx, `DELETE FROM tickets WHERE id = $1`, id)
	return mustAffect("delete ticket", tag, err)
}

// touchTicket bumps the ticket's update time; ErrNotFound if it is missing.
func touchTicket(ctx context.Context, tx pgx.Tx, id int64, now time.Time) error {
	tag, err := tx.Exec(ctx, `UPDATE tickets SET updated_at = $1 WHERE id = $2`, now, id)
	return mustAffect("ticket", tag, err)
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
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var ticketOK, deviceOK bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tickets WHERE id = $1),
			EXISTS (SELECT 1 FROM devices WHERE id = $2)`, ticketID, deviceID).Scan(&ticketOK, &deviceOK); err != nil {
			return err
		}
		if !ticketOK || (link && !deviceOK) {
			return console.Errorf(console.CodeNotFound, "ticket or device not found")
		}
		q, kind := `INSERT INTO ticket_devices (ticket_id, device_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, console.EventDeviceLinked
		if !link {
			q, kind = `DELETE FROM ticket_devices WHERE ticket_id = $1 AND device_id = $2`, console.EventDeviceUnlinked
		}
		tag, err := tx.Exec(ctx, q, ticketID, deviceID)
		if err != nil || tag.RowsAffected() == 0 {
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
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if err := touchTicket(ctx, tx, c.TicketID, c.CreatedAt); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO comments (ticket_id, author_id, body, internal, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, c.TicketID, iv(c.AuthorID), c.Body, c.Internal, c.CreatedAt).Scan(&c.ID); err != nil {
			return err
		}
		return addEvent(ctx, tx, &console.TicketEvent{TicketID: c.TicketID, ActorID: c.AuthorID, At: c.CreatedAt,
			Kind: console.EventCommented, RefID: c.ID})
	})
	return wrap("add comment", err)
}

// FindComments implements console.TicketService.
func (db *DB) FindComments(ctx context.Context, ticketID int64, internal bool) ([]*console.Comment, error) {
	q := `SELECT id, ticket_id, author_id, body, internal, created_at FROM comments WHERE ticket_id = $1`
	if !internal {
		q += ` AND NOT internal`
	}
	cs, err := queryAll(ctx, db.pool, func(s pgx.Row) (*console.Comment, error) {
		var c console.Comment
		err := s.Scan(&c.ID, &c.TicketID, nullID{&c.AuthorID}, &c.Body, &c.Internal, nullTime{&c.CreatedAt})
		return &c, err
	}, q+` ORDER BY id`, ticketID)
	return cs, wrap("find comments", err)
}

const attachmentCols = `id, ticket_id, comment_id, name, content_type, size, sha256, blob_key, uploaded_by, created_at`

func scanAttachment(s pgx.Row) (*console.Attachment, error) {
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
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if err := touchTicket(ctx, tx, a.TicketID, a.CreatedAt); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO attachments (ticket_id, comment_id, name, content_type, size, sha256,
			blob_key, uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			a.TicketID, iv(a.CommentID), a.Name, a.ContentType, a.Size, a.SHA256, a.BlobKey, iv(a.UploadedBy),
			a.CreatedAt).Scan(&a.ID); err != nil {
			return err
		}
		return addEvent(ctx, tx, &console.TicketEvent{TicketID: a.TicketID, ActorID: a.UploadedBy, At: a.CreatedAt,
			Kind: console.EventAttachmentAdded, RefID: a.ID})
	})
	return wrap("create attachment", err)
}

// FindAttachmentByID implements console.TicketService.
func (db *DB) FindAttachmentByID(ctx context.Context, id int64) (*console.Attachment, error) {
	a, err := scanAttachment(db.pool.QueryRow(ctx, `SELECT `+attachmentCols+` FROM attachments WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("find attachment", err)
	}
	return a, nil
}

// FindAttachments implements console.TicketService.
func (db *DB) FindAttachments(ctx context.Context, ticketID int64) ([]*console.Attachment, error) {
	as, err := queryAll(ctx, db.pool, scanAttachment, `SELECT `+attachmentCols+` FROM attachments WHERE ticket_id = $1 ORDER BY id`, ticketID)
	return as, wrap("find attachments", err)
}

// DeleteAttachment implements console.TicketService.
func (db *DB) DeleteAttachment(ctx context.Context, id, actorID int64) error {
	now := db.nowUTC()
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var ticketID int64
		if err := tx.QueryRow(ctx, `DELETE FROM attachments WHERE id = $1 RETURNING ticket_id`, id).Scan(&ticketID); err != nil {
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
func addEvent(ctx context.Context, tx pgx.Tx, e *console.TicketEvent) error {
	changes := e.Changes
	if changes == nil {
		changes = []console.FieldChange{}
	}
	return tx.QueryRow(ctx, `INSERT INTO ticket_events (ticket_id, actor_id, at, kind, ref_id, changes)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, e.TicketID, iv(e.ActorID), e.At, e.Kind, e.RefID, changes).Scan(&e.ID)
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
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if err := touchTicket(ctx, tx, e.TicketID, e.At); err != nil {
			return err
		}
		return addEvent(ctx, tx, e)
	})
	return wrap("add ticket event", err)
}

// FindTicketEvents implements console.TicketService.
func (db *DB) FindTicketEvents(ctx context.Context, ticketID int64) ([]*console.TicketEvent, error) {
	es, err := queryAll(ctx, db.pool, func(s pgx.Row) (*console.TicketEvent, error) {
		var e console.TicketEvent
		if err := s.Scan(&e.ID, &e.TicketID, nullID{&e.ActorID}, nullTime{&e.At}, &e.Kind, &e.RefID, &e.Changes); err != nil {
			return nil, err
		}
		if len(e.Changes) == 0 {
			e.Changes = nil
		}
		return &e, nil
	}, `SELECT id, ticket_id, actor_id, at, kind, ref_id, changes FROM ticket_events WHERE ticket_id = $1 ORDER BY id`, ticketID)
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
