package sqlite

import (
	"context"
	"database/sql"

	"github.com/reachdesk/reach/console"
)

const groupCols = `id, name, description, created_at`

func scanGroup(s scanner) (*console.DeviceGroup, error) {
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
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO device_groups (name, description, created_at) VALUES (?, ?, ?) RETURNING id`,
			g.Name, g.Description, tv(g.CreatedAt)).Scan(&g.ID)
	})
	return wrap("create device group", err)
}

// FindDeviceGroupByID implements console.GroupService.
func (db *DB) FindDeviceGroupByID(ctx context.Context, id int64) (*console.DeviceGroup, error) {
	g, err := scanGroup(db.r.QueryRowContext(ctx, `SELECT `+groupCols+` FROM device_groups WHERE id = ?`, id))
	return g, wrap("find device group", err)
}

// FindDeviceGroups implements console.GroupService.
func (db *DB) FindDeviceGroups(ctx context.Context) ([]*console.DeviceGroup, error) {
	gs, err := queryAll(ctx, db.r, scanGroup, `SELECT `+groupCols+` FROM device_groups ORDER BY name, id`)
	return gs, wrap("find device groups", err)
}

// UpdateDeviceGroup implements console.GroupService.
func (db *DB) UpdateDeviceGroup(ctx context.Context, id int64, upd console.DeviceGroupUpdate) (*console.DeviceGroup, error) {
	var g *console.DeviceGroup
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if g, err = scanGroup(tx.QueryRowContext(ctx, `SELECT `+groupCols+` FROM device_groups WHERE id = ?`, id)); err != nil {
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
		_, err = tx.ExecContext(ctx, `UPDATE device_groups SET name = ?, description = ? WHERE id = ?`, g.Name, g.Description, id)
		return err
	})
	if err != nil {
		return nil, wrap("update device group", err)
	}
	return g, nil
}

// DeleteDeviceGroup implements console.GroupService.
func (db *DB) DeleteDeviceGroup(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM device_groups WHERE id = ?`, id)
		if err != nil {
			return inUse("delete device group", err)
		}
		return mustAffect("delete device group", res, nil)
	})
}

// SetGrant implements console.GroupService.
func (db *DB) SetGrant(ctx context.Context, g *console.Grant) error {
	if err := g.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if g.UserID != 0 {
			_, err = tx.ExecContext(ctx, `INSERT INTO grants (group_id, user_id, permissions) VALUES (?, ?, ?)
				ON CONFLICT (group_id, user_id) WHERE user_id IS NOT NULL DO UPDATE SET permissions = excluded.permissions`,
				g.GroupID, g.UserID, g.Permissions)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO grants (group_id, role, permissions) VALUES (?, ?, ?)
				ON CONFLICT (group_id, role) WHERE role IS NOT NULL DO UPDATE SET permissions = excluded.permissions`,
				g.GroupID, g.Role, g.Permissions)
		}
		return wrap("set grant", err)
	})
}

// DeleteGrant implements console.GroupService.
func (db *DB) DeleteGrant(ctx context.Context, g *console.Grant) error {
	if err := g.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE group_id = ? AND (user_id = ? OR role = ?)`,
			g.GroupID, iv(g.UserID), string(g.Role))
		return mustAffect("delete grant", res, err)
	})
}

// FindGrants implements console.GroupService.
func (db *DB) FindGrants(ctx context.Context, f console.GrantFilter) ([]*console.Grant, error) {
	q := `SELECT group_id, user_id, role, permissions FROM grants WHERE 1 = 1`
	var args []any
	if f.GroupID != 0 {
		q += ` AND group_id = ?`
		args = append(args, f.GroupID)
	}
	switch {
	case f.UserID != 0 && f.Role != "":
		q += ` AND (user_id = ? OR role = ?)`
		args = append(args, f.UserID, f.Role)
	case f.UserID != 0:
		q += ` AND user_id = ?`
		args = append(args, f.UserID)
	case f.Role != "":
		q += ` AND role = ?`
		args = append(args, f.Role)
	}
	q += ` ORDER BY group_id, user_id IS NULL, user_id, role`
	gs, err := queryAll(ctx, db.r, func(s scanner) (*console.Grant, error) {
		var g console.Grant
		var role sql.NullString
		err := s.Scan(&g.GroupID, nullID{&g.UserID}, &role, &g.Permissions)
		g.Role = console.Role(role.String)
		return &g, err
	}, q, args...)
	return gs, wrap("find grants", err)
}
