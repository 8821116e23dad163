"""kg.ingest: every RDF format, graph targeting, replace, all-or-nothing, build idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.errors import InputError, UsageError
from kg.ingest import build, detect_kind, ingest
from kg.store import open_store

BAD = Path(__file__).resolve().parent / "fixtures" / "bad"
S = "https://w3id.org/secpart/id/state/"
USER = "https://w3id.org/secpart/graph/user"

# one user-added state (only iso3 + label, which is all the shapes ask for), in every format
TTL = f'@prefix sp: <https://w3id.org/secpart/ontology#> .\n<{S}ZZZ> a sp:State ; sp:iso3 "ZZZ" ; ' \
      f'<http://www.w3.org/2000/01/rdf-schema#label> "Zedland"@en .\n'
NT = (f'<{S}ZZZ> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
      f'<https://w3id.org/secpart/ontology#State> .\n'
      f'<{S}ZZZ> <https://w3id.org/secpart/ontology#iso3> "ZZZ" .\n'
      f'<{S}ZZZ> <http://www.w3.org/2000/01/rdf-schema#label> "Zedland"@en .\n')
NQ = NT.replace(" .\n", f" <{USER}> .\n")
TRIG = f"<{USER}> {{\n{NT}}}\n"
JSONLD = json.dumps({"@id": f"{S}ZZZ", "@type": "https://w3id.org/secpart/ontology#State",
                     "https://w3id.org/secpart/ontology#iso3": "ZZZ",
                     "http://www.w3.org/2000/01/rdf-schema#label": {"@value": "Zedland",
                                                                    "@language": "en"}})
RDFXML = f'''<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns:sp="https://w3id.org/secpart/ontology#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
  <sp:State rdf:about="{S}ZZZ"><sp:iso3>ZZZ</sp:iso3><rdfs:label xml:lang="en">Zedland</rdfs:label></sp:State>
</rdf:RDF>
'''
FORMATS = {"x.ttl": TTL, "x.nt": NT, "x.nq": NQ, "x.trig": TRIG, "x.jsonld": JSONLD, "x.rdf": RDFXML}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_rdf_format_gives_the_same_graph(store_copy, tmp_path, name):
    f = tmp_path / name
    f.write_text(FORMATS[name], encoding="utf-8")
    with open_store(store_copy, write=True) as st:
        report = ingest(st, [f])
        assert report.graphs == {"user": 3}
        fp = st.fingerprint(["user"])["graphs"]["user"]
    ref = tmp_path / "ref.nt"
    ref.write_text(NT, encoding="utf-8")
    with open_store(tmp_path / "other", write=True) as st:
        ingest(st, [ref])
        # same triples in the same graph give the same fingerprint
        assert st.fingerprint(["user"])["graphs"]["user"] == fp


def test_user_state_can_then_take_part_in_exercises(store_copy, tmp_path):
    f = tmp_path / "zzz.ttl"
    f.write_text(TTL, encoding="utf-8")
    ex = tmp_path / "ex.yaml"
    ex.write_text((BAD / "good.yaml").read_text(encoding="utf-8").replace("JPN, USA", "JPN, ZZZ"),
                  encoding="utf-8")
    with open_store(store_copy, write=True) as st:
        ingest(st, [f])
        ingest(st, [ex], graph="mine")
        rows = st.select("SELECT ?p WHERE { ?e <https://w3id.org/secpart/ontology#participant> ?p "
                         "FILTER(STRENDS(STR(?e), 'bad-fixture-2023')) } ORDER BY ?p").dicts()
    assert [r["p"] for r in rows] == [S + "JPN", S + "ZZZ"]


def test_graph_option_and_replace(store_copy, tmp_path):
    f = tmp_path / "x.nt"
    f.write_text(NT, encoding="utf-8")
    g = tmp_path / "y.nt"
    g.write_text(f'<{S}ZZZ> <http://www.w3.org/2000/01/rdf-schema#comment> "c" .\n', encoding="utf-8")
    with open_store(store_copy, write=True) as st:
        ingest(st, [f], graph="mine")
        ingest(st, [g], graph="mine")
        assert st.graph_sizes()["mine"] == 4
        r = ingest(st, [g], graph="mine", replace=True)
        assert r.replaced and st.graph_sizes()["mine"] == 1
        with pytest.raises(UsageError):
            ingest(st, [f], graph="Bad Name")
        with pytest.raises(UsageError):
            ingest(st, [])


def test_nquads_outside_our_graphs_refused(store_copy, tmp_path):
    f = tmp_path / "x.nq"
    f.write_text(NT.replace(" .\n", " <http://example.org/g> .\n"), encoding="utf-8")
    with open_store(store_copy, write=True) as st:
        before = st.fingerprint()
        with pytest.raises(InputError) as err:
            ingest(st, [f])
        assert "--graph" in str(err.value)
        ingest(st, [f], graph="moved")  # --graph puts everything in one of ours
        assert st.graph_sizes()["moved"] == 3
        assert st.fingerprint()["graphs"]["curated"] == before["graphs"]["curated"]


def test_blank_nodes_skolemized_deterministically(tmp_path):
    f = tmp_path / "b.ttl"
    f.write_text('<http://x/a> <http://x/p> [ <http://x/q> "1" ] .\n', encoding="utf-8")
    fps = []
    for i in range(2):
        with open_store(tmp_path / f"s{i}", write=True) as st:
            ingest(st, [f])
            assert st.select("SELECT * WHERE { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }").rows == []
            fps.append(st.fingerprint()["all"])
    assert fps[0] == fps[1]


def test_all_or_nothing_library(store_copy):
    with open_store(store_copy, write=True) as st:
        before = st.fingerprint()
        with pytest.raises(InputError) as err:
            ingest(st, [BAD / "good.ttl", BAD / "unknown-state.yaml"])
        assert err.value.file == str(BAD / "unknown-state.yaml") and err.value.where == "10"
        assert st.fingerprint() == before


def test_detect_kind():
    assert detect_kind("a/b.yaml", None) == "curated"
    assert detect_kind("a/b-states.csv", None) == "curated"
    assert detect_kind("a/b.ttl", None) == "rdf"
    assert detect_kind("a/b.csv", "mme") == "mme"
    assert detect_kind("a/b.txt", "ttl") == "rdf"


def test_build_idempotent_library(tmp_path):
    with open_store(tmp_path / "s", write=True) as st:
        r1 = build(st)
        fp1 = st.fingerprint()
        build(st)
        assert st.fingerprint() == fp1
        assert set(r1.graphs) == {"curated", "ontology"}
        assert st.graph_sizes()["curated"] == r1.graphs["curated"]


def test_engine_fast_path_and_python_path_give_the_same_graph(tmp_path):
    """N-Triples without blank nodes load in the engine; the same triples through the
    Python parser (a Turtle file whose '(' forces it) give the same graph."""
    from kg.ingest.rdf import load_rdf_fast

    lines = [
        f'<https://w3id.org/secpart/id/state/X{c}{c}> <http://www.w3.org/2000/01/rdf-schema#label> '
        f'"State {c} (test)"@en .'
        for c in "ABC"
    ] + [
        f'<https://w3id.org/secpart/id/state/X{c}{c}> <https://w3id.org/secpart/ontology#iso3> "X{c}{c}" .'
        for c in "ABC"
    ] + [
        f'<https://w3id.org/secpart/id/state/X{c}{c}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
        '<https://w3id.org/secpart/ontology#State> .'
        for c in "ABC"
    ]
    nt = tmp_path / "states.nt"
    nt.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ttl = tmp_path / "states.ttl"
    ttl.write_text("\n".join(lines) + "\n", encoding="utf-8")  # N-Triples is valid Turtle

    import pyoxigraph as ox

    assert load_rdf_fast(ox.Store(), nt, graph=None, default_graph="urn:x:g") == "urn:x:g"
    assert load_rdf_fast(ox.Store(), ttl, graph=None, default_graph="urn:x:g") is None  # '('

    prints = []
    for f in (nt, ttl):
        with open_store(tmp_path / f"store-{f.suffix[1:]}", write=True) as store:
            report = ingest(store, [f], graph="extra")
            assert report.graphs == {"extra": 9}
            prints.append(store.fingerprint()["all"])
    assert prints[0] == prints[1]


def test_failed_write_in_process_rolls_back_to_the_checkpoint(tmp_path):
    """An error inside the write bracket restores the checkpoint: nothing half-written."""
    with open_store(tmp_path / "store", write=True) as store:
        store.write_graphs({"https://w3id.org/secpart/graph/a": b"<urn:x:s> <urn:x:p> <urn:x:o> .\n"},
                           replace=True)
        before = store.fingerprint()
        bad = {"https://w3id.org/secpart/graph/a": b"<urn:x:s> <urn:x:p> <urn:x:o2> .\n",
               "https://w3id.org/secpart/graph/b": b"this is not N-Triples\n"}
        with pytest.raises(SyntaxError):
            store.write_graphs(bad, replace=True)
        assert store.fingerprint() == before
        assert not (tmp_path / "store" / "write.journal").exists()
        assert not (tmp_path / "store" / "checkpoint").exists()


# ------------------------------------------------------------------ the direct and streaming paths


def _states_nt(path: Path, codes: str = "ABC") -> Path:
    lines = []
    for c in codes:
        s = f"<https://w3id.org/secpart/id/state/X{c}{c}>"
        lines += [f'{s} <http://www.w3.org/2000/01/rdf-schema#label> "State {c}"@en .',
                  f'{s} <https://w3id.org/secpart/ontology#iso3> "X{c}{c}" .',
                  f'{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
                  '<https://w3id.org/secpart/ontology#State> .']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("replace", [False, True])
def test_streaming_in_memory_and_python_paths_give_the_same_store(store_copy, tmp_path, replace):
    """The same N-Triples through the streaming path (validated in the store), the direct
    in-memory path and the Python parser (forced by a '(' in a Turtle copy) give the same
    graphs and the same report."""
    import shutil

    nt = _states_nt(tmp_path / "states.nt")
    ttl = tmp_path / "states.ttl"
    ttl.write_text(nt.read_text(encoding="utf-8") + "# (forces the Python parser)\n",
                   encoding="utf-8")
    prints, reports = [], []
    for label, f, stream in (("stream", nt, True), ("memory", nt, False), ("python", ttl, None)):
        path = shutil.copytree(store_copy, tmp_path / label)
        with open_store(path, write=True) as st:
            ingest(st, [_states_nt(tmp_path / "old.nt", "DE")], graph="extra")
            report = ingest(st, [f], graph="extra", replace=replace, stream=stream)
            reports.append(report.graphs)
            prints.append(st.fingerprint())
            assert st.graph_sizes()["extra"] == (9 if replace else 15)
    assert prints[0] == prints[1] == prints[2]
    assert reports[0] == reports[1] == reports[2] == {"extra": 9}


@pytest.mark.parametrize("stream", [False, True])
def test_direct_path_refuses_a_violation_and_writes_nothing(store_copy, stream):
    """unknown-state.ttl is blank-node free: it takes the direct path, and is still refused
    with its file, and the store keeps what it had."""
    from kg.ingest import _direct_loads

    path = BAD / "unknown-state.ttl"
    with open_store(store_copy, write=True) as st:
        assert _direct_loads(st, [path], None, None) is not None
        before = st.fingerprint()
        with pytest.raises(InputError) as err:
            ingest(st, [path], stream=stream)
        assert "QQQ" in str(err.value) and str(path) in str(err.value)
        assert st.fingerprint() == before
    assert not (store_copy / "write.journal").exists()


def test_streaming_syntax_error_names_the_real_line(store_copy, tmp_path):
    f = _states_nt(tmp_path / "broken.nt")
    f.write_text(f.read_text(encoding="utf-8") + "<https://w3id.org/x> <broken .\n",
                 encoding="utf-8")
    with open_store(store_copy, write=True) as st:
        before = st.fingerprint()
        with pytest.raises(InputError) as err:
            ingest(st, [f], stream=True)
        assert err.value.where == "10" and str(f) in str(err.value)
        assert st.fingerprint() == before


def test_streaming_ingest_keeps_one_dataset_version_per_graph(store_copy, tmp_path):
    """The streaming path (files bigger than memory) holds nothing in memory: it checks the
    versions on the loaded checkpoint, and the write is undone."""
    first = _dataset_ttl(tmp_path / "a.ttl", "a", "7")
    other = _dataset_ttl(tmp_path / "b.ttl", "b", "5.1")
    with open_store(store_copy, write=True) as st:
        ingest(st, [first], graph="ds", stream=True)
        before = st.fingerprint()
        with pytest.raises(InputError) as err:
            ingest(st, [other], graph="ds", stream=True)
        assert "graph ds would hold versions 5.1, 7 of its datasets, stored and new" in str(
            err.value) and str(other) in str(err.value)
        assert st.fingerprint() == before
        ingest(st, [other], graph="ds", stream=True, replace=True)  # replacing is the way
        assert st.fingerprint() != before


def test_stream_threshold_from_the_environment(monkeypatch):
    from kg.ingest import stream_threshold

    monkeypatch.setenv("KG_STREAM_BYTES", "1234")
    assert stream_threshold() == 1234
    monkeypatch.delenv("KG_STREAM_BYTES")
    assert stream_threshold() > 1_000_000


@pytest.mark.parametrize("bad, what", [(b"\x00", "NUL byte"), (b"\xff", "not valid UTF-8")])
def test_file_scan_names_the_line_of_a_bad_byte_in_a_later_block(tmp_path, bad, what):
    """The scan reads blocks of whole lines and counts lines only for an error: the line
    it names is the file's, whichever block the byte is in."""
    from kg.ingest.rdf import scan_file

    lines = [b'<urn:s%d> <urn:p> "v%d" .\n' % (i, i) for i in range(1, 301)]
    lines[236] = lines[236].replace(b'"v', b'"' + bad + b"v")
    path = tmp_path / "bad.nt"
    path.write_bytes(b"".join(lines))
    with pytest.raises(InputError, match=what) as err:
        scan_file(path, "N_TRIPLES", chunk_bytes=500)  # about 20 lines a block
    assert err.value.where == "237"


def test_long_line_test_agrees_with_measuring_every_line():
    """:func:`kg.ingest.rdf._line_over` (break-free windows, no split into lines) finds a
    line over the limit exactly when measuring every line does, wherever it sits."""
    import random

    from kg.ingest.rdf import _line_over

    rng = random.Random(7)
    for _ in range(3000):
        limit = rng.randint(1, 40)
        lines = [b"x" * rng.randint(0, 2 * limit) + b"\n" for _ in range(rng.randint(0, 6))]
        if lines and rng.random() < 0.5:
            lines[-1] = lines[-1][:-1]  # a last line without its break
        block = b"".join(lines)
        assert _line_over(block, limit) == any(len(line) > limit for line in lines), (block, limit)


# ---------------------------------------------------------------- new data about stored subjects

_ISO3 = "https://w3id.org/secpart/ontology#iso3"
_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"


def test_touched_subjects_are_the_same_from_either_side(store_copy, tmp_path, monkeypatch):
    """The store's subjects looked up in the new data (a small store) or the new data's in
    the store (a big one, forced here by a cap of 0) give the same touched subjects."""
    import kg.ingest as ki

    f = tmp_path / "t.nt"
    f.write_text(f'<{S}JPN> <{_COMMENT}> "x" .\n<{S}AUS> <{_COMMENT}> "y" .\n'
                 f'<{S}ZZZ> <{_COMMENT}> "not stored" .\n', encoding="utf-8")
    with open_store(store_copy) as st:
        mem, targets, _w, _r = ki.assemble(st, [f])
        graphs = st.graph_iris()
        small = sorted(ki._touched_subjects(st, mem, targets, graphs))
        monkeypatch.setattr(ki, "_STORE_SUBJECTS_CAP", 0)
        big = sorted(ki._touched_subjects(st, mem, targets, graphs))
    assert small == big == [f"{S}AUS", f"{S}JPN"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_stored_subject_s_old_violation_is_not_blamed_on_new_data(store_copy, tmp_path, stream):
    """Korea given a second iso3 behind kg's back (the raw engine) breaks a shape already;
    a harmless note about Korea is taken, a file that breaks another shape is not, in
    memory or streamed."""
    import pyoxigraph as ox

    with open_store(store_copy, write=True) as st:
        st.db.add(ox.Quad(ox.NamedNode(f"{S}KOR"), ox.NamedNode(_ISO3), ox.Literal("ROK"),
                          ox.NamedNode("https://w3id.org/secpart/graph/legacy")))
    note = tmp_path / "note.nt"
    note.write_text(f'<{S}KOR> <{_COMMENT}> "a note" .\n', encoding="utf-8")
    bad = tmp_path / "bad.nt"
    bad.write_text(f'<{S}KOR> <{_ISO3}> "korea" .\n', encoding="utf-8")
    with open_store(store_copy, write=True) as st:
        assert ingest(st, [note], stream=stream).graphs == {"user": 1}
        with pytest.raises(InputError, match="upper-case letters"):
            ingest(st, [bad], graph="other", stream=stream)
        assert "other" not in st.graph_names()


@pytest.mark.parametrize("engine", ["oxigraph", "pyshacl"])
def test_kg_validate_file_sees_the_stored_triples_too(store_copy, tmp_path, engine):
    from kg.ingest.check import validate_files

    f = tmp_path / "iso.nt"
    f.write_text(f'<{S}JPN> <{_ISO3}> "JPX" .\n', encoding="utf-8")
    with open_store(store_copy) as st:
        found = validate_files([str(f)], engine=engine, store=st)
    assert [(v.focus, v.constraint) for v in found] == [(f"{S}JPN", "StateIso3-maxCount")]
    assert validate_files([str(f)], engine=engine) == []  # no store: nothing to conflict with


@pytest.mark.parametrize("stream,cap", [(False, None), (True, None), (True, 0)])
def test_every_path_checks_a_stored_subject_the_data_touches(store_copy, tmp_path, monkeypatch, stream,
                                                             cap):
    """In memory or streamed (with the store's subjects read first, or, past the cap, the
    new graph's untyped subjects looked up after the load), a second iso3 for Japan is
    refused and nothing is written; a note about Japan is taken."""
    import kg.ingest as ki

    if cap is not None:
        monkeypatch.setattr(ki, "_STORE_SUBJECTS_CAP", cap)
    bad = tmp_path / "iso.nt"
    bad.write_text(f'<{S}JPN> <{_ISO3}> "JPX" .\n', encoding="utf-8")
    note = tmp_path / "note.nt"
    note.write_text(f'<{S}JPN> <{_COMMENT}> "a note" .\n', encoding="utf-8")
    with open_store(store_copy, write=True) as st:
        before = st.fingerprint()
        with pytest.raises(InputError, match="exactly one sp:iso3") as err:
            ingest(st, [bad], stream=stream)
        assert str(bad) in str(err.value)
        assert st.fingerprint() == before
        assert ingest(st, [note], stream=stream).graphs == {"user": 1}


@pytest.mark.parametrize("kind", ["nt", "ttl-with-blank"])
def test_ingesting_again_reports_what_is_new_not_what_was_read(tmp_path, cli_runner, kind):
    """A file ingested twice said "added 2 triples" both times, though the second time
    the store did not change; it says what the graph gained, and what it held already."""
    store = tmp_path / "store"
    first = tmp_path / "a.nt"
    first.write_text('<http://ex.org/a> <http://ex.org/p> "x" .\n'
                     '<http://ex.org/a> <http://ex.org/p> "y" .\n', encoding="utf-8")
    again = tmp_path / "b.nt"
    again.write_text('<http://ex.org/a> <http://ex.org/p> "x" .\n'
                     '<http://ex.org/a> <http://ex.org/p> "z" .\n', encoding="utf-8")
    if kind == "ttl-with-blank":  # the path that parses in memory first, then writes
        for f in (first, again):
            f.write_text(f.read_text(encoding="utf-8") + "_:b <http://ex.org/p> \"w\" .\n",
                         encoding="utf-8")
    res = [cli_runner("ingest", "--graph", "g", str(f), store=store) for f in (first, again)]
    assert all(r.exit_code == 0 for r in res), [r.output for r in res]
    if kind == "nt":
        assert res[0].stdout == "g: added 2 triples\n"
        assert res[1].stdout == "g: added 1 triples (1 of the input already there)\n"
    else:  # a blank node is a new node each time: it is new to the graph
        assert res[0].stdout == "g: added 3 triples\n"
        assert res[1].stdout == "g: added 2 triples (1 of the input already there)\n"


def _dataset_ttl(path, node: str, version: str):
    path.write_text("@prefix sp: <https://w3id.org/secpart/ontology#> .\n"
                    "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
                    f"<https://w3id.org/secpart/id/dataset/{node}> a sp:Dataset ; "
                    f'owl:versionInfo "{version}" .\n', encoding="utf-8")
    return path


def test_rdf_ingest_keeps_one_dataset_version_per_graph(store_copy, cli_runner, tmp_path):
    """An export of ATOP 5.1 ingested as RDF into the MME 7 graph was taken (exit 0): the
    graph held two datasets and `kg cite` dropped one's citation. The importers' rule
    (one version a graph) now holds for every input."""
    first = _dataset_ttl(tmp_path / "a.ttl", "a", "7")
    assert cli_runner("ingest", first, "--graph", "ds", store=store_copy).exit_code == 0
    before = cli_runner("info", store=store_copy).stdout
    other = _dataset_ttl(tmp_path / "b.ttl", "b", "5.1")
    res = cli_runner("ingest", other, "--graph", "ds", store=store_copy)
    assert res.exit_code == 2, res.output
    assert f"{other}: graph ds holds version 7 and this file is version 5.1" in res.stderr
    both = tmp_path / "both.ttl"
    both.write_text(first.read_text() + other.read_text().split("\n", 2)[2], encoding="utf-8")
    res = cli_runner("ingest", both, "--graph", "ds", "--replace", store=store_copy)
    assert res.exit_code == 2, res.output
    assert "the input describes versions 5.1, 7 of datasets for graph ds" in res.stderr
    assert cli_runner("info", store=store_copy).stdout == before
    assert cli_runner("ingest", other, "--graph", "ds", "--replace",
                      store=store_copy).exit_code == 0
