"""The one presenter of a suggestion: the `why` of a candidate in words, the dict for JSON, class
labels. The CLI, the HTTP API, the reconcile router, the review workbook and bulk records all use
it, so a suggestion reads the same everywhere (`results.py` holds only the data)."""
from __future__ import annotations

from dataclasses import asdict

from ..catalogue.classes import LEVEL1, LEVEL2
from .results import Candidate, Suggestion


def class_label(level2: str) -> str:
    """`31-服务对象满意度` for class digits; anything else as given."""
    if level2 in LEVEL2:
        return f"{level2}-{LEVEL2[level2]}"
    if level2 in LEVEL1:
        return f"{level2}-{LEVEL1[level2]}"
    return level2


def why(c: Candidate) -> str:
    """The component scores in words (Chinese, for the people who use the tool)."""
    f = c.features
    bits = [f"语义相似 {f.get('vec', 0):.2f}", f"字面相似 {f.get('ratio', 0):.2f}",
            f"覆盖编码名称 {f.get('cov_name', 0):.0%}"]
    if f.get("head_match"):
        bits.append("计量词相同")
    if f.get("head_generic"):
        bits.append("通用编码")
    if f.get("object_partial"):
        bits.append("对象仅部分相同（不自动采用）")
    if f.get("object_none"):
        bits.append("编码所指对象未出现（不自动采用）")
    if f.get("class_same"):
        bits.append(f"类别 {c.level2} 一致")
    elif f.get("class_diff") or f.get("class_level1"):
        bits.append(f"类别不同（编码为 {c.level2}）")
    if f.get("kind_conflict"):
        bits.append("计量类型不同")
    if c.matched != c.name:
        bits.append(f"经别名「{c.matched}」")
    return "；".join(bits)


def decision_fields(s: Suggestion) -> dict:
    """The decision of a suggestion as record fields: decision, code, name, score (4 places), reason,
    new_code_class. Shared by the JSON dict and the bulk records (`bulk._matched`)."""
    top = s.top
    return {"decision": s.decision, "code": s.code, "name": top.name if top and s.code else "",
            "score": round(top.score, 4) if top else 0.0, "reason": s.reason, "new_code_class": s.new_code_class}


def candidate_dict(c: Candidate) -> dict:
    return {"code": c.code, "name": c.name, "matched": c.matched, "class": c.level2, "score": round(c.score, 4),
            "why": why(c), "features": {k: round(v, 4) for k, v in c.features.items()}}


def suggestion_dict(s: Suggestion) -> dict:
    """A suggestion as JSON (`indicode suggest --json`, `/api/suggest`)."""
    return {"text": s.text, "class": s.level2, "value": s.value, **decision_fields(s),
            "candidates": [candidate_dict(c) for c in s.candidates], "cut": s.cut,
            "proposal": asdict(s.proposal) if s.proposal else None}
