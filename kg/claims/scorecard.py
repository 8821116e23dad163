"""The scorecard: hedging against alliance extension, signature by signature.

Each claim with a ``signature`` states what one side of the debate predicts (and,
in ``counter``, what the other side predicts in its place). A signature *counts*
for its side when its verdict is ``supported`` and the grid calls it robust; a
supported but fragile signature counts half; a ``not supported`` verdict counts for
the other side when the claim names a counter-prediction; ``insufficient data``
counts for nobody. The overall reading favours the side with the larger score and
says "undecided" when the scores tie or nothing counts; the records-only readings
(coverage not met) are shown beside it but never decide it.
"""

from __future__ import annotations

from kg.claims.checks import INSUFFICIENT, NOT_SUPPORTED, SUPPORTED

__all__ = ["scorecard", "SIDES_SCORED"]

SIDES_SCORED = ("hedging", "alliance-extension")


def _other(side: str) -> str:
    return SIDES_SCORED[1] if side == SIDES_SCORED[0] else SIDES_SCORED[0]


def _weight(verdict: str, label: str) -> float:
    if verdict not in (SUPPORTED, NOT_SUPPORTED):
        return 0.0
    return 1.0 if label == "robust" else 0.5


def scorecard(results: list[dict]) -> dict:
    """Score the claims with a signature; what the evidence as a whole favours, with caveats.

    Long on purpose: one pass over the claims fills the score, the records and the caveats
    together; split, each part would re-derive the side and weight of every claim.

    >>> r = [{"id": "a", "title": "A", "verdict": "supported", "reading": "supported",
    ...       "signature": {"side": "hedging", "predicts": "x"},
    ...       "robustness": {"label": "robust", "summary": "supported in 9 of 9"}}]
    >>> scorecard(r)["favours"]
    'hedging'
    """
    rows = []
    score = {s: 0.0 for s in SIDES_SCORED}
    records = {s: 0.0 for s in SIDES_SCORED}
    for c in results:
        sig = c.get("signature") or {}
        side = sig.get("side")
        if side not in SIDES_SCORED:
            continue
        rob = c.get("robustness") or {}
        label = rob.get("label", "")
        w = _weight(c["verdict"], label)
        counts_for = None
        if c["verdict"] == SUPPORTED:
            counts_for = side
        elif c["verdict"] == NOT_SUPPORTED and sig.get("counter"):
            counts_for = _other(side)
        if counts_for:
            score[counts_for] += w
        rlabel = (rob.get("records") or {}).get("label", label)  # coverage aside
        rw = 0.0 if rlabel == "no data" else _weight(c.get("reading", ""), rlabel)
        if c.get("reading") == SUPPORTED:
            records[side] += rw
        elif c.get("reading") == NOT_SUPPORTED and sig.get("counter"):
            records[_other(side)] += rw
        rows.append({"id": c["id"], "title": c["title"], "side": side,
                     "predicts": sig.get("predicts", ""), "counter": sig.get("counter", ""),
                     "verdict": c["verdict"], "reading": c.get("reading", c["verdict"]),
                     "robustness": _robustness_text(label, rlabel),
                     "grid": rob.get("summary", ""),
                     "counts_for": counts_for or "neither", "weight": w if counts_for else 0.0,
                     "caveat": sig.get("caveat", "")})
    favours = _favours(score)
    favours_records = _favours(records)
    insufficient = [r["id"] for r in rows if r["verdict"] == INSUFFICIENT]
    caveats = [
        "A signature is evidence consistent with one side, not proof of motive: the same "
        "exercise pattern can follow from threat perception, capacity or US requests.",
        "Robust means the reading holds in at least the stated share of the grid's variants "
        "(windows, projection, sources, unverified records, observers); fragile signatures "
        "count half.",
    ]
    if insufficient:
        caveats.insert(0, f"{len(insufficient)} of {len(rows)} signature(s) lack coverage or "
                          f"data and count for neither side: {', '.join(insufficient)}.")
    unchecked = [c["id"] for c in results if (c.get("signature") or {}).get("side") in SIDES_SCORED
                 and str(((c.get("coverage") or {}).get("completeness") or {}).get("note", ""))
                 .startswith("completeness not checked")]
    if unchecked:
        caveats.insert(0, f"Completeness was not checked for {len(unchecked)} signature(s) "
                          f"({', '.join(unchecked)}): the graphs read hold no official counts, so "
                          "the records may be a selection that favours some years; the overall "
                          "reading is provisional.")
    one_way = [r["id"] for r in rows if r["counts_for"] != "neither" and not r["counter"]]
    if one_way:
        caveats.append(f"{', '.join(one_way)} can count only for the side that predicts "
                       "it (no counter reading): supported, it moves the score; not supported, "
                       "it would count for neither side. A lean built on such signatures "
                       "alone is a lean the tests could not have reversed.")
    for r in rows:
        if r["caveat"]:
            caveats.append(f"{r['id']}: {r['caveat']}")
    if favours != favours_records:
        caveats.append(f"The records alone, the completeness and dataset rules aside, would "
                       f"favour {favours_records}; that reading rests on data of unknown or "
                       "short completeness (windows reaching years the data does not cover "
                       "give no reading even there).")
    decided = sum(1 for r in rows if r["verdict"] in (SUPPORTED, NOT_SUPPORTED))
    scores = (f"score hedging {score['hedging']:g}, alliance extension "
              f"{score['alliance-extension']:g}")
    if favours == "undecided":
        sentence = (f"The evidence as a whole decides neither way ({scores}; {decided} of "
                    f"{len(rows)} signatures decided).")
    elif 2 * decided < len(rows):
        sentence = (f"Too few signatures can be decided to weigh the debate ({decided} of "
                    f"{len(rows)}); those that can lean towards {favours} ({scores}).")
    else:
        margin = abs(score["hedging"] - score["alliance-extension"])
        verb = "favours" if margin >= 1 else "leans towards (by less than one robust signature)"
        sentence = (f"The evidence as a whole {verb} {favours} ({scores} over {len(rows)} "
                    "signatures).")
    return {"rows": rows, "score": score, "records_score": records, "favours": favours,
            "decided": decided,
            "favours_on_records": favours_records, "sentence": sentence, "caveats": caveats}


def _robustness_text(label: str, records_label: str) -> str:
    """The scorecard's robustness cell: the grid's label, and the records' where the
    coverage rule left none.

    >>> _robustness_text("no data", "robust")
    'not known (records alone: robust)'
    """
    if not label:
        return "n/a"
    if label == "no data" and records_label not in ("no data", label):
        return f"not known (records alone: {records_label})"
    return label


def _favours(score: dict) -> str:
    h, a = score["hedging"], score["alliance-extension"]
    if h == a:
        return "undecided"
    return "hedging" if h > a else "alliance-extension"
