"""Time to refusal and peak memory of `indicode extract` on spreadsheet bombs, against reading a seed.

    python scripts/bench_bad_inputs.py [--repeats 5]

Writes (in a temporary folder) a ~1 MB .xlsx declaring 10^8 rows and a ~1 MB .xlsx holding one cell
of 1 GB (compressed about a thousand times), then runs the real command on each in a child process
and reads the child's wall time and peak resident memory (ru_maxrss from wait4). The baseline is the
same command on the Zhuhai seed, in the same run. Target: each bomb refused within seconds and
under 1 GB.
"""
from __future__ import annotations

import argparse
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

from baddocs import cell_bomb, xlsx_with_sheet  # noqa: E402

INDICODE = Path(sys.executable).parent / "indicode"
SEED = ROOT / "catalogue" / "data" / "seeds" / "000_60102fb8b0c8a01a.txt"


def rows_bomb_1mb(path: Path, rows: int = 10**8) -> Path:
    """A sheet declaring `rows` rows, with about 1 MB of (hard to compress) indicator rows."""
    rnd = random.Random(1)
    body = ['<row r="1"><c r="A1" t="inlineStr"><is><t>三级指标</t></is></c></row>']
    for i in range(2, 60_000):
        name = "".join(chr(0x4E00 + rnd.randrange(2000)) for _ in range(6))
        body.append(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{name}</t></is></c></row>')
    body.append(f'<row r="{rows}"><c r="A{rows}"><v>1</v></c></row>')
    xml = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           f'<dimension ref="A1:A{rows}"/><sheetData>{"".join(body)}</sheetData></worksheet>')
    return xlsx_with_sheet(path, [xml])


def run_child(doc: Path, out: Path) -> tuple[float, float, int, str]:
    """(seconds, peak MB, exit code, last stderr line) of `indicode extract DOC -o OUT`."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(INDICODE), "extract", str(doc), "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    secs = time.perf_counter() - t0
    lines = [line for line in err.splitlines() if line.startswith("error:")] or err.splitlines()[-1:]
    return secs, usage.ru_maxrss / 1024, proc.returncode, (lines[0] if lines else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        t0 = time.perf_counter()
        docs = {"seed 000 (baseline)": SEED,
                "xlsx declaring 10^8 rows": rows_bomb_1mb(d / "rows_bomb.xlsx"),
                "xlsx with one 1 GB cell": cell_bomb(d / "cell_bomb.xlsx", size=2**30, compresslevel=9)}
        print(f"(bombs written in {time.perf_counter() - t0:.1f} s)")
        results = {}
        for label, doc in docs.items():
            runs = [run_child(doc, d / "out.csv") for _ in range(args.repeats)]
            results[label] = runs
        base = statistics.median(r[0] for r in results["seed 000 (baseline)"])
        print("| input | file size | exit | median s | max s | × baseline | peak MB (max) |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for label, runs in results.items():
            secs = [r[0] for r in runs]
            med = statistics.median(secs)
            print(f"| {label} | {docs[label].stat().st_size / 2**20:.2f} MB | {runs[0][2]} | {med:.2f} | "
                  f"{max(secs):.2f} | {med / base:.2f} | {max(r[1] for r in runs):.0f} |")
        for label, runs in results.items():
            print(f"{label}: {runs[0][3]}")


if __name__ == "__main__":
    main()
