"""The catalogue built from the coded seeds: entries, aliases, anomalies, storage, lookups."""
import re
import sqlite3

import openpyxl
import pandas as pd
import pytest

from conftest import SEED
from indicode.catalogue.build import build
from indicode.catalogue.export import catalogue_frames, write_frames
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.records import InputError


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("cat") / "c.sqlite"
    n, problems = build([SEED[k] for k in ("000", "001", "002", "003", "004")], out)
    return out, n, problems


def test_counts_and_problems(built):
    out, n, problems = built
    assert n == 183  # 178 Zhuhai + 5 Guangzhou coded rows
    assert problems == ["000_60102fb8b0c8a01a.txt:124: indicator row without a level-3 indicator (truncated row)"]
    cat = Catalogue.load(out)
    assert sum(e.count for e in cat.entries.values()) == 183


def test_aliases_and_canonical_name(built):
    cat = Catalogue.load(built[0])
    e = cat.get("222000929")
    assert e.name == "保障机构正常运作" and e.aliases == ["保障机构正常运转"]  # 2 occurrences against 1
    assert e.names == {"保障机构正常运作": 2, "保障机构正常运转": 1}
    assert (e.level1, e.level2) == ("2", "22")
    assert e.sources == ["000_60102fb8b0c8a01a.txt"] and e.values == [">90%", "100%"]


def _anoms(cat, kind):
    return {a.code for a in cat.anomalies if a.kind == kind}


def test_anomalies_kept_visible(built):
    cat = Catalogue.load(built[0])
    assert _anoms(cat, "one-name-many-codes") == {"111000231", "111000234"}
    assert _anoms(cat, "one-code-many-names") == {"222000929"}
    assert _anoms(cat, "malformed-code") == {"1114010894"}
    assert "212003359" in _anoms(cat, "code-digits-disagree")
    assert "111063829" in _anoms(cat, "filed-class-mismatch")  # a quantity code filed under 12-质量指标
    bad = cat.get("1114010894")
    assert bad is not None and not bad.valid and bad.name == "市级及以上主要刊物上刊登的稿件数"
    odd = cat.get("212003359")
    assert (odd.level1, odd.level2, odd.filed) == ("2", "12", {"2/12": 1})


def test_same_sources_give_the_same_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # the time of making is in the file
    first, again = tmp_path / "first.sqlite", tmp_path / "again.sqlite"
    build([SEED[k] for k in ("000", "001", "002", "003", "004")], first)
    build([SEED[k] for k in ("004", "003", "002", "001", "000")], again)  # order does not matter
    assert again.read_bytes() == first.read_bytes()
    assert Catalogue.load(again).version.made_at == "2026-01-01T00:00:00+00:00"


def test_merge_catalogues(tmp_path, built):
    a, b, merged = tmp_path / "a.sqlite", tmp_path / "b.sqlite", tmp_path / "m.sqlite"
    build([SEED["000"]], a)
    build([SEED["004"]], b)
    assert len(Catalogue.load(a)) == 118 and len(Catalogue.load(b)) == 5
    build([a, b], merged)
    m = Catalogue.load(merged)
    assert set(m.entries) == set(Catalogue.load(built[0]).entries)
    build([merged, SEED["000"]], merged)  # a source merged twice counts once
    assert Catalogue.load(merged).get("112000272").count == 10


def _damage(built, tmp_path, sql):
    import shutil

    bad = tmp_path / "bad.sqlite"
    shutil.copy(built[0], bad)
    with sqlite3.connect(bad) as con:
        con.executescript(sql)
    return bad


@pytest.mark.parametrize("sql,problem", [
    ("UPDATE meta SET value='0' WHERE key='schema_version'", "schema version '0', this indicode reads 1, 2 or 3"),
    ("UPDATE meta SET value='1.0' WHERE key='schema_version'", "schema version '1.0'"),
    ("DELETE FROM meta WHERE key='schema_version'", "schema version missing"),
    ("DELETE FROM meta WHERE key='fingerprint'", "damaged catalogue (no fingerprint)"),
    ("DROP TABLE learned", "damaged catalogue (missing table learned)"),
    ("UPDATE codes SET sources='[not json' WHERE code='112000272'", "code 112000272: column sources is not valid JSON"),
    ("UPDATE codes SET filed='[1, 2]' WHERE code='112000272'", "code 112000272: column filed is not valid JSON"),
    ("DROP TABLE codes; DROP TABLE meta; CREATE TABLE other (x)", "not an indicode catalogue (an SQLite database"),
])
def test_damaged_or_foreign_catalogue_refused_on_open(tmp_path, built, sql, problem):
    bad = _damage(built, tmp_path, sql)
    with pytest.raises(InputError, match=re.escape(problem)):
        Catalogue.load(bad)


def test_not_sqlite_and_damaged_pages_refused(tmp_path, built):
    import shutil

    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="not an indicode catalogue"):
        Catalogue.load(junk)
    # damaged pages: overwrite the middle of a real catalogue; SQLite's page check must notice
    broken = tmp_path / "broken.sqlite"
    shutil.copy(built[0], broken)
    data = bytearray(broken.read_bytes())
    page = 4096
    mid = (len(data) // page // 2) * page
    data[mid + 8:mid + page] = bytes([0xA5]) * (page - 8)
    broken.write_bytes(bytes(data))
    with pytest.raises(InputError, match="damaged catalogue"):
        Catalogue.load(broken)
    with pytest.raises(InputError, match="damaged catalogue"):
        build([SEED["000"]], broken)  # nor is it replaced (its learned links could not be kept)


def test_version_1_catalogue_is_read_and_a_proposal_leaves_it_as_it_is(tmp_catalogue):
    """A catalogue is reference data: a proposed code goes to the workspace, never into the file."""
    from indicode.workspace import NewDecision, ProposalDraft, Workspace

    with sqlite3.connect(tmp_catalogue) as con:
        assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "1"  # as shipped
    before, raw = Catalogue.load(tmp_catalogue), tmp_catalogue.read_bytes()
    assert before.proposed == []
    ws = Workspace.open()
    draft = ProposalDraft("113009999", "某某及时率", "1", "13")
    ws.record([NewDecision("某某及时率", "13", "113009999", "王", proposal=draft)], before)
    assert [(p.code, p.name, p.reviewer) for p in ws.proposals()] == [("113009999", "某某及时率", "王")]
    assert tmp_catalogue.read_bytes() == raw and Catalogue.load(tmp_catalogue).get("113009999") is None


def test_build_output_checks(tmp_path, built):
    with pytest.raises(InputError, match="must end in .sqlite"):
        build([SEED["000"]], tmp_path / "cat.xlsx")
    assert not (tmp_path / "cat.xlsx").exists()
    mine = tmp_path / "mine.sqlite"
    with sqlite3.connect(mine) as con:
        con.execute("CREATE TABLE t (x)")
    with pytest.raises(InputError, match="not an indicode catalogue"):
        build([SEED["000"]], mine)  # somebody else's database is never replaced
    assert sqlite3.connect(mine).execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]


def test_build_without_codes_fails(tmp_path):
    with pytest.raises(InputError, match="no coded indicator rows"):
        build([SEED["001"]], tmp_path / "x.sqlite")
    assert not (tmp_path / "x.sqlite").exists()


def test_lookup_by_code_prefix_class_and_name(bundled_catalogue):
    cat = bundled_catalogue
    assert [e.code for e in cat.lookup("112000272")] == ["112000272"]
    pre = cat.lookup("1130002")
    assert pre and all(e.code.startswith("1130002") for e in pre)
    assert {e.code for e in cat.lookup("113")} == {c for c in cat.entries if c.startswith("113")}
    assert [e.code for e in cat.lookup("正常运转")] == ["222000929"]  # found through its alias
    sat = cat.lookup("满意度", klass="31")
    assert sat and all(e.level2 == "31" for e in sat)
    assert cat.lookup("服务对象满意度")[0].code == "331000551"  # exact name first
    assert cat.lookup("（件）") == cat.lookup("(件)")  # width-folded
    assert [e.code for e in cat.lookup("召开会议次数")] == ["111000231", "111000234"]
    assert cat.lookup("没有这个指标") == []


def test_export_csv_and_xlsx(tmp_path, bundled_catalogue):
    frames = catalogue_frames(bundled_catalogue)
    write_frames(tmp_path / "c.csv", frames)
    write_frames(tmp_path / "c.xlsx", frames)
    csv = pd.read_csv(tmp_path / "c.csv", dtype=str, encoding="utf-8-sig")
    assert len(csv) == len(bundled_catalogue)
    assert csv.set_index("code").loc["222000929", "aliases"] == "保障机构正常运转"
    wb = openpyxl.load_workbook(tmp_path / "c.xlsx")
    assert wb.sheetnames == ["codes", "anomalies"]
    assert wb["anomalies"].max_row - 1 == len(bundled_catalogue.anomalies)


def test_bundled_catalogue_is_built_from_bundled_seeds(bundled_catalogue, tmp_path):
    from indicode.catalogue.paths import BUNDLED_DB, BUNDLED_SEEDS

    fresh = tmp_path / "fresh.sqlite"
    build(sorted(BUNDLED_SEEDS.glob("*.txt")), fresh)
    assert Catalogue.load(fresh).fingerprint == bundled_catalogue.fingerprint
    assert bundled_catalogue.path == BUNDLED_DB


def test_anomalies_of_a_code(bundled_catalogue):
    assert [a.kind for a in bundled_catalogue.anomalies_of("222000929")] == ["one-code-many-names"]
    assert {a.kind for a in bundled_catalogue.anomalies_of("111000231")} == {"one-name-many-codes"}
    assert bundled_catalogue.anomalies_of("112000272") == []
    cat = bundled_catalogue
    assert sum(len(cat.anomalies_of(c)) for c in cat.entries) == len(cat.anomalies)


def test_codes_named_first_index_is_built_once_and_whole_while_another_thread_asks(monkeypatch):
    """Two server threads ask for the first time at once: the second must wait for the whole index,
    not read it half-built (it used to get no code for a name the build had not reached yet)."""
    import threading

    from indicode.catalogue import lookup
    from indicode.catalogue.textio import fold

    cat = lookup.Catalogue.load()
    name = list(cat.entries.values())[-1].name  # the build reaches it last
    want = [e.code for e in cat.entries.values() if fold(name) in {fold(n) for n in e.names}]
    asked, waiting, answers = threading.Event(), threading.Event(), {}
    real_fold, folds = lookup.fold, [0]

    class WatchedLock:  # a lock that tells when a second thread comes to it
        def __init__(self):
            self._lock = threading.Lock()

        def __enter__(self):
            if threading.current_thread() is not first:
                waiting.set()
            return self._lock.__enter__()

        def __exit__(self, *exc):
            return self._lock.__exit__(*exc)

    def fold_pausing(text):  # partway through the first thread's build, the second one asks
        if threading.current_thread() is first:
            folds[0] += 1
            if folds[0] == 10:
                second.start()
                while not (asked.is_set() or waiting.is_set()):
                    asked.wait(0.01)
        return real_fold(text)

    def ask(who):
        answers[who] = cat.codes_named(name)
        if who == "second":
            asked.set()

    monkeypatch.setattr(lookup, "_NAME_INDEX_LOCK", WatchedLock(), raising=False)
    monkeypatch.setattr(lookup, "fold", fold_pausing)
    first = threading.Thread(target=ask, args=("first",))
    second = threading.Thread(target=ask, args=("second",))
    first.start()
    first.join(timeout=60)
    second.join(timeout=60)
    assert want and answers == {"first": want, "second": want}
