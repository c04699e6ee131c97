"""Fitting: the logistic ranker, Platt calibration, thresholds; and the evaluation command."""
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import GOLD_DEV
from indicode.catalogue.records import InputError
from indicode.cli import app
from indicode.matcher.calibration import fit, logistic_fit
from indicode.matcher.evaluate import KEYS, evaluate, metrics, predict_out_of_fold, source_folds
from indicode.matcher.features import FEATURES
from indicode.matcher.gold import read_gold
from indicode.matcher.model import ScoreModel

pytestmark = pytest.mark.usefixtures("shared_vector_cache")  # its commands build Linkers of their own

runner = CliRunner()


def test_logistic_fit_recovers_known_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 2))
    p = 1 / (1 + np.exp(-(2.0 * X[:, 0] - 1.0 * X[:, 1] + 0.5)))
    y = (rng.random(4000) < p).astype(float)
    w, b = logistic_fit(X, y, l2=1e-3)
    assert np.allclose(w, [2.0, -1.0], atol=0.2) and abs(b - 0.5) < 0.2


def test_fit_gives_ordered_thresholds_and_monotone_scores(linker):
    gold = read_gold(GOLD_DEV)
    m = fit(linker, gold[:90])
    assert 0 < m.review <= m.accept <= 1.01 and m.accept >= 0.9
    assert m.calib_a > 0
    assert m.calibrated(2.0, 1.0) > m.calibrated(0.0, 1.0) > m.calibrated(-2.0, 1.0)
    assert m.weights["class_same"] > 0 > m.weights["class_diff"]


@pytest.mark.slow
def test_review_threshold_is_where_showing_the_code_beats_no_match(linker):
    """A score is the chance p that the top is right. Showing it is right where "no match" is not
    with p·(1 - q) (q: right tops where "no code fits" is acceptable too), "no match" where the code
    is not with (1 - p)·r (r: wrong tops no code fits): the cut is r / (1 - q + r), and a top just
    above it is reviewed, just below it is "no match"."""
    from indicode.matcher.calibration import _decision_rows, pair_table
    from indicode.matcher.gold import NIL
    from indicode.matcher.policy import verdict
    from indicode.matcher.results import Verdict

    gold = read_gold(GOLD_DEV) + read_gold(GOLD_DEV.parent / "gold_external.csv")
    t = pair_table(linker, gold)
    m = fit(linker, gold, table=t, learned_table=t)
    w = np.array([m.effective_weights.get(f, 0.0) for f in FEATURES])
    _, top_ok, row_of, _ = _decision_rows(t, w, m.bias, len(gold), True)
    nil = np.array([NIL in gold[i].acceptable for i in row_of])
    r, q = nil[top_ok == 0].mean(), nil[top_ok == 1].mean()
    assert 0.5 < r < 1 and 0 < q < 0.5  # both corrections matter on these links
    assert m.review == pytest.approx(r / (1 - q + r)) and m.review != pytest.approx(r / (1 + r))
    at = lambda p: verdict(p, {}, m.accept, m.review)  # noqa: E731
    assert at(m.review + 1e-6) == Verdict.REVIEW and at(m.review - 1e-6) == Verdict.NO_MATCH


def test_the_accept_threshold_is_fitted_only_over_tops_that_may_be_accepted(linker):
    """The fit's "may be accepted" is the runtime rule (`policy.may_accept`) on every feature the
    candidate has, those outside the ranker's and decision model's columns (`unit_differs`) too."""
    from indicode.matcher.calibration import _decision_rows, pair_table
    from indicode.matcher.gold import GoldRow
    from indicode.matcher.policy import may_accept

    rows = [("审批时效", "13", "113065595"), ("驻场运营人次数", "11", "111001540"), ("采购时效", "13", "113065595")]
    gold = [GoldRow(f"r{i}", "s", c, t, "", g, frozenset([g])) for i, (t, c, g) in enumerate(rows)]
    t = pair_table(linker, gold)
    for i, g in enumerate(gold):
        cands = linker.score(linker.make_query(g.name, g.level2), linker.encode_queries([g.name])[0])
        assert [may_accept(c.features) for c in cands] == t.acceptable[t.rix == i].tolist()
    w = np.array([linker.model.weights.get(f, 0.0) for f in FEATURES])
    *_, eligible = _decision_rows(t, w, linker.model.bias, len(gold), True)
    assert eligible.tolist() == [False, False, True]  # none of 采购; 人次 for 人员; the code's own name


@pytest.fixture(scope="module")
def figures(linker):
    return evaluate(linker, read_gold(GOLD_DEV))


def test_dev_figures_meet_the_targets(figures):
    """A regression guard on the shipped model (fitted on these links; cross-validated figures are
    in the README)."""
    assert figures["top1"] >= 0.88 and figures["recall5"] >= 0.97
    assert figures["end_to_end"] >= 0.91 and figures["accept_precision"] >= 0.98
    assert figures["accept_share"] >= 0.50


@pytest.mark.slow
def test_figures_hold_on_documents_not_fitted_on(linker):
    """Each source's links (a seed document, another province) scored by a model fitted on the
    other sources' links."""
    from conftest import ROOT

    gold = read_gold(GOLD_DEV) + read_gold(ROOT / "tests" / "data" / "gold_external.csv")
    assert len(source_folds(gold)) >= 8  # provinces are folds of their own
    out = metrics(gold, predict_out_of_fold(linker, gold, source_folds(gold)))
    # the targets are top-1 0.88, end-to-end 0.91, accept precision 0.98 with half accepted;
    # measured 0.895 / 0.974 / 0.908 / 1.000 / 0.526 (README): the guard leaves a row or two of room
    assert out["top1"] >= 0.87 and out["recall5"] >= 0.96 and out["end_to_end"] >= 0.90
    assert out["accept_precision"] >= 0.97 and out["accept_share"] >= 0.50


def test_crossval_script_bad_input_is_one_line(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    nosource = tmp_path / "nosource.csv"
    nosource.write_text("uid,level2,name,value,gold,acceptable\n1,31,a满意度,90%,331000551,331000551\n",
                        encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("uid,name\n1,x\n", encoding="utf-8")
    for f, args, msg in [(nosource, ["--by-source"], "two or more sources"), (bad, [], "missing column"),
                         (nosource, ["--by-file"], "two or more gold files")]:
        r = subprocess.run([sys.executable, str(ROOT / "scripts" / "crossval.py"), str(f), *args],
                           capture_output=True, text=True)
        assert r.returncode == 1 and r.stderr.count("\n") == 1 and str(f) in r.stderr and msg in r.stderr


def test_partial_object_suggestions_are_calibrated_lower(linker):
    """Most top suggestions that name an object the query only partly has are wrong; the
    calibration learns that from the links rather than being told."""
    m = fit(linker, read_gold(GOLD_DEV))
    assert m.calib_p < 0
    assert m.calibrated(0.5, 1.0, partial=1.0) < m.calibrated(0.5, 1.0, partial=0.0)


def test_hybrid_beats_both_baselines(figures):
    for name in ("fuzzy", "vector"):
        base = figures["baselines"][name]
        for key in ("top1", "recall5", "end_to_end", "nomatch_precision", "accept_precision", "accept_share"):
            assert figures[key] > base[key], (name, key)


def test_calibration_table_is_roughly_calibrated(figures):
    table = figures["calibration"]
    assert sum(r["n"] for r in table) == figures["rows"]
    high = [r for r in table if r["mean_score"] >= 0.8]
    low = [r for r in table if r["mean_score"] < 0.2]
    assert high and low
    assert min(r["right"] for r in high) >= 0.75 and max(r["right"] for r in low) <= 0.35


def test_evaluate_cli_json_keys(tmp_path):
    small = tmp_path / "g.csv"
    lines = GOLD_DEV.read_text(encoding="utf-8").splitlines()
    small.write_text("\n".join(lines[:30]) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["evaluate", str(small), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(KEYS) <= set(d) and set(d["baselines"]) == {"fuzzy", "vector"}
    assert set(KEYS) <= set(d["baselines"]["fuzzy"]) and d["rows"] == 29


def test_bad_gold_file(tmp_path):
    f = tmp_path / "g.csv"
    f.write_text("uid,name\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        read_gold(f)
    f.write_text("uid,level2,name,gold,acceptable\n1,11,x,111000001,111000002\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"g.csv:2: gold '111000001'"):
        read_gold(f)
    r = runner.invoke(app, ["evaluate", str(f)])
    assert r.exit_code == 2 and "g.csv:2" in r.stderr


@pytest.mark.slow
def test_refit_takes_learned_links_only_when_crossval_holds(linker, tmp_catalogue):
    from conftest import ROOT
    from indicode.catalogue.lookup import Catalogue
    from indicode.matcher.linker import Linker
    from indicode.matcher.refit import adopts, decision_rows, refit
    from indicode.workspace import NewDecision, Origin, Workspace

    gold = [g for g in read_gold(GOLD_DEV) if g.source in ("001", "004")]
    ext = read_gold(ROOT / "tests" / "data" / "gold_external.csv")[:20]
    cat = Catalogue.load(tmp_catalogue)
    ws = Workspace.open()
    row3, row4 = Origin("workbook", "reviewed.xlsx", "", 3), Origin("workbook", "reviewed.xlsx", "", 4)
    ws.record([NewDecision(g.name, g.level2, g.gold, "t", row3) for g in ext]
              + [NewDecision(gold[0].name, gold[0].level2, gold[0].gold, "t", row4)], cat, override=True)
    learned = Linker(cat, linker.encoder, linker.model, linker.index, learned=ws.learned_links(cat.entries))
    extra = decision_rows(learned.decisions, gold, learned.cat.suggestable)
    assert len(extra) == len({(g.name, g.level2) for g in ext})
    assert {g.source for g in extra} == {"learned:reviewed.xlsx"}
    m, adopted, before, after = refit(learned, gold, fitted_on="g.csv")
    assert adopted == adopts(before, after)
    assert ("decisions" in m.fitted_on) == adopted
    m.save(tmp_catalogue.parent / "model.json")  # serialisable: what the workspace keeps
    assert ScoreModel.load(tmp_catalogue.parent / "model.json") == m


def test_decisions_become_labelled_links_of_their_reviewed_file():
    """One source per reviewed file (held out as a document is), NIL kept as a link, texts the
    labelled links hold and codes the catalogue lacks left out; the refit then has nothing to add and
    returns the model already fitted as it is (no fit: no encoder needed)."""
    from types import SimpleNamespace

    from indicode.catalogue.records import NIL, Learned
    from indicode.matcher.gold import GoldRow
    from indicode.matcher.refit import decision_rows, refit

    gold = [GoldRow("1", "001", "11", "召开会议次数", "", "111000231", frozenset(["111000231"]))]
    at = "2026-12-01T00:00:00"
    decisions = [Learned(1, "召开会议次数（次）", "11", "111000231", "王", at, "a.xlsx:3"),  # held already
                 Learned(2, "档案整理数量", "11", "111000242", "王", at, "a.xlsx:4"),
                 Learned(3, "电子政务外网带宽", "11", NIL, "李", at, "b.csv:2"),
                 Learned(4, "外网带宽", "11", "999999999", "李", at, "b.csv:3"),  # not in the catalogue
                 Learned(5, "档案整理数量", "11", "111000243", "李", at, "b.csv:4")]  # the first decision stands
    rows = decision_rows(decisions, gold, {"111000231", "111000242", "111000243"})
    assert [(r.name, r.gold, r.source, r.acceptable) for r in rows] == [
        ("档案整理数量", "111000242", "learned:a.xlsx", frozenset(["111000242"])),
        ("电子政务外网带宽", NIL, "learned:b.csv", frozenset([NIL]))]
    fitted = ScoreModel.load()
    linker = SimpleNamespace(decisions=decisions[:1], cat=SimpleNamespace(suggestable={"111000231"}))
    assert refit(linker, gold, fitted=fitted) == (fitted, False, {}, {})
