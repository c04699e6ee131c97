"""Link a free-text indicator to catalogue codes: candidates, one scoring function, a decision.

Pipeline for a query (name, optional class digits, optional target value):
1. **learned**: a reviewer's earlier decision for the same text and class is applied as is; for other
   texts learned links are evidence features (`learned.py`), never aliases;
2. **candidates** (`generate.py`): the union of the nearest names by vector (FAISS) and by
   characters, every name and alias of the catalogue when the catalogue is small, and the codes
   learned links point to from near texts;
3. **ranking** (`rank.py`): each candidate name gets the component scores of
   `features.pair_features` (and the learned evidence); the ranker orders them by
   `raw = bias + Σ weight·feature`, with the weights fitted on labelled links (`indicode
   calibrate`); a code takes its best-scoring spelling;
4. **decision model** (`model.py`): `raw` on the catalogue evidence alone, the match type (does the
   code name an object the query only partly has?) and signals of its own
   (`calibration.DECISION_FEATURES`: e5 similarity, how much of the query the name explains, shared
   measure head, class and kind agreement, whole object, none of it, or generic code) are mapped by
   a logistic curve fitted on the same links to the chance that the candidate is right, so a score
   of 0.9 means about 9 in 10 such suggestions are right. Every candidate gets this one score; the
   list keeps the ranker's order, and a score is capped at the one above it, so the list is also in
   the order of the scores shown;
5. **decision** (`policy.py`): by the top's score as shown, `accept` at or above the accept
   threshold unless the match is a guess that two things are the same (`may_accept`), `review` at
   or above the review threshold, else `no-match`, naming the class where a new code would go.
   Learned evidence from other texts reorders candidates and, through the decision model's learned
   part, may lift a top to review or drop it to no match, never to accept; an accept becomes a review
   when it changed the top or a reviewer called a text nearer to the query than the code's name "no
   code fits".
The records it answers are in `results.py`; `present.py` turns them into words and JSON.
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from ..catalogue.classes import LEVEL2
from ..catalogue.lazy import LazyCatalogue
from ..catalogue.lookup import Catalogue
from ..catalogue.records import NIL, Learned
from . import flags, policy, rank, vector_index
from . import names as prepared
from .classify import ClassModel
from .encoders import Encoder, load_encoder
from .encoding import QueryEncoder
from .features import Query, pair_features
from .generate import FULL_SCAN_MAX, CandidateGenerator
from .generic import GenericCodes
from .learned import LEARNED_FEATURES, LearnedLinks, near_key
from .model import ScoreModel
from .present import class_label
from .results import Candidate, Suggestion, Verdict
from .text import MAX_TEXT, Canon, clean, kind_of

# The per-name caches (prepared names, catalogue entries) are long-lived and hold no reference
# cycles; once this many new ones have gathered they are moved out of the cyclic collector's sight
# (`gc.freeze`): its full passes over 10^5 such objects cost 50-150 ms, landing on some query's path.
# Frozen objects are still freed by reference counting when a cache drops them.
GC_FREEZE_EVERY = 1000


class Linker:
    """Suggests codes for free-text indicators against one catalogue with one encoder."""

    def __init__(self, cat: Catalogue, encoder: Encoder, model: ScoreModel | None = None,
                 index: vector_index.VectorIndex | None = None, full_scan_max: int = FULL_SCAN_MAX,
                 learned: Sequence[Learned] = ()):
        """`learned`: the reviewers' decisions to apply (a workspace's decisions in force,
        `indicode.workspace.Workspace.learned_links`); none by default, so that results do not depend
        on what anyone has clicked.
        Thread safety: `suggest` may be called from several threads at once. The encoder is behind
        one lock per encoder, shared by every Linker using it (one encoding at a time: it already
        uses every core; a server swapping in a new Linker keeps that true), the vector cache and the
        lazy catalogue lock their own connections, the per-name cache is an `lru_cache`; everything
        else a query reads is built here and not changed by a query. To follow a changed catalogue,
        build a new Linker and swap the reference (`server.service`)."""
        self.cat, self.encoder = cat, encoder
        self.decisions = list(learned)
        self.queries = QueryEncoder(encoder)
        self._encode_lock = self.queries.lock
        self.model = model or ScoreModel.load()
        self.classes = ClassModel.load()
        self.index = index or vector_index.load_or_build(cat, encoder)
        self.full_scan_max = full_scan_max
        self._prepare_names()
        self._cached_at_freeze = -GC_FREEZE_EVERY
        self._settle_gc()

    @classmethod
    def default(cls, catalogue: str | Path | None = None, model: str | None = None,
                learned: Sequence[Learned] = ()) -> Linker:
        # entries are read when a query needs them: start-up does not read the whole catalogue
        return cls(LazyCatalogue.load(catalogue), load_encoder(model), learned=learned)

    def _prepare_names(self) -> None:
        """Names to score (the index's names) and what the features need of each, prepared from the
        files stored beside the index (`names.py`); learned links are evidence (`learned.py`), not
        extra names."""
        self.table = table = prepared.load_or_build(self.cat, self.index, self.index.path)
        self.canon = Canon(table.variants)
        self.code_kind = dict(zip(table.code_list, table.kind, strict=True))
        self.learned = LearnedLinks.of_records(self.decisions, known=self.cat.suggestable)
        self.names = list(self.index.names)
        self.codes = list(self.index.codes)
        self.name_canon = table.canon
        self.weights = table.weights()
        self.info = prepared.PreparedInfo(table, self.weights, names=self.names, fold=self.canon)
        self.generator = CandidateGenerator(self.index, table, self.full_scan_max)
        self.generic = GenericCodes(table, self.names, self.canon)
        self.namesakes = flags.Namesakes(table, self.generator.ids_of)

    @property
    def last_encoded(self) -> int:
        """Texts the last encoding call had to encode (not cached)."""
        return self.queries.last_encoded

    # ------------------------------------------------------------------ candidates and scores

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
        first); every spelling of code `must` (a learned decision) is among them; `learned`
        replaces the catalogue's learned links (cross-validation uses other sources' links)."""
        evidence, per_query = (self.learned if learned is None else learned).evidence(clean(q.text), q.near)
        # a code a near learned text points to is always a candidate
        ids = self.generator(q, qvec, [must, *evidence] if must else evidence)
        self._prefetch(ids)
        none = dict.fromkeys(LEARNED_FEATURES, 0.0)
        best: dict[str, Candidate] = {}
        for i, sim in ids.items():
            code = self.codes[i]
            e = self.cat.entries[code]
            feats = pair_features(q, self.info[i], sim)
            feats.update(evidence.get(code, none))
            feats.update(per_query)
            raw = self.model.raw(feats)
            if code not in best or raw > best[code].raw:
                best[code] = Candidate(code, e.name, self.names[i], e.level2, 0.0, raw, feats)
        return rank.ranked(list(best.values()), self.model)

    def make_query(self, text: str, level2: str = "", value: str = "") -> Query:
        text = text[:MAX_TEXT]  # matching cost grows with length; a longer text is flagged `cut`
        canon = self.canon(text)
        level2, kind = (level2 or "").strip(), kind_of(text, value)
        # no level-2 class given: read it from the text (under the level-1 class when one is given)
        inferred = self.classes.infer(canon, kind, level2, clean(text)) if level2 not in LEVEL2 and canon else ""
        return Query(text=text, canon=canon, level2=level2, kind=kind, profile=self.weights.profile(canon),
                     near=near_key(text), inferred=inferred)

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

    def encode_queries(self, texts: list[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Query vectors of texts (`encoding.query_text`: width and punctuation never matter; texts
        longer than MAX_TEXT by their first MAX_TEXT characters), through the on-disk cache of this
        encoder: only unseen texts are encoded."""
        return self.queries.encode(texts, on_batch)

    def encode_stream(self, texts: list[str], batch: int = 64) -> Iterator[tuple[list[int], np.ndarray, int]]:
        """(row numbers, query vectors, newly encoded) batch by batch, encoded ahead by a background
        thread (`encoding.QueryEncoder.stream`)."""
        return self.queries.stream(texts, batch)

    def suggest(self, text: str, level2: str = "", value: str = "", k: int = 5) -> Suggestion:
        return self.suggest_many([(text, level2, value)], k)[0]

    def _suggest(self, text: str, level2: str, value: str, k: int, qvec: np.ndarray) -> Suggestion:
        q = self.make_query(text, level2, value)
        s = self._decide(q, (text, level2, value), qvec, k)
        s.inferred_class = q.inferred
        return s

    def new_code_class(self, q: Query, top: Candidate | None) -> str:
        """Where a new code would go: the class the row gives, else the one read from its text (which
        keeps to a level-1 class the row gives), else the nearest code's."""
        if q.level2 in LEVEL2:
            return class_label(q.level2)
        return class_label(q.inferred or (top.level2 if top else q.level2))

    def _decide(self, q: Query, asked: tuple[str, str, str], qvec: np.ndarray, k: int) -> Suggestion:
        text, level2, value = asked
        if not q.canon:
            return Suggestion(text, level2, value, Verdict.NO_MATCH, [], class_label(level2), "empty")
        learned = self.learned.decision(text, q.level2)
        ranked = self.score(q, qvec, learned or "")
        if learned == NIL:
            return Suggestion(text, level2, value, Verdict.NO_MATCH, rank.shown(ranked[:k]),
                              self.new_code_class(q, ranked[0]), "learned")
        if learned:
            top = next(c for c in ranked if c.code == learned)
            ranked = rank.shown([top] + [c for c in ranked if c.code != learned])
            top.score = 1.0
            return Suggestion(text, level2, value, Verdict.ACCEPT, ranked[:k], "", "learned")
        top = ranked[0]
        best_alone = max(c.alone for c in ranked)
        # the decision follows the score shown (the catalogue evidence alone); learned links of
        # other texts can only raise a question (`policy.doubted_by_learned`)
        decision = policy.learned_verdict(policy.top_verdict(
            top.score, top.features, top.alone, best_alone, self.model.accept, self.model.review), top.features)
        decision = self._with_learned(ranked, decision)
        reason = "score"
        if decision == Verdict.NO_MATCH and policy.agreed_by_learned(top.features, top.alone, best_alone):
            decision, reason = Verdict.REVIEW, "similar"
        if decision == Verdict.NO_MATCH:
            if top.features.get("learned_nil_same"):  # a reviewer said so of a near-identical text
                return Suggestion(text, level2, value, decision, rank.shown(ranked[:k]), self.new_code_class(q, top))
            return self._no_match(q, asked, ranked, k)
        namesakes = self.namesakes.of(top.code)
        ranked = flags.with_namesakes(ranked, namesakes)
        return Suggestion(text, level2, value, decision, rank.shown(ranked[:max(k, 1 + len(namesakes))]),
                          reason=reason, namesakes=namesakes)

    def _with_learned(self, ranked: list[Candidate], decision: Verdict) -> Verdict:
        """Reviewers' decisions on other texts, weighed by the decision model's learned part
        (`ScoreModel.learned_decide`, fitted on links each seeing other sources' decisions): they
        may lift a top to review (its score shown with them) or drop it to no match, never accept it."""
        top = ranked[0]
        if decision == Verdict.ACCEPT or not self.model.learned_decide or policy.fixed_by_learned(top.features):
            return decision
        with_them = self.model.with_learned(top.score, top.features)
        if with_them == top.score:
            return decision
        top.score = with_them
        for c in ranked[1:]:  # the list still reads in the order of the scores shown
            c.score = min(c.score, with_them)
        return Verdict.REVIEW if with_them >= self.model.review else Verdict.NO_MATCH

    def _no_match(self, q: Query, asked: tuple[str, str, str], ranked: list[Candidate], k: int) -> Suggestion:
        """No candidate is likely enough: the generic code of the query's measure for review when the
        catalogue has one (`generic.py`), else no match; either way the class a new code would go in.
        `asked`: the text, class and value as given."""
        text, level2, value = asked
        new_class = self.new_code_class(q, ranked[0])
        offer = self.generic.offer(q.canon, q.kind, q.level2, ranked)
        if offer is None:
            return Suggestion(text, level2, value, Verdict.NO_MATCH, rank.shown(ranked[:k]), new_class)
        ranked = rank.offered_first(ranked, offer.candidate)
        offer.candidate.generic = offer.measure
        return Suggestion(text, level2, value, Verdict.REVIEW, rank.shown(ranked[:k]), new_class, "generic")
