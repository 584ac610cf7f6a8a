package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrateAtomicAndVersioned(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := []migration{
		{1, "first", "CREATE TABLE a (x INTEGER);"},
		{2, "broken", "CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1);"},
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
	ms[1].sql = "CREATE TABLE b (x INTEGER);"
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

func TestLoadMigrations(t *testing.T) {
	if len(migrations) == 0 {
		t.Fatal("no embedded migrations")
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":      {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"bad name": {"m/first.sql": {}},
		"not sql":  {"m/0001_a.txt": {}},
	} {
		if _, err := loadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: loadMigrations accepted it", name)
		}
	}
	ms, err := loadMigrations(fstest.MapFS{"m/0002_b.sql": {Data: []byte("B")}, "m/0001_a.sql": {Data: []byte("A")}}, "m")
	if err != nil || len(ms) != 2 || ms[0].name != "a" || ms[1].sql != "B" {
		t.Errorf("loadMigrations = %+v, %v", ms, err)
	}
}

func TestOpenRejectsMemory(t *testing.T) {
	if _, err := Open(context.Background(), ":memory:", Options{}); err == nil {
		t.Error("Open(:memory:) succeeded; readers and the writer would see different databases")
	}
}
