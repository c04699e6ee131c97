"""The log written out: every event (decisions and retractions) and the proposed codes, as CSV or .xlsx,
by the same writer as every other table (cells never execute: `catalogue/export.py`)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..catalogue.export import check_writable, write_frames
from .records import Event
from .workspace import Workspace

LOG_COLUMNS = ["id", "kind", "text", "class", "subject", "clean_version", "code", "name", "outcome", "proposal",
               "reviewer", "at", "via", "file", "sheet", "row", "comment", "replaces", "catalogue", "in_force"]


def log_frame(events: list[Event], in_force: set[int]) -> pd.DataFrame:
    df = pd.DataFrame([{**e.to_dict(), "in_force": e.id in in_force} for e in events], columns=LOG_COLUMNS)
    for col in ("proposal", "row", "replaces"):  # ids and rows that may be missing: whole numbers, never 3.0
        df[col] = df[col].astype("Int64")
    return df


def export_log(ws: Workspace, path: Path) -> int:
    """Write the whole log to `path` (.csv: the events; .xlsx: an `events` and a `proposals` sheet);
    returns how many events."""
    check_writable(path)
    events = ws.log()
    force = {e.id for e in ws.in_force()}
    columns = ["id", "code", "name", "level1", "level2", "text", "reviewer", "at", "origin", "status", "unit",
               "explanation", "comment", "approved", "reason"]
    proposals = pd.DataFrame([{**{c: getattr(p, c) for c in columns}, "origin": str(p.origin)} for p in ws.proposals()],
                             columns=columns)
    write_frames(path, {"events": log_frame(events, force), "proposals": proposals})
    return len(events)
