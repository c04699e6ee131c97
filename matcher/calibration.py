"""Fit the ranker, the weights of learned evidence and the decision model on labelled links (small
numpy implementations, no sklearn).

- the ranker: L2-regularised logistic regression (Newton steps) on standardised features of every
  (query, candidate code) pair, label 1 when the code is acceptable; λ chosen by cross-validation
  over the training links' sources (`choose_l2`);
- learned evidence: its weights fitted on top of the fixed ranker, each link seeing only the other
  sources' links as learned (`learned_from_others`), never its own;
- the decision model: a logistic fit (standardised, `DECISION_L2`) of "the top suggestion is right"
  on its raw score, match type and its own features (`DECISION_FEATURES`), over the tops on the
  catalogue evidence alone (learned links reorder candidates, never change a score);
- the thresholds: `review` is the score below which saying "no match" is right more often than the
  top suggestion, read off the calibrated score (r / (1 - q + r): r the share of wrong tops that
  are texts no code fits, q of right tops where "no code fits" is acceptable too); `accept` the
  lowest score, not below `ACCEPT_FLOOR`, above which the suggestions that may be accepted at all
  (`policy.may_accept`) were right at least `accept_target` of the time.

`refit.py` adds the catalogue's learned links to the labelled ones where cross-validation by
source holds with them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import FEATURES, FIXED_WEIGHTS
from .gold import NIL, GoldRow, source_group
from .learned import LEARNED_FEATURES, LearnedLinks, Link
from .linker import Linker
from .model import ScoreModel
from .policy import may_accept


def logistic_fit(X: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50,
                 offset: np.ndarray | None = None, bias_l2: float = 1e-6) -> tuple[np.ndarray, float]:
    """Weights and bias; `offset` is a fixed part of each row's score (the domain-set weights);
    a large `bias_l2` keeps the bias at 0 (a part fitted on top of another that has its own)."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    w = np.zeros(d + 1)
    off = np.zeros(n) if offset is None else offset
    reg = np.full(d + 1, l2)
    reg[-1] = bias_l2  # the bias is not shrunk (by default)
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


def learned_from_others(linker: Linker, gold: list[GoldRow]) -> list[LearnedLinks]:
    """For each gold row, the links of the *other* sources as learned links: how a reviewer's
    earlier decisions on other documents look to a new document, so the weights of the learned
    evidence are fitted on what deployment will see (and never on a row's own link)."""
    groups = [source_group(g.source) for g in gold]
    by_group = {}
    for key in set(groups):
        links = [Link(g.name, g.level2, g.gold) for g, k in zip(gold, groups, strict=True) if k != key]
        by_group[key] = LearnedLinks(links, linker.cat.suggestable)
    return [by_group[k] for k in groups]


# The decision model's own signals, beside raw and match type: how similar (e5), how much of
# the query the name explains, the same measure head, class and kind, the code's whole object, none
# of it (采购时效 for 办文时效), or a generic code. Each says something about "is the top right at all" that the
# ranker, fitted to choose between candidates of one query, weighs for another purpose (measured by
# source before adoption: README, "What moved and what was tried"). Learned
# evidence is not among them: it reorders candidates, never changes a score (`rank.ranked`).
DECISION_FEATURES = ["vec", "cov_query", "head_match", "class_same", "kind_agree", "object_full", "object_none",
                     "head_generic"]
# MARGIN_NOTE: the top's margin over the next candidate is not a decision signal: fitted with it, by
# source end-to-end was 0.903 against 0.913 without (`calib_m` stays 0; model files may still set it).
DECISION_L2 = 1.0  # on standardised inputs; by source λ 0.3 and 3 give end-to-end 0.917 and 0.913, λ 1 0.917 (README)


@dataclass
class PairTable:
    """Features of every candidate of every gold row."""

    X: np.ndarray  # FEATURES columns
    D: np.ndarray  # DECISION_FEATURES columns
    y: np.ndarray  # 1 when the code is acceptable for the row
    rix: np.ndarray  # the row's index in the gold list
    codes: list[str]
    acceptable: np.ndarray  # `policy.may_accept` of the candidate's features: it may be accepted at all
    nil: np.ndarray  # the query's `learned_nil` (the nearest learned "no code fits"), per candidate

    def rows(self, keep: list[int]) -> PairTable:
        """The table of the gold rows `keep` (in that order, renumbered from 0): without learned
        links a row's candidates do not depend on the other rows, so one table serves every fold."""
        new = {old: i for i, old in enumerate(keep)}
        sel = np.flatnonzero(np.isin(self.rix, keep))
        sel = sel[np.argsort([new[r] for r in self.rix[sel]], kind="stable")]
        return PairTable(self.X[sel], self.D[sel], self.y[sel], np.array([new[r] for r in self.rix[sel]]),
                         [self.codes[j] for j in sel], self.acceptable[sel], self.nil[sel])


def pair_table(linker: Linker, gold: list[GoldRow], learned: bool = False) -> PairTable:
    """Every candidate of every gold row; with `learned`, each row sees the links of the other
    sources as learned links (`learned_from_others`), else none."""
    vecs = linker.encode_queries([g.name for g in gold])
    none = LearnedLinks([])
    others = learned_from_others(linker, gold) if learned else [none] * len(gold)
    X, D, y, rix, codes, may, nil = [], [], [], [], [], [], []
    for i, g in enumerate(gold):
        q = linker.make_query(g.name, g.level2, g.value)
        for c in linker.score(q, vecs[i], learned=others[i]):
            X.append([c.features[f] for f in FEATURES])
            D.append([c.features.get(f, 0.0) for f in DECISION_FEATURES])
            y.append(float(c.code in g.acceptable))
            rix.append(i)
            codes.append(c.code)
            may.append(may_accept(c.features))
            nil.append(c.features.get("learned_nil", 0.0))
    return PairTable(np.array(X), np.array(D), np.array(y), np.array(rix), codes, np.array(may, dtype=bool),
                     np.array(nil))


def standardized_fit(X: np.ndarray, y: np.ndarray, l2: float, offset: np.ndarray | None = None):
    """`logistic_fit` on standardised columns (so one λ means the same for every feature), with
    the weights returned for the raw columns."""
    mu, sd = X.mean(0), X.std(0)
    sd[sd < 1e-9] = 1.0
    w, b = logistic_fit((X - mu) / sd, y, l2, offset=offset)
    return w / sd, b - float((w * mu / sd).sum())


L2_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)


def choose_l2(X: np.ndarray, y: np.ndarray, rix: np.ndarray, groups: np.ndarray, offset: np.ndarray) -> float:
    """The ranker's λ by cross-validation over the sources in the training links: the one whose
    held-out rankings put an acceptable code first most often (ties: the larger λ)."""
    keys = sorted(set(groups.tolist()))
    if len(keys) < 2:
        return 3.0
    best, best_l2 = -1.0, L2_GRID[-1]
    for l2 in reversed(L2_GRID):
        right = 0
        for key in keys:
            train = groups[rix] != key
            w, b = standardized_fit(X[train], y[train], l2, offset[train])
            raw = X[~train] @ w + b + offset[~train]
            r, yy = rix[~train], y[~train]
            for i in np.unique(r):
                m = r == i
                right += yy[m][np.argmax(raw[m])]
        if right > best:
            best, best_l2 = right, l2
    return best_l2


def fit(linker: Linker, gold: list[GoldRow], accept_target: float = 0.98, l2: float | None = None,
        fitted_on: str = "", only: list[str] | None = None, table: PairTable | None = None,
        learned_table: PairTable | None = None) -> ScoreModel:
    """Fit on labelled links: the ranker, then the weights of learned evidence, then the decision
    model and its thresholds. `only` restricts the ranker to some features (the baselines), which
    then also go without the domain-set weights, learned evidence and the decision's own features;
    `l2` fixes the ranker's λ instead of choosing it by cross-validation."""
    t0 = table or pair_table(linker, gold)
    groups = np.array([source_group(g.source) for g in gold])
    fixed = np.array([FIXED_WEIGHTS.get(f, 0.0) if only is None else 0.0 for f in FEATURES])
    is_learned = np.array([f in LEARNED_FEATURES for f in FEATURES])
    fit_learned = is_learned & (fixed == 0)  # learned_same has a domain-set weight
    free = (fixed == 0) & ~is_learned & np.array([only is None or f in only for f in FEATURES])
    # 1. the ranker: standardised pointwise logistic, λ by cross-validation over sources
    offset = t0.X[:, fixed != 0] @ fixed[fixed != 0]
    lam = l2 if l2 is not None else choose_l2(t0.X[:, free], t0.y, t0.rix, groups, offset) if only is None else 3.0
    wf, b = standardized_fit(t0.X[:, free], t0.y, lam, offset=offset)
    w = fixed.copy()
    w[free] = wf
    # 2. learned evidence: its weights on top of the fixed ranker, each row seeing other sources' links
    t1 = None
    if only is None and len(set(groups.tolist())) > 1:
        t1 = learned_table or pair_table(linker, gold, learned=True)
        if t1.X[:, fit_learned].any():
            wl, _ = logistic_fit(t1.X[:, fit_learned], t1.y, l2=1.0, offset=t1.X @ w + b)
            w[fit_learned] = np.maximum(wl, 0.0)  # agreeing reviewers never count against a code
    # 3. the decision model over each query's top candidate on the catalogue evidence alone (learned
    # links reorder candidates, never change a score: `rank.ranked`)
    use_d = only is None
    decided = len(gold)
    Z, top_ok, row_of, eligible = _decision_rows(t0, w, b, decided, use_d)
    coef, cb = standardized_fit(Z, top_ok, DECISION_L2) if use_d else logistic_fit(Z, top_ok, l2=1e-2)
    ca, cp, dw = coef[0], coef[1], coef[2:]
    cm = 0.0  # see MARGIN_NOTE
    # 3b. the learned part of the decision model: over each query's top with learned evidence (each
    # row seeing other sources' links), on top of the catalogue part just fitted
    learned_decide = {}
    if t1 is not None:
        learned_decide = _learned_decision(t1, w, b, decided, coef, cb)
    # 4. thresholds, on the tops' scores
    cal = 1.0 / (1.0 + np.exp(-(Z @ coef + cb)))
    nil_ok = np.array([NIL in gold[i].acceptable for i in row_of], dtype=bool)
    accept, review = _thresholds(cal, top_ok, nil_ok, eligible, accept_target)
    return ScoreModel(weights={f: float(v) for f, v, fr, le in zip(FEATURES, w, free, is_learned, strict=True)
                               if fr or (le and only is None)},
                      bias=b, calib_a=float(ca), calib_b=float(cb), calib_m=float(cm), calib_p=float(cp),
                      accept=accept, review=review, fitted_on=fitted_on, use_fixed=only is None,
                      decide={f: float(v) for f, v in zip(DECISION_FEATURES, dw, strict=True)} if use_d else {},
                      learned_decide=learned_decide)


def _thresholds(cal: np.ndarray, top_ok: np.ndarray, nil_ok: np.ndarray, eligible: np.ndarray,
                accept_target: float) -> tuple[float, float]:
    """(accept, review) from the tops' calibrated scores, whether each is right, whether "no code
    fits" is acceptable for its query, and whether it may be accepted at all."""
    # review threshold: a score is the chance p that the top is right. Showing it is right where "no
    # match" is not with the chance p·(1 - q), q the share of right training tops where "no code
    # fits" is acceptable too; "no match" is right where the code is not with (1 - p)·r, r the share
    # of wrong training tops that no code fits. So review when p > r / (1 - q + r): read off the
    # calibrated score rather than by counting right decisions at each cut, a step function of a
    # few rows near it (fitted on one file it put the cut at 0.88: by file 0.893 against 0.917, README)
    wrong = top_ok == 0
    r = float(nil_ok[wrong].mean()) if wrong.any() else 1.0
    q = float(nil_ok[~wrong].mean()) if (~wrong).any() else 0.0
    review = r / (1.0 - q + r) if r else 0.0
    cuts = np.unique(np.concatenate([cal, [1.01]]))
    # accept threshold: over the suggestions that may be accepted at all
    accept = 1.01
    for t in sorted(cuts, reverse=True):
        sel = (cal >= t) & eligible
        if sel.sum() and top_ok[sel].mean() >= accept_target:
            accept = float(t)  # the lowest score above which the accepted were right often enough
    accept = max(accept, review, ACCEPT_FLOOR)
    return accept, review


def _decision_rows(t: PairTable, w: np.ndarray, b: float, rows: int, use_d: bool):
    """The decision model's inputs for each query's top candidate by raw score (the one a person
    sees first), over the first `rows` queries: raw, the match type and its own features; whether
    it is right; the query's index; whether it may be accepted at all."""
    raw = t.X @ w + b
    partial = t.X[:, FEATURES.index("object_partial")] if use_d else np.zeros(len(raw))
    Z, ok, row_of, elig = [], [], [], []
    for i in range(rows):
        js = np.flatnonzero(t.rix == i)
        if not len(js):
            continue
        j = js[np.argsort(-raw[js], kind="stable")][0]
        Z.append([raw[j], partial[j], *(t.D[j] if use_d else np.zeros(len(DECISION_FEATURES)))])
        ok.append(t.y[j])
        row_of.append(i)
        elig.append(t.acceptable[j])
    return np.array(Z), np.array(ok), np.array(row_of, dtype=int), np.array(elig, dtype=bool)


# The decision model's learned part (`ScoreModel.learned_decide`): the nearest learned text of the
# code, how many are near, the nearest "no code fits". Signs kept to what the evidence means: agreeing
# reviewers never count against a code, "no code fits" never for it. (How often the team took the code
# at all, whatever the text, was tried as a prior: by source it lifted texts no code fits to review,
# docs/accuracy.md.)
LEARNED_DECISION = {"learned_sim": 1, "learned_votes": 1, "learned_nil": -1}
LEARNED_L2 = 1.0


def _learned_decision(t1: PairTable, w: np.ndarray, b: float, rows: int, coef: np.ndarray,
                      cb: float) -> dict[str, float]:
    """Weights of the learned evidence of each query's top (by the ranker with it) on the chance
    that the top is right, the catalogue part (`coef`, `cb`, on the top's evidence alone) fixed."""
    learned = np.array([f in LEARNED_FEATURES for f in FEATURES])
    alone = t1.X.copy()
    alone[:, learned] = 0.0
    raw, raw_alone = t1.X @ w + b, alone @ w + b
    partial = t1.X[:, FEATURES.index("object_partial")]
    cols = list(LEARNED_DECISION)
    L, off, ok = [], [], []
    for i in range(rows):
        js = np.flatnonzero(t1.rix == i)
        if not len(js):
            continue
        j = js[np.argmax(raw[js])]
        z = np.array([raw_alone[j], partial[j], *t1.D[j]]) @ coef + cb
        L.append([*(t1.X[j, FEATURES.index(f)] for f in cols[:-1]), t1.nil[j]])
        off.append(z)
        ok.append(t1.y[j])
    L_, y = np.array(L), np.array(ok)
    if not L_.any():
        return {}
    wl, _ = logistic_fit(L_, y, l2=LEARNED_L2, offset=np.array(off), bias_l2=1e6)
    return {f: float(v) for f, v, s in zip(cols, wl, LEARNED_DECISION.values(), strict=True) if v * s > 0}
