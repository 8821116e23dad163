"""The report: every file on a fresh store, a clean page in Chromium, the fingerprint, repeatability."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

PLOTS = ["partners_per_year", "us_share", "centrality", "agreements_by_type"]
TABLES = ["claims.csv", "focus_by_year.csv", "focus_metrics.csv", "top_partners_2005-2009.csv",
          "top_partners_2020-2024.csv", "agreements_by_type.csv"]


def _have_chromium() -> bool:
    if not os.path.exists(CHROMIUM):
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A report written by `kg report` on a fresh (missing) store, then a second one by the library."""
    from click.testing import CliRunner

    from kg.cli import cli
    from kg.report import build_report

    base = tmp_path_factory.mktemp("report")
    store = base / "store"
    res = CliRunner().invoke(cli, ["--store", str(store), "report", "--out", str(base / "one")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "report written to" in res.stdout
    seen: list = []
    second = build_report(str(store), base / "two",
                          progress=lambda step, i, n: seen.append((i, n, step)))
    return {"store": store, "one": base / "one", "two": base / "two", "second": second,
            "cli": res, "progress": seen}


def test_fresh_store_gets_built_and_every_file_written(reports):
    one = reports["one"]
    assert (reports["store"] / "oxigraph").is_dir()  # the empty store was built
    for name in ["index.html", "report.md", "claims.json", "citation.json", "map.html", *TABLES]:
        assert (one / name).is_file(), name
        assert (one / name).stat().st_size > 0, name
    for stem in PLOTS:
        png, svg = one / f"{stem}.png", one / f"{stem}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in svg.read_bytes()[:2000]
    index = (one / "index.html").read_text(encoding="utf-8")
    if _have_chromium():
        assert (one / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert "No screenshot of the map" in index
    assert 'href="map.html"' in index
    assert "<script" not in index.lower()  # no script at all: nothing from the data can run
    md = (one / "report.md").read_text(encoding="utf-8")
    assert "## Claims" in md and "(map.html)" in md
    claims = json.loads((one / "claims.json").read_text(encoding="utf-8"))["claims"]
    assert len(claims) >= 6
    for c in claims:
        assert c["verdict"] in ("supported", "not supported", "insufficient data")
        assert c["id"] in index
        assert html.escape(c["evidence_lines"][0], quote=True) in index
    rows = (one / "focus_by_year.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("year,exercises,with_us,us_share,partners,non_us_partners")
    assert len(rows) > 10
    top = (one / "top_partners_2020-2024.csv").read_text(encoding="utf-8").splitlines()
    assert top[1].startswith("JPN,") and top[2].startswith("USA,")  # focus first, then the USA


def test_citation_block_shows_the_kg_info_fingerprint(reports, fingerprint):
    fp = fingerprint(reports["store"])
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    index = (reports["one"] / "index.html").read_text(encoding="utf-8")
    m = re.search(r'<code id="fingerprint">sha256:([0-9a-f]{64})</code>', index)
    assert m and m.group(1) == fp
    assert fp in (reports["one"] / "report.md").read_text(encoding="utf-8")
    assert reports["second"].fingerprint == fp


def test_running_twice_gives_identical_tables_and_plots(reports):
    one, two = reports["one"], reports["two"]
    for name in TABLES + ["claims.json"] + [f"{s}.svg" for s in PLOTS] + [f"{s}.png" for s in PLOTS]:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def test_data_strings_are_escaped():
    from kg.results import format_rows

    out = format_rows([{"name": "<script>alert(1)</script>", "n": 1}], ["name", "n"], "html")
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out


@pytest.mark.skipif(not _have_chromium(), reason=f"no Chromium at {CHROMIUM} or no playwright")
def test_index_opens_in_headless_chromium_without_console_errors(reports):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    index = (reports["one"] / "index.html").resolve()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(index.as_uri())
            page.wait_for_load_state("load")
            title = page.title()
            imgs = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            heading = page.inner_text("h1")
        finally:
            browser.close()
    assert errors == []
    assert "JPN" in title and "claims" in heading
    assert len(imgs) >= 4 and all(w > 0 for w in imgs)  # every embedded plot decoded


def test_progress_callback_reports_every_step(reports):
    from kg.report import STEPS

    seen = reports["progress"]
    assert [s[0] for s in seen] == list(range(1, len(STEPS) + 1))
    assert all(n == len(STEPS) for _, n, _ in seen)


def test_report_paths(reports):
    res = reports["second"]
    assert res.index == Path(reports["two"]) / "index.html"
    assert "index.html" in res.files and "map.html" in res.files


def test_report_sends_each_query_once_and_builds_each_network_once(built_store, tmp_path,
                                                                   monkeypatch):
    """One run of the report on the bundled data: the store's tracer sees no query twice,
    and no network (relation, window, options, graphs) is built twice."""
    import kg.network as network
    from kg.cache import RunCache
    from kg.report import build_report
    from kg.store import open_store

    built: list = []
    one, many = network.build_network_uncached, network.build_networks

    def spy_one(store, **kw):
        G = one(store, **kw)
        built.append(RunCache.key_of(G.graph["params"]))
        return G

    def spy_many(store, windows, **kw):
        Gs = many(store, windows, **kw)
        built.extend(RunCache.key_of(G.graph["params"]) for G in Gs)
        return Gs

    monkeypatch.setattr(network, "build_network_uncached", spy_one)
    monkeypatch.setattr(network, "build_networks", spy_many)
    sent: list = []
    with open_store(built_store) as store:
        store.tracer = lambda text, graphs: sent.append((text, tuple(graphs or ())))
        res = build_report(store, tmp_path / "out")
    assert (tmp_path / "out" / "index.html").is_file() and res.verdicts
    assert len(sent) > 10 and len(built) > 10  # the report really queried and built
    repeated = sorted({q[0][:200] for q in sent if sent.count(q) > 1})
    assert not repeated, repeated
    twice = sorted({k for k in built if built.count(k) > 1})
    assert not twice, twice


def test_focus_by_year_centrality_is_node_metrics_of_a_fresh_network(built_store):
    """focus_by_year reads degree and betweenness from path_metrics on the run cache's
    networks; each equals node_metrics on the same window's network built afresh."""
    from kg.metrics import CENTRALITY_WINDOW, focus_by_year, node_metrics, path_metrics
    from kg.network import build_network_uncached
    from kg.store import open_store

    with open_store(built_store) as store:
        rows = focus_by_year(store, "JPN")
        assert len(rows) > 5
        checked = 0
        for row in rows[-8:]:
            y = row["year"]
            G = build_network_uncached(store, relation="exercise",
                                       year_from=y - CENTRALITY_WINDOW + 1, year_to=y)
            if "JPN" not in G:
                continue
            full = node_metrics(G)
            assert path_metrics(G) == {v: {k: m[k] for k in ("degree", "betweenness", "closeness")}
                                       for v, m in full.items()}
            assert row[f"degree_{CENTRALITY_WINDOW}y"] == full["JPN"]["degree"]
            assert row[f"betweenness_{CENTRALITY_WINDOW}y"] == round(full["JPN"]["betweenness"], 6)
            checked += 1
        assert checked >= 5


def test_plots_drawn_by_their_own_process_equal_plots_drawn_here(built_store, tmp_path):
    """The report draws the plots in a child process (``python -m kg.report``); its files
    are byte for byte those drawn in this process."""
    from kg.metrics import focus_by_year
    from kg.report import _Plots, _plots, agreements_by_type
    from kg.store import open_store

    with open_store(built_store) as store:
        by_year = focus_by_year(store, "JPN")
        types, rows = agreements_by_type(store, "JPN")
    windows = [("baseline", (2005, 2009)), ("recent", (2020, 2024))]
    child, here = tmp_path / "child", tmp_path / "here"
    child.mkdir()
    here.mkdir()
    job = _Plots(child, "JPN", by_year, types, rows, windows)
    assert job.proc is not None  # a process really started
    proc = job.proc
    files = job.wait()
    assert proc.returncode == 0  # and drew the plots (no fallback to this process)
    assert files == _plots(here, "JPN", by_year, types, rows, windows)
    assert len(files) == 2 * len(PLOTS)
    for name in files:
        assert (child / name).read_bytes() == (here / name).read_bytes(), name


def test_report_never_overwrites_a_folder_it_did_not_write(cli_runner, built_store, tmp_path):
    """An audit: kg report --out DIR overwrote the user's own index.html there. A report
    goes into a new or empty folder, or one an earlier report wrote (kg-report.json)."""
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("<p>mine</p>\n", encoding="utf-8")
    res = cli_runner("report", "--out", str(out), store=built_store)
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert "not empty" in res.stderr and "kg-report.json" in res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    assert (out / "index.html").read_text(encoding="utf-8") == "<p>mine</p>\n"


@pytest.mark.parametrize("args, message", [
    (["--focus", "XQZ"], "--focus XQZ: no state with that ISO3 code in the store"),
    (["--graph", "nosuch"], "no graph named 'nosuch' in the store (graphs: curated, ontology)"),
    (["--graph", "ontology"], "--graph ontology: these graphs declare no state (sp:State), "
                              "which the claims' queries read partners by; add --graph curated"),
])
def test_a_focus_or_graph_the_store_lacks_is_refused_before_a_folder_is_made(
        cli_runner, built_store, tmp_path, args, message):
    """--focus XQZ wrote a report of empty tables; --graph nosuch left a folder holding
    only the report marker. Both are refused now, and the folder is not created."""
    out = tmp_path / "r"
    res = cli_runner("report", "--out", str(out), *args, store=built_store)
    assert res.exit_code == 2, res.output
    assert res.stderr == f"kg: error: {message}\n"
    assert not out.exists()


def test_a_report_again_into_its_folder_keeps_no_map_of_other_data(cli_runner, reports,
                                                                    tmp_path):
    """A second report whose map cannot be drawn (the Holy See has no ties to draw) kept
    the first one's map.html and map.png, linked from its report.md and shown in its
    index.html: a figure of other data than its fingerprint names."""
    import shutil

    out = tmp_path / "again"
    shutil.copytree(reports["one"], out)
    assert (out / "map.html").is_file()
    res = cli_runner("report", "--out", str(out), "--focus", "VAT", store=reports["store"])
    assert res.exit_code == 0, res.output
    assert not (out / "map.html").exists() and not (out / "map.png").exists()
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "the map could not be drawn" in md and "(map.html)" not in md
    assert "map.png" not in (out / "index.html").read_text(encoding="utf-8")


def test_numbers_in_the_csv_tables_are_written_as_kg_metrics_writes_them(reports, cli_runner):
    """A count came out as "99.0" and a strength as "175.0" where `kg metrics` writes 99 and
    175; shares had 4 decimals or 6. One writer now: integers as such, else 6 decimals."""
    import csv as _csv
    import re

    number = re.compile(r"^-?\d+(\.\d{6})?$")
    for name in TABLES:
        if name == "claims.csv":
            continue
        with open(reports["one"] / name, encoding="utf-8") as fh:
            for row in _csv.DictReader(fh):
                for col, cell in row.items():
                    if cell and cell[0] in "-0123456789" and col not in ("from", "to"):
                        assert number.match(cell), (name, col, cell)
    with open(reports["one"] / "top_partners_2020-2024.csv", encoding="utf-8") as fh:
        usa = next(r for r in _csv.DictReader(fh) if r["iso3"] == "USA")
    res = cli_runner("metrics", "--from", "2020", "--to", "2024", "--format", "csv",
                     store=reports["store"])
    line = next(x for x in res.stdout.splitlines() if x.startswith("USA,"))
    state, degree, strength, *_ = line.split(",")
    assert (usa["degree"], usa["strength"]) == (degree, strength)
    assert usa["shared_exercises"].isdigit()
