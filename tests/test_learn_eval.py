"""The learning curve's plans (`scripts/learn_eval.py`): a measured row is never among the links
learned or fitted on, and the random folds cover every row once."""
import importlib.util
import sys
from pathlib import Path

from indicode.catalogue.records import NIL
from indicode.matcher.gold import GoldRow

ROOT = Path(__file__).resolve().parent.parent


def _learn_eval():
    spec = importlib.util.spec_from_file_location("learn_eval", ROOT / "scripts" / "learn_eval.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_no_plan_measures_a_row_it_learned_or_fitted_on_and_the_folds_cover_every_row_once():
    files = {Path(f"f{n}.csv"): [GoldRow(f"{n}-{i}", f"other-province:省{n}{i % 2}", "11", f"指标{n}{i}", "",
                                         NIL, frozenset([NIL])) for i in range(7)] for n in range(3)}
    every = [g.uid for rows in files.values() for g in rows]
    got = _learn_eval().plans(files)
    for p in got:
        seen = {g.uid for g in p.learned} | {g.uid for g in p.fitted_on}
        assert p.measured and not seen & {g.uid for g in p.measured}, p.name
    folds = [p for p in got if p.name.startswith("rows ")]
    held = [g.uid for p in folds for g in p.measured]
    assert len(folds) == 5 and sorted(held) == sorted(every)  # each row measured once
    assert all(len(p.measured) + len(p.learned) == len(every) for p in folds)
    assert [p.name for p in got if p.name.startswith("all but")] == [f"all but other-province:省{n}{k}"
                                                                    for n in range(3) for k in range(2)]
