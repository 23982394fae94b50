// Package store defines how the KARL app persists user sessions: the username,
// the optional profile photo and the reconnect token that restores them.
//
// The interface is implemented by app/store/sqlite and app/store/postgres;
// app/store/storetest holds the conformance suite every implementation
// must pass.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/karl-app/karl/runtime"
)

// SessionID identifies a saved user session.
type SessionID int64

// Session is what the app restores from a token: the username and the optional profile photo.
type Session struct {
	ID        SessionID
	Username  string
	ImageMIME string // "" when no photo was uploaded, e.g. "image/png"
	Image     []byte // decoded image bytes, nil when none
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TokenHash is the SHA-256 of a reconnect token; the token itself is never stored.
type TokenHash [32]byte

var (
	ErrNotFound = errors.New("store: not found")     // unknown session or token
	ErrExpired  = errors.New("store: token expired") // token known but past its expiry
	ErrRevoked  = errors.New("store: token revoked")
)

// Store persists sessions and their reconnect tokens.
//
// Every write returns nil only after its transaction committed. Times are kept
// as Unix milliseconds: values passed in are truncated to the millisecond and
// values returned are UTC. Errors returned for an unknown, expired or revoked
// token or session wrap ErrNotFound, ErrExpired or ErrRevoked: test them with
// errors.Is.
type Store interface {
	// CreateSession saves a new session and its token in one transaction; it returns after commit.
	// The session's CreatedAt and UpdatedAt are issuedAt. expiresAt must be after issuedAt.
	CreateSession(ctx context.Context, username string, token TokenHash, issuedAt, expiresAt time.Time) (SessionID, error)
	// RenameSession changes the username of an existing session (ErrNotFound if none), keeping its token.
	RenameSession(ctx context.Context, id SessionID, username string, now time.Time) error
	// SetProfileImage replaces the session's photo (ErrNotFound if none).
	// mime "" with empty data removes the photo; a mime without data, or data
	// without a mime, is an error.
	SetProfileImage(ctx context.Context, id SessionID, mime string, data []byte, now time.Time) error
	// Session loads a session by id.
	Session(ctx context.Context, id SessionID) (Session, error)
	// SessionByToken resolves a token: ErrNotFound if unknown, ErrExpired if expiresAt <= now (even before cleanup ran), ErrRevoked if revoked.
	// A token both revoked and expired reports ErrRevoked. On any error the
	// Session and expiry are zero.
	SessionByToken(ctx context.Context, token TokenHash, now time.Time) (Session, time.Time /*expiresAt*/, error)
	// RevokeToken marks a token revoked (ErrNotFound if unknown).
	// Revoking an already revoked token is not an error.
	// A revoked token stays in the store, reporting ErrRevoked, until it expires
	// and DeleteExpired removes it.
	RevokeToken(ctx context.Context, token TokenHash, now time.Time) error
	// DeleteExpired deletes tokens whose expiry is <= now and the sessions left without any token, in one transaction, and returns how many tokens it removed. Safe to run concurrently from several processes (later a PostgreSQL store on several nodes will also implement it): no error, no lost rows, no double counting.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
	// The records of idempotent events (runtime.IdempotencyStore): Claim,
	// Complete and Release, shared by every node on the same database.
	runtime.IdempotencyStore
	// DeleteExpiredIdempotency deletes the idempotency records past their window
	// and returns how many; the token cleanup job runs it too.
	DeleteExpiredIdempotency(ctx context.Context, now time.Time) (int64, error)
	// Ping checks the database is reachable (for /healthz).
	Ping(ctx context.Context) error
	Close() error
}

// tokenBytes is the entropy of a reconnect token: 256 bits.
const tokenBytes = 32

// NewToken returns a fresh reconnect token: 32 random bytes from crypto/rand,
// encoded with base64.RawURLEncoding (43 characters, safe in URLs and cookies).
// Give the token to the client and keep only HashToken(token).
func NewToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the SHA-256 of token, the only form in which a token is stored.
func HashToken(token string) TokenHash {
	return sha256.Sum256([]byte(token))
}
