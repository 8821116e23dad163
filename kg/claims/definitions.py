"""Claim definitions: the YAML schema, loading with validation that names the field.

A claim lives in ``queries/claims/<id>.yaml``; the works it cites are in
``queries/claims/references.yaml`` (one entry per work, cited by key). The schema
is documented, with a worked example, in ``queries/claims/README.md``.

>>> [c.id for c in load_claims()][:2]
['partners-grew', 'us-share-fell']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from kg.errors import InputError, UsageError
from kg.namespaces import YEAR_MAX, YEAR_MIN, is_iso3, is_plausible_year

__all__ = ["Claim", "Reference", "REFERENCES_FILE", "SIDES", "load_claim", "load_claims",
           "load_references", "select_claims", "claims_dir"]

REFERENCES_FILE = "references.yaml"
#: Which side of the debate a claim's signature belongs to (the scorecard groups by it).
SIDES = ("hedging", "alliance-extension", "descriptive")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_KEY_RE = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
_REQUIRED = ("id", "claim", "source", "test", "expected", "minimum", "references")
_KNOWN = set(_REQUIRED) | {"number", "title", "caveats", "signature", "robustness",
                           "uncertainty", "coverage"}
_KINDS = ("sparql", "metric", "both")
_REF_REQUIRED = ("author", "title", "venue", "date", "checked")
_REF_KNOWN = set(_REF_REQUIRED) | {"doi", "url", "note", "volume", "pages"}
_COVERAGE_KINDS = ("us", "multilateral", "bilateral")
_COVERAGE_KNOWN = ("kinds", "threshold")
_UNCERTAINTY_KNOWN = ("replicates", "seed")
#: What ``test.value`` of a ``window_change`` claim may count (partners_per_year.rq's columns).
_VALUES = ("partners", "without_us")
#: Keys of ``test`` that every check may carry; each check adds its own (:data:`_CHECK_RULES`).
_TEST_COMMON = ("kind", "query", "params", "check", "windows", "statistic", "metric")
#: ``test.params`` the checks read as states (besides those a query declares as ISO3).
_STATE_PARAMS = ("state", "us")
_TWO_WINDOWS = ("baseline", "recent")
_EXERCISE_ROBUSTNESS = ("threshold", "max_participants", "shifts", "widths")
_AGREEMENT_ROBUSTNESS = ("threshold", "as_of_shifts")


class _Rules(NamedTuple):
    """What a registered check reads from its claim file, so the loader can hold it to it."""

    keys: tuple[str, ...]        #: keys of ``test`` it reads beyond :data:`_TEST_COMMON`
    windows: tuple[str, ...]     #: the windows it compares (exactly these; none: its own rule)
    directions: tuple[str, ...]  #: the values of ``expected.direction`` it implements
    minimum: tuple[str, ...]     #: the keys of ``minimum`` it reads
    queries: int                 #: how many saved queries ``test.query`` names
    robustness: tuple[str, ...]  #: the keys of ``robustness`` its grid reads


#: Per registered check, what its claim file must hold (a check registered elsewhere gets
#: the generic checks only). ``exercise_mix`` decides on ``test.decide_window`` and reports
#: every other window; the agreement checks count at ``test.as_of``.
_CHECK_RULES = {
    "window_change": _Rules(("value",), _TWO_WINDOWS, ("increase", "decrease"),
                            ("exercises_per_window", "years_with_data_per_window"), 1,
                            _EXERCISE_ROBUSTNESS),
    "share_and_partners": _Rules((), _TWO_WINDOWS,
                                 ("decrease (US share) and increase (non-US partners)",),
                                 ("exercises_per_window", "years_with_data_per_window"), 1,
                                 _EXERCISE_ROBUSTNESS),
    "new_partners_aligned": _Rules((), _TWO_WINDOWS, ("majority",), ("new_partners",), 2,
                                   _EXERCISE_ROBUSTNESS),
    "centrality_change": _Rules(("focus", "relation", "region_definition", "robustness_extra"),
                                _TWO_WINDOWS, ("increase",), ("states_per_window",), 1,
                                _EXERCISE_ROBUSTNESS),
    "exercise_mix": _Rules(("decide_window",), (), ("greater",), ("exercises_per_window",), 1,
                           _EXERCISE_ROBUSTNESS),
    "agreements_in_force": _Rules(("as_of", "threshold"), (), ("at least",),
                                  ("agreement_records",), 1, _AGREEMENT_ROBUSTNESS),
    "agreements_with_allies": _Rules(("as_of", "types"), (), ("majority",),
                                     ("agreement_partners",), 1, _AGREEMENT_ROBUSTNESS),
}
#: a relative or file path: a claim cites published works, never files on this machine
_LOCAL_PATH = re.compile(r"(?:^|[\s(\"'])\.\.?/|file:")


@dataclass(frozen=True)
class Reference:
    """A work a claim cites: where the claim is made or the literature behind it.

    ``checked`` is the address of the stored page the entry was checked against.
    """

    key: str
    author: str
    title: str
    venue: str
    date: str
    checked: str
    doi: str = ""
    url: str = ""
    note: str = ""

    def address(self) -> str:
        """The DOI as a resolvable address when there is one, else the URL."""
        return f"https://doi.org/{self.doi}" if self.doi else self.url

    def text(self) -> str:
        """One-line citation: author (date), "title", venue, address."""
        return f"{self.author} ({self.date}), \"{self.title}\", {self.venue}, {self.address()}"

    def to_json(self) -> dict:
        return {"key": self.key, "author": self.author, "title": self.title, "venue": self.venue,
                "date": self.date, "doi": self.doi, "url": self.url, "address": self.address(),
                "checked": self.checked, "note": self.note}


@dataclass
class Claim:
    """A claim definition read from ``queries/claims/<id>.yaml``."""

    id: str
    number: int
    title: str
    claim: str
    source: dict
    test: dict
    expected: dict
    minimum: dict
    references: list[dict] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    signature: dict = field(default_factory=dict)
    robustness: dict = field(default_factory=dict)
    uncertainty: dict = field(default_factory=dict)
    coverage: dict = field(default_factory=dict)
    path: str = ""

    def windows(self) -> dict[str, tuple[int, int]]:
        """The claim's windows of years, name to ``(first, last)`` inclusive."""
        return {k: (int(v[0]), int(v[1])) for k, v in self.test.get("windows", {}).items()}

    def states(self) -> list[tuple[str, str]]:
        """The states the claim names, as ``(field, ISO3)``: ``test.params`` state and us,
        ``test.focus`` (what :func:`kg.claims.check_claims` looks up in the store).

        >>> select_claims(["5"])[0].states()
        [('test.focus', 'JPN')]
        """
        params = self.test.get("params") or {}
        out = [(f"test.params.{k}", params[k]) for k in _STATE_PARAMS if k in params]
        if "focus" in self.test:
            out.append(("test.focus", self.test["focus"]))
        return out


def claims_dir() -> Path:
    """The folder of the shipped claims (``queries/claims``)."""
    from kg.resources import claims_dir as shipped

    return shipped()


def _read_yaml(p: Path, not_mapping: str) -> dict:
    """A claim or references file as the curated files are read
    (:func:`kg.ingest.curated.load_yaml_text`: a duplicate key or an alias refused, dates
    kept as text), without the line marks that loader adds.

    :param not_mapping: the message when the document is not a mapping.
    :raises InputError: naming the file (and the line where YAML knows it).
    """
    from kg.ingest.curated import load_yaml_text

    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read claim: {exc}", file=str(p)) from None
    return _unmarked(load_yaml_text(text, str(p), not_mapping))


def _unmarked(node):
    """``node`` without the ``__line__`` keys of :func:`kg.ingest.curated.load_yaml_text`."""
    if isinstance(node, dict):
        return {k: _unmarked(v) for k, v in node.items() if k != "__line__"}
    if isinstance(node, list):
        return [_unmarked(v) for v in node]
    return node


def _bad(p: Path, fld: str, msg: str) -> InputError:
    return InputError(f"field '{fld}': {msg}", file=str(p))


def _whole(p: Path, fld: str, v, least: int = 0, most: int | None = None) -> int:
    """``v`` when it is a whole number from ``least`` to ``most``, else an error naming ``fld``."""
    if not isinstance(v, int) or isinstance(v, bool):
        raise _bad(p, fld, f"{v!r} is not a whole number")
    if v < least or (most is not None and v > most):
        raise _bad(p, fld, f"{v} is not from {least} to {most}" if most is not None
                   else f"{v} is less than {least}")
    return v


def _share(p: Path, fld: str, v) -> None:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v <= 1:
        raise _bad(p, fld, f"{v!r} is not a share in (0, 1]")


def _year(p: Path, fld: str, v) -> int:
    if not is_plausible_year(v):
        raise _bad(p, fld, f"{v!r} is not a year from {YEAR_MIN} to {YEAR_MAX}")
    return v


def _state(p: Path, fld: str, v) -> None:
    if not isinstance(v, str) or not is_iso3(v):
        raise _bad(p, fld, f"{v!r} is not an ISO3 code (three upper-case letters)")


def _mapping(p: Path, fld: str, v, known) -> dict:
    """``v`` when it is a mapping with keys among ``known``, else an error naming the field."""
    if not isinstance(v, dict):
        raise _bad(p, fld, "must be a mapping")
    unknown = sorted(str(k) for k in v if k not in known)
    if unknown:
        raise _bad(p, f"{fld}.{unknown[0]}", f"unknown field (known: {', '.join(known)})")
    return v


def _whole_list(p: Path, fld: str, v, least: int | None = None) -> list[int]:
    """``v`` when it is a non-empty list of whole numbers from ``least`` (default: minus the
    span of years kg takes) to that span, else an error naming the item."""
    span = YEAR_MAX - YEAR_MIN
    if not isinstance(v, list) or not v:
        raise _bad(p, fld, "must be a non-empty list of whole numbers")
    for i, x in enumerate(v):
        _whole(p, f"{fld}[{i}]", x, -span if least is None else least, span + 1)
    return v


def load_references(directory: str | Path | None = None) -> dict[str, Reference]:
    """The bibliography ``references.yaml``: key to :class:`Reference`.

    :raises InputError: naming the file and field for a missing or malformed entry.
    """
    p = Path(directory or claims_dir()) / REFERENCES_FILE
    if not p.exists():
        return {}
    doc = _read_yaml(p, "the references file must map keys to entries")
    out: dict[str, Reference] = {}
    for key, ent in doc.items():
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise _bad(p, str(key), "a reference key is lower-case letters, digits and '-'")
        if not isinstance(ent, dict):
            raise _bad(p, key, "must be a mapping")
        for f in _REF_REQUIRED:
            if not str(ent.get(f) or "").strip():
                raise _bad(p, f"{key}.{f}", "missing")
        unknown = sorted(set(ent) - _REF_KNOWN)
        if unknown:
            raise _bad(p, f"{key}.{unknown[0]}", "unknown field")
        if not (ent.get("doi") or ent.get("url")):
            raise _bad(p, f"{key}.doi", "a reference needs a doi or a url")
        if _LOCAL_PATH.search(" ".join(str(v) for v in ent.values())):
            raise _bad(p, key, "cite the work itself, not a local file")
        out[key] = Reference(key=key, **{k: " ".join(str(v).split()) for k, v in ent.items()})
    return out


def _check_windows(p: Path, test: dict) -> None:
    """Each window is ``[first year, last year]``, years from 1800 to 2100, in order."""
    wins = test.get("windows")
    if wins is None:
        return
    if not isinstance(wins, dict) or not wins:
        raise _bad(p, "test.windows", "must map window names to [first year, last year]")
    for name, w in wins.items():
        if (not isinstance(w, (list, tuple)) or len(w) != 2
                or not all(isinstance(y, int) and not isinstance(y, bool) for y in w)
                or w[0] > w[1]):
            raise _bad(p, f"test.windows.{name}", "must be [first year, last year]")
        for y in w:
            _year(p, f"test.windows.{name}", y)


def _check_optional(p: Path, doc: dict) -> None:
    """``signature``, ``robustness``, ``uncertainty`` and ``coverage``: known keys, values
    of the right type and range (the robustness lists per check: :func:`_check_grid`)."""
    from kg.claims.uncertainty import MAX_REPLICATES

    sig = doc.get("signature")
    if sig is not None:
        if not isinstance(sig, dict):
            raise _bad(p, "signature", "must be a mapping with side and predicts")
        if sig.get("side") not in SIDES:
            raise _bad(p, "signature.side", f"must be one of {', '.join(SIDES)}")
        extra = sorted(str(k) for k in set(sig) - {"side", "predicts", "counter", "caveat"})
        if extra:
            raise _bad(p, f"signature.{extra[0]}", "unknown field")
    rules = _CHECK_RULES.get(doc["test"]["check"])
    rob = doc.get("robustness")
    if rob is not None:
        known = rules.robustness if rules else tuple(dict.fromkeys(
            _EXERCISE_ROBUSTNESS + _AGREEMENT_ROBUSTNESS))
        _mapping(p, "robustness", rob, known)
        if rob.get("threshold") is not None:
            _share(p, "robustness.threshold", rob["threshold"])
        if rob.get("max_participants") is not None:
            # max-N leaves out exercises of more than N states: every exercise has two
            _whole(p, "robustness.max_participants", rob["max_participants"], 2)
    unc = doc.get("uncertainty")
    if unc is not None:
        _mapping(p, "uncertainty", unc, _UNCERTAINTY_KNOWN)
        if unc.get("replicates") is not None:
            _whole(p, "uncertainty.replicates", unc["replicates"], 1, MAX_REPLICATES)
        if unc.get("seed") is not None:
            _whole(p, "uncertainty.seed", unc["seed"])
    cov = doc.get("coverage")
    if cov is not None:
        _mapping(p, "coverage", cov, _COVERAGE_KNOWN)
        kinds = cov.get("kinds")
        if kinds is not None and (not isinstance(kinds, list)
                                  or not all(isinstance(k, str) and k in _COVERAGE_KINDS
                                             for k in kinds)):
            raise _bad(p, "coverage.kinds", f"must be a list of {', '.join(_COVERAGE_KINDS)}")
        if cov.get("threshold") is not None:
            _share(p, "coverage.threshold", cov["threshold"])


def _check_params(p: Path, test: dict, queries: list[str]) -> None:
    """``test.params``: a mapping of parameters the claim's queries declare (or the checks
    read as states), each a scalar of the declared kind (ISO3 codes checked for form)."""
    from kg.claims.checks import query_path
    from kg.queries import load_query

    params = test.get("params")
    if params is None:
        return
    if not isinstance(params, dict):
        raise _bad(p, "test.params", "must be a mapping of parameter names to values "
                   "(e.g. {state: JPN})")
    declared = {}
    for q in queries:
        for prm in load_query(str(query_path(q, p.parent))).params:
            declared.setdefault(prm.name, prm.kind)
    for k, v in params.items():
        fld = f"test.params.{k}"
        if k not in declared and k not in _STATE_PARAMS:
            names = ", ".join(sorted(set(declared) | set(_STATE_PARAMS)))
            raise _bad(p, fld, f"no query of the claim declares it (parameters: {names})")
        if not isinstance(v, (str, int)) or isinstance(v, bool):
            raise _bad(p, fld, f"{v!r} must be a single value (a code, a number or a word)")
        if k in _STATE_PARAMS or declared.get(k) == "iso3":
            _state(p, fld, v)
        elif declared.get(k) == "integer":
            _whole(p, fld, v, -(10**9 - 1), 10**9 - 1)


def _check_grid(p: Path, doc: dict, rules: _Rules) -> None:
    """The robustness grid's shifts and widths (or as-of shifts): whole numbers no larger
    than the span of years kg takes (a width of 0 divided by zero, one of 10**9 ran without
    end). A variant whose years fall outside 1800-2100 is read as having no data, as the
    default grid's are near either end, so it is not refused here."""
    rob = doc.get("robustness") or {}
    if "as_of_shifts" in rob:
        _whole_list(p, "robustness.as_of_shifts", rob["as_of_shifts"])
    if "shifts" in rob:
        _whole_list(p, "robustness.shifts", rob["shifts"])
    if "widths" in rob:
        _whole_list(p, "robustness.widths", rob["widths"], 1)


def _check_rules(p: Path, doc: dict, queries: list[str]) -> None:
    """Hold a claim to what its check reads (:data:`_CHECK_RULES`): the keys of ``test``,
    its windows, ``expected.direction``, ``minimum`` and the check's own parameters.

    :raises InputError: naming the file and the field.
    """
    test, check = doc["test"], doc["test"]["check"]
    rules = _CHECK_RULES.get(check)
    minimum = doc["minimum"]
    if rules is None:  # a check registered elsewhere: the generic checks only
        for k, v in minimum.items():
            _whole(p, f"minimum.{k}", v)
        return
    known = _TEST_COMMON + rules.keys
    unknown = sorted(str(k) for k in test if k not in known)
    if unknown:
        raise _bad(p, f"test.{unknown[0]}", f"unknown field for check {check} "
                   f"(known: {', '.join(known)})")
    q = test.get("query")
    if rules.queries == 1 and not isinstance(q, str):
        raise _bad(p, "test.query", f"check {check} runs one saved query: give its file name")
    if rules.queries == 2 and not (isinstance(q, list) and len(q) == 2):
        raise _bad(p, "test.query", f"check {check} runs two saved queries: give "
                   "[windows query, agreements query]")
    for k in minimum:
        if k not in rules.minimum:
            raise _bad(p, f"minimum.{k}", f"unknown field for check {check} "
                       f"(known: {', '.join(rules.minimum)})")
        _whole(p, f"minimum.{k}", minimum[k])
    direction = doc["expected"].get("direction")
    if direction not in rules.directions:
        raise _bad(p, "expected.direction", f"{direction!r}: check {check} implements "
                   + " or ".join(repr(d) for d in rules.directions))
    wins = test.get("windows") or {}
    if rules.windows:
        if set(wins) != set(rules.windows):
            raise _bad(p, "test.windows", f"check {check} compares exactly the windows "
                       f"{' and '.join(rules.windows)} (given: {', '.join(map(str, wins)) or 'none'})")
        if wins["baseline"][1] >= wins["recent"][0]:
            raise _bad(p, "test.windows", f"the baseline window {wins['baseline'][0]}-"
                       f"{wins['baseline'][1]} must end before the recent window "
                       f"{wins['recent'][0]}-{wins['recent'][1]} starts")
    _check_test_values(p, test, rules)
    _check_params(p, test, queries)
    _check_grid(p, doc, rules)


def _check_test_values(p: Path, test: dict, rules: _Rules) -> None:
    """The check's own keys of ``test``: the value counted, the deciding window, the year and
    threshold of the count, the agreement types, the focal state and region, the relation."""
    check, wins = test["check"], test.get("windows") or {}
    if "value" in rules.keys and test.get("value", "partners") not in _VALUES:
        raise _bad(p, "test.value", f"{test['value']!r} is not one of {', '.join(_VALUES)}")
    if "decide_window" in rules.keys:
        dw = test.get("decide_window", "recent")
        if not isinstance(dw, str) or dw not in wins:
            raise _bad(p, "test.decide_window", f"{dw!r} is not one of the windows "
                       f"({', '.join(map(str, wins)) or 'none'})")
    if "as_of" in rules.keys:
        if "as_of" not in test:
            raise _bad(p, "test.as_of", "missing (the year the agreements are counted in)")
        as_of = _year(p, "test.as_of", test["as_of"])
        if wins and (set(wins) != {"as_of"} or list(wins["as_of"]) != [as_of, as_of]):
            raise _bad(p, "test.windows", f"check {check} reads one window, as_of: "
                       f"[{as_of}, {as_of}] (the year of test.as_of)")
    if "threshold" in rules.keys and "threshold" in test:
        _whole(p, "test.threshold", test["threshold"], 1)
    if "types" in rules.keys and "types" in test:
        from kg.inforce import AGREEMENT_TYPES

        types = test["types"]
        if (not isinstance(types, list) or not types
                or not all(isinstance(t, str) and t in AGREEMENT_TYPES for t in types)):
            raise _bad(p, "test.types", f"must be a list of agreement types "
                       f"({', '.join(AGREEMENT_TYPES)})")
    if "focus" in test:
        _state(p, "test.focus", test["focus"])
    if "robustness_extra" in test:
        extra = test["robustness_extra"]
        if not isinstance(extra, list):
            raise _bad(p, "test.robustness_extra", "must be a list of ISO3 codes")
        for i, code in enumerate(extra):
            _state(p, f"test.robustness_extra[{i}]", code)
    if "relation" in test:
        from kg.network import RELATIONS

        if test["relation"] not in RELATIONS:
            raise _bad(p, "test.relation", f"{test['relation']!r} is not one of "
                       f"{', '.join(RELATIONS)}")


def load_claim(path: str | Path, references: dict[str, Reference] | None = None) -> Claim:
    """Read and check one claim file.

    :param path: a ``.yaml`` claim file.
    :param references: the bibliography (read from the file's folder when None).
    :raises InputError: naming the file and the field, for bad YAML (a duplicate key too), a
        missing or unknown field, a bad id or number, an unknown test kind or check, a
        malformed window, a value of the wrong type or out of range for the claim's check
        (:data:`_CHECK_RULES`), or a reference key not in ``references.yaml``.
    """
    from kg.claims.checks import CHECKS

    p = Path(path)
    doc = _read_yaml(p, "a claim file must be a mapping")
    for k in _REQUIRED:
        if k not in doc:
            raise _bad(p, k, "missing")
    unknown = sorted(str(k) for k in set(doc) - _KNOWN)
    if unknown:
        raise _bad(p, unknown[0], "unknown field")
    cid = str(doc["id"])
    if not _ID_RE.match(cid):
        raise _bad(p, "id", f"bad claim id {cid!r} (lower-case letters, digits and '-')")
    number = doc.get("number")
    if number is not None:
        _whole(p, "number", number, 1)
    test = doc["test"]
    if not isinstance(test, dict):
        raise _bad(p, "test", "must be a mapping")
    if test.get("kind") not in _KINDS:
        raise _bad(p, "test.kind", f"must be one of {', '.join(_KINDS)}")
    if not isinstance(test.get("check"), str) or test["check"] not in CHECKS:
        raise _bad(p, "test.check", f"unknown check {test.get('check')!r} "
                   f"(known: {', '.join(CHECKS)})")
    _check_windows(p, test)
    from kg.claims.checks import query_path

    queries = test.get("query")
    queries = [queries] if isinstance(queries, str) else (queries or [])
    if not isinstance(queries, list):
        raise _bad(p, "test.query", f"{queries!r} must be the file name of a saved query (.rq)")
    for q in queries:
        if not isinstance(q, str) or not q.endswith(".rq") or "/" in q or "\\" in q:
            raise _bad(p, "test.query", f"{q!r} must be the file name of a saved query (.rq)")
        if not query_path(q, p.parent).is_file():
            raise _bad(p, "test.query", f"no saved query {q!r} next to the claim or in the "
                       "shipped claims folder")
    for key in ("source", "expected", "minimum"):
        if not isinstance(doc[key], dict):
            raise _bad(p, key, "must be a mapping")
    if _LOCAL_PATH.search(repr(doc.get("source"))):
        raise _bad(p, "source", "name the published work, not a local file")
    caveats = doc.get("caveats") or []
    if not isinstance(caveats, list):
        raise _bad(p, "caveats", "must be a list")
    _check_rules(p, doc, queries)
    _check_optional(p, doc)
    refs = doc["references"]
    if not isinstance(refs, list) or not refs:
        raise _bad(p, "references", "must be a non-empty list of {key, role}")
    bib = load_references(p.parent) if references is None else references
    for i, r in enumerate(refs):
        if not isinstance(r, dict) or "key" not in r:
            raise _bad(p, f"references[{i}].key", "missing")
        if not isinstance(r["key"], str) or r["key"] not in bib:
            raise _bad(p, f"references[{i}].key", f"{r['key']!r} is not in {REFERENCES_FILE}")
    return Claim(id=cid, number=number or 0, title=str(doc.get("title") or cid),
                 claim=" ".join(str(doc["claim"]).split()), source=doc["source"], test=test,
                 expected=doc["expected"], minimum=doc["minimum"], references=refs,
                 caveats=[" ".join(str(c).split()) for c in caveats],
                 signature=doc.get("signature") or {}, robustness=doc.get("robustness") or {},
                 uncertainty=doc.get("uncertainty") or {}, coverage=doc.get("coverage") or {},
                 path=str(p))


def load_claims(directory: str | Path | None = None) -> list[Claim]:
    """Every claim in ``queries/claims/`` (or ``directory``), ordered by number then id.

    :raises InputError: for a bad claim file or two files with the same id or number.
    :raises UsageError: when the folder does not exist or holds no claim file.
    """
    d = Path(directory) if directory else claims_dir()
    named = f"--claims-dir {d}" if directory else f"the claims folder {d}"
    if not d.is_dir():
        raise UsageError(f"{named}: no such folder")
    files = [p for p in sorted(d.glob("*.yaml")) if p.name != REFERENCES_FILE]
    if not files:
        raise UsageError(f"{named}: no claim file (*.yaml) in it")
    bib = load_references(d)
    claims = [load_claim(p, bib) for p in files]
    seen: dict[str, str] = {}
    numbered: dict[int, str] = {}
    for c in claims:
        if c.id in seen:
            raise _bad(Path(c.path), "id", f"claim id {c.id!r} also defined in {seen[c.id]}")
        seen[c.id] = c.path
        if c.number and c.number in numbered:  # `kg claims check 4` would pick one of them
            raise _bad(Path(c.path), "number", f"claim number {c.number} also used by "
                       f"{numbered[c.number]}")
        numbered[c.number] = c.path
    return sorted(claims, key=lambda c: (c.number or 10**6, c.id))


def select_claims(ids: list[str] | None = None, directory: str | Path | None = None) -> list[Claim]:
    """The claims named by id (or number); all of them when ``ids`` is empty.

    >>> [c.id for c in select_claims(["4"])]
    ['raa-three-by-2025']
    """
    claims = load_claims(directory)
    if not ids:
        return claims
    by_id = {c.id: c for c in claims}
    by_num = {str(c.number): c for c in claims if c.number}
    out: list[Claim] = []
    for i in ids:
        c = by_id.get(i) or by_num.get(i)
        if c is None:
            raise UsageError(f"no claim {i!r} (claims: {', '.join(by_id)})")
        if c not in out:
            out.append(c)
    return out
