"""Texts that NFKC folding blows up against ordinary queries, through the front door, in the same run.

    python scripts/bench_folding.py [--requests 60]

`'\\ufdfa' * 197 + 'xy'` is 199 characters as written (1.8 KB) and about 3,600 once folded (U+FDFA
folds to 18 characters); before the cut was made after folding it cost seconds of encoding per new
query. Every text goes through `indicode.inputs.suggest_request` (which cuts at MAX_TEXT folded
characters and flags `cut`) and then `Linker.suggest`, as the server and the CLI call them, with a
fresh vector cache and every text new (each suggestion encodes its text). Phases: ordinary texts
alone; ordinary texts of the greatest length (200 characters, several names run together); the
worst folding texts alone (U+FDFA, U+FDFB, U+3300-style squared words, ligatures, each with
a different tail); ordinary texts while two threads send worst texts. Prints medians and p99 of each,
the folded length of what reaches the encoder, and the ratios.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_server import distinct_items  # noqa: E402
from benchstats import pct  # noqa: E402

# characters that NFKC makes longest: an Arabic ligature of 18, one of 8, squared katakana words, ㍻
WORST = ["\ufdfa", "\ufdfb", "\u3300", "\u3357", "\u337b", "\ufb03"]


def worst_texts(n: int) -> list[str]:
    """n texts of 200 characters, nearly all of one blowing-up character, that differ in their first
    three (what is left after the cut differs too, so no vector comes from the cache)."""
    return [f"{i:03d}" + WORST[i % len(WORST)] * 197 for i in range(n)]


def line(label: str, times: list[float], extra: str = "") -> str:
    return f"{label:46} median {statistics.median(times):8.2f} ms   p99 {pct(times, 99):8.2f} ms  {extra}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=60, help="suggestions per phase")
    args = ap.parse_args()
    n = args.requests
    cache = tempfile.mkdtemp(prefix="indicode-bench-cache-")
    os.environ["INDICODE_CACHE_DIR"] = cache
    try:
        measure(n)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def measure(n: int) -> None:
    from indicode import inputs
    from indicode.catalogue.textio import fold
    from indicode.matcher.linker import Linker

    linker = Linker.default()
    items = distinct_items()
    warm, alone, beside = items[:10], items[10:10 + n], items[10 + n:10 + 2 * n]
    hostile = worst_texts(4 * n)
    names = [t for t, _ in items[10 + 2 * n:]]
    longest = [("".join(names[i:i + 40]) * 2)[:200] for i in range(n)]
    for t, c in warm:
        linker.suggest(t, c)

    def one(text: str, klass: str = "") -> tuple[float, int, bool]:
        s = time.perf_counter()
        ask = inputs.suggest_request(text, klass)
        ask.run(linker.suggest)
        return (time.perf_counter() - s) * 1000, len(fold(ask.text)), ask.cut

    front = []
    for t in hostile[:n]:
        s = time.perf_counter()
        inputs.read_text(t)
        front.append((time.perf_counter() - s) * 1000)
    ordinary = [one(t, c)[0] for t, c in alone]
    long_ms = [one(t)[0] for t in longest]
    worst = [one(t) for t in hostile[n:2 * n]]
    stop = threading.Event()
    queue = iter(hostile[2 * n:])
    lock = threading.Lock()

    def attacker():
        while not stop.is_set():
            with lock:
                t = next(queue, None)
            if t is None:
                return
            one(t)

    threads = [threading.Thread(target=attacker) for _ in range(2)]
    for th in threads:
        th.start()
    under = [one(t, c)[0] for t, c in beside]
    stop.set()
    for th in threads:
        th.join()
    worst_ms = [w[0] for w in worst]
    print(f"{n} suggestions per phase, every text new (fresh vector cache), through inputs.suggest_request")
    print(line("front door read_text of a worst text", front))
    print(line("ordinary texts alone", ordinary))
    print(line("ordinary texts of 200 characters", long_ms))
    print(line("worst folding texts alone", worst_ms,
               f"folded length at the encoder <= {max(w[1] for w in worst)}, cut {all(w[2] for w in worst)}"))
    print(line("ordinary texts beside 2 threads of worst texts", under))
    med = statistics.median
    print(f"ratios: worst / ordinary median {med(worst_ms) / med(ordinary):.2f}, "
          f"p99 {pct(worst_ms, 99) / pct(ordinary, 99):.2f}; worst / 200-character median "
          f"{med(worst_ms) / med(long_ms):.2f}, p99 {pct(worst_ms, 99) / pct(long_ms, 99):.2f}; "
          "ordinary beside worst / alone median "
          f"{med(under) / med(ordinary):.2f}, p99 {pct(under, 99) / pct(ordinary, 99):.2f}")


if __name__ == "__main__":
    main()
