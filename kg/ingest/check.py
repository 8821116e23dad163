"""Validate input files as ``kg ingest`` would, without writing them (``kg validate FILE``).

>>> callable(validate_files)
True
"""

from __future__ import annotations

from kg.ingest import assemble
from kg.namespaces import RDF
from kg.validate import Violation, validate_oxigraph, validate_pyshacl

__all__ = ["validate_files"]


def validate_files(paths: list[str], *, engine: str = "oxigraph", store=None) -> list[Violation]:
    """Validate files (RDF or curated) without writing them, with the store's context if any.

    :param paths: the files, as ``kg ingest`` takes them.
    :param engine: ``oxigraph`` (kg's SPARQL form of the shapes) or ``pyshacl``.
    :param store: an open store whose graphs give the context (known ids), or None.
    :returns: every shape violation in the files. Parse errors raise InputError.
    """
    import pyoxigraph as ox

    mem, targets, _where, _report = assemble(store, paths)
    if engine == "pyshacl":
        nq = mem.dump(format=ox.RdfFormat.N_QUADS)
        flat = b"\n".join(line.rsplit(b" <", 1)[0] + b" ." for line in nq.split(b"\n") if line)
        found = validate_pyshacl(flat + b"\n")
        return [v for v in found if _typed_in(mem, v.focus, targets)]
    return validate_oxigraph(mem, focus_graphs=sorted(targets), limit=100000)


def _typed_in(mem, focus: str, targets) -> bool:
    import pyoxigraph as ox

    for g in targets:
        if any(True for _ in mem.quads_for_pattern(ox.NamedNode(focus), ox.NamedNode(RDF + "type"), None,
                                                   ox.NamedNode(g))):
            return True
    return False
