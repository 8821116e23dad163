"""Evaluate claims: headline check, coverage gate, robustness grid, uncertainty, scorecard.

:func:`check_claims` is what ``kg claims check`` and ``kg report`` call. Per claim it
runs the registered check (:mod:`kg.claims.checks`), sets its windows against the
data's coverage (:mod:`kg.claims.coverage`), re-reads it under the robustness grid
(:mod:`kg.claims.robustness`), adds a bootstrap interval and permutation p-value
where the statistic is a change between windows (:mod:`kg.claims.uncertainty`), and
ends with the scorecard of hedging against alliance-extension signatures
(:mod:`kg.claims.scorecard`).

Coverage gate: when the graphs read hold official counts or tables
(``sp:OfficialCount``), a verdict that compares windows of exercises stands only when
each window's records reach the stated share of the official denominators for every
fiscal year and kind it needs; otherwise it is ``insufficient data`` naming what is
missing. When the graphs hold no official number at all, completeness cannot be
checked and every verdict says so in its caveats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kg.citation import REFERENCES as CITATION_REFERENCES
from kg.claims.checks import CHECKS, INSUFFICIENT, SUPPORTED, VERDICTS, window_label
from kg.claims.coverage import (
    DEFAULT_COVERAGE_THRESHOLD,
    coverage_for,
    data_coverage,
    fiscal_rows,
    official_us_share,
    window_completeness,
)
from kg.claims.definitions import Claim, load_references, select_claims
from kg.claims.robustness import NO_DATA, SPAN_GATES
from kg.errors import InputError, KgError, UsageError

__all__ = ["ClaimNotSupported", "ClaimRun", "ClaimsCheck", "check_claim", "check_claims",
           "raise_if_not_supported", "start_claims"]

#: How much lower the priority of :func:`start_claims`' workers is (:func:`os.nice`): the
#: caller's own work (the report's map and metrics) comes first, the resampling takes
#: what it leaves idle.
WORKER_NICE = 5

_EXERCISE_CHECKS = ("window_change", "share_and_partners", "new_partners_aligned",
                    "centrality_change", "exercise_mix")


class ClaimNotSupported(KgError):
    """At least one checked claim is not supported (``kg claims check --strict``; exit 1)."""

    exit_code = 1


@dataclass
class ClaimRun:
    """What one run reads once and shares between claims (run-scoped cache)."""

    store: object
    graphs: list[str] | None
    directory: str | None = None
    _cache: dict = field(default_factory=dict)

    def get(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def coverage(self) -> dict:
        return self.get("coverage", lambda: data_coverage(self.store, self.graphs))

    def fiscal(self, focus: str) -> tuple[list, str]:
        return self.get(("fiscal", focus),
                        lambda: fiscal_rows(self.store, focus=focus, graphs=self.graphs))

    def fiscal_exercises(self, focus: str) -> dict[str, tuple[int, str]]:
        """Local exercise id to ``(fiscal year, kind)``, as :meth:`fiscal` counts them."""
        from kg.coverage import fiscal_exercises

        # the id as exercise_records.rq gives it (the IRI's last segment)
        return self.get(("fiscal exercises", focus), lambda: {
            ex.rsplit("/", 1)[-1]: fk for ex, fk in fiscal_exercises(
                self.store, focus=focus, graphs=self.graphs).items()})

    def references(self) -> dict:
        return self.get("references", lambda: load_references(self.directory))

    def exercises(self, params: dict, whole: bool = False):
        from kg.claims.readings import load_exercise_data

        key = ("exercises", params.get("state", "JPN"), params.get("us", "USA"), whole)
        return self.get(key, lambda: load_exercise_data(self.store, params, self.graphs,
                                                        whole=whole))

    def lifecycles(self, include_pending: bool = False) -> dict:
        from kg.claims.checks import agreement_lifecycles

        return self.get(("lifecycles", include_pending),
                        lambda: agreement_lifecycles(self.store, self.graphs,
                                                     include_pending=include_pending))

    def query(self, name: str, params: dict) -> list[dict]:
        from kg.claims.checks import run_claim_query

        key = ("query", name, tuple(sorted(params.items())))
        return self.get(key, lambda: run_claim_query(self.store, name, params, self.graphs,
                                                     self.directory))


def _check_states(claims: list[Claim], run: ClaimRun) -> None:
    """Refuse a claim that names a state the store does not hold (:meth:`Claim.states`),
    before its queries answer nothing for it; each code is looked up once per run.

    :raises InputError: naming the claim's file and the field.
    """
    from kg.network import check_states_known

    for c in claims:
        for fld, code in c.states():
            key = ("state known", code)
            if key in run._cache:
                continue
            try:
                check_states_known(run.store, [code], f"field '{fld}':")
            except UsageError as exc:
                raise InputError(exc.message, file=c.path or None) from None
            run._cache[key] = True


def _missing_text(missing: list[str]) -> str:
    """``["FY2005 us", "FY2006 us"]`` -> ``"us FY2005-FY2006"`` (runs of years per kind)."""
    by_kind: dict[str, list[int]] = {}
    for m in missing:
        fy, kind = m.split(" ", 1)
        by_kind.setdefault(kind, []).append(int(fy[2:]))
    parts = []
    for kind, years in sorted(by_kind.items()):
        years.sort()
        runs, start, prev = [], years[0], years[0]
        for y in years[1:] + [None]:
            if y is not None and y == prev + 1:
                prev = y
                continue
            runs.append(f"FY{start}" if start == prev else f"FY{start}-FY{prev}")
            if y is not None:
                start = prev = y
        parts.append(f"{kind} {', '.join(runs)}")
    return "; ".join(parts)


def _completeness(claim: Claim, run: ClaimRun, relations: dict,
                  windows: dict[str, tuple[int, int]] | None = None,
                  keep: frozenset | None = None) -> dict:
    """Completeness per compared window, and whether it lets the verdict stand.

    :param windows: other windows (a variant of the robustness grid); default the claim's.
    :param keep: count only these exercises (local ids) against the official numbers (a
        variant reading one source, or the official tables' records alone); None: all.
    """
    from dataclasses import replace

    focus = str((claim.test.get("params") or {}).get("state", "JPN"))
    rows, note = run.fiscal(focus)
    if keep is not None:
        from collections import Counter

        kept = Counter(fk for ex, fk in run.fiscal_exercises(focus).items() if ex in keep)
        rows = [replace(r, records=kept.get((r.fiscal_year, r.kind), 0)) for r in rows]
    kinds = claim.coverage.get("kinds") or ["us", "multilateral", "bilateral"]
    thr = float(claim.coverage.get("threshold", DEFAULT_COVERAGE_THRESHOLD))
    wins = claim.windows() if windows is None else windows
    compared = [w for w, rels in relations.items() if "exercises" in rels and w in wins]
    official = any(r.official_count is not None or r.table_rows is not None for r in rows)
    out: dict = {"checked": bool(official), "threshold": thr, "kinds": kinds, "windows": {},
                 "blocking": []}
    if not compared:
        out["note"] = "the claim reads no exercise window; completeness does not apply"
        return out
    if not official:
        out["note"] = note or ("completeness not checked: the graphs read hold no official "
                               "count or table (sp:OfficialCount) to set the records against")
        return out
    for w in compared:
        comp = window_completeness(rows, wins[w], kinds, thr)
        out["windows"][w] = comp
        if comp["status"] == "short":
            out["blocking"].append(f"{w} window {window_label(wins[w])}: records reach "
                                   f"{comp['ratio']:.0%} of the official count "
                                   f"({comp['records']} of {comp['official']}; needed "
                                   f"{thr:.0%})")
        elif comp["status"] == "unknown":
            out["blocking"].append(f"{w} window {window_label(wins[w])}: no official count "
                                   f"or table for {_missing_text(comp['missing'])}")
    srcs = {w: tuple(d["sources"]) for w, d in out["windows"].items() if d["sources"]}
    if len(set(srcs.values())) > 1:
        out["sources_note"] = ("The windows' official counts come from different sources ("
                               + "; ".join(f"{w}: {', '.join(v)}" for w, v in srcs.items())
                               + "); check that they count the same way.")
    return out


def coverage_gate(cov: dict, comp: dict) -> tuple[str, str] | None:
    """Why a reading over some windows cannot be a verdict, as ``(kind, reason)`` (None: it
    can): the one coverage rule, for a claim's headline and each variant of its grid.

    A window ``outside``, or ``partly outside``, the years the data covers (its years
    without records would count as none); windows resting on ``mixed datasets``; or
    ``completeness``: records short of the official count, or no official count to set
    them against.

    :param cov: :func:`kg.claims.coverage.coverage_for` of the windows.
    :param comp: :func:`_completeness` of the same windows.

    >>> coverage_gate({"status": "partly", "mixed": []}, {"blocking": []})[0]
    'partly outside'
    >>> coverage_gate({"status": "inside", "mixed": []}, {"blocking": []}) is None
    True
    """
    if cov["status"] == "outside":
        return "outside", "a window lies outside the data's coverage"
    if cov["status"] == "partly":
        return "partly outside", ("a window lies partly outside the years the data covers "
                                  "(see coverage; its years without records would count as "
                                  "none)")
    if cov["mixed"]:
        return "mixed datasets", (f"the windows rest on different {' and '.join(cov['mixed'])} "
                                  "datasets (see coverage)")
    if comp["blocking"]:
        return "completeness", ("coverage below the threshold or unknown: "
                                + "; ".join(comp["blocking"]))
    return None


def _gate_variants(claim: Claim, run: ClaimRun, relations: dict, rows: list[dict],
                   data) -> None:
    """Set each exercise-grid variant's ``gate`` (the reason of :func:`coverage_gate`, None
    when it could give a verdict) and ``coverage`` (its kind, or ``passes``).

    The rule reads the variant's own windows and sources: a variant reading one graph is set
    against that graph's years, and one reading some records only (one graph, the official
    tables' records, verified records) against the official numbers with those records
    alone. A variant whose windows reach years its data does not cover has no reading
    (``no data``), even of the records alone: those years would count as none.

    :param data: the :class:`kg.claims.readings.ExerciseData` the grid read.
    """
    coverage = run.coverage()
    gates: dict[tuple, tuple[str, str] | None] = {}
    for r in rows:
        wins = {k: (int(v[0]), int(v[1])) for k, v in r["years"].items()}
        sel = r.get("selection") or {}
        graphs = tuple(sel.get("graphs") or ())
        subset = bool(graphs) or sel.get("table_only") or sel.get("unverified") is False
        key = (tuple(sorted(wins.items())), graphs, bool(sel.get("table_only")),
               sel.get("unverified", True))
        if key not in gates:
            cov = {g: d for g, d in coverage.items() if g in graphs} if graphs else coverage
            keep = frozenset(ex.id for ex in data.exercises
                             if (not graphs or ex.graphs & set(graphs))
                             and (ex.table or not sel.get("table_only"))
                             and (not ex.unverified or sel.get("unverified", True))
                             ) if subset else None
            gates[key] = coverage_gate(coverage_for(claim, cov, relations, wins),
                                       _completeness(claim, run, relations, wins, keep))
        gate = gates[key]
        r["coverage"] = gate[0] if gate else "passes"
        r["gate"] = gate[1] if gate else None
        if gate and gate[0] in SPAN_GATES:  # years without records counted as none: not
            r["reading"] = NO_DATA  # a reading of the records at all (the value stays shown)


def _exercise_data(claim: Claim, run: ClaimRun):
    """The exercise records an exercise claim's grid and uncertainty read (store reads, each
    once per run); None for the other checks."""
    check = claim.test["check"]
    if check not in _EXERCISE_CHECKS:
        return None
    params = claim.test.get("params") or {}
    data = run.exercises(params, whole=(check == "centrality_change"))
    if check == "centrality_change" and not data.region:
        data.region = frozenset(str(r["iso3"]) for r in run.query(claim.test["query"], {}))
    if check == "new_partners_aligned" and not data.ties:
        q_ties = claim.test["query"][1]
        data.ties = run.query(q_ties, {"us": params.get("us", "USA")})
        data.lifecycles = run.lifecycles()
    return data


def _resampling_jobs(claim: Claim, data) -> list[tuple]:
    """The CPU-only work of an exercise claim: its grid, and its bootstrap and permutation
    when the statistic is a change between windows (:func:`_run_job` runs one)."""
    from kg.claims.readings import WINDOW_STATS

    if data is None:
        return []
    jobs = [("grid", claim, data)]
    if claim.test["check"] in WINDOW_STATS:
        jobs.append(("uncertainty", claim, data))
    return jobs


def _run_job(job: tuple):
    """One job of :func:`_resampling_jobs`: no store, no shared state, so it can run in a
    forked worker and give what it gives here (a fixed seed per claim)."""
    from kg.claims.robustness import declared_spec, exercise_grid
    from kg.claims.uncertainty import window_change_uncertainty

    kind, claim, data = job
    if kind == "grid":
        return exercise_grid(claim, data)
    return window_change_uncertainty(claim, data, declared_spec(claim))


def _robustness(claim: Claim, run: ClaimRun, result: dict,
                done: dict | None = None) -> tuple[dict, dict]:
    """The grid summary and the uncertainty block for a claim.

    Each exercise-grid variant's windows go through the headline's coverage rule
    (:func:`coverage_gate`): the summary counts only the variants whose windows could give
    a verdict, and says what the records alone give beside it.

    :param result: the claim's reading so far (:func:`_read_claim`).
    :param done: results of the claim's :func:`_resampling_jobs` computed elsewhere
        (kind to result); what is missing is computed here.
    """
    headline = result["reading"]
    from kg.claims.robustness import DEFAULT_THRESHOLD, access_grid, allied_grid, summarize

    check = claim.test["check"]
    thr = float(claim.robustness.get("threshold", DEFAULT_THRESHOLD))
    params = claim.test.get("params") or {}
    ends = [s["end"] for s in (result["coverage"]["data"].get("agreements") or [])]
    last = max(ends) if ends else None  # the last year the agreement data covers
    if check == "agreements_in_force":
        rows = access_grid(claim, run.query(claim.test["query"],
                                            {"state": params.get("state", "JPN")}),
                           run.lifecycles(), run.lifecycles(include_pending=True), last)
        unc = {"applies": False, "why": "the statistic is a count at one date, not a change"}
        return summarize(rows, _reading(headline, rows), thr), unc
    if check == "agreements_with_allies":
        q = claim.test["query"]
        rows = allied_grid(claim, run.query(q, {"us": params.get("state", "JPN")}),
                           run.query(q, {"us": params.get("us", "USA")}), run.lifecycles(),
                           last)
        unc = {"applies": False, "why": "the statistic is a share at one date, not a change"}
        return summarize(rows, _reading(headline, rows), thr), unc
    if check not in _EXERCISE_CHECKS:
        return {"variants": [], "n": 0, "summary": "no robustness grid for this check"}, {
            "applies": False, "why": "no exercise statistic"}
    done = dict(done or {})
    for job in _resampling_jobs(claim, _exercise_data(claim, run)):
        if job[0] not in done:
            done[job[0]] = _run_job(job)
    rows = [dict(r) for r in done["grid"]]  # the gate is this run's, not the worker's
    relations = {w: sorted(per) for w, per in result["coverage"]["windows"].items()}
    _gate_variants(claim, run, relations, rows, _exercise_data(claim, run))
    summary = summarize(rows, _reading(headline, rows), thr)
    unc = done["uncertainty"] if "uncertainty" in done else {
        "applies": False, "why": "the statistic is not a change between two windows"}
    if unc.get("applies") and result["coverage"]["status"] != "inside":
        unc = {"applies": False, "why": "a window reaches years the data does not cover (see "
                                        "coverage): an interval would count them as none"}
    elif unc.get("applies") and result["verdict"] == INSUFFICIENT:
        unc = {**unc, "records_only": True}  # an interval of the records' reading, no verdict's
    return summary, unc


def _reading(headline: str, rows: list[dict]) -> str:
    """The reading the grid is compared with: the headline's, else the declared variant's
    (``no data`` when that has none: the grid then says robustness is not known)."""
    if headline in VERDICTS[:2]:
        return headline
    declared = [r for r in rows if r.get("declared")]
    return declared[0]["reading"] if declared else NO_DATA


def _official_lines(claim: Claim, run: ClaimRun, ev: dict) -> tuple[list[str], list[str]]:
    """For the US-share claim: the same statistic from MOD's official counts, beside the records."""
    focus = str((claim.test.get("params") or {}).get("state", "JPN"))
    rows, note = run.fiscal(focus)
    off = official_us_share(rows, claim.windows())
    ev["official_counts"] = off
    lines, caveats = [], []
    for name, d in off["windows"].items():
        if d.get("share") is not None:
            lines.append(f"MOD official counts, {name} {window_label(d['window'])}: US share "
                         f"{d['share']:.2f} ({d['us']} of {d['us'] + d['multilateral']})")
    span = off.get("span")
    if span:
        a, b = span["first"], span["last"]
        direction = "rose" if span["change"] > 0 else "fell" if span["change"] < 0 else "held"
        lines.append(f"MOD official counts: US share FY{span['from']} {a['share']:.2f} "
                     f"({a['us']} of {a['us'] + a['multilateral']}) -> FY{span['to']} "
                     f"{b['share']:.2f} ({b['us']} of {b['us'] + b['multilateral']}): {direction} "
                     f"({off['rule']})")
        rec_b = (ev.get("baseline") or {}).get("us_share")
        rec_r = (ev.get("recent") or {}).get("us_share")
        if rec_b is not None and rec_r is not None and (rec_r < rec_b) != (span["change"] < 0):
            caveats.append(f"The records and MOD's official counts disagree on the direction of "
                           f"the US share (records {rec_b:.2f} -> {rec_r:.2f}; official "
                           f"FY{span['from']}-FY{span['to']} {a['share']:.2f} -> "
                           f"{b['share']:.2f}); the records are a selection, the counts are "
                           "the ministry's own.")
    else:
        lines.append("MOD official counts: none with both Japan-US and multilateral counts for "
                     "two fiscal years in the graphs read" + (f" ({note})" if note else ""))
    return lines, caveats


def check_claim(store, claim: Claim, graphs: list[str] | None = None,
                coverage: dict | None = None, *, run: ClaimRun | None = None,
                resampled: dict | None = None) -> dict:
    """Evaluate one claim against the store.

    :param store: an open store (local or remote).
    :param claim: a :class:`Claim`.
    :param graphs: dataset graphs to read (short names); None reads all.
    :param coverage: the result of :func:`data_coverage` (computed when None).
    :param run: the run-scoped cache (a fresh one when None).
    :param resampled: the results of the claim's grid and uncertainty jobs when they ran
        elsewhere (:class:`ClaimsCheck`: kind to result); None computes them here.
    :returns: a dict with ``id``, ``number``, ``title``, ``claim``, ``source``,
        ``references``, ``signature``, ``test``, ``expected``, ``verdict``, ``reading``,
        ``reason``, ``evidence``, ``evidence_lines``, ``windows``, ``graphs``,
        ``coverage`` (spans, completeness per window), ``robustness`` (grid and share
        agreeing), ``uncertainty`` and ``minimum``.
    :raises InputError: naming the claim's file and field for a state the store does not hold.
    """
    if run is None:
        run = ClaimRun(store, graphs, str(Path(claim.path).parent) if claim.path else None)
    if coverage is not None:
        run._cache.setdefault("coverage", coverage)
    _check_states([claim], run)
    out = _read_claim(store, claim, graphs, run)
    out["robustness"], out["uncertainty"] = _robustness(claim, run, out, resampled)
    return out


def _read_claim(store, claim: Claim, graphs: list[str] | None, run: ClaimRun) -> dict:
    """:func:`check_claim` but the robustness grid and the uncertainty (left None): the
    headline check, coverage, completeness and references, the store reads of a claim."""
    res = CHECKS[claim.test["check"]](store, claim, graphs)
    cov = coverage_for(claim, run.coverage(), res.relations)
    comp = _completeness(claim, run, res.relations)
    reading = res.verdict
    verdict, reason = res.verdict, res.reason
    caveats = list(cov["caveats"])
    lines = list(res.lines)
    if claim.test["check"] == "share_and_partners":
        more, cav = _official_lines(claim, run, res.evidence)
        lines += more
        caveats += cav
    gate = coverage_gate(cov, comp)
    if gate and gate[0] in SPAN_GATES:  # the records' figures count the uncovered years as
        verdict = reading = INSUFFICIENT  # none: not even the records' reading
        reason = f"{gate[1]}; the records' figures, counting those years as none: {reason}"
    elif gate and verdict != INSUFFICIENT:
        verdict = INSUFFICIENT
        reason = f"{gate[1]}; the records alone say: {reason}"
    if comp.get("sources_note"):
        caveats.append(comp["sources_note"])
    if not comp["checked"] and comp.get("note") and comp["note"].startswith("completeness"):
        caveats.append(comp["note"][0].upper() + comp["note"][1:] + ".")
    caveats += list(claim.caveats)
    bib = run.references()
    refs = [{**bib[r["key"]].to_json(), "role": str(r.get("role", "")),
             "note": " ".join(str(r.get("note", "")).split())} for r in claim.references]
    used = sorted(graphs) if graphs else store.graph_names()
    return {
        "id": claim.id,
        "number": claim.number,
        "title": claim.title,
        "claim": claim.claim,
        "source": {k: " ".join(str(v).split()) for k, v in claim.source.items()},
        "references": refs,
        "signature": {k: " ".join(str(v).split()) for k, v in claim.signature.items()},
        "test": {"kind": claim.test["kind"], "check": claim.test["check"],
                 "queries": res.queries, "metrics": res.metrics,
                 "statistic": " ".join(str(claim.test.get("statistic", "")).split())},
        "expected": {k: " ".join(str(v).split()) for k, v in claim.expected.items()},
        "verdict": verdict,
        "reading": reading,
        "reason": reason,
        "evidence": res.evidence,
        "evidence_lines": lines,
        "windows": {k: list(v) for k, v in sorted(claim.windows().items())},
        "graphs": used,
        "coverage": {"status": cov["status"], "windows": cov["windows"], "data": cov["data"],
                     "mixed_sources": cov["mixed"], "completeness": comp,
                     "notes": cov["notes"], "caveats": caveats},
        "robustness": None,  # filled in by check_claim (this key order is the output's)
        "uncertainty": None,
        "minimum": {"required": claim.minimum, **res.minimum},
    }


def check_claims(store, ids: list[str] | None = None, graphs: list[str] | None = None, *,
                 progress=None, citation: bool = True, directory: str | None = None,
                 workers: int | None = None) -> dict:
    """Evaluate claims (all, or those named by id or number) against the store.

    The resampling (the bootstraps and permutations, most of the work) runs in forked
    worker processes while the store is read here (:func:`start_claims`, then its
    result); ``workers=1`` runs everything here, claim after claim. Each resample draws
    from its own fixed seed, so the result is the same either way.

    :param store: an open store.
    :param ids: claim ids or numbers; None or empty checks every claim.
    :param graphs: dataset graphs to read (short names); None reads all.
    :param progress: optional callable ``progress(claim_id)`` called before each claim.
    :param citation: include the citation block (:func:`kg.citation.citation_block`).
    :param directory: read the claims from this folder instead of ``queries/claims``.
    :param workers: worker processes for the resampling (default: one per core).
    :returns: ``{"claims": [...], "summary": {verdict: count}, "scorecard": {...},
        "citation": {...}}``.
    :raises InputError: naming the file and field of a malformed claim, or of a state the
        store does not hold.

    >>> out = check_claims(store, ["partners-grew"])  # doctest: +SKIP
    >>> out["claims"][0]["verdict"]  # doctest: +SKIP
    'supported'
    """
    return ClaimsCheck(store, ids, graphs, directory=directory, background=workers != 1,
                       workers=workers).result(progress=progress, citation=citation)


def start_claims(store, ids: list[str] | None = None, graphs: list[str] | None = None, *,
                 directory: str | None = None, workers: int | None = None) -> ClaimsCheck:
    """Start checking claims: read what their grids and bootstraps need from the store now,
    and start that CPU-only work in forked worker processes (:class:`kg.metrics.ForkedMap`);
    :meth:`ClaimsCheck.result` does the rest and returns what :func:`check_claims` returns.

    Between the two calls the caller may use the store and compute (the report draws the
    map meanwhile); the workers never touch the store. Each bootstrap and permutation
    draws from its own fixed seed, so the result is that of :func:`check_claims`.

    :param workers: worker processes (default: one per core; fewer than 2 runs the work
        in :meth:`ClaimsCheck.result`, here).

    >>> job = start_claims(store)  # doctest: +SKIP
    >>> job.result(citation=False) == check_claims(store, citation=False, workers=1)  # doctest: +SKIP
    True
    """
    return ClaimsCheck(store, ids, graphs, directory=directory, background=True,
                       workers=workers)


class ClaimsCheck:
    """Claims being checked (:func:`start_claims`, :func:`check_claims`): the claims
    selected, the graphs checked, and, started in the background, their resampling."""

    def __init__(self, store, ids: list[str] | None = None, graphs: list[str] | None = None, *,
                 directory: str | None = None, background: bool = True,
                 workers: int | None = None):
        from kg.cache import run_cache

        self.store, self.graphs, self.directory = store, graphs, directory
        self.claims = select_claims(ids, directory)
        run_cache(store)  # one run: no query sent twice (claims share lifecycles, windows)
        if graphs:
            present = store.graph_names()
            for g in graphs:
                if g not in present:
                    raise UsageError(f"no graph named {g!r} in the store "
                                     f"(graphs: {', '.join(present) or 'none'})")
            from kg.network import check_graphs_declare_states

            check_graphs_declare_states(store, graphs, "the claims' queries read partners by")
        self.run = ClaimRun(store, graphs, directory)
        _check_states(self.claims, self.run)
        self._jobs: list[tuple] = []
        self._work = None
        if background:
            import kg.claims.robustness  # noqa: F401 - imported once, before the workers fork
            import kg.claims.uncertainty  # noqa: F401
            from kg.claims.readings import WINDOW_STATS
            from kg.metrics import ForkedMap

            for c in self.claims:  # the bootstraps are the cost: their claims go to the
                # workers; the other grids are cheap, computed in result() (their reads too)
                if c.test["check"] in WINDOW_STATS:
                    self._jobs += _resampling_jobs(c, _exercise_data(c, self.run))
            # the longest first (the centrality bootstrap): the workers end closer together
            order = sorted(range(len(self._jobs)), key=lambda i: -_job_cost(self._jobs[i]))
            self._order = order
            self._work = ForkedMap(_run_job, [self._jobs[i] for i in order], workers,
                                   nice=WORKER_NICE, cost=_job_cost)

    def _resampled(self) -> dict:
        """Claim id to ``{kind: result}`` of the background jobs (empty without them)."""
        if self._work is None:
            return {}
        got = self._work.get()
        out: dict = {}
        for i, res in zip(self._order, got, strict=True):
            kind, claim, _data = self._jobs[i]
            out.setdefault(claim.id, {})[kind] = res
        return out

    def close(self) -> None:
        """Stop the background work (when :meth:`result` will not be called)."""
        if self._work is not None:
            self._work.close()

    def result(self, *, progress=None, citation: bool = True) -> dict:
        """Check the claims (store reads here) with the background work's results.

        :param progress: optional callable ``progress(claim_id)`` called before each claim.
        :param citation: include the citation block (:func:`kg.citation.citation_block`).
        """
        from kg.claims.scorecard import scorecard

        store, graphs, claims, run = self.store, self.graphs, self.claims, self.run
        try:
            results = []
            for c in claims:  # the store reads first, while the workers may still compute
                if progress is not None:
                    progress(c.id)
                results.append(_read_claim(store, c, graphs, run))
                if self._work is None:  # nothing in the background: claim after claim
                    results[-1]["robustness"], results[-1]["uncertainty"] = _robustness(
                        c, run, results[-1])
            if self._work is not None:
                resampled = self._resampled()
                for c, out in zip(claims, results, strict=True):
                    out["robustness"], out["uncertainty"] = _robustness(
                        c, run, out, resampled.get(c.id))
        finally:
            self.close()
        summary = {v: sum(1 for r in results if r["verdict"] == v) for v in VERDICTS}
        out: dict = {"claims": results, "summary": summary, "scorecard": scorecard(results)}
        if citation:
            from kg.citation import citation_block
            from kg.claims.uncertainty import METHOD, REFERENCES

            params = {"claims": [c.id for c in claims],
                      "windows": {c.id: {k: list(v) for k, v in c.windows().items()}
                                  for c in claims}}
            block = citation_block(store, sorted(graphs) if graphs else None, params)
            block["methods"] = {k: {"method": METHOD[k], "reference": REFERENCES[k]}
                                for k in METHOD}
            block["methods"]["projection"] = {
                "method": "pairs (weight 1 per shared exercise), newman (1/(n-1)), max-N "
                          "(exercises of more than N states left out)",
                "reference": CITATION_REFERENCES["Newman2001b"]}
            out["citation"] = block
        return out


def _job_cost(job: tuple) -> int:
    """A rough cost of a resampling job, to start the longest first."""
    kind, claim, _data = job
    if kind == "grid":
        return 0
    from kg.claims.uncertainty import DEFAULT_REPLICATES

    reps = int(claim.uncertainty.get("replicates", DEFAULT_REPLICATES))
    return reps * (20 if claim.test["check"] == "centrality_change" else 1)


def raise_if_not_supported(result: dict) -> None:
    """Raise :class:`ClaimNotSupported` (exit 1) unless every checked claim is supported: a
    claim found not supported, or without sufficient data, fails; the message says which.

    >>> raise_if_not_supported({"claims": [{"id": "a", "verdict": "insufficient data"},
    ...                                    {"id": "b", "verdict": SUPPORTED}]})
    Traceback (most recent call last):
    ...
    kg.claims.evaluate.ClaimNotSupported: 1 claim(s) not supported: insufficient data: a
    """
    bad: dict[str, list[str]] = {}
    for c in result["claims"]:
        if c["verdict"] != SUPPORTED:
            bad.setdefault(c["verdict"], []).append(c["id"])
    if bad:
        raise ClaimNotSupported(
            f"{sum(map(len, bad.values()))} claim(s) not supported: "
            + "; ".join(f"{verdict}: {', '.join(ids)}" for verdict, ids in sorted(bad.items())))
