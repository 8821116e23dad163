"""The benchmark's harness (``benchmarks/run.py``): how it times what it compares."""

from __future__ import annotations

from processes import bench_module

run = bench_module("run")


def _recorder(calls: list, name: str):
    return lambda: calls.append(name)


def test_measure_pair_alternates_the_order_and_records_both_sides():
    b = run.Bench(reps=3, budget=1e9)
    calls: list[str] = []
    a_med, b_med = b.measure_pair(("kg_x", "x via kg", _recorder(calls, "a")),
                                  ("raw_x", "x raw", _recorder(calls, "b")),
                                  reps=4, min_reps=2, budget=1e9)
    # one untimed call of each, then a b, b a, a b, b a
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]
    assert b.results["kg_x"]["reps"] == b.results["raw_x"]["reps"] == 4
    assert b.results["kg_x"]["alternated_with"] == "raw_x"
    assert b.results["raw_x"]["alternated_with"] == "kg_x"
    assert b.results["kg_x"]["median_s"] == round(a_med, 4)
    assert b.results["raw_x"]["label"] == "x raw"


def test_measure_pair_stops_at_the_budget_but_not_before_min_reps():
    b = run.Bench(reps=3, budget=1e9)
    calls: list[str] = []
    b.measure_pair(("p", "p", _recorder(calls, "a")), ("q", "q", _recorder(calls, "b")),
                   reps=21, min_reps=3, budget=0.0)
    assert b.results["p"]["reps"] == b.results["q"]["reps"] == 3
    assert len(calls) == 2 + 6


def test_pair_reps_gives_small_queries_more_runs_and_quick_runs_one():
    assert run._pair_reps(5) == {"reps": 21, "min_reps": 5, "budget": 20.0}
    assert run._pair_reps(1)["reps"] == 1


def test_metrics_pair_reps_alternate_by_year_and_one_year_within_a_budget():
    assert run._metrics_pair_reps(3) == {"reps": 9, "min_reps": 3, "budget": 40.0}
    assert run._metrics_pair_reps(1) == {"reps": 1, "min_reps": 1, "budget": 40.0}


def test_measure_keeps_the_processor_time_of_the_child_processes_it_waited_for():
    import subprocess
    import sys

    b = run.Bench(reps=2, budget=1e9)
    burn = [sys.executable, "-c", "import time\nt = time.process_time()\n"
            "while time.process_time() - t < 0.3: pass"]
    b.measure("child", "a child that computes 0.3 s", lambda: subprocess.run(burn, check=True),
              cpu=True)
    m = b.results["child"]
    assert len(m["cpu_runs_s"]) == 2 and all(c >= 0.3 for c in m["cpu_runs_s"])
    b.measure("none", "no child", lambda: None)
    assert "cpu_s" not in b.results["none"]  # only asked for where the causes use it
    cause = run._cpu_cause(m, "profiled earlier", cores=2)
    assert cause.startswith(f"this run: {m['cpu_s']} s of CPU") and cause.endswith("earlier")
    assert run._cpu_cause(b.results["none"], "profiled earlier") == "profiled earlier"


def test_bench_metrics_runs_by_year_and_one_year_alternately(monkeypatch):
    """The by-year ratio's two sides run as a pair (by-year, one year; one year, by-year),
    so that a drift in the machine's speed falls on both."""
    from pathlib import Path

    ran: list[str] = []
    monkeypatch.setattr(run, "_command_exists", lambda *words: True)
    monkeypatch.setattr(run, "_run", lambda args, **kw: ran.append(
        "by-year" if "--by-year" in args else "one year"))
    # the raw read after the pair is tested on a real store below
    monkeypatch.setattr(run, "_raw_participants", lambda b, path, reps: ran.append(f"raw {path}"))
    b = run.Bench(reps=3, budget=1e9)
    assert run.bench_metrics(b, Path("store"), 3, wide=False)
    assert ran.pop() == "raw store"
    # one untimed run of each, then 9 pairs in alternating order
    assert ran[:6] == ["by-year", "one year", "by-year", "one year", "one year", "by-year"]
    assert len(ran) == 2 + 2 * 9
    assert b.results["metrics_by_year"]["alternated_with"] == "metrics_one_year"
    assert b.results["metrics_one_year"]["reps"] == 9


def test_raw_participants_reads_every_exercise_year_with_kgs_query(built_store):
    """The raw read behind the by-year cause: the rows of kg's grouped query, all years and
    2015, counted on the real store, equal the exercise-years a plain count finds."""
    import pyoxigraph as ox

    from kg.namespaces import SPARQL_PREFIXES

    b = run.Bench(reps=1, budget=1e9)
    run._raw_participants(b, built_store, 1)
    db = ox.Store.read_only(str(built_store / "oxigraph"))

    def count(where: str) -> int:
        q = SPARQL_PREFIXES + ("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?ex ?year WHERE "
                               f"{{ ?ex sp:year ?year ; sp:participant ?p . {where} }} }}")
        return int(next(iter(db.query(q, use_default_graph_as_union=True)))["n"].value)

    every, one = b.results["participants_raw_all"], b.results["participants_raw_one_year"]
    assert every["rows"] == count("") > one["rows"] == count("FILTER(?year = 2015)") > 0
    assert every["alternated_with"] == "participants_raw_one_year"


def test_a_missed_ingest_or_by_year_target_gives_the_cause_this_runs_figures_show():
    b = run.Bench(reps=1, budget=1e9)
    m = lambda s, cpu=None: {"median_s": s, **({"cpu_s": cpu} if cpu is not None else {})}  # noqa: E731
    b.results.update({
        "ingest_kg_10m": m(112.0, 150.0), "ingest_raw_10m": m(35.0),
        "ingest_raw_named_10m": m(56.0, 70.0), "ingest_raw_compacted_10m": m(72.0, 88.0),
        "validate_10m": m(60.0, 62.0),
        "metrics_by_year": m(10.2), "metrics_one_year": m(1.2),
        "participants_raw_all": {**m(11.0), "rows": 364293},
        "participants_raw_one_year": m(0.4)})
    verdicts = {v["target"]: v for v in run._verdicts(b, "10m", [], run.TARGETS_LARGE)}
    named = verdicts["kg ingest 10m <= 1.25x raw bulk_load into the same named graph"]
    assert not named["met"] and named["cause"].startswith("this run: ")
    # the validation's and the raw load's CPU, (62 + 70) s, over the cores: on 2, 66 s
    assert b.results["ingest_floor_s_10m"] == round(132.0 / run._machine_cores(), 2)
    assert "kg ingest took 112.00 s (150.0 s of CPU)" in named["cause"]
    by_year = verdicts["kg metrics --by-year <= 3.0x one one-year window"]
    assert not by_year["met"] and "364293 exercise-years" in by_year["cause"]
    assert b.results["by_year_floor_ratio"] == round(11.0 / run._machine_cores() / 1.2, 2)
