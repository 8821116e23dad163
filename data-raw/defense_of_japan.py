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
           "partner", "remarks", "line", "parse", "carried"]


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
]

#: editions whose tables are not extracted, and why (documented in data-raw/README.md)
NOT_EXTRACTED = {
    2004: "no exercise tables in the conversion",
    2005: "no exercise tables in the conversion",
    2009: "table headings only; the table bodies are empty in the conversion",
    2010: "only lower-cased text chunks; the tables are scattered and their rows cannot be "
          "told apart reliably",
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
}

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
        if not s.startswith("|"):
            if roles is not None:
                block.append((lineno, s))
            continue
        flush_block()
        cells = _cells(s)
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
        for k, c in enumerate(cells):
            r = roles[k] if k < len(roles) else None
            if r and c:
                row[r] = (row[r] + " " + c).strip() if row[r] else c
        if not row["designation"] and not row["date"]:
            continue
        if venue and not row["location"]:
            row["date"], row["location"] = split_venue(row["date"])
        carried = []
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
