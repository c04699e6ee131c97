"""One spreadsheet cell as text, as a person reads it: the text every reader (sheets, .docx tables,
PDF tables, OFD) produces for a cell, and a merged block's text repeated down the rows it covers."""
from __future__ import annotations

import re
from datetime import datetime

_LATIN_BREAK = re.compile(r"(?<=[A-Za-z])\n(?=[A-Za-z])")


def cell_text(v) -> str:
    """One cell as text, on one line (tabs and line breaks inside a cell would split it)."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = str(v).replace("\t", " ").replace("\r", "")
    if "\n" in text:  # lines of a wrapped cell joined again: a space only between two Latin words
        text = _LATIN_BREAK.sub(" ", text).replace("\n", "")
    return text


_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')


def shown(v, number_format: str | None) -> str:
    """A cell's value as the spreadsheet shows it, for the number formats declarations use: typing
    `100%` into Excel stores the number 1 formatted `0%`, and `100%` is what the document says."""
    fmt = _LITERALS.sub("", (number_format or "General").split(";")[0]).strip()
    if isinstance(v, datetime):
        if v.hour == v.minute == v.second == 0:
            return f"{v.year}年{v.month}月{v.day}日" if "年" in (number_format or "") else v.date().isoformat()
        return cell_text(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return cell_text(v)
    decimals = len(m.group(1)) if (m := re.search(r"0\.(0+)", fmt)) else 0
    if "%" in fmt:
        return f"{v * 100:.{decimals}f}%"
    if re.fullmatch(r"[#,]*0(\.0+)?", fmt):
        return format(v, f"{',' if ',' in fmt else ''}.{decimals}f")
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.15g}"  # as Excel shows it (15 significant digits), not the binary's last digits
    return cell_text(v)


def _trim(cells: list[str]) -> list[str]:
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _fill_down(rows: list[list[str]], first: int, last: int, col: int) -> None:
    """Repeat the text of a block merged down a column on each row it covers (rows that were read)."""
    if first >= len(rows) or col >= len(rows[first]) or not rows[first][col]:
        return
    for i in range(first + 1, min(last, len(rows) - 1) + 1):
        rows[i] += [""] * (col + 1 - len(rows[i]))
        rows[i][col] = rows[first][col]
