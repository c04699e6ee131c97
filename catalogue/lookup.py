"""The catalogue in memory, and the lookups on it: by code, code prefix, class and name.

Read once from the file (`Catalogue.load`); the matcher, the CLI and the server look codes up here
rather than in SQLite. Codes a library disabled are looked up and shown like any other (their entry
says `enabled: False`); what may be suggested is `Catalogue.suggestable`, which leaves them out.
"""
from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from .database import CatalogueVersion, open_checked, read_anomalies, read_entries, read_head, read_version, reading
from .entries import Anomaly, Entry
from .paths import default_path
from .records import Learned, Proposed
from .textio import fold

# Guards the first build of a catalogue's name index (`Catalogue.codes_named`): server threads may
# ask at once. One lock for all catalogues: each builds its index once, so it is rarely waited for.
_NAME_INDEX_LOCK = threading.Lock()


def in_class(e: Entry | Proposed, klass: str) -> bool:
    """`3` is a level-1 class, `31` a level-2 class, anything longer a code prefix."""
    klass = (klass or "").strip()
    if not klass:
        return True
    if len(klass) == 1:
        return e.level1 == klass
    if len(klass) == 2:
        return e.level2 == klass
    return e.code.startswith(klass)


def _name_rank(q: str, e: Entry) -> int | None:
    """How well folded query `q` names `e`: 0 its name, 1 an alias, 2 its name's start, 3 part of
    its name, 4 part of an alias; None not at all."""
    names = [fold(n) for n in e.names]
    if q == names[0]:
        return 0
    if q in names:
        return 1
    if names[0].startswith(q):
        return 2
    if q in names[0]:
        return 3
    if any(q in n for n in names):
        return 4
    return None


class Suggestable:
    """The codes the matcher may suggest: the catalogue's codes but those a library disabled (a
    container: `code in cat.suggestable`)."""

    def __init__(self, entries: Mapping[str, Entry], disabled: frozenset[str]):
        self._entries, self._disabled = entries, disabled

    def __contains__(self, code) -> bool:
        return code not in self._disabled and code in self._entries


class Catalogue:
    """The catalogue loaded into memory: lookups by code, prefix, class and name."""

    def __init__(self, path: Path, entries: list[Entry], anomalies: list[Anomaly], fingerprint: str,
                 learned: list[Learned], proposed: Iterable[Proposed] = (), label: str = "", made_at: str = ""):
        self.path = path
        self.entries: Mapping[str, Entry] = {e.code: e for e in entries}
        self._anomalies = anomalies
        self.fingerprint = fingerprint
        self.label, self.made_at = label, made_at
        self.learned = learned
        self.proposed = list(proposed)  # never in `entries`: not codes read from a document
        self.disabled = frozenset(e.code for e in entries if not e.enabled)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Catalogue:
        path = Path(path) if path else default_path()
        con = open_checked(path)
        try:
            with reading(path):
                entries = read_entries(con, path=path)
                anomalies = read_anomalies(con)
                fp, learned, proposed = read_head(con)
                version = read_version(con)
        finally:
            con.close()
        return cls(path, entries, anomalies, fp, learned, proposed, version.label, version.made_at)

    @property
    def version(self) -> CatalogueVersion:
        """Which catalogue this is (fingerprint, label, time of making): what a decision records."""
        return CatalogueVersion(self.fingerprint, self.label, self.made_at)

    @property
    def suggestable(self) -> Suggestable:
        """The codes the matcher may suggest (every code but the disabled ones)."""
        return Suggestable(self.entries, self.disabled)

    def suggestable_entries(self) -> Iterator[Entry]:
        """The entries the matcher may suggest, in catalogue order (the vector index's names and the
        prepared names come from these)."""
        return (e for e in self.entries.values() if e.code not in self.disabled)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, code: str) -> Entry | None:
        return self.entries.get(code.strip())

    @property
    def anomalies(self) -> list[Anomaly]:
        return self._anomalies

    @functools.cached_property
    def _anomalies_by_code(self) -> dict[str, list[Anomaly]]:
        out: dict[str, list[Anomaly]] = {}
        for a in self.anomalies:
            out.setdefault(a.code, []).append(a)
        return out

    def anomalies_of(self, code: str) -> list[Anomaly]:
        """The anomalies recorded for one code (looked up, not scanned: bulk runs ask per row)."""
        return self._anomalies_by_code.get(code.strip(), [])

    def lookup(self, query: str, klass: str = "", limit: int = 50) -> list[Entry]:
        """Exact code, code prefix (`113`, `1130002`), or name / part of a name (aliases included),
        optionally within a class (`3`, `31`); best matches first."""
        q = fold(query)
        pool = [e for e in self.entries.values() if in_class(e, klass)]
        if q.isdigit():
            exact = [e for e in pool if e.code == q]
            return exact or [e for e in pool if e.code.startswith(q)][:limit]
        scored = []
        for e in pool:
            rank = _name_rank(q, e)
            if rank is not None:
                scored.append((rank, len(e.name), e.code, e))
        return [s[-1] for s in sorted(scored)[:limit]]

    def codes_named(self, name: str) -> list[str]:
        """Codes one of whose spellings is `name` (width- and case-folded); indexed on first use, by
        one thread while any others wait, and published only when whole."""
        by_name = self.__dict__.get("_by_name")
        if by_name is None:
            with _NAME_INDEX_LOCK:
                by_name = self.__dict__.get("_by_name")
                if by_name is None:
                    by_name = {}
                    for e in self.entries.values():
                        for n in e.names:
                            by_name.setdefault(fold(n), []).append(e.code)
                    self._by_name = by_name
        return list(dict.fromkeys(by_name.get(fold(name), [])))

    def lookup_proposed(self, query: str, klass: str = "", limit: int = 50) -> list[Proposed]:
        """Proposed codes by code, code prefix or part of their name or text (shown apart from the
        catalogue's own codes)."""
        q = fold(query)
        if not q:
            return []
        found = [p for p in self.proposed if in_class(p, klass) and (
            p.code.startswith(q) if q.isdigit() else (q in fold(p.name) or q in fold(p.text)))]
        return found[:limit]

    def stats(self) -> dict:
        """The counts `indicode catalogue stats` shows."""
        return {
            "path": str(self.path),
            "codes": len(self.entries),
            "valid_codes": sum(e.valid for e in self.entries.values()),
            "names": sum(len(e.names) for e in self.entries.values()),
            "occurrences": sum(e.count for e in self.entries.values()),
            "sources": sorted({s for e in self.entries.values() for s in e.sources}),
            "by_level2": dict(sorted(Counter(e.level2 for e in self.entries.values()).items())),
            "anomalies": dict(sorted(Counter(a.kind for a in self.anomalies).items())),
            "disabled": len(self.disabled),
            "learned": len(self.learned),
            "proposed": len(self.proposed),
            "fingerprint": self.fingerprint,
            "label": self.label,
            "made_at": self.made_at,
        }
