"""Claims: robustness grid, uncertainty, coverage against official counts, schema errors, output.

Hand-built graphs small enough to check by hand:

* ``steady``: Japan exercises with the USA once a year in 2001-2012 and with three
  other states (one each) every year in 2016-2027: partners per year grow from 1 to 3
  under every window, projection, source and observer choice, so the claim that
  partners grew is supported in every variant.
* ``mega``: two small exercises a year in 2001-2012 (partners per year 2), one a year
  in 2016-2027 (1 partner), plus one exercise of 25 states in 2020. Distinct partners
  per year in 2020-2024 average (24 + 1 + 1 + 1 + 1) / 5 = 5.6 > 2, so the headline says
  supported; but Newman's weighting (the mega exercise adds 1, not 24), leaving out
  exercises of more than 10 states, and windows that miss 2020 all say not supported.
* ``official``: exercises with fiscal years and MOD's counts for FY2013 and FY2022.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kg.claims import check_claims, select_claims
from kg.claims.readings import load_exercise_data
from kg.claims.robustness import declared_spec
from kg.claims.uncertainty import window_change_uncertainty
from kg.namespaces import graph_iri
from kg.resources import claims_dir

PREFIXES = """
@prefix sp: <https://w3id.org/secpart/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix st: <https://w3id.org/secpart/id/state/> .
@prefix ex: <https://w3id.org/secpart/id/exercise/> .
@prefix oc: <https://w3id.org/secpart/id/count/> .
@prefix src: <https://w3id.org/secpart/id/source/> .
"""
OTHERS = [f"X{chr(65 + i)}{chr(65 + j)}" for i in range(2) for j in range(13)][:23]
STATES = ["JPN", "USA", "AUS", "IND", "GBR", *OTHERS]


def _states() -> str:
    return "".join(f'st:{s} a sp:State ; sp:iso3 "{s}" ; rdfs:label "{s}" .\n' for s in STATES)


def _ex(name: str, year: int, *states: str, fy: int | None = None) -> str:
    parts = ", ".join(f"st:{s}" for s in states)
    extra = f" ; sp:fiscalYear {fy}" if fy is not None else ""
    return f"ex:{name} a sp:Exercise ; sp:year {year} ; sp:participant {parts}{extra} .\n"


# Records from an official table (a source with a locator): the USA ones and, later,
# the AUS and IND ones, so the table-only variant grows from 1 to 2 partners a year.
STEADY = PREFIXES + _states() + "".join(
    [_ex(f"s-{y}", y, "JPN", "USA") for y in range(2001, 2013)]
    + [_ex(f"s-{y}-{p}", y, "JPN", p) for y in range(2016, 2028) for p in ("AUS", "IND", "GBR")]
) + "src:mod-table a sp:Source ; sp:locator \"Reference 54\" .\n" + "".join(
    [f"ex:s-{y} sp:source src:mod-table .\n" for y in range(2001, 2013)]
    + [f"ex:s-{y}-{p} sp:source src:mod-table .\n" for y in range(2016, 2028)
       for p in ("AUS", "IND")])

MEGA = PREFIXES + _states() + "".join(
    [_ex(f"m-{y}-{p}", y, "JPN", p) for y in range(2001, 2013) for p in ("USA", "AUS")]
    + [_ex(f"m-{y}", y, "JPN", "USA") for y in range(2016, 2028)]
    + [_ex("mega-2020", 2020, "JPN", "USA", *OTHERS)])

# FY2013: 24 Japan-US and 19 multilateral exercises by MOD's count; FY2022: 108 and 43.
# The records: baseline/recent windows of the claim (2005-2009, 2020-2024) have no count.
# Only 2016-2024: with the mega graph, the baseline rests on mega alone and the recent
# window on both.
LATE = PREFIXES + _states() + "".join(_ex(f"l-{y}", y, "JPN", "IND") for y in range(2016, 2025))

OFFICIAL = PREFIXES + _states() + "".join(
    [_ex(f"o-{y}-{i}", y, "JPN", "USA", fy=y) for y in range(2005, 2010) for i in (1, 2)]
    + [_ex(f"o-{y}-a", y, "JPN", "AUS", fy=y) for y in range(2005, 2010)]
    + [_ex(f"o-{y}-{i}", y, "JPN", "AUS", "IND", fy=y) for y in range(2020, 2025) for i in (1, 2)]
    + [_ex(f"o-{y}-u", y, "JPN", "USA", fy=y) for y in range(2020, 2025)]) + "".join(
    f'oc:{cat}-{fy} a sp:OfficialCount ; sp:countedState st:JPN ; sp:countCategory "{cat}" ; '
    f'sp:fiscalYear {fy} ; '
    f'sp:count {n} ; sp:countBasis "mod-count" .\n'
    for cat, fy, n in (("us", 2013, 24), ("multilateral", 2013, 19), ("us", 2022, 108),
                       ("multilateral", 2022, 43)))




def _counted(tag: str, factor: int) -> str:
    """Records per fiscal year 2005-2009: 2 Japan-US, 1 multilateral with the US; 2020-2024:
    1 Japan-US, 2 multilateral without it. MOD's counts: the same numbers times ``factor``."""
    recs, counts = [], []
    for y in range(2005, 2010):
        recs += [_ex(f"{tag}-{y}-u{i}", y, "JPN", "USA", fy=y) for i in (1, 2)]
        recs.append(_ex(f"{tag}-{y}-m", y, "JPN", "USA", "AUS", fy=y))
        counts += [("us", y, 2), ("multilateral", y, 1)]
    for y in range(2020, 2025):
        recs.append(_ex(f"{tag}-{y}-u", y, "JPN", "USA", fy=y))
        recs += [_ex(f"{tag}-{y}-m{i}", y, "JPN", "AUS", "IND", fy=y) for i in (1, 2)]
        counts += [("us", y, 1), ("multilateral", y, 2)]
    return PREFIXES + _states() + "".join(recs) + "".join(
        f'oc:{tag}-{cat}-{fy} a sp:OfficialCount ; sp:countedState st:JPN ; '
        f'sp:countCategory "{cat}" ; '
        f'sp:fiscalYear {fy} ; sp:count {n * factor} ; sp:countBasis "mod-count" .\n'
        for cat, fy, n in counts)


def _nt(ttl: str) -> bytes:
    import pyoxigraph as ox

    mem = ox.Store()
    mem.load(ttl.encode("utf-8"), format=ox.RdfFormat.TURTLE)
    return mem.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())


@pytest.fixture(scope="module")
def worlds_store(tmp_path_factory) -> Path:
    from kg.store import open_store

    path = tmp_path_factory.mktemp("worlds") / "store"
    with open_store(path, write=True) as store:
        store.write_graphs({graph_iri("steady"): _nt(STEADY), graph_iri("mega"): _nt(MEGA),
                            graph_iri("late"): _nt(LATE),
                            graph_iri("counted"): _nt(_counted("c", 1)),
                            graph_iri("short"): _nt(_counted("s", 10)),
                            graph_iri("official"): _nt(OFFICIAL)}, replace=True)
    return path


@pytest.fixture(scope="module")
def worlds(worlds_store):
    from kg.store import open_store

    with open_store(worlds_store) as store:
        yield store


def _one(store, cid: str, graph: str) -> dict:
    return check_claims(store, [cid], [graph], citation=False)["claims"][0]


# ---------------------------------------------------------------- the grid


def test_steady_growth_is_supported_in_every_variant(worlds):
    c = _one(worlds, "partners-grew", "steady")
    assert c["verdict"] == "supported"
    assert c["evidence"]["baseline"]["mean_per_year"] == 1.0
    assert c["evidence"]["recent"]["mean_per_year"] == 3.0
    rob = c["robustness"]
    # max-10 keeps every exercise here (7 window sets), no record has observers or is
    # unverified: 9 variants count what an earlier one counts and are not counted again
    assert rob["n"] == 24 and rob["repeats"] == 9 and rob["decided"] == 15
    assert rob["agreeing"] == 15 and rob["share"] == 1.0
    assert rob["label"] == "robust"
    assert {r["reading"] for r in rob["variants"]} == {"supported"}
    # every kind of choice is in the grid
    variants = rob["variants"]
    assert {v["projection"] for v in variants} == {"pairs", "newman", "max-10"}
    assert {"shift -2", "shift +2", "width 3", "width 7"} <= {v["windows"] for v in variants}
    assert {v["observers"] for v in variants} == {"in", "out"}
    assert {v["unverified"] for v in variants} == {"in", "out"}
    table = [v for v in variants if v["sources"] == "official-table records only"]
    assert len(table) == 1 and table[0]["value"]["recent"] == 2.0


def test_one_mega_exercise_makes_the_verdict_fragile(worlds):
    c = _one(worlds, "partners-grew", "mega")
    assert c["verdict"] == "supported"  # the headline: 5.6 partners a year against 2
    assert c["evidence"]["recent"]["mean_per_year"] == 5.6
    assert c["evidence"]["baseline"]["mean_per_year"] == 2.0
    rob = c["robustness"]
    by = {(v["windows"], v["projection"]): v["reading"] for v in rob["variants"]}
    assert by[("declared", "pairs")] == "supported"
    assert by[("declared", "newman")] == "not supported"  # 1.2 a year against 2
    assert by[("declared", "max-10")] == "not supported"  # 1 a year against 2
    assert by[("shift +1", "pairs")] == "not supported"  # 2021-2025 misses the 2020 exercise
    # supported only with pairs in the four window sets that hold 2020; max-10 where no
    # window holds 2020 (3 sets), observers in and unverified out count what an earlier
    # variant counts, and are not counted again (before, the last two agreed with the
    # headline twice over: 6 of 23)
    assert by[("shift +1", "max-10")] == "not supported"
    same = {v["variant"]: v["same_as"] for v in rob["variants"] if v["same_as"]}
    assert len(same) == 5 and set(same.values()) <= {1, 10, 13, 16}
    assert rob["agreeing"] == 4 and rob["decided"] == 18 and rob["n"] == 23
    assert rob["label"] == "fragile"
    assert rob["summary"].startswith("supported in 4 of 18 variants: fragile")
    assert rob["summary"].endswith("5 variant(s) count the same records as an earlier one "
                                   "and are not counted again")


def test_declared_variant_reproduces_the_headline_numbers(worlds):
    for cid in ("partners-grew", "us-share-fell"):
        c = _one(worlds, cid, "mega")
        first = c["robustness"]["variants"][0]
        assert first["declared"] is True
        assert first["reading"] == c["reading"]
    c = _one(worlds, "us-share-fell", "mega")
    v = c["robustness"]["variants"][0]["value"]
    assert v["us_share"] == [c["evidence"]["baseline"]["us_share"],
                             c["evidence"]["recent"]["us_share"]]


# ---------------------------------------------------------------- uncertainty


def test_bootstrap_is_reproducible_with_its_seed(worlds):
    claim = select_claims(["partners-grew"])[0]
    data = load_exercise_data(worlds, {"state": "JPN"}, ["mega"])
    spec = declared_spec(claim)
    a = window_change_uncertainty(claim, data, spec, replicates=300, seed=7)
    b = window_change_uncertainty(claim, data, spec, replicates=300, seed=7)
    c = window_change_uncertainty(claim, data, spec, replicates=300, seed=8)
    assert a == b
    assert a["replicates"] == 300 and a["seed"] == 7
    assert a["observed"]["value"] == 3.6  # 5.6 - 2.0
    lo, hi = a["interval"]["value"]
    assert lo <= hi
    assert a["bootstrap_mean"] != c["bootstrap_mean"]  # another seed, other resamples
    # where the one exercise of 25 states falls decides the change: re-dealing the
    # exercises between windows gives a change at least as large every time
    assert a["p_value"]["value"] == 1.0
    # the interval of the steady world excludes zero: every resample grows
    steady = load_exercise_data(worlds, {"state": "JPN"}, ["steady"])
    s = window_change_uncertainty(claim, steady, spec, replicates=200, seed=1)
    assert s["interval"]["value"][0] > 0


def test_uncertainty_is_only_for_window_changes(worlds):
    c = _one(worlds, "us-minilateral-dominant", "mega")
    assert c["uncertainty"]["applies"] is False


# ---------------------------------------------------------------- coverage and official counts


def test_us_share_shows_the_official_reading_and_needs_coverage(worlds):
    c = _one(worlds, "us-share-fell", "official")
    off = c["evidence"]["official_counts"]
    assert off["span"]["first"]["share"] == 0.5581  # 24 / (24 + 19)
    assert off["span"]["last"]["share"] == 0.7152  # 108 / (108 + 43)
    assert any("MOD official counts: US share FY2013 0.56" in line and "0.72" in line
               and "rose" in line for line in c["evidence_lines"])
    # records: 2 of 3 with the USA in 2005-2009, 1 of 3 in 2020-2024: the records say fell
    assert c["reading"] == "supported"
    assert any("disagree on the direction" in cav for cav in c["coverage"]["caveats"])
    # but the store holds official counts and none for FY2005-2009 or FY2020-2024
    comp = c["coverage"]["completeness"]
    assert comp["checked"] is True
    assert comp["windows"]["baseline"]["status"] == "unknown"
    assert c["verdict"] == "insufficient data"
    assert "no official count or table for multilateral FY2005-FY2009" in c["reason"]


def test_covered_windows_let_the_verdict_stand_and_short_ones_do_not(worlds):
    c = _one(worlds, "us-share-fell", "counted")
    comp = c["coverage"]["completeness"]
    assert comp["windows"]["baseline"]["status"] == "covered"
    assert comp["windows"]["recent"]["ratio"] == 1.0
    assert c["verdict"] == "supported"  # US share 1.0 -> 0.33, non-US partners 1 -> 2
    off = c["evidence"]["official_counts"]["windows"]
    assert off["baseline"]["share"] == 0.6667 and off["recent"]["share"] == 0.3333
    short = _one(worlds, "us-share-fell", "short")
    assert short["coverage"]["completeness"]["windows"]["baseline"]["status"] == "short"
    assert short["verdict"] == "insufficient data"
    assert "records reach 10% of the official count (15 of 150" in short["reason"]
    assert short["reading"] == "supported"


def test_grid_variants_face_the_headlines_coverage_rule(worlds):
    # records and MOD's counts for 2005-2009 and 2020-2024 only: windows shifted or widened
    # reach years without records (counted as none, they would halve the means): no data;
    # the 3-year windows lie inside and are covered
    c = _one(worlds, "us-share-fell", "counted")
    rows = {(v["windows"], v["projection"]): v for v in c["robustness"]["variants"]}
    assert rows[("declared", "pairs")]["coverage"] == "passes"
    assert rows[("width 3", "newman")]["coverage"] == "passes"
    shifted = rows[("shift -2", "pairs")]
    assert shifted["coverage"] == "partly outside" and shifted["reading"] == "no data"
    assert shifted["value"]["non_us_partners"] == [0.6, 1.2]  # the value stays shown
    assert rows[("width 7", "pairs")]["same_as"] is None  # same records, other years
    rob = c["robustness"]
    # four variants agree, but four are too few to call it robust
    assert (rob["decided"], rob["agreeing"], rob["label"]) == (4, 4, "fragile")
    assert rob["summary"].startswith(
        "supported in 4 of 4 variants: fragile (robust needs 80% of at least 5 variants); "
        "10 variant(s) whose windows reach years the data does not cover")
    # the same records against ten times their number: the headline and every variant
    # fall to the completeness rule; the records alone still read
    short = _one(worlds, "us-share-fell", "short")
    rob = short["robustness"]
    assert rob["decided"] == 0 and rob["label"] == "no data" and rob["records"]["decided"] == 4
    assert {v["coverage"] for v in rob["variants"]} == {"completeness", "partly outside"}
    assert rob["summary"].startswith("not known: no variant's windows pass the coverage rule "
                                     "(see coverage); the records alone: supported in 4 of 4")
    assert short["uncertainty"]["records_only"] is True


def test_without_official_counts_completeness_is_named_as_unchecked(worlds):
    c = _one(worlds, "partners-grew", "steady")
    assert c["coverage"]["completeness"]["checked"] is False
    assert any("completeness not checked" in cav.lower() for cav in c["coverage"]["caveats"])


def test_single_window_claim_is_not_compared_across_sources(worlds):
    res = {c["id"]: c for c in check_claims(worlds, ["1", "6"], ["mega", "late"],
                                            citation=False)["claims"]}
    # partners-grew compares 2005-2009 (mega only) with 2020-2024 (mega and late)
    assert res["partners-grew"]["coverage"]["mixed_sources"] == ["exercises"]
    assert res["partners-grew"]["verdict"] == "insufficient data"
    # the minilateral claim decides on 2020-2024 alone: no comparison across sources
    six = res["us-minilateral-dominant"]
    assert six["coverage"]["mixed_sources"] == []
    assert six["verdict"] in ("supported", "not supported")


# ---------------------------------------------------------------- schema errors, output


def _claims_copy(tmp_path: Path) -> Path:
    d = tmp_path / "claims"
    d.mkdir()
    for p in claims_dir().glob("*.yaml"):
        shutil.copy(p, d / p.name)
    return d


def test_malformed_claim_file_exits_2_naming_the_field(cli_runner, tmp_path, worlds_store):
    d = _claims_copy(tmp_path)
    p = d / "partners-grew.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("baseline: [2005, 2009]",
                                                       "baseline: [2005]"), encoding="utf-8")
    res = cli_runner("claims", "check", "--claims-dir", str(d), store=worlds_store)
    assert res.exit_code == 2
    assert "partners-grew.yaml" in res.stderr and "test.windows.baseline" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    q = d / "us-share-fell.yaml"
    q.write_text(q.read_text(encoding="utf-8").replace("side: hedging", "side: hedgehog"),
                 encoding="utf-8")
    p.write_text((claims_dir() / "partners-grew.yaml").read_text(encoding="utf-8"),
                 encoding="utf-8")
    res = cli_runner("claims", "list", "--claims-dir", str(d), store=worlds_store)
    assert res.exit_code == 2 and "signature.side" in res.stderr
    q.write_text((claims_dir() / "us-share-fell.yaml").read_text(encoding="utf-8")
                 .replace("key: wilkins-2023", "key: nobody-2099"), encoding="utf-8")
    res = cli_runner("claims", "list", "--claims-dir", str(d), store=worlds_store)
    assert res.exit_code == 2 and "references[1].key" in res.stderr and "nobody-2099" in res.stderr


def test_a_claims_dir_that_is_missing_or_empty_exits_2(cli_runner, tmp_path, worlds_store):
    """Before, both gave an empty list of verdicts and exit 0."""
    (tmp_path / "empty").mkdir()
    for d, needle in ((tmp_path / "missing", "no such folder"),
                      (tmp_path / "empty", "no claim file")):
        for cmd in ("check", "list"):
            res = cli_runner("claims", cmd, "--claims-dir", str(d), store=worlds_store)
            assert res.exit_code == 2, res.output
            assert res.stderr.strip() == f"kg: error: --claims-dir {d}: {needle}" + (
                " (*.yaml) in it" if d.name == "empty" else "")


def test_json_output_has_what_a_reviewer_asks_for(cli_runner, worlds_store):
    res = cli_runner("claims", "check", "--format", "json", "--graph", "steady",
                     store=worlds_store)
    assert res.exit_code == 0, res.output
    assert "../shared" not in res.stdout
    doc = json.loads(res.stdout)
    for c in doc["claims"]:
        assert c["verdict"] in ("supported", "not supported", "insufficient data")
        assert c["evidence"] and c["evidence_lines"]
        assert "completeness" in c["coverage"] and c["coverage"]["windows"]
        assert c["robustness"]["n"] >= 12 and "share" in c["robustness"]
        assert c["references"]
        for r in c["references"]:
            assert r["address"].startswith("https://") and r["checked"].startswith("http")
    by = {c["id"]: c for c in doc["claims"]}
    unc = by["partners-grew"]["uncertainty"]
    assert unc["applies"] and unc["interval"]["value"] and unc["replicates"] == 1000
    assert by["partners-grew"]["coverage"]["windows"]["baseline"]
    sc = doc["scorecard"]
    assert {r["side"] for r in sc["rows"]} == {"hedging", "alliance-extension"}
    assert sc["favours"] in ("hedging", "alliance-extension", "undecided")
    assert doc["citation"]["methods"]["bootstrap"]["reference"].startswith("Efron")
    assert "Phipson" in doc["citation"]["methods"]["permutation"]["reference"]


def test_table_output_ends_with_the_scorecard(cli_runner, worlds_store):
    res = cli_runner("claims", "check", "--graph", "steady", store=worlds_store)
    assert res.exit_code == 0, res.output
    tail = res.stdout[res.stdout.index("SCORECARD"):]
    assert "hedging" in tail and "alliance-extension" in tail
    assert "The evidence as a whole" in tail


def test_report_renderers_escape_data(worlds):
    from kg.claims import render_claims_html, render_claims_md

    result = check_claims(worlds, ["partners-grew", "us-share-fell"], ["mega"], citation=False)
    result["claims"][0]["title"] = "<script>alert(1)</script>"
    result["claims"][0]["evidence_lines"].append("a | b <img src=x>")
    result["claims"][1]["title"] = "&lt;b&gt;x&lt;/b&gt; ~~gone~~"
    html = render_claims_html(result)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html
    assert "Robustness grid (23 variants)" in html and "scorecard" in html
    md = render_claims_md(result)
    assert "<script>" not in md and "&lt;script&gt;" in md
    # one escaper (kg.escape.markdown) for the whole page: an entity in the data stays text,
    # and ~~ strikes nothing through (the claims' own escaper left both to the renderer)
    assert "&lt;b&gt;" not in md.replace("&amp;lt;b&amp;gt;", "")
    assert "\\~\\~gone\\~\\~" in md
    assert "Scorecard: hedging against alliance extension" in md


def test_every_reference_is_complete_and_used():
    from kg.claims.definitions import load_claims, load_references

    bib = load_references()
    bosack = bib["bosack-2019"]
    assert bosack.author == "Michael Macarthur Bosack" and bosack.date == "2019-10-10"
    assert bosack.venue.startswith("The Japan Times")
    assert bosack.address().startswith("https://www.japantimes.co.jp/opinion/2019/10/10/")
    assert bib["wilkins-2023"].address() == "https://doi.org/10.1093/irap/lcab023"
    used = {r["key"] for c in load_claims() for r in c.references}
    assert used == set(bib)
    for ref in bib.values():
        assert ref.checked.startswith(("https://", "http://"))
        assert ref.doi.startswith("10.") or ref.url.startswith("https://")
    sides = {c.signature.get("side") for c in load_claims()}
    assert {"hedging", "alliance-extension"} <= sides


def test_a_user_claim_with_its_own_query_runs_from_its_folder(cli_runner, tmp_path,
                                                              worlds_store):
    d = _claims_copy(tmp_path)
    shutil.copy(claims_dir() / "partners_per_year.rq", d / "my_partners.rq")
    text = (claims_dir() / "partners-grew.yaml").read_text(encoding="utf-8")
    text = text.replace("id: partners-grew", "id: my-claim").replace("number: 1", "number: 99")
    (d / "my-claim.yaml").write_text(text.replace("query: partners_per_year.rq",
                                                  "query: my_partners.rq"), encoding="utf-8")
    res = cli_runner("claims", "check", "my-claim", "--claims-dir", str(d), "--graph", "steady",
                     "--format", "json", store=worlds_store)
    assert res.exit_code == 0, res.output
    c = json.loads(res.stdout)["claims"][0]
    assert c["test"]["queries"] == ["my_partners.rq"] and c["verdict"] == "supported"
    (d / "my-claim.yaml").write_text(text.replace("query: partners_per_year.rq",
                                                  "query: nowhere.rq"), encoding="utf-8")
    res = cli_runner("claims", "list", "--claims-dir", str(d), store=worlds_store)
    assert res.exit_code == 2 and "field 'test.query'" in res.stderr and "nowhere.rq" in res.stderr


def test_scorecard_weighs_signatures_and_says_when_too_few_are_decided():
    from kg.claims.scorecard import scorecard

    def c(cid, side, verdict, label, counter=""):
        return {"id": cid, "title": cid, "verdict": verdict, "reading": verdict,
                "signature": {"side": side, "predicts": "x", "counter": counter},
                "robustness": {"label": label, "summary": ""}}

    sc = scorecard([c("a", "hedging", "supported", "robust"),
                    c("b", "alliance-extension", "not supported", "robust", counter="y"),
                    c("c", "alliance-extension", "supported", "fragile"),
                    c("d", "descriptive", "supported", "robust")])
    assert sc["score"] == {"hedging": 2.0, "alliance-extension": 0.5}  # b counts for hedging
    assert sc["favours"] == "hedging" and sc["sentence"].startswith("The evidence as a whole "
                                                                   "favours hedging")
    assert [r["id"] for r in sc["rows"]] == ["a", "b", "c"]  # descriptive claims are not scored
    few = scorecard([c("a", "hedging", "insufficient data", "robust"),
                     c("b", "hedging", "insufficient data", "robust"),
                     c("c", "alliance-extension", "supported", "robust")])
    assert few["decided"] == 1 and few["sentence"].startswith("Too few signatures")
    assert any("count for neither side" in cav for cav in few["caveats"])


# ---------------------------------------------------------------- in the background


def test_start_claims_gives_what_check_claims_gives(built_store):
    """start_claims (grids and bootstraps in forked workers, while this process goes on)
    and check_claims with its workers return check_claims' result with everything computed
    here (workers=1), field for field, on the bundled data."""
    import os

    from kg.claims import start_claims
    from kg.store import open_store

    with open_store(built_store) as store:
        here = check_claims(store, citation=True, workers=1)
        forked = check_claims(store, citation=True, workers=2)
        assert json.dumps(forked, sort_keys=True) == json.dumps(here, sort_keys=True)
        job = start_claims(store)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        if cores > 1:
            assert job._work.pool is not None  # the workers really started
        kinds = sorted({j[0] for j in job._jobs})
        away = job.result(citation=True)
        assert json.dumps(away, sort_keys=True) == json.dumps(here, sort_keys=True)
        assert list(away["claims"][0]) == list(here["claims"][0])  # the same key order
        assert kinds == ["grid", "uncertainty"]
        assert any(c["uncertainty"].get("applies") for c in away["claims"])
        stopped = start_claims(store, ["partners-grew"], workers=2)
        stopped.close()  # no result wanted: the workers are stopped
        assert stopped._work.pool is None


def test_check_claims_resamples_in_workers_unless_told_one(built_store, monkeypatch):
    """check_claims hands the resampling to forked workers (kg.metrics.ForkedMap, one per
    core by default); workers=1 starts none and computes everything here."""
    import kg.metrics
    from kg.store import open_store

    made: list = []
    real = kg.metrics.ForkedMap

    def spy(fn, items, workers=None, **kw):
        made.append(workers)
        return real(fn, items, workers, **kw)

    monkeypatch.setattr(kg.metrics, "ForkedMap", spy)
    with open_store(built_store) as store:
        default = check_claims(store, ["partners-grew"], citation=False)
        assert made == [None]
        one = check_claims(store, ["partners-grew"], citation=False, workers=1)
        assert made == [None]  # no workers asked for
    assert json.dumps(one, sort_keys=True) == json.dumps(default, sort_keys=True)


def test_a_variant_reading_one_graph_faces_that_graphs_years(worlds):
    """steady covers 2001-2027, late 2016-2024: together the windows rest on different
    datasets (the headline's gate); steady alone compares like with like and counts; late
    alone has no 2005-2009 at all, so its reading (2005-2009 counted as none) is no data."""
    c = check_claims(worlds, ["partners-grew"], ["steady", "late"], citation=False)["claims"][0]
    assert c["verdict"] == "insufficient data" and "different exercises datasets" in c["reason"]
    by = {v["sources"]: v for v in c["robustness"]["variants"] if v["sources"].endswith(" only")}
    assert by["steady only"]["coverage"] == "passes"
    assert by["steady only"]["reading"] == "supported"
    assert by["late only"]["coverage"] == "outside" and by["late only"]["reading"] == "no data"
    assert c["robustness"]["decided"] >= 1


def test_exercise_mix_variants_that_change_only_the_unread_window_are_one(tmp_path, worlds):
    """us-minilateral-dominant reads its recent window only: with recent 2020-2022, the
    width-3 variants change the baseline alone and count what the declared ones count."""
    d = _claims_copy(tmp_path)
    f = d / "us-minilateral-dominant.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("recent: [2020, 2024]",
                                                       "recent: [2020, 2022]"), encoding="utf-8")
    c = check_claims(worlds, ["us-minilateral-dominant"], ["mega"], citation=False,
                     directory=str(d))["claims"][0]
    rows = {(v["windows"], v["projection"]): v for v in c["robustness"]["variants"]}
    assert rows[("width 3", "pairs")]["window_years"] == "baseline 2006-2008; recent 2020-2022"
    assert rows[("width 3", "pairs")]["same_as"] == 1
    assert rows[("width 3", "newman")]["same_as"] == 2
    assert rows[("shift +1", "pairs")]["same_as"] is None
