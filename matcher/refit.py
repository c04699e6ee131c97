"""`indicode calibrate`: fit on the labelled links plus reviewers' decisions, the decisions adopted only
if cross-validation by source does not get worse with them on any figure. It needs both the fit (`calibration`)
and the measure (`evaluate`), which therefore do not need each other.

    result = refit(linker, gold_rows, decisions)      # decisions in force: catalogue.records.Learned
    result.model.save(path)                           # a ScoreModel, serialisable (model.json)
    model, adopted, before, after = result            # figures by source without / with the decisions

A decision (text, class, code or NIL, reviewer, source) becomes a labelled link of its own source
(one per reviewed file: `learned:FILE`), so that cross-validation holds out a reviewed file as it
holds out a document; a "no code fits" decision is a NIL link. Texts the labelled links already
hold, and codes the catalogue no longer has, are left out. Every figure is measured over the
labelled links and the decisions. (Decisions training the ranker only, not the decision model,
were adopted in 3 of 6 plans of the learning curve and lost top-1 and accepts on the measured file:
docs/accuracy.md.)
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..catalogue.records import Learned
from .calibration import fit, pair_table
from .evaluate import metrics, source_folds, suggest_gold, with_model
from .gold import NIL, GoldRow
from .linker import Linker
from .model import ScoreModel
from .text import clean

# what must not get worse by source for the decisions to be adopted: a refit on reviewers' decisions
# (one code each, no target value) kept end-to-end and recall@5 but could halve the accepts on the
# learning curve (docs/accuracy.md), so every figure counts
ADOPT_ON = ("end_to_end", "recall5", "top1", "accept_share", "accept_precision")


def adopts(before: dict, after: dict) -> bool:
    """Whether cross-validation by source holds or improves with the decisions on every figure of
    `ADOPT_ON`. (Allowing top-1, recall@5 and the share accepted to fall by one row of the check
    adopted decisions in 5 of 6 plans of the learning curve and raised end-to-end in 2, but lost up
    to 3 rows of top-1 and 4 accepts on the measured file: docs/accuracy.md.)"""
    return all(after[k] >= before[k] for k in ADOPT_ON)


class Refit(NamedTuple):
    model: ScoreModel
    adopted: bool  # the decisions are among the links fitted on
    before: dict  # figures by source with the labelled links only ({} when no decision adds a text)
    after: dict  # with the decisions too


def decision_rows(decisions: Sequence[Learned], gold: list[GoldRow], known) -> list[GoldRow]:
    """Decisions as labelled links (one source per reviewed file), leaving out texts the labelled
    links already hold and codes not `known` (a container of the catalogue's codes)."""
    seen = {(clean(g.name), g.level2) for g in gold}
    rows = []
    for d in decisions:
        key = (clean(d.text), d.level2)
        if key in seen or (d.code != NIL and d.code not in known):
            continue
        seen.add(key)
        src = "learned:" + (d.source or "").split(":")[0]
        rows.append(GoldRow(f"learned{d.id}", src, d.level2, d.text, "", d.code, frozenset([d.code])))
    return rows


def _by_source(linker: Linker, rows: list[GoldRow], train_on: list[int]) -> dict:
    """Figures by source over `rows`, each fold fitted on the rows of `train_on` outside it."""
    pred: list = [None] * len(rows)
    allowed = set(train_on)
    table = pair_table(linker, rows)  # each row's candidates once, for every fold
    for test in source_folds(rows):
        train = [i for i in range(len(rows)) if i in allowed and i not in test]
        model = fit(linker, [rows[i] for i in train], fitted_on="refit check", table=table.rows(train))
        held = sorted(test)
        for i, s in zip(held, suggest_gold(with_model(linker, model), [rows[i] for i in held]), strict=True):
            pred[i] = s
    return metrics(rows, pred)


def refit(linker: Linker, gold: list[GoldRow], decisions: Sequence[Learned] | None = None, fitted_on: str = "",
          fitted: ScoreModel | None = None) -> Refit:
    """Fit on the labelled links plus the decisions (by default the linker's decisions in force),
    adopted only if cross-validation by source over both holds with them (`adopts`)
    than fitting on the labelled links alone. `fitted`: a model already fitted on `gold`, returned
    as it is when the decisions add no text."""
    extra = decision_rows(linker.decisions if decisions is None else decisions, gold,
                          linker.cat.suggestable)
    if not extra:
        return Refit(fitted or fit(linker, gold, fitted_on=fitted_on), False, {}, {})
    rows = gold + extra
    before = _by_source(linker, rows, list(range(len(gold))))
    after = _by_source(linker, rows, list(range(len(rows))))
    adopted = adopts(before, after)
    on = f"{fitted_on} + {len(extra)} decisions" if adopted else fitted_on
    model = fit(linker, rows, fitted_on=on) if adopted else (fitted or fit(linker, gold, fitted_on=fitted_on))
    return Refit(model, adopted, before, after)
