package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/reachdesk/reach/console/sqlite"
	"github.com/reachdesk/reach/console/storetest"
)

var harness = storetest.Harness{
	NewDB: func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "console.db") },
	Open: func(ctx context.Context, addr string, now func() time.Time) (storetest.Store, error) {
		return sqlite.Open(ctx, addr, sqlite.Options{Now: now})
	},
}

func TestStore(t *testing.T) { storetest.Run(t, harness) }

func BenchmarkStore(b *testing.B) { storetest.Bench(b, harness) }
