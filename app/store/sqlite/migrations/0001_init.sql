-- 0001: sessions and their reconnect tokens.
-- Times are Unix milliseconds. STRICT makes SQLite reject a value of the wrong type.

CREATE TABLE sessions (
	id         INTEGER PRIMARY KEY,
	username   TEXT    NOT NULL,
	image_mime TEXT,
	image      BLOB,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	-- a photo has both a type and bytes, or neither
	CHECK ((image_mime IS NULL) = (image IS NULL))
) STRICT;

-- hash is the SHA-256 of the token; the token itself is never stored.
CREATE TABLE tokens (
	hash       BLOB    PRIMARY KEY CHECK (length(hash) = 32),
	session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER
) STRICT;

-- DeleteExpired finds tokens by expiry.
CREATE INDEX tokens_expires_at ON tokens(expires_at);
-- DeleteExpired finds sessions left without a token, and the cascade finds a session's tokens.
CREATE INDEX tokens_session_id ON tokens(session_id);
