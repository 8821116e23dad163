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
from pathlib import Path

from kg.errors import InputError

__all__ = ["MME_NAMES", "UNKNOWN", "normalise_name", "resolve_name", "cow_to_iso3",
           "state_names", "org_ids"]

UNKNOWN = "-9"


def _read_name_table(path: Path) -> dict[str, str]:
    """``name -> code`` from a tab-separated table; blank lines and ``#`` lines are skipped."""
    table: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            name, sep, code = line.partition("\t")
            if not sep or not code or name in table:
                raise InputError(f"line {lineno}: expected a new name, a tab and a code", file=path.name)
            table[name] = code
    return table

#: MME participant name -> ISO3 (three upper-case letters) or ``org:<organization id>``,
#: read from the table ``mme-names.tsv`` beside this module (one name a line).
MME_NAMES: dict[str, str] = _read_name_table(Path(__file__).with_name("mme-names.tsv"))


def normalise_name(name: str) -> str:
    """A lookup key for a country name: NFC, case-folded, curly quotes and ``&`` unified.

    >>> normalise_name("Côte d’Ivoire") == normalise_name("CÔTE D'IVOIRE")
    True
    """
    s = unicodedata.normalize("NFC", name).replace("’", "'").replace("‘", "'")
    s = s.replace("&", " and ")
    return " ".join(s.casefold().split())


def _bundled_yaml(name: str) -> dict:
    """One file of the bundled curated data, parsed (C loader where PyYAML has it)."""
    import yaml

    from kg.resources import data_dir

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(data_dir() / name, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


@functools.lru_cache(maxsize=1)
def _states() -> tuple[dict[str, str], dict[int, str], dict[str, str]]:
    """(iso3 -> name, cow -> iso3, normalised name -> iso3) from ``data/states.yaml``."""
    doc = _bundled_yaml("states.yaml")
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
    doc = _bundled_yaml("organizations.yaml")
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
