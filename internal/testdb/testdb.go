// Package testdb starts real PostgreSQL and Redis servers for tests: each in
// a temporary directory, on a random port, gone when the test process ends.
//
// The binaries come from Debian's postgresql and redis-server packages
// (`make deps-db`). A test that needs a server FAILS when it cannot start
// one, naming what is missing; it skips only under `go test -short`, the
// inner loop. CI never skips them silently.
//
// In a test package:
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
//
//	func TestX(t *testing.T) {
//		url := testdb.NewDatabase(t) // an empty database on the package's PostgreSQL
//		rds := testdb.NewRedis(t)    // a Redis server of this test's own
//	}
//
// cmd/karl-testdb offers the same servers to programs in other languages.
package testdb

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// shared is the one PostgreSQL server of a test process, started by the
// first test that asks for a database: initdb costs about two seconds, a
// database about a tenth of one.
var shared struct {
	once sync.Once
	pg   *Postgres
	err  error
	dbs  atomic.Int64 // databases created, to make their names unique
}

// Main runs the package's tests, then stops the PostgreSQL server they
// shared. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared.pg != nil {
		if err := shared.pg.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testdb:", err)
		}
	}
	os.Exit(code)
}

// SharedPostgres returns the test process's PostgreSQL server, starting it
// on first use. It skips the test under -short and fails it when PostgreSQL
// cannot start.
func SharedPostgres(t testing.TB) *Postgres {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL: skipped under -short")
	}
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.pg, shared.err = StartPostgres(ctx)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.pg
}

// NewDatabase creates an empty database, named after the test, on the shared
// PostgreSQL server and returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	pg := SharedPostgres(t)
	url, err := pg.CreateDatabase(t.Context(), databaseName(t.Name(), shared.dbs.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return url
}

var notIdentifier = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName turns a test name into a database name PostgreSQL keeps whole
// (63 bytes at most), unique through n.
func databaseName(test string, n int64) string {
	name := strings.Trim(notIdentifier.ReplaceAllString(strings.ToLower(test), "_"), "_")
	suffix := fmt.Sprintf("_%d", n)
	return name[:min(len(name), 63-len(suffix))] + suffix
}

// NewRedis starts a Redis server for this test only (tests restart theirs)
// and kills it when the test ends. It skips the test under -short and fails
// it when Redis cannot start.
func NewRedis(t testing.TB) *Redis {
	t.Helper()
	if testing.Short() {
		t.Skip("needs Redis: skipped under -short")
	}
	r, err := StartRedis(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("stop Redis: %v", err)
		}
	})
	return r
}
