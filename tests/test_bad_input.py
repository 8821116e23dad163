"""Bad input suite (issue 9): every bad file is refused with exit 2, one line naming the file
and position, and the store left byte-for-byte as it was (same fingerprint).

Each case is a small file in tests/fixtures/bad/ (the 50 MB literal is generated in
tmp_path). ``good.ttl`` / ``good.yaml`` are the controls: the same content, valid,
is accepted, so the refusals below are about the defect and nothing else.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

BAD = Path(__file__).resolve().parent / "fixtures" / "bad"

# (file, expected line, a phrase the message must contain)
CASES = [
    ("truncated.ttl", "13", "end of file"),
    ("malformed.ttl", "6", "syntax error"),
    ("latin1.ttl", "3", "UTF-8"),
    ("latin1.yaml", "4", "UTF-8"),
    ("nul.ttl", "3", "NUL byte"),
    ("nul.yaml", "4", "NUL byte"),
    ("doctype.rdf", "2", "DOCTYPE"),
    ("remote-context.jsonld", "2", "remote @context"),
    ("remote-context-import.jsonld", "2", "remote @context"),
    ("wrong-columns-states.csv", "1", "wrong columns"),
    ("duplicate-keys.yaml", "5", "duplicate key 'name'"),
    ("missing-field.yaml", "3", "missing field(s) name"),
    ("relative-iri.ttl", "6", "absolute IRI"),
    ("relative-iri.nt", "1", "absolute IRI"),
    ("bad-date.yaml", "10", "2023-02-30"),
    ("bad-date.ttl", "8", "2023-02-30"),
    ("end-before-start.yaml", "10", "before start"),
    ("end-before-start.ttl", "8", "before start"),
    ("unknown-state.yaml", "10", "QQQ"),
    ("unknown-state.ttl", "8", "QQQ"),
]


@pytest.mark.parametrize("name,line,phrase", CASES, ids=[c[0] for c in CASES])
def test_bad_file_is_refused(store_copy, expect_rejected, name, line, phrase):
    path = BAD / name
    msg = expect_rejected(store_copy, ["ingest", path], str(path), where=line)
    assert phrase in msg


@pytest.mark.parametrize("name", ["good.ttl", "good.yaml"])
def test_controls_are_accepted(store_copy, cli_runner, fingerprint, name):
    before = fingerprint(store_copy)
    res = cli_runner("ingest", BAD / name, store=store_copy)
    assert res.exit_code == 0, res.output
    assert fingerprint(store_copy) != before
    rs = cli_runner("query", "sparql",
                    "ASK { <https://w3id.org/secpart/id/exercise/bad-fixture-2023> a "
                    "<https://w3id.org/secpart/ontology#Exercise> }", store=store_copy)
    assert rs.stdout.strip() == "true"


def test_bad_file_among_good_ones_writes_nothing(store_copy, expect_rejected):
    """All or nothing: a valid file before the bad one is not written either."""
    bad = BAD / "end-before-start.yaml"
    expect_rejected(store_copy, ["ingest", BAD / "good.ttl", bad], str(bad), where="10")


def test_fifty_megabyte_literal(store_copy, expect_rejected, tmp_path):
    path = tmp_path / "huge.ttl"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("<https://w3id.org/secpart/id/state/JPN> "
                 "<http://www.w3.org/2000/01/rdf-schema#label> \"Japan\" .\n")
        fh.write("<https://w3id.org/secpart/id/state/JPN> <http://www.w3.org/2000/01/rdf-schema#comment> \"")
        fh.write("a" * (50 * 1024 * 1024))
        fh.write("\" .\n")
    t0 = time.monotonic()
    msg = expect_rejected(store_copy, ["ingest", path], str(path), where="2")
    assert "limit" in msg
    assert time.monotonic() - t0 < 30


def test_two_megabyte_literal_over_the_limit(store_copy, expect_rejected, tmp_path):
    """Below the parser's buffer but above MAX_LITERAL: refused by our own check."""
    path = tmp_path / "long.nt"
    path.write_text("<https://w3id.org/secpart/id/state/JPN> "
                    "<http://www.w3.org/2000/01/rdf-schema#label> \"Japan\" .\n"
                    "<https://w3id.org/secpart/id/state/JPN> "
                    "<http://www.w3.org/2000/01/rdf-schema#comment> \"" + "b" * 2_000_000 + "\" .\n",
                    encoding="utf-8")
    msg = expect_rejected(store_copy, ["ingest", path], str(path), where="2")
    assert "2,000,000" in msg


def test_entity_bomb_refused_before_parsing(store_copy, expect_rejected):
    """A billion-laughs RDF/XML file is refused in well under a second (never expanded)."""
    path = BAD / "doctype.rdf"
    t0 = time.monotonic()
    expect_rejected(store_copy, ["ingest", path], str(path), where="2")
    assert time.monotonic() - t0 < 2.0


def test_entity_bomb_refused_by_the_parser_function(tmp_path):
    from kg.errors import InputError
    from kg.ingest.rdf import parse_rdf

    t0 = time.monotonic()
    with pytest.raises(InputError) as err:
        parse_rdf(BAD / "doctype.rdf", graph=None, default_graph="https://w3id.org/secpart/graph/user")
    assert "DOCTYPE" in str(err.value)
    assert time.monotonic() - t0 < 0.5
    # a bare <!ENTITY> without a DOCTYPE line, in upper/lower case, is refused too
    p = tmp_path / "entity.rdf"
    p.write_text('<?xml version="1.0"?>\n<!entity x "y">\n<rdf:RDF '
                 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        parse_rdf(p, graph=None, default_graph="https://w3id.org/secpart/graph/user")
    assert err.value.where == "2"


def test_remote_context_is_never_fetched(store_copy, expect_rejected, tmp_path):
    """The @context points at a socket we listen on: no connection ever arrives."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.setblocking(False)
    port = srv.getsockname()[1]
    try:
        path = tmp_path / "ctx.jsonld"
        path.write_text(f'{{"@context": "http://127.0.0.1:{port}/context.jsonld",\n'
                        ' "@id": "https://w3id.org/secpart/id/state/JPN", "name": "Japan"}\n',
                        encoding="utf-8")
        msg = expect_rejected(store_copy, ["ingest", path], str(path), where="1")
        assert "never fetched" in msg
        time.sleep(0.1)
        with pytest.raises(BlockingIOError):
            srv.accept()
    finally:
        srv.close()


def test_inline_jsonld_context_is_accepted(store_copy, cli_runner, tmp_path):
    path = tmp_path / "inline.jsonld"
    path.write_text('{"@context": {"label": "http://www.w3.org/2000/01/rdf-schema#comment"},\n'
                    ' "@id": "https://w3id.org/secpart/id/state/JPN", "label": "inline ok"}\n',
                    encoding="utf-8")
    res = cli_runner("ingest", path, store=store_copy)
    assert res.exit_code == 0, res.output
    rs = cli_runner("query", "sparql", 'ASK { ?s ?p "inline ok" }', store=store_copy)
    assert rs.stdout.strip() == "true"


def test_csv_with_unknown_kind_in_name(store_copy, expect_rejected, tmp_path):
    path = tmp_path / "stuff.csv"
    path.write_text("iso3,name\nZZZ,Zedland\n", encoding="utf-8")
    msg = expect_rejected(store_copy, ["ingest", path], str(path), where=None)
    assert "kind" in msg


def test_csv_with_extra_values_names_the_row(store_copy, expect_rejected, tmp_path):
    path = tmp_path / "my-states.csv"
    path.write_text("iso3,name\nZZZ,Zedland\nZZY,Zyland,extra\n", encoding="utf-8")
    msg = expect_rejected(store_copy, ["ingest", path], str(path), where="3")
    assert "more values than columns" in msg


def test_yaml_syntax_error_names_the_line(store_copy, expect_rejected, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("states:\n  - iso3: ZZZ\n    name: [unclosed\n", encoding="utf-8")
    msg = expect_rejected(store_copy, ["ingest", path], str(path))
    assert "YAML" in msg


def test_yaml_dates_as_unquoted_values_are_checked(store_copy, expect_rejected, tmp_path):
    """An unquoted 2023-02-30 stays text (no implicit YAML dates) and is refused as a date."""
    text = (BAD / "bad-date.yaml").read_text(encoding="utf-8").replace('"2023-02-30"', "2023-02-30")
    path = tmp_path / "unquoted.yaml"
    path.write_text(text, encoding="utf-8")
    msg = expect_rejected(store_copy, ["ingest", path], str(path), where="10")
    assert "not a valid date" in msg


def test_missing_file_and_folder(store_copy, expect_rejected, tmp_path):
    missing = tmp_path / "nope.ttl"
    expect_rejected(store_copy, ["ingest", missing], str(missing), where=None)


def test_unknown_extension(store_copy, expect_rejected, tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"<a> <b> <c> .\n")
    msg = expect_rejected(store_copy, ["ingest", path], str(path), where=None)
    assert "--format" in msg
