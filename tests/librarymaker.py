"""A generated provincial indicator library: a table of one code a row, as a finance system exports it.
Used by tests/test_library_import.py and scripts/bench_import.py.

The real library (on the order of 10^5 codes) is not public; this stands in for it, built from the
vocabulary of the bundled seed documents so that its names read like real indicators and the matcher
meets the names it meets in a real library:
- **names**: every indicator row of the five seeds (coded or not, 594 rows) is cleaned and split into
  an object part and a measure head (`matcher.features.measure_heads`, learned from the seeds' own
  names: 任务按时完成率 → 任务 + 按时完成率); a generated name is an optional qualifier (市级, 街道, 年度 …),
  one or two object parts of any seed name and a measure head seen in the chosen class (objects ×
  measures), e.g. 街道 + 档案数字化 + 验收合格率;
- **classes**: spread like the seeds' rows over the tree (11 24%, 12 21%, 13 18%, 22 18%, 31 12% …),
  every one of the 13 level-2 classes at least a little; the class cells are written `1-产出指标` /
  `11-数量指标`, or (one row in ten) the bare level-2 name `数量指标`;
- **codes**: level-1 digit + level-2 digits + a 6-digit serial, serials unique over the library and
  spread up to 190000 (as the documents' codes are);
- **units** by the kind of measure the name says (`matcher.text.name_kind`): % for rates, the count
  word for counts (次数 → 次, 人数 → 人, else 个/件/项), 天 for durations, 万元 for money, 是/否 for
  yes/no; an explanation `反映…情况。` and a scoring standard by kind;
- **disabled**: about 3% of the codes, written 否, 停用 or 0 (the others 是, 启用 or empty);
- **bad rows**, a few of each kind the import refuses or reports (`BAD_KINDS`), placed at random:
  a code of 8 or 10 digits, class cells the code's digits contradict, an empty name, an exact
  duplicate row, and a second name for a code already listed (kept as a spelling, reported).

`make_library(path, rows, seed)` writes .xlsx, .csv (UTF-8 with BOM, or GBK with `encoding="gbk"`) or
.xls, and returns what the import should find (`Expected`).
"""
from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "catalogue" / "data" / "seeds"
HEADERS = ["指标编码", "一级指标", "二级指标", "指标名称", "计量单位", "指标解释", "评分标准", "是否启用"]
# the same columns as another system names them: spaces, full-width brackets, 三级指标 as the name
VARIANT_HEADERS = ["编 码", "一级指标", "二级指标", "三级指标（指标名称）", "单位（计量）", "指标说明", "评分标准",
                   "状态"]
QUALIFIERS = ["", "", "", "", "市级", "区级", "街道", "年度", "全市", "重点", "农村", "城区", "社区", "专项", "日常"]
BAD_KINDS = ("short-code", "class-contradicts", "empty-name", "duplicate", "second-name")
MAX_SERIAL = 190_000


@dataclass
class Expected:
    """What importing the generated library must give."""

    rows: int  # data rows written (bad ones included)
    imported: int  # rows imported (the second names included)
    codes: int  # distinct codes imported
    refused: dict[str, list[int]] = field(default_factory=dict)  # bad kind -> its rows (1-based, header is row 1)
    second_names: list[int] = field(default_factory=list)  # rows naming a code a second time
    disabled: list[str] = field(default_factory=list)  # codes written disabled
    enabled: list[tuple[str, str]] = field(default_factory=list)  # (code, name) of enabled codes, in row order
    units: dict[str, str] = field(default_factory=dict)  # code -> unit written
    explanations: dict[str, str] = field(default_factory=dict)


def vocabulary() -> tuple[dict[str, list[str]], list[str], dict[str, int]]:
    """(level-2 class -> measure heads seen in it, object parts, class -> rows of the seeds in it)."""
    from indicode.catalogue.classes import LEVEL2
    from indicode.catalogue.readers.detect import read_document
    from indicode.matcher.features import measure_heads
    from indicode.matcher.text import Canon, clean

    rows = [r for p in sorted(SEEDS.glob("*.txt")) for r in read_document(p).rows]
    canon = Canon()
    named = [(clean(r.name), r.level2 or (r.code[1:3] if len(r.code) == 9 else "")) for r in rows]
    named = [(n, l2) for n, l2 in named if len(n) >= 3]
    heads = measure_heads([canon(n) for n, _ in named])
    by_class: dict[str, set[str]] = {k: set() for k in LEVEL2}
    objects: set[str] = set()
    weight = dict.fromkeys(LEVEL2, 2)  # every class of the tree at least a little
    for n, l2 in named:
        h = heads.get(canon(n), n[-2:])
        h = h if n.endswith(h) and len(h) < len(n) else n[-2:]
        if l2 in by_class:
            by_class[l2].add(h)
            weight[l2] += 1
        if len(n) - len(h) >= 2:
            objects.add(n[: len(n) - len(h)])
    generic = {"11": "完成数", "12": "合格率", "13": "及时率", "14": "成本控制率", "21": "经济效益", "22": "覆盖率",
               "23": "达标率", "24": "长效机制", "31": "满意度", "32": "满意度", "41": "成本节约率",
               "42": "社会成本", "43": "生态环境成本"}
    for k, hs in by_class.items():
        hs.add(generic[k])
    return {k: sorted(v) for k, v in by_class.items()}, sorted(objects), weight


def unit_of(name: str, rng: random.Random) -> str:
    from indicode.matcher.text import COUNT, DURATION, MONEY, RATE, YESNO, name_kind

    kind = name_kind(name)
    if kind == RATE:
        return "%"
    if kind == COUNT:
        for word, unit in (("次数", "次"), ("人数", "人"), ("人次", "人次"), ("份数", "份"), ("件数", "件"),
                           ("面积", "平方米")):
            if name.endswith(word):
                return unit
        return rng.choice(["个", "件", "项", "次"])
    if kind == DURATION:
        return "天"
    if kind == MONEY:
        return "万元"
    if kind == YESNO:
        return "是/否"
    return rng.choice(["", "%", "项"])


def standard_of(unit: str) -> str:
    if unit == "%":
        return "达到目标值得满分，每低1个百分点扣0.5分，扣完为止"
    if unit in ("天",):
        return "按期完成得满分，每超期1天扣1分"
    return "完成目标值得满分，未完成按完成比例计分"


def library_rows(n: int, seed: int = 0, disabled_share: float = 0.03,
                 bad_each: int = 2) -> tuple[list[list[str]], Expected]:
    """`n` data rows (bad ones among them: `bad_each` of each of BAD_KINDS) and what they should give."""
    from indicode.catalogue.classes import LEVEL1, LEVEL2

    rng = random.Random(seed)
    heads, objects, weight = vocabulary()
    classes = sorted(weight)
    good = n - bad_each * len(BAD_KINDS)
    if good < 1:
        raise ValueError(f"{n} rows cannot hold {bad_each} bad rows of each kind")
    serials = sorted(rng.sample(range(1, MAX_SERIAL + 1), good + bad_each * 2))
    picks = rng.choices(classes, weights=[weight[k] for k in classes], k=len(serials))
    rows: list[list[str]] = []
    exp = Expected(rows=n, imported=0, codes=0)
    for serial, l2 in zip(serials[:good], picks[:good], strict=True):
        name = rng.choice(QUALIFIERS) + ("" if rng.random() > 0.3 else rng.choice(objects)) + rng.choice(objects) \
            + rng.choice(heads[l2])
        code = f"{l2[0]}{l2}{serial:06d}"
        unit = unit_of(name, rng)
        off = rng.random() < disabled_share
        bare = rng.random() < 0.1
        c1 = "" if bare else f"{l2[0]}-{LEVEL1[l2[0]]}"
        c2 = LEVEL2[l2] if bare else f"{l2}-{LEVEL2[l2]}"
        state = rng.choice(["否", "停用", "0"]) if off else rng.choice(["是", "是", "启用", ""])
        explanation = f"反映{name}情况。"
        rows.append([code, c1, c2, name, unit, explanation, standard_of(unit), state])
        (exp.disabled.append(code) if off else exp.enabled.append((code, name)))
        exp.units[code], exp.explanations[code] = unit, explanation
    exp.imported = exp.codes = len(rows)
    # the bad rows: each kind made from a good row's shape, placed at random among the good ones
    spare = iter(serials[good:])
    originals = iter(rng.sample(range(len(rows)), min(len(rows), bad_each * len(BAD_KINDS))))
    bad: list[tuple[str, list[str]]] = []
    for kind in BAD_KINDS:
        for _ in range(bad_each):
            r = list(rows[next(originals)])  # a different good row for each (two second names would be one)
            if kind == "short-code":
                r[0] = r[0][:8] if rng.random() < 0.5 else r[0] + "4"
            elif kind == "class-contradicts":
                l2 = rng.choice([k for k in LEVEL2 if k[0] != r[0][0]])
                r[0] = f"{r[0][:3]}{next(spare):06d}"
                r[1], r[2] = f"{l2[0]}-{LEVEL1[l2[0]]}", f"{l2}-{LEVEL2[l2]}"
            elif kind == "empty-name":
                r[0], r[3] = f"{r[0][:3]}{next(spare):06d}", ""
            elif kind == "second-name":
                r[3] = r[3] + "（情况）"
            bad.append((kind, r))
    for kind, r in bad:
        at = rng.randrange(1, len(rows) + 1)  # never before the first row (a duplicate follows its original)
        if kind in ("duplicate", "second-name"):
            original = next(i for i, row in enumerate(rows) if row[0] == r[0])
            at = rng.randrange(original + 1, len(rows) + 1)
        rows.insert(at, [*r, f"#{kind}"])  # the tag is stripped below; it finds the row's place
    for i, r in enumerate(rows):
        if len(r) > len(HEADERS):
            kind = r.pop()[1:]
            if kind == "second-name":
                exp.second_names.append(i + 2)
                exp.imported += 1
                if r[0] in exp.disabled:
                    continue
                exp.enabled.append((r[0], r[3]))
            else:
                exp.refused.setdefault(kind, []).append(i + 2)
    return rows, exp


def write_table(path: Path, rows: list[list[str]], headers: list[str] = HEADERS, encoding: str = "utf-8-sig",
                title: str = "") -> Path:
    """Write the header and rows as .xlsx (text cells, as exports hold codes), .xls or .csv; a title
    row above the header when given."""
    path = Path(path)
    table = ([[title]] if title else []) + [headers] + rows
    if path.suffix == ".csv":
        with open(path, "w", encoding=encoding, newline="") as fh:
            csv.writer(fh).writerows(table)
    elif path.suffix == ".xlsx":
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
        ws = wb.add_worksheet("指标库")
        for i, r in enumerate(table):
            for j, v in enumerate(r):
                ws.write_string(i, j, v)
        wb.close()
    elif path.suffix == ".xls":
        import xlwt

        wb = xlwt.Workbook(encoding="utf-8")
        ws = wb.add_sheet("指标库")
        for i, r in enumerate(table):
            for j, v in enumerate(r):
                ws.write(i, j, v)
        wb.save(str(path))
    else:
        raise ValueError(f"{path}: write .xlsx, .xls or .csv")
    return path


def make_library(path: Path, n: int, seed: int = 0, headers: list[str] = HEADERS, encoding: str = "utf-8-sig",
                 bad_each: int = 2, title: str = "") -> Expected:
    """Generate `n` rows, write them to `path`, return what importing them must give (row numbers
    count the title row when there is one)."""
    rows, exp = library_rows(n, seed, bad_each=bad_each)
    write_table(path, rows, headers, encoding, title)
    if title:
        exp.refused = {k: [r + 1 for r in v] for k, v in exp.refused.items()}
        exp.second_names = [r + 1 for r in exp.second_names]
    return exp
