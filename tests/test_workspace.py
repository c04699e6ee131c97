"""The workspace on both backends (SQLite and a real PostgreSQL server): decisions as events, the
decision in force, conflicts, retractions, roles, proposals, the migration of a 0.2 catalogue copy,
switching catalogues, re-keying, export."""
from __future__ import annotations

import shutil
import sqlite3

import pandas as pd
import pytest

from conftest import ROOT
from indicode.catalogue import paths
from indicode.catalogue.database import read_occurrences
from indicode.catalogue.files import BusyError
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.records import NIL
from indicode.catalogue.writing import write_catalogue
from indicode.workspace import LOCAL, Caller, Forbidden, NewDecision, Origin, ProposalDraft, Refused, Role, Workspace
from indicode.workspace.export import export_log
from indicode.workspace.migrate import import_catalogue
from indicode.workspace.use import catalogue_in_use, switch

LEGACY = ROOT / "tests" / "data" / "legacy_catalogue_0.2.0.sqlite"


@pytest.fixture(scope="module")
def cat():
    return Catalogue.load()


def d(text, klass, code, who, **kw):
    where = Origin(kw.pop("via", "api"), kw.pop("file", ""), "", kw.pop("row", None))
    return NewDecision(text, klass, code, who, where, **kw)


def test_two_reviewers_conflict_explicit_replace_and_undo(location, cat):
    ws = Workspace.open(location)
    first = ws.record([d("办事群众满意度", "31", "331003339", "张三", via="workbook", file="a.xlsx", row=2)],
                      cat).recorded[0]
    # another reviewer, another spelling of the same subject: refused with the decision in force
    with pytest.raises(Refused) as refused:
        ws.decide(d("办事群众满意度（%）", "31", "331000551", "李四", via="page"), cat)
    assert refused.value.in_force.id == first.id and "张三" in str(refused.value)
    assert [e.id for e in ws.history("办事群众满意度", "31")] == [first.id]
    # a stale id is a conflict too, never a silent replacement
    with pytest.raises(Refused):
        ws.decide(d("办事群众满意度", "31", "331000551", "李四", replaces=first.id + 100), cat)
    second, recorded = ws.decide(d("办事群众满意度", "31", "331000551", "李四", replaces=first.id), cat)
    assert recorded and second.replaces == first.id and ws.decision_for("办事群众满意度（%）", "31").id == second.id
    assert [(e.code, e.reviewer) for e in ws.history("办事群众满意度", "31")] == [("331003339", "张三"),
                                                                             ("331000551", "李四")]
    back = ws.retract([second.id], "李四").back[0]
    assert back.id == first.id and ws.decision_for("办事群众满意度", "31").code == "331003339"
    hist = ws.history("办事群众满意度", "31")
    assert [e.kind for e in hist] == ["decision", "decision", "retraction"] and hist[-1].replaces == second.id
    assert [(link.text, link.code) for link in ws.learned_links(cat.entries)] == [("办事群众满意度", "331003339")]
    # the same reviewer may revise their own decision without naming it
    own, _ = ws.decide(d("办事群众满意度", "31", NIL, "张三"), cat)
    assert own.replaces == first.id and ws.decision_for("办事群众满意度", "31").code == NIL


def test_learning_the_same_batch_twice_records_nothing_new(location, cat):
    ws = Workspace.open(location)
    batch = [d(f"指标{i}", "12", "112000272", "王", file="r.csv", row=i + 2) for i in range(30)]
    assert len(ws.record(batch, cat).recorded) == 30
    again = ws.record(batch, cat)
    assert (len(again.recorded), len(again.unchanged), len(again.conflicts)) == (0, 30, 0)
    assert len(ws.log()) == 30 and ws.status().decisions == 30


def test_ids_are_never_reused_and_stale_ids_are_refused(location, cat):
    ws = Workspace.open(location)
    a = ws.record([d("甲", "12", "112000272", "王")], cat).recorded[0]
    b = ws.record([d("乙", "12", "112000272", "王")], cat).recorded[0]
    ws.retract([b.id], "王")
    c = ws.record([d("丙", "12", "112000287", "王")], cat).recorded[0]
    assert c.id > b.id + 1  # after b and its retraction: nothing reused
    with pytest.raises(Refused, match="not in force"):
        ws.retract([b.id], "王")  # a stale id retracts nothing, least of all somebody else's newer decision
    with pytest.raises(Refused, match="no such decision"):
        ws.retract([9999], "王")
    assert {e.id for e in ws.in_force()} == {a.id, c.id}


def test_a_failing_batch_records_nothing(location, cat):
    ws = Workspace.open(location)

    class Broken:
        fingerprint = cat.fingerprint

        def get(self, code):
            if code == "112000287":
                raise RuntimeError("the disk went away")
            return cat.get(code)

    with pytest.raises(RuntimeError):
        ws.record([d("甲", "12", "112000272", "王"), d("乙", "12", "112000287", "王")], Broken())
    assert ws.log() == [] and ws.in_force() == []


def test_roles_and_tokens(location, cat):
    ws = Workspace.open(location)
    token = ws.add_member("李四", "reviewer")
    lead = ws.add_member("组长", Role.LEAD)
    assert ws.caller_for(token) == Caller("李四", Role.REVIEWER) and ws.caller_for("ix_wrong") is None
    assert ws.caller_for(lead).role == Role.LEAD and token != lead
    with pytest.raises(Exception, match="role 'boss' is none of"):
        ws.add_member("x", "boss")
    first = ws.record([d("验收合格率", "12", "112000287", "张三")], cat).recorded[0]
    reviewer = ws.caller_for(token)
    with pytest.raises(Forbidden):
        ws.decide(d("验收合格率", "12", NIL, "李四", replaces=first.id), cat, caller=reviewer)
    with pytest.raises(Forbidden):
        ws.retract([first.id], "李四", caller=reviewer)
    assert ws.decision_for("验收合格率", "12").id == first.id
    second, _ = ws.decide(d("验收合格率", "12", NIL, "组长", replaces=first.id), cat, caller=ws.caller_for(lead))
    assert second.replaces == first.id
    # the token itself is never stored
    rows = [m.name for m in ws.members()]
    assert rows == sorted(["李四", "组长"])
    if not location.startswith("postgresql"):
        con = sqlite3.connect(location)
        assert token not in str(con.execute("SELECT * FROM members").fetchall())
        con.close()


def test_proposals_are_decisions_the_matcher_reads_as_nil(location, cat):
    ws = Workspace.open(location)
    draft = ProposalDraft("113009999", "某某工作及时率", "1", "13")
    out = ws.record([d("某某工作及时率", "13", "113009999", "王", proposal=draft)], cat)
    assert len(out.proposals) == 1 and out.recorded[0].proposal == out.proposals[0].id
    assert [link.code for link in ws.learned_links(cat.entries)] == [NIL]  # not a catalogue code: no code fits
    assert [link.code for link in ws.learned_links({"113009999"})] == ["113009999"]  # once a catalogue has it
    p = ws.proposals()[0]
    assert (p.code, p.name, p.status) == ("113009999", "某某工作及时率", "open")
    with pytest.raises(Forbidden):
        ws.review_proposal(p.id, "approved", "李四", caller=Caller("李四", Role.REVIEWER))
    ws.review_proposal(p.id, "approved", "组长", caller=LOCAL)
    assert ws.proposals()[0].status == "approved"
    # the same code and name proposed again: the same proposal
    again = ws.record([d("另一写法的某某工作及时率", "13", "113009999", "王", proposal=draft)], cat)
    assert again.proposals == [] and again.recorded[0].proposal == p.id
    # a proposal whose decision is kept out (another reviewer's stands) is not made either
    ws.record([d("会务保障到位率", "12", "112000272", "张三")], cat)
    kept_out = ws.record([d("会务保障到位率", "12", "112009998", "王", proposal=ProposalDraft(
        "112009998", "会务保障到位率", "1", "12"))], cat)
    assert len(kept_out.conflicts) == 1 and kept_out.proposals == [] and len(ws.proposals()) == 1


def test_a_writer_waits_for_another_then_says_busy(location, cat):
    ws, other = Workspace.open(location), Workspace.open(location)
    with other.backend.transaction(write=True):
        with pytest.raises(BusyError, match="workspace busy"):
            ws.record([d("甲", "12", "112000272", "王")], cat, timeout=0.3)
    assert ws.record([d("甲", "12", "112000272", "王")], cat, timeout=0.3).recorded


def test_a_0_2_catalogue_copy_moves_in_once_nothing_lost(location, tmp_path):
    copy = tmp_path / "catalogue.sqlite"
    shutil.copy(LEGACY, copy)
    before = copy.read_bytes()
    ws = Workspace.open(location)
    note = import_catalogue(ws, copy)
    assert "moved 6 learned links (2 NIL) and 1 proposed codes" in note
    old = Catalogue.load(copy)
    log = ws.log()
    assert [(e.text, e.subject.level2, e.code, e.reviewer, e.at) for e in log[:6]] == [
        (link.text, link.level2, link.code, link.reviewer, link.decided_at) for link in old.learned]
    assert log[0].origin.file == "r1.csv" and log[0].origin.row == 2 and log[0].origin.via == "migration"
    # two spellings of one subject (the silent winner of 0.2): both in the history, the later in force
    hist = ws.history("办事群众满意度", "31")
    assert [(e.text, e.code) for e in hist] == [("办事群众满意度", "331003339"), ("办事群众满意度（%）", NIL)]
    assert ws.decision_for("办事群众满意度", "31").code == NIL
    [p] = ws.proposals()
    assert (p.code, p.name, p.text, p.reviewer) == ("113009999", "某某工作及时率", "某某工作及时率", "张三")
    assert ws.decision_for("某某工作及时率", "13").proposal == p.id
    assert ws.status().decisions == 6  # 5 learned subjects + the proposal's text
    assert import_catalogue(ws, copy) == "" and len(ws.log()) == 7  # never twice
    assert copy.read_bytes() == before  # the old file as it was


def _rebuilt_without(codes: set[str], out):
    occs = [o for o in read_occurrences(paths.BUNDLED_DB) if o.code not in codes]
    write_catalogue(out, occs)
    return out


def test_switching_to_a_rebuilt_catalogue_keeps_500_and_lists_the_10(location, cat, tmp_path):
    ws = Workspace.open(location)
    codes = sorted(cat.entries)
    lost = set(codes[:10])
    decisions = [d(f"被删编码的指标{i}", "", c, "王") for i, c in enumerate(codes[:10])]
    decisions += [d(f"其他指标{i}", "", codes[10 + i % (len(codes) - 10)], "王") for i in range(490)]
    ws.record(decisions, cat)
    rebuilt = _rebuilt_without(lost, tmp_path / "rebuilt.sqlite")
    sw = switch(ws, rebuilt, "组长")
    assert sw.kept == 500 and len(ws.in_force()) == 500
    assert sorted(a.decision.code for a in sw.affected) == sorted(lost)
    assert {a.change for a in sw.affected} == {"gone"} and "500 decisions in force kept; 10 name a code" in sw.summary()
    assert ws.catalogue().fingerprint == Catalogue.load(rebuilt).fingerprint
    assert catalogue_in_use(ws) == (rebuilt, [])


def test_a_newer_bundled_catalogue_is_used_after_an_upgrade(location, cat, tmp_path, monkeypatch):
    bundled = tmp_path / "pkg" / "catalogue.sqlite"
    bundled.parent.mkdir()
    shutil.copy(paths.BUNDLED_DB, bundled)
    monkeypatch.setattr(paths, "BUNDLED_DB", bundled)
    ws = Workspace.open(location)
    assert catalogue_in_use(ws) == (bundled, [])
    ws.record([d("任务达标完成率", "12", "112000272", "王"), d("验收合格率", "12", "112000287", "王")], cat)
    _rebuilt_without({"112000287"}, tmp_path / "new.sqlite")
    shutil.copy(tmp_path / "new.sqlite", bundled)  # the upgrade: a new bundled file in its place
    path, notes = catalogue_in_use(ws)
    assert path == bundled and len(notes) == 1 and "2 decisions in force kept; 1 name a code gone (1)" in notes[0]
    assert ws.catalogue().fingerprint == Catalogue.load(bundled).fingerprint and ws.catalogue().bundled
    assert catalogue_in_use(ws) == (bundled, [])  # said once
    assert len(ws.in_force()) == 2


def test_a_change_of_cleaning_rekeys_on_purpose(location, cat, monkeypatch):
    from indicode.workspace import keys, workspace

    ws = Workspace.open(location)
    ws.record([d("满意度A", "31", "331003339", "王"), d("满意度B", "31", NIL, "李")], cat)
    assert len(ws.in_force()) == 2
    monkeypatch.setattr(keys, "CLEAN_VERSION", 2)
    monkeypatch.setattr(workspace, "CLEAN_VERSION", 2)
    monkeypatch.setattr(keys, "clean", lambda t: t.rstrip("AB"))  # a cleaning that makes them one subject
    again = Workspace.open(location)
    assert any("re-keyed 2 decisions from cleaning version 1 to 2: 1 subjects" in n for n in again.notes)
    [e] = again.in_force()
    assert (e.text, e.subject.key, e.subject.clean_version) == ("满意度B", "满意度", 2)
    assert [x.text for x in again.history("满意度A", "31")] == ["满意度A", "满意度B"]
    assert Workspace.open(location).notes == []  # once


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_the_log_exports(location, cat, tmp_path, suffix):
    ws = Workspace.open(location)
    a = ws.record([d("=HYPERLINK(1)", "12", "112000272", "王", file="r.csv", row=2)], cat).recorded[0]
    ws.retract([a.id], "王")
    out = tmp_path / f"log.{suffix}"
    assert export_log(ws, out) == 2
    df = pd.read_csv(out, dtype=str, keep_default_na=False) if suffix == "csv" else \
        pd.read_excel(out, sheet_name="events", dtype=str, keep_default_na=False)
    assert list(df["kind"]) == ["decision", "retraction"] and list(df["reviewer"]) == ["王", "王"]
    assert df["text"][0] == ("'=HYPERLINK(1)" if suffix == "csv" else "=HYPERLINK(1)")  # never a formula
    assert df["file"][0] == "r.csv" and df["replaces"][1] == str(a.id)
