-- 0002: the answers of idempotent events (runtime.IdempotencyStore).
-- key is the hex SHA-256 of the client's idempotency key, never the key itself;
-- answer is sealed with a key derived from the idempotency key (NULL while the
-- request runs). Times are Unix milliseconds.
CREATE TABLE idempotency (
	key         TEXT    PRIMARY KEY,
	fingerprint TEXT    NOT NULL,
	answer      BLOB,
	lease_until INTEGER NOT NULL,
	expires_at  INTEGER NOT NULL
) STRICT;

-- DeleteExpiredIdempotency finds records by expiry.
CREATE INDEX idempotency_expires_at ON idempotency(expires_at);
