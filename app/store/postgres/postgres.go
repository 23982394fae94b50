// Package postgres implements store.Store on PostgreSQL with pgx, for
// several karl-server nodes sharing one database.
//
// A write returns nil once PostgreSQL acknowledged its COMMIT. With the
// default synchronous_commit=on that is after the commit reached its WAL on
// disk; Open warns when the server is set to acknowledge earlier.
//
// Nodes starting together take turns applying migrations, and nodes running
// the cleanup job together take turns deleting (PostgreSQL advisory locks),
// so neither needs to be confined to one node.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/karl-app/karl/app/store"
)

var _ store.Store = (*Store)(nil)

// Store is the PostgreSQL store.Store. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the database named by a postgres:// URL (pgx's keywords
// apply, e.g. pool_max_conns=10, connect_timeout=5) and migrates it to the
// newest schema. It fails if the schema is newer than this binary knows.
// Errors and logs show the URL without its password. A nil log discards logs.
func Open(ctx context.Context, dbURL string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s, err := open(ctx, dbURL, log)
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", Redact(dbURL), err)
	}
	return s, nil
}

func open(ctx context.Context, dbURL string, log *slog.Logger) (*Store, error) {
	migrations, err := embeddedMigrations()
	if err != nil {
		return nil, err
	}
	// pgx quotes the URL in its errors with the password masked, reliably
	// only for a URL that parses: refuse the others without quoting them.
	var urlErr *url.Error
	if _, err := url.Parse(dbURL); errors.As(err, &urlErr) {
		return nil, fmt.Errorf("not a valid URL: %w", urlErr.Err)
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// Connect now, so a wrong host or password fails here, not at the first event.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := migrate(ctx, pool, migrations, log); err != nil {
		pool.Close()
		return nil, err
	}
	warnEarlyAcks(ctx, pool, log)
	return &Store{pool: pool}, nil
}

// warnEarlyAcks logs a warning when the server acknowledges commits before
// they are durable: then a write the app acknowledged can be lost if
// PostgreSQL itself crashes. It is the operator's choice, so not an error.
func warnEarlyAcks(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) {
	var mode string
	if err := pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&mode); err != nil {
		log.Warn("cannot read synchronous_commit", "err", err)
		return
	}
	if mode == "off" {
		log.Warn("PostgreSQL has synchronous_commit=off: a crash of PostgreSQL can lose writes the app acknowledged")
	}
}

// Redact returns dbURL with its password replaced by "xxxxx", for logs.
func Redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "(unparsable URL)"
	}
	q := u.Query()
	for _, key := range []string{"password", "sslpassword"} { // libpq also takes them as parameters
		if q.Has(key) {
			q.Set(key, "xxxxx")
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}

// Ping checks the database answers and holds the schema.
func (s *Store) Ping(ctx context.Context) error {
	var version int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close waits for queries in progress and closes every connection.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// inTx runs fn in a transaction and commits it. It returns nil only once
// PostgreSQL acknowledged the commit, which is when a write may be acknowledged.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}
