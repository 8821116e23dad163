"""Read RDF files (Turtle, N-Triples, N-Quads, TriG, JSON-LD, RDF/XML) safely.

Before the parser sees a file it is checked for what parsers handle badly or
dangerously: NUL bytes, invalid UTF-8, RDF/XML DOCTYPE or entity declarations
(refused before parsing: entity expansion bombs), and JSON-LD remote contexts
(never fetched). Relative IRIs are refused (no base IRI is assumed), literals
longer than :data:`MAX_LITERAL` characters are refused, and blank nodes are
skolemized deterministically so the same file always gives the same triples.

>>> from kg.ingest.rdf import format_for
>>> format_for("x.ttl").name
'Turtle'
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputError
from kg.namespaces import ID
from kg.store import line_blocks

__all__ = ["RDF_EXTENSIONS", "MAX_LITERAL", "format_for", "parse_rdf", "load_rdf_fast",
           "FileScan", "scan_file", "direct_format", "check_long_literals", "parser_errors"]

RDF_EXTENSIONS = {
    ".ttl": "TURTLE", ".turtle": "TURTLE", ".nt": "N_TRIPLES", ".nq": "N_QUADS", ".trig": "TRIG",
    ".jsonld": "JSON_LD", ".json": "JSON_LD", ".rdf": "RDF_XML", ".xml": "RDF_XML", ".owl": "RDF_XML",
}
FORMAT_NAMES = {"ttl": "TURTLE", "turtle": "TURTLE", "nt": "N_TRIPLES", "ntriples": "N_TRIPLES",
                "nq": "N_QUADS", "nquads": "N_QUADS", "trig": "TRIG", "jsonld": "JSON_LD",
                "json-ld": "JSON_LD", "rdfxml": "RDF_XML", "xml": "RDF_XML"}
MAX_LITERAL = 1_000_000
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def format_for(path: str | Path, fmt: str | None = None):
    """The pyoxigraph RdfFormat for a file, from ``fmt`` or the file extension."""
    import pyoxigraph as ox

    return getattr(ox.RdfFormat, _format_key(path, fmt))


def _format_key(path: str | Path, fmt: str | None = None) -> str:
    """The RdfFormat attribute name (``TURTLE``, ``RDF_XML``, ``JSON_LD`` ...) for a file."""
    if fmt:
        name = FORMAT_NAMES.get(fmt.lower())
        if name is None:
            raise InputError(f"unknown RDF format {fmt!r}", file=str(path))
    else:
        name = RDF_EXTENSIONS.get(Path(path).suffix.lower())
        if name is None:
            raise InputError("cannot tell the format from the extension; pass --format", file=str(path))
    return name


def _line_of(raw: bytes, offset: int) -> str:
    return str(raw[:offset].count(b"\n") + 1)


def _bad_byte(raw: bytes) -> tuple[int, str] | None:
    r"""The offset and the message of a NUL byte in ``raw`` (first), else of its first
    byte that is not UTF-8; None when it has neither.

    >>> _bad_byte(b"ok\n\xff")
    (3, 'not valid UTF-8 (byte 0xff); RDF text must be UTF-8')
    """
    at = raw.find(b"\x00")
    if at >= 0:
        return at, "NUL byte in an RDF file"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); RDF text must be UTF-8"
    return None


def _precheck(raw: bytes, name: str, fmt_name: str) -> None:
    bad = _bad_byte(raw)
    if bad is not None:
        raise InputError(bad[1], file=name, where=_line_of(raw, bad[0]))
    if fmt_name == "RDF_XML":
        m = _DOCTYPE.search(raw)
        if m:
            raise InputError(f"RDF/XML with <!{m.group(1).decode().upper()}> refused "
                             "(entity declarations can expand without bound)",
                             file=name, where=_line_of(raw, m.start()))
    if fmt_name == "JSON_LD":
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"JSON syntax error: {exc.msg}", file=name, where=str(exc.lineno)) from None
        except RecursionError:
            raise InputError("JSON nested too deeply", file=name) from None
        deep = _json_depth(doc)
        if deep > MAX_JSON_DEPTH:
            raise InputError(f"JSON-LD nested {deep} levels deep; the limit is {MAX_JSON_DEPTH}",
                             file=name)
        bad = _remote_context(doc)
        if bad:
            at = raw.find(bad.encode("utf-8"))
            raise InputError(f"JSON-LD remote @context {bad!r} refused: contexts are never fetched; "
                             "inline the context", file=name,
                             where=_line_of(raw, at) if at >= 0 else None)


MAX_JSON_DEPTH = 100  # nesting of objects and arrays in a JSON-LD file


def _json_depth(doc) -> int:
    """The nesting depth of a parsed JSON document (without recursion)."""
    deepest = 0
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((c, depth + 1) for c in children)
    return deepest


def _remote_context(node) -> str | None:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "@context":
                ctxs = v if isinstance(v, list) else [v]
                for ctx in ctxs:
                    if isinstance(ctx, str):
                        return ctx
                    if isinstance(ctx, dict) and "@import" in ctx:
                        return str(ctx["@import"])
            found = _remote_context(v)
            if found:
                return found
    elif isinstance(node, list):
        for v in node:
            found = _remote_context(v)
            if found:
                return found
    return None


def _long_token_line(raw: bytes) -> str | None:
    """The line where the first run of more than MAX_LITERAL bytes without a delimiter starts."""
    prev = 0
    for m in re.finditer(rb"[\"'<>]", raw):
        if m.start() - prev > MAX_LITERAL:
            return _line_of(raw, prev)
        prev = m.start()
    if len(raw) - prev > MAX_LITERAL:
        return _line_of(raw, prev)
    return None


def _syntax_where(msg: str) -> str | None:
    m = re.search(r"line (\d+)", msg)
    return m.group(1) if m else None


@contextmanager
def parser_errors(name: str, raw: bytes | None):
    """Turn the engine's parse errors into one-line InputErrors naming the file and line.

    ``raw`` is the file's bytes, or None to read them only when needed.
    """
    try:
        yield
    except SyntaxError as exc:
        msg = str(exc)
        if _syntax_where(msg) == "1" and _starts_with_bom(name, raw):  # not said by the engine
            raise InputError("the file starts with a byte order mark (U+FEFF), which the "
                             "parser does not read: save it as UTF-8 without one",
                             file=name, where="1") from None
        raise InputError(f"RDF syntax error: {msg}", file=name, where=_syntax_where(msg)) from None
    except MemoryError:
        # the parser's token buffer is bounded (16 MiB in pyoxigraph): a huge literal or IRI
        if raw is None:
            raw = Path(name).read_bytes()
        raise InputError(f"a literal or IRI longer than the limit of {MAX_LITERAL:,} characters",
                         file=name, where=_long_token_line(raw)) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot parse: {exc}", file=name) from None


def _starts_with_bom(name: str, raw: bytes | None) -> bool:
    """Whether the file's bytes (``raw``, else read from ``name``) open with UTF-8's BOM."""
    if raw is None:
        try:
            with open(name, "rb") as fh:
                raw = fh.read(3)
        except OSError:
            return False
    return raw.startswith(b"\xef\xbb\xbf")


def parse_rdf(path: str | Path, *, graph: str | None, fmt: str | None = None,
              raw: bytes | None = None, default_graph: str):
    """Parse an RDF file into a list of pyoxigraph Quads.

    ``graph`` (an IRI) puts every triple in that graph; None keeps the named
    graphs of N-Quads/TriG and puts default-graph triples in ``default_graph``.
    """
    import pyoxigraph as ox

    name = str(path)
    key = _format_key(path, fmt)
    rdf_format = getattr(ox.RdfFormat, key)
    if raw is None:
        from kg.ingest.inputs import read_input

        raw = read_input(path)
    # the attribute name, not RdfFormat.name ("RDF/XML", "JSON-LD"): the prechecks key on it
    _precheck(raw, name, key)
    with parser_errors(name, raw):
        quads = list(ox.parse(raw, format=rdf_format))
    target = ox.NamedNode(graph) if graph else None
    dflt = ox.NamedNode(default_graph)
    digest = hashlib.sha256(raw).hexdigest()[:16]
    bnodes: dict[str, object] = {}

    def sk(term):
        if isinstance(term, ox.BlankNode):
            n = bnodes.get(term.value)
            if n is None:
                n = bnodes[term.value] = ox.NamedNode(f"{ID}genid/{digest}-{len(bnodes) + 1}")
            return n
        return term

    out = []
    for q in quads:
        s, o = q.subject, q.object
        if isinstance(o, ox.Literal) and len(o.value) > MAX_LITERAL:
            head = o.value[:40].encode()
            at = raw.find(head)
            raise InputError(f"literal of {len(o.value):,} characters is longer than the limit "
                             f"of {MAX_LITERAL:,}", file=name, where=_line_of(raw, at) if at >= 0 else None)
        if isinstance(s, ox.BlankNode) or isinstance(o, ox.BlankNode):
            s, o = sk(s), sk(o)
        if target is not None:
            g = target
        elif isinstance(q.graph_name, ox.DefaultGraph):
            g = dflt
        else:
            g = sk(q.graph_name)
        out.append(ox.Quad(s, q.predicate, o, g))
    return out


@dataclass(frozen=True)
class FileScan:
    """What one pass over a file's bytes found (see :func:`scan_file`)."""

    bnode_syntax: bool   # ``_:`` (or, in Turtle, ``[`` / ``(``): may make blank nodes
    long_lines: bool     # a line longer than MAX_LITERAL bytes, or a Turtle long string
    size: int


_SCANS: dict[tuple, FileScan] = {}


def _line_over(block: bytes, limit: int) -> bool:
    r"""Whether a line of ``block`` (with its line break) is longer than ``limit`` bytes.

    Without splitting ``block`` into lines: such a line holds at least ``limit`` bytes
    without a break, so it covers a whole window of ``limit // 2`` bytes aligned to the
    block's start; only the lines under break-free windows are measured.

    >>> _line_over(b"ab\n" + b"x" * 9 + b"\n", 9), _line_over(b"ab\n" + b"x" * 8 + b"\n", 9)
    (True, False)
    """
    step = max(limit // 2, 1)
    for start in range(0, len(block) - step + 1, step):
        if block.find(b"\n", start, start + step) >= 0:
            continue
        begin = block.rfind(b"\n", 0, start) + 1
        end = block.find(b"\n", start + step)
        if (len(block) if end < 0 else end + 1) - begin > limit:
            return True
    return False


def may_hold_long_literal(block: bytes, key: str) -> bool:
    r"""Whether a block of whole lines of an N-Triples or Turtle file may hold a literal over
    :data:`MAX_LITERAL` characters, so the engine must be asked.

    Such a literal needs a line longer than :data:`MAX_LITERAL` bytes (a character takes
    at least a byte, and a literal's line breaks are escaped), except a Turtle long string
    (triple quotes), which may span lines. A cheap test that never misses one; a false
    alarm costs one query (:func:`check_long_literals`).

    >>> may_hold_long_literal(b"<a> <b> \"x\" .\n", "N_TRIPLES")
    False
    >>> may_hold_long_literal(b"<a> <b> '''x''' .\n", "TURTLE")
    True
    """
    return _line_over(block, MAX_LITERAL) or (
        key == "TURTLE" and (b'"""' in block or b"'''" in block))


def _may_make_blank_nodes(block: bytes, key: str) -> bool:
    """Whether a block of an N-Triples or Turtle file has blank-node syntax (``_:``; in
    Turtle also ``[`` or ``(``). ``_`` is looked for first: a one-byte search is far
    quicker, and most files have none."""
    return (b"_" in block and b"_:" in block) or (
        key == "TURTLE" and (b"[" in block or b"(" in block))


def _line_number(path: Path, offset: int, chunk_bytes: int) -> str:
    """The line (from 1) holding byte ``offset`` of the file at ``path``."""
    lines = 0
    with open(path, "rb") as fh:
        for block in line_blocks(fh, chunk_bytes):
            if len(block) > offset:
                return str(lines + block[:offset].count(b"\n") + 1)
            lines += block.count(b"\n")
            offset -= len(block)
    return str(lines + 1)


def scan_file(path: str | Path, key: str, chunk_bytes: int = 16 * 1024 * 1024) -> FileScan:
    """Check a line-based RDF file in blocks of whole lines, never holding all of it.

    Refuses NUL bytes and invalid UTF-8 (with the line), and notes what decides
    how the file may be loaded: blank-node syntax, and lines long enough to hold
    a literal over :data:`MAX_LITERAL`. The result is remembered per file
    (path, size, modification time), so a second call costs nothing. Lines are
    counted only to name the line of an error.
    """
    p = Path(path)
    st = p.stat()
    memo = (str(p.resolve()), key, st.st_size, st.st_mtime_ns)
    if memo in _SCANS:
        return _SCANS[memo]
    name = str(path)
    bnode = long = False
    offset = 0
    with open(p, "rb") as fh:
        for block in line_blocks(fh, chunk_bytes):
            bad = _bad_byte(block)
            if bad is not None:
                raise InputError(bad[1], file=name,
                                 where=_line_number(p, offset + bad[0], chunk_bytes))
            if not bnode:
                bnode = _may_make_blank_nodes(block, key)
            if not long:
                long = may_hold_long_literal(block, key)
            offset += len(block)
    out = _SCANS[memo] = FileScan(bnode, long, st.st_size)
    return out


def direct_format(path: str | Path, fmt: str | None = None) -> str | None:
    """The RdfFormat name when the engine may load the file itself, else None.

    That is N-Triples or Turtle with no blank-node syntax (blank nodes must be
    skolemized in Python). Raises InputError on NUL bytes or invalid UTF-8.
    """
    key = _format_key(path, fmt)
    if key not in ("N_TRIPLES", "TURTLE"):
        return None
    return None if scan_file(path, key).bnode_syntax else key


def check_long_literals(store, graph: str, path: str | Path) -> None:
    """Refuse a literal over :data:`MAX_LITERAL` characters loaded into ``graph`` of a
    pyoxigraph Store from ``path`` (the error names the file and line)."""
    long = store.query(f"SELECT ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o "
                       f"FILTER(isLiteral(?o) && STRLEN(STR(?o)) > {MAX_LITERAL}) }} }} LIMIT 1")
    for row in long:
        value = row["o"].value
        raw = Path(path).read_bytes()
        at = raw.find(value[:40].encode())
        raise InputError(f"literal of {len(value):,} characters is longer than the limit "
                         f"of {MAX_LITERAL:,}", file=str(path),
                         where=_line_of(raw, at) if at >= 0 else None)


def load_rdf_fast(mem, path: str | Path, *, graph: str | None, fmt: str | None = None,
                  default_graph: str, raw: bytes | None = None) -> str | None:
    """Load an N-Triples or Turtle file with no blank nodes straight into ``mem``.

    The engine parses the file with no Python loop over its triples, which is
    what keeps a million-triple ingest close to the raw bulk load. Returns the
    target graph IRI, or None when the file needs :func:`parse_rdf` instead
    (other formats, or syntax that may make blank nodes: ``_:``, ``[``, ``(``;
    a false alarm only costs speed). The same checks apply: NUL bytes, UTF-8,
    syntax errors with their line, and the literal length limit. The file is
    checked in chunks (:func:`scan_file`) and read by the engine from disk, so
    its bytes are never all held in Python.
    """
    import pyoxigraph as ox

    name = str(path)
    target = graph or default_graph
    if raw is not None:  # the bytes already read (read once): check and load them
        key = _format_key(path, fmt)
        if key not in ("N_TRIPLES", "TURTLE") or _may_make_blank_nodes(raw, key):
            return None
        _precheck(raw, name, key)
        with parser_errors(name, raw):
            mem.load(raw, format=getattr(ox.RdfFormat, key), to_graph=ox.NamedNode(target))
        if may_hold_long_literal(raw, key):
            check_long_literals(mem, target, path)
        return target
    key = direct_format(path, fmt)
    if key is None:
        return None
    with parser_errors(name, None):
        mem.load(path=str(path), format=getattr(ox.RdfFormat, key), to_graph=ox.NamedNode(target))
    if scan_file(path, key).long_lines:
        check_long_literals(mem, target, path)
    return target
