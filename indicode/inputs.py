"""The one front door for what a person or a program hands indicode: a class, `k`, a lookup limit
and query, an indicator text, a table to normalize.

The CLI, the Python API (`Matcher`), the HTTP API and the Reconciliation router all read their
inputs here, so the same bad input gets the same one-line message everywhere: an `InputError` (a
`BadValue` naming the input, which the HTTP layer answers as a 422 with that `field`). Each reader
takes what a caller may reasonably hand over (the text of a command line or a URL, a Python
number, a DataFrame cell) and refuses anything else by naming the value and what is accepted.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

from .catalogue.classes import LEVEL1, LEVEL2, level1_of, level2_of
from .catalogue.records import IndicatorRow, InputError
from .catalogue.textio import fold
from .i18n import N_, _
from .matcher.text import MAX_TEXT

if TYPE_CHECKING:
    import pandas as pd

    from .matcher.linker import Suggestion

MAX_K = 50  # candidates one suggestion lists
MAX_LIMIT = 1000  # codes one lookup lists: a page, not the catalogue
MAX_PAGE = 100_000
MAX_COMMENT = 500  # characters of a comment kept with a decision
CODE_DIGITS = 10  # digits of the longest code (a malformed one has 10), so of the longest code prefix

CLASS_HELP = N_("give 1-4, two digits such as 11, 22, 31, a label such as 31-服务对象满意度 or a name such as 数量指标")
_LABEL = re.compile(r"\*?\s*(\d{1,2})\s*[-—]\s*(.*)", re.S)  # `31-服务对象满意度`, `3-满意度指标`, `24-`
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_INVISIBLE = {"Cc", "Cf", "Zs", "Zl", "Zp"}  # controls, format characters (zero-width, BOM), spaces
_LINE_BREAKS = "\t\n\r"  # the control characters a pasted cell may hold: whitespace to the matcher


class BadValue(InputError):
    """Bad input about one value; `field` names the input (the HTTP answer carries it)."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def shown(value: Any) -> str:
    """A value as a message names it: a number plainly, however it came (`k 0` from the command
    line and from Python alike), anything else as Python writes it, at most 60 characters."""
    if isinstance(value, str):
        text = value if _NUMBER.fullmatch(value) else repr(value)
    elif isinstance(value, Real) and not isinstance(value, bool):
        text = str(value)
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _missing(value: Any) -> bool:
    """None, NaN, pandas' NA and NaT: what an empty cell reads as."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, Real) and not isinstance(value, Integral) and math.isnan(float(value))


def _as_text(value: Any) -> str | None:
    """A scalar as text: '' when missing, `31` for 31 and 31.0, a string trimmed; None for a
    container (a list, a dict …), which is no single value."""
    if _missing(value):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Integral) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, Real) and not isinstance(value, bool):
        number = float(value)
        return str(int(number)) if number.is_integer() else str(value)
    if isinstance(value, (list, tuple, set, frozenset, dict)) or hasattr(value, "__array__"):
        return None
    return str(value).strip()


# ------------------------------------------------------------------ classes


def class_of(text: str) -> str:
    """Class digits named by a text, '' when it names none: digits (`3`, `31`), a label, whose
    digits decide (`3-满意度指标` 3, `31-服务对象满意度` 31, `24-` 24), or a name read the way a
    document's level-2 cell is read (`数量指标` 11; `成本指标` 14, the older forms' cost class, as
    catalogue.classes documents; `满意度指标` 31), else a level-1 name (`产出指标` 1)."""
    t = unicodedata.normalize("NFKC", text).strip()
    if t in LEVEL1 or t in LEVEL2:
        return t
    label = _LABEL.fullmatch(t)
    if label:  # the digits decide, as they do in a document's cell; digits that are no class, nothing
        return label.group(1) if label.group(1) in LEVEL1 or label.group(1) in LEVEL2 else ""
    return level2_of(t) or level1_of(t)


def read_class(value: Any, field: str = "class") -> str:
    """Class digits ('1'…'4', '11'…'43') from what a caller gives; '' for none (None, NaN, '')."""
    text = _as_text(value)
    digits = class_of(text) if text else ""
    if text is None or (text and not digits):
        raise BadValue(_("class {value}: not a class; {help}").format(value=shown(value), help=_(CLASS_HELP)), field)
    return digits


def read_decision_class(value: Any, field: str = "class") -> str:
    """The class a decision is recorded under: a level-2 class ('11'…'43', read as `read_class` reads
    it: `31`, `31-服务对象满意度`, `数量指标`) or none (''). The one rule of `indicode learn`, feedback
    and the workspace: a level-1 class (`3`, `产出指标`) is no class a suggestion is asked in, so a
    decision under it would never be used; it is refused."""
    try:
        digits = read_class(value, field)
    except BadValue:
        digits = "?"
    if digits and digits not in LEVEL2:
        raise BadValue(_("class {value} is not a level-2 class: a decision is recorded under a level-2 class (two "
                         "digits 11-43 such as 31), or under none (leave it empty)").format(value=shown(value)), field)
    return digits


def check_decision(text: str, level2: str) -> None:
    """Refuse, on its way into the workspace, a decision about a text with nothing visible in it
    (spaces, zero-width characters, a BOM) or under a class that is not a level-2 class: every write
    path (learn, feedback, the Python API) ends here."""
    if not isinstance(text, str) or blank(text):
        raise BadValue(_("text {value}: nothing visible (only spaces or invisible characters); a decision needs "
                         "the indicator as written").format(value=shown(text)), "text")
    read_decision_class(level2)


def known_class(value: Any) -> str:
    """Class digits when `value` names a class, else '': for the reconciliation protocol, whose
    types are hints a client may send without knowing this service's."""
    try:
        return read_class(value)
    except InputError:
        return ""


def read_lookup_class(value: Any, field: str = "class") -> str:
    """What `lookup` narrows to: class digits (as `read_class` reads them) or a code prefix of 3 to
    10 digits; '' for none. The catalogue reads one digit as a level-1 class, two as a level-2
    class, more as a code prefix."""
    text = _as_text(value)
    if text == "":
        return ""
    digits = class_of(text) if text else ""
    if digits:
        return digits
    if text and text.isascii() and text.isdigit() and 3 <= len(text) <= CODE_DIGITS:
        return text
    raise BadValue(_("class {value}: neither a class nor a code prefix; {help}, or the first 3 to {n} digits of a code")
                   .format(value=shown(value), help=_(CLASS_HELP), n=CODE_DIGITS), field)


# ------------------------------------------------------------------ counts


def _whole(value: Any, what: str, most: int, field: str) -> int:
    """A whole number from 1 to `most`: a Python int or its digits as text; never a bool or a float."""
    n: int | None = None
    if isinstance(value, Integral) and not isinstance(value, bool):
        n = int(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        n = int(value.strip())
    if n is None or not 1 <= n <= most:
        raise BadValue(_("{what} {value}: give a whole number from 1 to {most}").format(
            what=what, value=shown(value), most=most), field)
    return n


def read_k(value: Any, what: str = "k", field: str = "k") -> int:
    """How many candidates a suggestion lists (1 to MAX_K); `what` is the name the caller's
    surface gives it (the reconciliation protocol says `limit`)."""
    return _whole(value, what, MAX_K, field)


def read_page(value: Any, field: str = "page") -> int:
    """Which page of a lookup to list (1 is the first)."""
    return _whole(value, "page", MAX_PAGE, field)


def read_limit(value: Any, field: str = "limit") -> int:
    """How many codes a lookup lists (1 to MAX_LIMIT)."""
    return _whole(value, "limit", MAX_LIMIT, field)


# ------------------------------------------------------------------ texts


def _visible(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch) not in _INVISIBLE


def blank(text: str) -> bool:
    """Whether a text has nothing visible in it (spaces, zero-width characters, a BOM)."""
    return not any(_visible(ch) for ch in text)


def _bad_character(text: str, controls: bool = True) -> str:
    """What is wrong with a character of `text`, '' when nothing: a lone surrogate (half of a
    UTF-16 pair: no character, and no UTF-8 either) or, with `controls`, a control character other
    than a tab or a line break."""
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cs":
            return _("holds U+{code}, half of a UTF-16 surrogate pair, which is no character on its own; "
                     "give valid Unicode text").format(code=f"{ord(ch):04X}")
        if controls and cat == "Cc" and ch not in _LINE_BREAKS:
            return _("holds the control character U+{code}; give plain text").format(code=f"{ord(ch):04X}")
    return ""


def _text_of(value: Any, what: str, example: str, field: str) -> str:
    """A string with something visible in it, trimmed; one message for each way it is not."""
    give, v = _("give {example}").format(example=_(example)), shown(value)
    if _missing(value):
        raise BadValue(_("{what} {value}: missing; {give}").format(what=what, value=v, give=give), field)
    if not isinstance(value, str):
        raise BadValue(_("{what} {value}: not text ({kind}); {give}").format(
            what=what, value=v, kind=type(value).__name__, give=give), field)
    text = value.strip()
    if not text:
        raise BadValue(_("{what} {value}: empty; {give}").format(what=what, value=v, give=give), field)
    bad = _bad_character(text)
    if bad:
        raise BadValue(_("{what} {value}: {problem}").format(what=what, value=v, problem=bad), field)
    if blank(text):
        raise BadValue(_("{what} {value}: nothing visible (only spaces or invisible characters); {give}").format(
            what=what, value=v, give=give), field)
    return text


def bounded(text: str) -> str:
    """The longest beginning of `text` that is at most MAX_TEXT characters both as written and as
    the matcher folds it (NFKC can make one character many: `ﷺ` is 18)."""
    hi = min(len(text), MAX_TEXT)
    if len(fold(text[:hi])) <= MAX_TEXT:
        return text[:hi]
    lo = 0
    while lo < hi:  # the folded length grows with the prefix: the longest that fits
        mid = (lo + hi + 1) // 2
        if len(fold(text[:mid])) <= MAX_TEXT:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


@dataclass(frozen=True)
class Text:
    """An indicator text as the matcher gets it."""

    text: str  # at most MAX_TEXT characters, as written and as folded
    cut: bool  # the text given was longer: it is matched by this beginning


def read_text(value: Any, field: str = "text") -> Text:
    """The indicator text to suggest codes for, bounded to MAX_TEXT once folded."""
    text = _text_of(value, "text", N_("the indicator as written, such as 办事群众满意度"), field)
    short = bounded(text)
    return Text(short, len(short) < len(text))


def read_value(value: Any, field: str = "value") -> str:
    """A target value (≥95%, 5次, or a number from a cell); '' for none."""
    text = _as_text(value)
    if text is None:
        raise BadValue(_("value {value}: not a target value; give it as text, such as ≥95% or 5次").format(
            value=shown(value)), field)
    return text


def read_comment(value: Any, field: str = "comment") -> str:
    """A reviewer's comment kept with a decision or a retraction ('' for none), at most MAX_COMMENT
    characters."""
    text = _as_text(value)
    if text is None:
        raise BadValue(_("comment {value}: not text; give a short note, such as 按2026年目录复核").format(
            value=shown(value)), field)
    bad = _bad_character(text) if text else None
    if bad:
        raise BadValue(_("{what} {value}: {problem}").format(what="comment", value=shown(value), problem=bad), field)
    if len(text) > MAX_COMMENT:
        raise BadValue(_("comment {value}: longer than {n} characters").format(value=shown(value), n=MAX_COMMENT),
                       field)
    return text


def read_query(value: Any, field: str = "query") -> str:
    """A lookup query: a code (123 is the code text '123'), a code prefix or part of a name."""
    example = N_("a code, a code prefix or part of a name")
    if isinstance(value, Integral) and not isinstance(value, bool):
        value = str(int(value))  # 123 is the code text '123'
    text = _text_of(value, "query", example, field)
    if len(fold(text)) > MAX_TEXT:
        raise BadValue(_("query {value}: longer than {n} characters; give {example}").format(
            value=shown(value), n=MAX_TEXT, example=_(example)), field)
    return text


# ------------------------------------------------------------------ one suggestion


@dataclass(frozen=True)
class SuggestRequest:
    """One suggestion asked for, read through the front door."""

    text: str
    level2: str  # class digits, '' for none
    value: str
    k: int
    cut: bool  # the text was cut to its beginning (see `read_text`)

    def run(self, suggest: Callable[[str, str, str, int], Suggestion]) -> Suggestion:
        """`suggest(text, class, value, k)`, its Suggestion flagged `cut` when the text was."""
        s = suggest(self.text, self.level2, self.value, self.k)
        s.cut = s.cut or self.cut
        return s


def suggest_request(text: Any, level2: Any = None, value: Any = None, k: Any = 5) -> SuggestRequest:
    t = read_text(text)
    return SuggestRequest(t.text, read_class(level2), read_value(value), read_k(k), t.cut)


# ------------------------------------------------------------------ a table to normalize


def _one_column(data: Any, name: Any, others: dict[str, Any]) -> pd.DataFrame:
    """A Series or a list of texts as a one-column frame (a Series keeps its index)."""
    import pandas as pd

    kind = "Series" if isinstance(data, pd.Series) else "list"
    given = [f"{what}=" for what, col in others.items() if col is not None]
    own = data.name if kind == "Series" else None
    if name is not None and name != own:
        given.insert(0, "name=")
    if given:
        raise InputError(_("normalize: a {kind} is one column of texts; {given} name columns of a DataFrame (give a "
                           "DataFrame, or leave them out)").format(kind=kind, given=", ".join(given)))
    if kind == "Series":
        return data.to_frame(name="text")
    return pd.DataFrame({"text": list(data)})


def _frame(data: Any, name: Any, others: dict[str, Any]) -> tuple[pd.DataFrame, Any]:
    import pandas as pd

    if isinstance(data, (pd.Series, list, tuple)):
        return _one_column(data, name, others), "text"
    if not isinstance(data, pd.DataFrame):
        raise InputError(_("normalize: takes a DataFrame, a Series or a list of texts, not {kind} (suggest codes one "
                           "text)").format(kind=type(data).__name__))
    if name is None:
        raise InputError(_("DataFrame: name= is missing: give the column holding the indicator texts (columns: "
                           "{columns})").format(columns=", ".join(map(str, data.columns))))
    return data, name


def _check_columns(frame: pd.DataFrame, columns: dict[str, Any]) -> None:
    """Each column named is there, once."""
    for what, col in columns.items():
        if col is None:
            continue
        try:
            hash(col)
        except TypeError:
            raise InputError(_("DataFrame: {what}={column} is not a column name").format(
                what=what, column=repr(col))) from None
        n = int((frame.columns == col).sum())
        if n == 0:
            raise InputError(_("DataFrame: no column {column} for {what} (columns: {columns})").format(
                column=repr(col), what=what, columns=", ".join(map(str, frame.columns))))
        if n > 1:
            raise InputError(_("DataFrame: {n} columns are named {column} (for {what}); rename them so that each name "
                               "is used once").format(n=n, column=repr(col), what=what))


def _cell(value: Any, what: str, where: str, col: Any) -> str:
    """One cell as text ('' for an empty one); a list or a dict in a cell is refused."""
    text = _as_text(value)
    if text is None:
        raise InputError(_("{where}, column {column}: {value} is not text or a number").format(
            where=where, column=repr(col), value=shown(value)))
    bad = _bad_character(text, controls=False) if what == "name" else ""  # the encoder cannot take it
    if bad:
        raise InputError(_("{where}, column {column}: {value} {problem}").format(
            where=where, column=repr(col), value=shown(value), problem=bad))
    return text


def table_rows(data: Any, name: Any = None, level2: Any = None, value: Any = None,
               code: Any = None) -> tuple[pd.Index, list[IndicatorRow]]:
    """The rows `Matcher.normalize` codes, one per row of `data` (a DataFrame, a Series or a list
    of texts), and the index the answer keeps. Nothing is dropped: an empty cell (None, NaN) is an
    empty row; a number is read as its text (31.0 is `31`); a class that is no class is refused,
    naming the row."""
    others = {"level2": level2, "value": value, "code": code}
    frame, name = _frame(data, name, others)
    columns = {"name": name, **others}
    _check_columns(frame, columns)
    cells = {what: frame[col].tolist() for what, col in columns.items() if col is not None}
    rows = []
    for i, idx in enumerate(frame.index):
        where = _("DataFrame row {n} (index {index})").format(n=i + 1, index=repr(idx))
        text = {what: _cell(cells[what][i], what, where, col) if col is not None else ""
                for what, col in columns.items()}
        try:
            klass = read_class(text["level2"])
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        rows.append(IndicatorRow(source="DataFrame", line=i + 1, name=text["name"], level1=klass[:1],
                                 level2=klass if klass in LEVEL2 else "", level2_text=text["level2"],
                                 code=text["code"], value_period=text["value"]))
    return frame.index, rows
