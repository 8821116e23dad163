"""Exercise claims re-read from the exercise records under a specification.

The headline checks (:mod:`kg.claims.checks`) run the claims' saved queries. For the
robustness grid and the bootstrap the same statistics are computed here, in Python,
from one table of Japan's exercises (``exercise_records.rq``, read once per run):
each :class:`Spec` fixes the windows, the projection of multilateral exercises, the
sources, and whether unverified records and observers count. The declared
specification reproduces the headline numbers (a test holds them equal).

Projections of an exercise with ``n`` states (Newman 2001 calls these one-mode
projections of the exercise-state network):

* ``pairs``: every pair of states tied with weight 1 by each exercise they share
  (each exercise counts once; the claims' declared reading);
* ``newman``: each exercise's ties weighted ``1/(n-1)``, so an exercise adds at most
  1 to a state's strength however many states took part;
* ``max-N``: ``pairs``, leaving out exercises with more than ``N`` states.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from heapq import heappop, heappush

__all__ = ["Exercise", "ExerciseData", "Spec", "PROJECTIONS", "load_exercise_data",
           "select", "counted_states", "READERS", "WINDOW_STATS", "read", "window_stat", "focus_betweenness"]

PROJECTIONS = ("pairs", "newman", "max")


@dataclass(frozen=True)
class Exercise:
    """One exercise of the focal state: its year, states, graphs and confidence."""

    id: str
    year: int
    participants: frozenset
    observers: frozenset = frozenset()
    graphs: frozenset = frozenset()
    unverified: bool = False
    #: one of its sources is a table of an official document (a source with ``sp:locator``)
    table: bool = False


@dataclass
class ExerciseData:
    """Everything the exercise readings need, read once per run."""

    focus: str
    us: str
    exercises: list[Exercise]
    region: frozenset = frozenset()
    ties: list[dict] = field(default_factory=list)
    #: agreement id to :class:`kg.inforce.Lifecycle` (for the ties' years in force)
    lifecycles: dict = field(default_factory=dict)
    #: True when ``exercises`` holds every exercise (the whole network), not only the focus's
    whole: bool = False
    _region_states: dict = field(default_factory=dict, repr=False, compare=False)
    _region_pairs: dict = field(default_factory=dict, repr=False, compare=False)
    _others: dict = field(default_factory=dict, repr=False, compare=False)
    _bits: dict = field(default_factory=dict, repr=False, compare=False)

    def region_states(self, ex: Exercise, observers: bool) -> tuple:
        """The exercise's states in :attr:`region`, sorted (memoized: the bootstrap asks often)."""
        key = (ex.id, observers)
        if key not in self._region_states:
            states = ex.participants | ex.observers if observers else ex.participants
            self._region_states[key] = tuple(sorted(s for s in states if s in self.region))
        return self._region_states[key]

    def others(self, ex: Exercise, observers: bool, exclude: frozenset = frozenset()) -> int:
        """The exercise's states but the focus and ``exclude``, as a bit set (an int, one
        bit per state; memoized, as :meth:`region_states`): unions of many are cheap."""
        key = (ex.id, observers, exclude)
        out = self._others.get(key)
        if out is None:
            states = ex.participants | ex.observers if observers else ex.participants
            bits = self._bits
            out = 0
            for st in states - {self.focus} - exclude:
                out |= 1 << bits.setdefault(st, len(bits))
            self._others[key] = out
        return out

    def region_pairs(self, ex: Exercise, observers: bool) -> tuple:
        """The pairs ``(a, b)``, ``a < b``, of the exercise's states in :attr:`region`
        (memoized, as :meth:`region_states`)."""
        key = (ex.id, observers)
        pairs = self._region_pairs.get(key)
        if pairs is None:
            states = self.region_states(ex, observers)
            pairs = self._region_pairs[key] = tuple(
                (a, b) for i, a in enumerate(states) for b in states[i + 1:])
        return pairs


@dataclass(frozen=True)
class Spec:
    """One specification: windows, projection, sources, unverified and observers.

    ``graphs`` None reads every graph; ``max_participants`` is used by the ``max``
    projection.
    """

    windows: tuple
    projection: str = "pairs"
    max_participants: int = 10
    observers: bool = False
    unverified: bool = True
    graphs: frozenset | None = None
    table_only: bool = False

    def window_dict(self) -> dict[str, tuple[int, int]]:
        return dict(self.windows)

    def with_windows(self, windows: dict[str, tuple[int, int]]) -> Spec:
        return replace(self, windows=tuple(sorted(windows.items())))

    def projection_label(self) -> str:
        return (f"max-{self.max_participants}" if self.projection == "max"
                else self.projection)


def load_exercise_data(store, claim_params: dict, graphs, *, whole: bool = False) -> ExerciseData:
    """Read the focal state's exercises (every exercise when ``whole``).

    :param claim_params: ``state`` (focus, default JPN) and ``us`` (default USA).
    """
    from kg.claims.checks import run_claim_query

    focus = str(claim_params.get("state", "JPN"))
    us = str(claim_params.get("us", "USA"))
    by_id: dict[str, dict] = {}
    rows = (run_claim_query(store, "all_exercise_records.rq", {}, graphs) if whole else
            run_claim_query(store, "exercise_records.rq", {"state": focus}, graphs))
    for r in rows:
        d = by_id.setdefault(str(r["exercise"]), {"year": int(r["year"]), "p": set(), "o": set(),
                                                  "g": set(), "u": False, "t": False})
        (d["p"] if str(r["role"]) == "participant" else d["o"]).add(str(r["iso3"]))
        d["g"].add(str(r["graph"]))
        d["u"] = d["u"] or r.get("unverified") in (True, "true", 1)
        d["t"] = d["t"] or r.get("table") in (True, "true", 1)
    exercises = [Exercise(i, d["year"], frozenset(d["p"]), frozenset(d["o"] - d["p"]),
                          frozenset(d["g"]), d["u"], d["t"]) for i, d in sorted(by_id.items())]
    return ExerciseData(focus=focus, us=us, exercises=exercises, whole=whole)


def counted_states(ex: Exercise, spec: Spec) -> frozenset:
    """The states an exercise counts under ``spec``: its participants, and its observers
    when the specification counts them."""
    return ex.participants | ex.observers if spec.observers else ex.participants


def select(data: ExerciseData, spec: Spec, window: tuple[int, int],
           exercises: list[Exercise] | None = None) -> list[Exercise]:
    """The exercises a specification counts in a window (focus among the states)."""
    out = []
    for ex in data.exercises if exercises is None else exercises:
        if not window[0] <= ex.year <= window[1]:
            continue
        states = counted_states(ex, spec)
        if data.focus not in states and not data.whole:
            continue
        if spec.projection == "max" and len(states) > spec.max_participants:
            continue
        if not spec.unverified and ex.unverified:
            continue
        if spec.graphs is not None and not (ex.graphs & spec.graphs):
            continue
        if spec.table_only and not ex.table:
            continue
        out.append(ex)
    return out


def _w(ex: Exercise, spec: Spec) -> float:
    n = len(counted_states(ex, spec))
    if spec.projection == "newman":
        return 1.0 / (n - 1) if n > 1 else 0.0
    return 1.0


def _years(window) -> range:
    return range(window[0], window[1] + 1)


# ---------------------------------------------------------------- statistics per window


def _partners_mean(data, spec, exs, window, exclude=frozenset()) -> float:
    """Mean per year of the focus's partners (distinct; Newman: strength)."""
    per = {y: 0.0 for y in _years(window)}
    if spec.projection == "newman":
        for ex in exs:
            others = counted_states(ex, spec) - {data.focus} - exclude
            per[ex.year] += _w(ex, spec) * len(others)
    else:
        seen = dict.fromkeys(per, 0)  # per year, the bit set of the partners seen
        for ex in exs:
            seen[ex.year] |= data.others(ex, spec.observers, exclude)
        per = {y: float(s.bit_count()) for y, s in seen.items()}
    return sum(per.values()) / len(per)


def _us_share(data, spec, exs) -> float | None:
    """Share of the exercises with the US; under ``newman`` each exercise weighs 1/(n-1)
    (the share of the exercises' weight, not the US's share of the focus's tie strength)."""
    if spec.projection != "newman":  # every weight 1.0: the sums are counts
        tot = float(len(exs))
        us = float(sum(1 for ex in exs if data.us in counted_states(ex, spec)))
        return us / tot if tot else None
    tot = sum(_w(ex, spec) for ex in exs)
    us = sum(_w(ex, spec) for ex in exs if data.us in counted_states(ex, spec))
    return us / tot if tot else None


def _betweenness(data, spec, exs) -> float | None:
    """Normalized betweenness of the focus among the region's states, edge length 1/weight.

    The same definition as :func:`kg.metrics.node_metrics` (which documents that it equals
    networkx ``betweenness_centrality(normalized=True)`` on lengths 1/weight); only the
    focus's betweenness is computed here (:func:`focus_betweenness`), because the
    bootstrap calls it thousands of times.
    """
    weights: dict[tuple[str, str], float] = {}
    if spec.projection != "newman":  # every weight 1.0: a pair's weight is its count (exact,
        # in any order of summing)
        from collections import Counter
        from itertools import chain, repeat

        counts = Counter(chain.from_iterable(map(data.region_pairs, exs,
                                                 repeat(spec.observers))))
        weights = {pair: float(c) for pair, c in counts.items()}
    else:
        get = weights.get
        for ex in exs:
            pairs = data.region_pairs(ex, spec.observers)
            if not pairs:
                continue
            w = _w(ex, spec)
            for pair in pairs:
                weights[pair] = get(pair, 0.0) + w
    return focus_betweenness([(a, b, 1.0 / w) for (a, b), w in sorted(weights.items())
                              if w > 0], data.focus)


def focus_betweenness(edges: list[tuple[str, str, float]], focus: str) -> float | None:
    """The normalized betweenness of ``focus`` alone, as networkx computes it, float for float.

    ``edges`` are ``(a, b, length)`` in the order they would be added to a ``nx.Graph``
    (which fixes the order of the nodes and of each node's neighbours). The result is
    ``nx.betweenness_centrality(G, weight="length", normalized=True)[focus]`` exactly (the
    same Dijkstra with the same tie-breaking, the same path counts and Brandes (2001)
    accumulation in the same order), but on plain lists, without the sources' work that
    cannot reach the focus's value: the focus as a source adds nothing to its own
    betweenness, and each source's accumulation stops once the focus's dependency is
    final. None when the focus has no tie.

    >>> focus_betweenness([("A", "B", 1.0), ("B", "C", 1.0)], "B")
    1.0
    >>> focus_betweenness([("A", "B", 1.0), ("B", "C", 1.0)], "D") is None
    True
    """
    idx: dict[str, int] = {}
    adj: list[list[tuple[int, float]]] = []
    pos: list[dict[int, int]] = []  # a repeated edge replaces its length in place, as nx does
    for a, b, length in edges:
        for v in (a, b):
            if v not in idx:
                idx[v] = len(adj)
                adj.append([])
                pos.append({})
        ia, ib = idx[a], idx[b]
        for x, y in ((ia, ib), (ib, ia)) if ia != ib else ((ia, ib),):
            if y in pos[x]:
                adj[x][pos[x][y]] = (y, length)
            else:
                pos[x][y] = len(adj[x])
                adj[x].append((y, length))
    if focus not in idx:
        return None
    f = idx[focus]
    n = len(adj)
    total = 0.0
    for s in range(n):
        if s != f:
            dep = _dependency(adj, s, f)
            if dep is not None:
                total += dep
    if n - 1 < 2:
        return total
    return total * (1 / ((n - 1) * (n - 2)))


def _dependency(adj: list, s: int, f: int):
    """Brandes' dependency of source ``s`` on node ``f`` (None when ``f`` is unreachable), as
    networkx's ``_single_source_dijkstra_path_basic`` and ``_accumulate_basic`` compute it."""
    n = len(adj)
    S: list[int] = []
    # each node's predecessors, set when it is first reached (the source's are never read:
    # the accumulation stops at f, which comes after the source)
    P: list = [None] * n
    sigma = [0.0] * n
    done = [False] * n
    seen: list = [None] * n  # the best distance found so far (networkx's ``seen``)
    sigma[s] = 1.0
    seen[s] = 0
    c = 0
    Q = [(0, 0, s, s)]
    while Q:
        dist, _, pred, v = heappop(Q)
        if done[v]:
            continue
        sigma[v] += sigma[pred]
        S.append(v)
        done[v] = True
        for w, length in adj[v]:
            vw_dist = dist + length
            sw = seen[w]
            if not done[w] and (sw is None or vw_dist < sw):
                seen[w] = vw_dist
                c += 1
                heappush(Q, (vw_dist, c, v, w))
                sigma[w] = 0.0
                P[w] = [v]
            elif vw_dist == sw:
                sigma[w] += sigma[v]
                P[w].append(v)
    if not done[f]:
        return None
    # the accumulation, up to f: nodes after f in S are all that f's dependency sums over
    delta = [0] * n
    while S:
        w = S.pop()
        coeff = (1 + delta[w]) / sigma[w]
        for v in P[w]:
            delta[v] += sigma[v] * coeff
        if w == f:
            return delta[w]
    return None


def _without_us_mean(data, spec, exs, window) -> float:
    """Mean per year of the focus's exercises without the US (Newman: weighted 1/(n-1))."""
    tot = sum(_w(ex, spec) if spec.projection == "newman" else 1.0
              for ex in exs if data.us not in counted_states(ex, spec))
    return tot / len(_years(window))


def window_stat(check: str, data: ExerciseData, spec: Spec, window: tuple[int, int],
                exercises: list[Exercise] | None = None, value: str = "partners", *,
                selected: bool = False):
    """The per-window statistic of a window-change check (None when it has none).

    ``window_change``: mean partners per year; ``share_and_partners``: ``(US share,
    mean non-US partners per year)``; ``centrality_change``: the focus's betweenness in
    the region's exercise network. ``selected``: ``exercises`` are already what
    :func:`select` keeps for this specification and window (the bootstrap's resamples),
    so they are not filtered again.
    """
    exs = exercises if selected and exercises is not None else select(data, spec, window,
                                                                      exercises)
    if check == "window_change":
        if value == "without_us":
            return _without_us_mean(data, spec, exs, window)
        return _partners_mean(data, spec, exs, window)
    if check == "share_and_partners":
        return (_us_share(data, spec, exs),
                _partners_mean(data, spec, exs, window, exclude=frozenset({data.us})))
    if check == "centrality_change":
        return _betweenness(data, spec, exs)
    return None


#: Checks whose statistic is a change between two windows (bootstrap and permutation apply).
WINDOW_STATS = ("window_change", "share_and_partners", "centrality_change")


# ---------------------------------------------------------------- readings (value, holds)


def _change(check, data, spec, claim) -> tuple[dict, bool | None]:
    w = spec.window_dict()
    value = claim.test.get("value", "partners")
    b = window_stat(check, data, spec, w["baseline"], value=value)
    r = window_stat(check, data, spec, w["recent"], value=value)
    if check == "share_and_partners":
        if b[0] is None or r[0] is None:
            return {"us_share": [b[0], r[0]], "non_us_partners": [b[1], r[1]]}, None
        holds = r[0] < b[0] and r[1] > b[1]
        return ({"us_share": [_r(b[0]), _r(r[0])], "non_us_partners": [_r(b[1]), _r(r[1])]},
                holds)
    if b is None or r is None:
        return {"baseline": b, "recent": r}, None
    direction = claim.expected.get("direction", "increase")
    holds = r < b if str(direction).startswith("decrease") else r > b
    return {"baseline": _r(b), "recent": _r(r), "change": _r(r - b)}, holds


def _mix(check, data, spec, claim) -> tuple[dict, bool | None]:
    dw = claim.test.get("decide_window", "recent")
    exs = select(data, spec, spec.window_dict()[dw])
    a = sum(_w(e, spec) for e in exs if data.us in counted_states(e, spec) and len(counted_states(e, spec)) >= 3)
    b = sum(_w(e, spec) for e in exs if data.us not in counted_states(e, spec)
            and len(counted_states(e, spec)) >= 2)
    if not exs:
        return {"us_and_third": 0, "without_us": 0}, None
    return {"us_and_third": _r(a), "without_us": _r(b)}, a > b


def _aligned(check, data, spec, claim) -> tuple[dict, bool | None]:
    from kg.claims.checks import tied_during

    w = spec.window_dict()
    strength: dict[str, dict[str, float]] = {}
    for name in ("baseline", "recent"):
        s: dict[str, float] = {}
        for ex in select(data, spec, w[name]):
            for p in counted_states(ex, spec) - {data.focus}:
                s[p] = s.get(p, 0.0) + _w(ex, spec)
        strength[name] = s
    new = sorted(set(strength["recent"]) - set(strength["baseline"]) - {data.us})
    if not new:
        return {"new_partners": 0}, None
    tied = {str(r["partner"]) for r in data.ties
            if tied_during(data.lifecycles, r, data.us, w["recent"])}
    if spec.projection == "newman":
        tot = sum(strength["recent"][p] for p in new)
        share = sum(strength["recent"][p] for p in new if p in tied) / tot if tot else None
    else:
        share = sum(1 for p in new if p in tied) / len(new)
    if share is None:
        return {"new_partners": len(new)}, None
    return {"new_partners": len(new), "aligned_share": _r(share)}, share > 0.5


def _r(x):
    return None if x is None else round(float(x), 4)


#: Readers per check name: ``(check, data, spec, claim) -> (value, holds)``.
READERS = {
    "window_change": _change,
    "share_and_partners": _change,
    "centrality_change": _change,
    "exercise_mix": _mix,
    "new_partners_aligned": _aligned,
}


def read(claim, data: ExerciseData, spec: Spec) -> tuple[dict, bool | None]:
    """The claim's statistic and whether it holds under ``spec`` (None: no data)."""
    check = claim.test["check"]
    return READERS[check](check, data, spec, claim)
