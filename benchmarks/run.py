"""``make bench``: kg against the raw Oxigraph engine, in one run, on a generated world.

Measures (each a median of several repetitions; 3 for the big ones):

* ``kg ingest`` of the ~1M-triple world (a whole process, parse + SHACL
  validation in the engine + atomic write, into a store that holds
  ``kg build``) against ``pyoxigraph.Store(path).bulk_load`` of the same file
  into a copy of the same store (ratio); the ~100k world too;
* each saved query (``queries/*.rq``, default parameters) through the library
  (``kg.queries.run_saved`` on a read-only ``LocalStore``) against the same
  SPARQL text (parameters bound with the same ``VALUES`` block) on a raw
  ``pyoxigraph.Store`` opened on a copy of the data (ratio);
* ``kg metrics`` for one window and ``--by-year`` (whole processes);
* ``kg map`` on the store (whole process), ``kg.map.render_graph`` of a
  generated 1,000-node graph, and the time headless Chromium takes to load
  and draw it;
* the map through time (:mod:`kg.map`): a generated 1,000-state, 36-year
  page (``benchmarks/map_world.py``), its load in headless Chromium and one
  slider step (``bench_map_time``);
* ``kg --help`` and ``kg query run partners`` as whole processes (start-up).

It prints a table, states each target met or not met with the measured gap,
and writes ``bench-results/bench.json``. ``--quick`` uses the ~100k world and
one repetition. A measurement whose repetitions pass its time budget stops
early (the JSON records how many ran), so the whole run stays within about
ten minutes on a 2-core machine.

Usage::

    python benchmarks/run.py            # the full benchmark (make bench)
    python benchmarks/run.py --quick    # a try-out in about a minute
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main", "Bench"]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402

KG = [sys.executable, "-m", "kg"]
WORLD_GRAPH = "https://w3id.org/secpart/graph/world"
TARGETS = {
    "ingest_ratio": 2.0,       # kg ingest / raw bulk_load
    "query_ratio": 1.5,        # kg saved query / raw engine
    "metrics_window_s": 10.0,  # one metrics window
    "help_s": 0.3,             # kg --help
    "map_draw_s": 3.0,         # Chromium load + first frame, 1,000 nodes
    "map_load_s": 2.0,         # Chromium load, 1,000 states x 36 years (map through time)
    "map_step_s": 0.1,         # one slider step of that map
}


def _env() -> dict:
    env = dict(os.environ)
    for k in ("KG_STORE", "KG_ENDPOINT", "KG_UPDATE_ENDPOINT"):
        env.pop(k, None)
    env["KG_LOCK_TIMEOUT"] = "60"
    return env


def _run(args: list[str], **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(args, capture_output=True, text=True, env=_env(), **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def _copy_store(src: Path, dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("kg.lock"))
    return dest


class Bench:
    """Collects timings: each measurement is a list of seconds, summarised by its median."""

    def __init__(self, reps: int, budget: float):
        self.reps = reps
        self.budget = budget
        self.results: dict[str, dict] = {}
        self.notes: list[str] = []

    def measure(self, key: str, label: str, fn, *, reps: int | None = None, setup=None,
                warmup: bool = False, budget: float | None = None) -> float | None:
        """Time ``fn()`` ``reps`` times (``setup()`` untimed before each); the median in seconds.

        Stops early once the repetitions together pass ``budget`` seconds.
        """
        reps = reps or self.reps
        budget = self.budget if budget is None else budget
        if warmup:
            if setup:
                setup()
            fn()
        times = []
        for _ in range(reps):
            if setup:
                setup()
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
            if sum(times) > budget:
                break
        med = statistics.median(times)
        self.results[key] = {"label": label, "median_s": round(med, 4),
                             "runs_s": [round(t, 4) for t in times], "reps": len(times)}
        print(f"  {label}: {_fmt_s(med)} (median of {len(times)})", flush=True)
        return med


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _command_exists(*words: str) -> bool:
    r = subprocess.run([*KG, *words, "--help"], capture_output=True, text=True, env=_env())
    return r.returncode == 0


# ------------------------------------------------------------------ the parts


def bench_ingest(b: Bench, work: Path, base: Path, world: Path, tag: str, reps: int) -> Path:
    """kg ingest vs raw bulk_load of one file; returns a store holding build + the world."""
    import pyoxigraph as ox

    target = work / f"ingest-{tag}"
    b.measure(f"ingest_kg_{tag}", f"kg ingest {tag} (whole process)",
              lambda: _run([*KG, "--store", str(target), "ingest", "--graph", "world", str(world)]),
              setup=lambda: _copy_store(base, target), reps=reps)
    raw = work / f"raw-{tag}"

    def raw_load():
        st = ox.Store(str(raw / "oxigraph"))
        st.bulk_load(path=str(world), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(WORLD_GRAPH))
        st.flush()
        del st

    b.measure(f"ingest_raw_{tag}", f"pyoxigraph bulk_load {tag}", raw_load,
              setup=lambda: _copy_store(base, raw), reps=reps)
    shutil.rmtree(raw, ignore_errors=True)
    return target


def bench_queries(b: Bench, work: Path, store_path: Path, reps: int) -> list[str]:
    """Each saved query through kg and on a raw pyoxigraph Store opened on a copy of the data."""
    import pyoxigraph as ox

    from kg.queries import bind_params, list_queries, run_saved
    from kg.sparql import bind_values
    from kg.store import open_store

    raw_dir = _copy_store(store_path, work / "raw-query-copy")
    raw = ox.Store.read_only(str(raw_dir / "oxigraph"))
    names = []
    with open_store(store_path) as store:
        for q in list_queries():
            if q.extra.get("remote"):
                continue
            params = {p.name: p.default for p in q.params if p.default is not None}
            text = bind_values(q.text, bind_params(q, params))
            n_kg = []

            def via_kg(q=q, params=params, n_kg=n_kg):
                rs = run_saved(store, q.name, params)
                n_kg.append(len(rs.rows))

            n_raw = []

            def via_raw(text=text, n_raw=n_raw, raw=raw):
                rows = [tuple(sol) for sol in raw.query(text, use_default_graph_as_union=True)]
                n_raw.append(len(rows))

            b.measure(f"query_kg_{q.name}", f"query {q.name} via kg", via_kg, reps=reps, warmup=True)
            b.measure(f"query_raw_{q.name}", f"query {q.name} raw engine", via_raw, reps=reps,
                      warmup=True)
            if n_kg[-1] != n_raw[-1]:
                raise RuntimeError(f"query {q.name}: kg gave {n_kg[-1]} rows, the raw engine {n_raw[-1]}")
            b.results[f"query_kg_{q.name}"]["rows"] = n_kg[-1]
            names.append(q.name)
    raw = None
    shutil.rmtree(raw_dir, ignore_errors=True)
    return names


def bench_metrics(b: Bench, store_path: Path, reps: int) -> bool:
    if not _command_exists("metrics"):
        b.notes.append("kg metrics: the command does not exist yet; skipped")
        return False
    b.measure("metrics_window", "kg metrics --from 2015 --to 2020 (whole process)",
              lambda: _run([*KG, "--store", str(store_path), "metrics", "--from", "2015", "--to", "2020",
                            "--focus", "JPN"]), reps=reps)
    b.measure("metrics_by_year", "kg metrics --by-year (whole process)",
              lambda: _run([*KG, "--store", str(store_path), "metrics", "--by-year", "--focus", "JPN"]),
              reps=reps, budget=120)
    return True


def _thousand_node_graph(n: int = 1000, seed: int = 42):
    """A seeded scale-free graph of ``n`` states with labels, regions, coordinates and weights."""
    import random

    import networkx as nx

    rng = random.Random(seed)
    G0 = nx.powerlaw_cluster_graph(n, 3, 0.3, seed=seed)
    regions = ["Eastern Asia", "Western Europe", "Northern America", "South-eastern Asia",
               "Western Asia", "Eastern Africa", "South America", "Oceania"]
    G = nx.Graph()
    for i in G0.nodes:
        code = f"{chr(65 + i // 676 % 26)}{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}"
        G.add_node(code, label=f"State {code}", region=rng.choice(regions),
                   lat=round(rng.uniform(-60, 70), 2), lon=round(rng.uniform(-180, 180), 2))
    names = list(G.nodes)
    for u, v in G0.edges:
        G.add_edge(names[u], names[v], weight=rng.randint(1, 20))
    return G


def bench_map(b: Bench, work: Path, store_path: Path, reps: int) -> bool:
    if _command_exists("map"):
        out = work / "map-store.html"
        # the map through time builds ~3 networks per year: five years keep this bounded
        b.measure("map_cli", "kg map on the store, 2021-2025 (whole process)",
                  lambda: _run([*KG, "--store", str(store_path), "map", "--out", str(out),
                                "--from", "2021", "--to", "2025"]), reps=reps)
    else:
        b.notes.append("kg map: the command does not exist yet; skipped")
    try:
        from kg.map import render_graph
    except ImportError:
        b.notes.append("kg.map.render_graph is not available yet; the 1,000-node map was skipped")
        return False
    G = _thousand_node_graph()
    html_path = work / "map-1000.html"
    res = {}

    def render():
        res["r"] = render_graph(G, None, html_path, "Benchmark: 1,000 generated states",
                                layout="force")

    b.measure("map_render_1000", f"render_graph 1,000 nodes, {G.number_of_edges()} edges", render,
              reps=reps)
    b.results["map_render_1000"]["nodes"] = G.number_of_nodes()
    b.results["map_render_1000"]["edges"] = G.number_of_edges()
    b.results["map_render_1000"]["html_bytes"] = html_path.stat().st_size
    try:
        from playwright.sync_api import sync_playwright

        from kg.map import CHROMIUM_ARGS, find_chromium
    except ImportError as exc:
        b.notes.append(f"map draw in Chromium skipped: {exc}")
        return False
    exe = find_chromium()
    if exe is None:
        b.notes.append("map draw in Chromium skipped: no Chromium (/usr/bin/chromium)")
        return False
    draw_ms = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            def load():
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith(("file:", "data:")) else route.abort())
                page.goto(html_path.resolve().as_uri(), timeout=60_000)
                page.wait_for_function("window.kgMap && window.kgMap.ready === true", timeout=60_000)
                draw_ms.append(page.evaluate("window.kgMap.drawMs"))
                page.close()

            b.measure("map_draw_1000", "Chromium: load + first frame, 1,000 nodes", load,
                      reps=reps, warmup=True)
        finally:
            browser.close()
    if draw_ms and draw_ms[-1] is not None:
        b.results["map_draw_1000"]["page_draw_ms"] = draw_ms[1:] or draw_ms
    return True


def bench_map_time(b: Bench, work: Path, reps: int) -> bool:
    """The map through time: 1,000 states, 36 years; Chromium load and slider step.

    Runs alone too: ``python -c "import sys; sys.path[:0] = ['benchmarks'];
    import run; run.bench_map_time(run.Bench(3, 60), run.Path('/tmp'), 3)"``.
    """
    try:
        from map_world import thousand_state_series
        from playwright.sync_api import sync_playwright

        from kg.map import CHROMIUM_ARGS, find_chromium, render_series
    except ImportError as exc:
        b.notes.append(f"map through time skipped: {exc}")
        return False
    exe = find_chromium()
    if exe is None:
        b.notes.append("map through time skipped: no Chromium (/usr/bin/chromium)")
        return False
    series = thousand_state_series()
    html_path = work / "map-time-1000.html"
    b.measure("map_time_render", "render_series 1,000 states x 36 years x 3 windows",
              lambda: render_series(series, html_path, "Benchmark: 1,000 states, 36 years"),
              reps=1)
    b.results["map_time_render"]["html_bytes"] = html_path.stat().st_size
    steps: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith(("file:", "data:")) else route.abort())

            def load():
                page.goto(html_path.resolve().as_uri(), timeout=60_000)
                page.wait_for_function("window.kgMap && window.kgMap.ready === true",
                                       timeout=60_000)

            b.measure("map_load", "Chromium: load map through time, 1,000 states x 36 years",
                      load, reps=reps, warmup=True)
            for i in range(0, 36, 3):  # the slider moved as a user does (input event)
                page.locator("#kg-year").evaluate(
                    "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }", i)
                steps.append(page.evaluate("window.kgMap.stepMs") / 1000)
            page.close()
        finally:
            browser.close()
    med = statistics.median(steps)
    b.results["map_step"] = {"label": "slider step (1,000 states, 3 windows' data)",
                             "median_s": round(med, 4), "runs_s": [round(t, 4) for t in steps],
                             "reps": len(steps)}
    print(f"  slider step: {_fmt_s(med)} (median of {len(steps)}; max {_fmt_s(max(steps))})",
          flush=True)
    return True


def bench_startup(b: Bench, store_path: Path, reps: int) -> None:
    b.measure("help", "kg --help (whole process)", lambda: _run([*KG, "--help"]), reps=max(reps, 5),
              warmup=True)
    b.measure("partners_cli", "kg query run partners (whole process)",
              lambda: _run([*KG, "--store", str(store_path), "query", "run", "partners"]),
              reps=max(reps, 3), warmup=True)


# ------------------------------------------------------------------ report


def _verdicts(b: Bench, big: str, queries: list[str]) -> list[dict]:
    r = b.results
    out = []

    def add(name, measured, target, unit, ok, gap):
        out.append({"target": name, "measured": measured, "limit": target, "unit": unit,
                    "met": ok, "gap": gap})

    kg, raw = r.get(f"ingest_kg_{big}"), r.get(f"ingest_raw_{big}")
    if kg and raw:
        ratio = kg["median_s"] / raw["median_s"]
        r[f"ingest_ratio_{big}"] = round(ratio, 2)
        add(f"kg ingest {big} <= {TARGETS['ingest_ratio']}x raw bulk_load", round(ratio, 2),
            TARGETS["ingest_ratio"], "x", ratio <= TARGETS["ingest_ratio"],
            None if ratio <= TARGETS["ingest_ratio"] else
            f"{ratio / TARGETS['ingest_ratio']:.1f}x over ({kg['median_s']:.1f} s vs "
            f"{TARGETS['ingest_ratio'] * raw['median_s']:.1f} s allowed)")
    for name in queries:
        kg, raw = r[f"query_kg_{name}"], r[f"query_raw_{name}"]
        ratio = kg["median_s"] / max(raw["median_s"], 1e-6)
        r[f"query_ratio_{name}"] = round(ratio, 2)
        add(f"query {name} <= {TARGETS['query_ratio']}x raw", round(ratio, 2), TARGETS["query_ratio"],
            "x", ratio <= TARGETS["query_ratio"],
            None if ratio <= TARGETS["query_ratio"] else
            f"{(kg['median_s'] - TARGETS['query_ratio'] * raw['median_s']) * 1000:.0f} ms over")
    for key, name, limit in (("metrics_window", "one metrics window", "metrics_window_s"),
                             ("help", "kg --help", "help_s"),
                             ("map_draw_1000", "map draw (1,000 nodes)", "map_draw_s"),
                             ("map_load", "map through time load", "map_load_s"),
                             ("map_step", "map slider step", "map_step_s")):
        m = r.get(key)
        if m:
            s = m["median_s"]
            add(f"{name} < {TARGETS[limit]} s", round(s, 3), TARGETS[limit], "s", s < TARGETS[limit],
                None if s < TARGETS[limit] else f"{s - TARGETS[limit]:.2f} s over")
    return out


def _print_table(b: Bench, verdicts: list[dict]) -> None:
    print()
    print(f"{'measurement':<58} {'median':>10} {'reps':>4}")
    print("-" * 74)
    for m in b.results.values():
        if isinstance(m, dict) and "label" in m:
            print(f"{m['label']:<58} {_fmt_s(m['median_s']):>10} {m['reps']:>4}")
    print()
    print(f"{'target':<46} {'measured':>10}  verdict")
    print("-" * 74)
    for v in verdicts:
        meas = f"{v['measured']}{v['unit']}"
        verdict = "met" if v["met"] else f"NOT MET: {v['gap']}"
        print(f"{v['target']:<46} {meas:>10}  {verdict}")
    for n in b.notes:
        print(f"note: {n}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; ``--quick`` for the 100k world and one repetition."""
    ap = argparse.ArgumentParser(description="kg benchmark against the raw Oxigraph engine")
    ap.add_argument("--quick", action="store_true", help="100k world only, one repetition")
    ap.add_argument("--out", default=str(ROOT / "bench-results" / "bench.json"), help="JSON output")
    ap.add_argument("--work", help="work folder (default: a temporary folder, removed afterwards)")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    reps_big, reps_small = (1, 1) if args.quick else (3, 5)
    b = Bench(reps_small, budget=240)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="kg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    load_start = _loadavg()
    try:
        print(f"kg benchmark ({'quick' if args.quick else 'full'}), work folder {work}", flush=True)
        sizes = {"100k": 100_000} if args.quick else {"100k": 100_000, "1m": 1_000_000}
        worlds = {}
        for tag, n in sizes.items():
            path = work / f"world-{tag}.nt"
            t0 = time.perf_counter()
            stats = generate.write_world(path, n, seed=args.seed)
            worlds[tag] = path
            b.results[f"world_{tag}"] = {
                "triples": stats.triples, "states": stats.states, "forces": stats.forces,
                "series": stats.series, "exercises": stats.exercises,
                "agreements": stats.agreements, "sources": stats.sources, "seed": stats.seed,
                "generate_s": round(time.perf_counter() - t0, 2)}
            print(f"  generated {path.name}: {stats.triples} triples", flush=True)
        big = "100k" if args.quick else "1m"

        base = work / "base"
        _run([*KG, "--store", str(base), "build"])
        # the 100k world conforms to the shapes
        t0 = time.perf_counter()
        r = subprocess.run([*KG, "--store", str(base), "validate", str(worlds["100k"])],
                           capture_output=True, text=True, env=_env())
        b.results["validate_100k"] = {"conforms": r.returncode == 0, "output": r.stdout.strip()[-200:],
                                      "seconds": round(time.perf_counter() - t0, 2)}
        print(f"  kg validate world-100k.nt: {r.stdout.strip().splitlines()[-1] if r.stdout else r.stderr}",
              flush=True)
        if r.returncode != 0:
            raise RuntimeError("the generated world does not conform to the shapes")

        print("ingest", flush=True)
        if not args.quick:
            bench_ingest(b, work, base, worlds["100k"], "100k", reps_big)
        store = bench_ingest(b, work, base, worlds[big], big, reps_big)
        print(f"queries (store with {big} world)", flush=True)
        queries = bench_queries(b, work, store, reps_small)
        print("metrics", flush=True)
        bench_metrics(b, store, reps_big)
        print("map", flush=True)
        bench_map(b, work, store, reps_big)
        bench_map_time(b, work, reps_big)
        print("start-up", flush=True)
        bench_startup(b, store, reps_small)
        verdicts = _verdicts(b, big, queries)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    import pyoxigraph

    from kg import __version__

    doc = {
        "mode": "quick" if args.quick else "full",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "loadavg_start": load_start, "loadavg_end": _loadavg()},
        "versions": {"kg": __version__, "pyoxigraph": pyoxigraph.__version__},
        "targets": TARGETS,
        "results": b.results,
        "verdicts": verdicts,
        "notes": b.notes,
        "total_s": round(time.perf_counter() - t_start, 1),
    }
    _print_table(b, verdicts)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {out} (total {doc['total_s']} s; load average at start {load_start}, "
          f"at end {doc['machine']['loadavg_end']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
