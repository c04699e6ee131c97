"""Time and peak memory of `indicode extract` and `indicode normalize` on a large but legal .xlsx
(issue 24 §7), against the same commands on a small workbook of the same rows, in the same run.

    python scripts/bench_large_workbook.py [--rows 999999[,200000...]] [--commands extract,normalize]
                                           [--output csv|xlsx|jsonl]

Writes (in a temporary folder, as Excel writes one: shared strings) a workbook of each --rows count of
indicator rows (the columns of a declaration table: 三级指标, 二级指标, 指标值, 单位; texts the seed rows
with district, year and unit variations, so that about 15,000 distinct texts repeat, as a year of a
province's declarations does: 943 in the first 1,000 rows, 15,139 by 10^5, 15,423 from 5×10^5 on),
runs each command in a child process and reads its wall time and peak resident memory (ru_maxrss from
wait4). The baseline is the same command on a 1,000-row workbook, first, in the same run (so it also
fills the vector cache with its texts: the larger runs encode the rest). The rows written are
counted back from the output (a CSV or JSONL output) so that a run that dropped rows shows. Target:
10^6 rows normalize under 1 GB. A header row comes on top, so --rows is at most 999,999 (the
reader's 1,000,000-row cap counts it). Several --rows counts show whether memory grows with the rows.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from indicode.catalogue.paths import BUNDLED_SEEDS
from indicode.catalogue.readers.detect import read_document

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from baddocs import xlsx_with_sheet  # noqa: E402

INDICODE = Path(sys.executable).parent / "indicode"
PREFIXES = ["", "", "全区", "市级", "街道", "本单位", "年度", "各部门"]
SUFFIXES = ["", "", "（%）", "（件）", "(2024年)", "情况"]


def seed_rows() -> list[tuple[str, str, str]]:
    out = []
    for f in sorted(BUNDLED_SEEDS.glob("*.txt")):
        out += [(r.name, r.level2_text, r.value) for r in read_document(f).rows]
    return out


def write_workbook(path: Path, rows: int, seeds: list[tuple[str, str, str]]) -> Path:
    """The workbook as Excel writes one: every text once in the shared-string table, the sheet's cells
    pointing into it (streamed: openpyxl's write-only mode writes inline strings, twice the size)."""
    rnd = random.Random(24)
    index: dict[str, int] = {}

    def sheet():
        yield '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        for i in range(rows + 1):
            if i == 0:
                cells = ["三级指标", "二级指标", "指标值", "单位"]
            else:
                name, klass, value = seeds[rnd.randrange(len(seeds))]
                cells = [rnd.choice(PREFIXES) + name + rnd.choice(SUFFIXES), klass, value, f"单位{i % 97}"]
            xml = "".join(f'<c r="{col}{i + 1}" t="s"><v>{index.setdefault(text, len(index))}</v></c>'
                          for col, text in zip("ABCD", cells, strict=True))
            yield f'<row r="{i + 1}">{xml}</row>'
        yield "</sheetData></worksheet>"

    return xlsx_with_sheet(path, sheet(), compresslevel=6, shared_strings=lambda: index)


def measure(args: list[str], env: dict) -> tuple[float, float, int]:
    """(seconds, peak MiB, exit code) of one child run."""
    start = time.monotonic()
    proc = subprocess.Popen([str(INDICODE), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    return time.monotonic() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def written(path: Path) -> int | None:
    """Records in a CSV or JSONL output (None for an .xlsx)."""
    if path.suffix == ".xlsx":
        return None
    with open(path, encoding="utf-8-sig", newline="") as fh:
        if path.suffix == ".jsonl":
            return sum(1 for _ in fh)
        return sum(1 for _ in csv.reader(fh)) - 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="999999", help="row counts, comma-separated")
    ap.add_argument("--commands", default="extract,normalize")
    ap.add_argument("--output", default="csv", choices=("csv", "xlsx", "jsonl"))
    a = ap.parse_args()
    seeds = seed_rows()
    sizes = [1000] + [int(x) for x in a.rows.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        env = {**os.environ, "INDICODE_DATA_DIR": str(d / "data"), "INDICODE_CACHE_DIR": str(d / "cache")}
        books = {}
        for n in sizes:
            t = time.monotonic()
            books[n] = write_workbook(d / f"w{n}.xlsx", n, seeds)
            print(f"wrote {n:,} rows ({books[n].stat().st_size / 2**20:.1f} MiB) in {time.monotonic() - t:.0f} s")
        print(f"{'command':10} {'rows':>10} {'seconds':>8} {'peak MiB':>9} {'written':>9} exit")
        for cmd in a.commands.split(","):
            extra = ["-q"] if cmd == "normalize" else []
            for n in sizes:
                out = d / f"{cmd}.{a.output}"
                secs, mib, code = measure([cmd, str(books[n]), "-o", str(out), *extra], env)
                got = written(out) if code == 0 else None
                print(f"{cmd:10} {n:>10,} {secs:>8.1f} {mib:>9.0f} {got if got is not None else '-':>9} {code:>4}",
                      flush=True)


if __name__ == "__main__":
    main()
