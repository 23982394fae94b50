package store

import (
	"time"

	"github.com/karl-app/karl/runtime"
)

// IdempotencyRecord is a row of the idempotency table: the record of one
// idempotency key (its hash) for runtime.IdempotencyStore.
type IdempotencyRecord struct {
	Fingerprint string
	Answer      []byte // nil while the request runs
	LeaseUntil  time.Time
	ExpiresAt   time.Time
}

// DecideClaim is the claim rule both stores apply to the row they hold locked:
// rec is nil when the key has no row. take reports that the caller must write a
// fresh claim (no live row, or a running claim whose lease ended).
func DecideClaim(rec *IdempotencyRecord, fingerprint string, now time.Time) (state runtime.ClaimState, take bool) {
	switch {
	case rec == nil || !now.Before(rec.ExpiresAt):
		return runtime.ClaimTaken, true
	case rec.Fingerprint != fingerprint:
		return runtime.ClaimConflict, false
	case rec.Answer != nil:
		return runtime.ClaimDone, false
	case now.Before(rec.LeaseUntil):
		return runtime.ClaimRunning, false
	}
	return runtime.ClaimTaken, true
}
