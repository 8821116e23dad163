"""The checks: each turns the numbers from the graph into a verdict, as a typed result.

A check is a function ``check(store, claim, graphs) -> CheckResult`` registered under
the name a claim's ``test.check`` gives (:data:`CHECKS`, :func:`register`). The
checks here are the headline readings of the claims; :mod:`kg.claims.robustness`
re-reads the exercise claims under other reasonable choices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

__all__ = ["VERDICTS", "SUPPORTED", "NOT_SUPPORTED", "INSUFFICIENT", "CheckResult", "CHECKS",
           "register", "run_claim_query", "query_path", "agreement_lifecycles", "tied_during",
           "not_tied_reason", "ACCESS_RULES", "allied_agreements", "window_label"]

VERDICTS = ("supported", "not supported", "insufficient data")
SUPPORTED, NOT_SUPPORTED, INSUFFICIENT = VERDICTS


@dataclass
class CheckResult:
    """What a check found: the verdict, why, the numbers and what they rest on.

    ``relations`` maps each window the verdict compares to the kinds of data it reads
    (``exercises``, ``agreements``); ``minimum`` is ``{"met": bool, "shortfalls": [...]}``.
    """

    verdict: str
    reason: str
    evidence: dict
    lines: list[str]
    relations: dict[str, list[str]]
    queries: list[str]
    metrics: list[str] = field(default_factory=list)
    minimum: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


#: Registered checks, name to function.
CHECKS: dict[str, Callable] = {}


def register(name: str):
    """Register a check function under ``name`` (the ``test.check`` of a claim file)."""

    def deco(fn):
        CHECKS[name] = fn
        return fn

    return deco


def query_path(qname: str, directory=None):
    """The saved query ``qname``: next to the claim (``directory``) if there, else shipped.

    >>> query_path("partners_per_year.rq").name
    'partners_per_year.rq'
    """
    from pathlib import Path

    from kg.resources import claims_dir

    if directory is not None and (Path(directory) / qname).is_file():
        return Path(directory) / qname
    return claims_dir() / qname


def run_claim_query(store, qname: str, params: dict, graphs, directory=None):
    """Run a claim query (see :func:`query_path`) with parameters bound as RDF terms."""
    from kg.queries import bind_params, load_query

    q = load_query(str(query_path(qname, directory)))
    rs = store.select(q.text, bindings=bind_params(q, {k: str(v) for k, v in params.items()}),
                      graphs=graphs, own=q.shipped)
    return rs.dicts()


def _q_params(claim, qname: str, extra: dict | None = None) -> dict:
    """The claim's declared params that this query declares, plus ``extra``."""
    from kg.queries import load_query

    declared = {p.name for p in load_query(str(query_path(qname, _dir(claim)))).params}
    out = {k: v for k, v in (claim.test.get("params") or {}).items() if k in declared}
    out.update(extra or {})
    return out


def _dir(claim):
    """The folder of the claim's file (its own queries are looked for there first)."""
    from pathlib import Path

    return Path(claim.path).parent if getattr(claim, "path", "") else None


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


def _fmt(x: float | None, nd: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{nd}f}"


def _per_year(rows: list[dict], window: tuple[int, int], col: str) -> dict[int, int]:
    """Per year of the window, a column of partners_per_year.rq (0 where no row).

    ``without_us`` is derived: exercises minus exercises with the USA.
    """
    if col == "without_us":
        by_year = {int(r["year"]): int(r["exercises"]) - int(r["with_us"]) for r in rows}
    else:
        by_year = {int(r["year"]): int(r[col]) for r in rows}
    return {y: by_year.get(y, 0) for y in range(window[0], window[1] + 1)}


def _years_with(rows: list[dict], window: tuple[int, int]) -> int:
    return sum(1 for r in rows if window[0] <= int(r["year"]) <= window[1] and int(r["exercises"]))


def _enough(claim, windows: dict, counts: dict[str, dict]) -> tuple[bool, list[str]]:
    """Check the minimum-data rules that bear on per-window exercise counts."""
    mins = claim.minimum
    short = []
    for wname in windows:
        c = counts[wname]
        need_ex = mins.get("exercises_per_window")
        if need_ex is not None and c.get("exercises", 0) < need_ex:
            short.append(f"{wname} window has {c.get('exercises', 0)} exercises (minimum {need_ex})")
        need_y = mins.get("years_with_data_per_window")
        if need_y is not None and c.get("years_with_data", 0) < need_y:
            short.append(f"{wname} window has exercises in {c.get('years_with_data', 0)} years "
                         f"(minimum {need_y})")
    return not short, short


def window_label(w) -> str:
    return f"{w[0]}-{w[1]}" if w[0] != w[1] else str(w[0])


# ---------------------------------------------------------------- the checks
# Each check returns a dict: verdict, reason, evidence (numbers), lines (evidence in words),
# relations (window name -> data kinds it rests on), queries, metrics, minimum (met, shortfalls).


def _test_and_windows(claim):
    """A two-window claim's test block and its baseline and recent windows."""
    wins = claim.windows()
    return claim.test, wins["baseline"], wins["recent"]


@register("window_change")
def _check_window_change(store, claim, graphs) -> CheckResult:
    t, base, recent = _test_and_windows(claim)
    col = t.get("value", "partners")
    rows = run_claim_query(store, t["query"], _q_params(claim, t["query"]), graphs, _dir(claim))
    ev: dict = {}
    counts = {}
    for name, w in (("baseline", base), ("recent", recent)):
        series = _per_year(rows, w, col)
        ex = sum(_per_year(rows, w, "exercises").values())
        mean = sum(series.values()) / len(series)
        counts[name] = {"exercises": ex, "years_with_data": _years_with(rows, w)}
        ev[name] = {"window": list(w), "per_year": {str(y): v for y, v in series.items()},
                    "mean_per_year": _r(mean), "exercises": ex,
                    "years_with_data": counts[name]["years_with_data"]}
    b, r = ev["baseline"]["mean_per_year"], ev["recent"]["mean_per_year"]
    ev["change"] = _r(r - b)
    ev["ratio"] = _r(r / b) if b else None
    ok, short = _enough(claim, claim.windows(), counts)
    direction = claim.expected.get("direction", "increase")
    holds = r > b if direction == "increase" else r < b
    verdict = SUPPORTED if holds else NOT_SUPPORTED
    if not ok:
        verdict = INSUFFICIENT
    what = {"without_us": "exercises without the USA"}.get(col, col.replace("_", " "))
    lines = [f"mean {what} per year: {window_label(base)} {_fmt(b)} "
             f"({ev['baseline']['exercises']} exercises), {window_label(recent)} {_fmt(r)} "
             f"({ev['recent']['exercises']} exercises); change {ev['change']:+.2f}"
             + (f" (x{ev['ratio']:.2f})" if ev["ratio"] else "")]
    reason = (f"mean {what} per year went from {_fmt(b)} to {_fmt(r)}" if ok
              else "too few records: " + "; ".join(short))
    return CheckResult(**{"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {"baseline": ["exercises"], "recent": ["exercises"]},
            "queries": [t["query"]], "metrics": [], "minimum": {"met": ok, "shortfalls": short}})


@register("share_and_partners")
def _check_share_and_partners(store, claim, graphs) -> CheckResult:
    from kg.network import exercise_years

    t, base, recent = _test_and_windows(claim)
    rows = run_claim_query(store, t["query"], _q_params(claim, t["query"]), graphs, _dir(claim))
    ev: dict = {}
    counts = {}
    for name, w in (("baseline", base), ("recent", recent)):
        ex = _per_year(rows, w, "exercises")
        us = _per_year(rows, w, "with_us")
        nonus = _per_year(rows, w, "non_us_partners")
        n_ex, n_us = sum(ex.values()), sum(us.values())
        share = n_us / n_ex if n_ex else None
        counts[name] = {"exercises": n_ex, "years_with_data": _years_with(rows, w)}
        ev[name] = {"window": list(w), "exercises": n_ex, "with_us": n_us, "without_us": n_ex - n_us,
                    "us_share": _r(share),
                    "us_share_per_year": {str(y): (_r(us[y] / ex[y]) if ex[y] else None) for y in ex},
                    "non_us_partners_per_year": {str(y): v for y, v in nonus.items()},
                    "non_us_partners_mean": _r(sum(nonus.values()) / len(nonus)),
                    "years_with_data": counts[name]["years_with_data"]}
    # Cross-check: the same counts from kg.network.exercise_years (the metrics module's path).
    years = exercise_years(store, claim.test.get("params", {}).get("state", "JPN"), graphs=graphs)
    mismatch = []
    for name, w in (("baseline", base), ("recent", recent)):
        n_ex = sum(v["exercises"] for y, v in years.items() if w[0] <= y <= w[1])
        n_us = sum(v["with_us"] for y, v in years.items() if w[0] <= y <= w[1])
        if (n_ex, n_us) != (ev[name]["exercises"], ev[name]["with_us"]):
            mismatch.append(f"{name}: SPARQL {ev[name]['exercises']}/{ev[name]['with_us']}, "
                            f"kg.network {n_ex}/{n_us}")
    ev["cross_check"] = {"source": "kg.network.exercise_years", "agrees": not mismatch,
                         "differences": mismatch}
    sb, sr = ev["baseline"]["us_share"], ev["recent"]["us_share"]
    pb, pr = ev["baseline"]["non_us_partners_mean"], ev["recent"]["non_us_partners_mean"]
    ok, short = _enough(claim, claim.windows(), counts)
    share_fell = sb is not None and sr is not None and sr < sb
    partners_grew = pr > pb
    ev["us_share_change"] = _r(sr - sb) if share_fell or (sb is not None and sr is not None) else None
    ev["non_us_partners_change"] = _r(pr - pb)
    ev["us_share_fell"] = share_fell
    ev["non_us_partners_grew"] = partners_grew
    verdict = SUPPORTED if share_fell and partners_grew else NOT_SUPPORTED
    if not ok:
        verdict = INSUFFICIENT
    lines = [
        f"US share of Japan's exercises: {window_label(base)} {_fmt(sb)} "
        f"({ev['baseline']['with_us']} of {ev['baseline']['exercises']}), {window_label(recent)} "
        f"{_fmt(sr)} ({ev['recent']['with_us']} of {ev['recent']['exercises']})",
        f"non-US partners per year (mean): {_fmt(pb)} -> {_fmt(pr)}",
        f"exercises with the USA in absolute numbers: {ev['baseline']['with_us']} -> "
        f"{ev['recent']['with_us']}; without the USA: {ev['baseline']['without_us']} -> "
        f"{ev['recent']['without_us']}",
    ]
    if mismatch:
        lines.append("cross-check with kg.network.exercise_years differs: " + "; ".join(mismatch))
    if not ok:
        reason = "too few records: " + "; ".join(short)
    else:
        parts = [f"US share {'fell' if share_fell else 'did not fall'} ({_fmt(sb)} -> {_fmt(sr)})",
                 f"non-US partners {'grew' if partners_grew else 'did not grow'} "
                 f"({_fmt(pb)} -> {_fmt(pr)} per year)"]
        reason = " and ".join(parts)
        if share_fell and ev["recent"]["with_us"] > ev["baseline"]["with_us"]:
            reason += ("; exercises with the USA still rose in number "
                       f"({ev['baseline']['with_us']} -> {ev['recent']['with_us']})")
    return CheckResult(**{"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {"baseline": ["exercises"], "recent": ["exercises"]},
            "queries": [t["query"]], "metrics": ["kg.network.exercise_years"],
            "minimum": {"met": ok, "shortfalls": short}})


def agreement_lifecycles(store, graphs, *, include_pending: bool = False) -> dict:
    """Every agreement's years in force by the one rule (:func:`kg.inforce.lifecycles`), by id."""
    from kg.inforce import lifecycles

    return {lc.id: lc for lc in lifecycles(store, graphs=graphs, include_pending=include_pending)}


def tied_during(lcs: dict, row: dict, reference: str, window: tuple[int, int]) -> bool:
    """Whether a query row's agreement ties ``reference`` and the row's partner in the window.

    The years come from :mod:`kg.inforce` (entry into force, supersession, memberships and
    suspensions applied); nothing here reads dates.
    """
    lc = lcs.get(str(row["agreement"]))
    return lc is not None and any(lc.tied(reference, str(row["partner"]), y)
                                  for y in range(window[0], window[1] + 1))


def not_tied_reason(lc, a: str, b: str, year: int) -> str:
    """Why an agreement does not tie ``a`` and ``b`` in ``year`` ('' when it does)."""
    if lc is None:
        return "not found"
    if lc.tied(a, b, year):
        return ""
    if lc.first is None:
        return f"status {lc.status or 'unknown'}, not in force"
    if lc.first > year:
        return f"in force only from {lc.first}"
    if lc.last is not None and lc.last < year:
        return f"in force until {lc.last}"
    return "the pair is not tied that year (membership or suspension)"


@register("new_partners_aligned")
def _check_new_partners_aligned(store, claim, graphs) -> CheckResult:
    t, base, recent = _test_and_windows(claim)
    q_win, q_ties = t["query"]
    params = t.get("params") or {}
    us = params.get("us", "USA")
    part = {}
    for name, w in (("baseline", base), ("recent", recent)):
        rows = run_claim_query(store, q_win, _q_params(claim, q_win, {"from": w[0], "to": w[1]}),
                               graphs, _dir(claim))
        part[name] = {str(r["partner"]): r for r in rows}
    new = sorted(set(part["recent"]) - set(part["baseline"]) - {us})
    ties = run_claim_query(store, q_ties, _q_params(claim, q_ties), graphs, _dir(claim))
    lcs = agreement_lifecycles(store, graphs)
    per_state: dict[str, dict] = {}
    for row in ties:
        p = str(row["partner"])
        if not tied_during(lcs, row, us, recent):
            continue
        d = per_state.setdefault(p, {"treaty": [], "other": []})
        is_ally = row.get("type") == "DefenceTreaty" or row.get("defence") in (True, "true", 1)
        d["treaty" if is_ally else "other"].append(f"{row['agreement']} ({row['type']})")
    allies = [p for p in new if per_state.get(p, {}).get("treaty")]
    partners = [p for p in new if p not in allies and per_state.get(p, {}).get("other")]
    others = [p for p in new if p not in allies and p not in partners]
    n = len(new)
    share = (len(allies) + len(partners)) / n if n else None
    ally_share = len(allies) / n if n else None
    ex_total = sum(int(part["recent"][p]["exercises"]) for p in new)
    ex_aligned = sum(int(part["recent"][p]["exercises"]) for p in allies + partners)
    need = int(claim.minimum.get("new_partners", 1))
    ok = n >= need
    short = [] if ok else [f"{n} new non-US partners (minimum {need})"]
    verdict = INSUFFICIENT if not ok else (SUPPORTED if share is not None and share > 0.5
                                           else NOT_SUPPORTED)
    names = {p: str(part["recent"][p].get("name") or p) for p in new}
    ev = {
        "baseline_partners": sorted(set(part["baseline"]) - {us}),
        "recent_partners": sorted(set(part["recent"]) - {us}),
        "new_partners": new,
        "new_us_treaty_allies": allies,
        "new_us_partners_other_agreement": partners,
        "new_not_tied_to_us": others,
        "aligned_share": _r(share),
        "treaty_ally_share": _r(ally_share),
        "new_partner_exercises_recent": ex_total,
        "aligned_exercise_share": _r(ex_aligned / ex_total) if ex_total else None,
        "ties_with_us": {p: {k: sorted(v) for k, v in per_state[p].items()}
                         for p in sorted(per_state) if p in new},
        "names": names,
    }
    lines = [
        f"new non-US partners ({window_label(recent)}, not seen {window_label(base)}): {n}: "
        + (", ".join(new) or "none"),
        f"US treaty allies among them: {len(allies)} ({', '.join(allies) or 'none'}); "
        f"other US agreement partners: {len(partners)} ({', '.join(partners) or 'none'}); "
        f"no tie to the USA in the data: {len(others)} ({', '.join(others) or 'none'})",
        f"aligned share {_fmt(share)} (treaty allies alone {_fmt(ally_share)}); "
        f"weighted by exercises in {window_label(recent)}: {_fmt(ev['aligned_exercise_share'])}",
    ]
    reason = ("too few new partners: " + "; ".join(short) if not ok else
              f"{len(allies) + len(partners)} of {n} new non-US partners are US treaty allies or "
              f"partners in the data (share {_fmt(share)})")
    return CheckResult(**{"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {"baseline": ["exercises"], "recent": ["exercises", "agreements"]},
            "queries": [q_win, q_ties], "metrics": [], "minimum": {"met": ok, "shortfalls": short}})


#: Counting rules for access agreements by a year (the headline uses ``in-force``).
ACCESS_RULES = {
    "in-force": "tied by the agreement in the year (kg.inforce)",
    "with-pending": "the same, counting signed agreements not yet in force from signature "
                    "(kg.inforce include_pending)",
}


@register("agreements_in_force")
def _check_agreements_in_force(store, claim, graphs) -> CheckResult:
    t = claim.test
    as_of = int(t.get("as_of", 2025))
    threshold = int(t.get("threshold", 3))
    rows = run_claim_query(store, t["query"], _q_params(claim, t["query"]), graphs, _dir(claim))
    focus = str((t.get("params") or {}).get("state", "JPN"))
    lcs = agreement_lifecycles(store, graphs)
    counted: dict[str, str] = {}
    not_counted = []
    for row in rows:
        p, a = str(row["partner"]), str(row["agreement"])
        lc = lcs.get(a)
        why = not_tied_reason(lc, focus, p, as_of)
        if why:
            not_counted.append(f"{a} with {p}: {why}")
        else:
            counted.setdefault(p, f"{a} (in force {lc.first})")
    from kg.claims.coverage import data_coverage

    cov = data_coverage(store, graphs)
    n_records = sum((d.get("agreements") or {}).get("records", 0) for d in cov.values())
    need = int(claim.minimum.get("agreement_records", 1))
    ok = n_records >= need
    short = [] if ok else [f"{n_records} agreement records in the graphs used (minimum {need})"]
    n = len(counted)
    verdict = INSUFFICIENT if not ok else (SUPPORTED if n >= threshold else NOT_SUPPORTED)
    ev = {"as_of": as_of, "threshold": threshold, "states_in_force": n,
          "in_force": dict(sorted(counted.items())), "not_counted": sorted(not_counted),
          "agreement_records": n_records}
    lines = [f"RAAs in force by {as_of}: {n} state(s) (threshold {threshold}): "
             + (", ".join(f"{p} {v}" for p, v in sorted(counted.items())) or "none")]
    if not_counted:
        lines.append("not counted: " + "; ".join(sorted(not_counted)))
    reason = ("no agreement data: " + "; ".join(short) if not ok else
              f"{n} state(s) with an RAA in force by {as_of} (threshold {threshold})")
    return CheckResult(**{"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {"as_of": ["agreements"]}, "queries": [t["query"]], "metrics": [],
            "minimum": {"met": ok, "shortfalls": short}})


def _region_betweenness(G, nodes: set[str], focus: str) -> dict:
    # degree and betweenness only: path_metrics gives node_metrics' values for them, without
    # computing eigenvector, PageRank and communities
    from kg.metrics import path_metrics

    H = G.subgraph(sorted(n for n in G.nodes if n in nodes)).copy()
    if focus not in H:
        return {"states": H.number_of_nodes(), "ties": H.number_of_edges(), "betweenness": None,
                "degree": None, "rank": None}
    m = path_metrics(H)
    ranked = sorted(H.nodes, key=lambda n: (-m[n]["betweenness"], n))
    return {"states": H.number_of_nodes(), "ties": H.number_of_edges(),
            "betweenness": _r(m[focus]["betweenness"]), "degree": m[focus]["degree"],
            "rank": ranked.index(focus) + 1,
            "top": [[n, _r(m[n]["betweenness"])] for n in ranked[:5]]}


@register("centrality_change")
def _check_centrality_change(store, claim, graphs) -> CheckResult:
    from kg.network import build_network

    t, base, recent = _test_and_windows(claim)
    focus = t.get("focus", "JPN")
    region = {str(r["iso3"])
              for r in run_claim_query(store, t["query"], {}, graphs, _dir(claim))}
    extra = set(t.get("robustness_extra") or [])
    ev: dict = {"region_states": len(region)}
    for name, w in (("baseline", base), ("recent", recent)):
        G = build_network(store, relation=t.get("relation", "exercise"), year_from=w[0],
                          year_to=w[1], graphs=graphs)
        main = _region_betweenness(G, region, focus)
        rob = _region_betweenness(G, region | extra, focus)
        ev[name] = {"window": list(w), **main,
                    "with_" + "_".join(sorted(extra)).lower(): {
                        k: rob[k] for k in ("states", "betweenness", "rank")}}
    need = int(claim.minimum.get("states_per_window", 3))
    short = [f"{n} window: {ev[n]['states']} Indo-Pacific states in the network (minimum {need})"
             for n in ("baseline", "recent") if ev[n]["states"] < need]
    short += [f"{n} window: {focus} has no Indo-Pacific exercise tie"
              for n in ("baseline", "recent") if ev[n]["betweenness"] is None]
    ok = not short
    b, r = ev["baseline"]["betweenness"], ev["recent"]["betweenness"]
    key = "with_" + "_".join(sorted(extra)).lower()
    if ok:
        ev["change"] = _r(r - b)
        rb, rr = ev["baseline"][key]["betweenness"], ev["recent"][key]["betweenness"]
        ev["robust"] = (rb is not None and rr is not None and (rr > rb) == (r > b))
    verdict = INSUFFICIENT if not ok else (SUPPORTED if r > b else NOT_SUPPORTED)
    lines = [
        f"{focus} normalized betweenness among Indo-Pacific states: {window_label(base)} "
        f"{_fmt(b, 4)} (rank {ev['baseline']['rank']} of {ev['baseline']['states']}), "
        f"{window_label(recent)} {_fmt(r, 4)} (rank {ev['recent']['rank']} of "
        f"{ev['recent']['states']})",
    ]
    if extra:
        lines.append(f"with {', '.join(sorted(extra))} added: "
                     f"{_fmt(ev['baseline'][key]['betweenness'], 4)} -> "
                     f"{_fmt(ev['recent'][key]['betweenness'], 4)}")
    reason = ("too little data: " + "; ".join(short) if not ok else
              f"betweenness {'rose' if r > b else 'did not rise'} ({_fmt(b, 4)} -> {_fmt(r, 4)})")
    return CheckResult(**{"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {"baseline": ["exercises"], "recent": ["exercises"]},
            "queries": [t["query"]],
            "metrics": ["kg.network.build_network", "kg.metrics.node_metrics (betweenness)"],
            "minimum": {"met": ok, "shortfalls": short}})


@register("exercise_mix")
def _check_exercise_mix(store, claim, graphs) -> CheckResult:
    t = claim.test
    wins = claim.windows()
    rows = run_claim_query(store, t["query"], _q_params(claim, t["query"]), graphs, _dir(claim))
    ev: dict = {}
    counts = {}
    for name, w in sorted(wins.items()):
        c = {"exercises": 0, "us_and_third": 0, "us_and_third_small": 0, "us_bilateral": 0,
             "without_us": 0, "japan_only": 0}
        for r in rows:
            if not w[0] <= int(r["year"]) <= w[1]:
                continue
            n, us = int(r["states"]), int(r["with_us"]) == 1
            c["exercises"] += 1
            if us and n >= 3:
                c["us_and_third"] += 1
                if n <= 6:
                    c["us_and_third_small"] += 1
            elif us:
                c["us_bilateral"] += 1
            elif n >= 2:
                c["without_us"] += 1
            else:
                c["japan_only"] += 1
        counts[name] = {"exercises": c["exercises"]}
        ev[name] = {"window": list(w), **c}
    ok, short = _enough(claim, wins, counts)
    dw = t.get("decide_window", "recent")
    a, b = ev[dw]["us_and_third"], ev[dw]["without_us"]
    verdict = INSUFFICIENT if not ok else (SUPPORTED if a > b else NOT_SUPPORTED)
    ev["decided_on"] = dw
    lines = [f"{window_label(ev[k]['window'])}: with the USA and a third state "
             f"{ev[k]['us_and_third']} (of which at most six states {ev[k]['us_and_third_small']}), "
             f"bilateral with the USA {ev[k]['us_bilateral']}, without the USA "
             f"{ev[k]['without_us']}, of {ev[k]['exercises']} exercises"
             for k in sorted(wins, key=lambda k: wins[k])]
    reason = ("too few records: " + "; ".join(short) if not ok else
              f"in {window_label(wins[dw])}, {a} exercises with the USA and a third state "
              f"against {b} without the USA")
    return CheckResult(**{"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {dw: ["exercises"]}, "queries": [t["query"]], "metrics": [],
            "minimum": {"met": ok, "shortfalls": short}})


def allied_agreements(own: list[dict], ties: list[dict], year: int, types: list[str],
                      lcs: dict, focus: str = "JPN", us: str = "USA") -> dict:
    """The focus's partners in agreements of ``types`` in force in ``year``, by US alliance.

    :param own: rows of ``agreements_with_state.rq`` for the focal state.
    :param ties: rows of the same query for the United States.
    :param lcs: :func:`agreement_lifecycles` (years in force by :mod:`kg.inforce`).
    :returns: ``{"partners", "us_allies", "others", "share"}`` (share None without partners).
    """
    window = (year, year)
    partners = sorted({str(r["partner"]) for r in own if r.get("type") in types
                       and str(r["partner"]) != us and tied_during(lcs, r, focus, window)})
    allies = {str(r["partner"]) for r in ties if tied_during(lcs, r, us, window)
              and (r.get("type") == "DefenceTreaty" or r.get("defence") in (True, "true", 1))}
    inside = [p for p in partners if p in allies]
    return {"partners": partners, "us_allies": inside,
            "others": [p for p in partners if p not in allies],
            "share": _r(len(inside) / len(partners)) if partners else None}


@register("agreements_with_allies")
def _check_agreements_with_allies(store, claim, graphs) -> CheckResult:
    t = claim.test
    as_of = int(t.get("as_of", 2025))
    types = list(t.get("types") or ["ReciprocalAccessAgreement", "LogisticsAgreement"])
    params = t.get("params") or {}
    focus, us = str(params.get("state", "JPN")), str(params.get("us", "USA"))
    own = run_claim_query(store, t["query"], {"us": focus}, graphs, _dir(claim))
    ties = run_claim_query(store, t["query"], {"us": us}, graphs, _dir(claim))
    lcs = agreement_lifecycles(store, graphs)
    ev = {"as_of": as_of, "types": types,
          **allied_agreements(own, ties, as_of, types, lcs, focus, us)}
    need = int(claim.minimum.get("agreement_partners", 3))
    n = len(ev["partners"])
    ok = n >= need
    short = [] if ok else [f"{n} partner(s) in {', '.join(types)} in force in {as_of} "
                           f"(minimum {need})"]
    share = ev["share"]
    verdict = INSUFFICIENT if not ok else (SUPPORTED if share > 0.5 else NOT_SUPPORTED)
    lines = [f"{focus}'s partners in {', '.join(types)} in force in {as_of}: {n} "
             f"({', '.join(ev['partners']) or 'none'}); US treaty allies among them: "
             f"{len(ev['us_allies'])} ({', '.join(ev['us_allies']) or 'none'}); share "
             f"{_fmt(share)}",
             f"not allied to the USA in the graphs read: {', '.join(ev['others']) or 'none'}"]
    reason = ("too few agreement partners: " + "; ".join(short) if not ok else
              f"{len(ev['us_allies'])} of {n} partners are US treaty allies (share "
              f"{_fmt(share)})")
    return CheckResult(verdict=verdict, reason=reason, evidence=ev, lines=lines,
                       relations={"as_of": ["agreements"]}, queries=[t["query"]],
                       metrics=[], minimum={"met": ok, "shortfalls": short})
