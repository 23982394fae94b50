// Package sqlite implements store.Store on a SQLite file with modernc.org/sqlite
// (pure Go, no cgo).
//
// The file runs in WAL mode with synchronous=FULL, so a write acknowledged by
// a Store method survives a crash of the process or of the machine.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	sqlitedriver "modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/karl-app/karl/app/store"
)

var _ store.Store = (*Store)(nil)

// busyTimeoutMillis is how long a connection waits for another process's
// write lock before failing with SQLITE_BUSY.
const busyTimeoutMillis = 5000

// readConns bounds the reader pool. WAL lets readers run beside the one
// writer; a few are enough for a single app process and keep the memory of
// per-connection page caches bounded.
const readConns = 4

// Store is the SQLite store.Store. It is safe for concurrent use.
//
// It holds two pools on the same file. SQLite allows one writer at a time, so
// the write pool has exactly one connection: writers in this process queue in
// database/sql (honouring their contexts) instead of spinning on SQLITE_BUSY,
// and its transactions begin IMMEDIATE so a transaction never has to upgrade
// a read lock, which in WAL can fail at once with SQLITE_BUSY whatever the
// busy timeout. Other processes on the same file are serialised by SQLite's
// locks and the busy timeout. The read pool is read-only and lets lookups
// (reconnects, /healthz) run while a photo upload is being written.
type Store struct {
	write *sql.DB
	read  *sql.DB
	log   *slog.Logger

	// path and file identify the database file opened. SQLite keeps writing
	// to its open descriptors when the file, or its directory, is deleted or
	// replaced: every write would be acknowledged and lost at the next start.
	// Each write transaction checks the file at path is still that one.
	path    string
	file    os.FileInfo
	failing atomic.Bool // the last write failed for a reason of the file or disk; Ping reports it
}

// writerParams configures write connections. Pragmas go through _pragma only:
// the driver runs each as "PRAGMA x" on every new connection.
func writerParams() url.Values {
	return url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis),
			"foreign_keys(ON)",
			"journal_mode(WAL)",
			"synchronous(FULL)", // fsync the WAL at every commit: an acknowledged write survives power loss
		},
		"_txlock": {"immediate"},
	}
}

// readerParams configures read connections. journal_mode is a property of the
// file, set by the writer; query_only guards against a write slipping into the
// read pool.
func readerParams() url.Values {
	return url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis),
			"foreign_keys(ON)",
			"query_only(ON)",
		},
	}
}

// Open opens (creating if needed) the SQLite database at path and migrates it
// to the newest schema. It fails if the file's schema is newer than this
// binary knows. A nil log discards logs.
func Open(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s, err := open(ctx, path, log)
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	return s, nil
}

func open(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	migrations, err := embeddedMigrations()
	if err != nil {
		return nil, err
	}
	write, err := openPool(ctx, path, writerParams(), 1)
	if err != nil {
		return nil, fmt.Errorf("write pool: %w", err)
	}
	if err := checkWAL(ctx, write); err != nil {
		return nil, errors.Join(err, write.Close())
	}
	if err := migrate(ctx, write, migrations, log); err != nil {
		return nil, errors.Join(err, write.Close())
	}
	read, err := openPool(ctx, path, readerParams(), readConns)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("read pool: %w", err), write.Close())
	}
	abs, err := filepath.Abs(path)
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(abs); err == nil {
			return &Store{write: write, read: read, log: log, path: abs, file: fi}, nil
		}
	}
	return nil, errors.Join(fmt.Errorf("stat database file: %w", err), read.Close(), write.Close())
}

// checkFile fails when the file at the store's path is not the one it opened.
func (s *Store) checkFile() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("database file %q is gone (deleted under the running server?): %w", s.path, err)
	}
	if !os.SameFile(fi, s.file) {
		return fmt.Errorf("database file %q was replaced under the running server", s.path)
	}
	return nil
}

// isFileFault reports whether a write error comes from the file or the disk
// (full, I/O error, read-only, gone) rather than from the request.
func isFileFault(err error) bool {
	var e *sqlitedriver.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// writeFailed records a write that failed because of the file or the disk,
// logging the first of a series; Ping fails until a write succeeds again.
func (s *Store) writeFailed(err error) error {
	if s.failing.CompareAndSwap(false, true) {
		s.log.Error("database writes fail: answering them with an error until one succeeds", "err", err)
	}
	return err
}

// probeDisk writes and syncs 64 KiB next to the database file, then removes
// it: a commit that changes nothing can pass on a full disk (the WAL reuses
// its frames), a photo cannot.
func (s *Store) probeDisk() error {
	f, err := os.CreateTemp(filepath.Dir(s.path), ".karl-probe-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, 64<<10))
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

func (s *Store) writeSucceeded() {
	if s.failing.CompareAndSwap(true, false) {
		s.log.Info("database writes succeed again")
	}
}

// openPool opens a pool of at most conns connections and connects one of
// them, so a bad path or DSN fails here rather than at the first query.
func openPool(ctx context.Context, path string, params url.Values, conns int) (*sql.DB, error) {
	dsn, err := fileDSN(path, params)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns) // keep connections (and their page caches) instead of reopening
	if err := connect(ctx, db); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

// connect opens db's first connection. Switching a new file to WAL takes an
// exclusive lock, and SQLite answers SQLITE_BUSY at once instead of waiting
// for it, so when several processes create the file together the losers try
// again, for up to the busy timeout.
func connect(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeoutMillis * time.Millisecond)
	for {
		err := db.PingContext(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var e *sqlitedriver.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// fileDSN returns a "file:" URI for path, escaping characters such as '?' and
// '#' that would otherwise end the file name.
func fileDSN(path string, params url.Values) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: params.Encode()}
	return u.String(), nil
}

// checkWAL fails when the file did not switch to WAL: SQLite keeps the old
// mode silently where WAL is unsupported (e.g. some network file systems).
func checkWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, want \"wal\" (is the file on a local file system?)", mode)
	}
	return nil
}

// Ping checks the database file is the one opened and can be read, and,
// after a write failed for a reason of the file or disk (full, I/O error),
// that it can be written again: it probes with a write that changes nothing.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.checkFile(); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	if s.failing.Load() {
		if err := s.probeDisk(); err != nil {
			return fmt.Errorf("ping store: writes fail: %w", err)
		}
		probe := func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE schema_migrations SET version = version WHERE version = (SELECT max(version) FROM schema_migrations)`)
			return err
		}
		if err := s.inTx(ctx, probe); err != nil {
			return fmt.Errorf("ping store: writes fail: %w", err)
		}
	}
	var version int64
	if err := s.read.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}

// Close closes both pools. Writes already acknowledged are on disk.
func (s *Store) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}
