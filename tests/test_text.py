"""Text signals: cleaning, synonym folding, measure heads, kinds of measure."""
from indicode.matcher.features import CharWeights, is_generic, measure_heads
from indicode.matcher.text import (
    COUNT,
    DURATION,
    RATE,
    TIME,
    Canon,
    clean,
    kind_of,
    kinds_agree,
    learn_variants,
    value_kind,
)


def test_clean_folds_width_units_and_punctuation():
    assert clean("群众满意度(%)") == clean("群众满意度（％）") == clean(" 群众满意度 ") == "群众满意度"
    assert clean("帮扶解决困难件数（件）") == "帮扶解决困难件数"
    assert clean("（100%）") == "100%"  # a name that is only brackets keeps them


def test_synonym_variants_fold_together():
    canon = Canon()
    assert canon("任务按时完成率") == canon("任务完成及时率")
    assert canon("验收通过率") == canon("验收合格率")
    assert canon("保障机构正常运作") == canon("保障机构正常运转")
    assert canon("系统正常运行率") != canon("设备正常运行率")


def test_variants_learned_from_a_codes_spellings():
    assert learn_variants([["保障机构正常运作", "保障机构正常运转"]]) == [("运转", "运作")]
    assert learn_variants([["任务完成率", "信息化建设任务完成率"]]) == []  # an insertion, not a variant
    canon = Canon([("编印", "印刷")])
    assert canon("资料编印份数") == canon("资料印刷份数")


def test_kind_of_measure_from_name_and_value():
    assert kind_of("召开会议次数") == COUNT and kind_of("任务完成率") == RATE
    assert kind_of("编纂完成时间") == DURATION
    assert kind_of("印刷数量") == COUNT
    assert kind_of("上门维修维护", "12次") == COUNT  # the value speaks when the name is silent
    assert kind_of("系统建设完成量", "大于等于98%") == RATE  # 量 alone is weak: the value decides
    assert kind_of("工作正常运行率", "1") == RATE and value_kind("1") == ""
    assert value_kind("2024年12月31日前") == TIME and value_kind("≥95%") == RATE
    assert kinds_agree(RATE, COUNT) == -1 and kinds_agree(RATE, TIME) == 0 and kinds_agree(COUNT, COUNT) == 1
    assert kinds_agree(RATE, DURATION) == -1 and kinds_agree("", COUNT) == 0


def test_measure_heads_end_at_word_boundaries():
    names = ["任务完成及时率", "工作任务完成及时率", "采购任务完成及时率", "项目完成及时率", "审计工作完成及时率",
             "服务对象满意度", "员工满意度", "工作人员满意度"]
    heads = measure_heads(names)
    assert heads["任务完成及时率"] == "完成及时率"  # not 务完成及时率: 任 always precedes it
    assert heads["员工满意度"] == "满意度"
    assert is_generic("服务对象") and is_generic("任务") and not is_generic("员工") and is_generic("")


def test_char_weights_favour_rare_characters():
    w = CharWeights(["任务完成率", "任务达标率", "任务及时率", "档案整理率"])
    assert w.w("档") > w.w("任")
    assert w.covered("档案整理率", "档案完好率") > w.covered("任务完成率", "档案完成率") - 0.5
    assert w.covered("", "x") == 0.0 and w.covered("ab", "ab") == 1.0


def test_general_chinese_folds_of_this_release():
    """Done before a deadline is done on time; 职工 are 员工; 低保 (the minimum living allowance) is
    aid; equipment in good repair (完好) runs normally. Invented texts and catalogue names alike."""
    canon = Canon()
    assert all("完成及时" in canon(t) for t in ("12月底之前完成", "提前完成修缮", "年底前完成验收"))
    assert canon("职工满意度") == canon("员工满意度") and canon("干部职工培训次数") == canon("干部员工培训次数")
    assert canon("农村低保发放人数") == canon("农村补助发放人员数")
    assert canon("设备完好率") == canon("设备正常运行率") and canon("档案完好率") != canon("设备正常运行率")
    assert canon("完成率") == "完成率"  # no deadline, no fold


def test_near_identical_texts_differ_only_in_what_changes_between_documents():
    """Years, dates, document titles, numbers with units, place words and a place name at the start."""
    from indicode.matcher.text import near_text

    assert near_text("2025年度宣传册印刷数量") == near_text("2026年度宣传册印刷数量") == "宣传册印刷数量"
    assert near_text("《深汕年鉴2024》编纂完成时间") == near_text("《村志》编纂完成时间")
    assert near_text("海珠区电动自行车充电监测户数") == near_text("越秀区电动自行车充电监测户数")
    assert near_text("全区各单位满意度") == near_text("各单位满意度")
    assert near_text("完成500吨稻谷储备") == near_text("完成3000吨稻谷储备")
    assert near_text("社区矫正对象帮扶次数") == "社区矫正对象帮扶次数"  # 社区 is no place of government
    assert near_text("2024年") == "" and near_text("第1季度") == ""  # too little left to join anything
    assert near_text("宣传册印刷数量") != near_text("宣传册发放数量")
