-- Reach console schema, version 2 (SQLite): sign-in state and relay session ids.

-- login_sessions holds browser sessions; hash is the SHA-256 of the cookie
-- secret, which is never stored.
CREATE TABLE login_sessions (
	id           INTEGER PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash         BLOB    NOT NULL UNIQUE,
	mfa_pending  INTEGER NOT NULL DEFAULT 0,
	user_agent   TEXT    NOT NULL DEFAULT '',
	address      TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX login_sessions_user ON login_sessions (user_id);
CREATE INDEX login_sessions_expires ON login_sessions (expires_at);
CREATE INDEX login_sessions_seen ON login_sessions (last_seen_at);

-- The last TOTP time step a user signed in with; a code of that step or an
-- earlier one is refused.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- Two-factor recovery codes, SHA-256 hashed; each works once.
CREATE TABLE recovery_codes (
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash    BLOB    NOT NULL,
	PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID;

-- The relay's id of a remote session, reported by the technician's browser.
ALTER TABLE sessions ADD COLUMN relay_sid TEXT;
CREATE UNIQUE INDEX sessions_relay_sid ON sessions (relay_sid) WHERE relay_sid IS NOT NULL;
