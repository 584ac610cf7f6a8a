package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/reachdesk/reach/console/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations is the embedded schema history.
var migrations = migration.MustLoad(migrationFiles, "migrations")

// migrationLock is the pg_advisory_xact_lock key that serializes
// migrations of nodes starting together ("reach" in ASCII).
const migrationLock = 0x7265616368

// migrate applies every migration newer than the database's version, each
// in its own transaction together with its schema_migrations row. It
// refuses a database migrated by a newer binary.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []migration.Migration) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text    NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	for _, m := range ms {
		if err := apply(ctx, pool, m, len(ms)); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration unless it is already applied.
func apply(ctx context.Context, pool *pgxpool.Pool, m migration.Migration, known int) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("postgres: migration %d: lock: %w", m.Version, err)
		}
		current, err := schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		if current > known {
			return fmt.Errorf("postgres: database schema version %d is newer than this binary's %d", current, known)
		}
		if current >= m.Version {
			return nil
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("postgres: migration %d (%s): %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return fmt.Errorf("postgres: record migration %d: %w", m.Version, err)
		}
		return nil
	})
}

// schemaVersion returns the highest applied migration.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	if err := q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: read schema version: %w", err)
	}
	return v, nil
}
