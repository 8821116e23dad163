"""Import Correlates of War Formal Alliances dyad-years, collapsed into alliance spells.

Reference: Gibler, D. M. (2009) *International Military Alliances, 1648-2008*,
CQ Press; Correlates of War Formal Alliances v4.1.

The data set's maintainer has asked that software not redistribute these data
or make them easier to use than the publisher does: kg ships no COW alliance
data and no download helper; this importer reads a file the user downloaded.

Input: one row per dyad and year (``ccode1, ccode2, year, cow_defense,
cow_neutral, cow_nonagg, cow_entente``), gzip-compressed or plain. The file
lists each dyad twice (2-740 and 740-2); dyads are taken unordered, so the
mirror rows fall on the same years and nothing doubles.

Output (graph ``cow``): per unordered dyad and obligation type, one
``sp:AllianceSpell`` per run of consecutive years with that type coded 1
(``id/agreement/cow-<ISO3>-<ISO3>-<kind>-<first year>``, the ISO3 codes
sorted), with ``sp:party`` both states, ``sp:kind`` (``sp:Defense``,
``sp:Neutrality``, ``sp:NonAggression``, ``sp:Entente``), ``sp:startYear``,
``sp:endYear`` and ``sp:source``. A year with no row is "no alliance
recorded"; years outside the file's coverage (``sp:coverageStart`` ..
``sp:coverageEnd`` on the dataset node) are unknown.

States are matched by COW numeric code through ``data/states.yaml`` (never by
COW letter code). A row with an unknown code, a bad year or a flag other than
0/1 is a bad row: a warning ``file:line: ...`` (the row is skipped), or with
``strict`` an :class:`~kg.errors.InputError`. A row with more or fewer values
than the header, or a record over several lines (an unmatched quote), is an
InputError in both modes: the file is broken, not one value.

>>> spells([1951, 1952, 1953, 1960, 1908])
[(1908, 1908), (1951, 1953), (1960, 1960)]
"""

from __future__ import annotations

from pathlib import Path

from kg.errors import InputError
from kg.ingest.names import cow_to_iso3, state_names
from kg.ingest.provenance import DatasetInfo, QuadMaker, dataset_quads, version_from_name
from kg.namespaces import (
    ID,
    RDF,
    RDFS,
    SP,
    YEAR_MAX,
    YEAR_MIN,
    is_plausible_year,
    state_iri,
    year_spells,
)

__all__ = ["parse", "spells", "read_dyad_years", "open_text", "read_header", "csv_rows",
           "KINDS", "CITATION"]

CITATION = ("Gibler, Douglas M. 2009. International Military Alliances, 1648-2008. "
            "Washington, DC: CQ Press. Correlates of War Project, Formal Alliances (v{version}).")

#: column -> (sp: concept local name, label word)
KINDS = {"cow_defense": ("Defense", "defence pact"), "cow_neutral": ("Neutrality", "neutrality pact"),
         "cow_nonagg": ("NonAggression", "non-aggression pact"), "cow_entente": ("Entente", "entente")}


spells = year_spells  # runs of consecutive years (kept under this name for the readers)


def read_header(reader, fname: str) -> list[str]:
    """The header row of a CSV reader; an empty or unreadable file is an InputError."""
    from kg.ingest.inputs import csv_header

    return csv_header(reader, fname)


def open_text(path: str | Path):
    """Open a CSV file for reading as text, gunzipping it when it is gzip-compressed."""
    from kg.ingest.inputs import open_text as open_bounded

    # regular files only; bounded bytes (also once decompressed) and lines
    return open_bounded(path)


def csv_rows(path: str | Path, columns: list[str]):
    """Yield ``(line, row, {column: index})`` for each non-empty row of a CSV file.

    The header must name every one of ``columns``; an unreadable file, a row with more or
    fewer fields than the header, or a record over several lines (an unmatched quote) is an
    :class:`~kg.errors.InputError` naming the file and the line the record starts on.
    """
    from kg.ingest.inputs import csv_reader, csv_records

    fname = str(path)
    with open_text(path) as fh:
        reader = csv_reader(fh)
        header = read_header(reader, fname)
        col = {h: i for i, h in enumerate(header)}
        missing = [c for c in columns if c not in col]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}", file=fname, where="1")
        # every row holds the header's number of fields, on one line (else an InputError)
        for line, row in csv_records(reader, fname, len(header)):
            yield line, row, col


def read_dyad_years(path: str | Path, kind_cols: list[str], *, directed: bool, strict: bool,
                    warnings: list[str]) -> tuple[dict, tuple[int, int] | None, int]:
    """Read a dyad-year file into ``{(code1, code2, column): set(years)}``.

    :param directed: keep ``(ccode1, ccode2)`` as written; otherwise the pair is sorted.
    :returns: ``(years per dyad and column, (first, last) year in the file, rows read)``.
    """
    fname = str(path)
    known = cow_to_iso3()
    out: dict[tuple[int, int, str], set] = {}
    first = last = None
    nrows = 0
    for line, row, col in csv_rows(path, ["ccode1", "ccode2", "year"] + kind_cols):
        i1, i2, iy = col["ccode1"], col["ccode2"], col["year"]
        kcols = [(c, col[c]) for c in kind_cols]
        try:
            a, b, y = int(row[i1]), int(row[i2]), int(row[iy])
            flags = [(c, row[i].strip()) for c, i in kcols]
        except ValueError:
            msg = f"bad row {','.join(row)[:80]!r}: codes and year must be integers"
            if strict:
                raise InputError(msg, file=fname, where=str(line)) from None
            warnings.append(f"{fname}:{line}: {msg}; skipped")
            continue
        if not is_plausible_year(y):
            raise InputError(f"year {row[iy].strip()[:30]!r} is outside {YEAR_MIN}-{YEAR_MAX}",
                             file=fname, where=str(line))
        bad = [c for c in (a, b) if c not in known]
        badflag = [c for c, v in flags if v not in ("0", "1", "")]
        if bad or badflag:
            msg = (f"unknown COW state code {bad[0]} (not in data/states.yaml)" if bad
                   else f"{badflag[0]} is not 0 or 1")
            if strict:
                raise InputError(msg, file=fname, where=str(line))
            warnings.append(f"{fname}:{line}: {msg}; row skipped")
            continue
        nrows += 1
        first = y if first is None or y < first else first
        last = y if last is None or y > last else last
        if not directed and b < a:
            a, b = b, a
        for c, v in flags:
            if v == "1":
                out.setdefault((a, b, c), set()).add(y)
    cover = (first, last) if first is not None else None
    return out, cover, nrows


def parse(path: str | Path, graph: str, strict: bool = False) -> tuple[list, list[str]]:
    """Read a COW alliance dyad-year file (gzip or plain) into alliance-spell quads.

    :param path: e.g. ``cow4_1_alliance_ddy.csv.gz``.
    :param graph: the target graph IRI.
    :param strict: raise :class:`~kg.errors.InputError` on the first bad row.
    :returns: ``(quads, warnings)``.

    Example: ``quads, warnings = parse("cow4_1_alliance_ddy.csv.gz", graph_iri("cow"))``.
    """
    warnings: list[str] = []
    years, cover, nrows = read_dyad_years(path, list(KINDS), directed=False, strict=strict,
                                          warnings=warnings)
    if not nrows:
        raise InputError("no dyad-years in the file", file=str(path))
    version = version_from_name(path, r"cow(\d+)_(\d+)", "4.1")
    info = DatasetInfo(key=f"cow-alliance-v{version}",
                       title=f"Correlates of War Formal Alliances v{version} (dyad-years)",
                       version=version, citation=CITATION.format(version=version),
                       publisher="Correlates of War Project", issued="2009",
                       url="https://correlatesofwar.org/data-sets/formal-alliances/")
    qm = QuadMaker(graph)
    src = dataset_quads(qm, graph, info, path, cover)
    emit_spells(qm, years, KINDS, src, prefix="cow", dataset="COW")
    return qm.quads, warnings


def emit_spells(qm: QuadMaker, years: dict, kinds: dict, src: str, *, prefix: str, dataset: str,
                directed: bool = False) -> int:
    """Add one ``sp:AllianceSpell`` per dyad, kind and run of years; return how many.

    With ``directed`` the first code of each key bears the obligation: the spell
    gets an ``sp:Obligation`` with that ``sp:bearer`` (ATOP directed dyad-years).
    """
    iso = cow_to_iso3()
    names = state_names()
    t_spell = qm.nn(SP + "AllianceSpell")
    srcn = qm.nn(src)
    n = 0
    for (a, b, c) in sorted(years):
        concept, word = kinds[c]
        ia, ib = iso[a], iso[b]
        pair = (ia, ib) if directed else tuple(sorted((ia, ib)))
        for s, e in spells(years[(a, b, c)]):
            local = f"{prefix}-{pair[0].lower()}-{pair[1].lower()}-{concept.lower()}-{s}"
            sp_iri = f"{ID}agreement/{local}"
            qm.add(sp_iri, RDF + "type", t_spell)
            who = f"{names[pair[0]]} to {names[pair[1]]}" if directed else \
                f"{names[pair[0]]} – {names[pair[1]]}"
            qm.add(sp_iri, RDFS + "label", qm.lit(f"{dataset} {word}, {who}, {s}–{e}"))
            qm.add(sp_iri, SP + "party", qm.nn(state_iri(ia)))
            qm.add(sp_iri, SP + "party", qm.nn(state_iri(ib)))
            qm.add(sp_iri, SP + "kind", qm.nn(SP + concept))
            qm.add(sp_iri, SP + "startYear", qm.int(s))
            qm.add(sp_iri, SP + "endYear", qm.int(e))
            qm.add(sp_iri, SP + "source", srcn)
            if directed:
                ob = f"{ID}obligation/{local}"
                qm.add(sp_iri, SP + "obligation", qm.nn(ob))
                qm.add(ob, RDF + "type", qm.nn(SP + "Obligation"))
                qm.add(ob, SP + "bearer", qm.nn(state_iri(ia)))
                qm.add(ob, SP + "kind", qm.nn(SP + concept))
            n += 1
    return n
