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
    ("bom.ttl", "1", "byte order mark (U+FEFF)"),  # was the engine's message, BOM printed unseen
    ("bom.nt", "1", "byte order mark (U+FEFF)"),
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


@pytest.mark.parametrize("name, body", [
    # delimiters inside the literal: no run of a million bytes without one
    ("delims.nt", "\"" + ("a" * 96 + "'<>\\\"") * 15_000 + "\" .\n"),
    # a Turtle long string over many short lines
    ("lines.ttl", '"""' + ("a" * 60 + "\n") * 20_000 + '""" .\n'),
])
def test_long_literal_made_of_short_runs_or_lines(store_copy, expect_rejected, tmp_path, name, body):
    """A literal over the limit is refused however its characters are laid out."""
    path = tmp_path / name
    path.write_text("<https://w3id.org/secpart/id/state/JPN> "
                    "<http://www.w3.org/2000/01/rdf-schema#label> \"Japan\" .\n"
                    "<https://w3id.org/secpart/id/state/JPN> "
                    "<http://www.w3.org/2000/01/rdf-schema#comment> " + body, encoding="utf-8")
    msg = expect_rejected(store_copy, ["ingest", path], str(path), where="2")
    assert "longer than the limit" in msg


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


# ---------------------------------------------------------------- issue 18: hostile inputs

MME_HEADER = ("MMEID,Ex_Name,Series_Name,Location,lat,lon,StartDate,s.year,s.month,s.day,EndDate,"
              "e.year,e.month,e.day,CPX,Air,Land,Sea,Amphibious,Cyber,Warfighting,Peacekeeping,"
              "Humanitarian,FocusDescription,AdditionalParticipantInfo,StateA,StateB,StateC\n")


def _mme_row(i: int, year: str = "1980") -> str:
    return (f"mme{i},Test {i},,Here,1.5,2.5,,{year},1,14,,{year},1,21,0,1,0,1,0,0,1,0,0,x,,"
            "Japan,United States,\n")


def _one_line_error(res, *phrases) -> str:
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kg: error: "), res.stderr
    assert "Traceback" not in res.output
    for p in phrases:
        assert p in lines[0], lines[0]
    return lines[0]


def test_yaml_billion_laughs_refused(store_copy, expect_rejected, tmp_path):
    lol = ["states:", "  - iso3: XXA", '    name: "a"', '    note: &l0 "lol"']
    for i in range(1, 10):
        lol.append(f"    alt: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    f = tmp_path / "laughs.yaml"
    f.write_text("\n".join(lol) + "\n")
    msg = expect_rejected(store_copy, ["ingest", f], str(f), where="5")
    assert "alias" in msg


def test_yaml_and_jsonld_nested_too_deeply(store_copy, expect_rejected, tmp_path):
    y = tmp_path / "deep.yaml"
    y.write_text("states: " + "[" * 3000 + "]" * 3000 + "\n")
    assert "nested" in expect_rejected(store_copy, ["ingest", y], str(y), where="1")
    j = tmp_path / "deep.jsonld"
    j.write_text('{"@context": {"x": "http://x/"}, "x": ' + "[" * 5000 + "]" * 5000 + "}")
    assert "nested" in expect_rejected(store_copy, ["ingest", j], str(j), where=None)
    j.write_text('{"@context": {"x": "http://x/"}, "x": ' + '{"x": ' * 500 + "1" + "}" * 500 + "}")
    assert "nested" in expect_rejected(store_copy, ["ingest", j], str(j), where=None)


def test_devices_and_fifos_are_refused_at_once(built_store, tmp_path):
    """A FIFO blocked forever, /dev/zero read until MemoryError: now one line, at once."""
    import os
    import shutil

    from processes import kg

    store = tmp_path / "store"
    shutil.copytree(built_store, store, ignore=shutil.ignore_patterns("kg.lock"))
    fifo = tmp_path / "pipe.ttl"
    os.mkfifo(fifo)
    for path, fmt, what in ((fifo, "ttl", "FIFO"), ("/dev/zero", "nt", "device"),
                            ("/dev/zero", "cow", "device"), ("/dev/zero", "yaml", "device")):
        t0 = time.monotonic()
        res = kg("--store", store, "ingest", path, "--format", fmt, timeout=60)
        assert res.returncode == 2, res.stderr
        assert what in res.stderr and len(res.stderr.splitlines()) == 1, res.stderr
        assert time.monotonic() - t0 < 30


def test_gzip_bomb_of_newlines_is_bounded(store_copy, expect_rejected, tmp_path, monkeypatch):
    import gzip

    f = tmp_path / "cow_bomb.csv.gz"
    f.write_bytes(gzip.compress(b"ccode1,ccode2,year,cow_defense,cow_neutral,cow_nonagg,cow_entente\n"
                                + b"\n" * 3_000_000, 9))
    assert f.stat().st_size < 10_000
    monkeypatch.setenv("KG_MAX_INPUT_LINES", "100000")
    msg = expect_rejected(store_copy, ["ingest", f, "--format", "cow"], str(f), where="100001")
    assert "more than 100,000 lines" in msg and "KG_MAX_INPUT_LINES" in msg
    monkeypatch.delenv("KG_MAX_INPUT_LINES")
    monkeypatch.setenv("KG_MAX_INPUT_BYTES", "1000000")
    msg = expect_rejected(store_copy, ["ingest", f, "--format", "cow"], str(f), where=None)
    assert "decompresses to more than 1,000,000 bytes" in msg


@pytest.mark.parametrize("year", ["2000000", "12345678901234567890", "1799", "2101"])
def test_mme_year_out_of_range_is_bad_input(store_copy, expect_rejected, tmp_path, year):
    f = tmp_path / "mme_v7.csv"
    f.write_text(MME_HEADER + _mme_row(1) + _mme_row(2, year) + _mme_row(3))
    msg = expect_rejected(store_copy, ["ingest", f, "--format", "mme"], str(f), where="3")
    assert "MMEID mme2" in msg and "1800-2100" in msg


@pytest.mark.parametrize("args", [
    ["metrics", "--by-year", "--from", "-100000000", "--to", "100000000"],
    ["metrics", "--from", "1000"],
    ["metrics", "--by-year", "--to", "99999"],
    ["metrics", "--window", "1000000000"],
    ["export", "--format", "csv", "--from", "20000"],
    ["map", "--to", "3000"],
])
def test_years_outside_range_refused_at_the_cli(cli_runner, args, tmp_path):
    if args[0] == "map":
        args = [*args, "--out", str(tmp_path / "m.html")]
    _one_line_error(cli_runner(*args), args[args.index("--window") if "--window" in args else
                                            (args.index("--from") if "--from" in args
                                             else args.index("--to"))])


@pytest.mark.parametrize("field", ["iso3", "force id"])
def test_ids_ending_in_newline_are_refused(store_copy, expect_rejected, tmp_path, field):
    f = tmp_path / "nl.yaml"
    if field == "iso3":
        f.write_text('states:\n  - iso3: "XXA\\n"\n    name: "Test"\n')
        where = "2"
    else:
        f.write_text('forces:\n  - id: "JPN-GSDF\\n"\n    state: JPN\n    name: "x"\n    domain: land\n')
        where = "2"
    expect_rejected(store_copy, ["ingest", f], str(f), where=where)


def test_graph_option_ending_in_newline_blames_the_option(store_copy, cli_runner):
    res = cli_runner("ingest", BAD / "good.ttl", "--graph", "abc\n", store=store_copy)
    line = _one_line_error(res, "--graph")
    assert str(BAD / "good.ttl") not in line


def test_non_finite_coordinates_refused(store_copy, expect_rejected, tmp_path):
    y = tmp_path / "nan.yaml"
    y.write_text('states:\n  - iso3: XXA\n    name: "Test"\n    lat: .nan\n    lon: 10\n')
    assert "finite" in expect_rejected(store_copy, ["ingest", y], str(y), where="2")
    y.write_text('organizations:\n  - id: test-org\n    name: "Test"\n    lat: .inf\n    lon: 10\n')
    assert "finite" in expect_rejected(store_copy, ["ingest", y], str(y), where="2")
    t = tmp_path / "nan.ttl"
    t.write_text("@prefix sp: <https://w3id.org/secpart/ontology#> .\n"
                 "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                 "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
                 "<https://w3id.org/secpart/id/state/XXA> a sp:State ; sp:iso3 \"XXA\" ;\n"
                 "  rdfs:label \"Test\" ;\n"
                 "  sp:lat \"NaN\"^^xsd:decimal .\n")
    assert "coordinate" in expect_rejected(store_copy, ["ingest", t], str(t), where="4")


def test_mme_extra_values_refused_like_curated_csv(store_copy, expect_rejected, tmp_path):
    f = tmp_path / "mme_v7.csv"
    f.write_text(MME_HEADER + _mme_row(1) + _mme_row(2).rstrip("\n") + ",extra\n")
    msg = expect_rejected(store_copy, ["ingest", f, "--format", "mme"], str(f), where="3")
    assert "more values than columns" in msg


def test_mme_bad_utf8_byte_reported_on_its_line(store_copy, expect_rejected, tmp_path):
    f = tmp_path / "mme_v7.csv"
    rows = [_mme_row(i) for i in range(1, 3000)]
    rows[1499] = rows[1499].replace("Here", "H\xe9re")
    f.write_bytes((MME_HEADER + "".join(rows)).encode("latin-1"))
    msg = expect_rejected(store_copy, ["ingest", f, "--format", "mme"], str(f), where="1501")
    assert "0xe9" in msg


def test_atop_duplicate_rows_warned_not_doubled(shared_data, tmp_path):
    from kg.ingest.atop import parse
    from kg.namespaces import graph_iri

    lines = (shared_data / "atop4_01_member.csv").read_text(encoding="utf-8").splitlines(True)
    f = tmp_path / "atop4_01_member.csv"
    f.write_text("".join(lines[:21]))
    base, warn0 = parse(f, graph_iri("atop"))
    f.write_text("".join(lines[:21]) + lines[5])
    quads, warnings = parse(f, graph_iri("atop"))
    assert len(quads) == len(base)
    new = [w for w in warnings if w not in warn0]
    assert new == [f"{f}:22: duplicate of the row at line 6; skipped"]


def test_input_file_is_read_once(store_copy, tmp_path):
    """Each input is opened once (a file deleted or changed mid-ingest cannot be half-read)."""
    import sys

    from kg.ingest import prepare
    from kg.store import open_store

    f = tmp_path / "once.ttl"
    f.write_text((BAD / "good.ttl").read_text().replace("bad-fixture-2023", "once-2023")
                 + "\n[] <http://www.w3.org/2000/01/rdf-schema#comment> \"a blank node\" .\n")
    opened: list[str] = []
    watching = [True]

    def hook(event, args):
        if watching[0] and event == "open" and str(args[0]) == str(f):
            opened.append(event)

    sys.addaudithook(hook)
    try:
        with open_store(store_copy) as store:
            prepare(store, [f])
    finally:
        watching[0] = False
    assert len(opened) == 1


def test_query_timeout_and_interrupt(built_store):
    import os
    import signal
    import subprocess
    import sys

    from processes import ROOT, clean_env, kg

    heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"
    t0 = time.monotonic()
    res = kg("--store", built_store, "query", "sparql", heavy, "--timeout", "1", timeout=60)
    assert res.returncode == 2 and "stopped after 1 s" in res.stderr, res.stderr
    assert time.monotonic() - t0 < 30
    # a suite started in the background (`make test &`) ignores SIGINT, and a child
    # inherits that: give the child the default disposition, as a terminal's Ctrl-C finds it
    proc = subprocess.Popen([sys.executable, "-m", "kg", "--store", str(built_store), "query",
                             "sparql", heavy], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env(), cwd=str(ROOT),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(3)
    os.kill(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()


def test_a_reader_that_leaves_early_ends_kg_quietly_with_141(built_store):
    """`kg query list | grep -q ...`: the reader closes the pipe before kg writes; kg
    exits as a tool killed by SIGPIPE would (141), with nothing on stderr."""
    import os
    import subprocess
    import sys

    from processes import ROOT, clean_env

    read, write = os.pipe()
    os.close(read)  # the reader is gone before kg starts
    try:
        proc = subprocess.run([sys.executable, "-m", "kg", "--store", str(built_store), "query",
                               "list"], stdout=write, stderr=subprocess.PIPE, env=clean_env(),
                              cwd=str(ROOT), timeout=60)
    finally:
        os.close(write)
    assert proc.returncode == 141
    assert proc.stderr == b""


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "PYTHONUNBUFFERED"])
@pytest.mark.parametrize("command", [
    ["export", "--format", "nt"],  # bytes
    ["query", "sparql", "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "--format", "csv"],  # text
], ids=["export-nt", "query-csv"])
def test_a_reader_that_leaves_mid_output_ends_kg_with_141(built_store, command, unbuffered):
    """`kg export --format nt | head -c 100`: the reader leaves after 100 bytes of
    megabytes. Unbuffered, stdout's raw write takes part of them and returns; kg writes
    the rest, is refused, and exits 141 (it exited 0, the rest lost unnoticed)."""
    import subprocess
    import sys

    from processes import ROOT, clean_env

    proc = subprocess.Popen([sys.executable, "-m", "kg", "--store", str(built_store), *command],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env(PYTHONUNBUFFERED=unbuffered), cwd=str(ROOT))
    assert len(proc.stdout.read(100)) == 100
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 141
    assert err == b""


def test_disk_full_during_a_write_is_one_line(built_store, tmp_path, cli_runner, fingerprint):
    import shutil
    import subprocess

    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small file system here")
    try:
        store = mnt / "store"
        shutil.copytree(built_store, store, ignore=shutil.ignore_patterns("kg.lock"))
        before = fingerprint(store)
        free = shutil.disk_usage(mnt).free
        (mnt / "filler").write_bytes(b"\0" * max(free - 300_000, 0))
        big = tmp_path / "big.nt"
        big.write_text("".join(f"<urn:x:s{i}> <urn:x:p> \"{'v' * 200} {i}\" .\n"
                               for i in range(20000)))
        res = cli_runner("ingest", big, "--graph", "big", store=store)
        _one_line_error(res, "No space left")
        (mnt / "filler").unlink()
        assert fingerprint(store) == before
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.parametrize("args", [
    ["--timeout", "nan", "info"],
    ["query", "sparql", "ASK {}", "--timeout", "nan"],
    ["query", "run", "partners", "--timeout", "-1"],
    ["serve", "--port", "0", "--timeout", "nan"],
])
def test_non_finite_timeouts_refused(cli_runner, args):
    _one_line_error(cli_runner(*args), "timeout")


# ---------------------------------------------------------------- an outside audit, 2 December

@pytest.mark.parametrize("name,text", [("e.ttl", ""), ("p.ttl", "@prefix x: <urn:x#> .\n# none\n"),
                                       ("e.nq", ""), ("e.jsonld", "[]"), ("e.yaml", "")])
@pytest.mark.parametrize("replace", [True, False])
def test_inputs_without_triples_are_refused(store_copy, tmp_path, expect_rejected, name, text,
                                            replace):
    """An empty file with --replace emptied the target graph (exit 0); an empty .nq blamed
    a record it does not hold. No triples at all is bad input, naming the file."""
    from kg.ingest import ingest
    from kg.store import open_store

    held = tmp_path / "held.nt"
    held.write_text('<urn:x:a> <urn:x:b> "held" .\n', encoding="utf-8")
    with open_store(store_copy, write=True) as st:
        ingest(st, [held], graph="mine")  # a graph the replace would empty
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    args = ["ingest", "--graph", "mine", *(["--replace"] if replace else []), str(path)]
    line = expect_rejected(store_copy, args, str(path), where=None)
    assert "no triples to ingest" in line
    assert ("--replace would empty graph mine" in line) == replace


def test_a_folder_given_as_input_is_one_line(store_copy, tmp_path, expect_rejected):
    folder = tmp_path / "dir.ttl"
    folder.mkdir()
    for cmd in (["ingest"], ["validate"]):
        line = expect_rejected(store_copy, [*cmd, str(folder)], str(folder), where=None)
        assert "is a folder" in line


@pytest.mark.parametrize("kind,record", [
    ("exercises", '  - id: malabar-2019\n    series: malabar\n    label: Malabar again\n'
                  '    year: 2019\n    start: "2019-09"\n    participants: [JPN, USA]\n'
                  '    sources: [doj-2020-ref-48]\n'),
    ("states", "  - iso3: JPN\n    name: Japan again\n"),
    ("sources", "  - id: doj-2020-ref-48\n    title: T\n    publisher: P\n    url: https://example.org/\n"),
])
def test_a_yaml_record_with_an_id_already_stored_is_refused(store_copy, tmp_path, expect_rejected,
                                                            kind, record):
    """Ids are unique (data/FORMAT.md): a record reusing a stored id merged into it (two
    labels, two start dates) and kg validate failed afterwards. Now refused at ingest."""
    path = tmp_path / "dup.yaml"
    path.write_text(f"{kind}:\n{record}", encoding="utf-8")
    line = expect_rejected(store_copy, ["ingest", str(path)], str(path), where="2")
    assert "already in the store" in line


_SP = "@prefix sp: <https://w3id.org/secpart/ontology#> .\n"
_STATE = "https://w3id.org/secpart/id/state/"
_EX = "https://w3id.org/secpart/id/exercise/"


@pytest.mark.parametrize("name,body,phrase", [
    ("iso3.ttl", f'{_SP}<{_STATE}JPN> sp:iso3 "JPX" .\n', "exactly one sp:iso3"),
    ("iso3.nt", f'<{_STATE}JPN> <https://w3id.org/secpart/ontology#iso3> "JPX" .\n', "exactly one sp:iso3"),
    # a second year for a stored exercise, and an end before its stored start
    ("year.ttl", f"{_SP}<{_EX}malabar-2019> sp:year 2020 .\n", "exactly one integer sp:year"),
    ("end.ttl", f'{_SP}<{_EX}malabar-2019> sp:endDate "2019-01-01"^^<http://www.w3.org/2001/XMLSchema#date> .\n',
     "before start date"),
    # the same subject typed again in the new file: the stored iso3 counts as well
    ("retyped.ttl", f'{_SP}<{_STATE}JPN> a sp:State ; sp:iso3 "JPX" ; '
                    f'<http://www.w3.org/2000/01/rdf-schema#label> "J"@en .\n', "exactly one sp:iso3"),
])
def test_rdf_that_breaks_a_stored_subject_is_refused(store_copy, tmp_path, expect_rejected, name, body,
                                                     phrase):
    """A triple about a stored subject is checked with the subject's stored triples: a
    second sp:iso3 for Japan was accepted (its graph held no type for Japan) and kg
    validate failed on the store afterwards."""
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    line = expect_rejected(store_copy, ["ingest", str(path)], str(path), where="[12]")
    assert phrase in line
    line = expect_rejected(store_copy, ["ingest", "--graph", "notes", str(path)], str(path), where="[12]")
    assert phrase in line


def test_rdf_about_a_stored_subject_that_breaks_nothing_is_taken(store_copy, tmp_path, cli_runner):
    path = tmp_path / "note.ttl"
    path.write_text(f'<{_STATE}JPN> <http://www.w3.org/2000/01/rdf-schema#comment> "a note" .\n',
                    encoding="utf-8")
    res = cli_runner("ingest", str(path), store=store_copy)
    assert res.exit_code == 0, res.output
    res = cli_runner("validate", store=store_copy)
    assert res.exit_code == 0, res.output


def test_appending_to_a_graph_checks_the_graph_s_stored_triples(store_copy, tmp_path, cli_runner,
                                                               expect_rejected):
    """Two files into one graph, one at a time: the second one's iso3 meets the first's."""
    first = tmp_path / "a.ttl"
    first.write_text(f'{_SP}<{_STATE}XXA> a sp:State ; sp:iso3 "XXA" ; '
                     f'<http://www.w3.org/2000/01/rdf-schema#label> "Testland"@en .\n', encoding="utf-8")
    res = cli_runner("ingest", "--graph", "mine", str(first), store=store_copy)
    assert res.exit_code == 0, res.output
    second = tmp_path / "b.nt"
    second.write_text(f'<{_STATE}XXA> <https://w3id.org/secpart/ontology#iso3> "XXB" .\n', encoding="utf-8")
    line = expect_rejected(store_copy, ["ingest", "--graph", "mine", str(second)], str(second), where="1")
    assert "exactly one sp:iso3" in line
    # with --replace the graph's old triples go, so nothing conflicts (XXA untyped is no state)
    res = cli_runner("ingest", "--graph", "mine", "--replace", str(second), store=store_copy)
    assert res.exit_code == 0, res.output


# ---------------------------------------------------------------- field datasets: broken records
# Each case is a few real lines of a shared dataset copied into tmp_path with one line broken.
# A record whose fields would shift (a value missing or extra) or that runs over several
# lines (an unmatched quote) is refused in both modes, naming the line it starts on.

# format -> (shared file, name of the copy, lines copied, line broken)
FIELD_FILES = {
    "mme": ("mme_v7.csv", "mme_v7.csv", 30, 6),  # 6-8: no quotes of their own
    "atop": ("atop5_1m.csv", "atop5_1m.csv", 111, 101),  # 101: alliance 1125, a defence pact
    "cow": ("cow4_1_alliance_ddy.csv.gz", "cow4_1_alliance_ddy.csv", 40, 12),
    "cow-states": ("cow_states2016.csv", "states2016.csv", 40, 21),  # 21: Belize
}


def _real_lines(shared_data, fmt: str) -> tuple[list[str], str, int]:
    import gzip

    src, name, keep, broken = FIELD_FILES[fmt]
    path = shared_data / src
    opener = gzip.open if src.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        lines = [fh.readline() for _ in range(keep)]
    return lines, name, broken


def _field_file(tmp_path, shared_data, fmt: str, change=None) -> tuple[Path, int]:
    """A copy of the first lines of ``fmt``'s real file, line ``broken`` passed through ``change``."""
    lines, name, broken = _real_lines(shared_data, fmt)
    if change is not None:
        lines[broken - 1] = change(lines[broken - 1])
    f = tmp_path / name
    f.write_text("".join(lines), encoding="utf-8")
    return f, broken


def _drop_field(line: str, i: int = 11) -> str:
    fields = line.rstrip("\r\n").split(",")
    del fields[min(i, len(fields) - 2)]
    return ",".join(fields) + "\n"


def _open_quote(line: str) -> str:
    first, rest = line.split(",", 1)
    return f'{first},"{rest}'


@pytest.mark.parametrize("fmt", list(FIELD_FILES))
def test_field_dataset_controls_are_accepted(store_copy, cli_runner, shared_data, tmp_path, fmt):
    f, _ = _field_file(tmp_path, shared_data, fmt)
    res = cli_runner("ingest", "--format", fmt, f, store=store_copy)
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
@pytest.mark.parametrize("fmt", list(FIELD_FILES))
def test_field_dataset_row_missing_a_value_is_refused(store_copy, expect_rejected, shared_data,
                                                      tmp_path, fmt, strict):
    """ATOP 5.1 line 101 without ``ineffect`` stored alliance 1125's defence obligation as
    consultation (even with --strict); MME warned about the wrong thing and stored the row."""
    f, line = _field_file(tmp_path, shared_data, fmt, _drop_field)
    width = len(_real_lines(shared_data, fmt)[0][0].split(","))
    args = ["ingest", "--format", fmt, *(["--strict"] if strict else []), f]
    msg = expect_rejected(store_copy, args, str(f), where=str(line))
    assert f"row has {width - 1} fields, the header {width}" in msg
    assert "integers" not in msg and "outside" not in msg


@pytest.mark.parametrize("fmt", list(FIELD_FILES))
def test_field_dataset_row_with_an_extra_value_is_refused(store_copy, expect_rejected, shared_data,
                                                          tmp_path, fmt):
    f, line = _field_file(tmp_path, shared_data, fmt, lambda s: s.rstrip("\r\n") + ",1\n")
    width = len(_real_lines(shared_data, fmt)[0][0].split(","))
    msg = expect_rejected(store_copy, ["ingest", "--format", fmt, f], str(f), where=str(line))
    assert f"row has {width + 1} fields, the header {width}" in msg
    assert "more values than columns" in msg


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
@pytest.mark.parametrize("fmt", list(FIELD_FILES))
def test_field_dataset_unmatched_quote_names_its_line(store_copy, expect_rejected, shared_data,
                                                      tmp_path, fmt, strict):
    """``BLZ,"80,Belize,...`` swallowed the 224 lines after it without a word; now the
    line of the quote is named, not the end of the file."""
    f, line = _field_file(tmp_path, shared_data, fmt, _open_quote)
    args = ["ingest", "--format", fmt, *(["--strict"] if strict else []), f]
    msg = expect_rejected(store_copy, args, str(f), where=str(line))
    assert "unmatched quote" in msg


def test_quote_in_the_middle_of_a_field_is_named(store_copy, expect_rejected, shared_data, tmp_path):
    """MME line 5 holds quoted fields: a stray quote before its id is closed by the next
    quote, and the text after that is refused on line 5."""
    lines, name, _ = _real_lines(shared_data, "mme")
    lines[4] = _open_quote(lines[4])
    f = tmp_path / name
    f.write_text("".join(lines), encoding="utf-8")
    msg = expect_rejected(store_copy, ["ingest", "--format", "mme", f], str(f), where="5")
    assert "unmatched quote" in msg


@pytest.mark.parametrize("fmt", list(FIELD_FILES))
def test_field_dataset_record_over_several_lines_names_where_it_starts(
        store_copy, expect_rejected, shared_data, tmp_path, fmt):
    """A second stray quote closes the first: the record runs over lines; the first is named."""
    lines, name, broken = _real_lines(shared_data, fmt)
    lines[broken - 1] = _open_quote(lines[broken - 1])
    lines[broken + 1] = lines[broken + 1].replace(",", '",', 1)
    f = tmp_path / name
    f.write_text("".join(lines), encoding="utf-8")
    msg = expect_rejected(store_copy, ["ingest", "--format", fmt, f], str(f), where=str(broken))
    assert f"line break (the record runs from line {broken} to {broken + 2})" in msg


def test_unmatched_quote_in_a_header_names_line_one(shared_data, tmp_path):
    from kg.errors import InputError
    from kg.ingest.cow_states import parse
    from kg.namespaces import graph_iri

    lines, name, _ = _real_lines(shared_data, "cow-states")
    f = tmp_path / name
    closed = lines[2].replace(",", '",', 1)  # a second stray quote, on line 3, closes it
    for text, phrase in ((_open_quote(lines[0]) + "".join(lines[1:]), "never closed"),
                         (_open_quote(lines[0]) + lines[1] + closed + "".join(lines[3:]),
                          "line break")):
        f.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as ei:
            parse(f, graph_iri("cow-states"))
        assert str(ei.value).startswith(f"{f}:1: ") and phrase in str(ei.value), str(ei.value)


# ---------------------------------------------------------------- field datasets: headers

# format -> (a column the importer reads, renamed as)
RENAMED = {"mme": ("StateA", "Country1"), "atop": ("ineffect", "in_effect"),
           "cow": ("cow_entente", "entente"), "cow-states": ("endday", "end_day")}


@pytest.mark.parametrize("fmt", list(FIELD_FILES))
def test_field_dataset_renamed_column_is_named(store_copy, expect_rejected, shared_data, tmp_path,
                                               fmt):
    """MME with ``Country1`` for ``StateA`` dropped the first participant of every exercise."""
    old, new = RENAMED[fmt]
    lines, name, _ = _real_lines(shared_data, fmt)
    assert f",{old}," in f",{lines[0].rstrip()},"
    lines[0] = f",{lines[0]}".replace(f",{old},", f",{new},", 1)[1:].replace(f",{old}\n", f",{new}\n")
    f = tmp_path / name
    f.write_text("".join(lines), encoding="utf-8")
    msg = expect_rejected(store_copy, ["ingest", "--format", fmt, f], str(f), where="1")
    assert "missing" in msg and old in msg


@pytest.mark.parametrize("column", ["lat", "Series_Name", "CPX", "e.day", "StateC",
                                    "AdditionalParticipantInfo"])
def test_mme_every_column_read_is_required(shared_data, tmp_path, column):
    from kg.errors import InputError
    from kg.ingest.mme import parse
    from kg.namespaces import graph_iri

    lines, name, _ = _real_lines(shared_data, "mme")
    lines[0] = lines[0].replace(f",{column},", ",Renamed,", 1)
    f = tmp_path / name
    f.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as ei:
        parse(f, graph_iri("mme"))
    assert str(ei.value) == f"{f}:1: missing MME column(s) {column}"


def test_mme_column_it_does_not_read_is_warned(shared_data, tmp_path):
    """The last participant column renamed leaves StateA..StateAL whole: kg says what it ignores."""
    from kg.ingest.mme import parse
    from kg.namespaces import graph_iri

    lines, name, _ = _real_lines(shared_data, "mme")
    lines[0] = lines[0].replace(",StateAM", ",Country39")
    f = tmp_path / name
    f.write_text("".join(lines), encoding="utf-8")
    _, warnings = parse(f, graph_iri("mme"))
    assert warnings == [f"{f}:1: column(s) 'Country39' are not MME v7 columns; ignored"]


def test_atop_alliance_file_columns_are_required(shared_data, tmp_path):
    """The alliance file beside the member file dates every alliance: a renamed column is named."""
    from kg.errors import InputError
    from kg.ingest.atop import parse
    from kg.namespaces import graph_iri

    member, name, _ = _real_lines(shared_data, "atop")
    ids = {line.split(",", 1)[0] for line in member[1:]}
    with open(shared_data / "atop5_1a.csv", encoding="utf-8", newline="") as fh:
        alliance = [line for i, line in enumerate(fh) if i == 0 or line.split(",", 1)[0] in ids]
    (tmp_path / name).write_text("".join(member), encoding="utf-8")
    a = tmp_path / "atop5_1a.csv"
    a.write_text("".join(alliance), encoding="utf-8")
    quads, _ = parse(tmp_path / name, graph_iri("atop"))  # the control
    assert any(q.predicate.value.endswith("#signedDate") for q in quads)
    a.write_text(alliance[0].replace(",begyr,", ",beginyear,") + "".join(alliance[1:]),
                 encoding="utf-8")
    with pytest.raises(InputError) as ei:
        parse(tmp_path / name, graph_iri("atop"))
    assert str(ei.value) == f"{a}:1: missing column(s) begyr"


# ---------------------------------------------------------------- field datasets: --strict

def _set_field(line: str, i: int, value: str) -> str:
    import csv
    import io

    row = next(csv.reader([line]))
    row[i] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    return out.getvalue()


@pytest.mark.parametrize("column,value", [("lat", "abc"), ("lon", "200")])
def test_mme_bad_coordinate_is_an_error_under_strict(store_copy, cli_runner, expect_rejected,
                                                      shared_data, tmp_path, column, value):
    """``lat`` = ``abc`` was only a warning under --strict (exit 0)."""
    i = _real_lines(shared_data, "mme")[0][0].split(",").index(column)
    f, line = _field_file(tmp_path, shared_data, "mme", lambda s: _set_field(s, i, value))
    msg = expect_rejected(store_copy, ["ingest", "--format", "mme", "--strict", f], str(f),
                          where=str(line))
    assert f"{column} " in msg and value in msg
    res = cli_runner("ingest", "--format", "mme", f, store=store_copy)  # without: a warning
    assert res.exit_code == 0, res.output
    assert f"{f}:{line}: " in res.stderr and "left out" in res.stderr


def test_atop_duplicate_row_is_an_error_under_strict(shared_data, tmp_path):
    from kg.errors import InputError
    from kg.ingest.atop import parse
    from kg.namespaces import graph_iri

    lines, name, _ = _real_lines(shared_data, "atop")
    f = tmp_path / name
    f.write_text("".join(lines) + lines[5], encoding="utf-8")
    with pytest.raises(InputError) as ei:
        parse(f, graph_iri("atop"), strict=True)
    assert str(ei.value) == f"{f}:{len(lines) + 1}: duplicate of the row at line 6; skipped"


def test_atop_end_before_begin_names_the_alliance_line(shared_data, tmp_path):
    """It was a warning naming only the member file, and no error under --strict."""
    from kg.errors import InputError
    from kg.ingest.atop import parse
    from kg.namespaces import graph_iri

    member, name, _ = _real_lines(shared_data, "atop")
    ids = {line.split(",", 1)[0] for line in member[1:]}
    with open(shared_data / "atop5_1a.csv", encoding="utf-8", newline="") as fh:
        alliance = [line for i, line in enumerate(fh) if i == 0 or line.split(",", 1)[0] in ids]
    endyr = alliance[0].split(",").index("endyr")
    at = next(i for i, line in enumerate(alliance) if line.startswith("1125,"))
    alliance[at] = _set_field(alliance[at], endyr, "1840")  # begun 1847
    (tmp_path / name).write_text("".join(member), encoding="utf-8")
    a = tmp_path / "atop5_1a.csv"
    a.write_text("".join(alliance), encoding="utf-8")
    quads, warnings = parse(tmp_path / name, graph_iri("atop"))
    assert [w for w in warnings if "before begin" in w] == [
        f"{a}:{at + 1}: atopid 1125: end 1840-05 before begin 1847-12-24; end left out"]
    assert not [q for q in quads if q.subject.value.endswith("/atop-1125")
                and q.predicate.value.endswith("#endDate")]
    with pytest.raises(InputError) as ei:
        parse(tmp_path / name, graph_iri("atop"), strict=True)
    assert str(ei.value).startswith(f"{a}:{at + 1}: atopid 1125: end 1840-05 before begin")


def test_unmatched_quote_in_a_large_file_names_its_line(shared_data, tmp_path):
    """Past the csv module's field limit the swallowed lines are still blamed on the quote."""
    import gzip

    from kg.errors import InputError
    from kg.ingest.cow import parse
    from kg.namespaces import graph_iri

    with gzip.open(shared_data / "cow4_1_alliance_ddy.csv.gz", "rt", encoding="utf-8",
                   newline="") as fh:
        lines = [fh.readline() for _ in range(30000)]
    lines[50] = _open_quote(lines[50])
    f = tmp_path / "cow4_1_alliance_ddy.csv.gz"
    f.write_bytes(gzip.compress("".join(lines).encode()))
    with pytest.raises(InputError) as ei:
        parse(f, graph_iri("cow"))
    assert str(ei.value).startswith(f"{f}:51: ") and "unmatched quote" in str(ei.value)


@pytest.mark.parametrize("graph, name, text", [
    ("curated", "x.nt", '<urn:x:a> <urn:x:b> "c" .\n'),
    ("ontology", "x.nt", '<urn:x:a> <urn:x:b> "c" .\n'),
    ("curated", "x.yaml", "states:\n  - iso3: XQZ\n    name: Nowhere\n"),
    (None, "x.nq", '<urn:x:a> <urn:x:b> "c" <https://w3id.org/secpart/graph/curated> .\n'),
])
def test_kg_build_s_graphs_are_not_ingest_targets(store_copy, tmp_path, expect_rejected, graph,
                                                  name, text):
    """kg build replaces the ontology and curated graphs whole: what kg ingest added to them
    was dropped by the next build without a word. Now the ingest is refused."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    args = ["ingest", *(["--graph", graph] if graph else []), str(path)]
    line = expect_rejected(store_copy, args, None)
    assert "is written by kg build" in line and "--graph NAME" in line


def test_an_endpoint_s_result_is_refused_for_a_built_graph_before_the_endpoint_is_asked(
        store_copy, tmp_path, expect_rejected):
    """Port 9 (discard) has no SPARQL server here: the refusal comes before any request."""
    query = tmp_path / "q.rq"
    query.write_text("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1\n", encoding="utf-8")
    line = expect_rejected(store_copy, ["ingest", "--from-endpoint", "http://127.0.0.1:9/sparql",
                                        "--query", str(query), "--graph", "curated"], None)
    assert "graph curated is written by kg build" in line
