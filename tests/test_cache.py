"""The run cache (kg/cache.py): prefetched values, errors, waiting, real stores, freeing."""

from __future__ import annotations

import threading

import pytest


def test_remember_waits_for_the_prefetch_and_never_computes_twice():
    from kg.cache import RunCache

    cache = RunCache(None)
    calls = []
    gate = threading.Event()

    def slow():
        calls.append(threading.current_thread().name)
        gate.wait(5)
        return 42

    cache.prefetch(("k",), slow)
    cache.prefetch(("k",), slow)  # under way: not started again
    threading.Timer(0.2, gate.set).start()
    assert cache.remember(("k",), lambda: calls.append("main") or 0) == 42
    assert calls == ["kg-prefetch"]
    cache.prefetch(("k",), slow)  # known: not started again
    assert cache.remember(("k",), slow) == 42 and calls == ["kg-prefetch"]


def test_a_failed_prefetch_raises_once_then_is_computed_again():
    from kg.cache import RunCache

    cache = RunCache(None)

    def fail():
        raise RuntimeError("engine down")

    cache.prefetch(("k",), fail)
    with pytest.raises(RuntimeError, match="engine down"):
        cache.remember(("k",), lambda: 1)
    assert cache.remember(("k",), lambda: 1) == 1


def test_prefetched_lifecycles_on_a_real_store_are_read_once_and_equal_the_plain_read(
        built_store):
    """The lifecycle queries run in a background thread through the store's tracer and
    memo; lifecycles() then waits for them, and nothing is sent twice."""
    from kg.cache import run_cache
    from kg.inforce import lifecycles, prefetch_lifecycles
    from kg.store import open_store

    with open_store(built_store) as store:
        plain = lifecycles(store)
    with open_store(built_store) as store:
        sent = []
        store.tracer = lambda text, graphs: sent.append((text, threading.current_thread().name))
        prefetch_lifecycles(store)  # no run cache: nothing happens
        assert sent == []
        run_cache(store)
        prefetch_lifecycles(store)
        got = lifecycles(store)
        texts = [t for t, _ in sent]
        assert len(texts) == len(set(texts)) > 5
        assert {name for _, name in sent} == {"kg-prefetch"}
        assert lifecycles(store) is got and len(sent) == len(texts)
    assert got == plain and len(got) > 20
    assert [r.pair_spans for r in got] == [r.pair_spans for r in plain]


def test_a_store_with_a_run_cache_is_freed_with_its_last_reference(built_store):
    """The cache holds its store weakly: no cycle, so the store, its memo and its cache go
    as soon as the caller lets go (not at a later full collection)."""
    import gc
    import weakref

    from kg.cache import run_cache
    from kg.inforce import lifecycles
    from kg.store import open_store

    was = gc.isenabled()
    gc.disable()
    try:
        store = open_store(built_store)
        cache = run_cache(store)
        assert cache.store is store
        lifecycles(store)
        gone = weakref.ref(store)
        store.close()
        del store
        assert gone() is None  # freed by its reference count alone
        assert cache.store is None
    finally:
        if was:
            gc.enable()
