package postgres_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/reachdesk/reach/console/postgres"
	"github.com/reachdesk/reach/console/storetest"
	"github.com/reachdesk/reach/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var harness = storetest.Harness{
	NewDB: pgtest.NewDatabase,
	Open: func(ctx context.Context, dsn string, now func() time.Time) (storetest.Store, error) {
		return postgres.Open(ctx, dsn, postgres.Options{Now: now})
	},
}

func TestStore(t *testing.T) { storetest.Run(t, harness) }

func BenchmarkStore(b *testing.B) { storetest.Bench(b, harness) }
