"""Export the graph as RDF, or the state network for Gephi (GraphML, GEXF) and spreadsheets (CSV).

RDF formats (``ttl``, ``nt``, ``nq``, ``trig``, ``jsonld``) serialize the
canonical (sorted, de-duplicated) N-Quads of the chosen graphs; the triple
formats hold the union of the graphs. A local store and a remote store with
the same content give the same bytes. Network formats hold the network of
:func:`kg.network.build_network` with nodes and edges in sorted order, its
parameters and the dataset fingerprint as graph attributes, and no timestamp.

>>> from kg.store import open_store
>>> with open_store("/tmp/st") as store:  # doctest: +SKIP
...     data = export(store, "csv", relation="exercise", year_from=2015, year_to=2024)
"""

from __future__ import annotations

import csv
import io
import re

from kg.errors import UsageError

__all__ = ["RDF_FORMATS", "NETWORK_FORMATS", "export", "export_rdf", "export_network",
           "network_for_export"]

RDF_FORMATS = ("ttl", "nt", "nq", "trig", "jsonld")
NETWORK_FORMATS = ("graphml", "gexf", "csv")


def _ox_format(fmt: str):
    import pyoxigraph as ox

    return {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
            "nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG,
            "jsonld": ox.RdfFormat.JSON_LD}[fmt]


def export_rdf(store, fmt: str, graphs: list[str] | None = None) -> bytes:
    """The chosen graphs (all by default) in an RDF format (``ttl nt nq trig jsonld``)."""
    if fmt not in RDF_FORMATS:
        raise UsageError(f"unknown RDF format {fmt!r} (one of: {', '.join(RDF_FORMATS)})")
    return store.dump(_ox_format(fmt), graphs)


def _weight_text(w: float) -> str:
    w = float(w)
    return str(int(w)) if w.is_integer() else f"{w:.6f}"


def network_for_export(store, *, relation: str = "exercise", year_from: int | None = None,
                       year_to: int | None = None, include_observers: bool = False,
                       agreement_types: list[str] | None = None,
                       graphs: list[str] | None = None, fingerprint: bool = True):
    """The network with attributes that GraphML and GEXF can hold (no None, no lists, no dicts).

    With ``fingerprint`` the dataset fingerprint goes into the graph attributes.
    """
    import networkx as nx

    from kg.network import build_network

    G = build_network(store, relation=relation, year_from=year_from, year_to=year_to,
                      include_observers=include_observers, agreement_types=agreement_types,
                      graphs=graphs)
    H = nx.Graph()
    for k, v in sorted(G.graph["params"].items()):
        if v is None:
            continue
        H.graph[k] = ";".join(v) if isinstance(v, list) else (
            str(v).lower() if isinstance(v, bool) else v)
    if fingerprint:
        H.graph["fingerprint"] = "sha256:" + store.fingerprint(sorted(graphs) if graphs else None)["all"]
    for n in sorted(G.nodes):
        attrs = {k: v for k, v in sorted(G.nodes[n].items()) if v is not None}
        if "label" not in attrs:
            attrs["label"] = n
        H.add_node(n, **attrs)
    for u, v in sorted((min(a, b), max(a, b)) for a, b in G.edges):
        d = G[u][v]
        attrs = {}
        for k, val in sorted(d.items()):
            attrs[k] = ";".join(val) if isinstance(val, list) else val
        H.add_edge(u, v, **attrs)
    return H


def _xml_safe(G):
    """A copy of ``G`` whose string ids and attributes hold only characters XML 1.0 allows."""
    from kg.escape import xml_chars

    def clean(v):
        return xml_chars(v) if isinstance(v, str) else v

    H = G.__class__()
    H.graph.update({k: clean(v) for k, v in G.graph.items()})
    for n, d in G.nodes(data=True):
        H.add_node(clean(n), **{k: clean(v) for k, v in d.items()})
    for u, v, d in G.edges(data=True):
        H.add_edge(clean(u), clean(v), **{k: clean(x) for k, x in d.items()})
    return H


def export_network(G, fmt: str) -> bytes:
    """Serialize a network from :func:`network_for_export` as ``graphml``, ``gexf`` or ``csv``."""
    import networkx as nx

    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["source", "target", "weight"])
        for u, v in sorted((min(a, b), max(a, b)) for a, b in G.edges):
            w.writerow([u, v, _weight_text(G[u][v].get("weight", 1.0))])
        return buf.getvalue().encode("utf-8")
    if fmt in ("graphml", "gexf"):
        G = _xml_safe(G)
    if fmt == "graphml":
        text = "\n".join(nx.generate_graphml(G, encoding="utf-8", prettyprint=True))
        return (text + "\n").encode("utf-8")
    if fmt == "gexf":
        text = "\n".join(nx.generate_gexf(G, encoding="utf-8", prettyprint=True))
        # no timestamp: the same network gives the same bytes
        text = re.sub(r' lastmodifieddate="[^"]*"', "", text)
        # GEXF keeps no graph attributes: the parameters go into <meta><description>
        from kg.escape import xml

        desc = "; ".join(f"{k}={v}" for k, v in sorted(G.graph.items()))
        text = text.replace("</meta>", f"<description>{xml(desc)}</description></meta>", 1)
        return (text + "\n").encode("utf-8")
    raise UsageError(f"unknown network format {fmt!r} (one of: {', '.join(NETWORK_FORMATS)})")


def export(store, fmt: str, *, graphs: list[str] | None = None, relation: str = "exercise",
           year_from: int | None = None, year_to: int | None = None,
           include_observers: bool = False, agreement_types: list[str] | None = None) -> bytes:
    """Export RDF (``ttl nt nq trig jsonld``) or the state network (``graphml gexf csv``).

    :param store: an open store (local or remote).
    :param fmt: the output format.
    :param graphs: the dataset graphs to export or to build the network from (None: all).
    :param relation, year_from, year_to, include_observers, agreement_types: the network's
        options, as for :func:`kg.network.build_network` (ignored for RDF formats).
    :returns: the serialized bytes.
    """
    if fmt in RDF_FORMATS:
        return export_rdf(store, fmt, graphs)
    if fmt in NETWORK_FORMATS:
        G = network_for_export(store, relation=relation, year_from=year_from, year_to=year_to,
                               include_observers=include_observers,
                               agreement_types=agreement_types, graphs=graphs,
                               fingerprint=fmt != "csv")
        return export_network(G, fmt)
    raise UsageError(f"unknown export format {fmt!r} "
                     f"(one of: {', '.join(RDF_FORMATS + NETWORK_FORMATS)})")
