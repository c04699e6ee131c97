"""Property-based: generated indicator tables in every format read back every row, in order, with the
text untouched, both through read_document and through indicode.bulk.normalize."""
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docmakers import write_csv, write_docx, write_pdf_tables, write_xls, write_xlsx
from indicode.bulk import normalize
from indicode.catalogue.readers.detect import read_document
from indicode.catalogue.readers.zhuhai import CODED_RE

HEADER = ["三级指标", "二级指标", "指标值"]
CJK = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 300)) + "率数量满意度及时完成合格"
PUNCT = "（）()%≥≤<>&\"',;:：；、。·-—_/[]{}!?#*＝＋"
# 25 generated tables in each of 9 formats, every one read and coded through the real encoder (their
# texts are new each time): about 15 s, so in the slow tier; test_formats reads each format quickly
pytestmark = pytest.mark.slow
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])


def name_strategy(spaces: bool):
    chars = CJK + string.ascii_letters + string.digits + PUNCT + (" " if spaces else "")
    core = st.text(alphabet=chars, min_size=1, max_size=24)
    lead = st.sampled_from(["", "=", "+", "-", "@", "=HYPERLINK(\"x\")&"] + (["  ", " ="] if spaces else []))
    tail = st.sampled_from(["", " "] if spaces else [""])
    return st.tuples(lead, core, tail).map("".join).filter(
        lambda s: s.strip() and not CODED_RE.match(s.strip()) and s.strip() != "不适用"
        and s.strip() not in HEADER and "\t" not in s)


def rows_strategy(spaces: bool):
    row = st.tuples(name_strategy(spaces), st.sampled_from(["11", "12", "31", "22", "", " "]),
                    st.sampled_from(["100%", "≥95%", "=1+1", "-5", "@x", "", " ", "　"]))
    return st.lists(row, min_size=1, max_size=12)


def lines_of(rows):
    return ["\t".join(HEADER)] + ["\t".join(r) for r in rows]


def write_text(lines, path):
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


WRITERS = {"txt": write_text, "csv": write_csv, "xlsx": write_xlsx, "docx": write_docx, "xls": write_xls,
           # exports as users have them: GBK-family CSV, UTF-16 text
           "gb18030.csv": lambda lines, p: write_csv(lines, p, encoding="gb18030"),
           "utf16.txt": lambda lines, p: p.write_bytes("\n".join(lines).encode("utf-16")) and p}


def check(path, rows, linker, exact=True):
    res = read_document(path)
    want = [r[0] for r in rows]
    assert [r.name for r in res.rows] == [n.strip() for n in want]
    assert [r.value_period for r in res.rows] == [v.strip() for _, _, v in rows]
    if exact:  # the cell as written, spaces and all, kept beside the name
        assert [r.extra["三级指标"] for r in res.rows] == want
    out = normalize([path], linker).records
    assert [rec["三级指标"] for rec in out] == (want if exact else [n.strip() for n in want])
    assert all(rec["decision"] in ("accept", "review", "no-match") for rec in out)


@pytest.mark.parametrize("fmt", list(WRITERS))
@SETTINGS
@given(rows=rows_strategy(spaces=True))
def test_every_row_comes_out_in_order(linker, fmt, rows):
    with tempfile.TemporaryDirectory() as d:
        path = WRITERS[fmt](lines_of(rows), Path(d) / f"gen.{fmt}")
        check(path, rows, linker)


@SETTINGS
@given(rows=rows_strategy(spaces=False))
def test_every_row_comes_out_of_a_pdf(linker, rows):
    # a PDF's text layer keeps no leading or trailing spaces: names are generated without spaces
    with tempfile.TemporaryDirectory() as d:
        path = write_pdf_tables(lines_of(rows), Path(d) / "gen.pdf")
        check(path, rows, linker, exact=False)
