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
    b = run.Bench(reps=3, budget=1e9)
    assert run.bench_metrics(b, Path("store"), 3, wide=False)
    # one untimed run of each, then 9 pairs in alternating order
    assert ran[:6] == ["by-year", "one year", "by-year", "one year", "one year", "by-year"]
    assert len(ran) == 2 + 2 * 9
    assert b.results["metrics_by_year"]["alternated_with"] == "metrics_one_year"
    assert b.results["metrics_one_year"]["reps"] == 9
