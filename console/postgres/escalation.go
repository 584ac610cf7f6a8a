package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/reachdesk/reach/console"
)

const ruleCols = `id, name, enabled, priorities, category, team_id, level, deadline, trigger_kind, minutes, percent,
	set_level, set_team_id, unassign, created_at, updated_at`

func scanRule(s pgx.Row) (*console.EscalationRule, error) {
	var r console.EscalationRule
	var prios []int16
	if err := s.Scan(&r.ID, &r.Name, &r.Enabled, &prios, &r.Category, nullID{&r.TeamID}, &r.Level, &r.Deadline, &r.Trigger,
		&r.Minutes, &r.Percent, &r.SetLevel, nullID{&r.SetTeamID}, &r.Unassign, nullTime{&r.CreatedAt}, nullTime{&r.UpdatedAt}); err != nil {
		return nil, err
	}
	for _, p := range prios {
		r.Priorities = append(r.Priorities, console.Priority(p))
	}
	return &r, nil
}

// ruleArgs returns the columns of r from priorities to unassign.
func ruleArgs(r *console.EscalationRule) []any {
	prios := slices.Clone(r.Priorities)
	slices.Sort(prios)
	prios = slices.Compact(prios)
	r.Priorities = prios
	col := make([]int16, len(prios))
	for i, p := range prios {
		col[i] = int16(p)
	}
	return []any{col, r.Category, iv(r.TeamID), r.Level, r.Deadline, r.Trigger, r.Minutes, r.Percent,
		r.SetLevel, iv(r.SetTeamID), r.Unassign}
}

// CreateEscalationRule implements console.EscalationService.
func (db *DB) CreateEscalationRule(ctx context.Context, r *console.EscalationRule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	args := append(append([]any{r.Name, r.Enabled}, ruleArgs(r)...), now)
	err := db.pool.QueryRow(ctx, `INSERT INTO escalation_rules (name, enabled, priorities, category, team_id, level,
		deadline, trigger_kind, minutes, percent, set_level, set_team_id, unassign, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id`, args...).Scan(&r.ID)
	if err != nil {
		return wrap("create escalation rule", err)
	}
	r.CreatedAt, r.UpdatedAt = now, now
	return nil
}

// FindEscalationRuleByID implements console.EscalationService.
func (db *DB) FindEscalationRuleByID(ctx context.Context, id int64) (*console.EscalationRule, error) {
	r, err := scanRule(db.pool.QueryRow(ctx, `SELECT `+ruleCols+` FROM escalation_rules WHERE id = $1`, id))
	return r, wrap("find escalation rule", err)
}

// FindEscalationRules implements console.EscalationService.
func (db *DB) FindEscalationRules(ctx context.Context) ([]*console.EscalationRule, error) {
	rs, err := queryAll(ctx, db.pool, scanRule, `SELECT `+ruleCols+` FROM escalation_rules ORDER BY id`)
	return rs, wrap("find escalation rules", err)
}

// UpdateEscalationRule implements console.EscalationService.
func (db *DB) UpdateEscalationRule(ctx context.Context, r *console.EscalationRule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	args := append(append([]any{r.Name, r.Enabled}, ruleArgs(r)...), now, r.ID)
	err := db.pool.QueryRow(ctx, `UPDATE escalation_rules SET name = $1, enabled = $2, priorities = $3, category = $4,
		team_id = $5, level = $6, deadline = $7, trigger_kind = $8, minutes = $9, percent = $10, set_level = $11,
		set_team_id = $12, unassign = $13, updated_at = $14 WHERE id = $15 RETURNING created_at`, args...).Scan(nullTime{&r.CreatedAt})
	if err != nil {
		return wrap("update escalation rule", err)
	}
	r.UpdatedAt = now
	return nil
}

// DeleteEscalationRule implements console.EscalationService.
func (db *DB) DeleteEscalationRule(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM escalation_rules WHERE id = $1`, id)
	return mustAffect("delete escalation rule", tag, err)
}

// ApplyEscalation implements console.EscalationService. The firing's
// primary key serializes concurrent schedulers on several nodes: the
// second insert waits for the first transaction and then does nothing.
func (db *DB) ApplyEscalation(ctx context.Context, f *console.EscalationFiring) (*console.Ticket, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	f.At = db.nowUTC()
	var t *console.Ticket
	err := db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO escalation_firings (ticket_id, rule_id, kind, at) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, f.TicketID, f.RuleID, f.Kind, f.At)
		if err != nil {
			return missing("apply escalation", "ticket or rule", err)
		}
		if tag.RowsAffected() == 0 {
			return console.Errorf(console.CodeConflict, "the rule already fired on this ticket")
		}
		if t, err = findTicket(ctx, tx, f.TicketID, "FOR UPDATE"); err != nil {
			return err
		}
		if f.IfVersion != 0 && f.IfVersion != t.Version {
			return console.Errorf(console.CodeConflict, "the ticket was changed by someone else")
		}
		upd := f.Update(t)
		changes := upd.Apply(t)
		if len(changes) > 0 {
			t.Version++
			t.UpdatedAt = f.At
			if _, err := tx.Exec(ctx, `UPDATE tickets SET level = $1, team_id = $2, assignee_id = $3, version = $4, updated_at = $5
				WHERE id = $6`, t.Level, iv(t.TeamID), iv(t.AssigneeID), t.Version, t.UpdatedAt, t.ID); err != nil {
				return err
			}
		} else if err := touchTicket(ctx, tx, t.ID, f.At); err != nil {
			return err
		}
		return addEvent(ctx, tx, &console.TicketEvent{TicketID: t.ID, At: f.At, Kind: f.Kind, RefID: f.RuleID, Changes: changes})
	})
	if err != nil {
		return nil, wrap("apply escalation", err)
	}
	return t, nil
}

// FindEscalationFirings implements console.EscalationService.
func (db *DB) FindEscalationFirings(ctx context.Context, ticketIDs []int64) ([]*console.EscalationFiring, error) {
	if len(ticketIDs) == 0 {
		return nil, nil
	}
	if len(ticketIDs) > console.MaxPageSize {
		return nil, console.Errorf(console.CodeInvalid, "more than %d tickets", console.MaxPageSize)
	}
	fs, err := queryAll(ctx, db.pool, func(s pgx.Row) (*console.EscalationFiring, error) {
		var f console.EscalationFiring
		err := s.Scan(&f.TicketID, &f.RuleID, &f.Kind, nullTime{&f.At})
		return &f, err
	}, `SELECT ticket_id, rule_id, kind, at FROM escalation_firings WHERE ticket_id = ANY($1) ORDER BY ticket_id, rule_id`, ticketIDs)
	return fs, wrap("find escalation firings", err)
}
