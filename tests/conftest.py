"""Shared fixtures: a store built once per session, a CliRunner wrapper, the shared data path.

- ``built_store``: path of a store built once (ontology + bundled curated data) through
  the library (``open_store(path, write=True)`` + ``kg.ingest.build``). Treat it as
  read-only; tests that write use ``store_copy``.
- ``store_copy``: a private copy of the built store in ``tmp_path`` (safe to write to).
- ``cli_runner``: ``cli_runner(*args, store=PATH, input=None)`` runs ``kg --store PATH
  ARGS`` in-process with click's CliRunner (store defaults to ``built_store``).
- ``fingerprint``: ``fingerprint(store_path)`` is the ``kg info --format json`` fingerprint.
- ``expect_rejected``: runs a command that must fail with exit 2, a one-line message
  naming the file and position, and an unchanged store fingerprint.
- ``SHARED_DATA`` / ``shared_data``: ``../shared/data``; the fixture skips when absent.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

__all__ = ["SHARED_DATA", "REPO", "FIXTURES"]

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Path:
    """A store built once for the session with ``kg build`` (through the library)."""
    from kg.ingest import build
    from kg.store import open_store

    path = tmp_path_factory.mktemp("built") / "store"
    with open_store(path, write=True) as store:
        build(store)
    return path


@pytest.fixture
def store_copy(built_store, tmp_path) -> Path:
    """A private, writable copy of the built store."""
    dest = tmp_path / "store"
    shutil.copytree(built_store, dest, ignore=shutil.ignore_patterns("kg.lock"))
    return dest


@pytest.fixture
def cli_runner(request):
    """Call ``cli_runner(*args, store=PATH, input=None)``; returns click's Result.

    ``result.stdout`` and ``result.stderr`` are separate; exceptions other than
    SystemExit propagate (a traceback is a test failure, never an exit code).
    """
    from click.testing import CliRunner

    from kg.cli import cli

    runner = CliRunner()

    def run(*args, store: Path | str | None = None, input: str | bytes | None = None,
            catch_exceptions: bool = False):
        if store is None:
            store = request.getfixturevalue("built_store")
        argv = ["--store", str(store), *[str(a) for a in args]]
        return runner.invoke(cli, argv, input=input, catch_exceptions=catch_exceptions)

    return run


@pytest.fixture
def fingerprint(cli_runner):
    """``fingerprint(store)``: the dataset fingerprint printed by ``kg info --format json``."""

    def fp(store: Path | str) -> str:
        res = cli_runner("info", "--format", "json", store=store)
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)["fingerprint"]

    return fp


@pytest.fixture
def expect_rejected(cli_runner, fingerprint):
    """``expect_rejected(store, args, file_name, where=REGEX)`` checks a refused command.

    Exit code 2, nothing on stdout, exactly one stderr line ``kg: error: ...`` that
    names ``file_name`` followed by ``:<position>:`` matching ``where`` (a regex for
    a line number or record position; None when the position is given otherwise,
    e.g. as the record IRI), and the same store fingerprint before and after.
    Returns the message line.
    """

    def check(store, args, file_name: str | None, where: str | None = r"\d+",
              exit_code: int = 2) -> str:
        before = fingerprint(store)
        res = cli_runner(*args, store=store)
        after = fingerprint(store)
        assert res.exit_code == exit_code, (res.exit_code, res.output)
        lines = res.stderr.splitlines()
        assert len(lines) == 1, res.stderr
        line = lines[0]
        assert line.startswith("kg: error: "), line
        if file_name is not None:
            assert file_name in line, line
            if where is not None:
                assert re.search(re.escape(file_name) + ":" + where + ":", line), line
        assert "Traceback" not in res.output
        assert before == after, "the store changed although the command was refused"
        return line

    return check


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; skips the test when it is not there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


NETWORK_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "network_store"


def load_fixture_store(path: Path) -> Path:
    """A local store at ``path`` with graphs ``main`` and ``copy`` from the network fixtures."""
    import pyoxigraph as ox

    from kg.namespaces import graph_iri
    from kg.store import open_store

    data = {}
    for name in ("main", "copy"):
        triples = ox.parse(path=str(NETWORK_FIXTURE / f"{name}.ttl"), format=ox.RdfFormat.TURTLE)
        data[graph_iri(name)] = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES)
    with open_store(path, write=True) as store:
        store.write_graphs(data, replace=True)
    return path


@pytest.fixture(scope="session")
def network_world(tmp_path_factory) -> Path:
    """The hand-made network world (tests/fixtures/network_store) in a store; read-only."""
    return load_fixture_store(tmp_path_factory.mktemp("networld") / "store")
