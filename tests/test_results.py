"""Query results as kg writes them (kg/results.py): csv, tsv and md keep what the data says.

Each test runs ``kg query sparql`` on the session's store and reads the output back
as a reader of that format would.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re

#: A value with every character a TSV row could lose or misread.
AWKWARD = "a\tb\nc\\d\re \\t"
AWKWARD_QUERY = ('SELECT ?b ?t ?n WHERE { BIND(BNODE() AS ?b) '
                 'BIND("a\\tb\\nc\\\\d\\re \\\\t" AS ?t) BIND(-1.5 AS ?n) }')

_TSV_ESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def _unescape_tsv(cell: str) -> str:
    """The reader's side of kg's tsv: ``\\\\``, ``\\t``, ``\\n``, ``\\r`` back to the characters."""
    return re.sub(r"\\[\\tnr]", lambda m: _TSV_ESCAPES[m.group()], cell)


def _json_rows(cli_runner, query: str) -> tuple[list, list]:
    res = cli_runner("query", "sparql", query, "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    return doc["head"]["vars"], doc["results"]["bindings"]


def test_csv_writes_a_blank_node_as_underscore_colon_label(cli_runner):
    """SPARQL 1.1 CSV results (W3C, section 2) write a blank node as ``_:label``; kg wrote
    the bare label, which reads as a literal."""
    _, bindings = _json_rows(cli_runner, "SELECT ?b WHERE { BIND(BNODE() AS ?b) }")
    assert bindings[0]["b"]["type"] == "bnode"
    res = cli_runner("query", "sparql", "SELECT ?b WHERE { BIND(BNODE() AS ?b) }",
                     "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0] == ["b"] and len(rows) == 2
    assert re.fullmatch(r"_:[0-9a-z]{8,}", rows[1][0]), rows  # BNODE() gives a new label per run


def test_csv_reads_back_every_value_exactly(cli_runner):
    """A value with tab, line feed, CR and backslash comes back from a CSV reader as it is."""
    res = cli_runner("query", "sparql", AWKWARD_QUERY, "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout, newline="")))
    assert rows[0] == ["b", "t", "n"] and len(rows) == 2
    assert rows[1][0].startswith("_:") and rows[1][1:] == [AWKWARD, "-1.5"]


def test_tsv_keeps_tabs_line_breaks_and_backslashes(cli_runner):
    """tsv turned tabs and line breaks in values into spaces (data silently changed). Now
    each row is one line of tab-separated cells, and unescaping a cell gives the value."""
    variables, bindings = _json_rows(cli_runner, AWKWARD_QUERY)
    assert bindings[0]["t"]["value"] == AWKWARD
    res = cli_runner("query", "sparql", AWKWARD_QUERY, "--format", "tsv")
    assert res.exit_code == 0, res.output
    lines = res.stdout.split("\n")
    assert lines[-1] == "" and len(lines) == 3  # header, one row, final newline
    header, row = (line.split("\t") for line in lines[:2])
    assert header == variables == ["b", "t", "n"]
    assert re.fullmatch(r"_:[0-9a-z]{8,}", row[0]), row
    assert [_unescape_tsv(c) for c in row[1:]] == [AWKWARD, "-1.5"]
    assert row[1] == "a\\tb\\nc\\\\d\\re \\\\t"


def test_tsv_still_shows_a_formula_as_text(cli_runner):
    """The escapes come after the spreadsheet rule: a formula cell is still led by '."""
    q = 'SELECT ?x WHERE { BIND("=HYPERLINK(\\"x\\")\\t@A1" AS ?x) }'
    res = cli_runner("query", "sparql", q, "--format", "tsv")
    assert res.exit_code == 0, res.output
    assert res.stdout.split("\n")[1] == "'=HYPERLINK(\"x\")\\t@A1"


def _commonmark_text(cell: str) -> str:
    """What CommonMark shows of inline text: backslash escapes of ASCII punctuation and
    entities resolved."""
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", cell))


def test_markdown_escapes_dollars_so_github_shows_no_maths(cli_runner):
    """GitHub renders ``$...$`` as maths: "US$5m to US$6m" came out as maths between the
    dollars. Every ``$`` in an md cell is now ``\\$``, which shows as a dollar sign."""
    text = "US$5m rose to US$6m (x^2 $\\alpha$)"
    q = f'SELECT ?t WHERE {{ BIND("{text.replace(chr(92), chr(92) * 2)}" AS ?t) }}'
    res = cli_runner("query", "sparql", q, "--format", "md")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[:2] == ["| t |", "|---|"]
    cell = lines[2][2:-2]
    assert re.search(r"(?<!\\)\$", cell) is None  # no dollar GitHub could open maths with
    assert cell.count("\\$") == 4
    assert _commonmark_text(cell) == text


def test_format_rows_html_shows_bidi_controls_instead_of_obeying_them():
    """An HTML table of rows (claims, reports) goes through kg.escape.html: a U+202E in a
    value is shown, and the cells after it are not reversed."""
    from kg.results import format_rows

    out = format_rows([{"a": "Japan\u202e <b>", "b": 1}], ["a", "b"], "html")
    assert "\u202e" not in out
    assert "<td>Japan\\u202e &lt;b&gt;</td>" in out


def test_tsv_keeps_every_row_on_one_line_for_any_reader():
    """U+2028, U+2029 and NEL end a line for Python's splitlines (and some editors): a
    review found rows broken across lines once tab and LF were escaped but these were not."""
    from kg.escape import tsv_text

    cell = tsv_text("a\u2028b\u2029c\x85d\x0be\x0cf\x1cg")
    assert len(cell.splitlines()) == 1
    assert cell == "a\\u2028b\\u2029c\\u0085defg"  # (C0 controls dropped, as in CSV)
