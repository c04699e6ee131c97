"""Bulk normalization: documents in, every indicator row out with its code, confidence and decision.

Nothing is dropped and nothing the document wrote is changed: each output record starts with the
row's original cells, then adds indicode's columns. Rows that carry a code are checked against the
catalogue, not recoded. Each distinct (text, class, kind of value) is matched once, and texts are
encoded in batches through the on-disk vector cache, each batch matched while the next encodes. A name
longer than `linker.MAX_TEXT` characters is matched by its beginning and says so in `check`.
"""
from __future__ import annotations

import os
import pickle
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from rapidfuzz import fuzz

from .catalogue.classes import classes_of_code, filed_classes
from .catalogue.entries import CODE_RE
from .catalogue.readers.detect import read_document, stream_document
from .catalogue.readers.table import Columns
from .catalogue.records import IndicatorRow, InputError, ReadProblem
from .matcher.linker import Linker
from .matcher.present import check_items, decision_fields
from .matcher.results import Suggestion, Verdict
from .matcher.text import MAX_TEXT, clean, kind_of

ALTERNATIVES = 3
CHUNK = 20_000  # rows coded (and records spooled) at a time


class TooManyRows(Exception):
    """The inputs hold more indicator rows than the run may code (`normalize`'s `max_rows`): `rows`
    counted in all, `most` allowed. Not an InputError of one file: the whole run stops, and the
    caller words it (an upload's limit, `indicode.jobs`)."""

    def __init__(self, rows: int, most: int):
        super().__init__(f"{rows} indicator rows, more than {most}")
        self.rows, self.most = rows, most
# the original fields of rows read from declaration documents, under the documents' own headings
DOC_FIELDS = [("unit", "单位"), ("project", "项目名称"), ("project_code", "项目编号"), ("level1_text", "一级指标"),
              ("level2_text", "二级指标"), ("name", "三级指标"), ("code", "指标编码"),
              ("value_period", "实施周期指标值/目标值"), ("value_year", "年度指标值"), ("explanation", "指标解释")]
OUT_COLUMNS = ["indicator", "class", "decision", "code", "code_name", "score", "reason", "check", "class_flag",
               "new_code_class", "proposal"] + [f"alt{i}" for i in range(1, ALTERNATIVES + 1)] + ["reviewer_code"]


@dataclass
class FileReport:
    source: str
    format: str = ""
    rows: int = 0
    error: str = ""  # the file could not be read at all
    problems: list[ReadProblem] = field(default_factory=list)  # lines that could not be read completely
    decisions: Counter = field(default_factory=Counter)


class Held(list):
    """The records of a run held in memory (for the Python API, the service's jobs and the tests)."""

    def mark(self) -> tuple[int, int]:
        """Where the records stand, as `Spool.mark` gives it (chunks written, records), to roll back to."""
        return 0, len(self)

    def rollback(self, mark: tuple[int, int]) -> None:
        del self[mark[1]:]


class Spool:
    """The records of a run kept on disk as they are coded (pickled chunks, compressed) and read
    back in order, as often as a writer needs: the memory of one chunk, however many rows (a
    normalize of 10^6 rows, docs/hardening.md). The temporary file goes when the spool does."""

    def __init__(self) -> None:
        self._fh = tempfile.TemporaryFile()
        self._chunks: list[tuple[int, int]] = []  # (offset, length) of each chunk written
        self._buf: list[dict] = []
        self._count = 0

    def append(self, rec: dict) -> None:
        self._buf.append(rec)
        self._count += 1
        if len(self._buf) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._buf:
            blob = zlib.compress(pickle.dumps(self._buf, pickle.HIGHEST_PROTOCOL), 1)
            at = self._chunks[-1][0] + self._chunks[-1][1] if self._chunks else 0
            os.pwrite(self._fh.fileno(), blob, at)
            self._chunks.append((at, len(blob)))
            self._buf = []

    def mark(self) -> tuple[int, int]:
        self._flush()
        return len(self._chunks), self._count

    def rollback(self, mark: tuple[int, int]) -> None:
        self._buf, (chunks, self._count) = [], mark
        del self._chunks[chunks:]

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[dict]:
        self._flush()
        for at, length in list(self._chunks):
            yield from pickle.loads(zlib.decompress(os.pread(self._fh.fileno(), length, at)))

    def close(self) -> None:
        self._fh.close()


Records = Held | Spool


@dataclass
class NormalizeResult:
    records: Records  # every record, in input order: held, or spooled to disk (`Spool`)
    files: list[FileReport]
    seconds: float
    unique: int  # distinct (text, class, kind) matched
    encoded: int  # texts that had to be encoded (not in the cache)

    @property
    def decisions(self) -> Counter:
        return sum((f.decisions for f in self.files), Counter())

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.error]


PLACE_KEYS = ("source", "line", "page")  # where a row is: a document's own cells by these names get " (input)"


def _original(row: IndicatorRow) -> dict:
    base: dict = {"source": row.source, "line": row.line}
    if row.page is not None:  # a PDF row: the page it starts on (no such key for other formats)
        base["page"] = row.page
    if row.extra:  # a table: its own cells under its own headers, untouched
        cells = dict(row.extra)
    else:
        cells = {heading: getattr(row, attr) for attr, heading in DOC_FIELDS}
        if row.code:
            cells["三级指标"] = f"{row.code}-{row.name}"
    for h, v in cells.items():
        base[f"{h} (input)" if h in OUT_COLUMNS or h in PLACE_KEYS else h] = v
    return base


def _alts(cands, skip: str) -> dict[str, str]:
    """The alt1…altN columns: the best other candidates than `skip`."""
    out = [f"{c.code}-{c.name} ({c.score:.2f})" for c in cands if c.code != skip][:ALTERNATIVES]
    out += [""] * (ALTERNATIVES - len(out))
    return {f"alt{i}": v for i, v in enumerate(out, 1)}


def _class_flag(row: IndicatorRow, code: str) -> str:
    """The document's class where it disagrees with the code's class digits."""
    if not code:
        return ""
    c1, c2 = classes_of_code(code)
    f1, f2 = filed_classes(row.level1_text, row.level2_text)
    f1, f2 = f1 or row.level1, f2 or row.level2  # cells silent: the classes the reader inferred
    if (f2 and f2 != c2) or (f1 and f1 != c1):
        return f"document {f1 or '?'}/{f2 or '?'}, code {c1}/{c2}"
    return ""


def check_written(linker: Linker, row: IndicatorRow, s: Suggestion) -> dict:
    """A row that carries a code: verify it, flag what is wrong, keep the code."""
    cat = linker.cat
    e = cat.get(row.code)
    problems = []
    if not CODE_RE.match(row.code):
        problems.append(f"malformed code ({len(row.code)} digits, expected 9)")
    if e is None:
        problems.append("unknown code")
    else:
        spellings = {clean(n) for n in e.names}
        if clean(row.name) not in spellings and max(fuzz.ratio(clean(row.name), n) for n in spellings) < 90:
            problems.append(f"name differs from catalogue 「{e.name}」")
        problems += [f"catalogue anomaly: {a.kind}" for a in cat.anomalies_of(row.code)
                     if a.kind != "malformed-code"]
    serious = [p for p in problems if not p.startswith("catalogue anomaly")]
    return {
        "decision": Verdict.REVIEW if serious else Verdict.ACCEPT, "code": row.code, "code_name": e.name if e else "",
        # a code kept as written: 1.00 when it checks out, else how well the row's name matches that
        # very code (0 when the matcher does not even list it); the alternatives are the matcher's
        "score": 1.0 if not serious else next((round(c.score, 4) for c in s.candidates if c.code == row.code), 0.0),
        "reason": "written code", "check": "; ".join(problems) or "ok", "class_flag": _class_flag(row, row.code),
        "new_code_class": "", **_alts(s.candidates, row.code),
    }


def _matched(row: IndicatorRow, s: Suggestion) -> dict:
    d = decision_fields(s)
    code = d["code"]
    return {
        "decision": d["decision"], "code": code, "code_name": d["name"], "score": d["score"], "reason": d["reason"],
        # what a reviewer should look at: a name cut, the decided code's namesakes, a generic code
        # offered, a class read from the text (`present.check_items`)
        "check": "; ".join(([f"name cut to its first {MAX_TEXT} characters for matching"] if s.cut else [])
                           + check_items(s)),
        "class_flag": _class_flag(row, code), "new_code_class": d["new_code_class"],
        # a no-match a proposed code fits (only then: the column appears when some row has one)
        **({"proposal": s.proposal.label} if s.proposal else {}),
        **_alts(s.candidates, code),
    }


def source_labels(paths: list[Path]) -> list[str]:
    """One label per input, unique: the file name, or the path as given where two inputs share a
    name (a/x.csv, b/x.csv), numbered where the same path is given twice, so that rows of different
    inputs never mix."""
    names = [Path(p).name for p in paths]
    labels = [n if names.count(n) == 1 else str(p) for n, p in zip(names, paths, strict=True)]
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out


def read_all(paths: list[Path], columns: Columns | None) -> tuple[list[IndicatorRow], list[FileReport]]:
    rows: list[IndicatorRow] = []
    files: list[FileReport] = []
    for p, label in zip(paths, source_labels(paths), strict=True):
        rep = FileReport(source=label)
        try:
            res = read_document(p, columns)
        except InputError as exc:
            rep.error = str(exc)
            files.append(rep)
            continue
        read: list[IndicatorRow | ReadProblem] = [*res.rows, *res.problems]
        for item in read:
            item.source = label
        rep.format, rep.rows, rep.problems = res.format, len(res.rows), list(res.problems)
        rows += res.rows
        files.append(rep)
    return rows, files


def match_key(row: IndicatorRow) -> tuple[str, str, str]:
    """What a row is matched by: rows alike in it get the same suggestion, found once."""
    return clean(row.name), row.level2, kind_of(row.name, row.value)


def match_rows(rows: list[IndicatorRow], linker: Linker,
               progress: Callable[[str, int, int], None] | None = None) -> tuple[list[Suggestion], int, int]:
    """One suggestion per row, each distinct (text, class, kind of value) matched once; returns
    (suggestions in row order, distinct texts, texts newly encoded). `progress(stage, done, total)`
    hears of the work as it goes (stages: encoding, matching)."""
    keys = [match_key(r) for r in rows]
    first: dict[tuple, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    unique_rows = [rows[i] for i in first.values()]
    n = len(unique_rows)
    done = [0]

    def encoded_batch(k: int) -> None:
        done[0] += k
        if progress:
            progress("encoding", done[0], n)

    # each batch is matched while the next one encodes (Linker.encode_stream)
    sugg: dict[tuple, Suggestion] = {}
    ukeys = list(first)
    matched = 0
    for ids, vectors, new in linker.encode_stream([r.name for r in unique_rows]):
        if new:
            encoded_batch(new)
        for i, v in zip(ids, vectors, strict=True):
            r = unique_rows[i]
            sugg[ukeys[i]] = linker.suggest_many([(r.name, r.level2, r.value)], k=ALTERNATIVES + 1,
                                                 vectors=v[None, :])[0]
            matched += 1
            if progress and (matched % 50 == 0 or matched == n):
                progress("matching", matched, n)
    encoded = linker.last_encoded
    return [sugg[k] for k in keys], n, encoded


def coded_columns(linker: Linker, row: IndicatorRow, s: Suggestion) -> dict:
    """indicode's columns for one row: a written code checked, any other row matched."""
    added = check_written(linker, row, s) if row.code else _matched(row, s)
    return {"indicator": row.name, "class": row.level2, **added, "reviewer_code": ""}


def normalize(paths: list[Path], linker: Linker, columns: Columns | None = None,
              progress: Callable[[str, int, int], None] | None = None,
              records: Records | None = None, max_rows: int | None = None) -> NormalizeResult:
    """Read every document and code every row, CHUNK rows at a time as they are read: each chunk's
    texts not matched before are encoded and matched (`match_rows`, see it for `progress`), its
    records made and handed to `records` (held in memory unless a `Spool` is given), so that memory
    grows with the distinct texts, not with the rows. A file that fails while being read leaves no
    record behind (its error in its FileReport); its lines that could not be read are records too,
    in line order, so that nothing the reader saw is left out. With `max_rows`, inputs holding more
    indicator rows than that raise `TooManyRows` before any row past the limit is matched (the rest
    only counted, so that the error says how many there are)."""
    t0 = time.perf_counter()
    out: Records = records if records is not None else Held()
    known: dict[tuple, Suggestion] = {}  # every distinct key matched so far
    used: set[tuple] = set()  # those of the files read through
    files: list[FileReport] = []
    encoded = 0
    for p, label in zip(paths, source_labels(paths), strict=True):
        rep = FileReport(source=label)
        files.append(rep)
        mark = out.mark()
        try:
            room = None if max_rows is None else max_rows - sum(f.rows for f in files[:-1])
            keys, new = _code_file(p, label, rep, linker, columns, known, out, progress, room)
        except TooManyRows as exc:
            out.rollback(mark)
            raise TooManyRows(exc.rows + sum(f.rows for f in files[:-1]), max_rows or 0) from None
        except InputError as exc:
            out.rollback(mark)
            files[-1] = FileReport(source=label, error=str(exc))
            continue
        used |= keys
        encoded += new
    return NormalizeResult(out, files, time.perf_counter() - t0, len(used), encoded)


def _code_file(path: Path, label: str, rep: FileReport, linker: Linker, columns: Columns | None,
               known: dict[tuple, Suggestion], out: Records,
               progress: Callable[[str, int, int], None] | None, room: int | None = None) -> tuple[set[tuple], int]:
    """Code one file's rows chunk by chunk into `out`; (the keys its rows have, texts encoded).
    `room`: how many indicator rows it may have (`TooManyRows` past it, with the file's count)."""
    fmt, items = stream_document(path, columns)
    rep.format = fmt
    if fmt != "table":  # a declaration form, read whole: rows and unreadable lines in line order
        items = iter(sorted(items, key=lambda t: (t.line, isinstance(t, ReadProblem))))
    keys: set[tuple] = set()
    encoded = 0
    for chunk in iter(lambda: list(islice(items, CHUNK)), []):
        rows = [item for item in chunk if isinstance(item, IndicatorRow)]
        if room is not None and rep.rows + len(rows) > room:
            raise TooManyRows(rep.rows + len(rows) + sum(isinstance(item, IndicatorRow) for item in items), room)
        for item in chunk:
            item.source = label
        encoded += _match_new(rows, linker, known, progress)
        for item in chunk:
            if isinstance(item, ReadProblem):
                rep.problems.append(item)
                rec = {"source": label, "line": item.line, **({"page": item.page} if item.page else {}),
                       "raw line": item.text, "indicator": "", "class": "",
                       "decision": Verdict.REVIEW, "reason": "unreadable", "check": item.why, "reviewer_code": ""}
            else:
                key = match_key(item)
                keys.add(key)
                rep.rows += 1
                rec = {**_original(item), **coded_columns(linker, item, known[key])}
            rep.decisions[rec["decision"]] += 1
            out.append(rec)
    return keys, encoded


def _match_new(rows: list[IndicatorRow], linker: Linker, known: dict[tuple, Suggestion],
               progress: Callable[[str, int, int], None] | None) -> int:
    """Match the rows whose keys are not in `known` yet (each new key once) and add them; the
    number of texts encoded. Progress counts on over the run's distinct texts."""
    fresh: dict[tuple, IndicatorRow] = {}
    for r in rows:
        k = match_key(r)
        if k not in known:
            fresh.setdefault(k, r)
    if not fresh:
        return 0
    before = len(known)

    def counted(stage: str, done: int, total: int) -> None:
        if progress:
            progress(stage, before + done, before + total)

    suggestions, _unique, encoded = match_rows(list(fresh.values()), linker, counted)
    known.update(zip(fresh, suggestions, strict=True))
    return encoded


def columns_in_order(records: Iterable[dict]) -> list[str]:
    """Original columns first, in the order first seen, then indicode's."""
    seen = dict.fromkeys(k for r in records for k in r)
    return [c for c in seen if c not in OUT_COLUMNS] + [c for c in OUT_COLUMNS if c in seen or not seen]
