"""The review loop: read a reviewed file and record its reviewer cells as decisions in the workspace.

A reviewed file is a normalize output (the review workbook with its 逐行审核 and 按文本审核 sheets,
or the CSV with `indicator`, `class`, `code`, `reviewer_code` columns) or any table with a name,
class and decided-code column (e.g. labelled links with a `gold` column).

What a reviewer may write (full-width forms and spaces are fine: every cell is NFKC-folded):
- a catalogue code, or `CODE-名称` as the dropdown offers it: this code;
- 确认 / ok / 是 / √ …: the suggested code (or "no code" when none was suggested);
- 无匹配 / NIL / 无 / 不适用 …: no catalogue code fits;
- `新:CODE-名称` (or, with `--propose`, any well-formed `CODE-名称` whose code is unknown): a new
  code proposed for the text, recorded apart from the catalogue's codes as *proposed*;
- nothing: no decision.
A decision on the 按文本审核 sheet serves every row with that text and class. Two different
decisions for one subject (the text as the matcher cleans it, and the class: `办事群众满意度` and
`办事群众满意度（%）` are one) in one file are reported and neither is stored; cells that cannot be used
are reported with file, row and why (with a did-you-mean for a near-miss code). `learn_file` records
the rest in one transaction: a decision another reviewer's different one stands against is a conflict,
listed and kept out unless `override`.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .catalogue.classes import LEVEL2, classes_of_code
from .catalogue.entries import CODE_RE
from .catalogue.export import original_text
from .catalogue.lookup import Catalogue
from .catalogue.opening import open_regular
from .catalogue.readers.detect import XLSX_MAGIC, load
from .catalogue.readers.sheets import csv_rows, workbook_sheets
from .catalogue.records import NIL, InputError, Proposed
from .catalogue.textio import read_text
from .i18n import N_, _
from .inputs import MAX_COMMENT, blank, read_decision_class
from .matcher.results import Verdict
from .workspace import NewDecision, Origin, Outcome, ProposalDraft, Via, Workspace
from .workspace.keys import subject_of
from .workspace.provisional import is_provisional
from .workspace.records import Conflict, Proposal

# The review workbook's sheets and the headers learn reads back (review_sheet writes them).
ROWS_SHEET, DISTINCT_SHEET, LEGEND_SHEET = "逐行审核", "按文本审核", "说明"
SUMMARY_SHEET, OPTIONS_SHEET = "汇总", "选项"
H_SOURCE, H_LINE, H_TEXT, H_CLASS, H_DECISION, H_REVIEW = "来源", "行号", "指标", "类别", "建议", "审核"
H_CODE, H_NAME, H_SCORE, H_WHY, H_ROWS = "编码", "名称", "分数", "说明", "行数"
H_PROJECT, H_NOTE = "项目", "备注"
CONFIRM_WORD, NIL_WORD = "确认", "无匹配"
ACCEPT_WORD = "建议采用"  # the 建议 column of a row the matcher would accept
ACCEPT_ALL_LABEL = "全部采用建议"  # on the 说明 sheet: 是 in the cell beside it accepts every 建议采用
NOTE_COLS = (H_NOTE, "comment")

CODE_COLS = ("reviewer_code", H_REVIEW, "gold")
NAME_COLS = ("indicator", H_TEXT, "name", "三级指标")
CLASS_COLS = ("class", H_CLASS, "level2")
SUGGESTED_COLS = ("code", H_CODE)
CONFIRM = {"ok", "okay", "y", "yes", "✓", "✔", "√", "是", "对", "确认", "确定", "同意", "采用", "建议采用",
           "正确", "通过"}
NIL_WORDS = {"nil", "none", "no match", str(Verdict.NO_MATCH), "n/a", "na", "无", "无匹配", "无匹配编码", "无编码",
             "没有", "不适用", "不匹配", "空"}
PROPOSE_RE = re.compile(r"^(?:新|新增|新编码|new)\s*[:：]\s*(.*)$", re.IGNORECASE)
CODE_NAME_RE = re.compile(r"^(\d{5,12})\s*[-—–_]\s*(.*)$")


@dataclass
class Decision:
    text: str
    level2: str
    code: str  # a catalogue code, NIL, or a proposed code (then `proposal` is set)
    source: str  # file:row (file:sheet:row for the review workbook)
    rows: int = 1  # rows of the reviewed file it decides (a 按文本审核 row serves several)
    proposal: Proposed | None = None
    file: str = ""
    sheet: str = ""
    row: int | None = None
    comment: str = ""  # the reviewer's 备注
    implied: bool = False  # a blank 建议采用 row taken by 全部采用建议: gives way to any decision written


@dataclass
class Review:
    """What a reviewed file holds: decisions to store, cells refused (one line each), conflicts."""

    decisions: list[Decision] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    cells: int = 0  # reviewer cells with something written in them
    accept_all: bool = False  # the workbook's 全部采用建议 was set

    @property
    def links(self) -> list[Decision]:
        return [d for d in self.decisions if d.proposal is None]

    @property
    def proposals(self) -> list[Decision]:
        return [d for d in self.decisions if d.proposal is not None]

    @property
    def proposed(self) -> list[Proposed]:
        """The proposed codes of the proposals."""
        return [d.proposal for d in self.decisions if d.proposal is not None]


def _fold(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw or "").strip()


def _col(header: list[str], given: str | None, names: tuple[str, ...], path: Path, what: str,
         required: bool = True) -> int | None:
    hs = [_fold(h) for h in header]
    for n in ([given] if given else names):
        if n in hs:
            return hs.index(n)
    if required:
        raise InputError(_("{path}: no {what} column (looked for {names})").format(
            path=path, what=_(what), names=", ".join([given] if given else names)))
    return None


def _xlsx_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _accept_all(legend: list[list[str]]) -> bool:
    """Whether the 说明 sheet's 全部采用建议 cell says yes."""
    for r in legend:
        if r and _fold(r[0]) == ACCEPT_ALL_LABEL:
            return len(r) > 2 and _fold(r[2]).lower() in CONFIRM
    return False


def _tables(path: Path) -> tuple[list[tuple[str, list[list[str]]]], bool]:
    """(sheet, rows) to read: the review workbook's two decision sheets (按文本审核 first), or the
    one table of any other file; and whether the workbook accepts every 建议采用."""
    with open_regular(path) as fh:  # (a FIFO or a device: one line, never a wait)
        head = fh.read(4)
    if head == XLSX_MAGIC:
        sheets = dict(workbook_sheets(path, cell=_xlsx_text))  # within the reader's limits
        ours = [(s, sheets[s]) for s in (DISTINCT_SHEET, ROWS_SHEET) if s in sheets]
        return (ours, _accept_all(sheets.get(LEGEND_SHEET, []))) if ours else ([("", load(path)[1])], False)
    if path.suffix.lower() == ".csv":
        # indicode's own CSV (comma-separated, cells escaped): read as such, the escaping undone;
        # any other table through the document reader, which also guesses its dialect
        rows = [[original_text(c) for c in r] for r in csv_rows(read_text(path), str(path))]
        if rows and any(_fold(h) in CODE_COLS for h in rows[0]):
            return [("", rows)], False
    return [("", load(path)[1])], False


def _near_codes(code: str, name: str, cat: Catalogue) -> list[str]:
    """Catalogue codes a mistyped code (one or two digits off) or its name most likely meant."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    out = []
    if name:
        out += cat.codes_named(name)
    near = process.extract(code, list(cat.entries), scorer=Levenshtein.distance, score_cutoff=2, limit=5)
    out += [c for c, _dist, _i in sorted(near, key=lambda t: (t[1], t[0]))]
    out = list(dict.fromkeys(out))[:3]
    return [f"{c}-{cat.entries[c].name}" for c in out]


def _not_in_catalogue(code: str, name: str, cat: Catalogue) -> str:
    """`is not in the catalogue`, with a did-you-mean when a code is close."""
    near = _near_codes(code, name, cat)
    if not near:
        return _("is not in the catalogue")
    return _("is not in the catalogue - did you mean {codes}?").format(codes=_(" or ").join(near))


def _proposal(raw: str, body: str, level2: str, text: str, cat: Catalogue, where: str,
              reviewer: str, proposed: Sequence[Proposal] = ()) -> Proposed | str:
    """A proposed code from `CODE-名称`, a provisional id (`新-HZKQ-31-0001`, a proposal of the workspace)
    or a bare name (proposed by name and the row's class: the workspace gives it a provisional id), or
    why it cannot be one."""
    if is_provisional(body.split()[0] if body.split() else ""):
        pid = body.split()[0]
        known = next((p for p in proposed if p.code == pid), None)
        if known is None:
            return _("proposed code '{raw}': {id} is no proposal of this workspace (see `indicode proposals list`)"
                     ).format(raw=raw, id=pid)
        if level2 and level2 != known.level2:
            return _("proposed code '{raw}': the row's class is {klass} but {id} is in class {its}").format(
                raw=raw, klass=level2, id=pid, its=known.level2)
        return Proposed(code=known.code, name=known.name, level1=known.level1, level2=known.level2, text=text,
                        reviewer=reviewer, source=where, proposed_at="")
    if body and not re.match(r"^\d", body):  # a name: proposed without a serial
        if level2 not in LEVEL2:
            return _("proposed code '{raw}': give the row's class (two digits such as 31) to propose a new code "
                     "by name").format(raw=raw)
        return Proposed(code="", name=" ".join(body.split()), level1=level2[0], level2=level2, text=text,
                        reviewer=reviewer, source=where, proposed_at="")
    m = CODE_NAME_RE.match(body)
    code, name = (m.group(1), m.group(2).strip()) if m else (body, "")
    if not CODE_RE.match(code):
        return _("proposed code '{raw}': a code has 9 digits (level-1 digit, level-2 class, 6-digit serial); "
                 "write 新:CODE-名称").format(raw=raw)
    l1, l2 = classes_of_code(code)
    if l2 not in LEVEL2 or l2[0] != l1:
        return _("proposed code '{raw}': its digits {l1}/{l2} are not a class of the indicator tree").format(
            raw=raw, l1=l1, l2=l2)
    if not name:
        return _("proposed code '{raw}': give its name too, as 新:{code}-名称").format(raw=raw, code=code)
    if code in cat.entries:
        return _("proposed code '{raw}': {code} is already a catalogue code ({code}-{name}); write the code "
                 "itself").format(raw=raw, code=code, name=cat.entries[code].name)
    if level2 and level2 != l2:
        return _("proposed code '{raw}': the row's class is {klass} but the code's digits say {l2}").format(
            raw=raw, klass=level2, l2=l2)
    for p in proposed:
        if p.code == code and p.name != name:
            return _("proposed code '{raw}': {code} was already proposed as {code}-{name} ({reviewer}, {origin})"
                     ).format(raw=raw, code=code, name=p.name, reviewer=p.reviewer, origin=p.origin)
    return Proposed(code=code, name=name, level1=l1, level2=l2, text=text, reviewer=reviewer, source=where,
                    proposed_at="")


def _decide(raw: str, suggested: str, level2: str, text: str, cat: Catalogue, where: str, propose: bool,
            reviewer: str, proposed: Sequence[Proposal] = ()) -> tuple[str, Proposed | None] | str:
    """(code, proposal) a reviewer cell decides, or the reason it cannot be used."""
    cell = _fold(raw)
    low = cell.lower()
    if low in CONFIRM:
        code = _fold(suggested)
        if code and cat.get(code) is None:  # a code the document wrote, unknown to the catalogue
            return _("'{raw}' confirms the document's code {code}, which {problem}").format(
                raw=raw, code=code, problem=_not_in_catalogue(code, "", cat))
        return (code or NIL), None
    if low in NIL_WORDS:
        return NIL, None
    m = PROPOSE_RE.match(cell)
    if m or is_provisional(cell.split()[0] if cell.split() else ""):
        p = _proposal(raw, m.group(1).strip() if m else cell, level2, text, cat, where, reviewer, proposed)
        return p if isinstance(p, str) else (p.code, p)
    m = CODE_NAME_RE.match(cell)
    code, name = (m.group(1), m.group(2).strip()) if m else (re.sub(r"\s", "", cell), "")
    if not code.isdigit():
        return _("reviewer cell '{raw}' is neither a code, {confirm} (ok), {nil} (NIL), nor 新:CODE-名称 for a new "
                 "code").format(raw=raw, confirm=CONFIRM_WORD, nil=NIL_WORD)
    if cat.get(code) is not None:
        return code, None
    if propose and name and CODE_RE.match(code):
        p = _proposal(raw, f"{code}-{name}", level2, text, cat, where, reviewer, proposed)
        return p if isinstance(p, str) else (p.code, p)
    msg = _("reviewer code '{raw}' {problem}").format(raw=raw, problem=_not_in_catalogue(code, name, cat))
    if CODE_RE.match(code) and name:
        msg += _(" (to propose it as a new code write 新:{code}-{name}, or run learn --propose)").format(
            code=code, name=name)
    return msg


def _cell(row: list[str], i: int | None) -> str:
    return row[i].strip() if i is not None and i < len(row) and row[i] else ""


def read_reviewed(path: Path, cat: Catalogue, code_col: str | None = None, name_col: str | None = None,
                  class_col: str | None = None, propose: bool = False, reviewer: str = "",
                  proposed: Sequence[Proposal] = ()) -> Review:
    """The decisions in a reviewed file, every refused cell and every conflict as one line.
    `proposed`: the codes proposed so far (a code proposed again must keep its name)."""
    path = Path(path)
    if not path.exists():
        raise InputError(_("{path}: no such file").format(path=path))
    if path.is_dir():
        raise InputError(_("{path}: is a folder, not a reviewed file").format(path=path))
    tables, accept_all = _tables(path)
    if not any(rows for _sheet, rows in tables):
        raise InputError(_("{path}: empty file").format(path=path))
    review = Review(accept_all=accept_all)
    found: dict[tuple[str, str], list[Decision]] = {}  # by subject: the text as cleaned, the class
    for sheet, rows in tables:
        if rows:
            _read_table(path, sheet, rows, (code_col, name_col, class_col), cat, propose, reviewer, review, found,
                        proposed)
    _settle(review, found)
    return review


def _read_table(path: Path, sheet: str, rows: list[list[str]], columns: tuple[str | None, str | None, str | None],
                cat: Catalogue, propose: bool, reviewer: str, review: Review,
                found: dict[tuple[str, str], list[Decision]], proposed: Sequence[Proposal] = ()) -> None:
    """The reviewer cells of one table (a sheet, or the whole CSV): each a decision in `found` under
    its subject (the text as cleaned, and the class), or a refused line in `review`. `columns` are the
    given code, name and class columns (None: found by header); `proposed`: the codes proposed so far."""
    code_col, name_col, class_col = columns
    header = rows[0]
    ci = _col(header, code_col, CODE_COLS, path, N_("reviewer code"))
    ni = _col(header, name_col, NAME_COLS, path, N_("indicator name"))
    ki = _col(header, class_col, CLASS_COLS, path, N_("class"), required=False)
    si = _col(header, None, SUGGESTED_COLS, path, N_("suggested code"), required=False)
    cnt = _col(header, None, (H_ROWS,), path, N_("row count"), required=False)
    note = _col(header, None, NOTE_COLS, path, N_("note"), required=False)
    said = _col(header, None, (H_DECISION,), path, N_("suggestion"), required=False)
    named = _col(header, None, (H_NAME,), path, N_("code name"), required=False) if sheet else None
    for no, r in enumerate(rows[1:], 2):
        raw = _cell(r, ci)
        where = f"{path.name}:{sheet}:{no}" if sheet else f"{path.name}:{no}"
        if named is not None and (why := _edited_code(_cell(r, si), _cell(r, named), cat)):
            review.refused.append(f"{where}: {why}")
        implied = not raw and review.accept_all and _cell(r, said) == ACCEPT_WORD and bool(_cell(r, si))
        if implied:
            raw = CONFIRM_WORD
        if not raw:
            continue
        review.cells += not implied
        text, klass = _cell(r, ni), _fold(_cell(r, ki))
        if not text:
            review.refused.append(_("{where}: reviewer cell '{raw}' on a row without an indicator name").format(
                where=where, raw=raw))
            continue
        if blank(text):
            review.refused.append(_("{where}: reviewer cell '{raw}' on a row whose indicator has nothing visible "
                                    "(only spaces or invisible characters)").format(where=where, raw=raw))
            continue
        try:  # the one class rule of every write path (indicode.inputs)
            level2 = read_decision_class(klass)
        except InputError as exc:
            review.refused.append(f"{where}: {exc}")
            continue
        got = _decide(raw, _cell(r, si), level2, text, cat, where, propose, reviewer, proposed)
        if isinstance(got, str):
            review.refused.append(f"{where}: {got}")
            continue
        if len(_cell(r, note)) > MAX_COMMENT:
            review.refused.append(_("{where}: the 备注 is longer than {n} characters; shorten it").format(
                where=where, n=MAX_COMMENT))
            continue
        n = int(_cell(r, cnt)) if cnt is not None and _cell(r, cnt).isdigit() else 1
        subject = subject_of(text, level2)
        found.setdefault((subject.key, level2), []).append(
            Decision(text, level2, got[0], where, n, got[1], path.name, sheet, no, _cell(r, note), implied))


def _edited_code(code: str, name: str, cat: Catalogue) -> str:
    """Why a 编码 cell looks typed over by a reviewer (it no longer goes with its 名称), or ""."""
    if not code:
        return ""
    e = cat.get(code)
    if (e is None and not name) or (e is not None and name and (name == e.name or name in e.names)):
        return ""
    return _("the 编码 column says '{code}', which is not the suggested code: decisions go in the 审核 column "
             "(the 编码 column is not read)").format(code=code)


def _settle(review: Review, found: dict[tuple[str, str], list[Decision]]) -> None:
    """The decisions to store: one per subject (the text as cleaned, and the class) where its cells
    agree (a conflict where they do not), and no new code proposed under two names."""
    for (_key, level2), all_ds in found.items():
        ds = [d for d in all_ds if not d.implied] or all_ds  # 全部采用建议 gives way to what was written
        text = ds[0].text
        outcomes = {(d.code, d.proposal.name if d.proposal else "") for d in ds}
        if len(outcomes) > 1:
            said = _("; ").join(_("{where} says {code}").format(where=d.source, code=_said(d)) for d in ds)
            review.conflicts.append(_("「{text}」 [{klass}]: different decisions ({said}): neither stored; make them "
                                      "agree and run learn again").format(text=text, klass=level2 or "-", said=said))
            continue
        first = ds[0]
        on_distinct = [d.rows for d in ds if f":{DISTINCT_SHEET}:" in d.source]
        # the 按文本审核 rows of one subject (its spellings) add up; the 逐行审核 rows repeat them
        first.rows = max(sum(on_distinct), sum(1 for d in ds if f":{DISTINCT_SHEET}:" not in d.source))
        review.decisions.append(first)
    names: dict[str, set[str]] = {}
    for p in review.proposed:
        if p.code:  # a proposal by name is one per name and class
            names.setdefault(p.code, set()).add(p.name)
    clash = {c for c, ns in names.items() if len(ns) > 1}
    for d in [d for d in review.proposals if d.code in clash]:
        review.decisions.remove(d)
        review.conflicts.append(_("{where}: new code {code} is proposed under different names ({names}): not "
                                  "stored; give it one name").format(
            where=d.source, code=d.code, names=" / ".join(sorted(names[d.code]))))


def _said(d: Decision) -> str:
    if d.proposal:
        return f"新:{d.code}-{d.proposal.name}"
    return NIL_WORD if d.code == NIL else d.code


@dataclass
class LearnRun:
    """What `learn_file` read and what the workspace made of it."""

    review: Review
    outcome: Outcome


def learn_file(path: Path, ws: Workspace, cat: Catalogue, reviewer: str, override: bool = False,
               propose: bool = False, code_col: str | None = None, name_col: str | None = None,
               class_col: str | None = None, comment: str = "") -> LearnRun:
    """Read a reviewed file and record its decisions in `ws`, in one transaction (all or none);
    `comment` goes with each of them. A new-code request workbook (申请新增指标, `indicode gaps`) is read
    with `propose` as proposals for every member text (`gaps.propose`)."""
    from .gaps.workbook import is_request_workbook, read_requests

    if is_request_workbook(Path(path)):
        if not propose:
            raise InputError(_("{path}: a new-code request workbook: read it with learn --propose or `indicode "
                               "proposals import`").format(path=path))
        from .gaps.propose import propose as propose_requests

        requests = read_requests(Path(path))
        return LearnRun(Review(cells=len(requests)), propose_requests(ws, requests, reviewer, cat, override=override))
    review = read_reviewed(path, cat, code_col, name_col, class_col, propose=propose, reviewer=reviewer,
                           proposed=ws.proposals())
    new = [NewDecision(d.text, d.level2, d.code, reviewer, Origin(Via.WORKBOOK, d.file, d.sheet, d.row),
                       "；".join(c for c in (d.comment, comment) if c),
                       proposal=ProposalDraft(d.proposal.code, d.proposal.name, d.proposal.level1, d.proposal.level2)
                       if d.proposal else None) for d in review.decisions]
    return LearnRun(review, ws.record(new, cat, override=override) if new else Outcome())


def conflict_line(c: Conflict) -> str:
    """One line for a decision kept out because another reviewer's stands."""
    new = NIL_WORD if c.new.code == NIL else c.new.code
    old = NIL_WORD if c.in_force.code == NIL else c.in_force.code
    return _("{where}: 「{text}」 [{klass}]: by reviewer {reviewer} on {date} the decision is {old}, this time "
             "{new}: the decision in force is kept (learn --override replaces it)").format(
        where=c.where or c.new.origin, text=c.new.text, klass=c.new.level2 or "-", reviewer=c.in_force.reviewer,
        date=c.in_force.at[:10], old=old, new=new)
