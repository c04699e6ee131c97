"""The fitted model: the ranker's weights, the decision model's calibration curve and the decision
thresholds, as `indicode calibrate` writes them (`calibration.fit`), with the two scores they give."""
from __future__ import annotations

import functools
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .features import FIXED_WEIGHTS

MODEL_PATH = Path(__file__).parent / "data" / "model.json"
# the labelled links the shipped model is fitted on (the three shared files, `scripts/shipped_links.py`)
LINKS_PATH = Path(__file__).parent / "data" / "links.csv"


@dataclass
class ScoreModel:
    """Ranker weights, calibration curve and decision thresholds (written by `indicode calibrate`)."""

    weights: dict[str, float]
    bias: float
    calib_a: float  # calibrated = sigmoid(calib_a·raw + calib_m·margin + calib_b)  (Platt scaling, with
    calib_b: float  # the margin over the best other candidate as a second confidence signal)
    calib_m: float
    accept: float
    review: float
    fitted_on: str = ""
    calib_p: float = 0.0  # + calib_p·partial: the suggestion names an object the query only partly has
    use_fixed: bool = True  # apply the domain-set weights (off for the single-signal baselines)
    decide: dict[str, float] = field(default_factory=dict)  # + Σ decide[f]·feature f of the candidate
    # + Σ learned_decide[f]·learned feature f, for review or no match only (`Linker._with_learned`)
    learned_decide: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> ScoreModel:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))

    def save(self, path: Path = MODEL_PATH) -> None:
        Path(path).write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")

    def raw(self, feats: dict[str, float]) -> float:
        w = self.effective_weights
        return self.bias + sum(w.get(k, 0.0) * v for k, v in feats.items() if v)  # zero features add nothing

    @functools.cached_property
    def effective_weights(self) -> dict[str, float]:
        """Fitted weights with the domain-set ones (merged once, not per candidate)."""
        return {**self.weights, **FIXED_WEIGHTS} if self.use_fixed else dict(self.weights)

    def calibrated(self, raw: float, margin: float, partial: float = 0.0,
                   feats: dict[str, float] | None = None) -> float:
        """The chance a candidate is right, from its ranker score, its margin over the best other
        candidate (negative below the top), its match type and the decision model's own features."""
        z = self.calib_a * raw + self.calib_m * margin + self.calib_p * partial + self.calib_b
        if feats:
            z += sum(w * feats.get(k, 0.0) for k, w in self.decide.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def with_learned(self, score: float, feats: dict[str, float]) -> float:
        """The chance a top is right given also the reviewers' decisions on other texts (`score`:
        on the catalogue evidence alone); `score` itself when they say nothing."""
        dz = sum(w * feats.get(k, 0.0) for k, w in self.learned_decide.items())
        if not dz:
            return score
        p = min(max(score, 1e-9), 1 - 1e-9)
        z = math.log(p / (1 - p)) + dz
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))
