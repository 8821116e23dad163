"""Helpers for tests that run kg as a whole process or start servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["ROOT", "bench_module", "clean_env", "kg", "lock_held_by_a_thread", "stop"]


def bench_module(name: str):
    """The module ``benchmarks/<name>.py`` (the world generator, say), loaded by path:
    the benchmarks are scripts, not a package."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"kg_bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look the module up
    spec.loader.exec_module(mod)
    return mod


def clean_env(**extra) -> dict:
    """The environment without the KG_* settings of the developer's shell, plus ``extra``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("KG_STORE", "KG_ENDPOINT", "KG_UPDATE_ENDPOINT")}
    env.update(extra)
    return env


def kg(*args, timeout: float = 120, **env) -> subprocess.CompletedProcess:
    """Run ``python -m kg ARGS`` as a process and capture its text output."""
    return subprocess.run([sys.executable, "-m", "kg", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=clean_env(**env), cwd=str(ROOT))


def stop(proc: subprocess.Popen) -> None:
    """Stop a server process by its pid: SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


def lock_held_by_a_thread(seconds: float):
    """A ``threading.Lock`` that another thread holds for ``seconds`` from now, and that
    thread (join it at the end): a process forked meanwhile copies the lock as held, and
    its holder does not come along.

    >>> lock, holder = lock_held_by_a_thread(0.1)
    >>> lock.locked()
    True
    >>> holder.join(); lock.locked()
    False
    """
    import threading
    import time

    lock = threading.Lock()
    held = threading.Event()

    def hold():
        with lock:
            held.set()
            time.sleep(seconds)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    return lock, holder
