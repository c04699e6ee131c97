"""The workspace's own model: what `indicode calibrate` fitted on the shipped links (or the labelled
files given) plus the workspace's decisions, kept in the workspace (table `models`), so that every
Linker opened with the workspace uses it and one without a workspace keeps the shipped model.

Each fit and each reset (`indicode calibrate --reset`: the shipped model again) is a row, never changed
or removed: the latest row is the model in use, and the rows are the history (`indicode calibrate
--history`). The model is stored whole (a `ScoreModel` as JSON), so a workspace on PostgreSQL serves
the same model to every server.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from ..matcher.model import ScoreModel
from .workspace import Workspace, now


@dataclass(frozen=True)
class ModelRecord:
    """One fit or reset: the model (None: the shipped one), what it was fitted on, whether the
    decisions were adopted, the cross-validation figures before and after, who and when."""

    id: int
    model: ScoreModel | None
    fitted_on: str
    adopted: bool
    figures: dict
    decisions: int  # decisions in force when it was fitted
    reviewer: str
    at: str

    @property
    def reset(self) -> bool:
        return self.model is None


def store_model(ws: Workspace, model: ScoreModel | None, *, adopted: bool = False, figures: dict | None = None,
                decisions: int = 0, reviewer: str = "") -> ModelRecord:
    """Record `model` as the workspace's model from now on (None: back to the shipped model)."""
    text = json.dumps(asdict(model), ensure_ascii=False) if model is not None else ""
    at = now()
    with ws.backend.transaction(write=True) as tx:
        rid = tx.insert("INSERT INTO models (model, fitted_on, adopted, figures, decisions, reviewer, at) "
                        "VALUES (?,?,?,?,?,?,?)",
                        (text, model.fitted_on if model else "", int(adopted), json.dumps(figures or {}),
                         int(decisions), reviewer, at))
    return ModelRecord(rid, model, model.fitted_on if model else "", adopted, figures or {}, decisions, reviewer, at)


def _record(row) -> ModelRecord:
    rid, text, fitted_on, adopted, figures, decisions, reviewer, at = row
    model = ScoreModel(**json.loads(text)) if text else None
    return ModelRecord(int(rid), model, fitted_on, bool(adopted), json.loads(figures or "{}"), int(decisions),
                       reviewer, at)


_COLUMNS = "id, model, fitted_on, adopted, figures, decisions, reviewer, at"


def model_history(ws: Workspace) -> list[ModelRecord]:
    """Every fit and reset, oldest first."""
    with ws.backend.transaction() as tx:
        return [_record(r) for r in tx.execute(f"SELECT {_COLUMNS} FROM models ORDER BY id")]


def model_in_use(ws: Workspace) -> ScoreModel | None:
    """The workspace's model, or None for the shipped one (never calibrated, or reset)."""
    with ws.backend.transaction() as tx:
        rows = tx.execute(f"SELECT {_COLUMNS} FROM models ORDER BY id DESC LIMIT 1")
    return _record(rows[0]).model if rows else None
