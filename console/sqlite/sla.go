package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/reachdesk/reach/console"
)

const policyCols = `id, name, is_default, targets, calendar, created_at, updated_at`

func scanPolicy(s scanner) (*console.SLAPolicy, error) {
	var p console.SLAPolicy
	var targets, calendar string
	if err := s.Scan(&p.ID, &p.Name, &p.Default, &targets, &calendar, nullTime{&p.CreatedAt}, nullTime{&p.UpdatedAt}); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(targets), &p.Targets); err != nil {
		return nil, fmt.Errorf("decode SLA targets: %w", err)
	}
	if err := json.Unmarshal([]byte(calendar), &p.Calendar); err != nil {
		return nil, fmt.Errorf("decode SLA calendar: %w", err)
	}
	return &p, nil
}

// encodePolicy returns the JSON columns of p.
func encodePolicy(p *console.SLAPolicy) (targets, calendar string, err error) {
	t, err := json.Marshal(p.Targets)
	if err != nil {
		return "", "", fmt.Errorf("sqlite: encode SLA targets: %w", err)
	}
	c, err := json.Marshal(p.Calendar)
	if err != nil {
		return "", "", fmt.Errorf("sqlite: encode SLA calendar: %w", err)
	}
	return string(t), string(c), nil
}

// CreateSLAPolicy implements console.SLAPolicyService.
func (db *DB) CreateSLAPolicy(ctx context.Context, p *console.SLAPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	targets, calendar, err := encodePolicy(p)
	if err != nil {
		return err
	}
	now := db.nowUTC()
	err = db.write(ctx, func(tx *sql.Tx) error {
		if p.Default {
			if _, err := tx.ExecContext(ctx, `UPDATE sla_policies SET is_default = 0 WHERE is_default`); err != nil {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `INSERT INTO sla_policies (name, is_default, targets, calendar, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, p.Name, p.Default, targets, calendar, tv(now), tv(now)).Scan(&p.ID)
	})
	if err != nil {
		return wrap("create SLA policy", err)
	}
	p.CreatedAt, p.UpdatedAt = now, now
	return nil
}

// FindSLAPolicyByID implements console.SLAPolicyService.
func (db *DB) FindSLAPolicyByID(ctx context.Context, id int64) (*console.SLAPolicy, error) {
	p, err := scanPolicy(db.r.QueryRowContext(ctx, `SELECT `+policyCols+` FROM sla_policies WHERE id = ?`, id))
	return p, wrap("find SLA policy", err)
}

// FindDefaultSLAPolicy implements console.SLAPolicyService.
func (db *DB) FindDefaultSLAPolicy(ctx context.Context) (*console.SLAPolicy, error) {
	p, err := scanPolicy(db.r.QueryRowContext(ctx, `SELECT `+policyCols+` FROM sla_policies WHERE is_default`))
	return p, wrap("find default SLA policy", err)
}

// FindSLAPolicies implements console.SLAPolicyService.
func (db *DB) FindSLAPolicies(ctx context.Context) ([]*console.SLAPolicy, error) {
	ps, err := queryAll(ctx, db.r, scanPolicy, `SELECT `+policyCols+` FROM sla_policies ORDER BY name, id`)
	return ps, wrap("find SLA policies", err)
}

// UpdateSLAPolicy implements console.SLAPolicyService.
func (db *DB) UpdateSLAPolicy(ctx context.Context, p *console.SLAPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	targets, calendar, err := encodePolicy(p)
	if err != nil {
		return err
	}
	now := db.nowUTC()
	err = db.write(ctx, func(tx *sql.Tx) error {
		if p.Default {
			if _, err := tx.ExecContext(ctx, `UPDATE sla_policies SET is_default = 0 WHERE is_default AND id <> ?`, p.ID); err != nil {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `UPDATE sla_policies SET name = ?, is_default = ?, targets = ?, calendar = ?, updated_at = ?
			WHERE id = ? RETURNING created_at`, p.Name, p.Default, targets, calendar, tv(now), p.ID).Scan(nullTime{&p.CreatedAt})
	})
	if err != nil {
		return wrap("update SLA policy", err)
	}
	p.UpdatedAt = now
	return nil
}

// DeleteSLAPolicy implements console.SLAPolicyService.
func (db *DB) DeleteSLAPolicy(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sla_policies WHERE id = ?`, id)
		return mustAffect("delete SLA policy", res, err)
	})
}
