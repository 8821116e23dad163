"""What is in the store: triples per graph, fingerprints, versions.

>>> from kg.info import versions
>>> "kg" in versions()
True
"""

from __future__ import annotations

import json
import platform

from kg import __version__

__all__ = ["versions", "store_info", "format_info"]


def versions(store=None) -> dict[str, str]:
    """Versions of kg, Python and the libraries that shape results."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"kg": __version__, "python": platform.python_version()}
    for dist in ("networkx", "pyoxigraph", "rdflib"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:  # pragma: no cover
            out[dist] = "not installed"
    if store is not None:
        out["engine"] = store.engine_version()
    return out


def graph_versions(store, graphs: list[str] | None = None) -> dict[str, str]:
    """Dataset versions recorded on the graphs (owl:versionInfo of the ontology, dataset versions).

    :param store: the open store.
    :param graphs: short graph names to read (None: all).
    :returns: ``{graph: "v1, v2"}`` for the graphs that record a version, sorted.
    """
    from kg.namespaces import SPARQL_PREFIXES, graph_name

    rs = store.select(
        SPARQL_PREFIXES +
        "SELECT ?g ?v WHERE { GRAPH ?g { { ?o a owl:Ontology ; owl:versionInfo ?v } "
        "UNION { ?d a sp:Dataset ; owl:versionInfo ?v } } }", graphs=graphs, own=True)
    out: dict[str, set] = {}
    for g, v in rs.rows:
        out.setdefault(graph_name(g.value), set()).add(v.value)
    return {k: ", ".join(sorted(v)) for k, v in sorted(out.items())}


def store_info(store) -> dict:
    """Triples per graph, the fingerprint of each graph and of all, versions."""
    sizes = store.graph_sizes()
    fp = store.fingerprint()
    versions_ = graph_versions(store)
    return {
        "store": store.location,
        "graphs": {g: {"triples": n, "sha256": fp["graphs"].get(g, ""),
                       "version": versions_.get(g, "")} for g, n in sizes.items()},
        "triples": sum(sizes.values()),
        "fingerprint": fp["all"],
        "versions": versions(store),
    }


def format_info(data: dict, fmt: str = "text") -> str:
    r"""Render :func:`store_info` as text or JSON; in text, what comes from data (the
    graphs' versions) is shown with :func:`kg.escape.terminal`, one line each.

    >>> data = {"store": ".kg", "graphs": {"user": {"triples": 1, "version": "v\x1b[31m\n2",
    ...         "sha256": "ab"}}, "triples": 1, "fingerprint": "ab", "versions": {}}
    >>> format_info(data).splitlines()[3]
    'user           1  v\\x1b[31m 2  ab'
    """
    from kg.escape import terminal

    if fmt == "json":
        return json.dumps(data, indent=1, sort_keys=True) + "\n"
    lines = [f"store: {terminal(data['store'])}", ""]
    width = max([len(g) for g in data["graphs"]] + [5])
    lines.append(f"{'graph'.ljust(width)}  {'triples':>9}  {'version':<10}  sha256")
    for g, d in data["graphs"].items():
        version = terminal(d["version"]) or "-"
        lines.append(f"{terminal(g).ljust(width)}  {d['triples']:>9}  {version:<10}  {d['sha256']}")
    lines.append(f"{'all'.ljust(width)}  {data['triples']:>9}  {'':<10}  {data['fingerprint']}")
    lines.append("")
    lines.append("fingerprint: sha256:" + data["fingerprint"])
    lines.append("versions: " + ", ".join(f"{k} {terminal(v)}" for k, v in data["versions"].items()))
    return "\n".join(lines) + "\n"
