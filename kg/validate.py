"""SHACL validation, two ways that agree: compiled to SPARQL in the engine, or pyshacl.

The shapes (``ontology/shapes.ttl``) are compiled into SPARQL SELECTs (one per
constraint, but one per shape for its required properties) and run inside
Oxigraph, which scales to millions of triples;
``engine="pyshacl"`` runs the same shapes through pySHACL on an in-memory
rdflib graph for a second opinion on small data (tests check both give the
same violations on the fixtures).

>>> from kg.validate import compiled_checks
>>> len(compiled_checks()) > 10
True
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from kg.namespaces import RDFS, SH, SHACL_PREFIXES, SPARQL_PREFIXES, XSD
from kg.resources import ontology_dir
from kg.sparql import IRIS_PER_VALUES

__all__ = ["Violation", "Check", "compiled_checks", "validate_store", "validate_oxigraph",
           "validate_pyshacl", "focus_clause", "nodes_clause"]


@dataclass(frozen=True, order=True)
class Violation:
    """One violation: the focus node, the shape constraint broken, the value and a message."""

    focus: str
    constraint: str
    value: str
    message: str


TARGET = "#TARGET#"
VALUE_CLASS = "#CLASS#"


@dataclass(frozen=True)
class Check:
    """A constraint compiled to SPARQL; the query selects ?this and ?value.

    ``path`` is set for the checks that can only fail on a value of that
    property (maxCount, datatype, pattern, class): where the dataset has no
    triple with it, the check is skipped. ``value_class`` (sh:class) is the
    class whose instances the query's ``#CLASS#`` placeholder accepts, filled
    in at run time with the class and its subclasses in the dataset.
    ``parts`` is set when one query runs several constraints of a shape: it
    then also selects ``?k``, the index of the (constraint, message) broken.
    """

    constraint: str
    target_class: str
    message: str
    query: str
    path: str | None = None
    value_class: str | None = None
    parts: tuple[tuple[str, str], ...] = ()


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _sparql_string(text: str) -> str:
    """``text`` as a SPARQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------- well-formed literals
#
# SHACL's sh:datatype (W3C SHACL 4.1.2) accepts a value only if it is a literal of
# the datatype *and* well formed for it: "abc"^^xsd:integer fails. Oxigraph keeps such
# ill-typed literals as they are, and DATATYPE() still names the datatype, so each
# datatype also needs a test of the lexical form. Oxigraph stores the well-formed
# values of its native types in canonical form ("+012" becomes "12"), so what these
# tests read is what pyshacl reads after the data went through the engine.

_YEAR = r"-?([1-9][0-9]{3,}|0[0-9]{3})"
_TZ = r"(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_DECIMAL = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"

#: XSD lexical spaces (W3C XSD 1.1 Part 2, section 3), ASCII digits only: the same
#: regular expression is run by the engine (REGEX) and by Python (pyshacl's side).
_LEXICAL_RE = {
    XSD + "integer": r"[+-]?[0-9]+",
    XSD + "decimal": _DECIMAL,
    XSD + "double": rf"{_DECIMAL}([eE][+-]?[0-9]+)?|[+-]?INF|NaN",
    XSD + "float": rf"{_DECIMAL}([eE][+-]?[0-9]+)?|[+-]?INF|NaN",
    XSD + "boolean": r"true|false|1|0",
    XSD + "date": rf"{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]){_TZ}",
    XSD + "gYearMonth": rf"{_YEAR}-(0[1-9]|1[0-2]){_TZ}",
    XSD + "gYear": rf"{_YEAR}{_TZ}",
}
#: Datatypes whose lexical space is (for this project) every string: no test needed.
_ANY_LEXICAL = {XSD + "string", XSD + "anyURI"}
#: The numeric datatypes Oxigraph stores natively when well formed (isNumeric() is then
#: true, the cheap test that spares the REGEX on all but the odd value, such as an
#: integer too long for 64 bits, which Oxigraph keeps as text but is well formed).
_NUMERIC = {XSD + "integer", XSD + "decimal", XSD + "double", XSD + "float"}
#: The datatypes whose values need more than their form: a date's day must exist in its
#: month (2023-02-30 has the form of a date); the engine's cast says so.
_CAST = {XSD + "date", XSD + "gYearMonth", XSD + "gYear"}


def _well_formed(dt: str) -> str | None:
    """A SPARQL expression over ``?value`` (a literal of datatype ``dt``) that is true when
    its lexical form is well formed for ``dt``, false or an error otherwise; None when
    every form is (xsd:string, xsd:anyURI, datatypes outside XSD)."""
    if dt in _ANY_LEXICAL or not dt.startswith(XSD):
        return None
    if dt not in _LEXICAL_RE:
        raise ValueError(f"sh:datatype <{dt}>: kg's compiler has no well-formedness test for it "
                         "(add its lexical space to kg.validate._LEXICAL_RE)")
    test = f"REGEX(STR(?value), {_sparql_string('^(' + _LEXICAL_RE[dt] + ')$')})"
    if dt in _NUMERIC:
        test = f"isNumeric(?value) || {test}"
    if dt in _CAST:
        test = f"{test} && isLiteral(<{dt}>(STR(?value)))"
    return test


def _well_formed_python(dt: str, lexical: str) -> bool:
    """:func:`_well_formed` in Python, for pySHACL's side (rdflib is laxer: ``int(" 12 ")``)."""
    pattern = _LEXICAL_RE.get(dt)
    if pattern is None:
        return True
    if re.fullmatch(pattern, lexical, re.ASCII) is None:
        return False
    return dt != XSD + "date" or _valid_xsd_date(lexical)


def _datatype_broken(dt: str) -> str:
    """True for a ?value that is not a well-formed literal of ``dt``."""
    test = _well_formed(dt)
    broken = f"!isLiteral(?value) || DATATYPE(?value) != <{dt}>"
    return broken if test is None else f"{broken} || !COALESCE({test}, false)"


#: sh:minInclusive ... sh:maxExclusive: the comparison a value must pass (SHACL 4.3).
_RANGE_OPS = {"minInclusive": ">=", "minExclusive": ">", "maxInclusive": "<=", "maxExclusive": "<"}


def _range_broken(op: str, bound: str) -> str:
    """True for a ?value whose comparison ``?value op bound`` is not true (an error
    counts as broken: SHACL's results for values that cannot be compared).

    Oxigraph cannot compare a well-formed integer or decimal too long for its native
    types (it errs where pyshacl compares): such a value is compared as a double,
    exact enough against the small bounds the shapes use.
    """
    big = " || ".join(
        f"DATATYPE(?value) = <{dt}> && REGEX(STR(?value), {_sparql_string('^(' + _LEXICAL_RE[dt] + ')$')})"
        for dt in (XSD + "integer", XSD + "decimal"))
    return (f"!COALESCE(?value {op} {bound}, "
            f"({big}) && <{XSD}double>(STR(?value)) {op} {bound}, false)")


def _value_broken(key: str, term) -> str:
    """The SPARQL expression true for a ?value that breaks the shape's ``key`` (``term``
    its object in the shape: a datatype IRI, a pattern, a class, a bound)."""
    if key == "datatype":
        return _datatype_broken(term.value)
    if key == "pattern":
        return f"isBlank(?value) || !REGEX(STR(?value), {_sparql_string(term.value)})"
    if key == "class":
        return f"NOT EXISTS {{ ?value a/rdfs:subClassOf* <{term.value}> }}"
    return _range_broken(_RANGE_OPS[key], str(term))


#: The constraints on each value of a property, in this order: each key's check can
#: only fail on a value of that property.
_VALUE_KEYS = ("datatype", "pattern", "class", *_RANGE_OPS)
#: Those the fast path runs as one query per property (one scan of its values).
_MERGED_KEYS = ("datatype", *_RANGE_OPS)


@lru_cache(maxsize=1)
def compiled_checks() -> tuple[Check, ...]:
    """Compile ``shapes.ttl`` into SPARQL checks (cached)."""
    return _compile(reference=False)


@lru_cache(maxsize=1)
def _reference_checks() -> tuple[Check, ...]:
    """The checks as first compiled, one plain query each: the slow path the tests compare with."""
    return _compile(reference=True)


def _compile(reference: bool) -> tuple[Check, ...]:
    """Compile ``shapes.ttl``; ``reference=True`` gives the queries before the speed rewrites."""
    import pyoxigraph as ox

    store = ox.Store()
    store.load(path=str(ontology_dir() / "shapes.ttl"), format=ox.RdfFormat.TURTLE)
    q = SHACL_PREFIXES

    def one(s, p):
        s = s.value if hasattr(s, "value") else s
        for r in store.query(q + f"SELECT ?o WHERE {{ <{s}> <{p}> ?o }}"):
            return r["o"]
        return None

    checks: list[Check] = []
    shapes = store.query(q + "SELECT ?shape ?cls WHERE { ?shape a sh:NodeShape ; sh:targetClass ?cls } "
                             "ORDER BY ?shape")
    for row in shapes:
        shape, cls = row["shape"].value, row["cls"].value
        target = TARGET  # filled in at run time with the class and its subclasses
        # property shapes
        props = store.query(q + f"SELECT ?ps WHERE {{ <{shape}> sh:property ?ps }}")
        required: list[tuple[str, str, str]] = []  # minCount 1: (name, message, path), run as one query
        for prow in sorted(props, key=lambda r: str(r["ps"])):
            ps = prow["ps"]
            psid = ps.value if isinstance(ps, ox.NamedNode) else f"{_short(shape)}-{_short(one(ps, SH + 'path').value)}"
            path = one(ps, SH + "path").value
            msg_t = one(ps, SH + "message")
            msg = msg_t.value if msg_t else f"constraint on <{path}>"
            name = _short(psid) if isinstance(ps, ox.NamedNode) else psid
            mn, mx = one(ps, SH + "minCount"), one(ps, SH + "maxCount")
            if mn is not None and int(mn.value) == 1 and not reference:
                required.append((f"{name}-minCount", msg, path))
            elif mn is not None and int(mn.value) == 1:
                # the common case, without a GROUP BY over the whole store
                checks.append(Check(f"{name}-minCount", cls, msg,
                    f"SELECT ?this (\"\" AS ?value) WHERE {{ {target} "
                    f"FILTER NOT EXISTS {{ ?this <{path}> ?v }} }}"))
            elif mn is not None and int(mn.value) > 1:
                checks.append(Check(f"{name}-minCount", cls, msg,
                    f"SELECT ?this (\"\" AS ?value) WHERE {{ {target} "
                    f"OPTIONAL {{ SELECT ?this (COUNT(DISTINCT ?v) AS ?n) WHERE {{ ?this <{path}> ?v }} GROUP BY ?this }} "
                    f"FILTER(COALESCE(?n, 0) < {int(mn.value)}) }}"))
            if mx is not None and reference:
                checks.append(Check(f"{name}-maxCount", cls, msg,
                    f"SELECT ?this (\"\" AS ?value) WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?v) AS ?n) WHERE "
                    f"{{ ?this <{path}> ?v }} GROUP BY ?this }} {target} FILTER(?n > {int(mx.value)}) }}"))
            elif mx is not None:
                # HAVING drops the nodes within the bound before the join with the targets
                checks.append(Check(f"{name}-maxCount", cls, msg,
                    f"SELECT ?this (\"\" AS ?value) WHERE {{ {{ SELECT ?this WHERE "
                    f"{{ ?this <{path}> ?v }} GROUP BY ?this HAVING(COUNT(DISTINCT ?v) > {int(mx.value)}) }} "
                    f"{target} }}", path))
            checks += _value_checks(name, cls, msg, path, target, reference,
                                    {key: one(ps, SH + key) for key in _VALUE_KEYS})
        checks += _required_checks(required, cls, target)
        # SPARQL constraints
        cons = store.query(q + f"SELECT ?c ?sel ?msg WHERE {{ <{shape}> sh:sparql ?c . ?c sh:select ?sel . "
                               "OPTIONAL { ?c sh:message ?msg } } ORDER BY ?c")
        for crow in cons:
            sel = re.sub(r"\$this\b", "?this", crow["sel"].value).strip()
            msg = crow["msg"].value if crow["msg"] else _short(crow["c"].value)
            checks.append(Check(_short(crow["c"].value), cls, msg,
                                f"SELECT ?this ?value WHERE {{ {target} {{ {sel} }} }}"))
    return tuple(checks)


def _value_checks(name: str, cls: str, msg: str, path: str, target: str, reference: bool,
                  terms: dict) -> list[Check]:
    """The value checks of one property (sh:datatype, sh:pattern, sh:class and the
    ranges; ``terms``: each key's value in the shape, or None), as first compiled with
    ``reference``."""
    checks: list[Check] = []
    merged: list[tuple[str, str]] = []  # (constraint, broken) of the keys in _MERGED_KEYS
    for key in _VALUE_KEYS:
        term = terms[key]
        if term is None:
            continue
        if reference:
            checks.append(Check(f"{name}-{key}", cls, msg,
                f"SELECT ?this ?value WHERE {{ {target} ?this <{path}> ?value . "
                f"FILTER({_value_broken(key, term)}) }}"))
            continue
        # the values are filtered first, then joined with the targets: the filter reads
        # only ?value, and a property's triples are read in one scan rather than looked
        # up target by target (much cheaper where the property is rare or the store is
        # on disk)
        if key == "class":
            # one FILTER NOT EXISTS { ?value a <c> } per class (the subclasses known at
            # run time): the same test as a/rdfs:subClassOf* without evaluating the path
            # for every value
            checks.append(Check(f"{name}-{key}", cls, msg,
                f"SELECT ?this ?value WHERE {{ {target} {{ SELECT ?this ?value WHERE "
                f"{{ ?this <{path}> ?value . {VALUE_CLASS} }} }} }}", path, term.value))
        elif key in _MERGED_KEYS:
            merged.append((f"{name}-{key}", _value_broken(key, term)))
        else:
            checks.append(Check(f"{name}-{key}", cls, msg,
                f"SELECT ?this ?value WHERE {{ {target} {{ SELECT ?this ?value WHERE "
                f"{{ ?this <{path}> ?value . FILTER({_value_broken(key, term)}) }} }} }}", path))
    if len(merged) == 1:
        (cname, broken), = merged
        checks.append(Check(cname, cls, msg,
            f"SELECT ?this ?value WHERE {{ {target} {{ SELECT ?this ?value WHERE "
            f"{{ ?this <{path}> ?value . FILTER({broken}) }} }} }}", path))
    elif merged:
        # the datatype and the range of a property (sp:year: an integer from 1800 to
        # 2100) in one scan of its values: the values that break any of them first
        # (almost none), then which ones they break (?k)
        anyone = " || ".join(f"({b})" for _c, b in merged)
        which = " || ".join(f"?k = {k} && ({b})" for k, (_c, b) in enumerate(merged))
        ks = " ".join(str(k) for k in range(len(merged)))
        checks.append(Check(merged[0][0], cls, msg,
            f"SELECT ?this ?value ?k WHERE {{ {target} {{ SELECT ?this ?value ?k WHERE {{ "
            f"{{ SELECT ?this ?value WHERE {{ ?this <{path}> ?value . FILTER({anyone}) }} }} "
            f"VALUES ?k {{ {ks} }} FILTER({which}) }} }} }}",
            path, parts=tuple((c, msg) for c, _b in merged)))
    return checks


def _required_checks(required: list[tuple[str, str, str]], cls: str, target: str) -> list[Check]:
    """The minCount-1 checks of one shape (``(name, message, path)`` each): one query for
    all of them, the shape's targets enumerated once (``?k`` names the one broken)."""
    if len(required) == 1:
        (cname, msg, path), = required
        return [Check(cname, cls, msg, f"SELECT ?this (\"\" AS ?value) WHERE {{ {target} "
                                       f"FILTER NOT EXISTS {{ ?this <{path}> ?v }} }}")]
    if not required:
        return []
    rows = " ".join(f"(<{path}> {k})" for k, (_n, _m, path) in enumerate(required))
    return [Check(required[0][0], cls, required[0][1],
                  f"SELECT ?this (\"\" AS ?value) ?k WHERE {{ {target} VALUES (?p ?k) {{ {rows} }} "
                  f"FILTER NOT EXISTS {{ ?this ?p ?v }} }}",
                  parts=tuple((n, m) for n, m, _p in required))]


def _iri(value: str) -> str:
    """An IRI for the query text: the graphs' and the data's classes (subclasses come from
    the input) go through the one serializer that refuses what could leave ``<...>``."""
    from kg.sparql import Iri, term_to_sparql

    return term_to_sparql(Iri(value))


def focus_clause(graphs: list[str], classes: list[str]) -> str:
    """The target pattern: ?this typed with one of ``classes``, in one of ``graphs`` if given.

    Each graph is named as a constant (``GRAPH <g>``), one UNION branch per
    graph: Oxigraph then reads only that graph's ``rdf:type`` triples of the
    classes, where ``VALUES ?fg {...} GRAPH ?fg`` made it scan every type
    triple of every graph (0.12 s against 0.006 s for 9k agreements in a
    1M-triple store, paid by every check). The rows are the same: one per
    (class, graph) in which ?this is typed.

    >>> focus_clause(["urn:g"], ["urn:C"])
    'VALUES ?tcls { <urn:C> } GRAPH <urn:g> { ?this a ?tcls }'
    >>> focus_clause([], ["urn:C", "urn:D"])
    'VALUES ?tcls { <urn:C> <urn:D> } ?this a ?tcls .'
    """
    cls = " ".join(map(_iri, classes))
    if not graphs:
        return f"VALUES ?tcls {{ {cls} }} ?this a ?tcls ."
    if len(graphs) == 1:
        return f"VALUES ?tcls {{ {cls} }} GRAPH {_iri(graphs[0])} {{ ?this a ?tcls }}"
    branches = " UNION ".join(f"{{ GRAPH {_iri(g)} {{ ?this a ?tcls }} }}" for g in graphs)
    return f"VALUES ?tcls {{ {cls} }} {{ {branches} }}"


def _reference_focus_clause(graphs: list[str], classes: list[str]) -> str:
    """The target pattern as first written (VALUES over the graphs), for the reference path."""
    cls = " ".join(f"<{c}>" for c in classes)
    if not graphs:
        return f"VALUES ?tcls {{ {cls} }} ?this a ?tcls ."
    vals = " ".join(f"<{g}>" for g in graphs)
    return f"VALUES ?tcls {{ {cls} }} VALUES ?fg {{ {vals} }} GRAPH ?fg {{ ?this a ?tcls }}"


def _subclasses(store, kw: dict) -> dict[str, list[str]]:
    """Each class with all its subclasses (rdfs:subClassOf*) in the dataset being validated."""
    out: dict[str, set] = {}
    for row in store.query(f"SELECT ?c ?d WHERE {{ ?c <{RDFS}subClassOf>+ ?d }}", **kw):
        out.setdefault(row["d"].value, set()).add(row["c"].value)
    return {d: sorted(cs) for d, cs in out.items()}


def _format_msg(msg: str, value: str) -> str:
    return msg.replace("{?value}", value).replace("{$value}", value)


def validate_oxigraph(store, *, focus_graphs: list[str] | None = None, default_graphs=None,
                      limit: int = 1000, focus_nodes: list[str] | None = None) -> list[Violation]:
    """Run the compiled checks on a pyoxigraph Store.

    ``focus_graphs`` (graph IRIs) limits focus nodes to those typed in them;
    ``focus_nodes`` (IRIs) instead names them (those typed in the dataset are
    checked, :data:`kg.sparql.IRIS_PER_VALUES` per query);
    ``default_graphs`` (NamedNodes) is the query dataset (all graphs when None).
    The checks run in order, each with ``LIMIT limit``, and stop once ``limit``
    violations are found (so past the limit, which ones are returned depends
    on the engine's row order).
    """
    if focus_nodes is None:
        return _run_checks(store, compiled_checks(), focus_clause, focus_graphs, default_graphs, limit)
    found: set[Violation] = set()
    nodes = sorted(set(focus_nodes))
    for i in range(0, len(nodes), IRIS_PER_VALUES):
        found.update(_run_checks(store, compiled_checks(), nodes_clause, nodes[i:i + IRIS_PER_VALUES],
                                 default_graphs, limit - len(found)))
        if len(found) >= limit:
            break
    return sorted(found)




def nodes_clause(nodes: list[str], classes: list[str]) -> str:
    """The target pattern for named focus nodes: ?this one of ``nodes``, typed with one of ``classes``.

    >>> nodes_clause(["urn:a"], ["urn:C"])
    'VALUES ?tcls { <urn:C> } VALUES ?this { <urn:a> } ?this a ?tcls .'
    """
    return (f"VALUES ?tcls {{ {' '.join(map(_iri, classes))} }} "
            f"VALUES ?this {{ {' '.join(map(_iri, nodes))} }} ?this a ?tcls .")


def _validate_reference(store, *, focus_graphs: list[str] | None = None, default_graphs=None,
                        limit: int = 1000) -> list[Violation]:
    """:func:`validate_oxigraph` with the queries as first compiled (tests compare the two)."""
    return _run_checks(store, _reference_checks(), _reference_focus_clause, focus_graphs,
                       default_graphs, limit)


def _run_checks(store, checks, clause, focus, default_graphs, limit: int) -> list[Violation]:
    """Run ``checks`` with the target pattern ``clause(focus, classes)`` (``focus``: graphs or
    nodes, as ``clause`` takes them); see :func:`validate_oxigraph`."""
    import pyoxigraph as ox

    found: set[Violation] = set()
    kw = {"use_default_graph_as_union": True} if default_graphs is None else {
        "default_graph": default_graphs or [ox.DefaultGraph()]}
    subs = _subclasses(store, kw)
    present: dict[str, bool] = {}
    for check in checks:
        if check.path is not None:
            if check.path not in present:
                present[check.path] = bool(store.query(f"ASK {{ ?s <{check.path}> ?o }}", **kw))
            if not present[check.path]:
                continue
        classes = [check.target_class] + subs.get(check.target_class, [])
        text = check.query.replace(TARGET, clause(focus or [], classes), 1)
        if check.value_class is not None:
            accepted = [check.value_class] + subs.get(check.value_class, [])
            text = text.replace(VALUE_CLASS, " ".join(
                f"FILTER NOT EXISTS {{ ?value a {_iri(c)} }}" for c in accepted), 1)
        for row in store.query(SPARQL_PREFIXES + text + f" LIMIT {limit}", **kw):
            this = row["this"]
            value = row["value"]
            vtxt = "" if value is None else (value.value if hasattr(value, "value") else str(value))
            constraint, message = check.parts[int(row["k"].value)] if check.parts else (
                check.constraint, check.message)
            found.add(Violation(this.value, constraint, vtxt, _format_msg(message, vtxt)))
        if len(found) >= limit:
            break
    return sorted(found)


def validate_store(store, graphs: list[str] | None = None) -> list[Violation]:
    """Validate a LocalStore's dataset graphs (all by default) in the engine."""
    import pyoxigraph as ox

    iris = store.graph_iris_of(graphs)
    return validate_oxigraph(store.db, default_graphs=[ox.NamedNode(g) for g in iris])


def validate_pyshacl(data_nt: bytes) -> list[Violation]:
    """Validate N-Triples (or N-Quads flattened) with pySHACL and the same shapes.

    ``data_nt`` must include the ontology (for subclass targets) and any context.
    """
    import pyshacl
    import rdflib

    _register_rdflib_casts()
    with _strict_rdflib_literals():
        data = rdflib.Graph()
        data.parse(data=data_nt, format="nt")
        shapes = rdflib.Graph().parse(str(ontology_dir() / "shapes.ttl"), format="turtle")
        conforms, report, _text = pyshacl.validate(data, shacl_graph=shapes, inference="none",
                                                   advanced=True, allow_warnings=False)
    out: set[Violation] = set()
    if conforms:
        return []
    shn = rdflib.Namespace(SH)
    for res in report.subjects(rdflib.RDF.type, shn.ValidationResult):
        focus = report.value(res, shn.focusNode)
        src = report.value(res, shn.sourceShape)
        comp = report.value(res, shn.sourceConstraintComponent)
        value = report.value(res, shn.value)
        msg = report.value(res, shn.resultMessage)
        name = _pyshacl_constraint_name(report, src, comp, res, shapes)
        out.add(Violation(str(focus), name, "" if value is None or "Count" in str(comp) else str(value),
                          str(msg)))
    return sorted(out)


def _strict_parser(dt: str, parse):
    """rdflib's lexical-to-value ``parse`` of ``dt`` (None: the form itself) for well-formed forms only."""
    def strict(lexical):
        if not _well_formed_python(dt, str(lexical)):
            raise ValueError(f"{lexical!r} is not a well-formed <{dt}>")
        return lexical if parse is None else parse(lexical)

    return strict


@contextmanager
def _strict_rdflib_literals():
    """rdflib, while it runs: the XSD literals of :data:`_LEXICAL_RE` ill-typed unless well formed.

    rdflib maps a lexical form to its value with Python's own parsers, laxer than XSD
    (``int(" 12 ")``, ``int("1_000")``, ``Decimal("1e3")``, ``float("infinity")``) and
    knows no xsd:gYear at all; pyshacl's sh:datatype then accepts what SHACL and
    Oxigraph call ill-typed. Here a form that is not well formed has no value (rdflib's
    mark of an ill-typed literal), and rdflib's warning for each is silenced.
    """
    import logging

    from rdflib import term

    mapping = term._toPythonMapping
    saved = {dt: mapping[dt] for dt in map(term.URIRef, _LEXICAL_RE) if dt in mapping}
    for dt in _LEXICAL_RE:
        mapping[term.URIRef(dt)] = _strict_parser(dt, saved.get(term.URIRef(dt)))
    log = logging.getLogger("rdflib.term")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)
        for dt in map(term.URIRef, _LEXICAL_RE):
            if dt in saved:
                mapping[dt] = saved[dt]
            else:
                mapping.pop(dt, None)


def _pyshacl_constraint_name(report, src, comp, res, shapes=None) -> str:
    """The constraint name in the form :func:`compiled_checks` uses (``StateIso3-pattern``)."""
    import rdflib

    shn = rdflib.Namespace(SH)
    comp_name = _short(str(comp)).replace("ConstraintComponent", "")
    if comp_name == "SPARQL":
        detail = report.value(res, shn.sourceConstraint)
        return _short(str(detail)) if detail is not None else "sparql"
    # the compiler names checks minCount, maxCount, datatype, pattern, class
    comp_name = comp_name[:1].lower() + comp_name[1:]
    if isinstance(src, rdflib.BNode):
        path = report.value(res, shn.resultPath)
        owner = next(iter(shapes.subjects(shn.property, src)), None) if shapes is not None else None
        if owner is not None and path is not None:
            return f"{_short(str(owner))}-{_short(str(path))}-{comp_name}"
        return f"?-{comp_name}"
    return f"{_short(str(src))}-{comp_name}"


_XSD_DATE_PARTS = re.compile(rf"({_YEAR})-([0-9]{{2}})-([0-9]{{2}}){_TZ}", re.ASCII)


def _valid_xsd_date(text: str) -> bool:
    """True for a well-formed xsd:date: the lexical form, and a day that exists in its month."""
    m = _XSD_DATE_PARTS.fullmatch(text)
    if not m or re.fullmatch(_LEXICAL_RE[XSD + "date"], text, re.ASCII) is None:
        return False
    year, month, day = int(m.group(1)), int(m.group(3)), int(m.group(4))
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return 1 <= day <= days


_CASTS_REGISTERED = False


def _register_rdflib_casts() -> None:
    """Give rdflib's SPARQL the XPath casts xsd:date, xsd:gYearMonth and xsd:gYear.

    rdflib implements casts to dateTime and numbers only; without these the
    date shapes (``MalformedExerciseDate``) would flag every date under pyshacl
    while Oxigraph, which implements them, does not.
    """
    global _CASTS_REGISTERED
    if _CASTS_REGISTERED:
        return
    import rdflib
    from rdflib.plugins.sparql.operators import register_custom_function
    from rdflib.plugins.sparql.sparql import SPARQLError

    for dt in (XSD + "date", XSD + "gYearMonth", XSD + "gYear"):
        def cast(x=None, *rest, _dt=dt):
            if rest or not isinstance(x, rdflib.Literal):
                raise SPARQLError(f"cannot cast {x!r} to {_dt}")
            if x.datatype not in (None, rdflib.XSD.string, rdflib.URIRef(_dt)):
                raise SPARQLError(f"cannot cast {x.datatype} to {_dt}")
            # as Oxigraph casts: the form as it is (no whitespace stripped), ASCII digits
            text = str(x)
            if not _well_formed_python(_dt, text):
                raise SPARQLError(f"{text!r} is not a valid {_dt}")
            return rdflib.Literal(text, datatype=rdflib.URIRef(_dt))

        register_custom_function(rdflib.URIRef(dt), cast, override=True)
    _CASTS_REGISTERED = True



def validate_store_report(store, *, engine: str = "oxigraph", graphs: list[str] | None = None) -> list[Violation]:
    """Validate the store's graphs with the chosen engine (``oxigraph`` or ``pyshacl``)."""
    if engine == "pyshacl":
        import pyoxigraph as ox

        data = store.dump(ox.RdfFormat.N_TRIPLES, graphs)
        return validate_pyshacl(data)
    if store.kind != "local":
        from kg.errors import UsageError

        raise UsageError("validating a remote store needs --engine pyshacl")
    return validate_store(store, graphs)
