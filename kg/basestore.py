"""What every store offers, local (:mod:`kg.store`) or remote (:mod:`kg.remote`).

The base class, the graph-name check and the canonical N-Quads form live here,
below both backends, so that neither imports the other for them.

>>> check_graph_name("curated")
'curated'
"""

from __future__ import annotations

import hashlib
import time

from kg.errors import QueryTimeout, UsageError
from kg.namespaces import GRAPH, GRAPH_NAME_RE, PREFIXES, graph_iri, graph_name
from kg.results import ResultSet
from kg.sparql import (
    Iri,
    Lit,
    bind_values,
    check_no_dataset_clause,
    check_query_limits,
    check_query_safe,
    query_form,
)

__all__ = ["STAGING_PREFIX", "BaseStore", "canonical_nquads", "check_graph_name",
           "run_interruptible", "Background", "in_parallel", "Forked", "StallWatch"]

STAGING_PREFIX = "urn:kg:staging:"


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
    job = Background(fn, name="kg-query")
    deadline = None if timeout is None else time.monotonic() + timeout
    while not job.wait(0.1):
        if deadline is not None and time.monotonic() >= deadline:
            raise QueryTimeout(f"the query was stopped after {timeout:g} s (--timeout)")
    return job.result()


class Background:
    """``fn()`` computed in a daemon thread while the caller goes on; :meth:`result` waits.

    For work that waits on the engine: pyoxigraph releases the GIL while it
    evaluates a query, and a remote store waits on the network, so a query run
    here overlaps the caller's Python work (or another query). The thread's
    queries go through the store's tracer and memo like any other
    (:func:`kg.basestore.run_interruptible` runs them directly outside the main
    thread). Waiting in :meth:`result` can be stopped with Ctrl-C; an abandoned
    thread ends with the process. An error raised by ``fn`` is raised again by
    :meth:`result`.

    >>> Background(lambda: 6 * 7).result()
    42
    """

    def __init__(self, fn, name: str = "kg-prefetch"):
        import threading

        from kg.resources import start_deep_thread

        self._done = threading.Event()
        self._box: dict = {}
        start_deep_thread(lambda: self._work(fn), name)  # the engine recurses on deep queries

    def _work(self, fn) -> None:
        try:
            self._box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            self._box["error"] = exc
        finally:
            self._done.set()

    def done(self) -> bool:
        """Whether ``fn`` has returned (or raised)."""
        return self._done.is_set()

    def wait(self, seconds: float) -> bool:
        """Wait at most ``seconds`` for ``fn`` to end; whether it has."""
        return self._done.wait(seconds)

    def result(self):
        """The value of ``fn()`` (its error raised here), once it is there."""
        while not self.wait(0.1):  # short waits: Ctrl-C is seen at once
            pass
        if "error" in self._box:
            raise self._box["error"]
        return self._box["value"]


#: Seconds a :class:`Forked` child may sleep without using the processor before it is
#: taken for stuck (killed, its work done by the caller); checked every STALL_POLL_S.
STALL_S = 2.0
STALL_POLL_S = 0.25


def _sleep_and_cpu(pid: int) -> int | None:
    """The processor time (clock ticks) of process ``pid`` when it sleeps (``S``), None when
    it runs, or when there is no ``/proc`` to tell (Linux proc(5): fields 3, 14 and 15 of
    ``stat``).

    >>> import os
    >>> _sleep_and_cpu(os.getpid()) is None  # this process is running: it reads its stat
    True
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12]) if fields[0] == b"S" else None


class StallWatch:
    """Tells, polled every :data:`STALL_POLL_S`, when forked processes are stuck: each of
    them asleep (:func:`_sleep_and_cpu`) with the same processor time for :data:`STALL_S`
    seconds. One that runs, or any change, starts the count again; without ``/proc``
    nothing is taken for stuck. The rule of :class:`Forked` and
    :class:`kg.metrics.ForkedMap`.

    >>> import os
    >>> StallWatch().tick([os.getpid()])  # running (it reads its own stat)
    False
    """

    def __init__(self):
        self._seen: tuple | None = None
        self._still = 0.0

    def tick(self, pids) -> bool:
        """One poll of ``pids``: True once they have all been still for :data:`STALL_S`."""
        now = tuple((pid, _sleep_and_cpu(pid)) for pid in pids)
        asleep = bool(now) and all(cpu is not None for _, cpu in now)
        self._still = self._still + STALL_POLL_S if asleep and now == self._seen else 0.0
        self._seen = now if asleep else None
        return self._still >= STALL_S

    def reset(self) -> None:
        """Something was heard from them: start the count again."""
        self._seen, self._still = None, 0.0


def can_fork() -> bool:
    """Whether this platform can fork worker processes: ``os.fork`` exists and
    ``multiprocessing`` offers the ``fork`` start method. The one rule of
    :class:`Forked`, :class:`kg.metrics.ForkedMap` and the worker pool of
    ``kg metrics --by-year``; where it is False they compute in this process.

    >>> import os
    >>> can_fork() == hasattr(os, "fork")  # both hold on Linux and macOS, neither on Windows
    True
    """
    import multiprocessing
    import os

    return hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()


class Forked:
    """``fn()`` computed in a forked child process while the caller goes on; :meth:`result`
    gives its value, sent back pickled through a pipe.

    For pure Python work (no store, no threads, no files) beside other Python work: the
    child has its own interpreter lock, so on a machine with a spare core both run at once,
    which threads cannot. Only the calling thread lives on in the child, so ``fn`` must not
    wait on another thread or on a lock one may hold (a store, a queue, a module being
    imported); computing on objects already made is safe (``kg report`` forks one while a
    worker pool's three handler threads run). Where there is no ``fork``, or the child
    fails in any way (an error, a value that does not pickle, killed, or stuck: asleep
    without using the processor for :data:`STALL_S` seconds, as on a lock whose holder
    did not come along), :meth:`result` calls ``fn()`` here instead, so the answer never
    depends on the child.

    :param fork: False computes ``fn()`` here, when :meth:`result` is called (for work
        too small to pay for a process).

    >>> Forked(lambda: sum(range(10))).result()
    45
    """

    def __init__(self, fn, *, fork: bool = True):
        import os

        self._fn = fn
        self._pid = None
        if not fork or not can_fork():
            return
        import pickle
        import warnings

        read, write = os.pipe()
        with warnings.catch_warnings():  # the fork warning is about threads the child never uses
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: compute, send, and leave without running the parent's exits
            code = 1
            try:
                os.close(read)
                with os.fdopen(write, "wb") as out:
                    pickle.dump(fn(), out, protocol=pickle.HIGHEST_PROTOCOL)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._read = pid, read

    def result(self):
        """The value of ``fn()``: the child's, or computed here if the child gave none."""
        if self._pid is None:
            return self._fn()
        import os
        import pickle
        import signal

        try:
            data = self._read_all()
        except BaseException:  # Ctrl-C while waiting: the child is stopped, not waited for
            os.kill(self._pid, signal.SIGKILL)
            raise
        finally:
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
        if status != 0 or not data:
            return self._fn()
        return pickle.loads(data)

    def _read_all(self) -> bytes:
        """The child's bytes until it closes the pipe; none when it is stuck (then killed).

        Stuck: asleep (state ``S`` in ``/proc/<pid>/stat``) with the same processor time
        for :data:`STALL_S` seconds while it has sent nothing (the pipe polled every
        :data:`STALL_POLL_S`). A child that computes uses the processor, and one that
        waits for this process to read is read at once; without ``/proc`` nothing is
        taken for stuck.
        """
        import os
        import select
        import signal

        chunks: list[bytes] = []
        watch = StallWatch()
        # poll, not select: a store's engine may hold more than FD_SETSIZE (1024) files
        # open, and select() refuses a descriptor past it
        waiting = select.poll()
        waiting.register(self._read, select.POLLIN)
        try:
            while True:
                if waiting.poll(STALL_POLL_S * 1000):
                    chunk = os.read(self._read, 1 << 20)
                    if not chunk:
                        return b"".join(chunks)
                    chunks.append(chunk)
                    watch.reset()
                    continue
                if watch.tick([self._pid]):
                    os.kill(self._pid, signal.SIGKILL)
                    return b""
        finally:
            os.close(self._read)

    def close(self) -> None:
        """Stop the child if its value was not taken (a no-op once :meth:`result` ran)."""
        if self._pid is None:
            return
        import os
        import signal

        os.kill(self._pid, signal.SIGKILL)
        os.close(self._read)
        os.waitpid(self._pid, 0)
        self._pid = None


def in_parallel(fns, threads: int = 2) -> list[Background]:
    """Start each of ``fns`` in a :class:`Background` thread, at most ``threads`` of them
    running at once (roughly in order); returns their handles, read with ``.result()``.

    For independent queries whose answers are needed one after the other: the engine
    evaluates the next ones while the caller reads the first.

    >>> [job.result() for job in in_parallel([lambda: 1, lambda: 2, lambda: 3])]
    [1, 2, 3]
    """
    import threading

    gate = threading.Semaphore(threads)

    def gated(fn):
        def run():
            with gate:
                return fn()
        return run

    return [Background(gated(fn)) for fn in fns]


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
    #: The run's cache of networks and metrics (:func:`kg.cache.run_cache` sets it; a write drops it).
    network_cache = None
    location = ""
    tracer = None
    _memo: dict | None = None

    # -- to implement -------------------------------------------------------
    def graph_iris(self) -> list[str]:  # pragma: no cover - interface
        raise NotImplementedError

    def _select(self, text: str, graphs: list[str]) -> ResultSet:  # pragma: no cover
        raise NotImplementedError

    def _select_own(self, text: str, graphs: list[str]) -> ResultSet:
        """:meth:`_select` for kg's own texts (a backend may answer them faster)."""
        return self._select(text, graphs)

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

    def graph_iris_of(self, graphs: list[str] | None) -> list[str]:
        """The IRIs of ``graphs`` (short names or IRIs; None: every graph), sorted.

        A name the store does not hold is a UsageError listing the graphs it has.
        """
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
              timeout: float | None = None, own: bool = False):
        """Run a query: a ResultSet for SELECT, a bool for ASK, N-Triples bytes otherwise.

        ``graphs`` restricts the default graph to those datasets (short names);
        None reads the union of all of them. ``timeout`` (seconds) stops waiting
        with :class:`~kg.errors.QueryTimeout`; Ctrl-C stops the wait at once
        (see :func:`run_interruptible`).

        Every text is held to the size limits. Text from outside (``kg query
        sparql``, ``kg serve``, a user's ``.rq`` file) also goes through
        the network and file guard, which parses it
        (:func:`kg.sparql.check_query_safe`). ``own=True`` says that kg's own
        code wrote the text, from constants, checked names and parameters bound
        as RDF terms (``bindings``, or terms written by
        :func:`kg.sparql.term_to_sparql`), so that there
        is nothing outside to guard against and the parse (about 0.3 s for the
        first query of a process, 10-30 ms for each further text) is skipped;
        so do the saved and claim queries shipped in kg's own folders
        (:attr:`kg.queries.SavedQuery.shipped`). Never pass it for other text.
        """
        if own:
            check_query_limits(text)
        else:
            check_query_safe(text, allow_network=allow_network)
            check_no_dataset_clause(text)
        form = query_form(text)
        if form == "UPDATE":
            raise UsageError("this is a SPARQL update; kg query only reads (use kg ingest to write)")
        text = bind_values(text, bindings or {})
        g = self.graph_iris_of(graphs)
        run = {"SELECT": self._select_own if own else self._select,
               "ASK": self._ask}.get(form, self._construct)
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
        self.network_cache = None

    def select(self, text: str, **kw) -> ResultSet:
        """Run a SELECT and return its ResultSet."""
        rs = self.query(text, **kw)
        if not isinstance(rs, ResultSet):
            raise UsageError("expected a SELECT query")
        return rs

    def graph_sizes(self) -> dict[str, int]:
        """Triples per dataset graph (short name to count)."""
        rs = self._memo_select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                               "GROUP BY ?g", self.graph_iris_of(None))
        sizes = {}
        for g, n in rs.rows:
            if g.value.startswith(STAGING_PREFIX) or g.value == META_GRAPH:
                continue
            sizes[graph_name(g.value)] = int(n.value)
        return dict(sorted(sizes.items()))

    def _memo_select(self, text: str, graphs: list[str]) -> ResultSet:
        """``_select`` through the tracer and the memo (for the store's own queries)."""
        return self._through_memo(text, graphs, self._select_own)

    def fingerprint(self, graphs: list[str] | None = None) -> dict:
        """SHA-256 of the canonical N-Quads of each graph used, and of all of them together.

        Returns ``{"all": hex, "graphs": {name: hex}}``.
        """
        per = {}
        total = hashlib.sha256()
        for iri in self.graph_iris_of(graphs):
            data = canonical_nquads(self.graph_lines(iri))
            per[graph_name(iri)] = hashlib.sha256(data).hexdigest()
            total.update(data)
        return {"all": total.hexdigest(), "graphs": per}

    def dump(self, fmt, graphs: list[str] | None = None) -> bytes:
        """Serialize the chosen graphs (all by default) in an RDF format (pyoxigraph RdfFormat).

        Dataset formats (N-Quads, TriG, JSON-LD) keep the graphs; triple formats give
        their union. Built
        from the canonical N-Quads lines, so a local and a remote store with
        the same data give the same bytes.
        """
        import pyoxigraph as ox

        lines: list[bytes] = []
        quads = fmt.supports_datasets  # N-Quads, TriG, JSON-LD keep the graph names
        for iri in self.graph_iris_of(graphs):
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


META_GRAPH = "urn:kg:meta"


def _copy_result(result):
    """A copy of a query result that a caller may change without touching the memo."""
    if isinstance(result, ResultSet):
        return ResultSet(list(result.variables), list(result.rows))
    return result


def _dump_prefixes() -> dict:
    out = dict(PREFIXES)
    out["graph"] = GRAPH
    return out
