"""What a replace takes from the other graphs: found before the write, checked after it.

A subject stored in graph B can rest on triples of graph A: a state typed in B
whose required ``sp:iso3`` is in A, an exercise in B whose participant force is
described (``sp:ofState``) in A, a force in B whose class is declared a
subclass of ``sp:ArmedForce`` in A. Replacing A with data that no longer has
those triples leaves the subject in B invalid, though B was not touched. The
check of new data in memory cannot see this (it looks at what the new data
adds, with the store as context), so a replace runs this check as well:

1. before the write, :func:`before_replace` notes the old description (one
   hop: the triples whose subject it is) of every IRI that the replaced graphs
   describe and the other graphs mention, as subject or object;
2. after the write, in the write bracket, :func:`broken` finds which of those
   IRIs lost a triple (it is in no graph of the new store), and validates the
   other graphs' subjects among them and those that refer to them; violations
   they already had before the write are left out.

One hop is what the shipped shapes read about a node other than the focus
(``sh:class``: the value's type; the SPARQL constraints: a participant's type,
a force's ``sp:ofState``), and the subclass axioms their classes go through.

>>> Dependents(others=[], old=set()).empty
True
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.sparql import IRIS_PER_VALUES, Iri, iri_values, term_to_sparql

__all__ = ["Dependents", "before_replace", "broken"]

#: Up to this many IRIs on one side, that side is looked up in the other, in chunks.
_CAP = 20_000
#: Triples counted at most on each side to tell which is smaller.
_PROBE = 100_000
#: Past this many focus nodes the other graphs are validated whole (one query per
#: check), which is cheaper than naming the nodes a chunk at a time.
_NODES_MAX = 5 * IRIS_PER_VALUES


@dataclass
class Dependents:
    """The other graphs (IRIs) and the old triples of the IRIs they share with the replaced ones."""

    others: list[str]
    old: set

    @property
    def empty(self) -> bool:
        """True when the replaced graphs describe nothing the other graphs mention."""
        return not self.old


def _graphs(iris):
    import pyoxigraph as ox

    return [ox.NamedNode(g) for g in sorted(iris)]


def _capped(db, text: str, graphs) -> list[str] | None:
    """The values of ``?i`` that ``text`` selects over ``graphs``, or None past :data:`_CAP`."""
    rows = [r["i"].value for r in db.query(f"{text} LIMIT {_CAP + 1}", default_graph=_graphs(graphs))]
    return None if len(rows) > _CAP else sorted(rows)


def _size(db, graphs) -> int:
    """Triples in ``graphs``, counted up to :data:`_PROBE`."""
    for row in db.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT ?s WHERE {{ ?s ?p ?o }} "
                        f"LIMIT {_PROBE} }}", default_graph=_graphs(graphs)):
        return int(row["n"].value)
    return 0


def _lookup(db, iris: list[str], pattern: str, graphs) -> list[str]:
    """Those of ``iris`` (bound to ``?i``) for which ``pattern`` holds over ``graphs``."""
    found: list[str] = []
    for values in iri_values(iris):
        found += [r["i"].value for r in db.query(
            f"SELECT ?i WHERE {{ VALUES ?i {{ {values} }} FILTER EXISTS {{ {pattern} }} }}",
            default_graph=_graphs(graphs))]
    return found


_MENTIONED = "{ ?i ?p ?o } UNION { ?x ?q ?i }"


def _shared(db, targets: list[str], others: list[str]) -> list[str]:
    """IRIs that are subjects in ``targets`` and mentioned (subject or object) in ``others``.

    The side with fewer triples (counted up to :data:`_PROBE`) is read first, and if it
    has at most :data:`_CAP` IRIs they are looked up in the other; else the other side
    is tried. Reading the bigger side first costs seconds: 0.7 s to pass the cap of a
    1M-triple graph's subjects, 1.9 s for the IRIs of MME, ATOP and COW together.
    """
    sides = [(f"SELECT DISTINCT ?i WHERE {{ {_MENTIONED} FILTER(isIRI(?i)) }}", others,
              "?i ?p ?o", targets),
             ("SELECT DISTINCT ?i WHERE { ?i ?p ?o FILTER(isIRI(?i)) }", targets,
              _MENTIONED, others)]
    if _size(db, targets) < _size(db, others):
        sides.reverse()
    for text, graphs, pattern, elsewhere in sides:
        iris = _capped(db, text, graphs)
        if iris is not None:
            return _lookup(db, iris, pattern, elsewhere)
    in_t, in_o = (" ".join(term_to_sparql(Iri(g)) for g in graphs) for graphs in (targets, others))
    return sorted(r["i"].value for r in db.query(
        f"SELECT DISTINCT ?i WHERE {{ VALUES ?g {{ {in_t} }} GRAPH ?g {{ ?i ?p ?o }} "
        f"FILTER(isIRI(?i)) FILTER EXISTS {{ VALUES ?h {{ {in_o} }} GRAPH ?h {{ {_MENTIONED} }} }} }}"))


def _described(db, iris: list[str], graphs=None) -> set:
    """The triples (as term tuples) whose subject is one of ``iris``, in ``graphs`` (None: all)."""
    kw = {"use_default_graph_as_union": True} if graphs is None else {"default_graph": _graphs(graphs)}
    out: set = set()
    for values in iri_values(iris):
        out.update((t.subject, t.predicate, t.object) for t in db.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}", **kw))
    return out


def before_replace(db, targets) -> Dependents:
    """What the graphs ``targets`` (IRIs) of ``db`` say about IRIs the other graphs mention.

    Run on the store before the replace writes.

    >>> import pyoxigraph as ox
    >>> db = ox.Store()
    >>> a, b = ox.NamedNode("urn:a"), ox.NamedNode("urn:b")
    >>> db.add(ox.Quad(ox.NamedNode("urn:x"), ox.NamedNode("urn:p"), ox.Literal("1"), a))
    >>> db.add(ox.Quad(ox.NamedNode("urn:y"), ox.NamedNode("urn:q"), ox.NamedNode("urn:x"), b))
    >>> len(before_replace(db, ["urn:a"]).old)
    1
    """
    targets = sorted(targets)
    others = sorted(g.value for g in db.named_graphs() if g.value not in targets)
    if not others or not any(db.contains_named_graph(g) for g in _graphs(targets)):
        return Dependents(others=others, old=set())
    shared = _shared(db, targets, others)
    return Dependents(others=others, old=_described(db, shared, targets) if shared else set())


def broken(db, dep: Dependents, previous, *, limit: int = 50) -> list:
    """Violations the replace brings to subjects of the other graphs (see the module's note).

    :param db: the store as written (pyoxigraph Store).
    :param dep: what :func:`before_replace` found.
    :param previous: a callable returning the store as it was before the write; called
        only when there are violations, to leave out those that were there already.
    """
    from kg.validate import validate_oxigraph

    if dep.empty:
        return []
    lost = dep.old - _described(db, sorted({t[0].value for t in dep.old}))
    changed = sorted({t[0].value for t in lost})
    if not changed:
        return []
    focus = set(_lookup(db, changed, "?i ?p ?o", dep.others))
    for values in iri_values(changed):
        focus.update(r["x"].value for r in db.query(
            f"SELECT DISTINCT ?x WHERE {{ VALUES ?i {{ {values} }} ?x ?q ?i FILTER(isIRI(?x)) }}",
            default_graph=_graphs(dep.others)))

    def check(store) -> set:
        if len(focus) > _NODES_MAX:
            return {v for v in validate_oxigraph(store, focus_graphs=dep.others, limit=100_000)
                    if v.focus in focus}
        return set(validate_oxigraph(store, focus_nodes=sorted(focus), limit=100_000))

    found = check(db) if focus else set()
    if found:
        old = previous()
        try:
            found -= check(old)
        finally:
            del old
    return sorted(found)[:limit]
