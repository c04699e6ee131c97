"""The one percentile the benchmarks quote (nearest rank, no interpolation), shared by the scripts
here (each is run as `python scripts/NAME.py`, which puts this folder on the import path)."""
from __future__ import annotations


def pct(xs, p: float) -> float:
    """The p-th percentile of xs by nearest rank."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def p99(xs) -> float:
    return pct(xs, 99)
