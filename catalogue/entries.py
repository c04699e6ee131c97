"""The catalogue's entries, derived from coded indicator rows, keeping every oddity visible.

One entry per written code: its canonical name (the most frequent spelling; ties go to the spelling
seen first), the other spellings as aliases, its classes read off the code digits, the classes it was
filed under, where it was seen and example target values. Anomalies are listed, not resolved:
malformed codes, digits that disagree with each other or with the filing columns, one code with several
names, one name with several codes.

A row of the provincial indicator library (`library.py`) is an occurrence too, one that says whether
the code is in use (`enabled` is True or False; None for a document, which says nothing of it) and
may carry the unit of measure, the explanation and the scoring standard. The library is the
authority where it speaks: a code it holds takes its canonical name from the library's spellings, its
unit, explanation and standard from the library's rows, and is disabled when a library row disables it.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from .classes import LEVEL2, classes_of_code, filed_classes
from .records import IndicatorRow

CODE_RE = re.compile(r"^\d{9}$")


@dataclass
class Occurrence:
    """One coded row as a document wrote it."""

    code: str
    name: str
    source: str
    line: int
    unit: str = ""
    project: str = ""
    filed_level1: str = ""  # the class digits of the columns it was filed under
    filed_level2: str = ""
    value: str = ""
    # what a library row says besides the name (documents leave these empty and `enabled` None)
    measure_unit: str = ""  # 计量单位
    explanation: str = ""  # 指标解释
    standard: str = ""  # 评分标准
    enabled: bool | None = None  # 是否启用: None when the source says nothing (a document)

    @property
    def from_library(self) -> bool:
        return self.enabled is not None


@dataclass
class Entry:
    code: str
    name: str
    level1: str
    level2: str
    valid: bool
    names: dict[str, int] = field(default_factory=dict)  # spelling -> occurrences, canonical first
    filed: dict[str, int] = field(default_factory=dict)  # "l1/l2" filed under -> occurrences
    count: int = 0
    sources: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    measure_unit: str = ""  # 计量单位, from the library
    explanation: str = ""  # 指标解释, from the library (or a document that explains it)
    standard: str = ""  # 评分标准, from the library
    enabled: bool = True  # False: a library disables it (kept and shown, never suggested)

    @property
    def aliases(self) -> list[str]:
        return [n for n in self.names if n != self.name]


@dataclass
class Anomaly:
    # malformed-code | code-digits-disagree | filed-class-mismatch | one-code-many-names | one-name-many-codes
    kind: str
    code: str
    name: str
    detail: str


def occurrences_from_rows(rows: list[IndicatorRow]) -> list[Occurrence]:
    out = []
    for r in rows:
        if not r.code:
            continue
        f1, f2 = filed_classes(r.level1_text, r.level2_text)
        out.append(Occurrence(
            code=r.code, name=r.name, source=r.source, line=r.line, unit=r.unit, project=r.project,
            filed_level1=f1, filed_level2=f2, value=r.value, explanation=r.explanation,
        ))
    return out


def _by_frequency(names: list[str]) -> list[str]:
    """Distinct spellings, the most frequent first; ties go to the one seen first."""
    counts = Counter(names)
    first_seen = {n: i for i, n in reversed(list(enumerate(names)))}
    return sorted(counts, key=lambda n: (-counts[n], first_seen[n]))


def _first(texts: Iterable[str]) -> str:
    return next((t for t in texts if t), "")


def build_entries(occs: list[Occurrence]) -> tuple[list[Entry], list[Anomaly]]:
    """Entries sorted by code, and the anomalies, from every occurrence (order-independent)."""
    occs = sorted(occs, key=lambda o: (o.code, o.source, o.line, o.name))
    by_code: dict[str, list[Occurrence]] = defaultdict(list)
    for o in occs:
        by_code[o.code].append(o)
    entries: list[Entry] = []
    anomalies: list[Anomaly] = []
    for code, group in sorted(by_code.items()):
        library = [o for o in group if o.from_library]
        ordered = _by_frequency([o.name for o in group])
        if library:  # the library's own spelling is the canonical name
            canonical = _by_frequency([o.name for o in library])[0]
            ordered = [canonical] + [n for n in ordered if n != canonical]
        spellings = Counter(o.name for o in group)
        l1, l2 = classes_of_code(code)
        e = Entry(code=code, name=ordered[0], level1=l1, level2=l2, valid=bool(CODE_RE.match(code)),
                  names={n: spellings[n] for n in ordered}, count=len(group))
        e.measure_unit = _first(o.measure_unit for o in library)
        e.explanation = _first(o.explanation for o in library) or _first(o.explanation for o in group)
        e.standard = _first(o.standard for o in library)
        e.enabled = all(o.enabled for o in library)  # a code any library disables is disabled
        filed = Counter(f"{o.filed_level1}/{o.filed_level2}" for o in group)
        e.filed = dict(sorted(filed.items(), key=lambda kv: (-kv[1], kv[0])))
        e.sources = sorted({o.source for o in group})
        e.projects = sorted({f"{o.source}: {o.project}" for o in group if o.project})
        e.values = list(dict.fromkeys(o.value for o in group if o.value))[:8]
        entries.append(e)
        if not e.valid:
            anomalies.append(Anomaly("malformed-code", code, e.name,
                                     f"{len(code)} digits, expected 9 (seen {group[0].source}:{group[0].line})"))
        elif l2 not in LEVEL2 or l2[0] != l1:
            anomalies.append(Anomaly("code-digits-disagree", code, e.name,
                                     f"level-1 digit {l1} but level-2 digits {l2}"))
        for key, n in e.filed.items():
            f1, f2 = key.split("/")
            if (f1 and f1 != l1) or (f2 and f2 != l2):
                anomalies.append(Anomaly("filed-class-mismatch", code, e.name,
                                         f"code digits {l1}/{l2}, filed under {f1 or '?'}/{f2 or '?'} ({n}x)"))
        if len(e.names) > 1:
            anomalies.append(Anomaly("one-code-many-names", code, e.name,
                                     "spellings: " + " | ".join(f"{n} ({c}x)" for n, c in e.names.items())))
    by_name: dict[str, set[str]] = defaultdict(set)
    for o in occs:
        by_name[o.name].add(o.code)
    for name, codes in sorted(by_name.items()):
        if len(codes) > 1:
            for code in sorted(codes):
                anomalies.append(Anomaly("one-name-many-codes", code, name, "codes: " + ", ".join(sorted(codes))))
    return entries, anomalies
