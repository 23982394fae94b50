-- 0001: sessions and their reconnect tokens.
-- Times are Unix milliseconds, as in the SQLite store: the two hold the same
-- values, and the Store contract speaks in milliseconds.

CREATE TABLE sessions (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username   text   NOT NULL,
	image_mime text,
	image      bytea,
	created_at bigint NOT NULL,
	updated_at bigint NOT NULL,
	-- a photo has both a type and bytes, or neither
	CHECK ((image_mime IS NULL) = (image IS NULL))
);

-- hash is the SHA-256 of the token; the token itself is never stored.
CREATE TABLE tokens (
	hash       bytea  PRIMARY KEY CHECK (length(hash) = 32),
	session_id bigint NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	issued_at  bigint NOT NULL,
	expires_at bigint NOT NULL,
	revoked_at bigint
);

-- DeleteExpired finds tokens by expiry.
CREATE INDEX tokens_expires_at ON tokens(expires_at);
-- DeleteExpired finds sessions left without a token, and the cascade finds a session's tokens.
CREATE INDEX tokens_session_id ON tokens(session_id);
