"""The robustness grid: each claim re-read under other reasonable choices.

For an exercise claim the grid crosses the windows (as declared; both shifted by
-2, -1, +1, +2 years; both resized to 3 and 7 years around their centres) with the
projection of multilateral exercises (``pairs``, ``newman``, ``max-N``), and adds
the declared windows with observers counted, without unverified records, each
graph alone when several hold the focus's exercises, and only the records taken from
official tables (a source with ``sp:locator``) when there are any. For the access-agreement claim
it crosses the counting rule with the year of reckoning. The verdict is reported
with how many variants give the same reading: "supported in 21 of 23 variants:
robust"; below the threshold share (0.8 unless the claim says) it is "fragile".
"""

from __future__ import annotations

from kg.claims.checks import NOT_SUPPORTED, SUPPORTED, not_tied_reason
from kg.claims.readings import PROJECTIONS, ExerciseData, Spec, read

__all__ = ["DEFAULT_SHIFTS", "DEFAULT_WIDTHS", "DEFAULT_THRESHOLD", "DEFAULT_MAX_PARTICIPANTS",
           "declared_spec", "window_variants", "exercise_grid", "access_grid", "allied_grid",
           "summarize"]

DEFAULT_SHIFTS = (-2, -1, 1, 2)
DEFAULT_WIDTHS = (3, 7)
DEFAULT_THRESHOLD = 0.8
DEFAULT_MAX_PARTICIPANTS = 10
NO_DATA = "no data"


def declared_spec(claim) -> Spec:
    """The claim's own specification (the headline reading)."""
    mx = int(claim.robustness.get("max_participants", DEFAULT_MAX_PARTICIPANTS))
    return Spec(windows=tuple(sorted(claim.windows().items())), max_participants=mx)


def window_variants(windows: dict[str, tuple[int, int]], shifts=DEFAULT_SHIFTS,
                    widths=DEFAULT_WIDTHS) -> list[tuple[str, dict]]:
    """The declared windows, then shifted and resized copies (label, windows).

    >>> [lab for lab, _ in window_variants({"baseline": (2005, 2009)})]
    ['declared', 'shift -2', 'shift -1', 'shift +1', 'shift +2', 'width 3', 'width 7']
    >>> window_variants({"baseline": (2005, 2009)})[5][1]
    {'baseline': (2006, 2008)}
    """
    out = [("declared", dict(windows))]
    for d in shifts:
        out.append((f"shift {d:+d}", {k: (a + d, b + d) for k, (a, b) in windows.items()}))
    for w in widths:
        res = {}
        for k, (a, b) in windows.items():
            centre = (a + b) // 2
            res[k] = (centre - (w - 1) // 2, centre - (w - 1) // 2 + w - 1)
        if res != windows:
            out.append((f"width {w}", res))
    return out


def _label(holds) -> str:
    return NO_DATA if holds is None else (SUPPORTED if holds else NOT_SUPPORTED)


def _wtext(windows: dict) -> str:
    return "; ".join(f"{k} {a}-{b}" for k, (a, b) in sorted(windows.items()))


def exercise_grid(claim, data: ExerciseData) -> list[dict]:
    """One row per variant: its choices, the statistic and the reading."""
    base = declared_spec(claim)
    rob = claim.robustness
    variants: list[tuple[dict, Spec]] = []
    for wlabel, wins in window_variants(claim.windows(), rob.get("shifts", DEFAULT_SHIFTS),
                                        rob.get("widths", DEFAULT_WIDTHS)):
        for proj in PROJECTIONS:
            spec = Spec(windows=tuple(sorted(wins.items())), projection=proj,
                        max_participants=base.max_participants)
            variants.append(({"windows": wlabel, "window_years": _wtext(wins),
                              "projection": spec.projection_label(), "sources": "all graphs",
                              "unverified": "in", "observers": "out"}, spec))
    dw = _wtext(claim.windows())
    variants.append(({"windows": "declared", "window_years": dw, "projection": "pairs",
                      "sources": "all graphs", "unverified": "in", "observers": "in"},
                     Spec(base.windows, observers=True, max_participants=base.max_participants)))
    variants.append(({"windows": "declared", "window_years": dw, "projection": "pairs",
                      "sources": "all graphs", "unverified": "out", "observers": "out"},
                     Spec(base.windows, unverified=False, max_participants=base.max_participants)))
    graphs = sorted({g for ex in data.exercises for g in ex.graphs})
    if len(graphs) > 1:
        for g in graphs:
            variants.append(({"windows": "declared", "window_years": dw, "projection": "pairs",
                              "sources": f"{g} only", "unverified": "in", "observers": "out"},
                             Spec(base.windows, graphs=frozenset({g}),
                                  max_participants=base.max_participants)))
    if any(ex.table for ex in data.exercises):
        variants.append(({"windows": "declared", "window_years": dw, "projection": "pairs",
                          "sources": "official-table records only", "unverified": "in",
                          "observers": "out"},
                         Spec(base.windows, table_only=True,
                              max_participants=base.max_participants)))
    rows = []
    for i, (dims, spec) in enumerate(variants):
        value, holds = read(claim, data, spec)
        rows.append({"variant": i + 1, **dims, "declared": i == 0, "value": value,
                     "reading": _label(holds)})
    return rows


def access_grid(claim, rows: list[dict], lcs: dict, lcs_pending: dict) -> list[dict]:
    """Access-agreement claims: the counting rule crossed with the year of reckoning."""
    as_of = int(claim.test.get("as_of", 2025))
    threshold = int(claim.test.get("threshold", 3))
    focus = str((claim.test.get("params") or {}).get("state", "JPN"))
    out = []
    years = [as_of + d for d in claim.robustness.get("as_of_shifts", (-2, -1, 0, 1, 2, 3))]
    for rule, table in (("in-force", lcs), ("with-pending", lcs_pending)):
        for y in years:
            states = sorted({str(r["partner"]) for r in rows
                             if not not_tied_reason(table.get(str(r["agreement"])), focus,
                                                    str(r["partner"]), y)})
            out.append({"variant": len(out) + 1, "rule": rule, "as_of": y,
                        "declared": rule == "in-force" and y == as_of,
                        "value": {"states": len(states), "threshold": threshold,
                                  "partners": states},
                        "reading": _label(len(states) >= threshold)})
    return out


def allied_grid(claim, own: list[dict], ties: list[dict], lcs: dict) -> list[dict]:
    """Agreements-with-allies claims: which agreement types count, crossed with the year."""
    from kg.claims.checks import allied_agreements

    as_of = int(claim.test.get("as_of", 2025))
    declared = list(claim.test.get("types") or ["ReciprocalAccessAgreement",
                                                "LogisticsAgreement"])
    params = claim.test.get("params") or {}
    us, focus = str(params.get("us", "USA")), str(params.get("state", "JPN"))
    type_sets = [declared] + [[t] for t in declared if len(declared) > 1]
    out = []
    for types in type_sets:
        for y in [as_of + d for d in claim.robustness.get("as_of_shifts", (-1, 0, 1, 2))]:
            ev = allied_agreements(own, ties, y, types, lcs, focus, us)
            holds = None if ev["share"] is None else ev["share"] > 0.5
            out.append({"variant": len(out) + 1, "rule": " + ".join(types), "as_of": y,
                        "declared": types == declared and y == as_of,
                        "value": {"partners": ev["partners"], "share": ev["share"]},
                        "reading": _label(holds)})
    return out


def summarize(rows: list[dict], headline: str, threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Share of the variants with a reading that give the headline reading.

    >>> rows = [{"reading": "supported"}] * 9 + [{"reading": "not supported"}]
    >>> summarize(rows, "supported")["label"]
    'robust'
    >>> summarize(rows, "supported", 0.95)["summary"]
    'supported in 9 of 10 variants: fragile (robust needs 95%)'
    >>> summarize([{"reading": NO_DATA}] * 3, NO_DATA)["summary"]
    'no variant of the 3 has data: robustness not known'
    """
    decided = [r for r in rows if r["reading"] != NO_DATA]
    agree = sum(1 for r in decided if r["reading"] == headline)
    share = round(agree / len(decided), 4) if decided else None
    label = ("robust" if share is not None and share >= threshold else
             "fragile" if share is not None else NO_DATA)
    if not decided:  # "no data in 0 of 0 variants: no data" said nothing
        summary = f"no variant of the {len(rows)} has data: robustness not known"
    else:
        summary = (f"{headline} in {agree} of {len(decided)} variants: {label}"
                   + (f" (robust needs {threshold:.0%})" if label == "fragile" else ""))
        if len(decided) < len(rows):
            summary += f"; {len(rows) - len(decided)} variant(s) without data"
    return {"variants": rows, "n": len(rows), "decided": len(decided), "agreeing": agree,
            "share": share, "threshold": threshold, "label": label, "reading": headline,
            "summary": summary}
