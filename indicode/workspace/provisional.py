"""Provisional ids of proposed codes: `新-HZKQ-31-0001` (新, the workspace's prefix, the class, a serial).

A new code is proposed by name and class; the province assigns the real 9-digit serial later. Until
then its id must never be taken for a catalogue code (it holds 新, letters and dashes, never 9 digits
in a row) and must never collide with another office's: each workspace has its own prefix of capital
letters, drawn at random when the workspace is made (20^4 = 160,000 prefixes; an office may set a
readable one, e.g. its district's initials, before its first proposal), so the province can merge the
requests of many districts.
"""
from __future__ import annotations

import re
import secrets

from ..catalogue.classes import LEVEL2
from ..catalogue.records import InputError
from ..i18n import _

PREFIX_KEY = "proposal_prefix"  # the meta key holding the workspace's prefix
# capital letters that are not read as digits (I, O, Z, S) nor as each other (U/V); 20 of them
LETTERS = "ABCDEFGHJKLMNPQRTWXY"
PREFIX_RE = re.compile(r"^[A-Z]{2,6}$")
PROVISIONAL_IN = re.compile(r"新-[A-Z]{2,6}-\d{2}-\d{4,}")  # one inside a text (a label, a cell)
PROVISIONAL_RE = re.compile(f"^{PROVISIONAL_IN.pattern}$")


def new_prefix() -> str:
    return "".join(secrets.choice(LETTERS) for _ in range(4))


def check_prefix(prefix: str) -> str:
    """The prefix as stored (capitals), or InputError."""
    p = (prefix or "").strip().upper()
    if not PREFIX_RE.match(p):
        raise InputError(_("proposal prefix '{prefix}': give 2 to 6 Latin letters (e.g. the office's initials)")
                         .format(prefix=prefix))
    return p


def provisional_id(prefix: str, level2: str, serial: int) -> str:
    return f"新-{prefix}-{level2}-{serial:04d}"


def is_provisional(code: str) -> bool:
    return bool(PROVISIONAL_RE.match((code or "").strip()))


def class_of(level2: str) -> str:
    """The class digits a proposal needs (a new code goes into one level-2 class), or InputError."""
    l2 = (level2 or "").strip()
    if l2 not in LEVEL2:
        raise InputError(_("a proposed code needs its level-2 class (two digits such as 31), not '{klass}'").format(
            klass=level2))
    return l2
