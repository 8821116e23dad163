"""Country names and COW codes of the field datasets, mapped to the graph's identifiers.

MME v7 names participants by English country name (the names the R package
``countrycode`` gives, e.g. "Congo - Kinshasa", "St. Vincent & Grenadines"),
including historical states ("Federal Republic of Germany",
"German Democratic Republic", "Czechoslovakia"). :data:`MME_NAMES` maps every
name that occurs in ``mme_v7.csv`` (and common historical spellings besides)
to an ISO3 code from ``data/states.yaml`` or to an organization id from
``data/organizations.yaml``. ATOP and COW identify states by COW numeric code;
:func:`cow_to_iso3` maps those through ``data/states.yaml`` (never through COW
letter codes: Austria is ``AUS`` in COW, Australia ``AUL``).

Choices worth knowing:

- MME codes states through COW codes, so a name stands for a COW code: "Russia"
  is COW 365 in every year (the curated state list gives 365 to Russia, so the
  Soviet Union before 1992 is ``RUS`` here, as in COW); "Germany" is COW 255
  (``DEU``), "Federal Republic of Germany" COW 260 (``XWG``), "Yemen" COW 679.
- "st. christopher" (one row, 1992) is Saint Kitts and Nevis (``KNA``).
- ``-9`` is MME's unknown participant (:data:`UNKNOWN`), not a name.

>>> resolve_name("Congo - Kinshasa")
('state', 'COD')
>>> resolve_name("NATO")
('org', 'nato')
>>> cow_to_iso3()[740]
'JPN'
"""

from __future__ import annotations

import functools
import unicodedata

from kg.errors import InputError

__all__ = ["MME_NAMES", "UNKNOWN", "normalise_name", "resolve_name", "cow_to_iso3",
           "state_names", "org_ids"]

UNKNOWN = "-9"

#: MME participant name -> ISO3 (three upper-case letters) or ``org:<organization id>``.
MME_NAMES: dict[str, str] = {
    "Afghanistan": "AFG", "Albania": "ALB", "Algeria": "DZA", "Angola": "AGO",
    "Antigua & Barbuda": "ATG", "Argentina": "ARG", "Armenia": "ARM", "Australia": "AUS",
    "Austria": "AUT", "Azerbaijan": "AZE", "Bahamas": "BHS", "Bahrain": "BHR",
    "Bangladesh": "BGD", "Barbados": "BRB", "Belarus": "BLR", "Belgium": "BEL", "Belize": "BLZ",
    "Benin": "BEN", "Bolivia": "BOL", "Bosnia & Herzegovina": "BIH", "Botswana": "BWA",
    "Brazil": "BRA", "Brunei": "BRN", "Bulgaria": "BGR", "Burkina Faso": "BFA", "Burundi": "BDI",
    "Cambodia": "KHM", "Cameroon": "CMR", "Canada": "CAN", "Cape Verde": "CPV",
    "Central African Republic": "CAF", "Chad": "TCD", "Chile": "CHL", "China": "CHN",
    "Colombia": "COL", "Comoros": "COM", "Congo - Brazzaville": "COG", "Congo - Kinshasa": "COD",
    "Costa Rica": "CRI", "Croatia": "HRV", "Cuba": "CUB", "Cyprus": "CYP", "Czechia": "CZE",
    "Czechoslovakia": "CSK", "Côte d’Ivoire": "CIV", "Denmark": "DNK", "Djibouti": "DJI",
    "Dominica": "DMA", "Dominican Republic": "DOM", "Ecuador": "ECU", "Egypt": "EGY",
    "El Salvador": "SLV", "Equatorial Guinea": "GNQ", "Estonia": "EST", "Eswatini": "SWZ",
    "Ethiopia": "ETH", "Federal Republic of Germany": "XWG", "Fiji": "FJI", "Finland": "FIN",
    "France": "FRA", "Gabon": "GAB", "Gambia": "GMB", "Georgia": "GEO",
    "German Democratic Republic": "DDR", "Germany": "DEU", "Ghana": "GHA", "Greece": "GRC",
    "Grenada": "GRD", "Guatemala": "GTM", "Guinea": "GIN", "Guinea-Bissau": "GNB",
    "Guyana": "GUY", "Haiti": "HTI", "Honduras": "HND", "Hungary": "HUN", "Iceland": "ISL",
    "India": "IND", "Indonesia": "IDN", "Iran": "IRN", "Iraq": "IRQ", "Ireland": "IRL",
    "Israel": "ISR", "Italy": "ITA", "Jamaica": "JAM", "Japan": "JPN", "Jordan": "JOR",
    "Kazakhstan": "KAZ", "Kenya": "KEN", "Kuwait": "KWT", "Kyrgyzstan": "KGZ", "Laos": "LAO",
    "Latvia": "LVA", "Lebanon": "LBN", "Lesotho": "LSO", "Liberia": "LBR", "Libya": "LBY",
    "Lithuania": "LTU", "Luxembourg": "LUX", "Madagascar": "MDG", "Malawi": "MWI",
    "Malaysia": "MYS", "Maldives": "MDV", "Mali": "MLI", "Malta": "MLT", "Mauritania": "MRT",
    "Mauritius": "MUS", "Mexico": "MEX", "Moldova": "MDA", "Mongolia": "MNG",
    "Montenegro": "MNE", "Morocco": "MAR", "Mozambique": "MOZ", "Myanmar (Burma)": "MMR",
    "Namibia": "NAM", "Nepal": "NPL", "Netherlands": "NLD", "New Zealand": "NZL",
    "Nicaragua": "NIC", "Niger": "NER", "Nigeria": "NGA", "North Korea": "PRK",
    "North Macedonia": "MKD", "Norway": "NOR", "Oman": "OMN", "Pakistan": "PAK", "Palau": "PLW",
    "Panama": "PAN", "Papua New Guinea": "PNG", "Paraguay": "PRY", "Peru": "PER",
    "Philippines": "PHL", "Poland": "POL", "Portugal": "PRT", "Qatar": "QAT", "Romania": "ROU",
    "Russia": "RUS", "Rwanda": "RWA", "Saudi Arabia": "SAU", "Senegal": "SEN", "Serbia": "SRB",
    "Seychelles": "SYC", "Sierra Leone": "SLE", "Singapore": "SGP", "Slovakia": "SVK",
    "Slovenia": "SVN", "Solomon Islands": "SLB", "Somalia": "SOM", "South Africa": "ZAF",
    "South Korea": "KOR", "South Sudan": "SSD", "Spain": "ESP", "Sri Lanka": "LKA",
    "St. Kitts & Nevis": "KNA", "St. Lucia": "LCA", "St. Vincent & Grenadines": "VCT",
    "Sudan": "SDN", "Suriname": "SUR", "Sweden": "SWE", "Switzerland": "CHE", "Syria": "SYR",
    "São Tomé & Príncipe": "STP", "Taiwan": "TWN", "Tajikistan": "TJK", "Tanzania": "TZA",
    "Thailand": "THA", "Timor-Leste": "TLS", "Togo": "TGO", "Tonga": "TON",
    "Trinidad & Tobago": "TTO", "Tunisia": "TUN", "Turkey": "TUR", "Turkmenistan": "TKM",
    "Uganda": "UGA", "Ukraine": "UKR", "United Arab Emirates": "ARE", "United Kingdom": "GBR",
    "United States": "USA", "Uruguay": "URY", "Uzbekistan": "UZB", "Vanuatu": "VUT",
    "Venezuela": "VEN", "Vietnam": "VNM", "Yemen": "YEM", "Yugoslavia": "YUG", "Zambia": "ZMB",
    "Zimbabwe": "ZWE",
    "st. christopher": "KNA",
    # historical and alternative spellings (not all in v7; other MME versions and users' files)
    "West Germany": "XWG", "East Germany": "DDR", "Soviet Union": "SUN", "USSR": "SUN",
    "Republic of Vietnam": "XRV", "South Vietnam": "XRV", "North Vietnam": "VNM",
    "Yemen Arab Republic": "XYA", "North Yemen": "XYA", "South Yemen": "YMD",
    "People's Democratic Republic of Yemen": "YMD", "Zaire": "COD", "Burma": "MMR",
    "Swaziland": "SWZ", "Czech Republic": "CZE", "Macedonia": "MKD", "Ivory Coast": "CIV",
    "Côte d'Ivoire": "CIV", "Cabo Verde": "CPV", "Republic of Korea": "KOR", "Korea": "KOR",
    "Democratic People's Republic of Korea": "PRK", "Türkiye": "TUR",
    "Serbia and Montenegro": "YUG", "Kosovo": "XKX", "East Timor": "TLS",
    "United States of America": "USA", "St. Christopher-Nevis": "KNA",
    "Federated States of Micronesia": "FSM", "Micronesia": "FSM",
    # non-state participants: data/organizations.yaml
    "NATO": "org:nato", "Baltic States": "org:baltic-states", "Bermuda": "org:bermuda",
    "Hong Kong SAR China": "org:hong-kong", "Hong Kong": "org:hong-kong",
    "Netherlands Antilles": "org:netherlands-antilles", "New Caledonia": "org:new-caledonia",
}


def normalise_name(name: str) -> str:
    """A lookup key for a country name: NFC, case-folded, curly quotes and ``&`` unified.

    >>> normalise_name("Côte d’Ivoire") == normalise_name("CÔTE D'IVOIRE")
    True
    """
    s = unicodedata.normalize("NFC", name).replace("’", "'").replace("‘", "'")
    s = s.replace("&", " and ")
    return " ".join(s.casefold().split())


@functools.lru_cache(maxsize=1)
def _states() -> tuple[dict[str, str], dict[int, str], dict[str, str]]:
    """(iso3 -> name, cow -> iso3, normalised name -> iso3) from ``data/states.yaml``."""
    import yaml

    from kg.resources import data_dir

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(data_dir() / "states.yaml", encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=loader)
    names: dict[str, str] = {}
    cow: dict[int, str] = {}
    by_name: dict[str, str] = {}
    for rec in doc.get("states") or []:
        iso = str(rec["iso3"])
        names[iso] = str(rec["name"])
        by_name[normalise_name(str(rec["name"]))] = iso
        if rec.get("cow") is not None:
            cow[int(rec["cow"])] = iso
    return names, cow, by_name


@functools.lru_cache(maxsize=1)
def org_ids() -> frozenset[str]:
    """Ids of the organizations in ``data/organizations.yaml``."""
    import yaml

    from kg.resources import data_dir

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(data_dir() / "organizations.yaml", encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=loader)
    return frozenset(str(r["id"]) for r in doc.get("organizations") or [])


def state_names() -> dict[str, str]:
    """ISO3 -> English name for every state in ``data/states.yaml``."""
    return dict(_states()[0])


def cow_to_iso3() -> dict[int, str]:
    """COW numeric state code -> ISO3, from ``data/states.yaml`` (each code on one state)."""
    return dict(_states()[1])


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, str]]:
    names, _, by_name = _states()
    orgs = org_ids()
    table: dict[str, tuple[str, str]] = {k: ("state", v) for k, v in by_name.items()}
    for name, code in MME_NAMES.items():
        if code.startswith("org:"):
            if code[4:] not in orgs:
                raise InputError(f"MME name table: {name!r} -> unknown organization {code[4:]!r}",
                                 file="data/organizations.yaml")
            table[normalise_name(name)] = ("org", code[4:])
        else:
            if code not in names:
                raise InputError(f"MME name table: {name!r} -> {code} is not a state",
                                 file="data/states.yaml")
            table[normalise_name(name)] = ("state", code)
    return table


def resolve_name(name: str) -> tuple[str, str] | None:
    """``("state", ISO3)``, ``("org", id)``, or None for a name the table does not know.

    Matching is on :func:`normalise_name`, so case, curly quotes and ``&``/``and``
    do not matter; the English names of ``data/states.yaml`` are accepted too.
    The unknown marker ``-9`` is not a name (None).

    >>> resolve_name("Federal Republic of Germany")
    ('state', 'XWG')
    """
    return _table().get(normalise_name(name))
