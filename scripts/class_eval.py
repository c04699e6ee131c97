"""How well the class is read from the text: the class model (`matcher/classify.py`) on the labelled
rows that give a class, cross-validated by source (each source's rows classified by a model fitted on
the catalogue's names and the other sources' rows: a held-out source's rows are never in its fit),
beside a majority-class baseline and the class words alone, and by the model's own probability.

    python scripts/class_eval.py tests/data/gold_dev.csv tests/data/gold_external.csv tests/data/gold_external2.csv
    python scripts/class_eval.py GOLD.csv… --write     # then fit on all of them: matcher/data/classes.json

Prints accuracy at level 2 and at level 1, overall and per file, accuracy on the rows guessed with
probability ≥ CONFIDENT (and their share), accuracy per probability band, and the commonest confusions.
The rows are guessed without their class (`inferred`), and again with only its level-1 digit given
(`inferred, level 1 given`: what a row that gives its level-1 class only gets, `ClassModel.guess`
keeping to that class).
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from indicode.catalogue.classes import LEVEL2
from indicode.catalogue.records import InputError
from indicode.matcher.classify import CLASS_WORDS, CLASSES_PATH, Example, Guess, catalogue_examples, fit
from indicode.matcher.gold import GoldRow, read_gold, source_group
from indicode.matcher.linker import Linker
from indicode.matcher.text import clean

CONFIDENT = 0.8
BANDS = ((0.0, 0.5), (0.5, 0.8), (0.8, 1.01))


def words_only(canon: str, plain: str) -> str:
    """The baseline of class words alone: the first class whose word the text has, else 11."""
    return next((k for k, ws in CLASS_WORDS.items() if any(w in canon or w in plain for w in ws)), "11")


def by_source(rows: list[GoldRow], linker: Linker) -> tuple[list[Guess], list[Guess]]:
    """Each row's class guessed by a model fitted on the catalogue and the other sources' rows:
    without its class, and with its level-1 digit given (the same fit)."""
    canon = linker.canon
    catalogue = catalogue_examples(linker.cat.entries.values())
    groups = [source_group(g.source) for g in rows]
    guessed: list[Guess] = [Guess("", 0.0)] * len(rows)
    under: list[Guess] = list(guessed)
    for key in sorted(set(groups)):
        model = fit(catalogue + [Example(g.name, g.value, g.level2) for g, k in zip(rows, groups, strict=True)
                                 if k != key], canon)
        for i, (g, k) in enumerate(zip(rows, groups, strict=True)):
            if k == key:
                kind = linker.make_query(g.name, "", g.value).kind
                guessed[i] = model.guess(canon(g.name), kind, plain=clean(g.name))
                under[i] = model.guess(canon(g.name), kind, g.level2[0], clean(g.name))
    return guessed, under


def figures(rows: list[GoldRow], guesses: tuple[list[Guess], list[Guess]], sel: list[int], majority: str,
            canon) -> dict:
    guessed, under = guesses
    n = len(sel)
    right = [guessed[i].level2 == rows[i].level2 for i in sel]
    sure = [r for i, r in zip(sel, right, strict=True) if guessed[i].probability >= CONFIDENT]
    return {"rows": n,
            "inferred": round(sum(right) / n, 3),
            "inferred_level1": round(sum(guessed[i].level2[0] == rows[i].level2[0] for i in sel) / n, 3),
            "inferred, level 1 given": round(sum(under[i].level2 == rows[i].level2 for i in sel) / n, 3),
            f"majority ({majority})": round(sum(rows[i].level2 == majority for i in sel) / n, 3),
            "class words alone": round(sum(words_only(canon(rows[i].name), clean(rows[i].name)) == rows[i].level2
                                           for i in sel) / n, 3),
            f"share guessed at p >= {CONFIDENT}": round(len(sure) / n, 3),
            f"inferred, p >= {CONFIDENT}": round(sum(sure) / len(sure), 3) if sure else None}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold", nargs="+", type=Path)
    ap.add_argument("--write", action="store_true", help=f"fit on every row and write {CLASSES_PATH.name}")
    args = ap.parse_args()
    files = {f: [g for g in read_gold(f) if g.level2 in LEVEL2] for f in args.gold}
    rows = [g for gs in files.values() for g in gs]
    of_file = [f for f, gs in files.items() for _ in gs]
    if not rows:
        raise InputError(f"{args.gold[0]}: no labelled row gives a level-2 class")
    linker = Linker.default()
    guesses = by_source(rows, linker)
    guessed = guesses[0]
    majority = Counter(g.level2 for g in rows).most_common(1)[0][0]
    out: dict = {"folds": "by source",
                 "all": figures(rows, guesses, list(range(len(rows))), majority, linker.canon)}
    for f in files:
        out[str(f)] = figures(rows, guesses, [i for i, ff in enumerate(of_file) if ff == f], majority, linker.canon)
    bands = {}
    for lo, hi in BANDS:
        sel = [i for i, g in enumerate(guessed) if lo <= g.probability < hi]
        bands[f"p in [{lo}, {min(hi, 1.0)}]"] = {
            "rows": len(sel), "right": round(sum(guessed[i].level2 == rows[i].level2 for i in sel) / len(sel), 3)
            if sel else None}
    out["by probability"] = bands
    confusions = Counter((g.level2, p.level2) for g, p in zip(rows, guessed, strict=True) if p.level2 != g.level2)
    out["commonest confusions (given -> inferred)"] = [f"{a} -> {b}: {n}" for (a, b), n in confusions.most_common(8)]
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.write:
        labelled = [Example(g.name, g.value, g.level2) for g in rows]
        model = fit(catalogue_examples(linker.cat.entries.values()) + labelled, linker.canon,
                    fitted_on="catalogue + " + " ".join(map(str, args.gold)))
        model.save()
        print(f"wrote {CLASSES_PATH}")


if __name__ == "__main__":
    try:
        main()
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
