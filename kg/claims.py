"""Claims about Japan's partner network, tested against the graph.

A claim lives in ``queries/claims/<id>.yaml``: the statement in plain words, where
it is made (``source``), how the graph tests it (``test``: a SPARQL query in
``queries/claims/*.rq``, a network metric over windows of years, or both, and the
name of the check below that turns the numbers into a verdict), the direction
expected and the minimum data needed to decide.

:func:`check_claims` evaluates claims against a store and returns, per claim, a
verdict (``supported``, ``not supported`` or ``insufficient data``), the numbers
behind it (``evidence``), the windows and graphs used, and the coverage of the
data: the years each graph covers (its ``sp:Dataset`` ``sp:coverageStart`` /
``sp:coverageEnd`` where declared, else the span of years its records carry) and
whether each window lies inside, only partly inside, or outside them. A window
outside the data makes the verdict ``insufficient data``; a window only partly
inside is named in the caveats. A verdict is evidence, not proof.

>>> [c.id for c in load_claims()][:2]
['partners-grew', 'us-share-fell']
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import InputError, KgError, UsageError
from kg.namespaces import SP

__all__ = [
    "VERDICTS",
    "Claim",
    "ClaimNotSupported",
    "load_claim",
    "load_claims",
    "select_claims",
    "data_coverage",
    "window_status",
    "check_claim",
    "check_claims",
    "format_check",
    "format_claim_list",
    "raise_if_not_supported",
]

VERDICTS = ("supported", "not supported", "insufficient data")
SUPPORTED, NOT_SUPPORTED, INSUFFICIENT = VERDICTS

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_REQUIRED = ("id", "claim", "source", "test", "expected", "minimum")
_KNOWN = set(_REQUIRED) | {"number", "title", "caveats"}
_KINDS = ("sparql", "metric", "both")


class ClaimNotSupported(KgError):
    """At least one checked claim is not supported (``kg claims check --strict``; exit 1)."""

    exit_code = 1


@dataclass
class Claim:
    """A claim definition read from ``queries/claims/<id>.yaml``."""

    id: str
    number: int
    title: str
    claim: str
    source: dict
    test: dict
    expected: dict
    minimum: dict
    caveats: list[str] = field(default_factory=list)
    path: str = ""

    def windows(self) -> dict[str, tuple[int, int]]:
        """The claim's windows of years, name to ``(first, last)`` inclusive."""
        return {k: (int(v[0]), int(v[1])) for k, v in self.test.get("windows", {}).items()}


# ---------------------------------------------------------------- loading


def _claims_dir() -> Path:
    from kg.resources import claims_dir

    return claims_dir()


def load_claim(path: str | Path) -> Claim:
    """Read and check one claim file.

    :param path: a ``.yaml`` claim file.
    :raises InputError: naming the file, for bad YAML, a missing or unknown field,
        a bad id, an unknown test kind or check, or a window that is not two years.
    """
    import yaml

    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read claim: {exc}", file=str(p)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=str(p),
                         where=where) from None
    if not isinstance(doc, dict):
        raise InputError("a claim file must be a mapping", file=str(p))
    missing = [k for k in _REQUIRED if k not in doc]
    if missing:
        raise InputError(f"missing field(s): {', '.join(missing)}", file=str(p))
    unknown = sorted(set(doc) - _KNOWN)
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)}", file=str(p))
    cid = str(doc["id"])
    if not _ID_RE.match(cid):
        raise InputError(f"bad claim id {cid!r} (lower-case letters, digits and '-')", file=str(p))
    test = doc["test"]
    if not isinstance(test, dict) or test.get("kind") not in _KINDS:
        raise InputError(f"test.kind must be one of {', '.join(_KINDS)}", file=str(p))
    if test.get("check") not in _CHECKS:
        raise InputError(f"unknown test.check {test.get('check')!r} (known: {', '.join(_CHECKS)})",
                         file=str(p))
    for name, w in (test.get("windows") or {}).items():
        if (not isinstance(w, (list, tuple)) or len(w) != 2
                or not all(isinstance(y, int) for y in w) or w[0] > w[1]):
            raise InputError(f"window {name!r} must be [first year, last year]", file=str(p))
    for key in ("source", "expected", "minimum"):
        if not isinstance(doc[key], dict):
            raise InputError(f"{key} must be a mapping", file=str(p))
    caveats = doc.get("caveats") or []
    if not isinstance(caveats, list):
        raise InputError("caveats must be a list", file=str(p))
    return Claim(id=cid, number=int(doc.get("number") or 0), title=str(doc.get("title") or cid),
                 claim=" ".join(str(doc["claim"]).split()), source=doc["source"], test=test,
                 expected=doc["expected"], minimum=doc["minimum"],
                 caveats=[" ".join(str(c).split()) for c in caveats], path=str(p))


def load_claims(directory: str | Path | None = None) -> list[Claim]:
    """Every claim in ``queries/claims/`` (or ``directory``), ordered by number then id.

    :raises InputError: for a bad claim file or two files with the same id.
    """
    d = Path(directory) if directory else _claims_dir()
    claims = [load_claim(p) for p in sorted(d.glob("*.yaml"))]
    seen: dict[str, str] = {}
    for c in claims:
        if c.id in seen:
            raise InputError(f"claim id {c.id!r} also defined in {seen[c.id]}", file=c.path)
        seen[c.id] = c.path
    return sorted(claims, key=lambda c: (c.number or 10**6, c.id))


def select_claims(ids: list[str] | None = None, directory: str | Path | None = None) -> list[Claim]:
    """The claims named by id (or number); all of them when ``ids`` is empty.

    >>> [c.id for c in select_claims(["4"])]
    ['raa-three-by-2025']
    """
    claims = load_claims(directory)
    if not ids:
        return claims
    by_id = {c.id: c for c in claims}
    by_num = {str(c.number): c for c in claims if c.number}
    out: list[Claim] = []
    for i in ids:
        c = by_id.get(i) or by_num.get(i)
        if c is None:
            raise UsageError(f"no claim {i!r} (claims: {', '.join(by_id)})")
        if c not in out:
            out.append(c)
    return out


# ---------------------------------------------------------------- coverage

_P = f"PREFIX sp: <{SP}>\nPREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"


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
                      "OPTIONAL { ?d sp:coverageEnd ?end } } } ORDER BY ?g ?name", graphs=graphs)
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
                      "GROUP BY ?g", graphs=graphs)
    for r in rs.dicts():
        entry(graph_name(str(r["g"])))["exercises"] = {
            "records": int(r["n"]), "first": int(r["first"]), "last": int(r["last"])}
    rs = store.select(_P + (
        "SELECT ?g (COUNT(DISTINCT ?a) AS ?n) (MIN(?y) AS ?first) (MAX(?y) AS ?last) WHERE { "
        "GRAPH ?g { ?a sp:party ?p . "
        "{ ?a sp:signedDate ?d } UNION { ?a sp:inForceDate ?d } UNION { ?a sp:endDate ?d } "
        "UNION { ?a sp:startYear ?d } UNION { ?a sp:endYear ?d } } "
        "BIND(xsd:integer(SUBSTR(STR(?d), 1, 4)) AS ?y) } GROUP BY ?g"), graphs=graphs)
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


def _coverage_for(claim: Claim, coverage: dict, relations: dict[str, list[str]]) -> dict:
    """Coverage block of a claim: spans per relation, status per window, caveat sentences."""
    out: dict = {"data": {}, "windows": {}, "caveats": []}
    for rel in sorted({r for rels in relations.values() for r in rels}):
        out["data"][rel] = _spans(coverage, rel)
    for wname, w in sorted(claim.windows().items()):
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
    wins = sorted(claim.windows().items())
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


# ---------------------------------------------------------------- helpers for the checks


def _run(store, qname: str, params: dict, graphs):
    """Run a claim query from ``queries/claims`` with parameters bound as RDF terms."""
    from kg.queries import bind_params, load_query

    q = load_query(str(_claims_dir() / qname))
    rs = store.select(q.text, bindings=bind_params(q, {k: str(v) for k, v in params.items()}),
                      graphs=graphs)
    return rs.dicts()


def _q_params(claim: Claim, qname: str, extra: dict | None = None) -> dict:
    """The claim's declared params that this query declares, plus ``extra``."""
    from kg.queries import load_query

    declared = {p.name for p in load_query(str(_claims_dir() / qname)).params}
    out = {k: v for k, v in (claim.test.get("params") or {}).items() if k in declared}
    out.update(extra or {})
    return out


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(float(x), nd)


def _fmt(x: float | None, nd: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{nd}f}"


def _per_year(rows: list[dict], window: tuple[int, int], col: str) -> dict[int, int]:
    by_year = {int(r["year"]): int(r[col]) for r in rows}
    return {y: by_year.get(y, 0) for y in range(window[0], window[1] + 1)}


def _years_with(rows: list[dict], window: tuple[int, int]) -> int:
    return sum(1 for r in rows if window[0] <= int(r["year"]) <= window[1] and int(r["exercises"]))


def _enough(claim: Claim, windows: dict, counts: dict[str, dict]) -> tuple[bool, list[str]]:
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


def _window_label(w) -> str:
    return f"{w[0]}-{w[1]}" if w[0] != w[1] else str(w[0])


# ---------------------------------------------------------------- the checks
# Each check returns a dict: verdict, reason, evidence (numbers), lines (evidence in words),
# relations (window name -> data kinds it rests on), queries, metrics, minimum (met, shortfalls).


def _check_window_change(store, claim: Claim, graphs) -> dict:
    t = claim.test
    wins = claim.windows()
    base, recent = wins["baseline"], wins["recent"]
    col = t.get("value", "partners")
    rows = _run(store, t["query"], _q_params(claim, t["query"]), graphs)
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
    ok, short = _enough(claim, wins, counts)
    direction = claim.expected.get("direction", "increase")
    holds = r > b if direction == "increase" else r < b
    verdict = SUPPORTED if holds else NOT_SUPPORTED
    if not ok:
        verdict = INSUFFICIENT
    what = col.replace("_", " ")
    lines = [f"mean {what} per year: {_window_label(base)} {_fmt(b)} "
             f"({ev['baseline']['exercises']} exercises), {_window_label(recent)} {_fmt(r)} "
             f"({ev['recent']['exercises']} exercises); change {ev['change']:+.2f}"
             + (f" (x{ev['ratio']:.2f})" if ev["ratio"] else "")]
    reason = (f"mean {what} per year went from {_fmt(b)} to {_fmt(r)}" if ok
              else "too few records: " + "; ".join(short))
    return {"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {"baseline": ["exercises"], "recent": ["exercises"]},
            "queries": [t["query"]], "metrics": [], "minimum": {"met": ok, "shortfalls": short}}


def _check_share_and_partners(store, claim: Claim, graphs) -> dict:
    from kg.network import exercise_years

    t = claim.test
    wins = claim.windows()
    base, recent = wins["baseline"], wins["recent"]
    rows = _run(store, t["query"], _q_params(claim, t["query"]), graphs)
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
    ok, short = _enough(claim, wins, counts)
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
        f"US share of Japan's exercises: {_window_label(base)} {_fmt(sb)} "
        f"({ev['baseline']['with_us']} of {ev['baseline']['exercises']}), {_window_label(recent)} "
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
    return {"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {"baseline": ["exercises"], "recent": ["exercises"]},
            "queries": [t["query"]], "metrics": ["kg.network.exercise_years"],
            "minimum": {"met": ok, "shortfalls": short}}


_ENDED = ("Expired", "Terminated", "Superseded")
_ON_SIGNATURE = ("JointDeclaration", "MinisterialDialogue")


def _in_force_during(row: dict, window: tuple[int, int]) -> bool:
    """An agreement row counts in a window when it was in force in at least one of its years.

    From its start year (entry into force, else signing) to its end year, or open.
    Under negotiation never counts; signed but not in force counts only for a joint
    declaration or a ministerial dialogue (instruments that take effect on signature);
    an expired, terminated or superseded agreement counts only when its end year is
    known and falls in or after the window.
    """
    status = str(row.get("status") or "")
    if status == "UnderNegotiation":
        return False
    if status == "Signed" and row.get("type") not in _ON_SIGNATURE:
        return False
    start, end = row.get("start"), row.get("end")
    if not isinstance(start, int) or start > window[1]:
        return False
    if status in _ENDED and not isinstance(end, int):
        return False
    return not (isinstance(end, int) and end < window[0])


def _check_new_partners_aligned(store, claim: Claim, graphs) -> dict:
    t = claim.test
    wins = claim.windows()
    base, recent = wins["baseline"], wins["recent"]
    q_win, q_ties = t["query"]
    params = t.get("params") or {}
    us = params.get("us", "USA")
    part = {}
    for name, w in (("baseline", base), ("recent", recent)):
        rows = _run(store, q_win, _q_params(claim, q_win, {"from": w[0], "to": w[1]}), graphs)
        part[name] = {str(r["partner"]): r for r in rows}
    new = sorted(set(part["recent"]) - set(part["baseline"]) - {us})
    ties = _run(store, q_ties, _q_params(claim, q_ties), graphs)
    per_state: dict[str, dict] = {}
    for row in ties:
        p = str(row["partner"])
        if not _in_force_during(row, recent):
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
        f"new non-US partners ({_window_label(recent)}, not seen {_window_label(base)}): {n}: "
        + (", ".join(new) or "none"),
        f"US treaty allies among them: {len(allies)} ({', '.join(allies) or 'none'}); "
        f"other US agreement partners: {len(partners)} ({', '.join(partners) or 'none'}); "
        f"no tie to the USA in the data: {len(others)} ({', '.join(others) or 'none'})",
        f"aligned share {_fmt(share)} (treaty allies alone {_fmt(ally_share)}); "
        f"weighted by exercises in {_window_label(recent)}: {_fmt(ev['aligned_exercise_share'])}",
    ]
    reason = ("too few new partners: " + "; ".join(short) if not ok else
              f"{len(allies) + len(partners)} of {n} new non-US partners are US treaty allies or "
              f"partners in the data (share {_fmt(share)})")
    return {"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {"baseline": ["exercises"], "recent": ["exercises", "agreements"]},
            "queries": [q_win, q_ties], "metrics": [], "minimum": {"met": ok, "shortfalls": short}}


def _check_agreements_in_force(store, claim: Claim, graphs) -> dict:
    t = claim.test
    as_of = int(t.get("as_of", 2025))
    threshold = int(t.get("threshold", 3))
    rows = _run(store, t["query"], _q_params(claim, t["query"]), graphs)
    counted: dict[str, str] = {}
    not_counted = []
    for row in rows:
        p, a = str(row["partner"]), str(row["agreement"])
        status, fy, end = str(row.get("status") or ""), row.get("in_force"), row.get("end")
        if status != "InForce":
            not_counted.append(f"{a} with {p}: status {status or 'unknown'}")
        elif not isinstance(fy, int):
            not_counted.append(f"{a} with {p}: no entry-into-force date")
        elif fy > as_of:
            not_counted.append(f"{a} with {p}: in force only from {fy}")
        elif isinstance(end, int) and end < as_of:
            not_counted.append(f"{a} with {p}: ended {end}")
        else:
            counted.setdefault(p, f"{a} (in force {fy})")
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
    return {"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {"as_of": ["agreements"]}, "queries": [t["query"]], "metrics": [],
            "minimum": {"met": ok, "shortfalls": short}}


def _region_betweenness(G, nodes: set[str], focus: str) -> dict:
    from kg.metrics import node_metrics

    H = G.subgraph(sorted(n for n in G.nodes if n in nodes)).copy()
    if focus not in H:
        return {"states": H.number_of_nodes(), "ties": H.number_of_edges(), "betweenness": None,
                "degree": None, "rank": None}
    m = node_metrics(H)
    ranked = sorted(H.nodes, key=lambda n: (-m[n]["betweenness"], n))
    return {"states": H.number_of_nodes(), "ties": H.number_of_edges(),
            "betweenness": _r(m[focus]["betweenness"]), "degree": m[focus]["degree"],
            "rank": ranked.index(focus) + 1,
            "top": [[n, _r(m[n]["betweenness"])] for n in ranked[:5]]}


def _check_centrality_change(store, claim: Claim, graphs) -> dict:
    from kg.network import build_network

    t = claim.test
    wins = claim.windows()
    base, recent = wins["baseline"], wins["recent"]
    focus = t.get("focus", "JPN")
    region = {str(r["iso3"]) for r in _run(store, t["query"], {}, graphs)}
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
        f"{focus} normalized betweenness among Indo-Pacific states: {_window_label(base)} "
        f"{_fmt(b, 4)} (rank {ev['baseline']['rank']} of {ev['baseline']['states']}), "
        f"{_window_label(recent)} {_fmt(r, 4)} (rank {ev['recent']['rank']} of "
        f"{ev['recent']['states']})",
    ]
    if extra:
        lines.append(f"with {', '.join(sorted(extra))} added: "
                     f"{_fmt(ev['baseline'][key]['betweenness'], 4)} -> "
                     f"{_fmt(ev['recent'][key]['betweenness'], 4)}")
    reason = ("too little data: " + "; ".join(short) if not ok else
              f"betweenness {'rose' if r > b else 'did not rise'} ({_fmt(b, 4)} -> {_fmt(r, 4)})")
    return {"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {"baseline": ["exercises"], "recent": ["exercises"]},
            "queries": [t["query"]],
            "metrics": ["kg.network.build_network", "kg.metrics.node_metrics (betweenness)"],
            "minimum": {"met": ok, "shortfalls": short}}


def _check_exercise_mix(store, claim: Claim, graphs) -> dict:
    t = claim.test
    wins = claim.windows()
    rows = _run(store, t["query"], _q_params(claim, t["query"]), graphs)
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
    lines = [f"{_window_label(ev[k]['window'])}: with the USA and a third state "
             f"{ev[k]['us_and_third']} (of which at most six states {ev[k]['us_and_third_small']}), "
             f"bilateral with the USA {ev[k]['us_bilateral']}, without the USA "
             f"{ev[k]['without_us']}, of {ev[k]['exercises']} exercises"
             for k in sorted(wins, key=lambda k: wins[k])]
    reason = ("too few records: " + "; ".join(short) if not ok else
              f"in {_window_label(wins[dw])}, {a} exercises with the USA and a third state "
              f"against {b} without the USA")
    return {"verdict": verdict, "reason": reason, "evidence": ev, "lines": lines,
            "relations": {k: ["exercises"] for k in wins}, "queries": [t["query"]], "metrics": [],
            "minimum": {"met": ok, "shortfalls": short}}


_CHECKS = {
    "window_change": _check_window_change,
    "share_and_partners": _check_share_and_partners,
    "new_partners_aligned": _check_new_partners_aligned,
    "agreements_in_force": _check_agreements_in_force,
    "centrality_change": _check_centrality_change,
    "exercise_mix": _check_exercise_mix,
}


# ---------------------------------------------------------------- evaluation


def check_claim(store, claim: Claim, graphs: list[str] | None = None,
                coverage: dict | None = None) -> dict:
    """Evaluate one claim against the store.

    :param store: an open store (local or remote).
    :param claim: a :class:`Claim`.
    :param graphs: dataset graphs to read (short names); None reads all.
    :param coverage: the result of :func:`data_coverage` (computed when None).
    :returns: a dict with ``id``, ``number``, ``title``, ``claim``, ``source``, ``test``,
        ``expected``, ``verdict``, ``reason``, ``evidence``, ``evidence_lines``, ``windows``,
        ``graphs``, ``coverage`` and ``minimum``.
    """
    if coverage is None:
        coverage = data_coverage(store, graphs)
    res = _CHECKS[claim.test["check"]](store, claim, graphs)
    cov = _coverage_for(claim, coverage, res["relations"])
    verdict = res["verdict"]
    reason = res["reason"]
    if cov["status"] == "outside" and verdict != INSUFFICIENT:
        verdict = INSUFFICIENT
        reason = "a window lies outside the data's coverage; " + reason
    elif cov["mixed"] and verdict != INSUFFICIENT:
        verdict = INSUFFICIENT
        reason = (f"the windows rest on different {' and '.join(cov['mixed'])} datasets "
                  "(see coverage); " + reason)
    caveats = list(cov["caveats"]) + list(claim.caveats)
    used = sorted(graphs) if graphs else store.graph_names()
    return {
        "id": claim.id,
        "number": claim.number,
        "title": claim.title,
        "claim": claim.claim,
        "source": {k: " ".join(str(v).split()) for k, v in claim.source.items()},
        "test": {"kind": claim.test["kind"], "check": claim.test["check"],
                 "queries": res["queries"], "metrics": res["metrics"],
                 "statistic": " ".join(str(claim.test.get("statistic", "")).split())},
        "expected": {k: " ".join(str(v).split()) for k, v in claim.expected.items()},
        "verdict": verdict,
        "reason": reason,
        "evidence": res["evidence"],
        "evidence_lines": res["lines"],
        "windows": {k: list(v) for k, v in sorted(claim.windows().items())},
        "graphs": used,
        "coverage": {"status": cov["status"], "windows": cov["windows"], "data": cov["data"],
                     "mixed_sources": cov["mixed"],
                     "notes": cov["notes"], "caveats": caveats},
        "minimum": {"required": claim.minimum, **res["minimum"]},
    }


def check_claims(store, ids: list[str] | None = None, graphs: list[str] | None = None, *,
                 progress=None, citation: bool = True) -> dict:
    """Evaluate claims (all, or those named by id or number) against the store.

    :param store: an open store.
    :param ids: claim ids or numbers; None or empty checks every claim.
    :param graphs: dataset graphs to read (short names); None reads all.
    :param progress: optional callable ``progress(claim_id)`` called before each claim.
    :param citation: include the citation block (:func:`kg.citation.citation_block`).
    :returns: ``{"claims": [...], "summary": {verdict: count}, "citation": {...}}``.

    >>> out = check_claims(store, ["partners-grew"])  # doctest: +SKIP
    >>> out["claims"][0]["verdict"]  # doctest: +SKIP
    'supported'
    """
    claims = select_claims(ids)
    if graphs:
        present = store.graph_names()
        for g in graphs:
            if g not in present:
                raise UsageError(f"no graph named {g!r} in the store "
                                 f"(graphs: {', '.join(present) or 'none'})")
    cov = data_coverage(store, graphs)
    results = []
    for c in claims:
        if progress is not None:
            progress(c.id)
        results.append(check_claim(store, c, graphs, coverage=cov))
    summary = {v: sum(1 for r in results if r["verdict"] == v) for v in VERDICTS}
    out: dict = {"claims": results, "summary": summary}
    if citation:
        from kg.citation import citation_block

        params = {"claims": [c.id for c in claims],
                  "windows": {c.id: {k: list(v) for k, v in c.windows().items()} for c in claims}}
        out["citation"] = citation_block(store, sorted(graphs) if graphs else None, params)
    return out


def raise_if_not_supported(result: dict) -> None:
    """Raise :class:`ClaimNotSupported` (exit 1) when any checked claim is not supported."""
    bad = [c["id"] for c in result["claims"] if c["verdict"] != SUPPORTED]
    if bad:
        raise ClaimNotSupported(f"{len(bad)} claim(s) not supported: {', '.join(bad)}")


# ---------------------------------------------------------------- output


def format_claim_list(claims: list[Claim]) -> str:
    """``kg claims list``: number, id, test kind and title, one claim a line."""
    if not claims:
        return ""
    w = max(len(c.id) for c in claims)
    lines = [f"{c.number:>2}  {c.id.ljust(w)}  {c.test['kind']:<6}  {c.title}" for c in claims]
    return "\n".join(lines) + "\n"


def _md(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def format_check(result: dict, fmt: str = "table") -> str:
    """Render :func:`check_claims` output as ``table`` (text), ``json`` or ``md``."""
    if fmt == "json":
        return json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    claims = result["claims"]
    if fmt == "md":
        out = ["| # | claim | verdict | evidence |", "|---|---|---|---|"]
        for c in claims:
            out.append(f"| {c['number']} | {_md(c['title'])} (`{c['id']}`) | **{c['verdict']}** | "
                       f"{_md(c['reason'])} |")
        out.append("")
        for c in claims:
            out.append(f"### {c['number']}. {_md(c['title'])}: {c['verdict']}")
            out.append("")
            out.append(f"> {_md(c['claim'])}")
            out.append("")
            out.append(f"- Source: {_md(c['source'].get('article', ''))}")
            if c["source"].get("quote"):
                out.append(f"- Quote: {_md(c['source']['quote'])}")
            out.append(f"- Test ({c['test']['kind']}): {_md(c['test']['statistic'])}")
            out.append(f"- Expected: {_md(c['expected'].get('rule', ''))}")
            for line in c["evidence_lines"]:
                out.append(f"- Evidence: {_md(line)}")
            win = ", ".join(f"{k} {_window_label(v)}" for k, v in c["windows"].items())
            out.append(f"- Windows: {win}; graphs: {', '.join(c['graphs'])}")
            for cav in c["coverage"]["caveats"]:
                out.append(f"- Caveat: {_md(cav)}")
            out.append("")
        fp = ((result.get("citation") or {}).get("dataset") or {}).get("fingerprint")
        if fp:
            out.append(f"Dataset fingerprint: {fp}")
            out.append("")
        return "\n".join(out)
    out = []
    for c in claims:
        out.append(f"[{c['number']}] {c['id']}: {c['verdict'].upper()}")
        out.append(f"    {c['claim']}")
        out.append(f"    why: {c['reason']}")
        for line in c["evidence_lines"]:
            out.append(f"    evidence: {line}")
        win = ", ".join(f"{k} {_window_label(v)}" for k, v in c["windows"].items())
        out.append(f"    windows: {win}; graphs: {', '.join(c['graphs'])}")
        out.append(f"    coverage: {c['coverage']['status']}; "
                   + "; ".join(c["coverage"]["notes"]))
        for cav in c["coverage"]["caveats"]:
            out.append(f"    caveat: {cav}")
        out.append("")
    s = result.get("summary", {})
    out.append("summary: " + ", ".join(f"{s.get(v, 0)} {v}" for v in VERDICTS))
    fp = ((result.get("citation") or {}).get("dataset") or {}).get("fingerprint")
    if fp:
        out.append(f"dataset fingerprint: {fp}")
    return "\n".join(out) + "\n"
