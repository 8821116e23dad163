"""Export the graph as RDF, or the state network for Gephi (GraphML, GEXF) and spreadsheets (CSV).

RDF formats (``ttl``, ``nt``, ``nq``, ``trig``, ``jsonld``) serialize the
canonical (sorted, de-duplicated) N-Quads of the chosen graphs; ``nq``, ``trig``
and ``jsonld`` keep each graph's name, the triple formats (``ttl``, ``nt``) hold
the union of the graphs. A local store and a remote store with
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
from dataclasses import dataclass, field

from kg.errors import UsageError
from kg.escape import csv_row
from kg.namespaces import year_spells

__all__ = ["RDF_FORMATS", "NETWORK_FORMATS", "PANEL_FORMATS", "ExportResult", "export",
           "export_rdf", "export_network", "network_for_export", "run_export", "names_a_file",
           "panel_csv", "write_panel", "dynamic_network", "export_dynamic_gexf"]

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
            w.writerow(csv_row([u, v, _weight_text(G[u][v].get("weight", 1.0))]))
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
        # networkx writes <graph name="...">, which the GEXF schemas (1.2draft, 1.3) do not
        # allow on <graph>: validators reject the file
        text = re.sub(r'(<graph\b[^>]*?) name="[^"]*"', r"\1", text, count=1)
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


# ---------------------------------------------------------------- dyad-year panels

PANEL_FORMATS = ("dyad-year",)
#: file suffix -> writer name; CSV is the default
PANEL_SUFFIXES = {".csv": "csv", ".dta": "dta", ".parquet": "parquet"}


def panel_csv(panel) -> bytes:
    """A panel as CSV: a header, then one row per dyad-year; a missing cell is empty.

    >>> from kg.panel import Column, Panel
    >>> p = Panel([Column("year", "key", "year", "key"), Column("exercises", "exercises", "n")],
    ...           [(2019, 3), (2020, None)], {})
    >>> panel_csv(p).decode()
    'year,exercises\\n2019,3\\n2020,\\n'
    """
    # every cell is an integer, empty, or an ISO3 code ([A-Z]{3}): nothing to quote; the
    # few distinct values are turned into text once each (a panel has millions of cells)
    text = _CellText({None: ""})
    head = ",".join(panel.names) + "\n"
    chunks = getattr(panel.rows, "text_chunks", None)
    if chunks is not None:  # the panel's own rows: text per dyad, no tuple per row
        return (head + "".join(chunks(text, ",", "\n"))).encode("utf-8")
    lines = [",".join(map(text.__getitem__, row)) + "\n" for row in panel.rows]
    return (head + "".join(lines)).encode("utf-8")


class _CellText(dict):
    """Value -> its CSV text, computed on first use (``str``)."""

    def __missing__(self, value):
        self[value] = out = str(value)
        return out


def _panel_frame(panel):
    """The panel as a pandas DataFrame: counts and flags as nullable integers (missing = NA)."""
    try:
        import pandas as pd
    except ImportError:
        raise UsageError("writing .dta or .parquet needs pandas (and pyarrow for .parquet): "
                         "pip install 'kg-secpart[stats]'") from None
    data = {}
    rows = list(panel.rows)  # built once (a panel's rows are made on demand)
    for i, col in enumerate(panel.columns):
        values = [row[i] for row in rows]
        if col.kind == "label":
            data[col.name] = pd.array(values, dtype="string")
        else:
            data[col.name] = pd.array(values, dtype="Int32")
    return pd.DataFrame(data)


def write_panel(panel, path: str) -> None:
    """Write a panel to ``path`` as CSV, Stata (``.dta``, version 118) or Parquet, by suffix.

    Stata gets each column's definition as its variable label (cut at Stata's 80
    characters) and missing cells as ``.``; Parquet keeps nullable integers.
    """
    from pathlib import Path

    kind = PANEL_SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        raise UsageError(f"--out {path}: a dyad-year panel is written as .csv, .dta or .parquet")
    if kind == "csv":
        data = panel_csv(panel)
        with open(path, "wb") as fh:
            fh.write(data)
        return
    df = _panel_frame(panel)
    if kind == "dta":
        labels = {c.name: c.definition[:80] for c in panel.columns}
        df.to_stata(path, write_index=False, version=118, variable_labels=labels,
                    data_label="kg dyad-year panel")
    else:
        try:
            df.to_parquet(path, index=False)
        except ImportError:
            raise UsageError("writing .parquet needs pyarrow: pip install 'kg-secpart[stats]'") from None


# ---------------------------------------------------------------- dynamic networks

def dynamic_network(store, *, relation: str = "exercise", year_from: int | None = None,
                    year_to: int | None = None, graphs: list[str] | None = None):
    """The state network over time: nodes and edges with yearly spells and weights.

    Per year the tie weight is the number of shared exercises (``exercise``), of
    agreements in force (``agreement``, the one in-force rule) or their sum (``all``),
    as in :func:`kg.network.build_network` for a one-year window. An edge carries
    ``spells`` (closed intervals of consecutive years with a tie), ``year_weight``
    (a dynamic attribute: ``[(weight, year, year), ...]``) and ``weight`` (the sum over
    the years); a node carries the spells of the years it has a tie.
    """
    import networkx as nx

    from kg.network import RELATIONS, check_year_window, state_attributes
    from kg.panel import exercise_counts, graph_groups, year_coverage

    if relation not in RELATIONS:
        raise UsageError(f"unknown relation {relation!r} (one of: {', '.join(RELATIONS)})")
    check_year_window(year_from, year_to)
    graph_list = sorted(graphs) if graphs else None
    info = graph_groups(store, graph_list)
    groups = {"exercise": ["exercises"], "agreement": ["agreements"],
              "all": ["exercises", "agreements"]}[relation]
    spans = [s for g in groups for s in year_coverage(info, g)]
    if not spans:
        raise UsageError(f"the graphs read hold no records for relation {relation!r}")
    lo = year_from if year_from is not None else min(s["start"] for s in spans)
    hi = year_to if year_to is not None else max(s["end"] for s in spans)
    if lo > hi:
        raise UsageError(f"--from {lo} is after --to {hi}")
    weights: dict = {}
    if "exercises" in groups:
        for (a, b, y), (n, _m) in exercise_counts(store, lo, hi, graph_list).items():
            weights[(a, b, y)] = weights.get((a, b, y), 0) + n
    if "agreements" in groups:  # every agreement kind, as build_network counts them
        from kg.inforce import pair_years

        for r in pair_years(store, lo, hi, graphs=graph_list):
            key = (min(r.a, r.b), max(r.a, r.b), r.year)
            weights[key] = weights.get(key, 0) + 1
    per_edge: dict = {}
    for (a, b, y), w in weights.items():
        if w:
            per_edge.setdefault((a, b), {})[y] = w
    attrs = state_attributes(store, graph_list)
    node_years: dict = {}
    for (a, b), years in per_edge.items():
        node_years.setdefault(a, set()).update(years)
        node_years.setdefault(b, set()).update(years)
    G = nx.Graph(mode="dynamic")
    for n in sorted(node_years):
        extra = {k: v for k, v in (attrs.get(n) or {}).items() if v is not None}
        extra.setdefault("label", n)
        G.add_node(n, spells=year_spells(node_years[n]), **extra)
    for (a, b) in sorted(per_edge):
        years = per_edge[(a, b)]
        G.add_edge(a, b, weight=float(sum(years.values())), spells=year_spells(years),
                   year_weight=[(float(w), y, y) for y, w in sorted(years.items())])
    G.graph.update({"relation": relation, "from": lo, "to": hi,
                    "graphs": ";".join(graph_list) if graph_list else "all"})
    return G


def export_dynamic_gexf(G) -> bytes:
    """GEXF 1.2 for Gephi's timeline: ``mode="dynamic"``, ``timeformat="integer"`` (years).

    networkx writes integer times as ``long``; GEXF 1.2 and Gephi name the type
    ``integer`` (networkx reads both back as int).
    """
    data = export_network(G, "gexf").decode("utf-8")
    data = data.replace('timeformat="long"', 'timeformat="integer"', 1)
    return data.encode("utf-8")


# ---------------------------------------------------------------- one call for the CLI

@dataclass
class ExportResult:
    """What :func:`run_export` did: the bytes (when not written to a file) and the files."""

    data: bytes | None = None
    out: str | None = None
    codebook: str | None = None
    rows: int | None = None
    warnings: list[str] = field(default_factory=list)


def _check_options(fmt: str, *, dynamic: bool, panel_opts: bool, network_opts: bool,
                   window: bool, out: str | None, codebook: str | None) -> None:
    """Refuse options the format does not read (they were ignored without a word), and a
    codebook that would overwrite the export."""
    import os

    if dynamic and fmt != "gexf":
        raise UsageError("--dynamic goes with --format gexf")
    if panel_opts and fmt not in PANEL_FORMATS:
        raise UsageError("--directed, --states and --all-dyads go with --format dyad-year")
    if network_opts and fmt not in NETWORK_FORMATS:
        raise UsageError("--relation, --include-observers and --agreement-type go with the "
                         f"network formats ({', '.join(NETWORK_FORMATS)})")
    if fmt in RDF_FORMATS and (window or codebook):
        raise UsageError(f"--from, --to and --codebook go with the network and panel formats, "
                         f"not with --format {fmt} (it exports the graphs whole)")
    if fmt not in RDF_FORMATS + NETWORK_FORMATS + PANEL_FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (one of: "
                         f"{', '.join(RDF_FORMATS + NETWORK_FORMATS + PANEL_FORMATS)})")
    if out and codebook and (os.path.realpath(out) == os.path.realpath(codebook)
                             or (os.path.exists(out) and os.path.exists(codebook)
                                 and os.path.samefile(out, codebook))):
        raise UsageError(f"--codebook {codebook} is the export's own file (--out)")


def run_export(store, fmt: str, *, out: str | None = None, codebook: str | None = None,
               graphs: list[str] | None = None, relation: str | None = None,
               year_from: int | None = None, year_to: int | None = None,
               include_observers: bool = False, agreement_types: list[str] | None = None,
               dynamic: bool = False, directed: bool = False, states: list[str] | None = None,
               all_dyads: bool = False) -> ExportResult:
    """Export in ``fmt`` to ``out`` (or return the bytes), with a codebook beside it.

    :param fmt: an RDF format, a network format (``graphml gexf csv``) or ``dyad-year``.
    :param relation: for the network formats, ``exercise`` (None), ``agreement`` or ``all``;
        refused with the others, which do not read it.
    :param out: the file to write; None returns the bytes (CSV for a panel).
    :param codebook: where to write the Markdown codebook; by default beside ``out``
        (``<file name>.codebook.md``) for network and panel exports, none for RDF. When
        ``out`` is not a regular file (:func:`names_a_file`: ``/dev/stdout``, a device,
        a pipe) none is derived: the export is written (a panel as CSV) and a warning says
        that no codebook was.
    :param dynamic: with ``gexf``, the network over time (spells per year).
    :param directed, states, all_dyads: panel options (:func:`kg.panel.dyad_year_panel`).
    :returns: an :class:`ExportResult`.
    """
    from kg.cache import run_cache
    from kg.citation import citation_block
    from kg.codebook import codebook_path, network_codebook, panel_codebook

    _check_options(fmt, dynamic=dynamic, panel_opts=bool(directed or states or all_dyads),
                   network_opts=bool(include_observers or agreement_types
                                     or relation is not None),
                   window=year_from is not None or year_to is not None, out=out,
                   codebook=codebook)
    relation = relation or "exercise"  # the network formats' default (None: not given)
    # a device, pipe or /dev/stdout is written as stdout is: CSV for a panel, and no
    # codebook beside it unless --codebook names one
    file_out = bool(out) and names_a_file(out)
    run_cache(store)  # one run: no query sent twice
    if fmt in RDF_FORMATS:
        data = export_rdf(store, fmt, graphs)
        return _finish(ExportResult(), data, out, None, None)
    graph_list = sorted(graphs) if graphs else None
    result = ExportResult()
    if fmt in PANEL_FORMATS:
        from kg.panel import dyad_year_panel

        panel = dyad_year_panel(store, year_from=year_from, year_to=year_to, directed=directed,
                                states=states, all_dyads=all_dyads, graphs=graph_list)
        result.rows, result.warnings = len(panel.rows), list(panel.warnings)
        # every graph the panel read (those counted and the reference lists'): the
        # fingerprint identifies the data the rows came from
        block = citation_block(store, panel.graphs, panel.params)
        text = panel_codebook(panel, block, out and file_out and _base(out))
        if out and file_out and not out.lower().endswith(".csv"):
            write_panel(panel, out)
            result.out = out
            data = None
        else:
            data = panel_csv(panel)
    else:
        if dynamic:
            if include_observers or agreement_types:
                raise UsageError("--include-observers and --agreement-type do not go with --dynamic")
            G = dynamic_network(store, relation=relation, year_from=year_from, year_to=year_to,
                                graphs=graph_list)
            data = export_dynamic_gexf(G)
        else:
            G = network_for_export(store, relation=relation, year_from=year_from, year_to=year_to,
                                   include_observers=include_observers,
                                   agreement_types=agreement_types, graphs=graph_list,
                                   fingerprint=fmt != "csv")
            data = export_network(G, fmt)
        params = {k: v for k, v in G.graph.items()}
        block = citation_block(store, graph_list, params)
        text = network_codebook(G, block, fmt + (" dynamic" if dynamic else ""),
                                out and file_out and _base(out))
    cb = codebook or (codebook_path(out) if out and file_out else None)
    if out and not file_out and not codebook:
        result.warnings.append(f"no codebook written: --out {out} is not a regular file, so "
                               "no file can sit beside it; give --codebook FILE for one")
    return _finish(result, data, out, cb, text)


def names_a_file(path: str) -> bool:
    """Whether ``path`` is, or will be, a regular file that a codebook can sit beside.

    Not a device, FIFO or socket (``/dev/null``, a named pipe), nor a name in ``/dev`` or
    ``/proc`` (``/dev/stdout`` is the process's output, whatever it points to): beside
    those, ``<out>.codebook.md`` would be a stray file in a system directory, or none.

    >>> names_a_file("/dev/stdout"), names_a_file("/dev/null"), names_a_file("panel.csv")
    (False, False, True)
    """
    import os
    import stat

    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    if any(folder == d or folder.startswith(d + os.sep) for d in ("/dev", "/proc")):
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True  # a new file
    except OSError:  # e.g. a folder on the way that is not one: let the write say why
        return True


def _base(path: str) -> str:
    from pathlib import Path

    return Path(path).name


def _finish(result: ExportResult, data: bytes | None, out: str | None, cb: str | None,
            text: str | None) -> ExportResult:
    if data is not None:
        if out:
            with open(out, "wb") as fh:
                fh.write(data)
            result.out = out
        else:
            result.data = data
    if cb and text is not None:
        with open(cb, "w", encoding="utf-8") as fh:
            fh.write(text)
        result.codebook = cb
    return result
