"""Codebooks: what every column of an export means, where it comes from, and how to cite it.

A codebook is Markdown written beside an export (``kg export --codebook FILE``,
by default ``<out>.codebook.md``). It lists every column of the file (or
every node and edge attribute of a network), its definition, its group's
sources with their versions and the years they cover, what a missing cell
means, and the citation block (dataset fingerprint, versions, parameters) that
every output of kg carries. Same data and parameters give the same bytes.

>>> md_cell("a|b")
'a\\\\|b'
"""

from __future__ import annotations

__all__ = ["panel_codebook", "network_codebook", "md_cell", "codebook_path"]

_MISSING = {
    "key": "never missing",
    "ccode": "the state has no Correlates of War code (e.g. a state outside the COW list)",
    "exercises": "the year lies outside the coverage of every exercise source read",
    "agreements": "the year lies outside the coverage of every agreement source read",
    "atop": ("the year lies outside ATOP's coverage, or either state was not a member of the "
             "state system that year"),
    "cow": ("the year lies outside COW's coverage, or either state was not a member of the "
            "state system that year"),
}


def md_cell(text) -> str:
    """Text for a Markdown table cell (:func:`kg.escape.md_table_cell`); None is empty."""
    from kg.escape import md_table_cell

    return md_table_cell("" if text is None else str(text))


def codebook_path(out: str) -> str:
    """Where the codebook of an export written to ``out`` goes by default: beside it, named
    after the whole file name, so that ``japan.dta`` and ``japan.gexf`` keep a codebook each.

    >>> codebook_path("japan.dta"), codebook_path("japan.gexf")
    ('japan.dta.codebook.md', 'japan.gexf.codebook.md')
    """
    from pathlib import Path

    p = Path(out)
    return str(p.with_name(p.name + ".codebook.md"))


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return lines


def _graphs_text(graphs: list[str] | None) -> str:
    """`` (graph a, b)`` naming the graphs a reference list came from; empty for none.

    >>> _graphs_text(["curated"]), _graphs_text(["a", "b"]), _graphs_text([])
    (' (graph curated)', ' (graphs a, b)', '')
    """
    if not graphs:
        return ""
    return f" (graph{'s' if len(graphs) > 1 else ''} {', '.join(graphs)})"


def _span_text(spans: list[dict]) -> str:
    return "; ".join(f"{s['graph']} {s['start']}-{s['end']}" for s in spans) or "none"


def _citation(block: dict) -> list[str]:
    from kg.citation import format_citation

    return ["## How to cite", "",
            "Cite each dataset as its publisher asks (the \"cite as\" line of its graph in the "
            "block below, where it records one) and kg with the block below; the fingerprint "
            "identifies the exact data.", "",
            format_citation(block, "md").rstrip("\n")]


def panel_codebook(panel, block: dict, file_name: str | None = None) -> str:
    """The Markdown codebook of a dyad-year panel.

    :param panel: a :class:`kg.panel.Panel`.
    :param block: the citation block (:func:`kg.citation.citation_block`).
    :param file_name: the file the panel was written to, named in the heading.
    """
    lines = [f"# Codebook: dyad-year panel{(' ' + md_cell(file_name)) if file_name else ''}", "",
             f"{len(panel.rows)} rows, {len(panel.columns)} columns, one row per "
             + ("ordered pair of states (both directions)" if panel.params.get("directed")
                else "unordered pair of states (ccode1 < ccode2)")
             + f" and year, {panel.params.get('from')}-{panel.params.get('to')}.", "",
             "## Columns", ""]
    reference = getattr(panel, "reference", None) or {}
    state_list = "reference state list" + _graphs_text(reference.get("states"))
    rows = []
    for c in panel.columns:
        spans = panel.sources.get(c.group, [])
        source = ", ".join(sorted({f"{s['graph']} ({s['title'] or 'untitled'}"
                                   f"{', version ' + s['version'] if s['version'] else ''})"
                                   for s in spans})) if c.group != "key" else state_list
        missing = _MISSING["ccode"] if c.name in ("ccode1", "ccode2") else _MISSING[c.group]
        rows.append([c.name, c.group, c.definition, source,
                     _span_text(spans) if c.group != "key" else "-", missing])
    lines += _table(["column", "group", "definition", "source", "coverage", "missing when"], rows)
    lines += ["", "## Sources and coverage", ""]
    rows = []
    for group, spans in panel.sources.items():
        for s in spans:
            rows.append([group, s["graph"], s["title"], s["version"], f"{s['start']}-{s['end']}",
                         s["basis"], s["citation"]])
    lines += _table(["group", "graph", "title", "version", "years", "coverage from", "citation"],
                    rows)
    if reference:
        from kg.panel import REFERENCE_LISTS

        read = [f"the {REFERENCE_LISTS[k]}{_graphs_text(v)}" for k, v in reference.items() if v]
        if read:
            lines += ["", "Read from every graph, whichever graphs were counted: "
                      + "; ".join(read) + ". The dataset fingerprint below covers these "
                      "graphs too."]
    lines += ["", "## Missing is not zero", "",
              "A cell is missing (empty in CSV, `.` in Stata, null in Parquet) where the year "
              "lies outside the coverage of the column's sources; 0 means the sources cover "
              "the year and record nothing. "
              + (f"State-system membership comes from the loaded list"
                 f"{_graphs_text(reference.get('system'))} (through "
                 f"{panel.params['system_membership_through']}, carried forward to the last "
                 "year asked for)." if panel.params.get("system_membership_through")
                 else "No state-system membership list was loaded, so years before a state "
                      "existed cannot be told apart from years without an alliance."), ""]
    if panel.warnings:
        lines += ["## Caveats", ""] + [f"- {md_cell(w)}" for w in panel.warnings] + [""]
    lines += _citation(block)
    return "\n".join(lines) + "\n"


def network_codebook(G, block: dict, fmt: str, file_name: str | None = None) -> str:
    """The Markdown codebook of a network export: the attributes of a GraphML or GEXF file,
    the columns of a CSV edge list (which holds ties only, no node attributes)."""
    title = f"# Codebook: {fmt} network{(' ' + md_cell(file_name)) if file_name else ''}"
    if fmt == "csv":
        tied = {n for e in G.edges for n in e}
        lines = [title, "",
                 f"{G.number_of_edges()} rows, one per tie (an undirected edge list); "
                 f"{len(tied)} states have a tie ({G.number_of_nodes()} in the network: a "
                 "state without a tie in the window has no row).", "", "## Columns", ""]
        lines += _table(["column", "definition"], [[k, _CSV_COLUMNS[k]] for k in _CSV_COLUMNS])
    else:
        node_keys = sorted({k for _, d in G.nodes(data=True) for k in d})
        edge_keys = sorted({k for _, _, d in G.edges(data=True) for k in d})
        lines = [title, "", f"{G.number_of_nodes()} nodes (states, ISO3 codes), "
                 f"{G.number_of_edges()} edges.", "", "## Attributes", ""]
        rows = [["node", k, _label_text(G) if k == "label" else _ATTRS.get(k, "")]
                for k in node_keys]
        rows += [["edge", k, _ATTRS.get(k, "")] for k in edge_keys]
        lines += _table(["on", "attribute", "definition"], rows)
    lines += ["", "## Parameters", ""]
    lines += _table(["parameter", "value"], [[k, v] for k, v in sorted(G.graph.items())])
    lines += [""] + _citation(block)
    return "\n".join(lines) + "\n"


def _label_text(G) -> str:
    """What the ``label`` of this network's nodes holds: the state's English short name
    where the graphs read hold one, else its ISO3 code (the node's id), as
    :func:`kg.export.network_for_export` fills it in; said for this export.

    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_node("JPN", label="JPN")
    >>> _label_text(G)
    "the state's ISO3 code (the graphs read hold no state names)"
    >>> G.add_node("USA", label="United States")
    >>> _label_text(G)
    "the state's English short name where the graphs read hold one (1 of 2 states here), else its ISO3 code"
    """
    total = G.number_of_nodes()
    named = sum(1 for n, d in G.nodes(data=True) if d.get("label", n) != n)
    if named == total:
        return "the state's English short name"
    if named == 0:
        return "the state's ISO3 code (the graphs read hold no state names)"
    return (f"the state's English short name where the graphs read hold one ({named} of "
            f"{total} states here), else its ISO3 code")


#: The columns of a network's CSV edge list (:func:`kg.export.export_network`), in order.
_CSV_COLUMNS = {
    "source": "ISO3 code of one state of the tie (the alphabetically first of the two)",
    "target": "ISO3 code of the other state of the tie",
    "weight": "tie weight (see the weighting parameter)",
}

_ATTRS = {
    "region": "UN M49 sub-region",
    "lat": "latitude of the capital (decimal degrees)",
    "lon": "longitude of the capital (decimal degrees)",
    "exercises": "exercises the state took part in within the window",
    "agreements": "agreements in force the state is party to within the window",
    "weight": "tie weight (see the weighting parameter); for a dynamic network, the sum over the years",
    "exercise_weight": "shared exercises (relation all)",
    "agreement_weight": "agreements in force both are party to (relation all)",
    "agreement_types": "types of the agreements behind the tie",
    "spells": "closed intervals of consecutive years in which the node or tie exists",
    "year_weight": "the tie weight in each year (a dynamic attribute)",
}
