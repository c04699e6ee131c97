"""Fit the ranker and its calibration on labelled links (small numpy implementations, no sklearn).

- the ranker: L2-regularised logistic regression (Newton steps) on every (query, candidate code)
  pair, label 1 when the code is acceptable for the query;
- the calibration: Platt scaling, a four-parameter logistic fit of "the top suggestion is right" on
  the top suggestion's raw score, its margin over the runner-up and whether its object is only partly
  in the query (smooth and hard to overfit on a hundred links, unlike isotonic steps);
- the thresholds: `review` is the score below which saying "no match" is right more often than the
  top suggestion; `accept` the lowest score, not below `ACCEPT_FLOOR`, above which the suggestions
  that may be accepted at all (`linker.may_accept`) were right at least `accept_target` of the time.
"""
from __future__ import annotations

import numpy as np

from .features import FEATURES, FIXED_WEIGHTS
from .gold import NIL, GoldRow
from .linker import MAX_MARGIN, Linker, ScoreModel, may_accept


def logistic_fit(X: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50,
                 offset: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Weights and bias; `offset` is a fixed part of each row's score (the domain-set weights)."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    w = np.zeros(d + 1)
    off = np.zeros(n) if offset is None else offset
    reg = np.full(d + 1, l2)
    reg[-1] = 1e-6  # the bias is not shrunk
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(A @ w + off)))
        g = A.T @ (p - y) + reg * w
        H = (A * (p * (1 - p))[:, None]).T @ A + np.diag(reg)
        step = np.linalg.solve(H, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


ACCEPT_FLOOR = 0.9  # accept only suggestions that are themselves at least 9 in 10 likely right


def pair_table(linker: Linker, gold: list[GoldRow]):
    """Features of every candidate of every gold row: (X, y, row index, code)."""
    vecs = linker.encode_queries([g.name for g in gold])
    X, y, rix, codes = [], [], [], []
    for i, g in enumerate(gold):
        q = linker.make_query(g.name, g.level2, g.value)
        for c in linker.score(q, vecs[i]):
            X.append([c.features[f] for f in FEATURES])
            y.append(float(c.code in g.acceptable))
            rix.append(i)
            codes.append(c.code)
    return np.array(X), np.array(y), np.array(rix), codes


def fit(linker: Linker, gold: list[GoldRow], accept_target: float = 0.98, l2: float = 3.0,
        fitted_on: str = "", only: list[str] | None = None, table=None) -> ScoreModel:
    """Fit on labelled links; `only` restricts the ranker to some features (the baselines), which
    then also go without the domain-set weights."""
    X, y, rix, codes = table or pair_table(linker, gold)
    fixed = np.array([FIXED_WEIGHTS.get(f, 0.0) if only is None else 0.0 for f in FEATURES])
    free = (fixed == 0) & np.array([only is None or f in only for f in FEATURES])
    offset = X[:, ~free] @ fixed[~free]
    wf, b = logistic_fit(X[:, free], y, l2, offset=offset)
    w = fixed.copy()
    w[free] = wf
    if only is not None:
        w[~free] = 0.0
    raw = X @ w + b
    top_raw, top_margin, top_partial, top_ok, nil_ok, eligible = [], [], [], [], [], []
    # the match type of the top suggestion, a calibration input of the hybrid only
    partial = X[:, FEATURES.index("object_partial")] if only is None else np.zeros(len(X))
    for i, g in enumerate(gold):
        m = rix == i
        j = np.flatnonzero(m)[np.argmax(raw[m])]
        second = np.sort(raw[m])[-2] if m.sum() > 1 else raw[j] - MAX_MARGIN
        top_raw.append(raw[j])
        top_margin.append(min(raw[j] - second, MAX_MARGIN))
        top_partial.append(partial[j])
        eligible.append(may_accept(dict(zip(FEATURES, X[j]))))
        top_ok.append(float(codes[j] in g.acceptable))
        nil_ok.append(NIL in g.acceptable)
    top_raw, top_margin, top_partial, top_ok, nil_ok, eligible = map(
        np.array, (top_raw, top_margin, top_partial, top_ok, nil_ok, eligible))
    (ca, cm, cp), cb = logistic_fit(np.column_stack([top_raw, top_margin, top_partial]), top_ok, l2=1e-3)
    cal = 1.0 / (1.0 + np.exp(-(ca * top_raw + cm * top_margin + cp * top_partial + cb)))
    # review threshold: maximise decisions right (code right above it, "no match" right below it)
    cuts = np.unique(np.concatenate([cal, [1.01]]))
    right = [((cal >= t) & (top_ok == 1)).sum() + ((cal < t) & nil_ok).sum() for t in cuts]
    review = float(cuts[int(np.argmax(right))])
    # accept threshold: over the suggestions that may be accepted at all
    accept = 1.01
    for t in sorted(cuts, reverse=True):
        sel = (cal >= t) & eligible
        if sel.sum() and top_ok[sel].mean() >= accept_target:
            accept = float(t)
        elif sel.sum():
            break  # the first miss ends the run: accept only above every training mistake's score
    accept = max(accept, review, ACCEPT_FLOOR)
    return ScoreModel(weights={f: float(v) for f, v, fr in zip(FEATURES, w, free) if fr}, bias=b,
                      calib_a=float(ca), calib_b=float(cb), calib_m=float(cm), calib_p=float(cp), accept=accept, review=review,
                      fitted_on=fitted_on, use_fixed=only is None)
