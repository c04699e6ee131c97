"""Which catalogue a workspace is pointed at, and what a switch to another one does to its decisions.

The workspace records the catalogue (path, fingerprint, label, when made) and keeps every decision
whatever the catalogue: a switch lists the decisions in force whose code is gone, renamed or disabled
in the new one, and drops none. A workspace on the bundled catalogue follows it: after an upgrade
brings a new bundled file, the next use switches to it and lists the same.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..catalogue import paths
from ..catalogue.database import open_checked, reading
from ..catalogue.lazy import LazyCatalogue
from ..catalogue.records import NIL
from .records import CatalogueRef, Event

GONE, RENAMED, DISABLED = "gone", "renamed", "disabled"


def is_bundled(path: str | Path) -> bool:
    return Path(path).resolve() == paths.BUNDLED_DB.resolve()


def describe(path: str | Path) -> CatalogueRef:
    """The version of a catalogue file: its fingerprint, and its label and making time when it has them."""
    path = Path(path)
    con = open_checked(path)
    try:
        with reading(path):
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    finally:
        con.close()
    return CatalogueRef(str(path.resolve()), meta.get("fingerprint", ""), meta.get("label", ""),
                        meta.get("made_at", ""), is_bundled(path))


@dataclass(frozen=True)
class Affected:
    """A decision in force whose code the new catalogue no longer has as it was."""

    decision: Event
    change: str  # gone | renamed | disabled
    name: str = ""  # the code's name in the new catalogue (renamed, disabled)


def affected(decisions: Iterable[Event], new: str | Path) -> list[Affected]:
    """The decisions whose code is gone from catalogue `new`, renamed there (its name differs from the
    one the decision was made with) or disabled there. NIL decisions and open proposals are about no
    catalogue code and are never affected."""
    cat = LazyCatalogue.load(new)
    out = []
    for d in decisions:
        if d.code == NIL or not d.code or d.proposal is not None:
            continue
        if d.code not in cat.entries:
            out.append(Affected(d, GONE))
            continue
        e = cat.entries[d.code]
        if getattr(e, "enabled", True) is False:
            out.append(Affected(d, DISABLED, e.name))
        elif d.name and e.name != d.name and d.name not in e.names:
            out.append(Affected(d, RENAMED, e.name))
    return out
