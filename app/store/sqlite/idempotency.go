package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/runtime"
)

// Claim implements runtime.IdempotencyStore: in one IMMEDIATE transaction, so two
// requests with one key cannot both take it.
func (s *Store) Claim(ctx context.Context, key, fingerprint string, now time.Time, lease, window time.Duration) (runtime.ClaimState, []byte, error) {
	var state runtime.ClaimState
	var answer []byte
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var rec store.IdempotencyRecord
		var leaseUntil, expiresAt int64
		err := tx.QueryRowContext(ctx, `SELECT fingerprint, answer, lease_until, expires_at FROM idempotency WHERE key = ?`, key).
			Scan(&rec.Fingerprint, &rec.Answer, &leaseUntil, &expiresAt)
		var held *store.IdempotencyRecord // nil: no row for the key
		switch {
		case err == nil:
			rec.LeaseUntil, rec.ExpiresAt = fromMillis(leaseUntil), fromMillis(expiresAt)
			held = &rec
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var take bool
		state, take = store.DecideClaim(held, fingerprint, now)
		answer = rec.Answer
		if !take {
			return nil
		}
		answer = nil
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO idempotency (key, fingerprint, answer, lease_until, expires_at) VALUES (?, ?, NULL, ?, ?)`,
			key, fingerprint, now.Add(lease).UnixMilli(), now.Add(window).UnixMilli())
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("claim idempotency key: %w", err)
	}
	return state, answer, nil
}

// Complete implements runtime.IdempotencyStore.
func (s *Store) Complete(ctx context.Context, key string, answer []byte) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE idempotency SET answer = ? WHERE key = ?`, answer, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// Release implements runtime.IdempotencyStore.
func (s *Store) Release(ctx context.Context, key string) error {
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM idempotency WHERE key = ? AND answer IS NULL`, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotency implements store.Store.
func (s *Store) DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM idempotency WHERE expires_at <= ?`, now.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency records: %w", err)
	}
	return n, nil
}
