package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/reachdesk/reach/console"
)

const groupCols = `id, name, description, created_at`

func scanGroup(s pgx.Row) (*console.DeviceGroup, error) {
	var g console.DeviceGroup
	err := s.Scan(&g.ID, &g.Name, &g.Description, nullTime{&g.CreatedAt})
	return &g, err
}

// CreateDeviceGroup implements console.GroupService.
func (db *DB) CreateDeviceGroup(ctx context.Context, g *console.DeviceGroup) error {
	if err := g.Validate(); err != nil {
		return err
	}
	g.CreatedAt = db.nowUTC()
	err := db.pool.QueryRow(ctx, `INSERT INTO device_groups (name, description, created_at) VALUES ($1, $2, $3) RETURNING id`,
		g.Name, g.Description, g.CreatedAt).Scan(&g.ID)
	return wrap("create device group", err)
}

// FindDeviceGroupByID implements console.GroupService.
func (db *DB) FindDeviceGroupByID(ctx context.Context, id int64) (*console.DeviceGroup, error) {
	g, err := scanGroup(db.pool.QueryRow(ctx, `SELECT `+groupCols+` FROM device_groups WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("find device group", err)
	}
	return g, nil
}

// FindDeviceGroups implements console.GroupService.
func (db *DB) FindDeviceGroups(ctx context.Context) ([]*console.DeviceGroup, error) {
	gs, err := queryAll(ctx, db.pool, scanGroup, `SELECT `+groupCols+` FROM device_groups ORDER BY lower(name), id`)
	return gs, wrap("find device groups", err)
}

// UpdateDeviceGroup implements console.GroupService.
func (db *DB) UpdateDeviceGroup(ctx context.Context, id int64, upd console.DeviceGroupUpdate) (*console.DeviceGroup, error) {
	var g *console.DeviceGroup
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if g, err = scanGroup(tx.QueryRow(ctx, `SELECT `+groupCols+` FROM device_groups WHERE id = $1 FOR UPDATE`, id)); err != nil {
			return err
		}
		if upd.Name != nil {
			g.Name = *upd.Name
		}
		if upd.Description != nil {
			g.Description = *upd.Description
		}
		if err := g.Validate(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE device_groups SET name = $1, description = $2 WHERE id = $3`, g.Name, g.Description, id)
		return err
	})
	if err != nil {
		return nil, wrap("update device group", err)
	}
	return g, nil
}

// DeleteDeviceGroup implements console.GroupService.
func (db *DB) DeleteDeviceGroup(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM device_groups WHERE id = $1`, id)
	if err != nil {
		return inUse("delete device group", err)
	}
	return mustAffect("delete device group", tag, nil)
}

// SetGrant implements console.GroupService.
func (db *DB) SetGrant(ctx context.Context, g *console.Grant) error {
	if err := g.Validate(); err != nil {
		return err
	}
	var err error
	if g.UserID != 0 {
		_, err = db.pool.Exec(ctx, `INSERT INTO grants (group_id, user_id, permissions) VALUES ($1, $2, $3)
			ON CONFLICT (group_id, user_id) WHERE user_id IS NOT NULL DO UPDATE SET permissions = excluded.permissions`,
			g.GroupID, g.UserID, g.Permissions)
	} else {
		_, err = db.pool.Exec(ctx, `INSERT INTO grants (group_id, role, permissions) VALUES ($1, $2, $3)
			ON CONFLICT (group_id, role) WHERE role IS NOT NULL DO UPDATE SET permissions = excluded.permissions`,
			g.GroupID, g.Role, g.Permissions)
	}
	return wrap("set grant", err)
}

// DeleteGrant implements console.GroupService.
func (db *DB) DeleteGrant(ctx context.Context, g *console.Grant) error {
	if err := g.Validate(); err != nil {
		return err
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM grants WHERE group_id = $1 AND (user_id = $2 OR role = $3)`,
		g.GroupID, iv(g.UserID), string(g.Role))
	return mustAffect("delete grant", tag, err)
}

// FindGrants implements console.GroupService.
func (db *DB) FindGrants(ctx context.Context, f console.GrantFilter) ([]*console.Grant, error) {
	var a args
	q := `SELECT group_id, user_id, role, permissions FROM grants WHERE true`
	if f.GroupID != 0 {
		q += ` AND group_id = ` + a.add(f.GroupID)
	}
	switch {
	case f.UserID != 0 && f.Role != "":
		q += ` AND (user_id = ` + a.add(f.UserID) + ` OR role = ` + a.add(f.Role) + `)`
	case f.UserID != 0:
		q += ` AND user_id = ` + a.add(f.UserID)
	case f.Role != "":
		q += ` AND role = ` + a.add(f.Role)
	}
	q += ` ORDER BY group_id, user_id IS NULL, user_id, role`
	gs, err := queryAll(ctx, db.pool, func(s pgx.Row) (*console.Grant, error) {
		var g console.Grant
		var role *string
		err := s.Scan(&g.GroupID, nullID{&g.UserID}, &role, &g.Permissions)
		if role != nil {
			g.Role = console.Role(*role)
		}
		return &g, err
	}, q, a...)
	return gs, wrap("find grants", err)
}
