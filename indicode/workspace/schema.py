"""The workspace's tables, in SQL both backends run ({ID} is each backend's never-reused id column).

- `events`: the log, appended to and never changed: decisions and retractions (`records.Event`).
- `in_force`: per subject, the decision in force; derived from `events` in the same transaction as
  each event (so reading it is one indexed look-up), and rebuilt from the log by `Workspace.rekey`.
- `proposals` and `proposal_events`: codes reviewers proposed, and their history (approved, rejected).
- `catalogues`: every catalogue the workspace has been pointed at; the latest row is the one in use.
- `members`: names, roles and the hashes of the tokens the workspace issued them.
- `imports`: catalogue files whose `learned` / `proposed` tables were moved in (never twice).
- `models`: the models `indicode calibrate` fitted for this workspace, and the resets to the shipped one;
  the latest row is the one in use (`models.py`).
"""
from __future__ import annotations

SCHEMA_VERSION = 3  # 2: proposals with a provisional id, unit, explanation, comment; an approved code
# 3: the workspace's own fitted models (`models`)
# the meta key that marks a workspace (a catalogue's meta has a `schema_version` of its own: a catalogue
# given as --workspace must be told apart, never written into)
SCHEMA_KEY = "workspace_schema_version"

# `model`: the ScoreModel as JSON, '' for "the shipped model again" (a reset); `adopted`: whether the
# reviewers' decisions are among the links fitted on; `figures`: cross-validation before / after, JSON
MODELS_TABLE = """CREATE TABLE IF NOT EXISTS models (
  id {ID}, model TEXT NOT NULL, fitted_on TEXT NOT NULL, adopted INTEGER NOT NULL, figures TEXT NOT NULL,
  decisions INTEGER NOT NULL, reviewer TEXT NOT NULL, at TEXT NOT NULL)"""

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  id {ID}, kind TEXT NOT NULL, subject TEXT NOT NULL, level2 TEXT NOT NULL, clean_version INTEGER NOT NULL,
  text TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, proposal BIGINT, reviewer TEXT NOT NULL, at TEXT NOT NULL,
  via TEXT NOT NULL, file TEXT NOT NULL, sheet TEXT NOT NULL, row_no INTEGER, comment TEXT NOT NULL,
  replaces BIGINT, catalogue TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_subject ON events (subject, level2);
CREATE INDEX IF NOT EXISTS events_replaces ON events (replaces);
CREATE TABLE IF NOT EXISTS in_force (subject TEXT NOT NULL, level2 TEXT NOT NULL, event BIGINT NOT NULL,
  PRIMARY KEY (subject, level2));
CREATE TABLE IF NOT EXISTS proposals (
  id {ID}, code TEXT NOT NULL, name TEXT NOT NULL, level1 TEXT NOT NULL, level2 TEXT NOT NULL,
  text TEXT NOT NULL, reviewer TEXT NOT NULL, at TEXT NOT NULL, via TEXT NOT NULL, file TEXT NOT NULL,
  sheet TEXT NOT NULL, row_no INTEGER, unit TEXT NOT NULL DEFAULT '', explanation TEXT NOT NULL DEFAULT '',
  comment TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS proposal_events (
  id {ID}, proposal BIGINT NOT NULL, status TEXT NOT NULL, reviewer TEXT NOT NULL, at TEXT NOT NULL,
  comment TEXT NOT NULL, code TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS catalogues (
  id {ID}, path TEXT NOT NULL, fingerprint TEXT NOT NULL, label TEXT NOT NULL, made_at TEXT NOT NULL,
  bundled INTEGER NOT NULL, at TEXT NOT NULL, reviewer TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (name TEXT PRIMARY KEY, role TEXT NOT NULL, token_hash TEXT NOT NULL,
  at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS imports (source TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, decisions INTEGER NOT NULL,
  proposals INTEGER NOT NULL, at TEXT NOT NULL);
""" + MODELS_TABLE + ";\n"

EVENT_COLUMNS = ("id, kind, subject, level2, clean_version, text, code, name, proposal, reviewer, at, via, file, "
                 "sheet, row_no, comment, replaces, catalogue")
PROPOSAL_COLUMNS = ("id, code, name, level1, level2, text, reviewer, at, via, file, sheet, row_no, unit, explanation, "
                    "comment")
# version N -> N + 1, run once on an older workspace (the columns and tables the DDL above has since)
UPGRADES = {1: ["ALTER TABLE proposals ADD COLUMN unit TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE proposals ADD COLUMN explanation TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE proposals ADD COLUMN comment TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE proposal_events ADD COLUMN code TEXT NOT NULL DEFAULT ''"],
            2: [MODELS_TABLE]}


def statements(id_column: str) -> list[str]:
    """The DDL as single statements, with the backend's id column."""
    return [s.strip() for s in TABLES.replace("{ID}", id_column).split(";") if s.strip()]


def upgrade_statements(version: int, id_column: str) -> list[str]:
    """The statements that bring a workspace of `version` to the next one, with the backend's id column."""
    return [sql.replace("{ID}", id_column) for sql in UPGRADES[version]]
