"""Claims: definitions, the checks on a small hand-checked graph, coverage caveats, the CLI.

The toy graph below is small enough to check every number by hand (see the
comments next to each assertion). The bundled curated data is used only for
the "must show" point: every claim gets a verdict with non-empty evidence.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.claims import (
    VERDICTS,
    ClaimNotSupported,
    check_claim,
    check_claims,
    data_coverage,
    format_check,
    load_claim,
    load_claims,
    raise_if_not_supported,
    select_claims,
    window_status,
)
from kg.errors import InputError, UsageError
from kg.namespaces import graph_iri
from kg.resources import claims_dir

SIX = ["partners-grew", "us-share-fell", "new-partners-us-aligned", "raa-three-by-2025",
       "indo-pacific-betweenness-rose", "us-minilateral-dominant"]

PREFIXES = """
@prefix sp: <https://w3id.org/secpart/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix st: <https://w3id.org/secpart/id/state/> .
@prefix ex: <https://w3id.org/secpart/id/exercise/> .
@prefix ag: <https://w3id.org/secpart/id/agreement/> .
@prefix ds: <https://w3id.org/secpart/id/dataset/> .
"""

STATES = """
st:JPN a sp:State ; sp:iso3 "JPN" ; rdfs:label "Japan" ; sp:region "Eastern Asia" .
st:USA a sp:State ; sp:iso3 "USA" ; rdfs:label "United States" ; sp:region "Northern America" .
st:AUS a sp:State ; sp:iso3 "AUS" ; rdfs:label "Australia" ; sp:region "Australia and New Zealand" .
st:IND a sp:State ; sp:iso3 "IND" ; rdfs:label "India" ; sp:region "Southern Asia" .
st:PHL a sp:State ; sp:iso3 "PHL" ; rdfs:label "Philippines" ; sp:region "South-eastern Asia" .
st:FRA a sp:State ; sp:iso3 "FRA" ; rdfs:label "France" ; sp:region "Western Europe" .
st:DEU a sp:State ; sp:iso3 "DEU" ; rdfs:label "Germany" ; sp:region "Western Europe" .
st:GBR a sp:State ; sp:iso3 "GBR" ; rdfs:label "United Kingdom" ; sp:region "Northern Europe" .
st:ITA a sp:State ; sp:iso3 "ITA" ; rdfs:label "Italy" ; sp:region "Southern Europe" .
"""


def _ex(name: str, year: int, *states: str) -> str:
    parts = ", ".join(f"st:{s}" for s in states)
    return f"ex:{name} a sp:Exercise ; sp:year {year} ; sp:participant {parts} .\n"


# Baseline 2005-2009: one exercise a year.
#   partners per year 1,2,1,2,1 -> mean 1.4; with the USA 4 of 5 -> share 0.8;
#   non-US partners per year 0,1,0,1,1 -> mean 0.6.
# Recent 2020-2024: six exercises.
#   partners per year 2,1,3,1,3 -> mean 2.0; with the USA 3 of 6 -> share 0.5;
#   non-US partners per year 1,1,2,1,2 -> mean 1.4.
#   New non-US partners (not in the baseline): DEU, FRA, IND, PHL (ITA only in a copy).
#   With the USA and a third state: 2020, 2022 -> 2; without the USA: 2021, 2023, 2024b -> 3.
TOY = PREFIXES + STATES + "".join([
    _ex("b-2005", 2005, "JPN", "USA"),
    _ex("b-2006", 2006, "JPN", "USA", "AUS"),
    _ex("b-2007", 2007, "JPN", "USA"),
    _ex("b-2008", 2008, "JPN", "USA", "AUS"),
    _ex("b-2009", 2009, "JPN", "AUS"),
    _ex("r-2020", 2020, "JPN", "USA", "IND"),
    _ex("r-2021", 2021, "JPN", "FRA"),
    _ex("r-2022", 2022, "JPN", "USA", "PHL", "AUS"),
    _ex("r-2023", 2023, "JPN", "DEU"),
    _ex("r-2024", 2024, "JPN", "USA"),
    _ex("r-2024b", 2024, "JPN", "IND", "AUS"),
    # a reconciled copy of r-2021: must not count (else ITA would be a partner)
    _ex("copy-2021", 2021, "JPN", "FRA", "ITA"),
]) + """
ex:copy-2021 owl:sameAs ex:r-2021 .
ag:phl-usa a sp:DefenceTreaty ; sp:party st:PHL, st:USA ; sp:status sp:InForce ;
    sp:inForceDate "1952-08-27"^^xsd:date .
ag:ind-usa a sp:LogisticsAgreement ; sp:party st:IND, st:USA ; sp:status sp:InForce ;
    sp:signedDate "2016-08-29"^^xsd:date .
ag:deu-usa a sp:DefenceTreaty ; sp:party st:DEU, st:USA ; sp:status sp:Terminated .
ag:aus-jpn-raa a sp:ReciprocalAccessAgreement ; sp:party st:AUS, st:JPN ; sp:status sp:InForce ;
    sp:signedDate "2022-01-06"^^xsd:date ; sp:inForceDate "2023-08-13"^^xsd:date .
ag:gbr-jpn-raa a sp:ReciprocalAccessAgreement ; sp:party st:GBR, st:JPN ; sp:status sp:Signed ;
    sp:signedDate "2023-01-11"^^xsd:date .
ag:jpn-phl-raa a sp:ReciprocalAccessAgreement ; sp:party st:JPN, st:PHL ; sp:status sp:InForce ;
    sp:signedDate "2024-07-08"^^xsd:date ; sp:inForceDate "2026-01-01"^^xsd:date .
"""

# A dataset that declares coverage 2007-2024: the 2005-2009 window is only partly inside.
LATE = PREFIXES + STATES + "".join(
    _ex(f"late-{y}-{i}", y, "JPN", "USA", "AUS")
    for y in (2007, 2008, 2009, 2020, 2021, 2022, 2023, 2024) for i in (1, 2)
) + """
ds:late a sp:Dataset ; sp:graph "late" ; sp:coverageStart 2007 ; sp:coverageEnd 2024 .
"""

# A dataset that covers 2015-2024 only: the baseline window lies outside it.
MODERN = PREFIXES + STATES + "".join(
    _ex(f"modern-{y}-{i}", y, "JPN", "USA", "IND") for y in range(2015, 2025) for i in (1, 2)
) + """
ds:modern a sp:Dataset ; sp:graph "modern" ; sp:coverageStart 2015 ; sp:coverageEnd 2024 .
"""


def _nt(ttl: str) -> bytes:
    import pyoxigraph as ox

    mem = ox.Store()
    mem.load(ttl.encode("utf-8"), format=ox.RdfFormat.TURTLE)
    return mem.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())


@pytest.fixture(scope="module")
def toy_store(tmp_path_factory) -> Path:
    from kg.store import open_store

    path = tmp_path_factory.mktemp("toy") / "store"
    with open_store(path, write=True) as store:
        store.write_graphs({graph_iri("toy"): _nt(TOY), graph_iri("late"): _nt(LATE),
                            graph_iri("modern"): _nt(MODERN)}, replace=True)
    return path


@pytest.fixture(scope="module")
def toy(toy_store):
    from kg.store import open_store

    with open_store(toy_store) as store:
        yield store


def _by_id(result: dict) -> dict:
    return {c["id"]: c for c in result["claims"]}


# ---------------------------------------------------------------- definitions


def test_claim_files_define_the_six_claims_with_sources_and_tests():
    from kg.queries import load_query

    claims = load_claims()
    ids = [c.id for c in claims]
    assert ids[:6] == SIX
    for c in claims:
        assert c.claim and c.title
        assert c.source.get("quote") and c.source.get("literature")
        assert "../shared" not in repr(c.__dict__)
        keys = [r["key"] for r in c.references]
        assert "bosack-2019" in keys  # every claim names where it is made
        assert c.test["kind"] in ("sparql", "metric", "both")
        assert c.expected.get("rule") and c.expected.get("direction")
        assert c.minimum
        queries = c.test.get("query")
        for q in [queries] if isinstance(queries, str) else (queries or []):
            sq = load_query(str(claims_dir() / q))
            assert sq.summary, q
    assert select_claims(["4", "partners-grew"])[0].id == "raa-three-by-2025"


def test_bad_claim_files_are_refused_naming_the_file(tmp_path):
    good = (claims_dir() / "partners-grew.yaml").read_text(encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    missing.write_text(good.replace("expected:", "expectation:"), encoding="utf-8")
    with pytest.raises(InputError, match=r"missing.yaml.*expected"):
        load_claim(missing)
    unknown = tmp_path / "unknown-check.yaml"
    unknown.write_text(good.replace("check: window_change", "check: astrology"),
                       encoding="utf-8")
    with pytest.raises(InputError, match="astrology"):
        load_claim(unknown)
    badwin = tmp_path / "window.yaml"
    badwin.write_text(good.replace("baseline: [2005, 2009]", "baseline: [2009, 2005]"),
                      encoding="utf-8")
    with pytest.raises(InputError, match="window"):
        load_claim(badwin)
    local = tmp_path / "local.yaml"
    local.write_text(good.replace("  quote: >-", "  article: the text in ../shared/context/article.txt\n"
                                  "  quote: >-"), encoding="utf-8")
    with pytest.raises(InputError, match="field 'source'.*not a local file"):
        load_claim(local)
    with pytest.raises(UsageError, match="no claim"):
        select_claims(["no-such-claim"])


def test_window_status():
    spans = [{"graph": "a", "start": 2000, "end": 2010}, {"graph": "b", "start": 2015, "end": 2020}]
    assert window_status((2005, 2009), spans)["status"] == "inside"
    part = window_status((2008, 2016), spans)
    assert part["status"] == "partly" and part["uncovered_years"] == [2011, 2012, 2013, 2014]
    assert window_status((2021, 2024), spans)["status"] == "outside"


# ---------------------------------------------------------------- the checks, hand-checked


def test_partners_and_hedging_numbers(toy):
    res = _by_id(check_claims(toy, ["1", "2"], ["toy"], citation=False))
    c1 = res["partners-grew"]
    assert c1["verdict"] == "supported"
    assert c1["evidence"]["baseline"]["mean_per_year"] == 1.4
    assert c1["evidence"]["recent"]["mean_per_year"] == 2.0
    assert c1["evidence"]["recent"]["exercises"] == 6  # the sameAs copy is not counted
    c2 = res["us-share-fell"]
    ev = c2["evidence"]
    assert (ev["baseline"]["with_us"], ev["baseline"]["exercises"]) == (4, 5)
    assert (ev["recent"]["with_us"], ev["recent"]["exercises"]) == (3, 6)
    assert ev["baseline"]["us_share"] == 0.8 and ev["recent"]["us_share"] == 0.5
    assert ev["baseline"]["non_us_partners_mean"] == 0.6
    assert ev["recent"]["non_us_partners_mean"] == 1.4
    assert ev["cross_check"]["agrees"] is True
    assert c2["verdict"] == "supported"
    assert c2["graphs"] == ["toy"]
    assert c2["windows"] == {"baseline": [2005, 2009], "recent": [2020, 2024]}


def test_complement_claim_counts_allies_partners_and_the_rest(toy):
    c3 = _by_id(check_claims(toy, ["3"], ["toy"], citation=False))["new-partners-us-aligned"]
    ev = c3["evidence"]
    assert ev["new_partners"] == ["DEU", "FRA", "IND", "PHL"]  # not ITA: only in a sameAs copy
    assert ev["new_us_treaty_allies"] == ["PHL"]
    assert ev["new_us_partners_other_agreement"] == ["IND"]
    # DEU's treaty is terminated with no end date: not counted; FRA has no tie at all.
    assert ev["new_not_tied_to_us"] == ["DEU", "FRA"]
    assert ev["aligned_share"] == 0.5
    assert c3["verdict"] == "not supported"  # "most" needs more than half


def test_raa_claim_counts_only_agreements_in_force_by_the_year(toy):
    c4 = _by_id(check_claims(toy, ["4"], ["toy"], citation=False))["raa-three-by-2025"]
    ev = c4["evidence"]
    assert ev["states_in_force"] == 1 and list(ev["in_force"]) == ["AUS"]
    assert any("GBR" in s and "Signed" in s for s in ev["not_counted"])
    assert any("PHL" in s and "2026" in s for s in ev["not_counted"])
    assert c4["verdict"] == "not supported"


def test_raa_with_pending_variant_counts_agreements_signed_by_the_year(toy):
    """The with-pending variants count an agreement from its signing year, also one that
    entered into force later (PHL: signed 2024, in force 2026), not only those still pending."""
    c4 = _by_id(check_claims(toy, ["4"], ["toy"], citation=False))["raa-three-by-2025"]
    grid = {(v["rule"], v["as_of"]): v["value"]["partners"] for v in c4["robustness"]["variants"]}
    assert grid[("in-force", 2025)] == ["AUS"]
    assert grid[("with-pending", 2023)] == ["AUS", "GBR"]      # GBR signed 2023, still pending
    assert grid[("with-pending", 2024)] == ["AUS", "GBR", "PHL"]
    assert grid[("in-force", 2026)] == ["AUS", "PHL"]
    # the toy's agreement records end in 2026: a later year of reckoning has no reading
    # (nothing recorded says what is in force then)
    later = [v for v in c4["robustness"]["variants"] if v["as_of"] > 2026]
    assert later and {(v["reading"], v["coverage"]) for v in later} == {("no data", "outside")}
    assert c4["robustness"]["decided"] == len(c4["robustness"]["variants"]) - len(later)


def test_minilateral_and_betweenness(toy):
    res = _by_id(check_claims(toy, ["5", "6"], ["toy"], citation=False))
    c6 = res["us-minilateral-dominant"]
    assert c6["evidence"]["recent"]["us_and_third"] == 2
    assert c6["evidence"]["recent"]["without_us"] == 3
    assert c6["evidence"]["recent"]["us_bilateral"] == 1
    assert c6["verdict"] == "not supported"
    c5 = res["indo-pacific-betweenness-rose"]
    # baseline network: JPN, USA, AUS only (3 states, minimum 5)
    assert c5["evidence"]["baseline"]["states"] == 3
    assert c5["evidence"]["recent"]["states"] == 5  # JPN USA IND PHL AUS; FRA, DEU not Indo-Pacific
    assert c5["verdict"] == "insufficient data"
    assert c5["minimum"]["met"] is False


# ---------------------------------------------------------------- coverage


def test_coverage_reads_declared_dataset_coverage(toy):
    cov = data_coverage(toy)
    assert cov["late"]["declared"] == {"start": 2007, "end": 2024}
    assert cov["toy"]["declared"] is None
    assert cov["toy"]["exercises"]["first"] == 2005 and cov["toy"]["exercises"]["last"] == 2024


def test_partly_covered_window_gives_insufficient_data(toy):
    # the baseline's mean per year would count 2005 and 2006, outside the data's declared
    # coverage, as years without partners
    claim = select_claims(["partners-grew"])[0]
    res = check_claim(toy, claim, ["late"])
    assert res["coverage"]["status"] == "partly"
    assert res["coverage"]["windows"]["baseline"]["exercises"]["uncovered_years"] == [2005, 2006]
    assert any("only partly inside" in c and "2005, 2006" in c for c in res["coverage"]["caveats"])
    # not even the records' reading: its figures count the uncovered years as none
    assert res["verdict"] == "insufficient data" and res["reading"] == "insufficient data"
    assert res["reason"].startswith("a window lies partly outside the years the data covers")
    assert "the records' figures, counting those years as none: " in res["reason"]
    assert res["uncertainty"]["applies"] is False
    assert "years the data does not cover" in res["uncertainty"]["why"]
    rob = res["robustness"]
    assert rob["label"] == "no data" and rob["records"]["label"] == "no data"


def test_window_outside_coverage_gives_insufficient_data(toy):
    claim = select_claims(["partners-grew"])[0]
    res = check_claim(toy, claim, ["modern"])
    assert res["coverage"]["status"] == "outside"
    assert res["verdict"] == "insufficient data"
    assert any("outside" in c for c in res["coverage"]["caveats"])


def test_windows_resting_on_different_datasets_give_insufficient_data(toy):
    # toy covers 2005-2024, modern only 2015-2024: the baseline rests on toy alone and the
    # recent window on toy and modern, so the comparison is not like with like.
    claim = select_claims(["partners-grew"])[0]
    alone = check_claim(toy, claim, ["toy"])
    assert alone["coverage"]["mixed_sources"] == [] and alone["verdict"] != "insufficient data"
    mixed = check_claim(toy, claim, ["toy", "modern"])
    assert mixed["coverage"]["mixed_sources"] == ["exercises"]
    assert mixed["verdict"] == "insufficient data"
    assert any("baseline on toy; recent on modern, toy" in c for c in mixed["coverage"]["caveats"])


def test_strict_raises_with_exit_code_one(toy):
    result = check_claims(toy, ["1", "3"], ["toy"], citation=False)
    with pytest.raises(ClaimNotSupported) as err:
        raise_if_not_supported(result)
    assert err.value.exit_code == 1 and "new-partners-us-aligned" in str(err.value)
    raise_if_not_supported(check_claims(toy, ["1"], ["toy"], citation=False))
    md = format_check(result, "md")
    assert "| 1 |" in md and "| not supported |" in md


# ---------------------------------------------------------------- the bundled data, the CLI


def test_cli_check_json_on_bundled_data(cli_runner, fingerprint, built_store):
    res = cli_runner("claims", "check", "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    ids = [c["id"] for c in doc["claims"]]
    assert set(SIX) <= set(ids)
    for c in doc["claims"]:
        assert c["verdict"] in VERDICTS
        assert c["evidence"] and c["evidence_lines"]
        assert c["claim"] and c["coverage"]["notes"]
        assert c["graphs"] == ["curated", "ontology"]
    assert doc["citation"]
    assert fingerprint(built_store) in json.dumps(doc["citation"])


def test_cli_list_strict_and_errors(cli_runner, toy_store):
    res = cli_runner("claims", "list")
    assert res.exit_code == 0
    for cid in SIX:
        assert cid in res.stdout
    ok = cli_runner("claims", "check", "1", "--strict", "--graph", "toy", store=toy_store)
    assert ok.exit_code == 0, ok.output
    assert "SUPPORTED" in ok.stdout
    bad = cli_runner("claims", "check", "1", "3", "--strict", "--graph", "toy", store=toy_store)
    assert bad.exit_code == 1
    assert bad.stderr.startswith("kg: error: 1 claim(s) not supported")
    unknown = cli_runner("claims", "check", "nope", store=toy_store)
    assert unknown.exit_code == 2 and "no claim 'nope'" in unknown.stderr
    nograph = cli_runner("claims", "check", "1", "--graph", "absent", store=toy_store)
    assert nograph.exit_code == 2 and "no graph named" in nograph.stderr


def test_bundled_data_counts_nato_members_and_not_rio_leavers_as_us_treaty_allies(built_store):
    """On the bundled data alone (no ATOP), the curated US treaty network decides claim 3."""
    from kg.claims import check_claims
    from kg.store import open_store

    with open_store(built_store) as store:
        ev = check_claims(store, ["new-partners-us-aligned"])["claims"][0]["evidence"]
    allies = set(ev["new_us_treaty_allies"])
    new = set(ev["new_partners"])
    nato = {"BEL", "DEU", "DNK", "ESP", "ITA"} & new
    assert nato and nato <= allies
    for s in nato:
        assert any("nato" in t for t in ev["ties_with_us"][s]["treaty"])
    # Mexico (2004) and Ecuador (2012) left the Rio Treaty before the recent window
    assert not ({"MEX", "ECU"} & new & allies)


def test_check_claims_sends_each_query_once(built_store):
    """One check of every claim (``kg claims check``) is one run: the store's tracer sees no
    query twice (the agreements' lifecycles were read once per claim that needs them)."""
    from kg.claims import check_claims
    from kg.store import open_store

    sent: list = []
    with open_store(built_store) as store:
        store.tracer = lambda text, graphs: sent.append((text, tuple(graphs or ())))
        result = check_claims(store)
    assert len(result["claims"]) >= 6 and len(sent) > 10  # it really checked and queried
    repeated = sorted({q[0][:200] for q in sent if sent.count(q) > 1})
    assert not repeated, repeated


def test_graphs_without_states_are_refused_not_read_as_no_partners(cli_runner, built_store):
    """`kg claims check --graph mme` read "0.00 partners (47 exercises)" in every window:
    the claims' queries find partners by their sp:State, which MME's graph does not
    declare; the verdict then blamed a lack of data."""
    res = cli_runner("claims", "check", "1", "--graph", "ontology", store=built_store)
    assert res.exit_code == 2 and res.stdout == "", res.output
    assert res.stderr == ("kg: error: --graph ontology: these graphs declare no state "
                          "(sp:State), which the claims' queries read partners by; add "
                          "--graph curated\n")


def test_the_scorecard_says_when_a_lean_could_not_have_been_reversed():
    """A signature without a counter reading counts only for its own side: supported, it
    moves the score; not supported, nothing. The sentence "leans towards alliance
    extension (0 vs 1)" was built in whenever agreements-follow-us held (a methods audit)."""
    from kg.claims.scorecard import scorecard

    def claim(cid, counter):
        sig = {"side": "alliance-extension", "predicts": "x"}
        if counter:
            sig["counter"] = "y"
        return {"id": cid, "title": cid, "verdict": "supported", "reading": "supported",
                "signature": sig, "robustness": {"label": "robust", "summary": "9 of 9"}}

    one_way = scorecard([claim("a", counter=False)])
    assert one_way["favours"] == "alliance-extension"
    assert any(c.startswith("a can count only for the side that predicts it")
               for c in one_way["caveats"])
    two_way = scorecard([claim("b", counter=True)])
    assert not any("can count only for the side" in c for c in two_way["caveats"])


def test_scorecard_weighs_the_records_by_their_own_robustness():
    """A gated claim's grid has no label of its own ("no data"); the records-only score
    weighs its reading by the records' tally, and the row says both."""
    from kg.claims.scorecard import scorecard

    def claim(cid, records_label):
        return {"id": cid, "title": cid, "verdict": "insufficient data", "reading": "supported",
                "signature": {"side": "hedging", "predicts": "x"},
                "robustness": {"label": "no data", "summary": "not known",
                               "records": {"label": records_label}}}

    card = scorecard([claim("a", "robust"), claim("b", "fragile")])
    assert card["score"] == {"hedging": 0.0, "alliance-extension": 0.0}
    assert card["records_score"]["hedging"] == 1.5
    assert [r["robustness"] for r in card["rows"]] == ["not known (records alone: robust)",
                                                      "not known (records alone: fragile)"]
