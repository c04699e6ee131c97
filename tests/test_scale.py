"""Library scale: the character index and approximate vector search against exact search, stored
prepared names never used stale, the thread setting, concurrent suggestions, long names, the vector
cache's deferred writes and its in-memory fallback, the lazy catalogue."""
import csv
import json
import random
import sqlite3
import subprocess
import sys
import threading

import numpy as np
import pytest
from rapidfuzz import fuzz, process

from indicode.catalogue.entries import Occurrence
from indicode.catalogue.lazy import LazyCatalogue
from indicode.catalogue.lookup import Catalogue
from indicode.catalogue.writing import write_catalogue
from indicode.matcher import names as prepared
from indicode.matcher import vector_index
from indicode.matcher.cache import VectorCache
from indicode.matcher.candidates import keys_of
from indicode.matcher.linker import Linker
from indicode.matcher.present import suggestion_dict
from indicode.matcher.text import MAX_TEXT
from test_vector_index import FakeEncoder


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory, bundled_catalogue):
    """A 3,000-code catalogue of names made from the bundled names' characters and parts, with an
    HNSW index of stand-in vectors."""
    rng = random.Random(7)
    names = [n for e in bundled_catalogue.entries.values() for n in e.names]
    chars = "".join(sorted({ch for n in names for ch in n}))
    occs, seen = [], set()
    while len(occs) < 3000:
        a, b = rng.choice(names), rng.choice(names)
        n = a[: rng.randint(1, len(a))] + b[-rng.randint(2, 4):] if rng.random() < 0.7 else \
            "".join(rng.choice(chars) for _ in range(rng.randint(4, 12)))
        if n not in seen:
            seen.add(n)
            occs.append(Occurrence(code=f"111{len(occs):06d}", name=n, source="syn", line=len(occs)))
    folder = tmp_path_factory.mktemp("synthetic")
    write_catalogue(folder / "cat.sqlite", occs)
    cat = Catalogue.load(folder / "cat.sqlite")
    enc = FakeEncoder("fake-64", 64)
    vi = vector_index.build(cat, enc, folder, kind="hnsw")
    queries = [rng.choice(names) for _ in range(20)] + [rng.choice(sorted(seen))[1:] + "率" for _ in range(20)]
    return cat, enc, vi, queries


def test_keys_count_repeated_characters():
    assert keys_of("完成率率") == ["完1", "成1", "率1", "率2"]


def test_character_index_gives_the_exact_top_k_by_ratio(synthetic):
    cat, enc, vi, queries = synthetic
    lk = Linker(cat, enc, index=vi)
    idx, canon = lk.table.chars, lk.table.canon
    for q in queries:
        qc = lk.canon(q)
        exact = process.extract(qc, canon, scorer=fuzz.ratio, limit=20)
        got = idx.top(qc, canon, 20, first=32)  # a small first round, so the widening is exercised
        assert [round(s, 3) for _, s in got] == [round(s, 3) for _, s, _ in exact]
        assert {i for i, _ in got} == {i for _, _, i in exact} or got[-1][1] == exact[-1][1]  # ties at the end


def test_character_index_stops_at_names_sharing_no_character(synthetic):
    """A query of characters the catalogue lacks: the search stops once only names sharing nothing
    (ratio 0) are left, rather than scoring every name."""
    from indicode.matcher import candidates

    cat, enc, vi, _ = synthetic
    lk = Linker(cat, enc, index=vi)
    idx, canon = lk.table.chars, lk.table.canon
    scored = []
    real = candidates.cdist

    def counting(queries, choices, **kw):
        scored.append(len(choices))
        return real(queries, choices, **kw)

    candidates.cdist = counting
    try:
        got = idx.top("qwzxvk", canon, 20, first=32)
    finally:
        candidates.cdist = real
    assert len(got) == 20 and all(s == 0.0 for _, s in got)
    assert sum(scored) < len(canon) // 10


def test_fast_candidates_hold_the_exact_top_10(synthetic):
    """HNSW plus the character index against brute force over every vector and every name."""
    cat, enc, vi, queries = synthetic
    lk = Linker(cat, enc, index=vi)
    assert lk.generator.all_vecs is None and vi.meta.kind == "hnsw"
    full = vi.index.reconstruct_n(0, vi.index.ntotal)
    hits = 0
    for text in queries:
        q, v = lk.make_query(text), enc.encode_queries([text])[0]
        got = set(lk.generator(q, v))
        exact_vec = set(np.argsort(-(full @ v))[:10].tolist())
        exact_char = {i for _, _, i in process.extract(q.canon, lk.name_canon, scorer=fuzz.ratio, limit=10)}
        hits += (exact_vec | exact_char) <= got
    assert hits / len(queries) >= 0.95


def test_prepared_names_are_stored_and_never_used_stale(synthetic, monkeypatch):
    cat, enc, vi, _ = synthetic
    npz, js = prepared.paths_for(vi.path)
    Linker(cat, enc, index=vi)
    assert npz.exists() and js.exists()
    stamp = prepared.stamp_for(cat, vi)
    table = prepared.load(vi.path, stamp)
    assert table is not None and len(table.canon) == vi.meta.size
    built = prepared.build(cat, list(vi.names), list(vi.codes), stamp)
    assert table.canon == built.canon and table.head == built.head and table.kind == built.kind
    assert np.array_equal(table.chars.ids, built.chars.ids)
    # the matcher's code changed: the stored table is not used, and is rebuilt with the new stamp
    monkeypatch.setattr(prepared, "code_version", lambda: "changed")
    assert prepared.load(vi.path, prepared.stamp_for(cat, vi)) is None
    Linker(cat, enc, index=vi)
    assert json.loads(js.read_text(encoding="utf-8"))["stamp"].startswith("changed-")
    # a damaged file is rebuilt, not trusted
    npz.write_bytes(b"not numpy")
    assert prepared.load(vi.path, prepared.stamp_for(cat, vi)) is None
    lk = Linker(cat, enc, index=vi)
    assert prepared.load(vi.path, prepared.stamp_for(cat, vi)) is not None and lk.info[0].canon == lk.name_canon[0]


def test_prepared_info_is_name_info(linker):
    from indicode.matcher.features import measure_heads, name_info

    heads = measure_heads(linker.name_canon)
    for i in (0, 5, len(linker.table.canon) - 1):
        code = linker.codes[i]
        e = linker.cat.entries[code]
        a = linker.info[i]
        assert (a.canon, a.head, a.level2, a.kind) == (linker.name_canon[i], heads[linker.name_canon[i]], e.level2,
                                                       linker.code_kind[code])
        assert a == name_info(a.canon, a.head, e.level2, linker.code_kind[code], a.popularity, linker.weights)


def test_thread_setting_in_a_fresh_process():
    code = ("import os; from indicode.matcher import threads; s = threads.apply();"
            "from threadpoolctl import threadpool_info;"
            "print(os.environ['OMP_NUM_THREADS'], os.environ['OMP_WAIT_POLICY'], s['faiss'],"
            " max((p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'), default=1))")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OMP_")}
    out = subprocess.run([sys.executable, "-c", code], env={**env, "INDICODE_THREADS": "1"}, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["1", "PASSIVE", "1", "1"]
    out = subprocess.run([sys.executable, "-c", code], env={**env, "INDICODE_THREADS": "bad"}, capture_output=True,
                         text=True, check=True).stdout.split()
    from indicode.matcher.threads import available_cores

    assert out[0] == str(available_cores()) and out[2] == "1"


def test_suggest_from_several_threads_at_once(linker):
    texts = [("办事群众满意度", "31"), ("系统验收合格率", "12"), ("物业管理工作按时完成率", "13"), ("培训人次", "11"),
             ("档案数字化完成率", "12"), ("设备购置数量", "11")] * 3
    texts = [(f"{t}{i}" if i >= 6 else t, c) for i, (t, c) in enumerate(texts)]  # distinct: each one encodes
    expect = {t: suggestion_dict(linker.suggest(t, c)) for t, c in texts[:6]}
    got, errors = {}, []

    def work(part):
        try:
            for t, c in part:
                got[t] = suggestion_dict(linker.suggest(t, c))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(texts[i::4],)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(got) == len(texts)
    assert all(got[t] == expect[t] for t in expect)


def test_long_name_cut_and_flagged(linker, tmp_path):
    from indicode.bulk import normalize

    long = "档案数字化完成率" + "很" * 10_000
    s = linker.suggest(long, "12")
    assert s.cut and s.text == long and s.candidates
    assert not linker.suggest("档案数字化完成率", "12").cut
    doc = tmp_path / "long.csv"
    with doc.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["三级指标", "二级指标", "指标值"])
        w.writerow([long, "12", "100%"])
        w.writerow(["办事群众满意度", "31", "95%"])
    res = normalize([doc], linker)
    assert [r["indicator"] for r in res.records] == [long, "办事群众满意度"]  # kept whole
    assert str(MAX_TEXT) in res.records[0]["check"] and "cut" in res.records[0]["check"]
    assert res.records[1]["check"] == ""


def test_single_suggestion_does_not_write_the_cache(tmp_path):
    enc = FakeEncoder()
    cache = VectorCache(enc.name, enc.dim, tmp_path)
    rows = lambda: sqlite3.connect(cache.path).execute("SELECT count(*) FROM vec").fetchone()[0]  # noqa: E731
    v1, n1 = cache.encode(["满意度"], enc.encode_queries, defer=True)
    assert n1 == 1 and rows() == 0
    v2, n2 = cache.encode(["满意度"], enc.encode_queries, defer=True)  # served from the pending vectors
    assert n2 == 0 and np.allclose(v1, v2)
    cache.flush()
    assert rows() == 1
    cache.encode([f"t{i}" for i in range(10)], enc.encode_queries)  # bulk: written as it goes
    assert rows() == 11
    from indicode.matcher.cache import FLUSH_AT

    for i in range(FLUSH_AT - 1):  # single suggestions: written together, by a background thread
        cache.encode([f"s{i}"], enc.encode_queries, defer=True)
    assert rows() == 11 and cache.flusher is None
    cache.encode(["last"], enc.encode_queries, defer=True)
    cache.flusher.join()
    assert rows() == 11 + FLUSH_AT
    assert cache.encode(["s3"], enc.encode_queries)[1] == 0


def stored_vectors(path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT count(*) FROM vec").fetchone()[0]
    finally:
        con.close()


def test_a_dropped_cache_is_freed_and_keeps_its_deferred_vectors(tmp_path):
    """A server reload drops its old Linker's cache: nothing (the exit flush) may keep it alive, its
    deferred vectors are written, and its files are closed."""
    import os
    import weakref

    enc = FakeEncoder()
    cache = VectorCache(enc.name, enc.dim, tmp_path)
    vec, _ = cache.encode(["办事群众满意度"], enc.encode_queries, defer=True)
    path, gone = cache.path, weakref.ref(cache)
    assert stored_vectors(path) == 0  # deferred
    del cache
    assert gone() is None
    assert stored_vectors(path) == 1
    assert not [fd for fd in os.listdir("/proc/self/fd")
                if os.path.realpath(f"/proc/self/fd/{fd}").startswith(str(path.resolve()))]
    again = VectorCache(enc.name, enc.dim, tmp_path)
    assert np.allclose(again.encode(["办事群众满意度"], enc.encode_queries)[0], vec)


def test_vectors_put_while_a_cache_closes_stay_usable(tmp_path, monkeypatch):
    """Another thread may put vectors between `close`'s flush and its locks: they are kept in memory,
    not dropped with the files."""
    cache = VectorCache("enc-c", 4, tmp_path)
    real_flush = cache.flush

    def flush_then_put():
        real_flush()
        cache.put_many({"late": np.ones(4, np.float32)}, defer=True)  # as another thread would

    monkeypatch.setattr(cache, "flush", flush_then_put)
    cache.close()
    assert list(cache.get_many(["late"])) == ["late"]


def test_deferred_vectors_are_written_at_exit(tmp_path):
    """A cache still alive when the process ends writes its deferred vectors (a real process)."""
    script = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from indicode.matcher.cache import VectorCache\n"
        "kept = VectorCache('enc-a', 4, Path(sys.argv[1]))\n"
        "kept.put_many({'k1': np.ones(4, np.float32)}, defer=True)\n"
        "cycle = VectorCache('enc-b', 4, Path(sys.argv[1]))\n"
        "cycle.me = cycle  # freed only by the cycle collector, which may never run before exit\n"
        "cycle.put_many({'k2': np.ones(4, np.float32)}, defer=True)\n"
        "print(kept.path, cycle.path)\n")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and not out.stderr, out.stderr
    for path in out.stdout.split():
        assert stored_vectors(path) == 1, path


def test_bulk_write_beside_the_background_writer_does_not_deadlock(tmp_path):
    """The background writer takes the write lock, then the cache lock; a bulk write must not hold
    the cache lock while it waits for the write lock (it once did: both hung for good)."""
    import threading
    import time

    enc = FakeEncoder()
    cache = VectorCache(enc.name, enc.dim, tmp_path)
    holding = threading.Event()

    def writer_like():  # what flush() does, slowed between its two locks
        with cache._write_lock:
            holding.set()
            time.sleep(0.3)
            with cache._lock:
                pass

    t = threading.Thread(target=writer_like, daemon=True)
    t.start()
    holding.wait()
    bulk = threading.Thread(target=cache.encode, args=([f"b{i}" for i in range(10)], enc.encode_queries), daemon=True)
    bulk.start()
    bulk.join(timeout=20)
    t.join(timeout=20)
    assert not bulk.is_alive() and not t.is_alive(), "deadlock between the bulk write and the background writer"
    assert sqlite3.connect(cache.path).execute("SELECT count(*) FROM vec").fetchone()[0] == 10


def test_unwritable_cache_folder_falls_back_to_memory(tmp_path, capfd):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where the folder should be: cannot be created, even by root
    enc = FakeEncoder()
    calls = []

    def count(texts):
        calls.append(len(texts))
        return enc.encode_queries(texts)

    cache = VectorCache(enc.name, enc.dim, blocker / "cache")
    a, _ = cache.encode(["满意度", "完成率"], count)
    b, n = cache.encode(["满意度"], count)
    cache.flush()
    err = capfd.readouterr().err
    assert n == 0 and calls == [2] and np.allclose(a[0], b[0])
    assert err.count("\n") == 1 and "warning: cannot write the vector cache" in err and "Traceback" not in err


def test_linker_runs_with_an_unwritable_cache(monkeypatch, tmp_path, capfd):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("INDICODE_CACHE_DIR", str(blocker / "cache"))
    r = subprocess.run([sys.executable, "-m", "indicode.cli", "suggest", "办事群众满意度", "--class", "31"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert [ln for ln in r.stderr.splitlines() if ln.strip()] == [ln for ln in r.stderr.splitlines() if "warning" in ln]


def test_encode_stream_stopped_early_leaves_the_encoder_free(linker):
    texts = [f"指标{i}" for i in range(200)]
    for _ in linker.encode_stream(texts, batch=16):
        break
    v = linker.encode_queries(["办事群众满意度"])  # would hang if the encoder thread still held the lock
    assert v.shape == (1, linker.encoder.dim)
    rows = sorted(i for ids, _, _ in linker.encode_stream(texts[:40], batch=16) for i in ids)
    assert rows == list(range(40))


def test_lazy_catalogue_is_the_catalogue(tmp_catalogue):
    full, lazy = Catalogue.load(tmp_catalogue), LazyCatalogue.load(tmp_catalogue)
    assert lazy.fingerprint == full.fingerprint and lazy.learned == full.learned and lazy.proposed == full.proposed
    code = next(iter(full.entries))
    assert lazy.get(code) == full.get(code) and lazy.get("999999999") is None and "NIL" not in lazy.entries
    assert len(lazy.entries) == len(full.entries)
    assert [e.code for e in lazy.lookup("满意度")] == [e.code for e in full.lookup("满意度")]
    assert lazy.entries == full.entries and lazy.anomalies == full.anomalies
    assert all(lazy.anomalies_of(c) == full.anomalies_of(c) for c in full.entries)


def test_lazy_entries_kept_alone_still_read(tmp_catalogue):
    """The connection closes with the last of the catalogue and its entries, not with the catalogue
    while someone still holds `cat.entries`."""
    import gc

    full = Catalogue.load(tmp_catalogue)
    entries = LazyCatalogue.load(tmp_catalogue).entries
    gc.collect()
    assert len(entries) == len(full.entries) and entries[next(iter(full.entries))] == next(iter(full.entries.values()))


def test_lazy_membership_reads_no_entry(tmp_catalogue):
    """`code in entries` answers from the code list (one read for all codes): the linker asks it for
    every code a learned link points to at start-up, and must not read an entry per link."""
    full, lazy = Catalogue.load(tmp_catalogue), LazyCatalogue.load(tmp_catalogue)
    codes = list(full.entries)
    assert all(c in lazy.entries for c in codes) and "999999999" not in lazy.entries and 5 not in lazy.entries
    assert lazy.entries._have == {} and lazy.entries._all is False
    assert lazy.entries[codes[0]] == full.entries[codes[0]] and codes[0] in lazy.entries


def test_learned_texts_are_evidence_not_names(tmp_catalogue, monkeypatch):
    """Learned texts add no names to score (issue 10: they are evidence, `learned.py`); the code a
    near learned text points to is still a candidate when only the K nearest names are scored."""
    from workspace_fixtures import teach

    taught = teach(tmp_catalogue, [("图书借阅服务满意度", "31", "111000231"),
                                   ("馆藏档案数字化完成率", "12", "111000231")])
    lk = Linker.default(tmp_catalogue, learned=taught)
    lk.suggest("馆藏档案数字化完成率", "12")
    assert lk.cat.entries._all is False  # start-up and a suggestion read only the entries they need
    assert len(lk.names) == len(lk.index.names) and len(lk.learned) == 2
    import indicode.matcher.generate

    monkeypatch.setattr(indicode.matcher.generate, "K_EACH", 1)
    lk_union = Linker(lk.cat, lk.encoder, lk.model, lk.index, full_scan_max=0, learned=taught)
    q = lk_union.make_query("馆藏档案数字化完成度", "12")
    s = lk_union.score(q, lk_union.encode_queries(["馆藏档案数字化完成度"])[0])
    c = next(c for c in s if c.code == "111000231")
    assert c.features["learned_sim"] > 0.8


def test_prepared_names_go_to_the_user_cache_when_the_index_folder_is_read_only(synthetic, monkeypatch, tmp_path):
    cat, enc, vi, _ = synthetic
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(prepared, "code_version", lambda: "read-only-case")
    real_save = prepared.save

    def save(t, path):
        if path == vi.path:
            raise PermissionError(13, "Permission denied")
        real_save(t, path)

    monkeypatch.setattr(prepared, "save", save)
    Linker(cat, enc, index=vi)
    stored = tmp_path / "xdg" / "indicode" / "indexes" / vi.path.name
    assert prepared.load(stored, prepared.stamp_for(cat, vi)) is not None
    assert prepared.load(vi.path, prepared.stamp_for(cat, vi)) is None  # nothing written beside the index


def test_cached_names_are_frozen_out_of_the_cyclic_collector(synthetic, monkeypatch):
    import gc

    import indicode.matcher.linker

    cat, enc, vi, queries = synthetic
    monkeypatch.setattr(indicode.matcher.linker, "GC_FREEZE_EVERY", 50)
    lk = Linker(cat, enc, index=vi)
    gc.unfreeze()
    before = gc.get_freeze_count()
    lk.suggest_many([(q, "", "") for q in queries[:3]], vectors=enc.encode_queries(queries[:3]))
    assert lk.info.made() >= 50 and gc.get_freeze_count() > before
    gc.unfreeze()


def test_linkers_sharing_an_encoder_share_its_lock(linker):
    other = Linker(linker.cat, linker.encoder, linker.model, linker.index)
    assert other._encode_lock is linker._encode_lock


def test_prepared_names_stamp_follows_the_index_rows(linker):
    """An index rebuilt with the same number of names in another order (or another text preparation)
    gets another stamp, so stored names whose rows no longer line up are never used."""
    import copy

    from indicode.matcher.names import stamp_for

    vi = linker.index
    other = copy.copy(vi)
    other.names, other.codes = list(reversed(vi.names)), list(reversed(vi.codes))
    assert stamp_for(linker.cat, other) != stamp_for(linker.cat, vi)
    other = copy.copy(vi)
    other.meta = copy.copy(vi.meta)
    other.meta.prep = "another-prep"
    assert stamp_for(linker.cat, other) != stamp_for(linker.cat, vi)


def test_vector_cache_is_bounded(tmp_path, monkeypatch):
    """A server encodes whatever text a page sends: past MAX_VECTORS new vectors are not kept (on disk
    or in memory), while every call still gets its vectors."""
    from indicode.matcher import cache as cache_mod

    monkeypatch.setattr(cache_mod, "MAX_VECTORS", 5)
    enc = FakeEncoder()
    cache = VectorCache(enc.name, enc.dim, tmp_path)
    texts = [f"t{i}" for i in range(12)]
    vecs, n = cache.encode(texts, enc.encode_queries, batch=4)
    assert n == 12 and np.allclose(vecs, enc.encode_queries(texts))
    stored = sqlite3.connect(cache.path).execute("SELECT count(*) FROM vec").fetchone()[0]
    assert 1 <= stored <= 5
    mem = VectorCache(enc.name, enc.dim, tmp_path / "mem")
    mem._con, mem._mem = None, {}  # the in-memory fallback
    mem.encode(texts, enc.encode_queries)
    assert len(mem._mem) == 5


def test_freezing_the_caches_keeps_no_garbage(linker):
    """`gc.freeze` also freezes garbage cycles not yet collected (kept for good): the young
    generations are collected first."""
    import gc
    import weakref

    class Node:
        pass

    gc.disable()
    try:
        n = Node()
        n.self = n
        gone = weakref.ref(n)
        del n
        linker._cached_at_freeze = -10**9  # as if GC_FREEZE_EVERY new names had gathered
        linker._settle_gc()
        assert gone() is None
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_replaced_linker_is_freed_without_the_cycle_collector(linker):
    """The linker freezes its caches out of the cyclic collector's sight (`gc.freeze`), so anything of
    a replaced Linker caught in a reference cycle would be kept for good: 0.5 MB per server reload
    (`scripts/bench_reloads.py`). Its prepared names must go by reference counting alone."""
    import gc
    import weakref

    lk = Linker(linker.cat, linker.encoder, linker.model, linker.index)
    lk.suggest("办事群众满意度", "31")
    refs = [weakref.ref(lk), weakref.ref(lk.info), weakref.ref(lk.info[0])]
    gc.disable()
    try:
        del lk
        assert [r() is None for r in refs] == [True, True, True]
    finally:
        gc.enable()
