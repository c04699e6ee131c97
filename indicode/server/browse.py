"""Browsing the catalogue (issue 21 §5): the class tree with counts, and what a code's page tells beyond
its entry — the documents it was seen in by readable names, the texts reviewers decided for it, the
proposals near it, and its anomalies in words.

    GET /api/classes      一级 → 二级 with the number of codes (and of pending proposals) in each

A document is named by what it says of itself: the bundled seeds by their title line (…绩效目标) or, when
the title names no office, the office most of its rows name (用款单位 / 申请单位); any other source by its
file name.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from fastapi import APIRouter
from rapidfuzz import fuzz

from ..catalogue.classes import LEVEL1, LEVEL2
from ..catalogue.paths import BUNDLED_SEEDS
from ..review_sheet import ANOMALY_WORDS
from ..workspace.proposals import APPROVED, PENDING, label
from .service import Service

NEAR = 5  # proposals listed near a code
TITLE_LINES = 6  # lines of a seed looked at for its title


@lru_cache(maxsize=256)
def document_name(source: str) -> str:
    """A readable name for a source file of the catalogue (its title, or its office); the file name
    when it is no bundled seed or says neither."""
    path = BUNDLED_SEEDS / source
    if "/" in source or "\\" in source or not path.is_file():
        return source
    lines = [x.strip() for x in path.read_text(encoding="utf-8", errors="replace").splitlines() if x.strip()]
    for line in lines[:TITLE_LINES]:
        if "绩效目标" in line and not line.startswith(("项目支出", "二级项目")) and len(line) <= 80:
            return line
    from ..catalogue.readers.detect import read_document

    offices = Counter(re.sub(r"^\d+-", "", r.unit).strip() for r in read_document(path).rows if r.unit)
    return f"{offices.most_common(1)[0][0]} 绩效目标申报表" if offices else source


def documents_of(entry) -> list[dict]:
    """The documents a code was seen in: each source by its readable name, with the projects there."""
    out = []
    for s in entry.sources:
        projects = [p.split(": ", 1)[1] for p in entry.projects if p.startswith(s + ": ")]
        out.append({"source": s, "name": document_name(s), "projects": projects})
    return out


def anomaly_words(a) -> str:
    """An anomaly said in Chinese, its detail read (the catalogue stores it in English)."""
    d = a.detail
    m = re.match(r"code digits (\S+), filed under (\S+) \((\d+)x\)", d)
    if a.kind == "filed-class-mismatch" and m:
        return f"归类不一致：编码的类别位是 {m.group(1)}，申报表把它归入 {m.group(2)}（{m.group(3)} 次）"
    m = re.match(r"(\d+) digits, expected 9(?: \(seen (.*)\))?", d)
    if a.kind == "malformed-code" and m:
        return f"编码格式错误：{m.group(1)} 位，应为 9 位" + (f"（见 {m.group(2)}）" if m.group(2) else "")
    m = re.match(r"level-1 digit (\d) but level-2 digits (\d+)", d)
    if a.kind == "code-digits-disagree" and m:
        return f"编码类别位自相矛盾：一级位是 {m.group(1)}，二级位却是 {m.group(2)}"
    if a.kind == "one-code-many-names" and d.startswith("spellings: "):
        names = [re.sub(r" \((\d+)x\)$", r"（\1 次）", s) for s in d.removeprefix("spellings: ").split(" | ")]
        return "一码多名：同一编码写作 " + "、".join(names)
    if a.kind == "one-name-many-codes" and d.startswith("codes: "):
        return f"一名多码：「{a.name}」对应编码 " + "、".join(d.removeprefix("codes: ").split(", "))
    return f"{ANOMALY_WORDS.get(a.kind, a.kind)}：{d}"


def decided_for(service: Service, code: str) -> list[dict]:
    """The texts reviewers decided for a code (the decisions in force that point to it)."""
    ws = service.workspace
    if ws is None:
        return []
    return [{"text": e.text, "level2": e.subject.level2, "reviewer": e.reviewer, "at": e.at, "comment": e.comment,
             "id": e.id} for e in ws.in_force() if e.code == code]


def proposals_near(service: Service, entry) -> list[dict]:
    """Pending (or approved, not yet catalogued) proposals of the code's class, the closest names first."""
    ws = service.workspace
    if ws is None:
        return []
    near = [p for p in ws.proposals() if p.status in (PENDING, APPROVED) and p.level2 == entry.level2]
    near.sort(key=lambda p: -fuzz.ratio(p.name, entry.name))
    return [{"code": p.code, "name": p.name, "status": p.status, "label": label(p),
             "similarity": round(fuzz.ratio(p.name, entry.name) / 100, 2)} for p in near[:NEAR]]


def about(service: Service, entry, anomalies) -> dict:
    """What a code's page adds to its entry."""
    return {"documents": documents_of(entry), "decided": decided_for(service, entry.code),
            "proposals_near": proposals_near(service, entry),
            "anomalies": [{"kind": a.kind, "code": a.code, "name": a.name, "detail": a.detail,
                           "words": anomaly_words(a)} for a in anomalies]}


def router(service: Service) -> APIRouter:
    api = APIRouter()

    @api.get("/api/classes", summary="The class tree: each level-1 class with its level-2 classes, the number "
             "of catalogue codes in each and of the workspace's pending proposals")
    def classes():
        cat = service.linker().cat
        codes = Counter(e.level2 for e in cat.entries.values())
        ws = service.workspace
        proposed = Counter(p.level2 for p in ws.proposals() if p.status == PENDING) if ws is not None else Counter()
        tree, classed = [], 0
        for l1, name in LEVEL1.items():
            under = [l2 for l2 in LEVEL2 if l2.startswith(l1)]
            kids = [{"level2": l2, "name": LEVEL2[l2], "prefix": l1 + l2, "codes": codes.get(l2, 0),
                     "proposed": proposed.get(l2, 0)} for l2 in under]
            n = sum(codes.get(l2, 0) for l2 in under)
            classed += n
            tree.append({"level1": l1, "name": name, "prefix": l1, "codes": n,
                         "proposed": sum(proposed.get(l2, 0) for l2 in under), "classes": kids})
        return {"codes": len(cat.entries), "unclassed": len(cat.entries) - classed, "tree": tree}

    return api
