"""Dyad-year panels: one row per pair of states and year, for regressions in R, Stata or Python.

The layout follows the conventions political scientists know from
peacesciencer's ``create_dyadyears()`` and ``add_atop_alliance()`` (Miller
2022, "peacesciencer: An R Package for Quantitative Peace Science Research",
*Conflict Management and Peace Science* 39(6), doi:10.1177/07388942221077926):
rows keyed by ``ccode1, ccode2, year`` (Correlates of War state codes) with
``iso3_1, iso3_2`` beside them; undirected panels hold each pair once
(``ccode1 < ccode2``), directed panels both orders.

Columns, by group (each group has its own sources and coverage):

- ``exercises``: ``exercises`` (distinct exercises in that year in which both
  states took part; observers left out; a reconciled copy counts once) and
  ``exercises_multilateral`` (of them, those with three or more states);
- ``agreements``: ``agr_<type>``, agreements of that type both states are
  party to and that are in force in that year, by the one rule of
  :mod:`kg.inforce` (ATOP alliances and dyad-year alliance spells are left
  to their own columns);
- ``atop``: ``atop_defense``, ``atop_offense``, ``atop_neutral``,
  ``atop_nonagg``, ``atop_consul``: 1 when, in that year, state 1 bears that
  obligation in an ATOP alliance of which both are members (directed), or when
  either does (undirected); from ATOP member-level or directed dyad-year data;
- ``cow``: ``cow_defense``, ``cow_neutral``, ``cow_nonagg``, ``cow_entente``:
  1 when COW codes an alliance of that type between the two in that year.

Missing is not zero. A cell is missing (``None``: empty in CSV, ``.`` in
Stata) when the year lies outside the coverage of every graph that supplies
the column's group (the graph's ``sp:coverageStart``/``sp:coverageEnd``,
else the years its records carry; a graph whose census covers only some states'
pairs, ``sp:coverageScope``, as the curated graph covers Japan's, covers no
other pair), and, for the alliance groups, when either
state was not a member of the state system that year (where a
``sp:SystemMembership`` list is loaded, e.g. ``kg ingest --format cow-states``);
it is 0 only where the sources cover the year and record nothing.

>>> Column("exercises", "exercises", "Exercises together").name
'exercises'
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, combinations, compress, repeat
from operator import add

from kg.cache import collector_paused
from kg.errors import UsageError
from kg.namespaces import SPARQL_PREFIXES, XSD, check_iso3, graph_name, iso3_of
from kg.network import check_states_known, check_year_window
from kg.sparql import Lit, term_to_sparql

__all__ = ["Column", "Panel", "PanelRows", "GROUPS", "AGREEMENT_COLUMNS", "ATOP_KINDS", "COW_KINDS",
           "REFERENCE_LISTS", "dyad_year_panel", "exercise_pairs", "graph_groups", "reference_graphs",
           "year_coverage"]

#: agreement class (local name) -> panel column
AGREEMENT_COLUMNS = {
    "DefenceTreaty": "agr_defence_treaty",
    "StatusOfForcesAgreement": "agr_sofa",
    "ReciprocalAccessAgreement": "agr_raa",
    "LogisticsAgreement": "agr_logistics",
    "InformationSecurityAgreement": "agr_infosec",
    "EquipmentTransferAgreement": "agr_equipment",
    "DefenceCooperationAgreement": "agr_defence_coop",
    "JointDeclaration": "agr_joint_declaration",
    "MinisterialDialogue": "agr_dialogue",
}
#: obligation kind (local name of the sp: concept) -> column suffix, as ATOP names them
ATOP_KINDS = {"Defense": "defense", "Offense": "offense", "Neutrality": "neutral",
              "NonAggression": "nonagg", "Consultation": "consul"}
COW_KINDS = {"Defense": "defense", "Neutrality": "neutral", "NonAggression": "nonagg",
             "Entente": "entente"}
GROUPS = ("exercises", "agreements", "atop", "cow")


@dataclass
class Column:
    """One column of a panel: its name, group, definition and (filled in) sources."""

    name: str
    group: str
    definition: str
    kind: str = "count"  # key, count, flag or label


@dataclass
class Panel:
    """A dyad-year panel: columns, rows (tuples in column order, None = missing), metadata.

    ``rows`` is any sequence of tuples: a list, or the :class:`PanelRows` that
    :func:`dyad_year_panel` gives (held per dyad, each row built when read).

    ``sources`` maps each group present to the graphs behind it, each a dict
    with ``graph``, ``version``, ``title``, ``citation``, ``start``, ``end`` and
    ``basis`` (how its coverage was decided); ``params`` holds every option.
    ``reference`` names the graphs of the reference lists read beside them
    (:func:`reference_graphs`), and ``graphs`` every graph the panel read (None:
    every graph of the store): what its fingerprint must cover.
    """

    columns: list[Column]
    rows: Sequence[tuple]
    params: dict
    sources: dict[str, list[dict]] = field(default_factory=dict)
    coverage: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    reference: dict[str, list[str]] = field(default_factory=dict)
    graphs: list[str] | None = None

    @property
    def names(self) -> list[str]:
        """The column names, in order."""
        return [c.name for c in self.columns]


# ---------------------------------------------------------------- what the graphs hold

def graph_groups(store, graphs: list[str] | None = None) -> dict[str, dict]:
    """Per graph: its dataset facts and, per column group, the records it holds and their years.

    :returns: ``{graph: {"version", "title", "citation", "declared": (start, end) | None,
        "groups": {group: {"records": n, "first": y, "last": y}}, "system": bool}}``.

    The agreements are found from their dates (a few per agreement), with a party as a
    condition: the engine then never joins every party with every date.
    """
    q = SPARQL_PREFIXES + """
SELECT ?g ?group (COUNT(DISTINCT ?x) AS ?n) (MIN(?y) AS ?first) (MAX(?y) AS ?last) WHERE {
  GRAPH ?g {
    { ?x a sp:Exercise ; sp:year ?y . BIND("exercises" AS ?group) }
    UNION
    { { ?x sp:signedDate ?d } UNION { ?x sp:inForceDate ?d }
      FILTER EXISTS { ?x sp:party ?p }
      FILTER NOT EXISTS { ?x a sp:AllianceSpell }
      FILTER NOT EXISTS { ?x sp:obligation ?o }
      BIND(xsd:integer(SUBSTR(STR(?d), 1, 4)) AS ?y)
      BIND("agreements" AS ?group) }
    UNION
    { ?x sp:obligation ?o . BIND("atop" AS ?group)
      { ?x sp:startYear ?d } UNION { ?x sp:signedDate ?d }
      BIND(xsd:integer(SUBSTR(STR(?d), 1, 4)) AS ?y) }
    UNION
    { ?x a sp:AllianceSpell ; sp:kind ?k ; sp:startYear ?y .
      FILTER NOT EXISTS { ?x sp:obligation ?o } BIND("cow" AS ?group) }
    UNION
    { ?x a sp:SystemMembership ; sp:entryDate ?e .
      BIND(xsd:integer(SUBSTR(STR(?e), 1, 4)) AS ?y) BIND("system" AS ?group) }
  }
} GROUP BY ?g ?group"""
    out: dict[str, dict] = {}
    for r in store.select(q, graphs=graphs, own=True).dicts():
        g = graph_name(str(r["g"]))
        entry = out.setdefault(g, {"groups": {}})
        first, last = r.get("first"), r.get("last")
        entry["groups"][str(r["group"])] = {
            "records": int(r["n"]), "first": int(first) if first is not None else None,
            "last": int(last) if last is not None else None}
    q = SPARQL_PREFIXES + """
SELECT ?g ?name ?start ?end ?version ?title ?cite ?scope WHERE {
  GRAPH ?g { ?d a sp:Dataset .
    OPTIONAL { ?d sp:graph ?name } OPTIONAL { ?d sp:coverageStart ?start }
    OPTIONAL { ?d sp:coverageEnd ?end } OPTIONAL { ?d owl:versionInfo ?version }
    OPTIONAL { ?d dcterms:title ?title } OPTIONAL { ?d dcterms:bibliographicCitation ?cite }
    OPTIONAL { ?d sp:coverageScope ?scope } }
} ORDER BY ?g"""
    for r in store.select(q, graphs=graphs, own=True).dicts():
        g = str(r["name"]) if r.get("name") else graph_name(str(r["g"]))
        if g not in out:
            continue
        entry = out[g]
        if r.get("scope") is not None and iso3_of(str(r["scope"])):
            entry.setdefault("scope", set()).add(iso3_of(str(r["scope"])))
        for key, col in (("version", "version"), ("title", "title"), ("citation", "cite")):
            if r.get(col) is not None and entry.get(key) is None:
                entry[key] = str(r[col])
        if isinstance(r.get("start"), int) and isinstance(r.get("end"), int):
            entry["declared"] = (r["start"], r["end"])
    for entry in out.values():
        entry.setdefault("declared", None)
        entry["scope"] = sorted(entry.get("scope", ())) or None
        for key in ("version", "title", "citation"):
            entry.setdefault(key, None)
    return dict(sorted(out.items()))


def year_coverage(info: dict[str, dict], group: str) -> list[dict]:
    """The graphs that supply ``group`` and the years each covers, with the basis.

    A graph's declared ``sp:coverageStart``/``sp:coverageEnd`` wins; without one, the
    span of the years its records of that group carry. ``scope``: the states whose ties
    the graph records as a census (``sp:coverageScope``; None: every pair).

    >>> year_coverage({"mme": {"declared": (1980, 2010), "version": "7", "title": "MME",
    ...                        "citation": None, "groups": {"exercises": {"records": 3,
    ...                        "first": 1981, "last": 2009}}}}, "exercises")[0]["end"]
    2010
    """
    out = []
    for g, entry in info.items():
        rec = entry["groups"].get(group)
        if not rec or not rec["records"]:
            continue
        if entry["declared"]:
            start, end = entry["declared"]
            basis = "declared coverage of the dataset (sp:coverageStart/sp:coverageEnd)"
        elif rec["first"] is not None:
            start, end = rec["first"], rec["last"]
            basis = "span of the years its records carry (no declared coverage)"
        else:
            continue
        scope = entry.get("scope")
        if scope:
            basis += f"; only pairs with {', '.join(scope)} (sp:coverageScope)"
        out.append({"graph": g, "version": entry["version"], "title": entry["title"],
                    "citation": entry["citation"], "start": start, "end": end, "basis": basis,
                    "records": rec["records"], "scope": scope})
    return out


# ---------------------------------------------------------------- facts per dyad and year

def _int(value: int) -> str:
    """An integer as a SPARQL literal, through the term serializer (never raw text)."""
    return term_to_sparql(Lit(str(int(value)), XSD + "integer"))


def _overlaps(start: str, end: str, year_from: int, year_to: int) -> str:
    """A FILTER keeping spells ``?start..?end`` that overlap the years asked for."""
    return f"FILTER(?{end} >= {_int(year_from)} && ?{start} <= {_int(year_to)})"


def _exercise_years(store, year_from: int, year_to: int, graphs=None,
                    states: set[str] | None = None) -> list[tuple[int, Counter, Counter]]:
    """Per year: ``(year, {(a, b): exercises}, {(a, b): multilateral})`` with a < b (ISO3).

    The participants of each exercise come from :func:`kg.network.exercise_participants`
    (the method every network uses: participants grouped per exercise in the engine,
    reconciled copies left out); the pairs of each exercise are counted here, all pairs of
    an exercise at once (``itertools.combinations``, counted per year by a ``Counter``). ``states``: keep
    only pairs with one of them.
    """
    from kg.network import exercise_participants

    out = []
    per_year = exercise_participants(store, year_from, year_to, False, graphs, by_year=True)
    for y, exercises in per_year.items():
        pairs: list = []
        multilateral: list = []
        for parts in exercises:
            if states is not None and not (states.intersection(parts)):
                continue
            pairs.extend(combinations(parts, 2))
            if len(parts) > 2:
                multilateral.extend(combinations(parts, 2))
        every, multi = Counter(pairs), Counter(multilateral)
        if states is not None:
            every = Counter({p: n for p, n in every.items() if p[0] in states or p[1] in states})
        out.append((y, every, multi))
    return out


def exercise_counts(store, year_from: int, year_to: int, graphs=None,
                    states: set[str] | None = None) -> dict:
    """``{(a, b, year): (exercises, multilateral)}`` with a < b (ISO3).

    Counted as :func:`exercise_pairs` counts them, one key per pair and year.
    ``states``: keep only pairs with one of them.
    """
    return {(a, b, y): (n, multi.get((a, b), 0))
            for y, every, multi in _exercise_years(store, year_from, year_to, graphs, states)
            for (a, b), n in every.items()}


def exercise_pairs(store, year_from: int, year_to: int, graphs=None,
                   states: set[str] | None = None) -> dict:
    """``{(a, b): {year: (exercises, multilateral)}}`` with a < b (ISO3): the exercises
    both states took part in, and of them those with three or more states, per year.

    ``states``: keep only pairs with one of them.
    """
    out: dict = {}
    for y, every, multi in _exercise_years(store, year_from, year_to, graphs, states):
        get = multi.get  # not multi[pair]: a Counter's missing key goes through Python
        for pair, n in every.items():
            try:
                out[pair][y] = (n, get(pair, 0))
            except KeyError:
                out[pair] = {y: (n, get(pair, 0))}
    return out


def agreement_counts(store, year_from: int, year_to: int, graphs=None,
                     states: set[str] | None = None) -> dict:
    """``{(a, b): {year: counts}}`` with a < b: agreements in force by type, per pair and year.

    ``counts`` is a tuple in the order of :data:`AGREEMENT_COLUMNS`. The years come from
    the one in-force rule (the spans per pair of :func:`kg.inforce.lifecycles`, which
    apply memberships and suspensions, as :func:`kg.inforce.pair_years` lists them);
    ATOP alliances (agreements that carry ``sp:obligation``) are left to the ``atop_*``
    columns and alliance spells to theirs.
    """
    from kg.inforce import lifecycles

    q = SPARQL_PREFIXES + "SELECT DISTINCT ?ag WHERE { ?ag sp:obligation ?o }"
    alliances = {r[0].value for r in store.select(q, graphs=graphs, own=True).rows}
    index = {typ: i for i, typ in enumerate(AGREEMENT_COLUMNS)}
    width = len(index)
    out: dict = {}
    # the rule's own spans per tied pair (what kg.inforce.pair_years lists one row at a time)
    for rec in lifecycles(store, graphs=graphs, types=list(AGREEMENT_COLUMNS)):
        if rec.agreement in alliances:
            continue
        column = index[rec.type]
        for (a, b), spans in rec.pair_spans.items():
            if states is not None and a not in states and b not in states:
                continue
            key = (a, b) if a < b else (b, a)
            years = out.get(key)
            if years is None:
                years = out[key] = {}
            for lo, hi in spans:
                for y in range(max(lo, year_from), min(hi, year_to) + 1):
                    cells = years.get(y)
                    if cells is None:
                        cells = years[y] = [0] * width
                    cells[column] += 1
    return {k: {y: tuple(c) for y, c in years.items()} for k, years in out.items() if years}


def _membership_years(entry: str | None, exit_: str | None, lo: int, hi: int) -> range:
    first = int(entry[:4]) if entry else lo
    last = int(exit_[:4]) if exit_ else hi
    return range(max(first, lo), min(last, hi) + 1)


def atop_flags(store, year_from: int, year_to: int, graphs=None,
               states: set[str] | None = None) -> dict:
    """``{(bearer, partner, year): {kind suffix}}``: directed ATOP obligations per year.

    ``states``: keep only pairs with one of them. Member level: a member bearing an
    obligation in an alliance owes it to every other member in the years both are members
    (membership spells from ``sp:entryDate`` to ``sp:exitDate``, open when no exit); where
    the obligation names the phases it is borne in (``sp:phase``, as ATOP codes it per
    member and phase), only in the years both are members in one of those phases. Directed
    dyad-year spells (``sp:AllianceSpell`` with an ``sp:Obligation``): the bearer to the
    other party.
    """
    q_mem = SPARQL_PREFIXES + """
SELECT DISTINCT ?ag ?m ?entry ?exit ?phase WHERE {
  ?ag sp:obligation ?o ; sp:membership ?ms . ?ms sp:member ?m .
  OPTIONAL { ?ms sp:entryDate ?entry } OPTIONAL { ?ms sp:exitDate ?exit }
  OPTIONAL { ?ms sp:phase ?phase }
}"""
    q_obl = SPARQL_PREFIXES + """
SELECT DISTINCT ?ag ?bearer ?kind ?phase WHERE {
  ?ag sp:obligation ?o . ?o sp:bearer ?bearer ; sp:kind ?kind .
  OPTIONAL { ?o sp:phase ?phase }
  FILTER NOT EXISTS { ?ag a sp:AllianceSpell }
}"""
    q_spell = SPARQL_PREFIXES + """
SELECT DISTINCT ?bearer ?other ?kind ?s ?e WHERE {
  ?x a sp:AllianceSpell ; sp:obligation ?o ; sp:party ?other ; sp:startYear ?s ; sp:endYear ?e .
  ?o sp:bearer ?bearer ; sp:kind ?kind . FILTER(?other != ?bearer)
  """ + _overlaps("s", "e", year_from, year_to) + """
}"""
    # ag -> state -> phase (None: the membership names none) -> years
    members: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(set)))
    for ag, m, entry, exit_, phase in store.select(q_mem, graphs=graphs, own=True).rows:
        iso = iso3_of(m.value)
        if iso is None:
            continue
        years = _membership_years(entry.value if entry else None, exit_.value if exit_ else None,
                                  year_from, year_to)
        members[ag.value][iso][int(phase.value) if phase is not None else None].update(years)
    # (ag, bearer, suffix) -> the phases the obligation is borne in (empty: every phase)
    borne: dict = defaultdict(set)
    for ag, bearer, kind, phase in store.select(q_obl, graphs=graphs, own=True).rows:
        suffix = ATOP_KINDS.get(kind.value.rsplit("#", 1)[-1])
        a = iso3_of(bearer.value)
        if suffix is None or a is None:
            continue
        phases = borne[(ag.value, a, suffix)]
        if phase is not None:
            phases.add(int(phase.value))
    out: dict = defaultdict(set)
    for (ag, a, suffix), phases in borne.items():
        mem = members.get(ag, {})
        own = mem.get(a, {})
        for other, spells in mem.items():
            if other == a or (states is not None and a not in states and other not in states):
                continue
            if phases:  # both members in a phase in which the bearer bears it
                years = set().union(*(own.get(p, set()) & spells.get(p, set())
                                      for p in phases))
            else:
                years = set().union(*own.values()) & set().union(*spells.values())
            for y in years:
                out[(a, other, y)].add(suffix)
    for bearer, other, kind, s, e in store.select(q_spell, graphs=graphs, own=True).rows:
        suffix = ATOP_KINDS.get(kind.value.rsplit("#", 1)[-1])
        _mark_spell(out, suffix, iso3_of(bearer.value), iso3_of(other.value), states,
                    range(max(int(s.value), year_from), min(int(e.value), year_to) + 1))
    return out


def _mark_spell(out: dict, suffix, a, b, states, years: range) -> None:
    """Add ``suffix`` to ``out[(a, b, year)]`` for each year of a spell, if the pair counts.

    Nothing is added for an unknown kind (``suffix`` None), a party without an ISO3
    code, or a pair with neither state in ``states`` (when given).
    """
    if suffix is None or a is None or b is None or (
            states is not None and a not in states and b not in states):
        return
    for y in years:
        out[(a, b, y)].add(suffix)


def cow_flags(store, year_from: int, year_to: int, graphs=None,
              states: set[str] | None = None) -> dict:
    """``{(a, b, year): {kind suffix}}`` with a < b: COW alliance types per year.

    ``states``: keep only pairs with one of them.
    """
    q = SPARQL_PREFIXES + """
SELECT DISTINCT ?a ?b ?kind ?s ?e WHERE {
  ?x a sp:AllianceSpell ; sp:kind ?kind ; sp:party ?a, ?b ; sp:startYear ?s ; sp:endYear ?e .
  FILTER NOT EXISTS { ?x sp:obligation ?o }
  FILTER(STR(?a) < STR(?b)) """ + _overlaps("s", "e", year_from, year_to) + """
}"""
    out: dict = defaultdict(set)
    for a, b, kind, s, e in store.select(q, graphs=graphs, own=True).rows:
        suffix = COW_KINDS.get(kind.value.rsplit("#", 1)[-1])
        _mark_spell(out, suffix, iso3_of(a.value), iso3_of(b.value), states,
                    range(max(int(s.value), year_from), min(int(e.value), year_to) + 1))
    return out


def system_years(store, year_from: int, year_to: int, graphs=None) -> tuple[dict, int | None]:
    """``({iso3: set(years)}, last year covered)`` from ``sp:SystemMembership`` spells.

    A spell that runs to the last year the list covers is carried on to
    ``year_to`` (the list's "most recent year", as peacesciencer's ``mry``
    does): states that were members then are taken to remain members.
    """
    q = SPARQL_PREFIXES + """
SELECT DISTINCT ?m ?entry ?exit WHERE {
  ?x a sp:SystemMembership ; sp:member ?m ; sp:entryDate ?entry ; sp:exitDate ?exit . }"""
    rows = [(iso3_of(m.value), en.value, ex.value)
            for m, en, ex in store.select(q, graphs=graphs, own=True).rows]
    if not rows:
        return {}, None
    last_covered = max(int(ex[:4]) for _, _, ex in rows)
    out: dict = defaultdict(set)
    for iso, en, ex in rows:
        last = int(ex[:4])
        hi = year_to if last == last_covered else min(last, year_to)
        out[iso].update(range(max(int(en[:4]), year_from), hi + 1))
    return dict(out), last_covered


#: what each reference list of :func:`reference_graphs` holds, for the codebook
REFERENCE_LISTS = {"states": "reference state list (sp:State: ISO3 codes, COW codes, names)",
                   "system": "state-system membership (sp:SystemMembership)"}


def reference_graphs(store) -> dict[str, list[str]]:
    """The graphs holding the reference facts a panel reads whatever graphs it counts.

    The state list (``sp:State`` with its ``sp:cowCode`` and ``rdfs:label``: the ``ccode``
    keys, the order of each pair, the check of ``--states``) and the state-system
    membership (``sp:SystemMembership``: which alliance cells are unknown, which pairs
    ``--all-dyads`` lists) come from every graph (:func:`reference_states`,
    :func:`system_years`), so the panel's fingerprint must cover these graphs too.

    :returns: ``{"states": [short graph names], "system": [...]}`` (sorted; empty when
        no graph holds such facts).

    >>> from kg.store import open_store
    >>> with open_store("/tmp/st") as store:  # doctest: +SKIP
    ...     reference_graphs(store)
    {'states': ['curated'], 'system': ['cow-states']}
    """
    q = SPARQL_PREFIXES + """
SELECT DISTINCT ?what ?g WHERE {
  { GRAPH ?g { ?s a sp:State } BIND("states" AS ?what) }
  UNION { ?s a sp:State . GRAPH ?g { ?s sp:cowCode|rdfs:label ?v } BIND("states" AS ?what) }
  UNION { ?x a sp:SystemMembership . GRAPH ?g { ?x ?p ?v } BIND("system" AS ?what) }
}"""
    out: dict[str, set[str]] = {k: set() for k in REFERENCE_LISTS}
    for what, g in store.select(q, own=True).rows:
        out[what.value].add(graph_name(g.value))
    return {k: sorted(v) for k, v in out.items()}


def reference_states(store) -> dict[str, tuple[int | None, str]]:
    """``{iso3: (COW code or None, label)}`` from the reference state list (all graphs)."""
    q = SPARQL_PREFIXES + """
SELECT ?s (MIN(?c) AS ?cow) (MIN(?l) AS ?label) WHERE {
  ?s a sp:State . OPTIONAL { ?s sp:cowCode ?c } OPTIONAL { ?s rdfs:label ?l } } GROUP BY ?s"""
    out = {}
    for s, c, label in store.select(q, own=True).rows:
        iso = iso3_of(s.value)
        if iso:
            out[iso] = (int(c.value) if c is not None else None,
                        label.value if label is not None else iso)
    return out


# ---------------------------------------------------------------- the panel

def _columns(groups: list[str], directed: bool) -> list[Column]:
    one_way = ("state 1 (ccode1) bears the obligation towards state 2" if directed
               else "either state bears the obligation towards the other")
    cols = [
        Column("ccode1", "key", "Correlates of War state code of state 1", "key"),
        Column("ccode2", "key", "Correlates of War state code of state 2", "key"),
        Column("year", "key", "calendar year", "key"),
        Column("iso3_1", "key", "ISO 3166-1 alpha-3 code of state 1 (ISO 3166-3 for dissolved "
               "states)", "label"),
        Column("iso3_2", "key", "ISO 3166-1 alpha-3 code of state 2", "label"),
        Column("exercises", "exercises", "number of distinct military exercises held in the "
               "year in which both states took part (observers left out; a record reconciled "
               "with owl:sameAs to another counts once)"),
        Column("exercises_multilateral", "exercises", "of those exercises, the number with "
               "three or more participating states"),
    ]
    for typ, name in AGREEMENT_COLUMNS.items():
        cols.append(Column(name, "agreements", f"number of agreements of type sp:{typ} to "
                           "which both states are party and which are in force in the year "
                           "(the one in-force rule of kg.inforce; ATOP alliances and alliance "
                           "spells excluded)"))
    if "atop" in groups:
        for concept, suffix in ATOP_KINDS.items():
            cols.append(Column(f"atop_{suffix}", "atop", f"1 when, in the year, {one_way} as "
                               f"ATOP codes it: {concept.lower()} (sp:{concept}); both states "
                               "members of the alliance that year", "flag"))
    if "cow" in groups:
        for concept, suffix in COW_KINDS.items():
            cols.append(Column(f"cow_{suffix}", "cow", "1 when COW codes an alliance of type "
                               f"{concept.lower()} (sp:{concept}) between the two states in "
                               "the year", "flag"))
    return cols


def _years_of(spans: list[dict]) -> set[int]:
    years: set[int] = set()
    for s in spans:
        years.update(range(s["start"], s["end"] + 1))
    return years


def _coverage_of(spans: list[dict]) -> tuple[set[int], dict[str, set[int]]]:
    """``(years every pair is covered, {state: more years its pairs are covered})``.

    >>> _coverage_of([{"start": 1990, "end": 1991, "scope": None},
    ...               {"start": 1991, "end": 1992, "scope": ["JPN"]}])
    ({1990, 1991}, {'JPN': {1992}})
    """
    every = _years_of([s for s in spans if not s.get("scope")])
    scoped: dict[str, set[int]] = {}
    for s in spans:
        for state in s.get("scope") or ():
            scoped.setdefault(state, set()).update(range(s["start"], s["end"] + 1))
    return every, {k: v - every for k, v in scoped.items() if v - every}


def _dyad_order(a: str, b: str, codes: dict) -> tuple[str, str]:
    """Undirected order: the lower COW code first (states without a code last, then ISO3)."""
    def key(s):
        c = codes.get(s, (None, s))[0]
        return (c is None, c if c is not None else 0, s)
    return (a, b) if key(a) <= key(b) else (b, a)


def _check_states(states) -> list[str]:
    out = []
    for s in states or []:
        out.append(check_iso3(s, "--states"))
    return sorted(set(out))


def _by_pair(flat: dict, cells) -> dict:
    """``{(a, b, year): value}`` -> ``{(a, b): {year: cells(value)}}``."""
    out: dict = {}
    for (a, b, y), v in flat.items():
        years = out.get((a, b))
        if years is None:
            years = out[(a, b)] = {}
        years[y] = cells(v)
    return out


def _cell_tables(present: list[str], ex, ag, at, cw, directed: bool) -> list[tuple]:
    """Per group present: ``(group, {pair: {year: cells}}, zero cells, width, directed key)``.

    Cells are tuples in column order, built once per pair and year, so a row is a
    concatenation. ``ex`` and ``ag`` come per pair already (:func:`exercise_pairs`,
    :func:`agreement_counts`); ``at`` and ``cw`` per pair and year.
    """
    width = len(AGREEMENT_COLUMNS)
    tables = [("exercises", ex, (0, 0), 2, False),
              ("agreements", ag, (0,) * width, width, False)]
    if "atop" in present:
        sfx = list(ATOP_KINDS.values())
        flags = at
        if not directed:  # either direction, on the sorted pair
            flags = defaultdict(set)
            for (a, b, y), f in at.items():
                flags[(min(a, b), max(a, b), y)] |= f
        tables.append(("atop", _by_pair(flags, lambda f: tuple(int(x in f) for x in sfx)),
                       (0,) * len(sfx), len(sfx), directed))
    if "cow" in present:
        sfx = list(COW_KINDS.values())
        tables.append(("cow", _by_pair(cw, lambda f: tuple(int(x in f) for x in sfx)),
                       (0,) * len(sfx), len(sfx), False))
    return tables


class PanelRows(Sequence):
    """The rows of a panel, held per dyad and built when asked for (a sequence of tuples).

    A panel of the world has millions of rows, nearly all of them zero or missing in every
    group: each dyad keeps only its years with a record (per group, ``{year: cells}``), and
    a dyad's rows are its keys joined column-wise (``map(operator.add, ...)``) with each
    group's column of cells. :meth:`text_chunks` gives the same rows as delimited text
    without building a tuple per row (what the CSV writer uses).

    :param dyads: ``(state 1, state 2)`` in row order (both orders, for directed panels).
    :param years: the panel's years (a range).
    :param tables: per group, as :func:`_cell_tables` gives them.
    :param covered: per group, the years its sources cover: a set, or ``(years,
        {state: more years})`` where a source covers only the pairs of some states
        (:func:`_coverage_of`).
    :param codes: ``{iso3: (COW code or None, label)}``.
    :param system: ``{iso3: years a member of the state system}`` ({} when not loaded).
    :param all_dyads: only the years in which both states are members.

    >>> rows = PanelRows([("AAA", "BBB")], range(2010, 2012),
    ...                  [("exercises", {("AAA", "BBB"): {2011: (1, 0)}}, (0, 0), 2, False)],
    ...                  {"exercises": {2011}}, {"AAA": (100, "A"), "BBB": (200, "B")}, {},
    ...                  all_dyads=False)
    >>> len(rows), list(rows)
    (2, [(100, 200, 2010, 'AAA', 'BBB', None, None), (100, 200, 2011, 'AAA', 'BBB', 1, 0)])
    >>> list(rows.text_chunks({None: "", 100: "100", 200: "200", 2010: "2010", 2011: "2011",
    ...                        0: "0", 1: "1", "AAA": "AAA", "BBB": "BBB"}))
    ['100,200,2010,AAA,BBB,,\\n100,200,2011,AAA,BBB,1,0\\n']
    """

    def __init__(self, dyads, years: range, tables, covered, codes, system, *,
                 all_dyads: bool):
        self._dyads = dyads
        self._years = years
        self._codes = codes
        self._system = system
        self._all_dyads = all_dyads
        # per group: its cells per pair, zero and unknown cells, keying, covered years, alliance
        self._groups = []
        self._scoped = []  # per group: {state: more years its pairs are covered}
        for group, table, zero, width, by_direction in tables:
            cov = covered.get(group, frozenset())
            every, scoped = cov if isinstance(cov, tuple) else (cov, {})
            self._groups.append((table, zero, (None,) * width, by_direction, every,
                                 group in ("atop", "cow")))
            self._scoped.append(scoped)
        self._list: list | None = None
        self._len = sum(map(self._count, dyads)) if all_dyads and system else \
            len(dyads) * len(years)

    def _count(self, dyad: tuple[str, str]) -> int:
        """The number of years in which both states of ``dyad`` are system members."""
        alive1, alive2 = self._system.get(dyad[0], ()), self._system.get(dyad[1], ())
        return sum(1 for y in self._years if y in alive1 and y in alive2)

    def _blocks(self, value):
        """Per dyad: ``(s1, s2, c1, c2, years, [column of ``value(cells)`` per group])``.

        ``value`` maps a tuple of cells to what the column holds (the tuple, or its text).
        """
        years = self._years
        lo, n = years.start, len(years)
        # per group, the column of a dyad without records: where the sources cover the year
        # (and, for alliances, both states exist) zero cells, else unknown ones
        plain = [[value(zero) if y in cov else value(unknown) for y in years]
                 for _t, zero, unknown, _d, cov, _a in self._groups]
        # a pair with a state some source covers alone: its own covered years and base column
        widened: dict = {}

        def scope_of(gi: int, s1: str, s2: str):
            scoped = self._scoped[gi]
            if not scoped or (s1 not in scoped and s2 not in scoped):
                return None
            key = (gi, s1 if s1 in scoped else None, s2 if s2 in scoped else None)
            if key not in widened:
                _t, zero, unknown, _d, cov, _a = self._groups[gi]
                cov = cov | scoped.get(s1, set()) | scoped.get(s2, set())
                widened[key] = (cov, [value(zero) if y in cov else value(unknown) for y in years])
            return widened[key]

        for s1, s2 in self._dyads:
            c1, c2 = self._codes.get(s1, (None, s1))[0], self._codes.get(s2, (None, s2))[0]
            ku = (s1, s2) if s1 < s2 else (s2, s1)
            both = None
            if self._system:
                alive1, alive2 = self._system.get(s1, ()), self._system.get(s2, ())
                both = [y in alive1 and y in alive2 for y in years]
            cols = []
            for gi, ((table, zero, unknown, by_direction, cov, alliance), base) in enumerate(zip(
                    self._groups, plain, strict=True)):
                wider = scope_of(gi, s1, s2)
                if wider is not None:
                    cov, base = wider
                found = table.get((s1, s2) if by_direction else ku)
                if alliance and both is not None and not all(both):
                    col = [value(zero) if b and y in cov else value(unknown)
                           for y, b in zip(years, both, strict=True)]
                else:
                    col = base
                if found:
                    col = list(col)
                    for y, cells in found.items():
                        i = y - lo
                        if 0 <= i < n and y in cov and (not alliance or both is None or both[i]):
                            col[i] = value(cells)
                cols.append(col)
            if self._all_dyads and both is not None:
                kept = list(compress(years, both))
                cols = [list(compress(col, both)) for col in cols]
            else:
                kept = years
            yield s1, s2, c1, c2, kept, cols

    def __iter__(self):
        if self._list is not None:
            yield from self._list
            return
        for s1, s2, c1, c2, kept, cols in self._blocks(lambda cells: cells):
            rows = [(c1, c2, y, s1, s2) for y in kept]
            for col in cols:
                rows = list(map(add, rows, col))
            yield from rows

    def text_chunks(self, text, sep: str = ",", end: str = "\n"):
        """The rows as delimited text, one string per dyad (its rows, each ending in ``end``).

        :param text: a mapping from a cell value (int, str or None) to its text.
        """
        memo: dict = {}

        def value(cells):
            out = memo.get(cells)
            if out is None:
                out = memo[cells] = "".join(sep + text[c] for c in cells)
            return out

        year_text = {y: text[y] for y in self._years}
        every_year = [year_text[y] for y in self._years]
        for s1, s2, c1, c2, kept, cols in self._blocks(value):
            if not kept:
                continue
            head = text[c1] + sep + text[c2] + sep
            tail = sep + text[s1] + sep + text[s2]
            years = every_year if kept is self._years else [year_text[y] for y in kept]
            # row by row: head, year, tail, each group's cells, end (joined once per dyad)
            yield "".join(chain.from_iterable(
                zip(repeat(head), years, repeat(tail), *cols, repeat(end))))

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i):
        if self._list is None:
            self._list = list(self)
        return self._list[i]

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None


def _rows(pairs, years: range, tables, covered, codes, system, *, directed: bool,
          all_dyads: bool) -> PanelRows:
    """The panel's rows: keys, then each group's cells (None where not covered)."""
    order = sorted(pairs, key=lambda p: (codes.get(p[0], (None,))[0] or 10**6,
                                         codes.get(p[1], (None,))[0] or 10**6, p))
    dyads = [d for a, b in order for d in ([(a, b), (b, a)] if directed else [(a, b)])]
    return PanelRows(dyads, years, tables, covered, codes, system, all_dyads=all_dyads)


def dyad_year_panel(store, *, year_from: int | None = None, year_to: int | None = None,
                    directed: bool = False, states: list[str] | None = None,
                    all_dyads: bool = False, graphs: list[str] | None = None) -> Panel:
    """Build the dyad-year panel of the graphs read (see the module docstring for the columns).

    :param store: an open store (local or remote).
    :param year_from, year_to: the years (inclusive); default: the years the sources cover.
    :param directed: both orders of each pair (ATOP obligations per direction).
    :param states: only dyads with at least one of these states (ISO3 codes).
    :param all_dyads: every pair of state-system members in each year (needs a
        ``sp:SystemMembership`` list, e.g. ``kg ingest --format cow-states``); by default
        every pair with at least one tie in the years asked for.
    :param graphs: whose facts are counted (short graph names; None: all). State codes,
        names and system membership always come from the reference lists in every graph
        (:func:`reference_graphs`); the panel's ``graphs`` names them all.
    :returns: a :class:`Panel`.
    """
    with collector_paused():
        return _build_panel(store, year_from=year_from, year_to=year_to, directed=directed,
                            states=states, all_dyads=all_dyads, graphs=graphs)


def _build_panel(store, *, year_from, year_to, directed, states, all_dyads, graphs) -> Panel:
    """:func:`dyad_year_panel` (its parameters), with the collector as the caller left it."""
    graph_list = sorted(graphs) if graphs else None
    check_year_window(year_from, year_to)  # 1800-2100, as every command's years
    wanted = _check_states(states)
    info = graph_groups(store, graph_list)
    spans = {g: year_coverage(info, g) for g in GROUPS}
    present = [g for g in GROUPS if spans[g]]
    if not present:
        raise UsageError("the graphs read hold no exercises, agreements or alliances to count")
    every = set().union(*(_years_of(spans[g]) for g in present))
    lo = year_from if year_from is not None else min(every)
    hi = year_to if year_to is not None else max(every)
    if lo > hi:
        raise UsageError(f"--from {lo} is after --to {hi}")
    if wanted:
        check_states_known(store, wanted, "--states")
    codes = reference_states(store)
    system, system_end = system_years(store, lo, hi)
    if all_dyads and not system:
        raise UsageError("--all-dyads needs the state-system membership list; load it first "
                         "(kg ingest --format cow-states states2016.csv)")

    only = set(wanted) or None
    ex = exercise_pairs(store, lo, hi, graph_list, only) if spans["exercises"] else {}
    ag = agreement_counts(store, lo, hi, graph_list, only) if spans["agreements"] else {}
    at = atop_flags(store, lo, hi, graph_list, only) if spans["atop"] else {}
    cw = cow_flags(store, lo, hi, graph_list, only) if spans["cow"] else {}

    covered = {g: _coverage_of(spans[g]) for g in present}
    cols = _columns(present, directed)
    tied = set(ex).union(ag, ((a, b) for a, b, _ in at), ((a, b) for a, b, _ in cw))
    pairs = {_dyad_order(a, b, codes) for a, b in tied}
    if all_dyads:
        members = sorted(system)
        pairs.update(_dyad_order(a, b, codes) for i, a in enumerate(members)
                     for b in members[i + 1:] if system[a] & system[b])
    if wanted:
        pairs = {p for p in pairs if p[0] in wanted or p[1] in wanted}
    tables = _cell_tables(present, ex, ag, at, cw, directed)
    rows = _rows(pairs, range(lo, hi + 1), tables, covered, codes, system,
                 directed=directed, all_dyads=all_dyads)
    warnings = []
    if not system and ("atop" in present or "cow" in present):
        warnings.append("no state-system membership list is loaded: alliance columns cannot "
                        "tell a year before a state existed from a year without an alliance "
                        "(kg ingest --format cow-states states2016.csv)")
    params = {"format": "dyad-year", "from": lo, "to": hi, "directed": bool(directed),
              "states": wanted or None, "all_dyads": bool(all_dyads), "graphs": graph_list,
              "system_membership_through": system_end}
    reference = reference_graphs(store)
    read = None if graph_list is None else sorted(set(graph_list).union(*reference.values()))
    return Panel(columns=cols, rows=rows, params=params,
                 sources={g: spans[g] for g in present},
                 coverage={g: [(s["start"], s["end"]) for s in spans[g]] for g in present},
                 warnings=warnings, reference=reference, graphs=read)
