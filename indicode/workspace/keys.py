"""A decision's subject: the text as the matcher cleans it, its class, and the cleaning's version.

Keyed by `indicode.matcher.text.clean` (what the linker applies a decision by), so `办事群众满意度` and
`办事群众满意度（%）` are one subject and a disagreement between them is a conflict. Texts that are only near
each other never share a key; they share evidence in the matcher (`matcher/learned.py`).
"""
from __future__ import annotations

from ..matcher.text import CLEAN_VERSION, clean
from .records import Subject


def subject_of(text: str, level2: str) -> Subject:
    return Subject(clean(text), (level2 or "").strip(), CLEAN_VERSION)
