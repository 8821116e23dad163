"""A seeded synthetic world in the project's ontology, written as N-Triples.

The world has about 200 states (the real ISO3 codes, names, regions and
capitals of the current states in ``data/states.yaml``, topped up with
synthetic ``XQ?`` codes), three armed forces per state (land, sea, air),
recurring exercise series with one exercise per series and year from 1990 to
2025 (2 to 12 participants each, one participating force for most
participants, sometimes an observer), defence agreements of every type with
their parties, dates and status, and one ``sp:Source`` for every exercise and
agreement. States take part with a skewed (Zipf-like) activity, so the
network has hubs like the real one.

The output conforms to ``ontology/shapes.ttl`` and has no duplicate lines, so
a graph loaded from it holds exactly as many triples as the file has lines.
The same seed and size always give the same bytes.

Usage::

    python benchmarks/generate.py --triples 100000 --out world-100k.nt
    python benchmarks/generate.py --triples 1000000 --seed 7 --out world-1m.nt

>>> import io
>>> buf = io.StringIO()
>>> generate_world(5000, buf).triples <= 5000
True
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

__all__ = ["WorldStats", "load_states", "generate_world", "write_world", "main"]

ROOT = Path(__file__).resolve().parents[1]
SP = "https://w3id.org/secpart/ontology#"
ID = "https://w3id.org/secpart/id/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
XSD = "http://www.w3.org/2001/XMLSchema#"
DCT = "http://purl.org/dc/terms/"

FORCES = (("ARMY", "Army", "Land"), ("NAVY", "Navy", "Sea"), ("AIR", "Air Force", "Air"))
EXERCISE_DOMAINS = ("Sea", "Land", "Air", "Joint", "Amphibious", "Humanitarian")
AGREEMENT_TYPES = ("DefenceTreaty", "StatusOfForcesAgreement", "ReciprocalAccessAgreement",
                   "LogisticsAgreement", "InformationSecurityAgreement",
                   "EquipmentTransferAgreement", "DefenceCooperationAgreement", "JointDeclaration")
PUBLISHERS = ("Ministry of Defence", "Ministry of Foreign Affairs", "Defense News", "Naval Today",
              "Reuters", "Jane's Defence Weekly")
YEARS = (1990, 2025)


@dataclass
class WorldStats:
    """What :func:`generate_world` wrote."""

    triples: int = 0
    states: int = 0
    forces: int = 0
    series: int = 0
    exercises: int = 0
    agreements: int = 0
    sources: int = 0
    seed: int = 0


def _iri(path: str) -> str:
    return f"<{ID}{path}>"


def _sp(term: str) -> str:
    return f"<{SP}{term}>"


def _str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _typed(value: str, dtype: str) -> str:
    return f'"{value}"^^<{XSD}{dtype}>'


def _decimal(x: float) -> str:
    """Canonical xsd:decimal text with at most two decimals (what Oxigraph writes back)."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def load_states(n: int = 200) -> list[dict]:
    """The current states of ``data/states.yaml`` (sorted by ISO3), topped up to ``n``.

    Dissolved states are left out; when fewer than ``n`` remain, synthetic
    states ``XQA``, ``XQB``, ... fill the list (with made-up coordinates).
    """
    import yaml

    with open(ROOT / "data" / "states.yaml", encoding="utf-8") as fh:
        records = yaml.safe_load(fh)["states"]
    states = sorted((s for s in records if not s.get("dissolved") and "lat" in s),
                    key=lambda s: s["iso3"])[:n]
    taken = {s["iso3"] for s in states}
    i = 0
    while len(states) < n:
        code = "XQ" + chr(ord("A") + i % 26) if i < 26 else f"X{chr(65 + i // 26)}{chr(65 + i % 26)}"
        i += 1
        if code in taken:
            continue
        taken.add(code)
        states.append({"iso3": code, "name": f"Synthetic State {code}", "region": "Synthetic",
                       "lat": round(-40 + (i * 7.3) % 80, 2), "lon": round(-170 + (i * 37.1) % 340, 2)})
    return states


def _date(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


class _Writer:
    def __init__(self, out: TextIO, limit: int):
        self.out = out
        self.limit = limit
        self.n = 0
        self.buf: list[str] = []

    def add(self, s: str, p: str, o: str) -> None:
        self.buf.append(f"{s} {p} {o} .\n")

    def commit(self) -> None:
        self.out.write("".join(self.buf))
        self.n += len(self.buf)
        self.buf.clear()

    def fits(self) -> bool:
        return self.n + len(self.buf) <= self.limit


def generate_world(triples: int, out: TextIO, *, seed: int = 42, n_states: int = 200,
                   agreement_share: float = 0.12) -> WorldStats:
    """Write a synthetic world of at most ``triples`` N-Triples lines to ``out``.

    :param triples: the size to reach (the file ends at the last whole record that fits).
    :param out: a text stream.
    :param seed: the random seed (same seed and size, same bytes).
    :param n_states: how many states (about 200 by default).
    :param agreement_share: the share of the triples spent on agreements.

    Example: ``generate_world(100_000, open("w.nt", "w"), seed=1)``.
    """
    rng = random.Random(seed)
    stats = WorldStats(seed=seed)
    w = _Writer(out, triples)
    states = load_states(n_states)
    codes = [s["iso3"] for s in states]
    # skewed activity: a few hubs take part in many exercises (Zipf, exponent 0.8)
    order = codes[:]
    rng.shuffle(order)
    weight = {c: 1.0 / (rank + 1) ** 0.8 for rank, c in enumerate(order)}
    weights = [weight[c] for c in codes]

    for s in states:
        st = _iri(f"state/{s['iso3']}")
        w.add(st, RDF_TYPE, _sp("State"))
        w.add(st, _sp("iso3"), _str(s["iso3"]))
        w.add(st, LABEL, _str(s["name"]) + "@en")
        w.add(st, _sp("region"), _str(s["region"]))
        w.add(st, _sp("lat"), _typed(_decimal(float(s['lat'])), "decimal"))
        w.add(st, _sp("lon"), _typed(_decimal(float(s['lon'])), "decimal"))
        for key, name, domain in FORCES:
            f = _iri(f"force/{s['iso3']}-SYN-{key}")
            w.add(f, RDF_TYPE, _sp("ArmedForce"))
            w.add(f, LABEL, _str(f"{s['name']} {name} (synthetic)") + "@en")
            w.add(f, _sp("ofState"), st)
            w.add(f, _sp("domain"), _sp(domain))
            stats.forces += 1
        stats.states += 1
    w.commit()

    def source(key: str, title: str, day: dt.date) -> str:
        src = _iri(f"source/syn-{key}")
        w.add(src, RDF_TYPE, _sp("Source"))
        w.add(src, f"<{DCT}title>", _str(title))
        w.add(src, f"<{DCT}publisher>", _str(rng.choice(PUBLISHERS)))
        w.add(src, f"<{DCT}issued>", _typed(day.isoformat(), "date"))
        w.add(src, _sp("url"), _typed(f"https://example.org/synthetic/{key}", "anyURI"))
        return src

    budget_agreements = int((triples - w.n) * agreement_share)
    n_series = max(4, (triples - w.n) // 29 // 20)
    series = []
    for k in range(n_series):
        sid = _iri(f"series/syn-{k:05d}")
        domain = rng.choice(EXERCISE_DOMAINS)
        label = f"Synthetic Series {k:05d}"
        w.add(sid, RDF_TYPE, _sp("ExerciseSeries"))
        w.add(sid, LABEL, _str(label) + "@en")
        w.add(sid, _sp("domain"), _sp(domain))
        # a series has a core of members and runs in a span of years
        core_size = rng.choice((2, 2, 3, 3, 4, 5, 6, 8))
        core = set()
        while len(core) < core_size:
            core.add(rng.choices(codes, weights)[0])
        first = rng.randint(YEARS[0], YEARS[1] - 5)
        series.append((sid, label, domain, sorted(core), first, k))
    w.commit()
    stats.series = n_series

    # exercises: round-robin over series and years until the budget is spent
    ex_limit = triples - budget_agreements
    year_of = {}
    n_ex = 0
    while True:
        sid, label, domain, core, first, k = series[n_ex % n_series]
        year = first + (n_ex // n_series) % (YEARS[1] - first + 1)
        seq = year_of.get((k, year), 0) + 1
        year_of[(k, year)] = seq
        n_ex += 1
        size = min(len(codes), rng.choice((2, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 9, 10, 11, 12)))
        parts = set(core[:size])
        while len(parts) < size:
            parts.add(rng.choices(codes, weights)[0])
        parts = sorted(parts)
        eid = f"syn-{k:05d}-{year}" + (f"-{seq}" if seq > 1 else "")
        ex = _iri(f"exercise/{eid}")
        start = _date(rng, year)
        end = start + dt.timedelta(days=rng.randint(2, 21))
        w.add(ex, RDF_TYPE, _sp("Exercise"))
        w.add(ex, LABEL, _str(f"{label} {year}" + (f" ({seq})" if seq > 1 else "")) + "@en")
        w.add(ex, _sp("series"), sid)
        w.add(ex, _sp("year"), _typed(str(year), "integer"))
        w.add(ex, _sp("startDate"), _typed(start.isoformat(), "date"))
        w.add(ex, _sp("endDate"), _typed(end.isoformat(), "date"))
        w.add(ex, _sp("domain"), _sp(domain))
        w.add(ex, _sp("host"), _iri(f"state/{rng.choice(parts)}"))
        for c in parts:
            w.add(ex, _sp("participant"), _iri(f"state/{c}"))
            if rng.random() < 0.7:
                key = rng.choice(FORCES)[0]
                w.add(ex, _sp("participantForce"), _iri(f"force/{c}-SYN-{key}"))
        if rng.random() < 0.1:
            obs = rng.choice(codes)
            if obs not in parts:
                w.add(ex, _sp("observer"), _iri(f"state/{obs}"))
        w.add(ex, _sp("source"), source(f"ex-{eid}", f"Report on {label} {year}", end))
        if not w.fits() or w.n + len(w.buf) > ex_limit:
            w.buf.clear()
            break
        w.commit()
        stats.exercises += 1
        stats.sources += 1

    # agreements: until the file is full
    n_ag = 0
    while True:
        n_ag += 1
        kind = rng.choice(AGREEMENT_TYPES)
        size = 2 if rng.random() < 0.8 else rng.randint(3, 4)
        parties = set()
        while len(parties) < size:
            parties.add(rng.choices(codes, weights)[0])
        parties = sorted(parties)
        signed = _date(rng, rng.randint(YEARS[0], YEARS[1]))
        aid = f"syn-{'-'.join(p.lower() for p in parties)}-{n_ag:06d}"
        ag = _iri(f"agreement/{aid}")
        w.add(ag, RDF_TYPE, _sp(kind))
        w.add(ag, LABEL, _str(f"Synthetic {kind} {n_ag} ({', '.join(parties)})") + "@en")
        for p in parties:
            w.add(ag, _sp("party"), _iri(f"state/{p}"))
        w.add(ag, _sp("signedDate"), _typed(signed.isoformat(), "date"))
        status = rng.choice(("InForce", "InForce", "InForce", "Signed", "Expired"))
        if status != "Signed":
            in_force = signed + dt.timedelta(days=rng.randint(0, 700))
            w.add(ag, _sp("inForceDate"), _typed(in_force.isoformat(), "date"))
            if status == "Expired":
                w.add(ag, _sp("endDate"),
                      _typed((in_force + dt.timedelta(days=rng.randint(365, 3650))).isoformat(), "date"))
        w.add(ag, _sp("status"), _sp(status))
        w.add(ag, _sp("source"), source(f"ag-{aid}", f"Text of agreement {n_ag}", signed))
        if not w.fits():
            w.buf.clear()
            break
        w.commit()
        stats.agreements += 1
        stats.sources += 1
    stats.triples = w.n
    return stats


def write_world(path: str | Path, triples: int, *, seed: int = 42) -> WorldStats:
    """Write a world of about ``triples`` triples to ``path`` (N-Triples, UTF-8).

    Example: ``write_world("/tmp/w.nt", 300_000)``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        stats = generate_world(triples, fh, seed=seed)
    tmp.replace(path)
    return stats


def _size(text: str) -> int:
    t = text.lower().replace("_", "")
    mult = 1
    if t.endswith("k"):
        mult, t = 1000, t[:-1]
    elif t.endswith("m"):
        mult, t = 1_000_000, t[:-1]
    return int(float(t) * mult)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``generate.py --triples 100k --seed 42 --out FILE``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--triples", default="100k", help="size, e.g. 100000, 100k, 1m (default 100k)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", required=True, help="output file (.nt)")
    args = ap.parse_args(argv)
    stats = write_world(args.out, _size(args.triples), seed=args.seed)
    print(f"{args.out}: {stats.triples} triples, {stats.states} states, {stats.forces} forces, "
          f"{stats.series} series, {stats.exercises} exercises, {stats.agreements} agreements, "
          f"{stats.sources} sources (seed {stats.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
