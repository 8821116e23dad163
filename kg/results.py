"""Query results in one neutral form, and their serializations.

Local (pyoxigraph) and remote (SPARQL JSON) results are turned into the same
:class:`ResultSet` of :class:`Term`, so the same data prints byte-identically
whichever store answered.

>>> rs = ResultSet(["state"], [(Term("literal", "JPN"),)])
>>> print(format_results(rs, "csv"), end="")
state
JPN
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from kg.errors import UsageError
from kg.namespaces import PREFIXES, XSD

__all__ = ["Term", "ResultSet", "FORMATS", "format_results", "format_rows", "from_sparql_json",
           "from_oxigraph", "from_sparql_tsv", "number_text"]

FORMATS = ("table", "csv", "tsv", "json", "md", "latex")
_NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long",
                              "nonNegativeInteger", "positiveInteger")}


@dataclass(frozen=True, order=True)
class Term:
    """An RDF term: ``kind`` is ``uri``, ``literal`` or ``bnode``."""

    kind: str
    value: str
    datatype: str | None = None
    lang: str | None = None

    def display(self) -> str:
        """Short human form: prefixed IRIs, bare literal values."""
        if self.kind == "uri":
            for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
                if self.value.startswith(ns):
                    return f"{prefix}:{self.value[len(ns):]}"
            return self.value
        if self.kind == "bnode":
            return f"_:{self.value}"
        return self.value

    def to_json(self) -> dict:
        """The SPARQL 1.1 JSON results form of this term."""
        if self.kind == "literal":
            out = {"type": "literal", "value": self.value}
            if self.lang:
                out["xml:lang"] = self.lang
            elif self.datatype:
                out["datatype"] = self.datatype
            return out
        return {"type": self.kind, "value": self.value}

    def python(self):
        """The value as a Python int/float where the literal is numeric, else the string."""
        if self.kind == "literal" and self.datatype in _NUMERIC:
            try:
                if self.datatype in (XSD + "decimal", XSD + "double", XSD + "float"):
                    return float(self.value)
                return int(self.value)
            except ValueError:
                return self.value
        return self.value


@dataclass
class ResultSet:
    """The rows of a SELECT: ``variables`` and ``rows`` (tuples of Term or None)."""

    variables: list[str]
    rows: list[tuple]

    def dicts(self) -> list[dict]:
        """Rows as dicts of Python values (unbound variables omitted)."""
        out = []
        for row in self.rows:
            out.append({v: t.python() for v, t in zip(self.variables, row, strict=False) if t is not None})
        return out

    def column(self, name: str) -> list:
        """One column as Python values."""
        i = self.variables.index(name)
        return [r[i].python() if r[i] is not None else None for r in self.rows]


def _norm_literal(value: str, datatype: str | None, lang: str | None) -> Term:
    if lang:
        return Term("literal", value, None, lang.lower())
    if datatype in (None, XSD + "string"):
        return Term("literal", value)
    return Term("literal", value, datatype)


def _from_ox_term(t) -> Term:
    """One pyoxigraph term as a :class:`Term` (a triple term as its text)."""
    import pyoxigraph as ox

    if isinstance(t, ox.NamedNode):
        return Term("uri", t.value)
    if isinstance(t, ox.BlankNode):
        return Term("bnode", t.value)
    if isinstance(t, ox.Literal):
        return _norm_literal(t.value, t.datatype.value if t.datatype else None, t.language)
    return Term("literal", str(t))  # RDF-star triple term


def from_oxigraph(solutions) -> ResultSet:
    """Convert pyoxigraph QuerySolutions into a ResultSet.

    Each distinct engine term is converted once per result (rows share the
    frozen :class:`Term`), which halves the cost of large results.
    """
    variables = [v.value for v in solutions.variables]
    memo: dict = {}
    rows = []
    width = range(len(variables))
    for sol in solutions:
        row = []
        for i in width:
            t = sol[i]
            if t is None:
                row.append(None)
                continue
            term = memo.get(t)
            if term is None:
                term = memo[t] = _from_ox_term(t)
            row.append(term)
        rows.append(tuple(row))
    return ResultSet(variables, rows)


def _plain_tsv_term(cell: str) -> Term | None:
    """The term of a TSV cell that needs no unescaping, else None.

    IRIs and blank nodes are written as they are; a literal without a backslash holds no
    escape (a quote inside would be written ``\\"``), so its value is what lies between
    the quotes, before ``@lang`` or ``^^<datatype>``.
    """
    head = cell[0]
    if head == "<":
        return Term("uri", cell[1:-1]) if cell[1] != "<" else None
    if cell.startswith("_:"):
        return Term("bnode", cell[2:])
    if head != '"' or "\\" in cell:
        return None
    end = cell.rfind('"')
    value, rest = cell[1:end], cell[end + 1:]
    if not rest:
        return Term("literal", value)
    if rest[0] == "@":
        return _norm_literal(value, None, rest[1:])
    if rest.startswith("^^<") and rest[-1] == ">":
        return _norm_literal(value, rest[3:-1], None)
    return None


def from_sparql_tsv(data: bytes) -> ResultSet:
    r"""Convert a SPARQL 1.1 TSV results document (as Oxigraph writes it) into a ResultSet.

    The same terms as :func:`from_sparql_json` of the same answer, for less work: a cell is
    an RDF term in Turtle syntax, and each distinct cell is converted once. IRIs, blank
    nodes and literals without escapes are read directly (:func:`_plain_tsv_term`); the
    rest (escaped strings, bare numbers and booleans) are parsed together by the engine's
    own Turtle parser, so kg has no unescaping of its own. Cells are split on tab and
    newline only, which the format escapes inside literals.

    :raises ValueError: for a cell that is a triple term (RDF 1.2), which a
        :class:`Term` cannot hold; read such an answer with :func:`from_oxigraph`.
    :raises SyntaxError: for a cell the Turtle parser refuses (not met in Oxigraph's TSV).

    >>> rs = from_sparql_tsv(b'?s\t?n\n<urn:x>\t1\n_:b\t"a\\"b"@EN\n')
    >>> [[t.value for t in row] for row in rs.rows]
    [['urn:x', '1'], ['b', 'a"b']]
    >>> rs.rows[0][1].python(), rs.rows[1][1].lang
    (1, 'en')
    """
    import pyoxigraph as ox

    lines = data.decode().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    variables = [v[1:] for v in lines[0].split("\t")] if lines and lines[0] else []
    if not variables:  # each solution is an empty line
        return ResultSet([], [() for _ in lines[1:]])
    rows = [line.split("\t") for line in lines[1:]]
    memo: dict = {"": None}  # an empty cell is unbound
    rest = []
    for cell in {cell for row in rows for cell in row} - memo.keys():
        term = _plain_tsv_term(cell)
        if term is None:
            if cell.startswith("<<"):
                raise ValueError(f"a triple term in a TSV answer: {cell[:80]}")
            rest.append(cell)
        memo[cell] = term
    if rest:
        doc = "".join(f"<urn:kg:r> <urn:kg:v> {cell} .\n" for cell in rest)
        for cell, triple in zip(rest, ox.parse(doc.encode(), ox.RdfFormat.TURTLE), strict=True):
            memo[cell] = _from_ox_term(triple.object)
    cell_term = memo.__getitem__
    return ResultSet(variables, [tuple(map(cell_term, row)) for row in rows])


def from_sparql_json(doc: dict) -> ResultSet:
    """Convert a SPARQL 1.1 JSON results document into a ResultSet.

    As in :func:`from_oxigraph`, each distinct term is made once (rows share it).

    >>> doc = {"head": {"vars": ["s", "n"]}, "results": {"bindings": [
    ...     {"s": {"type": "uri", "value": "urn:x"},
    ...      "n": {"type": "literal", "value": "1", "datatype": XSD + "integer"}}]}}
    >>> from_sparql_json(doc).rows[0][1].python()
    1
    """
    try:
        variables = list(doc["head"]["vars"])
        memo: dict = {}
        rows = []
        for b in doc["results"]["bindings"]:
            row = []
            for v in variables:
                t = b.get(v)
                if t is None:
                    row.append(None)
                    continue
                kind, value = t["type"], t["value"]
                key = (kind, value, t.get("datatype"), t.get("xml:lang"))
                term = memo.get(key)
                if term is None:
                    if kind in ("uri", "bnode"):
                        term = Term(kind, value)
                    else:  # literal, typed-literal
                        term = _norm_literal(value, key[2], key[3])
                    memo[key] = term
                row.append(term)
            rows.append(tuple(row))
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a SPARQL JSON results document (missing {exc})") from exc
    return ResultSet(variables, rows)


def _full(t: Term | None) -> str:
    """A term as the SPARQL 1.1 CSV results format writes it (section 2): an IRI or a
    literal as its text, a blank node as ``_:label``, unbound as nothing."""
    if t is None:
        return ""
    return f"_:{t.value}" if t.kind == "bnode" else t.value


def _cells(rs: ResultSet, *, full: bool) -> list[list[str]]:
    if full:
        return [[_full(t) for t in row] for row in rs.rows]
    return [[("" if t is None else t.display()) for t in row] for row in rs.rows]


def _latex_escape(s: str) -> str:
    from kg.escape import latex

    return latex(s)


def _md_escape(s: str) -> str:
    from kg.escape import md_table_cell

    return md_table_cell(s)


def format_results(rs: ResultSet | bool, fmt: str) -> str:
    r"""Serialize a ResultSet (or an ASK answer) as table, csv, tsv, json, md or latex.

    csv and tsv hold each value's text as the SPARQL 1.1 CSV results format does (a blank
    node as ``_:label``), a cell a spreadsheet would run as a formula led by ``'``
    (:func:`kg.escape.csv_text`); tsv writes backslash, tab, line feed and carriage return
    in a value as ``\\``, ``\t``, ``\n``, ``\r`` (:func:`kg.escape.tsv_text`), so each row
    is one line and nothing is lost.

    >>> rs = ResultSet(["b", "t"], [(Term("bnode", "b0"), Term("literal", "a\tb\nc\\d"))])
    >>> format_results(rs, "tsv").splitlines()[1].split("\t")
    ['_:b0', 'a\\tb\\nc\\\\d']
    >>> format_results(rs, "csv")
    'b,t\n_:b0,"a\tb\nc\\d"\n'
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if isinstance(rs, bool):
        if fmt == "json":
            return json.dumps({"head": {}, "boolean": rs}, sort_keys=True) + "\n"
        return ("true" if rs else "false") + "\n"
    if fmt == "json":
        doc = {
            "head": {"vars": rs.variables},
            "results": {"bindings": [
                {v: t.to_json() for v, t in zip(rs.variables, row, strict=False) if t is not None}
                for row in rs.rows
            ]},
        }
        return json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        from kg.escape import csv_text

        w.writerow(rs.variables)
        w.writerows([[csv_text(c) for c in row] for row in _cells(rs, full=True)])
        return buf.getvalue()
    if fmt == "tsv":
        from kg.escape import tsv_text

        lines = ["\t".join(map(tsv_text, rs.variables))]
        lines += ["\t".join(map(tsv_text, row)) for row in _cells(rs, full=True)]
        return "\n".join(lines) + "\n"
    cells = _cells(rs, full=False)
    if fmt == "md":
        lines = ["| " + " | ".join(_md_escape(v) for v in rs.variables) + " |",
                 "|" + "|".join("---" for _ in rs.variables) + "|"]
        lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    if fmt == "latex":
        cols = "l" * len(rs.variables)
        lines = [f"\\begin{{tabular}}{{{cols}}}", "\\hline",
                 " & ".join(_latex_escape(v) for v in rs.variables) + " \\\\", "\\hline"]
        lines += [" & ".join(_latex_escape(c) for c in row) + " \\\\" for row in cells]
        lines += ["\\hline", "\\end{tabular}"]
        return "\n".join(lines) + "\n"
    # table: for a terminal, so escape sequences and line breaks in data are made visible
    from kg.escape import terminal

    cells = [[terminal(c) for c in row] for row in cells]
    widths = [len(v) for v in rs.variables]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
    def line(vals):
        return "  ".join(v.ljust(w) for v, w in zip(vals, widths, strict=False)).rstrip()
    out = [line(rs.variables), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    out.append(f"({len(rs.rows)} row{'s' if len(rs.rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def number_text(x) -> str:
    """A number as every table and CSV file of kg writes it: an integer (or a float with
    no fraction) as an integer, other floats with 6 decimals, True as ``true``, None empty.

    >>> [number_text(v) for v in (175.0, 3, 0.6586, -0.0000001, True, None)]
    ['175', '3', '0.658600', '0.000000', 'true', '']
    """
    if x is None:
        return ""
    if isinstance(x, (bool, int)):  # True -> "true"; an int as it is
        return str(x).lower()
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    s = f"{x:.6f}"
    return "0.000000" if s == "-0.000000" else s


def format_rows(rows: list[dict], columns: list[str], fmt: str) -> str:
    """Render plain rows (dicts of Python values) in a :data:`FORMATS` format or ``html``.

    Values become literals (``None`` an empty cell); everything is escaped for the format.

    >>> print(format_rows([{"a": 1, "b": "x|y"}], ["a", "b"], "md"), end="")
    | a | b |
    |---|---|
    | 1 | x\\|y |
    >>> format_rows([{"a": "<b>"}], ["a"], "html")
    '<table><thead><tr><th>a</th></tr></thead><tbody>\\n<tr><td>&lt;b&gt;</td></tr>\\n</tbody></table>'
    """
    if fmt == "html":
        from kg.escape import html

        def e(x) -> str:
            return html("" if x is None else str(x))

        out = ["<table><thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in columns)
               + "</tr></thead><tbody>"]
        for r in rows:
            cells = []
            for c in columns:
                v = r.get(c)
                num = isinstance(v, (int, float)) and not isinstance(v, bool)
                cls = ' class="num"' if num else ""
                cells.append(f"<td{cls}>{e(v)}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</tbody></table>")
        return "\n".join(out)
    rs = ResultSet(list(columns), [tuple(None if r.get(c) is None else Term("literal", str(r.get(c)))
                                         for c in columns) for r in rows])
    return format_results(rs, fmt)
