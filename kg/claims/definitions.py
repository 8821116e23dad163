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

from kg.errors import InputError, UsageError

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


def claims_dir() -> Path:
    """The folder of the shipped claims (``queries/claims``)."""
    from kg.resources import claims_dir as shipped

    return shipped()


def _read_yaml(p: Path):
    import yaml

    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read claim: {exc}", file=str(p)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=str(p),
                         where=where) from None


def _bad(p: Path, fld: str, msg: str) -> InputError:
    return InputError(f"field '{fld}': {msg}", file=str(p))


def load_references(directory: str | Path | None = None) -> dict[str, Reference]:
    """The bibliography ``references.yaml``: key to :class:`Reference`.

    :raises InputError: naming the file and field for a missing or malformed entry.
    """
    p = Path(directory or claims_dir()) / REFERENCES_FILE
    if not p.exists():
        return {}
    doc = _read_yaml(p)
    if not isinstance(doc, dict):
        raise InputError("the references file must map keys to entries", file=str(p))
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


def _check_optional(p: Path, doc: dict) -> None:
    sig = doc.get("signature")
    if sig is not None:
        if not isinstance(sig, dict):
            raise _bad(p, "signature", "must be a mapping with side and predicts")
        if sig.get("side") not in SIDES:
            raise _bad(p, "signature.side", f"must be one of {', '.join(SIDES)}")
        extra = sorted(set(sig) - {"side", "predicts", "counter", "caveat"})
        if extra:
            raise _bad(p, f"signature.{extra[0]}", "unknown field")
    for key, ints in (("robustness", ("max_participants",)),
                      ("uncertainty", ("replicates", "seed"))):
        val = doc.get(key)
        if val is None:
            continue
        if not isinstance(val, dict):
            raise _bad(p, key, "must be a mapping")
        for k in ints:
            v = val.get(k)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise _bad(p, f"{key}.{k}", "must be a non-negative integer")
        thr = val.get("threshold")
        if thr is not None and not (isinstance(thr, (int, float)) and 0 < thr <= 1):
            raise _bad(p, f"{key}.threshold", "must be a share in (0, 1]")
    cov = doc.get("coverage")
    if cov is not None:
        if not isinstance(cov, dict):
            raise _bad(p, "coverage", "must be a mapping")
        kinds = cov.get("kinds")
        if kinds is not None and (not isinstance(kinds, list)
                                  or not set(kinds) <= set(_COVERAGE_KINDS)):
            raise _bad(p, "coverage.kinds", f"must be a list of {', '.join(_COVERAGE_KINDS)}")
        thr = cov.get("threshold")
        if thr is not None and not (isinstance(thr, (int, float)) and 0 < thr <= 1):
            raise _bad(p, "coverage.threshold", "must be a share in (0, 1]")


def load_claim(path: str | Path, references: dict[str, Reference] | None = None) -> Claim:
    """Read and check one claim file.

    :param path: a ``.yaml`` claim file.
    :param references: the bibliography (read from the file's folder when None).
    :raises InputError: naming the file and the field, for bad YAML, a missing or unknown
        field, a bad id, an unknown test kind or check, a malformed window, or a reference
        key not in ``references.yaml``.
    """
    from kg.claims.checks import CHECKS

    p = Path(path)
    doc = _read_yaml(p)
    if not isinstance(doc, dict):
        raise InputError("a claim file must be a mapping", file=str(p))
    for k in _REQUIRED:
        if k not in doc:
            raise _bad(p, k, "missing")
    unknown = sorted(set(doc) - _KNOWN)
    if unknown:
        raise _bad(p, unknown[0], "unknown field")
    cid = str(doc["id"])
    if not _ID_RE.match(cid):
        raise _bad(p, "id", f"bad claim id {cid!r} (lower-case letters, digits and '-')")
    test = doc["test"]
    if not isinstance(test, dict):
        raise _bad(p, "test", "must be a mapping")
    if test.get("kind") not in _KINDS:
        raise _bad(p, "test.kind", f"must be one of {', '.join(_KINDS)}")
    if test.get("check") not in CHECKS:
        raise _bad(p, "test.check", f"unknown check {test.get('check')!r} "
                   f"(known: {', '.join(CHECKS)})")
    _check_windows(p, test)
    from kg.claims.checks import query_path

    queries = test.get("query")
    for q in [queries] if isinstance(queries, str) else (queries or []):
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
    _check_optional(p, doc)
    refs = doc["references"]
    if not isinstance(refs, list) or not refs:
        raise _bad(p, "references", "must be a non-empty list of {key, role}")
    bib = load_references(p.parent) if references is None else references
    for i, r in enumerate(refs):
        if not isinstance(r, dict) or "key" not in r:
            raise _bad(p, f"references[{i}].key", "missing")
        if r["key"] not in bib:
            raise _bad(p, f"references[{i}].key", f"{r['key']!r} is not in {REFERENCES_FILE}")
    return Claim(id=cid, number=int(doc.get("number") or 0), title=str(doc.get("title") or cid),
                 claim=" ".join(str(doc["claim"]).split()), source=doc["source"], test=test,
                 expected=doc["expected"], minimum=doc["minimum"], references=refs,
                 caveats=[" ".join(str(c).split()) for c in caveats],
                 signature=doc.get("signature") or {}, robustness=doc.get("robustness") or {},
                 uncertainty=doc.get("uncertainty") or {}, coverage=doc.get("coverage") or {},
                 path=str(p))


def load_claims(directory: str | Path | None = None) -> list[Claim]:
    """Every claim in ``queries/claims/`` (or ``directory``), ordered by number then id.

    :raises InputError: for a bad claim file or two files with the same id.
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
    for c in claims:
        if c.id in seen:
            raise _bad(Path(c.path), "id", f"claim id {c.id!r} also defined in {seen[c.id]}")
        seen[c.id] = c.path
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
