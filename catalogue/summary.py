"""A catalogue's counts and anomalies said for people, in the current language: `catalogue stats` as a
small table, each anomaly in words. The machine forms (`--json`, the export's anomalies sheet) keep
`Catalogue.stats()` and `Anomaly` as they are."""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping

import pandas as pd

from ..i18n import N_, _
from .classes import LEVEL1, LEVEL2
from .entries import Anomaly

# What each kind of anomaly means, for a clerk who has never seen the kind's name.
ANOMALY_WORDS = {
    "malformed-code": N_("the code is not 9 digits"),
    "code-digits-disagree": N_("the code's first digit and its class digits do not agree"),
    "filed-class-mismatch": N_("filed under another class than its code says"),
    "one-code-many-names": N_("one code written with several names"),
    "one-name-many-codes": N_("one name given several codes"),
}


def width(text: str) -> int:
    """Columns `text` takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def ljust(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def table(rows: Iterable[tuple[str, object]], indent: str = "") -> list[str]:
    """Two columns, the first padded to its widest cell (Chinese counted double)."""
    rows = [(str(k), str(v)) for k, v in rows]
    wide = max((width(k) for k, _v in rows), default=0)
    return [f"{indent}{ljust(k, wide)}  {v}" for k, v in rows]


def kind_words(kind: str) -> str:
    return _(ANOMALY_WORDS[kind]) if kind in ANOMALY_WORDS else kind


def explain_anomaly(a: Anomaly) -> str:
    """One anomaly in words: what is wrong, then the catalogue's detail (`10 digits, expected 9 …`)."""
    return _("{what} ({detail})").format(what=kind_words(a.kind), detail=a.detail) if a.detail else kind_words(a.kind)


def class_name(digits: str) -> str:
    name = LEVEL2.get(digits) or LEVEL1.get(digits)
    return f"{digits}-{name}" if name else (digits or _("(no class)"))


def stats_table(s: Mapping) -> list[str]:
    """`Catalogue.stats()` as lines: the counts, then the codes per class, then the anomalies per kind."""
    lines = table([
        (_("catalogue"), s["path"]),
        (_("codes"), _("{n} ({valid} well-formed, {disabled} disabled)").format(
            n=s["codes"], valid=s["valid_codes"], disabled=s["disabled"])),
        (_("names"), s["names"]),
        (_("occurrences"), s["occurrences"]),
        (_("sources"), len(s["sources"])),
        (_("learned links"), s["learned"]),
        (_("proposed codes"), s["proposed"]),
        (_("version"), s["label"] or _("(none)")),
        (_("made at"), s["made_at"] or _("(unknown: made before indicode recorded it)")),
        (_("fingerprint"), s["fingerprint"]),
    ])
    lines += ["", _("codes by class:")] + table([(class_name(k), n) for k, n in s["by_level2"].items()], "  ")
    anomalies = s["anomalies"]
    lines += ["", _("anomalies:") if anomalies else _("anomalies: none")]
    lines += table([(kind_words(k), n) for k, n in anomalies.items()], "  ")
    return lines


# The export's sheets and columns as a clerk reads them (the XLSX export; CSV and JSON Lines keep the
# English keys for programs).
SHEET_WORDS = {"codes": N_("codes"), "anomalies": N_("anomalies"), "proposed": N_("proposed codes")}
COLUMN_WORDS = {
    "code": N_("code"), "name": N_("name"), "aliases": N_("other names"), "level1": N_("level-1 class"),
    "level2": N_("level-2 class"), "valid": N_("well-formed"), "enabled": N_("enabled"), "count": N_("times seen"),
    "filed_under": N_("filed under"), "sources": N_("sources"), "projects": N_("projects"), "values": N_("values"),
    "measure_unit": N_("unit"), "explanation": N_("explanation"), "standard": N_("scoring standard"),
    "kind": N_("anomaly"), "detail": N_("detail"), "text": N_("indicator text"), "reviewer": N_("reviewer"),
    "source": N_("where"), "proposed_at": N_("proposed at"),
}


def for_people(frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The export's frames with sheet names, headers, yes/no and anomaly kinds in the current language."""
    out = {}
    yes, no = _("yes"), _("no")
    for sheet, df in frames.items():
        df = df.copy()
        for col in ("valid", "enabled"):
            if col in df:
                df[col] = [yes if v else no for v in df[col]]
        if "kind" in df:
            df["kind"] = [kind_words(k) for k in df["kind"]]
        df.columns = [_(COLUMN_WORDS[c]) if c in COLUMN_WORDS else c for c in df.columns]
        out[_(SHEET_WORDS.get(sheet, sheet))] = df
    return out
