"""Fault and concurrency tests of the store: killed writes and processes side by side.

Atomic writes: a ``kg ingest`` (and ``kg ingest --replace``) of a generated
N-Triples world is SIGKILLed at several moments (while Python starts, while
it parses, while it validates, while it writes, just after it printed its
report); the store must then open, and the target graph must be either as it
was before (same triple count and fingerprint) or complete (as many triples
as the file has lines, the same fingerprint as an uninterrupted run); a
replaced graph is never a mix and never empty.

Concurrency: readers (``kg query run partners``) running while a writer
ingests print either the result from before the write or the one from after
it, byte for byte, or exit 2 with a one-line "store busy" message; two
writers started together: exactly one proceeds, the other exits 2 with
"store in use" (``KG_LOCK_TIMEOUT=0``).

Everything runs through the real command line in subprocesses, on private
copies of a built store.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import bench_module

KG = [sys.executable, "-m", "kg"]
WORLD = "https://w3id.org/secpart/graph/world"


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict[str, tuple[Path, int]]:
    """Generated worlds: ``big`` (~300k triples), three of ~60k (``a``, ``b``, ``c``), ``d`` (~20k)."""
    gen = bench_module("generate")
    d = tmp_path_factory.mktemp("worlds")
    out = {}
    for name, size, seed in (("big", 300_000, 11), ("a", 60_000, 21), ("b", 60_000, 22),
                             ("c", 60_000, 23), ("d", 20_000, 24)):
        path = d / f"world-{name}.nt"
        stats = gen.write_world(path, size, seed=seed)
        out[name] = (path, stats.triples)
    return out


def _copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("kg.lock"))
    return dest


def _env(timeout: float = 0) -> dict:
    env = dict(os.environ)
    env["KG_LOCK_TIMEOUT"] = str(timeout)
    env.pop("KG_STORE", None)
    env.pop("KG_ENDPOINT", None)
    return env


def _kg(store: Path, *args: str, timeout: float = 0, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*KG, "--store", str(store), *args], capture_output=True, text=True,
                          env=_env(timeout), timeout=180, cwd=store.parent, **kw)


def _start(store: Path, *args: str, timeout: float = 0) -> subprocess.Popen:
    return subprocess.Popen([*KG, "--store", str(store), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(timeout), cwd=store.parent)


def _snapshot(store: Path) -> dict:
    """Open the store read-only, as a reader would right after the kill: sizes and fingerprints."""
    from kg.queries import run_saved
    from kg.store import open_store

    with open_store(store) as st:
        sizes = st.graph_sizes()
        fp = st.fingerprint()
        partners = run_saved(st, "partners", {"state": "JPN"}).rows  # a real query runs
    assert partners, "the partners query returns nothing on a store that holds the curated data"
    return {"sizes": sizes, "fp": fp}


def _recover(store: Path, before: dict) -> None:
    """A writer can open the store after the kill (dropping staging data) and sees the same data."""
    from kg.store import STAGING_PREFIX, open_store

    with open_store(store, write=True) as st:
        assert not [g for g in st.db.named_graphs() if g.value.startswith(STAGING_PREFIX)]
        assert st.graph_sizes() == before["sizes"]


def _written(pid: int) -> int | None:
    """Bytes the process has written so far (``wchar`` of /proc/PID/io), None if unknown."""
    try:
        with open(f"/proc/{pid}/io") as fh:
            for line in fh:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _kill_after(proc: subprocess.Popen, moment) -> str:
    """SIGKILL ``proc`` after ``moment`` seconds, just after it prints (``"printed"``), or
    ``delay`` seconds after it starts writing the data to disk (``("writing", delay)``: more
    than 2 MB written; opening the store writes a few hundred kB).
    """
    if moment == "printed":
        line = proc.stdout.readline()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return line
    if isinstance(moment, tuple):
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            n = _written(proc.pid)
            if n is None:
                pytest.skip("no /proc/PID/io on this system to see when the write starts")
            if n > 2_000_000:
                break
            time.sleep(0.005)
        time.sleep(moment[1])
    else:
        time.sleep(moment)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return ""


def _full_run(store: Path, *args: str) -> float:
    t0 = time.monotonic()
    r = _kg(store, *args)
    assert r.returncode == 0, r.stderr
    return time.monotonic() - t0


# ------------------------------------------------------------------ atomic writes


def test_killed_ingest_leaves_graph_absent_or_complete(built_store, worlds, tmp_path):
    """SIGKILL a ~300k-triple ingest at several moments: no graph, or the whole file."""
    path, n = worlds["big"]
    args = ("ingest", "--graph", "world", str(path))
    base = _snapshot(built_store)
    assert "world" not in base["sizes"]

    # the reference: an uninterrupted run, killed only after it printed its report
    ref_store = _copy(built_store, tmp_path / "ref")
    line = _kill_after(_start(ref_store, *args), "printed")
    assert line.strip() == f"world: added {n} triples"
    ref = _snapshot(ref_store)
    assert ref["sizes"]["world"] == n
    assert ref["sizes"]["curated"] == base["sizes"]["curated"]
    world_fp = ref["fp"]["graphs"]["world"]

    outcomes = {}
    # while Python starts, while it parses, and half a second into writing the data to disk
    for i, moment in enumerate((0.2, 1.0, ("writing", 0.5))):
        store = _copy(built_store, tmp_path / f"s{i}")
        _kill_after(_start(store, *args), moment)
        snap = _snapshot(store)
        if "world" in snap["sizes"]:
            assert snap["sizes"]["world"] == n, f"partial graph after a kill at {moment}"
            assert snap["fp"]["graphs"]["world"] == world_fp
            assert snap["fp"]["graphs"]["curated"] == base["fp"]["graphs"]["curated"]
            outcomes[moment] = "complete"
        else:
            assert snap == base, f"store changed by a killed ingest at {moment}"
            outcomes[moment] = "untouched"
        _recover(store, snap)
    # a kill while Python is still starting cannot have written anything
    assert outcomes[0.2] == "untouched"


def test_killed_replace_swaps_whole_graph_or_nothing(built_store, worlds, tmp_path):
    """SIGKILL ``kg ingest --replace``: the graph holds the old content or the new, never a mix."""
    (path_a, n_a), (path_b, n_b) = worlds["d"], worlds["a"]
    base_store = _copy(built_store, tmp_path / "base")
    _full_run(base_store, "ingest", "--graph", "world", str(path_a))
    old = _snapshot(base_store)
    assert old["sizes"]["world"] == n_a
    args = ("ingest", "--replace", "--graph", "world", str(path_b))

    ref_store = _copy(base_store, tmp_path / "ref")
    t0 = time.monotonic()
    line = _kill_after(_start(ref_store, *args), "printed")
    duration = time.monotonic() - t0
    assert line.strip() == f"world: replaced with {n_b} triples"
    new = _snapshot(ref_store)
    assert new["sizes"]["world"] == n_b
    assert new["fp"]["graphs"]["world"] != old["fp"]["graphs"]["world"]
    assert new["fp"]["graphs"]["curated"] == old["fp"]["graphs"]["curated"]

    outcomes = {}
    # while it parses, as the staging graph is written, during the swap, near the end
    for i, moment in enumerate((0.5, ("writing", 0.3), 0.5 * duration, 0.8 * duration)):
        store = _copy(base_store, tmp_path / f"s{i}")
        _kill_after(_start(store, *args), moment)
        snap = _snapshot(store)
        assert snap in (old, new), (f"after a kill at {moment} the store is neither the old "
                                    f"nor the new content: {snap['sizes']}")
        outcomes[moment] = "old" if snap == old else "new"
        _recover(store, snap)
    assert outcomes[0.5] == "old"


# ------------------------------------------------------------------ concurrency


def test_readers_during_a_write_see_before_after_or_busy(built_store, worlds, tmp_path):
    """Readers looping while a writer ingests: the old result, the new result, or 'store busy'."""
    store = _copy(built_store, tmp_path / "store")
    query = ("query", "run", "partners", "--param", "state=JPN")
    before = _kg(store, *query)
    assert before.returncode == 0, before.stderr

    path, _ = worlds["a"]
    writer = _start(store, "ingest", "--graph", "world", str(path), timeout=60)
    results = []
    while writer.poll() is None:
        readers = [_start(store, *query) for _ in range(2)]
        for r in readers:
            out, err = r.communicate(timeout=120)
            results.append((r.returncode, out, err))
    assert writer.returncode == 0, writer.stderr.read()
    after = _kg(store, *query)
    assert after.returncode == 0, after.stderr
    assert after.stdout != before.stdout, "the write should change Japan's partners"

    kinds = []
    for rc, out, err in results:
        if rc == 0:
            assert out in (before.stdout, after.stdout), "a reader saw a result from a partial write"
            assert err == ""
            kinds.append("before" if out == before.stdout else "after")
        else:
            assert rc == 2, (rc, err)
            assert out == ""
            assert err.count("\n") == 1 and err.startswith("kg: error: store busy"), err
            kinds.append("busy")
    # the readers really ran during the write (the writer holds the lock while it works)
    assert "busy" in kinds, kinds


def test_two_writers_exactly_one_proceeds(built_store, worlds, tmp_path):
    """Two ingests started together into one graph: one succeeds, one exits 2 'store in use'."""
    store = _copy(built_store, tmp_path / "store")
    (path_b, n_b), (path_c, n_c) = worlds["b"], worlds["c"]
    procs = [_start(store, "ingest", "--graph", "world", str(p)) for p in (path_b, path_c)]
    outs = [p.communicate(timeout=180) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 2], (codes, outs)
    win = codes.index(0)
    lose = 1 - win
    out, err = outs[lose]
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("kg: error: store in use"), err
    n_win = (n_b, n_c)[win]
    assert outs[win][0].strip() == f"world: added {n_win} triples"
    # the graph holds exactly the winner's file: no triple from the loser
    from kg.store import open_store

    with open_store(store) as st:
        assert st.graph_sizes()["world"] == n_win
        lines = {line[: -len(WORLD) - 5] for line in st.graph_lines(WORLD)}
    winner_file = (path_b, path_c)[win]
    expected = {line[:-2].decode() for line in winner_file.read_bytes().splitlines()}
    assert {line.decode() for line in lines} == expected


def test_writer_waits_for_another_writer_with_a_timeout(built_store, worlds, tmp_path):
    """With KG_LOCK_TIMEOUT the second writer waits for the first and then proceeds."""
    store = _copy(built_store, tmp_path / "store")
    (path_b, n_b), (path_c, n_c) = worlds["d"], worlds["d"]
    first = _start(store, "ingest", "--graph", "wb", str(path_b), timeout=120)
    time.sleep(0.3)
    second = _start(store, "ingest", "--graph", "wc", str(path_c), timeout=120)
    for p in (first, second):
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    from kg.store import open_store

    with open_store(store) as st:
        sizes = st.graph_sizes()
    assert sizes["wb"] == n_b and sizes["wc"] == n_c
