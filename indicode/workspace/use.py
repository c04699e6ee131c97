"""The catalogue and workspace a command uses, and switching a workspace to another catalogue.

A command's `--catalogue` picks the catalogue for that command only; without it the workspace's own
catalogue is used: the bundled one until pointed elsewhere (`indicode workspace use-catalogue`). A
workspace on the bundled catalogue follows it across upgrades, and one on a file rebuilt in place
follows that; either way the decisions whose code the new version lacks are listed, never dropped.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..catalogue import paths
from ..catalogue.files import WriteError
from ..catalogue.records import InputError
from ..i18n import _
from .catalogues import Affected, affected, describe
from .migrate import import_legacy_copy
from .records import CatalogueRef, Status
from .store import default_location
from .workspace import Workspace

if TYPE_CHECKING:
    from ..matcher.linker import Linker


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
    bundled one on first use and follows an upgraded bundled file or a file rebuilt in place. A
    read-only workspace is used as it is: the catalogue is used, the switch not recorded."""
    if explicit:
        return Path(explicit), []
    ref = ws.catalogue()
    if ref is None or ref.bundled:
        bundled = describe(paths.BUNDLED_DB)
        if ref is None:
            _recorded(lambda: ws.point_at(bundled))
            return paths.BUNDLED_DB, []
        if (bundled.fingerprint, bundled.path) != (ref.fingerprint, ref.path):
            return paths.BUNDLED_DB, _recorded(lambda: [switch(ws, paths.BUNDLED_DB).summary()])
        return paths.BUNDLED_DB, []
    path = Path(ref.path)
    if not path.exists():
        raise InputError(_("{path}: the workspace's catalogue is missing; point the workspace at another one with "
                           "`indicode workspace use-catalogue NEW.sqlite`").format(path=path))
    if describe(path).fingerprint != ref.fingerprint:
        return path, _recorded(lambda: [switch(ws, path).summary()])
    return path, []


def _recorded(write: Callable[[], list[str] | None]) -> list[str]:
    """The notes of a switch the workspace records; none when it cannot record it (read-only)."""
    try:
        return write() or []
    except WriteError:
        return []


def open_workspace(workspace: str | Path | Workspace | None) -> Workspace:
    """A Workspace from a location (None: the default one) or as given. The default workspace, on its
    first use, takes in the decisions of the catalogue copy releases up to 0.2 kept in the data folder."""
    if isinstance(workspace, Workspace):
        return workspace
    ws = Workspace.open(workspace)
    if not workspace or str(workspace) == default_location():
        note = import_legacy_copy(ws)
        if note:
            ws.notes.insert(0, note)
    return ws


def linker_for(ws: Workspace | None, catalogue: str | Path | None = None, model: str | None = None,
               encoder=None) -> tuple[Linker, list[str]]:
    """A Linker over the catalogue in use with the workspace's decisions in force as its learned links
    (none when `ws` is None: then `catalogue`, default the bundled one, as it is); and the notes."""
    from ..catalogue.lazy import LazyCatalogue
    from ..matcher.encoders import load_encoder
    from ..matcher.linker import Linker

    notes: list[str] = []
    path = catalogue
    if ws is not None:
        notes = list(ws.notes)
        path, more = catalogue_in_use(ws, catalogue)
        notes += more
    cat = LazyCatalogue.load(path)
    if ws is None:
        return Linker(cat, encoder or load_encoder(model)), notes
    return make_linker(cat, encoder or load_encoder(model), ws), notes


def make_linker(cat, encoder, ws: Workspace, **kw) -> Linker:
    """A Linker applying the workspace's decisions in force whose no-match answers name the proposed
    code they fit (`indicode.proposed`), with the workspace's model (`models.py`: the shipped one
    until `indicode calibrate` fits one); `kw` as for Linker (model, index, full_scan_max)."""
    from ..proposed import ProposingLinker, members_of
    from .models import model_in_use

    if kw.get("model") is None:
        kw["model"] = model_in_use(ws)
    return ProposingLinker(cat, encoder, learned=ws.learned_links(cat.entries), members=members_of(ws, cat.entries),
                           **kw)


def status_of(linker: Linker, ws: Workspace | None) -> Status:
    """What a Linker serves: its catalogue file and version, the workspace and the decisions applied."""
    ref = describe(linker.cat.path)
    if ws is None:
        return Status("", "", ref, len(linker.decisions), 0, 0, 0)
    s = ws.status(ref)
    return Status(s.workspace, s.backend, ref, len(linker.decisions), s.events, s.proposals, s.members)
