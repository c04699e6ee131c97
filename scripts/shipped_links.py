"""The shipped links: the three labelled files the shipped model is fitted on, in one file inside the
package (`matcher/data/links.csv`), so that `indicode calibrate` with no arguments can refit on them
where the tests folder is not installed.

    python scripts/shipped_links.py          # rewrite matcher/data/links.csv from tests/data/gold_*.csv
    python scripts/shipped_links.py --check  # exit 1 when it differs from them

Each uid is prefixed with its file (`gold_dev:17`): the three files number their rows alike.
"""
from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "tests" / "data" / f"gold_{name}.csv" for name in ("dev", "external", "external2")]
OUT = ROOT / "matcher" / "data" / "links.csv"
COLUMNS = ["uid", "source", "level2", "name", "value", "gold", "acceptable"]


def build() -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for f in FILES:
        for row in csv.DictReader(f.read_text(encoding="utf-8").splitlines()):
            w.writerow({**row, "uid": f"{f.stem}:{row['uid']}"})
    return buf.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    text = build()
    if ap.parse_args().check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT}: {'up to date' if same else 'differs from tests/data/gold_*.csv'}")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}: {text.count(chr(10)) - 1} links")
    return 0


if __name__ == "__main__":
    sys.exit(main())
