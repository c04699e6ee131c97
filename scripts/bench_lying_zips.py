"""Time to refusal and peak memory of `indicode extract` and `indicode normalize` on zip packages
that lie about their sizes (issue 24 §3), against the same commands on an honest document.

    python scripts/bench_lying_zips.py [--repeats 3] [--inflate-gb 1.5]

Writes (in a temporary folder) a .docx and an .xlsx of about 1.5 MB whose central directory declares
4,000 bytes for `word/document.xml`, `xl/workbook.xml` or the sheet (with the CRC-32 of those 4,000
bytes) while each inflates to about 1.5 GB, then runs the real command on each in a child process
and reads the child's wall time and peak resident memory (ru_maxrss from wait4). The baseline is the
same command on an honest .docx, in the same run. Target: each lying file refused (exit 2, the
"damaged file" line) within 2 s and under 256 MB.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from docmakers import write_docx, write_xlsx  # noqa: E402
from lyingzips import lie  # noqa: E402

INDICODE = Path(sys.executable).parent / "indicode"
LINES = ["三级指标\t指标值", "办事群众满意度\t≥95%", "任务达标完成率\t100%"]


def measure(args: list[str], env: dict) -> tuple[float, float, int, str]:
    """(seconds, peak MiB, exit code, last stderr line) of one child run."""
    start = time.monotonic()
    proc = subprocess.Popen([str(INDICODE), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    err = proc.stderr.read().decode("utf-8", "replace").strip().splitlines() if proc.stderr else []
    proc.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, proc.returncode, err[-1] if err else ""


def p99(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.99 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--inflate-gb", type=float, default=1.5, help="what each lying member really inflates to")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        env = {**os.environ, "INDICODE_DATA_DIR": str(d / "data"), "INDICODE_LANG": "en"}
        docx, xlsx = write_docx(LINES, d / "honest.docx"), write_xlsx(LINES, d / "honest.xlsx")
        real = int(a.inflate_gb * 1e9)
        files = {"honest .docx (baseline)": docx,
                 "docx, word/document.xml": lie(docx, d / "lie_document.docx", "word/document.xml", real),
                 "xlsx, xl/workbook.xml": lie(xlsx, d / "lie_workbook.xlsx", "xl/workbook.xml", real),
                 "xlsx, xl/worksheets/sheet1.xml": lie(xlsx, d / "lie_sheet.xlsx", "xl/worksheets/sheet1.xml", real)}
        print(f"each lying member inflates to {real:,} bytes and declares 4,000; {a.repeats} runs each")
        print(f"{'command':10} {'file':32} {'size':>10} {'median s':>9} {'p99 s':>7} {'median MiB':>11} "
              f"{'p99 MiB':>8} exit  line")
        for cmd in ("extract", "normalize"):
            for label, f in files.items():
                runs = [measure([cmd, str(f), "-o", str(d / "out.csv"), *(["-q"] if cmd == "normalize" else [])],
                                env) for _ in range(a.repeats)]
                secs, mib = [r[0] for r in runs], [r[1] for r in runs]
                print(f"{cmd:10} {label:32} {f.stat().st_size:>10,} {statistics.median(secs):>9.2f} {p99(secs):>7.2f} "
                      f"{statistics.median(mib):>11.0f} {p99(mib):>8.0f} {runs[-1][2]:>4}  {runs[-1][3][:110]}")


if __name__ == "__main__":
    main()
