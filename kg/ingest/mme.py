"""Import the Multinational Military Exercises dataset (MME, one row per exercise).

Reference: D'Orazio, V. and Galambos, R. (2021) *Multinational Military
Exercises*, version 7, Harvard Dataverse, doi:10.7910/DVN/KHFODX.

Mapping (graph ``mme`` unless ``--graph`` says otherwise):

- every row becomes one ``sp:Exercise`` ``id/exercise/mme-<n>`` for MMEID
  ``mme<n>``. v7 reuses a few MMEIDs for different exercises: each repeat gets
  a suffix (``mme-3460-2``), with a warning naming file and line.
  ``sp:datasetId`` keeps the MMEID as written.
- participants (StateA..StateAM) map through :mod:`kg.ingest.names` to
  ``id/state/<ISO3>`` or ``id/org/<id>``; ``-9`` becomes its own
  ``sp:UnknownParticipant`` node per exercise and slot
  (``id/unknown/mme87-3`` = slot 3 of mme87) and the exercise carries
  ``sp:unknownParticipants`` (how many).
- dates come from the split columns ``s.year/s.month/s.day`` (and ``e.*``),
  falling back to the text columns (``1/14/80``, ``1980-01-xx``): ``xx`` is
  unknown, so a day-less date is an ``xsd:gYearMonth`` and a month-less one an
  ``xsd:gYear``, never the first of the month. ``sp:year`` is the start year.
- ``-9`` in a text column (an exercise name, a location) means "not known": the
  value is left out, and an exercise without a name is labelled ``MME exercise <MMEID>``.
- flags: CPX -> ``sp:CommandPost``, Air, Land, Sea, Amphibious, Cyber,
  Warfighting, Peacekeeping, Humanitarian -> the ``sp:`` concept of that name
  (``sp:domain``). Location text (``sp:location``), lat/lon (``sp:lat``/``sp:lon``),
  FocusDescription (``sp:focus``) and AdditionalParticipantInfo (``sp:note``) are kept.
- Series_Name becomes ``sp:series id/series/<slug>`` (the same node as a curated
  series with that slug, e.g. ``rimpac``, ``malabar``, ``cope-north``).

Bad rows: an unknown country name, an unparseable date or year, a lat/lon
that is not a number in range, a flag other than 0/1, a row without MMEID or
participants. Without ``strict`` each is a warning ``file:line: ...`` and the
row is kept as far as it can be (an unknown name becomes an
``sp:UnknownParticipant`` labelled with the name; a bad date or coordinate is
left out; a row without id, year or participants is skipped). With ``strict``
the first one raises :class:`~kg.errors.InputError` naming file and line, and
nothing is written. Two notes stay warnings in both modes, as v7 itself has
them and the rows are stored correctly: an end date before the start date (six
rows; the end date is left out) and an MMEID used again for a different
exercise (three rows; each kept under its own IRI).

The header must name every column the importer reads (:data:`COLUMNS` and the
participant columns StateA, StateB, ... without a gap); one missing is an
:class:`~kg.errors.InputError` naming it, and a column it does not read is
named in a warning. A broken file is not a bad row: a row with more or fewer
values than the header has columns (its columns would shift), or a quoted field
running over several lines (an unmatched quote), is an
:class:`~kg.errors.InputError` naming the line the record starts on, with or
without ``strict`` (:func:`kg.ingest.inputs.csv_records`).

After parsing, :func:`link` (called by :func:`kg.ingest.assemble` with the
store) reconciles the exercises with the curated graph (:mod:`kg.ingest.reconcile`).

>>> from kg.ingest.mme import parse_date
>>> parse_date("1980", "1", "xx")
('1980-01', 'gYearMonth')
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from kg.errors import InputError
from kg.ingest.names import UNKNOWN, resolve_name
from kg.ingest.provenance import DatasetInfo, QuadMaker, dataset_quads, version_from_name
from kg.namespaces import ID, RDF, RDFS, SP, XSD, YEAR_MAX, YEAR_MIN, is_plausible_year, state_iri

__all__ = ["parse", "link", "parse_date", "FLAGS", "COLUMNS", "CITATION", "exercise_local_id",
           "missing_columns"]

CITATION = ("D'Orazio, Vito, and Ryan Galambos. 2021. \"Multinational Military Exercises\" "
            "(MME), version {version}. Harvard Dataverse. https://doi.org/10.7910/DVN/KHFODX")

#: What MME writes in a column whose value is not known (1,033 exercise names, 71 locations
#: and one focus of v7): kg leaves the value out, as it leaves an empty one.
UNKNOWN_TEXT = "-9"
#: MME flag column -> domain concept (local name in sp:)
FLAGS = {"CPX": "CommandPost", "Air": "Air", "Land": "Land", "Sea": "Sea",
         "Amphibious": "Amphibious", "Cyber": "Cyber", "Warfighting": "Warfighting",
         "Peacekeeping": "Peacekeeping", "Humanitarian": "Humanitarian"}

#: the columns the importer reads, besides the participants' StateA, StateB, ... StateAM
COLUMNS = ("MMEID", "Ex_Name", "Series_Name", "Location", "lat", "lon", "StartDate", "s.year",
           "s.month", "s.day", "EndDate", "e.year", "e.month", "e.day", *FLAGS,
           "FocusDescription", "AdditionalParticipantInfo")

_STATE_COL = re.compile(r"State[A-Z]+")
_TEXT_US = re.compile(r"^(\d{1,2}|xx)/(\d{1,2}|xx)/(\d{2}|\d{4})\Z")
_TEXT_ISO = re.compile(r"^(\d{4})-(\d{1,2}|xx)-(\d{1,2}|xx)\Z")
_SLUG = re.compile(r"[^a-z0-9]+")


def parse_date(year: str, month: str, day: str) -> tuple[str, str] | None:
    """A date at the precision known, from split year/month/day (``xx`` = unknown).

    Returns ``(lexical, datatype local name)`` or None when all parts are empty;
    raises ValueError when the parts do not make a date.

    >>> parse_date("1980", "1", "14")
    ('1980-01-14', 'date')
    >>> parse_date("1980", "xx", "xx")
    ('1980', 'gYear')
    """
    year, month, day = (x.strip().lower() for x in (year, month, day))
    if not (year or month or day):
        return None
    if not re.fullmatch(r"\d{4}", year, re.ASCII) or not is_plausible_year(int(year)):
        raise ValueError(f"year {year!r}")
    if month in ("", "xx"):
        if day not in ("", "xx"):
            raise ValueError(f"day {day!r} without a month")
        return year, "gYear"
    if not month.isdigit() or not 1 <= int(month) <= 12:
        raise ValueError(f"month {month!r}")
    if day in ("", "xx"):
        return f"{year}-{int(month):02d}", "gYearMonth"
    if not day.isdigit():
        raise ValueError(f"day {day!r}")
    d = dt.date(int(year), int(month), int(day))  # raises ValueError on 1980-02-30
    return d.isoformat(), "date"


def _parse_text_date(text: str) -> tuple[str, str] | None:
    """Parse ``1/14/80`` (m/d/yy) or ``1980-01-xx``; two-digit years are 19xx from 50 on."""
    s = text.strip().lower()
    if not s:
        return None
    m = _TEXT_US.match(s)
    if m:
        y = m.group(3)
        if len(y) == 2:
            y = str(1900 + int(y) if int(y) >= 50 else 2000 + int(y))
        return parse_date(y, m.group(1), m.group(2))
    m = _TEXT_ISO.match(s)
    if m:
        return parse_date(m.group(1), m.group(2), m.group(3))
    raise ValueError(f"{text!r}")


def exercise_local_id(mmeid: str) -> str:
    """The local part of an exercise IRI for an MMEID: ``mme87`` -> ``mme-87``."""
    m = re.fullmatch(r"mme(\d+)", mmeid.strip(), re.IGNORECASE)
    if m:
        return f"mme-{int(m.group(1))}"
    return "mme-" + (_SLUG.sub("-", mmeid.strip().lower()).strip("-") or "x")


def _state_column(slot: int) -> str:
    """The MME name of participant column ``slot``: StateA, ... StateZ, StateAA, ...

    >>> [_state_column(n) for n in (1, 26, 27, 39)]
    ['StateA', 'StateZ', 'StateAA', 'StateAM']
    """
    letters = ""
    while slot:
        slot, r = divmod(slot - 1, 26)
        letters = chr(65 + r) + letters
    return "State" + letters


def missing_columns(header: list[str]) -> list[str]:
    """The columns the importer reads that ``header`` lacks, participant columns included.

    The participant columns run StateA, StateB, ... without a gap: as many as the header
    has, so a renamed or missing one (``Country1`` for ``StateA``) is named, never a
    participant of every exercise silently dropped.

    >>> missing_columns(list(COLUMNS) + ["Country1", "StateB", "StateC"])
    ['StateA']
    """
    names = set(header)
    n_states = sum(1 for h in header if _STATE_COL.fullmatch(h))
    states = (_state_column(k) for k in range(1, max(n_states, 1) + 1))
    return [c for c in (*COLUMNS, *states) if c not in names]


def _series_slug(name: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return _SLUG.sub("-", s).strip("-")


def _decimal(text: str, lo: float, hi: float) -> str | None:
    s = text.strip()
    if not s:
        return None
    try:
        v = float(s)
    except ValueError:
        raise ValueError(f"{s!r} is not a number") from None
    if not lo <= v <= hi:
        raise ValueError(f"{s} is outside {lo}..{hi}")
    if "e" in s.lower():
        s = repr(v)
    return s


def parse(path: str | Path, graph: str, strict: bool = False) -> tuple[list, list[str]]:
    """Read an MME CSV file into quads of graph ``graph`` (an IRI).

    Long on purpose: one reader of the MME file whose per-row checks (dates, participants,
    names) share the row's context and the warning list; it follows the MME codebook column
    by column.

    :param path: the MME file (``mme_v7.csv``), UTF-8 with a header row.
    :param graph: the target graph IRI.
    :param strict: raise :class:`~kg.errors.InputError` on the first bad row.
    :returns: ``(quads, warnings)``; each warning starts with ``file:line:``.

    Example: ``quads, warnings = parse("mme_v7.csv", graph_iri("mme"))``.
    """
    path = Path(path)
    fname = str(path)
    qm = QuadMaker(graph)
    add, nn, lit = qm.add, qm.nn, qm.lit
    warnings: list[str] = []
    version = version_from_name(path, r"_v(\d+(?:\.\d+)?)", "7")
    info = DatasetInfo(key=f"mme-v{version}", title=f"Multinational Military Exercises (MME) v{version}",
                       version=version, citation=CITATION.format(version=version),
                       publisher="Harvard Dataverse", issued="2021",
                       url="https://doi.org/10.7910/DVN/KHFODX")
    src_iri = f"{ID}source/{info.key}"
    T_EX, P_TYPE, P_LABEL = nn(SP + "Exercise"), RDF + "type", RDFS + "label"
    P_PART, P_SRC = SP + "participant", SP + "source"
    T_UNK = nn(SP + "UnknownParticipant")
    SRC = nn(src_iri)
    D_DATE, D_GYM, D_GY = XSD + "date", XSD + "gYearMonth", XSD + "gYear"
    dtype = {"date": D_DATE, "gYearMonth": D_GYM, "gYear": D_GY}
    domains = {col: nn(SP + c) for col, c in FLAGS.items()}
    seen_ids: dict[str, int] = {}
    series_done: set[str] = set()
    years: list[int] = []

    def bad(line: int, msg: str) -> None:
        if strict:
            raise InputError(msg, file=fname, where=str(line))
        warnings.append(f"{fname}:{line}: {msg}")

    from kg.ingest.inputs import csv_header, csv_reader, csv_records, open_text

    fh = open_text(path)  # regular file (gunzipped if need be), bounded, bad bytes on their own line
    with fh:
        reader = csv_reader(fh)
        header = csv_header(reader, fname)
        col = {h: i for i, h in enumerate(header)}
        missing = missing_columns(header)
        if missing:
            raise InputError("missing MME column(s) " + ", ".join(missing), file=fname, where="1")
        state_cols = [(i, h) for i, h in enumerate(header) if _STATE_COL.fullmatch(h)]
        flag_cols = [(col[c], domains[c]) for c in FLAGS]
        ignored = [h for h in header if h and h not in COLUMNS and not _STATE_COL.fullmatch(h)]
        if ignored:
            warnings.append(f"{fname}:1: column(s) {', '.join(repr(h) for h in ignored)} are "
                            "not MME v7 columns; ignored")

        def get(row, name):
            return row[col[name]].strip()

        def text(row, name):
            """A text column's value; MME's ``-9`` (not known) is none."""
            v = get(row, name)
            return "" if v == UNKNOWN_TEXT else v

        # a row with a missing or an extra value is refused (csv_records), never shifted
        for line, row in csv_records(reader, fname, len(header)):
            if not any(c.strip() for c in row):
                continue
            mmeid = get(row, "MMEID")
            if not mmeid:
                bad(line, "row without MMEID; skipped")
                continue
            # ---- identity
            local = exercise_local_id(mmeid)
            n = seen_ids.get(local, 0) + 1
            seen_ids[local] = n
            key = mmeid if n == 1 else f"{mmeid}-{n}"
            if n > 1:
                local = f"{local}-{n}"
                warnings.append(f"{fname}:{line}: MMEID {mmeid} is used again (a different exercise "
                                f"in the file); kept as a separate exercise <{ID}exercise/{local}>")
            ex = nn(f"{ID}exercise/{local}")
            # ---- year and dates
            try:
                year = int(get(row, "s.year"))
            except ValueError:
                bad(line, f"MMEID {mmeid}: start year {get(row, 's.year')!r} is not a year; skipped")
                continue
            if not is_plausible_year(year):  # not a typo to skip: it would blow up every time series
                raise InputError(f"MMEID {mmeid}: start year {get(row, 's.year')[:30]!r} is "
                                 f"outside {YEAR_MIN}-{YEAR_MAX}", file=fname, where=str(line))
            dates = {}
            for pre, text_col, what in (("s.", "StartDate", "start"), ("e.", "EndDate", "end")):
                try:
                    d = parse_date(get(row, pre + "year"), get(row, pre + "month"), get(row, pre + "day"))
                    if d is None:
                        d = _parse_text_date(get(row, text_col))
                except ValueError as e:
                    raw = "/".join(get(row, pre + x) for x in ("year", "month", "day"))
                    bad(line, f"MMEID {mmeid}: unparseable {what} date {raw!r} "
                              f"({get(row, text_col)!r}): {e}; date left out")
                    continue
                if d is not None:
                    dates[what] = d
            if "start" in dates and dates["start"][0][:4] != str(year):
                bad(line, f"MMEID {mmeid}: start date {dates['start'][0]} is not in year {year}; "
                          "date left out")
                del dates["start"]
            if "start" in dates and "end" in dates:
                s, e = dates["start"][0], dates["end"][0]
                k = min(len(s), len(e))
                if e[:k] < s[:k]:
                    warnings.append(f"{fname}:{line}: MMEID {mmeid}: end date {e} is before start "
                                    f"date {s}; end date left out")
                    del dates["end"]
            # ---- participants
            parts: list = []
            unknown = 0
            for slot, (i, _h) in enumerate(state_cols, start=1):
                name = row[i].strip()
                if not name:
                    continue
                r = None if name == UNKNOWN else resolve_name(name)
                if r is None:
                    if name == UNKNOWN:
                        label = f"unknown participant (MME {mmeid}, slot {slot})"
                    else:
                        bad(line, f"MMEID {mmeid}: unknown country name {name!r} in {_h.strip()}")
                        label = f"unresolved name {name!r} (MME {mmeid}, slot {slot})"
                    unknown += 1
                    u = nn(f"{ID}unknown/{key}-{slot}")
                    add(u, P_TYPE, T_UNK)
                    add(u, P_LABEL, lit(label))
                    parts.append(u)
                    continue
                kind, code = r
                parts.append(nn(state_iri(code) if kind == "state" else f"{ID}org/{code}"))
            if not parts:
                bad(line, f"MMEID {mmeid}: no participants; skipped")
                continue
            # ---- the exercise
            years.append(year)
            add(ex, P_TYPE, T_EX)
            add(ex, P_LABEL, lit(text(row, "Ex_Name") or f"MME exercise {mmeid}"))
            add(ex, SP + "datasetId", lit(mmeid))
            add(ex, SP + "year", qm.int(year))
            add(ex, P_SRC, SRC)
            for what, prop in (("start", SP + "startDate"), ("end", SP + "endDate")):
                if what in dates:
                    add(ex, prop, lit(dates[what][0], dtype[dates[what][1]]))
            for p in dict.fromkeys(parts):
                add(ex, P_PART, p)
            if unknown:
                add(ex, SP + "unknownParticipants", qm.int(unknown))
            for i, concept in flag_cols:
                v = row[i].strip()
                if v == "1":
                    add(ex, SP + "domain", concept)
                elif v not in ("0", ""):
                    bad(line, f"MMEID {mmeid}: flag {header[i]} is {v!r}, not 0 or 1")
            series = text(row, "Series_Name")
            if series:
                slug = _series_slug(series)
                if slug:
                    s_iri = f"{ID}series/{slug}"
                    add(ex, SP + "series", nn(s_iri))
                    if slug not in series_done:
                        series_done.add(slug)
                        add(s_iri, P_TYPE, nn(SP + "ExerciseSeries"))
                        add(s_iri, P_LABEL, lit(series))
            loc = text(row, "Location")
            if loc:
                add(ex, SP + "location", lit(loc))
            for c, prop, lo, hi in (("lat", SP + "lat", -90, 90), ("lon", SP + "lon", -180, 180)):
                try:
                    v = _decimal(get(row, c), lo, hi)
                except ValueError as e:
                    bad(line, f"MMEID {mmeid}: {c} {e}; left out")
                    continue
                if v is not None:
                    add(ex, prop, lit(v, XSD + "decimal"))
            focus = text(row, "FocusDescription")
            if focus:
                add(ex, SP + "focus", lit(focus))
            extra = text(row, "AdditionalParticipantInfo")
            if extra:
                add(ex, SP + "note", lit(extra))
    if not years:
        raise InputError("no exercises in the file", file=fname)
    dataset_quads(qm, graph, info, path, (min(years), max(years)))
    return qm.quads, warnings


def link(store, quads: list, graph: str) -> tuple[list, list[str]]:
    """Reconciliation quads for freshly parsed MME ``quads`` against the store's curated graph.

    Called by :func:`kg.ingest.assemble` when a store is open; returns
    ``([], [])`` when the store has no curated graph. See :mod:`kg.ingest.reconcile`.
    """
    from kg.ingest.reconcile import reconcile_quads

    return reconcile_quads(store, quads, graph)
