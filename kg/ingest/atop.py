"""Import ATOP (Alliance Treaty Obligations and Provisions): agreements and per-member obligations.

Reference: Leeds, B. A., Ritter, J. M., Mitchell, S. M. and Long, A. G. (2002)
"Alliance Treaty Obligations and Provisions, 1815-1944", *International
Interactions* 28: 237-260; ATOP codebook and data v4.01 / v5.1, atopdata.org.

Two inputs are understood (told apart by their columns):

**Member level** (``atop4_01_member.csv`` or ``atop5_1m.csv``: one row per
member per alliance phase), with the alliance-level file beside it where it
exists (the same name with ``member`` replaced by ``alliance``, e.g.
``atop4_01_alliance.csv``, or 5.1's ``m`` by ``a``: ``atop5_1a.csv``; begin
and end dates of each alliance). The version read (5.1's ``version`` column,
else the file name) is recorded on the graph (``owl:versionInfo``). For a
version whose codebook facts are known (:data:`CODEBOOK`), every fact the
files disagree with is a warning: the 5.1 codebook counts 765 alliances, the
5.1 files hold 789. Output, in graph ``atop``:

- one agreement ``id/agreement/atop-<atopid>`` per alliance id, typed
  ``sp:DefenceTreaty`` when at least one member has a defence obligation
  (``defense = 1``) in any phase, else ``sp:DefenceCooperationAgreement``
  (offence, neutrality, non-aggression or consultation pacts); ``sp:party``
  every member; ``sp:signedDate`` the alliance's begin date (ATOP dates an
  alliance from its signature) and ``sp:endDate`` its end date, from the
  alliance file (else the earliest entry and, when every member has left, the
  latest exit); ``sp:status sp:InForce`` when ATOP codes it in effect at the
  end of its coverage; ``sp:datasetId`` the atopid;
- one ``sp:membership`` node (an ``sp:Membership``) per member-phase row
  (``id/membership/atop-<atopid>-<ISO3>-p<phase>``) with ``sp:member``,
  ``sp:phase`` (when the alliance has phases), ``sp:entryDate`` and
  ``sp:exitDate`` (exit ``0`` = still a member);
- one ``sp:Obligation`` per member and kind it carries in any phase
  (``id/obligation/atop-<atopid>-<ISO3>-<kind>``, ``sp:bearer`` the member,
  ``sp:kind`` one of ``sp:Defense``, ``sp:Offense``, ``sp:Neutrality``,
  ``sp:NonAggression``, ``sp:Consultation``; ``sp:phase`` each phase in which
  the member bears it, when the alliance has phases). Obligations belong to
  members: in the 1960 US-Japan treaty (atopid 3375) the United States bears
  ``sp:Defense`` and Japan does not; and to phases: in the EU (atopid 4175)
  Ireland bears ``sp:Defense`` in phase 2 (from 2007) only.

ATOP dates with month or day ``0``/empty are unknown: ``xsd:gYear`` or
``xsd:gYearMonth``, never the first of the month.

**Directed dyad-years** (``atop5_1_alliance_ddy.csv.gz``: ``ccode1, ccode2,
year, atop_defense, ...``): collapsed as in :mod:`kg.ingest.cow`, but directed:
per (ccode1, ccode2, kind) and run of years one ``sp:AllianceSpell``
(``id/agreement/atop-ddy-<ISO3 bearer>-<ISO3 partner>-<kind>-<first year>``)
whose ``sp:Obligation`` is borne by ccode1. Load it into its own graph
(``--graph atop-ddy``) when the member-level file is also loaded.

Each file must have every column read (:data:`MEMBER_COLUMNS`,
:data:`ALLIANCE_COLUMNS`); one missing is an :class:`~kg.errors.InputError`
naming the file and the column.

States are matched by COW numeric code through ``data/states.yaml``. A member
code not in that list (v4.01 has ``8152`` in alliance 1320) is a bad row: a
warning (the member is kept as an ``sp:UnknownParticipant`` party, without
obligations) or, with ``strict``, an :class:`~kg.errors.InputError`. A row
with more or fewer values than the header (its obligations would be read from
its neighbours' columns), or a record over several lines (an unmatched quote),
is an InputError in both modes, naming the line the record starts on.
Other bad rows are warnings ``file:line: ...`` or, with ``strict``, the first
of them an InputError: a value that is not a number or date (the row is
skipped), an obligation flag other than 0/1 (skipped), a row repeating an
earlier one (skipped), an alliance date that does not exist (left out) or an
end before the begin (the end left out).

>>> atop_date("1960", "1", "19")
('1960-01-19', 'date')
>>> atop_date("1951", "9", "0")
('1951-09', 'gYearMonth')
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from kg.errors import InputError
from kg.ingest.cow import emit_spells, open_text, read_dyad_years, read_header
from kg.ingest.inputs import csv_reader, csv_records
from kg.ingest.names import cow_to_iso3, state_names
from kg.ingest.provenance import DatasetInfo, QuadMaker, dataset_quads, version_from_name
from kg.namespaces import ID, RDF, RDFS, SP, XSD, YEAR_MAX, YEAR_MIN, is_plausible_year, state_iri

__all__ = ["parse", "atop_date", "OBLIGATIONS", "DDY_KINDS", "CITATION", "alliance_file_for",
           "CODEBOOK", "codebook_disagreements", "MEMBER_COLUMNS", "ALLIANCE_COLUMNS"]

CITATION = ("Leeds, Brett Ashley, Jeffrey M. Ritter, Sara McLaughlin Mitchell, and Andrew G. Long. "
            "2002. \"Alliance Treaty Obligations and Provisions, 1815-1944.\" International "
            "Interactions 28: 237-260. ATOP data version {version}, http://www.atopdata.org/.")

#: member-level column -> sp: concept
OBLIGATIONS = {"defense": "Defense", "offense": "Offense", "neutral": "Neutrality",
               "nonagg": "NonAggression", "consul": "Consultation"}
#: member-level columns read (``version``, where present, too: else the file name says it)
MEMBER_COLUMNS = ("atopid", "member", "yrent", "moent", "dayent", "yrexit", "moexit", "dayexit",
                  "phase", "ineffect", *OBLIGATIONS)
#: alliance-level columns read (``version``, ``new5`` and ``rev5`` too, where present)
ALLIANCE_COLUMNS = ("atopid", "begyr", "begmo", "begday", "endyr", "endmo", "endday", "ineffect",
                    "maxphase", *OBLIGATIONS)
_ALLIANCE_OPTIONAL = ("new5", "rev5", "version")
#: directed dyad-year column -> (sp: concept, label word)
DDY_KINDS = {"atop_defense": ("Defense", "defence obligation"),
             "atop_offense": ("Offense", "offence obligation"),
             "atop_neutral": ("Neutrality", "neutrality obligation"),
             "atop_nonagg": ("NonAggression", "non-aggression obligation"),
             "atop_consul": ("Consultation", "consultation obligation")}


#: Facts a version's codebook states about its data, checked against the files read.
#: 5.1: ATOP Codebook version 5.1 (Leeds et al.), sections 1.3 (years covered,
#: "1815-2018 inclusive"), 1.4 (alliance phases: "44 of the 765 alliances ... have
#: more than one phase"), 2.2 ("185 of the 765 alliances ... are solely nonaggression
#: pacts") and the introduction to version 5 (20 new alliances, NEW5; 8 revised, REV5).
CODEBOOK = {
    "5.1": {"alliances": 765, "multi_phase": 44, "nonaggression_only": 185, "new5": 20,
            "rev5": 8, "first_year": 1815, "last_year": 2018},
}
_FACT_TEXT = {
    "alliances": "alliances",
    "multi_phase": "alliances with more than one phase",
    "nonaggression_only": "alliances that are solely nonaggression pacts",
    "new5": "alliances new in version 5 (NEW5 = 1)",
    "rev5": "alliances revised since version 4 (REV5 = 1)",
    "first_year": "first year covered",
    "last_year": "last year covered",
}


def codebook_disagreements(version: str, facts: dict) -> list[str]:
    """What the files' ``facts`` and the codebook of ``version`` disagree on, one text each.

    >>> codebook_disagreements("5.1", {"alliances": 789, "new5": 20})
    ['the ATOP 5.1 codebook counts 765 alliances; the files hold 789']
    >>> codebook_disagreements("4.01", {"alliances": 745})
    []
    """
    book = CODEBOOK.get(version, {})
    out = []
    for key, value in facts.items():
        want = book.get(key)
        if want is None or value is None or want == value:
            continue
        if key in ("first_year", "last_year"):
            out.append(f"the ATOP {version} codebook gives {want} as the {_FACT_TEXT[key]}; "
                       f"the files reach {value}")
        else:
            out.append(f"the ATOP {version} codebook counts {want} {_FACT_TEXT[key]}; "
                       f"the files hold {value}")
    return out
class YearOutOfRange(ValueError):
    """A year outside 1800-2100: bad input that stops the ingest, never a skipped row."""


def atop_date(year: str, month: str, day: str) -> tuple[str, str] | None:
    """An ATOP date at the precision known (month/day ``0`` or empty = unknown); None for year 0.

    Raises ValueError for a date that does not exist.
    """
    y = int(year or 0)
    if y == 0:
        return None
    if not is_plausible_year(y):
        raise YearOutOfRange(f"year {year.strip()[:30]!r} is outside {YEAR_MIN}-{YEAR_MAX}")
    m = int(month or 0)
    d = int(day or 0)
    if m == 0:
        return f"{y:04d}", "gYear"
    if not 1 <= m <= 12:
        raise ValueError(f"month {m}")
    if d == 0:
        return f"{y:04d}-{m:02d}", "gYearMonth"
    return dt.date(y, m, d).isoformat(), "date"


def alliance_file_for(member_path: str | Path) -> Path | None:
    """The alliance-level file beside a member-level one, when it exists."""
    p = Path(member_path)
    if "member" in p.name:
        cand = p.with_name(p.name.replace("member", "alliance"))
    else:
        m = re.match(r"^(atop\d+_\d+)m(\.csv(?:\.gz)?)$", p.name, re.IGNORECASE)
        if not m:
            return None
        cand = p.with_name(f"{m.group(1)}{'a' if p.name[m.end(1)] == 'm' else 'A'}{m.group(2)}")
    return cand if cand.exists() and cand != p else None


def _read(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the ``(line, row)`` records of an ATOP file.

    A row with a missing or an extra value, or a record over several lines (an unmatched
    quote), is an InputError naming its line: shifted, a member's obligations would be
    read from its neighbours' columns.
    """
    fname = str(path)
    with open_text(path) as fh:
        reader = csv_reader(fh)
        header = read_header(reader, fname)
        rows = list(csv_records(reader, fname, len(header)))
    return header, rows


def _info(path: Path, version: str | None = None) -> DatasetInfo:
    version = version or version_from_name(path, r"atop(\d+)_(\d+)", "4.01")
    return DatasetInfo(key=f"atop-v{version}",
                       title=f"Alliance Treaty Obligations and Provisions (ATOP) v{version}",
                       version=version, citation=CITATION.format(version=version),
                       publisher="Alliance Treaty Obligations and Provisions Project",
                       issued="2002", url="http://www.atopdata.org/")


def parse(path: str | Path, graph: str, strict: bool = False) -> tuple[list, list[str]]:
    """Read an ATOP member-level file (or directed dyad-year file) into quads of ``graph``.

    :param path: ``atop4_01_member.csv`` (the alliance file beside it is read too)
        or ``atop5_1_alliance_ddy.csv.gz``.
    :param graph: the target graph IRI.
    :param strict: raise :class:`~kg.errors.InputError` on the first bad row.
    :returns: ``(quads, warnings)``; each warning starts with ``file:line:``.

    Example: ``quads, warnings = parse("atop4_01_member.csv", graph_iri("atop"))``.
    """
    path = Path(path)
    with open_text(path) as fh:
        first = fh.readline()
    cols = {c.strip() for c in first.split(",")}
    if "atop_defense" in cols:
        return _parse_ddy(path, graph, strict)
    if not {"atopid", "member"} <= cols:
        raise InputError("not an ATOP member-level or dyad-year file (no atopid/member or "
                         "atop_defense column)", file=str(path), where="1")
    return _parse_member(path, graph, strict)


def _parse_ddy(path: Path, graph: str, strict: bool) -> tuple[list, list[str]]:
    warnings: list[str] = []
    years, cover, nrows = read_dyad_years(path, list(DDY_KINDS), directed=True, strict=strict,
                                          warnings=warnings)
    if not nrows:
        raise InputError("no dyad-years in the file", file=str(path))
    qm = QuadMaker(graph)
    info = _info(path)
    info.title += " (directed dyad-years)"
    src = dataset_quads(qm, graph, info, path, cover)
    emit_spells(qm, years, DDY_KINDS, src, prefix="atop-ddy", dataset="ATOP", directed=True)
    return qm.quads, warnings


def _parse_member(path: Path, graph: str, strict: bool) -> tuple[list, list[str]]:
    """Read the ATOP member file into quads of ``graph`` and warnings.

    Long on purpose: one reader of the ATOP member file whose row checks share the file's
    column map and warning list; each check is a few lines.
    """
    fname = str(path)
    warnings: list[str] = []
    iso = cow_to_iso3()
    names = state_names()

    def bad(where_file: str, line: int, msg: str, kept: str = "") -> None:
        """A bad row: an error with ``strict`` (and nothing kept), else a warning saying
        what was kept of it (``kept``)."""
        if strict:
            raise InputError(msg, file=where_file, where=str(line))
        warnings.append(f"{where_file}:{line}: {msg}" + (f"; {kept}" if kept else ""))

    header, rows = _read(path)
    col = {h: i for i, h in enumerate(header)}
    missing = [c for c in MEMBER_COLUMNS if c not in col]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=fname, where="1")

    def get(row, c):
        i = col.get(c)
        return row[i].strip() if i is not None and i < len(row) else ""

    # ---- alliance level, beside the member file
    alliances: dict[str, dict] = {}
    afile = alliance_file_for(path)
    if afile is None:  # said: without it no alliance has a status (in force, ended)
        warnings.append(f"{fname}: no alliance-level file beside it (atop4_01_alliance.csv "
                        "beside atop4_01_member.csv, atop5_1a.csv beside atop5_1m.csv): the "
                        "alliances' status and dates come from the member rows alone")
    else:
        aheader, arows = _read(afile)
        acol = {h: i for i, h in enumerate(aheader)}
        missing = [c for c in ALLIANCE_COLUMNS if c not in acol]
        if missing:  # a renamed atopid or begyr would leave every alliance undated
            raise InputError(f"missing column(s) {', '.join(missing)}", file=str(afile), where="1")
        read = [(h, acol[h]) for h in (*ALLIANCE_COLUMNS, *_ALLIANCE_OPTIONAL) if h in acol]
        for line, row in arows:
            if not any(c.strip() for c in row):
                continue
            rec = {h: row[i].strip() for h, i in read}
            rec["__line__"] = line
            alliances[rec.get("atopid", "")] = rec

    qm = QuadMaker(graph)
    add, nn, lit = qm.add, qm.nn, qm.lit
    dtype = {"date": XSD + "date", "gYearMonth": XSD + "gYearMonth", "gYear": XSD + "gYear"}
    groups: dict[str, list] = {}
    years: list[int] = []
    versions: set[str] = set()
    first_seen: dict[tuple, int] = {}
    for line, row in rows:
        if not any(c.strip() for c in row):
            continue
        key = tuple(c.strip() for c in row)
        if key in first_seen:  # the same membership twice would count its dyads twice
            bad(fname, line, f"duplicate of the row at line {first_seen[key]}; skipped")
            continue
        first_seen[key] = line
        aid = get(row, "atopid")
        try:
            int(aid)
            member = int(get(row, "member"))
            phase = int(get(row, "phase") or 0)
            ent = atop_date(get(row, "yrent"), get(row, "moent"), get(row, "dayent"))
            ext = atop_date(get(row, "yrexit"), get(row, "moexit"), get(row, "dayexit"))
            obl = {k: get(row, k) for k in OBLIGATIONS}
        except YearOutOfRange as e:
            raise InputError(f"atopid {aid or '?'}: {e}", file=fname, where=str(line)) from None
        except ValueError as e:
            bad(fname, line, f"atopid {aid or '?'}: bad value ({e}); row skipped")
            continue
        if any(v not in ("0", "1", "") for v in obl.values()):
            bad(fname, line, f"atopid {aid}: obligation flags must be 0 or 1; row skipped")
            continue
        if member not in iso:
            bad(fname, line, f"atopid {aid}: unknown COW state code {member} (not in "
                             "data/states.yaml)",
                kept="kept as an unknown participant without obligations")
        if ent:
            years.append(int(ent[0][:4]))
        if ext:
            years.append(int(ext[0][:4]))
        groups.setdefault(aid, []).append((line, member, phase, ent, ext, obl,
                                           get(row, "ineffect")))
        if get(row, "version"):
            versions.add(get(row, "version"))

    version = _version(path, versions, alliances, warnings)
    if version in CODEBOOK:
        warnings.extend(f"{fname}: {w}" for w in
                        codebook_disagreements(version, _file_facts(groups, alliances, years)))
    info = _info(path, version)
    src = dataset_quads(qm, graph, info, path, (min(years), max(years)) if years else None)
    if not groups:
        raise InputError("no alliances in the file", file=fname)
    srcn = nn(src)
    for aid in sorted(groups, key=int):
        members = groups[aid]
        ag = f"{ID}agreement/atop-{aid}"
        defence = any(m[5]["defense"] == "1" for m in members)
        add(ag, RDF + "type", nn(SP + ("DefenceTreaty" if defence else "DefenceCooperationAgreement")))
        add(ag, SP + "datasetId", lit(aid))
        add(ag, SP + "source", srcn)
        parties: dict[int, str] = {}
        for _line, member, *_ in members:
            if member not in parties:
                parties[member] = (state_iri(iso[member]) if member in iso
                                   else f"{ID}unknown/atop-{aid}-{member}")
        for member, iri in parties.items():
            add(ag, SP + "party", nn(iri))
            if member not in iso:
                add(iri, RDF + "type", nn(SP + "UnknownParticipant"))
                add(iri, RDFS + "label", lit(f"COW code {member} (ATOP alliance {aid}; "
                                             "not in the state list)"))
        # begin / end
        arec = alliances.get(aid)
        begin = end = None
        ineffect = members[0][6]
        if arec is not None:
            try:
                begin = atop_date(arec.get("begyr", ""), arec.get("begmo", ""), arec.get("begday", ""))
                end = atop_date(arec.get("endyr", ""), arec.get("endmo", ""), arec.get("endday", ""))
            except YearOutOfRange as e:
                raise InputError(f"atopid {aid}: {e}", file=str(afile),
                                 where=str(arec["__line__"])) from None
            except ValueError as e:
                bad(str(afile), arec["__line__"], f"atopid {aid}: bad date ({e}); dates left out")
                begin = end = None
            ineffect = arec.get("ineffect", ineffect)
        else:
            ents = [m[3] for m in members if m[3]]
            begin = min(ents, key=lambda d: d[0]) if ents else None
            if all(m[4] for m in members):
                end = max((m[4] for m in members), key=lambda d: d[0])
        if begin:
            add(ag, SP + "signedDate", lit(begin[0], dtype[begin[1]]))
        if end:
            if begin and end[0][:len(begin[0])] < begin[0][:len(end[0])]:
                bad(*((str(afile), arec["__line__"]) if arec is not None else (fname, members[0][0])),
                    f"atopid {aid}: end {end[0]} before begin {begin[0]}; end left out")
            else:
                add(ag, SP + "endDate", lit(end[0], dtype[end[1]]))
        if ineffect == "1":
            add(ag, SP + "status", nn(SP + "InForce"))
        who = ", ".join(names.get(iso.get(m, ""), f"COW {m}") for m in parties)
        yr = f", {begin[0][:4]}" if begin else ""
        add(ag, RDFS + "label", lit(f"ATOP alliance {aid} ({who}{yr})"))
        # memberships
        seen: dict[str, int] = {}
        for _line, member, phase, ent, ext, _obl, _ in members:
            code = iso.get(member, str(member))
            local = f"atop-{aid}-{code}-p{phase}"
            k = seen[local] = seen.get(local, 0) + 1
            if k > 1:
                local += f"-{k}"
            ms = f"{ID}membership/{local}"
            add(ag, SP + "membership", nn(ms))
            add(ms, RDF + "type", nn(SP + "Membership"))
            add(ms, SP + "member", nn(parties[member]))
            if phase:
                add(ms, SP + "phase", qm.int(phase))
            if ent:
                add(ms, SP + "entryDate", lit(ent[0], dtype[ent[1]]))
                add(ms, SP + "startYear", qm.int(int(ent[0][:4])))
            if ext:
                add(ms, SP + "exitDate", lit(ext[0], dtype[ext[1]]))
                add(ms, SP + "endYear", qm.int(int(ext[0][:4])))
        # obligations: per member and kind, over all phases, each with the phases it is
        # borne in (ATOP codes obligations per member and phase: in the EU, atopid 4175,
        # Ireland bears a defence obligation in phase 2 (Lisbon, 2007) and not in phase 1)
        kinds: dict[int, dict] = {}
        for _line, member, phase, _ent, _ext, obl, _ in members:
            if member in iso:
                for k, v in obl.items():
                    if v == "1":
                        kinds.setdefault(member, {}).setdefault(k, set()).add(phase)
        for member in sorted(kinds):
            for k in sorted(kinds[member]):
                ob = f"{ID}obligation/atop-{aid}-{iso[member]}-{k}"
                add(ag, SP + "obligation", nn(ob))
                add(ob, RDF + "type", nn(SP + "Obligation"))
                add(ob, SP + "bearer", nn(state_iri(iso[member])))
                add(ob, SP + "kind", nn(SP + OBLIGATIONS[k]))
                for phase in sorted(kinds[member][k]):
                    if phase:  # as on the memberships: only when the alliance has phases
                        add(ob, SP + "phase", qm.int(phase))
    return qm.quads, warnings


def _version(path: Path, versions: set, alliances: dict, warnings: list[str]) -> str:
    """The version the files say they are (5.1's ``version`` column), else the file name's.

    Disagreement (several values, or a column that contradicts the file name) is a warning.
    """
    named = version_from_name(path, r"atop(\d+)_(\d+)", "4.01")
    found = set(versions) | {a["version"] for a in alliances.values() if a.get("version")}
    if not found:
        if not re.search(r"atop\d+_\d+", path.name, re.IGNORECASE):
            warnings.append(f"{path}: neither the file name (atop<major>_<minor>...) nor a "
                            f"version column says which ATOP version it is; recorded as {named}")
        return named
    norm = {_norm_version(v) for v in found}
    if len(norm) > 1:
        warnings.append(f"{path}: the version column holds several versions "
                        f"({', '.join(sorted(norm))}); recorded as {min(norm)}")
    version = min(norm)
    if named != version and re.search(r"atop\d+_\d+", path.name, re.IGNORECASE):
        warnings.append(f"{path}: the file name says version {named}, its version column {version}; "
                        f"recorded as {version}")
    return version


def _norm_version(v: str) -> str:
    """A version as written in a codebook: ``4.0100002`` (a float stored in 4.01) is ``4.01``.

    >>> [_norm_version(v) for v in ("5.1", "4.0100002", "5.10", "5")]
    ['5.1', '4.01', '5.1', '5.0']
    """
    try:
        text = f"{float(v):.2f}".rstrip("0")
    except ValueError:
        return v.strip()
    return text + "0" if text.endswith(".") else text


def _file_facts(groups: dict, alliances: dict, years: list[int]) -> dict:
    """Counts the codebook states, as the files read hold them (alliance file where read)."""
    ids = set(groups) | set(alliances)
    facts: dict = {"alliances": len(ids)}
    phases = {aid: {m[2] for m in members} for aid, members in groups.items()}
    facts["multi_phase"] = sum(1 for aid in ids if len(phases.get(aid, ())) > 1 or
                               int(alliances.get(aid, {}).get("maxphase") or 0) > 1)
    if alliances:
        def only_nonagg(a):
            return a.get("nonagg") == "1" and all(a.get(k) == "0" for k in OBLIGATIONS if k != "nonagg")
        facts["nonaggression_only"] = sum(1 for a in alliances.values() if only_nonagg(a))
        for k in ("new5", "rev5"):
            if any(k in a for a in alliances.values()):
                facts[k] = sum(1 for a in alliances.values() if a.get(k) == "1")
    if years:
        facts["first_year"], facts["last_year"] = min(years), max(years)
    return facts
