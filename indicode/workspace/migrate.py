"""Moving today's data in: the `learned` and `proposed` tables of a catalogue file (releases up to 0.2
kept a copy of the bundled catalogue in the user's data folder and wrote decisions into it).

Each learned link becomes a decision with its reviewer, time and source as they were (origin
`migration`), in the order they were made; each proposed code a proposal and the decision for its
text. Done once per file (the `imports` table), in one transaction, so two processes starting at
once move the data in once. The old file is left where it is, untouched: nothing is lost, and it is
no longer the catalogue in use (the workspace points at the bundled one, and lists the decisions whose
code that lacks).
"""
from __future__ import annotations

import re
from pathlib import Path

from ..catalogue import paths
from ..catalogue.database import open_checked, read_head, reading
from ..catalogue.records import NIL, InputError
from ..i18n import _
from .keys import subject_of
from .records import Kind, Origin, Via
from .workspace import UPSERT_IN_FORCE, Workspace, now

_SOURCE_RE = re.compile(r"^(?P<file>.+?)(?::(?P<sheet>[^:]+))?:(?P<row>\d+)$")


def origin_of(source: str) -> Origin:
    """`reviewed.csv:3`, `r.xlsx:按文本审核:5` or `web feedback`, as today's files write where a
    decision came from."""
    m = _SOURCE_RE.match(source or "")
    if m:
        return Origin(Via.MIGRATION, m.group("file"), m.group("sheet") or "", int(m.group("row")))
    return Origin(Via.MIGRATION, source or "")


def import_catalogue(ws: Workspace, path: Path) -> str:
    """Move the learned links and proposed codes of catalogue file `path` into `ws`, once; returns a
    note of what was moved ('' when the file has none or was moved in before)."""
    path = Path(path)
    con = open_checked(path)
    try:
        with reading(path):
            fingerprint, learned, proposed = read_head(con)
            names = dict(con.execute("SELECT code, name FROM codes").fetchall())
    finally:
        con.close()
    source = str(path.resolve())
    with ws.backend.transaction(write=True) as tx:
        if tx.execute("SELECT 1 FROM imports WHERE source = ? AND fingerprint = ?", (source, fingerprint)):
            return ""
        force: dict[tuple[str, str], int] = {}
        decided = set()
        for link in learned:
            s = subject_of(link.text, link.level2)
            e = ws._append(tx, Kind.DECISION, s, link.text, link.code, names.get(link.code, ""), None, link.reviewer,
                           origin_of(link.source), _("moved from {file}, learned link {id}").format(
                               file=path.name, id=link.id), force.get((s.key, s.level2)), fingerprint,
                           at=link.decided_at)
            force[(s.key, s.level2)] = e.id
            decided.add((s.key, s.level2))
        for p in proposed:
            o = origin_of(p.source)
            pid = tx.insert("INSERT INTO proposals (code, name, level1, level2, text, reviewer, at, via, file, sheet, "
                            "row_no) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                            (p.code, p.name, p.level1, p.level2, p.text, p.reviewer, p.proposed_at, str(o.via), o.file,
                             o.sheet, o.row))
            s = subject_of(p.text, p.level2)
            if (s.key, s.level2) in decided:
                continue  # a learned link for the same text stands; the proposal is kept all the same
            e = ws._append(tx, Kind.DECISION, s, p.text, p.code, p.name, pid, p.reviewer, o,
                           _("moved from {file}, proposed code").format(file=path.name), force.get((s.key, s.level2)),
                           fingerprint, at=p.proposed_at)
            force[(s.key, s.level2)] = e.id
        tx.executemany(UPSERT_IN_FORCE, [(k, l2, i) for (k, l2), i in force.items()])
        tx.execute("INSERT INTO imports (source, fingerprint, decisions, proposals, at) VALUES (?,?,?,?,?)",
                   (source, fingerprint, len(learned), len(proposed), now()))
    if not learned and not proposed:
        return ""
    nil = sum(1 for link in learned if link.code == NIL)
    return _("moved {n} learned links ({nil} NIL) and {p} proposed codes from {file} into the workspace {ws}; "
             "{file} is kept as it was and is no longer the catalogue in use").format(
        n=len(learned), nil=nil, p=len(proposed), file=path, ws=ws.location)


def import_legacy_copy(ws: Workspace) -> str:
    """The data folder's catalogue copy of releases up to 0.2, moved in on first use."""
    legacy = paths.user_catalogue_path()
    if not legacy.exists():
        return ""
    try:
        return import_catalogue(ws, legacy)
    except InputError as exc:  # a damaged old copy must not stop today's work: said, not raised
        return _("the old catalogue copy could not be moved in: {why}").format(why=exc)
