"""A decision's key is the text as the matcher cleans it, with the cleaning's version: these outputs are
pinned to CLEAN_VERSION, so that a change to `clean` without a new version (which would re-key the
workspace's decisions by accident) fails here. Changed `clean` on purpose? Bump CLEAN_VERSION and
record the new outputs under it."""
from indicode.matcher.text import CLEAN_VERSION, clean
from indicode.workspace.keys import subject_of

PINNED = {
    1: {"办事群众满意度（%）": "办事群众满意度", "群众满意度(%)": "群众满意度",
        "补助对象（人员、企业、特定群体等）数": "补助对象数", "ＯＫ 验收合格率 ": "ok验收合格率",
        "（100%）": "100%", "112000272-任务达标完成率": "112000272任务达标完成率",
        "设备正常使用率；": "设备正常使用率", "A/B·c": "abc"},
}


def test_clean_is_what_its_version_says():
    assert CLEAN_VERSION in PINNED, "CLEAN_VERSION bumped: pin the new outputs of clean() here"
    assert {t: clean(t) for t in PINNED[CLEAN_VERSION]} == PINNED[CLEAN_VERSION]


def test_two_spellings_are_one_subject_near_texts_are_not():
    a, b = subject_of("办事群众满意度", "31"), subject_of("办事群众满意度（%）", " 31 ")
    assert a == b and a.clean_version == CLEAN_VERSION
    assert subject_of("办事群众满意度", "32") != a and subject_of("群众满意度", "31") != a
