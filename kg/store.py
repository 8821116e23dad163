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
import hashlib
import os
import shutil
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

from kg.errors import QueryTimeout, StoreBusyError, StoreError, UsageError
from kg.namespaces import GRAPH, GRAPH_NAME_RE, graph_iri, graph_name
from kg.results import ResultSet, from_oxigraph
from kg.sparql import Iri, Lit, bind_values, check_query_safe, query_form

__all__ = [
    "DEFAULT_STORE",
    "STAGING_PREFIX",
    "BaseStore",
    "LocalStore",
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
STAGING_PREFIX = "urn:kg:staging:"


def resolve_store_path(path: str | os.PathLike | None = None) -> Path:
    """The store folder: ``path``, else ``$KG_STORE``, else ``./.kg``."""
    return Path(path or os.environ.get("KG_STORE") or DEFAULT_STORE)


def check_graph_name(name: str, option: str | None = None) -> str:
    """Validate a short graph name (``curated``, ``mme``, a user's name).

    ``option`` (e.g. ``--graph``) names where the user gave it, for the message.
    """
    if not isinstance(name, str) or not GRAPH_NAME_RE.match(name):
        where = f"{option}: " if option else ""
        raise UsageError(f"{where}bad graph name {name!r}: use lower-case letters, digits, "
                         "'-', '_' or '.'")
    return name


def canonical_nquads(lines) -> bytes:
    """Sorted, de-duplicated N-Quads lines (the canonical form we fingerprint).

    The store holds no blank nodes (ingest skolemizes them), so sorting the
    lines of the N-Quads serialization is a canonical form.
    """
    uniq = sorted(set(line for line in lines if line))
    return b"".join(line + b"\n" for line in uniq)


def run_interruptible(fn, timeout: float | None = None):
    """Call ``fn()`` so that Ctrl-C and ``timeout`` (seconds) stop the wait for it.

    The engine cannot be interrupted, and a signal only reaches Python
    between engine calls; so in the main thread ``fn`` runs in a daemon
    thread while the main thread waits: Ctrl-C raises KeyboardInterrupt at
    once, and past ``timeout`` :class:`~kg.errors.QueryTimeout` is raised.
    The abandoned engine call ends with the process (the command line exits
    right after). Elsewhere (a server's worker) ``fn`` runs directly.

    >>> run_interruptible(lambda: 42, timeout=5)
    42
    """
    import math
    import threading

    if timeout is not None and (not math.isfinite(timeout) or timeout <= 0):
        raise UsageError(f"--timeout {timeout}: a positive number of seconds")
    if threading.current_thread() is not threading.main_thread():
        return fn()
    box: dict = {}
    done = threading.Event()

    def work():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="kg-query", daemon=True).start()
    deadline = None if timeout is None else time.monotonic() + timeout
    while not done.wait(0.1):
        if deadline is not None and time.monotonic() >= deadline:
            raise QueryTimeout(f"the query was stopped after {timeout:g} s (--timeout)")
    if "error" in box:
        raise box["error"]
    return box["result"]


class BaseStore:
    """What every store offers (local Oxigraph here, remote SPARQL in ``kg.remote``).

    Two run-scoped hooks sit on the query path (:meth:`query`, the triple counts
    and the fingerprint):

    * ``tracer``: None, or a callable ``tracer(text, graphs)`` called with each
      query sent to the engine (as sqlite-utils' ``Database(tracer=...)``), so a
      test can count queries;
    * a memo of results (:meth:`enable_memo`): a query asked again in the same
      run (same text, bindings and graphs) is answered from memory and not sent
      again. It is off unless asked for (a long-lived ``kg serve`` must not grow
      it); :func:`kg.cache.run_cache` turns it on for one run. Any write clears it.
    """

    kind = "base"
    location = ""
    tracer = None
    _memo: dict | None = None

    # -- to implement -------------------------------------------------------
    def graph_iris(self) -> list[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def _select(self, text: str, graphs: list[str]) -> ResultSet:  # pragma: no cover
        raise NotImplementedError

    def _ask(self, text: str, graphs: list[str]) -> bool:  # pragma: no cover
        raise NotImplementedError

    def _construct(self, text: str, graphs: list[str]) -> bytes:  # pragma: no cover
        raise NotImplementedError

    def graph_lines(self, iri: str) -> list[bytes]:  # pragma: no cover
        """N-Quads lines of one graph."""
        raise NotImplementedError

    def engine_version(self) -> str:  # pragma: no cover
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------
    def graph_names(self) -> list[str]:
        """Short names of the dataset graphs, sorted."""
        return sorted(graph_name(g) for g in self.graph_iris())

    def _graphs(self, graphs: list[str] | None) -> list[str]:
        present = self.graph_iris()
        if graphs is None:
            return sorted(present)
        out = []
        for name in graphs:
            iri = name if name.startswith(("http://", "https://", "urn:")) else graph_iri(name)
            if iri not in present:
                raise UsageError(f"no graph named {name!r} in the store "
                                 f"(graphs: {', '.join(self.graph_names()) or 'none'})")
            out.append(iri)
        return sorted(out)

    def query(self, text: str, *, bindings: dict[str, Iri | Lit] | None = None,
              graphs: list[str] | None = None, allow_network: bool = False,
              timeout: float | None = None):
        """Run a query: a ResultSet for SELECT, a bool for ASK, N-Triples bytes otherwise.

        ``graphs`` restricts the default graph to those datasets (short names);
        None reads the union of all of them. ``timeout`` (seconds) stops waiting
        with :class:`~kg.errors.QueryTimeout`; Ctrl-C stops the wait at once
        (see :func:`run_interruptible`).
        """
        check_query_safe(text, allow_network=allow_network)
        form = query_form(text)
        if form == "UPDATE":
            raise UsageError("this is a SPARQL update; kg query only reads (use kg ingest to write)")
        text = bind_values(text, bindings or {})
        g = self._graphs(graphs)
        run = {"SELECT": self._select, "ASK": self._ask}.get(form, self._construct)
        return self._through_memo(text, g,
                                  lambda t, gr: run_interruptible(lambda: run(t, gr), timeout))

    def _through_memo(self, text: str, graphs: list[str], run):
        """``run(text, graphs)``, or its memoized result; the tracer sees what is sent."""
        key = (text, tuple(graphs))
        if self._memo is not None and key in self._memo:
            return _copy_result(self._memo[key])
        self._trace(text, graphs)
        result = run(text, graphs)
        if self._memo is not None:
            self._memo[key] = _copy_result(result)
        return result

    def _trace(self, text: str, graphs) -> None:
        """Tell the tracer (if any) that ``text`` goes to the engine over ``graphs``."""
        if self.tracer is not None:
            self.tracer(text, list(graphs) if graphs is not None else None)

    def enable_memo(self) -> None:
        """Answer repeated queries of this run from memory (see the class docstring)."""
        if self._memo is None:
            self._memo = {}

    def clear_memo(self) -> None:
        """Forget memoized results (after a write); the run cache of networks too."""
        if self._memo is not None:
            self._memo = {}
        self.__dict__.pop("_run_cache", None)

    def select(self, text: str, **kw) -> ResultSet:
        """Run a SELECT and return its ResultSet."""
        rs = self.query(text, **kw)
        if not isinstance(rs, ResultSet):
            raise UsageError("expected a SELECT query")
        return rs

    def graph_sizes(self) -> dict[str, int]:
        """Triples per dataset graph (short name to count)."""
        rs = self._memo_select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                               "GROUP BY ?g", self._graphs(None))
        sizes = {}
        for g, n in rs.rows:
            if g.value.startswith(STAGING_PREFIX) or g.value == _META_GRAPH:
                continue
            sizes[graph_name(g.value)] = int(n.value)
        return dict(sorted(sizes.items()))

    def _memo_select(self, text: str, graphs: list[str]) -> ResultSet:
        """``_select`` through the tracer and the memo (for the store's own queries)."""
        return self._through_memo(text, graphs, self._select)

    def fingerprint(self, graphs: list[str] | None = None) -> dict:
        """SHA-256 of the canonical N-Quads of each graph used, and of all of them together.

        Returns ``{"all": hex, "graphs": {name: hex}}``.
        """
        per = {}
        total = hashlib.sha256()
        for iri in self._graphs(graphs):
            data = canonical_nquads(self.graph_lines(iri))
            per[graph_name(iri)] = hashlib.sha256(data).hexdigest()
            total.update(data)
        return {"all": total.hexdigest(), "graphs": per}

    def dump(self, fmt, graphs: list[str] | None = None) -> bytes:
        """Serialize the chosen graphs (all by default) in an RDF format (pyoxigraph RdfFormat).

        Quad formats keep the graphs; triple formats give their union. Built
        from the canonical N-Quads lines, so a local and a remote store with
        the same data give the same bytes.
        """
        import pyoxigraph as ox

        lines: list[bytes] = []
        quads = fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG)
        for iri in self._graphs(graphs):
            suffix = b" <" + iri.encode() + b"> ."
            for line in self.graph_lines(iri):
                if not quads and line.endswith(suffix):
                    line = line[: -len(suffix)] + b" ."  # drop the graph: a triple
                lines.append(line)
        data = canonical_nquads(lines)
        if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.N_TRIPLES):
            return data
        mem = ox.Store()
        mem.load(data, format=ox.RdfFormat.N_QUADS if quads else ox.RdfFormat.N_TRIPLES)
        if quads:
            return mem.dump(format=fmt, prefixes=_dump_prefixes())
        kw = {"prefixes": _dump_prefixes()} if fmt == ox.RdfFormat.TURTLE else {}
        return mem.dump(format=fmt, from_graph=ox.DefaultGraph(), **kw)

    def close(self) -> None:
        """Release the store."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_META_GRAPH = "urn:kg:meta"


def _copy_result(result):
    """A copy of a query result that a caller may change without touching the memo."""
    if isinstance(result, ResultSet):
        return ResultSet(list(result.variables), list(result.rows))
    return result


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


def load_file(db, f: FileLoad, *, stop=None, chunk_bytes: int = CHUNK_BYTES) -> None:
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
        while stop is None or not stop.is_set():
            lines = fh.readlines(chunk_bytes)
            if not lines:
                return
            db.bulk_load(b"".join(lines), format=fmt, **kw)


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


MARKER = "kg-store.json"
"""The file that makes a folder a kg store: ``{"format": "kg-store", "version": 1}``."""
STORE_FORMAT_VERSION = 1
# What older kg versions left in a store folder before the marker existed; a folder
# holding only these (and an ``oxigraph`` database) is adopted as a store.
_OWN_ENTRIES = {"oxigraph", "kg.lock", CHECKPOINT, JOURNAL, JOURNAL + ".tmp", "fingerprints.json",
                MARKER, MARKER + ".tmp"}


def _os_reason(exc: OSError) -> str:
    """The reason in an OSError, without Python's decoration (one line)."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EROFS:
        reason += " (a read-only file system: kg can only read a store there)"
    return reason.replace("\n", " ")


def _own_entry(name: str) -> bool:
    return (name in _OWN_ENTRIES or name.startswith(("oxigraph.broken-", ".fingerprints.")))


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


def _recognise(path: Path, *, write: bool, create: bool) -> None:
    """Check that ``path`` is a kg store (its marker), or make a new one there.

    kg only ever creates a store in a missing or empty folder, and only
    treats a folder as its own when it carries the marker (or is a store made
    by an older kg: nothing in it but what kg writes). Anything else is
    refused, so recovery never deletes files kg did not create.
    """
    if path.exists() and not path.is_dir():
        raise StoreError(f"{path} is not a folder (--store names the store's folder)")
    if (path / MARKER).exists() or (path / MARKER).is_symlink():
        _read_marker(path)
        return
    entries = sorted(os.listdir(path)) if path.is_dir() else None
    if entries and (path / "oxigraph").is_dir() and all(_own_entry(e) for e in entries):
        if write:  # a store made before the marker: adopt it
            _write_durably(path / MARKER, _marker_doc())
        return
    if entries:
        raise StoreError(f"{path} is not a kg store (no {MARKER}) and is not empty: "
                         "kg makes a store only in a new or empty folder")
    if not create:
        raise StoreError(f"no store at {path} (run 'kg build' first, or pass --store DIR)")
    path.mkdir(parents=True, exist_ok=True)
    _write_durably(path / MARKER, _marker_doc())


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
            _recognise(self.path, write=write, create=create)
            self._lock = _Lock(self.path / "kg.lock", exclusive=write, timeout=_lock_timeout())
        except OSError as exc:
            raise StoreError(f"cannot open the store at {self.path}: {_os_reason(exc)}") from None
        try:
            if write:
                recover(self.path)
                self.db = ox.Store(str(db))
                self._drop_staging()
            else:
                if (self.path / JOURNAL).exists() and (self.path / CHECKPOINT).is_dir():
                    # a writer was killed: read the state before its write
                    self.db = ox.Store.read_only(str(self.path / CHECKPOINT))
                elif not db.exists():
                    self.db = ox.Store()  # an empty store that nothing has written yet
                else:
                    self.db = ox.Store.read_only(str(db))
        except OSError as exc:
            self._lock.release()
            raise StoreError(f"cannot open the store at {self.path}: {_os_reason(exc)}") from None

    # -- reading --------------------------------------------------------------
    def graph_iris(self) -> list[str]:
        out = []
        for g in self.db.named_graphs():
            v = g.value
            if v.startswith(STAGING_PREFIX) or v == _META_GRAPH:
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
        except OSError as exc:
            # e.g. a SERVICE call (allowed with --allow-network) that the other server refused
            raise StoreError(f"the query failed: {exc}") from None

    def _select(self, text: str, graphs: list[str]) -> ResultSet:
        try:  # solutions are computed lazily: engine errors surface while iterating
            return from_oxigraph(self._run(text, graphs))
        except OSError as exc:
            raise StoreError(f"the query failed: {exc}") from None

    def _ask(self, text: str, graphs: list[str]) -> bool:
        return bool(self._run(text, graphs))

    def _construct(self, text: str, graphs: list[str]) -> bytes:
        ox = self._ox
        triples = self._run(text, graphs)
        try:
            data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        except OSError as exc:
            raise StoreError(f"the query failed: {exc}") from None
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
        self._write_cache(doc)

    def fingerprint(self, graphs: list[str] | None = None) -> dict:
        iris = self._graphs(graphs)
        doc = self._read_cache()
        counts = {}
        memo_key = ("fingerprint", tuple(iris))
        if self._memo is not None and memo_key in self._memo:
            return self._memo[memo_key]
        if iris:
            rs = self._memo_select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                                   "GROUP BY ?g", iris)
            counts = {g.value: int(n.value) for g, n in rs.rows}
        fresh = all(doc["graphs"].get(g, {}).get("count") == counts.get(g, 0) for g in iris)
        key = " ".join(iris)
        if fresh and key in doc["sets"]:
            result = {"all": doc["sets"][key],
                      "graphs": {graph_name(g): doc["graphs"][g]["sha256"] for g in iris}}
        else:
            result = BaseStore.fingerprint(self, graphs)
            for g in iris:
                doc["graphs"][g] = {"count": counts.get(g, 0),
                                    "sha256": result["graphs"][graph_name(g)]}
            doc["sets"][key] = result["all"]
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
        :param check_loaded: a callable ``check_loaded(db)`` run on the loaded
            ``pyoxigraph.Store`` before the write is committed (validation of data too
            big for memory); if it raises, the write is undone.

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
                check_loaded(self.db)
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
        stop = threading.Event()
        failed: list[BaseException] = []

        def load():
            try:
                for f in files:
                    load_file(box["db"], f, stop=stop)
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                traceback.clear_frames(exc.__traceback__)  # let go of the engine handle
                failed.append(exc)

        worker = threading.Thread(target=load, name="kg-bulk-load", daemon=True)
        worker.start()
        try:
            if check is not None:
                check()
        except BaseException:
            stop.set()
            raise
        finally:
            worker.join()
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
                check_loaded(fresh)
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


def _dump_prefixes() -> dict:
    from kg.namespaces import PREFIXES

    out = dict(PREFIXES)
    out["graph"] = GRAPH
    return out


def open_store(path: str | os.PathLike | None = None, *, endpoint: str | None = None,
               update_endpoint: str | None = None, write: bool = False, create: bool | None = None,
               timeout: float | None = None) -> BaseStore:
    """Open the local store at ``path`` or, with ``endpoint``, a remote SPARQL store."""
    if endpoint:
        from kg.remote import RemoteStore

        return RemoteStore(endpoint, update_endpoint=update_endpoint, timeout=timeout)
    return LocalStore(path, write=write, create=create)
