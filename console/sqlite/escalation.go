package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/reachdesk/reach/console"
)

const ruleCols = `id, name, enabled, priorities, category, team_id, level, deadline, trigger_kind, minutes, percent,
	set_level, set_team_id, unassign, created_at, updated_at`

func scanRule(s scanner) (*console.EscalationRule, error) {
	var r console.EscalationRule
	var prios string
	if err := s.Scan(&r.ID, &r.Name, &r.Enabled, &prios, &r.Category, nullID{&r.TeamID}, &r.Level, &r.Deadline, &r.Trigger,
		&r.Minutes, &r.Percent, &r.SetLevel, nullID{&r.SetTeamID}, &r.Unassign, nullTime{&r.CreatedAt}, nullTime{&r.UpdatedAt}); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(prios), &r.Priorities); err != nil {
		return nil, fmt.Errorf("decode rule priorities: %w", err)
	}
	if len(r.Priorities) == 0 {
		r.Priorities = nil
	}
	return &r, nil
}

// ruleArgs returns the columns of r from priorities to unassign.
func ruleArgs(r *console.EscalationRule) []any {
	prios := slices.Clone(r.Priorities)
	slices.Sort(prios)
	prios = slices.Compact(prios)
	r.Priorities = prios
	b, _ := json.Marshal(prios) // cannot fail: integers
	if prios == nil {
		b = []byte("[]")
	}
	return []any{string(b), r.Category, iv(r.TeamID), r.Level, r.Deadline, r.Trigger, r.Minutes, r.Percent,
		r.SetLevel, iv(r.SetTeamID), r.Unassign}
}

// CreateEscalationRule implements console.EscalationService.
func (db *DB) CreateEscalationRule(ctx context.Context, r *console.EscalationRule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		args := append([]any{r.Name, r.Enabled}, ruleArgs(r)...)
		return tx.QueryRowContext(ctx, `INSERT INTO escalation_rules (name, enabled, priorities, category, team_id, level,
			deadline, trigger_kind, minutes, percent, set_level, set_team_id, unassign, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, append(args, tv(now), tv(now))...).Scan(&r.ID)
	})
	if err != nil {
		return wrap("create escalation rule", err)
	}
	r.CreatedAt, r.UpdatedAt = now, now
	return nil
}

// FindEscalationRuleByID implements console.EscalationService.
func (db *DB) FindEscalationRuleByID(ctx context.Context, id int64) (*console.EscalationRule, error) {
	r, err := scanRule(db.r.QueryRowContext(ctx, `SELECT `+ruleCols+` FROM escalation_rules WHERE id = ?`, id))
	return r, wrap("find escalation rule", err)
}

// FindEscalationRules implements console.EscalationService.
func (db *DB) FindEscalationRules(ctx context.Context) ([]*console.EscalationRule, error) {
	rs, err := queryAll(ctx, db.r, scanRule, `SELECT `+ruleCols+` FROM escalation_rules ORDER BY id`)
	return rs, wrap("find escalation rules", err)
}

// UpdateEscalationRule implements console.EscalationService.
func (db *DB) UpdateEscalationRule(ctx context.Context, r *console.EscalationRule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		args := append([]any{r.Name, r.Enabled}, ruleArgs(r)...)
		return tx.QueryRowContext(ctx, `UPDATE escalation_rules SET name = ?, enabled = ?, priorities = ?, category = ?,
			team_id = ?, level = ?, deadline = ?, trigger_kind = ?, minutes = ?, percent = ?, set_level = ?, set_team_id = ?,
			unassign = ?, updated_at = ? WHERE id = ? RETURNING created_at`, append(args, tv(now), r.ID)...).Scan(nullTime{&r.CreatedAt})
	})
	if err != nil {
		return wrap("update escalation rule", err)
	}
	r.UpdatedAt = now
	return nil
}

// DeleteEscalationRule implements console.EscalationService.
func (db *DB) DeleteEscalationRule(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM escalation_rules WHERE id = ?`, id)
		return mustAffect("delete escalation rule", res, err)
	})
}

// ApplyEscalation implements console.EscalationService.
func (db *DB) ApplyEscalation(ctx context.Context, f *console.EscalationFiring) (*console.Ticket, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	f.At = db.nowUTC()
	var t *console.Ticket
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO escalation_firings (ticket_id, rule_id, kind, at) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, f.TicketID, f.RuleID, f.Kind, tv(f.At))
		if err != nil {
			return missing("apply escalation", "ticket or rule", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return console.Errorf(console.CodeConflict, "the rule already fired on this ticket")
		}
		if t, err = findTicket(ctx, tx, f.TicketID); err != nil {
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
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET level = ?, team_id = ?, assignee_id = ?, version = ?, updated_at = ?
				WHERE id = ?`, t.Level, iv(t.TeamID), iv(t.AssigneeID), t.Version, tv(t.UpdatedAt), t.ID); err != nil {
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
	args := make([]any, len(ticketIDs))
	for i, id := range ticketIDs {
		args[i] = id
	}
	fs, err := queryAll(ctx, db.r, func(s scanner) (*console.EscalationFiring, error) {
		var f console.EscalationFiring
		err := s.Scan(&f.TicketID, &f.RuleID, &f.Kind, nullTime{&f.At})
		return &f, err
	}, `SELECT ticket_id, rule_id, kind, at FROM escalation_firings WHERE ticket_id IN (`+placeholders(len(args))+`)
		ORDER BY ticket_id, rule_id`, args...)
	return fs, wrap("find escalation firings", err)
}
