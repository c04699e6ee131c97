"""What changed from one catalogue to another (`indicode catalogue diff OLD NEW`).

When a workspace moves to a new catalogue (a new release, a rebuild, a library imported), the
decisions it holds point at codes of the old one; those whose code is gone, renamed or disabled in the
new one must be listed, never dropped. `diff` compares two loaded catalogues code by code: codes gone,
renamed (the canonical name changed), disabled, re-enabled, added, and whose class changed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..i18n import _, ngettext
from .database import CatalogueVersion
from .entries import Entry
from .lookup import Catalogue


@dataclass(frozen=True)
class CodeChange:
    """One code in the diff: its name in the old catalogue and in the new (the same when not renamed;
    empty on the side it is missing from), and its class on each side (`1/12`)."""

    code: str
    old_name: str = ""
    new_name: str = ""
    old_class: str = ""
    new_class: str = ""


@dataclass
class CatalogueDiff:
    old: CatalogueVersion
    new: CatalogueVersion
    gone: list[CodeChange] = field(default_factory=list)
    renamed: list[CodeChange] = field(default_factory=list)
    disabled: list[CodeChange] = field(default_factory=list)
    reenabled: list[CodeChange] = field(default_factory=list)
    added: list[CodeChange] = field(default_factory=list)
    class_changed: list[CodeChange] = field(default_factory=list)

    KINDS = ("gone", "renamed", "disabled", "reenabled", "added", "class_changed")

    @property
    def unusable(self) -> set[str]:
        """Codes of the old catalogue the new one no longer suggests (gone or disabled): the codes a
        decision made against the old one can no longer be applied with."""
        return {c.code for c in self.gone + self.disabled}

    def is_empty(self) -> bool:
        return not any(getattr(self, k) for k in self.KINDS)

    def to_dict(self) -> dict:
        return {"old": asdict(self.old), "new": asdict(self.new),
                **{k: [asdict(c) for c in getattr(self, k)] for k in self.KINDS}}

    def summary(self, shown: int = 10) -> list[str]:
        """Lines for a person: the two versions, then each kind of change with its count and at most
        `shown` of its codes."""
        lines = [_("old: {version}").format(version=describe(self.old)),
                 _("new: {version}").format(version=describe(self.new))]
        if self.is_empty():
            return [*lines, _("no code changed")]
        for kind in self.KINDS:
            changes = getattr(self, kind)
            if not changes:
                continue
            lines.append(_heading(kind, len(changes)))
            lines += [f"  {_line(kind, c)}" for c in changes[:shown]]
            if len(changes) > shown:
                lines.append("  " + ngettext("… and {n} more (--json lists every one)",
                                             "… and {n} more (--json lists every one)",
                                             len(changes) - shown).format(n=len(changes) - shown))
        return lines


def describe(v: CatalogueVersion) -> str:
    """A catalogue version in one line: label, fingerprint, time of making."""
    label = v.label or _("(no label)")
    if not v.made_at:
        return _("{label}, fingerprint {fingerprint}, time of making unknown").format(
            label=label, fingerprint=v.fingerprint)
    return _("{label}, fingerprint {fingerprint}, made {made}").format(label=label, fingerprint=v.fingerprint,
                                                                          made=v.made_at)


def _heading(kind: str, n: int) -> str:
    if kind == "gone":
        return ngettext("{n} code gone", "{n} codes gone", n).format(n=n)
    if kind == "renamed":
        return ngettext("{n} code renamed", "{n} codes renamed", n).format(n=n)
    if kind == "disabled":
        return ngettext("{n} code disabled", "{n} codes disabled", n).format(n=n)
    if kind == "reenabled":
        return ngettext("{n} code enabled again", "{n} codes enabled again", n).format(n=n)
    if kind == "added":
        return ngettext("{n} code added", "{n} codes added", n).format(n=n)
    return ngettext("{n} code changed class", "{n} codes changed class", n).format(n=n)


def _line(kind: str, c: CodeChange) -> str:
    if kind == "renamed":
        return f"{c.code}: {c.old_name} → {c.new_name}"
    if kind == "class_changed":
        return f"{c.code}-{c.new_name}: {c.old_class} → {c.new_class}"
    return f"{c.code}-{c.new_name or c.old_name}"


def _klass(e: Entry) -> str:
    return f"{e.level1}/{e.level2}"


def _change(code: str, old: Entry | None, new: Entry | None) -> CodeChange:
    return CodeChange(code, old.name if old else "", new.name if new else "",
                      _klass(old) if old else "", _klass(new) if new else "")


def diff(old: Catalogue, new: Catalogue) -> CatalogueDiff:
    """The changes from `old` to `new`, each list in code order. A code is `renamed` when its
    canonical name changed (a spelling added or dropped is not a rename), `disabled` when it was in
    use in `old` and a library disables it in `new` (`reenabled` the other way round); a code added
    disabled is listed as added only. Proposed codes and learned links are not compared."""
    out = CatalogueDiff(old.version, new.version)
    before, after = old.entries, new.entries
    for code in sorted(set(before) | set(after)):
        o, n = before.get(code), after.get(code)
        change = _change(code, o, n)
        if n is None:
            out.gone.append(change)
            continue
        if o is None:
            out.added.append(change)
            continue
        if o.name != n.name:
            out.renamed.append(change)
        if o.enabled and not n.enabled:
            out.disabled.append(change)
        elif n.enabled and not o.enabled:
            out.reenabled.append(change)
        if (o.level1, o.level2) != (n.level1, n.level2):
            out.class_changed.append(change)
    return out
