"""`indicode catalogue import` of a provincial library of 10^5 rows: time to the SQLite catalogue, the
vector index built after it (timed apart), and whether lookup and suggest find the imported codes.

    python scripts/bench_import.py [--rows 100000] [--repeats 5] [--formats xlsx csv] [--no-index]
                                   [--checks 60] [--keep DIR] [--json]

1. Generates a library table of --rows rows with tests/librarymaker.py (documented there: names
   composed from the seed documents' vocabulary, objects × measure heads, units by kind of measure,
   classes spread like the seeds' rows over the tree, 3% disabled, a few bad rows of each kind), and
   writes it as .xlsx (the finance system's usual export) and as GBK .csv.
2. For each format, --repeats times: `indicode catalogue import LIB -o NEW.sqlite` as a child
   process, wall time from start to exit (Python's start-up included, a new output file each time);
   and, as the baseline in the same run, on the same file, turn about with it (so a busy moment of
   the machine falls on both alike): a child process that only reads the table with pandas
   (`read_excel` / `read_csv`, every cell as text). Prints median and p99 (nearest rank; with 5
   repeats, the slowest) of both, and the import's ratio to the baseline. Target: import ≤ 60 s.
3. Builds the vector index of the imported catalogue once, with the real embedded encoder (every
   name and alias of the codes that may be suggested; HNSW above 5×10^4 names), and the prepared
   names stored beside it, timed apart: the catalogue is usable (lookup, export, diff) before it.
4. Checks on the big catalogue: `Catalogue.lookup` of --checks enabled codes by code and by name,
   and of disabled ones (found, marked disabled); `Linker.suggest` of --checks enabled names with
   their class (share whose code is the top suggestion, and among the top 3) and of disabled names
   (a disabled code must never be among the candidates).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from benchstats import p99  # noqa: E402
from librarymaker import HEADERS, library_rows, write_table  # noqa: E402

INDICODE = Path(sys.executable).parent / "indicode"
TARGET_S = 60.0
BASELINE = {
    ".xlsx": "import pandas as pd, sys; pd.read_excel(sys.argv[1], dtype=str, header=None)",
    ".csv": "import pandas as pd, sys; pd.read_csv(sys.argv[1], dtype=str, encoding='gbk', header=None)",
}


def _timed(cmd: list[str]) -> tuple[float, int]:
    t = time.perf_counter()
    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    return time.perf_counter() - t, rc


def time_imports(lib: Path, folder: Path, repeats: int) -> dict:
    """Import and baseline seconds, turn about; the import's exit code must be 1 (its bad rows)."""
    imports, reads = [], []
    for i in range(repeats):
        out = folder / f"{lib.stem}-{lib.suffix[1:]}-{i}.sqlite"
        s, rc = _timed([str(INDICODE), "catalogue", "import", str(lib), "-o", str(out)])
        if rc != 1:
            raise SystemExit(f"catalogue import {lib} exited {rc}, expected 1 (some rows refused)")
        imports.append(s)
        s, rc = _timed([sys.executable, "-c", BASELINE[lib.suffix], str(lib)])
        if rc != 0:
            raise SystemExit(f"baseline read of {lib} failed ({rc})")
        reads.append(s)
        if i < repeats - 1:
            out.unlink()
    return {"import_median_s": statistics.median(imports), "import_p99_s": p99(imports),
            "baseline_median_s": statistics.median(reads), "baseline_p99_s": p99(reads),
            "ratio": statistics.median(imports) / statistics.median(reads), "runs": repeats,
            "catalogue": str(out)}


def build_index(db: Path, folder: Path) -> dict:
    from indicode.catalogue.lazy import LazyCatalogue
    from indicode.matcher import names as prepared
    from indicode.matcher import vector_index
    from indicode.matcher.encoders import load_encoder

    cat = LazyCatalogue.load(db)
    enc = load_encoder()
    t = time.perf_counter()
    vi = vector_index.build(cat, enc, folder)
    t_index = time.perf_counter() - t
    t = time.perf_counter()
    prepared.load_or_build(cat, vi, vi.path)
    return {"names": len(vi.names), "kind": vi.meta.kind, "index_s": t_index, "prepared_s": time.perf_counter() - t}


def check(db: Path, exp, n: int, with_suggest: bool) -> dict:
    from indicode.catalogue.lazy import LazyCatalogue
    from indicode.catalogue.lookup import Catalogue

    rng = random.Random(7)
    cat = Catalogue.load(db)
    on = rng.sample(exp.enabled, min(n, len(exp.enabled)))
    off = rng.sample(exp.disabled, min(n, len(exp.disabled)))
    out = {
        "codes": len(cat), "disabled": len(cat.disabled), "expected_codes": exp.codes,
        "lookup_by_code": sum(bool(cat.lookup(c)) and cat.lookup(c)[0].code == c for c, _ in on) / len(on),
        "lookup_by_name": sum(c in [e.code for e in cat.lookup(name)] for c, name in on) / len(on),
        "lookup_disabled_shown": sum(bool(cat.lookup(c)) and not cat.lookup(c)[0].enabled for c in off) / len(off),
    }
    if with_suggest:
        from indicode.matcher.linker import Linker

        lk = Linker.default(db)
        assert isinstance(lk.cat, LazyCatalogue)
        t = time.perf_counter()
        got = lk.suggest_many([(name, c[1:3], "") for c, name in on], k=5)
        out["suggest_ms_per_query"] = (time.perf_counter() - t) * 1000 / len(on)
        pairs = list(zip(on, got, strict=True))
        out["suggest_top1"] = sum(s.candidates[0].code == c for (c, _), s in pairs) / len(on)
        out["suggest_top3"] = sum(c in [x.code for x in s.candidates[:3]] for (c, _), s in pairs) / len(on)
        disabled = set(exp.disabled)
        off_names = [(cat.get(c).name, c[1:3], "") for c in off]
        out["disabled_suggested"] = sum(bool(disabled & {x.code for x in s.candidates})
                                        for s in lk.suggest_many(off_names, k=10))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--formats", nargs="+", default=["xlsx", "csv"], choices=["xlsx", "csv"])
    ap.add_argument("--no-index", action="store_true", help="skip the vector index and the suggest check")
    ap.add_argument("--checks", type=int, default=60)
    ap.add_argument("--keep", type=Path, help="folder to keep the generated files in (default: a temporary one)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["INDICODE_INDEX_DIR"] = str(folder / "indexes")  # never the repository's indexes/
        os.environ["INDICODE_CACHE_DIR"] = str(folder / "cache")
        t = time.perf_counter()
        rows, exp = library_rows(args.rows, seed=1, bad_each=5)
        libs = [write_table(folder / "library.xlsx", rows, HEADERS)] if "xlsx" in args.formats else []
        if "csv" in args.formats:
            libs.append(write_table(folder / "library.csv", rows, HEADERS, encoding="gbk"))
        report: dict = {"rows": args.rows, "generated_s": time.perf_counter() - t,
                        "bad_rows": {k: len(v) for k, v in exp.refused.items()}, "second_names": len(exp.second_names),
                        "cpus": os.cpu_count()}
        for lib in libs:
            report[lib.suffix[1:]] = time_imports(lib, folder, args.repeats)
            if not args.json:
                r = report[lib.suffix[1:]]
                print(f"{lib.name}: import median {r['import_median_s']:.1f} s, p99 {r['import_p99_s']:.1f} s "
                      f"({r['runs']} runs); baseline pandas read median {r['baseline_median_s']:.1f} s, "
                      f"p99 {r['baseline_p99_s']:.1f} s; ratio {r['ratio']:.2f}", flush=True)
        db = Path(report[libs[0].suffix[1:]]["catalogue"])
        if not args.no_index:
            report["index"] = build_index(db, folder / "indexes")
            if not args.json:
                i = report["index"]
                print(f"vector index: {i['names']} names ({i['kind']}) in {i['index_s']:.0f} s, prepared names "
                      f"{i['prepared_s']:.1f} s", flush=True)
        report["check"] = check(db, exp, args.checks, with_suggest=not args.no_index)
        worst = max(report[lib.suffix[1:]]["import_p99_s"] for lib in libs)
        report["target_s"], report["within_target"] = TARGET_S, worst <= TARGET_S
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    c = report["check"]
    print(f"catalogue: {c['codes']} codes (expected {c['expected_codes']}), {c['disabled']} disabled")
    print(f"lookup: by code {c['lookup_by_code']:.0%}, by name {c['lookup_by_name']:.0%}, "
          f"disabled shown and marked {c['lookup_disabled_shown']:.0%}")
    if "suggest_top1" in c:
        print(f"suggest ({args.checks} exact names): top 1 {c['suggest_top1']:.0%}, top 3 {c['suggest_top3']:.0%}, "
              f"{c['suggest_ms_per_query']:.0f} ms a query; disabled codes among the candidates of their own "
              f"names: {c['disabled_suggested']}")
    met = "met" if report["within_target"] else "NOT met"
    print(f"target: import ≤ {TARGET_S:.0f} s: {met} (worst p99 {worst:.1f} s)")


if __name__ == "__main__":
    main()
