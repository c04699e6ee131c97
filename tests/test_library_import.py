"""`indicode catalogue import`: the provincial library as finance systems keep it, one code a row.

Tables are written here in the formats exports come in (.xlsx, .xls, .csv in UTF-8 or GBK), with the
header variants real exports have; tests/librarymaker.py generates larger ones from the seeds'
vocabulary (documented there)."""
import json
import re
import sqlite3

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import SEED
from indicode.catalogue.build import build, import_library
from indicode.catalogue.lazy import LazyCatalogue
from indicode.catalogue.library import parse_columns
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.records import InputError
from indicode.cli import app
from librarymaker import HEADERS, VARIANT_HEADERS, make_library, write_table

runner = CliRunner()

# hand-made rows: [code, level 1, level 2, name, unit, explanation, standard, enabled]
GOOD = [
    ["111900001", "1-产出指标", "11-数量指标", "培训班举办次数", "次", "反映培训班举办的次数。", "达到得满分", "是"],
    ["112900002", "1-产出指标", "12-质量指标", "培训合格率", "%", "反映参训人员考核合格情况。", "每低1个百分点扣0.5分",
     "否"],
    ["113900003", "1-产出指标", "时效指标", "培训按时完成率", "%", "反映培训按计划完成的情况。", "", "启用"],
    ["331900004", "3-满意度指标", "31-服务对象满意度", "参训学员满意度", "%", "反映学员满意程度。", "", ""],
    ["441900005", "4-成本指标", "成本指标", "培训成本节约率", "%", "", "", "1"],
    ["112000272", "1-产出指标", "12-质量指标", "任务达标完成率", "%", "反映任务达标情况。", "", "是"],  # in seed 000
]


def run(*args, **kw):
    return runner.invoke(app, [str(a) for a in args], **kw)


def lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


@pytest.fixture
def library(tmp_path):
    return write_table(tmp_path / "lib.csv", GOOD)


@pytest.fixture
def imported(tmp_path, library):
    out = tmp_path / "c.sqlite"
    r = run("catalogue", "import", library, "-o", out, "--label", "2025年省指标库")
    assert r.exit_code == 0, r.output
    return out


# ---------------------------------------------------------------- formats and headers

@pytest.mark.parametrize("suffix,encoding", [(".csv", "utf-8-sig"), (".csv", "gbk"), (".xlsx", ""), (".xls", "")])
@pytest.mark.parametrize("headers", [HEADERS, VARIANT_HEADERS], ids=["usual", "variant"])
def test_formats_and_header_variants(tmp_path, suffix, encoding, headers):
    """The same rows read alike from every format, under the usual headers and under the variants
    (`编 码`, `三级指标（指标名称）`, `单位（计量）`, `指标说明`, `状态`), below a title row."""
    lib = write_table(tmp_path / f"lib{suffix}", GOOD, headers, encoding or "utf-8", title="广东省项目支出绩效指标库")
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            lib.read_bytes().decode("utf-8")  # really GBK
    out = tmp_path / "c.sqlite"
    res = import_library([lib], out)
    assert res.refused == 0 and res.imported == len(GOOD)
    cat = Catalogue.load(out)
    assert set(cat.entries) == {r[0] for r in GOOD}
    e = cat.get("112900002")
    assert (e.name, e.level2, e.measure_unit, e.enabled) == ("培训合格率", "12", "%", False)
    assert e.explanation == "反映参训人员考核合格情况。" and e.standard == "每低1个百分点扣0.5分"
    assert cat.get("441900005").level2 == "41"  # `成本指标` under 4-成本指标 is 41, not 14
    assert cat.get("113900003").filed == {"1/13": 1}  # a bare `时效指标` cell
    assert res.libraries[0].columns["name"] == headers[3]


def test_class_cells_as_digits_or_names_and_code_in_the_name_cell(tmp_path):
    rows = [["111900011", "1", "11", "111900011-会议召开次数", "次", "", "", "是"],
            ["112900012", "产出指标", "质量指标", "验收合格率", "%", "", "", "是"]]
    res = import_library([write_table(tmp_path / "lib.csv", rows)], tmp_path / "c.sqlite")
    cat = Catalogue.load(tmp_path / "c.sqlite")
    assert res.refused == 0 and cat.get("111900011").name == "会议召开次数"
    assert cat.get("112900012").filed == {"1/12": 1}


# ---------------------------------------------------------------- --columns

def test_columns_named_otherwise(tmp_path):
    headers = ["Indicator ID", "Title", "Measure", "启用?"]
    rows = [[r[0], r[3], r[4], r[7]] for r in GOOD]
    lib = write_table(tmp_path / "own.csv", rows, headers)
    out = tmp_path / "c.sqlite"
    r = run("catalogue", "import", lib, "-o", out)
    assert r.exit_code == 2 and "no indicator library header found" in r.stderr and "--columns" in r.stderr
    assert not out.exists()
    r = run("catalogue", "import", lib, "-o", out, "--columns", "code=Indicator ID，name=title",
            "--columns", "unit=3,enabled=启用?")
    assert r.exit_code == 0, r.output
    cat = Catalogue.load(out)
    assert cat.get("111900001").measure_unit == "次" and not cat.get("112900002").enabled
    assert "code=Indicator ID, name=Title, unit=Measure, enabled=启用?" in r.stderr


@pytest.mark.parametrize("spec,problem", [
    ("code", "--columns: 'code' is not KEY=COLUMN"),
    ("colour=编码", "--columns: no column key 'colour'; the keys are code, name, level1, level2, unit"),
    ("code=编码,code=代码", "--columns: code is named twice ('编码' and '代码')"),
    ("name=", "--columns: 'name=' is not KEY=COLUMN"),
])
def test_columns_option_mistakes(spec, problem):
    with pytest.raises(InputError, match=problem.replace("?", r"\?").replace("(", r"\(").replace(")", r"\)")):
        parse_columns([spec])


def test_columns_naming_a_missing_header(tmp_path, library):
    r = run("catalogue", "import", library, "-o", tmp_path / "c.sqlite", "--columns", "unit=计价单位")
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "lib.csv: no column '计价单位' for the unit" in r.stderr


# ---------------------------------------------------------------- bad rows, one line each, and exit codes

BAD = [
    (["11190001", "1-产出指标", "11-数量指标", "短码指标数", "个", "", "", "是"],
     "code '11190001' is not 9 digits"),
    (["1119000011", "1-产出指标", "11-数量指标", "长码指标数", "个", "", "", "是"],
     "code '1119000011' is not 9 digits"),
    (["112900021", "2-效益指标", "22-社会效益", "类别不符率", "%", "", "", "是"],
     "code 112900021 is a 1-产出指标 / 12-质量指标 code by its digits, but the row files it under "
     "2-效益指标 / 22-社会效益"),
    (["212900022", "", "", "数字自相矛盾率", "%", "", "", "是"],
     "code 212900022: its level-2 digits 12 are not a class under level 1 2"),
    (["111900023", "1-产出指标", "11-数量指标", "", "个", "", "", "是"], "code 111900023 has no name"),
    (["", "1-产出指标", "11-数量指标", "无编码指标数", "个", "", "", "是"], "no indicator code (name '无编码指标数')"),
    (["111900024", "1-产出指标", "11-数量指标", "状态不明数", "个", "", "", "待定"],
     "code 111900024: enabled cell '待定' is neither yes nor no"),
    (GOOD[0], "code 111900001 '培训班举办次数' again: a duplicate of row 2, left out"),
]


def test_each_bad_row_one_line_the_rest_imported(tmp_path):
    second = ["111900001", "1-产出指标", "11-数量指标", "培训班开班次数", "次", "", "", "是"]
    rows = GOOD + [r for r, _ in BAD] + [second]
    lib = write_table(tmp_path / "lib.csv", rows)
    out = tmp_path / "c.sqlite"
    r = run("catalogue", "import", lib, "-o", out)
    assert r.exit_code == 1, r.output
    refused = lines(r.stderr, "refused: ")
    assert len(refused) == len(BAD)
    for i, (_, why) in enumerate(BAD):
        row = len(GOOD) + 2 + i  # the header is row 1
        assert refused[i].startswith(f"refused: lib.csv:{row}: {why}"), refused[i]
    warned = lines(r.stderr, "warning: ")
    assert warned == [f"warning: lib.csv:{len(rows) + 1}: code 111900001 is named '培训班开班次数' here and "
                      "'培训班举办次数' at row 2: both kept as spellings of it"]
    assert f"lib.csv: {len(GOOD) + 1} rows imported, {len(BAD)} refused" in r.stderr
    cat = Catalogue.load(out)
    assert set(cat.entries) == {g[0] for g in GOOD}  # nothing refused got in, nothing good was lost
    e = cat.get("111900001")
    assert e.name == "培训班举办次数" and e.aliases == ["培训班开班次数"]
    assert [a.kind for a in cat.anomalies_of("111900001")] == ["one-code-many-names"]


def test_unknown_class_cell_is_reported_and_the_digits_decide(tmp_path):
    rows = [["111900031", "1-产出指标", "其他类", "印发文件数", "份", "", "", "是"]]
    r = run("catalogue", "import", write_table(tmp_path / "lib.csv", rows), "-o", tmp_path / "c.sqlite")
    assert r.exit_code == 0
    assert lines(r.stderr, "warning: ") == [
        "warning: lib.csv:2: class '其他类' is not a class of the indicator tree; the code's digits give 11-数量指标"]
    assert Catalogue.load(tmp_path / "c.sqlite").get("111900031").level2 == "11"


def test_nothing_importable_is_exit_2_and_nothing_written(tmp_path):
    lib = write_table(tmp_path / "lib.csv", [r for r, _ in BAD[:3]])
    out = tmp_path / "c.sqlite"
    r = run("catalogue", "import", lib, "-o", out)
    assert r.exit_code == 2 and len(lines(r.stderr, "refused: ")) == 3
    assert lines(r.stderr, "error: ")[-1].startswith(f"error: {lib}: no indicator code could be imported")
    assert not out.exists()
    build([SEED["004"]], out)
    before = out.read_bytes()
    assert run("catalogue", "import", lib, "-o", out).exit_code == 2
    assert out.read_bytes() == before  # an existing catalogue is left as it was


def test_an_unreadable_table_beside_a_good_one_is_exit_1(tmp_path, library):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"")
    out = tmp_path / "c.sqlite"
    r = run("catalogue", "import", library, junk, "-o", out)
    assert r.exit_code == 1 and lines(r.stderr, "error: ") == [f"error: {junk}: empty file"]
    assert len(Catalogue.load(out)) == len(GOOD)
    assert run("catalogue", "import", junk, "-o", tmp_path / "d.sqlite").exit_code == 2


# ---------------------------------------------------------------- merged with documents

def test_merged_with_a_catalogue_built_from_documents(tmp_path, library):
    docs = tmp_path / "docs.sqlite"
    build([SEED["000"], SEED["004"]], docs)
    seeds = Catalogue.load(docs)
    # sources listed together
    together = tmp_path / "together.sqlite"
    assert run("catalogue", "import", library, docs, "-o", together).exit_code == 0
    # -o over the existing catalogue
    assert run("catalogue", "import", library, "-o", docs).exit_code == 0
    for path in (together, docs):
        cat = Catalogue.load(path)
        assert set(cat.entries) == set(seeds.entries) | {r[0] for r in GOOD}
        both = cat.get("112000272")  # in seed 000 and in the library
        assert both.sources == ["000_60102fb8b0c8a01a.txt", "lib.csv"]
        assert both.count == seeds.get("112000272").count + 1 and both.values == seeds.get("112000272").values
        assert both.explanation == "反映任务达标情况。"
        assert cat.get("222000929").aliases == ["保障机构正常运转"]  # the documents' spellings kept
    assert Catalogue.load(docs).fingerprint == Catalogue.load(together).fingerprint


def test_the_library_spelling_is_the_canonical_name(tmp_path):
    docs = tmp_path / "docs.sqlite"
    build([SEED["000"]], docs)
    assert Catalogue.load(docs).get("222000929").name == "保障机构正常运作"  # 2 rows against 1
    rows = [["222000929", "2-效益指标", "22-社会效益", "保障机构正常运转", "%", "", "", "是"]]
    import_library([write_table(tmp_path / "lib.csv", rows)], docs)
    e = Catalogue.load(docs).get("222000929")
    assert e.name == "保障机构正常运转" and e.names == {"保障机构正常运转": 2, "保障机构正常运作": 2}


def test_importing_a_library_again_replaces_its_rows_and_keeps_decisions(tmp_path, library):
    from indicode.workspace import NewDecision, Workspace

    out = tmp_path / "c.sqlite"
    build([SEED["004"]], out)
    import_library([library], out)
    ws = Workspace.open()
    ws.record([NewDecision("培训满意度", "31", "331900004", "甲")], Catalogue.load(out))
    newer = write_table(tmp_path / "lib.csv", GOOD[1:])  # a newer export without the first code
    import_library([newer], out)
    cat = Catalogue.load(out)
    assert "111900001" not in cat.entries and "331900004" in cat.entries
    assert cat.get("331900004").count == 1  # not counted twice
    assert [d.code for d in ws.learned_links(cat.suggestable)] == ["331900004"]  # the workspace's, untouched
    assert set(Catalogue.load(tmp_path / "c.sqlite").entries) >= {"331037299"}  # seed 004's codes stay


# ---------------------------------------------------------------- shown, never suggested

def test_lookup_shows_disabled_unit_and_explanation(imported):
    r = run("lookup", "112900002", "-c", imported)
    assert r.exit_code == 0
    assert "112900002-培训合格率" in r.stdout and "unit: %" in r.stdout and "DISABLED" in r.stdout
    assert "explanation: 反映参训人员考核合格情况。" in r.stdout
    assert "scoring standard: 每低1个百分点扣0.5分" in r.stdout
    found = json.loads(run("lookup", "培训", "-c", imported, "--json").stdout)
    by_code = {d["code"]: d for d in found}
    assert by_code["112900002"]["enabled"] is False and by_code["111900001"]["enabled"] is True
    assert by_code["111900001"]["measure_unit"] == "次"
    assert by_code["111900001"]["explanation"] == "反映培训班举办的次数。"
    r = run("lookup", "111900001", "-c", imported)
    assert "DISABLED" not in r.stdout


def test_export_carries_unit_explanation_and_enabled(tmp_path, imported):
    out = tmp_path / "codes.csv"
    assert run("catalogue", "export", "-o", out, "-c", imported).exit_code == 0
    df = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig").set_index("code")
    assert df.loc["112900002", "measure_unit"] == "%" and df.loc["112900002", "enabled"] == "False"
    assert df.loc["111900001", "explanation"] == "反映培训班举办的次数。"
    assert df.loc["111900001", "standard"] == "达到得满分"


def test_disabled_codes_are_never_suggested(imported, linker):
    from indicode.matcher.linker import Linker
    from indicode.matcher.vector_index import catalogue_names
    from indicode.workspace import NewDecision, Workspace

    cat = LazyCatalogue.load(imported)
    names, codes = catalogue_names(cat)
    assert "112900002" not in codes and "培训合格率" not in names and "111900001" in codes
    lk = Linker(cat, linker.encoder)
    s = lk.suggest("培训合格率", "12")
    assert "112900002" not in [c.code for c in s.candidates]
    assert lk.suggest("培训班举办次数", "11").code == "111900001"  # the enabled ones are
    # a decision pointing at a disabled code is kept in the file but not applied
    ws = Workspace.open()
    ws.record([NewDecision("学员考核合格率", "12", "112900002", "甲")], Catalogue.load(imported))
    s = Linker(LazyCatalogue.load(imported), linker.encoder, learned=ws.learned_links()).suggest("学员考核合格率", "12")
    assert s.reason != "learned" and "112900002" not in [c.code for c in s.candidates]
    assert [d.code for d in ws.learned_links()] == ["112900002"]


def test_disabling_a_code_changes_the_fingerprint_its_text_does_not(tmp_path):
    a = import_library([write_table(tmp_path / "a.csv", GOOD)], tmp_path / "a.sqlite")
    assert a.imported == len(GOOD)
    edited = [[*r[:5], "另一种解释", *r[6:]] for r in GOOD]
    import_library([write_table(tmp_path / "a.csv", edited)], tmp_path / "b.sqlite")
    enabled = [[*r[:7], "是"] for r in GOOD]
    import_library([write_table(tmp_path / "a.csv", enabled)], tmp_path / "c.sqlite")
    fa, fb, fc = (Catalogue.load(tmp_path / f"{x}.sqlite").fingerprint for x in "abc")
    assert fa == fb  # the index built for it still serves: the names it holds are the same
    assert fa != fc  # which codes may be suggested changed


def test_generated_library_codes_found_by_lookup_and_suggest(tmp_path, linker):
    from indicode.matcher.linker import Linker

    lib = tmp_path / "generated.xlsx"
    exp = make_library(lib, 120, seed=3, bad_each=1)
    out = tmp_path / "c.sqlite"
    r = run("catalogue", "import", lib, "-o", out)
    assert r.exit_code == 1  # its bad rows
    for kind, rows in exp.refused.items():
        for row in rows:
            assert any(x.startswith(f"refused: generated.xlsx:{row}: ") for x in lines(r.stderr, "refused: ")), kind
    assert [int(x.split(":")[2]) for x in lines(r.stderr, "warning: ")] == exp.second_names
    cat = Catalogue.load(out)
    assert len(cat) == exp.codes and cat.disabled == frozenset(exp.disabled)
    for code, unit in list(exp.units.items())[:20]:
        assert cat.get(code).measure_unit == unit and cat.get(code).explanation == exp.explanations[code]
    for code, name in exp.enabled[:20]:
        assert code in [e.code for e in cat.lookup(name)]
        assert code in [e.code for e in cat.lookup(code)]
    lk = Linker(LazyCatalogue.load(out), linker.encoder)
    queries = exp.enabled[:15]
    got = lk.suggest_many([(name, code[1:3], "") for code, name in queries])
    for (code, name), s in zip(queries, got, strict=True):
        # an exact name: its code is suggested (another code of the very same name may share the top)
        assert code in [c.code for c in s.candidates[:3]], (code, name, [c.code for c in s.candidates])
    off = [cat.get(c) for c in exp.disabled]
    for s in lk.suggest_many([(e.name, e.level2, "") for e in off]):
        assert not set(exp.disabled) & {c.code for c in s.candidates}


# ---------------------------------------------------------------- the catalogue's version

def test_label_and_time_of_making_shown_by_stats(imported, tmp_path):
    r = run("catalogue", "stats", "-c", imported)
    assert re.search(r"^version +2025年省指标库$", r.stdout, re.M), r.stdout
    assert re.search(r"^codes +\d+ \(\d+ well-formed, 1 disabled\)$", r.stdout, re.M), r.stdout
    s = json.loads(run("catalogue", "stats", "-c", imported, "--json").stdout)
    assert s["label"] == "2025年省指标库" and s["made_at"].endswith("+00:00") and len(s["fingerprint"]) == 16
    v = Catalogue.load(imported).version
    assert (v.label, v.made_at, v.fingerprint) == (s["label"], s["made_at"], s["fingerprint"])
    assert LazyCatalogue.load(imported).version == v
    built = tmp_path / "b.sqlite"
    assert run("catalogue", "build", SEED["004"], "-o", built, "--label", "seeds 004").exit_code == 0
    assert Catalogue.load(built).label == "seeds 004"
    r = run("catalogue", "build", SEED["004"], "-o", built, "--label", "a\x01b")
    assert r.exit_code == 2 and "--label: give one line" in r.stderr


def test_older_files_read_as_they_are(bundled_catalogue):
    """The bundled file is schema 1: every code enabled, no unit, no label."""
    assert bundled_catalogue.label == bundled_catalogue.made_at == ""
    assert bundled_catalogue.disabled == frozenset()
    e = bundled_catalogue.get("112000272")
    assert e.enabled and e.measure_unit == "" and e.explanation == ""
    from indicode.catalogue.paths import BUNDLED_DB

    r = run("catalogue", "stats", "-c", BUNDLED_DB)
    assert re.search(r"^version +\(none\)$", r.stdout, re.M) and re.search(r"^made at +\(unknown", r.stdout, re.M)


def test_a_current_file_without_its_library_columns_is_refused(tmp_path, imported):
    import shutil

    bad = tmp_path / "bad.sqlite"
    shutil.copy(imported, bad)
    with sqlite3.connect(bad) as con:
        con.execute("ALTER TABLE codes DROP COLUMN enabled")
    with pytest.raises(InputError, match="damaged catalogue \\(table codes lacks column enabled\\)"):
        Catalogue.load(bad)


@pytest.mark.slow
def test_http_api_shows_a_disabled_code_and_never_suggests_it(imported):
    from server_proc import call, running_server

    with running_server("--catalogue", str(imported)) as url:
        st, e = call(url, "/api/codes/112900002")
        assert st == 200 and e["enabled"] is False and e["measure_unit"] == "%"
        assert e["explanation"] == "反映参训人员考核合格情况。" and e["standard"] == "每低1个百分点扣0.5分"
        st, found = call(url, "/api/lookup", {"q": "培训合格率"})
        assert st == 200 and [r["code"] for r in found["results"]] == ["112900002"]  # shown
        st, s = call(url, "/api/suggest", {"text": "培训合格率", "class": "12", "k": 10})
        assert st == 200 and "112900002" not in [c["code"] for c in s["candidates"]]  # never suggested
