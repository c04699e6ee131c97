"""A whole catalogue file written at once: the schema of `database.py` filled in one transaction, in a
fixed order (same input and time of making, same bytes), then renamed into place."""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from .database import PROPOSED_SCHEMA, SCHEMA, SCHEMA_VERSION, connect
from .entries import Anomaly, Entry, Occurrence, build_entries
from .files import atomic_path, write_failed
from .records import Learned, Proposed


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def made_now() -> str:
    """When a catalogue is made: now, or $SOURCE_DATE_EPOCH when set (reproducible builds: the same
    input then gives the same bytes)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit() else datetime.now(UTC)
    return when.isoformat(timespec="seconds")


def _occurrence_row(o: Occurrence) -> tuple:
    return (o.code, o.name, o.source, o.line, o.unit, o.project, o.filed_level1, o.filed_level2, o.value,
            o.measure_unit, o.explanation, o.standard, None if o.enabled is None else int(o.enabled))


def _insert_all(con: sqlite3.Connection, occs: list[Occurrence], entries: list[Entry], anomalies: list[Anomaly],
                learned: Iterable[Learned], proposed: Iterable[Proposed], label: str) -> None:
    """Fill a new file, rows in a fixed order: same input (and time of making), same bytes."""
    con.executescript(SCHEMA + PROPOSED_SCHEMA)
    con.executemany("INSERT INTO meta VALUES (?, ?)",
                    [("schema_version", str(SCHEMA_VERSION)), ("label", label), ("made_at", made_now())])
    occs_sorted = sorted(occs, key=lambda o: (o.source, o.line, o.code, o.name))
    con.executemany("INSERT INTO occurrences VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", map(_occurrence_row, occs_sorted))
    con.executemany("INSERT INTO codes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [(
        e.code, e.name, e.level1, e.level2, int(e.valid), e.count, _json(e.filed), _json(e.sources),
        _json(e.projects), _json(e.values), e.measure_unit, e.explanation, e.standard, int(e.enabled))
        for e in entries])
    con.executemany("INSERT INTO names VALUES (?,?,?,?)",
                    [(e.code, n, c, int(n == e.name)) for e in entries for n, c in e.names.items()])
    con.executemany("INSERT INTO anomalies VALUES (?,?,?,?)",
                    [(a.kind, a.code, a.name, a.detail) for a in anomalies])
    con.executemany("INSERT INTO learned VALUES (?,?,?,?,?,?,?)",
                    [tuple(asdict(link).values()) for link in learned])
    real = {e.code for e in entries}  # a proposal that became a real code is dropped
    con.executemany("INSERT INTO proposed VALUES (?,?,?,?,?,?,?,?)",
                    [tuple(asdict(p).values()) for p in proposed if p.code not in real])
    con.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (_fingerprint(entries),))


def write_catalogue(path: Path, occs: list[Occurrence], learned: Iterable[Learned] = (),
                    proposed: Iterable[Proposed] = (), label: str = "") -> None:
    """Write a catalogue file atomically (temp file + rename); same input, same bytes (with
    $SOURCE_DATE_EPOCH set: the time of making is part of the file). `label` names this version."""
    entries, anomalies = build_entries(occs)
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed(path, exc) from None
    with atomic_path(path) as tmp:
        tmp.unlink()  # sqlite makes its own file
        con = connect(tmp)
        try:
            with con:
                _insert_all(con, occs, entries, anomalies, learned, proposed, label)
        except sqlite3.OperationalError as exc:
            raise write_failed(path, exc) from None
        finally:
            con.close()


def _fingerprint(entries: list[Entry]) -> str:
    """Of what the matcher uses of the codes: codes, names, spellings, and which codes are disabled
    (written only for those, so a catalogue without disabled codes keeps the fingerprint it had
    before there were any). Proposed codes, learned links, the unit, explanation and standard leave
    it, and so the vector index built for it, unchanged: a library re-imported with a corrected
    explanation needs no new index. Were the matcher to score with the unit or explanation, they
    would have to enter it."""
    h = hashlib.sha256()
    for e in entries:
        fields: list = [e.code, e.name, list(e.names)]
        if not e.enabled:
            fields.append("disabled")
        h.update(json.dumps(fields, ensure_ascii=False).encode())
    return h.hexdigest()[:16]
