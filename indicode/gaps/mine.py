"""Gap mining: the indicators no code fits, grouped across documents into one group per thing measured.

Each distinct text (as cleaned, with its class and kind of measure) is an item; items are merged by
average linkage over `similar.scores` (the mean similarity of two groups at least `LINK`, and no pair
of their members below `FLOOR`, which every pair that clashes — a rate and a count, two different
objects — is), never across two different classes. A group names its most representative spelling
(the member most similar to the others, weighted by rows), its class (the members' most used), the
unit its values are written in, how many rows, projects and documents use it, example values and
every member text; groups are ranked by rows, then documents.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..catalogue.textio import fold
from ..matcher.text import clean, kind_of
from .similar import prepare, scores

LINK = 0.72  # the least mean similarity of two groups merged
FLOOR = 0.55  # the least similarity of any two members of a group
EXAMPLES = 3


@dataclass(frozen=True)
class GapRow:
    """One indicator row no code fits, where it was written."""

    text: str
    level2: str = ""
    value: str = ""
    project: str = ""
    document: str = ""
    office: str = ""  # 申请单位 / 用款单位, when the document says


@dataclass
class Group:
    """One thing measured that the catalogue lacks."""

    name: str  # the canonical (most representative) spelling
    level2: str
    unit: str
    rows: int
    projects: int
    documents: int
    examples: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)  # every member text, most used first
    offices: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # the kinds of measure of its members (at most one known)
    at: list[int] = field(default_factory=list, repr=False)  # its rows: indices into the rows mined

    @property
    def level1(self) -> str:
        return self.level2[:1]


_UNITS = ("%|‰|万元|亿元|元|人次|平方米|公里|小时|工作日|天|日|次|个|件|人|场|份|家"
          "|套|条|册|辆|台|本|篇|期|项|户|所|批|名|座|间|张|页|处|部|类|幅|亩|年|月")
_UNIT_RE = re.compile(f"({_UNITS})")


def unit_of(value: str) -> str:
    """The unit a target value is written in (`≥95%` %, `>28000件` 件, `2024年12月31日前` 年); '' when none."""
    v = fold(value or "")
    if not re.search(r"\d", v):
        return ""
    m = _UNIT_RE.search(v)
    return m.group(1) if m else ""


@dataclass
class _Item:
    text: str
    level2: str
    kind: str
    rows: list[GapRow] = field(default_factory=list)
    at: list[int] = field(default_factory=list)


def _items(rows: Sequence[GapRow]) -> list[_Item]:
    by: dict[tuple[str, str, str], _Item] = {}
    for i, r in enumerate(rows):
        key = (clean(r.text), r.level2, kind_of(r.text, r.value))
        if not key[0]:
            continue
        it = by.setdefault(key, _Item(r.text, r.level2, key[2]))
        it.rows.append(r)
        it.at.append(i)
    return list(by.values())


def _classes_meet(a: set[str], b: set[str]) -> bool:
    """Known classes never differ inside a group (a text without a class joins either)."""
    ka, kb = a - {""}, b - {""}
    return not ka or not kb or ka == kb


def cluster(sim: np.ndarray, classes: Sequence[str], link: float = LINK, floor: float = FLOOR) -> list[list[int]]:
    """Average-linkage groups of items (their similarity matrix and classes) under the constraints."""
    n = len(classes)
    group = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    cls: dict[int, set[str]] = {i: {classes[i]} for i in range(n)}
    iu, ju = np.triu_indices(n, 1)
    cand = sim[iu, ju] >= link
    pairs = sorted(zip(sim[iu, ju][cand], iu[cand], ju[cand], strict=True), key=lambda t: -t[0])
    for _s, i, j in pairs:
        a, b = group[i], group[j]
        if a == b or not _classes_meet(cls[a], cls[b]):
            continue
        block = sim[np.ix_(members[a], members[b])]
        if block.min() < floor or block.mean() < link:
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        for m in members[b]:
            group[m] = a
        members[a] += members.pop(b)
        cls[a] |= cls.pop(b)
    return list(members.values())


def mine(rows: Sequence[GapRow], canon, encode, link: float = LINK, floor: float = FLOOR) -> list[Group]:
    """The groups of `rows`, ranked by use. `canon`, `encode`: the matcher's folding and query encoder
    (`Linker.canon`, `Linker.encode_queries`)."""
    items = _items(rows)
    if not items:
        return []
    texts = prepare([it.text for it in items], [it.rows[0].value for it in items], canon)
    vecs = np.asarray(encode([it.text for it in items]))
    sim = scores(texts, vecs, texts, vecs, floor=floor)
    out = [_group([items[i] for i in idx], sim[np.ix_(idx, idx)]) for idx in cluster(sim, [it.level2 for it in items],
                                                                                      link, floor)]
    return sorted(out, key=lambda g: (-g.rows, -g.documents, g.name))


def _group(items: list[_Item], sim: np.ndarray) -> Group:
    weight = np.array([len(it.rows) for it in items], dtype=np.float32)
    sym = (sim + sim.T) / 2  # a pair's two scores can differ in the last bits (BLAS order differs by CPU)
    central = np.round((sym * weight[None, :]).sum(axis=1) - np.diag(sym) * weight, 4)  # to the others, by rows
    best = min(range(len(items)), key=lambda i: (-central[i], -len(items[i].rows), len(items[i].text), items[i].text))
    rows = [r for it in items for r in it.rows]
    classes = Counter(r.level2 for r in rows if r.level2)
    units = Counter(u for r in rows if (u := unit_of(r.value)))
    values = list(dict.fromkeys(r.value.strip() for r in rows if r.value.strip()))
    by_use = sorted(items, key=lambda it: (-len(it.rows), it.text))
    return Group(
        name=items[best].text.strip(), level2=classes.most_common(1)[0][0] if classes else "",
        unit=units.most_common(1)[0][0] if units else "", rows=len(rows),
        projects=len({(r.document, r.project) for r in rows if r.project}) or len({r.document for r in rows}),
        documents=len({r.document for r in rows}), examples=values[:EXAMPLES],
        members=list(dict.fromkeys(it.text.strip() for it in by_use)),
        offices=sorted({r.office for r in rows if r.office}), kinds=sorted({it.kind for it in items}),
        at=sorted(i for it in items for i in it.at))


def identical_groups(rows: Sequence[GapRow]) -> list[list[int]]:
    """The baseline: rows grouped by identical cleaned text (and class); indices into `rows`."""
    by: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(rows):
        by.setdefault((clean(r.text), r.level2), []).append(i)
    return list(by.values())
