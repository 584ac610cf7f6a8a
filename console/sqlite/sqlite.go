// Package sqlite implements console.Store on SQLite through the pure-Go
// modernc.org/sqlite driver, so the console builds without cgo. It is the
// embedded default for single-node sites.
//
// The database runs in WAL mode with foreign keys on and a busy timeout.
// Writes go through a single connection, so they never contend for SQLite's
// write lock; reads use a separate pool of query-only connections and are
// not blocked by writes. Migrations in migrations/ are applied at Open.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"sync"
	"time"

	"github.com/reachdesk/reach/console"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Options configures a DB. The zero value is ready to use.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Readers is the size of the read pool; zero means max(4, GOMAXPROCS).
	Readers int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process; zero means 10 seconds.
	BusyTimeout time.Duration
}

// DB is a console.Store on one SQLite database file.
type DB struct {
	w   *sql.DB // the single writer connection
	r   *sql.DB // query-only readers
	now func() time.Time

	software softwareCache
}

var _ console.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and applies
// pending migrations.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || path == ":memory:" {
		return nil, errors.New("sqlite: a database file path is required")
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = max(4, runtime.GOMAXPROCS(0))
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "cache_size(-32000)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "mmap_size(268435456)")
	wq := cloneValues(q)
	wq.Set("_txlock", "immediate")
	rq := cloneValues(q)
	rq.Add("_pragma", "query_only(1)")

	db := &DB{now: opts.Now}
	if db.now == nil {
		db.now = time.Now
	}
	var err error
	if db.w, err = sql.Open("sqlite", "file:"+path+"?"+wq.Encode()); err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	// The writer creates the file and switches it to WAL before any reader
	// opens it.
	if err := migrate(ctx, db.w, migrations); err != nil {
		db.w.Close()
		return nil, err
	}
	if db.r, err = sql.Open("sqlite", "file:"+path+"?"+rq.Encode()); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	db.r.SetMaxOpenConns(readers)
	db.r.SetMaxIdleConns(readers)
	if err := db.r.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	return db, nil
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// Close runs PRAGMA optimize and closes every connection.
func (db *DB) Close() error {
	_, optErr := db.w.Exec("PRAGMA optimize")
	err := errors.Join(db.r.Close(), db.w.Close())
	if err == nil && optErr != nil {
		err = fmt.Errorf("sqlite: optimize: %w", optErr)
	}
	return err
}

// SchemaVersion returns the highest applied migration.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, db.r)
}

// Analyze refreshes the query planner's statistics; bulk loads call it.
func (db *DB) Analyze(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("sqlite: analyze: %w", err)
	}
	return nil
}

// write runs fn in a write transaction (BEGIN IMMEDIATE on the writer) and
// commits it if fn returns nil.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// read runs fn in a read transaction, so that its queries see one snapshot.
func (db *DB) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
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

// tv converts a time to its column value: microseconds, or NULL if zero.
func tv(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// nullTime scans a nullable microsecond column into a time.Time.
type nullTime struct{ t *time.Time }

func (n nullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.t = time.Time{}
	case int64:
		*n.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("sqlite: time column holds %T", src)
	}
	return nil
}

// iv converts an ID to its column value: NULL if zero.
func iv(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// nullID scans a nullable ID column into an int64, zero for NULL.
type nullID struct{ p *int64 }

func (n nullID) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*n.p = 0
	case int64:
		*n.p = v
	default:
		return fmt.Errorf("sqlite: ID column holds %T", src)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryer is a *sql.DB or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, q queryer, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
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

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// wrap maps constraint violations to domain errors and wraps the rest with
// the operation's name. *console.Error values pass through.
func wrap(op string, err error) error {
	var ce *console.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return console.Errorf(console.CodeNotFound, "%s: not found", op)
	}
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return console.Errorf(console.CodeConflict, "%s: already exists", op)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return console.Errorf(console.CodeInvalid, "%s: refers to a record that does not exist", op)
	case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return console.Errorf(console.CodeInvalid, "%s: value out of range", op)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// missing maps a foreign-key failure to "what not found", for records
// created under a parent (events under their session).
func missing(op, what string, err error) error {
	if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return console.Errorf(console.CodeNotFound, "%s: %s not found", op, what)
	}
	return wrap(op, err)
}

// inUse maps a foreign-key failure on delete to a conflict.
func inUse(op string, err error) error {
	if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
		return console.Errorf(console.CodeConflict, "%s: still in use", op)
	}
	return wrap(op, err)
}

// mustAffect returns a not-found error if res affected no row.
func mustAffect(op string, res sql.Result, err error) error {
	if err != nil {
		return wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return console.Errorf(console.CodeNotFound, "%s: not found", op)
	}
	return nil
}

// softwareCache maps catalog names to IDs. Catalog rows are never deleted,
// so an ID, once committed, stays valid.
type softwareCache struct {
	mu  sync.Mutex
	ids map[string]int64 // guarded by mu
}

// maxCachedSoftware bounds the cache; names past it are looked up.
const maxCachedSoftware = 200_000

func (c *softwareCache) get(name string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[name]
	return id, ok
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
