"""A catalogue that changes under a running server: learned into, rebuilt by `indicode catalogue
build` and replaced by other processes. The server picks each change up, or says plainly (503, and
in /api/health) that it cannot serve."""
import shutil
import subprocess
import sys

import pytest

from conftest import SEED
from indicode.catalogue.lookup import Catalogue
from indicode.workspace import Workspace
from server_proc import call, copy_bundled, running_server
from workspace_fixtures import in_force, teach


@pytest.mark.slow
def test_server_follows_its_catalogue_file(tmp_path):
    cat = copy_bundled(tmp_path)
    before = Catalogue.load(cat)
    with running_server("-c", str(cat), env={"INDICODE_CACHE_DIR": str(tmp_path / "cache")}) as url:
        st, h = call(url, "/api/health")
        assert st == 200 and h["ok"] and h["fingerprint"] == before.fingerprint and h["codes"] == len(before)

        # a decision recorded in the workspace by another process (this one)
        teach(cat, [("会务保障到位率", "12", "112000272", "王")])
        st, s = call(url, "/api/suggest", {"text": "会务保障到位率", "class": "12"})
        assert (st, s["decision"], s["code"], s["reason"]) == (200, "accept", "112000272", "learned")

        # rebuilt from fewer documents by `indicode catalogue build` in another process
        out = subprocess.run([sys.executable, "-m", "indicode.cli", "catalogue", "build", str(SEED["000"]),
                              "-o", str(cat)],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        after = Catalogue.load(cat)
        assert after.fingerprint != before.fingerprint
        gone = sorted(set(before.entries) - set(after.entries))
        assert gone, "the smaller build should drop the codes only document 004 carries"
        st, h = call(url, "/api/health")
        assert st == 200 and h["ok"] and h["fingerprint"] == after.fingerprint and h["codes"] == len(after)
        assert call(url, "/api/codes/" + gone[0])[0] == 404
        kept = next(iter(after.entries))
        assert call(url, "/api/codes/" + kept)[0] == 200
        st, s = call(url, "/api/suggest", {"text": "办事群众满意度", "class": "31", "k": 50})
        assert st == 200 and s["candidates"] and not {c["code"] for c in s["candidates"]} & set(gone)
        st, s = call(url, "/api/suggest", {"text": "会务保障到位率", "class": "12"})  # learned links survive a build
        assert (s["decision"], s["code"]) == ("accept", "112000272")
        # feedback after the rebuild (this raised KeyError before)
        st, d = call(url, "/api/feedback",
                     body={"text": "租金支付及时率", "class": "13", "code": kept, "reviewer": "李"})
        assert st == 200 and d["stored"]["code"] == kept
        assert ("租金支付及时率", "13", kept, "李", "http") in in_force()
        st, s = call(url, "/api/suggest", {"text": "租金支付及时率", "class": "13"})
        assert (s["decision"], s["code"], s["reason"]) == ("accept", kept, "learned")

        # replaced by something that is not a catalogue: said plainly, everywhere
        saved = tmp_path / "saved.sqlite"
        shutil.copy(cat, saved)
        cat.write_bytes(b"not a catalogue")
        st, h = call(url, "/api/health")
        assert st == 503 and h["ok"] is False and "catalogue" in h["error"]
        st, d = call(url, "/api/suggest", {"text": "办事群众满意度"})
        assert st == 503 and "cannot be served" in d["error"]
        st, d = call(url, "/api/feedback", body={"text": "x", "code": "NIL"})
        assert st == 503
        assert cat.read_bytes() == b"not a catalogue"  # nothing written into it

        # and back
        shutil.copy(saved, cat)
        st, h = call(url, "/api/health")
        assert st == 200 and h["ok"] and h["fingerprint"] == after.fingerprint
        assert call(url, "/api/suggest", {"text": "办事群众满意度"})[0] == 200


def test_service_reuses_the_index_while_the_fingerprint_holds(tmp_path, linker):
    from indicode.matcher.linker import Linker
    from indicode.server import Service

    cat = copy_bundled(tmp_path)
    svc = Service(Linker(Catalogue.load(cat), linker.encoder, model=linker.model, index=linker.index), Workspace.open(),
                  follow=False)
    first = svc.linker()
    assert svc.linker() is first  # nothing changed: the same object, no reload
    teach(cat, [("某某及时率", "13", "113001668", "王")])
    second = svc.linker()
    assert second is not first and second.index is first.index and second.cat is first.cat and svc.reloads == 1
    assert [link.text for link in second.decisions] == ["某某及时率"]
    assert first.decisions == []  # requests still running on the old one are not disturbed


@pytest.mark.slow
def test_feedback_while_another_process_holds_the_catalogue_is_a_json_503(tmp_path):
    import sqlite3

    from indicode.workspace.store import default_location

    cat = copy_bundled(tmp_path)
    with running_server("-c", str(cat), env={"INDICODE_CACHE_DIR": str(tmp_path / "cache")}) as url:
        assert call(url, "/api/health")[0] == 200
        con = sqlite3.connect(default_location(), isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")  # another writer of the workspace, mid-transaction
        try:
            st, d = call(url, "/api/feedback", body={"text": "租金支付及时率", "class": "13", "code": "113001668"})
        finally:
            con.execute("ROLLBACK")
            con.close()
        assert st == 503 and "not recorded" in d["error"]
        assert in_force() == []
        st, d = call(url, "/api/feedback", body={"text": "租金支付及时率", "class": "13", "code": "113001668"})
        assert st == 200  # and once it is free again


def _open_fds(path, pid="self") -> list[str]:
    """The files process `pid` has open whose path starts with `path` (a file and its -wal, say)."""
    import os

    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith(str(path)):
            out.append(target)
    return out


def test_a_replaced_catalogue_closes_its_file_once_no_request_uses_it(tmp_path, linker):
    import shutil
    import sqlite3

    import pytest

    from indicode.catalogue.lazy import LazyCatalogue
    from indicode.matcher.linker import Linker
    from indicode.server import Service

    cat = copy_bundled(tmp_path)
    svc = Service(Linker(LazyCatalogue.load(cat), linker.encoder, model=linker.model, index=linker.index),
                  Workspace.open(),
                  follow=False)
    in_flight = svc.linker()  # a request running on it
    con = in_flight.cat._con
    shutil.copy(cat, tmp_path / "new.sqlite")
    (tmp_path / "new.sqlite").replace(cat)  # the catalogue replaced by another process
    assert svc.linker() is not in_flight and svc.reloads == 1
    # the request on the old Linker still finishes correctly, reading entries it had not read yet
    assert svc.suggest(in_flight, "办事群众满意度", "31").candidates
    assert in_flight.cat.lookup("满意", limit=3) and in_flight.decisions == []
    assert con.execute("SELECT count(*) FROM codes").fetchone()[0] == len(in_flight.cat)
    del in_flight  # the request ends: nothing uses the old catalogue any more
    with pytest.raises(sqlite3.ProgrammingError):
        con.execute("SELECT 1")

    # feedback after feedback: the reloads do not pile file descriptors up (one more a reload would show)
    for i in range(10):
        teach(cat, [(f"某项工作{i}完成率", "13", "113001668", "王")])
        svc.suggest(svc.linker(), f"某项工作{i}完成率", "13")
    assert svc.reloads == 11
    assert len(_open_fds(cat.resolve())) == 1  # the catalogue in use, nothing else
    # nor vector caches: each Linker's is closed with it (at most two connections of one cache,
    # each the file, its -wal and -shm)
    assert len(_open_fds((tmp_path / "cache").resolve())) <= 6


@pytest.mark.slow
def test_feedback_waits_for_another_workspace_writer_briefly_and_a_build_not_at_all(tmp_path):
    """While another process writes the workspace (a long `learn`), feedback waits its own short time
    (2 s, whatever $INDICODE_LOCK_TIMEOUT says for the command line), then answers 503 with Retry-After,
    holding no worker thread for 30 s. A catalogue build in progress no longer holds feedback up: the
    decisions live apart from the catalogue."""
    import http.client
    import json
    import sqlite3
    from urllib.parse import urlsplit

    from indicode.catalogue.locking import write_lock
    from indicode.server.service import FEEDBACK_LOCK_TIMEOUT
    from indicode.workspace.store import default_location

    cat = copy_bundled(tmp_path)
    body = json.dumps({"text": "租金支付及时率", "class": "13", "code": "113001668"})
    env = {"INDICODE_CACHE_DIR": str(tmp_path / "cache"), "INDICODE_LOCK_TIMEOUT": "20"}
    with running_server("-c", str(cat), env=env) as url:
        u = urlsplit(url)
        con = sqlite3.connect(default_location(), isolation_level=None)
        con.execute("BEGIN IMMEDIATE")  # a learn in progress in another process
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            c.request("POST", "/api/feedback", body.encode(), {"Content-Type": "application/json"})
            r = c.getresponse()
            d = json.loads(r.read())
            c.close()
        finally:
            con.execute("ROLLBACK")
            con.close()
        assert r.status == 503 and r.getheader("Retry-After") == f"{FEEDBACK_LOCK_TIMEOUT:.0f}"
        assert d["error"].startswith("catalogue busy, try again") and "workspace busy" in d["error"]
        assert in_force() == []
        with write_lock(cat):  # a build in progress (another process than the server)
            st, d = call(url, "/api/feedback", body=json.loads(body))
        assert st == 200 and d["stored"]["code"] == "113001668"


@pytest.mark.slow
def test_a_day_of_feedback_leaves_no_files_open_in_the_server_process(tmp_path):
    """Each feedback rewrites the catalogue and so makes the server reload it: the real server
    process keeps one catalogue file and one vector cache open, not one per reload."""
    import os

    cat = copy_bundled(tmp_path)
    with running_server("-c", str(cat), env={"INDICODE_CACHE_DIR": str(tmp_path / "cache")}) as url:
        pids = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline_has(p, str(cat))]
        assert len(pids) == 1
        for i in range(30):
            st, _ = call(url, "/api/feedback", body={"text": f"某项工作{i}完成率", "class": "13", "code": "113001668"})
            assert st == 200
            assert call(url, "/api/suggest", {"text": f"某项工作{i}完成率", "class": "13"})[0] == 200
        st, h = call(url, "/api/health")
        assert st == 200 and h["reloads"] >= 30 and h["decisions"] == 30
        # the Linker in use, and the start-up one `indicode serve` keeps referring to: two, not 31
        assert len(_open_fds(cat.resolve(), pids[0])) <= 2
        assert len(_open_fds((tmp_path / "cache").resolve(), pids[0])) <= 12  # each cache: 2 connections × 3 files


def _cmdline_has(pid: str, text: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return text.encode() in f.read().split(b"\0")
    except OSError:
        return False
