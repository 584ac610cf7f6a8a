package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/reachdesk/reach/internal/pgtest"

	"github.com/reachdesk/reach/console/migration"
)

func TestMigrateAtomicAndVersioned(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ms := []migration.Migration{
		{Version: 1, Name: "first", SQL: "CREATE TABLE a (x integer);"},
		{Version: 2, Name: "broken", SQL: "CREATE TABLE b (x integer); INSERT INTO missing VALUES (1);"},
	}
	err = migrate(ctx, pool, ms)
	if err == nil || !strings.Contains(err.Error(), "migration 2 (broken)") {
		t.Fatalf("broken migration: %v", err)
	}
	if v, _ := schemaVersion(ctx, pool); v != 1 {
		t.Errorf("version after a failed migration = %d, want 1", v)
	}
	var b *string
	if err := pool.QueryRow(ctx, `SELECT to_regclass('b')::text`).Scan(&b); err != nil || b != nil {
		t.Errorf("failed migration left table b behind (%v, %v)", b, err)
	}
	ms[1].SQL = "CREATE TABLE b (x integer);"
	// Nodes starting together migrate once.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = migrate(ctx, pool, ms)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent migrate %d: %v", i, err)
		}
	}
	if v, _ := schemaVersion(ctx, pool); v != 2 {
		t.Errorf("version = %d, want 2", v)
	}
	if err := migrate(ctx, pool, ms[:1]); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("older binary on a newer schema: %v", err)
	}
}

func TestOpenBadDSN(t *testing.T) {
	if _, err := Open(context.Background(), "postgres://%zz", Options{}); err == nil {
		t.Error("Open with a malformed DSN succeeded")
	}
}
