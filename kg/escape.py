r"""Escaping text from data for each output format: the one place that knows how.

Everything kg writes that comes from data (labels, names, graph versions,
parameters) passes through the function for its format before it lands in
LaTeX, BibTeX, Markdown, HTML (and JSON in a page's script), CSV, TSV, XML or a terminal. Each function takes
any string and returns text that the format reads as plain text: it can
neither end the construct it sits in (a comment line, a field, a code fence,
a table cell) nor start a new one.

>>> latex("50% & \\input{x}")
'50\\% \\& \\textbackslash{}input\\{x\\}'
>>> latex_comment("v1\n\\input{/etc/passwd}")
'v1 \\input{/etc/passwd}'
>>> bibtex("a}, note = {b")
'a\\textbraceright{}, note = \\textbraceleft{}b'
>>> markdown("*hi* <b>x</b> | y, US$5m")
'\\*hi\\* &lt;b&gt;x&lt;/b&gt; \\| y, US\\$5m'
>>> md_fence("x\n```\ny").splitlines()[0]
'````'
>>> html('<a href="x">')
'&lt;a href=&quot;x&quot;&gt;'
>>> tsv_text("a\tb\nc\\d")
'a\\tb\\nc\\\\d'
>>> xml("a\x01b & c")
'a\ufffdb &amp; c'
>>> terminal("red \x1b[31mX\x1b[0m\nnext")
'red \\x1b[31mX\\x1b[0m next'
"""

from __future__ import annotations

import html as _html
import json
import re

__all__ = [
    "one_line",
    "latex",
    "latex_comment",
    "bibtex",
    "markdown",
    "md_table_cell",
    "md_fence",
    "html",
    "csv_text",
    "csv_row",
    "tsv_text",
    "script_json",
    "xml_chars",
    "xml",
    "terminal",
]

# Characters that end a line somewhere (Python's str.splitlines set): CR, LF, VT, FF,
# the file/group/record separators, NEL, LINE and PARAGRAPH SEPARATOR.
_LINE_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# C0 and C1 control characters and DEL (tab kept apart: some formats allow it)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# not allowed anywhere in an XML 1.0 document
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def one_line(text: str) -> str:
    r"""``text`` on one line: each line break (CR, LF, NEL, U+2028...) becomes a space.

    >>> one_line("a\r\nb\u2028c")
    'a b c'
    """
    return _LINE_BREAKS.sub(" ", str(text))


def _no_controls(text: str) -> str:
    return _CONTROL.sub("", one_line(text)).replace("\t", " ")


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
          "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
          "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
          "|": r"\textbar{}"}


def latex(text: str) -> str:
    r"""Text for LaTeX body (a table cell, a paragraph): special characters escaped, one line.

    Text that opens with ``[`` or ``*`` is led by ``{}``: as a row's first cell, after the
    previous row's ``\``, LaTeX would read it as that command's ``[length]`` or ``*``.

    >>> latex("[2pt] x"), latex("*star"), latex("a [b]")
    ('{}[2pt] x', '{}*star', 'a [b]')
    """
    out = "".join(_LATEX.get(c, c) for c in _no_controls(text))
    return "{}" + out if out.lstrip().startswith(("[", "*")) else out


def latex_comment(text: str) -> str:
    """Text for the rest of a ``% ...`` comment line: nothing in it can end the line."""
    return _no_controls(text)


_BIBTEX = dict(_LATEX, **{"{": r"\textbraceleft{}", "}": r"\textbraceright{}"})


def bibtex(text: str) -> str:
    """Text for a braced BibTeX field: no raw brace (BibTeX counts even ``\\{``), one line."""
    return "".join(_BIBTEX.get(c, c) for c in _no_controls(text))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#$])")


def markdown(text: str) -> str:
    """Inline Markdown text: punctuation backslash-escaped, ``<``/``&`` as entities (no raw HTML).

    ``$`` is escaped too: GitHub reads ``$...$`` as maths, and ``\\$`` as a dollar sign.
    """
    text = _no_controls(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_table_cell(text: str) -> str:
    """A Markdown table cell: :func:`markdown`, so ``|`` and raw HTML cannot escape the cell."""
    return markdown(text)


def md_fence(text: str, info: str = "") -> str:
    """``text`` as a fenced code block whose fence no line inside can close.

    The fence is one backtick longer than the longest run of backticks in the
    text; control characters other than line feeds are dropped.
    """
    body = "\n".join(_CONTROL.sub("", line).replace("\t", " ")
                     for line in _LINE_BREAKS.split(str(text).rstrip("\n")))
    runs = [len(m) for m in re.findall(r"`+", body)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{info}\n{body}\n{fence}\n"


def html(text: str) -> str:
    r"""Text for HTML content or a quoted attribute (``& < > " '`` as entities), control
    characters dropped and the bidirectional controls shown as ``\uNNNN``, as
    :func:`terminal` shows them: in a ``<title>``, a heading or a tooltip, a U+202E from
    data would show the rest of the line reversed (and ``<title>`` can hold no ``<bdi>``).

    >>> html("Japan\u202e and its partners")
    'Japan\\u202e and its partners'
    """
    return _html.escape(_bidi_visible(_CONTROL.sub("", str(text))), quote=True)


# a cell a spreadsheet would run as a formula (OWASP "CSV injection"), unless it is a number
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z|^[+-]?INF\Z|^NaN\Z")


def csv_text(text: str) -> str:
    """A CSV cell's text (the csv module quotes it): control characters other than tab, CR,
    LF dropped, and a cell that a spreadsheet would read as a formula (it starts with
    ``= + - @``, a tab or CR, and is not a number) prefixed with ``'``, which spreadsheets
    show as text (OWASP, "CSV Injection").

    >>> [csv_text(x) for x in ("=cmd|' /C calc'!A0", "@SUM(A1)", "-1.5e3", "+INF", "Japan")]
    ["'=cmd|' /C calc'!A0", "'@SUM(A1)", '-1.5e3', '+INF', 'Japan']
    """
    text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", str(text))
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def csv_row(values) -> list:
    """A row for a CSV writer: each string through :func:`csv_text`, numbers and None as they are.

    >>> csv_row(["=1+1", 2, None, "JPN"])
    ["'=1+1", 2, None, 'JPN']
    """
    return [csv_text(v) if isinstance(v, str) else v for v in values]


_TSV = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def tsv_text(text: str) -> str:
    r"""A TSV cell's text: :func:`csv_text` (so a formula is text), then backslash, tab, line
    feed and carriage return written as ``\\``, ``\t``, ``\n`` and ``\r``, and the other
    characters that end a line for some reader (U+2028, NEL...) as ``\uNNNN``: the cell stays
    one field on one line, and unescaping gives the text back (the escapes of "linear
    TSV", PostgreSQL's text format and the strings of the SPARQL TSV results format).

    >>> print(tsv_text("=1+1\tx"), tsv_text("C:\\temp\r\nend"))
    '=1+1\tx C:\\temp\r\nend
    """
    return _TSV_BREAKS.sub(lambda m: _TSV.get(m.group()) or f"\\u{ord(m.group()):04x}",
                           csv_text(text))


#: what a TSV cell writes as an escape: the backslash, and every character that ends a line
#: for someone (str.splitlines: also VT, FF, the file/group/record separators, NEL, U+2028/9)
_TSV_BREAKS = re.compile("[\\\\\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def xml_chars(text: str) -> str:
    """Text with every character XML 1.0 forbids replaced by U+FFFD (for an XML writer to escape)."""
    return _XML_FORBIDDEN.sub("\ufffd", str(text))


def xml(text: str) -> str:
    """Text for XML content or a quoted attribute: forbidden characters replaced, markup escaped."""
    return (xml_chars(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


# the bidirectional controls (Unicode's Bidi_Control) that reorder what follows on the line:
# a label holding U+202E shows the rest of a table row reversed ("Trojan Source")
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _bidi_visible(text: str) -> str:
    """Each bidirectional control shown as ``\\uNNNN`` (the rule of :func:`terminal`
    and :func:`html`)."""
    return _BIDI.sub(_visible, text)


def script_json(obj) -> str:
    r"""JSON safe inside a ``<script type="application/json">`` element: ``< > &`` and
    U+2028/U+2029 as ``\u`` escapes, so no ``</script>`` or ``<!--`` can occur; and each
    bidirectional control in a string becomes the text ``\uNNNN`` (as :func:`html`
    shows it), since the page puts these strings into tooltips, menus and canvas labels.
    Keys sorted, no spaces: the same object gives the same text.

    >>> print(script_json({"a": "</script>&", "b": "X\u202eY"}))
    {"a":"\u003c/script\u003e\u0026","b":"X\\u202eY"}
    >>> print(json.loads(script_json("X\u202eY")))
    X\u202eY
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                       allow_nan=False)
    # a raw bidi control can only be inside a JSON string: written as an escaped backslash
    # and the letters, the string holds the visible text
    text = _BIDI.sub(lambda m: "\\" + _visible(m), text)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def terminal(text: str) -> str:
    """Text safe to print on a terminal: line breaks become spaces, other control
    characters (ESC of colour and cursor sequences, BEL, backspace) are shown as ``\\xNN``
    and the bidirectional controls that would reorder the line as ``\\uNNNN``.

    >>> terminal("Japan\u202eNAPAJ")
    'Japan\\\\u202eNAPAJ'
    """
    return _bidi_visible(_CONTROL.sub(_visible, one_line(text).replace("\t", " ")))
