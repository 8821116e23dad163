"""Coverage of the data a claim rests on.

Two readings, both reported with every verdict:

* **dataset span**: the years each graph covers (its ``sp:Dataset``
  ``sp:coverageStart`` / ``sp:coverageEnd`` where declared, else the span of the
  years its records carry) and whether each window lies inside, partly inside or
  outside them (:func:`data_coverage`, :func:`window_status`);
* **completeness**: per fiscal year and kind of exercise, the records against the
  official tables and the Ministry of Defense's published counts
  (:func:`kg.coverage.fiscal_coverage`), summed over the fiscal years of each
  window (:func:`window_completeness`). A window counts as covered when every
  fiscal year and kind it needs has an official denominator and the records reach
  the stated share of it.
"""

from __future__ import annotations

from kg.namespaces import SPARQL_PREFIXES

__all__ = ["DEFAULT_COVERAGE_THRESHOLD", "data_coverage", "window_status", "coverage_for",
           "fiscal_rows", "window_completeness", "official_us_share"]

#: Share of the official count the records must reach in every window compared.
DEFAULT_COVERAGE_THRESHOLD = 0.8

_P = SPARQL_PREFIXES
def data_coverage(store, graphs: list[str] | None = None) -> dict[str, dict]:
    """The years each dataset graph covers, for exercises and for agreements.

    Per graph: ``exercises`` and ``agreements``, each ``{"records": n, "first": y,
    "last": y}`` for the records it holds (None when it holds none), and ``declared``:
    ``{"start": y, "end": y}`` from an ``sp:Dataset`` with ``sp:coverageStart`` /
    ``sp:coverageEnd`` (attached to the graph named by its ``sp:graph``, else the graph
    it sits in), or None.

    >>> data_coverage(store)["curated"]["exercises"]["first"]  # doctest: +SKIP
    2000
    """
    from kg.namespaces import graph_name

    out: dict[str, dict] = {}

    def entry(g: str) -> dict:
        return out.setdefault(g, {"declared": None, "exercises": None, "agreements": None})

    rs = store.select(_P + "SELECT ?g ?name ?start ?end WHERE { GRAPH ?g { ?d a sp:Dataset . "
                      "OPTIONAL { ?d sp:graph ?name } OPTIONAL { ?d sp:coverageStart ?start } "
                      "OPTIONAL { ?d sp:coverageEnd ?end } } } ORDER BY ?g ?name", graphs=graphs, own=True)
    declared: dict[str, dict] = {}
    for r in rs.dicts():
        if r.get("start") is None and r.get("end") is None:
            continue
        g = str(r["name"]) if r.get("name") else graph_name(str(r["g"]))
        d = declared.setdefault(g, {"start": None, "end": None})
        for k in ("start", "end"):
            v = r.get(k)
            if isinstance(v, int):
                d[k] = v if d[k] is None else (min(d[k], v) if k == "start" else max(d[k], v))
    rs = store.select(_P + "SELECT ?g (COUNT(DISTINCT ?ex) AS ?n) (MIN(?y) AS ?first) "
                      "(MAX(?y) AS ?last) WHERE { GRAPH ?g { ?ex a sp:Exercise ; sp:year ?y } } "
                      "GROUP BY ?g", graphs=graphs, own=True)
    for r in rs.dicts():
        entry(graph_name(str(r["g"])))["exercises"] = {
            "records": int(r["n"]), "first": int(r["first"]), "last": int(r["last"])}
    rs = store.select(_P + (
        "SELECT ?g (COUNT(DISTINCT ?a) AS ?n) (MIN(?y) AS ?first) (MAX(?y) AS ?last) WHERE { "
        "GRAPH ?g { ?a sp:party ?p . "
        "{ ?a sp:signedDate ?d } UNION { ?a sp:inForceDate ?d } UNION { ?a sp:endDate ?d } "
        "UNION { ?a sp:startYear ?d } UNION { ?a sp:endYear ?d } } "
        "BIND(xsd:integer(SUBSTR(STR(?d), 1, 4)) AS ?y) } GROUP BY ?g"), graphs=graphs, own=True)
    for r in rs.dicts():
        if r.get("first") is None:
            continue
        entry(graph_name(str(r["g"])))["agreements"] = {
            "records": int(r["n"]), "first": int(r["first"]), "last": int(r["last"])}
    for g, d in declared.items():
        if g in out or graphs is None or g in graphs:
            entry(g)["declared"] = d
    return dict(sorted(out.items()))


def _spans(coverage: dict[str, dict], relation: str) -> list[dict]:
    """Per graph with records of ``relation``: the years it covers and on what basis."""
    spans = []
    for g, d in coverage.items():
        rec = d.get(relation)
        if not rec:
            continue
        dec = d.get("declared") or {}
        if dec.get("start") is not None or dec.get("end") is not None:
            start = dec.get("start") if dec.get("start") is not None else rec["first"]
            end = dec.get("end") if dec.get("end") is not None else rec["last"]
            basis = "declared sp:Dataset coverage"
        else:
            start, end = rec["first"], rec["last"]
            basis = f"span of the years its {relation} records carry (no sp:Dataset coverage declared)"
        spans.append({"graph": g, "start": start, "end": end, "basis": basis,
                      "records": rec["records"]})
    return spans


def window_status(window: tuple[int, int], spans: list[dict]) -> dict:
    """Whether the years of ``window`` lie inside, partly inside or outside the ``spans``.

    >>> window_status((2005, 2009), [{"graph": "curated", "start": 2007, "end": 2025}])["status"]
    'partly'
    """
    years = set(range(window[0], window[1] + 1))
    covered = set()
    for s in spans:
        covered |= set(range(s["start"], s["end"] + 1))
    inside = years & covered
    status = "inside" if inside == years else ("partly" if inside else "outside")
    return {"window": list(window), "status": status,
            "uncovered_years": sorted(years - covered)}


def coverage_for(claim, coverage: dict, relations: dict[str, list[str]],
                 windows: dict[str, tuple[int, int]] | None = None) -> dict:
    """Coverage block of a claim: spans per relation, status per window, caveat sentences.

    :param windows: other windows to set against the data (a variant of the robustness
        grid); default the claim's own.
    """
    out: dict = {"data": {}, "windows": {}, "caveats": []}
    windows = claim.windows() if windows is None else windows
    for rel in sorted({r for rels in relations.values() for r in rels}):
        out["data"][rel] = _spans(coverage, rel)
    for wname, w in sorted(windows.items()):
        per = {}
        for rel in relations.get(wname, []):
            spans = out["data"].get(rel, [])
            st = window_status(w, spans)
            per[rel] = st
            span_text = "; ".join(f"{s['graph']} {s['start']}-{s['end']} ({s['basis']})"
                                  for s in spans) or "no graph holds any"
            if st["status"] == "outside":
                out["caveats"].append(
                    f"The {wname} window {w[0]}-{w[1]} lies outside the years the {rel} data "
                    f"covers ({span_text}).")
            elif st["status"] == "partly":
                missing = ", ".join(str(y) for y in st["uncovered_years"])
                out["caveats"].append(
                    f"The {wname} window {w[0]}-{w[1]} is only partly inside the years the "
                    f"{rel} data covers ({span_text}); not covered: {missing}.")
        out["windows"][wname] = per
    # Comparing windows is like with like only when the same datasets cover each of them
    # (e.g. MME covers 1980-2010 and the curated data 2000-2025: a 2005-2009 baseline would
    # rest on both and a 2020-2024 window on the curated selection alone).
    out["mixed"] = []
    wins = sorted(windows.items())
    if len(wins) > 1:
        for rel, spans in out["data"].items():
            sets = {}
            for wname, w in wins:
                if rel not in relations.get(wname, []):
                    continue
                sets[wname] = sorted(s["graph"] for s in spans
                                     if s["start"] <= w[1] and s["end"] >= w[0])
            if len({tuple(v) for v in sets.values()}) > 1:
                desc = "; ".join(f"{k} on {', '.join(v) or 'no graph'}" for k, v in sets.items())
                out["mixed"].append(rel)
                out["caveats"].append(
                    f"The windows rest on different {rel} datasets ({desc}): a change between "
                    "them may come from the sources, not the world. Compare like with like with "
                    "--graph.")
    notes = []
    for rel, spans in out["data"].items():
        for s in spans:
            notes.append(f"{rel} in graph {s['graph']}: {s['start']}-{s['end']}, {s['basis']}, "
                         f"{s['records']} records")
    out["notes"] = notes
    out["status"] = ("outside" if any(st["status"] == "outside" for per in out["windows"].values()
                                      for st in per.values())
                     else "partly" if any(st["status"] == "partly"
                                          for per in out["windows"].values() for st in per.values())
                     else "inside")
    return out



# ---------------------------------------------------------------- completeness (fiscal years)


def fiscal_rows(store, *, focus: str = "JPN", graphs: list[str] | None = None) -> tuple[list, str]:
    """The per-fiscal-year coverage rows of :func:`kg.coverage.fiscal_coverage`, and a note.

    :returns: ``(rows, note)``; ``note`` is empty when the rows could be read, else says why
        not (so a verdict can name what is missing).
    """
    try:
        from kg.coverage import fiscal_coverage
    except ImportError:
        return [], ("completeness not checked: this version has no kg.coverage.fiscal_coverage "
                    "(records against the official tables and counts)")
    return list(fiscal_coverage(store, focus=focus, graphs=graphs)), ""


def _denominator(row) -> int | None:
    if row is None:
        return None
    return row.official_count if row.official_count is not None else row.table_rows


def window_completeness(rows: list, window: tuple[int, int], kinds: list[str],
                        threshold: float = DEFAULT_COVERAGE_THRESHOLD) -> dict:
    """Records against the official denominators over the fiscal years of ``window``.

    The denominator of a fiscal year and kind is MOD's published count where there is one,
    else the number of rows of the official table. Japan's fiscal year runs April-March;
    window years are read as fiscal years.

    :returns: ``{"status": covered|short|unknown, "records", "official", "ratio",
        "missing": ["FY2005 us", ...], "sources": [...], "threshold"}``.

    >>> from types import SimpleNamespace as R
    >>> rows = [R(fiscal_year=2013, kind="us", records=20, table_rows=None, official_count=24,
    ...           sources=["mod-wp"])]
    >>> window_completeness(rows, (2013, 2013), ["us"])["status"]
    'covered'
    >>> window_completeness(rows, (2013, 2014), ["us"])["missing"]
    ['FY2014 us']
    """
    index = {(r.fiscal_year, r.kind): r for r in rows}
    rec = den = 0
    missing: list[str] = []
    sources: set[str] = set()
    for fy in range(window[0], window[1] + 1):
        for k in kinds:
            r = index.get((fy, k))
            d = _denominator(r)
            if d is None:
                missing.append(f"FY{fy} {k}")
                continue
            rec += int(r.records)
            den += int(d)
            sources |= {str(s) for s in (r.sources or [])}
    ratio = round(rec / den, 4) if den else None
    status = ("unknown" if missing or ratio is None
              else "covered" if ratio >= threshold else "short")
    return {"window": list(window), "kinds": list(kinds), "status": status, "records": rec,
            "official": den, "ratio": ratio, "missing": missing, "sources": sorted(sources),
            "threshold": threshold}


def official_us_share(rows: list, windows: dict[str, tuple[int, int]]) -> dict:
    """The US share of Japan's exercises read from MOD's official counts.

    Share = Japan-US exercises / (Japan-US + multilateral exercises), counting every
    multilateral exercise as one without the US (so it is the share's lower bound on the
    multilateral side). Per window where every fiscal year has both counts, and between the
    earliest and the latest fiscal year that has both.

    >>> from types import SimpleNamespace as R
    >>> rows = [R(fiscal_year=2013, kind="us", official_count=24), R(fiscal_year=2013,
    ...         kind="multilateral", official_count=19), R(fiscal_year=2022, kind="us",
    ...         official_count=108), R(fiscal_year=2022, kind="multilateral", official_count=43)]
    >>> official_us_share(rows, {})["span"]["change"]
    0.1571
    """
    counts: dict[int, dict] = {}
    for r in rows:
        if r.kind in ("us", "multilateral") and r.official_count is not None:
            counts.setdefault(int(r.fiscal_year), {})[r.kind] = int(r.official_count)
    both = {fy: c for fy, c in sorted(counts.items()) if len(c) == 2}

    def share(fys: list[int]) -> dict:
        us = sum(both[f]["us"] for f in fys)
        multi = sum(both[f]["multilateral"] for f in fys)
        return {"us": us, "multilateral": multi,
                "share": round(us / (us + multi), 4) if us + multi else None}

    out: dict = {"windows": {}, "span": None,
                 "rule": "Japan-US / (Japan-US + multilateral), each multilateral exercise "
                         "counted as one without the US"}
    for name, w in windows.items():
        fys = list(range(w[0], w[1] + 1))
        if all(f in both for f in fys):
            out["windows"][name] = {"window": list(w), **share(fys)}
        else:
            out["windows"][name] = {"window": list(w), "share": None,
                                    "missing": [f"FY{f}" for f in fys if f not in both]}
    if len(both) >= 2:
        first, last = min(both), max(both)
        a, b = share([first]), share([last])
        out["span"] = {"from": first, "to": last, "first": a, "last": b,
                       "change": round(b["share"] - a["share"], 4)}
    return out
