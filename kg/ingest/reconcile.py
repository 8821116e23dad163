"""Reconcile exercises that two sources both record (MME and the curated graph).

An exercise such as Malabar 2007 or RIMPAC 2010 is in the curated data and in
MME. So that counts over the union of graphs do not count it twice, the MME
copy is linked to the curated record::

    <id/exercise/mme-3348> owl:sameAs <id/exercise/rimpac-2010> .

The link lives in the MME graph (it is a statement about the MME record), and
queries count only exercises without an outgoing ``owl:sameAs``
(``queries/partners.rq``): the curated record stands for both.

The rule (all must hold):

1. **Series**: the normalised series name of the MME row (Series_Name, and the
   exercise name Ex_Name) equals a normalised name of the curated exercise
   (its series' label, alternative labels or id, or its own label).
   Normalising: accents dropped, lower case, punctuation to spaces, the words
   "exercise" and "operation" dropped, and every token that holds a digit or is
   a Roman numeral (the iteration: ``07``, ``2010``, ``10-1``, ``III``) dropped,
   so "Malabar 07", "MALABAR 2007" and "Malabar III" all become ``malabar``.
2. **Year**: both have the same ``sp:year``.
3. **Participants overlap**: they share at least two participants, or every
   participant of the smaller list when it has only one.

Among several candidates the pair with the highest participant overlap
(Jaccard index) wins, then the one with the nearest start dates; matching is
one-to-one (greedy, best pairs first), so MME's "Malabar 07" (September 2007,
five navies) links to the curated ``malabar-2007-2`` and not to the April
trilateral ``malabar-2007``. Unmatched exercises stay as they are.

The link step runs inside ``kg ingest --format mme`` when the store holds the
curated graph; :func:`reconcile_quads` is the function it calls, and
:func:`match` the pure rule, for tests and other importers.

>>> series_key("Malabar 07-1")
'malabar'
>>> series_key("Exercise Cope North 10-1")
'cope north'
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from kg.namespaces import ID, OWL, RDF, RDFS, SP, SPARQL_PREFIXES, graph_iri

__all__ = ["ExerciseRecord", "series_key", "match", "reconcile_quads", "curated_records"]

_ROMAN = re.compile(r"^(i|ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii)$")
_DROP = {"exercise", "operation", "ex", "the"}


def series_key(name: str) -> str:
    """The normalised series name used to match exercises (see the module docstring)."""
    s = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    tokens = re.sub(r"[^a-z0-9]+", " ", s).split()
    kept = [t for t in tokens if not re.search(r"\d", t) and not _ROMAN.match(t) and t not in _DROP]
    return " ".join(kept)


@dataclass
class ExerciseRecord:
    """What the rule looks at: an exercise's IRI, year, names, participants and start."""

    iri: str
    year: int | None = None
    keys: set = field(default_factory=set)
    participants: set = field(default_factory=set)
    start: str | None = None


def _date_ordinal(s: str | None) -> int | None:
    if not s:
        return None
    try:
        parts = [int(x) for x in s[:10].split("-")]
        while len(parts) < 3:
            parts.append(1)
        return dt.date(*parts).toordinal()
    except ValueError:
        return None


def match(mme: list[ExerciseRecord], curated: list[ExerciseRecord]) -> list[tuple[str, str]]:
    """Pairs ``(mme IRI, curated IRI)`` by the rule of the module docstring, one-to-one.

    >>> a = ExerciseRecord("m1", 2010, {"rimpac"}, {"USA", "JPN", "AUS"})
    >>> b = ExerciseRecord("c1", 2010, {"rimpac"}, {"USA", "JPN"})
    >>> match([a], [b])
    [('m1', 'c1')]
    """
    by_year: dict[int, list[ExerciseRecord]] = {}
    for c in curated:
        if c.year is not None:
            by_year.setdefault(c.year, []).append(c)
    scored = []
    for m in mme:
        for c in by_year.get(m.year, ()):  # type: ignore[arg-type]
            if not (m.keys & c.keys):
                continue
            shared = len(m.participants & c.participants)
            need = min(2, len(m.participants), len(c.participants))
            if need == 0 or shared < need:
                continue
            jac = shared / len(m.participants | c.participants)
            a, b = _date_ordinal(m.start), _date_ordinal(c.start)
            dist = abs(a - b) if a is not None and b is not None else 10**6
            scored.append((-jac, dist, m.iri, c.iri))
    scored.sort()
    used_m: set[str] = set()
    used_c: set[str] = set()
    pairs = []
    for _, _, mi, ci in scored:
        if mi in used_m or ci in used_c:
            continue
        used_m.add(mi)
        used_c.add(ci)
        pairs.append((mi, ci))
    return sorted(pairs)


def curated_records(store, graph: str = "curated") -> list[ExerciseRecord]:
    """The exercises of the store's ``graph`` as :class:`ExerciseRecord` objects."""
    q = (SPARQL_PREFIXES +
         "SELECT ?ex ?year ?start ?name ?p WHERE { ?ex a sp:Exercise ; sp:year ?year . "
         "OPTIONAL { ?ex sp:startDate ?start } "
         "{ ?ex sp:participant ?p } UNION { ?ex rdfs:label ?name } UNION "
         "{ ?ex sp:series ?s . ?s rdfs:label|skos:altLabel ?name } UNION "
         "{ ?ex sp:series ?name } }")
    recs: dict[str, ExerciseRecord] = {}
    for row in store.select(q, graphs=[graph], own=True).rows:
        ex, year, start, name, p = (t.value if t is not None else None for t in row)
        r = recs.get(ex)
        if r is None:
            r = recs[ex] = ExerciseRecord(ex, int(year), start=start)
        if p:
            r.participants.add(p)
        if name:
            if name.startswith(f"{ID}series/"):
                name = name[len(f"{ID}series/"):].replace("-", " ")
            k = series_key(name)
            if k:
                r.keys.add(k)
    return list(recs.values())


def _mme_records(quads: list) -> list[ExerciseRecord]:
    labels: dict[str, str] = {}
    recs: dict[str, ExerciseRecord] = {}
    series_of: dict[str, list[str]] = {}
    ex_type = SP + "Exercise"
    for q in quads:
        s, p, o = q.subject.value, q.predicate.value, q.object
        if p == RDF + "type" and o.value == ex_type:
            recs.setdefault(s, ExerciseRecord(s))
        elif p == RDFS + "label":
            labels.setdefault(s, o.value)
        elif p == SP + "year":
            recs.setdefault(s, ExerciseRecord(s)).year = int(o.value)
        elif p == SP + "participant":
            recs.setdefault(s, ExerciseRecord(s)).participants.add(o.value)
        elif p == SP + "startDate":
            recs.setdefault(s, ExerciseRecord(s)).start = o.value
        elif p == SP + "series":
            series_of.setdefault(s, []).append(o.value)
    out = []
    for iri, r in recs.items():
        names = [labels.get(iri, "")]
        for s in series_of.get(iri, []):
            names.append(labels.get(s, s[len(f"{ID}series/"):].replace("-", " ")))
        r.keys = {k for k in map(series_key, names) if k}
        out.append(r)
    return out


def reconcile_quads(store, quads: list, graph: str) -> tuple[list, list[str]]:
    """``owl:sameAs`` quads (in ``graph``) from MME exercises in ``quads`` to curated ones.

    Returns ``([], [])`` when ``store`` is None or has no ``curated`` graph.
    """
    if store is None or graph_iri("curated") not in store.graph_iris():
        return [], []
    import pyoxigraph as ox

    curated = curated_records(store, "curated")
    pairs = match(_mme_records(quads), curated)
    g = ox.NamedNode(graph)
    same = ox.NamedNode(OWL + "sameAs")
    return [ox.Quad(ox.NamedNode(m), same, ox.NamedNode(c), g) for m, c in pairs], []
