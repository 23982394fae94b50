-- 0002: the answers of idempotent events (runtime.IdempotencyStore).
-- key is the hex SHA-256 of the client's idempotency key, never the key itself;
-- answer is sealed with a key derived from the idempotency key (NULL while the
-- request runs). Times are Unix milliseconds.
CREATE TABLE idempotency (
	key         text   PRIMARY KEY,
	fingerprint text   NOT NULL,
	answer      bytea,
	lease_until bigint NOT NULL,
	expires_at  bigint NOT NULL
);

-- DeleteExpiredIdempotency finds records by expiry.
CREATE INDEX idempotency_expires_at ON idempotency(expires_at);
