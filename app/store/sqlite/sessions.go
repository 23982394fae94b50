package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/karl-app/karl/app/store"
)

// CreateSession saves a new session and its token in one transaction.
func (s *Store) CreateSession(ctx context.Context, username string, token store.TokenHash, issuedAt, expiresAt time.Time) (store.SessionID, error) {
	issued, expires := issuedAt.UnixMilli(), expiresAt.UnixMilli()
	if expires <= issued {
		return 0, fmt.Errorf("create session: token expiry %s is not after its issue time %s", expiresAt, issuedAt)
	}
	var id int64
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO sessions (username, created_at, updated_at) VALUES (?, ?, ?)`,
			username, issued, issued)
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		_, err = tx.ExecContext(ctx,
			`INSERT INTO tokens (hash, session_id, issued_at, expires_at) VALUES (?, ?, ?, ?)`,
			token[:], id, issued, expires)
		if err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("create session: %w", err)
	}
	return store.SessionID(id), nil
}

// RenameSession changes a session's username.
func (s *Store) RenameSession(ctx context.Context, id store.SessionID, username string, now time.Time) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return execOne(ctx, tx,
			`UPDATE sessions SET username = ?, updated_at = ? WHERE id = ?`,
			username, now.UnixMilli(), id)
	})
	if err != nil {
		return fmt.Errorf("rename session %d: %w", id, err)
	}
	return nil
}

// SetProfileImage replaces a session's photo, or removes it when mime is "" and data empty.
func (s *Store) SetProfileImage(ctx context.Context, id store.SessionID, mime string, data []byte, now time.Time) error {
	if (mime == "") != (len(data) == 0) {
		return fmt.Errorf("set profile image of session %d: mime type %q with %d bytes: give both or neither", id, mime, len(data))
	}
	var mimeArg, dataArg any // NULL, NULL: no photo
	if mime != "" {
		mimeArg, dataArg = mime, data
	}
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return execOne(ctx, tx,
			`UPDATE sessions SET image_mime = ?, image = ?, updated_at = ? WHERE id = ?`,
			mimeArg, dataArg, now.UnixMilli(), id)
	})
	if err != nil {
		return fmt.Errorf("set profile image of session %d: %w", id, err)
	}
	return nil
}

// Session loads a session by id.
func (s *Store) Session(ctx context.Context, id store.SessionID) (store.Session, error) {
	var sess store.Session
	err := s.inRead(ctx, func(ctx context.Context, c *sql.Conn) (err error) {
		row := c.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions s WHERE s.id = ?`, id)
		sess, err = scanSession(row)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("load session %d: %w", id, err)
	}
	return sess, nil
}

// SessionByToken resolves a token to its session and expiry. A revoked token
// reports store.ErrRevoked even when it has also expired.
func (s *Store) SessionByToken(ctx context.Context, token store.TokenHash, now time.Time) (store.Session, time.Time, error) {
	var (
		expires int64
		revoked sql.NullInt64
	)
	var sess store.Session
	err := s.inRead(ctx, func(ctx context.Context, c *sql.Conn) (err error) {
		row := c.QueryRowContext(ctx, `SELECT `+sessionColumns+`, t.expires_at, t.revoked_at
		FROM tokens t JOIN sessions s ON s.id = t.session_id
		WHERE t.hash = ?`, token[:])
		sess, err = scanSession(row, &expires, &revoked)
		return err
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = store.ErrNotFound
	case err != nil:
	case revoked.Valid:
		err = store.ErrRevoked
	case expires <= now.UnixMilli():
		err = store.ErrExpired
	}
	if err != nil {
		return store.Session{}, time.Time{}, fmt.Errorf("load session by token: %w", err)
	}
	return sess, fromMillis(expires), nil
}

// RevokeToken marks a token revoked; revoking it again keeps the first time.
func (s *Store) RevokeToken(ctx context.Context, token store.TokenHash, now time.Time) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return execOne(ctx, tx,
			`UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE hash = ?`,
			now.UnixMilli(), token[:])
	})
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// DeleteExpired deletes the tokens expired at now, then every session left
// without a token, in one transaction. Its IMMEDIATE transaction holds the
// write lock from the start, so concurrent runs, in this process or others,
// take turns and each token is counted by exactly one of them.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var deleted int64
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at <= ?`, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("tokens: %w", err)
		}
		if deleted, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("tokens: %w", err)
		}
		_, err = tx.ExecContext(ctx,
			`DELETE FROM sessions WHERE NOT EXISTS (SELECT 1 FROM tokens t WHERE t.session_id = sessions.id)`)
		if err != nil {
			return fmt.Errorf("sessions: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired: %w", err)
	}
	return deleted, nil
}

// inTx runs fn in a write transaction and commits it. It returns nil only
// once the commit succeeded, which is when a write may be acknowledged.
//
// ctx bounds the wait for the single write connection, where a write spends
// its time under load. The transaction itself (tens of microseconds) runs
// detached from ctx's cancellation, and fn gets that detached context: with
// a context that can end, modernc.org/sqlite starts a goroutine per statement
// (BEGIN, each statement, COMMIT) to interrupt it, which costs more than the
// statements (see W2 in docs/BENCHMARKS.md).
//
// The database file is checked before and after: a write to a file deleted or
// replaced under the server is never acknowledged (see Store.checkFile).
func (s *Store) inTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if err := s.checkFile(); err != nil {
		return s.writeFailed(err)
	}
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	ctx = context.WithoutCancel(ctx)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return s.fault(fmt.Errorf("begin: %w", err))
	}
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback() // fn's error is the one to report; a cancelled ctx has rolled back already
		return s.fault(err)
	}
	if err := tx.Commit(); err != nil {
		return s.fault(fmt.Errorf("commit: %w", err))
	}
	if err := s.checkFile(); err != nil { // deleted while we wrote: the commit went nowhere
		return s.writeFailed(err)
	}
	s.writeSucceeded()
	return nil
}

// fault passes err on, recording it when the file or disk is at fault.
func (s *Store) fault(err error) error {
	if isFileFault(err) {
		return s.writeFailed(err)
	}
	return err
}

// inRead runs fn on a reader connection taken within ctx, with ctx detached
// from its cancellation as in inTx: a lookup takes microseconds.
func (s *Store) inRead(ctx context.Context, fn func(context.Context, *sql.Conn) error) error {
	c, err := s.read.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(context.WithoutCancel(ctx), c)
}

// execOne runs a statement meant to change exactly one row and reports
// store.ErrNotFound when it matched none.
func execOne(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// sessionColumns are the columns scanSession reads, from sessions aliased s.
const sessionColumns = `s.id, s.username, s.image_mime, s.image, s.created_at, s.updated_at`

// scanSession scans sessionColumns, then extra.
func scanSession(row *sql.Row, extra ...any) (store.Session, error) {
	var (
		sess             store.Session
		mime             sql.NullString
		created, updated int64
	)
	dest := append([]any{&sess.ID, &sess.Username, &mime, &sess.Image, &created, &updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.Session{}, err
	}
	sess.ImageMIME = mime.String
	sess.CreatedAt = fromMillis(created)
	sess.UpdatedAt = fromMillis(updated)
	return sess, nil
}

// fromMillis turns a stored Unix-millisecond time into a UTC time.Time.
func fromMillis(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}
