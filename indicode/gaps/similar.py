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
from difflib import SequenceMatcher

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from ..matcher.text import clean, kind_of, kinds_agree

ADVERSE_END = re.compile(r"(故障|差错|错误|出错|投诉|事故|失败|流失|不合格|返工|违约|违规|失误|延误|逾期|超支|偏差)"
                         r"(发生|事件)?(率|数|数量|量|次数|件数|起数|宗数)$")
SHARED_RUN = 2  # the least run of characters two texts share that is not part of what they name
# words that name no object of their own: of measure or grammar, and of place, scope or population
FUNCTION_RE = re.compile(r"率|度|性|量|数|的|及|和|与|情况|是否|工作|开展|完成"
                         r"|全区|全市|全省|辖区内|辖区|本级|居民|生活|日常|年度|全年")
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


def _unshared(a: str, b: str) -> tuple[str, str]:
    """What each text names that the other does not: past their common beginning and ending, less every
    run of two or more characters they share in between and the words that name no object (of measure,
    grammar, place, scope or population: 率, 的, 全区, 居民, 生活 …): `租赁设备数` / `购买租赁系统数`: 设备 and
    购买系统; `保障工作正常运行` / `工作正常运行率`: 保障 and nothing; `生活垃圾分类知晓度` / `居民垃圾分类知晓率`:
    nothing either."""
    n = _suffix(a, b)
    a, b = a[: len(a) - n], b[: len(b) - n]
    m = _prefix(a, b)
    a, b = a[m:], b[m:]
    ra, rb, i, j = [], [], 0, 0
    for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        if block.size >= SHARED_RUN or block.size == 0:  # (the last block is empty: the ends)
            ra.append(a[i:block.a])
            rb.append(b[j:block.b])
            i, j = block.a + block.size, block.b + block.size
    return FUNCTION_RE.sub("", "".join(ra)), FUNCTION_RE.sub("", "".join(rb))


def objects_differ(a: str, b: str) -> bool:
    """The two canonical texts each name something the other lacks (`_unshared`), with less than a third
    of the shorter one's characters in common: two different objects (`设备正常运行率` / `系统正常运行率`,
    `机房重要信息设备故障次数` / `重要应用系统故障次数`). One text inside the other (`垃圾分类知晓率` /
    `居民垃圾分类知晓率`) is the same thing, more precisely written."""
    ra, rb = _unshared(a, b)
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
