package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reachdesk/reach/console"
)

const enrollmentCols = `id, group_id, name, secret_hash, expires_at, max_uses, uses, revoked, created_by, created_at`

func scanEnrollmentToken(s scanner) (*console.EnrollmentToken, error) {
	var t console.EnrollmentToken
	err := s.Scan(&t.ID, &t.GroupID, &t.Name, &t.SecretHash, nullTime{&t.ExpiresAt}, &t.MaxUses, &t.Uses, &t.Revoked,
		nullID{&t.CreatedBy}, nullTime{&t.CreatedAt})
	return &t, err
}

// CreateEnrollmentToken implements console.EnrollmentService.
func (db *DB) CreateEnrollmentToken(ctx context.Context, t *console.EnrollmentToken) error {
	if err := t.Validate(); err != nil {
		return err
	}
	t.CreatedAt, t.ExpiresAt, t.Uses, t.Revoked = db.nowUTC(), norm(t.ExpiresAt), 0, false
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO enrollment_tokens (group_id, name, secret_hash, expires_at, max_uses, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			t.GroupID, t.Name, t.SecretHash, tv(t.ExpiresAt), t.MaxUses, iv(t.CreatedBy), tv(t.CreatedAt)).Scan(&t.ID)
	})
	return wrap("create enrollment token", err)
}

// FindEnrollmentTokenByID implements console.EnrollmentService.
func (db *DB) FindEnrollmentTokenByID(ctx context.Context, id int64) (*console.EnrollmentToken, error) {
	t, err := scanEnrollmentToken(db.r.QueryRowContext(ctx, `SELECT `+enrollmentCols+` FROM enrollment_tokens WHERE id = ?`, id))
	return t, wrap("find enrollment token", err)
}

// FindEnrollmentTokens implements console.EnrollmentService.
func (db *DB) FindEnrollmentTokens(ctx context.Context, groupID int64) ([]*console.EnrollmentToken, error) {
	q, args := `SELECT `+enrollmentCols+` FROM enrollment_tokens ORDER BY id DESC`, []any(nil)
	if groupID != 0 {
		q, args = `SELECT `+enrollmentCols+` FROM enrollment_tokens WHERE group_id = ? ORDER BY id DESC`, []any{groupID}
	}
	ts, err := queryAll(ctx, db.r, scanEnrollmentToken, q, args...)
	return ts, wrap("find enrollment tokens", err)
}

// RevokeEnrollmentToken implements console.EnrollmentService.
func (db *DB) RevokeEnrollmentToken(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE enrollment_tokens SET revoked = 1 WHERE id = ?`, id)
		return mustAffect("revoke enrollment token", res, err)
	})
}

// Enroll implements console.EnrollmentService. The use is taken by a
// conditional UPDATE in the same transaction as the device insert, so
// concurrent enrollments can never exceed the token's max uses.
func (db *DB) Enroll(ctx context.Context, secretHash []byte, d *console.Device) error {
	if err := d.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE enrollment_tokens SET uses = uses + 1
			WHERE secret_hash = ? AND NOT revoked AND expires_at > ? AND uses < max_uses
			RETURNING id, group_id`, secretHash, now.UnixMicro()).Scan(&d.EnrollmentTokenID, &d.GroupID)
		if errors.Is(err, sql.ErrNoRows) {
			return console.ErrEnrollmentRefused
		}
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO devices (group_id, name, public_key, enrollment_token_id, enrolled_at, last_seen_at, hostname)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			d.GroupID, d.Name, []byte(d.PublicKey), d.EnrollmentTokenID, tv(now), tv(now), d.Hostname).Scan(&d.ID)
	})
	if err != nil {
		return wrap("enroll device", err)
	}
	d.EnrolledAt, d.LastSeenAt = now, now
	d.OS, d.DiskUsedPercent, d.InventoryAt = console.OSInfo{}, 0, time.Time{}
	return nil
}

const deviceCols = `d.id, d.group_id, d.name, d.public_key, d.enrollment_token_id, d.enrolled_at, d.last_seen_at,
	d.hostname, d.os_name, d.os_version, d.disk_used_pct, d.inventory_at`

func scanDevice(s scanner) (*console.Device, error) {
	var d console.Device
	var key []byte
	err := s.Scan(&d.ID, &d.GroupID, &d.Name, &key, nullID{&d.EnrollmentTokenID}, nullTime{&d.EnrolledAt}, nullTime{&d.LastSeenAt},
		&d.Hostname, &d.OS.Name, &d.OS.Version, &d.DiskUsedPercent, nullTime{&d.InventoryAt})
	d.PublicKey = key
	return &d, err
}

// FindDeviceByID implements console.DeviceService.
func (db *DB) FindDeviceByID(ctx context.Context, id int64) (*console.Device, error) {
	d, err := scanDevice(db.r.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices d WHERE d.id = ?`, id))
	return d, wrap("find device", err)
}

// deviceSort names the only device order, for cursors.
const deviceSort = "name"

// deviceWhere builds the WHERE clause of a fleet search.
func deviceWhere(f *console.DeviceFilter) (string, []any) {
	var conds []string
	var args []any
	if f.GroupIDs != nil {
		if len(f.GroupIDs) == 0 {
			return "0 = 1", nil
		}
		conds = append(conds, "d.group_id IN ("+placeholders(len(f.GroupIDs))+")")
		for _, id := range f.GroupIDs {
			args = append(args, id)
		}
	}
	if f.Name != "" {
		conds = append(conds, `(d.name LIKE ? ESCAPE '\' OR d.hostname LIKE ? ESCAPE '\')`)
		args = append(args, likeContains(f.Name), likeContains(f.Name))
	}
	if f.OS != "" {
		conds = append(conds, `d.os_name LIKE ? ESCAPE '\'`)
		args = append(args, likeContains(f.OS))
	}
	if q := f.Software; q != nil {
		sub := `SELECT ds.device_id FROM device_software ds
			WHERE ds.software_id IN (SELECT id FROM software WHERE name LIKE ? ESCAPE '\')`
		args = append(args, likeContains(q.Name))
		if q.Op != console.VersionAny {
			sub += ` AND ds.version_key <> '' AND ds.version_key ` + string(q.Op) + ` ?`
			args = append(args, console.VersionKey(q.Version))
		}
		conds = append(conds, "d.id IN ("+sub+")")
	}
	if f.DiskUsedAbove > 0 {
		conds = append(conds, "d.disk_used_pct > ?")
		args = append(args, f.DiskUsedAbove)
	}
	if !f.SeenBefore.IsZero() {
		conds = append(conds, "(d.last_seen_at IS NULL OR d.last_seen_at < ?)")
		args = append(args, f.SeenBefore.UnixMicro())
	}
	if !f.SeenAfter.IsZero() {
		conds = append(conds, "d.last_seen_at > ?")
		args = append(args, f.SeenAfter.UnixMicro())
	}
	if len(conds) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(conds, " AND "), args
}

// FindDevices implements console.DeviceService.
func (db *DB) FindDevices(ctx context.Context, f console.DeviceFilter) (*console.DevicePage, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	cur, err := console.DecodeCursor(f.Cursor, deviceSort)
	if err != nil {
		return nil, err
	}
	where, args := deviceWhere(&f)
	if cur != nil {
		where += " AND (d.name, d.id) > (?, ?)"
		args = append(args, cur.Key, cur.ID)
	}
	limit := console.PageLimit(f.Limit)
	args = append(args, limit+1)
	ds, err := queryAll(ctx, db.r, scanDevice, `SELECT `+deviceCols+` FROM devices d WHERE `+where+` ORDER BY d.name, d.id LIMIT ?`, args...)
	if err != nil {
		return nil, wrap("find devices", err)
	}
	page := &console.DevicePage{Devices: ds}
	if len(ds) > limit {
		page.Devices = ds[:limit]
		last := ds[limit-1]
		page.Next = console.Cursor{Sort: deviceSort, Key: last.Name, ID: last.ID}.Encode()
	}
	return page, nil
}

// CountDevices implements console.DeviceService.
func (db *DB) CountDevices(ctx context.Context, f console.DeviceFilter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	where, args := deviceWhere(&f)
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM devices d WHERE `+where, args...).Scan(&n)
	return n, wrap("count devices", err)
}

// UpdateDevice implements console.DeviceService.
func (db *DB) UpdateDevice(ctx context.Context, id int64, upd console.DeviceUpdate) (*console.Device, error) {
	var d *console.Device
	err := db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if d, err = scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices d WHERE d.id = ?`, id)); err != nil {
			return err
		}
		if upd.Name != nil {
			d.Name = *upd.Name
		}
		if upd.GroupID != nil {
			d.GroupID = *upd.GroupID
		}
		if err := d.Validate(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE devices SET name = ?, group_id = ? WHERE id = ?`, d.Name, d.GroupID, id)
		return err
	})
	if err != nil {
		return nil, wrap("update device", err)
	}
	return d, nil
}

// DeleteDevice implements console.DeviceService.
func (db *DB) DeleteDevice(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM devices WHERE id = ?`, id)
		return mustAffect("delete device", res, err)
	})
}

// TouchDevice implements console.DeviceService.
func (db *DB) TouchDevice(ctx context.Context, id int64, t time.Time) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE devices SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) WHERE id = ?`,
			norm(t).UnixMicro(), id)
		return mustAffect("touch device", res, err)
	})
}

// IngestInventory implements console.DeviceService.
func (db *DB) IngestInventory(ctx context.Context, r *console.InventoryReport) (*console.IngestResult, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	received := norm(r.ReceivedAt)
	if received.IsZero() {
		received = db.nowUTC()
	}
	sw := console.NormalizeSoftware(r.Software)
	swHash := console.SoftwareHash(sw)
	hashes := make(map[string]string, len(r.Sections))
	for name, b := range r.Sections {
		hashes[name] = console.SectionHash(b)
	}
	hashJSON, err := json.Marshal(hashes)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode section hashes: %w", err)
	}
	res := &console.IngestResult{}
	newIDs := map[string]int64{}
	err = db.write(ctx, func(tx *sql.Tx) error {
		if r.Receipt != nil {
			prev, err := findReceipt(ctx, tx, r.DeviceID, r.Receipt.Key)
			if err == nil {
				res.Replayed = prev
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		var oldSWHash, oldOSName, oldOSVersion string
		var oldHashJSON sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT d.software_hash, d.os_name, d.os_version, i.section_hashes
			FROM devices d LEFT JOIN device_inventory i ON i.device_id = d.id WHERE d.id = ?`, r.DeviceID).
			Scan(&oldSWHash, &oldOSName, &oldOSVersion, &oldHashJSON)
		if err != nil {
			return err
		}
		res.First = !oldHashJSON.Valid
		oldHashes := map[string]string{}
		if !res.First {
			if err := json.Unmarshal([]byte(oldHashJSON.String), &oldHashes); err != nil {
				return fmt.Errorf("decode section hashes: %w", err)
			}
		}
		var changes []*console.InventoryChange
		for _, c := range console.DiffSections(r.DeviceID, received, oldHashes, hashes) {
			res.ChangedSections = append(res.ChangedSections, c.Section)
			changes = append(changes, c)
		}
		if swHash != oldSWHash {
			var old []console.Software
			if !res.First {
				if old, err = findSoftware(ctx, tx, r.DeviceID); err != nil {
					return err
				}
				changes = append(changes, console.DiffSoftware(r.DeviceID, received, old, sw)...)
			}
			if err := db.syncSoftware(ctx, tx, r.DeviceID, old, sw, newIDs); err != nil {
				return err
			}
		}
		oldOS := console.OSInfo{Name: oldOSName, Version: oldOSVersion}
		if !res.First && oldOS != r.OS {
			changes = append(changes, &console.InventoryChange{DeviceID: r.DeviceID, At: received, Section: "os",
				Op: console.ChangeUpdated, Key: "os", Old: oldOS.String(), New: r.OS.String()})
		}
		if res.First {
			changes = nil // the first report is the baseline, not a change
		}
		if _, err := tx.ExecContext(ctx, `UPDATE devices SET hostname = ?, os_name = ?, os_version = ?, disk_used_pct = ?,
			software_hash = ?, inventory_at = ?, last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) WHERE id = ?`,
			r.Hostname, r.OS.Name, r.OS.Version, r.DiskUsedPercent(), swHash, tv(received), tv(received), r.DeviceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO device_inventory (device_id, schema_version, raw, section_hashes, collected_at, received_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET schema_version = excluded.schema_version,
			raw = excluded.raw, section_hashes = excluded.section_hashes, collected_at = excluded.collected_at,
			received_at = excluded.received_at`,
			r.DeviceID, r.SchemaVersion, []byte(r.Raw), string(hashJSON), tv(norm(r.CollectedAt)), tv(received)); err != nil {
			return err
		}
		for _, name := range slices.Sorted(maps.Keys(hashes)) {
			if hashes[name] == oldHashes[name] {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO inventory_snapshots (device_id, section, hash, data, received_at)
				VALUES (?, ?, ?, ?, ?)`, r.DeviceID, name, hashes[name], []byte(r.Sections[name]), tv(received)); err != nil {
				return err
			}
		}
		for _, c := range changes {
			if err := tx.QueryRowContext(ctx, `INSERT INTO inventory_changes (device_id, at, section, op, key, old, new)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.DeviceID, tv(c.At), c.Section, c.Op, c.Key, c.Old, c.New).Scan(&c.ID); err != nil {
				return err
			}
		}
		res.Changes = changes
		if t := r.CompleteCommandsBefore; !t.IsZero() {
			if _, err := tx.ExecContext(ctx, `UPDATE device_commands SET completed_at = ? WHERE device_id = ? AND kind = 'inventory'
				AND completed_at IS NULL AND created_at <= ?`, tv(received), r.DeviceID, norm(t).UnixMicro()); err != nil {
				return err
			}
		}
		if r.Receipt != nil {
			rc, err := r.Receipt.Receipt(r.DeviceID, res, received)
			if err != nil {
				return err
			}
			return insertReceipt(ctx, tx, rc)
		}
		return nil
	})
	if err != nil {
		return nil, wrap("ingest inventory", err)
	}
	db.software.add(newIDs)
	return res, nil
}

// findReceipt returns the device's receipt with key; sql.ErrNoRows if none.
func findReceipt(ctx context.Context, q queryer, deviceID int64, key string) (*console.AgentReceipt, error) {
	r := &console.AgentReceipt{DeviceID: deviceID, Key: key}
	var result []byte
	err := q.QueryRowContext(ctx, `SELECT kind, status, result, created_at FROM agent_receipts WHERE device_id = ? AND key = ?`,
		deviceID, key).Scan(&r.Kind, &r.Status, &result, nullTime{&r.CreatedAt})
	r.Result = result
	return r, err
}

// syncSoftware turns the device's rows of the software index from old into
// next, touching only the rows that differ, and records catalog IDs
// created by tx in newIDs.
func (db *DB) syncSoftware(ctx context.Context, tx *sql.Tx, deviceID int64, old, next []console.Software, newIDs map[string]int64) error {
	removed, added := console.SoftwareDelta(old, next)
	for _, s := range removed {
		if _, err := tx.ExecContext(ctx, `DELETE FROM device_software WHERE device_id = ? AND version = ?
			AND software_id = (SELECT id FROM software WHERE name = ?)`, deviceID, s.Version, s.Name); err != nil {
			return err
		}
	}
	if len(added) == 0 {
		return nil
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO device_software (software_id, version_key, device_id, version, publisher)
		VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, s := range added {
		id, err := db.softwareID(ctx, tx, s.Name, newIDs)
		if err != nil {
			return err
		}
		if _, err := ins.ExecContext(ctx, id, console.VersionKey(s.Version), deviceID, s.Version, s.Publisher); err != nil {
			return err
		}
	}
	return nil
}

// softwareID returns the catalog ID of name, creating the entry if needed.
func (db *DB) softwareID(ctx context.Context, tx *sql.Tx, name string, newIDs map[string]int64) (int64, error) {
	if id, ok := db.software.get(name); ok {
		return id, nil
	}
	if id, ok := newIDs[name]; ok {
		return id, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO software (name) VALUES (?)
		ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`, name).Scan(&id)
	if err != nil {
		return 0, err
	}
	newIDs[name] = id
	return id, nil
}

func findSoftware(ctx context.Context, q queryer, deviceID int64) ([]console.Software, error) {
	return queryAll(ctx, q, func(s scanner) (console.Software, error) {
		var sw console.Software
		err := s.Scan(&sw.Name, &sw.Version, &sw.Publisher)
		return sw, err
	}, `SELECT s.name, ds.version, ds.publisher FROM device_software ds JOIN software s ON s.id = ds.software_id
		WHERE ds.device_id = ? ORDER BY s.name, ds.version`, deviceID)
}

// FindDeviceSoftware implements console.DeviceService.
func (db *DB) FindDeviceSoftware(ctx context.Context, deviceID int64) ([]console.Software, error) {
	sw, err := findSoftware(ctx, db.r, deviceID)
	return sw, wrap("find device software", err)
}

// FindInventory implements console.DeviceService.
func (db *DB) FindInventory(ctx context.Context, deviceID int64) (*console.Inventory, error) {
	inv := &console.Inventory{DeviceID: deviceID}
	var raw []byte
	var hashes string
	err := db.r.QueryRowContext(ctx, `SELECT schema_version, raw, section_hashes, collected_at, received_at
		FROM device_inventory WHERE device_id = ?`, deviceID).
		Scan(&inv.SchemaVersion, &raw, &hashes, nullTime{&inv.CollectedAt}, nullTime{&inv.ReceivedAt})
	if err != nil {
		return nil, wrap("find inventory", err)
	}
	inv.Raw = raw
	if err := json.Unmarshal([]byte(hashes), &inv.SectionHashes); err != nil {
		return nil, fmt.Errorf("sqlite: find inventory: decode section hashes: %w", err)
	}
	return inv, nil
}

const snapshotCols = `s.id, s.device_id, s.section, s.hash, s.data, s.received_at`

func scanSnapshot(s scanner) (*console.InventorySnapshot, error) {
	var sn console.InventorySnapshot
	var data []byte
	err := s.Scan(&sn.ID, &sn.DeviceID, &sn.Section, &sn.Hash, &data, nullTime{&sn.ReceivedAt})
	sn.Data = data
	return &sn, err
}

// FindInventorySnapshots implements console.DeviceService.
func (db *DB) FindInventorySnapshots(ctx context.Context, f console.SnapshotFilter) ([]*console.InventorySnapshot, error) {
	where, args := "s.device_id = ?", []any{f.DeviceID}
	if f.Section != "" {
		where += " AND s.section = ?"
		args = append(args, f.Section)
	}
	q := `SELECT ` + snapshotCols + ` FROM inventory_snapshots s WHERE ` + where
	if !f.Since.IsZero() {
		since := f.Since.UnixMicro()
		// Later snapshots, plus for each section the latest one at Since.
		q = `SELECT ` + snapshotCols + ` FROM inventory_snapshots s WHERE ` + where + ` AND s.received_at > ?
			UNION ALL
			SELECT ` + snapshotCols + ` FROM inventory_snapshots s WHERE ` + where + ` AND s.received_at <= ?
			AND NOT EXISTS (SELECT 1 FROM inventory_snapshots n WHERE n.device_id = s.device_id AND n.section = s.section
				AND n.received_at <= ? AND (n.received_at, n.id) > (s.received_at, s.id))`
		args = append(append(append(args, since), args...), since, since)
	}
	ss, err := queryAll(ctx, db.r, scanSnapshot, `SELECT * FROM (`+q+`) s ORDER BY s.section, s.received_at, s.id`, args...)
	return ss, wrap("find inventory snapshots", err)
}

// FindInventoryChanges implements console.DeviceService.
func (db *DB) FindInventoryChanges(ctx context.Context, f console.ChangeFilter) ([]*console.InventoryChange, error) {
	q := `SELECT id, device_id, at, section, op, key, old, new FROM inventory_changes WHERE id > ?`
	args := []any{f.AfterID}
	if f.DeviceID != 0 {
		q += ` AND device_id = ?`
		args = append(args, f.DeviceID)
	}
	if f.Section != "" {
		q += ` AND section = ?`
		args = append(args, f.Section)
	}
	if !f.Since.IsZero() {
		q += ` AND at >= ?`
		args = append(args, f.Since.UnixMicro())
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, console.PageLimit(f.Limit))
	cs, err := queryAll(ctx, db.r, func(s scanner) (*console.InventoryChange, error) {
		var c console.InventoryChange
		err := s.Scan(&c.ID, &c.DeviceID, nullTime{&c.At}, &c.Section, &c.Op, &c.Key, &c.Old, &c.New)
		return &c, err
	}, q, args...)
	return cs, wrap("find inventory changes", err)
}

const diagnosticCols = `id, device_id, ticket_id, check_name, status, output, requested_by, started_at, finished_at, created_at`

func scanDiagnostic(s scanner) (*console.DiagnosticResult, error) {
	var r console.DiagnosticResult
	err := s.Scan(&r.ID, &r.DeviceID, nullID{&r.TicketID}, &r.Check, &r.Status, &r.Output, nullID{&r.RequestedBy},
		nullTime{&r.StartedAt}, nullTime{&r.FinishedAt}, nullTime{&r.CreatedAt})
	return &r, err
}

// CreateDiagnosticResult implements console.DeviceService.
func (db *DB) CreateDiagnosticResult(ctx context.Context, r *console.DiagnosticResult) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.CreatedAt, r.StartedAt, r.FinishedAt = db.nowUTC(), norm(r.StartedAt), norm(r.FinishedAt)
	err := db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO diagnostic_results (device_id, ticket_id, check_name, status, output,
			requested_by, started_at, finished_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.DeviceID, iv(r.TicketID), r.Check, r.Status, r.Output, iv(r.RequestedBy),
			tv(r.StartedAt), tv(r.FinishedAt), tv(r.CreatedAt)).Scan(&r.ID)
	})
	return missing("create diagnostic result", "device or ticket", err)
}

// FindDiagnosticResultByID implements console.DeviceService.
func (db *DB) FindDiagnosticResultByID(ctx context.Context, id int64) (*console.DiagnosticResult, error) {
	r, err := scanDiagnostic(db.r.QueryRowContext(ctx, `SELECT `+diagnosticCols+` FROM diagnostic_results WHERE id = ?`, id))
	return r, wrap("find diagnostic result", err)
}

// FindDiagnosticResults implements console.DeviceService.
func (db *DB) FindDiagnosticResults(ctx context.Context, f console.DiagnosticFilter) ([]*console.DiagnosticResult, error) {
	var conds []string
	var args []any
	if f.DeviceID != 0 {
		conds = append(conds, "device_id = ?")
		args = append(args, f.DeviceID)
	}
	if f.TicketID != 0 {
		conds = append(conds, "ticket_id = ?")
		args = append(args, f.TicketID)
	}
	if len(conds) == 0 {
		return nil, console.Errorf(console.CodeInvalid, "diagnostic filter needs a device or a ticket")
	}
	args = append(args, console.PageLimit(f.Limit))
	rs, err := queryAll(ctx, db.r, scanDiagnostic, `SELECT `+diagnosticCols+` FROM diagnostic_results WHERE `+
		strings.Join(conds, " AND ")+` ORDER BY id DESC LIMIT ?`, args...)
	return rs, wrap("find diagnostic results", err)
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// likeContains returns a LIKE pattern matching s anywhere, with s's
// wildcards escaped by backslash.
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// int64Key formats an int64 sort key for a cursor.
func int64Key(v int64) string { return strconv.FormatInt(v, 10) }
