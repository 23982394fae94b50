package testdb

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestPostgres(t *testing.T) {
	url := NewDatabase(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var db, user string
	var superuser bool
	if err := conn.QueryRow(t.Context(), `SELECT current_database(), current_user, usesuper FROM pg_user WHERE usename = current_user`).Scan(&db, &user, &superuser); err != nil {
		t.Fatal(err)
	}
	if db != "testpostgres_1" || user != "karl" || !superuser {
		t.Errorf("connected to database %q as %q (superuser %v), want testpostgres_1 as karl, a superuser", db, user, superuser)
	}
	other := NewDatabase(t)
	if other == url {
		t.Errorf("two calls to NewDatabase returned the same URL %q", url)
	}
}

func TestRedisRestart(t *testing.T) {
	r := NewRedis(t)
	if err := r.ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.Kill()
	if err := r.ping(t.Context()); err == nil {
		t.Fatal("PING answered after Kill")
	}
	if err := r.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.ping(t.Context()); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	if !strings.HasPrefix(r.URL(), "redis://127.0.0.1:") {
		t.Errorf("URL() = %q", r.URL())
	}
}

// TestMissingBinaryFails checks a missing PostgreSQL is an error that says
// what to install, not a skip.
func TestMissingBinaryFails(t *testing.T) {
	t.Setenv("KARL_PG_BIN", t.TempDir())
	_, err := StartPostgres(t.Context())
	if err == nil || !strings.Contains(err.Error(), "initdb") {
		t.Fatalf("StartPostgres with no binaries: %v, want an error naming initdb", err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err = StartRedis(t.Context())
	if err == nil || !strings.Contains(err.Error(), "make deps-db") {
		t.Fatalf("StartRedis with no binary: %v, want an error saying to run make deps-db", err)
	}
}

func TestDatabaseName(t *testing.T) {
	tests := []struct {
		test string
		n    int64
		want string
	}{
		{"TestStore/CreateAndLoad", 3, "teststore_createandload_3"},
		{"Test#01 ünicode", 12, "test_01_nicode_12"},
		{strings.Repeat("A", 100), 7, strings.Repeat("a", 61) + "_7"},
	}
	for _, tc := range tests {
		if got := databaseName(tc.test, tc.n); got != tc.want {
			t.Errorf("databaseName(%q, %d) = %q, want %q", tc.test, tc.n, got, tc.want)
		}
		if len(databaseName(tc.test, tc.n)) > 63 {
			t.Errorf("databaseName(%q) is longer than 63 bytes", tc.test)
		}
	}
}
