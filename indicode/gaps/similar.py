"""When two indicator texts measure the same thing: one similarity for gap mining and for answering a
text with a proposed code.

The score mixes the e5 vector cosine of the texts (as the matcher encodes queries) and the character
ratio of their canonical forms (the matcher's synonym folding). Two texts are never the same thing
when their kinds of measure disagree (a rate is not a count: `matcher.text.kinds_agree`), when one
counts what went wrong and the other what went right (`设备日常运行故障率` / `设备完好达标率`), or when, past
the beginning and the measure they share, they name different objects (`设备正常运行率` / `系统正常运行率`:
after the shared `正常运行率`, 设备 and 系统 have no character in common).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from ..matcher.text import clean, kind_of, kinds_agree

ADVERSE_END = re.compile(r"(故障|差错|错误|出错|投诉|事故|失败|流失|不合格|返工|违约|违规|失误|延误|逾期|超支|偏差)"
                         r"(发生|事件)?(率|数|数量|量|次数|件数|起数|宗数)$")
VEC_WEIGHT = 0.5  # the rest is the character ratio
OBJECT_OVERLAP = 1 / 3  # the least share of the shorter object's characters the other must have


@dataclass(frozen=True)
class Text:
    """An indicator text as compared: as written, its canonical form, its kind of measure."""

    text: str
    canon: str
    kind: str


def prepare(texts: Sequence[str], values: Sequence[str], canon) -> list[Text]:
    """`canon`: the matcher's folding (`Linker.canon`)."""
    return [Text(t, canon(t) or t, kind_of(t, v)) for t, v in zip(texts, values, strict=True)]


def _suffix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def objects_differ(a: str, b: str) -> bool:
    """Past their common beginning (`深汕特别合作区…`) and ending (`…正常运行率`), the two canonical texts
    name objects without enough in common."""
    n = _suffix(a, b)
    a, b = a[: len(a) - n], b[: len(b) - n]
    m = _prefix(a, b)
    ra, rb = a[m:], b[m:]
    if not ra or not rb:
        return False
    short, long_ = (ra, rb) if len(ra) <= len(rb) else (rb, ra)
    return sum(ch in long_ for ch in short) / len(short) < OBJECT_OVERLAP


def adverse(t: Text) -> bool:
    """It counts what went wrong (`设备日常运行故障率`, `重大安全事故发生数`, `投诉率`), not what went right
    (`设备完好达标率`, `故障解决率`): by how the text ends, as written or folded."""
    return bool(ADVERSE_END.search(clean(t.text)) or ADVERSE_END.search(t.canon))


def clash(a: Text, b: Text) -> bool:
    """Never the same thing: different kinds of measure, a measure of what went wrong with one of what
    went right (a failure rate is not an availability rate), or different objects."""
    return kinds_agree(a.kind, b.kind) < 0 or adverse(a) != adverse(b) or objects_differ(a.canon, b.canon)


def unit_vectors(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)


def scores(a: Sequence[Text], va: np.ndarray, b: Sequence[Text], vb: np.ndarray, floor: float = 0.5) -> np.ndarray:
    """The similarity of every text of `a` with every text of `b` (0..1), 0 where they clash (looked
    at only from `floor` up: a pair below it is never the same thing anyway)."""
    cos = np.clip(unit_vectors(va) @ unit_vectors(vb).T, 0, 1)
    chars = cdist([t.canon for t in a], [t.canon for t in b], scorer=fuzz.ratio, dtype=np.float32) / 100
    s = VEC_WEIGHT * cos + (1 - VEC_WEIGHT) * chars
    for i, j in zip(*np.nonzero(s >= floor), strict=True):
        if clash(a[i], b[j]):
            s[i, j] = 0.0
    return s
