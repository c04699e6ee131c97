"""`indicode gaps` as one call: collect the rows no code fits, mine them into groups, and (given request
workbooks too) merge everything into one ranked list of requests."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..matcher.linker import Linker
from .collect import Collected, collect
from .mine import Group, mine
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
    if got.requests:  # other offices' requests: one list for the province
        requests = merge(requests + got.requests, linker.canon, linker.encode_queries)
    return Gaps(got, groups, ranked(requests))
