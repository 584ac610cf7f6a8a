package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/reachdesk/reach/console"
)

const policyCols = `id, name, is_default, targets, calendar, created_at, updated_at`

func scanPolicy(s pgx.Row) (*console.SLAPolicy, error) {
	var p console.SLAPolicy
	err := s.Scan(&p.ID, &p.Name, &p.Default, &p.Targets, &p.Calendar, nullTime{&p.CreatedAt}, nullTime{&p.UpdatedAt})
	return &p, err
}

// CreateSLAPolicy implements console.SLAPolicyService.
func (db *DB) CreateSLAPolicy(ctx context.Context, p *console.SLAPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if p.Default {
			if _, err := tx.Exec(ctx, `UPDATE sla_policies SET is_default = false WHERE is_default`); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, `INSERT INTO sla_policies (name, is_default, targets, calendar, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, p.Name, p.Default, p.Targets, p.Calendar, now).Scan(&p.ID)
	})
	if err != nil {
		return wrap("create SLA policy", err)
	}
	p.CreatedAt, p.UpdatedAt = now, now
	return nil
}

// FindSLAPolicyByID implements console.SLAPolicyService.
func (db *DB) FindSLAPolicyByID(ctx context.Context, id int64) (*console.SLAPolicy, error) {
	p, err := scanPolicy(db.pool.QueryRow(ctx, `SELECT `+policyCols+` FROM sla_policies WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("find SLA policy", err)
	}
	return p, nil
}

// FindDefaultSLAPolicy implements console.SLAPolicyService.
func (db *DB) FindDefaultSLAPolicy(ctx context.Context) (*console.SLAPolicy, error) {
	p, err := scanPolicy(db.pool.QueryRow(ctx, `SELECT `+policyCols+` FROM sla_policies WHERE is_default`))
	if err != nil {
		return nil, wrap("find default SLA policy", err)
	}
	return p, nil
}

// FindSLAPolicies implements console.SLAPolicyService.
func (db *DB) FindSLAPolicies(ctx context.Context) ([]*console.SLAPolicy, error) {
	ps, err := queryAll(ctx, db.pool, scanPolicy, `SELECT `+policyCols+` FROM sla_policies ORDER BY lower(name), id`)
	return ps, wrap("find SLA policies", err)
}

// UpdateSLAPolicy implements console.SLAPolicyService.
func (db *DB) UpdateSLAPolicy(ctx context.Context, p *console.SLAPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.tx(ctx, func(tx pgx.Tx) error {
		if p.Default {
			if _, err := tx.Exec(ctx, `UPDATE sla_policies SET is_default = false WHERE is_default AND id <> $1`, p.ID); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, `UPDATE sla_policies SET name = $1, is_default = $2, targets = $3, calendar = $4, updated_at = $5
			WHERE id = $6 RETURNING created_at`, p.Name, p.Default, p.Targets, p.Calendar, now, p.ID).Scan(nullTime{&p.CreatedAt})
	})
	if err != nil {
		return wrap("update SLA policy", err)
	}
	p.UpdatedAt = now
	return nil
}

// DeleteSLAPolicy implements console.SLAPolicyService.
func (db *DB) DeleteSLAPolicy(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM sla_policies WHERE id = $1`, id)
	return mustAffect("delete SLA policy", tag, err)
}
