"""Uncertainty of window-change statistics: bootstrap interval and permutation p-value.

* **Bootstrap** (Efron and Tibshirani 1993): the exercises of each window are
  resampled with replacement (as many as the window holds, within the window), the
  statistic of each window recomputed and the change taken; the interval is the
  2.5th and 97.5th percentiles of the changes (percentile method). A fixed seed makes
  it reproducible; the number of replicates is reported.
* **Permutation** (Phipson and Smyth 2010): the exercises of both windows are pooled
  and re-dealt to the windows at random (sizes kept; an exercise keeps its position
  in its window's years); the two-sided p-value is ``(1 + k) / (B + 1)``, ``k`` the
  number of permutations whose change is at least as large in absolute value as the
  observed one, so it is never zero.
"""

from __future__ import annotations

import random
from dataclasses import replace
from functools import partial
from itertools import islice

from kg.claims.readings import WINDOW_STATS, ExerciseData, Spec, select, window_stat

__all__ = ["DEFAULT_REPLICATES", "MAX_REPLICATES", "DEFAULT_SEED", "METHOD", "REFERENCES",
           "window_change_uncertainty"]

DEFAULT_REPLICATES = 1000
#: The most replicates a claim file may ask for (10,000 gives p-values to 1e-4; more only
#: makes ``kg claims check`` run for hours).
MAX_REPLICATES = 10_000
#: 10 October 2019, the date of Bosack's article: any fixed number would do.
DEFAULT_SEED = 20191010

METHOD = {
    "bootstrap": ("percentile interval (95%) of the change between windows, exercises "
                  "resampled with replacement within each window; fixed seed"),
    "permutation": ("two-sided p-value, exercises of both windows pooled and re-dealt "
                    "(each window keeps its number of exercises, so the test asks whether the "
                    "change exceeds what those numbers alone would give), p = (1 + k) / (B + 1)"),
}
REFERENCES = {
    "bootstrap": ("Efron, B. and Tibshirani, R. J. (1993), An Introduction to the Bootstrap, "
                  "Monographs on Statistics and Applied Probability 57, Chapman & Hall"),
    "permutation": ("Phipson, B. and Smyth, G. K. (2010), \"Permutation p-values should never "
                    "be zero: calculating exact p-values when permutations are randomly drawn\", "
                    "Statistical Applications in Genetics and Molecular Biology 9(1), article 39, "
                    "doi:10.2202/1544-6115.1585"),
}


def _parts(check: str, value) -> dict:
    """Name the components of a window statistic (one or two numbers)."""
    if check == "share_and_partners":
        return {"us_share": value[0], "non_us_partners": value[1]}
    return {"value": value}


def _percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _standard_draws(rng: random.Random) -> bool:
    """Whether ``rng`` draws as :class:`random.Random` does: ``choice(seq)`` is
    ``seq[_randbelow(len(seq))]`` and ``_randbelow(n)`` takes ``getrandbits(n.bit_length())``
    until it is below ``n`` (CPython's ``random.py``); then :func:`_resample` and
    :func:`_shuffle` make the same draws in fewer calls."""
    cls = type(rng)
    return (cls.choice is random.Random.choice and cls.shuffle is random.Random.shuffle
            and cls.getrandbits is random.Random.getrandbits
            and cls._randbelow is random.Random._randbelow_with_getrandbits)


def _resample(rng: random.Random, seq: list, fast: bool) -> list:
    """``[rng.choice(seq) for _ in seq]``: the same draws, leaving ``rng`` in the same state
    (``fast``: see :func:`_standard_draws`; the rejection loop of ``_randbelow`` run in C:
    ``getrandbits(k)`` called until ``len(seq)`` values below ``len(seq)`` came).

    >>> a, b = random.Random(5), random.Random(5)
    >>> _resample(a, list("abcde"), True) == [b.choice("abcde") for _ in range(5)]
    True
    >>> a.getstate() == b.getstate()
    True
    """
    if not fast:
        return [rng.choice(seq) for _ in seq]
    n = len(seq)
    draws = filter(n.__gt__, iter(partial(rng.getrandbits, n.bit_length()), None))
    return [seq[r] for r in islice(draws, n)]  # islice pulls no draw past the n-th


def _shuffle(rng: random.Random, x: list, fast: bool) -> None:
    """``rng.shuffle(x)``: the same swaps, leaving ``rng`` in the same state (``fast``: see
    :func:`_standard_draws`; ``_randbelow`` inlined).

    >>> a, b, x, y = random.Random(3), random.Random(3), list(range(9)), list(range(9))
    >>> _shuffle(a, x, True); b.shuffle(y); x == y and a.getstate() == b.getstate()
    True
    """
    if not fast:
        rng.shuffle(x)
        return
    getrandbits = rng.getrandbits
    for i in reversed(range(1, len(x))):
        n = i + 1
        k = n.bit_length()
        j = getrandbits(k)
        while j >= n:
            j = getrandbits(k)
        x[i], x[j] = x[j], x[i]


def _moved(ex, src: tuple[int, int], dst: tuple[int, int]):
    n = dst[1] - dst[0] + 1
    return replace(ex, year=dst[0] + (ex.year - src[0]) % n)


def window_change_uncertainty(claim, data: ExerciseData, spec: Spec, *,
                              replicates: int | None = None, seed: int | None = None) -> dict:
    """Bootstrap interval and permutation p-value of the change baseline -> recent.

    :param claim: the claim (its ``uncertainty`` may set ``replicates`` and ``seed``).
    :param data: the exercise records.
    :param spec: the specification (normally the declared one).
    :returns: ``{"method", "replicates", "seed", "observed", "interval", "p_value"}``, each
        per component of the statistic; ``{"applies": False, ...}`` for other checks.
    """
    check = claim.test["check"]
    if check not in WINDOW_STATS:
        return {"applies": False, "why": "the statistic is not a change between two windows"}
    b_reps = int(replicates or claim.uncertainty.get("replicates", DEFAULT_REPLICATES))
    seed = int(seed if seed is not None else claim.uncertainty.get("seed", DEFAULT_SEED))
    w = spec.window_dict()
    base_w, rec_w = w["baseline"], w["recent"]
    base = select(data, spec, base_w)
    rec = select(data, spec, rec_w)

    value = claim.test.get("value", "partners")

    def change(bx, rx) -> dict:
        # bx, rx: drawn from the windows' selections (moved into the window when permuted),
        # so select() would keep every one of them
        b = _parts(check, window_stat(check, data, spec, base_w, bx, value, selected=True))
        r = _parts(check, window_stat(check, data, spec, rec_w, rx, value, selected=True))
        return {k: (None if b[k] is None or r[k] is None else r[k] - b[k]) for k in b}

    observed = change(base, rec)
    out = {"applies": True, "replicates": b_reps, "seed": seed, "method": METHOD,
           "references": REFERENCES, "observed": {k: _r(v) for k, v in observed.items()},
           "exercises": {"baseline": len(base), "recent": len(rec)}}
    if not base or not rec or any(v is None for v in observed.values()):
        out.update(interval=None, p_value=None, why="a window has no exercise")
        return out
    rng = random.Random(seed)
    fast = _standard_draws(rng)
    boots: dict[str, list[float]] = {k: [] for k in observed}
    for _ in range(b_reps):
        bx = _resample(rng, base, fast)
        rx = _resample(rng, rec, fast)
        for k, v in change(bx, rx).items():
            if v is not None:
                boots[k].append(v)
    out["interval"] = {k: ([_r(_percentile(v, 0.025)), _r(_percentile(v, 0.975))] if v else None)
                       for k, v in boots.items()}
    out["bootstrap_mean"] = {k: (_r(sum(v) / len(v)) if v else None) for k, v in boots.items()}
    # each exercise as it would sit in either window (its position in its window's years kept)
    pooled = ([(_moved(ex, base_w, base_w), _moved(ex, base_w, rec_w)) for ex in base]
              + [(_moved(ex, rec_w, base_w), _moved(ex, rec_w, rec_w)) for ex in rec])
    extreme = {k: 0 for k in observed}
    for _ in range(b_reps):
        _shuffle(rng, pooled, fast)
        bx = [pair[0] for pair in pooled[:len(base)]]
        rx = [pair[1] for pair in pooled[len(base):]]
        for k, v in change(bx, rx).items():
            if v is not None and abs(v) >= abs(observed[k]) - 1e-12:
                extreme[k] += 1
    out["p_value"] = {k: _r((1 + n) / (b_reps + 1)) for k, n in extreme.items()}
    return out


def _r(x):
    return None if x is None else round(float(x), 4)
