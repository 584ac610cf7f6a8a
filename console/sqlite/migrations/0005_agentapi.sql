-- Reach console schema, version 5 (SQLite): the device-facing API.

-- The answer to every keyed request an agent sent (outbox items), so that a
-- retry gets the same answer and changes nothing. Pruned after 30 days.
CREATE TABLE agent_receipts (
	device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	key        TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	status     INTEGER NOT NULL,
	result     BLOB,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (device_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX agent_receipts_created ON agent_receipts (created_at);

-- Commands for agents ("report inventory now", "run diagnostics"), kept
-- until answered so that a console restart loses none.
CREATE TABLE device_commands (
	id           INTEGER PRIMARY KEY,
	device_id    INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	kind         TEXT    NOT NULL CHECK (kind IN ('inventory', 'diagnostics')),
	checks       TEXT    NOT NULL DEFAULT '[]',
	requested_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at   INTEGER NOT NULL,
	delivered_at INTEGER,
	completed_at INTEGER
) STRICT;
CREATE INDEX device_commands_pending ON device_commands (device_id, id) WHERE completed_at IS NULL;

-- Which command a diagnostic result answers.
ALTER TABLE diagnostic_results ADD COLUMN command_id INTEGER REFERENCES device_commands (id) ON DELETE SET NULL;
CREATE INDEX diagnostic_results_command ON diagnostic_results (command_id) WHERE command_id IS NOT NULL;

-- Session events agents sent, keyed by the relay's session id; session_id
-- is set once the sid is known to belong to a console session.
CREATE TABLE agent_events (
	id          INTEGER PRIMARY KEY,
	device_id   INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	key         TEXT    NOT NULL,
	sid         TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	at          INTEGER NOT NULL,
	detail      BLOB,
	received_at INTEGER NOT NULL,
	session_id  INTEGER REFERENCES sessions (id) ON DELETE SET NULL,
	UNIQUE (device_id, key)
) STRICT;
CREATE INDEX agent_events_sid ON agent_events (sid, id);

-- Ephemeral keys of quick-support agents, by the SHA-256 of the session
-- code; they expire with the code.
CREATE TABLE quick_keys (
	id         INTEGER PRIMARY KEY,
	code_hash  BLOB    NOT NULL UNIQUE,
	public_key BLOB    NOT NULL,
	expires_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX quick_keys_expires ON quick_keys (expires_at);
