-- Reach console schema, version 3 (SQLite): escalation rules and their firings.

-- A rule matching a team is deleted with it; a rule moving tickets to a
-- team loses that action when the team is deleted.
CREATE TABLE escalation_rules (
	id           INTEGER PRIMARY KEY,
	name         TEXT    NOT NULL COLLATE NOCASE UNIQUE,
	enabled      INTEGER NOT NULL DEFAULT 1,
	priorities   TEXT    NOT NULL DEFAULT '[]', -- JSON array of 1 to 4
	category     TEXT    NOT NULL DEFAULT '',
	team_id      INTEGER REFERENCES teams (id) ON DELETE CASCADE,
	level        INTEGER NOT NULL DEFAULT 0 CHECK (level BETWEEN 0 AND 3),
	deadline     TEXT    NOT NULL CHECK (deadline IN ('first_response', 'resolution')),
	trigger_kind TEXT    NOT NULL CHECK (trigger_kind IN ('remaining', 'elapsed', 'breached')),
	minutes      INTEGER NOT NULL DEFAULT 0,
	percent      INTEGER NOT NULL DEFAULT 0,
	set_level    INTEGER NOT NULL DEFAULT 0 CHECK (set_level IN (0, 2, 3)),
	set_team_id  INTEGER REFERENCES teams (id) ON DELETE SET NULL,
	unassign     INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX escalation_rules_team ON escalation_rules (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX escalation_rules_set_team ON escalation_rules (set_team_id) WHERE set_team_id IS NOT NULL;

-- One row per rule that fired on a ticket: the primary key makes a rule
-- fire at most once per ticket, even with several schedulers.
CREATE TABLE escalation_firings (
	ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
	rule_id   INTEGER NOT NULL REFERENCES escalation_rules (id) ON DELETE CASCADE,
	kind      TEXT    NOT NULL,
	at        INTEGER NOT NULL,
	PRIMARY KEY (ticket_id, rule_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX escalation_firings_rule ON escalation_firings (rule_id);
