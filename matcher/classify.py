"""The level-2 class of an indicator from its text, for rows whose document gives none.

A multinomial logistic model (numpy, L2, Adam steps) over the text's characters and character pairs
(canonical spelling, `text.Canon`), its last one and two characters (where the measure sits), its
kind of measure (`text.kind_of`: a count, a rate, a time …) and the class words of DOMAIN.md
(`CLASS_WORDS`: 数量, 质量, 时效, 成本, 经济, 社会, 生态, 可持续, 满意 and their general-Chinese
neighbours). It is fitted on the catalogue's own names, labelled by their code digits, and on
labelled rows that give a class; the catalogue alone has no code in classes 14, 21, 24, 32 or 41,
which the class words and the labelled rows supply. `scripts/class_eval.py` measures it by source
beside a majority-class baseline and writes `data/classes.json`.

A row that gives only its level-1 class gets the most likely level-2 class under it: an inferred
class never contradicts a class the row gives.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..catalogue.classes import LEVEL1, LEVEL2
from .text import clean, kind_of

CLASSES_PATH = Path(__file__).parent / "data" / "classes.json"
CLASSES = sorted(LEVEL2)

# The class names of DOMAIN.md's table and the words general Chinese uses for each measure; a word
# may point to more than one class (成本 is 14 in older forms, 41 in newer ones).
CLASS_WORDS: dict[str, tuple[str, ...]] = {
    "11": ("数量", "人数", "次数", "个数", "面积", "人次", "场次", "批次", "户数", "件数", "份数"),
    "12": ("质量", "合格", "达标", "准确", "合规", "完好", "通过率", "规范", "成活率", "标准"),
    "13": ("时效", "及时", "按时", "按期", "时限", "时间", "期限", "进度", "周期", "响应"),
    "14": ("成本", "费用", "经费", "预算", "投资", "节约", "金额", "价格", "造价", "资金", "万元", "投入"),
    "21": ("经济", "收入", "产值", "增收", "效益", "利润", "增产", "产业"),
    "22": ("社会", "群众", "公众", "保障", "正常运行", "覆盖", "提升", "促进", "知晓", "民生"),
    "23": ("生态", "环境", "绿化", "排放", "节能", "污染", "水质", "空气", "卫生", "整洁", "能耗"),
    "24": ("可持续", "长效", "长期", "持续", "年限", "维持", "机制"),
    "31": ("满意",),
    "32": ("满意",),
    "41": ("成本", "经费"),
}
WORD_WEIGHT = 6.0  # a class word counts as much as six characters (3 did worse by source: docs/accuracy.md)
L2 = 3.0  # by source over the three labelled files, 3 did better than 1 (docs/accuracy.md)
STEPS = 400


def features(canon: str, kind: str, plain: str = "") -> dict[str, float]:
    """The model's inputs for a text in its canonical spelling and its kind of measure; `plain` is
    the text as `text.clean` leaves it, where the class words are looked for too (the canonical
    spelling folds 完好 into 正常运行, a quality word into a social-benefit one)."""
    f: dict[str, float] = {"u" + ch: 1.0 for ch in canon}
    f.update({"b" + a + b: 1.0 for a, b in zip(canon, canon[1:], strict=False)})
    f["kind:" + kind] = 1.0
    if canon:
        f["end:" + canon[-2:]] = 1.0
        f["end1:" + canon[-1]] = 1.0
    for klass, words in CLASS_WORDS.items():
        if any(w in canon or w in plain for w in words):
            f["w" + klass] = WORD_WEIGHT
    return f


@dataclass(frozen=True)
class Example:
    """A text with its class: a catalogue name (its code's digits) or a labelled row."""

    text: str
    value: str
    level2: str


@dataclass(frozen=True)
class Guess:
    """An inferred class with the model's probability for it: by source, the labelled rows guessed at
    0.8 or more were right 88% of the time, those under 0.5 48% (docs/accuracy.md)."""

    level2: str
    probability: float


@dataclass
class ClassModel:
    """Weights per feature and class (`CLASSES` order) and a bias per class."""

    weights: dict[str, list[float]]
    bias: list[float]
    fitted_on: str = ""

    @classmethod
    def load(cls, path: Path = CLASSES_PATH) -> ClassModel:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))

    def save(self, path: Path = CLASSES_PATH) -> None:
        Path(path).write_text(json.dumps({"weights": self.weights, "bias": self.bias, "fitted_on": self.fitted_on},
                                         ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    def scores(self, f: dict[str, float]) -> np.ndarray:
        z = np.array(self.bias, dtype=float)
        for k, v in f.items():
            w = self.weights.get(k)
            if w is not None:
                z += v * np.asarray(w)
        return z

    def guess(self, canon: str, kind: str, given: str = "", plain: str = "") -> Guess:
        """The most likely level-2 class and its probability; under `given` when the row gives its
        level-1 class only (the probability then among that class's level-2 classes)."""
        z = self.scores(features(canon, kind, plain))
        allowed = [i for i, c in enumerate(CLASSES) if given not in LEVEL1 or c[0] == given]
        p = np.exp(z[allowed] - z[allowed].max())
        best = int(np.argmax(p))
        return Guess(CLASSES[allowed[best]], float(p[best] / p.sum()))

    def infer(self, canon: str, kind: str, given: str = "", plain: str = "") -> str:
        """The most likely level-2 class (`guess` without its probability)."""
        return self.guess(canon, kind, given, plain).level2


def fit(examples: Iterable[Example], canon: Callable[[str], str], fitted_on: str = "") -> ClassModel:
    """The class model fitted on examples (L2 = `L2`, `STEPS` Adam steps from zero: deterministic)."""
    rows = [(features(canon(e.text), kind_of(e.text, e.value), clean(e.text)), CLASSES.index(e.level2))
            for e in examples if e.level2 in LEVEL2]
    vocab: dict[str, int] = {}
    for f, _ in rows:
        for k in f:
            vocab.setdefault(k, len(vocab))
    X = np.zeros((len(rows), len(vocab) + 1))
    X[:, -1] = 1.0
    Y = np.zeros((len(rows), len(CLASSES)))
    for i, (f, y) in enumerate(rows):
        for k, v in f.items():
            X[i, vocab[k]] = v
        Y[i, y] = 1.0
    W = _adam(X, Y)
    weights = {k: [round(float(x), 4) for x in W[j]] for k, j in vocab.items() if np.abs(W[j]).max() >= 1e-3}
    return ClassModel(weights, [round(float(x), 4) for x in W[-1]], fitted_on)


def _adam(X: np.ndarray, Y: np.ndarray, lr: float = 0.05) -> np.ndarray:
    """Multinomial logistic weights (features × classes, the last row the bias, not shrunk)."""
    W = np.zeros((X.shape[1], Y.shape[1]))
    m, v = np.zeros_like(W), np.zeros_like(W)
    reg = np.full((X.shape[1], 1), L2)
    reg[-1] = 0.0
    for t in range(1, STEPS + 1):
        Z = X @ W
        Z -= Z.max(1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(1, keepdims=True)
        G = X.T @ (P - Y) + reg * W
        m = 0.9 * m + 0.1 * G
        v = 0.999 * v + 0.001 * G * G
        W -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return W


def catalogue_examples(entries) -> list[Example]:
    """Every spelling of every catalogue code, labelled by the code's level-2 digits."""
    return [Example(n, "", e.level2) for e in entries for n in e.names if e.level2 in LEVEL2]
