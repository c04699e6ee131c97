"""A catalogue that reads its entries when they are asked for, for the matcher's start-up.

`Catalogue.load` reads every entry (JSON columns, one `Entry` each): 5 s at 2×10^5 codes, before the
first suggestion. The matcher needs at start only the fingerprint and the learned links, and then the
entries of a query's candidates; `LazyCatalogue` has the same API (`entries`, `get`, `lookup`,
`learned`, `fingerprint`, `anomalies_of`) and reads an entry on first use. Iterating `entries` (a
lookup by name, stats) reads them all once. Reads go through one connection behind a lock, so
threads may share the catalogue.

The connection is closed when the catalogue object goes: a server swaps in a new
catalogue each time the file changes, and the old one must not keep its file descriptor for ever.
"""
from __future__ import annotations

import functools
import sqlite3
import threading
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path

from .database import (
    CatalogueVersion,
    connect_shared,
    open_checked,
    read_anomalies,
    read_disabled,
    read_entries,
    read_head,
    read_version,
    reading,
)
from .entries import Anomaly, Entry
from .lookup import Catalogue
from .paths import default_path
from .records import Learned, Proposed


class LazyEntries(Mapping):
    """code -> Entry, read from the catalogue file on first access."""

    def __init__(self, con: sqlite3.Connection, lock: threading.Lock, path: Path):
        self._con, self._lock, self._path = con, lock, path
        self._have: dict[str, Entry] = {}
        self._all = False
        self._codes: list[str] | None = None
        self._codes_set: frozenset[str] | None = None

    def _code_list(self) -> list[str]:
        if self._codes is None:
            with self._lock, reading(self._path):
                self._codes = [r[0] for r in self._con.execute("SELECT code FROM codes ORDER BY code")]
        return self._codes

    def prefetch(self, codes) -> None:
        """Read the entries of these codes in one query (a query's candidates)."""
        missing = [c for c in dict.fromkeys(codes) if c not in self._have]
        if missing and not self._all:
            with self._lock, reading(self._path):
                for i in range(0, len(missing), 500):
                    for e in read_entries(self._con, missing[i : i + 500], self._path):
                        self._have[e.code] = e

    def _load_all(self) -> None:
        if not self._all:
            with self._lock, reading(self._path):
                if not self._all:
                    self._have = {e.code: e for e in read_entries(self._con, path=self._path)}
                    self._codes = list(self._have)
                    self._all = True

    def __getitem__(self, code: str) -> Entry:
        e = self._have.get(code)
        if e is None and not self._all:
            self.prefetch([code])
            e = self._have.get(code)
        if e is None:
            raise KeyError(code)
        return e

    def __contains__(self, code) -> bool:
        """Membership from the code list (one read for all codes), not by reading the entry: the
        linker asks it for every code a learned link points to at start-up."""
        if code in self._have:
            return True
        if self._all:
            return False
        return code in self._code_set()

    def _code_set(self) -> frozenset[str]:
        if self._codes_set is None:
            self._codes_set = frozenset(self._code_list())
        return self._codes_set

    def __iter__(self) -> Iterator[str]:
        self._load_all()
        return iter(self._have)

    def __len__(self) -> int:
        return len(self._have) if self._all else len(self._code_list())

    def values(self):
        self._load_all()
        return self._have.values()

    def items(self):
        self._load_all()
        return self._have.items()


class LazyCatalogue(Catalogue):
    """`Catalogue` with entries and anomalies read on demand (see the module docstring)."""

    def __init__(self, path: Path, con: sqlite3.Connection, fingerprint: str, learned: list[Learned],
                 proposed: list[Proposed], version: CatalogueVersion | None = None,
                 disabled: frozenset[str] = frozenset()):
        self.path, self.fingerprint, self.learned, self.proposed = path, fingerprint, learned, proposed
        self.label, self.made_at = (version.label, version.made_at) if version else ("", "")
        self.disabled = disabled  # read with the head: one query over the codes, not their entries
        self._con, self._lock = con, threading.Lock()
        self.entries = LazyEntries(con, self._lock, path)
        # Closed when the last reference goes: whoever still uses the catalogue (a request running
        # on a Linker the server has just replaced) holds a reference, so the connection cannot
        # close under it; Python's reference count is the count of users, with no bookkeeping at
        # the call sites. It must be explicit: the connection sits in a reference cycle of its own
        # (its statement cache), which the Linker's `gc.freeze` would otherwise keep for ever. Tied
        # to the entries, which share the connection and live at least as long as the catalogue
        # (someone may keep `cat.entries` alone).
        weakref.finalize(self.entries, con.close)

    @classmethod
    def load(cls, path: str | Path | None = None) -> LazyCatalogue:
        path = Path(path) if path else default_path()
        open_checked(path).close()  # the same checks as Catalogue.load (and a killed writer's journal undone)
        with reading(path):
            con = connect_shared(path)  # one read-only connection for the catalogue's life
            fp, learned, proposed = read_head(con)
            version, disabled = read_version(con), read_disabled(con)
        return cls(path, con, fp, learned, proposed, version, disabled)

    @functools.cached_property
    def anomalies(self) -> list[Anomaly]:
        with self._lock, reading(self.path):
            return read_anomalies(self._con)
