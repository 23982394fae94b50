package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/karl-app/karl/app/store/migrations"
)

// migrationFiles holds the schema history: migrations/NNNN_description.sql,
// applied in version order. Never edit a file that has shipped; add the next one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL -- Unix milliseconds
) STRICT`

// embeddedMigrations returns the migrations compiled into the binary.
func embeddedMigrations() ([]migrations.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("embedded migrations: %w", err)
	}
	return migrations.Load(sub)
}

// migrate brings db up to the last of ms, one transaction per migration, and
// refuses a database whose schema is newer than ms: an older binary must not
// write to tables it does not understand.
func migrate(ctx context.Context, db *sql.DB, ms []migrations.Migration, log *slog.Logger) error {
	if _, err := db.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	current, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	latest := int64(0)
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	if current > latest {
		return fmt.Errorf("database schema version %d is newer than the newest this binary knows (%d): run a newer binary", current, latest)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		applied, err := applyMigration(ctx, db, m)
		if err != nil {
			return err
		}
		if applied {
			log.Info("applied schema migration", "version", m.Version, "file", m.Name)
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
func applyMigration(ctx context.Context, db *sql.DB, m migrations.Migration) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %q: begin: %w", m.Name, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit; on failure the returned error says why

	var done bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?)`, m.Version).Scan(&done); err != nil {
		return false, fmt.Errorf("migration %q: %w", m.Name, err)
	}
	if done {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %q: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, time.Now().UnixMilli()); err != nil {
		return false, fmt.Errorf("migration %q: record: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %q: commit: %w", m.Name, err)
	}
	return true, nil
}
