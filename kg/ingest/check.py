"""Validate input files as ``kg ingest`` would, without writing them (``kg validate FILE``).

>>> callable(validate_files)
True
"""

from __future__ import annotations

from kg.ingest import STORED, assemble, validate_assembled
from kg.namespaces import RDF
from kg.validate import Violation, validate_pyshacl

__all__ = ["validate_files"]


def validate_files(paths: list[str], *, engine: str = "oxigraph", store=None) -> list[Violation]:
    """Validate files (RDF or curated) without writing them, with the store's context if any.

    :param paths: the files, as ``kg ingest`` takes them.
    :param engine: ``oxigraph`` (kg's SPARQL form of the shapes) or ``pyshacl``.
    :param store: an open store whose graphs give the context (known ids), or None.
    :returns: every shape violation the files bring (see
        :func:`kg.ingest.validate_assembled`). Parse errors raise InputError.
    """
    mem, targets, _where, _report = assemble(store, paths)
    if engine == "pyshacl":
        found = validate_pyshacl(_flat(mem))
        focus = set(targets) | {STORED}
        found = [v for v in found if _typed_in(mem, v.focus, focus)]
        if any(_typed_in(mem, v.focus, {STORED}) for v in found):  # what they broke before
            before = {v for v in validate_pyshacl(_flat(mem, skip=targets))
                      if _typed_in(mem, v.focus, {STORED})}
            found = [v for v in found if v not in before]
        return found
    return validate_assembled(mem, targets, limit=100000)


def _flat(mem, skip=()) -> bytes:
    """Every graph of ``mem`` but ``skip`` as one N-Triples document (pySHACL reads one graph)."""
    import pyoxigraph as ox

    out = [mem.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())]
    for g in mem.named_graphs():
        if g.value not in skip:
            out.append(mem.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g))
    return b"".join(out)


def _typed_in(mem, focus: str, targets) -> bool:
    import pyoxigraph as ox

    for g in targets:
        if any(True for _ in mem.quads_for_pattern(ox.NamedNode(focus), ox.NamedNode(RDF + "type"), None,
                                                   ox.NamedNode(g))):
            return True
    return False
