"""The bundled agreements: Japan's lifecycle dates, the ACSA chain and the US alliance network.

Checks the curated YAML under ``data/`` (read with the compiler's reader) and
the store ``kg build`` makes of it.
"""
from __future__ import annotations

from collections import defaultdict

import pytest

from kg.ingest.curated import compile_records, read_records
from kg.namespaces import ID, SPARQL_PREFIXES
from kg.resources import data_dir

DATA = data_dir()

# NATO's 32 members in 2025 (NATO, "Enlargement and Article 10": 12 founders and ten
# rounds of enlargement, the last Sweden on 7 March 2024).
NATO_2025 = {"ALB", "BEL", "BGR", "CAN", "HRV", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC",
             "HUN", "ISL", "ITA", "LVA", "LTU", "LUX", "MNE", "NLD", "MKD", "NOR", "POL", "PRT",
             "ROU", "SVK", "SVN", "ESP", "SWE", "TUR", "GBR", "USA"}


@pytest.fixture(scope="module")
def files() -> list[tuple[str, dict]]:
    return [(str(p), read_records(p)) for p in sorted(DATA.rglob("*.yaml"))]


@pytest.fixture(scope="module")
def agreements(files) -> dict[str, dict]:
    return {str(a["id"]): a for _, doc in files for a in doc.get("agreements") or []}


def _year(date: str) -> int:
    return int(str(date)[:4])


def test_every_agreement_of_japan_has_its_dates_or_says_why_not(agreements):
    missing = []
    for rid, a in agreements.items():
        if "JPN" not in a["parties"]:
            continue
        if not a.get("signed") and a["status"] != "under-negotiation":
            missing.append(f"{rid}: no signed")
        if not a.get("in_force") and not str(a.get("in_force_note") or "").strip():
            missing.append(f"{rid}: neither in_force nor in_force_note")
    assert missing == []


def test_the_compiler_accepts_the_data_when_notes_are_required(files):
    quads, where = compile_records(files, graph=ID + "graph/test", require_in_force_note=True)
    assert quads and where


def test_the_compiler_refuses_an_agreement_of_japan_without_dates_or_note(files):
    from kg.errors import InputError

    bad = {"agreements": [{"id": "jpn-usa-test-2030", "type": "LogisticsAgreement", "label": "L",
                           "parties": ["JPN", "USA"], "signed": "2030-01-01", "status": "signed",
                           "sources": ["ag-mofaj-2017-usa-acsa-eif"], "__line__": 1}]}
    with pytest.raises(InputError, match="jpn-usa-test-2030"):
        compile_records(files + [("bad.yaml", bad)], graph=ID + "graph/test", require_in_force_note=True)


def test_japan_us_acsa_versions_chain_by_supersession(agreements):
    acsa = [a for a in agreements.values()
            if a["type"] == "LogisticsAgreement" and sorted(a["parties"]) == ["JPN", "USA"]]
    acsa.sort(key=lambda a: str(a["signed"]))
    assert [a["id"] for a in acsa] == ["jpn-usa-acsa-1996", "jpn-usa-acsa-2016"]
    assert "supersedes" not in acsa[0]
    for old, new in zip(acsa[:-1], acsa[1:], strict=True):
        assert new["supersedes"] == old["id"]
        assert old["status"] == "superseded"
        assert str(old["in_force"]) < str(new["in_force"])
        assert str(old.get("end", new["in_force"])) == str(new["in_force"])
    assert acsa[-1]["status"] == "in-force"
    # in force from 1996 on, with one version at a time
    assert _year(acsa[0]["in_force"]) == 1996


def test_every_supersedes_points_to_an_older_agreement_of_the_same_parties(agreements):
    for rid, a in agreements.items():
        if "supersedes" not in a:
            continue
        old = agreements[a["supersedes"]]
        assert sorted(old["parties"]) == sorted(a["parties"]), rid
        assert old["status"] == "superseded", rid
        assert str(old["signed"]) < str(a["signed"]), rid


def test_every_nato_member_of_2025_has_an_accession_date(agreements):
    nato = agreements["nato-treaty-1949"]
    members = {m["party"]: m for m in nato["members"] if "left" not in m}
    assert set(members) == NATO_2025
    assert set(nato["parties"]) == NATO_2025 | {"XWG"}
    assert [m["party"] for m in nato["members"] if "left" in m] == ["XWG"]
    for code, m in members.items():
        assert m.get("joined"), code
        assert _year(m["joined"]) <= 2025, code
        assert str(m["joined"]) >= str(nato["in_force"]), code
        assert m.get("sources"), code
    assert str(members["SWE"]["joined"]) == "2024-03-07"
    assert str(members["FIN"]["joined"]) == "2023-04-04"


def test_rio_treaty_withdrawals_are_dated_and_sourced(agreements):
    rio = agreements["rio-treaty-1947"]
    left = {m["party"]: str(m["left"]) for m in rio["members"] if m.get("left")}
    assert set(left) == {"BOL", "CUB", "ECU", "MEX", "NIC", "VEN"}
    assert all(m.get("sources") for m in rio["members"])
    assert "USA" in rio["parties"] and "USA" not in left


def test_anzus_suspends_the_us_new_zealand_tie_from_1986(agreements):
    anzus = agreements["aus-nzl-usa-treaty-1951"]
    (susp,) = anzus["suspensions"]
    assert sorted(susp["parties"]) == ["NZL", "USA"]
    assert _year(susp["from"]) == 1986 and "until" not in susp


def test_the_us_treaty_allies_are_all_there(agreements):
    """Each US collective-defence treaty the issue names is a DefenceTreaty (or, for
    Thailand, the joint communique) with the United States as a party."""
    for rid in ["nato-treaty-1949", "rio-treaty-1947", "aus-nzl-usa-treaty-1951",
                "aus-fra-gbr-nzl-pak-phl-tha-usa-treaty-1954", "jpn-usa-treaty-1951",
                "jpn-usa-treaty-1960", "kor-usa-treaty-1953", "phl-usa-treaty-1951", "tha-usa-jd-1962",
                "twn-usa-treaty-1954"]:
        assert "USA" in agreements[rid]["parties"], rid
    assert agreements["jpn-usa-treaty-1960"]["supersedes"] == "jpn-usa-treaty-1951"
    roc = agreements["twn-usa-treaty-1954"]
    assert roc["status"] == "terminated" and _year(roc["end"]) == 1979
    seato = agreements["aus-fra-gbr-nzl-pak-phl-tha-usa-treaty-1954"]
    assert str(seato["end"]) == "1977-06-30"
    assert {m["party"]: str(m.get("left")) for m in seato["members"]}["PAK"] == "1973-11"


def test_memberships_and_suspensions_reach_the_store(built_store):
    from kg.store import open_store

    with open_store(built_store) as store:
        rs = store.select(SPARQL_PREFIXES + """
            SELECT ?code ?joined WHERE {
              id:agreement\\/nato-treaty-1949 sp:membership ?m .
              ?m sp:member ?st ; sp:entryDate ?joined .
              BIND(STRAFTER(STR(?st), "state/") AS ?code)
            }""")
        got = {str(r[0].value): str(r[1].value) for r in rs.rows}
        assert set(got) == NATO_2025 | {"XWG"}
        assert got["ESP"] == "1982-05-30"
        rs = store.select(SPARQL_PREFIXES + """
            SELECT ?p WHERE { id:agreement\\/aus-nzl-usa-treaty-1951 sp:suspension ?s .
                              ?s sp:suspendedParty ?p }""")
        assert len(rs.rows) == 2
        rs = store.select(SPARQL_PREFIXES + """
            SELECT ?old WHERE { id:agreement\\/jpn-usa-acsa-2016 sp:supersedes ?old .
                                ?old sp:supersededBy id:agreement\\/jpn-usa-acsa-2016 }""")
        assert [str(r[0].value) for r in rs.rows] == [ID + "agreement/jpn-usa-acsa-1996"]


def test_every_membership_and_suspension_is_sourced_and_every_source_has_an_address(files):
    """Each membership spell and suspension cites a source, and every source an agreement
    cites gives the address it was checked against (or a note saying why there is none)."""
    sources = {s["id"]: s for _, doc in files for s in doc.get("sources") or []}
    cited: dict[str, set] = defaultdict(set)
    unsourced = []
    for _, doc in files:
        for a in doc.get("agreements") or []:
            for sid in a["sources"]:
                cited[sid].add(a["id"])
            for sub in (a.get("members") or []) + (a.get("suspensions") or []):
                if not sub.get("sources"):
                    unsourced.append(f"{a['id']}: {sub.get('party') or sub.get('parties')}")
                for sid in sub.get("sources") or []:
                    cited[sid].add(a["id"])
    assert unsourced == []
    no_address = [sid for sid in cited if not sources[sid].get("url") and not sources[sid].get("note")]
    assert no_address == []
