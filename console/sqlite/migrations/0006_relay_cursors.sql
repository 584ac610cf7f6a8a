-- Reach console schema, version 6 (SQLite): how far the console has read each
-- relay's audit events (see console.RelayCursor).
CREATE TABLE relay_cursors (
	relay      TEXT   NOT NULL PRIMARY KEY,
	instance   TEXT   NOT NULL,
	seq        INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
