"""The map through time (kg/map/): offline, escaped, exact counts per year, basemap, exports.

Browser tests run in real headless Chromium (Debian's ``/usr/bin/chromium``)
driven by Playwright's Python package; they skip with a reason when either is
missing. Expected counts come from :func:`kg.network.build_network`, computed
here independently of the map code.
"""

from __future__ import annotations

import json
import re
import struct
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Every payload sets window.__pwned (and some call alert) if it ever runs.
HOSTILE_YAML = """\
sources:
  - id: hostile-src-1
    title: "<script>window.__pwned='src-script'</script> report"
    publisher: "<img src=x onerror=\\"window.__pwned='pub-img';alert(1)\\">"
  - id: hostile-src-2
    title: "<a href=\\"javascript:window.__pwned='src-link'\\">click</a> <img src=x onerror=\\"window.__pwned='src-img';alert(2)\\">"
    publisher: Test
states:
  - iso3: XQZ
    name: "日本<script>window.__pwned='label-script'</script>"
    region: "<img src=x onerror=\\"window.__pwned='region-img';alert(3)\\">"
    lat: 35.68
    lon: 139.69
  - iso3: XQY
    name: "<a href=\\"javascript:window.__pwned='label-link'\\">東京</a><img src=x onerror=\\"window.__pwned='label-img'\\">"
    region: "Eastern Asia"
series:
  - id: hostile-series
    label: "<script>window.__pwned='series'</script>"
exercises:
  - id: hostile-series-2020
    series: hostile-series
    label: "<img src=x onerror=\\"window.__pwned='ex-img'\\">"
    year: 2020
    participants: [XQZ, XQY, JPN, USA]
    sources: [hostile-src-1, hostile-src-2]
"""

HOSTILE_TTL = """\
@prefix sp: <https://w3id.org/secpart/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<https://w3id.org/secpart/id/source/hostile-ttl> a sp:Source ;
  dcterms:title "</script><script>window.__pwned='ttl-title';alert('ttl-title')</script>" ;
  dcterms:publisher "<iframe src=\\"javascript:window.__pwned='ttl-pub'\\"></iframe>" ;
  sp:url "javascript:window.__pwned='ttl-url'"^^xsd:anyURI .

<https://w3id.org/secpart/id/state/XQX> a sp:State ;
  sp:iso3 "XQX" ;
  rdfs:label "<a href=\\"javascript:window.__pwned='ttl-link'\\">ヤマト</a>" ;
  sp:region "</style><script>window.__pwned='ttl-region'</script>" ;
  sp:lat 34.69 ; sp:lon 135.5 .

<https://w3id.org/secpart/id/exercise/hostile-ttl-2021> a sp:Exercise ;
  rdfs:label "<svg onload=\\"window.__pwned='ttl-ex'\\">" ;
  sp:year 2021 ;
  sp:participant <https://w3id.org/secpart/id/state/XQX>,
                 <https://w3id.org/secpart/id/state/XQZ>,
                 <https://w3id.org/secpart/id/state/JPN> ;
  sp:source <https://w3id.org/secpart/id/source/hostile-ttl> .
"""

SRC1 = "<script>window.__pwned='src-script'</script> report"
SRC2 = ("<a href=\"javascript:window.__pwned='src-link'\">click</a> "
        "<img src=x onerror=\"window.__pwned='src-img';alert(2)\">")
SRC_TTL = "</script><script>window.__pwned='ttl-title';alert('ttl-title')</script>"
XQZ_LABEL = "日本<script>window.__pwned='label-script'</script>"


# ------------------------------------------------------------------ fixtures

#: Screenshots the tests take, to be looked at (``KG_TEST_ARTIFACTS`` overrides).
ARTIFACTS = Path(__import__("os").environ.get("KG_TEST_ARTIFACTS")
                 or Path(__file__).resolve().parents[1] / "build" / "test-artifacts")


def _kg(*args):
    from click.testing import CliRunner

    from kg.cli import cli

    res = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture(scope="module")
def bundled_store(built_store) -> Path:
    """The session's store (ontology + bundled data); read only."""
    return built_store


@pytest.fixture(scope="module")
def bundled_map(bundled_store, tmp_path_factory) -> Path:
    """The map of the bundled data over the data's years (written once)."""
    from kg.map import render_map

    out = tmp_path_factory.mktemp("map-bundled") / "map.html"
    with _open(bundled_store) as store:
        render_map(store, out=out)
    return out


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory) -> Path:
    """The bundled data plus a hostile curated YAML file and a hostile Turtle file."""
    base = tmp_path_factory.mktemp("map-hostile")
    path = base / "store"
    (base / "hostile.yaml").write_text(HOSTILE_YAML, encoding="utf-8")
    (base / "hostile.ttl").write_text(HOSTILE_TTL, encoding="utf-8")
    _kg("--store", path, "build")
    _kg("--store", path, "ingest", base / "hostile.yaml")
    _kg("--store", path, "ingest", base / "hostile.ttl")
    return path


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright (skips when either is missing)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _open(store_path):
    from kg.store import open_store

    return open_store(store_path)


def _expected(store_path, *, relation="exercise", year_from=None, year_to=None,
              min_weight=1.0):
    """Nodes and edges the map must draw, from build_network alone."""
    from kg.network import build_network

    with _open(store_path) as store:
        G = build_network(store, relation=relation, year_from=year_from, year_to=year_to)
    edges = {tuple(sorted((u, v))) for u, v, d in G.edges(data=True)
             if d["weight"] >= min_weight}
    nodes = {n for e in edges for n in e}
    return G, nodes, edges


def _page_data(path: Path) -> dict:
    """The JSON data block embedded in a map page."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="kg-data">(.*?)</script>', text, re.S)
    assert m, "no kg-data block"
    return json.loads(m.group(1))


class _Refs(HTMLParser):
    """Every src/href attribute and every element of a page."""

    def __init__(self):
        super().__init__()
        self.refs, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "srcset", "action", "data"):
                self.refs.append(v)


def _load(browser, path: Path, fragment: str = ""):
    """Open a map; collect console errors, page errors, dialogs and every requested URL."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    log = {"errors": [], "requests": [], "dialogs": []}
    page.on("console", lambda m: log["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("request", lambda r: log["requests"].append(r.url))

    def on_dialog(d):
        log["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
               else r.abort())
    page.goto(path.resolve().as_uri() + (f"#{fragment}" if fragment else ""))
    page.wait_for_function("window.kgMap && window.kgMap.ready === true", timeout=15000)
    return page, log


def _slide_to(page, year: int) -> None:
    """Move the year slider as a user does: set its position and fire its input event."""
    years = page.evaluate("JSON.parse(document.getElementById('kg-data').textContent).years")
    page.locator("#kg-year").evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        years.index(year))


def _offline(log) -> None:
    assert log["requests"] and all(u.startswith(("file:", "data:")) for u in log["requests"])
    assert log["errors"] == [] and log["dialogs"] == []


# ------------------------------------------------------------------ time: the slider

def test_slider_years_draw_the_edges_kg_metrics_counts(bundled_store, bundled_map, browser):
    """Three slider positions: the drawn ties are exactly kg metrics' ties of that year."""
    data = _page_data(bundled_map)
    years = [y for y in (2008, 2016, 2023) if y in data["years"]]
    assert len(years) == 3, data["years"]
    page, log = _load(browser, bundled_map)
    try:
        for year in years:
            _slide_to(page, year)
            drawn = page.evaluate("window.kgMap.drawn()")
            out = _kg("--store", bundled_store, "metrics", "--relation", "exercise",
                      "--from", year, "--to", year, "--format", "json")
            period = json.loads(out.stdout)["periods"][0]
            _, nodes, edges = _expected(bundled_store, year_from=year, year_to=year)
            assert period["edges"] > 0
            assert len(drawn["edges"]) == period["edges"], year
            assert sorted(drawn["edges"]) == sorted(f"{a}|{b}" for a, b in edges)
            assert set(drawn["nodes"]) == nodes
            assert page.inner_text("#kg-period") == str(year)
            assert f"year={year}&window=1" in page.evaluate("location.hash")
            assert page.evaluate("window.kgMap.stepMs") < 1000
        assert page.evaluate("document.characterSet") == "UTF-8"
    finally:
        page.close()
    _offline(log)

    text = bundled_map.read_bytes().decode("utf-8")
    parser = _Refs()
    parser.feed(text)
    assert parser.refs == []  # no src/href at all: nothing is fetched, no CDN
    assert "link" not in parser.tags and parser.tags.count("script") == 2
    assert bundled_map.stat().st_size < 3_000_000  # the curated map stays small


def test_windows_relations_and_weights_follow_build_network(bundled_store, bundled_map,
                                                            browser):
    """Window widths, relation and minimum weight, in the page, against build_network."""
    page, log = _load(browser, bundled_map)
    try:
        for year, window, relation, minimum in ((2019, 5, "exercise", 2),
                                                (2024, 3, "agreement", 1),
                                                (2015, 1, "all", 1)):
            page.evaluate("p => window.kgMap.set(p)", {"year": year, "window": window,
                                                      "relation": relation, "min": minimum})
            _, nodes, edges = _expected(bundled_store, relation=relation,
                                        year_from=year - window + 1, year_to=year,
                                        min_weight=minimum)
            assert edges, (year, window, relation)
            drawn = page.evaluate("window.kgMap.drawn()")
            assert sorted(drawn["edges"]) == sorted(f"{a}|{b}" for a, b in edges)
            assert set(drawn["nodes"]) == nodes
            assert page.evaluate("location.hash") == (
                f"#year={year}&window={window}&relation={relation}&min={minimum}&focus="
                "&size=degree&layout=geo")
    finally:
        page.close()
    _offline(log)


def test_fragment_state_focus_and_pin(bundled_store, bundled_map, browser):
    """#year=2019&window=5&focus=JPN opens that view; JPN's ego network is highlighted."""
    G, _, _ = _expected(bundled_store, year_from=2015, year_to=2019)
    page, log = _load(browser, bundled_map, "year=2019&window=5&focus=JPN")
    try:
        state = page.evaluate("window.kgMap.state")
        assert (state["year"], state["window"], state["focus"]) == (2019, 5, "JPN")
        assert page.inner_text("#kg-period") == "2015–2019"
        assert page.input_value("#kg-focus") == "JPN"
        assert set(page.evaluate("window.kgMap.highlighted()")) == {"JPN"} | set(G["JPN"])
        # click-to-pin another state: its partners are highlighted instead
        pos = page.evaluate("window.kgMap.screenOf('AUS')")
        box = page.locator("#kg-view").bounding_box()
        page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
        assert set(page.evaluate("window.kgMap.highlighted()")) == {"AUS"} | set(G["AUS"])
        page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])  # release
        assert set(page.evaluate("window.kgMap.highlighted()")) == {"JPN"} | set(G["JPN"])
    finally:
        page.close()
    _offline(log)


@pytest.mark.parametrize("fragment", ["focus=__proto__", "focus=constructor&min=1",
                                      "year=%E0&focus=JPN", "%E0=1&window=5"])
def test_a_crafted_fragment_leaves_the_map_working(bundled_map, browser, fragment):
    """A link's fragment is anyone's text (an audit broke the page with "__proto__" and a
    bad %-escape): the page draws, ignores what is not a state or a value, no error."""
    page, log = _load(browser, bundled_map, fragment)
    try:
        state = page.evaluate("window.kgMap.state")
        assert state["focus"] in (None, "JPN")
        assert page.evaluate("window.kgMap.drawn()")["nodes"]
    finally:
        page.close()
    _offline(log)


def test_play_button_steps_through_the_years(bundled_map, browser):
    page, log = _load(browser, bundled_map)
    try:
        years = _page_data(bundled_map)["years"]
        page.evaluate("y => window.kgMap.set({year: y})", years[-3])
        page.click("#kg-play")
        for _ in range(100):  # polled from here: the page's CSP forbids eval of a predicate
            if page.evaluate("window.kgMap.state.year") == years[-1]:
                break
            page.wait_for_timeout(100)
        assert page.evaluate("window.kgMap.state.year") == years[-1]
        assert page.inner_text("#kg-play").endswith("Play")  # stopped at the last year
    finally:
        page.close()
    _offline(log)


# ------------------------------------------------------------------ basemap and exports

def test_basemap_draws_under_the_geo_layout(bundled_map, browser):
    """Land and sea pixels where Natural Earth has them; a screenshot kept for a look."""
    page, log = _load(browser, bundled_map, "year=2019&window=5&focus=JPN")
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map-geo-2015-2019-JPN.png"))
        page.evaluate("window.kgMap.set({min: 1e9})")  # nothing over the map: only the basemap
        land = [(-25.0, 134.0), (20.0, 15.0), (60.0, 100.0), (-10.0, -55.0), (40.0, -100.0)]
        sea = [(0.0, -140.0), (-30.0, 80.0), (30.0, -40.0), (-40.0, -120.0)]
        px = {}
        for lat, lon in land + sea:
            p = page.evaluate("([a, b]) => window.kgMap.project(a, b)", [lat, lon])
            px[(lat, lon)] = page.evaluate("([x, y]) => window.kgMap.pixel(x, y)", [p["x"], p["y"]])
        assert {tuple(px[k]) for k in land} == {(0xd9, 0xd9, 0xcf, 255)}
        assert {tuple(px[k]) for k in sea} == {(0xea, 0xf1, 0xf7, 255)}
    finally:
        page.close()
    _offline(log)


def test_basemap_decoder_reads_the_vendored_natural_earth_file():
    from kg.map import basemap

    topo = json.loads(basemap.BASEMAP_FILE.read_text(encoding="utf-8"))
    rings = basemap.rings(topo, "countries")
    names = {g["properties"]["name"] for g in topo["objects"]["countries"]["geometries"]}
    assert {"Japan", "Australia", "United States of America"} <= names
    lons = [p[0] for r in rings for p in r]
    lats = [p[1] for r in rings for p in r]
    assert min(lons) == pytest.approx(-180) and max(lons) == pytest.approx(180)
    assert -90 <= min(lats) < -80 and 80 < max(lats) <= 90
    assert all(r[0] == pytest.approx(r[-1]) for r in rings)  # every ring closes
    # page form round-trips to the same points (to a tenth of a degree)
    first = basemap.page_rings([rings[0]])[0]
    x, y = first[0], first[1]
    assert (x / 10, y / 10) == pytest.approx(rings[0][0], abs=0.051)
    assert len(basemap.load()) == len(basemap.page_rings(rings))
    lic = (basemap.BASEMAP_FILE.parent / "LICENSE-world-atlas").read_text(encoding="utf-8")
    assert "Michael Bostock" in lic
    assert "world-atlas" in (basemap.BASEMAP_FILE.parent / "PROVENANCE.md").read_text()


def test_exports_png_and_svg_of_the_current_view(bundled_store, bundled_map, browser, tmp_path):
    from kg.map import export_view

    _, nodes, edges = _expected(bundled_store, year_from=2015, year_to=2019)
    png, svg = tmp_path / "v.png", tmp_path / "v.svg"
    export_view(bundled_map, png=png, svg=svg, fragment="year=2019&window=5",
                width=900, height=600)
    head = png.read_bytes()[:24]
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    # both are the map view itself (the page less its header and legend), same size
    size = (int(root.get("width")), int(root.get("height")))
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == size
    assert 500 < size[0] < 900 and 400 < size[1] < 600
    assert len(root.findall(f".//{ns}circle")) == len(nodes)
    curves = sum(p.get("d").count("Q") for p in root.iter(f"{ns}path") if p.get("fill") == "none")
    assert curves >= len(edges)  # ties crossing the map's edge are drawn twice
    assert "2015–2019" in root.find(f"{ns}title").text


def test_cli_map_writes_page_png_and_svg(bundled_store, tmp_path):
    from click.testing import CliRunner

    from kg.cli import cli

    out, png, svg = tmp_path / "cli.html", tmp_path / "cli.png", tmp_path / "cli.svg"
    _, nodes, edges = _expected(bundled_store, year_from=2016, year_to=2020)
    res = _kg("--store", bundled_store, "map", "--out", out, "--from", 2000, "--to", 2020,
              "--window", 5, "--layout", "force", "--size-by", "strength",
              "--color-by", "alliance", "--png", png, "--svg", svg)
    assert res.stdout.splitlines()[0] == f"{out}: {len(nodes)} nodes, {len(edges)} edges"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ET.parse(svg).getroot().tag.endswith("svg")
    data = _page_data(out)
    assert data["years"] == list(range(2000, 2021)) and data["state"]["window"] == 5
    assert data["layouts"] == ["geo", "force"] and data["state"]["layout"] == "force"
    bad = CliRunner().invoke(cli, ["--store", str(bundled_store), "map", "--out",
                                   str(tmp_path / "x.html"), "--focus", "jpn"])
    assert bad.exit_code == 2 and "ISO3" in bad.stderr
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize("weight", ["-1", "nan", "inf"])
def test_cli_map_refuses_a_minimum_weight_that_is_not_a_finite_number_from_0(
        bundled_store, tmp_path, weight):
    """nan and inf used to end in a traceback from the page's JSON."""
    from click.testing import CliRunner

    from kg.cli import cli

    out = tmp_path / "x.html"
    bad = CliRunner().invoke(cli, ["--store", str(bundled_store), "map", "--out", str(out),
                                   "--min-weight", weight])
    assert bad.exit_code == 2, bad.output
    assert bad.stderr.strip() == f"kg: error: --min-weight {float(weight)}: a finite number, 0 or more"
    assert not out.exists()


@pytest.mark.parametrize("target,option,says", [
    ("folder", "--out", "is a folder, not a file"), ("missing", "--out", "no folder"),
    ("missing", "--svg", "no folder"), ("missing", "--png", "no folder"),
])
def test_cli_map_refuses_an_output_that_cannot_be_written_before_the_work(
        bundled_store, tmp_path, target, option, says):
    """A folder as --out used to fail after the work on "d.tmp" and leave a stray file; a
    missing folder was created (as root: anywhere)."""
    from click.testing import CliRunner

    from kg.cli import cli

    (tmp_path / "folder").mkdir()
    path = tmp_path / "folder" if target == "folder" else tmp_path / "nowhere" / "x"
    args = ["--out", str(path)] if option == "--out" else ["--out", str(tmp_path / "m.html"),
                                                           option, str(path)]
    bad = CliRunner().invoke(cli, ["--store", str(bundled_store), "map", *args])
    assert bad.exit_code == 2, bad.output
    assert bad.stderr.strip() == f"kg: error: {option} {path}: {says}" + (
        f" {path.parent}" if says == "no folder" else "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"]
    assert not any((tmp_path / "folder").iterdir())


def test_cli_map_refuses_a_relation_without_ties_instead_of_showing_another(bundled_store,
                                                                            tmp_path):
    """Years after the exercises, where agreements stay in force: the page used to open on
    the agreements under the title "Exercise network"."""
    from click.testing import CliRunner

    from kg.cli import cli

    out = tmp_path / "x.html"
    bad = CliRunner().invoke(cli, ["--store", str(bundled_store), "map", "--out", str(out),
                                   "--from", "2090", "--to", "2095"])
    assert bad.exit_code == 2, bad.output
    assert bad.stderr.strip() == ("kg: error: --relation exercise: no exercise ties in "
                                  "2090–2095 (ties there: agreement)")
    assert not out.exists()
    ok = CliRunner().invoke(cli, ["--store", str(bundled_store), "map", "--out", str(out),
                                  "--from", "2090", "--to", "2095", "--relation", "agreement"])
    assert ok.exit_code == 0, ok.output
    assert _page_data(out)["state"]["relation"] == "agreement"


def test_cli_map_refuses_a_focus_the_store_lacks_as_every_command_does(bundled_store, tmp_path):
    """--focus XQZ said "XQZ has no ties in 1980–2025", where the other commands say the
    code names no state."""
    from click.testing import CliRunner

    from kg.cli import cli

    out = tmp_path / "x.html"
    bad = CliRunner().invoke(cli, ["--store", str(bundled_store), "map", "--out", str(out),
                                   "--focus", "XQZ"])
    assert bad.exit_code == 2, bad.output
    assert bad.stderr == "kg: error: --focus XQZ: no state with that ISO3 code in the store\n"
    assert not out.exists()


def test_cli_map_takes_the_first_years_kg_takes(bundled_store, tmp_path):
    """--from 1800 was refused as "--from 1796" (the look-back of a five-year window)."""
    from click.testing import CliRunner

    from kg.cli import cli

    out = tmp_path / "x.html"
    res = CliRunner().invoke(cli, ["--store", str(bundled_store), "map", "--out", str(out),
                                   "--from", "1800", "--to", "1805"])
    assert res.exit_code == 0, res.output
    assert _page_data(out)["years"] == list(range(1800, 1806))
    bad = CliRunner().invoke(cli, ["--store", str(bundled_store), "map", "--out", str(out),
                                   "--from", "1799", "--to", "1805"])
    assert bad.exit_code == 2 and "--from 1799: a year from 1800 to 2100" in bad.stderr


def test_screenshot_without_chromium_raises_typed_error(tmp_path, monkeypatch):
    import kg.map.browser as kgbrowser
    from kg.errors import KgError

    monkeypatch.setattr(kgbrowser, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("KG_CHROMIUM", raising=False)
    (tmp_path / "m.html").write_text("<html></html>", encoding="utf-8")
    with pytest.raises(kgbrowser.BrowserUnavailable) as err:
        kgbrowser.screenshot(tmp_path / "m.html", tmp_path / "m.png")
    assert isinstance(err.value, KgError)
    assert not (tmp_path / "m.png").exists()


def test_screenshot_is_a_png_of_the_requested_size(bundled_map, browser, tmp_path):
    from kg.map import screenshot

    png = screenshot(bundled_map, tmp_path / "m.png", width=800, height=500)
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (800, 500)
    assert png.stat().st_size > 10_000  # something was drawn


def _differing_share(png_a, png_b) -> float:
    """The share of pixels that differ between two PNGs of the same size."""
    from PIL import Image, ImageChops

    a, b = Image.open(png_a).convert("RGB"), Image.open(png_b).convert("RGB")
    assert a.size == b.size
    mask = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0)
    return mask.histogram()[255] / (a.size[0] * a.size[1])


def test_screenshot_shows_the_view_a_browser_shows(bundled_map, browser, tmp_path):
    """Chromium's own --screenshot (the page loads in a shorter window, then grows) gives
    the picture Playwright takes of the page opened at that size, view for view."""
    from kg.map import screenshot

    fragment = "year=2019&window=5&focus=JPN"
    png = screenshot(bundled_map, tmp_path / "cli.png", fragment=fragment)
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(bundled_map.resolve().as_uri() + "#" + fragment)
    page.wait_for_function("window.kgMap && window.kgMap.ready === true", timeout=15000)
    page.screenshot(path=str(tmp_path / "pw.png"))
    page.close()
    assert _differing_share(png, tmp_path / "pw.png") < 0.001
    assert not list(tmp_path.glob(".*part*"))  # written beside, renamed into place


def test_fitted_view_follows_a_resize_until_the_reader_moves_it(bundled_map, browser):
    """A window resized before any pan or zoom gets the view a page opened at that size
    fits; after the reader zooms, a resize keeps the reader's view (no refit)."""
    view = "(() => { const n = window.kgMap.network(); const p = n.getViewPosition();" \
           " return [n.getScale(), p.x, p.y]; })()"
    url = bundled_map.resolve().as_uri()

    def opened(width, height):
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(url)
        page.wait_for_function("window.kgMap && window.kgMap.ready === true", timeout=15000)
        return page

    fresh = opened(1600, 1000)
    fitted_big = fresh.evaluate(view)
    fresh.set_viewport_size({"width": 1100, "height": 700})
    fresh.wait_for_timeout(200)
    fitted_small = fresh.evaluate(view)
    fresh.close()
    page = opened(1100, 700)
    assert page.evaluate(view) == pytest.approx(fitted_small, rel=1e-6, abs=1e-6)
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.wait_for_timeout(200)
    assert page.evaluate(view) == pytest.approx(fitted_big, rel=1e-6, abs=1e-6)
    box = page.locator("#kg-view").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)  # the reader zooms in
    page.wait_for_timeout(300)
    zoomed = page.evaluate(view)
    assert zoomed[0] > fitted_big[0] * 1.05
    page.set_viewport_size({"width": 1100, "height": 700})
    page.wait_for_timeout(200)
    after = page.evaluate(view)
    assert after[0] != pytest.approx(fitted_small[0], rel=0.02)  # not refitted
    assert after[0] > fitted_small[0] * 1.05  # still zoomed in, as the reader left it
    page.close()


def test_screenshot_chromium_reaches_no_server(browser, tmp_path):
    """A page asking a local server (by address and by name) for images and a script: the
    screenshot's Chromium sends it nothing."""
    import http.server
    import threading

    from kg.map import screenshot

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            seen.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = tmp_path / "asks.html"
        page.write_text(
            f'<html><body><img src="http://127.0.0.1:{port}/by-address.png">'
            f'<img src="http://localhost:{port}/by-name.png">'
            f'<script src="http://127.0.0.1:{port}/s.js"></script>'
            f'<script>fetch("http://127.0.0.1:{port}/fetch").catch(() => 0);</script>'
            "<p>offline</p></body></html>", encoding="utf-8")
        # the same page does reach the server from a browser that is not held back
        pw_page = browser.new_page()
        pw_page.goto(page.as_uri())
        pw_page.wait_for_timeout(300)
        pw_page.close()
        assert seen, "the control browser should reach the local server"
        seen.clear()
        png = screenshot(page, tmp_path / "asks.png", width=400, height=300)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert seen == []
    finally:
        server.shutdown()
        server.server_close()


def test_screenshot_gives_up_after_its_timeout_and_leaves_nothing(tmp_path):
    """A page that never settles: a typed error after ``timeout``, no PNG, no Chromium left."""
    import time

    from kg.map import BrowserUnavailable, screenshot

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (Debian package chromium)")
    page = tmp_path / "spins.html"
    page.write_text("<html><body><script>for (;;) {}</script></body></html>", encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(BrowserUnavailable, match="more than 3 s"):
        screenshot(page, tmp_path / "spins.png", timeout=3)
    assert time.perf_counter() - t0 < 20
    assert list(tmp_path.iterdir()) == [page]
    assert _gone(lambda: _processes_naming(page))


def _processes_naming(path) -> list[int]:
    """The processes whose command line names ``path``."""
    import os

    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if str(path).encode() in f.read():
                    out.append(int(pid))
        except OSError:
            pass
    return out


def _gone(find, seconds: float = 5) -> bool:
    """True once ``find()`` is empty (polled for up to ``seconds``)."""
    import time

    deadline = time.monotonic() + seconds
    while find() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not find()


@pytest.mark.parametrize("how", ["sys.exit(0)", "raise KeyboardInterrupt"])
def test_screenshot_chromium_stops_when_kg_leaves(tmp_path, how):
    """Chromium runs in a session of its own (it does not get the terminal's Ctrl-C): a kg
    that leaves, or is interrupted, while a screenshot runs stops it and its part file."""
    import subprocess
    import sys

    from processes import ROOT, clean_env

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (Debian package chromium)")
    page = tmp_path / "spins.html"
    page.write_text("<html><body><script>for (;;) {}</script></body></html>", encoding="utf-8")
    script = (
        "import sys, threading, time\n"
        "from kg.map import screenshot\n"
        f"threading.Thread(target=screenshot, args=({str(page)!r}, {str(tmp_path / 'm.png')!r}),"
        " kwargs={'timeout': 120}, daemon=True).start()\n"
        "time.sleep(2)\n"
        f"{how}\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=clean_env(), cwd=str(ROOT), timeout=60)
    assert proc.returncode in (0, -2), proc.stderr  # -2: ended by SIGINT, as Python does
    assert _gone(lambda: _processes_naming(page))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spins.html"]


# ------------------------------------------------------------------ hostile labels and sources

@pytest.mark.parametrize("csp", [True, False], ids=["with-csp", "escaping-only"])
def test_hostile_labels_stay_inert_at_every_slider_position(hostile_store, browser, tmp_path,
                                                            csp):
    """Payloads in labels, regions and source titles stay text in every year and window."""
    from kg.map import render_map

    out = tmp_path / "hostile.html"
    with _open(hostile_store) as store:
        render_map(store, out=out, layout="force", csp=csp)
    years = _page_data(out)["years"]
    hostile = {"XQZ", "XQY", "XQX"}
    page, log = _load(browser, out)
    tips = {}
    try:
        box = page.locator("#kg-view").bounding_box()
        for window in ("1", "5"):
            page.select_option("#kg-window", window)
            for year in years:
                _slide_to(page, year)
                drawn = set(page.evaluate("window.kgMap.drawn().nodes"))
                for node in sorted(hostile & drawn):
                    pos = page.evaluate("id => window.kgMap.screenOf(id)", node)
                    page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
                    assert page.evaluate("document.getElementById('kg-tip').style.visibility")\
                        == "visible"
                    assert page.inner_text("#kg-tip").split("\n")[0].endswith(f"({node})")
                    tips[(window, year, node)] = page.inner_text("#kg-tip")
                svg = page.evaluate("window.kgMap.toSVG()")
                root = ET.fromstring(svg)  # well-formed: every label escaped for XML
                tags = {el.tag.split("}")[1] for el in root.iter()}
                assert tags <= {"svg", "title", "defs", "clipPath", "rect", "g", "path",
                                "circle", "text"}, tags
                assert page.evaluate("window.__pwned") is None
                assert page.evaluate("document.querySelectorAll('img, a, iframe, svg, object, "
                                     "embed, style').length") == 1  # only our own <style>
                assert page.evaluate("document.scripts.length") == 2
        page.mouse.move(1, 1)
        assert ("1", 2020, "XQZ") in tips and ("5", 2024, "XQX") in tips
        first = tips[("1", 2020, "XQZ")]
        assert first.startswith(XQZ_LABEL + " (XQZ)")
        assert SRC1 in first and SRC2 in first
        assert SRC_TTL in tips[("1", 2021, "XQZ")]
        assert "ヤマト" in tips[("1", 2021, "XQX")]
        assert page.evaluate("window.kgMap.labelOf('XQZ')") == XQZ_LABEL
        options = page.evaluate("[...document.querySelectorAll('#kg-focus option')]"
                                ".map(o => o.textContent)")
        assert XQZ_LABEL + " (XQZ)" in options
        legend = page.inner_text("#legend")
        assert "<img src=x onerror=" in legend and "</style><script>" in legend
    finally:
        page.close()
    _offline(log)


def test_tie_sources_are_the_sources_of_shared_exercises(hostile_store):
    from kg.map import tie_sources

    with _open(hostile_store) as store:
        all_years = tie_sources(store, [("XQY", "XQZ"), ("XQZ", "XQX"), ("XQX", "XQY")])
        only_2021 = tie_sources(store, [("XQZ", "XQY"), ("XQZ", "XQX")],
                                year_from=2021, year_to=2021)
        agreements = tie_sources(store, [("XQZ", "XQY")], relation="agreement")
    # pairs come back ordered; each source cited once, so titles sort by text
    assert all_years == {("XQY", "XQZ"): sorted([SRC1, SRC2]), ("XQX", "XQZ"): [SRC_TTL],
                         ("XQX", "XQY"): []}
    assert only_2021 == {("XQY", "XQZ"): [], ("XQX", "XQZ"): [SRC_TTL]}
    assert agreements == {("XQY", "XQZ"): []}


# ------------------------------------------------------------------ data, layouts, page file

def test_projection_of_the_all_network_is_build_network(bundled_store):
    """The per-relation networks the metrics measure equal build_network's own."""
    from kg.map.data import project
    from kg.network import build_network

    with _open(bundled_store) as store:
        for rel, lo, hi in (("exercise", 2015, 2019), ("agreement", 2020, 2024)):
            both = build_network(store, relation="all", year_from=lo, year_to=hi)
            one = build_network(store, relation=rel, year_from=lo, year_to=hi)
            P = project(both, rel)
            assert set(P.nodes) == set(one.nodes)
            assert {(u, v, d["weight"]) for u, v, d in P.edges(data=True)} == \
                   {(u, v, d["weight"]) for u, v, d in one.edges(data=True)}


def test_geo_layout_is_pacific_aware_with_y_down(bundled_store, bundled_map):
    from kg.map import GEO_SCALE
    from kg.map.layout import wrap_lon

    G, _, _ = _expected(bundled_store)
    data = _page_data(bundled_map)
    c = data["centre"]
    pos = {n["id"]: (n["x"], n["y"]) for n in data["nodes"]}
    for iso in ("JPN", "AUS", "USA"):
        lat, lon = G.nodes[iso]["lat"], G.nodes[iso]["lon"]
        assert pos[iso] == pytest.approx((wrap_lon(lon - c) * GEO_SCALE, -lat * GEO_SCALE),
                                         abs=0.5)
    assert pos["AUS"][1] > pos["JPN"][1]  # south is further down the canvas
    # Japan's ties across the Pacific do not run across the whole map
    assert abs(wrap_lon(G.nodes["JPN"]["lon"] - c)) < 120


def test_output_is_deterministic(bundled_store, tmp_path):
    from kg.map import render_map

    with _open(bundled_store) as store:
        render_map(store, out=tmp_path / "a.html", layout="force", year_from=2015, year_to=2019)
        render_map(store, out=tmp_path / "b.html", layout="force", year_from=2015, year_to=2019)
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    data = _page_data(tmp_path / "a.html")
    assert len({(n["fx"], n["fy"]) for n in data["nodes"]}) == len(data["nodes"])


def test_render_graph_draws_a_bare_networkx_graph(tmp_path):
    import networkx as nx

    from kg.map import render_graph

    G = nx.Graph()
    G.add_edge("A", "B", weight=3.0)
    G.add_edge("B", "C", weight=1.0)
    G.nodes["A"].update(label="Ä <b>", region="r1")
    res = render_graph(G, None, tmp_path / "g.html", "Three <nodes>", layout="force")
    assert (res.nodes, res.edges) == (3, 2)
    data = _page_data(tmp_path / "g.html")
    assert data["years"] == [] and data["frames"][0]["e"] == [0, 1, 3, 0, 0, 1, 2, 1, 0, 0]
    text = (tmp_path / "g.html").read_text(encoding="utf-8")
    assert "<title>Three &lt;nodes&gt;</title>" in text
    assert "Ä \\u003cb\\u003e" in text  # label escaped inside the JSON block


def test_hovering_a_tie_shows_its_weights_as_text(browser, tmp_path):
    import networkx as nx

    from kg.map import render_graph

    G = nx.Graph()
    G.add_edge("A", "B", weight=3.0)
    G.add_edge("B", "C", weight=1.0)
    G.nodes["A"].update(label="<img src=x onerror=alert(1)>")
    render_graph(G, None, tmp_path / "g.html", "Three", layout="force",
                 sources={("A", "B"): ["<b>Report</b>"]})
    page, log = _load(browser, tmp_path / "g.html")
    try:
        box = page.locator("#kg-view").bounding_box()
        pos = page.evaluate("window.kgMap.edgePoint('A', 'B')")
        page.mouse.move(box["x"] + pos["x"], box["y"] + pos["y"])
        tip = page.inner_text("#kg-tip")
        assert tip.startswith("<img src=x onerror=alert(1)> (A) – B: weight 3")
        assert "Sources: <b>Report</b>" in tip
        assert page.evaluate("document.querySelectorAll('#kg-tip *').length") == 0
    finally:
        page.close()
    _offline(log)


# ------------------------------------------------------------------ the 1,000-state page

def test_thousand_states_36_years_page_draws_every_year(browser, tmp_path):
    """The benchmark's 1,000-state, 36-year page works; `make bench` times it (no timed test)."""
    from processes import bench_module

    from kg.map import render_series

    series = bench_module("map_world").thousand_state_series()
    res = render_series(series, tmp_path / "big.html", "1,000 states, 36 years", layout="geo")
    assert res.edges == 1500
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        page.goto((tmp_path / "big.html").as_uri())
        page.wait_for_function("window.kgMap && window.kgMap.ready === true", timeout=30000)
        for year in (1995, 2005, 2015, 2024):
            _slide_to(page, year)
            assert page.evaluate("window.kgMap.state.year") == year
        page.select_option("#kg-window", "5")
        assert len(page.evaluate("window.kgMap.drawn().edges")) > 1500
    finally:
        page.close()


def test_page_buttons_download_png_and_svg_and_links_follow_the_fragment(bundled_map, browser):
    """The page's own PNG and SVG buttons; a changed address redraws that view."""
    page, log = _load(browser, bundled_map)
    try:
        page.evaluate("location.hash = 'year=2010&window=3&relation=exercise&min=2'")
        page.wait_for_timeout(200)
        assert page.evaluate("window.kgMap.state.year") == 2010
        assert page.inner_text("#kg-period") == "2008–2010"
        assert page.input_value("#kg-min") == "2"
        with page.expect_download() as dl:
            page.click("#kg-svg")
        svg = Path(dl.value.path()).read_text(encoding="utf-8")
        assert dl.value.suggested_filename == "kg-map-2008-2010.svg"
        assert ET.fromstring(svg).tag.endswith("svg") and "2008–2010" in svg
        with page.expect_download() as dl:
            page.click("#kg-png")
        assert Path(dl.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        page.close()
    log["requests"] = [u for u in log["requests"] if not u.startswith("blob:file:")]
    _offline(log)


def test_window_networks_equal_build_network_of_the_window(bundled_store):
    """Each window's ties, nodes and metrics, made in bulk from its years, are those of
    build_network's own network of the window (the slow path)."""
    from kg.map import build_series
    from kg.map.data import project
    from kg.metrics import node_metrics
    from kg.network import build_network

    with _open(bundled_store) as store:
        series = build_series(store, 2014, 2024, relation="exercise")
        agreements = build_series(store, 2019, 2024, relation="agreement", sources=False)
        for y in (2014, 2019, 2024):
            for w in (1, 3, 5):
                ref = build_network(store, relation="all", year_from=y - w + 1, year_to=y)
                assert series.members[(y, w)] == sorted(ref.nodes), (y, w)
                assert {n: series.attrs[n] for n in ref} == \
                       {n: {k: d[k] for k in ("label", "region", "lat", "lon")}
                        for n, d in ref.nodes(data=True)}
                assert {k: (ew, aw, list(types))
                        for k, (ew, aw, types) in series.ties[(y, w)].items()} == {
                    tuple(sorted((u, v))): (d["exercise_weight"], d["agreement_weight"],
                                            d["agreement_types"])
                    for u, v, d in ref.edges(data=True)}, (y, w)
                assert series.metrics[(y, w)] == node_metrics(project(ref, "exercise")), (y, w)
                if y >= 2019:
                    assert agreements.metrics[(y, w)] == \
                           node_metrics(project(ref, "agreement")), (y, w)
                assert len(series.ties[(y, w)]) > 0
        assert any(aw for (y, w), ties in series.ties.items() for _, aw, _ in ties.values())


def test_collector_paused_while_a_map_is_made_and_restored_after():
    """render_map and render_series run with the cyclic collector off; its state comes back
    after, also when they fail, and a caller's own pause is kept."""
    import gc

    from kg.cache import collector_paused

    seen = []

    @collector_paused()
    def make(fail):
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("bad map")
        return "page"

    assert gc.isenabled()
    assert make(False) == "page" and seen == [False] and gc.isenabled()
    with pytest.raises(ValueError):
        make(True)
    assert gc.isenabled()
    gc.disable()
    try:
        make(False)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_collector_paused_leaves_what_it_made_in_the_oldest_generation():
    """Objects made and kept in a paused block count as old after it (as survivors of the
    skipped collections would), so the first collection after it does not walk them."""
    import gc

    from kg.cache import collector_paused

    with collector_paused():
        kept = [[i] for i in range(1000)]
    assert gc.isenabled()
    young = {id(o) for o in gc.get_objects(generation=0)}
    assert not any(id(o) in young for o in kept)
    assert any(o is kept[0] for o in gc.get_objects(generation=2))


def test_series_of_a_run_with_prefetch_equal_the_series_read_one_query_at_a_time(bundled_store):
    """In a run (run cache on) the exercises, lifecycles and titles are read in background
    threads; the series is the one read without them, and no query is sent twice."""
    from kg.cache import run_cache
    from kg.map import build_series

    with _open(bundled_store) as store:
        plain = build_series(store, 2012, 2024, relation="all")
    with _open(bundled_store) as store:
        sent = []
        store.tracer = lambda text, graphs: sent.append((text, tuple(graphs or ())))
        run_cache(store)
        fast = build_series(store, 2012, 2024, relation="all")
        assert len(sent) == len(set(sent)) and len(sent) > 10
    for part in ("years", "windows", "ties", "members", "attrs", "metrics", "sources"):
        assert getattr(fast, part) == getattr(plain, part), part
    with _open(bundled_store) as store:  # render_map's form: sources made when the page asks
        from kg.map.data import WINDOWS, _build_series

        run_cache(store)
        later = _build_series(store, 2012, 2024, relation="all", windows=WINDOWS, graphs=None,
                              metrics=True, sources=True, later=True)
        assert callable(later.sources) and later.ties == plain.ties
        assert later.sources()() == plain.sources  # the store's reads, then the pure rest
    assert list(fast.ties) == list(plain.ties)
    assert all(list(fast.ties[k]) == list(plain.ties[k]) for k in plain.ties)
    assert any(plain.sources[y] for y in plain.sources)


def test_sources_of_every_year_equal_tie_sources(bundled_store):
    """The sources read for all years at once are tie_sources' of each year's ties."""
    from kg.map import build_series, tie_sources

    with _open(bundled_store) as store:
        series = build_series(store, 2015, 2024, metrics=False)
        for y in (2015, 2019, 2024):
            pairs = list(series.ties[(y, 1)])
            ref = tie_sources(store, pairs, relation="all", year_from=y, year_to=y)
            assert series.sources[y] == ref, y
            assert sum(1 for ts in ref.values() if ts) > 10


# ------------------------------------------------------------------ vis-network from pyvis

def _vis_via(a, b, smooth):
    """vis-network 9's control point of a static ``curvedCW``/``curvedCCW`` edge (its source)."""
    import math

    dx, dy = b[0] - a[0], a[1] - b[1]
    chord, i = math.hypot(dx, dy), smooth["roundness"]
    s = 0.5 * i + 0.5
    turn = s if smooth["type"] == "curvedCW" else 0.5 * -i + 0.5
    g = (math.atan2(dy, dx) + turn * math.pi) % (2 * math.pi)
    return a[0] + s * chord * math.sin(g), a[1] + s * chord * math.cos(g)


def test_geo_ties_bend_toward_the_great_circle():
    """Tokyo-Los Angeles on a Pacific-centred map bends north; the equator stays straight."""
    from kg.map import GEO_SCALE
    from kg.map.layout import wrap_lon
    from kg.map.page import _geo_smooth

    def node(lat, lon, centre):
        return {"x": wrap_lon(lon - centre) * GEO_SCALE, "y": -lat * GEO_SCALE, "lat": lat,
                "lon": lon}

    tok, lax = node(35.7, 139.7, -150), node(34.1, -118.2, -150)
    for a, b in ((tok, lax), (lax, tok)):
        bend = _geo_smooth(a, b, -150)
        assert 0.2 < bend["roundness"] < 0.6
        via = _vis_via((a["x"], a["y"]), (b["x"], b["y"]), bend)
        # the great circle's midpoint is near 48 N: the control point lies well north
        assert via[1] < -45 * GEO_SCALE
        assert min(a["x"], b["x"]) < via[0] < max(a["x"], b["x"])
    eq = _geo_smooth(node(0, 0, 0), node(0, 90, 0), 0)
    assert eq["roundness"] == 0
    # the short way round crosses the map's edge: vis-network cannot wrap, a gentle bend
    wrap = _geo_smooth(node(35.7, 139.7, 0), node(34.1, -118.2, 0), 0)
    assert wrap == {"roundness": 0.15, "type": "curvedCW"}


def _geo_smooth_reference(a, b, centre):
    """The bend as first written: the full 40-step bisection (the fast one must equal it)."""
    import math

    from kg.map import GEO_SCALE
    from kg.map.layout import wrap_lon

    ax, ay, bx, by = a["x"], a["y"], b["x"], b["y"]
    dx, dy = bx - ax, by - ay
    chord = math.hypot(dx, dy)
    if chord < 1e-9 or "lat" not in a or "lat" not in b:
        return {"roundness": 0.0, "type": "curvedCW"}
    if abs(dx) > 180 * GEO_SCALE:
        return {"roundness": 0.15, "type": "curvedCW"}
    r = math.pi / 180
    p1, l1, p2, l2 = a["lat"] * r, a["lon"] * r, b["lat"] * r, b["lon"] * r
    x = math.cos(p1) * math.cos(l1) + math.cos(p2) * math.cos(l2)
    y = math.cos(p1) * math.sin(l1) + math.cos(p2) * math.sin(l2)
    z = math.sin(p1) + math.sin(p2)
    norm = math.sqrt(x * x + y * y + z * z)
    if norm < 1e-6:
        return {"roundness": 0.15, "type": "curvedCW"}
    mlat, mlon = math.asin(z / norm) / r, math.atan2(y, x) / r
    cx, cy = (ax + bx) / 2, (ay + by) / 2
    mx = wrap_lon(mlon - centre) * GEO_SCALE
    mx += 360 * GEO_SCALE * round((cx - mx) / (360 * GEO_SCALE))
    ox, oy = 2 * (mx - cx), 2 * (-mlat * GEO_SCALE - cy)
    f = min(1.0, 0.5 * chord / max(math.hypot(ox, oy), 1e-9))
    h = (ox * -dy + oy * dx) * f / chord
    want = min(abs(h) / chord, 0.5)
    lo, hi = 0.5, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if -mid * math.cos(mid * math.pi) < want:
            lo = mid
        else:
            hi = mid
    return {"roundness": round(2 * lo - 1, 3), "type": "curvedCCW" if h > 0 else "curvedCW"}


def _centre_meridian_reference(coords, ties):
    """The centre meridian's cost as first written, one tie and one meridian at a time."""
    from kg.map.layout import wrap_lon

    centres = [float(c) for c in range(-180, 180, 10)]
    cost = [0.0] * len(centres)
    for a, b, w in ties:
        if a not in coords or b not in coords:
            continue
        la, d = coords[a][1], wrap_lon(coords[b][1] - coords[a][1])
        for k, c in enumerate(centres):
            start = wrap_lon(la - c - 180.0)
            if start == 0 or (start < 0 <= start + d) or (start + d < 0 <= start):
                cost[k] += float(w)
    return cost


def test_fast_bends_and_centre_equal_the_loops_they_replace():
    """The early-stopping bisection and the all-meridians-at-once cost give the loops'
    answers exactly, on random capitals and weights (whole, fractional, and ties on the
    meridians themselves)."""
    import random

    from kg.map import GEO_SCALE
    from kg.map.layout import meridian_costs, wrap_lon
    from kg.map.page import _geo_smooth

    rng = random.Random(5)
    for centre in (0.0, -150.0, 140.0):
        for _ in range(3000):
            a, b = [{"lat": rng.uniform(-60, 75), "lon": rng.choice([rng.uniform(-180, 180),
                                                                     float(rng.randrange(-18, 18) * 10)])}
                    for _ in range(2)]
            for n in (a, b):
                n["x"], n["y"] = wrap_lon(n["lon"] - centre) * GEO_SCALE, -n["lat"] * GEO_SCALE
            assert _geo_smooth(a, b, centre) == _geo_smooth_reference(a, b, centre)
    names = [f"S{i}" for i in range(60)]
    centres = [float(c) for c in range(-180, 180, 10)]
    for _ in range(40):
        coords = {n: (rng.uniform(-60, 70), rng.choice([rng.uniform(-180, 180),
                                                        float(rng.randrange(-18, 18) * 10)]))
                  for n in names[: rng.randrange(2, 60)]}
        ties = [(rng.choice(names), rng.choice(names),
                 rng.choice([1.0, 2, rng.uniform(0, 5), 0.1])) for _ in range(rng.randrange(0, 400))]
        assert meridian_costs(coords, ties, centres) == _centre_meridian_reference(coords, ties)
    assert meridian_costs({}, [], centres) == [0.0] * 36


def test_bends_of_all_ties_at_once_equal_the_bend_of_each(bundled_map):
    """_geo_smooths (numpy, a grid of midpoints) gives _geo_smooth's bend for every tie:
    random capitals (some unknown, some shared, ties across the map's edge) on three
    centre meridians, and every tie of the bundled map."""
    import random

    from kg.map import GEO_SCALE
    from kg.map.layout import wrap_lon
    from kg.map.page import _geo_smooth, _geo_smooths

    rng = random.Random(11)
    for centre in (0.0, -150.0, 140.0):
        nodes = []
        for _ in range(150):
            lon = rng.choice([rng.uniform(-180, 180), float(rng.randrange(-18, 18) * 10)])
            n = {"lat": round(rng.uniform(-60, 75), 3), "lon": round(lon, 3)}
            n["x"] = round(wrap_lon(n["lon"] - centre) * GEO_SCALE, 1)
            n["y"] = round(-n["lat"] * GEO_SCALE, 1)
            if rng.random() < 0.05:
                del n["lat"], n["lon"]
            nodes.append(n)
        nodes.append(dict(nodes[1]))  # two states at one capital: no bend
        pairs = [(i, j) for i in range(len(nodes)) for j in range(i + 1, len(nodes))]
        fast = _geo_smooths(nodes, pairs, centre)
        assert fast == [_geo_smooth(nodes[i], nodes[j], centre) for i, j in pairs]
        kinds = {(b["type"], b["roundness"] in (0.0, 0.15)) for b in fast}
        assert {("curvedCW", True), ("curvedCCW", False), ("curvedCW", False)} <= kinds
    data = _page_data(bundled_map)
    nodes = data["nodes"]
    pairs = [(e[0], e[1]) for e in data["edges"]]
    assert len(pairs) > 100
    smooths = [{"type": data["bendTypes"][e[2]], "roundness": e[3]} for e in data["edges"]]
    assert _geo_smooths(nodes, pairs, data["centre"]) == smooths
    assert smooths == [_geo_smooth(nodes[i], nodes[j], data["centre"]) for i, j in pairs]


def test_page_is_drawn_by_pyvis_vis_network_updated_in_place(bundled_map, browser):
    """vis-network from the installed pyvis, inline; steps update its DataSets, never rebuild it."""
    from kg.map.page import vis_assets

    js, css, vis_version, _ = vis_assets()
    text = bundled_map.read_text(encoding="utf-8")
    assert js in text and css in text
    data = _page_data(bundled_map)
    assert data["options"]["physics"]["enabled"] is False
    assert {(e[0], e[1]) for e in data["edges"]} == {
        (f["e"][k], f["e"][k + 1]) for f in data["frames"] for k in range(0, len(f["e"]), 5)}
    page, log = _load(browser, bundled_map)
    try:
        assert page.evaluate("window.kgMap.network() instanceof vis.Network")
        page.evaluate("window.__first = window.kgMap.network(); "
                      "window.__sets = [__first.body.data.nodes, __first.body.data.edges]")
        for year, window in ((2008, 1), (2016, 3), (2023, 5), (2019, 1)):
            page.evaluate("p => window.kgMap.set(p)", {"year": year, "window": window})
            counts = page.evaluate("""() => { const n = window.kgMap.network(), d = n.body.data;
                return {same: n === window.__first && d.nodes === window.__sets[0] &&
                              d.edges === window.__sets[1],
                        edges: d.edges.get({filter: e => !e.hidden}).length,
                        drawnEdges: window.kgMap.drawn().edges.length,
                        visible: n.body.edgeIndices.length,
                        canvases: document.querySelectorAll('#kg-view canvas').length}; }""")
            assert counts["same"] and counts["canvases"] == 1
            assert counts["edges"] == counts["drawnEdges"] == counts["visible"] > 0
    finally:
        page.close()
    _offline(log)


def test_sources_made_in_a_forked_child_give_the_same_page(bundled_store, tmp_path, monkeypatch):
    """The page's sources made in a forked child (:func:`kg.map.page._sources_job`, big
    series) and here (small ones) give the same bytes."""
    import kg.map.page as page
    from kg.basestore import Forked
    from kg.map import render_map

    forked = []

    class Seen(Forked):
        def __init__(self, fn, *, fork=True):
            super().__init__(fn, fork=fork)
            forked.append(self._pid is not None)

    monkeypatch.setattr(page, "Forked", Seen)
    out = {}
    for name, least in (("child", 0), ("here", 10**9)):
        monkeypatch.setattr(page, "FORK_MIN_TIES", least)
        with _open(bundled_store) as store:
            render_map(store, out=tmp_path / f"{name}.html", year_from=2016, year_to=2024)
        out[name] = (tmp_path / f"{name}.html").read_bytes()
    assert forked == [True, False]
    assert out["child"] == out["here"] and b'"sources":{"2016":[[' in out["here"]


# ------------------------------------------------------------------ the map audit (3 December 2026)

def _export_network(store_path, *args) -> tuple[dict, set]:
    """Per state (partners, summed weight), and the pairs, of ``kg export --format csv``."""
    import csv
    import io

    out = _kg("--store", store_path, "export", "--format", "csv", *args)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    per: dict = {}
    for r in rows:
        for s in (r["source"], r["target"]):
            n, w = per.get(s, (0, 0))
            per[s] = (n + 1, w + int(r["weight"]))
    return per, {"|".join(sorted((r["source"], r["target"]))) for r in rows}


def _tip_counts(page, iso3: str) -> tuple[int, int]:
    """(partners, weight) of a state as its tooltip states them for the shown view."""
    m = re.search(r": (\d+) partners, weight (\d+)", page.evaluate("id => window.kgMap.tipOf(id)",
                                                                   iso3))
    assert m, iso3
    return int(m.group(1)), int(m.group(2))


def test_one_agreement_type_weighs_ties_by_agreements_of_that_type(bundled_store, bundled_map,
                                                                  browser):
    """Relation 'agreements: DefenceTreaty' in 2022-2024: each state's partners and weight
    are kg export's for that type (the audit found GBR at 33: its ties to the USA and Italy
    counted a joint declaration and a cooperation agreement beside the NATO treaty)."""
    per, pairs = _export_network(bundled_store, "--relation", "agreement", "--agreement-type",
                                 "DefenceTreaty", "--from", 2022, "--to", 2024)
    assert per["GBR"] == (31, 31)  # hand-checked: NATO's 31 other members, one treaty each
    page, log = _load(browser, bundled_map)
    try:
        page.evaluate("p => window.kgMap.set(p)", {"year": 2024, "window": 3, "min": 1,
                                                  "relation": "agreement:DefenceTreaty"})
        drawn = page.evaluate("window.kgMap.drawn()")
        assert sorted(drawn["edges"]) == sorted(pairs)
        assert _tip_counts(page, "GBR") == (31, 31)
        assert {s: _tip_counts(page, s) for s in drawn["nodes"]} == per
        # the minimum weight reads the same counts: no pair has two defence treaties
        page.evaluate("window.kgMap.set({min: 2})")
        assert page.evaluate("window.kgMap.drawn()")["edges"] == []
    finally:
        page.close()
    _offline(log)


def test_series_counts_of_each_agreement_type_are_the_in_force_rule_s(bundled_store):
    """Each tie's count per agreement type is kg.inforce.dyads of that type alone, window by
    window (the one rule; the map keeps no rule of its own)."""
    from kg.inforce import dyads, dyads_by_window
    from kg.map import build_series

    with _open(bundled_store) as store:
        series = build_series(store, 2020, 2024, relation="agreement", metrics=False,
                              sources=False)
        windows = [(y - w + 1, y) for y in (2020, 2024) for w in (1, 3, 5)]
        typed = dyads_by_window(store, windows, by_type=True)
        seen = set()
        for (lo, hi), (pairs, _) in zip(windows, typed, strict=True):
            ties = series.ties[(hi, hi - lo + 1)]
            for t in _page_data_types(ties):
                want = {p: n for p, (n, _) in dyads(store, lo, hi, types=[t])[0].items()}
                assert {p: dict(v[2])[t] for p, v in ties.items() if t in v[2]} == want, (lo, hi, t)
                assert {p: c[t] for p, (_, c) in pairs.items() if t in c} == want, (lo, hi, t)
                seen.add(t)
        assert dict(series.ties[(2024, 3)][("GBR", "USA")][2]) == {"DefenceTreaty": 1,
                                                                   "JointDeclaration": 1}
    assert {"DefenceTreaty", "LogisticsAgreement", "ReciprocalAccessAgreement"} <= seen


def _page_data_types(ties: dict) -> set:
    return {t for _, _, types in ties.values() for t in types}


@pytest.fixture(scope="module")
def community_map(bundled_store, tmp_path_factory) -> Path:
    """The bundled data's map of 2015-2024 coloured by community, sized by betweenness."""
    from kg.map import render_map

    out = tmp_path_factory.mktemp("map-community") / "map.html"
    with _open(bundled_store) as store:
        render_map(store, out=out, year_from=2015, year_to=2024, color_by="community",
                   size_by="betweenness")
    return out


def _expected_sizes(values: dict) -> dict:
    """Disc radii (px) the page's rule gives: sqrt-scaled between SIZE_MIN and SIZE_MAX."""
    from kg.map.layout import SIZE_MAX, SIZE_MIN

    lo, hi = min(values.values()), max(values.values())
    return {n: SIZE_MIN + ((v - lo) / (hi - lo)) ** 0.5 * (SIZE_MAX - SIZE_MIN) if hi > lo
            else (SIZE_MIN + SIZE_MAX) / 2 for n, v in values.items()}


def _shown_colours(page) -> dict:
    return {n["id"]: n["color"]["background"] for n in page.evaluate(
        "window.kgMap.network().body.data.nodes.get({filter: n => !n.hidden})")}


def test_disc_sizes_and_communities_follow_the_relation_shown(bundled_store, community_map,
                                                              browser):
    """A map made for exercises, switched to agreements: its discs (betweenness) and
    colours (communities) are those of the agreement network of the window, not the
    exercise network's (the audit's finding); under one agreement type, for which no
    metrics are computed, discs take one size and colours are grey, and the legend says so."""
    from kg.map.data import project
    from kg.map.layout import NEUTRAL_COLOR, PALETTE, SIZE_MAX, SIZE_MIN
    from kg.map.page import _num
    from kg.metrics import node_metrics
    from kg.network import build_network

    with _open(bundled_store) as store:
        G = build_network(store, relation="all", year_from=2022, year_to=2024)
    page, log = _load(browser, community_map)
    try:
        for relation in ("exercise", "agreement", "all"):
            page.evaluate("r => window.kgMap.set({year: 2024, window: 3, relation: r, min: 1})",
                          relation)
            shown = page.evaluate("window.kgMap.drawn()")["nodes"]
            m = node_metrics(project(G, relation))
            want = _expected_sizes({n: _num(m[n]["betweenness"]) for n in shown})
            got = page.evaluate("window.kgMap.sizes()")
            assert got == pytest.approx(want, abs=1e-9), relation
            assert _shown_colours(page) == {
                n: PALETTE[m[n]["community"] % len(PALETTE)] for n in shown}, relation
            b = _num(m["JPN"]["betweenness"])
            assert f"betweenness {b:.4f}" in page.evaluate("window.kgMap.tipOf('JPN')"), relation
            note = page.inner_text("#kg-measure")
            assert "betweenness" in note and "2022–2024" in note, note
        page.evaluate("window.kgMap.set({relation: 'agreement:DefenceTreaty'})")
        got = page.evaluate("window.kgMap.sizes()")
        assert len(got) > 20 and set(got.values()) == {(SIZE_MIN + SIZE_MAX) / 2}
        assert set(_shown_colours(page).values()) == {NEUTRAL_COLOR}
        assert "betweenness" not in page.evaluate("window.kgMap.tipOf('GBR')")
        note = page.inner_text("#kg-measure")
        assert "one size" in note and "DefenceTreaty" in note and "grey" in note, note
    finally:
        page.close()
    _offline(log)


def _hash_after(page) -> str:
    """The address's fragment once the page has written it (right after the frame)."""
    page.wait_for_timeout(50)
    return page.evaluate("location.hash").lstrip("#")


def test_fragment_keeps_a_cleared_focus_the_size_and_the_pin(bundled_store, browser, tmp_path):
    """What the reader did is in the address, and the address reopens it: a focus cleared
    in a page made with --focus JPN (the audit found JPN back after a reload), a size
    chosen, a state pinned by a click and released again."""
    from kg.map import render_map

    out = tmp_path / "jpn.html"
    with _open(bundled_store) as store:
        render_map(store, out=out, focus="JPN", year_from=2015, year_to=2019)
    G, _, _ = _expected(bundled_store, year_from=2019, year_to=2019)
    page, log = _load(browser, out)
    try:
        page.select_option("#kg-focus", "")
        page.select_option("#kg-size", "strength")
        fragment = _hash_after(page)
        assert "focus=&" in fragment + "&" and "size=strength" in fragment, fragment
        pos = page.evaluate("window.kgMap.screenOf('AUS')")
        box = page.locator("#kg-view").bounding_box()
        page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
        pinned = _hash_after(page)
        assert "pin=AUS" in pinned, pinned
        page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])  # release
        assert "pin=" not in _hash_after(page)
    finally:
        page.close()
    _offline(log)
    page, log = _load(browser, out, fragment)
    try:
        state = page.evaluate("window.kgMap.state")
        assert (state["focus"], state["sizeBy"], state["pin"]) == (None, "strength", None)
        assert page.input_value("#kg-focus") == "" and page.input_value("#kg-size") == "strength"
        assert page.evaluate("window.kgMap.highlighted()") is None
        assert page.evaluate("window.kgMap.sizes()") != page.evaluate(
            "window.kgMap.set({sizeBy: 'degree'}) && window.kgMap.sizes()")
    finally:
        page.close()
    _offline(log)
    page, log = _load(browser, out, pinned)
    try:
        assert set(page.evaluate("window.kgMap.highlighted()")) == {"AUS"} | set(G["AUS"])
        assert _hash_after(page) == pinned
    finally:
        page.close()
    _offline(log)


def test_cli_map_help_says_what_focus_does(bundled_store, browser, tmp_path):
    """`kg map --help` on --focus says what the page does with it, and the page does that:
    the state and its partners highlighted, every other state and tie still drawn (dimmed),
    the state named in the title (the help said it drew only the state and its partners)."""
    from click.testing import CliRunner

    from kg.cli import cli

    res = CliRunner().invoke(cli, ["map", "--help"])
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    focus = text[text.index("--focus ISO3") + len("--focus ISO3"):text.index("--from YEAR")]
    assert "highlighted" in focus and "dimmed, not removed" in focus, focus
    assert "title" in focus and "only" not in focus, focus

    plain, focused = tmp_path / "plain.html", tmp_path / "focus.html"
    _kg("--store", bundled_store, "map", "--out", plain, "--from", 2015, "--to", 2019)
    _kg("--store", bundled_store, "map", "--out", focused, "--from", 2015, "--to", 2019,
        "--focus", "IND")
    G, nodes, edges = _expected(bundled_store, year_from=2019, year_to=2019)
    assert "India and its partners" in focused.read_text(encoding="utf-8").split("</title>")[0]
    page, log = _load(browser, plain)
    try:
        assert page.evaluate("window.kgMap.highlighted()") is None
        everything = page.evaluate("window.kgMap.drawn()")
    finally:
        page.close()
    page, log2 = _load(browser, focused)
    try:
        drawn = page.evaluate("window.kgMap.drawn()")
        assert sorted(drawn["nodes"]) == sorted(everything["nodes"]) == sorted(nodes)
        assert sorted(drawn["edges"]) == sorted(everything["edges"])
        assert set(page.evaluate("window.kgMap.highlighted()")) == {"IND"} | set(G["IND"])
        dim = page.evaluate("window.kgMap.network().body.data.nodes.get("
                            "{filter: n => !n.hidden && n.opacity < 1}).map(n => n.id)")
        assert dim and set(dim) == nodes - {"IND"} - set(G["IND"])
    finally:
        page.close()
    _offline(log)
    _offline(log2)


def test_states_without_coordinates_are_named_in_the_legend_and_their_tooltips(
        hostile_store, browser, tmp_path):
    """A state with no capital's coordinates (XQY of the hostile data) is drawn in a row
    below the geo map, not at a place: the legend names it (its label escaped) and its
    tooltip says so; a state placed at its capital is not named."""
    from kg.map import render_map

    out = tmp_path / "geo.html"
    with _open(hostile_store) as store:
        render_map(store, out=out, year_from=2020, year_to=2021)
    data = _page_data(out)
    placed = {n["id"] for n in data["nodes"] if "lat" in n}
    assert "XQY" not in placed and {"XQZ", "JPN", "USA"} <= placed
    xqy_label = next(n["label"] for n in data["nodes"] if n["id"] == "XQY")
    page, log = _load(browser, out, "year=2020&window=1")
    try:
        assert "XQY" in page.evaluate("window.kgMap.drawn()")["nodes"]
        legend = page.inner_text("#legend")
        line = next(s for s in legend.split("\n") if "without coordinates" in s)
        assert f"{xqy_label} (XQY)" in line and "(JPN)" not in line, line
        assert "below the map" in line
        assert "no coordinates" in page.evaluate("window.kgMap.tipOf('XQY')")
        assert "no coordinates" not in page.evaluate("window.kgMap.tipOf('XQZ')")
        page.evaluate("window.kgMap.set({layout: 'force'})")  # placed by the spring layout
        assert "no coordinates" not in page.evaluate("window.kgMap.tipOf('XQY')")
        assert page.evaluate("window.__pwned") is None
        assert page.evaluate("document.querySelectorAll('#legend *').length") == \
            page.evaluate("document.querySelectorAll('#legend p, #legend h2, #legend ul, "
                          "#legend li, #legend span').length")
    finally:
        page.close()
    _offline(log)


def test_an_address_without_a_key_gives_the_page_s_default_for_it(bundled_map, browser):
    """An address edited by hand describes the whole view: after #year=2019&window=5&
    size=strength&focus=JPN, an address naming only the year takes the page's window,
    size and focus again (they used to stay as the earlier address had set them)."""
    page, log = _load(browser, bundled_map, "year=2019&window=5&size=strength&focus=JPN")
    try:
        first = page.evaluate("window.kgMap.state")
        assert (first["window"], first["sizeBy"], first["focus"]) == (5, "strength", "JPN")
        defaults = page.evaluate("(() => { const s = JSON.parse(document.getElementById("
                                 "'kg-data').textContent).state; return s; })()")
        page.evaluate("location.hash = 'year=2010'")
        page.wait_for_function("window.kgMap.state.year === 2010")
        state = page.evaluate("window.kgMap.state")
        for key in ("window", "sizeBy", "focus", "relation", "min", "layout"):
            assert state[key] == defaults[key], key
        assert page.input_value("#kg-window") == str(defaults["window"])
        assert page.input_value("#kg-focus") == ""
    finally:
        page.close()
    _offline(log)


# ------------------------------------------------------------------ bidirectional controls

#: The bidirectional controls (Unicode Bidi_Control) that reorder the text after them.
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

BIDI_TTL = """\
@prefix sp: <https://w3id.org/secpart/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<https://w3id.org/secpart/id/source/bidi> a sp:Source ;
  dcterms:title "Report \\u202Eon the drill\\u2066 (2021)" ;
  dcterms:publisher "Test" .

<https://w3id.org/secpart/id/state/XQB> a sp:State ;
  sp:iso3 "XQB" ;
  rdfs:label "Bidi\\u202Eland" ;
  sp:region "Reg\\u2067ion\\u200F" .

<https://w3id.org/secpart/id/exercise/bidi-2021> a sp:Exercise ;
  rdfs:label "Drill\\u202E" ;
  sp:year 2021 ;
  sp:participant <https://w3id.org/secpart/id/state/XQB>,
                 <https://w3id.org/secpart/id/state/JPN> ;
  sp:source <https://w3id.org/secpart/id/source/bidi> .
"""


def test_bidi_controls_in_data_do_not_reorder_the_map_s_title_legend_or_tooltips(
        store_copy, browser, tmp_path):
    """``kg map --focus`` put a state's label holding U+202E (RIGHT-TO-LEFT OVERRIDE) raw into
    <title> and <h1>, so "and its partners" after it showed reversed; the legend, focus menu
    and tooltips (JSON read by the script) held it raw too. Every bidirectional control from
    data is now shown as ``\\u202e`` text, as ``kg.escape.terminal`` shows it."""
    ttl = tmp_path / "bidi.ttl"
    ttl.write_text(BIDI_TTL, encoding="utf-8")
    _kg("--store", store_copy, "ingest", "--graph", "bidi", ttl)
    out = tmp_path / "bidi.html"
    _kg("--store", store_copy, "map", "--out", out, "--focus", "XQB", "--from", 2021, "--to",
        2021)
    text = out.read_text(encoding="utf-8")
    assert BIDI.search(text) is None  # not in the HTML, nor in the JSON, nor anywhere
    title = re.search(r"<title>(.*?)</title>", text).group(1)
    assert title.endswith(": Bidi\\u202eland and its partners")
    assert re.search(r"<h1>(.*?)</h1>", text).group(1) == title
    label = next(n["label"] for n in _page_data(out)["nodes"] if n["id"] == "XQB")
    assert label == "Bidi\\u202eland"
    page, log = _load(browser, out)
    try:
        # "and its partners" reads left to right: its first letter is left of its last
        left, right = page.evaluate("""() => {
            const t = document.querySelector('h1').firstChild, w = 'and its partners';
            const i = t.data.indexOf(w), r = document.createRange();
            const x = k => { r.setStart(t, k); r.setEnd(t, k + 1);
                             return r.getBoundingClientRect().left; };
            return [x(i), x(i + w.length - 1)];
        }""")
        assert left < right
        shown = [page.evaluate("document.title"), page.inner_text("h1"),
                 page.inner_text("#legend"), page.evaluate("window.kgMap.tipOf('XQB')"),
                 page.evaluate("window.kgMap.labelOf('XQB')"),
                 page.evaluate("[...document.querySelectorAll('#kg-focus option')]"
                               ".map(o => o.textContent).join('\\n')")]
        assert all(BIDI.search(s) is None for s in shown), shown
        tip = shown[3]
        assert "Report \\u202eon the drill\\u2066 (2021)" in tip, tip
        assert "Bidi\\u202eland (XQB)" in shown[5]
        assert "Reg\\u2067ion\\u200f" in shown[2]
    finally:
        page.close()
    _offline(log)
