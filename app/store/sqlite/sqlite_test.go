package sqlite

import (
	"database/sql"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/app/store/migrations"
	"github.com/karl-app/karl/app/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, filepath.Join(t.TempDir(), "karl.db"))
	})
}

// openTest opens the store at path and closes it when the test ends.
func openTest(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, nil)
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

// TestPragmas reads the connection settings back, because modernc.org/sqlite
// silently ignores DSN keys it does not know: a typo would quietly lose
// durability or foreign keys.
func TestPragmas(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "karl.db"))
	pools := []struct {
		name string
		db   *sql.DB
		want map[string]string
	}{
		{"write", s.write, map[string]string{
			"journal_mode": "wal",
			"foreign_keys": "1",
			"busy_timeout": "5000",
			"synchronous":  "2", // FULL
			"query_only":   "0",
		}},
		{"read", s.read, map[string]string{
			"journal_mode": "wal",
			"foreign_keys": "1",
			"busy_timeout": "5000",
			"query_only":   "1",
		}},
	}
	for _, pool := range pools {
		for pragma, want := range pool.want {
			var got string
			if err := pool.db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s pool: PRAGMA %s: %v", pool.name, pragma, err)
			}
			if got != want {
				t.Errorf("%s pool: PRAGMA %s = %s, want %s", pool.name, pragma, got, want)
			}
		}
	}
}

// TestWriteTransactionsBeginImmediate checks that a write transaction holds
// the write lock from BEGIN: a transaction that read first and wrote later
// could fail with SQLITE_BUSY, busy timeout or not, when another process
// wrote in between.
func TestWriteTransactionsBeginImmediate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "karl.db")
	s := openTest(t, path)
	tx, err := s.write.BeginTx(t.Context(), nil)
	mustNil(t, err)
	defer tx.Rollback()

	other, err := openPool(t.Context(), path, url.Values{"_pragma": {"busy_timeout(0)"}}, 1)
	mustNil(t, err)
	defer other.Close()
	if _, err := other.ExecContext(t.Context(), `CREATE TABLE other (x INTEGER)`); err == nil {
		t.Error("another connection wrote while a write transaction was open, want SQLITE_BUSY: the transaction did not begin IMMEDIATE")
	}
}

func TestReadPoolIsReadOnly(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "karl.db"))
	_, err := s.read.ExecContext(t.Context(), `DELETE FROM sessions`)
	if err == nil {
		t.Error("a write through the read pool succeeded, want an error")
	}
}

func TestPathNeedsEscaping(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%chars")
	mustNil(t, os.Mkdir(dir, 0o700))
	s := openTest(t, filepath.Join(dir, "karl.db"))
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(dir), "*", "karl.db"))
	if err != nil || len(matches) != 1 || matches[0] != filepath.Join(dir, "karl.db") {
		t.Errorf("database files = %q, %v; want exactly %q", matches, err, filepath.Join(dir, "karl.db"))
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "karl.db")
	s, err := Open(t.Context(), path, nil)
	if err == nil {
		s.Close()
		t.Fatal("Open in a missing directory succeeded, want an error")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path %q", err, path)
	}
}

// TestReopenKeepsEverything writes through one Store, closes it and checks a
// new Store on the same file sees every write.
func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "karl.db")
	ctx := t.Context()
	now := time.UnixMilli(1_900_000_000_000).UTC()
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	token := store.HashToken("token")
	revoked := store.HashToken("revoked")
	id, err := s.CreateSession(ctx, "alice", token, now, now.Add(time.Hour))
	mustNil(t, err)
	mustNil(t, s.RenameSession(ctx, id, "alicia", now.Add(time.Second)))
	mustNil(t, s.SetProfileImage(ctx, id, "image/png", []byte{0x89, 'P', 'N', 'G', 0}, now.Add(2*time.Second)))
	_, err = s.CreateSession(ctx, "bob", revoked, now, now.Add(time.Hour))
	mustNil(t, err)
	mustNil(t, s.RevokeToken(ctx, revoked, now))
	mustNil(t, s.Close())

	s = openTest(t, path)
	got, expires, err := s.SessionByToken(ctx, token, now)
	mustNil(t, err)
	want := store.Session{
		ID: id, Username: "alicia", ImageMIME: "image/png", Image: []byte{0x89, 'P', 'N', 'G', 0},
		CreatedAt: now, UpdatedAt: now.Add(2 * time.Second),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after reopen (-want +got):\n%s", diff)
	}
	if !expires.Equal(now.Add(time.Hour)) {
		t.Errorf("after reopen: expiry %s, want %s", expires, now.Add(time.Hour))
	}
	if _, _, err := s.SessionByToken(ctx, revoked, now); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("revoked token after reopen: %v, want %v", err, store.ErrRevoked)
	}
}

func TestMigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "karl.db")
	for range 3 {
		s := openTest(t, path)
		mustNil(t, s.Close())
	}
	s := openTest(t, path)
	ms, err := embeddedMigrations()
	mustNil(t, err)
	var versions []int64
	rows, err := s.read.QueryContext(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	mustNil(t, err)
	defer rows.Close()
	for rows.Next() {
		var v int64
		mustNil(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	mustNil(t, rows.Err())
	var want []int64
	for _, m := range ms {
		want = append(want, m.Version)
	}
	if diff := cmp.Diff(want, versions); diff != "" {
		t.Errorf("schema_migrations after four opens (-want +got):\n%s", diff)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "karl.db")
	s := openTest(t, path)
	_, err := s.write.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)`)
	mustNil(t, err)
	mustNil(t, s.Close())

	s2, err := Open(t.Context(), path, nil)
	if err == nil {
		s2.Close()
		t.Fatal("Open on a database with schema version 999 succeeded, want an error")
	}
	for _, want := range []string{path, "999", "newer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestOpenConcurrentlyMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "karl.db")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(t.Context(), path, nil)
			if err != nil {
				t.Errorf("concurrent Open: %v", err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	s := openTest(t, path)
	var n int
	mustNil(t, s.read.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n))
	ms, err := embeddedMigrations()
	mustNil(t, err)
	if n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
}

// TestFailedMigrationLeavesNoTrace checks a migration is all or nothing: its
// first statement is rolled back and its version not recorded.
func TestFailedMigrationLeavesNoTrace(t *testing.T) {
	db := openPoolTest(t)
	ms := []migrations.Migration{
		{Version: 1, Name: "0001_ok.sql", SQL: `CREATE TABLE a (x INTEGER)`},
		{Version: 2, Name: "0002_bad.sql", SQL: `CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1)`},
	}
	err := migrate(t.Context(), db, ms, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
		t.Fatalf("migrate = %v, want an error naming 0002_bad.sql", err)
	}
	v, err := schemaVersion(t.Context(), db)
	mustNil(t, err)
	if v != 1 {
		t.Errorf("schema version after a failed migration 2 = %d, want 1", v)
	}
	var tables []string
	rows, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_schema WHERE name IN ('a', 'b') ORDER BY name`)
	mustNil(t, err)
	defer rows.Close()
	for rows.Next() {
		var name string
		mustNil(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	if diff := cmp.Diff([]string{"a"}, tables); diff != "" {
		t.Errorf("tables after a failed migration 2 (-want +got):\n%s", diff)
	}
}

// openPoolTest opens a bare write pool on a new file, without migrations.
func openPoolTest(t *testing.T) *sql.DB {
	t.Helper()
	db, err := openPool(t.Context(), filepath.Join(t.TempDir(), "bare.db"), writerParams(), 1)
	mustNil(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestDeleteExpiredFromSeveralStores runs DeleteExpired concurrently through
// separate Stores on one file, as separate processes would, so SQLite's file
// locks and busy timeout do the serialising rather than the one-connection
// write pool.
func TestDeleteExpiredFromSeveralStores(t *testing.T) {
	const stores, expired, rounds = 4, 40, 5
	path := filepath.Join(t.TempDir(), "karl.db")
	first := openTest(t, path)
	now := time.UnixMilli(1_900_000_000_000)
	for i := range expired + 5 {
		expires := now.Add(-time.Duration(i+1) * time.Second)
		if i >= expired {
			expires = now.Add(time.Hour)
		}
		_, err := first.CreateSession(t.Context(), "user", store.HashToken(string(rune('a'+i))), now.Add(-time.Hour), expires)
		mustNil(t, err)
	}
	all := []*Store{first}
	for range stores - 1 {
		all = append(all, openTest(t, path))
	}

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
		start = make(chan struct{})
	)
	for _, s := range all {
		wg.Go(func() {
			<-start
			for range rounds {
				n, err := s.DeleteExpired(t.Context(), now)
				if err != nil {
					t.Errorf("DeleteExpired: %v", err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if total != expired {
		t.Errorf("DeleteExpired through %d stores removed %d tokens in total, want %d", stores, total, expired)
	}
	var sessions, tokens int
	mustNil(t, first.read.QueryRowContext(t.Context(), `SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM tokens)`).Scan(&sessions, &tokens))
	if sessions != 5 || tokens != 5 {
		t.Errorf("left %d sessions and %d tokens, want 5 and 5", sessions, tokens)
	}
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
