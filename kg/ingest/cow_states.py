"""Import Correlates of War State System Membership: when each state was a member of the system.

Reference: Correlates of War Project (2017) *State System Membership List,
v2016*, https://correlatesofwar.org/data-sets/state-system-membership/.

Input: ``states2016.csv`` (``stateabb, ccode, statenme, styear, stmonth,
stday, endyear, endmonth, endday, version``), one row per membership spell; a
state that left and re-entered the system (e.g. Cuba under US occupation) has
several rows.

Output (graph ``cow-states``): per row one ``sp:SystemMembership``
(``id/system-membership/<ISO3>-<start year>``) with ``sp:member`` the state,
``sp:entryDate`` and ``sp:exitDate`` (``xsd:date``) and ``sp:source``; the
dataset node records the version and the years covered (first entry .. last
exit). Dyad-year panels (:mod:`kg.panel`) use these spells to tell a year in
which a state did not exist (unknown) from one in which it had no tie (0).

States are matched by COW numeric code through ``data/states.yaml``; a code
not there is a bad row (a warning, or with ``strict`` an
:class:`~kg.errors.InputError`). A row with more or fewer values than the
header, or a record over several lines (an unmatched quote), is an InputError
in both modes, naming the line the record starts on.

>>> iso_date("1816", "1", "1")
'1816-01-01'
>>> iso_date("2016", "12", "31")
'2016-12-31'
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kg.errors import InputError
from kg.ingest.cow import csv_rows
from kg.ingest.names import cow_to_iso3
from kg.ingest.provenance import DatasetInfo, QuadMaker, dataset_quads, version_from_name
from kg.namespaces import ID, RDF, SP, XSD, YEAR_MAX, YEAR_MIN, is_plausible_year, state_iri

__all__ = ["parse", "iso_date", "COLUMNS", "CITATION"]

COLUMNS = ("ccode", "styear", "stmonth", "stday", "endyear", "endmonth", "endday")
CITATION = ("Correlates of War Project. 2017. \"State System Membership List, v{version}.\" "
            "Online, https://correlatesofwar.org/data-sets/state-system-membership/")


def iso_date(year: str, month: str, day: str) -> str:
    """A checked ISO date from the three COW columns (ValueError when not a real date)."""
    return dt.date(int(year), int(month), int(day)).isoformat()


def parse(path: str | Path, graph: str, strict: bool = False) -> tuple[list, list[str]]:
    """Read a COW state-system membership file into ``sp:SystemMembership`` quads.

    :param path: e.g. ``states2016.csv``.
    :param graph: the target graph IRI.
    :param strict: raise :class:`~kg.errors.InputError` on the first bad row.
    :returns: ``(quads, warnings)``.
    """
    fname = str(path)
    known = cow_to_iso3()
    warnings: list[str] = []
    spells: list[tuple[str, str, str]] = []
    for line, row, col in csv_rows(path, list(COLUMNS)):
        try:
            code = int(row[col["ccode"]])
            start = iso_date(*(row[col[c]] for c in ("styear", "stmonth", "stday")))
            end = iso_date(*(row[col[c]] for c in ("endyear", "endmonth", "endday")))
        except ValueError:
            msg = "ccode and the six date columns must be integers forming real dates"
        else:
            if not (is_plausible_year(int(start[:4])) and is_plausible_year(int(end[:4]))):
                raise InputError(f"year outside {YEAR_MIN}-{YEAR_MAX}", file=fname, where=str(line))
            msg = None if code in known else f"unknown COW state code {code} (not in data/states.yaml)"
            if msg is None and end < start:
                msg = f"exit {end} is before entry {start}"
        if msg:
            if strict:
                raise InputError(msg, file=fname, where=str(line))
            warnings.append(f"{fname}:{line}: {msg}; row skipped")
            continue
        spells.append((known[code], start, end))
    if not spells:
        raise InputError("no state-system membership rows in the file", file=fname)
    version = version_from_name(path, r"states(\d{4})", "2016")
    info = DatasetInfo(key=f"cow-states-v{version}",
                       title=f"Correlates of War State System Membership List v{version}",
                       version=version, citation=CITATION.format(version=version),
                       publisher="Correlates of War Project",
                       url="https://correlatesofwar.org/data-sets/state-system-membership/")
    qm = QuadMaker(graph)
    cover = (min(int(s[:4]) for _, s, _ in spells), max(int(e[:4]) for _, _, e in spells))
    src = qm.nn(dataset_quads(qm, graph, info, path, cover))
    t_mem = qm.nn(SP + "SystemMembership")
    for iso, start, end in sorted(spells):
        node = f"{ID}system-membership/{iso}-{start[:4]}"
        qm.add(node, RDF + "type", t_mem)
        qm.add(node, SP + "member", qm.nn(state_iri(iso)))
        qm.add(node, SP + "entryDate", qm.lit(start, XSD + "date"))
        qm.add(node, SP + "exitDate", qm.lit(end, XSD + "date"))
        qm.add(node, SP + "source", src)
    return qm.quads, warnings
