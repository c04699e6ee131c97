"""How well the class is read from the text: the class model (`matcher/classify.py`) on the labelled
rows that give a class, cross-validated by source (each source's rows classified by a model fitted on
the catalogue's names and the other sources' rows), beside a majority-class baseline and the class
words alone.

    python scripts/class_eval.py tests/data/gold_dev.csv tests/data/gold_external.csv tests/data/gold_external2.csv
    python scripts/class_eval.py GOLD.csv… --write     # then fit on all of them: matcher/data/classes.json

Prints accuracy at level 2 and at level 1, overall and per file, and the commonest confusions.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from indicode.catalogue.classes import LEVEL2
from indicode.catalogue.records import InputError
from indicode.matcher.classify import CLASS_WORDS, CLASSES_PATH, Example, catalogue_examples, fit
from indicode.matcher.gold import read_gold, source_group
from indicode.matcher.linker import Linker


def words_only(canon: str) -> str:
    """The baseline of class words alone: the first class whose word the text has, else 11."""
    return next((k for k, ws in CLASS_WORDS.items() if any(w in canon for w in ws)), "11")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold", nargs="+", type=Path)
    ap.add_argument("--write", action="store_true", help=f"fit on every row and write {CLASSES_PATH.name}")
    args = ap.parse_args()
    files = {f: [g for g in read_gold(f) if g.level2 in LEVEL2] for f in args.gold}
    rows = [(f, g) for f, gs in files.items() for g in gs]
    if not rows:
        raise InputError(f"{args.gold[0]}: no labelled row gives a level-2 class")
    linker = Linker.default()
    canon = linker.canon
    catalogue = catalogue_examples(linker.cat.entries.values())
    groups = [source_group(g.source) for _, g in rows]
    predicted: list[str] = [""] * len(rows)
    for key in sorted(set(groups)):
        train = catalogue + [Example(g.name, g.value, g.level2)
                             for (_, g), k in zip(rows, groups, strict=True) if k != key]
        model = fit(train, canon)
        for i, ((_, g), k) in enumerate(zip(rows, groups, strict=True)):
            if k == key:
                predicted[i] = model.infer(canon(g.name), linker.make_query(g.name, "", g.value).kind)
    majority = Counter(g.level2 for _, g in rows).most_common(1)[0][0]

    def figures(sel: list[int]) -> dict:
        n = len(sel)
        return {"rows": n,
                "inferred": round(sum(predicted[i] == rows[i][1].level2 for i in sel) / n, 3),
                "inferred_level1": round(sum(predicted[i][0] == rows[i][1].level2[0] for i in sel) / n, 3),
                f"majority ({majority})": round(sum(rows[i][1].level2 == majority for i in sel) / n, 3),
                "class words alone": round(sum(words_only(canon(rows[i][1].name)) == rows[i][1].level2
                                               for i in sel) / n, 3)}

    out: dict = {"folds": "by source", "all": figures(list(range(len(rows))))}
    for f in files:
        out[str(f)] = figures([i for i, (ff, _) in enumerate(rows) if ff == f])
    confusions = Counter((rows[i][1].level2, predicted[i]) for i in range(len(rows))
                         if predicted[i] != rows[i][1].level2)
    out["commonest confusions (given -> inferred)"] = [f"{a} -> {b}: {n}" for (a, b), n in confusions.most_common(8)]
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.write:
        model = fit(catalogue + [Example(g.name, g.value, g.level2) for _, g in rows], canon,
                    fitted_on="catalogue + " + " ".join(map(str, args.gold)))
        model.save()
        print(f"wrote {CLASSES_PATH}")


if __name__ == "__main__":
    try:
        main()
    except InputError as exc:
        raise SystemExit(f"error: {exc}") from None
