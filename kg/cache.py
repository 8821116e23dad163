"""A run-scoped cache of networks and their metrics, shared by metrics, claims, report, map, export.

One run of a command opens one store; :func:`run_cache` gives that store's
:class:`RunCache` (created on first use) and turns on the store's query memo
(:meth:`kg.store.BaseStore.enable_memo`), so within the run

* each network (keyed by relation, window, observers, agreement types, graphs)
  is built once (:meth:`RunCache.network`; several windows at once in one pass
  with :meth:`RunCache.networks`),
* its node metrics (:func:`kg.metrics.node_metrics`, or any function of the
  network) are computed once (:meth:`RunCache.measure`),
* and no SPARQL query is sent twice.

The cache lives as long as the store object, and a write to the store drops
it. Networks from the cache are shared: treat them as read-only (copy before
changing one).

>>> RunCache.key_of({"relation": "exercise", "from": 2015, "to": 2020, "graphs": None})
('exercise', 2015, 2020, False, None, None, False)
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

from kg.basestore import Background

__all__ = ["RunCache", "run_cache", "collector_paused"]


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector paused for a block (or, as ``@collector_paused()``,
    a function), then restored as the caller had it, whatever happens.

    A map or a panel of a large store makes millions of small objects (query rows,
    lifecycles, ties, cells per pair and year) that hold no reference cycles; each
    collection of the oldest generation walks all of them again as they accumulate
    (about a third of ``kg map``'s time on the 1M store, half a second of a panel).
    Reference counting still frees everything. When the block ends, what it made and
    kept is moved to the oldest generation (``gc.freeze()`` then ``gc.unfreeze()``), as
    the survivors of the skipped collections would have been, so the first collection
    after it does not walk them all; cycles, if any, go at the next full collection.

    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            # what the block made and kept counts as old (a third of a second after a map
            # of the 1M store, were they walked as young)
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def run_cache(store) -> RunCache:
    """The run cache of ``store`` (an open local or remote store), created on first use."""
    cache = store.network_cache
    if cache is None:
        store.enable_memo()
        cache = store.network_cache = RunCache(store)
    return cache


class RunCache:
    """Networks and their node metrics for one run over one store.

    :ivar built: the keys of the networks built, in order (each at most once).
    """

    def __init__(self, store):
        import threading
        import weakref

        # held weakly: the store holds its cache, so a strong link back would make a cycle
        # that keeps every memoized result alive until a full collection (a third of a
        # second at the exit of a map of the 1M store) instead of freeing it with the store
        self._store = (lambda: None) if store is None else weakref.ref(store)
        self._networks: dict[tuple, object] = {}
        self._metrics: dict[tuple, dict] = {}
        self._values: dict[tuple, object] = {}
        self._pending: dict[tuple, Background] = {}
        self._lock = threading.Lock()
        self.built: list[tuple] = []

    @property
    def store(self):
        """The store this cache belongs to (None once it is gone)."""
        return self._store()

    @staticmethod
    def key(relation: str = "exercise", year_from=None, year_to=None, include_observers=False,
            agreement_types=None, graphs=None, include_pending=False) -> tuple:
        """The cache key of a network: its parameters, normalized."""
        from kg.network import agreement_type_names

        types = agreement_type_names(agreement_types)
        return (relation, None if year_from is None else int(year_from),
                None if year_to is None else int(year_to), bool(include_observers),
                tuple(types) if types else None, tuple(sorted(graphs)) if graphs else None,
                bool(include_pending))

    @staticmethod
    def key_of(params: dict) -> tuple:
        """The cache key of a network from its ``G.graph["params"]``."""
        return RunCache.key(params.get("relation", "exercise"), params.get("from"),
                            params.get("to"), params.get("include_observers", False),
                            params.get("agreement_types"), params.get("graphs"),
                            params.get("include_pending", False))

    def network(self, *, relation: str = "exercise", year_from: int | None = None,
                year_to: int | None = None, include_observers: bool = False,
                agreement_types: list[str] | None = None, graphs: list[str] | None = None,
                include_pending: bool = False):
        """:func:`kg.network.build_network` with these options, built once per run."""
        from kg.network import build_network_uncached

        k = self.key(relation, year_from, year_to, include_observers, agreement_types, graphs,
                     include_pending)
        G = self._networks.get(k)
        if G is None:
            G = build_network_uncached(self.store, relation=relation, year_from=year_from,
                                       year_to=year_to, include_observers=include_observers,
                                       agreement_types=agreement_types, graphs=graphs,
                                       include_pending=include_pending)
            self._networks[k] = G
            self.built.append(k)
        return G

    def networks(self, windows, *, relation: str = "exercise", include_observers: bool = False,
                 agreement_types: list[str] | None = None, graphs: list[str] | None = None,
                 include_pending: bool = False) -> list:
        """One network per window ``(year_from, year_to)``; those not built yet come from
        one pass (:func:`kg.network.build_networks`)."""
        from kg.network import build_networks

        windows = list(windows)
        keys = [self.key(relation, a, b, include_observers, agreement_types, graphs,
                         include_pending) for a, b in windows]
        missing = []
        for (a, b), k in zip(windows, keys, strict=True):
            if k not in self._networks and (a, b) not in missing:
                missing.append((a, b))
        closed = [w for w in missing if w[0] is not None and w[1] is not None]
        if len(closed) > 1:
            built = build_networks(self.store, closed, relation=relation,
                                   include_observers=include_observers,
                                   agreement_types=agreement_types, graphs=graphs,
                                   include_pending=include_pending)
            for (a, b), G in zip(closed, built, strict=True):
                k = self.key(relation, a, b, include_observers, agreement_types, graphs,
                             include_pending)
                self._networks[k] = G
                self.built.append(k)
        return [self.network(relation=relation, year_from=a, year_to=b,
                             include_observers=include_observers,
                             agreement_types=agreement_types, graphs=graphs,
                             include_pending=include_pending)
                for a, b in windows]

    def holds(self, windows, *, relation: str = "exercise", include_observers: bool = False,
              agreement_types: list[str] | None = None, graphs: list[str] | None = None,
              include_pending: bool = False) -> bool:
        """Whether the network of every window ``(year_from, year_to)`` is built already."""
        return all(self.key(relation, a, b, include_observers, agreement_types, graphs,
                            include_pending) in self._networks for a, b in windows)

    def remember(self, key: tuple, fn):
        """``fn()``, computed once per run for ``key`` (e.g. the agreements' lifecycles).

        When :meth:`prefetch` is computing ``key``, its value is waited for (and its
        error raised) instead of computing it again.
        """
        with self._lock:
            pending = self._pending.get(key)
        if pending is not None:
            try:
                value = pending.result()
            finally:
                with self._lock:
                    self._pending.pop(key, None)
            self._values.setdefault(key, value)
        if key not in self._values:
            self._values[key] = fn()
        return self._values[key]

    def prefetch(self, key: tuple, fn) -> None:
        """Start computing ``fn()`` for ``key`` in a background thread
        (:class:`kg.basestore.Background`),
        unless it is known or under way; :meth:`remember` of ``key`` then waits for it.

        Only for work whose queries nobody else sends meanwhile (the memo answers a
        query once it is done, not while it runs), e.g. the lifecycles of a run read
        while the caller queries the exercises.

        >>> cache = RunCache(None)
        >>> cache.prefetch(("answer",), lambda: 42)
        >>> cache.remember(("answer",), lambda: 0)
        42
        """
        with self._lock:
            if key in self._values or key in self._pending:
                return
            self._pending[key] = Background(fn)

    def measure(self, G, fn):
        """``fn(G)`` (e.g. :func:`kg.metrics.node_metrics`), computed once per network of
        this cache and function; a graph from elsewhere is measured every time.

        >>> # run_cache(store).measure(G, node_metrics)  (see kg.metrics)
        """
        mk = self._measure_key(G, fn)
        if mk is None:
            return fn(G)
        if mk not in self._metrics:
            self._metrics[mk] = fn(G)
        return self._metrics[mk]

    def _measure_key(self, G, fn):
        """The key of ``fn(G)`` among the measured values, or None for a graph not from
        this cache (measured every time)."""
        params = G.graph.get("params")
        k = self.key_of(params) if isinstance(params, dict) else None
        if k is None or self._networks.get(k) is not G:
            return None
        return (k, getattr(fn, "__module__", ""), getattr(fn, "__qualname__", repr(fn)))

    def measure_many(self, graphs, fn, map_fn=map) -> list:
        """``[self.measure(G, fn) for G in graphs]``, the values not computed yet computed
        together by ``map_fn(fn, those graphs)`` (e.g. a process pool's map, which must
        give the values ``fn`` gives).

        >>> # run_cache(store).measure_many(graphs, node_metrics)  (see kg.metrics)
        """
        graphs = list(graphs)
        keys = [self._measure_key(G, fn) for G in graphs]
        todo: dict[int, object] = {}  # id -> graph, each once
        for G, mk in zip(graphs, keys, strict=True):
            if mk is None or mk not in self._metrics:
                todo.setdefault(id(G), G)
        values = dict(zip(todo, map_fn(fn, list(todo.values())), strict=True))
        out = []
        for G, mk in zip(graphs, keys, strict=True):
            if mk is not None and mk not in self._metrics:
                self._metrics[mk] = values[id(G)]
            out.append(self._metrics[mk] if mk is not None else values[id(G)])
        return out
