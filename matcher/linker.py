"""Link a free-text indicator to catalogue codes: candidates, one scoring function, a decision.

Pipeline for a query (name, optional class digits, optional target value):
1. **learned**: a reviewer's earlier decision for the same text and class is applied as is; for other
   texts learned links are evidence features (`learned.py`), never aliases;
2. **candidates**: the union of the nearest names by vector (FAISS) and by characters (rapidfuzz),
   every name and alias of the catalogue when the catalogue is small, and the codes learned links
   point to from near texts;
3. **ranking**: each candidate name gets the component scores of `features.pair_features` (and the
   learned evidence); the ranker orders them by `raw = bias + Σ weight·feature`, with the weights
   fitted on labelled links (`indicode calibrate`); a code takes its best-scoring spelling;
4. **decision model**: `raw` on the catalogue evidence alone, the match type (does the code name an
   object the query only partly has?) and signals of its own (`calibration.DECISION_FEATURES`: e5
   similarity, how much of the query the name explains, shared measure head, class and kind
   agreement, whole object, none of it, or generic code) are mapped by a logistic curve fitted on
   the same links to the chance that the candidate is right, so a score of 0.9 means about 9 in 10
   such suggestions are right. Every
   candidate gets this one score; the list keeps the ranker's order, and a score is capped at the
   one above it, so the list is also in the order of the scores shown;
5. **decision**: by the top's score as shown, `accept` at or above the accept threshold unless the
   match is a guess that two things are the same (`may_accept`), `review` at or above the review
   threshold, else `no-match`, naming the class where a new code would go. Learned evidence from
   other texts only reorders candidates; an accept becomes a review when it changed the top or a
   reviewer called a text nearer to the query than the code's name "no code fits".
"""
from __future__ import annotations

import functools
import gc
import json
import math
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from ..catalogue.classes import LEVEL1, LEVEL2
from ..catalogue.lazy import LazyCatalogue
from ..catalogue.lookup import Catalogue
from ..catalogue.records import NIL

from . import names as prepared, vector_index
from .cache import VectorCache
from .encoders import Encoder, load_encoder
from .features import FIXED_WEIGHTS, Query, measure_heads, name_info, pair_features
from .learned import LEARNED_FEATURES, LearnedLinks
from .text import MAX_TEXT, Canon, clean, kind_of

MODEL_PATH = Path(__file__).parent / "data" / "model.json"
K_EACH = 64  # candidates: the K nearest names by vector and the K most similar by characters
# up to this many names every name is scored: about what the K + K candidates cost, so the cost per
# query grows smoothly with the catalogue (no jump where the candidate path starts)
FULL_SCAN_MAX = 2 * K_EACH
# The per-name caches (prepared names, catalogue entries) are long-lived and hold no reference
# cycles; once this many new ones have gathered they are moved out of the cyclic collector's sight
# (`gc.freeze`): its full passes over 10^5 such objects cost 50-150 ms, landing on some query's path.
# Frozen objects are still freed by reference counting when a cache drops them.
GC_FREEZE_EVERY = 1000
MAX_MARGIN = 4.0  # margins beyond this say nothing more (and a lone candidate has this margin)
MAX_SCORE = 0.99  # shown at most (1.00 is kept for a reviewer's own decision); the decision uses the
                  # score before this cap, so an accept threshold above 0.99 stays meaningful

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
    decide: dict[str, float] = field(default_factory=dict)  # + Σ decide[f]·feature f of the candidate

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "ScoreModel":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))

    def save(self, path: Path = MODEL_PATH) -> None:
        Path(path).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")

    def raw(self, feats: dict[str, float]) -> float:
        w = self.effective_weights
        return self.bias + sum(w.get(k, 0.0) * v for k, v in feats.items() if v)  # zero features add nothing

    @functools.cached_property
    def effective_weights(self) -> dict[str, float]:
        """Fitted weights with the domain-set ones (merged once, not per candidate)."""
        return {**self.weights, **FIXED_WEIGHTS} if self.use_fixed else dict(self.weights)

    def calibrated(self, raw: float, margin: float, partial: float = 0.0, feats: dict[str, float] | None = None) -> float:
        """The chance a candidate is right, from its ranker score, its margin over the best other
        candidate (negative below the top), its match type and the decision model's own features."""
        z = self.calib_a * raw + self.calib_m * margin + self.calib_p * partial + self.calib_b
        if feats:
            z += sum(w * feats.get(k, 0.0) for k, w in self.decide.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


@dataclass
class Candidate:
    code: str
    name: str  # the code's canonical name
    matched: str  # the spelling (name, alias or learned text) that scored best
    level2: str
    score: float  # calibrated: the chance this suggestion is right; the candidates are ordered by it
    raw: float  # the ranker's score, learned evidence included: the order
    features: dict[str, float] = field(default_factory=dict)
    alone: float = 0.0  # the ranker's score on the catalogue evidence alone: what `score` is made from

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
        if f.get("object_none"):
            bits.append("编码所指对象未出现（不自动采用）")
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
    cut: bool = False  # the text was longer than MAX_TEXT: matched by its first MAX_TEXT characters

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
        """Thread safety: `suggest` may be called from several threads at once. The encoder is behind
        one lock per encoder, shared by every Linker using it (one encoding at a time: it already
        uses every core; a server swapping in a new Linker keeps that true), the vector cache and the
        lazy catalogue lock their own connections, the per-name cache is an `lru_cache`; everything
        else a query reads is built here and not changed by a query. `reload` replaces it attribute by
        attribute: call it when no suggestion runs, or build a new Linker and swap the reference."""
        self.cat, self.encoder = cat, encoder
        self._cache: VectorCache | None = None
        self._encode_lock = _encoder_lock(encoder)
        self.last_encoded = 0  # texts the last encoding call had to encode (not cached)
        self.model = model or ScoreModel.load()
        self.index = index or vector_index.load_or_build(cat, encoder)
        self.full_scan_max = full_scan_max
        self._prepare_names()
        self._cached_at_freeze = -GC_FREEZE_EVERY
        self._settle_gc()

    @classmethod
    def default(cls, catalogue: str | Path | None = None, model: str | None = None) -> "Linker":
        # entries are read when a query needs them: start-up does not read the whole catalogue
        return cls(LazyCatalogue.load(catalogue), load_encoder(model))

    def _prepare_names(self) -> None:
        """Names to score (the index's names) and what the features need of each, prepared from the
        files stored beside the index (`names.py`); learned links are evidence (`learned.py`), not
        extra names."""
        table = getattr(self, "table", None)
        if table is None or table.stamp != prepared.stamp_for(self.cat, self.index):  # a reload keeps it
            table = prepared.load_or_build(self.cat, self.index, self.index.path)
        self.table = table
        for derived in ("_code_pos", "_rows_by_code"):  # from the table: made again on first use
            self.__dict__.pop(derived, None)
        self.canon = Canon(table.variants)
        self.code_kind = dict(zip(table.code_list, table.kind))
        self.learned = LearnedLinks.of_catalogue(self.cat, self.canon)
        self.names = list(self.index.names)
        self.codes = list(self.index.codes)
        self.name_canon = table.canon
        self.weights = table.weights()
        self.info = prepared.PreparedInfo(table, self.weights, names=self.names, fold=self.canon)
        self._all_vecs = None
        if len(self.names) <= self.full_scan_max:
            self._all_vecs = self.index.vectors()

    def reload(self) -> None:
        """Pick up learned links written since start-up."""
        self.cat = type(self.cat).load(self.cat.path)
        self._prepare_names()

    # ------------------------------------------------------------------ candidates and scores

    def _vec_of(self, i: int) -> np.ndarray:
        return self.index.index.reconstruct(i)

    def ids_of(self, code: str) -> list[int]:
        """Row ids of every spelling of a code, ascending (looked up, not scanned: the scoring asks for
        each code a learned text points to, on every query)."""
        pos = self._code_pos.get(code)
        if pos is None:
            return []
        order, starts = self._rows_by_code
        return sorted(int(i) for i in order[starts[pos]:starts[pos + 1]])

    @functools.cached_property
    def _rows_by_code(self) -> tuple[np.ndarray, np.ndarray]:
        """Row ids grouped by code position, and where each code's group starts (built once)."""
        code_of = np.asarray(self.table.code_of)
        order = np.argsort(code_of, kind="stable")
        starts = np.searchsorted(code_of[order], np.arange(len(self.table.code_list) + 1))
        return order, starts

    @functools.cached_property
    def _code_pos(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.table.code_list)}

    def _candidate_ids(self, q: Query, qvec: np.ndarray, must: str = "") -> dict[int, float]:
        """Row ids of candidate names with their vector similarity; every name of code `must`
        (a learned decision) is always among them."""
        if self._all_vecs is not None:
            out = dict(enumerate((self._all_vecs @ qvec).tolist()))
            self._prefetch(out)
            return out
        sims, ids = self.index.search(qvec[None, :], K_EACH)
        out = {int(i): float(s) for s, i in zip(sims[0], ids[0]) if i >= 0}
        # the K most similar by characters (`fuzz.ratio`, exact) from the character index
        for i, _ in self.table.chars.top(q.canon, self.table.canon, K_EACH):
            if i not in out:
                out[i] = float(self._vec_of(i) @ qvec)
        for i in self.ids_of(must) if must else ():
            if i not in out:
                out[i] = float(self._vec_of(i) @ qvec)
        self._prefetch(out)
        return out

    def _settle_gc(self) -> None:
        """Freeze the caches' objects once GC_FREEZE_EVERY new ones have gathered (see its comment)."""
        made = self.info.made() + len(getattr(self.cat.entries, "_have", ()))
        if made - self._cached_at_freeze >= GC_FREEZE_EVERY:
            # garbage cycles not yet collected would be frozen too, and kept for good: collect the
            # young generations first (cheap; cyclic garbage of a request dies young)
            gc.collect(1)
            gc.freeze()
            self._cached_at_freeze = made

    def _prefetch(self, ids) -> None:
        """One read for the candidates' entries when the catalogue is read lazily."""
        prefetch = getattr(self.cat.entries, "prefetch", None)
        if prefetch:
            prefetch([self.codes[i] for i in ids])

    def score(self, q: Query, qvec: np.ndarray, must: str = "", learned: LearnedLinks | None = None) -> list[Candidate]:
        """Every candidate code, each with its best-scoring spelling, ordered by its score (best
        first); `learned` replaces the catalogue's learned links (cross-validation uses other
        sources' links)."""
        evidence, nil = (self.learned if learned is None else learned).evidence(q.canon)
        ids = self._candidate_ids(q, qvec, must)
        for code in evidence:  # a code a near learned text points to is always a candidate
            for i in self.ids_of(code):
                if i not in ids:
                    ids[i] = float(self._vec_of(i) @ qvec)
        none = dict.fromkeys(LEARNED_FEATURES, 0.0)
        best: dict[str, Candidate] = {}
        for i, sim in ids.items():
            code = self.codes[i]
            e = self.cat.entries[code]
            feats = pair_features(q, self.info[i], sim)
            feats.update(evidence.get(code, none))
            feats["learned_nil"] = nil
            raw = self.model.raw(feats)
            if code not in best or raw > best[code].raw:
                best[code] = Candidate(code, e.name, self.names[i], e.level2, 0.0, raw, feats)
        return self._scored(list(best.values()))

    def _scored(self, cands: list[Candidate]) -> list[Candidate]:
        """The candidates in the ranker's order (`raw`, learned evidence included, best first), each
        with its score from the decision model on the catalogue evidence alone (`alone`): learned
        links of other texts reorder codes but never make one look surer. The ranker orders, the
        decision model says how sure: a candidate's score is capped at the score of the one ranked
        above it, so the list is also in the order of the scores shown (ordering by the decision
        model's score instead cost 1.3 points of top-1 by source: it weighs the match type and
        similarity for the decision, not for choosing between codes)."""
        alone = {c.code: _without_learned(c.features) for c in cands}
        for c in cands:
            c.alone = c.raw if alone[c.code] is c.features else self.model.raw(alone[c.code])
        ranked = sorted(cands, key=lambda c: (-c.raw, c.code))
        by_alone = sorted((c.alone for c in cands), reverse=True)
        best = by_alone[0]
        second = by_alone[1] if len(by_alone) > 1 else best - MAX_MARGIN
        cap = 1.0
        for c in ranked:
            other = second if c.alone >= best else best  # the margin is over the best other candidate
            c.score = cap = min(cap, self.model.calibrated(c.alone, min(c.alone - other, MAX_MARGIN),
                                                           c.features.get("object_partial", 0.0), alone[c.code]))
        return ranked

    def _level(self, c: Candidate) -> str:
        """accept / review / no-match for a top candidate by its score and match type."""
        if c.score >= self.model.accept and may_accept(c.features):
            return ACCEPT
        return REVIEW if c.score >= self.model.review else NO_MATCH

    def make_query(self, text: str, level2: str = "", value: str = "") -> Query:
        text = text[:MAX_TEXT]  # matching cost grows with length; a longer text is flagged `cut`
        canon = self.canon(text)
        return Query(text=text, canon=canon, level2=(level2 or "").strip(), kind=kind_of(text, value),
                     profile=self.weights.profile(canon))

    # ------------------------------------------------------------------ public API

    def suggest_many(self, items: list[tuple[str, str, str]], k: int = 5,
                     vectors: np.ndarray | None = None) -> list[Suggestion]:
        """Suggestions for (text, class, value) items; texts are encoded in one batch."""
        if vectors is None:
            vectors = self.encode_queries([t for t, _, _ in items])
        out = []
        for i, (t, l2, v) in enumerate(items):
            s = self._suggest(t, l2, v, k, vectors[i])
            s.cut = len(t) > MAX_TEXT
            out.append(s)
        self._settle_gc()
        return out

    def encode_queries(self, texts: list[str], on_batch=None) -> np.ndarray:
        """Query vectors of texts as `clean` leaves them (so width and punctuation never matter),
        through the on-disk cache of this encoder: only unseen texts are encoded. Texts longer than
        MAX_TEXT are encoded by their first MAX_TEXT characters."""
        return self._encode_cached([_query_text(t) for t in texts], "query", on_batch)

    def encode_stream(self, texts: list[str], batch: int = 64):
        """Yield (row numbers, query vectors, newly encoded) batch by batch while a background thread
        encodes the next batches: bulk matching overlaps encoding (the encoder's C engine runs
        without the GIL). Cached texts come first. Sets `last_encoded` when done."""
        import queue

        prepped = [_query_text(t) for t in texts]
        q: queue.Queue = queue.Queue(maxsize=4)
        END = object()

        stop = threading.Event()

        def produce() -> None:
            try:
                with self._encode_lock:
                    if self._cache is None:
                        self._cache = VectorCache(self.encoder.name, self.encoder.dim)
                    for item in self._cache.encode_iter(prepped, self.encoder.encode_queries, "query", batch):
                        if stop.is_set():
                            return
                        q.put(item)
                q.put(END)
            except BaseException as exc:  # handed to the consumer, raised there
                q.put(exc)

        worker = threading.Thread(target=produce, name="indicode-encode", daemon=True)
        worker.start()
        encoded = 0
        try:
            while True:
                item = q.get()
                if item is END:
                    break
                if isinstance(item, BaseException):
                    raise item
                encoded += item[2]
                yield item
        finally:  # also when the consumer stops early: let the encoder thread finish its batch and end
            stop.set()
            while worker.is_alive():
                try:
                    q.get(timeout=0.05)
                except queue.Empty:
                    pass
            self.last_encoded = encoded

    def _encode_cached(self, texts: list[str], role: str, on_batch=None) -> np.ndarray:
        with self._encode_lock:
            if self._cache is None:
                self._cache = VectorCache(self.encoder.name, self.encoder.dim)
            fn = self.encoder.encode_queries if role == "query" else self.encoder.encode_passages
            # one or a few texts (a suggestion being typed): the new vectors are written later, in a
            # batch, not on the answer's path
            vecs, self.last_encoded = self._cache.encode(texts, fn, role=role, on_batch=on_batch,
                                                         defer=len(texts) <= 8)
            return vecs

    def suggest(self, text: str, level2: str = "", value: str = "", k: int = 5) -> Suggestion:
        return self.suggest_many([(text, level2, value)], k)[0]

    def _suggest(self, text: str, level2: str, value: str, k: int, qvec: np.ndarray) -> Suggestion:
        q = self.make_query(text, level2, value)
        if not q.canon:
            return Suggestion(text, level2, value, NO_MATCH, [], class_label(level2), "empty")
        learned = self.learned.decision(text, q.level2)
        ranked = self.score(q, qvec, learned or "")
        if learned == NIL:
            return Suggestion(text, level2, value, NO_MATCH, _shown(ranked[:k]),
                              class_label(q.level2 or ranked[0].level2), "learned")
        if learned:
            top = next(c for c in ranked if c.code == learned)
            ranked = _shown([top] + [c for c in ranked if c.code != learned])
            top.score = 1.0
            return Suggestion(text, level2, value, ACCEPT, ranked[:k], "", "learned")
        top = ranked[0]
        # the decision follows the score shown (the catalogue evidence alone); learned links of
        # other texts can only raise a question: an accept becomes a review when they changed the
        # top, or when a reviewer called a text nearer to the query than the code's name (by
        # character ratio) "no code fits"
        decision = self._level(top)
        near_nil = top.features.get("learned_nil", 0.0) > top.features.get("ratio", 0.0)
        if decision == ACCEPT and (near_nil or top.alone < max(c.alone for c in ranked)):
            decision = REVIEW
        new_class = ""
        if decision == NO_MATCH:
            new_class = class_label(q.level2 if q.level2 in LEVEL2 else top.level2)
        return Suggestion(text, level2, value, decision, _shown(ranked[:k]), new_class)


def _query_text(text: str) -> str:
    """What a query is encoded from: its first MAX_TEXT characters as `clean` leaves them (the text
    itself when cleaning leaves nothing)."""
    return clean(text[:MAX_TEXT]) or text[:MAX_TEXT]


def _without_learned(features: dict[str, float]) -> dict[str, float]:
    """A candidate's features on the catalogue evidence alone."""
    if not (features.get("learned_nil") or any(features.get(k) for k in LEARNED_FEATURES)):
        return features
    return {**features, **dict.fromkeys(LEARNED_FEATURES, 0.0), "learned_nil": 0.0}


def _shown(cands: list[Candidate]) -> list[Candidate]:
    """Scores as shown: at most MAX_SCORE, in the order of the list."""
    for c in cands:
        c.score = min(c.score, MAX_SCORE)
    return cands


_ENCODER_LOCKS: dict[int, threading.RLock] = {}
_ENCODER_LOCKS_GUARD = threading.Lock()


def _encoder_lock(encoder) -> threading.RLock:
    """The lock of one encoder object, the same for every Linker that uses it."""
    with _ENCODER_LOCKS_GUARD:
        return _ENCODER_LOCKS.setdefault(id(encoder), threading.RLock())


def may_accept(features: dict[str, float]) -> bool:
    """Whether a suggestion may be accepted without a person: not when the code names an object the
    query has only part of (员工 for 馆员, 制服采购 for 设备采购) or none of (采购时效 for 办文时效),
    nor when the query reaches it only as one of the instances its name lists (人员 for 补助对象（人员、
    企业…）: 服务人员 are staff, not beneficiaries), nor a count in person-times for a count of
    persons (驻场运营人次数 is not 驻场运营人员数), nor when a generic code stands in for a query of
    another level-1 class or of no class given (任务完成率, an output, for a 效益 indicator). Each is a guess that two things are the
    same, and a wrong code costs a reviewer more than a question (DOMAIN.md)."""
    return (not features.get("object_partial") and not features.get("object_none") and not features.get("scope")
            and not features.get("unit_differs")
            and not (features.get("head_generic") and not (features.get("class_same") or features.get("class_level1"))))


