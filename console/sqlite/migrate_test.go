package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reachdesk/reach/console/migration"
)

func TestMigrateAtomicAndVersioned(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := []migration.Migration{
		{Version: 1, Name: "first", SQL: "CREATE TABLE a (x INTEGER);"},
		{Version: 2, Name: "broken", SQL: "CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1);"},
	}
	err = migrate(ctx, db, ms)
	if err == nil || !strings.Contains(err.Error(), "migration 2 (broken)") {
		t.Fatalf("broken migration: %v", err)
	}
	if v, _ := schemaVersion(ctx, db); v != 1 {
		t.Errorf("version after a failed migration = %d, want 1", v)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'b'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("failed migration left table b behind (%d, %v)", n, err)
	}
	ms[1].SQL = "CREATE TABLE b (x INTEGER);"
	if err := migrate(ctx, db, ms); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, ms); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if v, _ := schemaVersion(ctx, db); v != 2 {
		t.Errorf("version = %d, want 2", v)
	}
	if err := migrate(ctx, db, ms[:1]); err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Errorf("older binary on a newer schema: %v", err)
	}
}

func TestEmbeddedMigrations(t *testing.T) {
	if len(migrations) == 0 {
		t.Fatal("no embedded migrations")
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	if _, err := Open(context.Background(), ":memory:", Options{}); err == nil {
		t.Error("Open(:memory:) succeeded; readers and the writer would see different databases")
	}
}
