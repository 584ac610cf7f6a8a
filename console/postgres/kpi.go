package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/reachdesk/reach/console"
)

// periodWhere appends conditions bounding col to p.
func periodWhere(col string, p console.Period, conds []string, a *args) []string {
	if !p.From.IsZero() {
		conds = append(conds, col+" >= "+a.add(p.From))
	}
	if !p.To.IsZero() {
		conds = append(conds, col+" < "+a.add(p.To))
	}
	return conds
}

// FindResolvedTickets implements console.KPIService.
func (db *DB) FindResolvedTickets(ctx context.Context, f console.KPIFilter) ([]*console.ResolvedTicket, error) {
	if err := f.Period.Validate(); err != nil {
		return nil, err
	}
	var a args
	conds := periodWhere("t.resolved_at", f.Period, []string{"t.resolved_at IS NOT NULL"}, &a)
	if f.TechnicianID != 0 {
		conds = append(conds, "t.assignee_id = "+a.add(f.TechnicianID))
	}
	if f.TeamID != 0 {
		conds = append(conds, "t.team_id = "+a.add(f.TeamID))
	}
	q := `SELECT t.id, t.priority, t.channel, t.assignee_id, t.team_id, t.level, t.sla_policy_id, t.created_at,
		t.first_response_due, t.first_responded_at, t.resolution_due, t.resolved_at, t.paused_us, t.reopen_count,
		(SELECT count(*) FROM comments c WHERE c.ticket_id = t.id AND NOT c.internal AND c.author_id IS NOT NULL),
		(SELECT count(*) FROM sessions s WHERE s.ticket_id = t.id)
		FROM tickets t WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY t.resolved_at, t.id`
	ts, err := queryAll(ctx, db.pool, func(s pgx.Row) (*console.ResolvedTicket, error) {
		var t console.ResolvedTicket
		var pausedUS int64
		err := s.Scan(&t.ID, &t.Priority, &t.Channel, nullID{&t.AssigneeID}, nullID{&t.TeamID}, &t.Level, nullID{&t.SLAPolicyID},
			nullTime{&t.CreatedAt}, nullTime{&t.FirstResponseDue}, nullTime{&t.FirstRespondedAt}, nullTime{&t.ResolutionDue},
			nullTime{&t.ResolvedAt}, &pausedUS, &t.ReopenCount, &t.PublicComments, &t.Sessions)
		t.PausedFor = time.Duration(pausedUS) * time.Microsecond
		return &t, err
	}, q, a...)
	return ts, wrap("find resolved tickets", err)
}

// CSATStats implements console.KPIService.
func (db *DB) CSATStats(ctx context.Context, f console.KPIFilter) (*console.CSATStats, error) {
	if err := f.Period.Validate(); err != nil {
		return nil, err
	}
	var a args
	conds := periodWhere("s.ended_at", f.Period, []string{"s.kind = 'attended'", "s.ended_at IS NOT NULL"}, &a)
	if f.TechnicianID != 0 {
		conds = append(conds, "s.technician_id = "+a.add(f.TechnicianID))
	}
	rows, err := db.pool.Query(ctx, `SELECT a.score, count(*) FROM sessions s
		LEFT JOIN csat_answers a ON a.session_id = s.id WHERE `+strings.Join(conds, " AND ")+` GROUP BY a.score`, a...)
	if err != nil {
		return nil, wrap("CSAT stats", err)
	}
	st := &console.CSATStats{}
	var score *int
	var n int
	_, err = pgx.ForEachRow(rows, []any{&score, &n}, func() error {
		st.Sessions += n
		if score != nil && *score >= 1 && *score <= 5 {
			st.Responses += n
			st.Sum += n * *score
			st.Distribution[*score-1] += n
		}
		return nil
	})
	if err != nil {
		return nil, wrap("CSAT stats", err)
	}
	return st, nil
}

// Backlog implements console.KPIService.
func (db *DB) Backlog(ctx context.Context) ([]*console.BacklogEntry, error) {
	es, err := queryAll(ctx, db.pool, func(s pgx.Row) (*console.BacklogEntry, error) {
		var e console.BacklogEntry
		err := s.Scan(nullID{&e.AssigneeID}, nullID{&e.TeamID}, &e.Priority, &e.Status, &e.Count)
		return &e, err
	}, `SELECT assignee_id, team_id, priority, status, count(*) FROM tickets WHERE status NOT IN ('resolved', 'closed')
		GROUP BY assignee_id, team_id, priority, status
		ORDER BY COALESCE(assignee_id, 0), COALESCE(team_id, 0), priority, status`)
	return es, wrap("backlog", err)
}
