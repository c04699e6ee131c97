"""The normalized output as files: an .xlsx a reviewer can work in, or CSV / JSONL.

The workbook has a `rows` sheet (fill colour per decision, frozen header, filters, an empty
`reviewer_code` column to write the decided code, `ok` to confirm, or NIL) and a `summary` sheet.
Every file is written to a temporary name and renamed when complete, so an interrupted run never
leaves an output that looks finished.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .catalogue.export import STDOUT, check_writable, write_frames
from .catalogue.files import atomic_path

from .bulk import NormalizeResult, columns_in_order

FILLS = {"accept": "C6EFCE", "review": "FFEB9C", "no-match": "FFC7CE"}


def summary_rows(res: NormalizeResult, about: dict[str, str]) -> list[tuple[str, str, str]]:
    rows = [("all files", "rows", str(len(res.records)))]
    rows += [("all files", d, str(res.decisions.get(d, 0))) for d in FILLS]
    rows += [("all files", "distinct texts matched", str(res.unique)), ("all files", "texts encoded (not cached)", str(res.encoded)),
             ("all files", "seconds", f"{res.seconds:.2f}")]
    for f in res.files:
        if f.error:
            rows.append((f.source, "error", f.error))
            continue
        rows.append((f.source, f"rows ({f.format})", str(f.rows)))
        rows += [(f.source, d, str(f.decisions.get(d, 0))) for d in FILLS]
        rows += [(f.source, "unreadable line", str(p)) for p in f.problems]
    rows += [("settings", k, v) for k, v in about.items()]
    return rows


def write_result(path: Path, res: NormalizeResult, about: dict[str, str]) -> None:
    cols = columns_in_order(res.records)
    df = pd.DataFrame(res.records, columns=cols)
    if str(path) == STDOUT or Path(path).suffix.lower() != ".xlsx":
        write_frames(path, {"rows": df})
        return
    check_writable(path)
    with atomic_path(path) as tmp:
        _write_xlsx(tmp, df, summary_rows(res, about))


def _write_xlsx(path: Path, df: pd.DataFrame, summary: list[tuple[str, str, str]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "rows"
    ws.append(list(df.columns))
    for c in ws[1]:
        c.font = Font(bold=True)
    dec_col = list(df.columns).index("decision") + 1 if "decision" in df.columns else None
    fills = {k: PatternFill("solid", start_color=v, end_color=v) for k, v in FILLS.items()}
    for r, rec in enumerate(df.itertuples(index=False), 2):
        for c, v in enumerate(rec, 1):
            cell = ws.cell(row=r, column=c)
            if v is None or (isinstance(v, float) and pd.isna(v)):
                continue
            cell.value = v
            if isinstance(v, str) and v.startswith("="):
                cell.data_type = "s"  # text, never a formula: the original cell stays as written
        if dec_col:
            fill = fills.get(ws.cell(row=r, column=dec_col).value)
            if fill:
                for c in range(1, len(df.columns) + 1):
                    ws.cell(row=r, column=c).fill = fill
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(df.columns)))}{max(1, len(df) + 1)}"
    for i, col in enumerate(df.columns, 1):
        width = max([len(str(col))] + [len(str(v)) for v in df[col].head(200).tolist()])
        ws.column_dimensions[get_column_letter(i)].width = min(max(8, width * 1.6), 40)
    if "reviewer_code" in df.columns:
        rc = ws.cell(row=1, column=list(df.columns).index("reviewer_code") + 1)
        rc.fill = PatternFill("solid", start_color="BDD7EE", end_color="BDD7EE")
    sm = wb.create_sheet("summary")
    sm.append(["scope", "item", "value"])
    for c in sm[1]:
        c.font = Font(bold=True)
    for row in summary:
        sm.append(list(row))
    sm.column_dimensions["A"].width = 32
    sm.column_dimensions["B"].width = 28
    sm.column_dimensions["C"].width = 60
    wb.save(path)
