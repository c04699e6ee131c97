"""Learning curve of the review loop: the links of some sources learned as reviewers' decisions (their
gold code, or NIL), then `indicode calibrate` (`refit`), and the rows of a source the model was never
fitted on measured before and after.

    python scripts/learn_eval.py tests/data/gold_dev.csv tests/data/gold_external.csv tests/data/gold_external2.csv

Sources are the seed documents and the other provinces (`gold.source_group`). Plans:
- `all but S`: the model fitted on every other source's links, which are also learned as decisions; S
  measured (what a team that learned the shipped links sees on a new document: the decisions add
  evidence, and the refit nothing, since the model was fitted on those very links);
- `C + learned A -> B` (files): the model fitted on file C; file A's links learned and the model
  refitted on C plus A's decisions (adopted only where cross-validation by source holds); file B
  measured (what a team's own reviewing adds, evidence and refit together);
- `rows K/5`: the rows in five random folds (seeded), the model fitted on and the decisions learned
  from the other four, fold K measured: texts of the same document among the decisions (what
  near-identical texts within a document set add; the refit adds nothing, the decisions being the
  links fitted on).
The measured rows are never among the links fitted on, before or after; decisions go into a temporary
workspace over the bundled catalogue. Prints per plan the figures before and after and the gain in rows;
exits 1 when any plan lowers a figure by more than one row.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.paths import BUNDLED_DB
from indicode.matcher.calibration import fit
from indicode.matcher.evaluate import suggest_gold, with_model
from indicode.matcher.gold import GoldRow, read_gold, source_group
from indicode.matcher.linker import Linker
from indicode.matcher.refit import ADOPT_ON, refit
from indicode.matcher.results import Suggestion, Verdict
from indicode.workspace import NewDecision, Origin, Via, Workspace

FOLDS = 5  # the `rows K/5` plans
FIGURES = ("end_to_end", "top1", "recall5", "accepted_right", "accepted_wrong")


def counts(gold: list[GoldRow], sugg: list[Suggestion]) -> dict[str, int]:
    """The figures as rows: right end to end; right first and within five (gold-coded rows);
    accepted right and wrong (a wrong accept counts against)."""
    out = dict.fromkeys(FIGURES, 0)
    for g, s in zip(gold, sugg, strict=True):
        out["end_to_end"] += (s.code or "NIL") in g.acceptable
        if g.has_code:
            out["top1"] += bool(s.candidates) and s.candidates[0].code in g.acceptable
            out["recall5"] += any(c.code in g.acceptable for c in s.candidates[:5])
        if s.decision == Verdict.ACCEPT:
            out["accepted_right" if s.code in g.acceptable else "accepted_wrong"] += 1
    return out


@dataclass
class Plan:
    name: str
    learned: list[GoldRow]  # learned as decisions
    measured: list[GoldRow]
    fitted_on: list[GoldRow]  # the labelled links the model is fitted on (refitted with the decisions)


def plans(files: dict[Path, list[GoldRow]]) -> list[Plan]:
    gold = [g for rows in files.values() for g in rows]
    out = []
    for key in sorted({source_group(g.source) for g in gold}):
        rest = [g for g in gold if source_group(g.source) != key]
        out.append(Plan(f"all but {key}", rest, [g for g in gold if source_group(g.source) == key], rest))
    for c, shipped in files.items():
        for a, learn in files.items():
            for b, measure in files.items():
                if len({a, b, c}) == 3:
                    out.append(Plan(f"{c.stem} + learned {a.stem} -> {b.stem}", learn, measure, shipped))
    order = list(range(len(gold)))
    random.Random(0).shuffle(order)
    for k in range(FOLDS):
        held = set(order[k::FOLDS])
        rest = [g for i, g in enumerate(gold) if i not in held]
        out.append(Plan(f"rows {k + 1}/{FOLDS}", rest, [gold[i] for i in sorted(held)], rest))
    return out


def run(plan: Plan, base: Linker, workspace: Path) -> tuple[dict, dict, str]:
    model = fit(base, plan.fitted_on, fitted_on=plan.name)
    before = counts(plan.measured, suggest_gold(with_model(base, model), plan.measured))
    cat = Catalogue.load(BUNDLED_DB)
    with Workspace.open(workspace) as ws:  # a new one per plan
        ws.record([NewDecision(g.name, g.level2, g.gold, "gold", Origin(Via.WORKBOOK, g.source))
                   for g in plan.learned], cat)
        taught = Linker(cat, base.encoder, model, base.index, learned=ws.learned_links(cat.entries))
    result = refit(taught, plan.fitted_on, fitted_on=plan.name, fitted=model)  # `indicode calibrate`
    after = counts(plan.measured, suggest_gold(with_model(taught, result.model), plan.measured))
    check = ""
    if result.before:  # the refit's own check, by source over the links fitted on and the decisions
        check = "  refit check " + ", ".join(f"{k} {result.before[k]:.3f}->{result.after[k]:.3f}" for k in ADOPT_ON)
    return before, after, ("  refit adopted" if result.adopted else "") + check


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold", nargs="+", type=Path)
    ap.add_argument("--plans", default="", help="only the plans whose name holds this text")
    args = ap.parse_args()
    files = {f: read_gold(f) for f in args.gold}
    base = Linker.default(BUNDLED_DB)
    worst = dict.fromkeys(FIGURES, 0)
    gains = {"end_to_end up": 0, "same": 0, "down": 0}
    print(f"{'plan':48} {'rows':>4} " + " ".join(f"{f:>18}" for f in FIGURES), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for i, plan in enumerate(p for p in plans(files) if args.plans in p.name):
            before, after, adopted = run(plan, base, Path(tmp) / f"plan{i}.sqlite")
            delta = {f: after[f] - before[f] for f in FIGURES}
            delta["accepted_wrong"] = -delta["accepted_wrong"]  # fewer wrong accepts is a gain
            for f in FIGURES:
                worst[f] = min(worst[f], delta[f])
            gains["end_to_end up" if delta["end_to_end"] > 0 else "down" if delta["end_to_end"] < 0 else "same"] += 1
            print(f"{plan.name[:48]:48} {len(plan.measured):4d} "
                  + " ".join(f"{before[f]:4d} -> {after[f]:4d} ({delta[f]:+d})" for f in FIGURES)
                  + adopted, flush=True)
    print("plans by end-to-end: " + ", ".join(f"{k} {v}" for k, v in gains.items()))
    print("largest change for the worse, in rows: " + ", ".join(f"{f} {worst[f]:+d}" for f in FIGURES))
    return 1 if min(worst.values()) < -1 else 0


if __name__ == "__main__":
    sys.exit(main())
