"""Network metrics per state, for a window or a time series, with a citation block.

Definitions (quoted in every citation block, see :data:`DEFINITIONS`):

* ``degree``: number of distinct partners (Freeman 1979).
* ``strength``: sum of the weights of a state's ties (Barrat et al. 2004).
* ``betweenness``: Freeman's (1977) betweenness, normalized by ``(n-1)(n-2)``,
  on shortest paths where an edge's length is ``1/weight`` (Newman 2001;
  Opsahl et al. 2010), computed with Brandes' (2001) algorithm. It equals
  ``networkx.betweenness_centrality(G, weight=<1/weight>, normalized=True)``.
* ``closeness``: Freeman (1979) closeness on the same distances, with the
  Wasserman & Faust (1994) correction for graphs that are not connected; equals
  ``networkx.closeness_centrality(G, distance=<1/weight>)``.
* ``eigenvector``: Bonacich (1972) eigenvector centrality with weight as
  strength, computed separately in each connected component (Euclidean norm 1
  within the component; isolates 0), because on a disconnected graph the
  leading eigenvector of the whole graph gives zeros outside one component.
* ``pagerank``: Brin & Page (1998), damping 0.85, weight as strength.
* ``community``: Louvain communities (Blondel et al. 2008), seed 42,
  resolution 1, weight as strength; numbered 1, 2, ... in the order of each
  community's alphabetically first member.

Betweenness and closeness come from Brandes' algorithm over dense numpy arrays
(the state networks have at most a few hundred nodes): scipy's Dijkstra for
the distances, then per source two triangular solves for path counts and
dependencies; the networkx functions are the reference, and
``engine="networkx"`` uses them directly (the tests check that both agree).
Louvain replays ``networkx.community.louvain_communities`` (same steps, random
draws and float operations) on plain dicts; ``engine="networkx"`` calls it.
A series of networks is measured in forked worker processes when it is large
(:func:`parallel_map`): the same code, so the same numbers. A series of exercise
networks (``--by-year``, ``--window``) is measured straight from the grouped query's
rows, without networkx graphs, the workers measuring early years while later ones
are read (:func:`_exercise_series`); the tests check it against each window alone.

>>> import networkx as nx
>>> G = nx.Graph(); G.add_edge("AAA", "BBB", weight=1.0); G.add_edge("BBB", "CCC", weight=1.0)
>>> node_metrics(G)["BBB"]["betweenness"]
1.0
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from kg.citation import DEFINITIONS, citation_block, format_citation
from kg.errors import ComputationError, UsageError
from kg.escape import csv_row
from kg.results import format_rows, number_text

__all__ = [
    "COLUMNS",
    "DEFINITIONS",
    "MetricsResult",
    "node_metrics",
    "path_metrics",
    "focus_metrics",
    "metrics",
    "format_metrics",
    "FORMATS",
    "CENTRALITY_WINDOW",
    "focus_by_year",
    "top_partners",
    "focus_window_metrics",
    "parallel_map",
    "ForkedMap",
    "PARALLEL_MIN_EDGES",
]

COLUMNS = ("state", "degree", "strength", "betweenness", "closeness", "eigenvector",
           "pagerank", "community")
FORMATS = ("table", "csv", "json", "md", "latex")
LOUVAIN_SEED = 42
PAGERANK_ALPHA = 0.85


# ---------------------------------------------------------------- per-node metrics

def _edge_arrays(nodes: list, G):
    """The edges of ``G`` as arrays ``(us, vs, ws)``: end indices into ``nodes`` (``us <=
    vs``) and float weights (``weight``, default 1), each edge once."""
    return _edge_arrays_of(nodes, {u: {v: d.get("weight", 1.0) for v, d in nbrs.items()}
                                   for u, nbrs in G.adjacency()})


def _edge_arrays_of(nodes: list, adj: dict):
    """The edges of the weights ``adj`` (``{u: {v: weight}}``) as :func:`_edge_arrays` gives
    them, read from each node's adjacency in the order of ``adj``."""
    from itertools import chain

    import numpy as np

    idx = {v: i for i, v in enumerate(nodes)}
    sizes = [len(nbrs) for nbrs in adj.values()]
    total = sum(sizes)
    ends = np.fromiter(map(idx.__getitem__, chain.from_iterable(adj.values())), dtype=np.intp,
                       count=total)
    weights = np.fromiter(chain.from_iterable(nbrs.values() for nbrs in adj.values()),
                          dtype=float, count=total)  # each weight as float(weight)
    starts = np.repeat(np.fromiter(map(idx.__getitem__, adj), dtype=np.intp, count=len(adj)),
                       sizes)
    first = ends >= starts  # each edge once: from its end that comes first
    return starts[first], ends[first], weights[first]


def _dependencies(trtrs, pi, pj, m1, na):
    """Brandes' dependencies ``delta`` of one source, from its shortest-path DAG ``pi -> pj``
    (positions in distance order, the source first), by two triangular solves.

    ``m1`` (Fortran order) and ``na`` are zero square matrices of the reachable nodes; they
    are zero again on return.
    """
    import numpy as np

    # (I - dag^T) sigma = e_s (unit diagonal): the transposed DAG, negated, in Fortran order
    m1[pj, pi] = -1.0
    rhs = np.zeros(len(m1))
    rhs[0] = 1.0  # the source (distance 0)
    sigma, info = trtrs(m1, rhs, lower=1, trans=0, unitdiag=1)
    m1[pj, pi] = 0.0
    # (I - a) delta = a 1, a[v, w] = sigma_v / sigma_w on the DAG's ties:
    # delta[v] = sum over w after v of sigma_v/sigma_w (1 + delta_w). Filled negated
    # (na = -a): negation is exact, so -(row sums of na) + 0.0 are the row sums of a,
    # bit for bit (+ 0.0 turns a -0.0 into 0.0)
    na[pi, pj] = -(sigma[pi] / sigma[pj])
    b = na.sum(axis=1)
    np.negative(b, out=b)
    b += 0.0
    delta, info2 = trtrs(na.T, b, lower=1, trans=1, unitdiag=1)
    na[pi, pj] = 0.0
    if info or info2:
        raise ComputationError(f"Brandes' systems failed (LAPACK info {info}, {info2})")
    return delta


def _on_shortest_paths(n: int, us, vs, ws, lw, hubs: int = 8):
    """The edges that can lie on a shortest path (length ``lw`` = 1/weight, no self-loops):
    those not longer than the way through one of the ``hubs`` strongest nodes.

    An edge longer than such a detour by more than rounding is never a tie of a shortest
    path (Dijkstra's float distances obey ``dist[v] <= dist[x] + length`` over every edge,
    so ``dist[v]`` is at most the float sum through the hub, within a few ulps of the real
    one; the margin kept, 1e-9 of ``n`` times the longest edge, is far beyond them). It
    neither sets a distance nor passes the tie test, so Dijkstra without it gives the same
    floats, and Brandes the same ties. In the dense yearly networks about 95% of the
    edges go.
    """
    import numpy as np

    if len(us) == 0 or n < 3:
        return us, vs, lw
    strength = np.zeros(n)
    np.add.at(strength, us, ws)
    np.add.at(strength, vs, ws)
    top = np.argsort(-strength, kind="stable")[:hubs]
    to_hub = np.full((n, len(top)), np.inf)  # length of the edge from each node to each hub
    col = np.full(n, -1)
    col[top] = np.arange(len(top))
    for a, b in ((us, vs), (vs, us)):
        at = np.flatnonzero(col[b] >= 0)
        to_hub[a[at], col[b[at]]] = lw[at]
    detour = np.min(to_hub[us] + to_hub[vs], axis=1)
    keep = lw <= detour + 1e-9 * n * float(lw.max())
    return us[keep], vs[keep], lw[keep]


def _as_short_as_their_distance(us, vs, lw, dist_all):
    """The edges no longer than their ends' distance (``dist_all``, all pairs): only those
    can lie on a shortest path.

    The tie test (``dist[u] + length == dist[v]``, in floats) fails for an edge longer
    than that distance by more than rounding: Dijkstra's distances obey ``dist[v] <=
    dist[x] + length`` over every edge, so ``dist[v]`` is at most the sum along the
    shorter route, each sum within 2n ulps of the real one; 1e-9 of the longest
    distance is far beyond that. Left out, such edges change no tie.
    """
    import numpy as np

    longest = float(dist_all[np.isfinite(dist_all)].max()) if len(us) else 0.0
    short = lw <= dist_all[us, vs] + 1e-9 * longest
    return us[short], vs[short], lw[short]


def _dag_ties(block, first: int, us, vs, lw, ranks, connected: bool):
    """The shortest-path DAG ties of the sources ``first, first + 1, ...`` (the rows of
    ``block`` of the distances): ``(pi, pj, bounds)``, the ties ``pi -> pj`` as positions
    in each source's distance order, those of the k-th source at ``bounds[k]:bounds[k+1]``
    (within a source in no particular order: each system is filled by assignment)."""
    import numpy as np

    du, dv = block[:, us], block[:, vs]
    # the tie u -> v (resp. v -> u) lies on a shortest path from source s
    fwd = du + lw == dv
    bwd = dv + lw == du
    if not connected:  # from an unreachable end, inf + length == inf is no path
        fwd &= np.isfinite(du)
        bwd &= np.isfinite(dv)
    rf, kf = np.nonzero(fwd)
    rb, kb = np.nonzero(bwd)
    src = np.concatenate([rf, rb])
    by_src = np.argsort(src, kind="stable")
    src = src[by_src]
    rows = src + first
    pi = ranks[rows, np.concatenate([us[kf], vs[kb]])[by_src]]
    pj = ranks[rows, np.concatenate([vs[kf], us[kb]])[by_src]]
    return pi, pj, np.searchsorted(src, np.arange(len(block) + 1)).tolist()


def _brandes_dense(nodes: list, G, edges=None, *, prune: bool = True) -> tuple[dict, dict]:
    """Betweenness (normalized) and closeness with distance = 1/weight (Brandes 2001).

    All shortest distances come from scipy's Dijkstra (``scipy.sparse.csgraph``),
    whose distances are the same floats networkx computes (each is the minimum
    over neighbours of ``dist[v] + 1/weight``). Per source, the shortest-path
    DAG (``dist[v] + length(v, w) == dist[w]``, exact float equality as in
    networkx) is ordered by distance; path counts ``sigma`` and Brandes'
    dependencies ``delta`` are then two triangular linear systems, solved in
    compiled code (LAPACK ``trtrs``) instead of a Python loop over the nodes.
    The DAG's ties are found for many sources at once, over the edges only,
    and the systems are filled from them (the DAG has about one tie per node).

    :param prune: leave out the edges that cannot lie on a shortest path (the same
        floats, far fewer edges in a dense network); False keeps every edge (the
        reference the tests compare with).
    """
    import numpy as np
    from scipy.linalg import get_lapack_funcs
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = len(nodes)
    us, vs, ws = _edge_arrays(nodes, G) if edges is None else edges
    keep = us != vs  # a self-loop is never on a shortest path
    us, vs, ws = us[keep], vs[keep], ws[keep]
    if n == 0:
        return {}, {}
    bet, clo = np.zeros(n), np.zeros(n)
    lw = 1.0 / ws
    if prune:  # the same distances, fewer edges (the tests compare with prune=False)
        us, vs, lw = _on_shortest_paths(n, us, vs, ws, lw)
    # the ties both ways as a sparse matrix; Dijkstra's distances are the same floats
    # whichever correct implementation settles the nodes (each the least left-to-right sum)
    graph = csr_matrix((np.concatenate([lw, lw]), (np.concatenate([us, vs]),
                                                   np.concatenate([vs, us]))), shape=(n, n))
    dist_all = dijkstra(graph, directed=True)
    connected = bool(np.isfinite(dist_all).all())
    if prune:  # only these can be ties
        us, vs, lw = _as_short_as_their_distance(us, vs, lw, dist_all)
    (trtrs,) = get_lapack_funcs(("trtrs",), (dist_all,))
    # the two systems' matrices for a source reaching every node, zero again after each use
    m1_full = np.zeros((n, n), order="F")
    a_full = np.zeros((n, n))
    chunk = max(1, 150_000 // max(1, len(lw)))  # sources per block of tie tests (in cache)
    # per source, the nodes by distance (stable: ties by index; unreachable ones last)
    orders = np.argsort(dist_all, axis=1, kind="stable")
    ranks = np.empty_like(orders)
    np.put_along_axis(ranks, orders, np.arange(n)[None, :].repeat(n, axis=0), axis=1)
    reaches = np.isfinite(dist_all).sum(axis=1)
    # each source's sum of distances: a row's sum is the sum of that row alone
    totals = dist_all.sum(axis=1) if connected else None
    for first in range(0, n, chunk):
        block = dist_all[first:first + chunk]
        pi_all, pj_all, bounds = _dag_ties(block, first, us, vs, lw, ranks, connected)
        for s in range(first, first + len(block)):
            reach = int(reaches[s])
            if totals is not None:
                tot = float(totals[s])
            else:
                dist = dist_all[s]
                tot = float(dist[np.isfinite(dist)].sum())
            if tot > 0.0 and n > 1:
                clo[s] = (reach - 1.0) / tot * ((reach - 1.0) / (n - 1))
            if reach < 2:
                continue
            order = orders[s, :reach]  # the reachable nodes, as argsort of them alone
            # DAG in distance order: pi -> pj, only above the diagonal (lengths are positive)
            lo, hi = bounds[s - first], bounds[s - first + 1]
            pi, pj = pi_all[lo:hi], pj_all[lo:hi]
            if reach == n:
                delta = _dependencies(trtrs, pi, pj, m1_full, a_full)
            else:
                delta = _dependencies(trtrs, pi, pj, np.zeros((reach, reach), order="F"),
                                      np.zeros((reach, reach)))
            bet[order[1:]] += delta[1:]
    if n - 1 >= 2:
        bet *= 1.0 / ((n - 1) * (n - 2))
    return ({v: float(bet[i]) for i, v in enumerate(nodes)},
            {v: float(clo[i]) for i, v in enumerate(nodes)})


def _brandes_networkx(G) -> tuple[dict, dict]:
    import networkx as nx

    H = nx.Graph()
    H.add_nodes_from(sorted(G.nodes))
    for u, v, d in sorted(G.edges(data=True)):
        H.add_edge(u, v, distance=1.0 / float(d.get("weight", 1.0)))
    bet = nx.betweenness_centrality(H, weight="distance", normalized=True)
    clo = nx.closeness_centrality(H, distance="distance")
    return bet, clo


def _pagerank(nodes: list, G, alpha: float = PAGERANK_ALPHA, max_iter: int = 100,
              tol: float = 1.0e-6, edges=None) -> dict:
    """PageRank by power iteration, as networkx computes it (uniform teleport, dangling nodes)."""
    import numpy as np

    n = len(nodes)
    if n == 0:
        return {}
    us, vs, ws = _edge_arrays(nodes, G) if edges is None else edges
    A = np.zeros((n, n))
    A[us, vs] = ws  # each edge once: the same values as adding to zeros
    keep = us != vs
    A[vs[keep], us[keep]] = ws[keep]
    S = A.sum(axis=1)
    nz = S != 0
    A[nz] = A[nz] / S[nz][:, None]
    dangling = ~nz
    p = np.full(n, 1.0 / n)
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        xlast = x
        x = alpha * (x @ A + x[dangling].sum() * p) + (1 - alpha) * p
        if np.abs(x - xlast).sum() < n * tol:
            break
    else:
        raise ComputationError(f"PageRank did not converge in {max_iter} iterations")
    return {v: float(x[i]) for i, v in enumerate(nodes)}


def _eigenvector_per_component(G, max_iter: int = 10000, tol: float = 1.0e-10,
                               nodes: list | None = None, edges=None) -> dict:
    """Eigenvector centrality in each connected component (power iteration on A + I,
    as ``networkx.eigenvector_centrality`` does; Euclidean norm 1 per component).

    :param G: the network, or None when ``nodes`` and ``edges`` are given.
    :param nodes: ``sorted(G.nodes)``, with ``edges`` from :func:`_edge_arrays` on them
        (computed when None). The components come from the edges (the same node sets
        as ``networkx.connected_components``; each is measured on its own)."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    if nodes is None:
        nodes = sorted(G.nodes)
    us, vs, ws = _edge_arrays(nodes, G) if edges is None else edges
    W = np.zeros((len(nodes), len(nodes)))  # the ties, self-loops left out
    keep = us != vs
    W[us[keep], vs[keep]] = ws[keep]
    W[vs[keep], us[keep]] = ws[keep]
    out = dict.fromkeys(nodes, 0.0)
    if not len(nodes):
        return out
    links = csr_matrix((np.ones(len(us)), (us, vs)), shape=(len(nodes), len(nodes)))
    _, labels = connected_components(links, directed=False)
    sizes = np.bincount(labels)
    for label in np.flatnonzero(sizes >= 2):
        at = np.flatnonzero(labels == label)  # positions in nodes: the members sorted
        members = [nodes[i] for i in at]
        idx = {v: i for i, v in enumerate(members)}
        n = len(members)
        A = W[np.ix_(at, at)]
        x = np.full(n, 1.0 / n)
        for _ in range(max_iter):
            xlast = x
            x = xlast + A @ xlast
            x = x / np.linalg.norm(x)
            if np.abs(x - xlast).sum() < n * tol:
                break
        else:
            raise ComputationError(f"eigenvector centrality did not converge in {max_iter} iterations")
        out.update({v: float(x[i]) for v, i in idx.items()})
    return out


def _edge_list(nodes, adj):
    """The edges ``(u, v, w)`` in the order ``networkx.Graph.edges`` reports them."""
    seen = set()
    out = []
    for u in nodes:
        for v, w in adj[u].items():
            if v not in seen:
                out.append((u, v, w))
        seen.add(u)
    return out


def _weighted_degrees(nodes, adj) -> list:
    """Weighted degrees in node order, a self-loop counted twice (as ``G.degree(weight=...)``)."""
    out = []
    for u in nodes:
        nbrs = adj[u]
        d = sum(nbrs.values())
        if u in nbrs:
            d = d + nbrs[u]
        out.append(d)
    return out


def _modularity(nodes, adj, communities) -> float:
    """Newman's modularity (resolution 1) in the arithmetic order of
    ``networkx.community.modularity`` (Newman 2011)."""
    deg = dict(zip(nodes, _weighted_degrees(nodes, adj), strict=True))
    deg_sum = sum(deg.values())
    m = deg_sum / 2
    norm = 1 / deg_sum**2
    total = 0
    for community in communities:
        comm = set(community)
        seen = set()
        inner = 0
        for u in comm:
            for v, w in adj[u].items():
                if v not in seen and v in comm:
                    inner += w
            seen.add(u)
        dsum = sum(deg[u] for u in comm)
        total += inner / m - dsum * dsum * norm
    return total


def _louvain_level(nodes, adj, members, m, partition, rng, keep_weights: bool = True,
                   whole: bool | None = None):
    """One level of Louvain's local moves (``networkx`` ``_one_level``, undirected, resolution 1);
    ``keep_weights=False`` recomputes each node's weights to the communities at each visit
    (the reference the tests compare :class:`_CommunityWeights` with). ``whole`` says
    whether every weight is a positive whole number (:func:`_whole_positive`; checked
    here when None)."""
    at = {u: i for i, u in enumerate(nodes)}
    node2com = list(range(len(nodes)))  # by position in nodes
    inner = [{u} for u in nodes]
    degrees = _weighted_degrees(nodes, adj)
    stot = list(degrees)
    nbrs = [[(at[v], w) for v, w in adj[u].items() if v != u] for u in nodes]
    rand_nodes = list(range(len(nodes)))
    rng.shuffle(rand_nodes)
    denom = 2 * m**2
    nb_moves = 1
    improvement = False
    # with whole positive weights every sum below is exact, whatever its order: each node's
    # weights to the communities are then kept up to date as nodes move (_CommunityWeights)
    if whole is None:
        whole = _whole_positive(nbrs, m)
    kept = _CommunityWeights(nbrs) if keep_weights and whole else None
    while nb_moves > 0:
        nb_moves = 0
        for i in rand_nodes:
            own = node2com[i]
            degree = degrees[i]
            if kept is not None:
                best_com = kept.best(i, own, node2com, stot, degree, m, denom)
            else:
                best_mod = 0
                best_com = own
                w2c: dict = {}
                get = w2c.get
                for j, w in nbrs[i]:
                    c = node2com[j]
                    w2c[c] = get(c, 0.0) + w
                w_own = get(own)
                if w_own is None:  # networkx reads a defaultdict here, which adds the key
                    w_own = w2c[own] = 0.0
                stot[own] -= degree
                remove_cost = -w_own / m + (stot[own] * degree) / denom
                for c, w in w2c.items():
                    gain = remove_cost + w / m - (stot[c] * degree) / denom
                    if gain > best_mod:
                        best_mod = gain
                        best_com = c
            stot[best_com] += degree
            if best_com != own:
                if kept is not None:
                    kept.move(i, own, best_com)
                u = nodes[i]
                com = members[u] if members is not None else {u}
                partition[own].difference_update(com)
                inner[own].remove(u)
                partition[best_com].update(com)
                inner[best_com].add(u)
                improvement = True
                nb_moves += 1
                node2com[i] = best_com
    return list(filter(len, partition)), list(filter(len, inner)), improvement


def _whole_positive(nbrs, m) -> bool:
    """Whether every weight is a positive whole float and their total is small enough for
    exact float sums (below 2**52)."""
    return m < 2.0**51 and all(type(w) is float and w > 0 and w.is_integer()
                               for lst in nbrs for _, w in lst)


class _CommunityWeights:
    """Each node's weights to the communities of its neighbours, kept as nodes move, for
    Louvain's local moves when every weight is a positive whole number (sums exact in any
    order, so each equals the sum networkx accumulates over the neighbours in order).

    :meth:`best` gives the community networkx's ``_one_level`` picks: the first, in the
    order the communities first appear among the neighbours (the node's own community
    last when none of them is in it), with the greatest positive gain, or its own.
    """

    def __init__(self, nbrs):
        self.nbrs = nbrs
        self.weights = [{j: w for j, w in lst} for lst in nbrs]  # each node its own community

    def best(self, i, own, node2com, stot, degree, m, denom):
        """The community node ``i`` moves to (its own to stay); ``stot[own]`` is lowered by
        its degree, as networkx does before it weighs the moves."""
        k = self.weights[i]
        w_own = k.get(own, 0.0)
        stot[own] -= degree
        remove_cost = -w_own / m + (stot[own] * degree) / denom
        best_mod = 0
        best_com = own
        tied = []
        for c, w in k.items():
            gain = remove_cost + w / m - (stot[c] * degree) / denom
            if gain > best_mod:
                best_mod = gain
                best_com = c
                tied = []
            elif gain == best_mod and best_mod > 0:
                tied.append(c)
        if own not in k:  # networkx weighs it last, with weight 0.0
            gain = remove_cost + 0.0 / m - (stot[own] * degree) / denom
            if gain > best_mod:
                return own
        if tied:  # equal gains: the community that comes first among the neighbours
            tied.append(best_com)
            for j, _ in self.nbrs[i]:
                if node2com[j] in tied:
                    return node2com[j]
        return best_com

    def move(self, i, old, new):
        """Node ``i`` moved from community ``old`` to ``new``: its neighbours' weights."""
        weights = self.weights
        for j, w in self.nbrs[i]:
            k = weights[j]
            rest = k[old] - w
            if rest == 0.0:  # (whole positive weights: no other neighbour of j is in old)
                del k[old]
            else:
                k[old] = rest
            k[new] = k.get(new, 0.0) + w


def _louvain_aggregate(nodes, adj, members, inner):
    """The graph of communities (``networkx`` ``_gen_graph``): nodes 0..k-1, summed weights."""
    node2com = {}
    new_members = []
    for i, part in enumerate(inner):
        merged = set()
        for u in part:
            node2com[u] = i
            merged.update(members[u] if members is not None else {u})
        new_members.append(merged)
    new_nodes = list(range(len(inner)))
    new_adj: dict = {i: {} for i in new_nodes}
    for u, v, w in _edge_list(nodes, adj):
        cu, cv = node2com[u], node2com[v]
        total = w + new_adj[cu].get(cv, 0)
        new_adj[cu][cv] = total
        new_adj[cv][cu] = total
    return new_nodes, new_adj, dict(zip(new_nodes, new_members, strict=True))


def _louvain(nodes: list, adj: dict, seed: int = LOUVAIN_SEED,
             threshold: float = 0.0000001, keep_weights: bool = True) -> list[set]:
    """Louvain communities (Blondel et al. 2008) of a canonical graph from :func:`node_metrics`
    (``nodes`` and each adjacency of the weights ``adj`` sorted, float weights).

    The same steps, random draws and floating-point operations as
    ``networkx.community.louvain_communities(H, weight="weight", resolution=1,
    threshold=threshold, seed=seed)`` (networkx 3.6), on plain dicts instead of
    networkx graphs (the tests check that both give the same communities).
    """
    import random

    rng = random.Random(seed)
    # networkx copies H edge by edge; H's adjacencies are sorted, so the copy's are H's
    partition = [{u} for u in nodes]
    if not any(adj.values()):  # no edges
        return partition
    mod = _modularity(nodes, adj, partition)
    m = sum(_weighted_degrees(nodes, adj)) / 2
    members = None
    # the weights of the graphs of communities are sums of the first graph's, all below
    # 2 * m: whole and positive when those are (checked once, not at each level)
    whole = _whole_positive([list(adj[u].items()) for u in nodes], m) if keep_weights else False
    partition, inner, improvement = _louvain_level(nodes, adj, members, m, partition, rng,
                                                   keep_weights, whole)
    improvement = True
    result = partition
    while improvement:
        result = [s.copy() for s in partition]
        new_mod = _modularity(nodes, adj, inner)
        if new_mod - mod <= threshold:
            return result
        mod = new_mod
        nodes, adj, members = _louvain_aggregate(nodes, adj, members, inner)
        partition, inner, improvement = _louvain_level(nodes, adj, members, m, partition, rng,
                                                       keep_weights, whole)
    return result


def _weights(H) -> dict:
    """``{u: {v: weight}}`` in H's adjacency order."""
    return {u: {v: d["weight"] for v, d in nbrs.items()} for u, nbrs in H.adjacency()}


def _communities(nodes: list, adj: dict, engine: str = "auto", G=None) -> dict:
    """Louvain communities numbered as :data:`DEFINITIONS` says (``G``, the networkx form,
    is needed for ``engine="networkx"`` only)."""
    if not nodes:
        return {}
    if engine == "networkx":
        import networkx as nx

        comms = nx.community.louvain_communities(G, weight="weight", resolution=1,
                                                  seed=LOUVAIN_SEED)
    else:
        comms = _louvain(nodes, adj)
    ordered = sorted((sorted(c) for c in comms), key=lambda c: c[0])
    return {v: i + 1 for i, c in enumerate(ordered) for v in c}


def _is_canonical(G, nodes: list) -> bool:
    """Whether ``G`` reads exactly like the canonical copy :func:`node_metrics` makes: nodes
    in sorted order, each node's neighbours in sorted order, every weight a float.

    The copy adds the sorted nodes, then the edges sorted by (smaller, larger) end, so
    each adjacency comes out sorted; a graph with the same orders gives the same numbers.
    """
    if list(G) != nodes:
        return False
    for _, nbrs in G.adjacency():
        order = list(nbrs)
        if order != sorted(order):
            return False
        if not all(type(d.get("weight")) is float for d in nbrs.values()):
            return False
    return True


def node_metrics(G, *, engine: str = "auto") -> dict[str, dict]:
    """Per node: degree, strength, betweenness, closeness, eigenvector, pagerank, community.

    :param G: an undirected ``networkx.Graph`` with a ``weight`` on each edge.
    :param engine: ``auto`` (one dense Brandes pass in numpy for graphs up to
        2000 nodes), or ``networkx`` (the reference functions).
    :returns: ``{node: {metric: value}}``, nodes sorted. See :data:`DEFINITIONS`.

    >>> import networkx as nx
    >>> node_metrics(nx.star_graph(3))[0]["degree"]
    3
    """
    if engine not in ("auto", "networkx"):
        raise UsageError(f"unknown engine {engine!r}")
    nodes, H = _canonical(G)
    return _node_metrics_of(nodes, _weights(H), engine, H)


def _node_metrics_of(nodes: list, adj: dict, engine: str = "auto", H=None,
                     edges=None) -> dict[str, dict]:
    """:func:`node_metrics` of a network in canonical form: ``nodes`` sorted and ``adj``
    (``{u: {v: float weight}}``) with each adjacency sorted, as :func:`_weights` reads
    the canonical graph ``H`` (made from them when None and needed: the networkx engine,
    or more than 2000 nodes); ``edges`` as :func:`_edge_arrays_of` reads ``adj`` (read
    when None)."""
    if H is None and (engine == "networkx" or len(nodes) > 2000):
        H = _graph_of(nodes, adj)
    if edges is None:
        edges = _edge_arrays_of(nodes, adj)  # read once for the dense computations
    bet, clo = _betweenness_closeness(nodes, H, edges, engine)
    eig = _eigenvector_per_component(None, nodes=nodes, edges=edges)
    pr = _pagerank(nodes, None, edges=edges)
    com = _communities(nodes, adj, engine, H)
    # degree and strength as H.degree gives them (a self-loop counted twice)
    strength = dict(zip(nodes, _weighted_degrees(nodes, adj), strict=True))
    out = {}
    for v in nodes:
        nbrs = adj[v]
        out[v] = {
            "degree": len(nbrs) + (v in nbrs),
            "strength": float(strength[v]),
            "betweenness": bet[v],
            "closeness": clo[v],
            "eigenvector": eig[v],
            "pagerank": pr[v],
            "community": com[v],
        }
    return out


def _canonical(G) -> tuple[list, object]:
    """``(sorted nodes, H)``: ``G`` in canonical form (sorted nodes and edges, so results do
    not depend on insertion order). A network already in that form (as :mod:`kg.network`
    builds them) is used as it is, not copied."""
    nodes = sorted(G.nodes)
    if _is_canonical(G, nodes):
        return nodes, G
    H = _graph_of(nodes, None, (
        (u, v, float(d.get("weight", 1.0))) for u, v, d in
        sorted((min(u, v), max(u, v), d) for u, v, d in G.edges(data=True))))
    return nodes, H


def _graph_of(nodes: list, adj: dict | None, edges=None):
    """The canonical networkx graph of ``nodes`` and the weights ``adj`` (or of ``edges``,
    ``(u, v, weight)`` sorted with ``u <= v``): sorted nodes, then the edges in order."""
    import networkx as nx

    if edges is None:
        edges = ((u, v, w) for u, nbrs in adj.items() for v, w in nbrs.items() if u <= v)
    H = nx.Graph()
    H.add_nodes_from(nodes)
    H.add_edges_from((u, v, {"weight": w}) for u, v, w in edges)
    return H


def _betweenness_closeness(nodes: list, H, edges, engine: str = "auto") -> tuple[dict, dict]:
    """Betweenness and closeness: Brandes over dense arrays, or networkx's functions on
    ``H`` (``engine="networkx"``, or more than 2000 nodes)."""
    if engine == "networkx" or len(nodes) > 2000:
        return _brandes_networkx(H)
    return _brandes_dense(nodes, H, edges)


def _canonical_brandes(G, engine: str = "auto", *, with_edges: bool = False):
    """A canonical form of ``G`` (:func:`_canonical`) with its betweenness and closeness:
    ``(nodes, H, bet, clo)``, and the edge arrays (:func:`_edge_arrays`) last with
    ``with_edges``."""
    nodes, H = _canonical(G)
    edges = _edge_arrays(nodes, H)  # read once for the dense computations
    bet, clo = _betweenness_closeness(nodes, H, edges, engine)
    return (nodes, H, bet, clo, edges) if with_edges else (nodes, H, bet, clo)


def path_metrics(G) -> dict[str, dict]:
    """Per node: degree, betweenness and closeness only, the same values as :func:`node_metrics`.

    For series that list no more (:func:`focus_by_year`): eigenvector, PageRank and
    Louvain communities are not computed.

    >>> import networkx as nx
    >>> path_metrics(nx.path_graph(["AAA", "BBB", "CCC"]))["BBB"]
    {'degree': 2, 'betweenness': 1.0, 'closeness': 1.0}
    """
    nodes, H, bet, clo = _canonical_brandes(G)
    return {v: {"degree": H.degree(v), "betweenness": bet[v], "closeness": clo[v]}
            for v in nodes}


def focus_metrics(G, focus: str, nodes: dict | None = None) -> dict:
    """Ego metrics of one state: its metrics, partner shares, HHI and (exercises) the US share.

    :param G: a network from :func:`kg.network.build_network`.
    :param focus: ISO3 code of the focal state.
    :param nodes: precomputed :func:`node_metrics` (computed when None).
    :returns: a dict with ``state``, ``present``, the node metrics, ``partners``
        (list of ``{"state", "weight", "share"}``, largest share first), ``hhi``,
        ``hhi_normalized``, ``ego_density`` (density among the partners) and, when the
        network has exercise ties, ``exercises``, ``with_us`` and ``us_share``.

    >>> import networkx as nx
    >>> G = nx.Graph(); G.add_edge("JPN", "USA", weight=3.0); G.add_edge("JPN", "AUS", weight=1.0)
    >>> focus_metrics(G, "JPN")["hhi"]
    0.625
    """
    if focus not in G:
        return _focus_of(focus, None, {}, 0, None, None)
    nm = (nodes or node_metrics(G))[focus]
    weights = {p: float(G[focus][p].get("weight", 1.0)) for p in G[focus] if p != focus}
    ego_edges = G.subgraph(weights).number_of_edges()
    n_ex = G.nodes[focus].get("exercises")
    us_tie = None
    if "USA" in G[focus]:
        e = G[focus]["USA"]
        us_tie = e.get("exercise_weight", e.get("weight", 0))
    return _focus_of(focus, nm, weights, ego_edges, n_ex, us_tie)


def _focus_of(focus: str, nm: dict | None, weights: dict, ego_edges: int, n_ex, us_tie) -> dict:
    """:func:`focus_metrics` from what it reads of the network.

    :param nm: the focal state's node metrics, or None when it is not in the network.
    :param weights: ``{partner: float weight}`` in the order of its adjacency (no self-loop).
    :param ego_edges: the number of edges among the partners.
    :param n_ex: the focal state's ``exercises`` attribute, or None without one.
    :param us_tie: the exercise weight of its tie with the United States (None: no tie).
    """
    out: dict = {"state": focus, "present": nm is not None}
    if nm is None:
        out.update({"degree": 0, "strength": 0.0, "partners": [], "hhi": None,
                    "hhi_normalized": None, "ego_density": None})
        return out
    out.update(nm)
    total = sum(weights.values())
    partners = []
    for p, w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])):
        partners.append({"state": p, "weight": w, "share": w / total if total else 0.0})
    out["partners"] = partners
    if total > 0:
        hhi = sum(x["share"] ** 2 for x in partners)
        k = len(partners)
        out["hhi"] = hhi
        out["hhi_normalized"] = (hhi - 1.0 / k) / (1.0 - 1.0 / k) if k > 1 else 1.0
    else:
        out["hhi"] = None
        out["hhi_normalized"] = None
    out["ego_density"] = _density(len(weights), ego_edges) if len(weights) > 1 else None
    if n_ex is not None:
        n_ex = int(n_ex)
        with_us = 0
        if focus == "USA":
            with_us = n_ex
        elif us_tie is not None:
            with_us = int(us_tie)
        out["exercises"] = n_ex
        out["with_us"] = with_us
        out["us_share"] = with_us / n_ex if n_ex else None
    return out


def _density(n: int, m: int):
    """The density of an undirected graph of ``n`` nodes and ``m`` edges, as
    ``networkx.density`` computes it (the integer 0 without edges or with one node).

    >>> _density(3, 2)
    0.6666666666666666
    """
    if m == 0 or n <= 1:
        return 0
    d = m / (n * (n - 1))
    d *= 2
    return d


# ---------------------------------------------------------------- many networks at once

#: Least total number of edges over the networks to measure for :func:`parallel_map` to
#: use worker processes (below it, starting them costs more than it saves).
PARALLEL_MIN_EDGES = 40_000


def _cores() -> int:
    """The cores this process may run on (at least 1)."""
    import os

    return (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count()) or 1


def parallel_map(fn, graphs, meanwhile=None) -> list:
    """``[fn(G) for G in graphs]``, spread over forked worker processes when the machine
    has more than one core and the networks hold :data:`PARALLEL_MIN_EDGES` edges or more.

    The workers are forks of this process: they inherit ``fn`` and the networks (nothing
    is sent but an index) and run the same code, so the values are the ones computed
    here; only each network's results travel back. Without ``fork`` (or on one core)
    everything runs here.

    :param meanwhile: called once, here, while the workers compute (or first, without them).

    >>> import networkx as nx
    >>> parallel_map(len, [nx.path_graph(3)])
    [3]
    """
    from kg.basestore import can_fork

    graphs = list(graphs)
    workers = min(_cores(), len(graphs))
    if (workers < 2 or not can_fork()
            or sum(G.number_of_edges() for G in graphs) < PARALLEL_MIN_EDGES):
        if meanwhile is not None:
            meanwhile()
        return [fn(G) for G in graphs]
    work = ForkedMap(fn, graphs, workers)
    try:
        if meanwhile is not None:
            meanwhile()
        return work.get()
    finally:
        work.close()


class ForkedMap:
    """``[fn(x) for x in items]`` started now in forked worker processes, collected later
    (:meth:`get`): the mechanism of :func:`parallel_map`, for callers that go on working
    meanwhile (the report draws the map while the claims' resampling runs).

    Each worker is a :class:`kg.basestore.Forked` child, made here, that computes its
    share of the items in order and sends their results back (pickled); it inherits
    ``fn`` and ``items``, and must not touch the store or threads. The items are shared
    out before they start, each to the worker with the least ``cost`` so far (callers
    give the items longest first; without ``cost`` each counts 1). A worker that fails,
    dies or is stuck (asleep without using the processor, the rule of
    :class:`kg.basestore.StallWatch`) leaves its share to be computed here, so an error
    is raised by :meth:`get` and the values never depend on the workers; a
    ``multiprocessing`` pool would wait forever for the item of a killed worker. With
    fewer than 2 ``workers`` (default: the cores, at most one per item), or without
    ``fork``, nothing starts and :meth:`get` computes here, in order. ``nice`` lowers
    the workers' priority (:func:`os.nice`), so that they take the cores this process
    leaves idle.

    >>> work = ForkedMap(len, ["ab", "c"], workers=1)
    >>> work.get()
    [2, 1]
    """

    def __init__(self, fn, items, workers: int | None = None, *, nice: int = 0, cost=None):
        import os

        from kg.basestore import Forked, can_fork

        self.fn, self.items = fn, list(items)
        self.pool = None
        workers = min(_cores() if workers is None else workers, len(self.items))
        if workers < 2 or not can_fork():
            return
        self.shares = _share_out(self.items, workers, cost)

        def run(share):
            if nice:
                os.nice(nice)
            return [fn(self.items[i]) for i in share]

        self.pool = [Forked(lambda share=share: run(share)) for share in self.shares]

    def get(self) -> list:
        """The results, in the order of the items (a worker's exception is raised here)."""
        if self.pool is None:
            return [self.fn(x) for x in self.items]
        out: list = [None] * len(self.items)
        try:
            for job, share in zip(self.pool, self.shares, strict=True):
                for i, value in zip(share, job.result(), strict=True):
                    out[i] = value
        finally:
            self.close()
        return out

    def close(self) -> None:
        """Stop the workers (done by :meth:`get`; call it when the results are not wanted)."""
        if self.pool is not None:
            for job in self.pool:
                job.close()
            self.pool = None


def _share_out(items: list, workers: int, cost=None) -> list[list[int]]:
    """The items' indices shared among ``workers``: each, in order, to the share with the
    least total ``cost(item)`` so far (ties to the first; without ``cost`` each counts 1,
    which deals them out in turn).

    >>> _share_out(list("abcde"), 2)
    [[0, 2, 4], [1, 3]]
    >>> _share_out([5, 3, 2, 1], 2, cost=lambda x: x)
    [[0, 3], [1, 2]]
    """
    shares: list[list[int]] = [[] for _ in range(workers)]
    load = [0.0] * workers
    for i, x in enumerate(items):
        k = min(range(workers), key=lambda w: load[w])
        shares[k].append(i)
        load[k] += 1.0 if cost is None else cost(x)
    return shares


def _measure_window(task) -> tuple:
    """One window's exercise network measured from its years' participant lists, without a
    networkx graph: ``(nodes, edges, node metrics, focus metrics or None)``, the values
    :func:`node_metrics` and :func:`focus_metrics` give on the network
    :func:`kg.network.build_network` builds for the window (the tests check it).

    :param task: ``(per_year, year_from, year_to, focus)``, ``per_year`` as
        :func:`kg.network.exercise_participants` gives it (``{year: [states, ...]}``).
    """
    from kg.network import exercise_arrays

    per_year, a, b, focus = task
    nodes, adj, n_ex, edges = exercise_arrays(
        [states for y in range(a, b + 1) for states in per_year.get(y, ())])
    nm = _node_metrics_of(nodes, adj, edges=edges)
    fm = None
    if focus:
        if focus in adj:
            weights = {p: w for p, w in adj[focus].items() if p != focus}
            ego_edges = sum(1 for p in weights for q in adj[p] if p <= q and q in weights)
            fm = _focus_of(focus, nm[focus], weights, ego_edges, n_ex.get(focus, 0),
                           adj[focus].get("USA"))
        else:
            fm = _focus_of(focus, None, {}, 0, None, None)
    return len(nodes), len(edges[0]), nm, fm


def _year_chunks(lo: int, hi: int, span: int = 7) -> list[tuple[int, int]]:
    """``lo..hi`` cut into consecutive ranges of years to read one after the other: the
    last two years on their own (little is left to measure once the reading ends),
    ``span`` years each before them, and what remains (3 to ``span`` + 2 years) first;
    a short series in one range. Each query costs a scan of every exercise's year, so
    the ranges are few.

    >>> _year_chunks(1990, 2025)
    [(1990, 1995), (1996, 2002), (2003, 2009), (2010, 2016), (2017, 2023), (2024, 2025)]
    >>> _year_chunks(2019, 2021)
    [(2019, 2021)]
    """
    if hi - lo + 1 <= 8:
        return [(lo, hi)]
    cuts = [(hi - 1, hi)]
    b = hi - 2
    while b >= lo:
        a = max(lo, b - span + 1)
        if a - lo < 3:  # a short rest joins the first range
            a = lo
        cuts.append((a, b))
        b = a - 1
    return cuts[::-1]


def _prefetch_imports():
    """Import the modules the measuring needs (they are read once, before the workers fork)."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    import scipy.sparse.csgraph  # noqa: F401


def _task(per_year: dict, window: tuple[int, int], focus) -> tuple:
    """The argument of :func:`_measure_window` for one window."""
    a, b = window
    return ({y: per_year[y] for y in range(a, b + 1) if y in per_year}, a, b, focus)


def _fork_pool(workers: int):
    """``workers`` forked processes, all forked now (they only compute: no store, no
    threads), as a :class:`concurrent.futures.ProcessPoolExecutor`; None if one died at
    once. A worker that dies (killed by a signal, the out-of-memory killer) breaks the
    pool, and each job left raises :class:`concurrent.futures.process.BrokenProcessPool`
    instead of waiting forever, as a ``multiprocessing`` pool would for the job it held."""
    import multiprocessing
    import warnings
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    with warnings.catch_warnings():  # the fork warning is about threads the children never use
        warnings.simplefilter("ignore", DeprecationWarning)
        # with fork, the first job starts every worker at once: here, before any reader
        # thread runs (later jobs fork nothing)
        try:
            pool.submit(int).result()
        except BrokenProcessPool:  # a worker died at once: no workers
            pool.shutdown(wait=True, cancel_futures=True)
            return None
    return pool


def _measured(job, task) -> tuple:
    """A worker's :func:`_measure_window` of ``task``, or the same computed here when the
    pool broke (a worker died) before it gave one: the job then fails, or is cancelled
    when the pool is shut down before the break reaches it."""
    from concurrent.futures import CancelledError
    from concurrent.futures.process import BrokenProcessPool

    try:
        return job.result()
    except (BrokenProcessPool, CancelledError):
        return _measure_window(task)


def _read_rest(read, take, chunks, *, two_at_a_time: bool) -> None:
    """``take(read(chunk), last year of chunk)`` for each chunk in order; with
    ``two_at_a_time``, two ranges are read at once, one range's rows converted while the
    engine (which releases the GIL) answers the next."""
    if not two_at_a_time or len(chunks) < 2:
        for chunk in chunks:
            take(read(chunk), chunk[1])
        return
    from kg.basestore import in_parallel

    jobs = in_parallel([lambda chunk=chunk: read(chunk) for chunk in chunks])
    for chunk, job in zip(chunks, jobs, strict=True):
        take(job.result(), chunk[1])


def _exercise_series(store, windows, focus, include_observers, graphs, meanwhile=None) -> list:
    """:func:`_measure_window` of each window ``(year_from, year_to)`` (ascending by their
    last year), reading the participants of every year from grouped queries over
    consecutive ranges of years (:func:`kg.network.exercise_participants`, whose rows
    are grouped per exercise and year, so the ranges together give the rows of all years).

    Each window is measured once its years are read: in forked worker processes when the
    machine has more than one core and the co-participant pairs of the years read,
    extrapolated to all years, reach :data:`PARALLEL_MIN_EDGES`; the workers then measure
    early years while later ones are read. Otherwise here, after the reading.

    :param meanwhile: called once, here, after the last query (while the workers compute).
    """
    from kg.cache import collector_paused

    # the rows, lists and metrics hold no reference cycles; the collector would walk them
    # again and again as they pile up (a tenth of the series' time), here and in the
    # workers forked meanwhile (they inherit the paused collector)
    with collector_paused():
        return _read_and_measure(store, windows, focus, include_observers, graphs, meanwhile)


def _read_and_measure(store, windows, focus, include_observers, graphs, meanwhile) -> list:
    """:func:`_exercise_series`, the collector paused."""
    import threading
    from concurrent.futures.process import BrokenProcessPool

    from kg.basestore import can_fork
    from kg.network import exercise_participants

    lo, hi = min(a for a, _ in windows), max(b for _, b in windows)
    cores = _cores()
    may_fork = cores > 1 and len(windows) > 1 and can_fork()
    # the imports run while the engine answers the first query (it releases the GIL); they
    # are done before any fork
    importer = threading.Thread(target=_prefetch_imports, daemon=True) if may_fork else None
    if importer is not None:
        importer.start()
    results: list = [None] * len(windows)
    waiting = list(range(len(windows)))  # windows not all read yet
    queued: list = []  # windows read, not measured yet
    per_year: dict = {}
    pairs = 0
    pool = None
    running = {}

    def read(chunk):
        return exercise_participants(store, chunk[0], chunk[1], include_observers, graphs,
                                     by_year=True)

    def take(part, last_year):  # the rows of the years up to last_year are read
        nonlocal pairs, waiting, pool, may_fork
        per_year.update(part)
        pairs += sum(len(s) * (len(s) - 1) // 2 for exs in part.values() for s in exs)
        queued.extend(i for i in waiting if windows[i][1] <= last_year)
        waiting = [i for i in waiting if windows[i][1] > last_year]
        if (pool is None and may_fork and len(queued) + len(waiting) > 1
                and pairs * (hi - lo + 1) >= PARALLEL_MIN_EDGES * (last_year - lo + 1)):
            importer.join()
            may_fork = False  # once: a pool that breaks is not forked again (threads run)
            pool = _fork_pool(min(cores, len(queued) + len(waiting)))
        while pool is not None and queued:
            i = queued.pop(0)
            task = _task(per_year, windows[i], focus)
            try:
                running[i] = (pool.submit(_measure_window, task), task)
            except BrokenProcessPool:  # a worker died already: measured here
                queued.insert(0, i)
                pool = _stopped(pool)

    chunks = _year_chunks(lo, hi)
    try:
        take(read(chunks[0]), chunks[0][1])
        # once the workers are forked (with no other thread running), the rest is read
        # two ranges at a time
        _read_rest(read, take, chunks[1:], two_at_a_time=pool is not None)
        if meanwhile is not None:
            meanwhile()
        for i in queued:  # without workers
            results[i] = _measure_window(_task(per_year, windows[i], focus))
        for i, (job, task) in running.items():
            results[i] = _measured(job, task)
    finally:
        _stopped(pool)
        if importer is not None:
            importer.join()
    return results


def _stopped(pool) -> None:
    """Shut ``pool`` down (jobs not started are cancelled; a running one ends first) and
    return None, the value of ``pool`` from then on."""
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------- the analysis

@dataclass
class MetricsResult:
    """What :func:`metrics` computed: rows per state (and period), focus metrics, citation."""

    params: dict
    periods: list[dict] = field(default_factory=list)
    citation: dict | None = None

    @property
    def series(self) -> str | None:
        """``year``, ``window`` or None (a single window)."""
        if self.params.get("by_year"):
            return "year"
        if self.params.get("window"):
            return "window"
        return None


def _year_range(store, relation, graphs) -> tuple[int, int]:
    from kg.namespaces import SPARQL_PREFIXES

    if relation == "agreement":
        # the years agreements are in force, by the one rule (kg.inforce): first year of
        # the earliest to the last known year (an open end: the latest first year)
        from kg.inforce import lifecycles

        spans = [(r.first, r.last if r.last is not None else r.first)
                 for r in lifecycles(store, graphs=graphs) if r.first is not None]
        if not spans:
            raise UsageError("no dated data in the store for this relation (give --from and --to)")
        return min(a for a, _ in spans), max(max(b for _, b in spans), max(a for a, _ in spans))
    # MIN and MAX of the exercises' years, found from the few distinct years (the join of
    # every exercise with its type costs far more): the least and the greatest year that
    # an exercise has
    from kg.sparql import Lit

    rs = store.select(SPARQL_PREFIXES + "SELECT DISTINCT ?y WHERE { ?ex sp:year ?y }",
                      graphs=graphs, own=True)
    try:
        years = sorted(((int(t.value), t) for (t,) in rs.rows if t is not None),
                       key=lambda pair: pair[0])
    except ValueError:  # a year that is no integer: leave the comparison to the engine
        years = None
    if years is None:
        text = SPARQL_PREFIXES + ("SELECT (MIN(?y) AS ?lo) (MAX(?y) AS ?hi) "
                                  "WHERE { ?ex a sp:Exercise ; sp:year ?y }")
        rs = store.select(text, graphs=graphs, own=True)
        lo, hi = rs.rows[0] if rs.rows else (None, None)
        if lo is None or hi is None:
            raise UsageError("no dated data in the store for this relation (give --from and --to)")
        return int(lo.value), int(hi.value)
    ask = SPARQL_PREFIXES + "ASK { ?ex a sp:Exercise ; sp:year ?y }"

    def dated(term) -> bool:
        return bool(store.query(ask, bindings={"y": Lit(term.value, term.datatype)},
                                graphs=graphs, own=True))

    lo = next((y for y, t in years if dated(t)), None)
    if lo is None:
        raise UsageError("no dated data in the store for this relation (give --from and --to)")
    hi = next(y for y, t in reversed(years) if dated(t))
    return lo, hi


def metrics(store, *, relation: str = "exercise", year_from: int | None = None,
            year_to: int | None = None, by_year: bool = False, window: int | None = None,
            focus: str | None = None, include_observers: bool = False,
            agreement_types: list[str] | None = None, graphs: list[str] | None = None,
            cite: bool = True, engine: str = "auto", include_pending: bool = False) -> MetricsResult:
    """Build the network(s) and measure them.

    Long on purpose: the option checks and the one loop over periods must see the same
    parameters that go into the citation block.

    :param relation: ``exercise``, ``agreement`` or ``all`` (see :mod:`kg.network`).
    :param year_from: first year (inclusive); :param year_to: last year (inclusive).
    :param by_year: one network per year from ``year_from`` to ``year_to``.
    :param window: rolling windows of ``window`` years ending in each year.
    :param focus: ISO3 code of a focal state for ego metrics, HHI and US share.
    :param cite: compute the citation block (the dataset fingerprint reads every graph used).
    :param include_pending: count signed agreements not yet in force (:mod:`kg.inforce`).
    :returns: a :class:`MetricsResult`; render it with :func:`format_metrics`.

    >>> res = metrics(store, relation="exercise", year_from=2015, year_to=2024)  # doctest: +SKIP
    >>> print(format_metrics(res, "csv"))  # doctest: +SKIP
    """
    from kg.cache import run_cache
    from kg.namespaces import check_iso3
    from kg.network import agreement_type_names, check_states_known

    if by_year and window:
        raise UsageError("--by-year and --window exclude each other")
    if focus is not None:
        check_iso3(focus)
        check_states_known(store, [focus], "--focus")
    graph_list = sorted(set(graphs)) if graphs else None
    types = agreement_type_names(agreement_types)
    params = {
        "relation": relation,
        "from": year_from,
        "to": year_to,
        "by_year": bool(by_year),
        "window": window,
        "focus": focus,
        "include_observers": bool(include_observers),
        "agreement_types": types,
        "graphs": graph_list,
        "louvain_seed": LOUVAIN_SEED,
        "pagerank_alpha": PAGERANK_ALPHA,
        "distance": "1/weight (betweenness, closeness)",
    }
    from kg.namespaces import YEAR_MAX, YEAR_MIN
    from kg.network import check_year_window

    check_year_window(year_from, year_to)
    if window is not None and not 1 <= window <= YEAR_MAX - YEAR_MIN + 1:
        raise UsageError(f"--window {window}: from 1 to {YEAR_MAX - YEAR_MIN + 1} years")
    if include_pending:
        params["include_pending"] = True
    if by_year or window:
        lo, hi = year_from, year_to
        if lo is None or hi is None:
            dlo, dhi = _year_range(store, relation, graph_list)
            lo = dlo if lo is None else lo
            hi = dhi if hi is None else hi
        if lo is not None and hi is not None and (lo < YEAR_MIN or hi > YEAR_MAX):
            # a store written before years were bounded: keep the series finite
            lo, hi = max(lo, YEAR_MIN), min(hi, YEAR_MAX)
        if lo is not None and hi is not None and lo > hi:  # one end given, past the data
            raise UsageError(f"--from {lo} is after the last year of the data read ({hi})"
                             if year_from is not None else
                             f"--to {hi} is before the first year of the data read ({lo})")
        if window and lo is not None and hi is not None and window > hi - lo + 1:
            raise UsageError(f"--window {window} is longer than the {hi - lo + 1} year(s) "
                             f"from {lo} to {hi}")
        span = window or 1
        periods = []
        for end in range(lo + span - 1 if window else lo, hi + 1):
            start = end - span + 1
            label = str(end) if by_year else f"{start}-{end}"
            periods.append((label, start, end))
    else:
        periods = [(None, year_from, year_to)]
    result = MetricsResult(params=params)
    weighting = None
    opts = {"relation": relation, "include_observers": include_observers,
            "agreement_types": types, "graphs": graph_list, "include_pending": include_pending}
    windows = [(start, end) for _, start, end in periods]
    if (engine == "auto" and relation == "exercise" and (by_year or window) and periods
            and not run_cache(store).holds(windows, **opts)):
        # every period measured from the grouped queries' rows, no networkx graph built
        # (nothing else in the run reads them); the values node_metrics gives on them
        from kg.network import WEIGHTING, check_year_window

        for start, end in windows:
            check_year_window(start, end)
        params["weighting"] = WEIGHTING[relation]
        result = MetricsResult(params=params)

        def cite_series():  # while the workers compute
            if cite:
                result.citation = citation_block(store, graph_list, params)

        measured = _exercise_series(store, windows, focus, include_observers, graph_list,
                                    cite_series)
        for (label, start, end), (n, m, nm, fm) in zip(periods, measured, strict=True):
            period = {"label": label, "from": start, "to": end, "nodes": n, "edges": m,
                      "metrics": nm}
            if focus:
                period["focus"] = fm
            result.periods.append(period)
        return result
    if by_year or window:  # every period from one grouped query (kg.network.build_networks)
        graphs_ = run_cache(store).networks([(start, end) for _, start, end in periods], **opts)
    else:
        graphs_ = [run_cache(store).network(year_from=year_from, year_to=year_to, **opts)]
    if graphs_:
        weighting = graphs_[-1].graph["params"]["weighting"]
    params["weighting"] = weighting
    cited = []

    def cite_now():  # the citation block needs no metrics: made while they are computed
        if cite and not cited:
            result.citation = citation_block(store, graph_list, params)
            cited.append(True)

    if engine == "auto":  # a series' networks measured together (in parallel when large)
        measured = run_cache(store).measure_many(
            graphs_, node_metrics, map_fn=lambda fn, gs: parallel_map(fn, gs, cite_now))
    else:
        cite_now()
        measured = [node_metrics(G, engine=engine) for G in graphs_]
    for (label, start, end), G, nm in zip(periods, graphs_, measured, strict=True):
        period = {"label": label, "from": start, "to": end, "nodes": G.number_of_nodes(),
                  "edges": G.number_of_edges(), "metrics": nm}
        if focus:
            period["focus"] = focus_metrics(G, focus, nm)
        result.periods.append(period)
    cite_now()  # (when no map was needed)
    return result


# ---------------------------------------------------------------- analyses of one focal state

#: Trailing window (years) for the centrality-over-time series.
CENTRALITY_WINDOW = 5
#: The node metrics the analyses below list (all of :data:`COLUMNS` but the state).
METRIC_COLUMNS = COLUMNS[1:]


def _r(x, nd: int = 6):
    """A value for a table: floats rounded to ``nd`` decimals."""
    if x is None:
        return None
    if isinstance(x, bool):
        return x
    if isinstance(x, float):
        return round(x, nd)
    return x


def focus_by_year(store, focus: str = "JPN", graphs: list[str] | None = None,
                  window: int = CENTRALITY_WINDOW) -> list[dict]:
    """Per year, the focal state's exercises, US share, partners and centrality.

    Years run from the first to the last year of the focal state's exercises
    (a year without any counts as zero). ``betweenness`` and ``degree`` are the
    focal state's normalized betweenness and degree (:func:`node_metrics`) in the
    exercise network of the ``window`` years ending in that year; all those
    networks come from one pass (:meth:`kg.cache.RunCache.networks`).

    >>> focus_by_year(store)[0]["year"]  # doctest: +SKIP
    2000
    """
    from kg.cache import run_cache
    from kg.network import exercise_years

    years = exercise_years(store, focus, graphs=graphs)
    if not years:
        return []
    span = list(range(min(years), max(years) + 1))
    cache = run_cache(store)
    nets = cache.networks([(y - window + 1, y) for y in span], relation="exercise", graphs=graphs)
    rows = []
    for y, G in zip(span, nets, strict=True):
        d = years.get(y, {"exercises": 0, "with_us": 0, "partners": set()})
        bt = dg = None
        if focus in G:
            m = cache.measure(G, path_metrics)[focus]
            bt, dg = m["betweenness"], m["degree"]
        rows.append({
            "year": y,
            "exercises": d["exercises"],
            "with_us": d["with_us"],
            "us_share": _r(d["with_us"] / d["exercises"]) if d["exercises"] else None,
            "partners": len(d["partners"]),
            "non_us_partners": len(set(d["partners"]) - {"USA", focus}),
            f"betweenness_{window}y": _r(bt),
            f"degree_{window}y": dg,
        })
    return rows


def top_partners(store, focus: str, window: tuple[int, int], n: int = 10,
                 graphs: list[str] | None = None) -> list[dict]:
    """Node metrics of the focal state and its ``n`` strongest exercise partners in a window.

    Partners are ranked by the number of shared exercises (the tie weight), ties
    broken by ISO3 code; the focal state comes first.

    >>> top_partners(store, "JPN", (2020, 2024))[1]["iso3"]  # doctest: +SKIP
    'USA'
    """
    from kg.cache import run_cache

    cache = run_cache(store)
    G = cache.network(relation="exercise", year_from=window[0], year_to=window[1], graphs=graphs)
    if focus not in G:
        return []
    m = cache.measure(G, node_metrics)
    partners = sorted(G[focus], key=lambda p: (-G[focus][p]["weight"], p))[:n]
    rows = []
    for iso in [focus] + partners:
        row = {"iso3": iso, "name": G.nodes[iso].get("label") or iso,
               "region": G.nodes[iso].get("region") or "",
               "shared_exercises": None if iso == focus else _r(G[focus][iso]["weight"])}
        for k in METRIC_COLUMNS:
            row[k] = _r(m[iso].get(k))
        rows.append(row)
    return rows


def focus_window_metrics(store, focus: str, windows, graphs: list[str] | None = None) -> list[dict]:
    """Ego metrics (:func:`focus_metrics`) per named window, scalar values only.

    :param windows: ``[(name, (year_from, year_to)), ...]``.

    >>> focus_window_metrics(store, "JPN", [("recent", (2020, 2024))])[0]["hhi"]  # doctest: +SKIP
    """
    from kg.cache import run_cache

    cache = run_cache(store)
    rows = []
    for name, w in windows:
        G = cache.network(relation="exercise", year_from=w[0], year_to=w[1], graphs=graphs)
        row = {"window": name, "from": w[0], "to": w[1]}
        if focus in G:
            fm = focus_metrics(G, focus, cache.measure(G, node_metrics))
            for k in sorted(fm):
                v = fm[k]
                if isinstance(v, (int, float, str)) or v is None:
                    row[k] = _r(v)
        rows.append(row)
    return rows


# ---------------------------------------------------------------- output

def _rows(result: MetricsResult) -> tuple[list[str], list[list[str]]]:
    header = list(COLUMNS)
    series = result.series
    if series:
        header = [series] + header
    rows = []
    numeric = COLUMNS[1:]
    for period in result.periods:
        lead = [period["label"]] if series else []
        for state in sorted(period["metrics"]):
            m = period["metrics"][state]
            rows.append(lead + [state] + [number_text(m[c]) for c in numeric])
    return header, rows


def _round(obj):
    if isinstance(obj, float):
        return float(number_text(obj)) if not obj.is_integer() else obj
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round(v) for v in obj]
    return obj


def _focus_lines(result: MetricsResult) -> list[str]:
    lines = []
    for period in result.periods:
        f = period.get("focus")
        if not f:
            continue
        where = f" ({result.series} {period['label']})" if result.series else ""
        lines.append(f"focus {f['state']}{where}:")
        if not f["present"]:
            lines.append("  not in the network for this window")
            continue
        for key in ("degree", "strength", "betweenness", "closeness", "eigenvector", "pagerank",
                    "community", "hhi", "hhi_normalized", "ego_density", "exercises", "with_us",
                    "us_share"):
            if key in f:
                lines.append(f"  {key}: {number_text(f[key]) if f[key] is not None else 'n/a'}")
        shares = ", ".join(f"{p['state']} {number_text(p['share'])}" for p in f["partners"])
        lines.append(f"  partner shares: {shares or 'none'}")
    return lines


def format_metrics(result: MetricsResult, fmt: str = "table") -> str:
    """Render a :class:`MetricsResult` as ``table``, ``csv``, ``json``, ``md`` or ``latex``.

    ``csv`` is the bare table (columns :data:`COLUMNS`, a leading ``year`` or
    ``window`` column for a series, floats rounded to 6 decimals, sorted by
    period and state) with no citation; every other format carries the
    citation block. Same result, same bytes.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")
    header, rows = _rows(result)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(csv_row(header))
        w.writerows(csv_row(row) for row in rows)
        return buf.getvalue()
    if fmt == "json":
        doc = {
            "params": result.params,
            "periods": [
                {k: v for k, v in p.items() if k != "metrics"} | {
                    "metrics": [dict({"state": s}, **p["metrics"][s])
                                for s in sorted(p["metrics"])]}
                for p in result.periods
            ],
            "citation": result.citation,
        }
        return json.dumps(_round(doc), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    cite = format_citation(result.citation, "md" if fmt == "md" else
                           ("latex" if fmt == "latex" else "text")) if result.citation else ""
    focus = _focus_lines(result)
    from kg import escape

    if fmt == "md":
        text = format_rows([dict(zip(header, r, strict=True)) for r in rows], list(header), "md")
        if focus:
            text += "\n" + escape.md_fence("\n".join(focus))
        return text + ("\n" + cite if cite else "")
    if fmt == "latex":
        esc = escape.latex
        out = ["\\begin{tabular}{l" + "r" * (len(header) - 1) + "}", "\\hline",
               " & ".join(esc(h) for h in header) + " \\\\", "\\hline"]
        out += [" & ".join(esc(c) for c in r) + " \\\\" for r in rows]
        out += ["\\hline", "\\end{tabular}"]
        text = "\n".join(out) + "\n"
        if focus:
            text += "".join(f"% {escape.latex_comment(line)}\n" for line in focus)
        return text + cite
    header = [escape.terminal(h) for h in header]
    # the period and the state are text from the data; the numbers (_num) are digits,
    # '.', '-' or a word (inf, nan, true), which print as they are
    text_cols = 2 if result.series else 1
    rows = [[escape.terminal(c) for c in r[:text_cols]] + r[text_cols:] for r in rows]
    focus = [escape.terminal(line) for line in focus]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(header)).rstrip(),
           "  ".join("-" * widths[i] for i in range(len(header)))]
    out += ["  ".join(c.ljust(widths[i]) if i == 0 or (result.series and i == 1)
                      else c.rjust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    text = "\n".join(out) + "\n"
    if focus:
        text += "\n" + "\n".join(focus) + "\n"
    return text + ("\n" + cite if cite else "")
