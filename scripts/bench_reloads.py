"""What a day of feedback leaves behind in a running server: open files, live objects and memory
after N catalogue reloads, against the same process before the first one (the baseline, same run).

    python scripts/bench_reloads.py [--reloads 200]

Each reload is what one piece of feedback causes: a decision recorded in the workspace (a real SQLite
file in a temporary folder, written through another connection, as another process would), then a
suggestion of a new text through the `Service` the server uses (which sees the workspace's state
change, builds a new Linker over the same catalogue with the decisions in force and swaps it in).
Prints the process's open file descriptors (/proc/self/fd), how many of them are catalogue,
workspace or vector-cache files, the Linkers / lazy catalogues / vector caches still
alive (weak references, after `gc.collect`), resident memory, and the reload time median / p99.
"""
from __future__ import annotations

import argparse
import atexit
import gc
import os
import shutil
import statistics
import tempfile
import time
import weakref
from pathlib import Path

from benchstats import p99


def open_files(folder: Path) -> tuple[int, int, int, int]:
    """(all open fds, those on a catalogue file, the workspace, a vector cache file) of this process."""
    total = cat = ws = vec = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        total += 1
        if target.startswith(str(folder)):
            cat += "catalogue.sqlite" in target
            ws += "workspace.sqlite" in target
            vec += "/cache/vectors-" in target
    return total, cat, ws, vec


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return int(f.read().split("VmRSS:")[1].split()[0]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reloads", type=int, default=200)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="indicode-reloads-")).resolve()
    os.environ["INDICODE_CACHE_DIR"] = str(folder / "cache")
    os.environ["INDICODE_INDEX_DIR"] = str(folder / "indexes")
    atexit.register(shutil.rmtree, folder, True)  # registered first, so run last: after the caches' exit flush

    from indicode.catalogue.lazy import LazyCatalogue
    from indicode.catalogue.lookup import Catalogue
    from indicode.catalogue.paths import BUNDLED_DB
    from indicode.matcher.cache import VectorCache
    from indicode.matcher.encoders import load_encoder
    from indicode.matcher.linker import Linker
    from indicode.server import Service
    from indicode.workspace import NewDecision, Workspace

    alive: dict[type, weakref.WeakSet] = {t: weakref.WeakSet() for t in (Linker, LazyCatalogue, VectorCache)}
    for kind, live in alive.items():  # count every instance made from now on
        def tracked(init, live=live):
            def __init__(self, *a, **kw):
                init(self, *a, **kw)
                live.add(self)
            return __init__
        kind.__init__ = tracked(kind.__init__)

    cat = folder / "catalogue.sqlite"
    shutil.copy(BUNDLED_DB, cat)
    served, writer = Workspace.open(folder / "workspace.sqlite"), Workspace.open(folder / "workspace.sqlite")
    reference = Catalogue.load(cat)
    service = Service(Linker(LazyCatalogue.load(cat), load_encoder(None)), served, follow=False)
    service.suggest(service.linker(), "办事群众满意度", "31")

    def report(label: str) -> None:
        gc.collect()
        total, on_cat, on_ws, on_vec = open_files(folder)
        print(f"{label:>22}: open fds {total:4d} (catalogue {on_cat:3d}, workspace {on_ws:3d}, vector cache "
              f"{on_vec:3d}); alive: "
              f"Linker {len(alive[Linker]):3d}, LazyCatalogue {len(alive[LazyCatalogue]):3d}, "
              f"VectorCache {len(alive[VectorCache]):3d}; RSS {rss_mb():.0f} MB")

    report("before (baseline)")
    took = []
    for i in range(args.reloads):
        writer.record([NewDecision(f"某项工作{i}完成率", "13", "113001668", "reviewer")], reference)
        t = time.perf_counter()
        linker = service.linker()  # sees the change: a new Linker swapped in
        took.append(time.perf_counter() - t)
        service.suggest(linker, f"某项工作{i}完成率", "13")
        del linker
    assert service.reloads == args.reloads, service.reloads
    report(f"after {args.reloads} reloads")
    assert len(service.linker().decisions) == args.reloads
    print(f"reload (new Linker with the new decisions): median {statistics.median(took) * 1e3:.1f} ms, "
          f"p99 {p99(took) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
