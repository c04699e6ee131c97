"""The review loop: read a reviewed file and turn its reviewer column into learned links.

A reviewed file is a normalize output (`indicator`, `class`, `code`, `reviewer_code` columns) or any
table with a name, class and decided-code column (e.g. labelled links with a `gold` column). In the
reviewer column: a code (or `CODE-名称`) corrects or confirms, `ok` confirms the suggested code,
`NIL` says no code fits; an empty cell is no decision.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .catalogue.readers.detect import load
from .catalogue.readers.zhuhai import split_code
from .catalogue.records import InputError
from .catalogue.store import NIL, Catalogue

CODE_COLS = ("reviewer_code", "gold")
NAME_COLS = ("indicator", "name", "三级指标")
CLASS_COLS = ("class", "level2")
CONFIRM = {"ok", "y", "yes", "✓", "√", "是", "确认", "同意"}


@dataclass
class Decision:
    text: str
    level2: str
    code: str  # a catalogue code or NIL
    source: str  # file:row


def _col(header: list[str], given: str | None, names: tuple[str, ...], path: Path, what: str,
         required: bool = True) -> int | None:
    hs = [h.strip() for h in header]
    for n in ([given] if given else names):
        if n in hs:
            return hs.index(n)
    if required:
        raise InputError(f"{path}: no {what} column (looked for {', '.join([given] if given else names)})")
    return None


def read_reviewed(path: Path, cat: Catalogue, code_col: str | None = None, name_col: str | None = None,
                  class_col: str | None = None) -> tuple[list[Decision], list[str]]:
    """Decisions in a reviewed file, and one-line problems (file:row: why) for cells that cannot be used."""
    path = Path(path)
    _, rows = load(path)
    if not rows:
        raise InputError(f"{path}: empty file")
    header = rows[0]
    ci = _col(header, code_col, CODE_COLS, path, "reviewer code")
    ni = _col(header, name_col, NAME_COLS, path, "indicator name")
    ki = _col(header, class_col, CLASS_COLS, path, "class", required=False)
    si = _col(header, None, ("code",), path, "suggested code", required=False)
    out, problems = [], []
    for no, r in enumerate(rows[1:], 2):
        cell = lambda i: (r[i].strip() if i is not None and i < len(r) else "")  # noqa: E731
        raw = cell(ci)
        if not raw:
            continue
        text, level2 = cell(ni), cell(ki)
        if not text:
            problems.append(f"{path}:{no}: reviewer code '{raw}' on a row without an indicator name")
            continue
        if raw.lower() in CONFIRM:
            code = cell(si) or NIL
        elif raw.upper() == NIL:
            code = NIL
        else:
            code = split_code(raw)[0] or raw
        if code != NIL and cat.get(code) is None:
            problems.append(f"{path}:{no}: reviewer code '{raw}' is not in the catalogue")
            continue
        out.append(Decision(text, level2, code, f"{path.name}:{no}"))
    return out, problems
