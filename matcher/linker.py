"""Link a free-text indicator to catalogue codes: candidates, one scoring function, a decision.

Pipeline for a query (name, optional class digits, optional target value):
1. **learned**: a reviewer's earlier decision for the same text and class is applied as is;
2. **candidates**: the union of the nearest names by vector (FAISS) and by characters (rapidfuzz),
   every name and alias of the catalogue (and learned texts) when the catalogue is small;
3. **ranking**: each candidate name gets the component scores of `features.pair_features`; the
   score is one logistic function of them, `raw = bias + Σ weight·feature`, with the weights fitted on
   labelled links (`indicode calibrate`); a code takes its best-scoring spelling;
4. **calibration**: `raw`, the margin over the runner-up and the match type (does the code name an
   object the query only partly has?) are mapped by a logistic curve (Platt scaling), fitted on the
   same links, to the chance that the top suggestion is right, so a score of 0.9 means about 9 in 10
   such suggestions are right;
5. **decision**: `accept` at or above the accept threshold unless the object is only partly shared
   (`may_accept`), `review` at or above the review threshold, else `no-match`, naming the class where
   a new code would go.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from ..catalogue.classes import LEVEL1, LEVEL2
from ..catalogue.store import NIL, Catalogue

from . import vector_index
from .cache import VectorCache
from .encoders import Encoder, load_encoder
from .features import FIXED_WEIGHTS, CharWeights, Query, measure_heads, name_info, pair_features
from .text import Canon, clean, kind_of, learn_variants, value_kind

MODEL_PATH = Path(__file__).parent / "data" / "model.json"
FULL_SCAN_MAX = 3000  # below this many names every name is scored; above, K nearest by each signal
K_EACH = 64
MAX_MARGIN = 4.0  # margins beyond this say nothing more (and a lone candidate has this margin)

ACCEPT, REVIEW, NO_MATCH = "accept", "review", "no-match"


@dataclass
class ScoreModel:
    """Ranker weights, calibration curve and decision thresholds (written by `indicode calibrate`)."""

    weights: dict[str, float]
    bias: float
    calib_a: float  # calibrated = sigmoid(calib_a·raw + calib_m·margin + calib_b)  (Platt scaling, with
    calib_b: float  # the margin over the best other candidate as a second confidence signal)
    calib_m: float
    accept: float
    review: float
    fitted_on: str = ""
    calib_p: float = 0.0  # + calib_p·partial: the suggestion names an object the query only partly has
    use_fixed: bool = True  # apply the domain-set weights (off for the single-signal baselines)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "ScoreModel":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))

    def save(self, path: Path = MODEL_PATH) -> None:
        Path(path).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")

    def raw(self, feats: dict[str, float]) -> float:
        w = self.effective_weights
        return self.bias + sum(w.get(k, 0.0) * v for k, v in feats.items())

    @functools.cached_property
    def effective_weights(self) -> dict[str, float]:
        """Fitted weights with the domain-set ones (merged once, not per candidate)."""
        return {**self.weights, **FIXED_WEIGHTS} if self.use_fixed else dict(self.weights)

    def calibrated(self, raw: float, margin: float, partial: float = 0.0) -> float:
        z = self.calib_a * raw + self.calib_m * margin + self.calib_p * partial + self.calib_b
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


@dataclass
class Candidate:
    code: str
    name: str  # the code's canonical name
    matched: str  # the spelling (name, alias or learned text) that scored best
    level2: str
    score: float  # calibrated: the chance this suggestion is right
    raw: float
    features: dict[str, float] = field(default_factory=dict)

    @property
    def why(self) -> str:
        """The component scores in words (Chinese, for the people who use the tool)."""
        f = self.features
        bits = [f"语义相似 {f.get('vec', 0):.2f}", f"字面相似 {f.get('ratio', 0):.2f}",
                f"覆盖编码名称 {f.get('cov_name', 0):.0%}"]
        if f.get("head_match"):
            bits.append("计量词相同")
        if f.get("head_generic"):
            bits.append("通用编码")
        if f.get("object_partial"):
            bits.append("对象仅部分相同（不自动采用）")
        if f.get("class_same"):
            bits.append(f"类别 {self.level2} 一致")
        elif f.get("class_diff") or f.get("class_level1"):
            bits.append(f"类别不同（编码为 {self.level2}）")
        if f.get("kind_conflict"):
            bits.append("计量类型不同")
        if self.matched != self.name:
            bits.append(f"经别名「{self.matched}」")
        return "；".join(bits)


@dataclass
class Suggestion:
    text: str
    level2: str
    value: str
    decision: str
    candidates: list[Candidate]
    new_code_class: str = ""  # for no-match: where a new code would go
    reason: str = "score"  # score | learned | empty

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def code(self) -> str:
        """The decided code ('' for no-match)."""
        return self.top.code if self.top and self.decision != NO_MATCH else ""

    def to_dict(self) -> dict:
        return {
            "text": self.text, "class": self.level2, "value": self.value, "decision": self.decision,
            "code": self.code, "name": self.top.name if self.code else "", "score": round(self.top.score, 4) if self.top else 0.0,
            "reason": self.reason, "new_code_class": self.new_code_class,
            "candidates": [{"code": c.code, "name": c.name, "matched": c.matched, "class": c.level2,
                            "score": round(c.score, 4), "why": c.why,
                            "features": {k: round(v, 4) for k, v in c.features.items()}} for c in self.candidates],
        }


def class_label(level2: str) -> str:
    if level2 in LEVEL2:
        return f"{level2}-{LEVEL2[level2]}"
    if level2 in LEVEL1:
        return f"{level2}-{LEVEL1[level2]}"
    return level2


class Linker:
    """Suggests codes for free-text indicators against one catalogue with one encoder."""

    def __init__(self, cat: Catalogue, encoder: Encoder, model: ScoreModel | None = None,
                 index: vector_index.VectorIndex | None = None, full_scan_max: int = FULL_SCAN_MAX):
        self.cat, self.encoder = cat, encoder
        self._cache: VectorCache | None = None
        self.last_encoded = 0  # texts the last encoding call had to encode (not cached)
        self.model = model or ScoreModel.load()
        self.index = index or vector_index.load_or_build(cat, encoder)
        self.full_scan_max = full_scan_max
        self.canon = Canon(learn_variants([list(e.names) for e in cat.entries.values() if len(e.names) > 1]))
        self.code_kind = {e.code: kind_of(e.name) or _majority_kind(e.values) for e in cat.entries.values()}
        self._prepare_names()

    @classmethod
    def default(cls, catalogue: str | Path | None = None, model: str | None = None) -> "Linker":
        return cls(Catalogue.load(catalogue), load_encoder(model))

    def _prepare_names(self) -> None:
        """Names to score (the index's names plus learned texts as extra aliases of their codes) and
        what the features need of each: canonical spelling, measure head, object, class, kind."""
        self.learned_exact = {(clean(l.text), l.level2): l.code for l in self.cat.learned
                              if l.code in self.cat.entries or l.code == NIL}
        learned = [l for l in self.cat.learned if l.code in self.cat.entries]  # aliases from then on
        extra = [l.text for l in learned]
        self.names = list(self.index.names) + extra
        self.codes = list(self.index.codes) + [l.code for l in learned]
        self.ids_of: dict[str, list[int]] = {}
        for i, code in enumerate(self.codes):
            self.ids_of.setdefault(code, []).append(i)
        self.name_canon = [self.canon(n) for n in self.names]
        self.weights = CharWeights(self.name_canon)
        heads = measure_heads(self.name_canon)
        top = max((e.count for e in self.cat.entries.values()), default=1)
        pop = {c: math.log1p(e.count) / math.log1p(top) for c, e in self.cat.entries.items()}
        self.info = [name_info(c, heads[c], self.cat.entries[code].level2, self.code_kind[code], pop[code], self.weights)
                     for c, code in zip(self.name_canon, self.codes)]
        self.extra_vecs = self._encode_cached([clean(t) or t for t in extra], "passage")
        self._all_vecs = None
        if len(self.names) <= self.full_scan_max:
            self._all_vecs = np.vstack([self.index.vectors(), self.extra_vecs])

    def reload(self) -> None:
        """Pick up learned links written since start-up."""
        self.cat = Catalogue.load(self.cat.path)
        self._prepare_names()

    # ------------------------------------------------------------------ candidates and scores

    def _vec_of(self, i: int) -> np.ndarray:
        n = len(self.index.names)
        return self.index.index.reconstruct(i) if i < n else self.extra_vecs[i - n]

    def _candidate_ids(self, q: Query, qvec: np.ndarray, must: str = "") -> dict[int, float]:
        """Row ids of candidate names with their vector similarity; every name of code `must`
        (a learned decision) is always among them."""
        if self._all_vecs is not None:
            return dict(enumerate((self._all_vecs @ qvec).tolist()))
        sims, ids = self.index.search(qvec[None, :], K_EACH)
        out = {int(i): float(s) for s, i in zip(sims[0], ids[0]) if i >= 0}
        # plain ratio: WRatio costs 14x more (122 ms against 8.6 ms over 100,000 names)
        for _, _, i in process.extract(q.canon, self.name_canon, scorer=fuzz.ratio, limit=K_EACH):
            if i not in out:
                out[i] = float(self._vec_of(i) @ qvec)
        if len(self.extra_vecs):  # learned texts are not in the FAISS index: their nearest K here
            sims = self.extra_vecs @ qvec
            n = len(self.index.names)
            for j in np.argsort(-sims)[:K_EACH]:
                out.setdefault(n + int(j), float(sims[j]))
        for i in self.ids_of.get(must, ()):
            if i not in out:
                out[i] = float(self._vec_of(i) @ qvec)
        return out

    def score(self, q: Query, qvec: np.ndarray, must: str = "") -> list[Candidate]:
        """Every candidate code, best first, each with its best-scoring spelling."""
        best: dict[str, Candidate] = {}
        for i, sim in self._candidate_ids(q, qvec, must).items():
            code = self.codes[i]
            e = self.cat.entries[code]
            feats = pair_features(q, self.info[i], sim)
            raw = self.model.raw(feats)
            if code not in best or raw > best[code].raw:
                best[code] = Candidate(code, e.name, self.names[i], e.level2, 0.0, raw, feats)
        ranked = sorted(best.values(), key=lambda c: (-c.raw, c.code))
        for i, c in enumerate(ranked):
            other = ranked[1].raw if i == 0 and len(ranked) > 1 else ranked[0].raw if i else c.raw - MAX_MARGIN
            c.score = self.model.calibrated(c.raw, min(c.raw - other, MAX_MARGIN), c.features.get("object_partial", 0.0))
        return ranked

    def make_query(self, text: str, level2: str = "", value: str = "") -> Query:
        canon = self.canon(text)
        return Query(text=text, canon=canon, level2=(level2 or "").strip(), kind=kind_of(text, value),
                     profile=self.weights.profile(canon))

    # ------------------------------------------------------------------ public API

    def suggest_many(self, items: list[tuple[str, str, str]], k: int = 5,
                     vectors: np.ndarray | None = None) -> list[Suggestion]:
        """Suggestions for (text, class, value) items; texts are encoded in one batch."""
        if vectors is None:
            vectors = self.encode_queries([t for t, _, _ in items])
        return [self._suggest(t, l2, v, k, vectors[i]) for i, (t, l2, v) in enumerate(items)]

    def encode_queries(self, texts: list[str], on_batch=None) -> np.ndarray:
        """Query vectors of texts as `clean` leaves them (so width and punctuation never matter),
        through the on-disk cache of this encoder: only unseen texts are encoded."""
        return self._encode_cached([clean(t) or t for t in texts], "query", on_batch)

    def _encode_cached(self, texts: list[str], role: str, on_batch=None) -> np.ndarray:
        if self._cache is None:
            self._cache = VectorCache(self.encoder.name, self.encoder.dim)
        fn = self.encoder.encode_queries if role == "query" else self.encoder.encode_passages
        vecs, self.last_encoded = self._cache.encode(texts, fn, role=role, on_batch=on_batch)
        return vecs

    def suggest(self, text: str, level2: str = "", value: str = "", k: int = 5) -> Suggestion:
        return self.suggest_many([(text, level2, value)], k)[0]

    def _suggest(self, text: str, level2: str, value: str, k: int, qvec: np.ndarray) -> Suggestion:
        q = self.make_query(text, level2, value)
        if not q.canon:
            return Suggestion(text, level2, value, NO_MATCH, [], class_label(level2), "empty")
        learned = self.learned_exact.get((clean(text), q.level2))
        ranked = self.score(q, qvec, learned or "")
        if learned == NIL:
            return Suggestion(text, level2, value, NO_MATCH, ranked[:k], class_label(q.level2 or ranked[0].level2),
                              "learned")
        if learned:
            top = next(c for c in ranked if c.code == learned)
            top.score = 1.0
            ranked = [top] + [c for c in ranked if c.code != learned]
            return Suggestion(text, level2, value, ACCEPT, ranked[:k], "", "learned")
        top = ranked[0]
        decision = (ACCEPT if top.score >= self.model.accept and may_accept(top.features)
                    else REVIEW if top.score >= self.model.review else NO_MATCH)
        new_class = ""
        if decision == NO_MATCH:
            new_class = class_label(q.level2 if q.level2 in LEVEL2 else top.level2)
        return Suggestion(text, level2, value, decision, ranked[:k], new_class)


def may_accept(features: dict[str, float]) -> bool:
    """Whether a suggestion may be accepted without a person: not when the code names an object the
    query has only part of (员工 for 馆员, 制服购置 for 设备购置). That is a guess that two different
    objects are the same thing, and a wrong code costs a reviewer more than a question (DOMAIN.md)."""
    return not features.get("object_partial")


def _majority_kind(values: list[str]) -> str:
    from collections import Counter

    kinds = Counter(k for k in (value_kind(v) for v in values) if k)
    return kinds.most_common(1)[0][0] if kinds else ""
