"""The one rule for "agreement in force in year Y", used by every part of kg.

An agreement is in force in year Y (at any time during Y) when Y lies between
its first and its last year in force:

* **First year**: the year of ``sp:inForceDate``; else ``sp:startYear`` (an
  alliance spell of a dyad-year dataset); else the year of ``sp:signedDate``,
  for the kinds that take effect on signature (``sp:JointDeclaration``,
  ``sp:MinisterialDialogue``), for an agreement whose status says it entered
  into force although the date is not recorded (the signing year is the
  earliest it can have), and for a dataset's agreement with no status (ATOP
  dates an alliance from its signature).
* **Pending**: status ``sp:Signed`` with no ``sp:inForceDate``, or
  ``sp:UnderNegotiation``, never counts unless ``include_pending``; then a
  signed agreement counts from its signing year (one under negotiation has no
  year and still counts in none), and so does one that entered into force
  in a later year (it was signed and pending in the years between).
* **Last year**: the earliest of the year of ``sp:endDate`` (``sp:endYear``)
  and, for an agreement that another ``sp:supersedes`` (or that is
  ``sp:supersededBy`` another), the year before the successor's first year in
  force: a change takes the whole year in which it happens, so in the year a
  successor enters into force only the successor counts. Open otherwise. An
  agreement whose status is ``sp:Superseded``, ``sp:Expired`` or
  ``sp:Terminated`` with neither an end nor a successor in force has no known
  last year and counts in no year (:func:`lifecycle_gaps` lists them).
* **Pairs**: two parties are tied by the agreement in year Y when it is in
  force in Y, both are members in Y (a party with ``sp:membership`` spells is
  a member from the year of ``sp:entryDate`` to the year of ``sp:exitDate``;
  a party without is a member for the agreement's whole life), and no
  ``sp:Suspension`` between them covers Y (from the year of its
  ``sp:startDate`` to the year of its ``sp:endDate``, inclusive).
* An agreement with ``owl:sameAs`` to an agreement with parties in the graphs
  read is a reconciled copy and is skipped, so each agreement counts once.

Only states (``id/state/ISO3``) are parties here; organizations and unknown
participants are left out. The rule is documented in the ontology
(``sp:inForceRule`` on ``sp:Agreement``) and in data/FORMAT.md.

Entry points: :func:`lifecycles` (every agreement with its years),
:func:`agreements_in_force` (agreements in force in a window, one row each),
:func:`pair_years` (one row per tied pair, agreement and year: panels),
:func:`dyads` (the network's aggregated form), :func:`counts_by_year` (per
year and type, for a focal state) and :func:`lifecycle_gaps`.

>>> rec = Lifecycle("x", "x", "LogisticsAgreement", ("LogisticsAgreement",), None,
...                 ("JPN", "USA"), None, 1996, 2016)
>>> [rec.in_force(y) for y in (1995, 1996, 2016, 2017)]
[False, True, True, False]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.errors import UsageError
from kg.namespaces import ID, SP, SPARQL_PREFIXES, check_iso3, iso3_of

__all__ = ["AGREEMENT_TYPES", "SIGNATURE_KINDS", "Lifecycle", "AgreementInForce", "PairYear",
           "lifecycles", "agreements_in_force", "pair_years", "dyads", "counts_by_year",
           "lifecycle_gaps", "type_names", "RULE", "dyads_by_window", "prefetch_lifecycles",
           "pairs_by_year"]

#: Agreement classes of the ontology (local names of ``sp:`` classes).
AGREEMENT_TYPES = (
    "Agreement",
    "AllianceSpell",
    "DefenceCooperationAgreement",
    "DefenceTreaty",
    "EquipmentTransferAgreement",
    "InformationSecurityAgreement",
    "JointDeclaration",
    "LogisticsAgreement",
    "MinisterialDialogue",
    "ReciprocalAccessAgreement",
    "StatusOfForcesAgreement",
)
#: Kinds that take effect on signature: in force from the signing year.
SIGNATURE_KINDS = frozenset({"JointDeclaration", "MinisterialDialogue"})
_ENDED = frozenset({"Superseded", "Expired", "Terminated"})
_PENDING = frozenset({"Signed", "UnderNegotiation"})
_OPEN = 10_000  # internal stand-in for an open end

#: One sentence quoted wherever the rule is cited (weighting texts, reports).
RULE = ("in force from the year of entry into force (signing for joint declarations and "
        "ministerial dialogues, or when only the signing date is known) to the year it ended; "
        "a superseded agreement until the year before its successor entered into force; "
        "signed-only and under-negotiation agreements never count; pairs only while both are "
        "members and not suspended")


def type_names(types) -> list[str] | None:
    """Check and normalize agreement type names (``sp:`` prefix optional); sorted, unique.

    >>> type_names(["sp:DefenceTreaty", "LogisticsAgreement"])
    ['DefenceTreaty', 'LogisticsAgreement']
    """
    if not types:
        return None
    out = set()
    for t in types:
        name = t.strip()
        if name.startswith("sp:"):
            name = name[3:]
        elif name.startswith(SP):
            name = name[len(SP):]
        if name not in AGREEMENT_TYPES:
            raise UsageError(f"unknown agreement type {t!r} (one of: {', '.join(AGREEMENT_TYPES)})")
        out.add(name)
    return sorted(out)


# ---------------------------------------------------------------- intervals of years

Spans = tuple  # tuple of (lo, hi) year pairs, inclusive, sorted, disjoint; hi may be _OPEN


def _intersect(a: Spans, b: Spans) -> Spans:
    out = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if lo <= hi:
                out.append((lo, hi))
    return _normal(out)


def _subtract(a: Spans, cut: Spans) -> Spans:
    out = list(a)
    for clo, chi in cut:
        nxt = []
        for lo, hi in out:
            if chi < lo or clo > hi:
                nxt.append((lo, hi))
                continue
            if lo < clo:
                nxt.append((lo, clo - 1))
            if chi < hi:
                nxt.append((chi + 1, hi))
        out = nxt
    return _normal(out)


def _normal(spans) -> Spans:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def _meets(spans: Spans, year_from, year_to) -> bool:
    lo_w = -_OPEN if year_from is None else year_from
    hi_w = _OPEN if year_to is None else year_to
    return any(lo <= hi_w and hi >= lo_w for lo, hi in spans)


def _years(spans: Spans, year_from, year_to):
    for lo, hi in spans:
        a = lo if year_from is None else max(lo, year_from)
        b = hi if year_to is None else min(hi, year_to)
        if b >= _OPEN:
            raise UsageError("give a last year (--to) to list the years of open-ended agreements")
        yield from range(a, b + 1)


# ---------------------------------------------------------------- records

@dataclass(frozen=True)
class Lifecycle:
    """One agreement and the years it is in force (``first``/``last``; ``last`` None = open).

    ``first`` None means it is in force in no year (pending, or ended with no
    known date). ``pair_spans`` maps each pair of state parties ``(a, b)``,
    ``a < b``, to the spans of years in which they are tied (memberships and
    suspensions applied); ``member_spans`` each state party to its years as a
    member while the agreement is in force.
    """

    agreement: str
    id: str
    type: str
    types: tuple
    label: str | None
    parties: tuple
    status: str | None
    first: int | None
    last: int | None
    pending: bool = False
    undated_end: bool = False
    successors: tuple = ()
    pair_spans: dict = field(default_factory=dict, compare=False, repr=False)
    member_spans: dict = field(default_factory=dict, compare=False, repr=False)

    def in_force(self, year: int) -> bool:
        """Whether the agreement is in force in ``year`` (memberships aside)."""
        if self.first is None:
            return False
        return self.first <= year and (self.last is None or year <= self.last)

    def tied(self, a: str, b: str, year: int) -> bool:
        """Whether states ``a`` and ``b`` are tied by the agreement in ``year``."""
        key = (a, b) if a < b else (b, a)
        return any(lo <= year <= hi for lo, hi in self.pair_spans.get(key, ()))


@dataclass(frozen=True)
class AgreementInForce:
    """A row of :func:`agreements_in_force`: one agreement in force in the window."""

    agreement: str
    id: str
    type: str
    label: str | None
    parties: tuple
    first: int
    last: int | None
    pairs: tuple


@dataclass(frozen=True)
class PairYear:
    """A row of :func:`pair_years`: ``a`` and ``b`` (``a < b``) tied by ``agreement`` in ``year``."""

    year: int
    a: str
    b: str
    agreement: str
    type: str


def _year(value) -> int | None:
    if value is None:
        return None
    text = value.value if hasattr(value, "value") else str(value)
    try:
        return int(text[:4]) if len(text) > 4 else int(text)
    except ValueError:
        return None


def _local(iri: str, prefix: str) -> str:
    return iri[len(prefix):] if iri.startswith(prefix) else iri


def _primary(types: list[str]) -> str:
    specific = sorted(t for t in types if t != "Agreement")
    return specific[0] if specific else "Agreement"


def _first_year(b: dict, include_pending: bool) -> tuple[int | None, bool]:
    """The first year in force of one agreement's facts ``b``, and whether it is pending.

    With ``include_pending`` an agreement that entered into force after the year it was
    signed counts from its signing year too: in the years between it was signed and not
    yet in force, which is what the option counts.

    >>> b = {"types": ("ReciprocalAccessAgreement",), "status": {"InForce"},
    ...      "inforce": 2025, "startyear": None, "signed": 2024}
    >>> _first_year(b, False), _first_year(b, True)
    ((2025, False), (2024, False))
    """
    kinds = set(b["types"])
    pending = bool(b["status"] & _PENDING) and b["inforce"] is None and not (kinds & SIGNATURE_KINDS)
    if b["inforce"] is not None:
        if include_pending and b["signed"] is not None:
            return min(b["inforce"], b["signed"]), pending
        return b["inforce"], pending
    if b["startyear"] is not None:
        return b["startyear"], pending
    if pending:
        return (b["signed"] if include_pending and "Signed" in b["status"] else None), pending
    return b["signed"], pending


_TYPE_VALUES = " ".join(f"sp:{t}" for t in AGREEMENT_TYPES)
_TYPED = f"VALUES ?t {{ {_TYPE_VALUES} }} ?s a ?t . "
#: The simple two-column tables the rule reads: name -> pattern of ``SELECT ?s ?v``. End
#: dates and labels are also held by exercises and sources (tens of thousands on a large
#: store): those two are read for the agreements only.
_TABLES = {
    "copies": "?s owl:sameAs ?v . ?v sp:party ?cp",
    "types": f"VALUES ?v {{ {_TYPE_VALUES} }} ?s a ?v",
    "status": "?s sp:status ?v",
    "inforce": "?s sp:inForceDate ?v",
    "signed": "?s sp:signedDate ?v",
    "startyear": "?s sp:startYear ?v",
    "end": _TYPED + "?s sp:endDate ?v",
    "endyear": "?s sp:endYear ?v",
    "label": _TYPED + "?s rdfs:label ?v",
    "party": "?s sp:party ?v",
    "succ": "{ ?s sp:supersedes ?v } UNION { ?v sp:supersededBy ?s }",
}
_Q_MEMBERS = SPARQL_PREFIXES + (
    "SELECT ?ag ?m ?member ?en ?ex ?msy ?mey WHERE {\n"
    "  ?ag sp:membership ?m . ?m sp:member ?member .\n"
    "  OPTIONAL { ?m sp:entryDate ?en } OPTIONAL { ?m sp:exitDate ?ex }\n"
    "  OPTIONAL { ?m sp:startYear ?msy } OPTIONAL { ?m sp:endYear ?mey }\n"
    "}")
_Q_SUSPENSIONS = SPARQL_PREFIXES + (
    "SELECT ?ag ?s (MIN(STR(?p)) AS ?a) (MAX(STR(?p)) AS ?b) (MIN(STR(?f)) AS ?from)"
    " (MIN(STR(?u)) AS ?until) WHERE {\n"
    "  ?ag sp:suspension ?s . ?s sp:suspendedParty ?p ; sp:startDate ?f .\n"
    "  OPTIONAL { ?s sp:endDate ?u }\n"
    "} GROUP BY ?ag ?s")


def _read_all(store, graphs) -> dict:
    """Every query of the rule started at once (:func:`kg.basestore.in_parallel`, two at a
    time): ``{name: handle}`` for :data:`_TABLES`, ``members`` and ``suspensions``; each
    handle's ``.result()`` is that query's rows. Simple patterns: fast on large stores."""
    from kg.basestore import in_parallel

    texts = {name: SPARQL_PREFIXES + f"SELECT ?s ?v WHERE {{ {where} }}"
             for name, where in _TABLES.items()}
    texts["members"] = _Q_MEMBERS
    texts["suspensions"] = _Q_SUSPENSIONS
    jobs = in_parallel([lambda t=t: store.select(t, graphs=graphs, own=True).rows
                        for t in texts.values()])
    return dict(zip(texts, jobs, strict=True))


def _facts(read: dict) -> dict[str, dict]:
    """Each agreement's types, status, dates, years and label, from one simple query per
    property (``read``: :func:`_read_all`)."""
    base: dict[str, dict] = {}
    copies = {s.value for s, _ in read["copies"].result()}
    for ag, typ in read["types"].result():
        if ag.value in copies:
            continue
        b = base.get(ag.value)
        if b is None:
            b = base[ag.value] = {"types": set(), "status": set(), "inforce": None, "signed": None,
                                  "startyear": None, "end": None, "endyear": None, "label": None}
        b["types"].add(typ.value[len(SP):] if typ.value.startswith(SP) else typ.value)
    for key in ("status", "inforce", "signed", "startyear", "end", "endyear", "label"):
        for ag, v in read[key].result():
            b = base.get(ag.value)
            if b is None or v is None:
                continue
            if key == "status":
                b["status"].add(v.value[len(SP):] if v.value.startswith(SP) else v.value)
            elif key == "label":
                b["label"] = v.value if b["label"] is None else min(b["label"], v.value)
            else:
                y = _year(v)
                if y is not None and (b[key] is None or y < b[key]):
                    b[key] = y
    for b in base.values():
        b["types"] = tuple(sorted(b["types"]))
    return base


def lifecycles(store, *, graphs: list[str] | None = None, types=None,
               include_pending: bool = False) -> list[Lifecycle]:
    """Every agreement in ``graphs`` with the years it is in force, by the module's rule.

    :param store: an open store (local or remote).
    :param graphs: dataset graphs to read (short names); None reads all.
    :param types: only agreements of these types (see :data:`AGREEMENT_TYPES`).
    :param include_pending: count signed-but-not-in-force agreements from their signing year.
    :returns: :class:`Lifecycle` records sorted by agreement IRI.

    Reads with a few simple queries (one per property), which stay fast on
    stores with tens of thousands of alliance spells.

    >>> recs = lifecycles(store, graphs=["curated"])  # doctest: +SKIP
    """
    cache = getattr(store, "network_cache", None)
    if cache is not None:  # one run reads the agreements once (kg.cache.run_cache)
        return cache.remember(_cache_key(graphs, types, include_pending),
                              lambda: _lifecycles(store, graphs=graphs, types=types,
                                                  include_pending=include_pending))
    return _lifecycles(store, graphs=graphs, types=types, include_pending=include_pending)


def prefetch_lifecycles(store, *, graphs: list[str] | None = None, types=None,
                        include_pending: bool = False) -> None:
    """Start reading :func:`lifecycles` in a background thread, for a run cache's store.

    The engine evaluates the lifecycle queries while the caller does other work; the
    next :func:`lifecycles` with the same arguments waits for them
    (:meth:`kg.cache.RunCache.prefetch`). Without a run cache
    (:func:`kg.cache.run_cache`) it does nothing.

    >>> prefetch_lifecycles(store, graphs=["curated"])  # doctest: +SKIP
    """
    cache = getattr(store, "network_cache", None)
    if cache is not None:
        cache.prefetch(_cache_key(graphs, types, include_pending),
                       lambda: _lifecycles(store, graphs=graphs, types=types,
                                           include_pending=include_pending))


def _cache_key(graphs, types, include_pending) -> tuple:
    """The run cache's key of :func:`lifecycles` with these arguments."""
    return ("lifecycles", tuple(sorted(graphs)) if graphs else None,
            tuple(type_names(types) or ()), bool(include_pending))


def _lifecycles(store, *, graphs, types, include_pending) -> list[Lifecycle]:
    """:func:`lifecycles` without the run cache.

    Long on purpose: it is the in-force rule itself (dates, memberships, suspensions,
    successors), kept in one reading order so that the rule can be checked against the data
    model line by line.
    """
    wanted = type_names(types)
    graph_list = sorted(graphs) if graphs else None
    read = _read_all(store, graph_list)
    base = _facts(read)
    if not base:
        for job in read.values():  # no stray query left running
            job.result()
        return []
    parties: dict[str, set] = {}
    for ag, p in read["party"].result():
        iso = iso3_of(p.value)
        if ag.value in base and iso is not None:
            parties.setdefault(ag.value, set()).add(iso)
    succ: dict[str, set] = {}
    for new, old in read["succ"].result():
        if old.value in base and new.value in base:
            succ.setdefault(old.value, set()).add(new.value)
    succ_first = {}
    for news in succ.values():
        for new in news:
            start, pend = _first_year(base[new], False)
            succ_first[new] = None if pend else start
    members: dict[str, dict[str, list]] = {}
    spells: dict[tuple, list] = {}
    for ag, m, member, en, ex, sy, ey in read["members"].result():
        iso = iso3_of(member.value)
        if ag.value in base and iso is not None:
            lo = _year(en) if en is not None else _year(sy)
            hi = _year(ex) if ex is not None else _year(ey)
            spells.setdefault((ag.value, m.value, iso), []).append((lo, hi))
    for (ag, _m, iso), found in sorted(spells.items()):
        los = [lo for lo, _ in found if lo is not None]
        his = [hi for _, hi in found if hi is not None]
        members.setdefault(ag, {}).setdefault(iso, []).append(
            (min(los) if los else None, min(his) if his else None))
    suspended: dict[str, list] = {}
    for ag, _s, a, b, f, u in read["suspensions"].result():
        ia, ib = iso3_of(a.value), iso3_of(b.value)
        if ag.value in base and ia and ib and ia != ib:
            suspended.setdefault(ag.value, []).append(
                ((ia, ib), (_year(f), _year(u) if u is not None else _OPEN)))

    out = []
    for ag, b in base.items():
        if wanted and not set(b["types"]) & set(wanted):
            continue
        start, is_pending = _first_year(b, include_pending)
        ends = [y for y in (b["end"], b["endyear"]) if y is not None]
        ends += [succ_first[s] - 1 for s in succ.get(ag, ()) if succ_first.get(s) is not None]
        last = min(ends) if ends else None
        undated = last is None and bool(b["status"] & _ENDED) and "InForce" not in b["status"]
        if undated:
            start = None  # ended, date unknown: counts in no year
        if start is not None and last is not None and last < start:
            start = last = None
        out.append(_record(ag, b, start, last, is_pending, undated, parties.get(ag, ()),
                           members.get(ag, {}), suspended.get(ag, ()), succ.get(ag, ())))
    out.sort(key=lambda r: r.agreement)
    return out


def _record(ag, b, start, last, is_pending, undated, parties, spells, suspensions, successors):
    """A :class:`Lifecycle` with its member and pair spans (memberships, suspensions applied)."""
    life: Spans = ((start, _OPEN if last is None else last),) if start is not None else ()
    ps = tuple(sorted(parties))
    mspans = {}
    for p in ps:
        if p in spells:
            mine = _normal((lo if lo is not None else -_OPEN, hi if hi is not None else _OPEN)
                           for lo, hi in spells[p])
            mspans[p] = _intersect(life, mine)
        else:
            mspans[p] = life
    pspans = {}
    for i, pa in enumerate(ps):
        for pb in ps[i + 1:]:
            ma, mb = mspans[pa], mspans[pb]
            # both members for the agreement's whole life (the common case): that life
            sp = ma if ma is life and mb is life else _intersect(ma, mb)
            cut = [span for pair, span in suspensions if set(pair) == {pa, pb}]
            if cut:
                sp = _subtract(sp, _normal(cut))
            if sp:
                pspans[(pa, pb)] = sp
    return Lifecycle(
        agreement=ag, id=_local(ag, f"{ID}agreement/"), type=_primary(list(b["types"])),
        types=b["types"], label=b["label"], parties=ps,
        status=" ".join(sorted(b["status"])) or None,
        first=start, last=last if start is not None else None, pending=is_pending,
        undated_end=undated, successors=tuple(sorted(successors)), pair_spans=pspans,
        member_spans=mspans)


def _check_window(year_from, year_to) -> None:
    if year_from is not None and year_to is not None and year_from > year_to:
        raise UsageError(f"--from {year_from} is after --to {year_to}")


def agreements_in_force(store, year_from: int | None = None, year_to: int | None = None, *,
                        focus: str | None = None, types=None, graphs: list[str] | None = None,
                        include_pending: bool = False) -> list[AgreementInForce]:
    """The agreements in force in at least one year of the window, one row each.

    :param year_from: first year (inclusive), None for open; :param year_to: last year.
    :param focus: ISO3 of a state: only agreements by which it is tied to another
        state in some year of the window (its memberships and suspensions applied).
    :param types: only these agreement types; :param graphs: graphs to read.
    :param include_pending: count signed-but-not-in-force agreements from their signing.
    :returns: :class:`AgreementInForce` rows (``first``/``last``: the agreement's own
        years in force, ``last`` None = open; ``pairs``: pairs tied in the window).

    >>> rows = agreements_in_force(store, 2025, 2025, focus="JPN")  # doctest: +SKIP
    """
    _check_window(year_from, year_to)
    if focus is not None:
        check_iso3(focus)
    out = []
    for rec in lifecycles(store, graphs=graphs, types=types, include_pending=include_pending):
        if rec.first is None:
            continue
        pairs = tuple(sorted(p for p, sp in rec.pair_spans.items() if _meets(sp, year_from, year_to)))
        if focus is not None:
            if not any(focus in p for p in pairs):
                continue
        elif not _meets(((rec.first, _OPEN if rec.last is None else rec.last),), year_from, year_to):
            continue
        out.append(AgreementInForce(rec.agreement, rec.id, rec.type, rec.label, rec.parties,
                                    rec.first, rec.last, pairs))
    return out


def pair_years(store, year_from: int, year_to: int, *, focus: str | None = None, types=None,
               graphs: list[str] | None = None, include_pending: bool = False) -> list[PairYear]:
    """One row per year, tied pair and agreement in the window (a panel), sorted.

    :param focus: only pairs that include this state.
    Other parameters as for :func:`agreements_in_force`.

    >>> rows = pair_years(store, 1990, 2025, focus="JPN")  # doctest: +SKIP
    """
    _check_window(year_from, year_to)
    rows = []
    for rec in lifecycles(store, graphs=graphs, types=types, include_pending=include_pending):
        for (a, b), sp in rec.pair_spans.items():
            if focus is not None and focus not in (a, b):
                continue
            for y in _years(sp, year_from, year_to):
                rows.append((y, a, b, rec.agreement, rec.type))
    rows.sort()  # (year, a, b, agreement) is unique: the type never decides
    return [PairYear(*row) for row in rows]


def pairs_by_year(store, year_from: int, year_to: int, *, types=None,
                  graphs: list[str] | None = None, include_pending: bool = False) -> dict:
    """:func:`pair_years` grouped by year and pair, without a row object each.

    :returns: ``{year: {(a, b): [agreement IRI, ...]}}`` for the years with a tie, the
        agreements of a pair in IRI order (as :func:`pair_years` lists them).

    >>> pairs_by_year(store, 2025, 2025)[2025][("JPN", "USA")]  # doctest: +SKIP
    """
    _check_window(year_from, year_to)
    out: dict = {}
    for rec in lifecycles(store, graphs=graphs, types=types, include_pending=include_pending):
        for pair, sp in rec.pair_spans.items():
            for y in _years(sp, year_from, year_to):
                mine = out.get(y)
                if mine is None:
                    mine = out[y] = {}
                found = mine.get(pair)
                if found is None:
                    mine[pair] = [rec.agreement]
                else:
                    found.append(rec.agreement)
    return out


def dyads(store, year_from: int | None = None, year_to: int | None = None, *, types=None,
          graphs: list[str] | None = None, include_pending: bool = False):
    """The agreement network's aggregated form for a window.

    :returns: ``(pairs, counts)``: ``pairs`` maps ``(a, b)`` (``a < b``) to
        ``(n, [types])``, the number of agreements tying them in at least one year
        of the window and their types; ``counts`` maps each state to the number of
        agreements in which it is a member in some year of the window.

    >>> pairs, counts = dyads(store, 2025, 2025)  # doctest: +SKIP
    """
    _check_window(year_from, year_to)
    pairs: dict[tuple, list] = {}
    counts: dict[str, int] = {}
    for rec in lifecycles(store, graphs=graphs, types=types, include_pending=include_pending):
        if rec.first is None:
            continue
        for p, sp in rec.member_spans.items():
            if _meets(sp, year_from, year_to):
                counts[p] = counts.get(p, 0) + 1
        for key, sp in rec.pair_spans.items():
            if _meets(sp, year_from, year_to):
                entry = pairs.setdefault(key, [0, set()])
                entry[0] += 1
                entry[1].update(t for t in rec.types)
    return {k: (n, sorted(t)) for k, (n, t) in sorted(pairs.items())}, dict(sorted(counts.items()))


def counts_by_year(store, focus: str, year_from: int, year_to: int, *, types=None,
                   graphs: list[str] | None = None, include_pending: bool = False) -> dict[int, dict]:
    """Per year, the focal state's agreements in force by (primary) type.

    An agreement counts in a year when ``focus`` is tied by it to at least one
    other state in that year.

    :returns: ``{year: {type: n}}`` for every year from ``year_from`` to ``year_to``.

    >>> counts_by_year(store, "JPN", 2020, 2025)[2025]["LogisticsAgreement"]  # doctest: +SKIP
    """
    _check_window(year_from, year_to)
    check_iso3(focus)
    out: dict[int, dict] = {y: {} for y in range(year_from, year_to + 1)}
    for rec in lifecycles(store, graphs=graphs, types=types, include_pending=include_pending):
        years = set()
        for (a, b), sp in rec.pair_spans.items():
            if focus in (a, b):
                years.update(_years(sp, year_from, year_to))
        for y in years:
            out[y][rec.type] = out[y].get(rec.type, 0) + 1
    return out


def lifecycle_gaps(store, *, graphs: list[str] | None = None) -> list[Lifecycle]:
    """Agreements that ended (superseded, expired, terminated) with no end date and no
    successor in force: the rule cannot place them in any year, so they count in none.

    >>> [r.id for r in lifecycle_gaps(store)]  # doctest: +SKIP
    """
    return [rec for rec in lifecycles(store, graphs=graphs) if rec.undated_end]


def dyads_by_window(store, windows, *, types=None, graphs: list[str] | None = None,
                    include_pending: bool = False,
                    by_type: bool = False) -> list[tuple[dict, dict]]:
    """:func:`dyads` for many windows from one pass over the lifecycles.

    Equal to ``[dyads(store, a, b, ...) for a, b in windows]`` (the tests check it
    window by window; the dicts are equal, their keys not sorted), but each
    agreement's pairs and members are visited once for all windows, and the
    windows met by a set of spans (often shared by all pairs of an agreement)
    are found once.

    :param windows: ``(year_from, year_to)`` pairs (None for an open end).
    :param by_type: give each pair's types as ``{type: n}`` (types sorted), ``n`` the
        agreements of that type tying the pair in the window: what :func:`dyads` with
        ``types=[type]`` counts for the pair (an agreement of several types counts for
        each), from the same pass.
    :returns: one ``(pairs, counts)`` per window, as :func:`dyads` gives them (with
        ``by_type``, the types of a pair as a dict of counts instead of a list).

    >>> [(pairs, counts)] = dyads_by_window(store, [(2025, 2025)])  # doctest: +SKIP
    """
    bounds = []
    for a, b in windows:
        _check_window(a, b)
        bounds.append((-_OPEN if a is None else a, _OPEN if b is None else b))
    known: dict = {}

    def met(spans) -> list:  # the windows (indexes) some span meets, as _meets decides
        found = known.get(spans)
        if found is None:
            found = known[spans] = [k for k, (lo_w, hi_w) in enumerate(bounds)
                                    if any(lo <= hi_w and hi >= lo_w for lo, hi in spans)]
        return found

    pairs: list[dict] = [{} for _ in bounds]
    counts: list[dict] = [{} for _ in bounds]
    for rec in lifecycles(store, graphs=graphs, types=types, include_pending=include_pending):
        if rec.first is None:
            continue
        for p, sp in rec.member_spans.items():
            for k in met(sp):
                counts[k][p] = counts[k].get(p, 0) + 1
        for key, sp in rec.pair_spans.items():
            for k in met(sp):
                entry = pairs[k].get(key)
                if entry is None:
                    pairs[k][key] = [1, dict.fromkeys(rec.types, 1)]
                else:
                    entry[0] += 1
                    mine = entry[1]
                    for t in rec.types:
                        mine[t] = mine.get(t, 0) + 1
    if by_type:
        return [({key: (n, {t: c[t] for t in sorted(c)}) for key, (n, c) in found.items()}, mine)
                for found, mine in zip(pairs, counts, strict=True)]
    return [({key: (n, sorted(c)) for key, (n, c) in found.items()}, mine)
            for found, mine in zip(pairs, counts, strict=True)]

