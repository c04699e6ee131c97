"""`indicode calibrate` and the workspace's own model: stored in the workspace on both backends (with
the upgrade of an older workspace), used by every Linker opened with it, never by one without a
workspace; the shipped links inside the package; reset and history; the decision model's learned part."""
from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from conftest import GOLD_DEV, ROOT
from indicode.cli import app
from indicode.matcher.gold import read_gold
from indicode.matcher.model import LINKS_PATH, ScoreModel
from indicode.workspace import Workspace
from indicode.workspace.models import model_history, model_in_use, store_model
from indicode.workspace.schema import SCHEMA_KEY, SCHEMA_VERSION

runner = CliRunner()


def _team_model(tag: str = "team") -> ScoreModel:
    m = ScoreModel.load()
    m.fitted_on, m.review = tag, 0.4
    return m


def test_the_workspace_keeps_its_model_and_its_history(location):
    ws = Workspace.open(location)
    assert model_in_use(ws) is None and model_history(ws) == []  # never calibrated: the shipped model
    first = store_model(ws, _team_model(), adopted=True, figures={"before": {"end_to_end": 0.9}}, decisions=3,
                        reviewer="王")
    again = Workspace.open(location)  # another process sees it
    assert model_in_use(again) == _team_model() and model_in_use(again).review == 0.4
    store_model(again, None, reviewer="李")  # reset
    assert model_in_use(Workspace.open(location)) is None
    hist = model_history(Workspace.open(location))
    assert [(h.id, h.reset, h.adopted, h.reviewer) for h in hist] == [(first.id, False, True, "王"),
                                                                      (hist[1].id, True, False, "李")]
    assert hist[0].figures == {"before": {"end_to_end": 0.9}} and hist[0].decisions == 3 and hist[1].id > first.id
    assert ws.state()[2] == hist[1].id  # a server sees the change and reloads


def test_a_version_2_workspace_is_upgraded_with_the_models_table(location):
    ws = Workspace.open(location)
    with ws.backend.transaction(write=True) as tx:  # as a workspace of schema 2 was
        tx.execute("DROP TABLE models")
        tx.execute("UPDATE meta SET value = ? WHERE key = ?", ("2", SCHEMA_KEY))
    ws.close()
    old = Workspace.open(location)
    with old.backend.transaction() as tx:
        assert tx.execute("SELECT value FROM meta WHERE key = ?", (SCHEMA_KEY,))[0][0] == str(SCHEMA_VERSION)
    assert model_in_use(old) is None
    store_model(old, _team_model())
    assert model_in_use(Workspace.open(location)).fitted_on == "team"


@pytest.mark.usefixtures("shared_vector_cache")
def test_every_linker_on_the_workspace_uses_its_model_and_none_other(linker, tmp_path):
    from indicode.api import Matcher
    from indicode.workspace.use import linker_for

    ws = Workspace.open(tmp_path / "ws.sqlite")
    store_model(ws, _team_model("our fit"))
    with_ws, _ = linker_for(ws, encoder=linker.encoder)
    without, _ = linker_for(None, encoder=linker.encoder)
    assert with_ws.model.fitted_on == "our fit" and with_ws.model.review == 0.4
    assert without.model == ScoreModel.load()
    assert Matcher(workspace=tmp_path / "ws.sqlite").linker.model.fitted_on == "our fit"
    store_model(ws, None)
    assert linker_for(ws, encoder=linker.encoder)[0].model == ScoreModel.load()


def test_the_shipped_links_are_in_the_package_and_current():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "shipped_links.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    links = read_gold(LINKS_PATH)
    assert len(links) == sum(len(read_gold(ROOT / "tests" / "data" / f"gold_{n}.csv"))
                             for n in ("dev", "external", "external2"))
    assert len({g.uid for g in links}) == len(links)  # the files' uids kept apart
    assert "data/links.csv" in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.usefixtures("shared_vector_cache")
def test_calibrate_without_arguments_keeps_the_shipped_model_when_nothing_is_adopted(tmp_path):
    ws = str(tmp_path / "ws.sqlite")
    shipped = ScoreModel.load()
    r = runner.invoke(app, ["calibrate", "-w", ws])
    assert r.exit_code == 0, r.output
    assert "nothing to adopt" in r.output and "uses the shipped model" in r.output
    assert model_history(Workspace.open(ws)) == [] and ScoreModel.load() == shipped  # the package untouched


@pytest.mark.usefixtures("shared_vector_cache")
def test_calibrate_on_files_stores_in_the_workspace_and_output_writes_a_file(tmp_path):
    ws = str(tmp_path / "ws.sqlite")
    rows = GOLD_DEV.read_text(encoding="utf-8").splitlines()
    head, body = rows[0], [r for r in rows[1:] if r.split(",")[1] in ("001", "002")]
    f = tmp_path / "ours.csv"
    f.write_text("\n".join([head, *body]) + "\n", encoding="utf-8")
    shipped = ScoreModel.load()
    r = runner.invoke(app, ["calibrate", str(f), "-w", ws])
    assert r.exit_code == 0, r.output
    assert "now uses this model" in r.output
    assert model_in_use(Workspace.open(ws)).fitted_on == str(f) and ScoreModel.load() == shipped
    out = tmp_path / "model.json"
    r = runner.invoke(app, ["calibrate", str(f), "-w", ws, "--output", str(out)])
    assert r.exit_code == 0 and f"wrote {out}" in r.output
    assert ScoreModel.load(out).fitted_on == str(f) and len(model_history(Workspace.open(ws))) == 1
    r = runner.invoke(app, ["calibrate", "--reset", "-w", ws])
    assert r.exit_code == 0 and "shipped model again" in r.output and model_in_use(Workspace.open(ws)) is None
    r = runner.invoke(app, ["calibrate", "--history", "-w", ws])
    lines = r.output.strip().splitlines()
    assert len(lines) == 2 and f"fitted on {f}" in lines[0] and "back to the shipped model" in lines[1]


def test_learned_evidence_lifts_to_review_or_drops_to_no_match_never_to_accept():
    from indicode.matcher.linker import Linker
    from indicode.matcher.results import Candidate, Verdict

    m = _team_model()
    m.learned_decide = {"learned_sim": 4.0, "learned_nil": -4.0}
    assert m.with_learned(0.2, {"vec": 0.9}) == 0.2  # no learned evidence: the score as it was
    assert m.with_learned(0.2, {"learned_sim": 0.9}) > 0.8 > 0.05 > m.with_learned(0.5, {"learned_nil": 0.9})

    def decide(feats, score, decision):
        top = Candidate("111000231", "召开会议次数", "召开会议次数", "11", score, 0.0, feats)
        other = Candidate("111000234", "召开会议次数", "召开会议次数", "11", score, 0.0, {})
        return Linker._with_learned(SimpleNamespace(model=m), [top, other], decision), top, other

    v, top, other = decide({"learned_sim": 0.95}, 0.2, Verdict.NO_MATCH)
    assert v == Verdict.REVIEW and top.score > m.accept  # surer, and still only reviewed
    v, top, other = decide({"learned_nil": 0.95}, 0.6, Verdict.REVIEW)
    assert v == Verdict.NO_MATCH and other.score <= top.score  # the list still in the order of its scores
    assert decide({"learned_sim": 0.95}, 0.95, Verdict.ACCEPT)[0] == Verdict.ACCEPT  # an accept stays as it is
    # a near-identical text's decision is settled by `policy.learned_verdict`, not weighed again
    assert decide({"learned_sim": 0.95, "learned_same": 1.0}, 0.2, Verdict.REVIEW)[0] == Verdict.REVIEW
    assert decide({"learned_nil": 0.95, "learned_nil_same": 1.0}, 0.6, Verdict.REVIEW)[0] == Verdict.REVIEW


def test_the_decision_model_rows_are_the_first_queries_asked():
    """`_decision_rows` takes each query's top over the queries asked for, in order."""
    import numpy as np

    from indicode.matcher.calibration import DECISION_FEATURES, PairTable, _decision_rows
    from indicode.matcher.features import FEATURES

    t = PairTable(X=np.zeros((4, len(FEATURES))), D=np.zeros((4, len(DECISION_FEATURES))),
                  y=np.array([1.0, 0.0, 1.0, 0.0]), rix=np.array([0, 0, 1, 1]), codes=["a", "b", "a", "b"],
                  acceptable=np.ones(4, dtype=bool), nil=np.zeros(4))
    Z, ok, row_of, _ = _decision_rows(t, np.zeros(len(FEATURES)), 0.0, 1, True)
    assert row_of.tolist() == [0] and len(Z) == 1
    assert _decision_rows(t, np.zeros(len(FEATURES)), 0.0, 2, True)[2].tolist() == [0, 1]


@pytest.mark.usefixtures("shared_vector_cache")
def test_one_pair_table_serves_every_fold(linker):
    """A fold's table cut from the table of all rows is the table of the fold's rows (no learned links)."""
    import numpy as np

    from indicode.matcher.calibration import pair_table

    gold = read_gold(GOLD_DEV)[:12]
    whole, keep = pair_table(linker, gold), [7, 2, 3, 11]
    part, direct = whole.rows(keep), pair_table(linker, [gold[i] for i in keep])
    assert np.array_equal(part.X, direct.X) and np.array_equal(part.rix, direct.rix) and part.codes == direct.codes
    assert np.array_equal(part.y, direct.y) and np.array_equal(part.D, direct.D)


@pytest.mark.usefixtures("shared_vector_cache")
def test_a_server_on_the_workspace_takes_a_new_fit_and_a_reset(tmp_path, linker):
    from indicode.catalogue.lookup import Catalogue
    from indicode.matcher.linker import Linker
    from indicode.server import Service
    from server_proc import copy_bundled

    cat = copy_bundled(tmp_path)
    ws = Workspace.open()
    svc = Service(Linker(Catalogue.load(cat), linker.encoder, model=linker.model, index=linker.index), ws,
                  follow=False)
    assert svc.linker().model == ScoreModel.load()
    store_model(Workspace.open(), _team_model("fitted by calibrate"))  # another process calibrates
    assert svc.linker().model.fitted_on == "fitted by calibrate" and svc.reloads == 1
    store_model(Workspace.open(), None)
    assert svc.linker().model == ScoreModel.load() and svc.reloads == 2


@pytest.mark.usefixtures("shared_vector_cache")
def test_the_three_shared_files_are_learned_as_they_are_then_calibrate(tmp_path):
    """What the checker runs: `indicode learn` of each shared file, then `indicode calibrate`. Their texts
    are the shipped links' own, so there is nothing to adopt: the gain is the decisions' evidence."""
    ws = str(tmp_path / "ws.sqlite")
    for name in ("dev", "external", "external2"):
        r = runner.invoke(app, ["learn", str(ROOT / "tests" / "data" / f"gold_{name}.csv"), "-w", ws])
        assert r.exit_code == 0 and "refused 0 cells" in r.output, r.output
    assert len(Workspace.open(ws).learned_links()) == 289  # 296 rows, 7 texts twice
    r = runner.invoke(app, ["calibrate", "-w", ws])
    assert r.exit_code == 0 and "nothing to adopt" in r.output and model_in_use(Workspace.open(ws)) is None


def test_decisions_are_adopted_only_when_no_figure_gets_worse():
    from indicode.matcher.refit import adopts

    before = {"end_to_end": 0.9, "recall5": 0.96, "top1": 0.9, "accept_share": 0.6, "accept_precision": 1.0}
    assert adopts(before, dict(before))  # holds
    assert adopts(before, {**before, "end_to_end": 0.92, "top1": 0.91})  # improves
    assert not adopts(before, {**before, "end_to_end": 0.95, "top1": 0.89})  # better end to end, worse first
    assert not adopts(before, {**before, "end_to_end": 0.95, "accept_precision": 0.99})  # nor a wrong accept
