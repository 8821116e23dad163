"""The report: claims, metrics, plots and the map in one folder you can read, show and cite.

:func:`build_report` builds the store when it is empty (:func:`kg.ingest.build`),
then writes into ``out_dir``:

* ``index.html``: readable on its own (plots and map screenshot embedded, no
  script, every data string escaped): the claims with verdicts and evidence,
  metrics tables for the focal state (Japan) and its top partners, the plots, a
  link to the map and the citation block with the dataset fingerprint (the same
  SHA-256 ``kg info`` prints);
* ``report.md``: the same in Markdown;
* CSV tables: ``claims.csv``, ``focus_by_year.csv`` (exercises, US share,
  partners, centrality per year), ``focus_metrics.csv`` (ego metrics per window),
  ``top_partners_<from>-<to>.csv`` (node metrics of the focal state and its top
  partners per window), ``agreements_by_type.csv`` (the focal state's
  agreements in force per year and type);
* ``claims.json`` and ``citation.json``;
* plots as PNG and SVG (matplotlib, Agg): ``partners_per_year``, ``us_share``,
  ``centrality``, ``agreements_by_type``;
* ``map.html`` (:func:`kg.map.render_map`) and ``map.png``
  (:func:`kg.map.screenshot`; without Chromium the report says so instead).

The same data gives byte-identical CSV, JSON tables, SVG and PNG files: rows are
sorted, floats rounded, and matplotlib's SVG hash salt and file metadata fixed.

>>> from kg.report import build_report
>>> res = build_report("/tmp/kg-store", "report")  # doctest: +SKIP
>>> res.index  # doctest: +SKIP
PosixPath('report/index.html')
"""

from __future__ import annotations

import base64
import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import StoreError
from kg.escape import csv_row
from kg.escape import html as escape_html
from kg.metrics import CENTRALITY_WINDOW, focus_by_year, focus_window_metrics, top_partners
from kg.metrics import METRIC_COLUMNS as _METRIC_COLS
from kg.results import format_rows, number_text

__all__ = ["ReportResult", "STEPS", "PLOTS", "build_report", "focus_by_year", "top_partners",
           "agreements_by_type"]

#: The steps of a report, in order (what the progress callback reports).
#: The claims' exercise records are read first, so that forked workers resample them
#: (:func:`kg.claims.start_claims`) while this process draws the map and computes the
#: metrics; then Chromium takes the map's screenshot and another Python process (started
#: first, so that it imports matplotlib meanwhile) draws the plots while this one checks
#: the claims.
STEPS = (
    "preparing the store",
    "resampling the claims' exercises (in the background)",
    "reading the dataset fingerprint",
    "drawing the map",
    "taking the map screenshot (in the background)",
    "computing metrics",
    "drawing plots (in the background)",
    "checking claims",
    "writing index.html and report.md",
)

#: Plot file stems and captions.
PLOTS = {
    "partners_per_year": "Distinct exercise partners per year (all, and other than the USA)",
    "us_share": "Share of the focal state's exercises that include the USA, per year",
    "centrality": ("Centrality in the exercise network of the five years ending in each year "
                   "(normalized betweenness, degree)"),
    "agreements_by_type": "Agreements in force per year, by type",
}

#: First year drawn in the agreements plot (the CSV holds every year).
AGREEMENTS_PLOT_FROM = 1990


@dataclass
class ReportResult:
    """What :func:`build_report` wrote: the folder, index.html, every file, notes."""

    out_dir: Path
    index: Path
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    built: bool = False
    fingerprint: str = ""
    verdicts: dict = field(default_factory=dict)


# ---------------------------------------------------------------- store


class _Opened:
    """The report's store: an open store (built first when empty and writable), or a path."""

    def __init__(self, target):
        self.target = target
        self.store = None
        self.own = False
        self.built = False

    def __enter__(self):
        from kg.ingest import build, build_if_empty

        t = self.target
        if not isinstance(t, (str, os.PathLike)):  # an open store
            if not t.graph_names():
                if t.kind != "local" or not getattr(t, "write", False):
                    raise StoreError("the store is empty: run 'kg build' (or open it for writing)")
                build(t)
                self.built = True
            self.store = t
            return t
        from kg.store import open_store

        self.built = build_if_empty(t)
        self.store = open_store(t)
        self.own = True
        return self.store

    def __exit__(self, *exc):
        if self.own and self.store is not None:
            self.store.close()


# ---------------------------------------------------------------- tables


def agreements_by_type(store, focus: str = "JPN", graphs: list[str] | None = None,
                       last_year: int | None = None) -> tuple[list[str], list[dict]]:
    """The focal state's agreements in force per year, by type.

    In force in a year by the one rule, :mod:`kg.inforce` (the focal state tied by the
    agreement to another state that year; :func:`kg.inforce.counts_by_year`).

    :returns: ``(types, rows)``: the type names, and one row per year with a count
        per type.
    """
    from kg.inforce import counts_by_year, lifecycles

    recs = [lc for lc in lifecycles(store, graphs=graphs)
            if lc.first is not None and focus in lc.parties]
    if not recs:
        return [], []
    types = sorted({lc.type for lc in recs})
    first = min(lc.first for lc in recs)
    end = last_year or max(max(lc.first for lc in recs),
                           max((lc.last for lc in recs if lc.last is not None), default=0))
    counts = counts_by_year(store, focus, first, end, graphs=graphs)
    out = []
    for y in range(first, end + 1):
        row = {"year": y, **{t: counts[y].get(t, 0) for t in types}}
        row["total"] = sum(row[t] for t in types)
        out.append(row)
    return types, out


REPORT_MARKER = "kg-report.json"
"""The file that makes a folder kg's report folder, which a later report may overwrite."""


def _claim_folder(out: Path, *, create: bool = True) -> None:
    """Make ``out`` kg's report folder: a new or empty folder, or one a report wrote before
    (it holds :data:`REPORT_MARKER`). Anything else is refused, so a report never
    overwrites a file it did not write (an ``index.html`` of the user's, say). With
    ``create=False``, only check.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()) / "r"
    >>> _claim_folder(d); _claim_folder(d); sorted(p.name for p in d.iterdir())
    ['kg-report.json']
    """
    from kg.errors import UsageError

    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / REPORT_MARKER).is_file():
        raise UsageError(f"--out {out} is not empty and holds no earlier kg report "
                         f"({REPORT_MARKER}): choose a new or empty folder")
    if not create:
        return
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT_MARKER).write_text('{"format": "kg-report"}\n', encoding="utf-8")


def _write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> None:
    """Rows as CSV, numbers written as ``kg metrics`` writes them (:func:`number_text`)."""
    cols = columns or (list(rows[0]) if rows else [])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(csv_row(cols))
        for r in rows:
            w.writerow(csv_row([number_text(v) if isinstance(v, (int, float)) or v is None
                                else v for v in (r.get(c) for c in cols)]))


def _claims_rows(result: dict) -> list[dict]:
    return [{"number": c["number"], "id": c["id"], "verdict": c["verdict"], "reason": c["reason"],
             "windows": "; ".join(f"{k} {v[0]}-{v[1]}" for k, v in c["windows"].items()),
             "graphs": " ".join(c["graphs"]), "coverage": c["coverage"]["status"],
             "evidence": " | ".join(c["evidence_lines"])} for c in result["claims"]]


# ---------------------------------------------------------------- plots


def _mpl():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "kg-report"
    matplotlib.rcParams["svg.fonttype"] = "path"
    matplotlib.rcParams["path.simplify"] = True
    return plt


def _save(fig, out_dir: Path, stem: str) -> list[str]:
    fig.savefig(out_dir / f"{stem}.png", dpi=110, metadata={"Software": "kg"})
    fig.savefig(out_dir / f"{stem}.svg", metadata={"Date": None, "Creator": "kg"})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return [f"{stem}.png", f"{stem}.svg"]


def _label_and_save(fig, ax, out_dir: Path, stem: str, ylabel: str, title: str) -> list[str]:
    """Label a plot over the years (x: year), lay it out and save it (see :func:`_save`)."""
    ax.set_xlabel("year")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    return _save(fig, out_dir, stem)


def _shade(ax, windows):
    for name, w in windows:
        ax.axvspan(w[0] - 0.5, w[1] + 0.5, color="#dddddd", alpha=0.5, lw=0)
        ax.text((w[0] + w[1]) / 2, 0.98, name, transform=ax.get_xaxis_transform(), ha="center",
                va="top", fontsize=8, color="#555555")


def _plots(out_dir: Path, focus: str, by_year: list[dict], ag_types: list[str],
           ag_rows: list[dict], windows) -> list[str]:
    plt = _mpl()
    files = []
    years = [r["year"] for r in by_year]

    fig, ax = plt.subplots(figsize=(8, 4))
    _shade(ax, windows)
    ax.plot(years, [r["partners"] for r in by_year], marker="o", label="all partners")
    ax.plot(years, [r["non_us_partners"] for r in by_year], marker="s",
            label="partners other than the USA")
    ax.legend(loc="upper left")
    files += _label_and_save(fig, ax, out_dir, "partners_per_year", "distinct partner states",
                             f"{focus}: exercise partners per year")

    fig, ax = plt.subplots(figsize=(8, 4))
    _shade(ax, windows)
    ax2 = ax.twinx()
    ax2.bar(years, [r["exercises"] for r in by_year], color="#c6dbef", label="exercises")
    ax2.set_ylabel("exercises")
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    pts = [(r["year"], r["us_share"]) for r in by_year if r["us_share"] is not None]
    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color="#d62728",
            label="share with the USA")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower left")
    files += _label_and_save(fig, ax, out_dir, "us_share", "share of exercises with the USA",
                             f"{focus}: US share of exercises per year")

    bkey = f"betweenness_{CENTRALITY_WINDOW}y"
    dkey = f"degree_{CENTRALITY_WINDOW}y"
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
    for ax, key, label in ((a1, bkey, "normalized betweenness"), (a2, dkey, "degree")):
        pts = [(r["year"], r[key]) for r in by_year if r[key] is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o")
        ax.set_ylabel(label)
    a2.set_xlabel(f"last year of the {CENTRALITY_WINDOW}-year window")
    a1.set_title(f"{focus}: centrality in the exercise network")
    fig.tight_layout()
    files += _save(fig, out_dir, "centrality")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    rows = [r for r in ag_rows if r["year"] >= AGREEMENTS_PLOT_FROM]
    if rows and ag_types:
        ys = [r["year"] for r in rows]
        ax.stackplot(ys, *[[r[t] for r in rows] for t in ag_types], labels=ag_types,
                     step="post")
        ax.legend(loc="upper left", fontsize=7)
    else:
        ax.text(0.5, 0.5, "no agreements in the data", ha="center", va="center",
                transform=ax.transAxes)
    files += _label_and_save(fig, ax, out_dir, "agreements_by_type", "agreements in force",
                             f"{focus}: agreements in force by type")
    return files


# ---------------------------------------------------------------- html / md

_CSS = """
body { font-family: system-ui, 'Noto Sans', 'DejaVu Sans', Arial, sans-serif; margin: 2em auto;
       max-width: 72em; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: bold; padding: .1em .4em; border-radius: .3em; white-space: nowrap; }
.supported { background: #d8f0d8; } .not-supported { background: #f8d8d8; }
.insufficient-data { background: #f0ecd0; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #555; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: .85em; white-space: pre-wrap; }
.note { background: #fff6d5; padding: .5em .8em; border-left: 4px solid #e0c040; }
.claim { border: 1px solid #ddd; padding: .3em 1em 1em; margin: 1em 0; border-radius: .4em; }
.small { font-size: .85em; color: #555; }
"""


def _e(x) -> str:
    return escape_html("" if x is None else x)


def _table(rows: list[dict], columns: list[str] | None, fmt: str) -> str:
    """Rows as an ``html`` or ``md`` table (:func:`kg.results.format_rows`); a note when empty."""
    if not rows:
        return "<p class=\"small\">(no rows)</p>" if fmt == "html" else "(no rows)\n"
    return format_rows(rows, columns or list(rows[0]), fmt)


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


class _Plots:
    """:func:`_plots` in a Python process of its own (``python -m kg.report``, the arguments
    pickled on its stdin), so that matplotlib draws while this process checks the claims.

    The process may start before its arguments are known (``_Plots()``, then :meth:`send`):
    it imports matplotlib meanwhile. ``_Plots(*args)`` starts it and sends them at once.

    A plain child process, not multiprocessing's spawn, which would import the caller's
    main script again. When the process cannot start or fails, the plots are drawn here
    (so a plotting error is raised as it always was).
    """

    def __init__(self, *args):
        import subprocess
        import sys

        self.args = None
        self.proc = None
        root = str(Path(__file__).resolve().parent.parent)  # this kg, first on the child's path
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [root] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "kg.report"], env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.DEVNULL)
        except (OSError, ValueError):  # no process to be had (no interpreter path): draw in
            # wait()
            self._stop()
        if args:
            self.send(*args)

    def send(self, *args) -> None:
        """The arguments of :func:`_plots`: the process draws now."""
        import pickle

        self.args = args
        if self.proc is None:
            return
        try:
            data = pickle.dumps(args)
            # the length first: forked workers may hold this pipe open, so no end of file
            self.proc.stdin.write(len(data).to_bytes(8, "big") + data)
            self.proc.stdin.close()
        except (OSError, TypeError, ValueError):  # it died at once, or the arguments do not
            # pickle: draw in wait()
            self._stop()

    def _stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for fh in (self.proc.stdin, self.proc.stdout):
                try:
                    fh.close()
                except OSError:
                    pass
        self.proc = None

    def close(self) -> None:
        """Stop the process when no plots will be asked of it (an error on the way)."""
        if self.args is None:
            self._stop()

    def wait(self) -> list[str]:
        """The files written (as :func:`_plots` returns them)."""
        import pickle

        if self.proc is not None:
            out = self.proc.stdout.read()
            self.proc.stdout.close()
            if self.proc.wait() == 0:
                self.proc = None
                return pickle.loads(out)
            self.proc = None
        return _plots(*self.args)


class _Screenshot:
    """``map.png`` from ``map.html`` (:func:`kg.map.screenshot`), taken in a thread of its own
    while the report goes on; a stale ``map.png`` is removed when there is no new one."""

    def __init__(self, out: Path):
        import threading

        self.out = out
        self.error: Exception | None = None
        self.thread = None
        if (out / "map.html").exists():
            self.thread = threading.Thread(target=self._take, name="kg-map-screenshot",
                                           daemon=True)
            self.thread.start()

    def _take(self) -> None:
        from kg.map import screenshot

        try:
            screenshot(self.out / "map.html", self.out / "map.png")
        except Exception as exc:  # noqa: BLE001 - Chromium missing or failing: said in a note
            self.error = exc

    def wait(self, notes: list[str]) -> bool:
        """Wait for the screenshot; True when map.png was written, else a note says why."""
        ok = False
        if self.thread is not None:
            self.thread.join()
            if self.error is None:
                ok = True
            else:
                notes.append(f"no map screenshot (map.png): {self.error}")
        if not ok and (self.out / "map.png").exists():
            (self.out / "map.png").unlink()
        return ok


def _fp(block: dict) -> str:
    """The dataset fingerprint (hex) from a citation block."""
    fp = (block.get("dataset") or {}).get("fingerprint") or block.get("fingerprint")
    if isinstance(fp, dict):
        fp = fp.get("all") or fp.get("sha256") or ""
    return str(fp or "").removeprefix("sha256:")


def _citation_text(block: dict) -> str:
    try:
        from kg.citation import format_citation

        return format_citation(block, "text")
    except Exception:  # noqa: BLE001 - fall back to JSON rather than lose the block
        return json.dumps(block, indent=1, sort_keys=True, ensure_ascii=False)


# ---------------------------------------------------------------- the report


def build_report(target, out_dir: str | os.PathLike, progress=None, *, focus: str = "JPN",
                 graphs: list[str] | None = None, top: int = 10) -> ReportResult:
    """Write the report folder (see the module docstring).

    Long on purpose: the report's steps in order (STEPS), each a few lines, with one store,
    one run cache and one progress count between them.

    :param target: an open store, or the path of a local store. A local store that is
        empty (or missing) is built first with :func:`kg.ingest.build`.
    :param out_dir: the folder to write (created if needed).
    :param progress: optional callable ``progress(step, i, n)`` (see :data:`STEPS`).
    :param focus: ISO3 code of the focal state.
    :param graphs: dataset graphs to read (short names); None reads all.
    :param top: how many partners the metrics tables list.
    :returns: a :class:`ReportResult`.
    """
    from kg.claims import start_claims
    from kg.namespaces import check_iso3
    from kg.network import check_states_known

    check_iso3(focus)
    out = Path(out_dir)
    _claim_folder(out, create=False)  # refused before a store is built
    n = len(STEPS)

    def step(i):
        if progress is not None:
            progress(STEPS[i], i + 1, n)

    res = ReportResult(out_dir=out, index=out / "index.html")
    files: list[str] = []
    step(0)
    opened = _Opened(target)
    plots, claims = _Plots(), None  # the plots' process imports matplotlib meanwhile
    try:
        with opened as store:
            from kg.cache import run_cache

            run_cache(store)  # one run: each query sent once, each network built once
            store.graph_iris_of(graphs)  # an unknown --graph, and
            check_states_known(store, [focus], "--focus")  # --focus, refused before the folder
            step(1)
            claims = start_claims(store, None, graphs)  # graphs without states: refused too
            _claim_folder(out)
            step(2)
            from kg.citation import citation_block
            from kg.info import store_info

            claims_def = claims.claims
            windows_all = {}
            for c in claims_def:
                for k, w in c.windows().items():
                    if w[0] != w[1]:
                        windows_all.setdefault(k, w)
            windows = sorted(windows_all.items(), key=lambda kv: kv[1])
            info = store_info(store)
            params = {"focus": focus, "relation": "exercise", "include_observers": False,
                      "windows": {k: list(w) for k, w in windows},
                      "centrality_window_years": CENTRALITY_WINDOW, "top_partners": top,
                      "claims": [c.id for c in claims_def]}
            block = citation_block(store, sorted(graphs) if graphs else None, params)
            step(3)
            from kg.map import render_map

            map_window = windows[-1][1] if windows else (None, None)
            notes: list[str] = []
            try:
                render_map(store, out=out / "map.html", focus=focus, year_from=map_window[0],
                           year_to=map_window[1], relation="exercise", graphs=graphs)
                files.append("map.html")
            except Exception as exc:  # noqa: BLE001 - the report still stands without the map
                notes.append(f"the map could not be drawn: {exc}")
                # an earlier report's map (and so its map.png) in this folder is not this one's
                (out / "map.html").unlink(missing_ok=True)
            step(4)
            shot = _Screenshot(out)
            step(5)
            by_year = focus_by_year(store, focus, graphs)
            fm_rows = focus_window_metrics(store, focus, windows, graphs)
            tops = {name: (w, top_partners(store, focus, w, top, graphs)) for name, w in windows}
            ag_types, ag_rows = agreements_by_type(store, focus, graphs)
            step(6)
            plots.send(out, focus, by_year, ag_types, ag_rows, windows)
            step(7)
            result = claims.result(citation=False)
            result["citation"] = block
        res.built = opened.built
    finally:
        plots.close()  # stopped only when it was sent nothing (an error on the way)
        if claims is not None:
            claims.close()

    files += plots.wait()
    has_png = shot.wait(notes)
    if has_png:
        files.append("map.png")

    step(8)
    claims_rows = _claims_rows(result)
    _write_csv(out / "claims.csv", claims_rows)
    _write_csv(out / "focus_by_year.csv", by_year)
    cols = sorted({k for r in fm_rows for k in r} - {"window", "from", "to"})
    _write_csv(out / "focus_metrics.csv", fm_rows, ["window", "from", "to"] + cols)
    files += ["claims.csv", "focus_by_year.csv", "focus_metrics.csv"]
    top_cols = ["iso3", "name", "region", "shared_exercises", *_METRIC_COLS]
    for w, rows in tops.values():
        fn = f"top_partners_{w[0]}-{w[1]}.csv"
        _write_csv(out / fn, rows, top_cols)
        files.append(fn)
    _write_csv(out / "agreements_by_type.csv", ag_rows, ["year", *ag_types, "total"])
    files.append("agreements_by_type.csv")
    claims_doc = {"claims": result["claims"], "summary": result["summary"],
                  "scorecard": result.get("scorecard")}
    (out / "claims.json").write_text(json.dumps(claims_doc, indent=1, sort_keys=True,
                                                ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "citation.json").write_text(json.dumps(block, indent=1, sort_keys=True,
                                                  ensure_ascii=False) + "\n", encoding="utf-8")
    files += ["claims.json", "citation.json"]

    fingerprint = _fp(block) or info["fingerprint"]
    res.fingerprint = fingerprint
    res.notes = notes
    res.verdicts = result["summary"]
    cite_text = _citation_text(block)
    ctx = {"focus": focus, "windows": windows, "by_year": by_year, "fm_rows": fm_rows,
           "fm_cols": ["window", "from", "to"] + cols, "tops": tops, "top_cols": top_cols,
           "ag_types": ag_types, "ag_rows": ag_rows, "result": result, "notes": notes,
           "fingerprint": fingerprint, "info": info, "cite_text": cite_text,
           "has_png": has_png, "has_map": (out / "map.html").exists()}
    (out / "index.html").write_text(_index_html(out, ctx), encoding="utf-8")
    (out / "report.md").write_text(_report_md(ctx), encoding="utf-8")
    files += ["index.html", "report.md"]
    res.files = sorted(set(files))
    return res


def _summary_sentence(result: dict) -> str:
    s = result["summary"]
    return (f"{len(result['claims'])} claims checked: {s.get('supported', 0)} supported, "
            f"{s.get('not supported', 0)} not supported, {s.get('insufficient data', 0)} "
            "with insufficient data.")


def _index_html(out: Path, ctx: dict) -> str:
    focus = ctx["focus"]
    result = ctx["result"]
    h = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "img-src data:; style-src 'unsafe-inline'\">",
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
         "<link rel=\"icon\" href=\"data:,\">",
         f"<title>{_e(focus)}: security partner network report</title>",
         f"<style>{_CSS}</style></head><body>",
         f"<h1>{_e(focus)}'s security partner network: claims, metrics, map</h1>",
         f"<p>{_e(_summary_sentence(result))} Dataset fingerprint "
         f"<code>sha256:{_e(ctx['fingerprint'])}</code> (the same as <code>kg info</code>). "
         "A verdict is evidence, not proof: each one names the windows, graphs and coverage "
         "it rests on.</p>",
         "<nav><a href=\"#claims\">Claims</a> · <a href=\"#plots\">Plots</a> · "
         "<a href=\"#metrics\">Metrics</a> · <a href=\"#map\">Map</a> · "
         "<a href=\"#citation\">Citation</a></nav>"]
    for note in ctx["notes"]:
        h.append(f"<p class=\"note\">{_e(note)}</p>")
    h.append("<h2 id=\"claims\">Claims</h2>")
    h.append("<p>Claims (2) hedging and (3) complement pull in opposite directions; each is "
             "reported as the data has it.</p>")
    h.append(_table([{"#": c["number"], "claim": c["title"], "verdict": c["verdict"],
                     "why": c["reason"]} for c in result["claims"]], None, "html"))
    from kg.claims import render_claims_html

    h.append(render_claims_html(result))
    h.append("<h2 id=\"plots\">Plots</h2>")
    for stem, caption in PLOTS.items():
        png = out / f"{stem}.png"
        h.append(f"<figure><img alt=\"{_e(caption)}\" src=\"{_data_uri(png, 'image/png')}\">"
                 f"<figcaption>{_e(caption)}. Files: <a href=\"{_e(stem)}.png\">PNG</a>, "
                 f"<a href=\"{_e(stem)}.svg\">SVG</a>.</figcaption></figure>")
    h.append("<h2 id=\"metrics\">Metrics</h2>")
    h.append(f"<h3>{_e(focus)} per year</h3><p class=\"small\">Exercises (observers excluded), "
             "exercises with the USA, US share, distinct partners, partners other than the USA; "
             f"betweenness (normalized, distance = 1/weight) and degree in the exercise network "
             f"of the {CENTRALITY_WINDOW} years ending in that year. "
             "<a href=\"focus_by_year.csv\">CSV</a></p>")
    h.append(_table(ctx["by_year"], None, "html"))
    h.append(f"<h3>{_e(focus)} ego metrics per window</h3><p class=\"small\">From "
             "kg.metrics.focus_metrics (HHI: Herfindahl-Hirschman index of tie weights). "
             "<a href=\"focus_metrics.csv\">CSV</a></p>")
    h.append(_table(ctx["fm_rows"], ctx["fm_cols"], "html"))
    for name, (w, rows) in ctx["tops"].items():
        fn = f"top_partners_{w[0]}-{w[1]}.csv"
        h.append(f"<h3>{_e(focus)} and its top partners, {_e(name)} window {w[0]}-{w[1]}</h3>"
                 "<p class=\"small\">Node metrics over the whole exercise network of the window "
                 "(kg.metrics.node_metrics: betweenness and closeness with distance = 1/weight, "
                 "eigenvector and PageRank weighted, Louvain community with seed 42). "
                 f"<a href=\"{_e(fn)}\">CSV</a></p>")
        h.append(_table(rows, ctx["top_cols"], "html"))
    h.append(f"<h3>{_e(focus)}'s agreements in force by type</h3><p class=\"small\">"
             "<a href=\"agreements_by_type.csv\">CSV</a> (every year from the first agreement; "
             f"rows from {AGREEMENTS_PLOT_FROM} shown)</p>")
    h.append(_table([r for r in ctx["ag_rows"] if r["year"] >= AGREEMENTS_PLOT_FROM],
                    ["year", *ctx["ag_types"], "total"], "html"))
    h.append("<h2 id=\"map\">Map</h2>")
    if ctx["has_map"]:
        h.append("<p>The interactive map of the exercise network (offline, one file): "
                 "<a href=\"map.html\">map.html</a>.</p>")
    else:
        h.append("<p class=\"note\">No map was drawn (see the notes above).</p>")
    if ctx["has_png"]:
        h.append(f"<figure><a href=\"map.html\"><img alt=\"map screenshot\" "
                 f"src=\"{_data_uri(out / 'map.png', 'image/png')}\"></a>"
                 "<figcaption>Screenshot of map.html (map.png).</figcaption></figure>")
    elif ctx["has_map"]:
        h.append("<p class=\"note\">No screenshot of the map: headless Chromium was not "
                 "available or failed (see the notes above).</p>")
    h.append("<h2 id=\"citation\">Citation</h2>")
    h.append(f"<p>Dataset fingerprint: <code id=\"fingerprint\">sha256:{_e(ctx['fingerprint'])}"
             "</code></p>")
    h.append(f"<pre>{_e(ctx['cite_text'])}</pre>")
    h.append("<p class=\"small\">Files: <a href=\"report.md\">report.md</a>, "
             "<a href=\"claims.csv\">claims.csv</a>, <a href=\"claims.json\">claims.json</a>, "
             "<a href=\"citation.json\">citation.json</a>.</p>")
    h.append("</body></html>")
    return "\n".join(h) + "\n"


def _report_md(ctx: dict) -> str:
    from kg.claims import render_claims_md
    from kg.escape import markdown, md_fence

    focus = ctx["focus"]
    result = ctx["result"]
    md = [f"# {focus}'s security partner network: claims, metrics, map", "",
          _summary_sentence(result) + f" Dataset fingerprint `sha256:{ctx['fingerprint']}` "
          "(the same as `kg info`).", ""]
    for note in ctx["notes"]:
        md += [f"> Note: {markdown(note)}", ""]
    md += ["## Claims", "", render_claims_md(result), "## Plots", ""]
    for stem, caption in PLOTS.items():
        md += [f"![{caption}]({stem}.png)", "", f"{caption} ([SVG]({stem}.svg))", ""]
    md += ["## Metrics", "", f"### {focus} per year", "", _table(ctx["by_year"], None, "md"),
           f"### {focus} ego metrics per window", "", _table(ctx["fm_rows"], ctx["fm_cols"], "md")]
    for name, (w, rows) in ctx["tops"].items():
        md += [f"### {focus} and its top partners, {name} window {w[0]}-{w[1]}", "",
               _table(rows, ctx["top_cols"], "md")]
    md += [f"### {focus}'s agreements in force by type", "",
           _table([r for r in ctx["ag_rows"] if r["year"] >= AGREEMENTS_PLOT_FROM],
                  ["year", *ctx["ag_types"], "total"], "md")]
    if ctx["has_map"]:
        md += ["## Map", "", "[map.html](map.html)" + (" ![map](map.png)" if ctx["has_png"] else
                                                      " (no screenshot: see the notes)"), ""]
    else:
        md += ["## Map", "", "No map was drawn (see the notes).", ""]
    md += ["## Citation", "", f"Dataset fingerprint: `sha256:{ctx['fingerprint']}`", "",
           md_fence(ctx["cite_text"])]
    return "\n".join(md)


if __name__ == "__main__":  # the plots' process (see _Plots): arguments in, file names out
    import pickle
    import sys

    _mpl()  # matplotlib imported while the report computes what to draw
    size = int.from_bytes(sys.stdin.buffer.read(8), "big")
    from kg.resources import whole_writes

    out = whole_writes(sys.stdout.buffer)  # all of it, even under PYTHONUNBUFFERED
    out.write(pickle.dumps(_plots(*pickle.loads(sys.stdin.buffer.read(size)))))
    out.flush()
