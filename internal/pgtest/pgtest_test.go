package pgtest

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestNewDatabase(t *testing.T) {
	ctx := context.Background()
	var dsn1 string
	t.Run("create", func(t *testing.T) {
		dsn1 = NewDatabase(t)
		dsn2 := NewDatabase(t)
		if dsn1 == dsn2 {
			t.Fatalf("two databases share the DSN %s", dsn1)
		}
		c1 := connect(t, dsn1)
		if _, err := c1.Exec(ctx, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := connect(t, dsn2).QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 't'").Scan(&n); err != nil || n != 0 {
			t.Errorf("second database sees %d tables named t (err %v)", n, err)
		}
		var fsync string
		if err := c1.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "off" {
			t.Errorf("fsync = %q, %v; want off", fsync, err)
		}
	})
	// The database is gone once its test ended.
	cfg, err := pgx.ParseConfig(dsn1)
	if err != nil {
		t.Fatal(err)
	}
	// The Unix socket in the server's directory works too.
	admin := connect(t, "host="+shared.srv.SocketDir()+" port="+strconv.Itoa(int(cfg.Port))+" user=postgres dbname=postgres")
	var n int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", cfg.Database).Scan(&n); err != nil || n != 0 {
		t.Errorf("database %s still exists after its test (n=%d, err %v)", cfg.Database, n, err)
	}
}

func TestStartStop(t *testing.T) {
	srv, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, srv.DSN("postgres"))
	var user string
	if err := c.QueryRow(context.Background(), "SELECT current_user").Scan(&user); err != nil || user != "postgres" {
		t.Errorf("current_user = %q, %v", user, err)
	}
	c.Close(context.Background())
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.dir); !os.IsNotExist(err) {
		t.Errorf("server directory left behind: %v", err)
	}
	select {
	case <-srv.exit:
	default:
		t.Error("postgres still running after Stop")
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestMissingBinaries(t *testing.T) {
	t.Setenv("REACH_PG_BIN", t.TempDir())
	_, err := Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "initdb not found") {
		t.Fatalf("Start with an empty REACH_PG_BIN: %v; want a clear error", err)
	}
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}
