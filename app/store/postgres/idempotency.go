package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/karl-app/karl/app/store"
	"github.com/karl-app/karl/runtime"
)

// Claim implements runtime.IdempotencyStore. The row is locked (FOR UPDATE) or,
// for a new key, inserted with ON CONFLICT DO NOTHING and read again, so that two
// requests with one key on two nodes cannot both take it.
func (s *Store) Claim(ctx context.Context, key, fingerprint string, now time.Time, lease, window time.Duration) (runtime.ClaimState, []byte, error) {
	var state runtime.ClaimState
	var answer []byte
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO idempotency (key, fingerprint, answer, lease_until, expires_at)
			VALUES ($1, $2, NULL, 0, 0) ON CONFLICT (key) DO NOTHING`, key, fingerprint); err != nil {
			return err
		}
		var rec store.IdempotencyRecord
		var leaseUntil, expiresAt int64
		err := tx.QueryRow(ctx, `SELECT fingerprint, answer, lease_until, expires_at FROM idempotency WHERE key = $1 FOR UPDATE`, key).
			Scan(&rec.Fingerprint, &rec.Answer, &leaseUntil, &expiresAt)
		if err != nil {
			return err
		}
		rec.LeaseUntil, rec.ExpiresAt = time.UnixMilli(leaseUntil), time.UnixMilli(expiresAt)
		var take bool
		state, take = store.DecideClaim(&rec, fingerprint, now) // a row just inserted has expired: taken
		answer = rec.Answer
		if !take {
			return nil
		}
		answer = nil
		_, err = tx.Exec(ctx, `UPDATE idempotency SET fingerprint = $2, answer = NULL, lease_until = $3, expires_at = $4 WHERE key = $1`,
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
	if _, err := s.pool.Exec(ctx, `UPDATE idempotency SET answer = $2 WHERE key = $1`, key, answer); err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// Release implements runtime.IdempotencyStore.
func (s *Store) Release(ctx context.Context, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM idempotency WHERE key = $1 AND answer IS NULL`, key); err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotency implements store.Store.
func (s *Store) DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency WHERE expires_at <= $1`, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency records: %w", err)
	}
	return tag.RowsAffected(), nil
}
