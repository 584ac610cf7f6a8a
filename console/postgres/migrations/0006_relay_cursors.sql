-- Reach console schema, version 6 (PostgreSQL): how far the console has read each
-- relay's audit events (see console.RelayCursor).
CREATE TABLE relay_cursors (
	relay      TEXT   NOT NULL PRIMARY KEY,
	instance   TEXT   NOT NULL,
	seq        BIGINT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
