"""The command line for documents and the catalogue, run as a user runs it."""
import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import SEED
from indicode.cli import app

pytestmark = pytest.mark.usefixtures("shared_vector_cache")  # its commands build Linkers of their own

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_lookup_real_process():
    out = subprocess.run([sys.executable, "-m", "indicode.cli", "lookup", "112000272"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "112000272-任务达标完成率" in out.stdout and "1-产出指标 / 12-质量指标" in out.stdout


def test_lookup_json_and_miss():
    r = run("lookup", "222000929", "--json")
    data = json.loads(r.stdout)
    assert r.exit_code == 0 and data[0]["aliases"] == ["保障机构正常运转"]
    assert run("lookup", "没有这个指标").exit_code == 1


def test_extract_all_seeds_to_csv_and_xlsx(tmp_path):
    out = tmp_path / "rows.csv"
    r = run("extract", *SEED.values(), "-o", out)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert df.groupby("source").size().to_dict() == {
        SEED["000"].name: 178, SEED["001"].name: 58, SEED["002"].name: 37, SEED["003"].name: 166, SEED["004"].name: 155}
    assert "000_60102fb8b0c8a01a.txt:124" in r.stderr
    x = tmp_path / "rows.xlsx"
    assert run("extract", SEED["003"], "-o", x).exit_code == 0
    assert len(pd.read_excel(x, dtype=str)) == 166


@pytest.mark.parametrize("content,problem", [(b"", "empty file"), (bytes(range(256)) * 50, "not a text document"),
                                             ("单位,金额\n局,1\n".encode("gbk"), "no indicator table found")])
def test_bad_input_one_line_error_nonzero(tmp_path, content, problem):
    f = tmp_path / "input.csv"
    f.write_bytes(content)
    r = run("extract", f, "-o", tmp_path / "o.csv")
    assert r.exit_code != 0
    lines = r.stderr.strip().splitlines()
    assert any(str(f) in line and problem in line for line in lines)


def test_catalogue_build_stats_anomalies_export(tmp_path):
    db = tmp_path / "c.sqlite"
    r = run("catalogue", "build", SEED["000"], SEED["004"], "-o", db)
    assert r.exit_code == 0 and "123 codes from 183 coded rows" in r.stdout
    stats = json.loads(run("catalogue", "stats", "-c", db, "--json").stdout)
    assert stats["codes"] == 123 and stats["anomalies"]["malformed-code"] == 1
    an = json.loads(run("catalogue", "anomalies", "-c", db, "--kind", "one-name-many-codes", "--json").stdout)
    assert {a["code"] for a in an} == {"111000231", "111000234"}
    assert run("catalogue", "export", "-c", db, "-o", tmp_path / "c.xlsx").exit_code == 0
    codes = pd.read_excel(tmp_path / "c.xlsx", sheet_name="编码", dtype=str)  # a workbook for people: Chinese
    assert len(codes) == 123 and list(codes.columns[:5]) == ["编码", "名称", "其他名称", "一级类别", "二级类别"]
    assert set(codes["格式正确"]) == {"是", "否"}
    kinds = pd.read_excel(tmp_path / "c.xlsx", sheet_name="异常")["异常"]
    assert "编码不是 9 位数字" in set(kinds) and not any("-" in k for k in kinds)
    bad = run("catalogue", "export", "-c", db, "-o", tmp_path / "c.pdf")
    assert bad.exit_code == 2 and "output must end in" in bad.stderr
