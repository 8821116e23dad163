"""Compile the curated YAML/CSV format (``data/FORMAT.md``) into RDF quads.

Every record is checked as it is compiled; a bad record raises
:class:`~kg.errors.InputError` naming the file, line and record.

>>> from kg.ingest.curated import load_yaml_text
>>> load_yaml_text("states:\\n  - iso3: JPN\\n    name: Japan\\n", "x.yaml")["states"][0]["iso3"]
'JPN'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import yaml

from kg.errors import InputError
from kg.ingest.inputs import csv_header, csv_problem, csv_reader
from kg.namespaces import (
    DCTERMS,
    ID,
    ISO3_RE,
    OWL,
    RDF,
    RDFS,
    SKOS,
    SP,
    XSD,
    YEAR_MAX,
    YEAR_MIN,
    is_plausible_year,
    state_iri,
)

__all__ = ["KINDS", "AGREEMENT_TYPES", "STATUS", "DOMAINS", "COUNT_CATEGORIES", "COUNT_BASES",
           "load_yaml_text", "read_records", "compile_records", "date_literal", "fiscal_year_of",
           "REQUIRE_IN_FORCE_NOTE"]

KINDS = ("sources", "states", "organizations", "forces", "series", "exercises", "agreements",
         "official_counts")

AGREEMENT_TYPES = ("DefenceTreaty", "StatusOfForcesAgreement", "ReciprocalAccessAgreement",
                   "LogisticsAgreement", "InformationSecurityAgreement", "EquipmentTransferAgreement",
                   "DefenceCooperationAgreement", "JointDeclaration", "MinisterialDialogue")
STATUS = {"under-negotiation": "UnderNegotiation", "signed": "Signed", "in-force": "InForce",
          "expired": "Expired", "terminated": "Terminated", "superseded": "Superseded"}
DOMAINS = {"air": "Air", "land": "Land", "sea": "Sea", "amphibious": "Amphibious",
           "command-post": "CommandPost", "humanitarian": "Humanitarian", "cyber": "Cyber",
           "space": "Space", "peacekeeping": "Peacekeeping", "joint": "Joint",
           "warfighting": "Warfighting"}

_FIELDS = {
    "sources": ({"id", "title", "publisher"}, {"issued", "url", "note", "locator", "part_of"}),
    "states": ({"iso3", "name"}, {"cow", "region", "wikidata", "capital", "lat", "lon", "dissolved",
                                  "note", "alt"}),
    "organizations": ({"id", "name"}, {"kind", "region", "note", "alt", "lat", "lon"}),
    "forces": ({"id", "state", "name", "domain"}, {"alt", "note"}),
    "series": ({"id", "label"}, {"description", "alt", "domain", "note", "sources"}),
    "exercises": ({"id", "series", "label", "year", "participants", "sources"},
                  {"start", "end", "participant_orgs", "forces", "observers", "observer_orgs", "host",
                   "location", "domain", "confidence", "note", "fiscal_year",
                   "participants_complete"}),
    "agreements": ({"id", "type", "label", "parties", "status", "sources"},
                   {"signed", "in_force", "end", "confidence", "note", "supersedes", "in_force_note",
                    "members", "suspensions"}),
    "official_counts": ({"id", "state", "category", "fiscal_year", "count", "rule", "sources"},
                        {"basis", "note"}),
}
#: coverage kinds of an official count (SCHEMA.md); ``basis`` says what was counted
COUNT_CATEGORIES = ("multilateral", "us", "bilateral")
COUNT_BASES = ("mod-count", "table-rows")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*\Z")
_FORCE = re.compile(r"^[A-Z]{3}-[A-Z]+\Z")
_QID = re.compile(r"^Q[1-9][0-9]*\Z")

#: When true, an agreement with Japan among its parties and no ``in_force``
#: date must say why in ``in_force_note`` (see data/FORMAT.md). Off for a
#: user's own files; tests/test_agreements_data.py holds the bundled data to it
#: through the keyword of :func:`compile_records`.
REQUIRE_IN_FORCE_NOTE = False
_MEMBER_FIELDS = ({"party"}, {"joined", "left", "note", "sources"})
_SUSPENSION_FIELDS = ({"parties", "from"}, {"until", "note", "sources"})

# The fields that are not text (data/FORMAT.md: "Values are strings unless stated"); every
# other field, of every kind and of the nested members and suspensions, must be text.
#: lists of codes (a CSV cell separates them with ``;``) and lists of mappings
_LIST_FIELDS = frozenset({"participants", "participant_orgs", "forces", "observers",
                          "observer_orgs", "sources", "parties", "alt", "domain"})
_NESTED_FIELDS = frozenset({"members", "suspensions"})
#: integers, and the coordinates (finite numbers), each checked where it is compiled
_INTEGER_FIELDS = frozenset({"year", "cow", "fiscal_year", "count"})
_NUMBER_FIELDS = _INTEGER_FIELDS | {"lat", "lon"}
_BOOLEAN_FIELDS = frozenset({"participants_complete", "dissolved"})
#: dates, text (``"2019-09"``) or a bare year; :func:`date_literal` checks the form
_DATE_FIELDS = frozenset({"issued", "start", "end", "signed", "in_force", "joined", "left",
                          "from", "until"})
_NOT_TEXT = _LIST_FIELDS | _NESTED_FIELDS | _NUMBER_FIELDS | _BOOLEAN_FIELDS
_NOUN = {"sources": "source", "states": "state", "organizations": "organization",
         "forces": "force", "series": "series", "exercises": "exercise",
         "agreements": "agreement", "official_counts": "official count"}


# ---------------------------------------------------------------- YAML with lines

MAX_YAML_DEPTH = 50  # nesting of mappings and lists in a curated file


class _Loader(yaml.SafeLoader):
    """Safe YAML: no implicit dates (dates stay text), duplicate keys refused, lines kept,
    no aliases (a "billion laughs" expands without bound), nesting bounded."""

    _depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise InputError(f"YAML alias *{event.anchor} refused: curated data may not use "
                             "anchors and aliases (write the value out)",
                             file=self.name, where=str(event.start_mark.line + 1))
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise InputError(f"nested more than {MAX_YAML_DEPTH} levels deep",
                                 file=self.name, where=str(mark.line + 1))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Mapping(dict):
    """A YAML mapping as a dict, with ``lines``: the line of each key (for messages)."""

    __slots__ = ("lines",)


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise InputError(f"a key must be a plain name, not {_describe(key)}",
                             file=loader.name, where=str(key_node.start_mark.line + 1))
        if key in seen:
            raise InputError(f"duplicate key {key!r} (first at line {seen[key]})",
                             file=loader.name, where=str(key_node.start_mark.line + 1))
        seen[key] = key_node.start_mark.line + 1
    mapping = _Mapping(yaml.SafeLoader.construct_mapping(loader, node, deep=True))
    mapping.lines = seen
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _char(c) -> str:
    code = c if isinstance(c, int) else ord(c) if isinstance(c, str) and len(c) == 1 else None
    return f"U+{code:04X}" if code is not None else repr(c)


def load_yaml_text(text: str, name: str,
                   not_mapping: str = "a curated file is a mapping of kinds (sources, states, "
                                      "exercises, ...)") -> dict:
    """Parse curated YAML text; errors name the file and line.

    :param not_mapping: the message when the document is not a mapping (the claims'
        loader reads its files with this loader and says what they must be).
    """
    try:
        # the reader checks the characters as it is built: a control character raises here
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        line = str(text[: exc.position].count("\n") + 1)
        raise InputError(f"YAML error: character {_char(exc.character)} is not allowed in YAML text",
                         file=name, where=line) from None
    loader.name = name
    try:
        doc = loader.get_single_data()
    except RecursionError:
        raise InputError("YAML nested too deeply", file=name) from None
    except yaml.reader.ReaderError as exc:
        line = str(text[: exc.position].count("\n") + 1)
        raise InputError(f"YAML error: character {_char(exc.character)} is not allowed in YAML text",
                         file=name, where=line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = str(mark.line + 1) if mark else None
        raise InputError(f"YAML syntax error: {exc.problem or exc}", file=name, where=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}", file=name) from None
    finally:
        loader.dispose()
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(not_mapping, file=name, where="1")
    return doc


#: what is trimmed from the ends of a CSV value: ASCII spaces, tabs and line breaks, never
#: the other characters Python counts as space (U+0085, U+2028, U+001C...): those are kept
_CSV_SPACE = " \t\r\n"


def _csv_records(path: Path, text: str) -> dict:
    """The records of a curated CSV file, one kind (named by the file name's ending).

    Read by the csv module as RFC 4180 text: a quoted field may hold commas, quotes
    (doubled) and line breaks, kept as written; only CR, LF and CRLF end a record (never
    U+2028, U+0085 and the like). A quote never closed, or text after a closing quote,
    is an :class:`~kg.errors.InputError` naming the line where the record starts, which
    is also the line given for the record (a record after a multi-line field keeps its
    real line). A value is trimmed of spaces, tabs and line breaks at its ends only.
    """
    name = str(path)
    stem = path.stem.lower()
    kind = next((k for k in KINDS if stem.endswith(k)), None)
    if kind is None:
        raise InputError(f"cannot tell the kind of records from the file name; name it "
                         f"<something>-{'|'.join(KINDS)}.csv", file=name)
    reader = csv_reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = csv_header(reader, name)
    required, optional = _FIELDS[kind]
    key = "iso3" if kind == "states" else "id"
    cols = set(header)
    missing = (required | {key}) - cols - {"id"} if kind == "states" else required - cols
    unknown = cols - required - optional
    if missing or unknown:
        raise InputError(f"wrong columns for {kind}: "
                         + (f"missing {', '.join(sorted(missing))}" if missing else "")
                         + ("; " if missing and unknown else "")
                         + (f"unknown {', '.join(sorted(unknown))}" if unknown else ""),
                         file=name, where="1")
    records = []
    prev = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(csv_problem(exc), file=name, where=str(prev + 1)) from None
        line, prev = prev + 1, reader.line_num
        w = str(line)
        if not any(v.strip(_CSV_SPACE) for v in row):  # a blank line, or only commas
            continue
        if len(row) > len(header):
            raise InputError("more values than columns", file=name, where=w)
        rec = {"__line__": line}
        for k, v in zip(header, row, strict=False):  # a short row: the rest are empty
            v = v.strip(_CSV_SPACE)
            if v == "":
                continue
            if k in _LIST_FIELDS:
                rec[k] = [x.strip() for x in v.split(";") if x.strip()]
            elif k in _INTEGER_FIELDS:
                try:
                    rec[k] = int(v)
                except ValueError:
                    raise InputError(f"{k} {v!r} is not an integer", file=name, where=w) from None
            elif k in _BOOLEAN_FIELDS:
                if v.lower() not in ("true", "false"):
                    raise InputError(f"{k} {v!r} is not true or false", file=name, where=w)
                rec[k] = v.lower() == "true"
            elif k in ("lat", "lon"):
                try:
                    rec[k] = float(v)
                except ValueError:
                    raise InputError(f"{k} {v!r} is not a number", file=name, where=w) from None
            else:
                rec[k] = v
        records.append(rec)
    return {kind: records}


def _describe(v) -> str:
    """What a value that is not text is, for a message (``a list``, ``a mapping``)."""
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, (set, frozenset)):
        return "a set"
    if isinstance(v, (bytes, bytearray)):
        return "binary data"
    if isinstance(v, bool):
        return "true/false (YAML reads a bare yes, no, on, off so: quote the text)"
    if isinstance(v, (dt.date, dt.datetime)):
        return "a YAML timestamp (write it in quotes)"
    return f"a {type(v).__name__}"


def _check_values(rec: dict, required: set, what: str, fname: str) -> None:
    """Refuse a value of the wrong type in a text or date field of ``rec`` (FORMAT.md).

    The one check between a record's values and the literals they become: a text field
    holds text, or a number taken as its text (``title: 2019`` is ``"2019"``); a list, a
    mapping, binary data (``!!binary``), ``true``/``false`` (YAML's ``yes``, ``no``) or a
    timestamp is an :class:`~kg.errors.InputError` naming the field's line, never its
    Python form stored as text. A date field holds text or a year. A required text field
    left empty (``title:``) is refused; an optional one is as if absent. Lists, numbers
    and booleans are checked where they are compiled.

    >>> _check_values({"__line__": 2, "title": 2019}, {"title"}, "source s", "x.yaml")
    >>> _check_values({"__line__": 2, "title": ["a"]}, {"title"}, "source s", "x.yaml")
    Traceback (most recent call last):
    ...
    kg.errors.InputError: x.yaml:2: source s: title must be text, not a list
    """
    lines = getattr(rec, "lines", {})
    for k, v in rec.items():
        if k == "__line__" or k in _NOT_TEXT:
            continue
        if k in _DATE_FIELDS:
            ok = v is None or isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))
            need = "a date (\"YYYY-MM-DD\", \"YYYY-MM\" or \"YYYY\")"
        elif v is None:
            ok = k not in required
            need = "text"
        else:
            ok = isinstance(v, str) or (isinstance(v, (int, float)) and not isinstance(v, bool))
            need = "text"
        if not ok:
            where = str(lines.get(k, rec.get("__line__", "")))
            problem = "is empty" if v is None else f"must be {need}, not {_describe(v)}"
            raise InputError(f"{what}: {k} {problem}", file=fname, where=where)


def _coordinate(v, field: str, what: str, fname: str, w: str):
    """A latitude (+-90) or longitude (+-180): a finite number, else an InputError."""
    import math

    lim = 90 if field == "lat" else 180
    if (not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v)
            or abs(v) > lim):
        raise InputError(f"{what}: {field} must be a finite number within +-{lim}, not {v!r}",
                         file=fname, where=w)
    return v


def read_records(path: Path, data: bytes | None = None) -> dict:
    """Read one curated file (YAML or CSV) into ``{kind: [records]}``."""
    name = str(path)
    raw = data if data is not None else Path(path).read_bytes()
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise InputError("NUL byte in a text file", file=name, where=str(line))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError("not valid UTF-8 text", file=name, where=str(line)) from None
    if path.suffix.lower() == ".csv":
        return _csv_records(path, text)
    doc = load_yaml_text(text, name)
    doc.pop("__line__", None)
    unknown = set(doc) - set(KINDS)
    if unknown:
        raise InputError(f"unknown kind(s) {', '.join(sorted(map(str, unknown)))}; "
                         f"expected {', '.join(KINDS)}", file=name, where="1")
    for kind, recs in doc.items():
        if not isinstance(recs, list):
            raise InputError(f"'{kind}' must be a list of records", file=name)
    return doc


# ---------------------------------------------------------------- terms

def date_literal(value, *, file: str, where: str, field: str):
    """A date at the precision known: xsd:date, xsd:gYearMonth or xsd:gYear."""
    import pyoxigraph as ox

    s = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            dt.date.fromisoformat(s)
            return ox.Literal(s, datatype=ox.NamedNode(XSD + "date"))
        if re.fullmatch(r"\d{4}-\d{2}", s):
            if not 1 <= int(s[5:7]) <= 12:
                raise ValueError
            return ox.Literal(s, datatype=ox.NamedNode(XSD + "gYearMonth"))
        if re.fullmatch(r"\d{4}", s):
            return ox.Literal(s, datatype=ox.NamedNode(XSD + "gYear"))
    except ValueError:
        pass
    raise InputError(f"{field} {s!r} is not a valid date (YYYY-MM-DD, YYYY-MM or YYYY)",
                     file=file, where=where)


def fiscal_year_of(date: str) -> int | None:
    """Japan's fiscal year (April to March) of a date, or None when its month is unknown.

    The fiscal year is named by the calendar year in which it begins
    (FY2013 = 1 April 2013 to 31 March 2014).

    >>> fiscal_year_of("2014-03-20"), fiscal_year_of("2014-04"), fiscal_year_of("2014")
    (2013, 2014, None)
    """
    s = str(date).strip()
    if not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", s):
        return None
    year, month = int(s[:4]), int(s[5:7])
    return year if month >= 4 else year - 1


class _Compiler:
    def __init__(self, graph: str, known: dict[str, set]):
        import pyoxigraph as ox

        self.ox = ox
        self.g = ox.NamedNode(graph)
        self.quads: list = []
        self.known = {k: set(v) for k, v in known.items()}
        self.where: dict[str, tuple[str, int, str]] = {}  # subject IRI -> (file, line, record id)
        self._nn_cache: dict[str, object] = {}

    def nn(self, iri: str):
        n = self._nn_cache.get(iri)
        if n is None:
            n = self._nn_cache[iri] = self.ox.NamedNode(iri)
        return n

    def add(self, s: str, p: str, o):
        self.quads.append(self.ox.Quad(self.nn(s), self.nn(p), o, self.g))

    def lit(self, v: str, lang: str | None = None):
        """A text literal: ``v`` is text or a number (:func:`_check_values` saw to that)."""
        if not isinstance(v, (str, int, float)) or isinstance(v, bool):
            raise TypeError(f"a literal from {type(v).__name__}: a field missed by _check_values")
        return self.ox.Literal(str(v), language=lang) if lang else self.ox.Literal(str(v))

    def typed(self, v, dtype: str):
        return self.ox.Literal(str(v), datatype=self.nn(XSD + dtype))


def _require_choice(value, choices, what: str, field: str, fname: str, where: str) -> None:
    """Raise :class:`InputError` unless ``value`` is one of ``choices`` (the message lists them).

    >>> _require_choice("exercise", ("exercise", "drill"), "record r1", "kind", "x.yaml", "r1")
    >>> _require_choice("game", ("exercise", "drill"), "record r1", "kind", "x.yaml", "r1")
    Traceback (most recent call last):
    ...
    kg.errors.InputError: x.yaml:r1: record r1: unknown kind 'game' (one of exercise, drill)
    """
    if value not in choices:
        raise InputError(f"{what}: unknown {field} {value!r} (one of {', '.join(choices)})",
                         file=fname, where=where)


def _rec_id(kind: str, rec: dict) -> str:
    key = "iso3" if kind == "states" else "id"
    rid = rec.get(key, "?")
    return str(rid) if isinstance(rid, (str, int)) else "?"


def _as_list(v, *, file, where, field) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    if not isinstance(v, list) or not all(isinstance(x, (str, int)) and not isinstance(x, bool)
                                          for x in v):
        raise InputError(f"{field} must be a list of codes", file=file, where=where)
    return [str(x) for x in v]


def _slug_subject(c, fname: str, rec: dict, noun: str, path: str) -> tuple[str, str, str]:
    """``(line, id, IRI)`` of a record whose id must be a lower-case slug; the IRI's place is noted.

    :param noun: the record kind in messages (``organization``); :param path: the IRI's
        segment under ``id/`` (``org``).
    """
    w, rid = str(rec["__line__"]), str(rec["id"])
    if not _SLUG.match(rid):
        raise InputError(f"{noun} id {rid!r} must be a lower-case slug", file=fname, where=w)
    s = f"{ID}{path}/{rid}"
    c.where[s] = (fname, rec["__line__"], rid)
    return w, rid, s


def compile_records(files: list[tuple[str, dict]], *, graph: str, known: dict[str, set] | None = None,
                    require_in_force_note: bool | None = None):
    """Compile parsed curated files into quads in ``graph``.

    Long on purpose: one record kind after another, each a short block of triples that reads
    as the data format (data/FORMAT.md); the blocks share the compiler's state and the
    cross-record checks.

    ``files`` is a list of ``(file name, {kind: records})``; ``known`` holds ids
    already in the store (``states``, ``organizations``, ``forces``, ``series``,
    ``sources``, ``agreements``) that records may refer to. Returns
    ``(quads, where)`` where ``where`` maps each subject IRI to
    ``(file, line, record id)``. ``require_in_force_note`` (default
    :data:`REQUIRE_IN_FORCE_NOTE`) refuses an agreement of Japan that has
    neither ``in_force`` nor ``in_force_note``.
    """
    if require_in_force_note is None:
        require_in_force_note = REQUIRE_IN_FORCE_NOTE
    stored = known or {}
    c = _Compiler(graph, stored)
    records: dict[str, list[tuple[str, dict]]] = {k: [] for k in KINDS}
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for fname, doc in files:
        for kind in KINDS:
            for rec in doc.get(kind) or []:
                if not isinstance(rec, dict):
                    raise InputError(f"a {kind} record must be a mapping", file=fname)
                line = rec.get("__line__", 0)
                rid = _rec_id(kind, rec)
                where = str(line)
                required, optional = _FIELDS[kind]
                fields = set(rec) - {"__line__"}
                missing = required - fields
                if missing:
                    raise InputError(f"{kind[:-1] if kind != 'series' else 'series'} record {rid}: "
                                     f"missing field(s) {', '.join(sorted(missing))}",
                                     file=fname, where=where)
                unknown = fields - required - optional
                if unknown:
                    raise InputError(f"record {rid}: unknown field(s) {', '.join(sorted(unknown))}",
                                     file=fname, where=where)
                _check_values(rec, required, f"{_NOUN[kind]} {rid}", fname)
                skey = ("states" if kind == "states" else kind, rid)
                if skey in seen:
                    f0, l0 = seen[skey]
                    raise InputError(f"duplicate {kind} id {rid} (first at {f0}:{l0})",
                                     file=fname, where=where)
                seen[skey] = (fname, line)
                if rid in stored.get(kind, ()):  # ids are unique across the store (FORMAT.md)
                    raise InputError(f"{kind[:-1] if kind != 'series' else 'series'} id {rid} is "
                                     "already in the store: give it another id, or --replace "
                                     "the graph that holds it", file=fname, where=where)
                records[kind].append((fname, rec))
                c.known.setdefault(kind, set()).add(rid)

    def need(kind: str, code: str, fname: str, where: str, what: str):
        if code not in c.known.get(kind, set()):
            label = {"states": "state code", "organizations": "organization", "forces": "force",
                     "series": "series", "sources": "source"}[kind]
            raise InputError(f"{what}: unknown {label} {code!r}", file=fname, where=where)

    for fname, rec in records["sources"]:
        w, rid = str(rec["__line__"]), rec["id"]
        if not _SLUG.match(str(rid)):
            raise InputError(f"source id {rid!r} must be lower-case letters, digits and '-'", file=fname, where=w)
        s = f"{ID}source/{rid}"
        c.where[s] = (fname, rec["__line__"], rid)
        c.add(s, RDF + "type", c.nn(SP + "Source"))
        c.add(s, DCTERMS + "title", c.lit(rec["title"]))
        c.add(s, DCTERMS + "publisher", c.lit(rec["publisher"]))
        if rec.get("issued"):
            c.add(s, DCTERMS + "issued", date_literal(rec["issued"], file=fname, where=w, field="issued"))
        if rec.get("url"):
            url = str(rec["url"])
            if not re.match(r"^https?://[^\s<>\"{}|\\^`]+\Z", url):
                raise InputError(f"source {rid}: url {url!r} is not an http(s) address", file=fname, where=w)
            c.add(s, SP + "url", c.typed(url, "anyURI"))
        if rec.get("note"):
            c.add(s, SP + "note", c.lit(rec["note"]))
        if rec.get("locator"):
            c.add(s, SP + "locator", c.lit(rec["locator"]))
        if rec.get("part_of"):
            need("sources", str(rec["part_of"]), fname, w, f"source {rid}: part_of")
            c.add(s, DCTERMS + "isPartOf", c.nn(f"{ID}source/{rec['part_of']}"))

    for fname, rec in records["states"]:
        w, iso = str(rec["__line__"]), str(rec["iso3"])
        if not ISO3_RE.match(iso):
            raise InputError(f"state {iso!r}: iso3 must be three upper-case letters", file=fname, where=w)
        s = state_iri(iso)
        c.where[s] = (fname, rec["__line__"], iso)
        c.add(s, RDF + "type", c.nn(SP + "State"))
        c.add(s, SP + "iso3", c.lit(iso))
        c.add(s, RDFS + "label", c.lit(rec["name"], "en"))
        for alt in _as_list(rec.get("alt"), file=fname, where=w, field="alt"):
            c.add(s, SKOS + "altLabel", c.lit(alt, "en"))
        if rec.get("cow") is not None:
            if not isinstance(rec["cow"], int) or isinstance(rec["cow"], bool):
                raise InputError(f"state {iso}: cow must be an integer", file=fname, where=w)
            c.add(s, SP + "cowCode", c.typed(rec["cow"], "integer"))
        for f in ("region", "capital"):
            if rec.get(f):
                c.add(s, SP + f, c.lit(rec[f]))
        for f in ("lat", "lon"):
            if rec.get(f) is not None:
                v = _coordinate(rec[f], f, f"state {iso}", fname, w)
                c.add(s, SP + f, c.typed(f"{float(v):.4f}".rstrip("0").rstrip(".") if "." in f"{float(v):.4f}" else v, "decimal"))
        if rec.get("dissolved") is not None and not isinstance(rec["dissolved"], bool):
            raise InputError(f"state {iso}: dissolved must be true or false", file=fname, where=w)
        if rec.get("dissolved"):
            c.add(s, SP + "dissolved", c.typed("true", "boolean"))
        if rec.get("wikidata"):
            q = str(rec["wikidata"])
            if not _QID.match(q):
                raise InputError(f"state {iso}: wikidata must be a QID like Q17", file=fname, where=w)
            c.add(s, OWL + "sameAs", c.nn(f"http://www.wikidata.org/entity/{q}"))

    for fname, rec in records["organizations"]:
        w, rid, s = _slug_subject(c, fname, rec, "organization", "org")
        kind = rec.get("kind", "organization")
        if kind not in ("organization", "territory"):
            raise InputError(f"organization {rid}: kind must be organization or territory", file=fname, where=w)
        c.add(s, RDF + "type", c.nn(SP + ("Territory" if kind == "territory" else "Organization")))
        if kind == "territory":
            c.add(s, RDF + "type", c.nn(SP + "Organization"))
        c.add(s, RDFS + "label", c.lit(rec["name"], "en"))
        for alt in _as_list(rec.get("alt"), file=fname, where=w, field="alt"):
            c.add(s, SKOS + "altLabel", c.lit(alt, "en"))
        if rec.get("region"):
            c.add(s, SP + "region", c.lit(rec["region"]))
        for f in ("lat", "lon"):
            if rec.get(f) is not None:
                c.add(s, SP + f, c.typed(_coordinate(rec[f], f, f"organization {rid}", fname, w),
                                         "decimal"))

    def domains(rec, fname, w):
        out = []
        for d in _as_list(rec.get("domain"), file=fname, where=w, field="domain"):
            _require_choice(d, DOMAINS, f"record {_rec_id('x', rec)}", "domain", fname, w)
            out.append(c.nn(SP + DOMAINS[d]))
        return out

    for fname, rec in records["forces"]:
        w, rid = str(rec["__line__"]), str(rec["id"])
        if not _FORCE.match(rid):
            raise InputError(f"force id {rid!r} must look like JPN-MSDF or USA-NAVY", file=fname, where=w)
        need("states", str(rec["state"]), fname, w, f"force {rid}")
        s = f"{ID}force/{rid}"
        c.where[s] = (fname, rec["__line__"], rid)
        c.add(s, RDF + "type", c.nn(SP + "ArmedForce"))
        c.add(s, SP + "ofState", c.nn(state_iri(str(rec["state"]))))
        c.add(s, RDFS + "label", c.lit(rec["name"], "en"))
        for alt in _as_list(rec.get("alt"), file=fname, where=w, field="alt"):
            c.add(s, SKOS + "altLabel", c.lit(alt, "en"))
        for d in domains(rec, fname, w):
            c.add(s, SP + "domain", d)

    for fname, rec in records["series"]:
        w, rid, s = _slug_subject(c, fname, rec, "series", "series")
        c.add(s, RDF + "type", c.nn(SP + "ExerciseSeries"))
        c.add(s, RDFS + "label", c.lit(rec["label"], "en"))
        if rec.get("description"):
            c.add(s, DCTERMS + "description", c.lit(rec["description"], "en"))
        for alt in _as_list(rec.get("alt"), file=fname, where=w, field="alt"):
            c.add(s, SKOS + "altLabel", c.lit(alt, "en"))
        for d in domains(rec, fname, w):
            c.add(s, SP + "domain", d)
        for src in _as_list(rec.get("sources"), file=fname, where=w, field="sources"):
            need("sources", src, fname, w, f"series {rid}")
            c.add(s, SP + "source", c.nn(f"{ID}source/{src}"))

    def actor(code: str, fname, w, what, orgs=False):
        if orgs:
            need("organizations", code, fname, w, what)
            return c.nn(f"{ID}org/{code}")
        need("states", code, fname, w, what)
        return c.nn(state_iri(code))

    def common(s, rec, fname, w, rid):
        srcs = _as_list(rec.get("sources"), file=fname, where=w, field="sources")
        if not srcs:
            raise InputError(f"record {rid}: at least one source is required", file=fname, where=w)
        for src in srcs:
            need("sources", src, fname, w, f"record {rid}")
            c.add(s, SP + "source", c.nn(f"{ID}source/{src}"))
        if rec.get("confidence"):
            if rec["confidence"] != "unverified":
                raise InputError(f"record {rid}: confidence may only be 'unverified'", file=fname, where=w)
            c.add(s, SP + "confidence", c.lit("unverified"))
        if rec.get("note"):
            c.add(s, SP + "note", c.lit(rec["note"]))

    for fname, rec in records["exercises"]:
        w, rid, s = _slug_subject(c, fname, rec, "exercise", "exercise")
        what = f"exercise {rid}"
        c.add(s, RDF + "type", c.nn(SP + "Exercise"))
        c.add(s, RDFS + "label", c.lit(rec["label"], "en"))
        need("series", str(rec["series"]), fname, w, what)
        c.add(s, SP + "series", c.nn(f"{ID}series/{rec['series']}"))
        year = rec["year"]
        if not is_plausible_year(year):
            raise InputError(f"{what}: year must be an integer year from {YEAR_MIN} to {YEAR_MAX}",
                             file=fname, where=w)
        c.add(s, SP + "year", c.typed(year, "integer"))
        start = end = None
        if rec.get("start"):
            start = date_literal(rec["start"], file=fname, where=w, field=f"{what}: start")
            c.add(s, SP + "startDate", start)
            if not start.value.startswith(str(year)):
                raise InputError(f"{what}: start {start.value} is not in year {year}", file=fname, where=w)
        if rec.get("end"):
            end = date_literal(rec["end"], file=fname, where=w, field=f"{what}: end")
            c.add(s, SP + "endDate", end)
        if start is not None and end is not None:
            n = min(len(start.value), len(end.value))
            if end.value[:n] < start.value[:n]:
                raise InputError(f"{what}: end {end.value} is before start {start.value}", file=fname, where=w)
        parts = _as_list(rec.get("participants"), file=fname, where=w, field="participants")
        orgs = _as_list(rec.get("participant_orgs"), file=fname, where=w, field="participant_orgs")
        if not parts and not orgs:
            raise InputError(f"{what}: at least one participant is required", file=fname, where=w)
        for p in parts:
            c.add(s, SP + "participant", actor(p, fname, w, what))
        for p in orgs:
            c.add(s, SP + "participant", actor(p, fname, w, what, orgs=True))
        for f in _as_list(rec.get("forces"), file=fname, where=w, field="forces"):
            need("forces", f, fname, w, what)
            if f.split("-", 1)[0] not in parts:
                raise InputError(f"{what}: force {f} belongs to a state that is not a participant",
                                 file=fname, where=w)
            c.add(s, SP + "participantForce", c.nn(f"{ID}force/{f}"))
        for o in _as_list(rec.get("observers"), file=fname, where=w, field="observers"):
            if o in parts:
                raise InputError(f"{what}: {o} is listed as both participant and observer", file=fname, where=w)
            c.add(s, SP + "observer", actor(o, fname, w, what))
        for o in _as_list(rec.get("observer_orgs"), file=fname, where=w, field="observer_orgs"):
            c.add(s, SP + "observer", actor(o, fname, w, what, orgs=True))
        if rec.get("host"):
            c.add(s, SP + "host", actor(str(rec["host"]), fname, w, what))
        if rec.get("location"):
            c.add(s, SP + "location", c.lit(rec["location"]))
        for d in domains(rec, fname, w):
            c.add(s, SP + "domain", d)
        _exercise_census(c, s, rec, fname, w, what, year, start)
        common(s, rec, fname, w, rid)

    for fname, rec in records["agreements"]:
        w, rid, s = _slug_subject(c, fname, rec, "agreement", "agreement")
        what = f"agreement {rid}"
        _require_choice(rec["type"], AGREEMENT_TYPES, what, "type", fname, w)
        c.add(s, RDF + "type", c.nn(SP + rec["type"]))
        c.add(s, RDFS + "label", c.lit(rec["label"], "en"))
        parties = _as_list(rec.get("parties"), file=fname, where=w, field="parties")
        if len(set(parties)) < 2:
            raise InputError(f"{what}: an agreement needs at least two parties", file=fname, where=w)
        for p in parties:
            c.add(s, SP + "party", actor(p, fname, w, what))
        status = rec["status"]
        _require_choice(status, STATUS, what, "status", fname, w)
        c.add(s, SP + "status", c.nn(SP + STATUS[status]))
        dates = {}
        for f, p in (("signed", "signedDate"), ("in_force", "inForceDate"), ("end", "endDate")):
            if rec.get(f):
                dates[f] = date_literal(rec[f], file=fname, where=w, field=f"{what}: {f}")
                c.add(s, SP + p, dates[f])
        if "signed" in dates and "in_force" in dates:
            a, b = dates["signed"].value, dates["in_force"].value
            n = min(len(a), len(b))
            if b[:n] < a[:n]:
                raise InputError(f"{what}: signed {a} is after entry into force {b}", file=fname, where=w)
        _agreement_lifecycle(c, s, rec, parties, fname, w, what, need, require_in_force_note)
        common(s, rec, fname, w, rid)
    _check_supersession_chains(records["agreements"])
    for fname, rec in records["official_counts"]:
        w, rid, s = _slug_subject(c, fname, rec, "official count", "official-count")
        what = f"official count {rid}"
        _require_choice(rec["category"], COUNT_CATEGORIES, what, "category", fname, w)
        basis = rec.get("basis", "mod-count")
        _require_choice(basis, COUNT_BASES, what, "basis", fname, w)
        for f in ("fiscal_year", "count"):
            v = rec[f]
            if not isinstance(v, int) or isinstance(v, bool) or v < 0 or (
                    f == "fiscal_year" and not 1800 <= v <= 2100):
                raise InputError(f"{what}: {f} must be a non-negative integer"
                                 + (" year" if f == "fiscal_year" else ""), file=fname, where=w)
        c.add(s, RDF + "type", c.nn(SP + "OfficialCount"))
        c.add(s, SP + "countedState", actor(str(rec["state"]), fname, w, what))
        c.add(s, SP + "countCategory", c.lit(rec["category"]))
        c.add(s, SP + "fiscalYear", c.typed(rec["fiscal_year"], "integer"))
        c.add(s, SP + "count", c.typed(rec["count"], "integer"))
        c.add(s, SP + "countingRule", c.lit(rec["rule"]))
        c.add(s, SP + "countBasis", c.lit(basis))
        common(s, rec, fname, w, rid)
    return c.quads, c.where


# ---------------------------------------------------------------- agreement lifecycle

def _before(a: str, b: str) -> bool:
    """True when date text ``a`` is strictly before ``b`` at the precision both share."""
    n = min(len(a), len(b))
    return a[:n] < b[:n]


def _sub_records(value, *, fname, w, what, field, spec) -> list[dict]:
    """Check a list of nested mappings (``members``, ``suspensions``) against ``spec``."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise InputError(f"{what}: {field} must be a list of mappings", file=fname, where=w)
    required, optional = spec
    for i, item in enumerate(value, start=1):
        keys = set(item) - {"__line__"}
        wi = str(item.get("__line__", w))
        missing, unknown = required - keys, keys - required - optional
        if missing:
            raise InputError(f"{what}: {field} entry {i}: missing field(s) {', '.join(sorted(missing))}",
                             file=fname, where=wi)
        if unknown:
            raise InputError(f"{what}: {field} entry {i}: unknown field(s) {', '.join(sorted(unknown))}",
                             file=fname, where=wi)
        _check_values(item, required, f"{what}: {field} entry {i}", fname)
    return value


def _agreement_lifecycle(c, s, rec, parties, fname, w, what, need, require_note) -> None:
    """Compile ``supersedes``, ``in_force_note``, ``members`` and ``suspensions`` of one agreement."""
    if rec.get("supersedes") is not None:
        old = str(rec["supersedes"])
        if old == str(rec["id"]):
            raise InputError(f"{what}: an agreement cannot supersede itself", file=fname, where=w)
        if old not in c.known.get("agreements", set()):
            raise InputError(f"{what}: supersedes unknown agreement {old!r}", file=fname, where=w)
        o = f"{ID}agreement/{old}"
        c.add(s, SP + "supersedes", c.nn(o))
        c.add(o, SP + "supersededBy", c.nn(s))
    if rec.get("in_force_note") is not None:
        note = str(rec["in_force_note"]).strip()
        if not note:
            raise InputError(f"{what}: in_force_note is empty", file=fname, where=w)
        c.add(s, SP + "inForceNote", c.lit(note, "en"))
    elif require_note and "JPN" in parties and not rec.get("in_force"):
        raise InputError(f"{what}: no in_force date and no in_force_note saying why", file=fname, where=w)

    def sources(node, item, wi, label):
        for src in _as_list(item.get("sources"), file=fname, where=wi, field=f"{label} sources"):
            need("sources", src, fname, wi, f"{what}: {label}")
            c.add(node, SP + "source", c.nn(f"{ID}source/{src}"))
        if item.get("note"):
            c.add(node, SP + "note", c.lit(item["note"]))

    seen: dict[str, int] = {}
    for item in _sub_records(rec.get("members"), fname=fname, w=w, what=what, field="members",
                             spec=_MEMBER_FIELDS):
        wi = str(item.get("__line__", w))
        code = str(item["party"])
        if code not in parties:
            raise InputError(f"{what}: member {code} is not in parties", file=fname, where=wi)
        k = seen[code] = seen.get(code, 0) + 1
        m = f"{ID}membership/{rec['id']}-{code}" + (f"-{k}" if k > 1 else "")
        c.add(s, SP + "membership", c.nn(m))
        c.add(m, RDF + "type", c.nn(SP + "Membership"))
        c.add(m, SP + "member", c.nn(state_iri(code)))
        dates = {}
        for f, p in (("joined", "entryDate"), ("left", "exitDate")):
            if item.get(f):
                dates[f] = date_literal(item[f], file=fname, where=wi, field=f"{what}: member {code} {f}")
                c.add(m, SP + p, dates[f])
        if len(dates) == 2 and _before(dates["left"].value, dates["joined"].value):
            raise InputError(f"{what}: member {code} left {dates['left'].value} before joining "
                             f"{dates['joined'].value}", file=fname, where=wi)
        sources(m, item, wi, f"member {code}")

    for i, item in enumerate(_sub_records(rec.get("suspensions"), fname=fname, w=w, what=what,
                                          field="suspensions", spec=_SUSPENSION_FIELDS), start=1):
        wi = str(item.get("__line__", w))
        pair = _as_list(item["parties"], file=fname, where=wi, field="suspension parties")
        if len(pair) != 2 or pair[0] == pair[1]:
            raise InputError(f"{what}: a suspension names exactly two different parties", file=fname, where=wi)
        for p in pair:
            if p not in parties:
                raise InputError(f"{what}: suspended party {p} is not in parties", file=fname, where=wi)
        node = f"{ID}suspension/{rec['id']}-{i}"
        c.add(s, SP + "suspension", c.nn(node))
        c.add(node, RDF + "type", c.nn(SP + "Suspension"))
        for p in sorted(pair):
            c.add(node, SP + "suspendedParty", c.nn(state_iri(p)))
        start = date_literal(item["from"], file=fname, where=wi, field=f"{what}: suspension from")
        c.add(node, SP + "startDate", start)
        if item.get("until"):
            end = date_literal(item["until"], file=fname, where=wi, field=f"{what}: suspension until")
            if _before(end.value, start.value):
                raise InputError(f"{what}: suspension until {end.value} is before from {start.value}",
                                 file=fname, where=wi)
            c.add(node, SP + "endDate", end)
        sources(node, item, wi, "suspension")


def _check_supersession_chains(agreements: list[tuple[str, dict]]) -> None:
    """Refuse a cycle of ``supersedes`` links (A supersedes B supersedes A)."""
    nxt = {str(r["id"]): (f, r) for f, r in agreements if r.get("supersedes") is not None}
    for start, (fname, rec) in nxt.items():
        cur, seen = start, {start}
        while cur in nxt:
            cur = str(nxt[cur][1]["supersedes"])
            if cur in seen:
                raise InputError(f"agreement {start}: supersedes chain returns to {cur}",
                                 file=fname, where=str(rec.get("__line__", "")))
            seen.add(cur)


def _exercise_census(c, s: str, rec: dict, fname: str, w: str, what: str, year: int, start) -> None:
    """``fiscal_year`` (given, or derived from a start month) and ``participants_complete``."""
    fy = rec.get("fiscal_year")
    derived = fiscal_year_of(start.value) if start is not None else None
    if fy is not None:
        if not isinstance(fy, int) or isinstance(fy, bool):
            raise InputError(f"{what}: fiscal_year must be an integer year", file=fname, where=w)
        if derived is not None and fy != derived:
            raise InputError(f"{what}: fiscal_year {fy} does not match start {start.value} "
                             f"(fiscal year {derived}, April to March)", file=fname, where=w)
        if fy not in (year, year - 1):
            raise InputError(f"{what}: fiscal_year {fy} cannot hold an exercise begun in {year}",
                             file=fname, where=w)
    else:
        fy = derived
    if fy is not None:
        c.add(s, SP + "fiscalYear", c.typed(fy, "integer"))
    if "participants_complete" in rec:
        pc = rec["participants_complete"]
        if not isinstance(pc, bool):
            raise InputError(f"{what}: participants_complete must be true or false", file=fname, where=w)
        c.add(s, SP + "participantsComplete", c.typed("true" if pc else "false", "boolean"))
