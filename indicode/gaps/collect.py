"""The rows no code fits, from what `indicode gaps` is given: declaration documents (read and matched
now), outputs of `normalize` (the review workbook, or its CSV / JSON Lines: their no-match rows, less
those a reviewer has coded since), and request workbooks (read as requests, to merge)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..bulk import match_rows, read_all
from ..catalogue.export import original_text
from ..catalogue.readers.detect import XLSX_MAGIC
from ..catalogue.readers.sheets import csv_rows, workbook_sheets
from ..catalogue.records import InputError
from ..catalogue.textio import read_text
from ..i18n import _
from ..learn import H_CLASS, H_DECISION, H_REVIEW, H_SOURCE, H_TEXT, NIL_WORDS, PROPOSE_RE, ROWS_SHEET
from ..matcher.linker import Linker
from ..matcher.results import Verdict
from .mine import GapRow
from .workbook import Request, is_request_workbook, read_requests

NO_MATCH_WORDS = {str(Verdict.NO_MATCH), "无匹配"}
PROJECT_COLS = ("项目名称", "project")
VALUE_COLS = ("实施周期指标值/目标值", "年度指标值", "value_period", "value_year", "value")
OFFICE_COLS = ("单位", "unit")


@dataclass
class Collected:
    rows: list[GapRow] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    read: int = 0  # indicator rows read
    failed: list[str] = field(default_factory=list)  # files that could not be read, one line each


def _still_open(review: str) -> bool:
    """A reviewer cell that leaves the row a gap: empty, "no code fits", or a new code proposed."""
    r = review.strip()
    return not r or r.lower() in NIL_WORDS or bool(PROPOSE_RE.match(r)) or r.startswith("新")


def _first(rec: dict, names: Sequence[str]) -> str:
    return next((str(rec[n]).strip() for n in names if rec.get(n) not in (None, "") and str(rec[n]).strip()), "")


def _from_records(records: list[dict], label: str, text: str, klass: str, decision: str, source: str) -> list[GapRow]:
    out = []
    for rec in records:
        if str(rec.get(decision, "")).strip() not in NO_MATCH_WORDS or not str(rec.get(text) or "").strip():
            continue
        if not _still_open(str(rec.get(H_REVIEW) or rec.get("reviewer_code") or "")):
            continue
        out.append(GapRow(str(rec[text]).strip(), str(rec.get(klass) or "").strip(), _first(rec, VALUE_COLS),
                          _first(rec, PROJECT_COLS), str(rec.get(source) or label), _first(rec, OFFICE_COLS)))
    return out


def _table(header: list[str], rows: list[list[str]]) -> list[dict]:
    return [dict(zip(header, r, strict=False)) for r in rows]


def normalize_output(path: Path) -> list[GapRow] | None:
    """The no-match rows of a normalize output, or None when `path` is not one."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == XLSX_MAGIC:
        sheets = dict(workbook_sheets(path))
        if ROWS_SHEET not in sheets or not sheets[ROWS_SHEET]:
            return None
        rows = sheets[ROWS_SHEET]
        return _from_records(_table(rows[0], rows[1:]), path.name, H_TEXT, H_CLASS, H_DECISION, H_SOURCE)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = [[original_text(c) for c in r] for r in csv_rows(read_text(path), str(path))]
        if not rows or "decision" not in rows[0] or "indicator" not in rows[0]:
            return None
        return _from_records(_table(rows[0], rows[1:]), path.name, "indicator", "class", "decision", "source")
    if suffix == ".jsonl":
        recs = []
        for no, line in enumerate(read_text(path).splitlines(), 1):
            if line.strip():
                try:
                    recs.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InputError(_("{path}:{line}: not a JSON line ({problem})").format(
                        path=path, line=no, problem=exc.msg)) from None
        if not recs or "decision" not in recs[0]:
            return None
        return _from_records(recs, path.name, "indicator", "class", "decision", "source")
    return None


def collect(paths: Sequence[Path], linker: Linker) -> Collected:
    """Every gap row and request of the inputs; documents are matched with `linker`."""
    out = Collected()
    documents = []
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(_("{path}: no such file").format(path=p))
        if is_request_workbook(p):
            out.requests += read_requests(p)
            continue
        rows = normalize_output(p)
        if rows is None:
            documents.append(p)
        else:
            out.rows += rows
            out.read += len(rows)
    if documents:
        read, files = read_all(documents, None)
        out.failed += [f"{f.source}: {f.error}" for f in files if f.error]
        out.read += len(read)
        answers, _unique, _encoded = match_rows(read, linker)
        for r, s in zip(read, answers, strict=True):
            if not r.code and s.decision == Verdict.NO_MATCH:
                out.rows.append(GapRow(r.name, r.level2, r.value, r.project, r.source, r.unit))
    return out
