"""Measure the matcher on labelled links, beside a fuzzy-only and a vector-only baseline.

The baselines rank by one signal each (rapidfuzz ratio of the cleaned names; e5 cosine) and get
their calibration and thresholds fitted on the very links being evaluated, so they are shown at
their best; the hybrid uses its shipped model, fitted beforehand.
"""
from __future__ import annotations

import copy

import numpy as np

from .calibration import fit, pair_table
from .gold import NIL, GoldRow, source_group
from .linker import Linker
from .model import ScoreModel
from .results import Suggestion, Verdict

BASELINES = {"fuzzy": ["ratio"], "vector": ["vec"]}
KEYS = ["top1", "recall5", "nomatch_precision", "nomatch_recall", "end_to_end", "accept_precision", "accept_share"]


def _mean(xs) -> float:
    xs = list(xs)
    return float(np.mean(xs)) if xs else 0.0


def metrics(gold: list[GoldRow], sugg: list[Suggestion]) -> dict[str, float]:
    coded = [(g, s) for g, s in zip(gold, sugg, strict=True) if g.has_code]
    nomatch = [(g, s) for g, s in zip(gold, sugg, strict=True) if s.decision == Verdict.NO_MATCH]
    accepted = [(g, s) for g, s in zip(gold, sugg, strict=True) if s.decision == Verdict.ACCEPT]
    return {
        "top1": _mean(any(c.code in g.acceptable for c in s.candidates[:1]) for g, s in coded),
        "recall5": _mean(any(c.code in g.acceptable for c in s.candidates[:5]) for g, s in coded),
        "nomatch_precision": _mean(NIL in g.acceptable for g, s in nomatch),
        "nomatch_recall": _mean(s.decision == Verdict.NO_MATCH
                                for g, s in zip(gold, sugg, strict=True) if g.gold == NIL),
        "end_to_end": _mean((s.code or NIL) in g.acceptable for g, s in zip(gold, sugg, strict=True)),
        "accept_precision": _mean(s.code in g.acceptable for g, s in accepted),
        "accept_share": _mean(s.decision == Verdict.ACCEPT for g, s in coded),
    }


def calibration_table(gold: list[GoldRow], sugg: list[Suggestion], bins: int = 10) -> list[dict]:
    """Top suggestions grouped by score: how many, mean score, share right."""
    rows = []
    edges = np.linspace(0, 1, bins + 1)
    pts = [(s.top.score, s.top.code in g.acceptable) for g, s in zip(gold, sugg, strict=True) if s.top]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = [(p, ok) for p, ok in pts if lo <= p < hi or (hi == 1 and p == 1)]
        if sel:
            rows.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(sel), "mean_score": _mean(p for p, _ in sel),
                         "right": _mean(ok for _, ok in sel)})
    return rows


def with_model(linker: Linker, model: ScoreModel) -> Linker:
    other = copy.copy(linker)
    other.model = model
    return other


def suggest_gold(linker: Linker, gold: list[GoldRow], vectors=None) -> list[Suggestion]:
    return linker.suggest_many([(g.name, g.level2, g.value) for g in gold], k=5, vectors=vectors)


def predict_out_of_fold(linker: Linker, gold: list[GoldRow], folds: list[set[int]]) -> list[Suggestion]:
    """Each row's suggestion from a model fitted on the rows outside its fold: how the matcher does
    on links it has not seen (`scripts/crossval.py`)."""
    pred: list[Suggestion] = [None] * len(gold)  # type: ignore[list-item]
    for test in folds:
        model = fit(linker, [g for i, g in enumerate(gold) if i not in test], fitted_on="crossval")
        held = sorted(test)
        for i, s in zip(held, suggest_gold(with_model(linker, model), [gold[i] for i in held]), strict=True):
            pred[i] = s
    return pred


def source_folds(gold: list[GoldRow]) -> list[set[int]]:
    """One fold per source (see `source_group`): its links are unseen in wording as well as in label."""
    groups = [source_group(g.source) for g in gold]
    return [{i for i, s in enumerate(groups) if s == key} for key in sorted(set(groups))]


def evaluate(linker: Linker, gold: list[GoldRow]) -> dict:
    vectors = linker.encode_queries([g.name for g in gold])
    sugg = suggest_gold(linker, gold, vectors)
    out: dict = metrics(gold, sugg)
    out["rows"] = len(gold)
    out["coded_rows"] = sum(g.has_code for g in gold)
    out["calibration"] = calibration_table(gold, sugg)
    table = pair_table(linker, gold)
    out["baselines"] = {}
    for name, feats in BASELINES.items():
        base = with_model(linker, fit(linker, gold, only=feats, table=table, fitted_on=f"baseline {name}"))
        out["baselines"][name] = metrics(gold, suggest_gold(base, gold, vectors))
    return out
