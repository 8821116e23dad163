"""kg.store: opening, atomic writes, fingerprints, locking."""

from __future__ import annotations

import threading

import pytest

from kg.errors import StoreBusyError, StoreError, UsageError
from kg.store import LocalStore, canonical_nquads, check_graph_name, open_store, resolve_store_path

G = "https://w3id.org/secpart/graph/test"
NT = (b'<http://x/a> <http://x/p> "1" .\n<http://x/b> <http://x/p> "2" .\n')


def _written(tmp_path, data: bytes = NT):
    """The folder of a store holding ``data`` in graph ``G`` (written, then closed)."""
    with open_store(tmp_path / "s", write=True) as st:
        st.write_graphs({G: data}, replace=False)
    return tmp_path / "s"


def test_resolve_store_path(monkeypatch):
    monkeypatch.delenv("KG_STORE", raising=False)
    assert str(resolve_store_path()) == ".kg"
    monkeypatch.setenv("KG_STORE", "/tmp/elsewhere")
    assert str(resolve_store_path()) == "/tmp/elsewhere"
    assert str(resolve_store_path("given")) == "given"


def test_missing_store_read_is_store_error(tmp_path):
    with pytest.raises(StoreError) as err:
        open_store(tmp_path / "none")
    assert "kg build" in str(err.value)
    assert not (tmp_path / "none").exists()


def test_write_read_sizes_and_fingerprint(tmp_path):
    path = tmp_path / "s"
    with open_store(path, write=True) as st:
        assert isinstance(st, LocalStore) and st.kind == "local"
        st.write_graphs({G: NT}, replace=False)
        assert st.graph_names() == ["test"]
        assert st.graph_sizes() == {"test": 2}
        fp1 = st.fingerprint()
        st.write_graphs({G: NT}, replace=False)  # adding the same triples changes nothing
        assert st.fingerprint() == fp1
    with open_store(path) as st:
        assert st.fingerprint() == fp1
        assert set(fp1["graphs"]) == {"test"}
        rs = st.select("SELECT ?s WHERE { ?s <http://x/p> ?o } ORDER BY ?s")
        assert [r["s"] for r in rs.dicts()] == ["http://x/a", "http://x/b"]
        assert st.query("ASK { <http://x/a> ?p ?o }") is True
        assert b"<http://x/a>" in st.query("CONSTRUCT WHERE { ?s ?p ?o }")


def test_fingerprint_is_sha256_of_canonical_nquads(tmp_path):
    import hashlib

    with open_store(tmp_path / "s", write=True) as st:
        st.write_graphs({G: NT}, replace=True)
        lines = [b'<http://x/b> <http://x/p> "2" <' + G.encode() + b"> .",
                 b'<http://x/a> <http://x/p> "1" <' + G.encode() + b"> ."]
        expected = hashlib.sha256(canonical_nquads(lines)).hexdigest()
        assert st.fingerprint()["graphs"]["test"] == expected == st.fingerprint()["all"]


def test_replace_swaps_the_graph(tmp_path):
    with open_store(tmp_path / "s", write=True) as st:
        st.write_graphs({G: NT}, replace=False)
        st.write_graphs({G: b'<http://x/c> <http://x/p> "3" .\n'}, replace=True)
        assert st.graph_sizes() == {"test": 1}
        assert not any(g.startswith("urn:kg:staging") for g in st.graph_iris())


def test_graph_restriction(tmp_path):
    with open_store(tmp_path / "s", write=True) as st:
        st.write_graphs({G: NT, G + "2": b"<http://x/z> <http://x/p> <http://x/q> .\n"},
                        replace=False)
        q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        assert st.select(q).dicts()[0]["n"] == 3
        assert st.select(q, graphs=["test2"]).dicts()[0]["n"] == 1
        with pytest.raises(UsageError):
            st.select(q, graphs=["nope"])


def test_read_only_store_refuses_writes(tmp_path):
    with open_store(_written(tmp_path)) as st:
        with pytest.raises(StoreError):
            st.write_graphs({G: NT}, replace=False)


def test_second_writer_gets_store_busy(tmp_path, monkeypatch):
    monkeypatch.setenv("KG_LOCK_TIMEOUT", "0.2")
    with open_store(tmp_path / "s", write=True):
        with pytest.raises(StoreBusyError) as err:
            open_store(tmp_path / "s", write=True)
        assert "in use" in str(err.value)
        with pytest.raises(StoreBusyError):
            open_store(tmp_path / "s")  # a reader during a write
    with open_store(tmp_path / "s", write=True):
        pass  # released


def test_readers_share(tmp_path, monkeypatch):
    monkeypatch.setenv("KG_LOCK_TIMEOUT", "0.2")
    with open_store(_written(tmp_path)) as a, open_store(tmp_path / "s") as b:
        assert a.graph_sizes() == b.graph_sizes()
        with pytest.raises(StoreBusyError):
            open_store(tmp_path / "s", write=True)


def test_update_queries_refused(tmp_path):
    with open_store(tmp_path / "s", write=True) as st:
        st.write_graphs({G: NT}, replace=False)
        with pytest.raises(UsageError):
            st.query("DELETE WHERE { ?s ?p ?o }")
        assert st.graph_sizes() == {"test": 2}


def test_syntax_error_is_usage_error(tmp_path):
    with open_store(tmp_path / "s", write=True) as st:
        with pytest.raises(UsageError):
            st.query("SELECT * WHERE { ?s ?p }")


def test_check_graph_name():
    assert check_graph_name("my-data_1.0") == "my-data_1.0"
    for bad in ("", "Upper", "a b", "../x", "x" * 65, "a/b"):
        with pytest.raises(UsageError):
            check_graph_name(bad)


def test_drop_graph_and_dump(tmp_path):
    import pyoxigraph as ox

    with open_store(tmp_path / "s", write=True) as st:
        st.write_graphs({G: NT}, replace=False)
        nq = st.dump(ox.RdfFormat.N_QUADS)
        assert nq.count(b"\n") == 2 and G.encode() in nq
        st.drop_graph("test")
        assert st.graph_sizes() == {}


# ---------------------------------------------------------------- issue 18: what is a store


def test_folder_with_checkpoint_is_not_taken_for_a_store(tmp_path, cli_runner):
    """A user's folder that happens to hold checkpoint/ is refused, and its files survive."""
    folder = tmp_path / "p"
    (folder / "checkpoint").mkdir(parents=True)
    (folder / "checkpoint" / "model.bin").write_text("precious")
    (folder / "write.journal").write_text("not kg's")
    res = cli_runner("build", store=folder)
    assert res.exit_code == 2, res.output
    assert "is not a kg store" in res.stderr and len(res.stderr.splitlines()) == 1
    assert (folder / "checkpoint" / "model.bin").read_text() == "precious"
    assert (folder / "write.journal").read_text() == "not kg's"


def test_new_store_carries_a_versioned_marker(tmp_path):
    import json

    from kg.store import MARKER, is_store

    path = tmp_path / "s"
    assert not is_store(path)
    with open_store(path, write=True):
        pass
    doc = json.loads((path / MARKER).read_text())
    assert doc == {"format": "kg-store", "version": 1}
    assert is_store(path)


def test_newer_store_format_is_refused(tmp_path):
    from kg.store import MARKER

    path = tmp_path / "s"
    with open_store(path, write=True):
        pass
    (path / MARKER).write_text('{"format": "kg-store", "version": 99}')
    with pytest.raises(StoreError, match="format version 99"):
        open_store(path)


def test_store_made_before_the_marker_is_adopted(tmp_path):
    from kg.store import MARKER

    path = tmp_path / "s"
    with open_store(path, write=True) as store:
        store.write_graphs({"https://w3id.org/secpart/graph/t": b"<urn:a> <urn:b> <urn:c> .\n"},
                           replace=True)
    (path / MARKER).unlink()
    with open_store(path) as store:  # reading does not write the marker
        assert store.graph_sizes() == {"t": 1}
    assert not (path / MARKER).exists()
    with open_store(path, write=True):
        pass
    assert (path / MARKER).exists()


@pytest.mark.parametrize("extra", ["README.md", "src/lib.rs"])
def test_a_folder_named_oxigraph_with_other_files_is_not_adopted(tmp_path, extra):
    """An audit: a project folder whose only entry was a sub-folder named oxigraph was
    taken for a store made before the marker, and a --replace later deleted the user's
    files in it. Only a folder holding an Oxigraph database and nothing else is adopted."""
    path = tmp_path / "proj"
    mine = path / "oxigraph" / extra
    mine.parent.mkdir(parents=True)
    mine.write_text("mine\n")
    for write in (False, True):
        with pytest.raises(StoreError, match="is not a kg store"):
            open_store(path, write=write)
    assert mine.read_text() == "mine\n"
    assert sorted(p.name for p in path.iterdir()) == ["oxigraph"]  # no marker, no lock


def test_a_database_folder_without_its_current_file_is_not_adopted(tmp_path):
    """A log file alone (no CURRENT) is not a database: refused, one line, nothing written
    (the audit got a RocksDB traceback and a marker left in the user's folder)."""
    path = tmp_path / "proj"
    (path / "oxigraph").mkdir(parents=True)
    (path / "oxigraph" / "000001.log").write_bytes(b"\x00" * 64)
    with pytest.raises(StoreError, match="is not a kg store"):
        open_store(path, write=True)
    assert sorted(p.name for p in path.rglob("*")) == ["000001.log", "oxigraph"]


def test_another_programs_rocksdb_is_refused(tmp_path):
    import pyoxigraph as ox

    other = tmp_path / "rdb"
    db = ox.Store(str(other))
    db.flush()
    del db
    before = sorted(p.name for p in other.iterdir())
    for write in (False, True):
        with pytest.raises(StoreError, match="is not a kg store"):
            open_store(other, write=write)
    assert sorted(p.name for p in other.iterdir()) == before


@pytest.mark.parametrize("kind", ["file", "devnull", "proc", "too-long"])
def test_store_that_is_not_a_folder_is_one_line(tmp_path, cli_runner, kind):
    store = {"file": tmp_path / "f", "devnull": "/dev/null", "proc": "/proc/self",
             "too-long": tmp_path / ("a" * 300)}[kind]
    if kind == "file":
        store.write_text("x")
    for args in (("info",), ("build",)):
        res = cli_runner(*args, store=store)
        assert res.exit_code == 2, res.output
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("kg: error: "), res.stderr


def test_store_on_read_only_media_can_be_read(built_store, tmp_path, cli_runner):
    """A store on a read-only mount answers queries; a write is one line, exit 2."""
    import shutil
    import subprocess

    src = tmp_path / "src"
    shutil.copytree(built_store, src)
    mnt = tmp_path / "ro"
    mnt.mkdir()
    ok = subprocess.run(["mount", "--bind", str(src), str(mnt)], capture_output=True).returncode == 0
    if ok:
        ok = subprocess.run(["mount", "-o", "remount,ro,bind", str(mnt)],
                            capture_output=True).returncode == 0
        if not ok:
            subprocess.run(["umount", str(mnt)], capture_output=True)
    if not ok:
        pytest.skip("cannot make a read-only mount here")
    try:
        res = cli_runner("query", "sparql", "ASK { ?s ?p ?o }", "--format", "csv", store=mnt)
        assert res.exit_code == 0, res.output
        assert "true" in res.stdout
        res = cli_runner("build", store=mnt)
        assert res.exit_code == 2 and "read-only file system" in res.stderr, res.output
        assert len(res.stderr.splitlines()) == 1
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "soon"])
def test_lock_timeout_must_be_finite(tmp_path, monkeypatch, value):
    monkeypatch.setenv("KG_LOCK_TIMEOUT", value)
    with pytest.raises(UsageError, match="KG_LOCK_TIMEOUT"):
        open_store(tmp_path / "s", write=True)


def test_store_without_permission_is_one_line(built_store, tmp_path):
    """No permission: one line, exit 2; read permission only: queries still work."""
    import os
    import shutil
    import subprocess
    import sys

    from processes import ROOT, clean_env

    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is needed to drop the permission override")
    prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    store = tmp_path / "store"
    shutil.copytree(built_store, store, ignore=shutil.ignore_patterns("kg.lock"))

    def kg(*args):
        return subprocess.run([*prefix, sys.executable, "-m", "kg", "--store", str(store), *args],
                              capture_output=True, text=True, timeout=120, env=clean_env(),
                              cwd=str(ROOT))

    try:
        store.chmod(0o000)
        for args in (("info",), ("build",)):
            res = kg(*args)
            assert res.returncode == 2, res.stderr
            assert res.stderr.strip() == f"kg: error: cannot open the store at {store}: Permission denied"
        store.chmod(0o555)
        res = kg("query", "sparql", "ASK { ?s ?p ?o }", "--format", "csv")
        assert res.returncode == 0 and res.stdout.strip() == "true", res.stderr
        res = kg("build")
        assert res.returncode == 2 and len(res.stderr.splitlines()) == 1, res.stderr
    finally:
        store.chmod(0o755)
# ------------------------------------------------------------------ the write path (issue 17)

G2 = "https://w3id.org/secpart/graph/other"
NT_OTHER = b'<http://x/o> <http://x/p> "other" .\n<http://x/o> <http://x/q> <http://x/r> .\n'
NT_NEW = b'<http://x/c> <http://x/p> "3" .\n'


def _fill(path, monkeypatch, rebuild: bool):
    """A store with two graphs, then ``G`` replaced (by a rebuild, or triple by triple)."""
    import kg.store as store_mod

    monkeypatch.setattr(store_mod, "REBUILD_MIN_TRIPLES", 0 if rebuild else 10 ** 12)
    with open_store(path, write=True) as st:
        st.write_graphs({G: NT + b'<http://x/d> <http://x/p> "4" .\n', G2: NT_OTHER}, replace=False)
        before = st.fingerprint()
        assert st._rebuild_cheaper({G}) is rebuild
        st.write_graphs({G: NT_NEW}, replace=True)
        after = st.fingerprint()
        sizes = st.graph_sizes()
    return before, after, sizes


def test_replace_by_rebuild_equals_replace_by_deletion(tmp_path, monkeypatch):
    """Dropping the graph as a whole (a rebuilt database) gives the same store as deleting
    its triples; the other graph is untouched and nothing is left behind."""
    b1, a1, s1 = _fill(tmp_path / "rebuild", monkeypatch, rebuild=True)
    b2, a2, s2 = _fill(tmp_path / "delete", monkeypatch, rebuild=False)
    assert a1 == a2 and s1 == s2 == {"other": 2, "test": 1}
    assert a1["graphs"]["other"] == b1["graphs"]["other"]
    assert a1["graphs"]["test"] != b1["graphs"]["test"]
    for leftover in ("rebuild", "rebuild.nt", "checkpoint", "write.journal"):
        assert not (tmp_path / "rebuild" / leftover).exists()
    with open_store(tmp_path / "rebuild") as st:  # the swapped-in database opens and reads
        assert st.fingerprint() == a1


@pytest.mark.parametrize("rebuild", [True, False])
def test_replace_refused_by_its_check_leaves_the_store_as_it_was(tmp_path, monkeypatch, rebuild):
    """The check sees the written store and, through ``previous()``, the store before the
    write (the live database of a rebuild, or the checkpoint of a write in place)."""
    import kg.store as store_mod

    monkeypatch.setattr(store_mod, "REBUILD_MIN_TRIPLES", 0 if rebuild else 10 ** 9)
    with open_store(tmp_path / "s", write=True) as st:
        st.write_graphs({G: NT, G2: NT_OTHER}, replace=False)
        before = st.fingerprint()

        def refuse(db, previous):
            assert len(db) == 3  # the other graph and the new triple
            old = previous()
            assert len(old) == 4  # both graphs as they were
            del old
            raise ValueError("refused")

        with pytest.raises(ValueError):
            st.write_graphs({G: NT_NEW}, replace=True, check_loaded=refuse)
        assert st.fingerprint() == before
    assert not (tmp_path / "s" / "rebuild").exists()


def test_recover_removes_a_rebuild_cut_short(tmp_path):
    from kg.store import recover

    with open_store(tmp_path / "s", write=True) as st:
        st.write_graphs({G: NT}, replace=False)
    (tmp_path / "s" / "rebuild").mkdir()
    (tmp_path / "s" / "rebuild" / "000001.sst").write_bytes(b"partial")
    recover(tmp_path / "s")
    assert not (tmp_path / "s" / "rebuild").exists()
    with open_store(tmp_path / "s") as st:
        assert st.graph_sizes() == {"test": 2}


@pytest.mark.parametrize("chunk", [40, 10 ** 6])
def test_load_file_in_chunks_equals_one_load(tmp_path, chunk):
    """A line-format file loaded in chunks of whole lines holds the same triples."""
    import pyoxigraph as ox

    from kg.store import FileLoad, load_file

    f = tmp_path / "x.nt"
    f.write_bytes(b"".join(b'<http://x/s%d> <http://x/p> "v%d" .\n' % (i, i) for i in range(50)))
    db = ox.Store()
    load_file(db, FileLoad(str(f), "N_TRIPLES", G), chunk_bytes=chunk)
    ref = ox.Store()
    ref.load(path=str(f), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(G))
    assert set(db) == set(ref) and len(db) == 50


def test_a_chunked_ingest_is_compacted_and_holds_the_same_triples(tmp_path, monkeypatch):
    """After a load in many chunks the database is compacted: fewer files to merge on
    every read, the same triples (against the same load left uncompacted)."""
    import kg.store as ks
    from kg.store import FileLoad

    f = tmp_path / "x.nt"
    f.write_bytes(b"".join(b'<http://x/s%d> <http://x/p> "v%d" .\n' % (i, i) for i in range(3000)))
    monkeypatch.setattr(ks, "CHUNK_BYTES", 4096)

    def files_after(path):
        with open_store(path, write=True) as st:
            st.write_graphs({}, replace=False, files=[FileLoad(str(f), "N_TRIPLES", G)])
        with open_store(path) as st:
            rows = st.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows
        return len(list((path / "oxigraph").glob("*.sst"))), int(rows[0][0].value)

    compacted = files_after(tmp_path / "a")
    monkeypatch.setattr(ks, "optimize_after", lambda db, files: None)
    left = files_after(tmp_path / "b")
    assert compacted[1] == left[1] == 3000
    assert compacted[0] < left[0]


def test_ctrl_c_during_a_load_in_chunks_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    """Ctrl-C while the engine loads in its thread: KeyboardInterrupt once the thread has
    stopped, the store as before and still opening. (The rollback used to move the
    database folder while the loading thread still held the engine: the next open
    failed on the engine's lock, and the old handle went on writing in the restored
    checkpoint, which sometimes left a store that no longer opened.)"""
    import os
    import signal
    import time

    import kg.store as ks
    from kg.store import JOURNAL, FileLoad

    path = tmp_path / "store"
    with open_store(path, write=True) as st:
        st.write_graphs({G: b'<http://x/a> <http://x/p> "kept" .\n'}, replace=True)
        before = st.fingerprint()
    f = tmp_path / "big.nt"
    f.write_bytes(b"".join(b'<http://x/s%d> <http://x/p> "v%d" .\n' % (i, i)
                           for i in range(300_000)))
    monkeypatch.setattr(ks, "CHUNK_BYTES", 1 << 16)  # some 200 chunks: seconds of loading
    here = os.getpid()

    def interrupt_when_the_write_begins():
        end = time.monotonic() + 60
        while not (path / JOURNAL).exists() and time.monotonic() < end:
            time.sleep(0.01)
        time.sleep(0.2)
        os.kill(here, signal.SIGINT)

    # Python's own Ctrl-C handler, also where the runner started with SIGINT ignored
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with open_store(path, write=True) as st:
            threading.Thread(target=interrupt_when_the_write_begins, daemon=True).start()
            with pytest.raises(KeyboardInterrupt):
                st.write_graphs({}, replace=False, files=[FileLoad(str(f), "N_TRIPLES", G2)])
                time.sleep(5)  # a load that ended first: the interrupt comes here instead
            assert G2 not in st.graph_iris()
    finally:
        signal.signal(signal.SIGINT, previous)
    with open_store(path) as st:
        assert st.fingerprint() == before
        assert not any(th.name == "kg-bulk-load" for th in threading.enumerate())


def test_tracer_sees_each_query_sent_and_the_memo_sends_it_once(tmp_path):
    with open_store(_written(tmp_path)) as st:
        sent = []
        st.tracer = lambda text, graphs: sent.append(text)
        q = "SELECT ?s WHERE { ?s <http://x/p> ?o }"
        st.select(q)
        st.select(q)
        assert sent.count(q) == 2  # no memo: both reach the engine
        st.enable_memo()
        sent.clear()
        first = st.select(q)
        first.rows.clear()  # a caller changing its result does not change the memo
        assert len(st.select(q).rows) == 2
        st.fingerprint()
        st.fingerprint()
        assert sent.count(q) == 1
        assert len(sent) == len(set(sent))


def test_fingerprint_counts_come_from_the_cache_while_the_files_are_unchanged(tmp_path):
    """A reader checks the cached fingerprint against the graphs' triple counts; while the
    database files are the ones it counted them in, it does not count them again, and a
    write from outside kg (through the engine itself) is still noticed."""
    import pyoxigraph as ox

    path = tmp_path / "s"
    with open_store(path, write=True) as st:
        st.write_graphs({G: NT}, replace=False)
    sent: list[str] = []

    def read_fingerprint():
        with open_store(path) as st:
            st.tracer = lambda text, graphs: sent.append(text)
            return st.fingerprint()

    fp1 = read_fingerprint()
    assert any("COUNT(*)" in q for q in sent)  # the first reader counts
    sent.clear()
    assert read_fingerprint() == fp1
    assert not any("COUNT(*)" in q for q in sent)  # the next one takes the counts as checked
    db = ox.Store(str(path / "oxigraph"))
    db.add(ox.Quad(ox.NamedNode("http://x/c"), ox.NamedNode("http://x/p"), ox.Literal("3"),
                   ox.NamedNode(G)))
    db.flush()
    del db
    sent.clear()
    fp2 = read_fingerprint()
    assert any("COUNT(*)" in q for q in sent) and fp2 != fp1


def test_own_select_answers_as_select_through_the_tracer_and_memo(tmp_path):
    """kg's own SELECTs (own=True) skip the guard's parse, not the tracer, the memo or the graphs."""
    with open_store(_written(tmp_path)) as st:
        sent = []
        st.tracer = lambda text, graphs: sent.append(text)
        q = "SELECT ?s WHERE { ?s <http://x/p> ?o } ORDER BY ?s"
        assert st.select(q, own=True).rows == st.select(q).rows and len(st.select(q).rows) == 2
        assert st.select(q, graphs=[], own=True).rows == []
        st.enable_memo()
        sent.clear()
        st.select(q, own=True)
        st.select(q)
        assert sent == [q]


_KINDS = (b'<http://x/a> <http://x/p> "plain" .\n'
          b'<http://x/a> <http://x/p> "tagged"@EN-gb .\n'
          b'<http://x/a> <http://x/p> "7"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
          b'<http://x/a> <http://x/p> "2.50"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
          b'<http://x/a> <http://x/p> "tab\\there \\"quoted\\" \\u00e9\\u65e5 \\\\ end" .\n'
          b'<http://x/a> <http://x/p> "x"^^<http://www.w3.org/2001/XMLSchema#string> .\n'
          b'<http://x/a> <http://x/p> <http://x/b> .\n'
          b'<http://x/b> <http://x/q> "only b" .\n')


def test_own_select_read_in_one_call_gives_the_rows_read_one_by_one(tmp_path):
    """The own path (the engine writes the whole answer as JSON) gives the same terms, in
    the same order, as the row-by-row path: IRIs, language tags, numbers, escapes, unbound."""
    with open_store(_written(tmp_path, _KINDS)) as st:
        q = ("SELECT ?s ?o ?q (BNODE() AS ?b) WHERE { ?s ?p ?o OPTIONAL { ?s <http://x/q> ?q } }"
             " ORDER BY ?s ?o")
        own, row = st._select_own(q, st.graph_iris_of(None)), st._select(q, st.graph_iris_of(None))
        assert len(own.rows) == 8 and own.variables == row.variables
        assert [r[:3] for r in own.rows] == [r[:3] for r in row.rows]
        assert {r[3].kind for r in own.rows} == {"bnode"}
        assert any(t is None for r in own.rows for t in r) and any(
            t is not None and t.lang == "en-gb" for r in own.rows for t in r)


def test_own_select_of_a_triple_term_reads_it_row_by_row(tmp_path):
    """A triple term (RDF 1.2) has no term of its own in kg's rows: the own path gives
    what the row-by-row path gives."""
    with open_store(_written(tmp_path)) as st:
        q = "SELECT ?t WHERE { BIND(TRIPLE(<urn:a>, <urn:b>, <urn:c>) AS ?t) }"
        graphs = st.graph_iris_of(None)
        own = st._select_own(q, graphs)
        assert own.rows == st._select(q, graphs).rows
        assert own.rows[0][0].value == "<urn:a> <urn:b> <urn:c>"


def test_background_gives_the_value_or_raises_the_error_in_the_caller():
    from kg.basestore import Background

    gate = threading.Event()
    job = Background(lambda: gate.wait(5) and "read")
    assert not job.done()
    gate.set()
    assert job.result() == "read" and job.done()

    def fail():
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        Background(fail).result()


def test_in_parallel_runs_at_most_so_many_at_once_and_keeps_the_order():
    import time

    from kg.basestore import in_parallel

    lock = threading.Lock()
    running, most = [0], [0]

    def job(i):
        def run():
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1
            if i == 3:
                raise KeyError(i)
            return i * i
        return run

    jobs = in_parallel([job(i) for i in range(8)], threads=2)
    assert [j.result() for j in jobs[:3]] == [0, 1, 4]
    with pytest.raises(KeyError):
        jobs[3].result()
    assert [j.result() for j in jobs[4:]] == [16, 25, 36, 49]
    assert most[0] == 2


_HARD = (_KINDS
         + b'<http://x/c> <http://x/p> "line\\u2028sep \\u0001 ctl \\u007f del" .\n'
         + b'<http://x/c> <http://x/p> "a@b^^<c> \xc3\xa9" .\n'
         + b'<http://x/c> <http://x/p> "ends in a quote\\"" .\n'
         + b'<http://x/c> <http://x/p> "quote \\" and tag"@fr .\n'
         + b'<http://x/c> <http://x/p> "" .\n'
         + b'<http://x/c> <http://x/p> "01"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
         + b'<http://x/c> <http://x/p> "-1.50"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
         + b'<http://x/c> <http://x/p> "NaN"^^<http://www.w3.org/2001/XMLSchema#double> .\n'
         + b'<http://x/c> <http://x/p> "1e3"^^<http://www.w3.org/2001/XMLSchema#double> .\n'
         + b'<http://x/c> <http://x/p> "1"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n'
         + b'<http://x/c> <http://x/p> "false"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n'
         + b'<http://x/c> <http://x/p> "x"^^<http://x/own-type> .\n'
         + b'<http://x/c> <http://x/p> "2021-03-04"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
         + b'<http://x/c> <http://x/p> <http://x/\xe6\x97\xa5#frag?q=1> .\n'
         + b'_:node1 <http://x/p> "from a blank node" .\n')


def test_tsv_answer_gives_the_terms_of_the_json_answer_and_of_the_rows():
    """:func:`kg.results.from_sparql_tsv` reads its cells itself only when they hold no
    escape; each kind of term, escaped or not, comes out as the JSON answer and the rows
    read one by one give it (numbers written bare, booleans, dates, own datatypes, an
    empty string, a quote at the end, a line separator, control characters, a blank node,
    unbound cells)."""
    import json

    import pyoxigraph as ox

    from kg.results import from_oxigraph, from_sparql_json, from_sparql_tsv

    db = ox.Store()
    db.load(_HARD, format=ox.RdfFormat.N_TRIPLES)
    q = "SELECT ?s ?o ?q WHERE { ?s ?p ?o OPTIONAL { ?s <http://x/q> ?q } } ORDER BY ?s ?o"
    tsv = db.query(q).serialize(format=ox.QueryResultsFormat.TSV)
    by_tsv = from_sparql_tsv(tsv)
    by_json = from_sparql_json(json.loads(db.query(q).serialize(format=ox.QueryResultsFormat.JSON)))
    by_rows = from_oxigraph(db.query(q))
    assert by_tsv.variables == by_json.variables == by_rows.variables == ["s", "o", "q"]
    assert by_tsv.rows == by_json.rows == by_rows.rows
    assert len(by_tsv.rows) == _HARD.count(b"\n")  # one row per triple; ?q bound only on b
    values = {r[1].value for r in by_tsv.rows}
    assert {'ends in a quote"', "line\u2028sep \x01 ctl \x7f del", "", "a@b^^<c> \u00e9"} <= values
    assert b"\\u2028" not in tsv and b"\\" in tsv  # both the read and the parsed cells ran
    assert any(r[0].kind == "bnode" for r in by_tsv.rows)
    assert sum(r[2] is None for r in by_tsv.rows) == len(by_tsv.rows) - 1


def test_tsv_answer_refuses_a_triple_term():
    import pyoxigraph as ox

    from kg.results import from_sparql_tsv

    tsv = ox.Store().query("SELECT ?t WHERE { BIND(TRIPLE(<urn:a>, <urn:b>, <urn:c>) AS ?t) }"
                           ).serialize(format=ox.QueryResultsFormat.TSV)
    with pytest.raises(ValueError, match="triple term"):
        from_sparql_tsv(tsv)


def test_forked_gives_the_childs_value_and_falls_back_here_when_the_child_cannot():
    """A :class:`kg.basestore.Forked` value comes from another process; an error in the
    child, a value that does not pickle, or a killed child leave the work to the caller."""
    import os
    import signal

    from kg.basestore import Forked

    assert Forked(os.getpid).result() != os.getpid()
    assert Forked(os.getpid, fork=False).result() == os.getpid()
    here = os.getpid()
    assert Forked(lambda: (lambda: os.getpid() == here)).result()()  # not picklable: here

    def fail():
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):  # the child's failure, then the caller's
        Forked(fail).result()

    def slow():
        import time

        if os.getpid() != here:
            time.sleep(60)
        return "here"

    job = Forked(slow)
    os.kill(job._pid, signal.SIGKILL)
    assert job.result() == "here"
    job = Forked(slow)
    pid = job._pid
    job.close()  # never asked: stopped and reaped
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)
    job.close()


def test_forked_child_stuck_on_a_lock_is_killed_and_the_work_done_here():
    """A child forked while another thread holds a lock it needs waits forever (the holder
    did not come along); :meth:`Forked.result` sees it asleep without using the processor,
    kills it and computes here, once the holder has let go."""
    import os
    import time

    from processes import lock_held_by_a_thread

    from kg import basestore
    from kg.basestore import STALL_S, Forked

    lock, holder = lock_held_by_a_thread(STALL_S + 1.5)

    def need_lock():
        with lock:
            return os.getpid()

    job = Forked(need_lock)
    child = job._pid
    time.sleep(0.5)
    assert basestore._sleep_and_cpu(child) is not None  # asleep on the lock
    t0 = time.perf_counter()
    assert job.result() == os.getpid()  # computed here, not in the stuck child
    assert time.perf_counter() - t0 >= STALL_S - 0.5
    with pytest.raises(ChildProcessError):
        os.waitpid(child, 0)  # killed and reaped
    holder.join()
    # a child that computes for longer than STALL_S is not taken for stuck
    def compute():
        end = time.perf_counter() + STALL_S + 1.0
        while time.perf_counter() < end:
            pass
        return os.getpid()

    assert Forked(compute).result() != os.getpid()


def test_forked_stops_its_child_when_the_wait_is_interrupted():
    """Ctrl-C while :meth:`Forked.result` waits: the child is killed and reaped at once,
    not waited for."""
    import os
    import signal
    import threading
    import time

    from kg.basestore import Forked

    here = os.getpid()

    def slow():
        end = time.perf_counter() + 10
        while os.getpid() != here and time.perf_counter() < end:  # computing, not stuck
            pass
        return "done"

    # Python's own Ctrl-C handler, also where the test runner started with SIGINT ignored
    # (a background job of a shell without job control, as CI may run it)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        job = Forked(slow)
        child = job._pid
        threading.Timer(0.5, os.kill, (here, signal.SIGINT)).start()
        t0 = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            job.result()
        assert time.perf_counter() - t0 < 5
    finally:
        signal.signal(signal.SIGINT, before)
    with pytest.raises(ChildProcessError):
        os.waitpid(child, 0)


def test_forked_reads_its_child_past_a_thousand_open_files():
    """The engine of a big store may hold over 1,024 files open; the child's pipe then has
    a descriptor that select() refuses, and Forked must still read it."""
    import os
    import resource

    from kg.basestore import Forked

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1100:
        pytest.skip(f"this machine allows {hard} open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1100), hard))
    opened = [os.open(os.devnull, os.O_RDONLY) for _ in range(1030)]
    try:
        job = Forked(os.getpid)
        assert job._read >= 1024
        assert job.result() not in (None, os.getpid())  # the child's value
    finally:
        for fd in opened:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_tsv_answer_without_variables_has_empty_rows():
    """A SELECT with no variable gives one empty row per solution, as the JSON reading does."""
    import json

    import pyoxigraph as ox

    from kg.results import from_sparql_json, from_sparql_tsv

    db = ox.Store()
    q = "SELECT * WHERE { VALUES ?x { 1 2 } } "
    for text in (q.replace("*", "(1 AS ?one)") + "", "SELECT * WHERE { }"):
        tsv = from_sparql_tsv(db.query(text).serialize(format=ox.QueryResultsFormat.TSV))
        js = from_sparql_json(json.loads(db.query(text).serialize(format=ox.QueryResultsFormat.JSON)))
        assert (tsv.variables, tsv.rows) == (js.variables, js.rows)
    assert from_sparql_tsv(db.query("SELECT * WHERE { }").serialize(
        format=ox.QueryResultsFormat.TSV)).rows == [()]


def test_own_select_reads_row_by_row_when_the_tsv_reading_fails(tmp_path, monkeypatch):
    import kg.store as ks

    with open_store(_written(tmp_path, _KINDS)) as st:
        q = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s ?o"
        graphs = st.graph_iris_of(None)
        fast = st._select_own(q, graphs)

        def refuse(data):
            raise SyntaxError("a cell the Turtle parser refuses")

        monkeypatch.setattr(ks, "from_sparql_tsv", refuse)
        assert st._select_own(q, graphs).rows == fast.rows == st._select(q, graphs).rows


@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_a_refused_first_ingest_leaves_no_store_behind(tmp_path, cli_runner, folder):
    """`kg ingest nosuch.ttl` where there was no store left an empty one, and `kg info` then
    showed a store of 0 triples instead of "no store"."""
    store = tmp_path / "store"
    if folder == "empty":
        store.mkdir()
    res = cli_runner("ingest", str(tmp_path / "nosuch.ttl"), store=store)
    assert res.exit_code == 2 and "no such file" in res.stderr, res.output
    assert [p.name for p in store.iterdir()] in ([], ["kg.lock"])  # the lock file may stay
    info = cli_runner("info", store=store)
    assert info.exit_code == 2 and "no store at" in info.stderr, info.output
    good = tmp_path / "ok.nt"
    good.write_text('<http://ex.org/a> <http://ex.org/p> "x" .\n', encoding="utf-8")
    assert cli_runner("ingest", "--graph", "g", str(good), store=store).exit_code == 0
    bad = cli_runner("ingest", str(tmp_path / "nosuch.ttl"), store=store)
    assert bad.exit_code == 2
    with open_store(store) as st:  # a store that holds a graph stays
        assert st.graph_names() == ["g"]


@pytest.mark.parametrize("text", [
    "ASK { FILTER(1" + "+1" * 7000 + " > 0) }",
    "SELECT ?v0 WHERE { " + " ".join(f"BIND({i} AS ?v{i})" for i in range(3000)) + " }",
])
def test_a_deep_flat_query_runs_instead_of_killing_the_process(cli_runner, text):
    """Within the length and depth limits, these overflowed the 8 MiB stack of the thread
    that ran the engine (exit 139, no message); the engine now runs on a deep stack."""
    res = cli_runner("query", "sparql", "-", input=text)
    assert res.exit_code == 0, res.output
    assert res.stdout.strip().splitlines()[0] in ("true", "v0")


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_service_answering_html_is_one_line_not_a_traceback(cli_runner):
    """With --allow-network, a SERVICE whose server answers HTML made the engine raise
    RuntimeError: kg printed a traceback (and a panic about an 'unsendable' object)."""
    import http.server
    import threading

    class Html(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the base class's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>not SPARQL</html>")

        do_GET = do_POST  # noqa: N815

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/sparql"
        res = cli_runner("query", "sparql", "--allow-network",
                         f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}")
    finally:
        srv.shutdown()
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("kg: error: the query failed: ")
    assert len(res.stderr.splitlines()) == 1 and "Traceback" not in res.output


def test_kg_runs_where_the_address_space_is_limited(built_store):
    """Under `ulimit -v` (HPC, containers) the 512 MiB stack reservation of the query
    threads was refused and kg died with a traceback; a thread then takes the default stack."""
    import resource
    import subprocess
    import sys

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (1_500_000 * 1024, 1_500_000 * 1024))

    res = subprocess.run([sys.executable, "-m", "kg", "--store", str(built_store), "query",
                          "run", "partners"], capture_output=True, text=True, timeout=300,
                         preexec_fn=limit)
    assert res.returncode == 0, res.stderr
    assert "United States" in res.stdout
