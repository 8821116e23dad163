"""kg.ingest.dependents: a replace may not leave subjects of other graphs invalid."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import InputError
from kg.ingest import ingest
from kg.store import open_store

BAD = Path(__file__).resolve().parent / "fixtures" / "bad"
S = "https://w3id.org/secpart/id/state/"
SP = "https://w3id.org/secpart/ontology#"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

ZED = (f'<{S}ZZZ> <{TYPE}> <{SP}State> .\n<{S}ZZZ> <{SP}iso3> "ZZZ" .\n'
       f'<{S}ZZZ> <{LABEL}> "Zedland"@en .\n')
YON = (f'<{S}YYY> <{TYPE}> <{SP}State> .\n<{S}YYY> <{SP}iso3> "YYY" .\n'
       f'<{S}YYY> <{LABEL}> "Yonder"@en .\n')

# the replacing file in each of kg's three paths: parsed in Python (JSON-LD), loaded by the
# engine while validated in memory (N-Triples), and validated in the store (streamed)
PATHS = {"python": ("x.jsonld", None), "direct": ("x.nt", None), "stream": ("x.nt", True)}


def _jsonld(nt: str) -> str:
    import pyoxigraph as ox

    return ox.serialize(ox.parse(nt.encode(), format=ox.RdfFormat.N_TRIPLES),
                        format=ox.RdfFormat.JSON_LD).decode()


def _write(tmp_path: Path, name: str, nt: str) -> Path:
    f = tmp_path / name
    f.write_text(_jsonld(nt) if name.endswith(".jsonld") else nt, encoding="utf-8")
    return f


def _exercise_with_zed(tmp_path: Path) -> Path:
    ex = tmp_path / "ex.yaml"
    ex.write_text((BAD / "good.yaml").read_text(encoding="utf-8").replace("JPN, USA", "JPN, ZZZ"),
                  encoding="utf-8")
    return ex


@pytest.fixture(params=["in-place", "rebuild"])
def how(request, monkeypatch):
    """Both ways a replace writes: deleting in place, or rebuilding the database."""
    import kg.store

    if request.param == "rebuild":
        monkeypatch.setattr(kg.store.LocalStore, "_rebuild_cheaper", lambda self, targets: True)
    return request.param


@pytest.mark.parametrize("path", sorted(PATHS))
def test_replace_that_drops_a_state_another_graph_uses_is_refused(store_copy, tmp_path, how, path):
    """Zedland, a state of graph zed, takes part in an exercise of graph mine; replacing
    zed with a file that has Yonder instead is refused, naming the exercise, its graph
    and the broken shape, and nothing changes; a replace that keeps Zedland is taken."""
    name, stream = PATHS[path]
    with open_store(store_copy, write=True) as st:
        ingest(st, [_write(tmp_path, "zed.nt", ZED)], graph="zed")
        ingest(st, [_exercise_with_zed(tmp_path)], graph="mine")
        before = st.fingerprint()
        with pytest.raises(InputError) as err:
            ingest(st, [_write(tmp_path, name, YON)], graph="zed", replace=True, stream=stream)
        msg = str(err.value)
        assert "replacing graph zed leaves" in msg and "exercise/bad-fixture-2023" in msg
        assert "of graph mine invalid" in msg and "ParticipantUnresolved" in msg
        assert st.fingerprint() == before
        kept = _write(tmp_path, "keep" + name[1:], ZED + YON)
        assert ingest(st, [kept], graph="zed", replace=True, stream=stream).graphs == {"zed": 6}


def test_replace_that_takes_a_required_property_from_another_graph_s_subject(store_copy, tmp_path,
                                                                               how):
    """Graph typed says only that Zedland is a state; graph names gives its iso3 and label.
    Replacing names with a file without them would leave the state in typed without
    its iso3: refused."""
    with open_store(store_copy, write=True) as st:
        ingest(st, [_write(tmp_path, "names.nt", ZED.split("\n", 1)[1])], graph="names")
        ingest(st, [_write(tmp_path, "typed.nt", ZED.split("\n", 1)[0] + "\n")], graph="typed")
        before = st.fingerprint()
        other = _write(tmp_path, "other.nt", f'<{S}JPN> <{COMMENT}> "a note" .\n')
        with pytest.raises(InputError, match=r"<https://w3id.org/secpart/id/state/ZZZ> of graph "
                                             r"typed invalid: .*iso3") as err:
            ingest(st, [other], graph="names", replace=True)
        assert err.value.file == str(other)
        assert st.fingerprint() == before


def test_an_old_violation_of_another_graph_is_not_blamed_on_the_replace(store_copy, tmp_path, how):
    """The exercise in mine already breaks a shape (a second year, added behind kg's back);
    a replace of zed that changes Zedland's label makes the exercise a focus of the check,
    but the violation was there before, so the replace is taken."""
    import pyoxigraph as ox

    with open_store(store_copy, write=True) as st:
        ingest(st, [_write(tmp_path, "zed.nt", ZED)], graph="zed")
        ingest(st, [_exercise_with_zed(tmp_path)], graph="mine")
        ex = st.select(f"SELECT ?e WHERE {{ ?e a <{SP}Exercise> "
                       "FILTER(STRENDS(STR(?e), 'bad-fixture-2023')) }").rows[0][0].value
        st.db.add(ox.Quad(ox.NamedNode(ex), ox.NamedNode(SP + "year"), ox.Literal("1999", datatype=ox.NamedNode(
            "http://www.w3.org/2001/XMLSchema#integer")), ox.NamedNode("https://w3id.org/secpart/graph/mine")))
    from kg.validate import validate_oxigraph

    with open_store(store_copy, write=True) as st:
        assert any(v.focus == ex for v in validate_oxigraph(st.db))
        renamed = _write(tmp_path, "renamed.nt", ZED.replace("Zedland", "Zedlandia"))
        assert ingest(st, [renamed], graph="zed", replace=True).graphs == {"zed": 3}


def test_kg_build_again_checks_what_the_other_graphs_rest_on(store_copy, tmp_path):
    """`kg build` replaces the curated graph: with a user graph that relies on curated, a
    build of the same data passes (nothing lost), and the check has looked at it."""
    from kg.ingest import build
    from kg.ingest.dependents import before_replace

    with open_store(store_copy, write=True) as st:
        ingest(st, [_write(tmp_path, "zed.nt", ZED)], graph="zed")
        ingest(st, [_exercise_with_zed(tmp_path)], graph="mine")
        dep = before_replace(st.db, ["https://w3id.org/secpart/graph/curated",
                                     "https://w3id.org/secpart/graph/ontology"])
        assert f"{S}JPN" in {t[0].value for t in dep.old}  # mine's exercise has Japan in it
        before = st.fingerprint()
        build(st)
        assert st.fingerprint() == before


def test_shared_iris_are_the_same_from_either_side(store_copy, tmp_path, monkeypatch):
    """The others' IRIs looked up in the replaced graphs or the replaced graphs' subjects
    looked up in the others (either side first; past the cap the other side), or one join
    (both past it): the same IRIs."""
    import kg.ingest.dependents as dp

    dp_cap = dp._CAP
    note = f'<{S}JPN> <{COMMENT}> "a note" .\n'
    with open_store(store_copy, write=True) as st:
        ingest(st, [_write(tmp_path, "zed.nt", ZED + note)], graph="zed")
        ingest(st, [_exercise_with_zed(tmp_path)], graph="mine")
        targets = ["https://w3id.org/secpart/graph/zed"]
        others = sorted(set(st.graph_iris()) - set(targets))
        found = []
        for first in ("others", "targets"):  # which side _size finds smaller
            small = others if first == "others" else targets
            monkeypatch.setattr(dp, "_size", lambda db, graphs, small=small: int(graphs != small))
            for cap in (dp_cap, 500, 0):
                monkeypatch.setattr(dp, "_CAP", cap)
                found.append(dp._shared(st.db, targets, others))
    assert found == [[f"{S}JPN", f"{S}ZZZ"]] * 6


def test_cli_refuses_the_replace_with_one_line_and_exit_2(store_copy, tmp_path, cli_runner,
                                                         fingerprint):
    assert cli_runner("ingest", "--graph", "zed", _write(tmp_path, "zed.nt", ZED),
                      store=store_copy).exit_code == 0
    assert cli_runner("ingest", "--graph", "mine", _exercise_with_zed(tmp_path),
                      store=store_copy).exit_code == 0
    before = fingerprint(store_copy)
    yon = _write(tmp_path, "yon.nt", YON)
    res = cli_runner("ingest", "--graph", "zed", "--replace", yon, store=store_copy)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"kg: error: {yon}")
    assert "leaves <https://w3id.org/secpart/id/exercise/bad-fixture-2023> of graph mine" in lines[0]
    assert fingerprint(store_copy) == before
