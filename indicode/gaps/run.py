"""`indicode gaps` as one call: collect the rows no code fits, mine them into groups, mark the groups a
pending proposal already stands for (not requested again), and (given request workbooks too) merge
everything into one ranked list of requests."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..matcher.linker import Linker
from .collect import Collected, collect
from .mine import GapRow, Group, mine
from .workbook import Request, from_group, merge, ranked


@dataclass
class Gaps:
    collected: Collected
    groups: list[Group]
    requests: list[Request]


def find_gaps(inputs: Sequence[Path], linker: Linker, office: str = "", proposer: str = "") -> Gaps:
    got = collect(inputs, linker)
    groups = mine(got.rows, linker.canon, linker.encode_queries)
    requests = [from_group(g, office, proposer) for g in groups]
    mark_proposed(groups, requests, got.rows, linker)
    if got.requests:  # other offices' requests: one list for the province
        requests = merge(requests + got.requests, linker.canon, linker.encode_queries)
    return Gaps(got, groups, ranked(requests))


def mark_proposed(groups: Sequence[Group], requests: Sequence[Request], rows: Sequence[GapRow], linker: Linker) -> int:
    """Give each group's request the proposal its rows fit (`ProposingLinker.proposals_for`: the same
    text as a member of a pending proposal, or close to one, in its class), the one most of them fit:
    its id in 临时编号 and its label (`已提议：新-HZKQ-32-0001 …（待审批）`), so that reading the workbook
    back adds to that proposal instead of making another. Returns how many were marked."""
    fits = getattr(linker, "proposals_for", None)
    if fits is None:  # a Linker without a workspace: no proposals
        return 0
    items = list(dict.fromkeys((rows[i].text, rows[i].level2, rows[i].value) for g in groups for i in g.at))
    answers = dict(zip(items, fits(items), strict=True))
    marked = 0
    for g, q in zip(groups, requests, strict=True):
        found = [a for i in g.at if (a := answers[(rows[i].text, rows[i].level2, rows[i].value)]) is not None]
        if found:
            code = Counter(a.code for a in found).most_common(1)[0][0]
            a = next(x for x in found if x.code == code)
            q.provisional, q.proposal = a.code, a.label
            marked += 1
    return marked
