"""The citation block: what a result rests on, so a paper can cite it and a reader redo it.

A block holds the dataset fingerprint (SHA-256 of the canonical N-Quads of the
graphs used), each graph's name, fingerprint and version, the versions of kg,
networkx, numpy, Python and the engine, every parameter, and the definitions
used with their references. It holds no timestamp, so the same data and
parameters give the same bytes; a date is added only when the environment sets
``SOURCE_DATE_EPOCH`` (the reproducible-builds convention).

>>> block = citation_block(None, None, {"relation": "exercise"})
>>> block["software"]["title"]
'kg: a knowledge graph of security partnerships'
"""

from __future__ import annotations

import json
import os
import re

from kg import __version__
from kg.info import graph_versions

__all__ = ["TITLE", "AUTHOR", "REFERENCES", "DEFINITIONS", "citation_block", "format_citation",
           "software_citation"]

TITLE = "kg: a knowledge graph of security partnerships"
AUTHOR = "kg project contributors"
LICENSE = "MIT"

#: The literature behind the definitions (key to a full reference).
REFERENCES = {
    "Barrat2004": ("Barrat, A., Barthelemy, M., Pastor-Satorras, R., & Vespignani, A. (2004). "
                   "The architecture of complex weighted networks. PNAS, 101(11), 3747-3752."),
    "Blondel2008": ("Blondel, V. D., Guillaume, J.-L., Lambiotte, R., & Lefebvre, E. (2008). "
                    "Fast unfolding of communities in large networks. Journal of Statistical "
                    "Mechanics: Theory and Experiment, P10008."),
    "Bonacich1972": ("Bonacich, P. (1972). Factoring and weighting approaches to status scores "
                     "and clique identification. Journal of Mathematical Sociology, 2(1), "
                     "113-120."),
    "Brandes2001": ("Brandes, U. (2001). A faster algorithm for betweenness centrality. "
                    "Journal of Mathematical Sociology, 25(2), 163-177."),
    "Brin1998": ("Brin, S., & Page, L. (1998). The anatomy of a large-scale hypertextual Web "
                 "search engine. Computer Networks and ISDN Systems, 30(1-7), 107-117."),
    "Freeman1977": ("Freeman, L. C. (1977). A set of measures of centrality based on "
                    "betweenness. Sociometry, 40(1), 35-41."),
    "Freeman1979": ("Freeman, L. C. (1979). Centrality in social networks: conceptual "
                    "clarification. Social Networks, 1(3), 215-239."),
    "Herfindahl1950": ("Herfindahl, O. C. (1950). Concentration in the steel industry. "
                       "PhD dissertation, Columbia University."),
    "Hirschman1945": ("Hirschman, A. O. (1945). National Power and the Structure of Foreign "
                      "Trade. Berkeley: University of California Press."),
    "Newman2001a": ("Newman, M. E. J. (2001a). Scientific collaboration networks. I. Network "
                    "construction and fundamental results. Physical Review E, 64, 016131."),
    "Newman2001b": ("Newman, M. E. J. (2001b). Scientific collaboration networks. II. Shortest "
                    "paths, weighted networks, and centrality. Physical Review E, 64, 016132."),
    "Opsahl2010": ("Opsahl, T., Agneessens, F., & Skvoretz, J. (2010). Node centrality in "
                   "weighted networks: generalizing degree and shortest paths. Social Networks, "
                   "32(3), 245-251."),
    "WassermanFaust1994": ("Wasserman, S., & Faust, K. (1994). Social Network Analysis: Methods "
                           "and Applications. Cambridge: Cambridge University Press."),
}

#: The metric definitions quoted in every block (their references are keys of
#: :data:`REFERENCES`); :mod:`kg.metrics` computes them.
DEFINITIONS = {
    "degree": "number of distinct partners (Freeman 1979)",
    "strength": "sum of tie weights (Barrat et al. 2004; Opsahl et al. 2010)",
    "betweenness": ("share of shortest paths between other pairs that pass through the state, "
                    "normalized by (n-1)(n-2); edge length = 1/weight (Freeman 1977; "
                    "Newman 2001b; algorithm: Brandes 2001); equals networkx "
                    "betweenness_centrality(normalized=True)"),
    "closeness": ("(r-1)/sum of distances to the r-1 reachable states, times (r-1)/(n-1); "
                  "edge length = 1/weight (Freeman 1979; Wasserman & Faust 1994); equals "
                  "networkx closeness_centrality(wf_improved=True)"),
    "eigenvector": ("leading eigenvector of the weighted adjacency matrix, computed per "
                    "connected component (norm 1 within each component; isolates 0) "
                    "(Bonacich 1972)"),
    "pagerank": "PageRank with damping 0.85, weight as strength (Brin & Page 1998)",
    "community": ("Louvain modularity communities, seed 42, resolution 1, weight as strength, "
                  "numbered by their alphabetically first member (Blondel et al. 2008)"),
    "projection": ("exercise ties are the one-mode projection of the bipartite "
                   "exercise-participant network, weight = shared exercises (Newman 2001a)"),
    "hhi": ("Herfindahl-Hirschman index of the focal state's tie weights: sum of squared "
            "partner shares (Hirschman 1945; Herfindahl 1950); hhi_normalized = "
            "(HHI - 1/N)/(1 - 1/N) for N partners"),
    "us_share": "share of the focal state's exercises in the window that include the USA",
}


def software_citation() -> dict:
    """How to cite the software itself (no DOI is claimed)."""
    return {"title": TITLE, "version": __version__, "author": AUTHOR, "license": LICENSE}


def _versions(store) -> dict:
    from kg.info import versions

    out = versions(store)
    try:
        from importlib.metadata import version

        out["numpy"] = version("numpy")
    except Exception:  # pragma: no cover - numpy comes with matplotlib
        out["numpy"] = "not installed"
    out.pop("rdflib", None)  # not used for metrics
    return dict(sorted(out.items()))


def dataset_citations(store, graphs: list[str] | None = None) -> dict[str, str]:
    """The citation each field dataset's publisher asks for, as recorded on its graph
    (``dcterms:bibliographicCitation`` of the graph's ``sp:Dataset``), by short graph name.

    :param store: the open store.
    :param graphs: short graph names to read (None: all).
    """
    from kg.namespaces import SPARQL_PREFIXES, graph_name

    rs = store.select(SPARQL_PREFIXES + "SELECT ?g ?c WHERE { GRAPH ?g { ?d a sp:Dataset ; "
                      "dcterms:bibliographicCitation ?c } } ORDER BY ?g ?c", graphs=graphs,
                      own=True)
    out: dict[str, str] = {}
    for g, c in rs.rows:
        out.setdefault(graph_name(g.value), c.value)
    return out


def citation_block(store, graphs: list[str] | None, params: dict) -> dict:
    """The citation block for a result computed from ``graphs`` (None: all) with ``params``.

    :param store: the open store (None gives a block without dataset or engine).
    :param graphs: the dataset graphs used (short names), or None for all.
    :param params: every parameter of the computation.
    :returns: a dict with ``software``, ``dataset``, ``versions``, ``parameters``,
        ``definitions`` and ``references``; no timestamp unless ``SOURCE_DATE_EPOCH``.
    """
    block: dict = {"software": software_citation()}
    if store is not None:
        fp = store.fingerprint(graphs)
        gv = graph_versions(store, graphs)
        cites = dataset_citations(store, graphs)
        block["dataset"] = {
            "fingerprint": "sha256:" + fp["all"],
            "graphs": {name: {"sha256": h, "version": gv.get(name, ""),
                              **({"citation": cites[name]} if name in cites else {})}
                       for name, h in sorted(fp["graphs"].items())},
            "store": store.kind,
        }
    block["versions"] = _versions(store)
    block["parameters"] = dict(sorted(params.items()))
    block["definitions"] = dict(sorted(DEFINITIONS.items()))
    block["references"] = dict(sorted(REFERENCES.items()))
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        import datetime as dt

        block["date"] = dt.datetime.fromtimestamp(int(epoch), dt.UTC).date().isoformat()
    return block


def _param_text(v) -> str:
    if v is None:
        return "none"
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v) or "none"
    return str(v).lower() if isinstance(v, bool) else str(v)


def _text_lines(block: dict) -> list[str]:
    sw = block["software"]
    lines = [f"Citation: {sw['author']}. {sw['title']}, version {sw['version']} "
             f"({sw['license']} licence)."]
    ds = block.get("dataset")
    if ds:
        lines.append(f"Dataset fingerprint: {ds['fingerprint']}")
        for name, g in ds["graphs"].items():
            lines.append(f"  graph {name}: version {g['version'] or '-'}, sha256:{g['sha256']}")
            if g.get("citation"):
                lines.append(f"    cite as: {g['citation']}")
    lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in block["versions"].items()))
    if block.get("parameters"):
        lines.append("Parameters: " + "; ".join(f"{k}={_param_text(v)}"
                                               for k, v in block["parameters"].items()))
    lines.append("Definitions:")
    lines += [f"  {k}: {v}" for k, v in block["definitions"].items()]
    lines.append("References:")
    lines += [f"  {v}" for v in block["references"].values()]
    if block.get("date"):
        lines.append(f"Date: {block['date']}")
    return lines


def _bibtex_key(key: str, taken: set[str]) -> str:
    """``key``, or ``key_2``, ``key_3``... if taken: graph names that differ only in ``-``,
    ``_`` or ``.`` (``cow-states``, ``cow_states``) give the same key, and BibTeX keeps
    only the first entry of a key. Adds the key to ``taken``.

    >>> taken = {"dataset_cow_states"}
    >>> _bibtex_key("dataset_cow_states", taken), _bibtex_key("dataset_cow_states", taken)
    ('dataset_cow_states_2', 'dataset_cow_states_3')
    """
    out, n = key, 1
    while out.lower() in {k.lower() for k in taken}:  # BibTeX keys ignore case
        n += 1
        out = f"{key}_{n}"
    taken.add(out)
    return out


def _bibtex(block: dict) -> str:
    from kg.escape import bibtex as esc

    sw = block["software"]
    note = []
    ds = block.get("dataset")
    if ds:
        note.append(f"dataset fingerprint {ds['fingerprint']}; graphs: "
                    + ", ".join(f"{n} {g['version'] or '-'}" for n, g in ds["graphs"].items()))
    note.append("versions: " + ", ".join(f"{k} {v}" for k, v in block["versions"].items()))
    out = [
        "@software{kg_secpart,",
        f"  title = {{{{{esc(sw['title'])}}}}},",
        f"  author = {{{{{esc(sw['author'])}}}}},",
        f"  version = {{{esc(sw['version'])}}},",
        f"  license = {{{esc(sw['license'])}}},",
        f"  note = {{{esc('; '.join(note))}}}",
        "}",
    ]
    keys = {"kg_secpart", *block["references"]}
    for name, g in (ds or {}).get("graphs", {}).items():
        if g.get("citation"):  # the dataset as its publisher asks (the key from the graph name)
            key = _bibtex_key("dataset_" + re.sub(r"[^a-z0-9]", "_", name), keys)
            out += ["", f"@misc{{{key},", f"  note = {{{esc(g['citation'])}}}", "}"]
    for key, ref in block["references"].items():
        out += ["", f"@misc{{{key},", f"  note = {{{esc(ref)}}}", "}"]
    return "\n".join(out) + "\n"


def _cff(block: dict) -> str:
    def q(v) -> str:  # a YAML double-quoted scalar (JSON strings are valid YAML)
        return json.dumps(str(v), ensure_ascii=False)

    sw = block["software"]
    lines = [
        "cff-version: 1.2.0",
        'message: "If you use this software, please cite it as below."',
        "type: software",
        f'title: {q(sw["title"])}',
        f'version: {q(sw["version"])}',
        f"license: {sw['license']}",
        "authors:",
        f'  - name: {q(sw["author"])}',
    ]
    ds = block.get("dataset")
    if ds:
        lines.append("identifiers:")
        lines.append("  - type: other")
        lines.append(f'    value: {q(ds["fingerprint"])}')
        lines.append('    description: "fingerprint of the dataset graphs used"')
    return "\n".join(lines) + "\n"


def format_citation(block: dict, fmt: str = "text") -> str:
    """Render a citation block as ``text``, ``md``, ``latex``, ``json``, ``bibtex`` or ``cff``."""
    if fmt == "json":
        return json.dumps(block, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "bibtex":
        return _bibtex(block)
    if fmt == "cff":
        return _cff(block)
    from kg import escape

    lines = _text_lines(block)
    if fmt == "md":
        return escape.md_fence("\n".join(escape.one_line(line) for line in lines))
    if fmt == "latex":
        return "".join(f"% {escape.latex_comment(line)}\n" for line in lines)
    if fmt == "text":
        return "\n".join(escape.terminal(line) for line in lines) + "\n"
    from kg.errors import UsageError

    raise UsageError(f"unknown citation format {fmt!r}")
