"""Which decisions a command applies (issue 20 §1, §4): every matching command (suggest, normalize,
evaluate) applies the workspace in force, and says which catalogue and workspace it uses (`status`);
the Python API applies none unless given a workspace, so a notebook is repeatable."""
from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from indicode.api import Matcher
from indicode.cli import app
from indicode.workspace import Workspace
from indicode.workspace.store import default_location

runner = CliRunner()
TEXT, KLASS, TAUGHT = "租金支付及时率", "13", "113001668"  # the matcher's own answer is another code


def _taught(tmp_path):
    reviewed = tmp_path / "reviewed.csv"
    reviewed.write_text(f"indicator,class,reviewer_code\n{TEXT},{KLASS},{TAUGHT}\n", encoding="utf-8")
    r = runner.invoke(app, ["learn", str(reviewed), "--reviewer", "王"])
    assert r.exit_code == 0, r.output
    return Workspace.open().in_force()[0]


def test_the_python_api_applies_a_workspace_only_when_given_one(tmp_path):
    decision = _taught(tmp_path)  # in the default workspace, as a click in the page would put it
    plain = Matcher()
    assert plain.suggest(TEXT, level2=KLASS).reason != "learned"
    s = plain.status().to_dict()
    assert (s["workspace"], s["decisions"]) == ("", 0) and s["fingerprint"] == plain.catalogue.fingerprint
    taught = Matcher(workspace=default_location())
    got = taught.suggest(TEXT, level2=KLASS)
    assert (got.code, got.reason) == (TAUGHT, "learned")
    s = taught.status().to_dict()
    assert (s["workspace"], s["backend"], s["decisions"]) == (default_location(), "sqlite", 1)
    assert s["catalogue"].endswith("catalogue.sqlite") and s["fingerprint"] == decision.catalogue
    # a decision made after the Matcher was built does not change its answers (repeatable)
    Workspace.open().retract([decision.id], "王")
    assert taught.suggest(TEXT, level2=KLASS).code == TAUGHT


def test_suggest_normalize_and_evaluate_apply_the_workspace_in_force(tmp_path):
    _taught(tmp_path)
    empty = tmp_path / "empty.sqlite"
    s = json.loads(runner.invoke(app, ["suggest", TEXT, "--class", KLASS, "--json"]).stdout)
    assert (s["code"], s["reason"]) == (TAUGHT, "learned")
    s = json.loads(runner.invoke(app, ["suggest", TEXT, "--class", KLASS, "--json", "-w", str(empty)]).stdout)
    assert s["reason"] != "learned" and s["code"] != TAUGHT
    doc = tmp_path / "doc.csv"
    doc.write_text(f"三级指标,二级指标\n{TEXT},{KLASS}\n", encoding="utf-8")
    out = tmp_path / "n.csv"
    assert runner.invoke(app, ["normalize", str(doc), "-o", str(out), "-q"]).exit_code == 0
    row = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig").iloc[0]
    assert (row["code"], row["decision"]) == (TAUGHT, "accept")
    gold = tmp_path / "gold.csv"
    gold.write_text(f"uid,source,level2,name,value,gold,acceptable\n1,x,{KLASS},{TEXT},,{TAUGHT},{TAUGHT}\n",
                    encoding="utf-8")
    taught = json.loads(runner.invoke(app, ["evaluate", str(gold), "--json"]).stdout)
    untaught = json.loads(runner.invoke(app, ["evaluate", str(gold), "--json", "-w", str(empty)]).stdout)
    assert (taught["top1"], untaught["top1"]) == (1.0, 0.0)


def test_status_says_what_is_in_use(tmp_path):
    decision = _taught(tmp_path)
    s = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert (s["workspace"], s["decisions"], s["events"]) == (default_location(), 1, 1)
    assert s["catalogue"].endswith("catalogue.sqlite") and s["fingerprint"] == decision.catalogue
    text = runner.invoke(app, ["status"]).stdout
    assert default_location() in text and decision.catalogue in text
