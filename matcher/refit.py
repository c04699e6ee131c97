"""`indicode calibrate`: fit on the labelled links plus reviewers' decisions, the decisions adopted only
if cross-validation by source does not get worse with them on any figure. It needs both the fit (`calibration`)
and the measure (`evaluate`), which therefore do not need each other.

    result = refit(linker, gold_rows, decisions)      # decisions in force: catalogue.records.Learned
    result.model.save(path)                           # a ScoreModel, serialisable (model.json)
    model, adopted, before, after = result            # figures by source without / with the decisions

A decision (text, class, code or NIL, reviewer, source) becomes a labelled link of its own source
(one per reviewed file: `learned:FILE`), so that cross-validation holds out a reviewed file as it
holds out a document; a "no code fits" decision is a NIL link. Texts the labelled links already
hold, and codes the catalogue no longer has, are left out. Decisions train the ranker and the
weights of learned evidence, not the decision model and its thresholds (`calibration.fit`'s
`ranker_only`): a decision has no target value, and fitted with them the decision model became far
less sure (docs/accuracy.md); every figure is measured over the labelled links and the decisions.
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
STRICT = ("end_to_end", "accept_precision")  # never lower; the others may move by one row of the check


def adopts(before: dict, after: dict, rows: list[GoldRow]) -> bool:
    """Whether cross-validation by source holds with the decisions: end-to-end and accept precision
    not lower, top-1, recall@5 and the share accepted not lower by more than one row (a figure over a
    few hundred rows moves by a row with any refit: the learning curve's own tolerance)."""
    row = 1.0 / max(1, sum(g.has_code for g in rows)) + 1e-9
    return all(after[k] >= before[k] - (0.0 if k in STRICT else row) for k in ADOPT_ON)


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


def _by_source(linker: Linker, rows: list[GoldRow], train_on: list[int], labelled: int) -> dict:
    """Figures by source over `rows`, each fold fitted on the rows of `train_on` outside it (those from
    `labelled` on, the decisions, for the ranker only)."""
    pred: list = [None] * len(rows)
    allowed = set(train_on)
    table = pair_table(linker, rows)  # each row's candidates once, for every fold
    for test in source_folds(rows):
        train = [i for i in range(len(rows)) if i in allowed and i not in test]
        model = fit(linker, [rows[i] for i in train], fitted_on="refit check", table=table.rows(train),
                    ranker_only=sum(i >= labelled for i in train))
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
    before = _by_source(linker, rows, list(range(len(gold))), len(gold))
    after = _by_source(linker, rows, list(range(len(rows))), len(gold))
    adopted = adopts(before, after, rows)
    on = f"{fitted_on} + {len(extra)} decisions" if adopted else fitted_on
    model = (fit(linker, rows, fitted_on=on, ranker_only=len(extra)) if adopted
             else (fitted or fit(linker, gold, fitted_on=fitted_on)))
    return Refit(model, adopted, before, after)
