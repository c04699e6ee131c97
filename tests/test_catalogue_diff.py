"""`catalogue.diff.diff(old, new)` and `indicode catalogue diff OLD NEW`: what a workspace meets when
it moves to another catalogue."""
import json
import shutil

import pytest
from typer.testing import CliRunner

from conftest import SEED
from indicode.catalogue.build import build, import_library
from indicode.catalogue.diff import CatalogueDiff, diff
from indicode.catalogue.entries import Entry
from indicode.catalogue.lazy import LazyCatalogue
from indicode.catalogue.lookup import Catalogue
from indicode.cli import app
from librarymaker import write_table

runner = CliRunner()
ROW = ["1-产出指标", "12-质量指标"]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """Four versions: the seeds 000+004; the same with a library (one code renamed by the library's
    spelling, one disabled, two added); 000 only with that library (004's codes gone); the library
    again with the disabled code enabled."""
    d = tmp_path_factory.mktemp("versions")
    seeds = d / "seeds.sqlite"
    build([SEED["000"], SEED["004"]], seeds, label="seeds")
    rows = [["222000929", "2-效益指标", "22-社会效益", "保障机构正常运转", "%", "", "", "是"],
            ["112000287", *ROW, "验收合格率", "%", "", "", "否"],
            ["112900001", *ROW, "培训合格率", "%", "", "", "是"],
            ["112900002", *ROW, "教材验收合格率", "%", "", "", "停用"]]
    lib = write_table(d / "lib.csv", rows)
    with_lib = d / "with_lib.sqlite"
    shutil.copy(seeds, with_lib)
    import_library([lib], with_lib, label="library 1")
    only000, fewer = d / "only000.sqlite", d / "fewer.sqlite"
    build([SEED["000"]], only000)
    shutil.copy(only000, fewer)
    import_library([lib], fewer)
    again = d / "again.sqlite"
    shutil.copy(with_lib, again)
    rows[1][-1] = "是"
    import_library([write_table(d / "lib.csv", rows)], again, label="library 2")
    return {k: Catalogue.load(v) for k, v in
            {"seeds": seeds, "with_lib": with_lib, "only000": only000, "fewer": fewer, "again": again}.items()}, d


def codes(changes):
    return [c.code for c in changes]


def test_renamed_disabled_added(versions):
    cats, _ = versions
    d = diff(cats["seeds"], cats["with_lib"])
    assert codes(d.renamed) == ["222000929"]
    assert (d.renamed[0].old_name, d.renamed[0].new_name) == ("保障机构正常运作", "保障机构正常运转")
    assert codes(d.disabled) == ["112000287"]
    assert codes(d.added) == ["112900001", "112900002"]  # one of them added disabled: added only
    assert d.gone == [] and d.reenabled == [] and d.class_changed == []
    assert d.unusable == {"112000287"}
    assert (d.old.label, d.new.label) == ("seeds", "library 1") and d.old.fingerprint != d.new.fingerprint


def test_gone_and_reenabled(versions):
    cats, _ = versions
    d = diff(cats["with_lib"], cats["fewer"])
    only_004 = set(cats["seeds"].entries) - set(cats["only000"].entries)
    assert set(codes(d.gone)) == only_004 and len(only_004) == 5
    assert all(c.old_name and not c.new_name for c in d.gone)
    d = diff(cats["with_lib"], cats["again"])
    assert codes(d.reenabled) == ["112000287"] and d.disabled == [] and d.unusable == set()


def test_rebuilt_without_ten_codes_lists_those_ten(tmp_path):
    """A catalogue rebuilt from a table lacking 10 of its codes: exactly those 10 are gone."""
    rows = [[f"11190{i:04d}", "1-产出指标", "11-数量指标", f"第{i}项工作完成数", "项", "", "", "是"] for i in range(60)]
    old, new = tmp_path / "old.sqlite", tmp_path / "new.sqlite"
    import_library([write_table(tmp_path / "lib.csv", rows)], old)
    import_library([write_table(tmp_path / "lib.csv", rows[10:])], new)
    d = diff(LazyCatalogue.load(old), LazyCatalogue.load(new))  # the lazy catalogue the server holds, too
    assert codes(d.gone) == [r[0] for r in rows[:10]] and d.unusable == {r[0] for r in rows[:10]}
    assert not (d.renamed or d.disabled or d.added or d.reenabled or d.class_changed)


def test_class_changed_between_catalogues_in_memory(tmp_path):
    """A code's class is read off its digits today, so two catalogues this indicode makes never differ
    in it; one made by another rule (an older release, another tool) may: the diff says so."""
    def cat(level2):
        e = Entry(code="112000287", name="验收合格率", level1=level2[0], level2=level2, valid=True,
                  names={"验收合格率": 1}, count=1)
        return Catalogue(tmp_path / "x.sqlite", [e], [], f"fp{level2}", [])

    d = diff(cat("11"), cat("12"))
    assert [(c.code, c.old_class, c.new_class) for c in d.class_changed] == [("112000287", "1/11", "1/12")]
    assert "1 code changed class" in "\n".join(d.summary())


def test_same_catalogue_no_change(versions):
    cats, _ = versions
    d = diff(cats["seeds"], cats["seeds"])
    assert isinstance(d, CatalogueDiff) and d.is_empty() and d.summary()[-1] == "no code changed"


def test_cli_summary_and_json(versions):
    cats, _ = versions
    old, new = cats["seeds"].path, cats["with_lib"].path
    r = run("catalogue", "diff", old, new)
    assert r.exit_code == 0, r.output
    out = r.stdout.splitlines()
    assert out[0].startswith("old: seeds, fingerprint ") and out[1].startswith("new: library 1, fingerprint ")
    assert "1 code renamed" in out and "  222000929: 保障机构正常运作 → 保障机构正常运转" in out
    assert "1 code disabled" in out and "  112000287-验收合格率" in out
    assert "2 codes added" in out
    data = json.loads(run("catalogue", "diff", old, new, "--json").stdout)
    assert [c["code"] for c in data["disabled"]] == ["112000287"]
    assert data["renamed"][0] == {"code": "222000929", "old_name": "保障机构正常运作", "new_name": "保障机构正常运转",
                                  "old_class": "2/22", "new_class": "2/22"}
    assert data["old"]["label"] == "seeds" and set(data) == {"old", "new", *CatalogueDiff.KINDS}


def test_cli_long_lists_are_cut(tmp_path, versions):
    cats, _ = versions
    rows = [[f"11190{i:04d}", "1-产出指标", "11-数量指标", f"第{i}项工作完成数", "项", "", "", "是"] for i in range(25)]
    new = tmp_path / "new.sqlite"
    import_library([write_table(tmp_path / "lib.csv", rows)], new)
    r = run("catalogue", "diff", cats["seeds"].path, new)
    assert "25 codes added" in r.stdout and "  … and 15 more (--json lists every one)" in r.stdout
    assert "123 codes gone" in r.stdout


def test_cli_bad_catalogue_one_line(tmp_path, versions):
    cats, _ = versions
    junk = tmp_path / "junk.sqlite"
    junk.write_text("no")
    r = run("catalogue", "diff", cats["seeds"].path, junk)
    assert r.exit_code == 2 and r.stderr.strip().splitlines() == [f"error: {junk}: not an indicode catalogue "
                                                                  "(not an SQLite database)"]
