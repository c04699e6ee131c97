"""The catalogue and workspace a command uses, and switching a workspace to another catalogue.

A command's `--catalogue` picks the catalogue for that command only; without it the workspace's own
catalogue is used: the bundled one until pointed elsewhere (`indicode workspace use-catalogue`). A
workspace on the bundled catalogue follows it across upgrades, and one on a file rebuilt in place
follows that; either way the decisions whose code the new version lacks are listed, never dropped.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..catalogue import paths
from ..catalogue.records import InputError
from ..i18n import _
from .catalogues import Affected, affected, describe
from .records import CatalogueRef
from .workspace import Workspace


@dataclass
class Switch:
    """A workspace pointed at another catalogue: the new one, the old one, and the decisions in force
    whose code the new one has gone, renamed or disabled."""

    new: CatalogueRef
    old: CatalogueRef | None
    kept: int  # decisions in force, all kept
    affected: list[Affected] = field(default_factory=list)

    def summary(self) -> str:
        by = Counter(a.change for a in self.affected)
        return _("the workspace now uses catalogue {cat}: {kept} decisions in force kept; {n} name a code gone "
                 "({gone}), renamed ({renamed}) or disabled ({disabled}) there").format(
            cat=self.new, kept=self.kept, n=len(self.affected), gone=by["gone"], renamed=by["renamed"],
            disabled=by["disabled"])


def switch(ws: Workspace, path: str | Path, reviewer: str = "") -> Switch:
    """Point `ws` at catalogue `path`; every decision is kept, and those it affects are listed."""
    ref = describe(path)
    old = ws.catalogue()
    force = ws.in_force()
    out = Switch(ref, old, len(force), affected(force, path))
    ws.point_at(ref, reviewer)
    return out


def catalogue_in_use(ws: Workspace, explicit: str | Path | None = None) -> tuple[Path, list[str]]:
    """(the catalogue file to use, notes to tell the user). `explicit` (a command's --catalogue or
    $INDICODE_CATALOGUE) wins for that command; else the workspace's catalogue, which is pointed at the
    bundled one on first use and follows an upgraded bundled file or a file rebuilt in place."""
    if explicit:
        return Path(explicit), []
    ref = ws.catalogue()
    if ref is None or ref.bundled:
        bundled = describe(paths.BUNDLED_DB)
        if ref is None:
            ws.point_at(bundled)
            return paths.BUNDLED_DB, []
        if (bundled.fingerprint, bundled.path) != (ref.fingerprint, ref.path):
            return paths.BUNDLED_DB, [switch(ws, paths.BUNDLED_DB).summary()]
        return paths.BUNDLED_DB, []
    path = Path(ref.path)
    if not path.exists():
        raise InputError(_("{path}: the workspace's catalogue is missing; point the workspace at another one with "
                           "`indicode workspace use-catalogue NEW.sqlite`").format(path=path))
    if describe(path).fingerprint != ref.fingerprint:
        return path, [switch(ws, path).summary()]
    return path, []
