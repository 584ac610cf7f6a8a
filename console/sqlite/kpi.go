package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/reachdesk/reach/console"
)

// periodWhere appends conditions bounding col to p.
func periodWhere(col string, p console.Period, conds []string, args []any) ([]string, []any) {
	if !p.From.IsZero() {
		conds = append(conds, col+" >= ?")
		args = append(args, p.From.UnixMicro())
	}
	if !p.To.IsZero() {
		conds = append(conds, col+" < ?")
		args = append(args, p.To.UnixMicro())
	}
	return conds, args
}

// FindResolvedTickets implements console.KPIService.
func (db *DB) FindResolvedTickets(ctx context.Context, f console.KPIFilter) ([]*console.ResolvedTicket, error) {
	if err := f.Period.Validate(); err != nil {
		return nil, err
	}
	conds, args := periodWhere("t.resolved_at", f.Period, []string{"t.resolved_at IS NOT NULL"}, nil)
	if f.TechnicianID != 0 {
		conds = append(conds, "t.assignee_id = ?")
		args = append(args, f.TechnicianID)
	}
	if f.TeamID != 0 {
		conds = append(conds, "t.team_id = ?")
		args = append(args, f.TeamID)
	}
	q := `SELECT t.id, t.priority, t.channel, t.assignee_id, t.team_id, t.level, t.sla_policy_id, t.created_at,
		t.first_response_due, t.first_responded_at, t.resolution_due, t.resolved_at, t.paused_us, t.reopen_count,
		(SELECT count(*) FROM comments c WHERE c.ticket_id = t.id AND NOT c.internal AND c.author_id IS NOT NULL),
		(SELECT count(*) FROM sessions s WHERE s.ticket_id = t.id)
		FROM tickets t WHERE ` + joinAnd(conds) + ` ORDER BY t.resolved_at, t.id`
	ts, err := queryAll(ctx, db.r, func(s scanner) (*console.ResolvedTicket, error) {
		var t console.ResolvedTicket
		var pausedUS int64
		err := s.Scan(&t.ID, &t.Priority, &t.Channel, nullID{&t.AssigneeID}, nullID{&t.TeamID}, &t.Level, nullID{&t.SLAPolicyID},
			nullTime{&t.CreatedAt}, nullTime{&t.FirstResponseDue}, nullTime{&t.FirstRespondedAt}, nullTime{&t.ResolutionDue},
			nullTime{&t.ResolvedAt}, &pausedUS, &t.ReopenCount, &t.PublicComments, &t.Sessions)
		t.PausedFor = time.Duration(pausedUS) * time.Microsecond
		return &t, err
	}, q, args...)
	return ts, wrap("find resolved tickets", err)
}

// CSATStats implements console.KPIService.
func (db *DB) CSATStats(ctx context.Context, f console.KPIFilter) (*console.CSATStats, error) {
	if err := f.Period.Validate(); err != nil {
		return nil, err
	}
	conds, args := periodWhere("s.ended_at", f.Period, []string{"s.kind = 'attended'", "s.ended_at IS NOT NULL"}, nil)
	if f.TechnicianID != 0 {
		conds = append(conds, "s.technician_id = ?")
		args = append(args, f.TechnicianID)
	}
	st := &console.CSATStats{}
	rows, err := db.r.QueryContext(ctx, `SELECT a.score, count(*) FROM sessions s
		LEFT JOIN csat_answers a ON a.session_id = s.id WHERE `+joinAnd(conds)+` GROUP BY a.score`, args...)
	if err != nil {
		return nil, wrap("CSAT stats", err)
	}
	defer rows.Close()
	for rows.Next() {
		var score sql.NullInt64
		var n int
		if err := rows.Scan(&score, &n); err != nil {
			return nil, wrap("CSAT stats", err)
		}
		st.Sessions += n
		if score.Valid && score.Int64 >= 1 && score.Int64 <= 5 {
			st.Responses += n
			st.Sum += n * int(score.Int64)
			st.Distribution[score.Int64-1] += n
		}
	}
	return st, wrap("CSAT stats", rows.Err())
}

// Backlog implements console.KPIService.
func (db *DB) Backlog(ctx context.Context) ([]*console.BacklogEntry, error) {
	es, err := queryAll(ctx, db.r, func(s scanner) (*console.BacklogEntry, error) {
		var e console.BacklogEntry
		err := s.Scan(nullID{&e.AssigneeID}, nullID{&e.TeamID}, &e.Priority, &e.Status, &e.Count)
		return &e, err
	}, `SELECT assignee_id, team_id, priority, status, count(*) FROM tickets WHERE status NOT IN ('resolved', 'closed')
		GROUP BY assignee_id, team_id, priority, status
		ORDER BY COALESCE(assignee_id, 0), COALESCE(team_id, 0), priority, status`)
	return es, wrap("backlog", err)
}

func joinAnd(conds []string) string { return strings.Join(conds, " AND ") }
