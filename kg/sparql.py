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

from kg.errors import QueryRefused, UsageError

__all__ = [
    "Iri",
    "Lit",
    "tokens",
    "term_to_sparql",
    "escape_string",
    "bind_values",
    "query_form",
    "check_query_safe",
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
_VARNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


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


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)
  | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*(?::[^\s{}();,.]*)?|:[^\s{}();,]*)
  | (?P<punct>[{}();,.\[\]])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokens(text: str) -> list[tuple[str, str, int]]:
    """Split SPARQL text into (kind, text, offset) tokens, skipping nothing.

    Comments, strings and IRIs are single tokens, so keywords inside them are
    never mistaken for query structure.
    """
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # pragma: no cover - the 'other' branch matches any character
            break
        kind = m.lastgroup or "other"
        out.append((kind, m.group(), pos))
        pos = m.end()
    return out


def _code_tokens(text: str) -> list[tuple[str, str, int]]:
    return [t for t in tokens(text) if t[0] not in ("ws", "comment")]


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
    block = " ".join(
        f"VALUES ?{name} {{ {term_to_sparql(term)} }}" for name, term in sorted(bindings.items())
    )
    return text[: open_at + 1] + " " + block + text[open_at + 1:]


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


def check_query_safe(text: str, *, allow_network: bool = False) -> None:
    """Refuse SPARQL that would reach the network or local files.

    Refused unless ``allow_network``: ``SERVICE`` (federated query), ``LOAD``,
    and ``FROM``/``FROM NAMED``/``USING``/``BASE`` with a ``file:`` IRI (also when
    spelled with ``\\u`` escapes). Keywords inside strings, IRIs and comments do
    not count.
    """
    if allow_network:
        return
    toks = _code_tokens(text)
    for i, (kind, tok, _off) in enumerate(toks):
        if kind != "word":
            continue
        up = tok.upper()
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
