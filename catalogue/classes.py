"""The indicator class tree of DOMAIN.md: level-1 digit + level-2 digits, and reading them from text.

Documents write classes as `1-产出指标`, `11-数量指标`, `*数量指标`, `社会效益指标`, `24-` or leave them out;
everything is normalised to the digits so that the matcher can compare a document's class with a
code's own digits.
"""
from __future__ import annotations

import re

LEVEL1 = {"1": "产出指标", "2": "效益指标", "3": "满意度指标", "4": "成本指标"}
LEVEL2 = {
    "11": "数量指标", "12": "质量指标", "13": "时效指标", "14": "成本指标",
    "21": "经济效益", "22": "社会效益", "23": "生态效益", "24": "可持续影响",
    "31": "服务对象满意度", "32": "其他满意度",
    "41": "经济成本指标", "42": "社会成本", "43": "生态环境成本",
}

# Bare level-2 words (suffixes like 指标 stripped) mapped to digits. 成本 alone is ambiguous between 14
# (older forms, under 产出) and 41 (newer forms); the level-1 column decides, 14 by default.
_L2_WORDS = {
    "数量": "11", "质量": "12", "时效": "13", "成本": "14",
    "经济效益": "21", "社会效益": "22", "生态效益": "23", "可持续影响": "24",
    "服务对象满意度": "31", "其他满意度": "32", "满意度": "31",
    "经济成本": "41", "社会成本": "42", "生态环境成本": "43", "生态成本": "43",
}
_L1_WORDS = {"产出": "1", "效益": "2", "满意度": "3", "成本": "4"}

_DIGITS_RE = re.compile(r"^\s*\*?\s*(\d{1,2})\s*[-－—]")


def _bare(text: str) -> str:
    t = re.sub(r"[\s*＊]", "", text or "")
    t = re.sub(r"^\d{1,2}[-－—]", "", t)
    return re.sub(r"指标$", "", t)


def level1_of(text: str) -> str:
    """Level-1 digit from a cell like `1-产出指标` or `产出指标`; '' when it names no level-1 class."""
    m = _DIGITS_RE.match(text or "")
    if m and len(m.group(1)) == 1 and m.group(1) in LEVEL1:
        return m.group(1)
    if (text or "").strip() in LEVEL1:
        return text.strip()
    return _L1_WORDS.get(_bare(text), "")


def level2_of(text: str, level1: str = "") -> str:
    """Level-2 digits from `11-数量指标`, `*数量指标`, `社会效益指标`...; '' when none."""
    m = _DIGITS_RE.match(text or "")
    if m and len(m.group(1)) == 2 and m.group(1) in LEVEL2:
        return m.group(1)
    if (text or "").strip() in LEVEL2:  # bare digits, as a class column of a spreadsheet holds them
        return text.strip()
    bare = _bare(text)
    if bare == "成本" and level1 == "4":
        return "41"
    return _L2_WORDS.get(bare, "")


def filed_classes(level1_text: str, level2_text: str) -> tuple[str, str]:
    """The classes a row was filed under, as its two cells say them (no inference): what the
    catalogue records per occurrence and what a code's own digits are checked against."""
    l1 = level1_of(level1_text)
    return l1, level2_of(level2_text, l1)


def is_class(digits: str) -> bool:
    """Whether digits name a class of the tree: a level 1 (1-4) or a level 2 (11, 22, 31 …)."""
    return digits in LEVEL1 or digits in LEVEL2


def classes_of_code(code: str) -> tuple[str, str]:
    """(level1, level2) read off a 9-digit code: `112000272` -> ('1', '12')."""
    if len(code) >= 3 and code[:3].isdigit():
        return code[0], code[1:3]
    return "", ""


def resolve(level1_text: str, level2_text: str) -> tuple[str, str]:
    """Normalise a document's two class cells to digits.

    The level-2 class tells the level-1 class (its first digit): when the document's level-1 cell is
    empty, holds a level-2 name (shifted columns) or contradicts the level-2 class, level 2 wins,
    since it is the more specific statement.
    """
    l1 = level1_of(level1_text)
    l2 = level2_of(level2_text, l1)
    if not l2:
        # a level-2 name sitting in the level-1 column
        l2 = level2_of(level1_text, "")
        if l2:
            l1 = ""
    if l2 and l1 != l2[0]:
        l1 = l2[0]
    return l1, l2
