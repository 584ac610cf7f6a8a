-- Reach console schema, version 1 (SQLite).
-- Times are INTEGER microseconds since the Unix epoch (UTC); NULL means unset.
-- Booleans are INTEGER 0/1. Tables are STRICT so that types are enforced.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	name          TEXT    NOT NULL,
	password_hash TEXT    NOT NULL DEFAULT '',
	role          TEXT    NOT NULL CHECK (role IN ('admin', 'technician', 'viewer')),
	level         INTEGER NOT NULL DEFAULT 0 CHECK (level BETWEEN 0 AND 3),
	totp_secret   BLOB,
	disabled      INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL,
	hash         BLOB    NOT NULL UNIQUE,
	expires_at   INTEGER,
	last_used_at INTEGER,
	created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE teams (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE team_members (
	team_id INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	PRIMARY KEY (team_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE device_groups (
	id          INTEGER PRIMARY KEY,
	name        TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	description TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL
) STRICT;

-- A grant names exactly one subject: a user or a role.
CREATE TABLE grants (
	group_id    INTEGER NOT NULL REFERENCES device_groups (id) ON DELETE CASCADE,
	user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
	role        TEXT CHECK (role IN ('admin', 'technician', 'viewer')),
	permissions INTEGER NOT NULL,
	CHECK ((user_id IS NULL) <> (role IS NULL))
) STRICT;
CREATE UNIQUE INDEX grants_user ON grants (group_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX grants_role ON grants (group_id, role) WHERE role IS NOT NULL;
CREATE INDEX grants_by_user ON grants (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE enrollment_tokens (
	id          INTEGER PRIMARY KEY,
	group_id    INTEGER NOT NULL REFERENCES device_groups (id) ON DELETE CASCADE,
	name        TEXT    NOT NULL,
	secret_hash BLOB    NOT NULL UNIQUE,
	expires_at  INTEGER NOT NULL,
	max_uses    INTEGER NOT NULL CHECK (max_uses > 0),
	uses        INTEGER NOT NULL DEFAULT 0 CHECK (uses BETWEEN 0 AND max_uses),
	revoked     INTEGER NOT NULL DEFAULT 0,
	created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX enrollment_tokens_group ON enrollment_tokens (group_id);

-- devices carries a summary of the latest inventory for lists and fleet
-- search; the document itself is in device_inventory.
CREATE TABLE devices (
	id                  INTEGER PRIMARY KEY,
	group_id            INTEGER NOT NULL REFERENCES device_groups (id),
	name                TEXT    NOT NULL,
	public_key          BLOB    NOT NULL UNIQUE,
	enrollment_token_id INTEGER REFERENCES enrollment_tokens (id) ON DELETE SET NULL,
	enrolled_at         INTEGER NOT NULL,
	last_seen_at        INTEGER,
	hostname            TEXT    NOT NULL DEFAULT '',
	os_name             TEXT    NOT NULL DEFAULT '',
	os_version          TEXT    NOT NULL DEFAULT '',
	disk_used_pct       REAL    NOT NULL DEFAULT 0,
	software_hash       TEXT    NOT NULL DEFAULT '',
	inventory_at        INTEGER
) STRICT;
CREATE INDEX devices_name ON devices (name, id);
CREATE INDEX devices_group ON devices (group_id);
CREATE INDEX devices_last_seen ON devices (last_seen_at);
CREATE INDEX devices_disk ON devices (disk_used_pct);
CREATE INDEX devices_token ON devices (enrollment_token_id);

CREATE TABLE device_inventory (
	device_id      INTEGER PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
	schema_version INTEGER NOT NULL,
	raw            BLOB    NOT NULL,
	section_hashes TEXT    NOT NULL,
	collected_at   INTEGER,
	received_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE inventory_snapshots (
	id          INTEGER PRIMARY KEY,
	device_id   INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	section     TEXT    NOT NULL,
	hash        TEXT    NOT NULL,
	data        BLOB    NOT NULL,
	received_at INTEGER NOT NULL
) STRICT;
CREATE INDEX inventory_snapshots_device ON inventory_snapshots (device_id, section, received_at);

CREATE TABLE inventory_changes (
	id        INTEGER PRIMARY KEY,
	device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	at        INTEGER NOT NULL,
	section   TEXT    NOT NULL,
	op        TEXT    NOT NULL,
	key       TEXT    NOT NULL DEFAULT '',
	old       TEXT    NOT NULL DEFAULT '',
	new       TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX inventory_changes_device ON inventory_changes (device_id, at);
CREATE INDEX inventory_changes_at ON inventory_changes (at);

-- software is the catalog of package names; rows are never deleted, so
-- their IDs can be cached.
CREATE TABLE software (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
) STRICT;

-- device_software is the fleet-search index: one row per installed package
-- with a sortable version key (console.VersionKey).
CREATE TABLE device_software (
	software_id INTEGER NOT NULL REFERENCES software (id),
	version_key TEXT    NOT NULL,
	device_id   INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	version     TEXT    NOT NULL,
	publisher   TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (software_id, version_key, device_id, version)
) STRICT, WITHOUT ROWID;
CREATE INDEX device_software_device ON device_software (device_id);

CREATE TABLE sla_policies (
	id         INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	is_default INTEGER NOT NULL DEFAULT 0,
	targets    TEXT    NOT NULL,
	calendar   TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX sla_policies_default ON sla_policies (is_default) WHERE is_default;

CREATE TABLE tickets (
	id                 INTEGER PRIMARY KEY,
	title              TEXT    NOT NULL,
	description        TEXT    NOT NULL DEFAULT '',
	requester_name     TEXT    NOT NULL DEFAULT '',
	requester_email    TEXT    NOT NULL DEFAULT '',
	requester_phone    TEXT    NOT NULL DEFAULT '',
	channel            TEXT    NOT NULL CHECK (channel IN ('phone', 'email', 'chat', 'portal', 'agent')),
	category           TEXT    NOT NULL DEFAULT '',
	priority           INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
	status             TEXT    NOT NULL CHECK (status IN ('new', 'open', 'pending', 'resolved', 'closed', 'reopened')),
	assignee_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
	team_id            INTEGER REFERENCES teams (id) ON DELETE SET NULL,
	level              INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
	sla_policy_id      INTEGER REFERENCES sla_policies (id) ON DELETE SET NULL,
	first_response_due INTEGER,
	resolution_due     INTEGER,
	first_responded_at INTEGER,
	resolved_at        INTEGER,
	paused_at          INTEGER,
	paused_us          INTEGER NOT NULL DEFAULT 0,
	-- sla_next_due is console.Ticket.NextDue, maintained on every write, so
	-- that SLA filters and the "due" order use an index; "none" is stored as
	-- the largest INTEGER so that it sorts last without NULL handling.
	sla_next_due       INTEGER NOT NULL,
	reopen_count       INTEGER NOT NULL DEFAULT 0,
	version            INTEGER NOT NULL DEFAULT 1,
	created_by         INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX tickets_created ON tickets (created_at, id);
CREATE INDEX tickets_updated ON tickets (updated_at, id);
CREATE INDEX tickets_due ON tickets (sla_next_due, id);
CREATE INDEX tickets_status ON tickets (status, created_at, id);
CREATE INDEX tickets_status_updated ON tickets (status, updated_at, id);
CREATE INDEX tickets_status_due ON tickets (status, sla_next_due, id);
CREATE INDEX tickets_assignee ON tickets (assignee_id, status, created_at);
CREATE INDEX tickets_team ON tickets (team_id, status, created_at);
CREATE INDEX tickets_resolved ON tickets (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX tickets_paused ON tickets (paused_at) WHERE paused_at IS NOT NULL;

-- tickets_fts indexes console.Ticket.SearchDocument; the store writes it
-- (contentless: the words are not stored twice).
CREATE VIRTUAL TABLE tickets_fts USING fts5 (
	doc,
	content = '',
	contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TABLE ticket_devices (
	ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	device_id INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	PRIMARY KEY (ticket_id, device_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX ticket_devices_device ON ticket_devices (device_id);

CREATE TABLE comments (
	id         INTEGER PRIMARY KEY,
	ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	author_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
	body       TEXT    NOT NULL,
	internal   INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX comments_ticket ON comments (ticket_id, id);

CREATE TABLE attachments (
	id           INTEGER PRIMARY KEY,
	ticket_id    INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	comment_id   INTEGER REFERENCES comments (id) ON DELETE SET NULL,
	name         TEXT    NOT NULL,
	content_type TEXT    NOT NULL,
	size         INTEGER NOT NULL,
	sha256       BLOB    NOT NULL,
	blob_key     TEXT    NOT NULL,
	uploaded_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
	created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_ticket ON attachments (ticket_id, id);
CREATE INDEX attachments_comment ON attachments (comment_id);

CREATE TABLE ticket_events (
	id        INTEGER PRIMARY KEY,
	ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	actor_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
	at        INTEGER NOT NULL,
	kind      TEXT    NOT NULL,
	ref_id    INTEGER NOT NULL DEFAULT 0,
	changes   TEXT    NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

CREATE TABLE diagnostic_results (
	id           INTEGER PRIMARY KEY,
	device_id    INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
	ticket_id    INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
	check_name   TEXT    NOT NULL,
	status       TEXT    NOT NULL CHECK (status IN ('ok', 'warn', 'fail', 'error')),
	output       BLOB,
	requested_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
	started_at   INTEGER,
	finished_at  INTEGER,
	created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX diagnostic_results_device ON diagnostic_results (device_id, id);
CREATE INDEX diagnostic_results_ticket ON diagnostic_results (ticket_id, id) WHERE ticket_id IS NOT NULL;

CREATE TABLE sessions (
	id            INTEGER PRIMARY KEY,
	kind          TEXT    NOT NULL CHECK (kind IN ('attended', 'unattended')),
	ticket_id     INTEGER REFERENCES tickets (id) ON DELETE SET NULL,
	device_id     INTEGER REFERENCES devices (id) ON DELETE SET NULL,
	technician_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
	code_hash     BLOB,
	consent       TEXT    NOT NULL,
	permissions   INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	started_at    INTEGER,
	ended_at      INTEGER,
	end_reason    TEXT    NOT NULL DEFAULT '',
	recording_key TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_ticket ON sessions (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX sessions_device ON sessions (device_id) WHERE device_id IS NOT NULL;
CREATE INDEX sessions_technician ON sessions (technician_id);
CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX sessions_active ON sessions (id) WHERE ended_at IS NULL;

CREATE TABLE session_events (
	id         INTEGER PRIMARY KEY,
	session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	source     TEXT    NOT NULL CHECK (source IN ('relay', 'agent', 'technician', 'console')),
	type       TEXT    NOT NULL,
	at         INTEGER NOT NULL,
	detail     BLOB
) STRICT;
CREATE INDEX session_events_session ON session_events (session_id, id);

CREATE TABLE csat_answers (
	session_id  INTEGER PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
	score       INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
	comment     TEXT    NOT NULL DEFAULT '',
	answered_at INTEGER NOT NULL
) STRICT;
