package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"github.com/reachdesk/reach/console/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations is the embedded schema history.
var migrations = migration.MustLoad(migrationFiles, "migrations")

// migrate applies every migration newer than the database's version, each
// in its own transaction together with its schema_migrations row. It
// refuses a database migrated by a newer binary.
func migrate(ctx context.Context, db *sql.DB, ms []migration.Migration) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := apply(ctx, db, m, len(ms)); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration unless it is already applied.
func apply(ctx context.Context, db *sql.DB, m migration.Migration, known int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migration %d: begin: %w", m.Version, err)
	}
	defer tx.Rollback()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if current > known {
		return fmt.Errorf("sqlite: database schema version %d is newer than this binary's %d", current, known)
	}
	if current >= m.Version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("sqlite: migration %d (%s): %w", m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("sqlite: record migration %d: %w", m.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migration %d: commit: %w", m.Version, err)
	}
	return nil
}

// schemaVersion returns the highest applied migration.
func schemaVersion(ctx context.Context, q queryer) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: read schema version: %w", err)
	}
	return v, nil
}
