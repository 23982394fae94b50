package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/karl-app/karl/app/store/migrations"
)

// migrationFiles holds the schema history: migrations/NNNN_description.sql,
// applied in version order. Never edit a file that has shipped; add the next one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Advisory lock keys: nodes sharing a database take turns through them.
const (
	migrationLock int64 = 0x6b61726c_6d696772 // "karlmigr"
	cleanupLock   int64 = 0x6b61726c_636c6e70 // "karlclnp"
)

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    bigint PRIMARY KEY,
	applied_at bigint NOT NULL -- Unix milliseconds
)`

// embeddedMigrations returns the migrations compiled into the binary.
func embeddedMigrations() ([]migrations.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("embedded migrations: %w", err)
	}
	return migrations.Load(sub)
}

// migrate brings the database up to the last of ms, one transaction per
// migration, and refuses a database whose schema is newer than ms: an older
// binary must not write to tables it does not understand.
//
// Every transaction here first takes migrationLock, held until it ends, so
// nodes starting together take turns: even CREATE TABLE IF NOT EXISTS is not
// safe to run concurrently in PostgreSQL (both may pass the check, one then
// fails on the catalog's unique index).
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []migrations.Migration, log *slog.Logger) error {
	var current int64
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var err error
		current, err = schemaVersion(ctx, tx)
		return err
	})
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
		applied, err := applyMigration(ctx, pool, m)
		if err != nil {
			return err
		}
		if applied {
			log.Info("applied schema migration", "version", m.Version, "file", m.Name)
		}
	}
	return nil
}

// lock takes the transaction-scoped advisory lock key, waiting for whoever holds it.
func lock(ctx context.Context, tx pgx.Tx, key int64) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, key); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	return nil
}

// schemaVersion returns the highest applied migration, 0 for a new database.
func schemaVersion(ctx context.Context, q pgx.Tx) (int64, error) {
	var v int64
	if err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// applyMigration runs m and records it in one transaction (PostgreSQL's DDL
// is transactional), so a failed migration leaves no trace. It reports false
// when another node applied m first: it re-checks once it holds the lock.
func applyMigration(ctx context.Context, pool *pgxpool.Pool, m migrations.Migration) (applied bool, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, migrationLock); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		// No arguments: pgx sends the file with the simple protocol, several statements at once.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, m.Version, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("migration %q: %w", m.Name, err)
	}
	return applied, nil
}
