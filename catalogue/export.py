"""Tables out: indicator rows and the catalogue as CSV / XLSX / JSONL."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd

from .files import atomic_path
from .records import IndicatorRow, InputError
from .store import Catalogue

TABLE_SUFFIXES = (".csv", ".xlsx", ".jsonl")
STDOUT = "-"  # `-o -`: JSON Lines on standard output, for pipes (jq, pandas.read_json(lines=True))


def check_writable(path: Path) -> None:
    """Fail before any work when the output cannot be written (wrong suffix, missing folder, no rights)."""
    if str(path) == STDOUT:
        return
    path = Path(path)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(f"{path}: output must end in {', '.join(TABLE_SUFFIXES)}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{path}: output folder {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"{path}: output is not writable")


def rows_frame(rows: list[IndicatorRow]) -> pd.DataFrame:
    return pd.DataFrame([r.to_dict() for r in rows], columns=list(IndicatorRow.__dataclass_fields__)[:-1])


def write_frames(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """Write atomically: a temp file renamed into place, so an interrupted run leaves no half file.
    CSV/JSONL take the first sheet; CSV is written with a BOM so that Excel reads the Chinese.
    `-` writes the first sheet to standard output as JSON Lines."""
    if str(path) == STDOUT:
        first = next(iter(sheets.values()))
        for rec in first.to_dict(orient="records"):
            sys.stdout.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()
        return
    path = Path(path)
    check_writable(path)
    with atomic_path(path) as tmp:
        first = next(iter(sheets.values()))
        suffix = path.suffix.lower()
        if suffix == ".csv":
            first.to_csv(tmp, index=False, encoding="utf-8-sig")
        elif suffix == ".jsonl":
            with open(tmp, "w", encoding="utf-8") as fh:
                for rec in first.to_dict(orient="records"):
                    fh.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
        else:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                for name, df in sheets.items():
                    df.to_excel(xw, sheet_name=name[:31], index=False)


def entry_dict(e) -> dict:
    return {
        "code": e.code, "name": e.name, "aliases": e.aliases, "level1": e.level1, "level2": e.level2,
        "valid": e.valid, "count": e.count, "filed_under": e.filed, "sources": e.sources,
        "projects": e.projects, "values": e.values,
    }


def catalogue_frames(cat: Catalogue) -> dict[str, pd.DataFrame]:
    codes = pd.DataFrame([{**entry_dict(e), "aliases": " | ".join(e.aliases),
                           "filed_under": " | ".join(f"{k} ({v}x)" for k, v in e.filed.items()),
                           "sources": " | ".join(e.sources), "projects": " | ".join(e.projects),
                           "values": " | ".join(e.values)} for e in cat.entries.values()])
    anomalies = pd.DataFrame([a.__dict__ for a in cat.anomalies], columns=["kind", "code", "name", "detail"])
    return {"codes": codes, "anomalies": anomalies}
