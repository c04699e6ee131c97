"""Gap mining: the indicators no code fits, grouped across documents (one group per thing measured,
never a rate with a count or two different objects, classes apart), the request workbook written,
read back as proposals and merged across offices, and `indicode gaps` on the seeds."""
from __future__ import annotations

import copy
import itertools
import json

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from conftest import SEED
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.records import InputError
from indicode.cli import app
from indicode.gaps.mine import GapRow, identical_groups, mine, unit_of
from indicode.gaps.propose import pending_requests, propose
from indicode.gaps.run import find_gaps
from indicode.gaps.similar import Text, clash, objects_differ
from indicode.gaps.workbook import HEADERS, SHEET, Request, merge, read_requests, write_requests
from indicode.matcher.text import COUNT, RATE, kind_of, kinds_agree
from indicode.workspace import Workspace
from indicode.workspace.proposals import decisions_of
from indicode.workspace.provisional import is_provisional

pytestmark = pytest.mark.usefixtures("shared_vector_cache")
runner = CliRunner()


def rows(*specs):
    """GapRows from (text, class, value, project, document)."""
    return [GapRow(*s) for s in specs]


def test_what_is_never_the_same_thing():
    assert objects_differ("设备正常运行率", "系统正常运行率")
    assert objects_differ("深汕特别合作区督查督办信息系统", "深汕特别合作区重点工作落实调度系统")
    assert not objects_differ("垃圾分类知晓率", "居民垃圾分类知晓率")
    assert not objects_differ("志愿服务时长", "志愿者服务总时长")
    assert objects_differ("租赁设备数", "购买租赁系统数")  # a shared word in the middle is not the object
    assert objects_differ("机房重要信息设备故障次数", "重要应用系统故障次数")
    assert objects_differ("档案正常运行率", "设备正常运行达标率")
    assert not objects_differ("保障工作正常运行", "工作正常运行率")  # 率 names no object
    assert not objects_differ("服务采购次数", "购买服务次数")
    assert clash(Text("培训覆盖率", "培训覆盖率", RATE), Text("培训覆盖人数", "培训覆盖人数", COUNT))
    def rate(t: str) -> Text:
        return Text(t, t, RATE)

    assert clash(rate("设备日常运行故障率"), rate("设备完好达标率"))  # what went wrong / what went right
    assert clash(rate("投诉率"), rate("满意率")) and not clash(rate("系统故障率"), rate("系统运行故障率"))
    assert not clash(rate("设备故障解决率"), rate("设备故障处理解决率"))  # solving failures went right
    know, known = "垃圾分类知晓率", "生活垃圾分类知晓度"
    assert not clash(Text(know, know, RATE), Text(known, known, RATE))
    assert (unit_of("≥95%"), unit_of(">28000件"), unit_of("2024年12月31日前"), unit_of("及时")) == ("%", "件", "年", "")


def test_groups_one_thing_measured_across_documents(linker):
    got = mine(rows(("垃圾分类知晓率", "22", "≥90%", "垃圾分类宣传", "a.txt"),
                    ("居民垃圾分类知晓率", "22", "95%", "社区宣传", "b.txt"),
                    ("居民垃圾分类知晓率", "22", "95%", "垃圾分类督导", "b.txt"),
                    ("生活垃圾分类知晓度", "22", "90%", "文明创建", "c.txt"),
                    ("志愿服务时长", "22", "≥1000小时", "志愿活动", "a.txt"),
                    ("志愿者服务总时长", "22", "1200小时", "志愿活动", "c.txt"),
                    ("垃圾分类宣传活动次数", "11", "≥12次", "垃圾分类宣传", "a.txt"),
                    ("居民垃圾分类知晓率", "12", "95%", "另一类", "d.txt")),  # the same text in another class
               linker.canon, linker.encode_queries)
    by_name = {tuple(sorted(g.members)): g for g in got}
    know = next(g for g in got if "垃圾分类知晓率" in g.members)
    assert sorted(know.members) == sorted(["垃圾分类知晓率", "居民垃圾分类知晓率", "生活垃圾分类知晓度"])
    assert (know.name, know.level2, know.unit, know.rows, know.projects, know.documents) == (
        "垃圾分类知晓率", "22", "%", 4, 4, 3)  # the spelling nearest all the others, not the most used
    assert know.members[0] == "居民垃圾分类知晓率" and set(know.examples) <= {"≥90%", "95%", "90%"}
    assert ("志愿服务时长", "志愿者服务总时长") in by_name
    assert got[0] is know  # ranked by use
    apart = [g for g in got if g.level2 == "12"]
    assert [g.members for g in apart] == [["居民垃圾分类知晓率"]]  # class kept apart
    assert any(g.members == ["垃圾分类宣传活动次数"] for g in got)  # a count never joins the rates


@pytest.fixture(scope="module")
def seed_gaps(linker):
    return find_gaps(list(SEED.values()), linker, "海珠区", "王")


def test_no_group_over_the_seeds_mixes_a_rate_with_a_count_or_two_classes(seed_gaps):
    assert len(seed_gaps.collected.rows) > 200 and seed_gaps.groups
    assert len(seed_gaps.groups) < len(identical_groups(seed_gaps.collected.rows))  # it does group
    for g in seed_gaps.groups:
        kinds = [kind_of(seed_gaps.collected.rows[i].text, seed_gaps.collected.rows[i].value) for i in g.at]
        assert not (RATE in kinds and COUNT in kinds), g
        assert all(kinds_agree(a, b) >= 0 for a, b in itertools.combinations(set(kinds), 2)), g
        assert len({seed_gaps.collected.rows[i].level2 for i in g.at} - {""}) <= 1, g
    assert [g.rows for g in seed_gaps.groups] == sorted((g.rows for g in seed_gaps.groups), reverse=True)


def test_the_request_workbook_round_trips_into_proposals(seed_gaps, tmp_path):
    out = tmp_path / "申请新增指标.xlsx"
    requests = copy.deepcopy(seed_gaps.requests)  # the fixture is shared: changed here only
    requests[0].members.append("=HYPERLINK(\"http://x\")")  # a formula-looking text stays text
    write_requests(out, requests)
    sheet = load_workbook(out)[SHEET]
    assert [c.value for c in sheet[1]] == HEADERS
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    back = read_requests(out)
    assert [(q.name, q.level2, q.uses, q.members) for q in back] == [
        (q.name, q.level2, q.uses, q.members) for q in requests]
    assert back[0].offices == ["海珠区"] and back[0].proposer == "王"
    ws = Workspace.open()
    done = propose(ws, back, "王", Catalogue.load())
    assert not done.conflicts and len(done.proposals) == len(back)
    for q, p in zip(back, done.proposals, strict=True):
        assert is_provisional(p.code) and p.name == q.name and p.level2 == q.level2
        assert {e.text for e in decisions_of(ws, p.id)} == {q.name, *q.members}
    again = propose(ws, back, "王", Catalogue.load())  # reading it twice proposes nothing new
    assert again.proposals == [] and again.recorded == []
    exported = pending_requests(ws, "海珠区")
    assert {q.provisional for q in exported} == {p.code for p in done.proposals}


def test_a_bad_request_row_is_one_line_and_nothing_is_proposed(tmp_path):
    out = tmp_path / "req.xlsx"
    write_requests(out, [Request("村居法律顾问服务时长", "22", "小时", uses=3, members=["法律顾问服务时长"]),
                         Request("某指标", "99", uses=1)])
    with pytest.raises(InputError, match=r"req.xlsx:申请新增指标:3: 二级指标 '99' is not a level-2 class"):
        read_requests(out)
    r = runner.invoke(app, ["proposals", "import", str(out)])
    assert r.exit_code == 2 and r.stderr.strip().count("\n") == 0 and Workspace.open().proposals() == []


def test_requests_of_several_offices_merge_into_one_ranked_list(linker):
    a = [Request("垃圾分类知晓率", "22", "%", uses=5, projects=3, documents=2, members=["垃圾分类知晓率"],
                 offices=["海珠区"]),
         Request("课题验收专家满意度", "32", "%", uses=1, members=["课题验收专家满意度"], offices=["海珠区"])]
    b = [Request("居民垃圾分类知晓率", "22", "%", uses=7, projects=4, documents=3,
                 members=["居民垃圾分类知晓率", "生活垃圾分类知晓度"], offices=["越秀区"])]
    got = merge(a + b, linker.canon, linker.encode_queries)
    assert [q.name for q in got] == ["居民垃圾分类知晓率", "课题验收专家满意度"]
    top = got[0]
    assert (top.uses, top.projects, top.documents, top.offices) == (12, 7, 5, ["海珠区", "越秀区"])
    assert set(top.members) == {"垃圾分类知晓率", "居民垃圾分类知晓率", "生活垃圾分类知晓度"}


def test_gaps_command_on_the_seeds_writes_the_workbook_that_learn_propose_reads_back(seed_gaps, tmp_path):
    """The done-when: on the seeds' no-match rows `indicode gaps` writes the request workbook, and reading
    it back creates one proposal per request, of its name and class, for its name and every member text."""
    out = tmp_path / "req.xlsx"
    r = runner.invoke(app, ["gaps", *map(str, SEED.values()), "-o", str(out), "--office", "海珠区", "--proposer", "王",
                            "--top", "3"])
    assert r.exit_code == 0, r.stderr
    assert len(r.stdout.splitlines()) == 3 and "rows no code fits" in r.stderr
    requests = read_requests(out)
    assert [(q.name, q.level2, q.members) for q in requests] == [  # what the mining found, as written
        (q.name, q.level2, q.members) for q in seed_gaps.requests]
    assert len(requests) > 100 and all(q.offices == ["海珠区"] and q.proposer == "王" for q in requests)
    plain = runner.invoke(app, ["learn", str(out)])
    assert plain.exit_code == 2 and "learn --propose" in plain.stderr
    learned = runner.invoke(app, ["learn", str(out), "--propose", "--reviewer", "王"])
    assert learned.exit_code == 0, learned.stderr
    ws = Workspace.open()
    made = {(p.name, p.level2): p for p in ws.proposals()}
    assert len(made) == len(ws.proposals()) == len({(q.name, q.level2) for q in requests})
    for q in requests:
        p = made[(q.name, q.level2)]
        assert is_provisional(p.code) and p.status == "open" and p.unit == q.unit and p.comment == "海珠区"
        assert {e.text for e in decisions_of(ws, p.id)} == {q.name, *q.members}, q.name
    # merged with another office's workbook: one list
    other = tmp_path / "other.xlsx"
    write_requests(other, [Request("村居法律顾问服务时长", "22", "小时", uses=500, members=["村居法律顾问服务时长"],
                                   offices=["越秀区"])])
    both = runner.invoke(app, ["gaps", str(out), str(other), "--json"])
    assert both.exit_code == 0, both.stderr
    merged = json.loads(both.stdout)
    assert merged[0]["name"] == "村居法律顾问服务时长" and merged[0]["offices"] == ["越秀区"]
    assert len(merged) <= len(requests) + 1


@pytest.mark.slow
def test_the_simulated_gaps_never_mix_a_rate_with_a_count(tmp_path):
    """scripts/gap_sim.py's removals, over all three gold files: every group formed in each run (kinds
    read again from its rows, not from the group), every gap row in exactly one group."""
    import importlib.util

    from conftest import ROOT
    from indicode.catalogue.database import read_occurrences
    from indicode.matcher.encoders import load_encoder

    spec = importlib.util.spec_from_file_location("gap_sim", ROOT / "scripts" / "gap_sim.py")
    sim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sim)
    assert len(sim.GOLD) == 3 and all(f.exists() for f in sim.GOLD)
    cat = Catalogue.load()
    rows, codes = sim.labelled_rows(cat, sim.GOLD)
    encoder, formed = load_encoder(None), 0
    for seed in (0, 1):
        r = sim.one_removal(seed, 0.3, cat, read_occurrences(cat.path), rows, codes, encoder, tmp_path,
                            things=sim.read_things())
        gap_rows, groups = r["gap_rows"], r["groups_formed"]
        assert r["gaps"] > 10 and len(groups) == r["groups"]
        assert sorted(i for g in groups for i in g.at) == list(range(len(gap_rows)))  # every row, once
        for g in groups:
            kinds = {kind_of(gap_rows[i].text, gap_rows[i].value) for i in g.at}
            assert not (RATE in kinds and COUNT in kinds), (seed, g.members)
            assert all(kinds_agree(a, b) >= 0 for a, b in itertools.combinations(kinds, 2)), (seed, g.members)
            assert len({gap_rows[i].level2 for i in g.at} - {""}) <= 1, (seed, g.members)
        formed += len(groups)
        assert r["mixed"] == 0
        assert 0 < r["mined"][2] <= 1 and r["mined"][0] >= 0.9  # grouping stays precise
        assert r["unlabelled"] == 0 and r["mined_th"][0] >= 0.85  # every row's thing measured is labelled
    assert formed > 30


def test_gaps_reads_normalize_outputs_as_the_documents_they_came_from(tmp_path, linker):
    for out in ("out.csv", "out.xlsx"):
        r = runner.invoke(app, ["normalize", str(SEED["001"]), "-o", str(tmp_path / out), "-q"])
        assert r.exit_code == 0, r.stderr
    direct = find_gaps([SEED["001"]], linker)
    for out in ("out.csv", "out.xlsx"):
        again = find_gaps([tmp_path / out], linker)
        assert sorted(x.text for x in again.collected.rows) == sorted(x.text for x in direct.collected.rows)
        assert [q.members for q in again.requests] == [q.members for q in direct.requests]


def test_a_group_a_pending_proposal_stands_for_is_marked_not_requested_again(tmp_path):
    """`indicode gaps` marks the group whose rows fit a pending proposal (the same text, or close to a
    member text) with its id, in the report and the workbook; reading the workbook back adds the
    group's texts to that proposal, and proposes only the other groups."""
    from indicode.workspace import proposals as P

    ws = Workspace.open()
    p, _ = P.add(ws, P.draft("课题验收专家满意度", "32", "%"), "王", Catalogue.load())
    doc = tmp_path / "doc.csv"  # a document, matched now: its first row is the proposal's own text
    doc.write_text("指标名称,二级指标,指标值\n课题验收专家满意度,32,≥90%\n村居法律顾问服务时长,22,≥100小时\n"
                   "村居法律顾问服务总时长,22,≥120小时\n", encoding="utf-8")
    old = tmp_path / "old.csv"  # a normalize output from before the proposal: another spelling, no-match
    old.write_text("source,indicator,class,value,decision,code\nold.txt,课题验收专家满意率,32,95%,no-match,\n",
                   encoding="utf-8")
    out = tmp_path / "req.xlsx"
    r = runner.invoke(app, ["gaps", str(doc), str(old), "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    label = f"已提议：{p.code} 课题验收专家满意度（待审批）"
    marked = [line for line in r.stdout.splitlines() if label in line]
    assert len(marked) == 1 and "课题验收专家满意率" in marked[0]  # the close spelling joined the same group
    assert sum("已提议" in line for line in r.stdout.splitlines()) == 1 and "1 of them fit a proposal" in r.stderr
    sheet = load_workbook(out)[SHEET]
    head = [c.value for c in sheet[1]]
    cells = {row[0].value: row[head.index("临时编号")].value for row in sheet.iter_rows(min_row=2)}
    assert cells == {"课题验收专家满意度": label, "村居法律顾问服务时长": ""}
    back = {q.name: q for q in read_requests(out)}
    assert back["课题验收专家满意度"].provisional == p.code and back["村居法律顾问服务时长"].provisional == ""
    book = load_workbook(out)  # a reviewer renames it: the 临时编号 still says which proposal it is
    first = next(row for row in book[SHEET].iter_rows(min_row=2) if row[0].value == "课题验收专家满意度")
    first[0].value = "课题验收专家满意程度"
    book.save(out)
    imported = runner.invoke(app, ["proposals", "import", str(out), "--reviewer", "王"])
    assert imported.exit_code == 0, imported.stderr
    props = ws.proposals()
    assert [(x.code, x.name) for x in props][0] == (p.code, "课题验收专家满意度") and len(props) == 2  # one new
    assert props[1].name == "村居法律顾问服务时长" and props[1].code != p.code
    assert {e.text for e in decisions_of(ws, p.id)} == {"课题验收专家满意度", "课题验收专家满意率",
                                                        "课题验收专家满意程度"}
    as_json = json.loads(runner.invoke(app, ["gaps", str(doc), "--json"]).stdout)
    assert {q["name"]: q["provisional"] for q in as_json}["课题验收专家满意度"] == p.code


def test_a_group_of_equally_central_spellings_is_named_the_same_whatever_their_order_or_last_bits():
    """Two spellings used once each and as close to each other: the name must not hang on which row came
    first or on the last bits of a similarity (a pair's two scores differ by CPU), so CI and a laptop agree."""
    import numpy as np

    from indicode.gaps.mine import _group, _items

    rows = [GapRow("课题验收专家满意率", "32", "95%"), GapRow("课题验收专家满意度", "32", "≥90%")]
    for sim in (np.array([[1.0, 0.9000001], [0.9, 1.0]]), np.array([[1.0, 0.9], [0.9000001, 1.0]])):
        for order in (rows, rows[::-1]):
            items = _items(order)
            s = sim if order is rows else sim[::-1, ::-1]
            assert _group(items, s).name == "课题验收专家满意度"
