package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/karl-app/karl/app/store"
)

// CreateSession saves a new session and its token in one transaction.
func (s *Store) CreateSession(ctx context.Context, username string, token store.TokenHash, issuedAt, expiresAt time.Time) (store.SessionID, error) {
	issued, expires := issuedAt.UnixMilli(), expiresAt.UnixMilli()
	if expires <= issued {
		return 0, fmt.Errorf("create session: token expiry %s is not after its issue time %s", expiresAt, issuedAt)
	}
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx,
			`INSERT INTO sessions (username, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id`,
			username, issued).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		_, err = tx.Exec(ctx,
			`INSERT INTO tokens (hash, session_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)`,
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		return execOne(ctx, tx,
			`UPDATE sessions SET username = $1, updated_at = $2 WHERE id = $3`,
			username, now.UnixMilli(), int64(id))
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		return execOne(ctx, tx,
			`UPDATE sessions SET image_mime = $1, image = $2, updated_at = $3 WHERE id = $4`,
			mimeArg, dataArg, now.UnixMilli(), int64(id))
	})
	if err != nil {
		return fmt.Errorf("set profile image of session %d: %w", id, err)
	}
	return nil
}

// Session loads a session by id.
func (s *Store) Session(ctx context.Context, id store.SessionID) (store.Session, error) {
	row := s.pool.QueryRow(ctx,
		`SELECT `+sessionColumns+` FROM sessions s WHERE s.id = $1`, int64(id))
	sess, err := scanSession(row)
	if errors.Is(err, pgx.ErrNoRows) {
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
		revoked *int64
	)
	row := s.pool.QueryRow(ctx,
		`SELECT `+sessionColumns+`, t.expires_at, t.revoked_at
		FROM tokens t JOIN sessions s ON s.id = t.session_id
		WHERE t.hash = $1`, token[:])
	sess, err := scanSession(row, &expires, &revoked)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		err = store.ErrNotFound
	case err != nil:
	case revoked != nil:
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		return execOne(ctx, tx,
			`UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE hash = $2`,
			now.UnixMilli(), token[:])
	})
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// DeleteExpired deletes the tokens expired at now, then every session left
// without a token, in one transaction.
//
// Every node runs the cleanup job, so runs overlap. PostgreSQL alone would
// keep the counts right (a DELETE blocked on a row another transaction
// deleted skips it once that one commits), but two runs locking rows in
// different orders, e.g. one through the expiry index and one through a
// sequential scan, would deadlock and fail one of them. So each run first
// takes cleanupLock, held until its commit: runs take turns, and a later one
// finds only what the earlier left. Other writes need no lock: a session is
// created with its token in one transaction, so no run can see it without
// one, and a rename or photo upload racing with the deletion of its session
// finds no row and reports store.ErrNotFound, which the app handles.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var deleted int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, cleanupLock); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM tokens WHERE expires_at <= $1`, now.UnixMilli())
		if err != nil {
			return fmt.Errorf("tokens: %w", err)
		}
		deleted = tag.RowsAffected()
		_, err = tx.Exec(ctx,
			`DELETE FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM tokens t WHERE t.session_id = s.id)`)
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

// execOne runs a statement meant to change exactly one row and reports
// store.ErrNotFound when it matched none.
func execOne(ctx context.Context, tx pgx.Tx, query string, args ...any) error {
	tag, err := tx.Exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// sessionColumns are the columns scanSession reads, from sessions aliased s.
const sessionColumns = `s.id, s.username, s.image_mime, s.image, s.created_at, s.updated_at`

// scanSession scans sessionColumns, then extra.
func scanSession(row pgx.Row, extra ...any) (store.Session, error) {
	var (
		sess             store.Session
		id               int64
		mime             *string
		created, updated int64
	)
	dest := append([]any{&id, &sess.Username, &mime, &sess.Image, &created, &updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.Session{}, err
	}
	sess.ID = store.SessionID(id)
	if mime != nil {
		sess.ImageMIME = *mime
	}
	sess.CreatedAt = fromMillis(created)
	sess.UpdatedAt = fromMillis(updated)
	return sess, nil
}

// fromMillis turns a stored Unix-millisecond time into a UTC time.Time.
func fromMillis(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}
