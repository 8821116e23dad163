"""SPARQL text handling: a small lexer, parameter binding as RDF terms, and the guard.

Parameters are bound as RDF terms: each value is serialized by
:func:`term_to_sparql` (IRIs checked, literals escaped) and placed in a
``VALUES`` block at the start of the query's outermost ``WHERE`` group, so a
value can never change the structure of the query.

>>> bind_values("SELECT ?x WHERE { ?x ?p ?state }", {"state": Iri("https://w3id.org/secpart/id/state/JPN")})
'SELECT ?x WHERE { VALUES ?state { <https://w3id.org/secpart/id/state/JPN> } ?x ?p ?state }'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kg.errors import QueryRefused, UsageError
from kg.resources import env_int, start_deep_thread

__all__ = [
    "Iri",
    "Lit",
    "tokens",
    "term_to_sparql",
    "escape_string",
    "bind_values",
    "query_form",
    "check_no_dataset_clause",
    "check_query_safe",
    "check_query_limits",
    "query_depth",
    "MAX_QUERY_LENGTH",
    "MAX_QUERY_DEPTH",
]


@dataclass(frozen=True)
class Iri:
    """An IRI to bind as a parameter."""

    value: str


@dataclass(frozen=True)
class Lit:
    """A literal to bind as a parameter (``datatype`` an IRI, or ``lang`` a tag)."""

    value: str
    datatype: str | None = None
    lang: str | None = None


_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_VARNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*\Z")


def escape_string(text: str) -> str:
    """Escape text for the inside of a quoted SPARQL, Turtle or N-Triples literal."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _check_unicode(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"not valid Unicode text (a lone surrogate): {value!r}") from None


def term_to_sparql(term: Iri | Lit) -> str:
    """Serialize an RDF term for SPARQL text; refuses IRIs that could break out of ``<...>``."""
    if isinstance(term, (Iri, Lit)):
        _check_unicode(term.value)
    if isinstance(term, Iri):
        if not term.value or _IRI_FORBIDDEN.search(term.value) or ":" not in term.value:
            raise UsageError(f"not a valid absolute IRI: {term.value!r}")
        return f"<{term.value}>"
    if isinstance(term, Lit):
        body = f'"{escape_string(term.value)}"'
        if term.lang:
            if not _LANG.match(term.lang):
                raise UsageError(f"not a valid language tag: {term.lang!r}")
            return f"{body}@{term.lang}"
        if term.datatype:
            return body + "^^" + term_to_sparql(Iri(term.datatype))
        return body
    raise TypeError(f"cannot bind {term!r}")


# The lexical rules of the SPARQL 1.1 grammar (section 19.8), as the engine applies them:
# white space is only space, tab, CR and LF (WS), a comment ends at CR *or* LF, a short
# string may hold neither CR nor LF (STRING_LITERAL1/2), and a prefixed name is
# PN_PREFIX ':' PN_LOCAL, whose characters exclude the grammar's punctuation: no "]",
# "<" or "[" inside it (a looser rule read "sp:State]SERVICE<http:" as one word).
_TOKEN_PARTS = (
    r"""
    (?P<ws>[\x20\x09\x0d\x0a]+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)
  | (?P<word>""",
    r"""(?:[A-Za-z_\u00C0-\uFFFF](?:[A-Za-z0-9_\-.\u00B7-\uFFFF]*[A-Za-z0-9_\-\u00B7-\uFFFF])?)?""",
    r""":
               (?:(?:[A-Za-z0-9_:\u00B7-\uFFFF]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?\#@%])
                  (?:(?:[A-Za-z0-9_:\-.\u00B7-\uFFFF]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?\#@%])*
                     (?:[A-Za-z0-9_:\-\u00B7-\uFFFF]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?\#@%]))?)?
           |[A-Za-z_][A-Za-z0-9_\-]*)
  | (?P<punct>[{}();,.\[\]])
  | (?P<other>.)
    """,
)
_TOKEN = re.compile("".join(_TOKEN_PARTS), re.VERBOSE | re.DOTALL)
#: the same without a prefix before ':' (for a run of name characters that no ':' ends: the
#: prefix branch would scan the whole run at each token in it, quadratic in its length)
_TOKEN_NO_PREFIX = re.compile(_TOKEN_PARTS[0] + _TOKEN_PARTS[2], re.VERBOSE | re.DOTALL)
#: a run of the characters a prefix is made of
_NAME_RUN = re.compile("[A-Za-z0-9_\\-.\u00B7-\uFFFF]+")


def tokens(text: str) -> tuple[tuple[str, str, int], ...]:
    """Split SPARQL text into (kind, text, offset) tokens, skipping nothing.

    Comments, strings and IRIs are single tokens, so keywords inside them are
    never mistaken for query structure. The last texts' tokens are remembered
    (texts within :data:`MAX_QUERY_LENGTH` only, so the memory stays small): a
    query is checked (form, depth, safety) by several readers of the same text.

    >>> [t[:2] for t in tokens('ASK { "}" }') if t[0] != "ws"]
    [('word', 'ASK'), ('punct', '{'), ('string', '"}"'), ('punct', '}')]
    """
    return _remembered_tokens(text) if len(text) <= MAX_QUERY_LENGTH else _tokenize(text)


def _tokenize(text: str) -> tuple[tuple[str, str, int], ...]:
    # where a prefix can start: inside a run of name characters that a ':' ends
    prefixed = bytearray(len(text) + 1)
    for run in _NAME_RUN.finditer(text):
        if text.startswith(":", run.end()) and text[run.end() - 1] != ".":  # (no prefix ends in '.')
            prefixed[run.start():run.end()] = b"\x01" * (run.end() - run.start())
    out = []
    pos = 0
    while pos < len(text):
        m = (_TOKEN if prefixed[pos] or text[pos] == ":" else _TOKEN_NO_PREFIX).match(text, pos)
        if m is None:  # pragma: no cover - the 'other' branch matches any character
            break
        kind = m.lastgroup or "other"
        out.append((kind, m.group(), pos))
        pos = m.end()
    return tuple(out)


_remembered_tokens = lru_cache(maxsize=32)(_tokenize)


def _code_tokens(text: str) -> tuple[tuple[str, str, int], ...]:
    return tuple(t for t in tokens(text) if t[0] not in ("ws", "comment"))


def check_no_dataset_clause(text: str) -> None:
    """Refuse a query with ``FROM`` or ``FROM NAMED``: kg gives every query its dataset
    (the graphs of ``--graph``, or all), which overrides the query's own, so the clause
    would be dropped without a word (a count "FROM" one graph counted every graph).

    >>> check_no_dataset_clause('SELECT * WHERE { ?s ?p "FROM" }  # FROM')
    >>> check_no_dataset_clause("SELECT * FROM <https://w3id.org/secpart/graph/mme> { }")
    Traceback (most recent call last):
    kg.errors.UsageError: FROM is not applied: kg reads the graphs --graph names (default-graph-uri over HTTP), or all of them; name the graph there instead
    """
    if any(kind == "word" and tok.upper() == "FROM" for kind, tok, _ in _code_tokens(text)):
        raise UsageError("FROM is not applied: kg reads the graphs --graph names "
                         "(default-graph-uri over HTTP), or all of them; name the graph there "
                         "instead")


def query_form(text: str) -> str:
    """The form of a query or update: SELECT, CONSTRUCT, ASK, DESCRIBE or UPDATE."""
    for kind, tok, _ in _code_tokens(text):
        if kind != "word":
            continue
        up = tok.upper()
        if up in ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE"):
            return up
        if up in ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"):
            return "UPDATE"
    raise UsageError("not a SPARQL query: no SELECT, CONSTRUCT, ASK or DESCRIBE")


def bind_values(text: str, bindings: dict[str, Iri | Lit]) -> str:
    """Bind ``bindings`` (variable name to term) by a VALUES block in the outermost WHERE.

    The block goes right after the ``{`` that opens the outermost group graph
    pattern (after ``WHERE``, or the first ``{`` of a SELECT without WHERE).
    """
    if not bindings:
        return text
    for name in bindings:
        if not isinstance(name, str) or not _VARNAME.match(name):
            raise UsageError(f"not a valid SPARQL variable name: {name!r}")
    toks = _code_tokens(text)
    # Only braces and WHERE at nesting depth 0 count: a sub-select's WHERE is not the
    # query's, and binding there would silently not constrain the outer query.
    open_at = None
    first_brace = None
    seen_form = False
    after_where = False
    depth = 0
    for kind, tok, off in toks:
        up = tok.upper() if kind == "word" else ""
        if depth == 0 and up in ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE"):
            seen_form = True
        elif depth == 0 and seen_form and up == "WHERE":
            after_where = True
        elif kind == "punct" and tok == "{":
            if depth == 0 and seen_form:
                if after_where:
                    open_at = off
                    break
                if first_brace is None:
                    first_brace = off
            depth += 1
        elif kind == "punct" and tok == "}":
            depth = max(depth - 1, 0)
    if open_at is None and toks and not any(t[1].upper() == "CONSTRUCT" for t in toks
                                            if t[0] == "word"):
        # ASK { ... } or SELECT * { ... } without WHERE: the first top-level '{' after the form.
        # (a CONSTRUCT template's '{' is never the WHERE group)
        open_at = first_brace
    if open_at is None:
        raise UsageError("cannot bind parameters: the query has no WHERE group")
    start = next(i for i, t in enumerate(toks) if t[2] == open_at)
    end = _group_end(toks, start)
    visible = _outer_scope_vars(toks, start)
    in_where = {tok[1:] for kind, tok, _ in toks[start:end] if kind == "var"}
    # used in the WHERE group: only where the VALUES block reaches it; used outside it
    # only (the projection, a template, ORDER BY): the value is just echoed, and taken
    for name in sorted(bindings):
        if name not in visible and (name in in_where or not any(
                kind == "var" and tok[1:] == name for kind, tok, _ in toks)):
            raise UsageError(_out_of_scope(name, toks))
    block = " ".join(
        f"VALUES ?{name} {{ {term_to_sparql(term)} }}" for name, term in sorted(bindings.items())
    )
    return text[: open_at + 1] + " " + block + text[open_at + 1:]


def _out_of_scope(name: str, toks) -> str:
    if not any(kind == "var" and tok[1:] == name for kind, tok, _ in toks):
        return f"parameter {name}: ?{name} does not occur in the query"
    return (f"parameter {name}: ?{name} occurs only inside a sub-select that does not "
            "project it, where a value bound in the outer WHERE does not reach; project it "
            "from the sub-select or use it outside")


def _outer_scope_vars(toks, start: int) -> set[str]:
    """Names of the variables a ``VALUES`` block at the start of the group opening at
    ``toks[start]`` binds for the whole query: those used in the group outside any
    sub-select, and those a sub-select projects (all of its own, for ``SELECT *``).

    A sub-select sees no binding from outside (SPARQL 1.1, 18.2.1: the inner query is
    evaluated first), so a parameter used only there would change nothing.

    >>> toks = _code_tokens("SELECT * { { SELECT ?a (COUNT(?b) AS ?n) { ?a ?p ?b ; ?q ?c } } ?d ?e ?a }")
    >>> sorted(_outer_scope_vars(toks, 2))
    ['a', 'd', 'e', 'n']
    """
    visible: set[str] = set()
    depth = 0
    hidden: list[int] = []  # depths of the groups holding a sub-select not projecting '*'
    i = start
    while i < len(toks):
        kind, tok, _ = toks[i]
        if kind == "punct" and tok == "{":
            depth += 1
        elif kind == "punct" and tok == "}":
            if hidden and hidden[-1] == depth:
                hidden.pop()
            depth -= 1
            if depth == 0:
                break
        elif kind == "word" and tok.upper() == "SELECT" and not hidden:
            i, projected, star = _projection(toks, i + 1)
            visible |= projected
            if not star:
                hidden.append(depth)
            continue
        elif kind == "var" and not hidden:
            visible.add(tok[1:])
        i += 1
    return visible


def _group_end(toks, start: int) -> int:
    """Index after the ``}`` that closes the group opening at ``toks[start]``."""
    depth = 0
    for i in range(start, len(toks)):
        kind, tok, _ = toks[i]
        if kind == "punct" and tok == "{":
            depth += 1
        elif kind == "punct" and tok == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(toks)


def _projection(toks, i: int) -> tuple[int, set[str], bool]:
    """Read a sub-select's projection from ``toks[i]``: (index after it, names, ``*``?)."""
    names: set[str] = set()
    star = False
    paren = 0
    after_as = False
    while i < len(toks):
        kind, tok, _ = toks[i]
        if paren == 0 and ((kind == "word" and tok.upper() == "WHERE") or (kind == "punct" and tok == "{")):
            break
        if kind == "punct" and tok == "(":
            paren += 1
        elif kind == "punct" and tok == ")":
            paren -= 1
        elif kind == "other" and tok == "*" and paren == 0:
            star = True
        elif kind == "var" and (paren == 0 or after_as):
            names.add(tok[1:])
        after_as = kind == "word" and tok.upper() == "AS"
        i += 1
    return i, names, star


_FROM_LOCAL = re.compile(r"^<(file:|/|\.)", re.IGNORECASE)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescape_iri(tok: str) -> str:
    """Decode the ``\\uXXXX`` / ``\\UXXXXXXXX`` escapes the engine accepts inside ``<...>``."""

    def dec(m: re.Match) -> str:
        try:
            return chr(int(m.group(1) or m.group(2), 16))
        except (ValueError, OverflowError):
            return "\ufffd"

    return _CODEPOINT.sub(dec, tok)


IRIS_PER_VALUES = 400
"""IRIs kg itself names in one ``VALUES`` block (stored subjects looked up by the ingest,
focus nodes checked by the validator): a query stays well under :data:`MAX_QUERY_LENGTH`."""


def iri_values(iris) -> list[str]:
    """The bodies of ``VALUES`` blocks naming ``iris``, :data:`IRIS_PER_VALUES` per block.

    >>> iri_values(["urn:a", "urn:b"])
    ['<urn:a> <urn:b>']
    >>> len(iri_values([f"urn:{i}" for i in range(IRIS_PER_VALUES + 1)]))
    2
    """
    iris = list(iris)
    return [" ".join(term_to_sparql(Iri(i)) for i in iris[k:k + IRIS_PER_VALUES])
            for k in range(0, len(iris), IRIS_PER_VALUES)]


MAX_QUERY_LENGTH = 100_000
"""Characters a query may have (``KG_QUERY_MAX_LENGTH`` changes it)."""
MAX_QUERY_DEPTH = 64
"""Nesting depth of ``{``, ``(`` and ``[`` a query may reach (``KG_QUERY_MAX_DEPTH`` changes it)."""


def query_depth(text: str) -> int:
    """The deepest nesting of ``{``, ``(`` and ``[`` in a query, outside strings, IRIs and comments.

    >>> query_depth("SELECT * WHERE { ?s ?p ?o FILTER((?o > 1)) }")
    3
    """
    depth = deepest = 0
    for kind, tok, _ in tokens(text):
        if kind != "punct":
            continue
        if tok in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif tok in "})]":
            depth = max(depth - 1, 0)
    return deepest


def check_query_limits(text: str) -> None:
    """Refuse a query longer than :data:`MAX_QUERY_LENGTH` or nested deeper than :data:`MAX_QUERY_DEPTH`.

    Runs before any parser sees the text: the engine's recursive parser
    crashes the process (stack overflow) on a few thousand nested groups.

    >>> check_query_limits("SELECT * WHERE " + "{" * 500 + "}" * 500)
    Traceback (most recent call last):
    ...
    kg.errors.UsageError: query refused: nested 500 levels deep (the limit is 64; KG_QUERY_MAX_DEPTH changes it)
    """
    max_len = env_int("KG_QUERY_MAX_LENGTH", MAX_QUERY_LENGTH)
    if len(text) > max_len:
        raise UsageError(f"query refused: {len(text)} characters long (the limit is {max_len}; "
                         "KG_QUERY_MAX_LENGTH changes it)")
    max_depth = env_int("KG_QUERY_MAX_DEPTH", MAX_QUERY_DEPTH)
    depth = query_depth(text)
    if depth > max_depth:
        raise UsageError(f"query refused: nested {depth} levels deep (the limit is {max_depth}; "
                         "KG_QUERY_MAX_DEPTH changes it)")


_SAFE_DATASET_IRI = re.compile(r"^(https?|urn):", re.IGNORECASE)
_PARSE_LOCK = None


_PARSE_RECURSION = 1_000_000


def _parse_tree(text: str):
    """The query parsed by rdflib's SPARQL 1.1 parser (a pyparsing tree), or a UsageError.

    pyparsing recurses per nesting level and per pattern in a group (a flat
    group of 3,000 triple patterns needs more than 10,000 frames), so the
    parse runs in a thread of its own with a large stack and a high recursion
    limit; the length and depth limits bound what it can meet.
    """
    import sys
    import threading

    global _PARSE_LOCK
    from pyparsing import ParseException
    from rdflib.plugins.sparql.parser import parseQuery

    if _PARSE_LOCK is None:
        _PARSE_LOCK = threading.Lock()
    box: dict = {}

    def work():
        try:
            box["tree"] = parseQuery(text)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    with _PARSE_LOCK:
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, _PARSE_RECURSION))
        try:
            start_deep_thread(work, "kg-sparql-guard").join()
        finally:
            sys.setrecursionlimit(old_limit)
    exc = box.get("error")
    if isinstance(exc, ParseException):
        raise UsageError(
            f"SPARQL syntax error at line {exc.lineno}, column {exc.col}: {exc.msg} "
            "(the network guard parses every query before it runs; pass --allow-network "
            "to skip it)") from None
    if isinstance(exc, RecursionError):
        raise UsageError("query refused: too complex for the network guard to check") from None
    if isinstance(exc, Exception):  # a fault of rdflib's parser: refused (fail closed), one line
        raise UsageError(f"query refused: the network guard's parser failed on it "
                         f"({type(exc).__name__}: {exc}; pass --allow-network to skip the "
                         "guard)") from None
    if exc is not None:
        raise exc
    return box["tree"]


def _walk(node):
    """Every node of an rdflib parse tree (CompValues, ParseResults, lists), depth first."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, CompValue):
            stack.extend(item.values())
        elif isinstance(item, (ParseResults, list, tuple)):
            stack.extend(item)


def _for_rdflib(text: str) -> str:
    r"""``text`` as rdflib's parser must see it to read the structure the engine reads.

    - Each CR that does not start a CRLF becomes a LF: the engine (and the SPARQL
      grammar) ends a comment at CR or LF, rdflib's parser only at LF, so after
      "# c\r" it would take for comment what the engine runs.
    - The minus sign of a number becomes a plus: rdflib 7's parser raises TypeError on
      a negative decimal in ``VALUES`` or as an object (``VALUES ?n { -1.5 }``). The
      sign changes no structure the guard looks at.

    Strings, IRIs and comments are left as they are.

    >>> _for_rdflib("ASK { # c\rSERVICE <x:> {} }\r\n")
    'ASK { # c\nSERVICE <x:> {} }\r\n'
    >>> _for_rdflib('SELECT * { VALUES ?n { -1.5 "-2" } FILTER(?n-1 > 0) }')
    'SELECT * { VALUES ?n { +1.5 "-2" } FILTER(?n+1 > 0) }'
    """
    toks = tokens(text)
    out = []
    for i, (kind, tok, _) in enumerate(toks):
        if kind == "ws":
            tok = re.sub(r"\r(?!\n)", "\n", tok)
        elif kind == "other" and tok == "-" and i + 1 < len(toks) and toks[i + 1][1][:1] in "0123456789.":
            tok = "+"
        out.append(tok)
    return "".join(out)


def _refuse_parsed(text: str) -> None:
    from rdflib.plugins.sparql.parserutils import CompValue

    nodes = [n for n in _walk(_parse_tree(_for_rdflib(text))) if isinstance(n, CompValue)]
    prefixes: dict[str, set[str]] = {}  # every IRI a prefix is declared with
    for node in nodes:
        if node.name == "PrefixDecl":
            prefixes.setdefault(_field(node, "prefix"), set()).add(_field(node, "iri"))
    for node in nodes:
        if node.name == "ServiceGraphPattern":
            raise QueryRefused(
                "query refused: SERVICE would make the engine send requests to other servers "
                "(pass --allow-network to permit it)")
        if node.name in ("DatasetClause", "Base"):
            value = next((node[k] for k in ("default", "named", "iri") if k in node), None)
            word = "BASE" if node.name == "Base" else "FROM"
            for shown, iri in _dataset_iris(value, prefixes):
                if iri and not _SAFE_DATASET_IRI.match(iri):
                    raise QueryRefused(f"query refused: {word} {shown} names a local file "
                                       "(pass --allow-network to permit it)")


def _field(node, key: str) -> str:
    """A parse-tree node's field as text, "" when absent (rdflib's ``CompValue.get`` gives
    the key's own name for a missing key: a FROM NAMED clause was refused as "FROM <default>")."""
    return str(node[key]) if key in node and node[key] is not None else ""


def _dataset_iris(value, prefixes: dict[str, set[str]]) -> list[tuple[str, str]]:
    """``(as written, IRI)`` for the IRI of a FROM or BASE clause: a prefixed name
    (``FROM g:curated``) resolved by every declaration of its prefix, so that it is judged
    by the IRI it names (it used to be refused, whatever it named, as "<pname_...>"); an
    undeclared prefix gives no IRI, judged unsafe."""
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(value, CompValue) and value.name == "pname":
        prefix, local = _field(value, "prefix"), _field(value, "localname")
        shown = f"{prefix}:{local}"
        return [(shown, base + local) for base in sorted(prefixes.get(prefix, ()))] or \
            [(f"{shown} (prefix {prefix}: not declared)", shown)]
    iri = str(value or "")
    return [(f"<{iri}>", iri)]


def check_query_safe(text: str, *, allow_network: bool = False) -> None:
    r"""Refuse SPARQL that is too big, or would reach the network or local files.

    First the limits (:func:`check_query_limits`), always. Then, unless
    ``allow_network``, the query is parsed (rdflib's SPARQL 1.1 parser) and
    its parse tree walked: a ``SERVICE`` pattern, or a ``FROM``/``FROM NAMED``/
    ``BASE`` IRI other than ``http(s):``/``urn:`` is refused. The tokens are
    also scanned with the grammar's own lexical rules (a comment ends at CR
    or LF, as in the engine), so ``SERVICE``, ``LOAD`` and ``FROM <file:>``
    are refused even where the two parsers might read a query differently.
    A query the guard cannot parse is refused (exit 2). Keywords inside
    strings, IRIs and comments do not count.

    >>> check_query_safe("SELECT * WHERE { # c\rSERVICE <http://example.org/> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    kg.errors.QueryRefused: query refused: SERVICE would make the engine send requests to other servers (pass --allow-network to permit it)
    """
    check_query_limits(text)
    if allow_network:
        return
    _check_tokens(text)
    if query_form(text) != "UPDATE":
        _refuse_parsed_cached(text)


def _refuse_parsed_cached(text: str, _seen: dict = {}) -> None:  # noqa: B006 - a small cache
    if text in _seen:
        return
    _refuse_parsed(text)
    if len(_seen) > 512:
        _seen.clear()
    _seen[text] = True


def _check_escapes(text: str) -> None:
    """Refuse a ``\\u``/``\\U`` escape of a quote or a backslash: rdflib decodes such
    escapes in the whole text before parsing, the engine only inside strings and IRIs (as
    characters), so ``"\\u005C"`` closes a string for one and not for the other, and the
    guard would approve a query the engine reads otherwise (a SERVICE hidden in what the
    guard took for a string). Any other character may still be escaped: where the engine
    reads the escape it is text of a string or an IRI for both readers, and elsewhere the
    engine refuses the query."""
    for m in _CODEPOINT.finditer(text):
        if chr(int(m.group(1) or m.group(2), 16)) in "\"'\\":
            raise QueryRefused(f"query refused: the escape {m.group()} stands for a quote or "
                               "a backslash, which the engine and the guard would read "
                               "differently; write the character itself (\\\" or \\')")


def _keyword_of(tok: str) -> str:
    """The keyword a word token starts with for the engine: ``SERVICE:y`` is the keyword
    SERVICE and the IRI ``:y`` to the engine, a prefixed name to the grammar's lexer."""
    return tok.upper().split(":", 1)[0]


def _check_tokens(text: str) -> None:
    _check_escapes(text)
    toks = _code_tokens(text)
    for i, (kind, tok, _off) in enumerate(toks):
        if kind == "iri" and ")" in tok:
            # `?a<1)SERVICE#>`: an IRI to the lexer, a comparison, a bracket, SERVICE and a
            # comment to the engine; an expression can only be left through ')', so what
            # follows the first ')' of such an "IRI" is read again as code
            _check_tokens(tok[tok.index(")") + 1:-1])
        if kind != "word":
            continue
        up = tok.upper()
        if ":" in tok and _keyword_of(tok) == "SERVICE" and toks[i + 1:i + 2] \
                and toks[i + 1][1] == "{":
            up = "SERVICE"  # `SERVICE:y{`: the keyword and the IRI :y to the engine
        if up == "SERVICE":
            raise QueryRefused(
                "query refused: SERVICE would make the engine send requests to other servers "
                "(pass --allow-network to permit it)"
            )
        if up == "LOAD":
            raise QueryRefused("query refused: LOAD reads from the network or local files "
                               "(pass --allow-network to permit it)")
        if up in ("FROM", "USING", "BASE"):
            rest = [t for t in toks[i + 1:i + 3]]
            for k2, t2, _ in rest:
                t2 = _unescape_iri(t2) if k2 == "iri" else t2
                if k2 == "iri" and (t2.lower().startswith("<file:") or _FROM_LOCAL.match(t2)):
                    raise QueryRefused(
                        f"query refused: {up} {t2} names a local file "
                        "(pass --allow-network to permit it)"
                    )
