package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema history: migrations/NNNN_description.sql,
// applied in version order. Never edit a file that has shipped; add the next one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// A migration is one numbered SQL file.
type migration struct {
	version int64  // e.g. 1 for 0001_init.sql
	name    string // file name, e.g. "0001_init.sql", for logs and errors
	sql     string
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL -- Unix milliseconds
) STRICT`

// embeddedMigrations returns the migrations compiled into the binary.
func embeddedMigrations() ([]migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("embedded migrations: %w", err)
	}
	return loadMigrations(sub)
}

// loadMigrations reads the *.sql files at the root of fsys, sorted by version.
// Versions must run 1, 2, 3... without gaps or duplicates, so a misnamed or
// missing file fails every Open (and the tests) rather than a production upgrade.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql") // sorted, so zero-padded names come in version order
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	ms := make([]migration, 0, len(names))
	for i, name := range names {
		m, err := readMigration(fsys, name)
		if err != nil {
			return nil, err
		}
		if want := int64(i + 1); m.version != want {
			return nil, fmt.Errorf("migration %q: version %d, want %d (versions must run 1, 2, 3... without gaps or duplicates)", name, m.version, want)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// readMigration reads one file named NNNN_description.sql.
func readMigration(fsys fs.FS, name string) (migration, error) {
	digits, _, ok := strings.Cut(strings.TrimSuffix(path.Base(name), ".sql"), "_")
	version, err := strconv.ParseInt(digits, 10, 64)
	if !ok || err != nil || version < 1 {
		return migration{}, fmt.Errorf("migration %q: name must look like 0001_description.sql", name)
	}
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return migration{}, fmt.Errorf("read migration %q: %w", name, err)
	}
	return migration{version: version, name: name, sql: string(body)}, nil
}

// migrate brings db up to the last of ms, one transaction per migration, and
// refuses a database whose schema is newer than ms: an older binary must not
// write to tables it does not understand.
func migrate(ctx context.Context, db *sql.DB, ms []migration, log *slog.Logger) error {
	if _, err := db.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	current, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	latest := int64(0)
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	if current > latest {
		return fmt.Errorf("database schema version %d is newer than the newest this binary knows (%d): run a newer binary", current, latest)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		applied, err := applyMigration(ctx, db, m)
		if err != nil {
			return err
		}
		if applied {
			log.Info("applied schema migration", "version", m.version, "file", m.name)
		}
	}
	return nil
}

// schemaVersion returns the highest applied migration, 0 for a new database.
func schemaVersion(ctx context.Context, db *sql.DB) (int64, error) {
	var v int64
	err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// applyMigration runs m and records it in one transaction, so a failed
// migration leaves no trace. It reports false when another process applied m
// first: the transaction begins IMMEDIATE (see writerParams), which makes
// processes opening the same file at once take turns here, and each re-checks
// inside its transaction.
func applyMigration(ctx context.Context, db *sql.DB, m migration) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %q: begin: %w", m.name, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit; on failure the returned error says why

	var done bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.version).Scan(&done); err != nil {
		return false, fmt.Errorf("migration %q: %w", m.name, err)
	}
	if done {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migration %q: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.version, time.Now().UnixMilli()); err != nil {
		return false, fmt.Errorf("migration %q: record: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %q: commit: %w", m.name, err)
	}
	return true, nil
}
