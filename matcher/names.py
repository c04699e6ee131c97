"""What the linker needs of every catalogue name, computed when the index is built and stored beside it.

Preparing 2×10^5 names in Python at start-up took 17 s (canonical spellings, measure heads, character
weights). Here the catalogue-wide parts are computed once, at build time, with the matcher's own
functions (`text.Canon`, `features.measure_heads`, `features.CharWeights`) and stored: canonical
spelling and measure head of each name, per code its class, kind of measure and popularity, the
synonym pairs learned from the catalogue, the character weights, and the character index
(`candidates.CharIndex`). `features.name_info` is still the one place a spelling is prepared: the
linker calls it for the candidates of a query (`PreparedInfo`, an LRU-cached sequence).

Files (beside the FAISS index, same base name): `<base>.names.npz` (arrays) and `<base>.names.json`
(strings, statistics and the version stamp). The stamp covers the catalogue fingerprint, the index
size and a hash of the source of the modules that decide what is stored (text, features, candidates,
this one): when any of them changes the files are rebuilt, never used.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..catalogue.files import atomic_path
from ..catalogue.lookup import Catalogue
from . import candidates, features, text
from .candidates import CharIndex
from .features import CharWeights, measure_heads, name_info
from .text import Canon, Scope, kind_of, learn_variants, scope_of, value_kind

FORMAT = 1


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the source that decides the stored data: a change to it makes stored data stale."""
    h = hashlib.sha256(str(FORMAT).encode())
    for mod in (text, features, candidates, sys.modules[__name__]):
        h.update(inspect.getsource(mod).encode())
    return h.hexdigest()[:16]


def majority_kind(values: list[str]) -> str:
    from collections import Counter

    kinds = Counter(k for k in (value_kind(v) for v in values) if k)
    return kinds.most_common(1)[0][0] if kinds else ""


@dataclass
class NameTable:
    """The index's names prepared for matching (row i = row i of the FAISS index)."""

    stamp: str
    variants: list[tuple[str, str]]  # for text.Canon
    canon: list[str]  # canonical spelling of each name
    head: list[str]  # measure head of each name
    code_list: list[str]  # the codes, in catalogue order
    code_of: np.ndarray  # int32 per name: position in code_list
    level2: list[str]  # per code
    kind: list[str]  # per code
    popularity: np.ndarray  # float per code, 0..1
    weights_state: dict  # CharWeights' fields
    chars: CharIndex

    def weights(self) -> CharWeights:
        w = CharWeights.__new__(CharWeights)
        w.__dict__.update(self.weights_state)
        return w


def stamp_for(cat: Catalogue, index) -> str:
    """What the stored names were computed from: the matcher code, the catalogue, and the index's
    own names in their order (rows must line up with the index's rows, whatever rebuilt it)."""
    listed = "\n".join(f"{c}\t{n}" for n, c in zip(index.names, index.codes, strict=True))
    rows = hashlib.sha1(listed.encode()).hexdigest()[:12]
    return f"{code_version()}-{cat.fingerprint}-{index.meta.size}-{index.meta.prep}-{rows}"


def build(cat: Catalogue, names: list[str], codes: list[str], stamp: str) -> NameTable:
    entries = {e.code: e for e in cat.suggestable_entries()}  # a disabled code is not matched against
    variants = learn_variants([list(e.names) for e in entries.values() if len(e.names) > 1])
    canon_of = Canon(variants)
    canon = [canon_of(n) for n in names]
    heads = measure_heads(canon)
    code_list = list(entries)
    pos = {c: i for i, c in enumerate(code_list)}
    top = max((e.count for e in entries.values()), default=1)
    weights = CharWeights(canon)
    return NameTable(
        stamp=stamp, variants=[(a, b) for a, b in variants], canon=canon, head=[heads[c] for c in canon],
        code_list=code_list, code_of=np.array([pos[c] for c in codes], dtype=np.int32),
        level2=[e.level2 for e in entries.values()],
        kind=[kind_of(e.name) or majority_kind(e.values) for e in entries.values()],
        popularity=np.array([math.log1p(e.count) / math.log1p(top) for e in entries.values()], dtype=np.float64),
        weights_state=dict(weights.__dict__), chars=CharIndex.build(canon))


def paths_for(index_path: Path) -> tuple[Path, Path]:
    base = str(index_path)[: -len(".faiss")] if str(index_path).endswith(".faiss") else str(index_path)
    return Path(base + ".names.npz"), Path(base + ".names.json")


def save(t: NameTable, index_path: Path) -> None:
    npz, js = paths_for(index_path)
    with atomic_path(npz) as tmp:
        with open(tmp, "wb") as fh:
            arrays: dict[str, Any] = {"code_of": t.code_of, "popularity": t.popularity, **t.chars.arrays()}
            np.savez(fh, **arrays)
    doc = {"stamp": t.stamp, "variants": t.variants, "canon": "\n".join(t.canon), "head": "\n".join(t.head),
           "codes": "\n".join(t.code_list), "level2": "\n".join(t.level2), "kind": "\n".join(t.kind),
           "weights": t.weights_state, "char_vocab": "\n".join(t.chars.vocab_list)}
    with atomic_path(js) as tmp:
        tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _lines(s: str, n: int | None = None) -> list[str]:
    """Strings stored one a line (none of them holds a line break: canonical spellings have no
    whitespace); `n` checks the count, so a damaged file is rebuilt rather than misaligned."""
    out = s.split("\n")
    if out == [""]:
        out = [] if n != 1 else [""]
    if n is not None and len(out) != n:
        raise ValueError(f"{len(out)} lines, expected {n}")
    return out


def load(index_path: Path, stamp: str) -> NameTable | None:
    """The stored table when its stamp matches, else None (missing, stale or unreadable)."""
    npz, js = paths_for(index_path)
    if not (npz.exists() and js.exists()):
        return None
    try:
        doc = json.loads(js.read_text(encoding="utf-8"))
        if doc.get("stamp") != stamp:
            return None
        arr = np.load(npz, allow_pickle=False)
        code_of = arr["code_of"]
        codes = _lines(doc["codes"])
        n = len(code_of)
        if len(arr["char_len"]) != n or (n and int(code_of.max()) >= len(codes)):
            raise ValueError("arrays disagree")
        chars = CharIndex(_lines(doc["char_vocab"]), arr["char_ptr"], arr["char_ids"], arr["char_len"])
        return NameTable(stamp=stamp, variants=[tuple(v) for v in doc["variants"]],
                         canon=_lines(doc["canon"], n), head=_lines(doc["head"], n), code_list=codes,
                         code_of=code_of, level2=_lines(doc["level2"], len(codes)),
                         kind=_lines(doc["kind"], len(codes)), popularity=arr["popularity"],
                         weights_state=doc["weights"], chars=chars)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _places(index_path: Path) -> list[Path]:
    """Where the table may be stored: beside the index, else (a read-only install) the user cache."""
    from .cache import user_cache

    return [index_path, user_cache() / "indexes" / index_path.name]


def load_or_build(cat: Catalogue, index, index_path: Path | None) -> NameTable:
    """The stored table for this catalogue and index, rebuilt (and stored, when it can be) if stale."""
    stamp = stamp_for(cat, index)
    places = _places(index_path) if index_path is not None else []
    for p in places:
        t = load(p, stamp)
        if t is not None:
            return t
    t = build(cat, list(index.names), list(index.codes), stamp)
    for p in places:
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            save(t, p)
            break
        except OSError:
            continue
    else:
        if places:
            print(f"indicode: cannot store prepared names beside {index_path}; they are prepared again at "
                  "each start", file=sys.stderr)
    return t


def _prepare(t: NameTable, weights: CharWeights, names: list[str] | None, fold, i: int):
    c = int(t.code_of[i])
    return name_info(t.canon[i], t.head[i], t.level2[c], t.kind[c], float(t.popularity[c]), weights,
                     scope_of(names[i]) if names is not None else Scope(), fold)


class PreparedInfo:
    """`features.name_info` of row i, computed when a query first needs it (LRU-cached, thread-safe:
    `functools.lru_cache` keeps its own lock; two threads may compute the same row once each)."""

    def __init__(self, table: NameTable, weights: CharWeights, size: int = 65536,
                 names: list[str] | None = None, fold=lambda t: t):
        """`names`: the spellings as written (the scope a name lists in brackets, `text.scope_of`);
        `fold`: the catalogue's `text.Canon`, which the scope's parts take as names do."""
        self.n = len(table.canon)
        # the cached function holds the table, not this object: no reference cycle, so a replaced
        # Linker's prepared names are freed by reference counting (the linker freezes its caches
        # out of the cyclic collector's sight: a cycle there would be kept for good)
        self._get = functools.lru_cache(maxsize=size)(functools.partial(_prepare, table, weights, names, fold))

    def made(self) -> int:
        """How many rows have been prepared so far (cache misses)."""
        return self._get.cache_info().misses

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        return self._get(i)

