"""Large workbooks read and normalized in bounded memory (issue 24 §7): a workbook's rows stream from
the reader through the table reader into normalize's records, and no stage holds them all. These
tests would fail if a stage went back to collecting every row before handing any on."""
from __future__ import annotations

import tracemalloc
from itertools import islice
from pathlib import Path

import pytest

from baddocs import xlsx_with_sheet
from indicode import bulk
from indicode.catalogue.readers import detect
from indicode.catalogue.readers.detect import HEAD_ROWS, read_document, stream_document
from indicode.catalogue.records import IndicatorRow, ReadProblem

NAMES = ["任务达标完成率", "办事群众满意度", "验收合格率", "培训人次", "项目按时完成率"]


def big_workbook(path: Path, rows: int, bad_every: int = 0) -> Path:
    """A table of `rows` indicator rows (inline strings; every `bad_every`-th row has a value but no
    name, a line the reader reports), written in pieces."""
    def cells(i: int) -> list[str]:
        if i == 0:
            return ["三级指标", "二级指标", "指标值", "单位"]
        name = "" if bad_every and i % bad_every == 0 else f"{NAMES[i % len(NAMES)]}{i % 7}"
        return [name, "11", f"{i % 100}%", f"单位{i % 97}"]

    def sheet():
        yield '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        for i in range(rows + 1):
            xml = "".join(f'<c r="{col}{i + 1}" t="inlineStr"><is><t>{text}</t></is></c>'
                          for col, text in zip("ABCD", cells(i), strict=True) if text)
            yield f'<row r="{i + 1}">{xml}</row>'
        yield "</sheetData></worksheet>"

    return xlsx_with_sheet(path, sheet())


class Counted:
    """Wraps the workbook reader: how many rows it has handed on so far."""

    def __init__(self, monkeypatch):
        self.rows = 0
        real = detect.xlsx_rows

        def counting(path, pkg):
            for r in real(path, pkg):
                self.rows += 1
                yield r

        monkeypatch.setattr(detect, "xlsx_rows", counting)


def test_workbook_rows_stream_and_only_the_first_rows_are_sniffed(tmp_path, monkeypatch):
    wb = big_workbook(tmp_path / "t.xlsx", 5000)
    read = Counted(monkeypatch)
    fmt, items = stream_document(wb)
    assert fmt == "table" and not isinstance(items, list)
    assert read.rows == HEAD_ROWS  # to tell the format: the first rows, not the sheet
    first = next(items)
    assert isinstance(first, IndicatorRow) and first.line == 2 and first.extra["三级指标"] == first.name
    assert read.rows == HEAD_ROWS  # the first row handed on before the rest is read
    assert len(list(items)) == 4999 and read.rows == 5001


def test_streamed_rows_are_the_rows_read_whole(tmp_path):
    wb = big_workbook(tmp_path / "t.xlsx", 3000, bad_every=500)
    res = read_document(wb)
    _fmt, items = stream_document(wb)
    streamed = list(items)
    assert [r for r in streamed if isinstance(r, IndicatorRow)] == res.rows and len(res.rows) == 2994
    assert [p.line for p in streamed if isinstance(p, ReadProblem)] == [p.line for p in res.problems]
    assert [p.line for p in res.problems] == [501, 1001, 1501, 2001, 2501, 3001]


def test_indicator_rows_have_slots_and_share_their_cells(tmp_path):
    row = next(stream_document(big_workbook(tmp_path / "t.xlsx", 10))[1])
    assert not hasattr(row, "__dict__")  # slots: no attribute dict per row
    assert row.extra["三级指标"] is row.name  # the cell itself, not a copy


class Sink(bulk.Held):
    """Records as normalize hands them on, and how far the reader was when the first one came."""

    def __init__(self, read: Counted):
        super().__init__()
        self.read, self.at_first = read, None

    def append(self, rec):
        if self.at_first is None:
            self.at_first = self.read.rows
        super().append(rec)


def test_normalize_codes_a_chunk_before_reading_the_next(tmp_path, monkeypatch, linker):
    wb = big_workbook(tmp_path / "t.xlsx", 6000, bad_every=1000)
    monkeypatch.setattr(bulk, "CHUNK", 2000)
    read = Counted(monkeypatch)
    sink = Sink(read)
    res = bulk.normalize([wb], linker, records=sink)
    assert sink.at_first is not None and sink.at_first <= 2000 + 1  # one chunk (and the header) read
    assert len(sink) == 6000 and read.rows == 6001  # every row, the unreadable lines among them
    assert [r["line"] for r in sink] == list(range(2, 6002))
    assert [r["reason"] for r in sink if r["line"] % 1000 == 1] == ["unreadable"] * 6
    assert res.unique == len(NAMES) * 7 and res.files[0].rows == 5994


def test_a_row_limit_stops_normalize_before_matching_past_it_and_counts_every_row(tmp_path, monkeypatch, linker):
    """`max_rows` (an upload's limit): the inputs are read once; past the limit no row is matched and
    no record of that file kept, and the error counts the rows of every file (3,000 + 5,994 here, not the chunk
    where the limit fell)."""
    small, big = big_workbook(tmp_path / "a.xlsx", 3000), big_workbook(tmp_path / "b.xlsx", 6000, bad_every=1000)
    monkeypatch.setattr(bulk, "CHUNK", 2000)
    read = Counted(monkeypatch)
    matched: list[int] = []
    real = linker.suggest_many

    def counting(items, *a, **kw):
        matched.append(len(items))
        return real(items, *a, **kw)

    monkeypatch.setattr(linker, "suggest_many", counting)
    sink = bulk.Held()
    with pytest.raises(bulk.TooManyRows) as err:
        bulk.normalize([small, big], linker, records=sink, max_rows=4000)
    assert (err.value.rows, err.value.most) == (3000 + 5994, 4000)
    assert read.rows == 3001 + 6001  # both files read through once, the second only counted past the limit
    assert {r["source"] for r in sink} == {"a.xlsx"} and len(sink) == 3000  # none of the file past the limit
    assert sum(matched) <= len(NAMES) * 7  # the first file's texts only: no row of the second was matched
    res = bulk.normalize([small], linker, max_rows=3000)  # exactly at the limit: coded
    assert res.files[0].rows == 3000 and not res.failed


def test_spool_keeps_records_on_disk_in_order_and_rolls_back(monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 3)
    spool = bulk.Spool()
    for i in range(7):
        spool.append({"i": i, "text": "=cmd" if i == 3 else f"行{i}"})
    mark = spool.mark()
    for i in range(7, 12):
        spool.append({"i": i})
    assert len(spool) == 12 and [r["i"] for r in spool] == list(range(12))
    spool.rollback(mark)  # a file that failed half read: its records go
    spool.append({"i": 99})
    assert len(spool) == 8 and [r["i"] for r in spool] == [*range(7), 99]
    assert list(spool)[3]["text"] == "=cmd"  # read back as written (escaping is the writers' job)
    assert len(spool._buf) <= 3  # at most a chunk in memory
    spool.close()


def _peak_reading(path: Path) -> int:
    tracemalloc.start()
    try:
        _fmt, items = stream_document(path)
        for _ in islice(items, None):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_reading_memory_is_flat_in_the_rows(tmp_path):
    """Ten times the rows, about the same peak: the rows are not held (held, 30,000 rows of
    IndicatorRows with their cells are more than 30 MB by themselves)."""
    small = _peak_reading(big_workbook(tmp_path / "small.xlsx", 3000))
    large = _peak_reading(big_workbook(tmp_path / "large.xlsx", 30000))
    assert large < small + 8 * 2**20, (small, large)
