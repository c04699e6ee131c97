"""`indicode calibrate`: fit on the labelled links plus the catalogue's learned links, adopted only
if cross-validation by source is not worse with them. It needs both the fit (`calibration`) and
the measure (`evaluate`), which therefore do not need each other."""
from __future__ import annotations

from .calibration import fit
from .evaluate import metrics, source_folds, suggest_gold, with_model
from .gold import NIL, GoldRow
from .linker import Linker
from .model import ScoreModel
from .text import clean


def learned_gold(linker: Linker, gold: list[GoldRow]) -> list[GoldRow]:
    """The catalogue's learned links as labelled links (one source per reviewed file), leaving out
    texts the labelled links already hold."""
    seen = {(clean(g.name), g.level2) for g in gold}
    rows = []
    for link in linker.decisions:
        if (clean(link.text), link.level2) in seen or (link.code != NIL and link.code not in linker.cat.entries):
            continue
        seen.add((clean(link.text), link.level2))
        src = "learned:" + (link.source or "").split(":")[0]
        rows.append(GoldRow(f"learned{link.id}", src, link.level2, link.text, "", link.code, frozenset([link.code])))
    return rows


def refit(linker: Linker, gold: list[GoldRow], fitted_on: str = "") -> tuple[ScoreModel, bool, dict, dict]:
    """Fit on the labelled links plus the learned ones, adopted only if cross-validation by source
    over all of them is not worse (end-to-end and recall@5) than fitting on the labelled links
    alone; returns (model, adopted, figures with the labelled links only, figures with both)."""
    extra = learned_gold(linker, gold)
    if not extra:
        return fit(linker, gold, fitted_on=fitted_on), False, {}, {}
    rows = gold + extra
    n = len(gold)
    preds: dict[str, list] = {"labelled": [None] * len(rows), "both": [None] * len(rows)}
    for test in source_folds(rows):
        for key in preds:
            train = [g for i, g in enumerate(rows) if i not in test and (key == "both" or i < n)]
            held = sorted(test)
            m = fit(linker, train, fitted_on="refit check")
            for i, s in zip(held, suggest_gold(with_model(linker, m), [rows[i] for i in held]), strict=True):
                preds[key][i] = s
    before, after = (metrics(rows, preds[k]) for k in ("labelled", "both"))
    adopted = after["end_to_end"] >= before["end_to_end"] and after["recall5"] >= before["recall5"]
    on = f"{fitted_on} + {len(extra)} learned links" if adopted else fitted_on
    return fit(linker, rows if adopted else gold, fitted_on=on), adopted, before, after
