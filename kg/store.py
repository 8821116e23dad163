"""The embedded store: a persistent Oxigraph (RocksDB) store under ``./.kg/``.

A folder is a store when it holds kg's marker ``kg-store.json`` (format
name and version); kg makes a store only in a new or empty folder and
refuses any other, so recovery never touches files it did not create. A
store on read-only media is opened read-only.

One named graph per dataset (``https://w3id.org/secpart/graph/<name>``);
queries read the union of the dataset graphs unless told which. SPARQL goes to
the engine as text. Processes share a store through a lock file: any number of
readers, or one writer; a writer that finds the store in use, or a reader that
finds a write under way, waits up to ``KG_LOCK_TIMEOUT`` seconds (default 5)
and then fails with :class:`~kg.errors.StoreBusyError`.

Writes are atomic: new data is parsed and validated in memory first, then
written in one engine transaction (or, for ``replace``, loaded into a staging
graph and swapped in by one SPARQL update), so a killed write leaves each
graph either as it was or complete.

>>> from kg.store import open_store
>>> with open_store("/tmp/kg-doc-store", write=True) as store:  # doctest: +SKIP
...     store.graph_sizes()
{}
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

from kg.basestore import (
    META_GRAPH,
    STAGING_PREFIX,
    BaseStore,
    canonical_nquads,
    check_graph_name,
)
from kg.errors import StoreBusyError, StoreError, UsageError
from kg.namespaces import graph_iri, graph_name
from kg.results import ResultSet, from_oxigraph, from_sparql_tsv

__all__ = [
    "DEFAULT_STORE",
    "STAGING_PREFIX",
    "BaseStore",
    "LocalStore",
    "line_blocks",
    "open_store",
    "resolve_store_path",
    "canonical_nquads",
    "check_graph_name",
    "recover",
    "is_store",
    "MARKER",
    "FileLoad",
    "load_file",
    "CHUNK_BYTES",
]

DEFAULT_STORE = ".kg"


def _failed(exc: BaseException) -> StoreError:
    """The engine's error in a query as one line (the other server's answer, say)."""
    from kg.escape import one_line

    return StoreError(f"the query failed: {one_line(str(exc))[:500]}")


def _engine(call):
    """``call()``, an engine error in it raised as :func:`_failed`'s one line.

    The error is raised after the ``except`` block, and the engine's object lives only in
    ``call``: the engine's error (and through its traceback the object) is freed in this
    thread; handed to another as the new error's context, the object is dropped there and
    panics as "unsendable".
    """
    try:
        return call()
    except (OSError, RuntimeError) as exc:
        err = _failed(exc)
    raise err


def resolve_store_path(path: str | os.PathLike | None = None) -> Path:
    """The store folder: ``path``, else ``$KG_STORE``, else ``./.kg``."""
    return Path(path or os.environ.get("KG_STORE") or DEFAULT_STORE)


def _open_engine(ox, db: Path):
    """Open the engine's database for writing, waiting for a previous writer to let go of it.

    The previous writer releases kg's lock a moment before its process drops the
    engine (and RocksDB's own LOCK file) on exit; within the lock timeout, a
    "lock file ... temporarily unavailable" is that moment, not another writer.
    """
    deadline = time.monotonic() + max(_lock_timeout(), 1.0)
    while True:
        try:
            return ox.Store(str(db))
        except OSError as exc:
            if "LOCK" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class _Lock:
    """An fcntl lock on ``<store>/kg.lock``: shared for readers, exclusive for the writer."""

    def __init__(self, path: Path, exclusive: bool, timeout: float):
        self.path = path
        self.exclusive = exclusive
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            # a reader on read-only media (or without write permission) takes its shared
            # lock through a read-only descriptor; nobody can write there anyway
            if exclusive or exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            if not path.exists():
                self.fd = None
                return
            self.fd = os.open(path, os.O_RDONLY)
        op = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self.fd, op)
                return
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    os.close(self.fd)
                    raise
                if time.monotonic() >= deadline:
                    os.close(self.fd)
                    if exclusive:
                        raise StoreBusyError(
                            f"store in use: another kg process is reading or writing {path.parent} "
                            "(try again when it has finished)") from None
                    raise StoreBusyError(
                        f"store busy: another kg process is writing {path.parent} "
                        "(try again in a moment)") from None
                time.sleep(0.05)

    def release(self):
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


JOURNAL = "write.journal"
CHECKPOINT = "checkpoint"
REBUILD = "rebuild"
#: A replace rebuilds the database only when the graphs replaced hold at least this many
#: triples (below, deleting them is quick anyway).
REBUILD_MIN_TRIPLES = 50_000
#: Bytes of whole lines handed to the bulk loader at a time (line formats): as fast as
#: one call for the whole file, with a small, flat memory footprint.
CHUNK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class FileLoad:
    """A file the engine loads straight into the store.

    ``fmt`` is a ``pyoxigraph.RdfFormat`` attribute name (``N_TRIPLES``,
    ``N_QUADS``, ``TURTLE``...); ``graph`` the target graph IRI (None keeps the
    graphs of a quad format).
    """

    path: str
    fmt: str
    graph: str | None


def line_blocks(fh, size: int):
    r"""The bytes of the binary file ``fh`` in blocks of whole lines, each about ``size``
    bytes (a block ends at the first line break after ``size`` bytes, or at the end).

    One ``read`` per block and no list of lines: for a 10M-line file this took 0.6 s
    where ``readlines(size)`` and a join took 1.7 s.

    >>> import io
    >>> list(line_blocks(io.BytesIO(b"ab\nc\nde\nf"), 3))
    [b'ab\n', b'c\nde\n', b'f']
    """
    while True:
        block = fh.read(size)
        if not block:
            return
        if not block.endswith(b"\n"):
            block += fh.readline()
        yield block


def load_file(db, f: FileLoad, *, stop=None, chunk_bytes: int | None = None) -> None:
    """Bulk-load one file into the pyoxigraph Store ``db``.

    N-Triples and N-Quads go in chunks of whole lines (memory stays at a chunk
    however big the file; ``stop``, a ``threading.Event``, is checked between
    chunks); other formats are read by the engine in one call.
    """
    import pyoxigraph as ox

    fmt = getattr(ox.RdfFormat, f.fmt)
    kw = {"to_graph": ox.NamedNode(f.graph)} if f.graph else {}
    if f.fmt not in ("N_TRIPLES", "N_QUADS"):
        db.bulk_load(path=f.path, format=fmt, **kw)
        return
    with open(f.path, "rb") as fh:
        for block in line_blocks(fh, chunk_bytes or CHUNK_BYTES):
            if stop is not None and stop.is_set():
                return
            db.bulk_load(block, format=fmt, **kw)


def wait_through_interrupts(done, stop) -> None:
    """Wait until a loading thread has set ``done``, even when Ctrl-C comes meanwhile.

    The loading thread holds the engine's handle. Were the wait cut short, the rollback
    would move the database folder while the handle is still open, and the engine,
    which names its files by the folder's path, would go on writing and deleting files
    in the checkpoint put back in its place: an interrupted ingest left a store that
    no longer opened. So an interrupt sets ``stop`` (the thread ends after its chunk)
    and is raised once the thread is done. An event, not ``Thread.join``: Python 3.11
    marks a thread whose ``join`` was interrupted as stopped while it still runs, and
    a second ``join`` then returns at once.

    :param done: a ``threading.Event`` the thread sets as its last step.
    :param stop: the ``threading.Event`` the thread checks between chunks.
    :raises KeyboardInterrupt: once ``done`` is set, if one came while waiting.

    >>> import threading
    >>> stop, done = threading.Event(), threading.Event()
    >>> threading.Thread(target=lambda: (stop.wait(), done.set())).start(); stop.set()
    >>> wait_through_interrupts(done, stop); done.is_set()
    True
    """
    interrupt = None
    while True:
        try:
            done.wait()
            break
        except KeyboardInterrupt as exc:
            stop.set()
            interrupt = exc
    if interrupt is not None:
        raise interrupt


def optimize_after(db, files) -> None:
    """Compact the database after a chunked load of ``files`` (pyoxigraph ``Store.optimize``).

    Each chunk's bulk load adds its own sorted files, overlapping all the others'; a
    read then merges them all. Measured on a fresh 10M-triple ingest (107 files), the
    saved query ``partners`` took 6.7 s before the compaction and 2.6 s after it (the
    compaction: 15 s); on 1M triples (34 files) ``kg map`` took 3.4 s before and 3.0 s
    after (2.2 s). Files loaded in one piece (no chunks) are left as the engine wrote them.
    """
    if any(f.fmt in ("N_TRIPLES", "N_QUADS") and Path(f.path).stat().st_size > CHUNK_BYTES
           for f in files):
        db.optimize()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def recover(path: str | os.PathLike) -> bool:
    """Finish or undo an interrupted write in the store folder ``path``.

    Called with the write lock held, before the engine opens the folder. A
    journal left by a killed write means the live database may hold part of
    that write: the checkpoint taken before it replaces the database. Each
    step is a rename, so a recovery that is itself interrupted can be re-run.
    Returns True when a checkpoint was restored.
    """
    path = Path(path)
    db, ck, journal = path / "oxigraph", path / CHECKPOINT, path / JOURNAL
    restored = False
    if journal.exists():
        if ck.is_dir():
            if db.exists():
                os.replace(db, path / f"oxigraph.broken-{uuid.uuid4().hex}")
            os.replace(ck, db)
            _fsync_dir(path)
            restored = True
        journal.unlink()
        _fsync_dir(path)
    elif ck.exists():
        shutil.rmtree(ck, ignore_errors=True)  # a finished write's, or one cut short before it began
    for broken in path.glob("oxigraph.broken-*"):
        shutil.rmtree(broken, ignore_errors=True)
    for partial in (path / REBUILD, path / (REBUILD + ".nt")):  # a replace cut short
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        elif partial.exists():
            partial.unlink()
    try:
        (path / (JOURNAL + ".tmp")).unlink()
    except OSError:
        pass
    return restored


LOCK_FILE = "kg.lock"
"""The file whose fcntl lock a store's readers share and its one writer holds."""
MARKER = "kg-store.json"
"""The file that makes a folder a kg store: ``{"format": "kg-store", "version": 1}``."""
STORE_FORMAT_VERSION = 1
# What older kg versions left in a store folder before the marker existed; a folder
# holding only these, its ``oxigraph`` folder an Oxigraph database and nothing else
# (:func:`_is_database`), is adopted as a store.
_OWN_ENTRIES = {"oxigraph", LOCK_FILE, CHECKPOINT, JOURNAL, JOURNAL + ".tmp", "fingerprints.json",
                MARKER, MARKER + ".tmp"}


def _os_reason(exc: OSError) -> str:
    """The reason in an OSError, without Python's decoration (one line)."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EROFS:
        reason += " (a read-only file system: kg can only read a store there)"
    return reason.replace("\n", " ")


def _own_entry(name: str) -> bool:
    return (name in _OWN_ENTRIES or name.startswith(("oxigraph.broken-", ".fingerprints.")))


# The files of an Oxigraph (RocksDB) database: nothing else may be in the ``oxigraph``
# folder of a store kg adopts
_DATABASE_FILE = re.compile(r"CURRENT|IDENTITY|LOCK|LOG|LOG\.old\.\d+|MANIFEST-\d+|OPTIONS-\d+"
                            r"|\d+\.(?:sst|log|blob)")


def _is_database(path: Path) -> bool:
    """Whether ``path`` holds an Oxigraph database and nothing else: its ``CURRENT`` file
    and only RocksDB's own file names (no sub-folder, no file a person put there).

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = [(d / n).write_text("x") for n in ("CURRENT", "MANIFEST-000005", "000007.sst")]
    >>> _is_database(d), (d / "README.md").write_text("mine") and _is_database(d)
    (True, False)
    """
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return "CURRENT" in names and all(
        _DATABASE_FILE.fullmatch(n) and (path / n).is_file() for n in names)


def _marker_doc() -> bytes:
    import json

    return json.dumps({"format": "kg-store", "version": STORE_FORMAT_VERSION}).encode() + b"\n"


def _read_marker(path: Path) -> None:
    import json

    marker = path / MARKER
    if not marker.is_file():
        raise StoreError(f"{path} is not a kg store: {MARKER} is not a regular file")
    try:
        with open(marker, "rb") as fh:
            doc = json.loads(fh.read(4096).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise StoreError(f"{path} is not a kg store: {MARKER} is not kg's store marker") from None
    if not isinstance(doc, dict) or doc.get("format") != "kg-store":
        raise StoreError(f"{path} is not a kg store: {MARKER} is not kg's store marker")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise StoreError(f"{path} is not a kg store: {MARKER} has no format version")
    if version > STORE_FORMAT_VERSION:
        raise StoreError(f"the store at {path} has format version {version}; this kg reads "
                         f"version {STORE_FORMAT_VERSION} (upgrade kg)")


def is_store(path: str | os.PathLike) -> bool:
    """True when ``path`` is a folder with kg's store marker (``kg-store.json``)."""
    try:
        _read_marker(Path(path))
    except (StoreError, OSError):
        return False
    return True


def _recognise(path: Path, *, write: bool, create: bool) -> bool:
    """Check that ``path`` is a kg store (its marker), or make a new one there.

    kg only ever creates a store in a missing or empty folder, and only
    treats a folder as its own when it carries the marker (or is a store made
    by an older kg: nothing in it but what kg writes). A folder holding only the lock
    file (what is left of a store a failed command took back, :meth:`LocalStore.__exit__`;
    kg writes nothing into it) counts as empty. Anything else is
    refused, so recovery never deletes files kg did not create. Returns whether it
    made the store.
    """
    if path.exists() and not path.is_dir():
        raise StoreError(f"{path} is not a folder (--store names the store's folder)")
    if (path / MARKER).exists() or (path / MARKER).is_symlink():
        _read_marker(path)
        return False
    entries = sorted(os.listdir(path)) if path.is_dir() else None
    if (entries and _is_database(path / "oxigraph") and all(_own_entry(e) for e in entries)):
        if write:  # a store made before the marker: adopt it
            _write_durably(path / MARKER, _marker_doc())
        return False
    if entries and set(entries) != {LOCK_FILE}:
        raise StoreError(f"{path} is not a kg store (no {MARKER}) and is not empty: "
                         "kg makes a store only in a new or empty folder")
    if not create:
        raise StoreError(f"no store at {path} (run 'kg build' first, or pass --store DIR)")
    path.mkdir(parents=True, exist_ok=True)
    _write_durably(path / MARKER, _marker_doc())
    return True


def _lock_timeout() -> float:
    """Seconds to wait for the store lock: ``$KG_LOCK_TIMEOUT`` (a finite number >= 0), default 5."""
    import math

    raw = os.environ.get("KG_LOCK_TIMEOUT")
    if raw is None or raw.strip() == "":
        return 5.0
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"KG_LOCK_TIMEOUT={raw!r} is not a number of seconds (a finite number >= 0)")
    return value


class LocalStore(BaseStore):
    """A persistent Oxigraph store in a folder, opened for reading or for writing."""

    kind = "local"

    def __init__(self, path: str | os.PathLike | None = None, *, write: bool = False,
                 create: bool | None = None):
        import pyoxigraph as ox

        self._ox = ox
        self.path = resolve_store_path(path)
        self.location = str(self.path)
        self.write = write
        db = self.path / "oxigraph"
        if create is None:
            create = write
        try:
            self.created = _recognise(self.path, write=write, create=create)
            self._lock = _Lock(self.path / LOCK_FILE, exclusive=write, timeout=_lock_timeout())
        except OSError as exc:
            raise StoreError(f"cannot open the store at {self.path}: {_os_reason(exc)}") from None
        try:
            self._read_dir = None  # the database folder a reader opened (see _db_stamp)
            if write:
                recover(self.path)
                self.db = _open_engine(ox, db)
                self._drop_staging()
            else:
                if (self.path / JOURNAL).exists() and (self.path / CHECKPOINT).is_dir():
                    # a writer was killed: read the state before its write
                    self.db = ox.Store.read_only(str(self.path / CHECKPOINT))
                elif not db.exists():
                    self.db = ox.Store()  # an empty store that nothing has written yet
                else:
                    self.db = ox.Store.read_only(str(db))
                    self._read_dir = db
        except OSError as exc:
            self._lock.release()
            raise StoreError(f"cannot open the store at {self.path}: {_os_reason(exc)}") from None

    # -- reading --------------------------------------------------------------
    def graph_iris(self) -> list[str]:
        out = []
        for g in self.db.named_graphs():
            v = g.value
            if v.startswith(STAGING_PREFIX) or v == META_GRAPH:
                continue
            out.append(v)
        return sorted(out)

    def _dataset(self, graphs: list[str]) -> dict:
        ox = self._ox
        nodes = [ox.NamedNode(g) for g in graphs]
        if not nodes:
            # an empty default graph: the store's own default graph holds nothing
            return {"default_graph": [ox.DefaultGraph()], "named_graphs": []}
        if set(graphs) == {g.value for g in self.db.named_graphs()}:
            # every graph of the store: the engine's union default graph gives the same
            # answers and is about twice as fast as an explicit list of default graphs
            return {"use_default_graph_as_union": True}
        return {"default_graph": nodes, "named_graphs": nodes}

    def _run(self, text: str, graphs: list[str]):
        try:
            return self.db.query(text, **self._dataset(graphs))
        except SyntaxError as exc:
            raise UsageError(f"SPARQL syntax error: {exc}") from None
        except (OSError, RuntimeError) as exc:
            # e.g. a SERVICE call (allowed with --allow-network) that the other server refused,
            # or answered with something that is not SPARQL results (RuntimeError)
            raise _failed(exc) from None

    def _select(self, text: str, graphs: list[str]) -> ResultSet:
        # solutions are computed lazily: engine errors surface while iterating
        return _engine(lambda: from_oxigraph(self._run(text, graphs)))

    def _select_own(self, text: str, graphs: list[str]) -> ResultSet:
        """:meth:`_select` with the whole answer written by the engine in one call.

        pyoxigraph hands the GIL back and takes it again for each row it yields; while
        another thread runs Python (a run's background reads, :class:`kg.basestore.Background`),
        each take waits up to the interpreter's switch interval, so a query of 20,000 rows
        read beside busy Python took a minute instead of 0.1 s. ``serialize`` evaluates
        and writes the whole answer without the GIL, as SPARQL TSV (a third smaller than
        JSON, and read with half the Python work: :func:`kg.results.from_sparql_tsv`, the
        same terms). Only for kg's own queries, whose answers are tables of the store's
        entities: the text costs several times the memory of the rows, too much for any
        query a user might write. An answer holding an RDF 1.2 triple term (which a
        :class:`~kg.results.Term` cannot hold as such) is read row by row, as before.
        """
        tsv = self._ox.QueryResultsFormat.TSV
        data = _engine(lambda: self._run(text, graphs).serialize(format=tsv))
        try:
            return from_sparql_tsv(data)
        except (ValueError, SyntaxError):  # a triple term, or a cell it cannot read
            return self._select(text, graphs)

    def _ask(self, text: str, graphs: list[str]) -> bool:
        return bool(self._run(text, graphs))

    def _construct(self, text: str, graphs: list[str]) -> bytes:
        ox = self._ox
        data = _engine(lambda: ox.serialize(self._run(text, graphs), format=ox.RdfFormat.N_TRIPLES))
        # sorted and de-duplicated, so local and remote stores print the same bytes
        return canonical_nquads(data.split(b"\n"))

    def graph_lines(self, iri: str) -> list[bytes]:
        ox = self._ox
        data = self.db.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(iri))
        suffix = b" <" + iri.encode() + b"> ."
        return [line[:-2] + suffix for line in data.split(b"\n") if line]

    def engine_version(self) -> str:
        return f"pyoxigraph {self._ox.__version__}"

    # -- fingerprint cache -------------------------------------------------
    # Hashing the canonical N-Quads of a million triples takes seconds, and
    # every citation block needs it. The cache (<store>/fingerprints.json)
    # holds each graph's triple count and SHA-256, and the SHA-256 of each
    # set of graphs asked for. A writer removes the entries of the graphs it
    # is about to change *before* it changes them, so a killed write leaves
    # at worst a cache miss; a reader also checks each graph's triple count.
    def _cache_path(self) -> Path:
        return self.path / "fingerprints.json"

    def _read_cache(self) -> dict:
        import json

        try:
            doc = json.loads(self._cache_path().read_text(encoding="utf-8"))
            if isinstance(doc, dict) and isinstance(doc.get("graphs"), dict):
                doc.setdefault("sets", {})
                return doc
        except (OSError, ValueError):
            pass
        return {"graphs": {}, "sets": {}}

    def _write_cache(self, doc: dict) -> None:
        import json

        tmp = self.path / f".fingerprints.{os.getpid()}.{uuid.uuid4().hex}.tmp"
        try:
            tmp.write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self._cache_path())
        except OSError:
            try:
                tmp.unlink()
            except OSError:
                pass

    def _invalidate(self, iris) -> None:
        doc = self._read_cache()
        iris = set(iris)
        doc["graphs"] = {g: v for g, v in doc["graphs"].items() if g not in iris}
        doc["sets"] = {k: v for k, v in doc["sets"].items() if not iris & set(k.split(" "))}
        doc.pop("stamp", None)
        self._write_cache(doc)

    def _db_stamp(self) -> str | None:
        """A stamp of the database files a reader opened, or None for a writer.

        RocksDB never changes a file in place without changing its size or time,
        and any write adds or replaces files; a reader (read-only open, shared
        lock: no writer runs meanwhile) changes none. So while the stamp is the
        same, the triple counts checked under it still hold. The engine's info
        logs (``LOG*``) are left out. None when the files cannot be listed.
        """
        if self._read_dir is None:
            return None
        import hashlib

        try:
            entries = sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns)
                             for e in os.scandir(self._read_dir) if not e.name.startswith("LOG"))
        except OSError:
            return None
        return hashlib.sha256(repr(entries).encode()).hexdigest()

    def _graph_counts(self, iris: list[str], doc: dict, stamp: str | None) -> dict[str, int]:
        """Triples per graph: from the cache while the files' stamp holds, else counted."""
        checked = doc.get("stamp") or {}
        if stamp is not None and checked.get("files") == stamp and set(iris) <= set(checked["graphs"]):
            return {g: doc["graphs"][g]["count"] for g in iris if g in doc["graphs"]}
        if not iris:
            return {}
        rs = self._memo_select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                               "GROUP BY ?g", iris)
        return {g.value: int(n.value) for g, n in rs.rows}

    def fingerprint(self, graphs: list[str] | None = None) -> dict:
        iris = self.graph_iris_of(graphs)
        memo_key = ("fingerprint", tuple(iris))
        if self._memo is not None and memo_key in self._memo:
            return self._memo[memo_key]
        doc = self._read_cache()
        stamp = self._db_stamp()
        counts = self._graph_counts(iris, doc, stamp)
        fresh = all(doc["graphs"].get(g, {}).get("count") == counts.get(g, 0) for g in iris)
        key = " ".join(iris)
        dirty = False
        if fresh and key in doc["sets"]:
            result = {"all": doc["sets"][key],
                      "graphs": {graph_name(g): doc["graphs"][g]["sha256"] for g in iris}}
        else:
            result = BaseStore.fingerprint(self, graphs)
            for g in iris:
                doc["graphs"][g] = {"count": counts.get(g, 0),
                                    "sha256": result["graphs"][graph_name(g)]}
            doc["sets"][key] = result["all"]
            dirty = True
        checked = doc.get("stamp") or {}
        if stamp is not None and not (checked.get("files") == stamp
                                      and set(iris) <= set(checked["graphs"])):
            known = checked["graphs"] if checked.get("files") == stamp else []
            doc["stamp"] = {"files": stamp, "graphs": sorted(set(known) | set(iris))}
            dirty = True
        if dirty:
            self._write_cache(doc)
        if self._memo is not None:
            self._memo[memo_key] = result
        return result

    # -- writing --------------------------------------------------------------
    def _need_write(self):
        if not self.write:
            raise StoreError("the store was opened read-only")

    def _drop_staging(self):
        for g in list(self.db.named_graphs()):
            if g.value.startswith(STAGING_PREFIX):
                self.db.remove_graph(g)

    def write_graphs(self, data: dict[str, bytes], *, replace: bool,
                     files: list[FileLoad] | tuple = (), check=None, check_loaded=None) -> None:
        """Write N-Triples ``data`` (graph IRI to bytes) and ``files`` in one atomic step.

        :param data: graph IRI to N-Triples bytes.
        :param replace: swap each named graph written for the new content; else the
            triples are added to what the graph holds.
        :param files: :class:`FileLoad` items the engine reads straight from disk
            (line formats in chunks of :data:`CHUNK_BYTES`, so memory stays flat
            however big the file).
        :param check: a callable run in this thread *while* the engine loads, in a
            worker thread (validation of the same data in memory, say); if it raises,
            the load stops at the next chunk, the write is undone and the error raised.
        :param check_loaded: a callable ``check_loaded(db, previous)`` run on the loaded
            ``pyoxigraph.Store`` before the write is committed (validation of data too
            big for memory, or of what a replace takes from other graphs); ``previous()``
            returns the store as it was before the write, read-only. If it raises, the
            write is undone.

        The write is bracketed by a checkpoint of the store (RocksDB hard links,
        instant) and a journal file: a process killed in between leaves the
        journal, and the next open restores the checkpoint, so each graph is
        either as it was or complete. Inside the bracket the engine's bulk
        loader writes. A replaced graph that is large next to the rest of the
        store is dropped as a whole: the other graphs and the new data are loaded
        into a fresh database that takes the live one's place (see
        :meth:`_rebuild`), instead of deleting its triples one by one.
        """
        self._need_write()
        if not data and not files:
            return
        targets = set(data) | {f.graph for f in files}
        self._invalidate(targets)
        self.clear_memo()
        if replace and self._rebuild_cheaper(targets):
            self._rebuild(targets, data, files, check, check_loaded)
            return
        self._begin()
        try:
            if replace:
                for iri in sorted(targets):
                    node = self._ox.NamedNode(iri)
                    if self.db.contains_named_graph(node):
                        self.db.remove_graph(node)
            self._load_into(self.db, data, files, check, replace=replace)
            if check_loaded is not None:
                check_loaded(self.db, self._checkpoint)
            self._commit()
        except BaseException as exc:
            # frames of the traceback hold the engine handle: release them so it can close
            traceback.clear_frames(exc.__traceback__)
            self._rollback()
            raise

    def _load_into(self, db, data: dict[str, bytes], files, check, *, replace: bool) -> None:
        """Bulk-load ``data`` and ``files`` into ``db``; ``check()`` runs alongside (see above).

        The engine handle is held in a box emptied on the way out, so that no
        frame or closure kept alive by an exception still holds it when a
        rollback reopens the database.
        """
        box = {"db": db}
        del db
        try:
            self._load_boxed(box, data, files, check, replace=replace)
        finally:
            box.clear()

    def _load_boxed(self, box: dict, data, files, check, *, replace: bool) -> None:
        import threading

        ox = self._ox
        for iri, nt in sorted(data.items()):
            node = ox.NamedNode(iri)
            if nt:
                box["db"].bulk_load(nt, format=ox.RdfFormat.N_TRIPLES, to_graph=node)
            elif replace:
                box["db"].add_graph(node)
        if not files:
            if check is not None:
                check()
            return
        stop, done = threading.Event(), threading.Event()
        failed: list[BaseException] = []

        def load():
            try:
                for f in files:
                    load_file(box["db"], f, stop=stop)
                if not stop.is_set():
                    # the chunks leave many overlapping files; merged now, inside the write
                    # bracket, every later read is cheaper (see optimize_after)
                    optimize_after(box["db"], files)
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                traceback.clear_frames(exc.__traceback__)  # let go of the engine handle
                failed.append(exc)
            finally:
                done.set()

        threading.Thread(target=load, name="kg-bulk-load", daemon=True).start()
        try:
            if check is not None:
                check()
        except BaseException:
            stop.set()
            raise
        finally:
            wait_through_interrupts(done, stop)
        if failed:
            raise failed[0]

    def _rebuild_cheaper(self, targets) -> bool:
        """Whether dropping ``targets`` by a rebuild beats deleting their triples.

        Deleting costs about three times as much per triple as bulk-loading one,
        so the rebuild wins when the graphs that stay hold fewer than twice as
        many triples as those replaced.
        """
        rs = self._select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                          sorted(g.value for g in self.db.named_graphs()))
        counts = {g.value: int(n.value) for g, n in rs.rows}
        replaced = sum(n for g, n in counts.items() if g in targets)
        kept = sum(n for g, n in counts.items() if g not in targets)
        return replaced >= REBUILD_MIN_TRIPLES and kept < 2 * replaced

    def _rebuild(self, targets, data, files, check, check_loaded) -> None:
        """Replace ``targets`` by loading everything else and the new data into a fresh database.

        The fresh database is written beside the live one (``<store>/rebuild``);
        then, under the journal, the live database becomes the checkpoint and the
        fresh one takes its place. A kill before the journal is removed restores
        the checkpoint (the old content); after, the new content stands.
        """
        ox = self._ox
        fresh_dir = self.path / REBUILD
        if fresh_dir.exists():
            shutil.rmtree(fresh_dir)
        kept = self.path / (REBUILD + ".nt")
        try:
            fresh = ox.Store(str(fresh_dir))
            # every other graph, one at a time through a file (the engine streams both ways)
            others = [g for g in self.db.named_graphs()
                      if g.value not in targets and not g.value.startswith(STAGING_PREFIX)]
            for g in sorted(others, key=lambda n: n.value) + [ox.DefaultGraph()]:
                self.db.dump(str(kept), format=ox.RdfFormat.N_TRIPLES, from_graph=g)
                if isinstance(g, ox.NamedNode):
                    fresh.add_graph(g)
                load_file(fresh, FileLoad(str(kept), "N_TRIPLES",
                                          g.value if isinstance(g, ox.NamedNode) else None))
            kept.unlink()
            self._load_into(fresh, data, files, check, replace=True)
            if check_loaded is not None:
                check_loaded(fresh, lambda: self.db)
            fresh.flush()
            del fresh
        except BaseException as exc:
            fresh = None  # noqa: F841 - let go of the engine handle before removing its folder
            traceback.clear_frames(exc.__traceback__)
            shutil.rmtree(fresh_dir, ignore_errors=True)
            try:
                kept.unlink()
            except OSError:
                pass
            raise
        # the swap: journal first, then two renames; recover() undoes a partial swap
        db, ck = self.path / "oxigraph", self.path / CHECKPOINT
        if ck.exists():
            shutil.rmtree(ck)
        self.db.flush()
        del self.db
        _write_durably(self.path / JOURNAL, b"kg write in progress; the next open restores "
                                            b"the checkpoint\n")
        os.replace(db, ck)
        os.replace(fresh_dir, db)
        _fsync_dir(self.path)
        (self.path / JOURNAL).unlink()
        _fsync_dir(self.path)
        shutil.rmtree(ck, ignore_errors=True)
        self.db = ox.Store(str(db))

    # The write bracket: checkpoint, journal, write, flush, remove journal.
    def _begin(self) -> None:
        ck = self.path / CHECKPOINT
        if ck.exists():
            shutil.rmtree(ck)
        self.db.flush()
        self.db.backup(str(ck))
        _write_durably(self.path / JOURNAL, b"kg write in progress; the next open restores "
                                            b"the checkpoint\n")

    def _checkpoint(self):
        """The checkpoint :meth:`_begin` took (the store before the write), opened read-only."""
        return self._ox.Store.read_only(str(self.path / CHECKPOINT))

    def _commit(self) -> None:
        self.db.flush()
        (self.path / JOURNAL).unlink()
        _fsync_dir(self.path)
        shutil.rmtree(self.path / CHECKPOINT, ignore_errors=True)

    def _rollback(self) -> None:
        """Undo a failed write in this process by restoring the checkpoint."""
        import gc

        ox = self._ox
        del self.db
        gc.collect()  # an exception's frames may still hold the handle in a cycle
        recover(self.path)
        self.db = ox.Store(str(self.path / "oxigraph"))

    def drop_graph(self, name: str) -> None:
        """Remove a dataset graph."""
        self._need_write()
        iri = graph_iri(check_graph_name(name))
        self._invalidate([iri])
        self.clear_memo()
        self.db.update(f"DROP SILENT GRAPH <{iri}>")  # one transaction
        self.db.flush()

    def __exit__(self, exc_type, exc, tb):
        """Close; a store this open made, left without a graph by a command that failed
        (``kg ingest nosuch.ttl`` where there was no store), is taken back, so a refused
        command leaves no empty store behind: its entries go, but for the lock file,
        which the folder keeps (a folder holding only that counts as empty). They go while
        the write lock is still held, so a writer waiting on it starts on a clean folder
        and keeps its own data. A store that cannot say whether it is empty is kept."""
        made = self.write and exc_type is not None and self.created
        try:
            empty = made and getattr(self, "db", None) is not None and not self.graph_iris()
        except Exception:  # noqa: BLE001 - the failure being raised says more; keep the store
            empty = False
        if not empty:
            self.close()
            return
        lock, self._lock = self._lock, None
        self.close()  # the engine; the lock stays held until the entries are gone
        try:
            for entry in os.listdir(self.path):
                if _own_entry(entry) and entry != LOCK_FILE:
                    target = self.path / entry
                    if target.is_dir() and not target.is_symlink():
                        shutil.rmtree(target, ignore_errors=True)
                    else:
                        target.unlink(missing_ok=True)
        finally:
            if lock is not None:
                lock.release()

    def close(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            if self.write:
                try:
                    db.flush()
                except OSError:
                    pass
            del self.db
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.release()
            self._lock = None


def open_store(path: str | os.PathLike | None = None, *, endpoint: str | None = None,
               update_endpoint: str | None = None, write: bool = False, create: bool | None = None,
               timeout: float | None = None) -> BaseStore:
    """Open the local store at ``path`` or, with ``endpoint``, a remote SPARQL store."""
    if endpoint:
        from kg.remote import RemoteStore

        return RemoteStore(endpoint, update_endpoint=update_endpoint, timeout=timeout)
    return LocalStore(path, write=write, create=create)
