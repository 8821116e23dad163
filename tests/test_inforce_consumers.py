"""Every consumer of "in force" gives the same answer on the bundled data (issue 13).

The network (and so metrics, the map and the exports), the report's agreements-by-type
table and the claims all read agreement years through kg.inforce; this checks that they
agree for Japan in every year 1950-2025, and that the Japan-U.S. ACSA is one agreement in
force in every year from 1996.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def store(built_store):
    from kg.store import open_store

    with open_store(built_store) as st:
        yield st


def test_network_report_and_rule_count_the_same_agreements_every_year(store):
    from kg.inforce import agreements_in_force
    from kg.network import build_network
    from kg.report import agreements_by_type

    _, rows = agreements_by_type(store, "JPN", last_year=2025)
    report = {r["year"]: r["total"] for r in rows}
    for y in range(1950, 2026):
        G = build_network(store, relation="agreement", year_from=y, year_to=y)
        net = G.nodes["JPN"]["agreements"] if "JPN" in G else 0
        rule = len(agreements_in_force(store, y, y, focus="JPN"))
        assert net == rule == report.get(y, 0), (y, net, rule, report.get(y))


def test_the_japan_us_acsa_is_one_agreement_in_force_from_1996(store):
    from kg.inforce import agreements_in_force

    for y in range(1990, 2026):
        acsa = [a for a in agreements_in_force(store, y, y, focus="JPN",
                                               types=["LogisticsAgreement"])
                if set(a.parties) == {"JPN", "USA"}]
        assert len(acsa) == (1 if y >= 1996 else 0), (y, [a.id for a in acsa])


def test_claims_read_the_same_raa_partners_as_the_rule(store):
    from kg.claims import check_claims
    from kg.inforce import agreements_in_force

    ev = check_claims(store, ["raa-three-by-2025"])["claims"][0]["evidence"]
    partners = {p for a in agreements_in_force(store, 2025, 2025, focus="JPN",
                                               types=["ReciprocalAccessAgreement"])
                for p in a.parties if p != "JPN"}
    text = repr(ev)
    assert partners and all(p in text for p in partners)
    assert len(partners) == 3
