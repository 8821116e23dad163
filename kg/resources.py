"""Where the shipped files are (ontology, shapes, queries, curated data); limits set by env.

In a source checkout they sit at the top of the repository; in an installed
package they are ``kg/shipped/ontology``, ``kg/shipped/queries`` and ``kg/shipped/data``.
"""

from __future__ import annotations

import threading
from pathlib import Path

__all__ = ["start_deep_thread", "DEEP_STACK", "whole_writes", "env_int", "max_bytes", "max_lines", "MAX_INPUT_BYTES", "MAX_INPUT_LINES", "ontology_dir", "queries_dir", "claims_dir", "data_dir", "remote_queries_dir"]

_ROOT = Path(__file__).resolve().parent.parent


_PACKAGE = Path(__file__).resolve().parent


def _locate(checkout_name: str, package: str, marker: str) -> Path:
    candidate = _ROOT / checkout_name
    if (candidate / marker).exists():
        return candidate
    # installed: setup.cfg maps the folder to the package ``kg.shipped.<name>``
    return _PACKAGE.joinpath(*package.split(".")[1:])


def ontology_dir() -> Path:
    """Folder holding ``secpart.ttl``, ``shapes.ttl`` and the SKOS vocabularies."""
    return _locate("ontology", "kg.shipped.ontology", "secpart.ttl")


def queries_dir() -> Path:
    """Folder of saved SPARQL queries (``*.rq``)."""
    return _locate("queries", "kg.shipped.queries", "partners.rq")


def claims_dir() -> Path:
    """Folder of claim definitions."""
    return queries_dir() / "claims"


def remote_queries_dir() -> Path:
    """Folder of example queries for remote endpoints (Wikidata)."""
    return queries_dir() / "remote"


def data_dir() -> Path:
    """Folder of the bundled curated dataset (YAML)."""
    return _locate("data", "kg.shipped.data", "FORMAT.md")


def env_int(name: str, default: int) -> int:
    """A positive whole number from the environment variable ``name``, else ``default``.

    >>> env_int("KG_NO_SUCH_VARIABLE", 7)
    7
    """
    import os

    from kg.errors import UsageError

    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a whole number") from None
    if value < 1:
        raise UsageError(f"{name}={raw!r} must be at least 1")
    return value


MAX_INPUT_BYTES = 1 << 30
"""Bytes an input file (or a gzip file's content) may hold: 1 GiB (``KG_MAX_INPUT_BYTES``)."""
MAX_INPUT_LINES = 5_000_000
"""Lines a text input (or a gzip file's content) may hold (``KG_MAX_INPUT_LINES``)."""


def max_bytes() -> int:
    """The byte limit in force (``KG_MAX_INPUT_BYTES`` or the default)."""
    return env_int("KG_MAX_INPUT_BYTES", MAX_INPUT_BYTES)


def max_lines() -> int:
    """The line limit in force (``KG_MAX_INPUT_LINES`` or the default)."""
    return env_int("KG_MAX_INPUT_LINES", MAX_INPUT_LINES)


def whole_writes(raw):
    """``raw`` with a buffered layer when it is a raw file (``sys.stdout.buffer`` under
    ``PYTHONUNBUFFERED`` or ``python -u``), else ``raw`` itself.

    A raw file's ``write`` may take part of the bytes and return their count (a pipe
    whose reader left takes what fits, then refuses the rest); neither ``print`` nor a
    plain ``write(data)`` looks at the count. A buffered writer writes everything or
    raises (a reader that left: :class:`BrokenPipeError`).

    >>> import io, os
    >>> raw = io.FileIO(os.devnull, "w")
    >>> type(whole_writes(raw)).__name__, whole_writes(io.BytesIO()).__class__.__name__
    ('BufferedWriter', 'BytesIO')
    """
    import io

    return io.BufferedWriter(raw) if isinstance(raw, io.FileIO) else raw


#: bytes of stack for a thread that runs the engine or the parser on a query: deep but
#: flat queries (`1+1+...` 7,000 times, 3,000 BINDs) overflow the main thread's 8 MiB in the
#: engine's recursive parser and the process dies (exit 139). Reserved, not used up front.
DEEP_STACK = 512 << 20

_STACK_LOCK = threading.Lock()


def start_deep_thread(target, name: str):
    """Start a daemon thread with :data:`DEEP_STACK` bytes of stack; return it.

    ``threading.stack_size`` is process-wide, so it is set and put back under a lock.
    Where the address space is limited (``ulimit -v``, a container) and the reservation
    is refused, the thread gets the default stack instead: a deep query may then fail as
    before, a shallow one runs.

    >>> start_deep_thread(lambda: None, "kg-example").join()
    """
    with _STACK_LOCK:
        old = threading.stack_size(DEEP_STACK)
        try:
            thread = threading.Thread(target=target, name=name, daemon=True)
            try:
                thread.start()
            except RuntimeError:  # "can't start new thread": no room for the reservation
                threading.stack_size(old)
                thread = threading.Thread(target=target, name=name, daemon=True)
                thread.start()
        finally:
            threading.stack_size(old)
    return thread
