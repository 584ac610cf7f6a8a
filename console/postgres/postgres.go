// Package postgres implements console.Store on PostgreSQL with pgx, for
// sites that run several console nodes or want a server database.
//
// Every console node connects through a pgxpool; invariants that span rows
// hold through transactions and row locks, not through process-local state.
// Migrations in migrations/ are applied at Open under an advisory lock, so
// that nodes starting together migrate once.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/reachdesk/reach/console"
)

// Options configures a DB. The zero value is ready to use.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxConns bounds the pool; zero keeps pgxpool's default (or the DSN's
	// pool_max_conns).
	MaxConns int32
}

// DB is a console.Store on one PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
	now  func() time.Time

	software softwareCache
}

var _ console.Store = (*DB)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string) and applies pending migrations.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DSN: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db := &DB{pool: pool, now: opts.Now}
	if db.now == nil {
		db.now = time.Now
	}
	if err := migrate(ctx, pool, migrations); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// SchemaVersion returns the highest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, db.pool)
}

// Analyze refreshes the query planner's statistics and the visibility map
// (VACUUM ANALYZE), so that index-only scans work right after a bulk load
// instead of waiting for autovacuum.
func (db *DB) Analyze(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, "VACUUM (ANALYZE)"); err != nil {
		return fmt.Errorf("postgres: vacuum analyze: %w", err)
	}
	return nil
}

// tx runs fn in a transaction and commits it if fn returns nil.
func (db *DB) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// nowUTC returns the clock's time at the store's precision.
func (db *DB) nowUTC() time.Time { return norm(db.now()) }

// norm returns t in UTC at microsecond precision, the precision stored.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// tv converts a time to a parameter: NULL if zero.
func tv(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// nullTime scans a nullable timestamptz into a UTC time.Time, zero for NULL.
type nullTime struct{ t *time.Time }

func (n nullTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid:
		*n.t = time.Time{}
	case v.InfinityModifier != pgtype.Finite:
		return errors.New("postgres: infinite time in a finite column")
	default:
		*n.t = v.Time.UTC()
	}
	return nil
}

// iv converts an ID to a parameter: NULL if zero.
func iv(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// nullID scans a nullable bigint into an int64, zero for NULL.
type nullID struct{ p *int64 }

func (n nullID) ScanInt64(v pgtype.Int8) error {
	*n.p = v.Int64 // zero when not valid
	return nil
}

// args collects query parameters and returns their placeholders.
type args []any

// add appends v and returns its placeholder, $n.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// list appends every value and returns "$i, $j, ...".
func list[T any](a *args, vs []T) string {
	var b []byte
	for i, v := range vs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, a.add(v)...)
	}
	return string(b)
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(pgx.Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// querier is a *pgxpool.Pool or a pgx.Tx.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// pgCode returns the SQLSTATE of a server error, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// SQLSTATE codes the store maps to domain errors.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
	checkViolation      = "23514"
	notNullViolation    = "23502"
)

// wrap maps constraint violations to domain errors and wraps the rest with
// the operation's name. *console.Error values pass through.
func wrap(op string, err error) error {
	var ce *console.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case errors.Is(err, pgx.ErrNoRows):
		return console.Errorf(console.CodeNotFound, "%s: not found", op)
	}
	switch pgCode(err) {
	case uniqueViolation:
		return console.Errorf(console.CodeConflict, "%s: already exists", op)
	case foreignKeyViolation:
		return console.Errorf(console.CodeInvalid, "%s: refers to a record that does not exist", op)
	case checkViolation, notNullViolation:
		return console.Errorf(console.CodeInvalid, "%s: value out of range", op)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// missing maps a foreign-key failure to "what not found", for records
// created under a parent (events under their session).
func missing(op, what string, err error) error {
	if pgCode(err) == foreignKeyViolation {
		return console.Errorf(console.CodeNotFound, "%s: %s not found", op, what)
	}
	return wrap(op, err)
}

// inUse maps a foreign-key failure on delete to a conflict.
func inUse(op string, err error) error {
	if pgCode(err) == foreignKeyViolation {
		return console.Errorf(console.CodeConflict, "%s: still in use", op)
	}
	return wrap(op, err)
}

// mustAffect returns a not-found error if tag affected no row.
func mustAffect(op string, tag pgconn.CommandTag, err error) error {
	if err != nil {
		return wrap(op, err)
	}
	if tag.RowsAffected() == 0 {
		return console.Errorf(console.CodeNotFound, "%s: not found", op)
	}
	return nil
}

// softwareCache maps catalog names to IDs. Catalog rows are never deleted,
// so an ID, once committed, stays valid on every node.
type softwareCache struct {
	mu  sync.Mutex
	ids map[string]int64 // guarded by mu
}

// maxCachedSoftware bounds the cache; names past it are looked up.
const maxCachedSoftware = 200_000

// lookup returns the cached IDs of names and the names not cached.
func (c *softwareCache) lookup(names []string) (map[string]int64, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	found := make(map[string]int64, len(names))
	var missing []string
	for _, n := range names {
		if id, ok := c.ids[n]; ok {
			found[n] = id
		} else {
			missing = append(missing, n)
		}
	}
	return found, missing
}

// add records IDs that are committed.
func (c *softwareCache) add(ids map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil {
		c.ids = make(map[string]int64)
	}
	for name, id := range ids {
		if len(c.ids) >= maxCachedSoftware {
			return
		}
		c.ids[name] = id
	}
}
