"""Extract the exercise tables of the *Defense of Japan* white papers, as published.

Step 1 (``extract``) reads text conversions of the English editions (a folder
of ``defense-of-japan-YYYY.txt`` files; default ``../shared/sources/defense-of-japan``
relative to the repository root) and writes every row of the exercise tables
it knows (:data:`TABLES`) to ``data-raw/defense-of-japan-exercises.csv``: the
edition, the table's reference number and title, the service branch, the
designation, the dates, location and participating countries as printed, the
units, and the line of the text. Nothing is normalised here except
whitespace; fields carried down from the row above (a rolling table prints an
exercise's name once for several years) are named in ``carried``. Rows the
text conversion jumbled out of the table (``parse = text``) were read by hand
from the text; :data:`JUMBLED` holds them, each checked against its line.

Step 2 (``curate``, in ``defense_of_japan_curate.py``) turns the CSV into
curated records (``data/exercises/official-*.yaml``).

Usage (``make data`` runs both)::

    python data-raw/defense_of_japan.py [SOURCES] [--out CSV] [--check]

The texts are inputs only; they are never copied into the repository. Cite
the white papers themselves (Ministry of Defense of Japan, *Defense of Japan YYYY*).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_SOURCES = REPO / ".." / "shared" / "sources" / "defense-of-japan"
DEFAULT_OUT = HERE / "defense-of-japan-exercises.csv"

COLUMNS = ["edition", "reference", "table", "kind", "scope", "branch", "designation",
           "subdesignation", "date", "location", "countries", "hosts", "units", "japan",
           "partner", "remarks", "line", "parse", "carried", "partner_country"]


@dataclass(frozen=True)
class Table:
    """One exercise table: where its heading is and what it covers."""

    edition: int
    reference: str          # "Reference 24" or "Fig. III-3-2-7"
    title: str              # as printed
    kind: str               # us | multilateral
    scope: str              # fiscal years (or period) the table says it covers
    heading: str            # regex matching the heading line


TABLES = [
    Table(2006, "Reference 42", "Record of Japan-U.S. Joint Exercises in FY2005", "us", "FY2005",
          r"^\**Reference 42\. Record of Japan-U\.S\. Joint Exercises"),
    Table(2007, "Reference 43", "Record of Japan-U.S. Joint Exercises in FY 2006", "us", "FY2006",
          r"^\**Reference 43\. Record of Japan-U\.S\. Joint Exercises"),
    Table(2007, "Fig. III-3-2-7", "Participation in Multilateral Joint Exercises (Since Last Year)",
          "multilateral", "since last year", r"^\**Fig\. III-3-2-7 Participation in Multilateral"),
    Table(2008, "Reference 41", "Record of Japan-U.S. Bilateral Exercises in FY 2007", "us", "FY2007",
          r"^\**Reference 41\. Record of Japan-U\.S\. Bilateral Exercises"),
    Table(2008, "Fig. III-3-2-5", "Participation in Multilateral Exercises (Since Last Year)",
          "multilateral", "since last year", r"^\**Fig\. III-3-2-5 Participation in Multilateral"),
    Table(2015, "Reference 24", "Record of Japan-U.S. Bilateral Exercises in FY2014", "us", "FY2014",
          r"^\**Reference 24 Record of Japan.U\.S\. Bilateral Exercises"),
    Table(2015, "Reference 59", "Participation in Multilateral Training (Last Three Years)",
          "multilateral", "April 1, 2012-May 31, 2015",
          r"^\**Reference 59 Participation in Multilateral Training"),
    Table(2016, "Reference 32", "Record of Japan-U.S. Bilateral Exercises in FY2015", "us", "FY2015",
          r"^\**Reference 32\** \**Record of Japan-U\.S\. Bilateral Exercises"),
    Table(2016, "Reference 54", "Participation in Multilateral Training (Last Three Years)",
          "multilateral", "March 2014-June 30, 2016",
          r"^\**Reference 54 Participation in Multilateral Training"),
    Table(2017, "Reference 24", "Record of Japan-U.S. Bilateral Exercises in FY2016", "us", "FY2016",
          r"^\**Reference 24 Record of Japan-U\.S\. Bilateral Exercises"),
    Table(2017, "Reference 52", "Participation in Multilateral Training (Last Three Years)",
          "multilateral", "Apr. 1, 2014-Jun. 30, 2017",
          r"^\**Reference 52 Participation in Multilateral Training"),
    Table(2018, "Reference 22", "Record of Japan-U.S. Bilateral Exercises in FY2017", "us", "FY2017",
          r"^\**Reference 22 Record of Japan-U\.S\. Bilateral Exercises"),
    Table(2018, "Reference 46", "Participation in Multilateral Training (Last Three Years)",
          "multilateral", "Apr. 1, 2015-Jun. 30, 2018",
          r"^\**Reference 46 Participation in Multilateral Training"),
    Table(2019, "Reference 27", "Record of Main Japan-U.S. Bilateral Exercises in FY2018", "us",
          "FY2018", r"^\**Reference 27 Record of Main Japan-U\.S\. Bilateral Exercises"),
    Table(2019, "Reference 51", "Participation in Multilateral Training (Last Three Years)",
          "multilateral", "Apr. 1, 2016-Jun. 30, 2019",
          r"^\**Reference 51\s+Participation in Multilateral Training"),
    Table(2020, "Reference 21", "Record of Main Japan-U.S. Bilateral Exercises in FY2019", "us",
          "FY2019", r"^\**Reference 21\s+Record of Main Japan-U\.S\. Bilateral Exercises"),
    Table(2020, "Reference 48", "Participation in Multilateral Exercise (Past Three Years)",
          "multilateral", "Apr. 1, 2017-Mar. 31, 2020",
          r"^\**Reference 48\s+Participation in Multilateral Exercise"),
    Table(2020, "Reference 33", "Recent Defense Cooperation and Exchanges with Australia (Past Three Years)", "bilateral",
          "Apr. 1, 2017-Mar. 31, 2020", r"^\**Reference 33\s+Recent Defense Cooperation and Exchanges with Australia"),
    Table(2020, "Reference 34", "Recent Defense Cooperation and Exchanges with India (Past Three Years)", "bilateral",
          "Apr. 1, 2017-Mar. 31, 2020", r"^\**Reference 34\s+Recent Defense Cooperation and Exchanges with India"),
    Table(2020, "Reference 35", "Recent Defense Cooperation and Exchanges with ASEAN member states (Past Three Years)", "bilateral",
          "Apr. 1, 2017-Mar. 31, 2020", r"^\**Reference 35\s+Recent Defense Cooperation and Exchanges with ASEAN member states"),
    Table(2020, "Reference 36", "Recent Japan-ROK Defense Cooperation and Exchanges (Past Three Years)", "bilateral",
          "Apr. 1, 2017-Mar. 31, 2020", r"^\**Reference 36\s+Recent Japan-ROK Defense Cooperation and Exchanges"),
    Table(2020, "Reference 37", "Recent Defense Cooperation and Exchanges with European Countries, Canada and New Zealand (Past Three Years)", "bilateral",
          "Apr. 1, 2017-Mar. 31, 2020", r"^\**Reference 37\s+Recent Defense Cooperation and Exchanges with European Countries, Canada and New Zealand"),
    Table(2020, "Reference 38", "Recent Defense Cooperation and Exchanges with China (Past Three Years)", "bilateral",
          "Apr. 1, 2017-Mar. 31, 2020", r"^\**Reference 38\s+Recent Defense Cooperation and Exchanges with China"),
    Table(2020, "Reference 39", "Recent Defense Cooperation and Exchanges with Russia (Past Three Years)", "bilateral",
          "Apr. 1, 2017-Mar. 31, 2020", r"^\**Reference 39\s+Recent Defense Cooperation and Exchanges with Russia"),
    Table(2020, "Reference 40", "Recent Defense Cooperation and Exchanges with Pacific Island Countries (Past Three Years)", "bilateral",
          "Apr. 1, 2017-Mar. 31, 2020", r"^\**Reference 40\s+Recent Defense Cooperation and Exchanges with Pacific Island Countries"),
    Table(2020, "Reference 41", "Recent Defense Cooperation and Exchanges with Countries in the Middle East (Past Three Years)", "bilateral",
          "Apr. 1, 2017-Mar. 31, 2020", r"^\**Reference 41\s+Recent Defense Cooperation and Exchanges with Countries in the Middle East"),
    Table(2020, "Reference 42", "Recent Defense Cooperation and Exchanges with South Asian Countries (Past Three Years)", "bilateral",
          "Apr. 1, 2017-Mar. 31, 2020", r"^\**Reference 42\s+Recent Defense Cooperation and Exchanges with South Asian Countries"),
    Table(2020, "Reference 43", "Recent Defense Cooperation and Exchanges with Other Countries (Past Three Years)", "bilateral",
          "Apr. 1, 2017-Mar. 31, 2020", r"^\**Reference 43\s+Recent Defense Cooperation and Exchanges with Other Countries"),
]

#: editions whose tables are not extracted, and why (documented in data-raw/README.md)
NOT_EXTRACTED = {
    2004: "no exercise tables in the conversion",
    2005: "no exercise tables in the conversion",
    2009: "table headings only; the table bodies are empty in the conversion",
    2010: "only lower-cased text chunks: the Japan-U.S. table (Reference 54) is read by hand "
          "(CHUNK_ROWS); the multilateral figure is not read",
    2011: "no conversion", 2012: "no conversion",
    2013: "no reference tables in the conversion",
    2014: "Reference 31 and 47 are cited but absent from the conversion",
}

# Rows the conversion jumbled out of the pipe table, read by hand from the text.
# Key: (edition, reference, first line of the jumbled block); ``check`` must occur
# in that block (so a changed text fails loudly instead of giving a wrong row).
# An empty list marks a block read as part of the hand-read row above it.
# ``carry``: the row continues the exercise of the table row above (its name and
# countries are carried down, as for a printed continuation row).
JUMBLED: dict[tuple[int, str, int], list[dict]] = {
    (2015, "Reference 24", 41551): [dict(
        check="Fighter combat training Airspace off Hyakuri", designation="Fighter combat training",
        date="Mar. 9–21, 2015", location="Airspace off Hyakuri", japan="Aircraft 8",
        partner="Aircraft 5", remarks="Enhancement of joint response capabilities, enhancement of "
        "combat skills")],
    (2015, "Reference 59", 43640): [dict(
        check="American-Filipino Bilateral Training (Balikatan 12) April 2012 (Philippines)",
        designation="American-Filipino Bilateral Training (Balikatan 12)", date="April 2012",
        location="Philippines", countries="Japan, U.S., Philippines, Australia, Indonesia, ROK, M l i",
        units="3 personnel")],
    (2017, "Reference 24", 49725): [], (2017, "Reference 24", 49727): [],
    (2017, "Reference 24", 49729): [],
    (2017, "Reference 24", 49731): [dict(
        check="Japan-U.S. joint command Fleet Headquarters", designation="Japan-U.S. joint command "
        "post exercise", date="Feb. 6-16, 2017", location="U.S. Naval Academy, etc.",
        japan="Maritime Staff Office, Self-Defense Fleet Headquarters, Command and Staff College, "
        "etc. Totaling approximately 40 personnel",
        partner="Commander, U.S. Pasific Fleat; Commander, U.S. 7th Fleat; Commander, U.S. Naval "
        "Forces Japan Totaling approximately 60 personnel",
        remarks="Training and exercise for Japan-U.S. coordination, etc.")],
    (2017, "Reference 24", 49735): [], (2017, "Reference 24", 49737): [],
    (2017, "Reference 24", 49739): [],
    (2017, "Reference 52", 51514): [dict(check="April 2017 1 vessel (Waters west of Kyushu)",
                                         carry=True, date="April 2017 (Waters west of Kyushu)",
                                         units="1 vessel 1 aircraft")],
    (2018, "Reference 22", 45868): [], (2018, "Reference 22", 45870): [],
    (2018, "Reference 22", 45872): [], (2018, "Reference 22", 45874): [],
    (2018, "Reference 22", 45876): [dict(
        check="Field training with U.S. battalion from 12th Marine Regiment Aug. 10-28, 2017",
        designation="Field training with U.S. Marines (artillery)", date="Aug. 10-28, 2017",
        location="Hokkaido-Dai Maneuver Area, Yausubetsu Maneuver Area, Kamifurano Maneuver Area, "
        "etc.", japan="28th Infantry Regiment of the 11th Brigade, 11th Artillery Troop, etc. "
        "Totaling approximately 1,300 personnel",
        partner="One battalion from 4th Marine Regiment, 3rd Marine Division; one battalion from "
        "12th Marine Regiment, etc. Totaling approximately 2,000 personnel",
        remarks="Exercise and training for Japan-U.S. coordination, enhancement of interoperability")],
    (2018, "Reference 22", 45880): [], (2018, "Reference 22", 45882): [],
    (2018, "Reference 22", 45884): [], (2018, "Reference 22", 45886): [],
    (2018, "Reference 46", 47414): [dict(check="December 2017 1 vessel (Waters around Japan)",
                                         carry=True, date="December 2017 (Waters around Japan)",
                                         units="1 vessel")],
    (2019, "Reference 51", 52995): [dict(
        check="Field Training with U.S. and Australian May 2016, May 2017,",
        designation="Field Training with U.S. and Australian Forces in Australia (Southern Jackaroo)",
        date="May 2016, May 2017, May - June 2018, May - June 2019 (Australia)",
        countries="Japan, U.S., Australia", units="Approximately 100 personnel")],
    (2020, "Reference 48", 59899): [dict(
        check="minesweeping special Nov. 18-28,", designation="Mine warfare training (Hyuga-nada "
        "Sea) and minesweeping special training (Japan-U.S.-Australia trilateral exercise)",
        date="Nov. 18-28, 2018", location="Hyuga-nada Sea", countries="The U.S., Australia",
        units="Minesweeper Tender, Minesweeper Ocean, Minesweeper Coastal, Minesweeping Controller",
        japan="22 vessels MCH-101 × 2 or 3",
        partner="(U.S.) 1 Minesweeper Ocean, MH-53E × 2, approximately 10 Explosive Ordnance "
        "Disposal personnel (Australia) 2 Minesweeper Coastal")],
    (2020, "Reference 48", 59903): [], (2020, "Reference 48", 59905): [],
    # the 2020 edition's per-country tables: these text blocks repeat pipe rows already read
    (2020, "Reference 35", 58841): [], (2020, "Reference 35", 58843): [],
    (2020, "Reference 35", 58845): [], (2020, "Reference 35", 58847): [],
    (2020, "Reference 35", 58507): [], (2020, "Reference 35", 58509): [],
}

# Rows whose exercise name the conversion lost (a run of continuation rows follows
# the wrong name): (edition, reference, line) -> (designation, countries, check, why).
# ``parse`` is "lost-name" on such a row; the rows below it carry it down as usual.
LOST_NAMES: dict[tuple[int, str, int], tuple[str, str, str]] = {
    (2017, "Reference 52", 51506): (
        "Japan-U.S.-ROK Trilateral Training", "Japan, U.S., ROK", "July 2014 (Waters west of Kyushu)"),
    (2018, "Reference 46", 47405): (
        "Japan-U.S.-ROK Trilateral Training", "Japan, U.S., ROK",
        "June 2016 (Waters and airspace around Hawaii)"),
}

# The 2010 edition survives only as lower-cased text chunks (defense-of-japan-2010-chunks.csv).
# Its Japan-U.S. table, Reference 54 (headed "in FY2007", a misprint: its dates run from
# April 2009 to March 2010, FY2009), is read by hand, row by row; ``check`` must occur in
# the chunk (lower-cased, as the chunk is), so a changed text fails loudly.
CHUNK_TABLE = Table(2010, "Reference 54", "Record of Japan-U.S. Bilateral Exercises in FY2007",
                    "us", "FY2009", r"^$")
CHUNK_ROWS = [
    (3742, "Joint", "japan – u. s. joint exercises ( command post exercise ) january 13 – 29, 2010",
     "Japan-U.S. joint exercises (command post exercise)", "January 13-29, 2010",
     "Camp Ichigaya, USFJ Yokota Base, locations, etc., of other units participating in the exercise"),
    (3743, "GSDF", "japan – u. s. joint army command post exercise ( u. s. )",
     "Japan-U.S. joint army command post exercise (U.S.)", "July 10-17, 2009",
     "Fort Shafter in Hawaii, United States"),
    (3744, "GSDF", "field exercise with u. s. army in the united states | september 8 – 25, 2009",
     "Field exercise with U.S. Army in the United States", "September 8-25, 2009",
     "Yakima Training Center, etc., in Washington, United States"),
    (3745, "GSDF", "field training | october | aibano maneuver",
     "Field training with U.S. Army", "October 9-18, 2008", "Aibano maneuver area, etc."),
    (3745, "GSDF", "with u. s. | – november | | | | | | marine corps | 1, 2009",
     "Field training with U.S. Marine Corps", "October 19-November 1, 2009",
     "JGSDF Sekiyama training area and JGSDF Camp Takada"),
    (3746, "GSDF", "japan – u. s. joint army command post exercise ( japan ) | jgsdf camp",
     "Japan-U.S. joint army command post exercise (Japan)", "December 1-14, 2009",
     "JGSDF Camp Higashichitose, etc."),
    (3747, "GSDF", "field exercise with the u. s. army | january 19 – february 25, 2010",
     "Field exercise with the U.S. Army", "January 19-February 25, 2010",
     "Camp Pendleton in California, United States"),
    (3747, "GSDF", "10 – 18, 2010 | ojojihara training area",
     "Field training with U.S. Army", "February 10-18, 2010", "Ojojihara training area, etc."),
    (3748, "GSDF", "field training with u. s. marine corps | february 21 – march 7, 2010",
     "Field training with U.S. Marine Corps", "February 21-March 7, 2010",
     "Nihonbara training area, etc."),
    (3751, "MSDF", "minesweeping | 2009 | mutsu bay",
     "Special minesweeping training", "Jul. 17-29, 2009", "Mutsu Bay"),
    (3751, "MSDF", "nov. 17 – 19, | | | | | | | for case | yokosuka base",
     "Special training for base security", "Nov. 17-19, 2009", "Yokosuka base and Yokosuka port"),
    (3752, "MSDF", "nov. 18, | u. s. marine | yokosuka district unit",
     "Special medical training", "Nov. 18, 2009", "Yokosuka base"),
    (3752, "MSDF", "special minesweeping training | nov. 21",
     "Special minesweeping training", "Nov. 21-Dec. 1, 2009", "Hyuganada"),
    (3752, "MSDF", "anti - submarine | dec. 3 – 6,",
     "Anti-submarine special training", "Dec. 3-6, 2009", "Ocean area around Okinawa"),
    (3753, "MSDF", "transport special training | jan. 26 – 28, 2010",
     "Transport special training", "Jan. 26-28, 2010", "Ocean area around Sasebo and western Kyushu"),
    (3753, "MSDF", "special training | – feb. 2, 2010 | ocean area from off tokai to off shikoku",
     "Anti-submarine special training", "Jan. 26-Feb. 2, 2010",
     "Ocean area from off Tokai to off Shikoku"),
    (3754, "MSDF", "experience | feb. 16 – 26, | naval war",
     "Command post experience", "Feb. 16-26, 2010", "Naval War College (U.S.)"),
    (3758, "ASDF", "fighter combat training | apr. 20 – 23, 2009",
     "Fighter combat training", "Apr. 20-23, 2009",
     "Western Hokkaido airspace and eastern Misawa airspace"),
    (3758, "ASDF", "fighter combat training | jul. 25 – 31, 2009",
     "Fighter combat training", "Jul. 25-31, 2009", "Western Akita airspace and eastern Misawa airspace"),
    (3759, "ASDF", "base air defense – oct. 22, training 2009",
     "Fighter combat training, base air defense training", "Sep. 23-Oct. 22, 2009",
     "Airspace around Elmendorf Air Force Base and Eielson Air Force Base, Alaska, U.S."),
    (3759, "ASDF", "fighter combat training | oct. 2 – 10, | airspace off",
     "Fighter combat training", "Oct. 2-10, 2009", "Airspace off Hyakuri"),
    (3760, "ASDF", "fighter combat training | nov. 14 – 20, | airspace off",
     "Fighter combat training", "Nov. 14-20, 2009", "Airspace off Komatsu"),
    (3760, "ASDF", "jan. 26 – mar. 2, 2010 | airspace around andersen air force base",
     "Fighter combat training, air defense combat training, air to ground attack training",
     "Jan. 26-Mar. 2, 2010",
     "Airspace around Andersen Air Force Base in Guam, U.S., and Farallon de Medinilla target range"),
    (3761, "ASDF", "air defense combat training jan. 26 | airspace off | | | | | | – feb. 10, 2010 | hyakuri",
     "Fighter combat training, air defense combat training", "Jan. 26-Feb. 10, 2010", "Airspace off Hyakuri"),
    (3761, "ASDF", "air defense combat training feb. 27 | airspace off | | | | | | – mar. 12, 2010 | misawa",
     "Fighter combat training, air defense combat training", "Feb. 27-Mar. 12, 2010", "Airspace off Misawa"),
    (3761, "ASDF", "air defense combat training mar. 5 – 12",
     "Fighter combat training, air defense combat training", "Mar. 5-12, 2010", "Airspace off Tsuiki"),
]


# The 2010 edition's multilateral figure (chunks 2408-2414), read by hand the same way:
# (chunk, check, designation, date, hosts, countries, units). The figure's caption
# follows it in the chunks. The third WPNS sea exercise's date cell is not legible.
CHUNK_FIGURE = Table(2010, "Fig. III-3-3-1", "Participation in Multilateral Exercises "
                     "(Since Last Year)", "multilateral", "since last year", r"^$")
CHUNK_FIGURE_ROWS = [
    (2411, "february 2009 | cobra gold 2009 | u. s. and thai", "Cobra Gold 2009", "February 2009",
     "U.S. and Thai militaries", "Thailand, U.S., Indonesia, Singapore, Japan, etc.", ""),
    (2411, "march | exercise aman 2009 | pakistani navy", "Exercise AMAN 2009", "March 2009",
     "Pakistani Navy", "Pakistan, Australia, Bangladesh, France, Kuwait, Malaysia, Nigeria, China, "
     "Turkey, U.K., U.S., Japan", ""),
    (2412, "april | malabar 2009 | indian armed", "Malabar 2009", "April 2009",
     "Indian Armed Forces", "U.S., India, Japan",
     "Participation of 2 destroyers and 3 P-3C patrol aircraft"),
    (2412, "third wpns multilateral | singapore armed", "Third WPNS multilateral sea exercise", "",
     "Singapore Armed Forces", "Japan, U.S., Singapore, France, Australia, Thailand, New Zealand, "
     "Bangladesh, Malaysia", "Participation of 1 destroyer"),
    (2412, "may | arf disaster relief field", "ARF disaster relief field exercises", "May 2009",
     "Philippines, United States", "Philippines, U.S., Australia, EU, Indonesia, ROK, Japan, etc.",
     "Participation of 1 US-2 amphibian, 2 C-130H transport airplanes and about 90 personnel"),
    (2413, "september | japan – u. s. – australia | japan | japan, u. s., australia",
     "Japan-U.S.-Australia joint military exercise", "September 2009", "Japan",
     "Japan, U.S., Australia", "Participation of 2 destroyers and a P-3C patrol aircraft"),
    (2413, "february | cobra gold 2010 | u.", "Cobra Gold 2010", "February 2010",
     "U.S. Armed Forces, Royal Thai Armed Forces", "Thailand, U.S., Indonesia, Singapore, Japan, "
     "ROK, etc.", "Participation of approximately 100 personnel"),
    (2414, "june | japan – u. s. – australia | japan | japan, u. s., australia",
     "Japan-U.S.-Australia joint military exercise", "June 2010", "Japan", "Japan, U.S., Australia",
     "Participation by 4 destroyers, 1 missile equipped vessel, 2 submarines, and several aircraft"),
]


def extract_chunk_table(sources: Path) -> list[dict]:
    """The hand-read rows of the 2010 edition's Japan-U.S. table, each checked against its chunk."""
    path = Path(sources) / "defense-of-japan-2010-chunks.csv"
    if not path.exists():
        raise SystemExit(f"defense_of_japan: {path.name} not found")
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8", newline="") as fh:
        chunks = {r["chunk_id"]: r["text"] for r in csv.DictReader(fh)}
    out = []
    for chunk, branch, check, designation, date, location in CHUNK_ROWS:
        if check not in chunks.get(str(chunk), ""):
            raise SystemExit(f"defense_of_japan: 2010 chunk {chunk} no longer holds {check!r}")
        row = _blank(CHUNK_TABLE, branch, chunk, "chunk")
        row.update(designation=designation, date=date, location=location)
        out.append(row)
    for chunk, check, designation, date, hosts, countries, units in CHUNK_FIGURE_ROWS:
        if check not in chunks.get(str(chunk), ""):
            raise SystemExit(f"defense_of_japan: 2010 chunk {chunk} no longer holds {check!r}")
        row = _blank(CHUNK_FIGURE, "", chunk, "chunk")
        row.update(designation=designation, date=date, hosts=hosts, countries=countries, units=units)
        out.append(row)
    return out


#: text blocks inside a table region that no :data:`JUMBLED` entry reads (prose, captions)
UNREAD: list[tuple[int, str, int, str]] = []

BRANCHES = {
    "joint staff office": "Joint", "joint staff": "Joint", "joint training": "Joint",
    "joint exercise": "Joint", "gsdf": "GSDF", "ground self-defense force": "GSDF",
    "msdf": "MSDF", "maritime self-defense force": "MSDF", "asdf": "ASDF",
    "air self-defense force": "ASDF",
}

_HEADING = re.compile(r"^\**\s*(Reference\s+\d+|Fig\.\s*[IVX]+-\d+-\d+-\d+)")
_TOC = re.compile(r"\.{4,}|…|See\b")


def _cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [" ".join(c.split()) for c in body.split("|")]


def _role(h: str) -> str | None:
    h = h.lower().strip()
    if not h:
        return None
    if "designation" in h or h in ("exercise", "exercises") or h.startswith("training design"):
        return "designation"
    if h.startswith(("date", "data", "period")):
        return "date"
    if h.startswith("location"):
        return "location"
    if h.startswith("hosts"):
        return "hosts"
    if h.startswith("participating countries") or h.startswith("participating nations"):
        return "countries"
    if "(japan)" in h or h == "japan":
        return "japan"
    if h in ("u.s.", "united states") or "(u.s.)" in h or "(partner country)" in h:
        return "partner"
    if h.startswith("numbers of personnel") and "(" in h:
        return "partner"
    if h.startswith(("participating sdf units", "participation by", "participating units")):
        return "units"
    if h.startswith(("reference", "remarks")):
        return "remarks"
    if h == "scale":
        return "japan"
    return None


def _is_header(cells: list[str]) -> bool:
    roles = [_role(c) for c in cells]
    return "designation" in roles and "date" in roles


def _branch(cells: list[str]) -> str | None:
    first = cells[0].strip("* ").lower().replace("self defense", "self-defense")
    rest = [c for c in cells[1:] if c and not re.fullmatch(r"Col\d+", c)]
    if first in BRANCHES and not rest:
        return BRANCHES[first]
    return None


def _region(lines: list[str], table: Table) -> tuple[int, int]:
    rx = re.compile(table.heading)
    starts = [i for i, ln in enumerate(lines) if rx.search(ln.strip()) and not _TOC.search(ln)]
    if not starts:
        raise SystemExit(f"defense_of_japan: heading of {table.edition} {table.reference} not found")
    start = starts[-1]
    end = min(len(lines), start + 600)
    for j in range(start + 1, end):
        m = _HEADING.match(lines[j].strip())
        if m and not _TOC.search(lines[j]) and table.reference.split()[-1] not in m.group(1):
            end = j
            break
    return start, end


def extract_table(lines: list[str], table: Table) -> list[dict]:
    """The rows of one table, in printed order, as dicts of :data:`COLUMNS`."""
    start, end = _region(lines, table)
    rows: list[dict] = []
    roles: list[str | None] | None = None
    branch = ""
    prev: dict | None = None
    venue = False
    partner_country = ""
    block: list[tuple[int, str]] = []

    def flush_block():
        nonlocal prev
        if not block or roles is None:
            block.clear()
            return
        first = block[0][0]
        text = " ".join(t for _, t in block)
        key = (table.edition, table.reference, first)
        if key not in JUMBLED:
            UNREAD.append((table.edition, table.reference, first, text))
        for fix in JUMBLED.get(key, []):
            if fix["check"] not in text:
                raise SystemExit(f"defense_of_japan: jumbled row {table.edition} "
                                 f"{table.reference} line {first} no longer matches the text")
            row = _blank(table, branch, first, "text")
            row.update({k: v for k, v in fix.items() if k not in ("check", "carry")})
            if venue and not row["location"]:
                row["date"], row["location"] = split_venue(row["date"])
            if fix.get("carry") and prev is not None:
                row["designation"], row["countries"] = prev["designation"], prev["countries"]
                row["carried"] = "designation;countries" if prev["countries"] else "designation"
            rows.append(row)
            prev = row
        block.clear()

    for i in range(start + 1, end):
        raw = lines[i].rstrip("\n")
        s = raw.strip()
        lineno = i + 1
        if not s or s == "-----":
            flush_block()
            continue
        name = s.strip("* ").lower().replace("self defense", "self-defense")
        if name in BRANCHES and not s.startswith("|"):
            flush_block()
            branch = BRANCHES[name]
            continue
        if re.fullmatch(r"\[[^\]]+\]", s):
            flush_block()           # "[India]": a country's part of a per-country reference
            roles, prev = None, None
            continue
        if not s.startswith("|"):
            if roles is not None:
                block.append((lineno, s))
            continue
        flush_block()
        cells = _cells(s)
        nxt = lines[i + 1].strip() if i + 1 < end else ""
        if (re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", nxt) and not _is_header(cells) and not _branch(cells)
                and table.kind == "bilateral"):
            roles, prev = None, None        # the first row of another kind of table
            continue
        if re.match(r"Reference\s+\d+", cells[0]) and table.reference.split()[-1] not in cells[0]:
            break
        if all(re.fullmatch(r"-+|:?-+:?", c) for c in cells if c):
            continue
        b = _branch(cells)
        if b:
            branch = b
            continue
        if _is_header(cells):
            roles = [_role(c) for c in cells]
            venue = any("venue" in c.lower() for c in cells)
            partner_country = ""
            for c, r in zip(cells, roles, strict=False):
                m = re.search(r"\(([^)]+)\)\s*$", c)
                if r == "partner" and m and table.kind == "bilateral":
                    partner_country = m.group(1)
            di = roles.index("designation")
            if di + 1 < len(roles) and roles[di + 1] is None and not cells[di + 1]:
                roles[di + 1] = "subdesignation"
            continue
        if roles is None:
            continue
        if all(not c or re.fullmatch(r"Col\d+|\(.*\)", c) for c in cells):
            continue
        if ("Japan" in cells and any(c in ("U.S.", "United States") for c in cells)
                and not any(cells[k] for k, r in enumerate(roles[:len(cells)])
                            if r in ("designation", "date"))):
            # a sub-header (||||Japan|U.S.||): the Scale column splits in two
            for k, c in enumerate(cells):
                if k < len(roles) and c in ("Japan",):
                    roles[k] = "japan"
                elif k < len(roles) and c in ("U.S.", "United States"):
                    roles[k] = "partner"
            continue
        row = _blank(table, branch, lineno, "table")
        row["partner_country"] = partner_country
        for k, c in enumerate(cells):
            r = roles[k] if k < len(roles) else None
            if r and c:
                row[r] = (row[r] + " " + c).strip() if row[r] else c
        if not row["designation"] and not row["date"]:
            continue
        if venue and not row["location"]:
            row["date"], row["location"] = split_venue(row["date"])
        carried = []
        lost = LOST_NAMES.get((table.edition, table.reference, lineno))
        if lost:
            if row["designation"] or lost[2] not in s:
                raise SystemExit(f"defense_of_japan: lost-name row {table.edition} "
                                 f"{table.reference} line {lineno} no longer matches the text")
            row["designation"], row["countries"], row["parse"] = lost[0], lost[1], "lost-name"
        if prev is not None and not row["designation"]:
            row["designation"] = prev["designation"]
            carried.append("designation")
            if not row["countries"] and prev["countries"]:
                row["countries"] = prev["countries"]
                carried.append("countries")
        row["carried"] = ";".join(carried)
        rows.append(row)
        prev = row
    flush_block()
    return rows


def split_venue(cell: str) -> tuple[str, str]:
    """Split a "Period (Venue)" cell into its period and venue, as printed.

    >>> split_venue("June – July 2012 (Philippines, Vietnam)")
    ('June – July 2012', 'Philippines, Vietnam')
    >>> split_venue("May 2013 (Waters (west) of Kyushu)")
    ('May 2013', 'Waters (west) of Kyushu')
    >>> split_venue("May 2013")
    ('May 2013', '')
    """
    s = cell.strip()
    if not s.endswith(")"):
        return s, ""
    depth = 0
    for i in range(len(s) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(s[i], 0)
        if depth == 0:
            return s[:i].strip(), s[i + 1:-1].strip()
    return s, ""


def _blank(table: Table, branch: str, line: int, parse: str) -> dict:
    row = {c: "" for c in COLUMNS}
    row.update({"edition": table.edition, "reference": table.reference, "table": table.title,
                "kind": table.kind, "scope": table.scope, "branch": branch, "line": line,
                "parse": parse})
    return row


def extract(sources: Path) -> list[dict]:
    """Every row of every table in :data:`TABLES`, from the texts in ``sources``."""
    sources = Path(sources)
    if not sources.is_dir():
        raise SystemExit(f"defense_of_japan: no sources folder {sources}")
    out: list[dict] = []
    cache: dict[int, list[str]] = {}
    for t in TABLES:
        if t.edition not in cache:
            path = sources / f"defense-of-japan-{t.edition}.txt"
            cache[t.edition] = path.read_text(encoding="utf-8").replace("\x07", " ").splitlines()
        out.extend(extract_table(cache[t.edition], t))
        if t.edition == 2008 and t.reference == "Fig. III-3-2-5":
            out.extend(extract_chunk_table(sources))
    return out


def to_csv(rows: list[dict]) -> str:
    """The rows as CSV text (the committed file's exact content)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sources", nargs="?", default=str(DEFAULT_SOURCES),
                    help="folder of defense-of-japan-YYYY.txt files")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="CSV to write")
    ap.add_argument("--check", action="store_true", help="exit 1 if the CSV differs")
    ap.add_argument("--show-unread", action="store_true",
                    help="list the text blocks inside table regions that no hand-read row covers")
    args = ap.parse_args(argv)
    text = to_csv(extract(Path(args.sources)))
    if args.show_unread:
        for ed, ref, line, block in UNREAD:
            print(f"{ed} {ref} line {line}: {block[:300]}")
    out = Path(args.out)
    if args.check:
        same = out.exists() and out.read_text(encoding="utf-8") == text
        if not same:
            print(f"{out.name} is not what the extractor produces", file=sys.stderr)
        return 0 if same else 1
    out.write_text(text, encoding="utf-8", newline="")
    print(f"wrote {out.name}: {text.count(chr(10)) - 1} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
