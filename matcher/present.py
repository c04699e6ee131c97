"""The one presenter of a suggestion: the `why` of a candidate in words, the dict for JSON, class
labels. The CLI, the HTTP API, the reconcile router, the review workbook and bulk records all use
it, so a suggestion reads the same everywhere (`results.py` holds only the data)."""
from __future__ import annotations

import re
from dataclasses import asdict

from ..catalogue.classes import LEVEL1, LEVEL2
from ..i18n import _
from .flags import class_differs
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
    bits = []
    if c.generic:  # offered for want of a closer code: the first thing a reviewer reads
        bits.append(_("generic code: {measure} (no closer code; never accepted automatically)")
                    .format(measure=c.generic))
    bits += [f"语义相似 {f.get('vec', 0):.2f}", f"字面相似 {f.get('ratio', 0):.2f}",
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
        bits.insert(0, f"类别不同（编码为 {c.level2}）")  # where the reviewer looks first
    if f.get("kind_conflict"):
        bits.append("计量类型不同")
    if f.get("learned_same"):
        bits.append(_("a reviewer chose this code for a near-identical text"))
    if c.matched != c.name:
        bits.append(f"经别名「{c.matched}」")
    return "；".join(bits)


def decision_fields(s: Suggestion) -> dict:
    """The decision of a suggestion as record fields: decision, code, name, score (4 places), reason,
    new_code_class. Shared by the JSON dict and the bulk records (`bulk._matched`)."""
    top = s.top
    return {"decision": s.decision, "code": s.code, "name": top.name if top and s.code else "",
            "score": round(top.score, 4) if top else 0.0, "reason": s.reason, "new_code_class": s.new_code_class}


def check_items(s: Suggestion) -> list[str]:
    """What a reviewer should look at on this suggestion, as stable English phrases (the records'
    `check` column; `check_words` puts them in words): the decided code's namesakes, a generic code
    offered for want of a closer one, a class inferred from the text, a code reviewers took for a
    text written almost the same (reviewed, not left as no match)."""
    items = []
    if s.namesakes and s.code:
        items.append("namesake " + " ".join(s.namesakes))
    if s.top and s.top.generic and s.code:
        items.append(f"generic code for {s.top.generic}")
    if s.inferred_class:
        items.append(f"class inferred {s.inferred_class}")
    if not s.code and s.top and s.top.features.get("learned_nil_same"):
        items.append("near text no code")
    if s.reason == "similar" and s.top:
        items.append(f"similar text took this code {s.top.features.get('learned_sim', 0.0):.2f}")
    return items


_ITEM = re.compile(r"(namesake|generic code for|class inferred|filed under) (.+)")


def check_words(item: str) -> str:
    """One of `check_items` in words, in the language in force (the workbook is written in Chinese);
    anything else as it is."""
    if item.strip() == "near text no code":
        return _("a reviewer found no code for a near-identical text")
    took = re.fullmatch(r"similar text took this code (\S+)", item.strip())
    if took:
        return _("a reviewer chose this code for a text written almost the same (similarity {sim}); "
                 "the catalogue alone scores it below the review line").format(sim=took.group(1))
    cut = re.fullmatch(r"name cut to its first (\d+) characters for matching", item.strip())
    if cut:
        return _("name cut to its first {n} characters for matching").format(n=cut.group(1))
    m = _ITEM.fullmatch(item.strip())
    if not m:
        return item
    kind, rest = m.groups()
    if kind == "namesake":
        return _("same name as code {codes}").format(codes="、".join(rest.split()))
    if kind == "generic code for":
        return _("generic code: {measure}").format(measure=rest)
    if kind == "class inferred":
        return _("class inferred {klass}").format(klass=rest)
    filed, code = rest.split(", code ")
    return _("class differs: filed under {filed}, code in {code}").format(filed=filed, code=code)


def checks(s: Suggestion) -> list[str]:
    """`check_items` in words, with a class difference between the decided code and the row first
    (the page shows these on the suggestion's card)."""
    items = check_items(s)
    top = s.top
    filed = class_differs(s.level2.strip(), top.level2) if top and s.code else ""
    if top and filed:
        items.insert(0, f"filed under {filed}, code {top.level2}")
    return [check_words(i) for i in items]


def candidate_dict(c: Candidate) -> dict:
    return {"code": c.code, "name": c.name, "matched": c.matched, "class": c.level2, "score": round(c.score, 4),
            "why": why(c), "features": {k: round(v, 4) for k, v in c.features.items()}}


def suggestion_dict(s: Suggestion) -> dict:
    """A suggestion as JSON (`indicode suggest --json`, `/api/suggest`)."""
    return {"text": s.text, "class": s.level2, "value": s.value, **decision_fields(s),
            "candidates": [candidate_dict(c) for c in s.candidates], "cut": s.cut, "check": checks(s),
            "inferred_class": s.inferred_class, "proposal": asdict(s.proposal) if s.proposal else None}
