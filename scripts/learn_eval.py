"""Learning curve of the review loop: learn the links of some sources (their gold code, or NIL, as a
reviewer's decision), then measure the *other* sources' links before and after.

    python scripts/learn_eval.py tests/data/gold_dev.csv tests/data/gold_external.csv

Sources are the seed documents and the other provinces (`gold.source_group`). For each source alone,
and for all sources but one, the learned links go into a temporary workspace as decisions (over the
bundled catalogue) and the shipped model suggests codes for the rows of the sources not learned. Prints, per plan, the
figures before and after and the largest drop; exits 1 if learning lowered end-to-end or recall@5
on the other sources in any plan.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.paths import BUNDLED_DB
from indicode.matcher.evaluate import metrics, suggest_gold
from indicode.matcher.gold import read_gold, source_group
from indicode.matcher.linker import Linker
from indicode.workspace import NewDecision, Origin, Via, Workspace

FIGURES = ("end_to_end", "recall5", "top1", "accept_share", "accept_precision")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold", nargs="+", type=Path)
    args = ap.parse_args()
    gold = [g for f in args.gold for g in read_gold(f)]
    groups = sorted({source_group(g.source) for g in gold})
    base = Linker.default(BUNDLED_DB)
    cat = Catalogue.load(BUNDLED_DB)
    plans = [(f"learn {k}", {k}) for k in groups] + [(f"learn all but {k}", set(groups) - {k}) for k in groups]
    worst = {f: 0.0 for f in FIGURES}
    print(f"{'plan':44} {'rows':>4} " + " ".join(f"{f:>21}" for f in FIGURES))
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, learn) in enumerate(plans):
            taught = [g for g in gold if source_group(g.source) in learn]
            other = [g for g in gold if source_group(g.source) not in learn]
            with Workspace.open(Path(tmp) / f"plan{i}.sqlite") as ws:
                ws.record([NewDecision(g.name, g.level2, g.gold, "gold", Origin(Via.WORKBOOK, g.source))
                           for g in taught], cat)
                after_linker = Linker(cat, base.encoder, base.model, base.index, learned=ws.learned_links(cat.entries))
            before, after = metrics(other, suggest_gold(base, other)), metrics(other, suggest_gold(after_linker, other))
            for f in FIGURES:
                worst[f] = min(worst[f], after[f] - before[f])
            changes = " ".join(f"{before[f]:7.3f} -> {after[f]:7.3f}    " for f in FIGURES)
            print(f"{name[:44]:44} {len(other):4d} {changes}")
    print("largest change for the worse: " + ", ".join(f"{f} {worst[f]:+.3f}" for f in FIGURES))
    return 1 if worst["end_to_end"] < 0 or worst["recall5"] < 0 else 0


if __name__ == "__main__":
    sys.exit(main())
