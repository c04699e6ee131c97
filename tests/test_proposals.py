"""Proposed codes with a life, on both backends (SQLite and a real PostgreSQL server): provisional ids
that never collide and are never taken for a code, approval with the real code (decisions re-pointed),
rejection with a reason (decisions back for review), every step in the history; no-match answers that
name the proposal they fit (CLI, Python API, normalize output, review workbook), never as accepted."""
from __future__ import annotations

import json
import re
import sqlite3

import pytest
from typer.testing import CliRunner

from indicode.catalogue.entries import CODE_RE
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.records import NIL, InputError
from indicode.cli import app
from indicode.matcher.present import suggestion_dict
from indicode.matcher.results import Verdict
from indicode.workspace import Caller, Forbidden, Refused, Role, Workspace
from indicode.workspace import proposals as P
from indicode.workspace.provisional import PROVISIONAL_RE, is_provisional
from indicode.workspace.use import linker_for

pytestmark = pytest.mark.usefixtures("shared_vector_cache")
runner = CliRunner()
NAME = "课题验收专家满意度"


@pytest.fixture(scope="module")
def cat():
    return Catalogue.load()


def test_provisional_ids_have_the_workspaces_prefix_and_never_look_like_codes(location, cat, tmp_path):
    ws = Workspace.open(location)
    other = Workspace.open(tmp_path / "other.sqlite")
    assert re.fullmatch(r"[A-Z]{4}", ws.prefix()) and ws.prefix() != other.prefix()  # 1 in 160,000 to fail
    a, _ = P.add(ws, P.draft(NAME, "32", "%"), "王", cat)
    b, _ = P.add(ws, P.draft("专家评审满意度", "32"), "王", cat)
    c, _ = P.add(ws, P.draft("课题结题报告数", "11"), "王", cat)
    x, _ = P.add(other, P.draft(NAME, "32"), "李", cat)
    assert (a.code, b.code, c.code) == (f"新-{ws.prefix()}-32-0001", f"新-{ws.prefix()}-32-0002",
                                        f"新-{ws.prefix()}-11-0001")
    assert x.code == f"新-{other.prefix()}-32-0001" and x.code != a.code  # two offices never collide
    for p in (a, b, c, x):
        assert PROVISIONAL_RE.match(p.code) and not CODE_RE.match(p.code) and not re.search(r"\d{9}", p.code)
    # proposing the same name and class again is the same proposal
    again, _ = P.add(ws, P.draft(NAME, "32"), "张", cat, texts=["课题验收专家满意率"])
    assert again.id == a.id and len(ws.proposals()) == 3
    assert (a.unit, a.level1, a.level2, a.status) == ("%", "3", "32", "open")
    # a readable prefix only before the first provisional id
    with pytest.raises(Refused, match="prefix stays"):
        P.set_prefix(ws, "HZ")
    assert P.set_prefix(Workspace.open(tmp_path / "third.sqlite"), "hz") == "HZ"
    with pytest.raises(InputError, match="2 to 6 Latin letters"):
        P.set_prefix(Workspace.open(tmp_path / "fourth.sqlite"), "H1")
    with pytest.raises(InputError, match="level-2 class"):
        P.draft("某指标", "")


def test_approve_repoints_the_decisions_and_reject_sends_them_back(location, cat):
    ws = Workspace.open(location)
    p, out = P.add(ws, P.draft(NAME, "32", "%", "专家对课题验收工作的满意程度"), "王", cat,
                   texts=["课题验收专家满意率"])
    assert [e.code for e in out.recorded] == [p.code, p.code] and all(e.proposal == p.id for e in out.recorded)
    assert {link.code for link in ws.learned_links(cat.entries)} == {NIL}  # pending: no catalogue code fits
    lead = Caller("组长", Role.LEAD)
    with pytest.raises(Forbidden):
        P.approve(ws, p.code, "332000999", "李四", caller=Caller("李四", Role.REVIEWER))
    with pytest.raises(InputError, match="9 digits"):
        P.approve(ws, p.code, "33200099", "组长", caller=lead)
    with pytest.raises(InputError, match="not the proposal's class"):
        P.approve(ws, p.code, "132000999", "组长", caller=lead)  # level-1 digit 1 is not 满意度
    v = P.approve(ws, p.code, "332000999", "组长", caller=lead, comment="省厅2026年第3批")
    assert v.proposal.status == "approved" and v.proposal.approved == "332000999"
    assert [(e.text, e.code, e.replaces) for e in v.events] == [
        (NAME, "332000999", out.recorded[0].id), ("课题验收专家满意率", "332000999", out.recorded[1].id)]
    assert ws.decision_for(NAME, "32").code == "332000999"
    assert {link.code for link in ws.learned_links(cat.entries)} == {NIL}  # not in this catalogue yet
    assert {link.code for link in ws.learned_links({"332000999"})} == {"332000999"}  # once a catalogue has it
    with pytest.raises(Refused, match="already approved"):
        P.reject(ws, p.code, "重复", "组长", caller=lead)
    assert P.find(ws, "332000999").id == p.id and [s.status for s in P.history(ws, p.id)] == ["open", "approved"]
    # the decisions' history says each step
    assert [e.code for e in ws.history(NAME, "32")] == [p.code, "332000999"]

    q, _ = P.add(ws, P.draft("课题结题报告数", "11"), "王", cat)
    with pytest.raises(InputError, match="reason"):
        P.reject(ws, q.code, "  ", "组长", caller=lead)
    r = P.reject(ws, q.code, "与 111000240 重复", "组长", caller=lead)
    assert r.proposal.status == "rejected" and r.proposal.reason == "与 111000240 重复"
    assert [e.kind for e in r.events] == ["retraction"] and ws.decision_for("课题结题报告数", "11") is None
    steps = P.history(ws, q.code)
    assert [(s.status, s.comment) for s in steps][1:] == [("rejected", "与 111000240 重复")]
    assert [e.kind for e in ws.history("课题结题报告数", "11")] == ["decision", "retraction"]
    # a rejected name may be proposed anew: a new provisional id
    again, _ = P.add(ws, P.draft("课题结题报告数", "11"), "王", cat)
    assert again.id != q.id and again.code != q.code
    assert [p.code for p in P.lookup(ws, "课题")] == [p.code, again.code]  # not the rejected one
    assert [x.id for x in P.lookup(ws, "332000")] == [p.id]


def test_a_text_of_a_pending_proposal_is_answered_with_it_never_accepted(location, cat):
    ws = Workspace.open(location)
    p, _ = P.add(ws, P.draft(NAME, "32"), "王", cat)
    linker = linker_for(ws)[0]
    same = linker.suggest(NAME, "32")
    assert same.decision == Verdict.NO_MATCH and same.code == ""
    assert same.proposal is not None and same.proposal.label == f"已提议：{p.code} {NAME}（待审批）"
    assert same.proposal.how == "same-text"
    near = linker.suggest("课题验收专家满意率", "32")  # another spelling: close by the matcher's measure
    assert near.decision != Verdict.ACCEPT and near.proposal is not None and near.proposal.how == "close"
    assert near.proposal.code == p.code and near.proposal.similarity >= 0.78
    as_json = suggestion_dict(near)
    assert as_json["proposal"]["code"] == p.code and as_json["decision"] != "accept"
    other = linker.suggest("设备验收专家满意度", "32")  # another object: never this proposal
    assert other.proposal is None
    assert linker.suggest(NAME, "31").proposal is None  # another class is another indicator
    P.approve(ws, p.code, "332000999", "组长")
    approved = linker_for(ws)[0].suggest(NAME, "32")
    assert approved.decision == Verdict.NO_MATCH and approved.proposal.code == "332000999"
    assert approved.proposal.label.startswith("已提议：332000999") and "已批准" in approved.proposal.label


def test_the_schema_of_an_older_workspace_is_upgraded_once(tmp_path, cat):
    path = tmp_path / "v1.sqlite"
    ws = Workspace.open(path)
    ws.close()
    con = sqlite3.connect(path)
    for table, col in (("proposals", "unit"), ("proposals", "explanation"), ("proposals", "comment"),
                       ("proposal_events", "code")):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {col}")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'workspace_schema_version'")
    con.execute("DELETE FROM meta WHERE key = 'proposal_prefix'")
    con.commit()
    con.close()
    ws = Workspace.open(path)
    assert re.fullmatch(r"[A-Z]{4}", ws.prefix())
    p, _ = P.add(ws, P.draft(NAME, "32", "%"), "王", cat)
    assert p.unit == "%" and is_provisional(p.code)


def _cli(*args):
    return runner.invoke(app, list(map(str, args)))


def test_the_proposals_commands(tmp_path):
    made = _cli("proposals", "add", NAME, "--class", "32", "--unit", "%", "--text", "课题验收专家满意率",
                "--reviewer", "王")
    assert made.exit_code == 0, made.stderr
    pid = re.search(r"新-[A-Z]{4}-32-0001", made.stdout).group(0)
    assert "待审批" in made.stdout and "for 2 texts" in made.stderr
    listed = json.loads(_cli("proposals", "list", "--json").stdout)
    assert [(p["code"], p["status"], p["texts"]) for p in listed] == [(pid, "open", [NAME, "课题验收专家满意率"])]
    said = _cli("suggest", NAME, "--class", "32")
    assert said.exit_code == 0 and said.stdout.splitlines()[0] == f"已提议：{pid} {NAME}（待审批）"
    assert "NO MATCH" in said.stdout and "ACCEPT" not in said.stdout
    found = _cli("lookup", pid)
    assert found.exit_code == 0 and pid in found.stdout and NAME in found.stdout
    bad = _cli("proposals", "approve", pid, "--code", "12345")
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1 and "9 digits" in bad.stderr
    ok = _cli("proposals", "approve", pid, "--code", "332000999", "--reviewer", "组长")
    assert ok.exit_code == 0 and "2 decisions re-pointed" in ok.stderr
    assert "332000999" in _cli("lookup", "332000999").stdout
    hist = _cli("proposals", "history", pid).stdout.splitlines()
    assert [h.split()[1] for h in hist] == ["open", "approved"] and "332000999" in hist[1]
    _cli("proposals", "add", "课题结题报告数", "--class", "11")
    gone = _cli("proposals", "reject", "课题结题报告数", "--reason", "重复")
    assert gone.exit_code == 2 and "no such proposal" in gone.stderr  # by id, number or code, not by name
    num = json.loads(_cli("proposals", "list", "--json", "--status", "open").stdout)[0]["id"]
    gone = _cli("proposals", "reject", num, "--reason", "与现有编码重复")
    assert gone.exit_code == 0 and "1 decisions retracted" in gone.stderr
    assert [p["status"] for p in json.loads(_cli("proposals", "list", "--json").stdout)] == ["approved", "rejected"]


def test_learn_proposes_by_name_or_points_to_a_provisional_id(tmp_path, cat):
    ws = Workspace.open()
    p, _ = P.add(ws, P.draft(NAME, "32"), "王", cat)
    f = tmp_path / "reviewed.csv"
    f.write_text("indicator,class,code,reviewer_code\n"
                 "课题验收评审专家满意度,32,,新:课题验收专家满意度\n"  # the pending proposal of that name
                 f"专家对课题验收的满意度,32,,{p.code}\n"  # its provisional id, as the review workbook offers it
                 "村居法律顾问服务时长,22,,新：村居法律顾问服务时长\n"  # a new one, by name
                 "没有类别的指标,,,新:没有类别的指标\n"  # refused: a new code needs its class
                 "乱写编号,32,,新-ZZZZ-32-0009\n",  # refused: no proposal of this workspace
                 encoding="utf-8")
    r = runner.invoke(app, ["learn", str(f), "--reviewer", "李"])
    assert r.exit_code == 1
    assert "reviewed.csv:5: proposed code '新:没有类别的指标': give the row's class" in r.stderr
    assert "reviewed.csv:6: proposed code '新-ZZZZ-32-0009': 新-ZZZZ-32-0009 is no proposal" in r.stderr
    props = {x.name: x for x in ws.proposals()}
    assert set(props) == {NAME, "村居法律顾问服务时长"} and is_provisional(props["村居法律顾问服务时长"].code)
    assert [e.text for e in P.decisions_of(ws, p.id)] == [NAME, "课题验收评审专家满意度", "专家对课题验收的满意度"]


def test_normalize_outputs_name_the_proposal_a_no_match_row_fits(tmp_path, cat):
    from openpyxl import load_workbook

    ws = Workspace.open()
    p, _ = P.add(ws, P.draft(NAME, "32"), "王", cat)
    doc = tmp_path / "doc.csv"
    doc.write_text("指标名称,二级指标,指标值\n课题验收专家满意度,32,≥90%\n办事群众满意度,31,95%\n", encoding="utf-8")
    r = runner.invoke(app, ["normalize", str(doc), "-o", str(tmp_path / "out.csv"), "-q"])
    assert r.exit_code == 0, r.stderr
    import csv

    rows = list(csv.DictReader((tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0]["decision"] == "no-match" and rows[0]["code"] == ""
    assert rows[0]["proposal"] == f"已提议：{p.code} {NAME}（待审批）" and rows[1]["proposal"] == ""
    r = runner.invoke(app, ["normalize", str(doc), "-o", str(tmp_path / "out.xlsx"), "-q"])
    sheet = load_workbook(tmp_path / "out.xlsx")["逐行审核"]
    head = [c.value for c in sheet[1]]
    first = {h: c.value for h, c in zip(head, sheet[2], strict=False)}
    assert first["建议"] == "无匹配" and f"已提议：{p.code}" in first["说明"]
    # the reviewer can pick the provisional id from the dropdown, and learn takes it
    lists = " ".join(str(dv.formula1) for dv in sheet.data_validations.dataValidation)
    assert p.code in lists or p.code in str([c.value for row in load_workbook(tmp_path / "out.xlsx")["选项"].iter_rows()
                                             for c in row])


@pytest.mark.slow
def test_the_http_api_answers_with_a_proposal_made_meanwhile(tmp_path, cat):
    from server_proc import call, server_on_copy

    with server_on_copy(tmp_path) as (url, _catalogue):
        st, before = call(url, "/api/suggest", {"text": NAME, "class": "32"})
        assert st == 200 and before["proposal"] is None
        ws = Workspace.open(tmp_path / "data" / "workspace.sqlite")  # the server's workspace
        p, _ = P.add(ws, P.draft(NAME, "32"), "王", cat)
        st, after = call(url, "/api/suggest", {"text": NAME, "class": "32"})  # the server follows the workspace
        assert st == 200 and after["decision"] == "no-match" and after["code"] == ""
        assert after["proposal"]["code"] == p.code
        assert after["proposal"]["label"] == f"已提议：{p.code} {NAME}（待审批）"
        P.reject(ws, p.code, "重复", "组长")
        st, gone = call(url, "/api/suggest", {"text": NAME, "class": "32"})
        assert gone["proposal"] is None


def test_from_a_request_to_approval_and_rejection_through_the_cli(tmp_path):
    """The CLI path of the done-when: requested by `indicode gaps`, proposed by `proposals import`; then
    approving re-points the decisions (normalize answers with the real code), rejecting sends the rows
    back to review (matched afresh, no proposal); every step in the decisions' and the proposal's history."""
    KEEP, DROP = "志愿者服务总时长", "垃圾分类知晓率"  # two rows no catalogue code fits
    doc = tmp_path / "doc.csv"
    doc.write_text(f"指标名称,二级指标,指标值\n{KEEP},22,≥1000小时\n{DROP},22,≥90%\n",
                   encoding="utf-8")
    req = tmp_path / "req.xlsx"
    assert _cli("gaps", doc, "-o", req).exit_code == 0
    assert _cli("proposals", "import", req, "--reviewer", "王").exit_code == 0
    made = {p["name"]: p for p in json.loads(_cli("proposals", "list", "--json").stdout)}
    assert set(made) == {KEEP, DROP} and all(p["status"] == "open" for p in made.values())
    keep, drop = made[KEEP]["code"], made[DROP]["code"]

    def answers() -> dict:
        import csv

        out = tmp_path / "out.csv"
        r = _cli("normalize", doc, "-o", out, "-q")
        assert r.exit_code == 0, r.stderr
        return {row["indicator"]: row for row in csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines())}

    before = answers()
    assert before[KEEP]["proposal"] == f"已提议：{keep} {KEEP}（待审批）" and before[KEEP]["code"] == ""
    assert before[DROP]["proposal"].startswith(f"已提议：{drop} ")
    ok = _cli("proposals", "approve", keep, "--code", "222000999", "--reviewer", "组长")
    assert ok.exit_code == 0 and "1 decisions re-pointed" in ok.stderr
    gone = _cli("proposals", "reject", drop, "--reason", "与现有编码重复", "--reviewer", "组长")
    assert gone.exit_code == 0 and "1 decisions retracted" in gone.stderr
    after = answers()
    assert after[KEEP]["proposal"] == f"已提议：222000999 {KEEP}（已批准，目录尚未收录）"
    back = after[DROP]
    assert back["proposal"] == "" and back["reason"] != "learned"  # matched afresh, for review
    said = _cli("suggest", DROP, "--class", "22")
    assert said.exit_code == 0 and "已提议" not in said.stdout
    kept = json.loads(_cli("decisions", "history", KEEP, "--class", "22", "--json").stdout)
    assert [(e["kind"], e["code"]) for e in kept] == [("decision", keep), ("decision", "222000999")]
    dropped = json.loads(_cli("decisions", "history", DROP, "--class", "22", "--json").stdout)
    assert [e["kind"] for e in dropped] == ["decision", "retraction"] and dropped[0]["code"] == drop
    steps = {pid: [line.split()[1] for line in _cli("proposals", "history", pid).stdout.splitlines()]
             for pid in (keep, drop)}
    assert steps == {keep: ["open", "approved"], drop: ["open", "rejected"]}
