"""`indicode calibrate`: refit the matcher on the shipped links (or the labelled files given) plus the
workspace's decisions, and keep the result in the workspace (`workspace.models`).

- No files: the shipped links (`matcher/data/links.csv`, the three labelled files the shipped model
  was fitted on) plus the decisions in force; the decisions are adopted only when cross-validation by
  source holds with them on every figure (`matcher.refit`). When they are not (or add no text the
  links lack), the workspace keeps the shipped model.
- Files: fitted on them plus the decisions (adopted by the same rule); the workspace uses that model.
- `--output FILE`: the model is written to FILE and the workspace is left alone (how the developers
  rewrite the shipped model: `--output matcher/data/model.json`, with an empty workspace).
- `--reset`: the shipped model again. Every fit and reset is a row of the workspace's history.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .i18n import N_, _
from .matcher.evaluate import with_model
from .matcher.gold import GoldRow, read_gold
from .matcher.linker import Linker
from .matcher.model import LINKS_PATH, ScoreModel
from .matcher.refit import Refit, refit
from .workspace import Workspace
from .workspace.models import ModelRecord, model_history, model_in_use, store_model

FIGURES = (("end_to_end", N_("end-to-end")), ("top1", N_("top-1")), ("recall5", N_("recall@5")),
           ("accept_precision", N_("accept precision")), ("accept_share", N_("share accepted")))


@dataclass
class Calibrated:
    result: Refit
    rows: int  # labelled links fitted on (before the decisions)
    stored: ModelRecord | None  # what the workspace recorded (None: nothing changed, or --output)
    shipped: bool  # the workspace uses the shipped model after this


def calibrate(linker: Linker, ws: Workspace | None, files: list[Path], output: Path | None = None,
              reviewer: str = "") -> Calibrated:
    """Refit (see the module's docstring) from the shipped model, so that a refit that adopts nothing
    gives the shipped model back."""
    rows: list[GoldRow] = [g for f in files for g in read_gold(f)] if files else read_gold(LINKS_PATH)
    named = " ".join(map(str, files)) if files else "shipped links"
    shipped = ScoreModel.load()  # fitted on the shipped links: what a refit that adopts nothing gives
    result = refit(with_model(linker, shipped), rows, fitted_on=named, fitted=None if files else shipped)
    figures = {"before": result.before, "after": result.after}
    if output is not None or ws is None:
        return Calibrated(result, len(rows), None, False)
    if files or result.adopted:
        kept = store_model(ws, result.model, adopted=result.adopted, figures=figures,
                           decisions=len(linker.decisions), reviewer=reviewer)
        return Calibrated(result, len(rows), kept, False)
    rec = store_model(ws, None, figures=figures, decisions=len(linker.decisions), reviewer=reviewer) \
        if model_in_use(ws) is not None else None
    return Calibrated(result, len(rows), rec, True)


def report(out: Calibrated) -> list[str]:
    """What was adopted and the figures by source before and after, as lines to print."""
    r = out.result
    lines = []
    if not r.before:
        lines.append(_("no decision adds a text the {n} labelled links lack: nothing to adopt").format(n=out.rows))
    else:
        head = (_("decisions adopted: cross-validation by source holds or improves with them") if r.adopted
                else _("decisions not adopted: cross-validation by source gets worse with them"))
        lines.append(head)
        figure, without, with_ = _("figure"), _("without the decisions"), _("with them")
        lines.append(f"{figure:18} {without:>14} {with_:>14}")
        for key, label in FIGURES:
            lines.append(f"{_(label):18} {r.before[key]:14.3f} {r.after[key]:14.3f}")
    return lines


def in_use_line(out: Calibrated, ws: Workspace | None, output: Path | None) -> str:
    m = out.result.model
    if output is not None:
        return _("wrote {path}: accept ≥ {accept}, review ≥ {review}").format(
            path=output, accept=f"{m.accept:.3f}", review=f"{m.review:.3f}")
    if out.shipped:
        return _("the workspace {ws} uses the shipped model").format(ws=ws.location if ws else "")
    return _("the workspace {ws} now uses this model (fit {id}): accept ≥ {accept}, review ≥ {review}").format(
        ws=ws.location if ws else "", id=out.stored.id if out.stored else "", accept=f"{m.accept:.3f}",
        review=f"{m.review:.3f}")


def reset(ws: Workspace, reviewer: str = "") -> ModelRecord:
    """Back to the shipped model (recorded)."""
    return store_model(ws, None, decisions=len(ws.learned_links()), reviewer=reviewer)


def history_lines(ws: Workspace) -> list[str]:
    """The workspace's fits and resets, oldest first, one line each."""
    out = []
    for rec in model_history(ws):
        if rec.reset:
            what = _("back to the shipped model")
        else:
            what = _("fitted on {on} ({adopted})").format(
                on=rec.fitted_on, adopted=_("decisions adopted") if rec.adopted else _("decisions not adopted"))
        out.append(f"{rec.id}  {rec.at}  {rec.reviewer}  {what}")
    return out or [_("the workspace has never been calibrated: it uses the shipped model")]
