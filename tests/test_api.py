"""The Python API (`indicode.Matcher`), the README's example, --version and `-o -`."""
import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

import indicode
from conftest import ROOT, SEED
from indicode.api import NORMALIZE_COLUMNS, Matcher
from indicode.catalogue.records import InputError
from indicode.cli import app
from indicode.matcher.present import why

pytestmark = pytest.mark.usefixtures("shared_vector_cache")  # its commands build Linkers of their own

runner = CliRunner()


@pytest.fixture(scope="module")
def matcher(linker):
    m = Matcher.__new__(Matcher)  # the session's linker: same catalogue, encoder and model as Matcher()
    m.linker = linker
    return m


def test_readme_example_runs(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Python API.*?```python\n(.*?)```", readme, re.S).group(1)
    ns: dict = {}
    exec(compile(block, "README.md", "exec"), ns)
    s, out, df = ns["s"], ns["out"], ns["df"]
    assert s.decision == "accept" and s.code.startswith("331")
    assert all(c.code and c.name and why(c) for c in s.candidates)
    assert list(out.index) == list(df.index) == ["a", "b"] and list(out.columns) == NORMALIZE_COLUMNS
    assert out.loc["a", "code"] == s.code and out.loc["b", "decision"] == "no-match"
    assert out.loc["b", "new_code_class"] == "11-数量指标"
    printed = capsys.readouterr().out
    assert s.code in printed and indicode.__version__ in printed


def test_normalize_keeps_index_and_checks_written_codes(matcher):
    df = pd.DataFrame({"name": ["任务达标完成率", "办事群众满意度", None, "任务达标完成率"],
                       "cls": [12, "服务对象满意度", "", 12.0], "code": ["112000272", "", "", ""]},
                      index=[10, 20, 30, 40])
    out = matcher.normalize(df, name="name", level2="cls", code="code")
    assert list(out.index) == [10, 20, 30, 40]
    assert out.loc[10, "reason"] == "written code" and out.loc[10, "check"] == "ok"
    assert out.loc[20, "code"].startswith("331")  # 服务对象满意度 read as class 31
    assert out.loc[30, "decision"] == "no-match" and out.loc[30, "code"] == ""  # empty name: kept, not matched
    assert out.loc[40, "code"] == "112000272"  # the class given as the float 12.0 is class 12


def test_normalize_names_a_missing_column(matcher):
    with pytest.raises(InputError, match="no column 'x' for level2"):
        matcher.normalize(pd.DataFrame({"name": ["a"]}), name="name", level2="x")


def test_suggest_refuses_a_bad_class(matcher):
    with pytest.raises(InputError, match="not a class"):
        matcher.suggest("任务完成率", level2="99")


def test_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip() == f"indicode {indicode.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", indicode.__version__)


def test_output_to_stdout_as_json_lines(tmp_path):
    r = runner.invoke(app, ["extract", str(SEED["002"]), "-o", "-"])
    assert r.exit_code == 0, r.output
    recs = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(recs) == 37 and all(rec["source"] == SEED["002"].name for rec in recs)


def test_json_lines_are_strict_json_when_rows_differ(tmp_path):
    """Two tables with different headers normalized together: a row lacks the other's columns, and
    the JSON Lines say null there, never NaN."""
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("三级指标,项目\n任务完成率,甲\n", encoding="utf-8")
    b.write_text("三级指标,单位\n办事群众满意度,乙\n", encoding="utf-8")
    r = runner.invoke(app, ["normalize", str(a), str(b), "-o", "-", "--quiet"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    recs = [json.loads(line, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}")) for line in lines]
    assert len(recs) == 2 and recs[0]["单位"] is None and recs[1]["项目"] is None
