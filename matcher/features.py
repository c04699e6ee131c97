"""The component scores of one (query, catalogue name) pair; the ranker weighs them.

Each feature is general: vector similarity, character overlap weighted by how rare a character is
in the catalogue (rare characters carry the object: 档案, 车辆; common ones the generic frame: 任务,
工作, 率), the shared measure head (the end of the name: …满意度, …及时率), class agreement, and
agreement of the kind of measure.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz

from ..catalogue.classes import LEVEL1, LEVEL2
from .text import SCOPE_UNITS, STAFF, Scope, kinds_agree

FEATURES = ["vec", "ratio", "exact", "cov_name", "cov_query", "suffix", "head_match", "mod_cov",
            "head_generic", "generic_in_class", "object_full", "object_partial", "scope", "popularity", "class_same",
            "class_level1", "class_diff", "kind_agree", "kind_conflict", "learned_sim", "learned_votes",
            "learned_same"]

# Weights set by the domain rather than fitted: DOMAIN.md says a rate is not a count and a time is
# not a rate, so a kind conflict is a strong penalty however few labelled examples show it (-8 was
# tried: by-source top-1 0.842 against 0.868).
# A reviewer's decision on a near-identical text (`learned.py`) puts its code first: the two texts differ
# only in years, titles, places or numbers, which no catalogue evidence can outweigh.
FIXED_WEIGHTS = {"kind_conflict": -4.0, "learned_same": 8.0}

# Generic objects of indicator names: words that name "the project's work" or "the people served"
# rather than a particular thing. 服务对象 is the object of the level-2 class 31 (服务对象满意度, DOMAIN.md);
# 任务/工作/项目 are the general-Chinese words for task/work/project. A code whose name is only such a
# word plus its measure head (任务完成率, 项目验收合格率, 服务对象满意度) is the generic code a more
# specific query may take.
# "The public" (群众, and its general-Chinese variants folded to it in `text.py`) is an object of
# its own, not a generic one: 群众满意度 is right for a query about the public, 服务对象满意度 for any
# served party (DOMAIN.md: class 31 is 服务对象满意度).
GENERIC_OBJECTS = ("服务对象", "工作任务", "任务", "工作", "项目")


class CharWeights:
    """IDF of each character over the catalogue's (canonical) names."""

    def __init__(self, names: list[str]):
        df = Counter(ch for n in names for ch in set(n))
        self.n = len(names)
        self.idf = {ch: math.log((self.n + 1) / (c + 1)) + 1.0 for ch, c in df.items()}
        self.unseen = math.log(self.n + 1) + 1.0

    def w(self, ch: str) -> float:
        return self.idf.get(ch, self.unseen)

    def profile(self, text: str) -> Profile:
        """A text's characters with multiplicity and their total weight, computed once per text."""
        counts = Counter(text)
        return Profile(counts, {ch: self.w(ch) for ch in counts}, sum(self.w(ch) * n for ch, n in counts.items()))

    def covered(self, a: str, b: str) -> float:
        """Weighted share of a's characters (with multiplicity) that b also has."""
        return overlap(self.profile(a), Counter(b))


@dataclass
class Profile:
    counts: Counter
    weight: dict[str, float]
    total: float


def overlap(a: Profile, b: Counter) -> float:
    """Weighted share of a's characters (with multiplicity) found in b."""
    if not a.total:
        return 0.0
    # characters b lacks add nothing: skipped, in the same order (the sum is bit-identical, and the
    # bulk path calls this a few million times)
    return sum(a.weight[ch] * min(n, b[ch]) for ch, n in a.counts.items() if ch in b) / a.total


def common_suffix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y:
            break
        n += 1
    return n


@dataclass
class NameInfo:
    """A catalogue spelling prepared for matching."""

    canon: str
    head: str  # measure head: its longest ending shared with other names (完成率, 满意度, 验收合格率)
    modifier: str  # the rest: the object measured
    generic: bool  # modifier empty or only generic objects
    level2: str
    kind: str
    popularity: float  # how often documents use the code, 0..1 on a log scale: the usual fallback codes
    profile: Profile  # of the canonical name
    mod_profile: Profile  # of the modifier
    cover_profile: Profile  # what a query should cover: the whole name, or only the head of a generic one
    # the scope the name lists in brackets (`text.Scope`): its instances (人员, 企业, 特定群体, and each
    # by its head word), what else the name says of them (补助 of 补助对象) and the measure after the
    # list (数, 报告数); a query naming an instance must have those too
    scope_items: tuple[Profile, ...] = ()
    scope_rest: Profile | None = None
    scope_after: Profile | None = None


def measure_heads(canons: list[str], min_share: int = 2) -> dict[str, str]:
    """Each name's measure head, learned from the catalogue's own names.

    The head is the longest proper ending (2+ characters) that at least `min_share` other names also
    end with and that starts at a word boundary: different characters precede it in different names
    (accessor variety, a standard unsupervised cue for Chinese word boundaries). So 任务完成及时率 has
    the head 完成及时率 (preceded by 务, 目, 作 … elsewhere), not 务完成及时率 (always preceded by 任).
    Names with no such ending take their last two characters.
    """
    distinct = sorted(set(canons))
    before: dict[str, set[str]] = defaultdict(set)
    share: Counter = Counter()
    for n in distinct:
        for k in range(2, len(n) + 1):
            share[n[-k:]] += 1
            before[n[-k:]].add(n[-k - 1] if k < len(n) else "^")
    heads = {}
    for n in distinct:
        head = n[-2:]
        for k in range(len(n) - 1, 1, -1):
            e = n[-k:]
            if share[e] - 1 >= min_share and len(before[e]) >= 2:
                head = e
                break
        heads[n] = head
    return heads


NO_SCOPE = Scope()  # the default of a name that lists nothing in brackets (frozen: safe to share)


def name_info(canon: str, head: str, level2: str, kind: str, popularity: float, weights: CharWeights,
              scope: Scope = NO_SCOPE, fold=lambda t: t) -> NameInfo:
    """One catalogue spelling prepared for matching: the single place a name is prepared, given its
    measure head (from `measure_heads` over the whole catalogue), the catalogue's weights, the
    scope the name lists in brackets (`text.scope_of` of the name as written) and the fold to the
    canonical spelling (`text.Canon`) its parts take."""
    mod = canon[: len(canon) - len(head)]
    generic = is_generic(mod)
    whole = weights.profile(canon)
    items: tuple[Profile, ...] = ()
    rest = after = None
    if scope:
        # an instance may be named by its head word, the last two characters of a compound (研究 for
        # 专题研究, 群体 for 特定群体), or by the unit it is counted in (人次 for 人员: `SCOPE_UNITS`);
        # the list stands for the word just before it (对象 of 补助对象), so the rest of that text
        # (补助) is what a query must also say
        words = dict.fromkeys([*scope.items, *(s[-2:] for s in scope.items if len(s) > 2),
                               *(u for s in scope.items for u in SCOPE_UNITS.get(s, ()))])
        items = tuple(weights.profile(fold(s)) for s in words)
        before, tail = fold(scope.before), fold(scope.after)
        rest = weights.profile(before[:-2]) if len(before) > 2 else None
        after = weights.profile(tail or head)
    return NameInfo(canon, head, mod, generic, level2, kind, popularity, whole, weights.profile(mod),
                    weights.profile(head) if generic else whole, items, rest, after)


def is_generic(modifier: str) -> bool:
    rest = modifier
    for w in GENERIC_OBJECTS:
        rest = rest.replace(w, "")
    return rest == ""


@dataclass
class Query:
    text: str
    canon: str
    level2: str  # class digits given by the document ('' when none)
    kind: str  # kind of measure from name and value
    profile: Profile  # weighted characters of `canon`
    near: str = ""  # what near-identical texts share (`learned.near_key`)
    inferred: str = ""  # the level-2 class read from the text when the document gives none (`classify.py`)


def pair_features(q: Query, n: NameInfo, vec: float) -> dict[str, float]:
    # the class the document gives (it may give only the level-1 class), else the one read from the
    # text: it scores like a given class, but the policy never takes it for one (`class_guessed`)
    guessed = q.level2 not in LEVEL2 and bool(q.inferred)
    ql2 = q.level2 if q.level2 in LEVEL2 else q.inferred
    ql1 = q.level2 if q.level2 in LEVEL1 else ql2[:1]
    code_level2 = n.level2
    ka = kinds_agree(q.kind, n.kind)
    head_match = bool(n.head) and q.canon.endswith(n.head)
    mod_cov = overlap(n.mod_profile, q.profile.counts) if n.modifier else 1.0
    # a query naming one of the instances a generic name lists (特困人员补助 for 补助对象（人员、企业…）数)
    # has its object: it need cover only the measure after the list. It must also say what else the
    # name says of them (补助: 服务对象人数 names 人员 but not 补助对象) and most of that measure
    # (报告数: 检查完成数 names 检查 but counts no reports)
    counts = q.profile.counts
    in_scope = (mod_cov < 0.999 and bool(n.scope_items)
                and any(overlap(p, counts) >= 0.999 for p in n.scope_items)
                and (n.scope_rest is None or overlap(n.scope_rest, counts) >= 0.999)
                and n.scope_after is not None and overlap(n.scope_after, counts) >= 0.5)
    if in_scope:
        mod_cov = 1.0
    cover = n.scope_after if in_scope and n.scope_after is not None else n.cover_profile
    return {
        "vec": vec,
        "ratio": fuzz.ratio(q.canon, n.canon) / 100.0,
        "exact": float(q.canon == n.canon),
        "cov_name": overlap(cover, q.profile.counts),
        "cov_query": overlap(q.profile, n.profile.counts),
        "suffix": min(common_suffix(q.canon, n.canon), 4) / 4.0,
        "head_match": float(head_match),
        "mod_cov": mod_cov,
        "head_generic": float(head_match and n.generic),
        # the generic code of the query's own class with the query's measure head: the usual fallback
        "generic_in_class": float(head_match and n.generic and bool(ql2) and ql2 == code_level2),
        # the code names a particular object: all of it in the query, or only part of it (员工 vs 馆员)
        "object_full": float(bool(n.modifier) and not n.generic and mod_cov >= 0.999),
        "object_partial": float(bool(n.modifier) and not n.generic and 0 < mod_cov < 0.999),
        # …or none of it (采购时效 for 办文时效): a decision signal only (`calibration.DECISION_FEATURES`);
        # as a ranker feature it cost top-1 by source (0.895 -> 0.882)
        "object_none": float(bool(n.modifier) and not n.generic and mod_cov == 0),
        "scope": float(in_scope),
        # …by persons named by their work (救助站工作人员数): staff, not the persons the list means
        "scope_staff": float(in_scope and STAFF.search(q.canon) is not None),
        # a count in person-times (人次) and a count of persons are different measures: never accepted
        # for each other (`policy.may_accept`), though one may still be the nearest code
        # (a scope list's persons may be counted in 人次: `text.SCOPE_UNITS`)
        "unit_differs": float(("人次" in q.canon) != ("人次" in n.canon) and not in_scope),
        "popularity": n.popularity,
        "class_same": float(bool(ql2) and ql2 == code_level2),
        "class_level1": float(bool(ql1) and ql2 != code_level2 and ql1 == code_level2[:1]),
        "class_diff": float(bool(ql1) and ql1 != code_level2[:1]),
        "kind_agree": float(ka > 0),
        "kind_conflict": float(ka < 0),
        "class_guessed": float(guessed),
    }
