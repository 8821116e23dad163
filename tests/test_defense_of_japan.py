"""The Defense of Japan extractor (data-raw/defense_of_japan.py) on the real white-paper texts."""

from __future__ import annotations

import csv
import importlib.util
import io
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "data-raw" / "defense_of_japan.py"
CSV = REPO / "data-raw" / "defense-of-japan-exercises.csv"
SOURCES = REPO.parent / "shared" / "sources" / "defense-of-japan"


def _module():
    spec = importlib.util.spec_from_file_location("defense_of_japan", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod        # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def doj():
    return _module()


@pytest.fixture(scope="module")
def extracted(doj):
    if not SOURCES.is_dir():
        pytest.skip("the Defense of Japan texts (../shared/sources/defense-of-japan) are absent")
    return doj.extract(SOURCES)


def test_extractor_reproduces_the_committed_csv(doj, extracted):
    assert doj.to_csv(extracted) == CSV.read_text(encoding="utf-8")


def test_check_mode_detects_a_stale_csv(doj, extracted, tmp_path):
    out = tmp_path / "x.csv"
    out.write_text(doj.to_csv(extracted)[:-50], encoding="utf-8")
    assert doj.main([str(SOURCES), "--out", str(out), "--check"]) == 1
    assert doj.main([str(SOURCES), "--out", str(out)]) == 0
    assert doj.main([str(SOURCES), "--out", str(out), "--check"]) == 0


def _rows():
    return list(csv.DictReader(io.StringIO(CSV.read_text(encoding="utf-8"))))


def test_every_table_is_in_the_csv(doj):
    got = {(int(r["edition"]), r["reference"]) for r in _rows()}
    tables = {(t.edition, t.reference) for t in doj.TABLES} | {(2010, "Reference 54"),
                                                                (2010, "Fig. III-3-3-1")}
    # the 2020 edition's exchanges with Pacific Island countries list no training
    assert got <= tables and tables - got == {(2020, "Reference 40")}


def test_rows_keep_what_is_printed():
    rows = _rows()
    # 2015 Reference 59: Cobra Gold printed once for three years; the later rows carry the name
    cg = [r for r in rows if r["edition"] == "2015" and r["designation"] == "Cobra Gold"]
    assert [r["date"] for r in cg] == ["February 2013", "February 2014", "February 2015"]
    assert [r["carried"] for r in cg] == ["", "designation", "designation"]
    assert cg[0]["location"] == "Thailand" and cg[0]["countries"].startswith("Japan, U.S., Thailand")
    # the US tables keep their branch sections
    fy14 = [r for r in rows if r["edition"] == "2015" and r["reference"] == "Reference 24"]
    assert {r["branch"] for r in fy14} == {"Joint", "GSDF", "MSDF", "ASDF"}
    assert all(r["line"].isdigit() for r in rows)


def test_jumbled_rows_are_read_and_marked():
    rows = [r for r in _rows() if r["parse"] == "text"]
    assert any(r["date"] == "Mar. 9–21, 2015" and r["location"] == "Airspace off Hyakuri"
               for r in rows)
    assert all(r["designation"] for r in rows)


def test_changed_text_fails_loudly(doj, tmp_path):
    if not SOURCES.is_dir():
        pytest.skip("the Defense of Japan texts (../shared/sources/defense-of-japan) are absent")
    for t in {t.edition for t in doj.TABLES}:
        text = (SOURCES / f"defense-of-japan-{t}.txt").read_text(encoding="utf-8")
        if t == 2015:
            text = text.replace("Fighter combat training Airspace off Hyakuri", "Fighter Airspace")
        (tmp_path / f"defense-of-japan-{t}.txt").write_text(text, encoding="utf-8")
    chunks = "defense-of-japan-2010-chunks.csv"
    (tmp_path / chunks).write_bytes((SOURCES / chunks).read_bytes())
    with pytest.raises(SystemExit, match="jumbled row 2015 Reference 24"):
        doj.extract(tmp_path)


def test_missing_sources_folder(doj, tmp_path):
    with pytest.raises(SystemExit, match="no sources folder"):
        doj.extract(tmp_path / "nowhere")


def test_split_venue(doj):
    assert doj.split_venue("June – July 2012 (Philippines, Vietnam)") == ("June – July 2012",
                                                                         "Philippines, Vietnam")


def test_2010_rows_are_read_by_hand_from_the_chunks():
    rows = [r for r in _rows() if r["edition"] == "2010"]
    us = [r for r in rows if r["kind"] == "us"]
    assert len(us) == 26 and len(rows) == 26 + 8 and {r["parse"] for r in rows} == {"chunk"}
    assert {r["branch"] for r in us} == {"Joint", "GSDF", "MSDF", "ASDF"}
    assert all(r["scope"] == "FY2009" for r in us)


def test_changed_chunk_fails_loudly(doj, tmp_path):
    if not SOURCES.is_dir():
        pytest.skip("the Defense of Japan texts (../shared/sources/defense-of-japan) are absent")
    text = (SOURCES / "defense-of-japan-2010-chunks.csv").read_text(encoding="utf-8")
    (tmp_path / "defense-of-japan-2010-chunks.csv").write_text(
        text.replace("ojojihara training area", "somewhere"), encoding="utf-8")
    with pytest.raises(SystemExit, match="2010 chunk 3747"):
        doj.extract_chunk_table(tmp_path)
