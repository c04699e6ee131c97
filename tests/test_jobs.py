"""Upload jobs through a real server: a declaration in, progress, its rows, decisions from the
workspace in the coded download; ids nobody can guess, the size cap, the cross-origin rules, a job
that survives a restart, and old jobs deleted."""
import base64
import time
import urllib.request

import openpyxl
import pytest

from conftest import SEED
from docmakers import write_xlsx
from indicode.catalogue.records import InputError
from indicode.jobs import JOB_ID_RE, JobState, JobStore, _write_state, read_state, safe_name
from lyingzips import lie
from server_proc import call, copy_bundled, raw_exchange, running_server

pytestmark = pytest.mark.usefixtures("shared_vector_cache")


def upload(url, path, headers=None):
    body = {"name": path.name, "data": base64.b64encode(path.read_bytes()).decode()}
    return call(url, "/api/jobs", body=body, headers=headers)


def wait_done(url, job_id, timeout=240):
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        st, job = call(url, f"/api/jobs/{job_id}")
        assert st == 200, job
        seen.append(job["state"])
        if job["state"] in ("done", "failed"):
            return job, seen
        time.sleep(0.3)
    raise AssertionError(f"job not done: {seen[-3:]}")


def fetch(url, path):
    with urllib.request.urlopen(url + path, timeout=60) as r:
        return r.status, r.headers, r.read()


def workers_of(jobs: str, wait: float = 5.0) -> list[int]:
    """The worker processes still running for this jobs folder (read from /proc), after `wait` s."""
    from pathlib import Path

    deadline = time.monotonic() + wait
    while True:
        found = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if b"spawn_main" in (proc / "cmdline").read_bytes() and \
                        f"INDICODE_JOBS={jobs}".encode() in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.fixture
def served(tmp_path):
    cat = copy_bundled(tmp_path)
    env = {"INDICODE_JOBS": str(tmp_path / "jobs")}
    return cat, env


def test_upload_review_and_download_the_coded_declaration(served, tmp_path):
    cat, env = served
    orig = write_xlsx(SEED["000"].read_text(encoding="utf-8").split("\n"), tmp_path / "高新区申报.xlsx")
    with running_server("-c", str(cat), env=env) as url:
        st, job = upload(url, orig)
        assert st == 202 and job["state"] == "queued" and JOB_ID_RE.match(job["id"]) and len(job["id"]) >= 32
        done, _ = wait_done(url, job["id"])
        assert done["state"] == "done", done
        assert done["rows"] > 100 and sum(done["decisions"].values()) == done["rows"]
        st, rows = call(url, f"/api/jobs/{job['id']}/rows")
        recs = [r for r in rows["rows"] if r["indicator"]]
        assert st == 200 and all(r["decided"] is None for r in recs) and recs[0]["source"] == "高新区申报.xlsx"
        # two decisions in the page's way (POST /api/feedback): a code, and 无匹配
        a, b = recs[0], next(r for r in recs if r["indicator"] != recs[0]["indicator"])
        code = a["code"] or a["alt1"].split("-")[0]
        assert call(url, "/api/feedback", body={"text": a["indicator"], "class": a["class"], "code": code,
                                                "reviewer": "王芳", "origin": "page"})[0] == 200
        assert call(url, "/api/feedback", body={"text": b["indicator"], "class": b["class"], "code": "NIL",
                                                "reviewer": "王芳", "origin": "page"})[0] == 200
        st, rows = call(url, f"/api/jobs/{job['id']}/rows")
        decided = {r["indicator"]: r["decided"]["code"] for r in rows["rows"] if r["decided"]}
        assert decided == {a["indicator"]: code, b["indicator"]: "NIL"}
        st, headers, body = fetch(url, f"/api/jobs/{job['id']}/download/coded")
        assert st == 200 and "attachment" in headers["Content-Disposition"]
        coded = tmp_path / "coded.xlsx"
        coded.write_bytes(body)
        ws, ws0 = openpyxl.load_workbook(coded).active, openpyxl.load_workbook(orig).active
        col = ws0.max_column + 1
        got = {ws.cell(r["line"], col).value for r in recs if ws.cell(r["line"], col).value}
        name = call(url, f"/api/codes/{code}")[1]["name"]
        assert got == {f"{code}-{name}", "无匹配"}
        for row in ws0.iter_rows():  # nothing else changed
            for c in row:
                assert ws.cell(c.row, c.column).value == c.value
        for kind, magic in (("review", b"PK"), ("csv", "\ufeff".encode())):
            st, headers, body = fetch(url, f"/api/jobs/{job['id']}/download/{kind}")
            assert st == 200 and body.startswith(magic), kind
    assert workers_of(env["INDICODE_JOBS"]) == []  # the worker process ended with the server
    # a restart: the job, its rows and downloads are still there
    with running_server("-c", str(cat), env=env) as url:
        st, again = call(url, f"/api/jobs/{job['id']}")
        assert st == 200 and again["state"] == "done" and again["rows"] == done["rows"]
        assert fetch(url, f"/api/jobs/{job['id']}/download/review")[0] == 200


def test_upload_bounds_and_cross_origin(served, tmp_path):
    cat, env = served
    with running_server("-c", str(cat), env=env) as url:
        spec = call(url, "/openapi.json")[1]["paths"]  # the document tells what the routes answer
        assert {"202", "403", "413", "415", "503"} <= set(spec["/api/jobs"]["post"]["responses"])
        assert {"404", "409"} <= set(spec["/api/jobs/{job_id}/download/{kind}"]["get"]["responses"])
        assert call(url, "/api/jobs/" + "A" * 40)[0] == 404  # no such job, whatever id is guessed
        assert call(url, "/api/jobs/..%2F..%2Fetc")[0] == 404
        bad = tmp_path / "x.xlsx"
        bad.write_bytes(b"not a workbook at all")
        st, job = upload(url, bad, headers={"Origin": "http://evil.example"})
        assert st == 403 and "origin" in job["error"]
        st, job = call(url, "/api/jobs", raw=b"name=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert st == 415
        st, job = call(url, "/api/jobs", body={"name": "a.xlsx", "data": "!!notbase64"})
        assert st == 422 and "base64" in job["error"]
        host = url.split("//")[1]
        head = (f"POST /api/jobs HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {49 * 2**20}\r\n\r\n").encode()
        st, _, job = raw_exchange(url, head + b'{"name": "big.xlsx", "data": "AAAA')
        assert st == 413 and "larger than" in job["error"]  # refused before the body is read
        # a broken file is a failed job with one line naming the file, never a crash
        st, job = upload(url, bad)
        done, _ = wait_done(url, job["id"])
        assert done["state"] == "failed" and done["error"].startswith("x.xlsx") and "\n" not in done["error"]
        assert call(url, f"/api/jobs/{job['id']}/rows")[0] == 409


def test_upload_refuses_zip_bombs_lying_zips_and_what_is_no_document(served, tmp_path):
    # each a failed job whose error is one line naming the file and what is wrong with it, in the
    # page's Chinese; the server and its worker go on to code the next upload
    cat, env = served
    ok = write_xlsx(SEED["004"].read_text(encoding="utf-8").split("\n"), tmp_path / "ok.xlsx")
    # a zip bomb: 256 MiB that say so in the directory (size and CRC true), a few hundred KiB on the wire
    bomb = lie(ok, tmp_path / "炸弹.xlsx", "xl/worksheets/sheet1.xml", 256 * 2**20, declared=256 * 2**20)
    assert bomb.stat().st_size < 2**20
    liar = lie(ok, tmp_path / "说谎.xlsx", "xl/worksheets/sheet1.xml", 64 * 2**20)
    photo = tmp_path / "照片.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 64)
    with running_server("-c", str(cat), env=env) as url:
        for path, words in ((bomb, "压缩炸弹"), (liar, "文件已损坏")):
            st, job = upload(url, path)
            assert st == 202, job
            done, _ = wait_done(url, job["id"])
            assert done["state"] == "failed", done
            err = done["error"]
            assert path.name in err.split("：")[0] and words in err and "\n" not in err and "internal" not in err, err
            assert "xl/worksheets/sheet1.xml" in err, err  # which part of the package is wrong
        st, job = upload(url, photo)  # refused at once, naming it and the formats taken; no job made
        assert st == 422, job
        err = job["error"]
        assert err.split("：")[0].split(": ")[0] == "照片.jpg" and "\n" not in err, err
        assert ".jpg" in err and ".xlsx" in err and ".pdf" in err, err  # what it is, and what is taken
        assert len(list((tmp_path / "jobs").glob("*/in"))) == 2  # the bomb's and the liar's, nothing more
        st, job = upload(url, ok)  # and the next upload is coded as ever
        done, _ = wait_done(url, job["id"])
        assert done["state"] == "done" and done["rows"] > 0, done


def test_interrupted_job_runs_again_and_old_jobs_expire(served, tmp_path):
    cat, env = served
    root = tmp_path / "jobs"
    old = JobState("o" * 32, "old.csv", time.time() - 8 * 86400, state="done")
    (root / old.id / "in").mkdir(parents=True)
    _write_state(root / old.id, old)
    cut = JobState("c" * 32, "d.xlsx", time.time(), state="running", stage="matching", done=5, total=50)
    (root / cut.id / "in").mkdir(parents=True)
    write_xlsx(SEED["004"].read_text(encoding="utf-8").split("\n"), root / cut.id / "in" / "d.xlsx")
    _write_state(root / cut.id, cut)
    with running_server("-c", str(cat), env=env) as url:
        assert call(url, f"/api/jobs/{old.id}")[0] == 404  # older than 7 days: deleted
        done, seen = wait_done(url, cut.id)
        assert done["state"] == "done" and done["rows"] > 10
    assert not (root / old.id).exists() and read_state(root / cut.id).state == "done"


def test_store_keeps_days_and_names(tmp_path):
    st = JobState("k" * 32, "a.csv", time.time() - 2 * 86400, state="done")
    (tmp_path / st.id).mkdir()
    _write_state(tmp_path / st.id, st)
    assert JobStore(tmp_path, "", None, keep_days=3).expire() == 0
    assert JobStore(tmp_path, "", None, keep_days=1).expire() == 0 and not (tmp_path / st.id).exists()
    assert safe_name("../../etc/passwd") == "passwd" and safe_name("C:\\a\\申报.XLSX") == "申报.xlsx"
    assert safe_name("x.exe") == "x" and safe_name("") == "upload"


def test_an_upload_past_its_row_or_time_limit_fails_with_one_line(tmp_path, monkeypatch):
    """Per-upload limits ($INDICODE_JOBS_MAX_ROWS, $INDICODE_JOBS_MAX_SECONDS): a job past either fails
    with one line naming the file and the limit (in Chinese, as the page shows it); within them it is
    coded. Run in this process (`run_job` is what the worker runs)."""
    from concurrent.futures import Future

    from indicode.catalogue.paths import BUNDLED_DB as bundled_catalogue
    from indicode.jobs import FAILED, run_job

    class Held:  # an executor that runs nothing: the test runs the job itself
        def submit(self, *a, **kw):
            return Future()

    orig = write_xlsx(SEED["004"].read_text(encoding="utf-8").split("\n"), tmp_path / "大表.xlsx")
    monkeypatch.setenv("INDICODE_JOBS", str(tmp_path / "jobs"))
    monkeypatch.setenv("INDICODE_JOBS_MAX_ROWS", "100")
    monkeypatch.setenv("INDICODE_JOBS_MAX_SECONDS", "0.001")
    store = JobStore.from_env(str(bundled_catalogue), None)
    assert (store.max_rows, store.max_seconds) == (100, 0.001)
    store._pool = Held()
    st = store.submit(orig.name, orig.read_bytes())
    assert run_job(str(store.root / st.id), str(bundled_catalogue), None, max_rows=100) == FAILED
    error = store.state(st.id).error
    assert error.startswith("大表.xlsx：共 155 行指标，超过单次上传允许的 100 行") and "\n" not in error, error
    st = store.submit(orig.name, orig.read_bytes())
    assert run_job(str(store.root / st.id), str(bundled_catalogue), None, max_seconds=0.001) == FAILED
    error = store.state(st.id).error
    assert error.startswith("大表.xlsx：未能在 0.001 秒内完成编码") and "\n" not in error, error
    st = store.submit(orig.name, orig.read_bytes())
    assert run_job(str(store.root / st.id), str(bundled_catalogue), None, max_rows=155) == "done", store.state(st.id)
    monkeypatch.setenv("INDICODE_JOBS_MAX_ROWS", "lots")
    with pytest.raises(InputError, match="INDICODE_JOBS_MAX_ROWS=lots"):
        JobStore.from_env(str(bundled_catalogue), None)
