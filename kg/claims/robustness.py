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

An exercise variant counts only when its windows pass the rule that gates the
headline (:func:`kg.claims.evaluate.coverage_gate`: inside the data's years, on the
same datasets, complete enough against the official counts); what the records alone
give is tallied beside it. A variant that counts exactly what an earlier one counts
(the same exercises with the same states, weighted alike, in the same windows) is
marked ``same_as`` and not counted again: agreeing twice is not two readings.
"""

from __future__ import annotations

from kg.claims.checks import NOT_SUPPORTED, SUPPORTED, not_tied_reason
from kg.claims.readings import PROJECTIONS, ExerciseData, Spec, counted_states, read, select

__all__ = ["DEFAULT_SHIFTS", "DEFAULT_WIDTHS", "DEFAULT_THRESHOLD", "DEFAULT_MAX_PARTICIPANTS",
           "MIN_VARIANTS", "NO_DATA", "SPAN_GATES", "declared_spec", "window_variants", "exercise_grid", "access_grid", "allied_grid",
           "summarize"]

DEFAULT_SHIFTS = (-2, -1, 1, 2)
DEFAULT_WIDTHS = (3, 7)
DEFAULT_THRESHOLD = 0.8
DEFAULT_MAX_PARTICIPANTS = 10
#: "robust" needs the threshold share of at least this many variants with a reading
MIN_VARIANTS = 5
NO_DATA = "no data"
#: The kinds of gate (:func:`kg.claims.evaluate.coverage_gate`) for windows reaching years
#: the data does not cover: a variant so gated has no reading at all.
SPAN_GATES = ("outside", "partly outside")


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
    first: dict[tuple, int] = {}  # what a variant counts, to the first variant counting it
    for i, (dims, spec) in enumerate(variants):
        value, holds = read(claim, data, spec)
        same = first.setdefault(_counted(claim, data, spec), i + 1)
        rows.append({"variant": i + 1, **dims, "declared": i == 0,
                     "years": {k: list(w) for k, w in spec.windows},
                     "selection": {"graphs": sorted(spec.graphs) if spec.graphs else None,
                                   "table_only": spec.table_only,
                                   "unverified": spec.unverified},
                     "value": value, "reading": _label(holds),
                     "same_as": None if same == i + 1 else same})
    return rows


def _counted(claim, data: ExerciseData, spec: Spec) -> tuple:
    """What a specification counts: per window the statistic reads (its years), each
    exercise kept with what of it counts (its counted states; for a betweenness, its
    pairs of the region's states), and how ties are weighted. Two variants that count the
    same give the same statistic whatever their labels (e.g. "unverified out" where no
    record is unverified), so the second is one reading, not two."""
    check = claim.test["check"]
    weights = "newman" if spec.projection == "newman" else "one per exercise"
    read_windows = ({claim.test.get("decide_window", "recent")} if check == "exercise_mix"
                    else {name for name, _ in spec.windows})

    def parts(exs):
        if check != "centrality_change":
            return tuple((ex.id, counted_states(ex, spec)) for ex in exs)
        # only the region's pairs make ties (an exercise without one adds nothing); under
        # newman each weighs 1/(n-1) with n all its counted states
        return tuple((ex.id, pairs, len(counted_states(ex, spec)) if weights == "newman" else 0)
                     for ex in exs if (pairs := data.region_pairs(ex, spec.observers)))

    return (weights, tuple((name, w, parts(select(data, spec, w)))
                           for name, w in spec.windows if name in read_windows))


def _beyond(row: dict, last: int | None) -> dict:
    """A year of reckoning past the last year the agreement data covers has no reading."""
    if last is not None and row["as_of"] > last:
        row.update(reading=NO_DATA, coverage="outside")
    return row


def access_grid(claim, rows: list[dict], lcs: dict, lcs_pending: dict,
                last: int | None = None) -> list[dict]:
    """Access-agreement claims: the counting rule crossed with the year of reckoning.

    :param last: the last year the agreement data covers; a later year has no reading.
    """
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
            out.append(_beyond({"variant": len(out) + 1, "rule": rule, "as_of": y,
                                "declared": rule == "in-force" and y == as_of,
                                "value": {"states": len(states), "threshold": threshold,
                                          "partners": states},
                                "reading": _label(len(states) >= threshold)}, last))
    return out


def allied_grid(claim, own: list[dict], ties: list[dict], lcs: dict,
                last: int | None = None) -> list[dict]:
    """Agreements-with-allies claims: which agreement types count, crossed with the year.

    :param last: the last year the agreement data covers; a later year has no reading.
    """
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
            out.append(_beyond({"variant": len(out) + 1, "rule": " + ".join(types),
                                "as_of": y, "declared": types == declared and y == as_of,
                                "value": {"partners": ev["partners"], "share": ev["share"]},
                                "reading": _label(holds)}, last))
    return out


def _tally(rows: list[dict], headline: str, threshold: float) -> dict:
    """Of the rows with a reading: how many, how many give ``headline``, share and label
    ("robust" needs ``threshold`` of at least :data:`MIN_VARIANTS` of them)."""
    decided = [r for r in rows if r["reading"] != NO_DATA]
    agree = sum(1 for r in decided if r["reading"] == headline)
    share = round(agree / len(decided), 4) if decided else None
    enough = len(decided) >= MIN_VARIANTS
    label = ("robust" if share is not None and share >= threshold and enough else
             "fragile" if share is not None else NO_DATA)
    need = (f" (robust needs {threshold:.0%}" + ("" if enough else
                                                  f" of at least {MIN_VARIANTS} variants") + ")")
    text = f"{headline} in {agree} of {len(decided)} variants: {label}" + (
        need if label == "fragile" else "")
    return {"decided": len(decided), "agreeing": agree, "share": share, "label": label,
            "text": text}


def summarize(rows: list[dict], headline: str, threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Share of the variants that give the headline reading, among those that count.

    A variant counts when it has a reading, its windows pass the coverage rule that
    gates the headline (its ``gate`` is None; rows without one pass) and it counts
    something no earlier variant counts (its ``same_as`` is None: "unverified out" where
    no record is unverified is the declared reading again, not a second one). The same
    tally over the variants with a reading, coverage aside, is ``records``: what the
    records alone say, shown beside it when the coverage rule sets variants aside.
    ``headline`` ``no data`` (the declared windows give none): robustness is not known.

    >>> rows = [{"reading": "supported"}] * 9 + [{"reading": "not supported"}]
    >>> summarize(rows, "supported")["label"]
    'robust'
    >>> summarize(rows, "supported", 0.95)["summary"]
    'supported in 9 of 10 variants: fragile (robust needs 95%)'
    >>> summarize(rows[:3], "supported")["summary"]
    'supported in 3 of 3 variants: fragile (robust needs 80% of at least 5 variants)'
    >>> summarize([{"reading": NO_DATA}] * 3, NO_DATA)["summary"]
    'no variant of the 3 has data: robustness not known'
    >>> gated = [{"reading": "supported", "gate": "a window lies outside"}] * 5
    >>> summarize(gated + [{"reading": "supported", "same_as": 1}], "supported")["summary"]
    "not known: no variant's windows pass the coverage rule (see coverage); the records \
alone: supported in 5 of 5 variants: robust; 1 variant(s) count the same records as an \
earlier one and are not counted again"
    """
    distinct = [r for r in rows if r.get("same_as") is None]
    passing = [r for r in distinct if not r.get("gate")]
    verdicts = _tally(passing, headline, threshold)
    records = _tally(distinct, headline, threshold)
    if headline == NO_DATA or not records["decided"]:
        verdicts = {**verdicts, "decided": 0, "agreeing": 0, "share": None, "label": NO_DATA}
        records = {**records, "decided": 0, "agreeing": 0, "share": None, "label": NO_DATA}
        summary = (f"no variant of the {len(rows)} has data: robustness not known"
                   if headline != NO_DATA or not any(r["reading"] != NO_DATA for r in rows)
                   else "robustness not known: the declared windows give no reading")
    elif verdicts["decided"] == records["decided"]:  # the same variants: one tally
        summary = verdicts["text"]
    elif verdicts["decided"]:
        summary = (verdicts["text"].replace(" variants:", " variants whose windows pass the "
                                            "coverage rule:", 1)
                   + f"; the records alone: {records['text']}")
    else:
        summary = ("not known: " + ("no variant's windows pass the coverage rule"
                                    if not passing else "no variant whose windows pass the "
                                    "coverage rule has a reading")
                   + f" (see coverage); the records alone: {records['text']}")
    beyond = sum(1 for r in distinct if r.get("coverage") in SPAN_GATES)
    missing = len(distinct) - records["decided"] - beyond
    if records["decided"] and beyond:
        summary += f"; {beyond} variant(s) whose windows reach years the data does not cover"
    if records["decided"] and missing:
        summary += f"; {missing} variant(s) without data"
    repeats = len(rows) - len(distinct)
    if repeats:
        summary += (f"; {repeats} variant(s) count the same records as an earlier one and "
                    "are not counted again")
    return {"variants": rows, "n": len(rows), "decided": verdicts["decided"],
            "agreeing": verdicts["agreeing"], "share": verdicts["share"],
            "threshold": threshold, "label": verdicts["label"], "reading": headline,
            "summary": summary, "gated": len(distinct) - len(passing), "repeats": repeats,
            "records": {k: records[k] for k in ("decided", "agreeing", "share", "label")}}
