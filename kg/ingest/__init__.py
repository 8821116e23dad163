"""One loader for every input kind: RDF files, curated YAML/CSV, field datasets.

:func:`ingest` parses every input into memory, validates the result against
the shapes (with the store's states, forces and sources as context), and only
then writes, in one atomic step. Any error leaves the store as it was.

>>> from kg.ingest import detect_kind
>>> detect_kind("data/states.yaml", None)
'curated'
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import InputError, UsageError
from kg.namespaces import GRAPH, ID, RDF, RDFS, SP, SPARQL_PREFIXES, graph_iri, graph_name
from kg.sparql import iri_values

__all__ = ["IngestReport", "detect_kind", "ingest", "build", "build_data", "FIELD_FORMATS", "prepare",
           "assemble", "validate_assembled", "STORED", "BUILT_GRAPHS", "check_not_built"]

FIELD_FORMATS = ("mme", "atop", "cow", "cow-states")
#: The graphs :func:`build` writes, replacing them whole at every build: what
#: :func:`ingest` added to them would be dropped by the next ``kg build``, so they are
#: refused as its targets.
BUILT_GRAPHS = ("ontology", "curated")
_CONTEXT = "urn:kg:context"
#: The graph of the in-memory copy that holds what the store says about the subjects the new
#: data touches (:func:`_touched_context`).
STORED = "urn:kg:stored"
#: Up to this many subjects in the store, the store's subjects are looked up in the new data;
#: past it, the new data's subjects are looked up in the store.
_STORE_SUBJECTS_CAP = 20_000


@dataclass
class IngestReport:
    """What an ingest did: triples per graph written, warnings, files read.

    ``graphs`` counts the triples each graph gained (or holds, after a replace);
    ``already`` those of the input that a graph held before (a file ingested again).
    """

    graphs: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    replaced: bool = False
    already: dict[str, int] = field(default_factory=dict)


def check_not_built(iris) -> None:
    """Refuse to add to a graph that ``kg build`` replaces (:data:`BUILT_GRAPHS`).

    :param iris: the IRIs of the graphs an ingest would write.
    :raises UsageError: naming the first such graph.

    >>> check_not_built([graph_iri("mine")])
    >>> check_not_built([graph_iri("curated")])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    kg.errors.UsageError: graph curated is written by kg build, which replaces it whole ...
    """
    for iri in sorted(iris):
        if graph_name(iri) in BUILT_GRAPHS:
            raise UsageError(f"graph {graph_name(iri)} is written by kg build, which replaces it "
                             "whole (a later build would drop what you add): ingest into a graph "
                             "of your own (--graph NAME)")


def detect_kind(path: str | Path, fmt: str | None) -> str:
    """``curated``, ``rdf`` or a field format (``mme``, ``atop``, ``cow``, ``cow-states``) for a path."""
    if fmt in FIELD_FORMATS:
        return fmt
    if fmt in ("yaml", "curated", "csv"):
        return "curated"
    if fmt:
        return "rdf"
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml", ".csv"):
        return "curated"
    return "rdf"


def _known_ids(store, exclude: str | None = None) -> dict[str, set]:
    """Ids of states, organizations, forces, series, sources, exercises and agreements already in the store.

    :param exclude: the IRI of a graph not to read (one whose content a replace discards).
    """
    known: dict[str, set] = {k: set() for k in ("states", "organizations", "forces", "series", "sources",
                                                "exercises")}
    iris = [g for g in store.graph_iris() if g != exclude] if store is not None else []
    if not iris:
        return known
    graphs = sorted(iris) if exclude is not None else None
    rs = store.select(
        SPARQL_PREFIXES +
        "SELECT ?s ?t WHERE { VALUES ?t { sp:State sp:Organization sp:ArmedForce sp:ExerciseSeries sp:Source "
        "sp:Exercise } ?s a ?t }", graphs=graphs, own=True)
    kinds = {SP + "State": ("states", f"{ID}state/"), SP + "Organization": ("organizations", f"{ID}org/"),
             SP + "ArmedForce": ("forces", f"{ID}force/"), SP + "ExerciseSeries": ("series", f"{ID}series/"),
             SP + "Source": ("sources", f"{ID}source/"), SP + "Exercise": ("exercises", f"{ID}exercise/")}
    for s, t in rs.rows:
        kind, prefix = kinds[t.value]
        if s.value.startswith(prefix):
            known[kind].add(s.value[len(prefix):])
    # agreements a curated record may supersede (any agreement class: those with parties)
    known["agreements"] = set()
    prefix = f"{ID}agreement/"
    for (s,) in store.select(SPARQL_PREFIXES + "SELECT DISTINCT ?s WHERE { ?s sp:party ?p }",
                             graphs=graphs, own=True).rows:
        if s.value.startswith(prefix):
            known["agreements"].add(s.value[len(prefix):])
    return known


def _context_nt(store, exclude: set[str]) -> bytes:
    """Types, force-state links and states' COW codes from the store (minus ``exclude``
    graphs), plus the ontology."""
    if store is None:
        return b""
    graphs = [graph_name(g) for g in store.graph_iris() if g not in exclude]
    if not graphs:
        return b""
    q = (SPARQL_PREFIXES +
         "CONSTRUCT { ?s a ?t . ?s sp:ofState ?st . ?s sp:cowCode ?cow . ?c rdfs:subClassOf ?d } "
         "WHERE { { VALUES ?t { sp:State sp:Organization sp:Territory sp:UnknownParticipant "
         "sp:ArmedForce sp:ExerciseSeries sp:Source } ?s a ?t OPTIONAL { ?s sp:ofState ?st } "
         "OPTIONAL { ?s sp:cowCode ?cow FILTER(?t = sp:State) } } "
         "UNION { ?c rdfs:subClassOf ?d } }")
    return store.query(q, graphs=graphs, own=True)


def _in_graphs(graphs, pattern: str) -> str:
    """``pattern`` in any of ``graphs`` (IRIs), as a SPARQL group.

    >>> _in_graphs(["urn:a", "urn:b"], "?s ?p ?o")
    '{ GRAPH <urn:a> { ?s ?p ?o } } UNION { GRAPH <urn:b> { ?s ?p ?o } }'
    """
    from kg.sparql import Iri, term_to_sparql

    return " UNION ".join(f"{{ GRAPH {term_to_sparql(Iri(g))} {{ {pattern} }} }}" for g in sorted(graphs))


def _subjects(store, graphs: list[str], cap: int) -> list[str] | None:
    """The IRI subjects of ``graphs`` of the store, or None when there are more than ``cap``."""
    rows = store.select(f"SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(isIRI(?s)) }} LIMIT {cap + 1}",
                        graphs=graphs, own=True).rows
    return None if len(rows) > cap else sorted(r[0].value for r in rows)


def _touched_in_store(db, targets: list[str], others: list[str], known: list[str] | None) -> list:
    """Violations the new data in ``targets`` of the written store ``db`` brings to stored subjects
    of the ``others`` graphs that it describes without typing them (the streaming path's
    counterpart of :func:`_touched_context`); their old violations are left out.

    ``known``: the subjects of ``others`` read before the load, or None when there were
    too many, and the target graphs' subjects untyped there are looked for instead.
    """
    import pyoxigraph as ox

    from kg.validate import validate_oxigraph

    new, typed = _in_graphs(targets, "?s ?p ?o"), _in_graphs(targets, "?s a ?c")
    if known is None:
        rows = db.query(f"SELECT DISTINCT ?s WHERE {{ {new} FILTER(isIRI(?s)) "
                        f"FILTER NOT EXISTS {{ {typed} }} }}")
        candidates = sorted(r["s"].value for r in rows)
    else:
        candidates = known
    touched: list[str] = []
    for values in iri_values(candidates):
        touched += [r["s"].value for r in db.query(
            f"SELECT ?s WHERE {{ VALUES ?s {{ {values} }} FILTER EXISTS {{ {new} }} "
            f"FILTER NOT EXISTS {{ {typed} }} }}")]
    if not touched:
        return []
    found = validate_oxigraph(db, focus_nodes=touched, limit=100_000)
    if found:
        old = set(validate_oxigraph(db, focus_nodes=touched, limit=100_000,
                                    default_graphs=[ox.NamedNode(g) for g in others]))
        found = [v for v in found if v not in old]
    return found[:50]


def _touched_subjects(store, mem, targets, graphs: list[str]) -> list[str]:
    """IRIs that are subjects both of the new data (``targets`` in ``mem``) and of ``graphs`` of the store.

    Whichever side is smaller is looked up in the other: a store of up to
    :data:`_STORE_SUBJECTS_CAP` subjects (the bundled data has about 6,000) hands
    its subjects to the in-memory copy; a bigger one is asked about the new
    data's subjects, :data:`kg.sparql.IRIS_PER_VALUES` at a time.
    """
    stored = _subjects(store, graphs, _STORE_SUBJECTS_CAP)
    new = _in_graphs(targets, "?s ?p ?o")
    if stored is not None:
        found = []
        for values in iri_values(stored):
            found += [r["s"].value for r in mem.query(
                f"SELECT ?s WHERE {{ VALUES ?s {{ {values} }} FILTER EXISTS {{ {new} }} }}")]
        return found
    candidates = sorted(r["s"].value for r in mem.query(
        f"SELECT DISTINCT ?s WHERE {{ {new} FILTER(isIRI(?s)) }}"))
    found = []
    for values in iri_values(candidates):
        found += [r[0].value for r in store.select(
            f"SELECT ?s WHERE {{ VALUES ?s {{ {values} }} FILTER EXISTS {{ ?s ?p ?o }} }}",
            graphs=graphs, own=True).rows]
    return found


def _touched_context(store, mem, targets, exclude: set[str]) -> int:
    """Copy into ``mem`` (graph :data:`STORED`) the stored triples of the subjects the new data touches.

    A triple of the new data about a subject the store already describes (a
    second ``sp:iso3`` for a stored state, an end date for a stored exercise)
    is only wrong together with what is stored: the shapes see both when the
    subject's stored triples, and the types of their objects, sit beside the
    new data. ``exclude``: graphs not to read (those a replace discards, or
    the ones being written while this runs). Returns how many subjects.
    """
    import pyoxigraph as ox

    if store is None:
        return 0
    graphs = [g for g in store.graph_iris() if g not in exclude]
    if not graphs:
        return 0
    touched = _touched_subjects(store, mem, targets, graphs)
    for values in iri_values(sorted(touched)):
        nt = store.query(f"CONSTRUCT {{ ?s ?p ?o . ?o a ?t }} WHERE {{ VALUES ?s {{ {values} }} "
                         "?s ?p ?o OPTIONAL { ?o a ?t } }", graphs=graphs, own=True)
        if nt:
            mem.load(nt, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(STORED))
    return len(touched)


def validate_assembled(mem, targets, *, limit: int = 50) -> list:
    """The shape violations the new data in ``mem`` (from :func:`assemble`) brings.

    Focus nodes are those typed in the new data's graphs and the stored
    subjects it touches (graph :data:`STORED`); a touched subject's violations
    that its stored triples had already, without the new data, are not the new
    data's and are left out (``kg validate`` on the store reports those).

    >>> import pyoxigraph as ox
    >>> validate_assembled(ox.Store(), ["urn:g"])
    []
    """
    import pyoxigraph as ox

    from kg.validate import validate_oxigraph

    focus = sorted(targets)
    if not mem.contains_named_graph(ox.NamedNode(STORED)):
        return validate_oxigraph(mem, focus_graphs=focus, limit=limit)
    found = validate_oxigraph(mem, focus_graphs=focus + [STORED], limit=100_000)
    touched = {v.focus for v in found} & _typed(mem, STORED)
    if touched:  # (only then: most new data breaks nothing)
        stored_only = [ox.NamedNode(g) for g in (_CONTEXT, STORED)
                       if mem.contains_named_graph(ox.NamedNode(g))]
        before = set(validate_oxigraph(mem, focus_graphs=[STORED], default_graphs=stored_only,
                                       limit=100_000))
        found = [v for v in found if v not in before]
    return found[:limit]


def _typed(mem, graph: str) -> set[str]:
    """IRIs with an rdf:type in ``graph`` of ``mem``."""
    import pyoxigraph as ox

    return {q.subject.value for q in mem.quads_for_pattern(None, ox.NamedNode(RDF + "type"), None,
                                                           ox.NamedNode(graph))}


def _one_version_per_graph(mem, store, targets, replace: bool, files: list[str], *,
                           loaded: bool = False) -> None:
    """Refuse a graph that would hold two versions of a dataset (ATOP 5.1 over 4.01, or an
    export of ATOP ingested as RDF into the MME graph): it would count each alliance or
    exercise twice, and the codebooks and citations would name one of the two. The versions
    are the ``owl:versionInfo`` of the ``sp:Dataset`` descriptions, new and stored (the
    stored ones only when adding, not with ``--replace``). ``--graph NAME`` says which.

    :param loaded: ``mem`` is the store's new checkpoint with the input loaded (the
        streaming path, which holds nothing in memory): what it holds is stored and new
        together, and ``store`` is None."""
    from kg.info import graph_versions

    new: dict[str, set[str]] = {}
    for sol in mem.query(SPARQL_PREFIXES + "SELECT ?g ?v WHERE { GRAPH ?g { ?d a sp:Dataset ; "
                         "owl:versionInfo ?v } }"):
        if sol["g"].value in targets:
            new.setdefault(sol["g"].value, set()).add(sol["v"].value)
    file = files[0] if len(files) == 1 else ", ".join(files)
    for graph, versions in sorted(new.items()):
        name = graph_name(graph)
        if len(versions) > 1 and loaded and not replace:
            raise InputError(f"graph {name} would hold versions {', '.join(sorted(versions))} "
                             "of its datasets, stored and new: pass --replace to replace it, "
                             "or --graph NAME to keep each apart", file=file)
        if len(versions) > 1:
            raise InputError(f"the input describes versions {', '.join(sorted(versions))} of "
                             f"datasets for graph {name}, which holds one: give each its own "
                             "--graph NAME", file=file)
        if replace or store is None or graph not in store.graph_iris():
            continue
        held = graph_versions(store, [name]).get(name)
        if held and set(held.split(", ")) != versions:
            what = "this file is" if len(files) == 1 else "these files are"
            raise InputError(f"graph {name} holds version {held} and {what} "
                             f"version {', '.join(sorted(versions))}: pass --replace to "
                             "replace it, or --graph NAME to keep both", file=file)


def _ontology_nt() -> bytes:
    import pyoxigraph as ox

    from kg.resources import ontology_dir

    mem = ox.Store()
    mem.load(path=str(ontology_dir() / "secpart.ttl"), format=ox.RdfFormat.TURTLE)
    return mem.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())


def assemble(store, paths: list[str | Path], *, fmt: str | None = None, graph: str | None = None,
             strict: bool = False, replace: bool = False, curated_graph: str | None = None,
             context: bytes | None = None, loading: bool = False):
    """Parse inputs into an in-memory store with their validation context.

    Long on purpose: the one path every input takes (read, compile, skolemize, check ids
    against the store) in the order the all-or-nothing guarantee depends on.

    Returns ``(mem, target graph IRIs, where, report)``; ``where`` maps subject
    IRIs to ``(file, line, record id)`` for error messages. Nothing is written.
    ``context`` is the store's part of the validation context
    (:func:`_context_nt`) when the caller read it already; None reads it here.
    The stored triples of subjects the new data touches go into graph
    :data:`STORED` (:func:`_touched_context`); ``loading`` says the target
    graphs are being written while this runs, so none of them is read.
    """
    import pyoxigraph as ox

    report = IngestReport()
    mem = ox.Store()
    where: dict[str, tuple] = {}
    quads: list = []
    fast_targets: set[str] = set()
    curated_files: list[tuple[str, dict]] = []
    target_default = graph_iri(graph) if graph else None
    for p in paths:
        path = Path(p)
        name = str(p)
        from kg.ingest.inputs import check_regular, read_input

        check_regular(path)  # no FIFO, device or oversized file: it would hold the write lock
        kind = detect_kind(path, fmt)
        report.files.append(name)
        if kind == "curated":
            from kg.ingest.curated import read_records

            curated_files.append((name, read_records(path, read_input(path))))
        elif kind == "rdf":
            from kg.ingest.rdf import load_rdf_fast, parse_rdf

            # large N-Triples/Turtle without blank nodes load in the engine, with no Python
            # loop over the triples; anything else is parsed (and skolemized) in Python
            raw = read_input(path)  # read once: the file may change or go while we work
            fast = load_rdf_fast(mem, path, graph=target_default, fmt=fmt,
                                 default_graph=graph_iri("user"), raw=raw)
            if fast is not None:
                fast_targets.add(fast)
            else:
                quads.extend(parse_rdf(path, graph=target_default, fmt=fmt, raw=raw,
                                       default_graph=graph_iri("user")))
        else:
            import importlib

            mod = importlib.import_module(f"kg.ingest.{kind.replace('-', '_')}")
            g = target_default or graph_iri(kind)
            got, warnings = mod.parse(path, graph=g, strict=strict)
            link = getattr(mod, "link", None)  # e.g. MME: owl:sameAs to curated exercises
            if link is not None and store is not None:
                extra, more = link(store, got, g)
                got.extend(extra)
                warnings = warnings + more
            quads.extend(got)
            report.warnings.extend(warnings)
    targets = {q.graph_name.value for q in quads} | fast_targets
    if curated_files:
        from kg.ingest.curated import compile_records

        g = target_default or graph_iri(curated_graph or "user")
        targets.add(g)
        known = _known_ids(store, exclude=g if replace else None)
        cq, cw = compile_records(curated_files, graph=g, known=known)
        quads.extend(cq)
        where.update(cw)
    for t in targets:
        if not t.startswith(GRAPH):
            raise InputError(f"graph {t} is outside {GRAPH}; pass --graph NAME")
        from kg.store import check_graph_name

        check_graph_name(graph_name(t))
    mem.extend(quads)
    del quads
    _one_version_per_graph(mem, store, targets, replace, report.files)
    # context: what the data may refer to, from the store and the ontology
    ctx = _context_nt(store, exclude=targets if replace else set()) if context is None else context
    if ctx:
        mem.load(ctx, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(_CONTEXT))
    onto_graph = graph_iri("ontology")
    if onto_graph not in targets:
        mem.load(_ontology_nt(), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(_CONTEXT))
    _touched_context(store, mem, targets, exclude=targets if replace or loading else set())
    return mem, targets, where, report


def prepare(store, paths: list[str | Path], *, fmt: str | None = None, graph: str | None = None,
            strict: bool = False, replace: bool = False, curated_graph: str | None = None,
            dump: bool = True, context: bytes | None = None, loading: bool = False):
    """Parse and validate inputs in memory; return ``(per-graph N-Triples, report)``.

    Nothing is written. Raises InputError on the first bad file or record.
    With ``dump=False`` the N-Triples are not serialized (the caller loads the
    files itself) and the first item is ``{}``; the report still counts triples.
    """
    import pyoxigraph as ox

    mem, targets, where, report = assemble(store, paths, fmt=fmt, graph=graph, strict=strict,
                                           replace=replace, curated_graph=curated_graph,
                                           context=context, loading=loading)
    if not any(next(iter(mem.quads_for_pattern(None, None, None, ox.NamedNode(t))), None)
               for t in targets):
        _refuse_empty(paths, replace, graph)
    _raise_violation(validate_assembled(mem, targets), where, report.files)
    data = {}
    for t in sorted(targets):
        if dump:
            data[t] = mem.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(t))
            report.graphs[graph_name(t)] = data[t].count(b"\n")
        else:
            report.graphs[graph_name(t)] = _count(mem, t)
    report.replaced = replace
    return data, report


def _refuse_empty(paths, replace: bool, graph: str | None) -> None:
    """Inputs that hold no triples at all are bad input: an empty file (or one of only
    prefixes and comments) is a mistake, and with ``--replace`` it would empty the graph."""
    what = f"; --replace would empty graph {graph or 'user'}" if replace else ""
    raise InputError(f"no triples to ingest (an empty file, or only prefixes and comments){what}",
                     file=str(paths[0]))


def _sizes_before(store, targets, replace: bool) -> dict[str, int]:
    """The triples of the ``targets`` (IRIs) that already hold some, before an adding write
    (nothing to count for a replace, or for new graphs: what is written is what is new)."""
    if replace:
        return {}
    present = set(store.graph_iris())
    return {t: _count(store.db, t) for t in targets if t in present}


def _report_growth(store, report: IngestReport, before: dict[str, int]) -> None:
    """Count what each graph of ``before`` gained, and what of the input it held already."""
    for t, n0 in before.items():
        name = graph_name(t)
        read = report.graphs.get(name, 0)
        report.graphs[name] = _count(store.db, t) - n0
        if read > report.graphs[name]:
            report.already[name] = read - report.graphs[name]


def _count(db, graph: str) -> int:
    """Triples in one graph of a pyoxigraph Store."""
    for row in db.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"):
        return int(row["n"].value)
    return 0


def _raise_violation(violations, where: dict, files: list[str]) -> None:
    """Raise the first shape violation as an InputError naming the file and record or line."""
    if not violations:
        return
    v = violations[0]
    loc = where.get(v.focus)
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    if loc:
        raise InputError(f"record {loc[2]}: {v.message} [{v.constraint}]{more}",
                         file=loc[0], where=str(loc[1]))
    found = _locate_iri(v.focus, files)
    if found:
        raise InputError(f"<{v.focus}>: {v.message} [{v.constraint}]{more}",
                         file=found[0], where=found[1])
    raise InputError(f"<{v.focus}>: {v.message} [{v.constraint}]{more}", file=", ".join(files))


def _locate_iri(iri: str, files: list[str]) -> tuple[str, str] | None:
    """``(file, line)`` where ``iri`` first appears in one of ``files`` (for error messages).

    Looks for the full ``<iri>`` first, then for its local name (after the last
    ``/`` or ``#``) as written with a prefix; None when it cannot be found.
    """
    local = re.split(r"[/#]", iri)[-1]
    needles = [("<" + iri + ">").encode()]
    if local:
        needles.append(re.compile(rb"[:/]" + re.escape(local.encode()) + rb"(?![A-Za-z0-9_-])"))
    for needle in needles:
        for name in files:
            try:
                raw = Path(name).read_bytes()
            except OSError:
                continue
            if isinstance(needle, bytes):
                at = raw.find(needle)
            else:
                m = needle.search(raw)
                at = m.start() if m else -1
            if at >= 0:
                return name, str(raw[:at].count(b"\n") + 1)
    return None


def ingest(store, paths: list[str | Path], *, fmt: str | None = None, graph: str | None = None,
           replace: bool = False, strict: bool = False, stream: bool | None = None) -> IngestReport:
    """Add data to the store, all or nothing.

    :param store: a LocalStore opened for writing.
    :param paths: files to read (RDF, curated YAML/CSV, or a field dataset with ``fmt``).
    :param fmt: ``mme``, ``atop``, ``cow``, ``yaml``/``csv``, or an RDF format name.
    :param graph: the short name of the target graph (default: by kind).
    :param replace: swap the target graph(s) for the new content.
    :param strict: stop on the first bad row of a field dataset instead of warning.
    :param stream: for N-Triples/Turtle files without blank nodes, validate in the
        store after loading instead of in memory (for files bigger than memory);
        None decides by size (:func:`stream_threshold`).

    N-Triples and Turtle files without blank nodes (what big extracts are) take
    the direct path (:func:`_ingest_direct`): the engine loads them from disk into
    the store, inside the write bracket, while the same data is validated in
    memory in this thread; anything else is parsed and validated in memory first
    and then written.

    Example: ``ingest(store, ["mme_v7.csv"], fmt="mme")``.
    """
    if graph is not None:
        from kg.store import check_graph_name

        check_graph_name(graph, option="--graph")
        check_not_built([graph_iri(graph)])
    if not paths:
        raise UsageError("nothing to ingest: give one or more files")
    if _needs_reference_states(store, paths, fmt):
        return _first_contact(store, paths, fmt=fmt, graph=graph, strict=strict, replace=replace)
    loads = _direct_loads(store, paths, fmt, graph, replace=replace, stream=stream)
    if loads is not None:
        return _ingest_direct(store, paths, loads, fmt=fmt, graph=graph, replace=replace,
                              strict=strict, stream=stream)
    data, report = prepare(store, paths, fmt=fmt, graph=graph, strict=strict, replace=replace)
    check_not_built(data)  # the graphs an N-Quads or TriG file names
    before = _sizes_before(store, data, replace)
    store.write_graphs(data, replace=replace,
                       check_loaded=_replace_check(store, data, report.files) if replace else None)
    _report_growth(store, report, before)
    return report


def _replace_check(store, targets, files: list[str], then=None):
    """A ``check_loaded`` for :meth:`kg.store.LocalStore.write_graphs` that refuses a replace of
    ``targets`` (graph IRIs) that leaves subjects of other graphs invalid
    (:mod:`kg.ingest.dependents`; what it needs is read now, before the write).

    ``then(db)``: a further check run first, on the written store.
    """
    from kg.ingest.dependents import before_replace, broken
    from kg.sparql import Iri, term_to_sparql

    dep = before_replace(store.db, targets)

    def check_loaded(db, previous):
        if then is not None:
            then(db)
        found = broken(db, dep, previous)
        if found:
            v = found[0]
            holders = sorted(graph_name(r["g"].value) for r in db.query(
                f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {term_to_sparql(Iri(v.focus))} ?p ?o }} }}")
                if r["g"].value in dep.others)
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            replaced = ", ".join(sorted(graph_name(t) for t in targets))
            raise InputError(f"replacing graph {replaced} leaves <{v.focus}> of graph "
                             f"{', '.join(holders) or '?'} invalid: {v.message} [{v.constraint}]{more}; "
                             "it relied on triples the new data no longer has",
                             file=", ".join(files))

    return check_loaded


def _needs_reference_states(store, paths, fmt) -> bool:
    """True when a field dataset goes into an empty store (first contact).

    A field dataset's countries are matched against the reference states; a
    store that has graphs but no ``sp:State`` cannot take one, and says so.
    """
    if not any(Path(p).is_file() and detect_kind(p, fmt) in FIELD_FORMATS for p in paths):
        return False
    if not store.graph_iris():
        return True
    if not store.select(SPARQL_PREFIXES + "SELECT ?s WHERE { ?s a sp:State } LIMIT 1", own=True).rows:
        raise UsageError("the store holds no states to match the dataset's countries against; "
                         "run `kg build` first")
    return False


def _first_contact(store, paths, *, fmt, graph, strict, replace) -> IngestReport:
    """Ingest a field dataset into an empty store: the ontology and the bundled curated
    data (the reference states) are loaded with it, in the same single write."""
    import tempfile

    from kg.store import open_store

    base, base_report = build_data()
    with tempfile.TemporaryDirectory(prefix="kg-first-") as tmp:
        with open_store(Path(tmp) / "store", write=True) as scratch:
            scratch.write_graphs(base, replace=True)
            data, report = prepare(scratch, paths, fmt=fmt, graph=graph, strict=strict,
                                   replace=replace)
    merged = dict(base)
    for iri, nt in data.items():
        merged[iri] = (base.get(iri, b"") if not replace else b"") + nt
    store.write_graphs(merged, replace=True)
    for name, n in base_report.graphs.items():
        if graph_iri(name) not in data:
            report.graphs[name] = n
    report.warnings.insert(0, "the store was empty: loaded the ontology and the bundled curated "
                              "data (the reference states) first, as `kg build` does")
    return report


def stream_threshold() -> int:
    """Input bytes above which :func:`ingest` validates in the store, not in memory.

    ``$KG_STREAM_BYTES`` if set; else a quarter of the memory available (an
    in-memory copy of N-Triples takes about twice the file's size).
    """
    env = os.environ.get("KG_STREAM_BYTES")
    if env and env.isdigit():
        return int(env)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 4
    except (OSError, ValueError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 4
    except (OSError, ValueError):
        return 2 ** 31


def _streams(paths, stream: bool | None) -> bool:
    """Whether files are validated in the store (``stream``, or None: by :func:`stream_threshold`)."""
    if stream is not None:
        return stream
    return sum(Path(p).stat().st_size for p in paths if Path(p).is_file()) > stream_threshold()


def _direct_loads(store, paths, fmt, graph, *, replace: bool = False, stream: bool | None = None):
    """The files as engine loads (:class:`kg.store.FileLoad`) when all of them qualify, else None.

    They qualify when the store is local and each is N-Triples or Turtle with no
    blank-node syntax (:func:`kg.ingest.rdf.direct_format`), going to one graph,
    and that graph is new or replaced, or the files are too big for memory
    (:func:`stream_threshold`). Added to a graph that holds triples, data that
    fits in memory is checked together with the graph's stored triples of the
    subjects it touches, read before anything is written; the engine writes into
    that graph while the direct path validates, so it takes the other path.
    """
    from kg.ingest.rdf import direct_format
    from kg.store import FileLoad

    if getattr(store, "kind", "") != "local":
        return None
    target = graph_iri(graph) if graph else graph_iri("user")
    if not replace and target in store.graph_iris() and not _streams(paths, stream):
        return None
    loads = []
    for p in paths:
        path = Path(p)
        if not path.is_file() or detect_kind(path, fmt) != "rdf":
            return None
        key = direct_format(path, fmt)
        if key is None:
            return None
        loads.append(FileLoad(str(path), key, target))
    return loads


def _ingest_direct(store, paths, loads, *, fmt, graph, replace, strict, stream) -> IngestReport:
    """Load N-Triples/Turtle files straight into the store, validated, all or nothing.

    In memory (the default for files that fit): the engine bulk-loads the files
    into the store in a worker thread, inside the write bracket, while this
    thread parses the same files into memory and validates them exactly as
    :func:`prepare` does; a violation stops the load and restores the checkpoint.
    The store's part of the validation context is read before the load starts,
    so it is the store as it was (reading it during the load also read the new
    triples as the engine wrote them: 20 s of a 10M-triple ingest).

    Streaming (files bigger than memory): nothing is held in memory; after the
    load the shapes run in the engine on the store itself, over every graph (the
    full store as context), with focus nodes typed in the target graph, and the
    write is undone if any fails. The count reported is the growth of the graph.
    Stored subjects of other graphs that the files describe without typing them
    (a second ``sp:iso3`` for a stored state, alone) are checked as well
    (:func:`_touched_in_store`).
    """
    from kg.ingest.rdf import check_long_literals, scan_file

    stream = _streams([f.path for f in loads], stream)
    targets = sorted({f.graph for f in loads})
    if not stream:
        holder: dict = {}
        context = _context_nt(store, exclude=set(targets) if replace else set())

        def check():
            holder["data"], holder["report"] = prepare(store, paths, fmt=fmt, graph=graph,
                                                       strict=strict, replace=replace, dump=False,
                                                       context=context, loading=True)

        before = _sizes_before(store, targets, replace)
        store.write_graphs({}, replace=replace, files=loads, check=check,
                           check_loaded=_replace_check(store, targets, [str(p) for p in paths])
                           if replace else None)
        _report_growth(store, holder["report"], before)
        return holder["report"]

    from kg.validate import validate_oxigraph

    report = IngestReport(files=[str(p) for p in paths], replaced=replace)
    before = {} if replace else {t: _count(store.db, t) for t in targets}
    others = [g for g in store.graph_iris() if g not in targets]
    known = _subjects(store, others, _STORE_SUBJECTS_CAP) if others else []

    def check_new(db):
        for f in loads:
            if scan_file(f.path, f.fmt).long_lines:
                check_long_literals(db, f.graph, f.path)
        for t in targets:
            report.graphs[graph_name(t)] = _count(db, t) - before.get(t, 0)
        if replace and not any(report.graphs.values()):  # the files held no triples
            _refuse_empty(paths, replace, graph)
        _one_version_per_graph(db, None, set(targets), replace, report.files, loaded=True)
        _raise_violation(validate_oxigraph(db, focus_graphs=targets, limit=50), {}, report.files)
        if others:
            _raise_violation(_touched_in_store(db, targets, others, known), {}, report.files)

    if replace:
        check_loaded = _replace_check(store, targets, report.files, then=check_new)
    else:
        def check_loaded(db, previous):
            check_new(db)
    try:
        store.write_graphs({}, replace=replace, files=loads, check_loaded=check_loaded)
    except SyntaxError as exc:
        # the engine names the line within a chunk: re-parse the file to name the real one
        _reparse_for_error(loads, exc)
    return report


def _reparse_for_error(loads, exc: SyntaxError):
    """Raise the InputError (file and line) for a syntax error met while streaming."""
    import pyoxigraph as ox

    from kg.ingest.rdf import parser_errors

    for f in loads:
        with parser_errors(f.path, None):
            for _ in ox.parse(path=f.path, format=getattr(ox.RdfFormat, f.fmt)):
                pass
    raise InputError(f"RDF syntax error: {exc}", file=", ".join(f.path for f in loads))


def build(store) -> IngestReport:
    """Load the ontology and the bundled curated data into their graphs (idempotent)."""
    data, report = build_data()
    store.write_graphs(data, replace=True,
                       check_loaded=_replace_check(store, data, report.files))
    report.files = [os.path.relpath(f) if not os.path.isabs(str(f)) else str(f) for f in report.files]
    return report


def build_if_empty(path) -> bool:
    """Build the local store at ``path`` (:func:`build`) when it is missing or empty.

    It is read first, so a built store in use by readers (``kg serve``) is left
    alone; only an empty or missing one is opened for writing (and created).

    :param path: the store folder (None: ``$KG_STORE`` or ``./.kg``).
    :returns: whether it was built.
    """
    from kg.errors import StoreError
    from kg.store import open_store

    try:
        with open_store(path) as r:
            empty = not r.graph_names()
    except StoreError:
        empty = True
    if empty:
        with open_store(path, write=True, create=True) as w:
            if not w.graph_names():
                build(w)
                return True
    return False


def build_data(folder: str | Path | None = None) -> tuple[dict[str, bytes], IngestReport]:
    """The ontology and the bundled curated data, validated, as per-graph N-Triples; nothing written.

    :param folder: read the curated ``*.yaml`` files from here instead of the bundled ``data/``.
    """
    from kg.resources import data_dir, ontology_dir

    files = sorted(p for p in Path(folder or data_dir()).rglob("*.yaml"))
    if not files:
        raise InputError("no curated *.yaml files found", file=str(folder or data_dir()))
    data, report = prepare(None, files, curated_graph="curated", replace=True, graph="curated")
    onto = {}
    import pyoxigraph as ox

    from kg import __version__

    # The curated graph describes itself like the field datasets do, so citation blocks
    # can name its version. No sp:coverageStart/End: its exercises start in 2000 but its
    # agreements go back to 1951, and coverage is per graph. Its census is of Japan's
    # exercises and agreements (the other states' records are what those ties brought
    # in, and the U.S. alliances): a pair without Japan is outside its coverage.
    ds = f"<{ID}dataset/curated>"
    meta = (f'{ds} <{RDF}type> <{SP}Dataset> .\n'
            f'{ds} <{RDFS}label> "kg curated dataset of security partnerships"@en .\n'
            f'{ds} <{SP}graph> "curated" .\n'
            f'{ds} <http://www.w3.org/2002/07/owl#versionInfo> "{__version__}" .\n'
            f'{ds} <{SP}coverageScope> <{ID}state/JPN> .\n')
    data[graph_iri("curated")] += meta.encode("utf-8")
    report.graphs["curated"] += meta.count("\n")

    mem = ox.Store()
    for ttl in sorted(ontology_dir().glob("*.ttl")):
        if ttl.name == "shapes.ttl":
            continue
        mem.load(path=str(ttl), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graph_iri("ontology")))
    onto[graph_iri("ontology")] = mem.dump(format=ox.RdfFormat.N_TRIPLES,
                                           from_graph=ox.NamedNode(graph_iri("ontology")))
    report.graphs["ontology"] = onto[graph_iri("ontology")].count(b"\n")
    data.update(onto)
    return data, report

