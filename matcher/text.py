"""Text signals for matching indicator names: normalisation, synonym variants, kind of measure.

Everything here comes from general Chinese, DOMAIN.md, or the catalogue itself, never from the
labelled links:
- width/punctuation/unit noise is removed (`群众满意度(%)`, `（件）`, `（100%）`), and so is the
  **scope** a code name states in brackets (`补助对象（人员、企业、特定群体等）数`): a list closed by 等
  ("and the like"), kept apart by `scope_of` as the instances the generic name stands for;
- synonym variants are folded to one spelling; the built-in table holds the variants DOMAIN.md names
  (及时率/按时完成率, 运作/运转, 验收通过率/验收合格率) and their general-Chinese siblings
  (按期/准时 = 按时, 满意率 = 满意度, 及时性 = 及时率), head-word variants of general Chinese
  (办结/完工 = 完成, 可使用/正常使用/无故障运行 = 正常运行), object words of general Chinese (救助/补贴/
  资助 = 补助, 人数 = 人员数, 购置 = 采购, the public's names before 满意 = 群众), and `learn_variants`
  adds the character substitutions seen between a code's own spellings in the catalogue;
- the kind of measure (rate, count, time, yes/no, money) is read from the name's head word and
  from the target value, since a rate is never the same indicator as a count.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..catalogue.textio import fold

MAX_TEXT = 200  # characters of an indicator text: a longer query is matched by its first MAX_TEXT (flagged `cut`)

# (variant, canonical): applied in order, longest first, to both query and catalogue names
BUILTIN_VARIANTS: list[tuple[str, str]] = [
    ("按时完成率", "完成及时率"), ("按期完成率", "完成及时率"), ("准时完成率", "完成及时率"),
    ("及时完成率", "完成及时率"), ("完成及时性", "完成及时率"), ("及时性", "及时率"), ("准时率", "及时率"),
    # "done on time" without the rate (按期完工, 按时办结): the same head before 率
    # (达标完成率 = 达标率 was tried and left out: it makes the generic 任务达标完成率 the head of every
    # …达标率, e.g. 设备完好达标率, and accepted such guesses out-of-fold)
    ("按时完成", "完成及时"), ("按期完成", "完成及时"), ("准时完成", "完成及时"), ("及时完成", "完成及时"),
    ("办结", "完成"), ("完工", "完成"),
    # done before a deadline is done on time (12月底之前完成, 提前完成): general Chinese
    ("提前完成", "完成及时"), ("之前完成", "完成及时"), ("以前完成", "完成及时"), ("前完成", "完成及时"),
    ("无故障运行", "正常运行"), ("正常使用", "正常运行"), ("可使用", "正常运行"), ("完好", "正常运行"),
    ("通过率", "合格率"), ("满意率", "满意度"), ("满意程度", "满意度"),
    ("运作", "运行"), ("运转", "运行"),
    ("数量", "数"), ("个数", "数"),
    # "the public" in general Chinese, as the object of a satisfaction measure: 社会公众/公众/社会/
    # 市民/居民/人民群众 满意度 are all 群众满意度 (only before 满意: 社会效益 is not 群众效益)
    ("社会公众满意", "群众满意"), ("人民群众满意", "群众满意"), ("公众满意", "群众满意"),
    ("社会满意", "群众满意"), ("市民满意", "群众满意"), ("居民满意", "群众满意"),
    # a unit's own employees: 职工 (workers and staff) is 员工 in general Chinese
    ("职工", "员工"),
    # aid paid to people or firms: 救助/补贴/资助 are 补助 in general Chinese (补助对象 = those aided),
    # and a head count is a count of persons (人数 = 人员数; 人次, person-times, is not folded: 驻场运营
    # 人次数 is not a staff head count, `SCOPE_UNITS` lets it name the persons of a scope list only)
    ("救助", "补助"), ("补贴", "补助"), ("资助", "补助"), ("人数", "人员数"),
    # 低保 (最低生活保障, the minimum living allowance) is social aid (社会救助): its recipients are aided
    ("低保", "补助"),
    # buying for the unit: 购置 (to acquire durable goods, 设备购置) is 采购 (to procure); 购置税 (the
    # vehicle purchase tax) is a tax, not a purchase, and is kept as written
    ("购置税", "购置税"), ("购置", "采购"),
]

# An instance a scope list names may be counted in its own unit: the persons of 补助对象（人员、企业…）
# are counted in 人次 (person-times) as often as in 人数 (临时救助人次数 counts the people aided).
SCOPE_UNITS: dict[str, tuple[str, ...]] = {"人员": ("人次",)}

# Persons named by their work are staff, not the persons a scope list means (those aided, served):
# 救助站工作人员数, 补贴审核人员数 count staff; 临时救助人数 counts people aided. General Chinese: a
# role or a kind of work before 人员, or a word for employees.
STAFF = re.compile(r"(工作|审核|管理|服务|经办|技术|执法|监管|运营|运维|驻场|值班|安保|保洁|后勤|医护|医务|专业|从业|"
                   r"办事|行政|检查|审批|评审|监理|施工|培训|聘用|编外|在岗|窗口)人员|员工|职员|干部|工作者")

_BRACKETED = re.compile(r"[（(][^（）()]{0,12}[)）]")
# a scope: two or more items separated by 、 / ， or 或, closed by 等 (「人员、企业、特定群体等」)
_SCOPE = re.compile(r"[（(]([^（）()]{1,40}?[、/,，或][^（）()]{1,40}?)等[)）]")
_SCOPE_SEP = re.compile(r"[、/,，]|或")
_NOISE = re.compile(r"[\s\"'“”‘’「」《》<>〈〉·•、，,。.;；:：!！?？\-—_/\\|*＊#()\[\]【】]+")


# The version of `clean`: reviewers' decisions are keyed by the text as `clean` leaves it (the
# workspace stores this version with each key), so a change to what `clean` returns must bump it; the
# workspace then re-keys its decisions on purpose. tests/test_workspace_keys.py pins outputs to it.
CLEAN_VERSION = 1


def clean(text: str) -> str:
    """A name without width, punctuation and unit noise: `群众满意度（%）` -> `群众满意度`."""
    t = fold(text)
    stripped = _BRACKETED.sub("", _SCOPE.sub("", t))
    t = stripped if stripped.strip() else t  # keep a name that is only brackets
    return _NOISE.sub("", t)


@dataclass(frozen=True)
class Scope:
    """What a generic code name lists in brackets, and the words around the list:
    `补助对象（人员、企业、特定群体等）数` -> items (人员, 企业, 特定群体), before 补助对象, after 数;
    `完成（专题研究/调查/检查/评估等）报告数` -> before 完成, after 报告数."""

    items: tuple[str, ...] = ()
    before: str = ""  # the name up to the (first) list, as `clean` leaves it
    after: str = ""  # the name after it

    def __bool__(self) -> bool:
        return bool(self.items)


def scope_of(name: str) -> Scope:
    """The scope a code name lists in brackets; an empty `Scope` when it lists none."""
    t = fold(name)
    items: list[str] = []
    first = None
    for m in _SCOPE.finditer(t):
        first = first or m
        items += [_NOISE.sub("", p) for p in _SCOPE_SEP.split(m.group(1))]
    if first is None:
        return Scope()
    return Scope(tuple(p for p in items if p), clean(t[: first.start()]), clean(t[first.end():]))


def learn_variants(spellings: list[list[str]], max_len: int = 2) -> list[tuple[str, str]]:
    """Short substitutions between spellings of one code (`保障机构正常运作` / `…运转` gives 运转→运作)."""
    found: dict[str, str] = {}
    for names in spellings:
        base = clean(names[0])
        for other in names[1:]:
            o = clean(other)
            sm = difflib.SequenceMatcher(a=o, b=base, autojunk=False)
            ops = [op for op in sm.get_opcodes() if op[0] != "equal"]
            if len(ops) == 1 and ops[0][0] == "replace":
                _, i1, i2, j1, j2 = ops[0]
                if i2 - i1 == 1 and j2 - j1 == 1 and i1 > 0:  # one character: keep one of context
                    i1, j1 = i1 - 1, j1 - 1
                if i2 - i1 <= max_len and j2 - j1 <= max_len:
                    found[o[i1:i2]] = base[j1:j2]
    return sorted(found.items())


class Canon:
    """Folds synonym variants to one spelling; built once per catalogue."""

    def __init__(self, extra: Iterable[tuple[str, str]] = ()):
        pairs = dict(BUILTIN_VARIANTS)
        for a, b in extra:
            # a learned pair joins the built-in group of either side
            pairs.setdefault(a, pairs.get(b, b))
        self.pairs = sorted(pairs.items(), key=lambda kv: -len(kv[0]))
        self._re = re.compile("|".join(re.escape(a) for a, _ in self.pairs))
        self._map = dict(self.pairs)

    def __call__(self, text: str, cleaned: bool = False) -> str:
        """Two passes, so that variants compose (按期完工 -> 按期完成 -> 完成及时); `cleaned` says the
        text is already as `clean` leaves it (saves cleaning it twice)."""
        t = text if cleaned else clean(text)
        for _ in range(2):
            t = self._re.sub(lambda m: self._map[m.group(0)], t)
        return t


# ------------------------------------------------------------------ near-identical texts

# What two texts of the same indicator differ in between documents and years (the issue of learning:
# a decision on 2025年度宣传册印刷数量 speaks for 2026年度宣传册印刷数量): document titles, years and
# dates, numbers with their units, and the place the document is about.
_TITLE = re.compile(r"《[^《》]*》")
_DATE = re.compile(r"\d{2,4}\s*(?:年度|年|届)|\d{1,2}\s*(?:月份|月底|月|日|号)|第?[一二三四1-4]\s*季度")
_NUMBER = re.compile(r"[≥≤><=约近超]*\s*\d[\d.,]*\s*(?:万|千|百|亿)?\s*"
                     r"(?:%|‰|元|吨|公斤|千克|平方米|亩|公里|米|小时|分钟|天|[次个件人场份家套条册辆台本篇期项户所批名座间张页处部类幅])?")
_PLACE_WORDS = re.compile(r"全省|全市|全县|全区|全镇|我省|我市|我县|我区|本市|本区|本县|辖区内|辖区|"
                          r"省级|市级|县级|区级|镇级|村级")
# a place name at the start: two to four characters and an administrative unit (海珠区, 鄂州市); 社区,
# 园区, 校区 … are not places of government
_PLACE = re.compile(r"^(?:[\u4e00-\u9fff]{2,4}?(?:省|自治区|市|(?<![社园校景小片辖矿营])区|县|镇|乡|街道))+")
MIN_NEAR = 3  # characters a near key keeps: a shorter one (满意度) would join different indicators


def near_text(text: str) -> str:
    """A text without what changes between documents for the same indicator: titles, years, dates,
    numbers with units, place words and a place name at its start (`2025年度宣传册印刷数量` ->
    `宣传册印刷数量`, `海珠区…`, `《深汕年鉴2024》编纂…`); '' when too little is left."""
    t = _TITLE.sub("", fold(text))
    t = _NUMBER.sub("", _DATE.sub("", t))
    t = _PLACE.sub("", _PLACE_WORDS.sub("", t))
    return t if len(clean(t)) >= MIN_NEAR else ""


# ------------------------------------------------------------------ kind of measure

RATE, COUNT, TIME, DURATION, YESNO, MONEY = "rate", "count", "time", "duration", "yesno", "money"
_COUNT_UNITS = "次个件人场份家套条册辆台本篇期项户所批名座间张页处部类批幅期台次人次平方米亩公里"
_VALUE_DATE = re.compile(r"(\d{4}年|\d+月|日前|月底|年底|年内|季度|工作日|小时|分钟|天内|日内|周内|\d+日|\d+天)")
_VALUE_PCT = re.compile(r"\d\s*%|百分之|\d\s*‰")
_VALUE_COUNT = re.compile(rf"\d[\d,.]*\s*(万|千|百)?\s*[{_COUNT_UNITS}]")
_VALUE_MONEY = re.compile(r"\d[\d,.]*\s*(万元|元|亿元)")


def name_kind(name: str) -> str:
    """Kind of measure from the name's head word; '' when the name does not say (or says it only
    weakly: a name ending in 量 is a count or a rate by its value)."""
    n = clean(name)
    if n.startswith("是否"):
        return YESNO
    if re.search(r"(率|度|性|比例|占比|比重|百分比)$", n):
        return RATE  # 及时率/及时性 too: a share of things done in time
    if re.search(r"(时间|时限|时长|周期|期限|天数|小时数)$", n):
        return DURATION
    if re.search(r"(金额|费用|成本|资金|经费|元)$", n):
        return MONEY
    if re.search(rf"(数|数量|次数|人数|个数|人次|面积|[{_COUNT_UNITS}]数)$", n):
        return COUNT
    return ""


def value_kind(value: str) -> str:
    """Kind of measure a target value implies: `≥5次` count, `95%` rate, `2024年12月31日前` time."""
    v = fold(value)
    if not v:
        return ""
    if _VALUE_PCT.search(v):
        return RATE
    if v in ("是", "否", "是/否"):
        return YESNO
    if _VALUE_MONEY.search(v):
        return MONEY
    if _VALUE_DATE.search(v):
        return TIME
    if _VALUE_COUNT.search(v):
        return COUNT
    return ""


def kind_of(name: str, value: str = "") -> str:
    """The name decides; the value speaks when the name is silent. Bare `1` / `100` stay unknown,
    because documents write rates as fractions (`1` for 100%)."""
    return name_kind(name) or value_kind(value)


# A value like `24小时内` or `2024年12月31日前` (TIME) fits a deadline-style rate (及时率), a duration
# and a yes/no "done in time"; it decides nothing against them.
_COMPATIBLE = {frozenset((RATE, TIME)), frozenset((DURATION, TIME)), frozenset((YESNO, TIME)),
               frozenset((YESNO, RATE))}


def kinds_agree(a: str, b: str) -> int:
    """+1 same kind, -1 different kinds (a rate is not a count), 0 when either is unknown or the
    two are compatible."""
    if not a or not b:
        return 0
    if a == b:
        return 1
    return 0 if frozenset((a, b)) in _COMPATIBLE else -1
