"""Saved SPARQL queries: discovery, ``#+`` headers, parameters bound as RDF terms.

A saved query (``queries/NAME.rq``) opens with a header::

    #+ summary: Japan's exercise partners with co-participation counts
    #+ description: ...
    #+ param: state = JPN  (ISO3 code of the focal state)
    #+ tags: exercises, partners

A parameter's type follows from its description: "ISO3" makes it a state
(the value must be three upper-case letters, bound as the state's IRI),
"year" or "integer" an ``xsd:integer``, "IRI" an IRI; anything else a plain
string literal.

>>> q = parse_query_text("#+ summary: s\\n#+ param: state = JPN (ISO3 code)\\nSELECT * { ?s ?p ?state }", "x")
>>> q.params[0].name, q.params[0].kind
('state', 'iso3')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import KgError, QueryRefused, UsageError
from kg.namespaces import XSD, is_iso3, iso3_of, state_iri
from kg.resources import queries_dir
from kg.sparql import Iri, Lit, term_to_sparql

__all__ = ["Param", "SavedQuery", "parse_query_text", "load_query", "list_queries", "bind_params",
           "run_saved"]


@dataclass
class Param:
    """A declared query parameter."""

    name: str
    default: str | None
    description: str
    kind: str  # iso3 | integer | iri | string


@dataclass
class SavedQuery:
    """A saved query: its name, header fields and SPARQL text."""

    name: str
    path: str
    summary: str
    description: str
    params: list[Param]
    tags: list[str]
    text: str
    extra: dict = field(default_factory=dict)
    #: Read from kg's own folders of saved and claim queries (not a user's file): kg's own
    #: text, held to the size limits but not parsed by the network guard
    #: (``own`` in :meth:`kg.basestore.BaseStore.query`).
    shipped: bool = False


_PARAM = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:=\s*(?P<default>[^\s(]+))?\s*(?:\((?P<desc>.*)\))?\s*$")


def _kind(desc: str) -> str:
    d = desc.lower()
    if "iso3" in d:
        return "iso3"
    if "year" in d or "integer" in d:
        return "integer"
    if re.search(r"\biri\b", d):
        return "iri"
    return "string"


def parse_query_text(text: str, name: str, path: str = "") -> SavedQuery:
    """Parse a saved query's header and text."""
    header: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.startswith("#+"):
            if line.strip() and not line.startswith("#"):
                break
            continue
        m = re.match(r"^#\+\s*([A-Za-z_-]+)\s*:\s*(.*)$", line)
        if not m:
            raise UsageError(f"malformed header line {line!r}")
        header.setdefault(m.group(1).lower(), []).append(m.group(2).strip())
    params = []
    for spec in header.get("param", []):
        m = _PARAM.match(spec)
        if not m:
            raise UsageError(f"malformed param header {spec!r}")
        desc = m.group("desc") or ""
        if any(p.name == m.group("name") for p in params):
            raise UsageError(f"param {m.group('name')!r} declared twice in the header")
        params.append(Param(m.group("name"), m.group("default"), desc, _kind(desc)))
    tags = [t.strip() for t in ",".join(header.get("tags", [])).split(",") if t.strip()]
    known = {"summary", "description", "param", "tags"}
    return SavedQuery(name=name, path=path, summary=" ".join(header.get("summary", [""])),
                      description=" ".join(header.get("description", [""])), params=params, tags=tags,
                      text=text, extra={k: v for k, v in header.items() if k not in known})


def _shipped(path: Path) -> bool:
    """Whether ``path`` is a file of kg's own folders of saved and claim queries.

    >>> _shipped(queries_dir() / "partners.rq"), _shipped(Path("partners.rq"))
    (True, False)
    """
    from kg.resources import claims_dir

    return path.resolve().parent in (queries_dir().resolve(), claims_dir().resolve())


def _read(path: Path, text: str, name: str) -> SavedQuery:
    q = parse_query_text(text, name, str(path))
    q.shipped = _shipped(path)
    return q


def list_queries() -> list[SavedQuery]:
    """Every saved query in ``queries/``, sorted by name."""
    out = []
    for p in sorted(queries_dir().glob("*.rq")):
        out.append(_read(p, p.read_text(encoding="utf-8"), p.stem))
    return out


def _naming(exc: KgError, path: str) -> KgError:
    """``exc``, an error of the query file ``path``, with the file named in its message.

    >>> str(_naming(UsageError("SPARQL syntax error at line 1, column 18"), "my.rq"))
    'my.rq: SPARQL syntax error at line 1, column 18'
    """
    if exc.file:
        return exc
    return type(exc)(exc.message, file=path, where=exc.where)


def load_query(name_or_path: str) -> SavedQuery:
    """A saved query by name (``partners``) or a path to an ``.rq`` file."""
    p = Path(name_or_path)
    if name_or_path.endswith(".rq") or p.exists():
        if not p.exists():
            raise UsageError(f"no such query file: {name_or_path}")
        from kg.ingest.inputs import read_input

        try:
            text = read_input(p).decode("utf-8")  # a regular file (no FIFO, no device), bounded
        except UnicodeDecodeError:
            raise UsageError("not UTF-8 text", file=name_or_path) from None
        try:
            return _read(p, text, p.stem)
        except UsageError as exc:
            raise _naming(exc, name_or_path) from None
    cand = queries_dir() / f"{name_or_path}.rq"
    if not re.match(r"^[A-Za-z0-9_-]+\Z", name_or_path) or not cand.is_file():
        names = ", ".join(q.name for q in list_queries())
        raise UsageError(f"no saved query named {name_or_path!r} (saved: {names})")
    return _read(cand, cand.read_text(encoding="utf-8"), cand.stem)


def bind_params(query: SavedQuery, values: dict[str, str]) -> dict[str, Iri | Lit]:
    """Turn ``--param k=v`` strings into RDF terms, checking each against its declared kind.

    Undeclared parameters are refused; declared ones without a value take their default.
    """
    declared = {p.name: p for p in query.params}
    for k in values:
        if k not in declared:
            names = ", ".join(declared) or "none"
            raise UsageError(f"query {query.name} has no parameter {k!r} (parameters: {names})")
    out: dict[str, Iri | Lit] = {}
    for p in query.params:
        v = values.get(p.name, p.default)
        if v is None:
            raise UsageError(f"query {query.name} needs --param {p.name}=... ({p.description})")
        if p.kind == "iso3":
            if not is_iso3(v):
                raise UsageError(f"parameter {p.name}={v!r} is not an ISO3 code (three upper-case "
                                 "letters, e.g. JPN)")
            out[p.name] = Iri(state_iri(v))
        elif p.kind == "integer":
            if not re.fullmatch(r"-?[0-9]{1,9}", v):  # (\d takes other scripts' digits too)
                raise UsageError(f"parameter {p.name}={v!r} is not an integer")
            out[p.name] = Lit(str(int(v)), datatype=XSD + "integer")
        elif p.kind == "iri":
            try:
                term_to_sparql(Iri(v))  # checked here, to name the parameter
            except UsageError as exc:
                raise UsageError(f"parameter {p.name}={v!r}: {exc.message}") from None
            out[p.name] = Iri(v)
        else:
            out[p.name] = Lit(v)
    return out


def run_saved(store, name_or_path: str, params: dict[str, str] | None = None, *,
              graphs: list[str] | None = None, allow_network: bool = False,
              timeout: float | None = None):
    """Run a saved query with parameters; returns the store's result (ResultSet for SELECT).

    A state parameter must name a state the store holds: a well-formed but unknown code
    (a typo) is refused rather than answered with no rows, as ``--focus`` is elsewhere.

    Example: ``run_saved(store, "partners", {"state": "JPN"})``.
    """
    from kg.network import check_states_known

    q = load_query(name_or_path)
    bindings = bind_params(q, params or {})
    for p in q.params:
        if p.kind == "iso3":
            check_states_known(store, [iso3_of(bindings[p.name].value)], f"--param {p.name}")
    try:
        return store.query(q.text, bindings=bindings, graphs=graphs, allow_network=allow_network,
                           timeout=timeout, own=q.shipped)
    except (UsageError, QueryRefused) as exc:  # a user's file: name it (kg's own are tested)
        if q.shipped:
            raise
        raise _naming(exc, q.path) from None
