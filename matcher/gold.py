"""Labelled links in the format of `shared/gold/dev.csv`: uid, source, level2, name, value, gold, acceptable."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ..catalogue.records import NIL, InputError
from ..catalogue.textio import read_text
from ..i18n import _

REQUIRED = ("uid", "level2", "name", "gold", "acceptable")


@dataclass
class GoldRow:
    uid: str
    source: str
    level2: str
    name: str
    value: str
    gold: str  # a code or NIL
    acceptable: frozenset[str]  # every answer that counts as right; NIL for "no match"

    @property
    def has_code(self) -> bool:
        return self.gold != NIL


def read_gold(path: str | Path) -> list[GoldRow]:
    path = Path(path)
    text = read_text(path)
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(_("{path}: missing column(s) {missing} (need {REQUIRED})").format(
                             path=path, missing=', '.join(missing), REQUIRED=', '.join(REQUIRED)))
    rows = []
    for i, r in enumerate(reader, 2):
        if not (r.get("name") or "").strip():
            raise InputError(_("{path}:{i}: empty name").format(path=path, i=i))
        gold = (r.get("gold") or "").strip()
        acc = frozenset((r.get("acceptable") or "").split()) or frozenset([gold])
        if not gold or gold not in acc:
            raise InputError(_("{path}:{i}: gold '{gold}' must be a code or NIL and be listed in acceptable").format(
                                 path=path, i=i, gold=gold))
        rows.append(GoldRow(r["uid"], r.get("source") or "", (r.get("level2") or "").strip(), r["name"],
                            r.get("value") or "", gold, acc))
    return rows


def source_group(source: str) -> str:
    """The unit cross-validation holds out: a seed document, or a whole province for links from
    other provinces (`other-province:湖北省鄂州市` -> `other-province:湖北省`), so that a region's
    wording stays unseen."""
    m = re.match(r"other-province:(.+?省|.+?自治区)", source)
    return f"other-province:{m.group(1)}" if m else source
