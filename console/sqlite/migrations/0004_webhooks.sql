-- Reach console schema, version 4 (SQLite): webhook subscriptions and the
-- delivery outbox.

CREATE TABLE webhooks (
	id          INTEGER PRIMARY KEY,
	name        TEXT    NOT NULL,
	url         TEXT    NOT NULL,
	secret      BLOB    NOT NULL,
	event_types TEXT    NOT NULL DEFAULT '[]', -- JSON array; empty: every type
	enabled     INTEGER NOT NULL DEFAULT 1,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;

-- One row per event and subscriber. A pending row is due at
-- next_attempt_at; a claimed one is leased until then.
CREATE TABLE webhook_deliveries (
	id               INTEGER PRIMARY KEY,
	webhook_id       INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	delivery_id      TEXT    NOT NULL UNIQUE,
	event_type       TEXT    NOT NULL,
	payload          BLOB    NOT NULL,
	status           TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts         INTEGER NOT NULL DEFAULT 0,
	next_attempt_at  INTEGER NOT NULL,
	last_attempt_at  INTEGER,
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT    NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL,
	finished_at      INTEGER
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE finished_at IS NOT NULL;
