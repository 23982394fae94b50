package postgres

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/app/store/migrations"
	"github.com/karl-app/karl/app/store/storetest"
	"github.com/karl-app/karl/internal/testdb"
)

// Tests start one PostgreSQL server (testdb) and give each test a database of its own.
func TestMain(m *testing.M) { testdb.Main(m) }

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, testdb.NewDatabase(t))
	})
}

// openTest opens the store at url and closes it when the test ends.
func openTest(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestMigrationsAreIdempotent(t *testing.T) {
	url := testdb.NewDatabase(t)
	for range 3 {
		mustNil(t, openTest(t, url).Close())
	}
	s := openTest(t, url)
	ms, err := embeddedMigrations()
	mustNil(t, err)
	var want []int64
	for _, m := range ms {
		want = append(want, m.Version)
	}
	if diff := cmp.Diff(want, appliedVersions(t, s)); diff != "" {
		t.Errorf("schema_migrations after four opens (-want +got):\n%s", diff)
	}
}

// TestOpenConcurrentlyMigratesOnce opens a new database from four stores at
// once, as nodes starting together do: without the migration lock, two
// CREATE TABLE IF NOT EXISTS can both pass their check and one then fails.
func TestOpenConcurrentlyMigratesOnce(t *testing.T) {
	url := testdb.NewDatabase(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(t.Context(), url, nil)
			if err != nil {
				t.Errorf("concurrent Open: %v", err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	ms, err := embeddedMigrations()
	mustNil(t, err)
	if got := appliedVersions(t, openTest(t, url)); len(got) != len(ms) {
		t.Errorf("schema_migrations holds versions %v, want %d rows", got, len(ms))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	url := testdb.NewDatabase(t)
	s := openTest(t, url)
	_, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`)
	mustNil(t, err)

	s2, err := Open(t.Context(), url, nil)
	if err == nil {
		s2.Close()
		t.Fatal("Open on a database with schema version 999 succeeded, want an error")
	}
	for _, want := range []string{"999", "newer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestFailedMigrationLeavesNoTrace checks a migration is all or nothing: its
// first statement is rolled back and its version not recorded.
func TestFailedMigrationLeavesNoTrace(t *testing.T) {
	ctx := t.Context()
	url := testdb.NewDatabase(t)
	s := openTest(t, url)
	ms := []migrations.Migration{
		{Version: 1, Name: "0001_ok.sql", SQL: `CREATE TABLE a (x integer)`},
		{Version: 2, Name: "0002_bad.sql", SQL: `CREATE TABLE b (x integer); INSERT INTO nowhere VALUES (1)`},
	}
	// A schema of its own, so the store's tables and schema_migrations do not interfere.
	_, err := s.pool.Exec(ctx, `CREATE SCHEMA bare`)
	mustNil(t, err)
	bare := openPoolTest(t, url+"&search_path=bare")
	err = migrate(ctx, bare, ms, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
		t.Fatalf("migrate = %v, want an error naming 0002_bad.sql", err)
	}
	var tables []string
	rows, err := s.pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'bare' AND table_name IN ('a', 'b') ORDER BY 1`)
	mustNil(t, err)
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	mustNil(t, err)
	if diff := cmp.Diff([]string{"a"}, tables); diff != "" {
		t.Errorf("tables after a failed migration 2 (-want +got):\n%s", diff)
	}
	var version int64
	mustNil(t, bare.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&version))
	if version != 1 {
		t.Errorf("schema version after a failed migration 2 = %d, want 1", version)
	}
}

// TestOpenErrorsHidePasswords checks a failed Open names the database
// without the password, whether the URL is wrong or the server refuses.
func TestOpenErrorsHidePasswords(t *testing.T) {
	pg := testdb.SharedPostgres(t)
	for _, url := range []string{
		strings.Replace(pg.URL("nosuchdb"), "karl@", "karl:hunter2@", 1),
		pg.URL("nosuchdb") + "&password=hunter2",
		"postgres://karl:hunter2@127.0.0.1:5432/karl?pool_max_conns=x", // pgx quotes the URL
		"postgres://karl:hunter2@127.0.0.1:notaport/karl",
		"postgres://karl:hunter2@127.0.0.1:1/karl?connect_timeout=1", // nothing listens on port 1
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		s, err := Open(ctx, url, nil)
		cancel()
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", url)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open error shows the password: %v", err)
		}
		if !strings.Contains(err.Error(), "karl") && !strings.Contains(url, "notaport") {
			t.Errorf("Open error does not name the user and database: %v", err)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://karl:hunter2@db:5432/karl":             "postgres://karl:xxxxx@db:5432/karl",
		"postgres://karl@db/karl?password=hunter2":         "postgres://karl@db/karl?password=xxxxx",
		"postgresql://db/karl?sslpassword=s&sslmode=allow": "postgresql://db/karl?sslmode=allow&sslpassword=xxxxx",
		"postgres://db/karl":                               "postgres://db/karl",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWarnsWhenCommitsAreAcknowledgedEarly checks Open says so when the
// database acknowledges commits before they are durable.
func TestWarnsWhenCommitsAreAcknowledgedEarly(t *testing.T) {
	url := testdb.NewDatabase(t)
	s := openTest(t, url)
	var dbName string
	mustNil(t, s.pool.QueryRow(t.Context(), `SELECT current_database()`).Scan(&dbName))
	_, err := s.pool.Exec(t.Context(), `ALTER DATABASE `+pgx.Identifier{dbName}.Sanitize()+` SET synchronous_commit = off`)
	mustNil(t, err)

	var logs bytes.Buffer
	s2, err := Open(t.Context(), url, slog.New(slog.NewTextHandler(&logs, nil)))
	mustNil(t, err)
	s2.Close()
	if !strings.Contains(logs.String(), "synchronous_commit=off") {
		t.Errorf("Open on a database with synchronous_commit=off logged %q, want a warning", logs.String())
	}
}

func appliedVersions(t *testing.T, s *Store) []int64 {
	t.Helper()
	rows, err := s.pool.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	mustNil(t, err)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	mustNil(t, err)
	return versions
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
