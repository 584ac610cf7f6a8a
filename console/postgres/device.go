package postgres

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/reachdesk/reach/console"
)

const enrollmentCols = `id, group_id, name, secret_hash, expires_at, max_uses, uses, revoked, created_by, created_at`

func scanEnrollmentToken(s pgx.Row) (*console.EnrollmentToken, error) {
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
	err := db.pool.QueryRow(ctx, `INSERT INTO enrollment_tokens (group_id, name, secret_hash, expires_at, max_uses, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		t.GroupID, t.Name, t.SecretHash, t.ExpiresAt, t.MaxUses, iv(t.CreatedBy), t.CreatedAt).Scan(&t.ID)
	return wrap("create enrollment token", err)
}

// FindEnrollmentTokenByID implements console.EnrollmentService.
func (db *DB) FindEnrollmentTokenByID(ctx context.Context, id int64) (*console.EnrollmentToken, error) {
	t, err := scanEnrollmentToken(db.pool.QueryRow(ctx, `SELECT `+enrollmentCols+` FROM enrollment_tokens WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("find enrollment token", err)
	}
	return t, nil
}

// FindEnrollmentTokens implements console.EnrollmentService.
func (db *DB) FindEnrollmentTokens(ctx context.Context, groupID int64) ([]*console.EnrollmentToken, error) {
	q, a := `SELECT `+enrollmentCols+` FROM enrollment_tokens ORDER BY id DESC`, args(nil)
	if groupID != 0 {
		q, a = `SELECT `+enrollmentCols+` FROM enrollment_tokens WHERE group_id = $1 ORDER BY id DESC`, args{groupID}
	}
	ts, err := queryAll(ctx, db.pool, scanEnrollmentToken, q, a...)
	return ts, wrap("find enrollment tokens", err)
}

// RevokeEnrollmentToken implements console.EnrollmentService.
func (db *DB) RevokeEnrollmentToken(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `UPDATE enrollment_tokens SET revoked = true WHERE id = $1`, id)
	return mustAffect("revoke enrollment token", tag, err)
}

// Enroll implements console.EnrollmentService. The conditional UPDATE takes
// the token's row lock; a racing enrollment waits for it and re-checks the
// use count, so concurrent enrollments never exceed max uses.
func (db *DB) Enroll(ctx context.Context, secretHash []byte, d *console.Device) error {
	if err := d.Validate(); err != nil {
		return err
	}
	now := db.nowUTC()
	err := db.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE enrollment_tokens SET uses = uses + 1
			WHERE secret_hash = $1 AND NOT revoked AND expires_at > $2 AND uses < max_uses
			RETURNING id, group_id`, secretHash, now).Scan(&d.EnrollmentTokenID, &d.GroupID)
		if errors.Is(err, pgx.ErrNoRows) {
			return console.ErrEnrollmentRefused
		}
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO devices (group_id, name, public_key, enrollment_token_id, enrolled_at, last_seen_at, hostname)
			VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id`,
			d.GroupID, d.Name, []byte(d.PublicKey), d.EnrollmentTokenID, now, d.Hostname).Scan(&d.ID)
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

func scanDevice(s pgx.Row) (*console.Device, error) {
	var d console.Device
	var key []byte
	err := s.Scan(&d.ID, &d.GroupID, &d.Name, &key, nullID{&d.EnrollmentTokenID}, nullTime{&d.EnrolledAt}, nullTime{&d.LastSeenAt},
		&d.Hostname, &d.OS.Name, &d.OS.Version, &d.DiskUsedPercent, nullTime{&d.InventoryAt})
	d.PublicKey = key
	return &d, err
}

// FindDeviceByID implements console.DeviceService.
func (db *DB) FindDeviceByID(ctx context.Context, id int64) (*console.Device, error) {
	d, err := scanDevice(db.pool.QueryRow(ctx, `SELECT `+deviceCols+` FROM devices d WHERE d.id = $1`, id))
	if err != nil {
		return nil, wrap("find device", err)
	}
	return d, nil
}

// deviceSort names the only device order, for cursors.
const deviceSort = "name"

// deviceWhere builds the WHERE clause of a fleet search.
func deviceWhere(f *console.DeviceFilter, a *args) string {
	conds := []string{"true"}
	if f.GroupIDs != nil {
		conds = append(conds, "d.group_id = ANY("+a.add(f.GroupIDs)+")")
	}
	if f.Name != "" {
		p := a.add(likeContains(f.Name))
		conds = append(conds, "(d.name ILIKE "+p+" OR d.hostname ILIKE "+p+")")
	}
	if f.OS != "" {
		conds = append(conds, "d.os_name ILIKE "+a.add(likeContains(f.OS)))
	}
	if q := f.Software; q != nil {
		sub := `SELECT ds.device_id FROM device_software ds
			WHERE ds.software_id IN (SELECT id FROM software WHERE name ILIKE ` + a.add(likeContains(q.Name)) + `)`
		if q.Op != console.VersionAny {
			sub += ` AND ds.version_key <> '' AND ds.version_key ` + string(q.Op) + ` ` + a.add(console.VersionKey(q.Version))
		}
		conds = append(conds, "d.id IN ("+sub+")")
	}
	if f.DiskUsedAbove > 0 {
		conds = append(conds, "d.disk_used_pct > "+a.add(f.DiskUsedAbove))
	}
	if !f.SeenBefore.IsZero() {
		conds = append(conds, "(d.last_seen_at IS NULL OR d.last_seen_at < "+a.add(f.SeenBefore)+")")
	}
	if !f.SeenAfter.IsZero() {
		conds = append(conds, "d.last_seen_at > "+a.add(f.SeenAfter))
	}
	return strings.Join(conds, " AND ")
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
	var a args
	where := deviceWhere(&f, &a)
	if cur != nil {
		where += " AND (d.name, d.id) > (" + a.add(cur.Key) + ", " + a.add(cur.ID) + ")"
	}
	limit := console.PageLimit(f.Limit)
	ds, err := queryAll(ctx, db.pool, scanDevice, `SELECT `+deviceCols+` FROM devices d WHERE `+where+
		` ORDER BY d.name, d.id LIMIT `+a.add(limit+1), a...)
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
	var a args
	where := deviceWhere(&f, &a)
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM devices d WHERE `+where, a...).Scan(&n)
	return n, wrap("count devices", err)
}

// UpdateDevice implements console.DeviceService.
func (db *DB) UpdateDevice(ctx context.Context, id int64, upd console.DeviceUpdate) (*console.Device, error) {
	var d *console.Device
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if d, err = scanDevice(tx.QueryRow(ctx, `SELECT `+deviceCols+` FROM devices d WHERE d.id = $1 FOR UPDATE`, id)); err != nil {
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
		_, err = tx.Exec(ctx, `UPDATE devices SET name = $1, group_id = $2 WHERE id = $3`, d.Name, d.GroupID, id)
		return err
	})
	if err != nil {
		return nil, wrap("update device", err)
	}
	return d, nil
}

// DeleteDevice implements console.DeviceService.
func (db *DB) DeleteDevice(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM devices WHERE id = $1`, id)
	return mustAffect("delete device", tag, err)
}

// TouchDevice implements console.DeviceService.
func (db *DB) TouchDevice(ctx context.Context, id int64, t time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE devices SET last_seen_at = GREATEST(last_seen_at, $1) WHERE id = $2`, norm(t), id)
	return mustAffect("touch device", tag, err)
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
	res := &console.IngestResult{}
	newIDs := map[string]int64{}
	err := db.tx(ctx, func(tx pgx.Tx) error {
		// The row lock serializes reports of one device.
		var oldSWHash, oldOSName, oldOSVersion string
		var oldHashes map[string]string
		err := tx.QueryRow(ctx, `SELECT d.software_hash, d.os_name, d.os_version, i.section_hashes
			FROM devices d LEFT JOIN device_inventory i ON i.device_id = d.id WHERE d.id = $1 FOR UPDATE OF d`, r.DeviceID).
			Scan(&oldSWHash, &oldOSName, &oldOSVersion, &oldHashes)
		if err != nil {
			return err
		}
		if r.Receipt != nil { // after the lock: a concurrent request with the key has committed
			prev, err := findReceipt(ctx, tx, r.DeviceID, r.Receipt.Key)
			if err == nil {
				res.Replayed = prev
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		res.First = oldHashes == nil
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
		batch := &pgx.Batch{}
		batch.Queue(`UPDATE devices SET hostname = $1, os_name = $2, os_version = $3, disk_used_pct = $4, software_hash = $5,
			inventory_at = $6, last_seen_at = GREATEST(last_seen_at, $6) WHERE id = $7`,
			r.Hostname, r.OS.Name, r.OS.Version, r.DiskUsedPercent(), swHash, received, r.DeviceID)
		batch.Queue(`INSERT INTO device_inventory (device_id, schema_version, raw, section_hashes, collected_at, received_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (device_id) DO UPDATE SET schema_version = excluded.schema_version,
			raw = excluded.raw, section_hashes = excluded.section_hashes, collected_at = excluded.collected_at,
			received_at = excluded.received_at`,
			r.DeviceID, r.SchemaVersion, []byte(r.Raw), hashes, tv(norm(r.CollectedAt)), received)
		for _, name := range slices.Sorted(maps.Keys(hashes)) {
			if hashes[name] != oldHashes[name] {
				batch.Queue(`INSERT INTO inventory_snapshots (device_id, section, hash, data, received_at) VALUES ($1, $2, $3, $4, $5)`,
					r.DeviceID, name, hashes[name], []byte(r.Sections[name]), received)
			}
		}
		for _, c := range changes {
			batch.Queue(`INSERT INTO inventory_changes (device_id, at, section, op, key, old, new)
				VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, c.DeviceID, c.At, c.Section, c.Op, c.Key, c.Old, c.New).
				QueryRow(func(row pgx.Row) error { return row.Scan(&c.ID) })
		}
		res.Changes = changes
		if t := r.CompleteCommandsBefore; !t.IsZero() {
			batch.Queue(`UPDATE device_commands SET completed_at = $1 WHERE device_id = $2 AND kind = 'inventory'
				AND completed_at IS NULL AND created_at <= $3`, received, r.DeviceID, norm(t))
		}
		if r.Receipt != nil {
			rc, err := r.Receipt.Receipt(r.DeviceID, res, received)
			if err != nil {
				return err
			}
			batch.Queue(`INSERT INTO agent_receipts (device_id, key, kind, status, result, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				rc.DeviceID, rc.Key, rc.Kind, rc.Status, []byte(rc.Result), rc.CreatedAt)
		}
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return nil, wrap("ingest inventory", err)
	}
	db.software.add(newIDs)
	return res, nil
}

// syncSoftware turns the device's rows of the software index from old into
// next, touching only the rows that differ, and records catalog IDs
// created by tx in newIDs.
func (db *DB) syncSoftware(ctx context.Context, tx pgx.Tx, deviceID int64, old, next []console.Software, newIDs map[string]int64) error {
	removed, sw := console.SoftwareDelta(old, next)
	if len(removed) > 0 {
		names, versions := make([]string, len(removed)), make([]string, len(removed))
		for i, s := range removed {
			names[i], versions[i] = s.Name, s.Version
		}
		if _, err := tx.Exec(ctx, `DELETE FROM device_software ds USING software s
			WHERE ds.software_id = s.id AND ds.device_id = $1
			AND (s.name, ds.version) IN (SELECT * FROM unnest($2::text[], $3::text[]))`, deviceID, names, versions); err != nil {
			return err
		}
	}
	if len(sw) == 0 {
		return nil
	}
	names := make([]string, 0, len(sw))
	for _, s := range sw {
		if len(names) == 0 || names[len(names)-1] != s.Name {
			names = append(names, s.Name)
		}
	}
	ids, uncached := db.software.lookup(names)
	if len(uncached) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO software (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING`, uncached); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, name FROM software WHERE name = ANY($1)`, uncached)
		if err != nil {
			return err
		}
		var id int64
		var name string
		if _, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error {
			ids[name], newIDs[name] = id, id
			return nil
		}); err != nil {
			return err
		}
	}
	swIDs := make([]int64, len(sw))
	keys := make([]string, len(sw))
	versions := make([]string, len(sw))
	publishers := make([]string, len(sw))
	for i, s := range sw {
		swIDs[i], keys[i], versions[i], publishers[i] = ids[s.Name], console.VersionKey(s.Version), s.Version, s.Publisher
	}
	_, err := tx.Exec(ctx, `INSERT INTO device_software (software_id, version_key, device_id, version, publisher)
		SELECT s, k, $3, v, p FROM unnest($1::bigint[], $2::text[], $4::text[], $5::text[]) AS x(s, k, v, p)`,
		swIDs, keys, deviceID, versions, publishers)
	return err
}

func findSoftware(ctx context.Context, q querier, deviceID int64) ([]console.Software, error) {
	return queryAll(ctx, q, func(s pgx.Row) (console.Software, error) {
		var sw console.Software
		err := s.Scan(&sw.Name, &sw.Version, &sw.Publisher)
		return sw, err
	}, `SELECT s.name, ds.version, ds.publisher FROM device_software ds JOIN software s ON s.id = ds.software_id
		WHERE ds.device_id = $1 ORDER BY s.name COLLATE "C", ds.version`, deviceID)
}

// FindDeviceSoftware implements console.DeviceService.
func (db *DB) FindDeviceSoftware(ctx context.Context, deviceID int64) ([]console.Software, error) {
	sw, err := findSoftware(ctx, db.pool, deviceID)
	return sw, wrap("find device software", err)
}

// FindInventory implements console.DeviceService.
func (db *DB) FindInventory(ctx context.Context, deviceID int64) (*console.Inventory, error) {
	inv := &console.Inventory{DeviceID: deviceID}
	var raw []byte
	err := db.pool.QueryRow(ctx, `SELECT schema_version, raw, section_hashes, collected_at, received_at
		FROM device_inventory WHERE device_id = $1`, deviceID).
		Scan(&inv.SchemaVersion, &raw, &inv.SectionHashes, nullTime{&inv.CollectedAt}, nullTime{&inv.ReceivedAt})
	if err != nil {
		return nil, wrap("find inventory", err)
	}
	inv.Raw = raw
	return inv, nil
}

const snapshotCols = `s.id, s.device_id, s.section, s.hash, s.data, s.received_at`

func scanSnapshot(s pgx.Row) (*console.InventorySnapshot, error) {
	var sn console.InventorySnapshot
	var data []byte
	err := s.Scan(&sn.ID, &sn.DeviceID, &sn.Section, &sn.Hash, &data, nullTime{&sn.ReceivedAt})
	sn.Data = data
	return &sn, err
}

// FindInventorySnapshots implements console.DeviceService.
func (db *DB) FindInventorySnapshots(ctx context.Context, f console.SnapshotFilter) ([]*console.InventorySnapshot, error) {
	var a args
	where := "s.device_id = " + a.add(f.DeviceID)
	if f.Section != "" {
		where += " AND s.section = " + a.add(f.Section)
	}
	q := `SELECT ` + snapshotCols + ` FROM inventory_snapshots s WHERE ` + where
	if !f.Since.IsZero() {
		// Later snapshots, plus for each section the latest one at Since.
		since := a.add(f.Since)
		q = `SELECT ` + snapshotCols + ` FROM inventory_snapshots s WHERE ` + where + ` AND s.received_at > ` + since + `
			UNION ALL
			(SELECT DISTINCT ON (s.section) ` + snapshotCols + ` FROM inventory_snapshots s
			WHERE ` + where + ` AND s.received_at <= ` + since + ` ORDER BY s.section, s.received_at DESC, s.id DESC)`
	}
	ss, err := queryAll(ctx, db.pool, scanSnapshot, `SELECT * FROM (`+q+`) s ORDER BY s.section, s.received_at, s.id`, a...)
	return ss, wrap("find inventory snapshots", err)
}

// FindInventoryChanges implements console.DeviceService.
func (db *DB) FindInventoryChanges(ctx context.Context, f console.ChangeFilter) ([]*console.InventoryChange, error) {
	var a args
	q := `SELECT id, device_id, at, section, op, key, old, new FROM inventory_changes WHERE id > ` + a.add(f.AfterID)
	if f.DeviceID != 0 {
		q += ` AND device_id = ` + a.add(f.DeviceID)
	}
	if f.Section != "" {
		q += ` AND section = ` + a.add(f.Section)
	}
	if !f.Since.IsZero() {
		q += ` AND at >= ` + a.add(f.Since)
	}
	q += ` ORDER BY id LIMIT ` + a.add(console.PageLimit(f.Limit))
	cs, err := queryAll(ctx, db.pool, func(s pgx.Row) (*console.InventoryChange, error) {
		var c console.InventoryChange
		err := s.Scan(&c.ID, &c.DeviceID, nullTime{&c.At}, &c.Section, &c.Op, &c.Key, &c.Old, &c.New)
		return &c, err
	}, q, a...)
	return cs, wrap("find inventory changes", err)
}

const diagnosticCols = `id, device_id, ticket_id, check_name, status, output, requested_by, started_at, finished_at, created_at`

func scanDiagnostic(s pgx.Row) (*console.DiagnosticResult, error) {
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
	err := db.pool.QueryRow(ctx, `INSERT INTO diagnostic_results (device_id, ticket_id, check_name, status, output,
		requested_by, started_at, finished_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		r.DeviceID, iv(r.TicketID), r.Check, r.Status, r.Output, iv(r.RequestedBy),
		tv(r.StartedAt), tv(r.FinishedAt), r.CreatedAt).Scan(&r.ID)
	return missing("create diagnostic result", "device or ticket", err)
}

// FindDiagnosticResultByID implements console.DeviceService.
func (db *DB) FindDiagnosticResultByID(ctx context.Context, id int64) (*console.DiagnosticResult, error) {
	r, err := scanDiagnostic(db.pool.QueryRow(ctx, `SELECT `+diagnosticCols+` FROM diagnostic_results WHERE id = $1`, id))
	if err != nil {
		return nil, wrap("find diagnostic result", err)
	}
	return r, nil
}

// FindDiagnosticResults implements console.DeviceService.
func (db *DB) FindDiagnosticResults(ctx context.Context, f console.DiagnosticFilter) ([]*console.DiagnosticResult, error) {
	var a args
	var conds []string
	if f.DeviceID != 0 {
		conds = append(conds, "device_id = "+a.add(f.DeviceID))
	}
	if f.TicketID != 0 {
		conds = append(conds, "ticket_id = "+a.add(f.TicketID))
	}
	if len(conds) == 0 {
		return nil, console.Errorf(console.CodeInvalid, "diagnostic filter needs a device or a ticket")
	}
	rs, err := queryAll(ctx, db.pool, scanDiagnostic, `SELECT `+diagnosticCols+` FROM diagnostic_results WHERE `+
		strings.Join(conds, " AND ")+` ORDER BY id DESC LIMIT `+a.add(console.PageLimit(f.Limit)), a...)
	return rs, wrap("find diagnostic results", err)
}

// likeContains returns an ILIKE pattern matching s anywhere, with s's
// wildcards escaped by backslash (the default LIKE escape).
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
