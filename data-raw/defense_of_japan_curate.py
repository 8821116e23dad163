"""Curated exercise records from the Defense of Japan tables (step 2 of ``make data``).

Reads ``data-raw/defense-of-japan-exercises.csv`` (step 1, ``defense_of_japan.py``)
and writes ``data/exercises/official-defense-of-japan.yaml``: one ``sp:Exercise``
per exercise of the white papers' Japan-U.S. and multilateral tables that
began before FY2020 (1 April 2020), the sources (one per edition and table),
the series the names show, and the per-fiscal-year row counts as
``official_counts``. The merge rules (documented in ``data-raw/README.md``):

1. **Branches.** Rows of one table that name the same exercise under two or
   more branches (GSDF, MSDF, ASDF, Joint) are one exercise, as MOD counts
   them ("exercises with participation by two or more branches of the SDF are
   counted as one exercise").
2. **Editions.** Rows that the rolling multilateral tables repeat in later
   editions are one exercise citing each edition (same series or name, same
   start month).
3. **Series.** A series where the name shows one (``Cobra Gold 14`` -> Cobra
   Gold); otherwise the exercise's printed name (without year or part number)
   is its series.
4. **Participants** come from the country cell; a cell with "etc.", "and
   others", "including" or "ARF countries" gives ``participants_complete:
   false``; observers apart. Where a cell does not name Japan (the 2020
   edition lists partners only) Japan is taken from the table's scope
   (Japan's participation), and the record says so.
5. **Dates** at the printed precision; the fiscal year follows from the start
   month, or from the table when no month is printed.
6. **Existing records.** Where an exercise is already in ``data/`` (the
   mapping ``data-raw/defense-of-japan-matches.csv``: merge key -> record id),
   no record is generated; the existing record gets the official sources
   added to its ``sources`` line instead.

Usage: ``python data-raw/defense_of_japan_curate.py [--check] [--propose]``.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CSV_IN = HERE / "defense-of-japan-exercises.csv"
MATCHES = HERE / "defense-of-japan-matches.csv"
OUT = REPO / "data" / "exercises" / "official-defense-of-japan.yaml"
#: (kind, fiscal year) an extracted table covers only in part: no row count is given
PARTIAL_FY = {("multilateral", 2008), ("multilateral", 2010)}
LAST_FY = 2019          # records from FY2020 on come from official releases (data-2020s)
PUBLISHER = "Ministry of Defense of Japan"

MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_MONTH_RX = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"

# Named series: (regex on the printed name, series id, label). Ids of series
# already in data/ are reused.
NAMED_SERIES = [
    (r"Cobra Gold", "cobra-gold", "Cobra Gold"),
    (r"Christmas Drop", "christmas-drop", "Christmas Drop"),
    (r"Nichi Gou Trident", "nichi-gou-trident", "Nichi Gou Trident"),
    (r"Bushido Guardian", "bushido-guardian", "Bushido Guardian"),
    (r"Dharma Guardian", "dharma-guardian", "Dharma Guardian"),
    (r"Shinyuu Maitri", "shinyuu-maitri", "Shinyuu Maitri"),
    (r"Vigilant Isles", "vigilant-isles", "Vigilant Isles"),
    (r"KAEDEX", "kaedex", "KAEDEX"),
    (r"JIMEX", "jimex", "JIMEX"),
    (r"Japan-ROK bilateral search and rescue", "jpn-kor-sarex", "Japan-ROK search and rescue exercise"),
    (r"Pacific Partnership", "pacific-partnership", "Pacific Partnership"),
    (r"RIMPAC|Rim of the Pacific", "rimpac", "RIMPAC"),
    (r"Khaan Quest", "khaan-quest", "Khaan Quest"),
    (r"Malabar", "malabar", "Malabar"),
    (r"Cope North", "cope-north", "Cope North"),
    (r"Southern Jackaroo", "southern-jackaroo", "Southern Jackaroo"),
    (r"Talisman Sab(re|er)", "talisman-sabre", "Talisman Sabre"),
    (r"Pitch Black", "pitch-black", "Pitch Black"),
    (r"Red Flag", "red-flag-alaska", "Red Flag Alaska"),
    (r"Kakadu", "kakadu", "Kakadu"),
    (r"Pacific Vanguard", "pacific-vanguard", "Pacific Vanguard"),
    (r"La P[eé]rouse", "la-perouse", "La Perouse"),
    (r"Sea Dragon", "sea-dragon", "Sea Dragon"),
    (r"KAMANDAG|Kamandag", "kamandag", "KAMANDAG"),
    (r"Balikatan", "balikatan", "Balikatan"),
    (r"Keen Sword", "keen-sword", "Keen Sword"),
    (r"Keen Edge", "keen-edge", "Keen Edge"),
    (r"\(YS-\d+\)|Yama Sakura", "yama-sakura", "Yama Sakura"),
    (r"Orient Shield", "orient-shield", "Orient Shield"),
    (r"Resolute Dragon", "resolute-dragon", "Resolute Dragon"),
    (r"Forest Light", "forest-light", "Forest Light"),
    (r"Iron Fist", "iron-fist", "Iron Fist"),
    (r"Rising Thunder", "rising-thunder", "Rising Thunder"),
    (r"Croix du Sud", "croix-du-sud", "Croix du Sud"),
    (r"Equateur", "equateur", "Equateur"),
    (r"KOMODO|Komodo", "komodo", "Komodo"),
    (r"Pacific Reach", "pacific-reach", "Pacific Reach"),
    (r"Proliferation Security Initiative|\bPSI\b|Pacific Protector", "psi-maritime-interdiction",
     "Proliferation Security Initiative (PSI) maritime interdiction exercise"),
    (r"Triton Centenary", "triton-centenary", "Triton Centenary"),
    (r"Global Peace Operations Initiative|GPOI|Shanti Pra|Garuda Canti", "gpoi-capstone",
     "Global Peace Operations Initiative Capstone Exercise"),
    (r"Western Pacific Submarine Rescue|Pacific Reach", "wp-submarine-rescue",
     "Western Pacific Submarine Rescue Exercise"),
    (r"Western Pacific Mine Countermeasure", "wp-mcmex", "Western Pacific Mine Countermeasures Exercise"),
    (r"International Mine Countermeasures|IMCMEX", "imcmex",
     "U.S.-hosted International Mine Countermeasures Exercise"),
    (r"WPNS multilateral sea exercise", "wpns-multilateral-sea-exercise",
     "WPNS Multilateral Sea Exercise"),
    (r"ARF.?DiREx|ARF Disaster Relief", "arf-direx", "ARF Disaster Relief Exercise (ARF-DiREx)"),
    (r"Khaan", "khaan-quest", "Khaan Quest"),
    (r"Shooting (Convention|Competition)|AASAM", "aasam",
     "Australian Army Skill at Arms Meeting (shooting competition)"),
]

# Country cell names not spelled as in data/states.yaml.
ALIASES = {
    "u.s": "USA", "u.s.": "USA", "u.s.a": "USA", "u.s.a.": "USA", "us": "USA",
    "united states": "USA", "the united states": "USA",
    "rok": "KOR", "korea": "KOR", "republic of korea": "KOR",
    "u.k": "GBR", "u.k.": "GBR", "uk": "GBR", "britain": "GBR",
    "mongol": "MNG", "columbia": "COL", "micronesia": "FSM", "brunei": "BRN",
    "new caledonia": "org:new-caledonia", "eu": "org:eu", "uae": "ARE", "turkey": "TUR",
    "maldive": "MDV", "maldives": "MDV", "german navy": "DEU",
    "nato member countries": "org:nato", "nato partner countries": "org:nato",
}
# Misprints in the country cells, read as the country meant (the record's note says so).
MISPRINTS = {"papua new genia": "PNG", "m l i": None}
_AND_NAMES = ("Bosnia and Herzegovina", "Trinidad and Tobago", "Antigua and Barbuda",
              "Saint Kitts and Nevis", "Sao Tome and Principe")
# Printed dates read with a correction: (edition, line) -> (date read, why).
DATE_FIXES = {
    (2020, 59890): ("May 5-9, 2018", "printed \"Mat 5-9, 2018\", a misprint of May"),
    (2016, 45437): ("May – July 2015", "the 2016 edition prints \"May – July 2014\" for the "
                    "Pacific Partnership in Fiji, Papua New Guinea and the Philippines, a second "
                    "2014 row; the 2017 and 2018 editions date that deployment May-August 2015"),
}

# Rows that print one exercise twice, in one edition or in two that disagree on its name
# or month: (edition, line) -> ((edition, line) of the row kept with it, why).
_CHRISTMAS_DROP = ("the 2019 edition lists Christmas Drop twice: among the Japan-U.S.-Australia "
                   "trilateral training (waters around Micronesia, one aircraft) and as its own row")
_HAWAII_2016 = ("the 2017 and 2018 editions print a Japan-U.S.-Australia-ROK-Canada joint "
                "training around Hawaii in September 2016 (one vessel) and the 2019 edition, "
                "whose table covers all of FY2016, the same five states' training there in "
                "August 2016 (one vessel) and none in September: one exercise")
_SOUTH_CHINA_SEA_2017 = ("the 2018 edition names the June 2017 South China Sea training of Japan, "
                         "the U.S., Australia and Canada (two vessels) a Japan-U.S.-Australia-ROK-"
                         "Canada joint training; the 2019 and 2020 editions list the same states, "
                         "month, waters and vessels as a four-country (multilateral cruise) "
                         "exercise: one exercise")
DUPLICATE_ROWS = {
    (2019, 53014): ((2019, 52950), _CHRISTMAS_DROP),
    (2019, 53015): ((2019, 52952), _CHRISTMAS_DROP),
    (2019, 53016): ((2019, 52954), _CHRISTMAS_DROP),
    (2017, 51523): ((2019, 52970), _HAWAII_2016),
    (2018, 47424): ((2019, 52970), _HAWAII_2016),
    (2018, 47425): ((2019, 52971), _SOUTH_CHINA_SEA_2017),
}

# SDF units a row names outside its table's branch section: (edition, line) -> (force,
# domain, why).
EXTRA_FORCES = {
    (2020, 57413): ("JPN-ASDF", "air", "the row is under the GSDF section, but its JSDF units "
                    "include the 8th Fighter Squadron, an ASDF unit"),
}

# Rows whose date cell is empty in the text conversion, placed by the table's date order:
# (edition, line) -> (year, fiscal year, why).
UNDATED_ROWS = {
    (2010, 2412): (2009, 2009, "the date cell is empty in the text conversion; the table lists "
                   "its rows in date order and prints this one between Malabar 2009 (April "
                   "2009) and the ARF disaster relief exercise (May 2009): 2009, FY2009"),
}

PARTIAL_WORDS = re.compile(r"\betc\b|\band others\b|\bincluding\b|\bcountries\b|\bothers\b", re.I)


# ---------------------------------------------------------------- reading

def load_states() -> dict[str, str]:
    """Lower-case state names (and alt names) from data/states.yaml -> ISO3."""
    sys.path.insert(0, str(REPO))
    from kg.ingest.curated import read_records

    names: dict[str, str] = {}
    for rec in read_records(REPO / "data" / "states.yaml").get("states", []):
        if rec.get("dissolved"):
            continue
        names[str(rec["name"]).lower()] = rec["iso3"]
        for alt in rec.get("alt") or []:
            names[str(alt).lower()] = rec["iso3"]
    names.update({"south korea": "KOR", "philippines": "PHL", "netherlands": "NLD"})
    names.update(ALIASES)
    return names


def parse_countries(cell: str, names: dict[str, str]) -> tuple[list[str], list[str], bool, list[str]]:
    """(states, organizations, complete, unread tokens) of a printed country cell.

    >>> n = {"japan": "JPN", "thailand": "THA", "usa": "USA", "u.s.": "USA"}
    >>> parse_countries("Japan, U.S., Thailand, etc.", n)
    (['JPN', 'USA', 'THA'], [], False, [])
    >>> parse_countries("21 countries, including Japan and the U.S.", n)
    (['JPN', 'USA'], [], False, [])
    """
    complete = not PARTIAL_WORDS.search(cell) and "ARF countries" not in cell
    text = re.sub(r"\([^)]*\)", "", cell)          # "(approximately 20 observer countries)"
    for name in _AND_NAMES:
        text = text.replace(name, name.replace(" and ", "_&_"))
    text = re.sub(r"^(about\s+)?\d+\s+countries,?\s*(including)?", "", text.strip(), flags=re.I)
    text = re.sub(r"\band others\b|\betc\.?|\bARF countries\b", "", text)
    parts = re.split(r",|\band\b|・", text)
    states, orgs, unread = [], [], []
    for p in parts:
        t = p.strip().strip(".").strip()
        t = re.sub(r"^(the|The)\s+", "", t).replace("_&_", " and ")
        if not t:
            continue
        if t.lower() in MISPRINTS:
            unread.append(t)
            if MISPRINTS[t.lower()] is None:
                complete = False
                continue
            code = MISPRINTS[t.lower()]
            if code not in states:
                states.append(code)
            continue
        code = names.get(t.lower()) or names.get(t.lower().rstrip(".")) or names.get(t.lower() + ".")
        if code is None:
            unread.append(t)
            complete = False
            continue
        if code.startswith("org:"):
            if code[4:] not in orgs:
                orgs.append(code[4:])
        elif code not in states:
            states.append(code)
    return states, orgs, complete, unread


def _ym(month: str, year: str, day: str | None = None) -> str:
    m = MONTHS[month[:3].lower()]
    return f"{year}-{m:02d}" + (f"-{int(day):02d}" if day else "")


def split_dates(cell: str) -> list[str]:
    """Split a cell that prints several occurrences ("May 2016, May 2017") into one per exercise.

    >>> split_dates("May 2016, May 2017, May - June 2018")
    ['May 2016', 'May 2017', 'May - June 2018']
    >>> split_dates("Dec. 2, 2014 - Jan. 5, 2015")
    ['Dec. 2, 2014 - Jan. 5, 2015']
    """
    pieces = [p.strip(" ,") for p in re.findall(r"[^0-9]*?(?:\d{1,2}[^0-9]+?)*\d{4}", cell)]
    out: list[str] = []
    for p in pieces:
        if out and re.match(r"^[-–－~]", p):
            out[-1] = f"{out[-1]} {p}"
        elif p:
            out.append(p)
    rest = cell[sum(len(x) for x in re.findall(r"[^0-9]*?(?:\d{1,2}[^0-9]+?)*\d{4}", cell)):]
    if rest.strip(" ,.") and out:
        out[-1] += rest
    return out or [cell]


def parse_date(cell: str) -> tuple[str | None, str | None]:
    """Start and end of a printed date, at the printed precision.

    >>> parse_date("Nov. 8–19, 2014")
    ('2014-11-08', '2014-11-19')
    >>> parse_date("June – July 2012")
    ('2012-06', '2012-07')
    >>> parse_date("Feb. 16, 20-23, 2018")
    ('2018-02-16', '2018-02-23')
    >>> parse_date("Dec. 2, 2014 - Jan. 5, 2015")
    ('2014-12-02', '2015-01-05')
    >>> parse_date("February 2013")
    ('2013-02', None)
    >>> parse_date("Jan.24-31, 2020")
    ('2020-01-24', '2020-01-31')
    """
    s = cell.replace("－", "-").replace("–", "-").replace("—", "-")
    items = []   # (type, value)
    for m in re.finditer(_MONTH_RX + r"|\d{4}|\d{1,2}", s):
        v = m.group(0)
        if re.fullmatch(r"\d{4}", v):
            items.append(("y", v))
        elif re.fullmatch(r"\d{1,2}", v):
            items.append(("d", v))
        else:
            items.append(("m", v))
    if not any(t == "m" for t, _ in items) or not any(t == "y" for t, _ in items):
        return None, None
    # group into dates: month, optional day(s), year found later
    dates = []      # [month, day or None, year or None]
    for t, v in items:
        if t == "m":
            dates.append([v, None, None])
        elif t == "d" and dates:
            if dates[-1][1] is None and dates[-1][2] is None:
                dates[-1][1] = v
            elif dates[-1][2] is None:
                dates.append([dates[-1][0], v, None])     # "16, 20-23": another day, same month
        elif t == "y":
            for d in dates:
                if d[2] is None:
                    d[2] = v
    dates = [d for d in dates if d[2]]
    first, last = dates[0], dates[-1]
    start = _ym(first[0], first[2], first[1])
    end = _ym(last[0], last[2], last[1]) if last is not first else None
    if end == start:
        end = None
    return start, end


def fiscal_year(date: str) -> int:
    y, m = int(date[:4]), int(date[5:7])
    return y if m >= 4 else y - 1


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return re.sub(r"-+", "-", s)[:60].strip("-")


def normal_name(name: str) -> str:
    """A printed name without year, part number, edition number or parentheses of detail."""
    s = re.sub(r"\((?:field|command post)[^)]*\)", "", name, flags=re.I)
    s = re.sub(r"\bPart\s*\d+\b|\b(19|20)\d{2}\b|\bFY\d{4}\b|\b\d{2}(-\d)?\b", "", s)
    s = re.sub(r",?\s*etc\.?", "", s)
    s = re.sub(r"\(\s*\)", "", s)
    return " ".join(s.split()).strip(" ,-")


def series_of(name: str, kind: str, partner: str = "") -> tuple[str, str]:
    """The series an exercise's printed name shows (merge rule 3).

    >>> series_of("Goodwill exercise with the Royal Thai Navy", "bilateral", "THA")
    ('jpn-tha-goodwill-exercise-with-the-royal-thai-navy', 'Goodwill exercise with the Royal Thai Navy')
    """
    for rx, sid, label in NAMED_SERIES:
        if re.search(rx, name, re.I):
            return sid, label
    base = normal_name(re.sub(r"\([^)]*\)", "", name)) or normal_name(name)
    if kind == "bilateral":
        return f"jpn-{partner.lower()}-" + slug(base), base
    if kind == "us":
        core = re.sub(r"^(Japan-U\.?S\.?|Japan U\.?S\.?)\s*", "", base, flags=re.I)
        return "jpn-usa-" + slug(core), f"Japan-U.S. {core[0].lower() + core[1:] if core else base}"
    return slug(base), base


# ---------------------------------------------------------------- occurrences and merging

@dataclass
class Occ:
    row: dict
    date: str
    start: str | None
    end: str | None
    fy: int | None
    series: str
    series_label: str
    fix: str | None = None
    partner: str = ""


@dataclass
class Exercise:
    occs: list[Occ] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.occs[0].row["kind"]

    @property
    def fy(self) -> int:
        return self.occs[0].fy

    @property
    def key(self) -> str:
        o = self.occs[0]
        return f"{o.row['kind']}|{o.series}|{(o.start or '')[:7]}"


def clean(text: str) -> str:
    """Undo the conversion's split ligatures and hyphen breaks ("Pacifi c", "Australia- Canada").

    >>> clean("Pacifi c Partnership, fi eld training, Japan-U.S.-Australia- Canada")
    'Pacific Partnership, field training, Japan-U.S.-Australia-Canada'
    """
    s = re.sub(r"(?<=\w)(fi|fl) (?=[a-z])", r"\1", text)
    s = re.sub(r"\b(fi|fl) (?=[a-z]{2})", r"\1", s)          # "fi eld", "fi rst"
    s = re.sub(r"(?<=[A-Za-z.])- (?=[A-Z])", "-", s)
    return " ".join(s.split())


def _country_list(name: str) -> frozenset:
    """The states a name strings together ("Japan-U.S.-Australia Trilateral ..."), if any."""
    m = re.search(r"\b(Japan|U\.S\.?|Australia|India|France|Canada|ROK|U\.K\.?)"
                  r"(-(Japan|U\.S\.?|Australia|India|France|Canada|ROK|U\.K\.?|Singapore|"
                  r"New Zealand|Korea|Philippines))+", name)
    # "Korea" in a name is the ROK (the 2015-2016 editions print "Japan-U.S.-Korea", later
    # ones "Japan-U.S.-ROK" for the same trilateral training)
    return (frozenset({"ROK" if p == "Korea" else p.rstrip(".") for p in m.group(0).split("-")})
            if m else frozenset())


def _tokens(name: str) -> set[str]:
    stop = {"the", "of", "and", "in", "with", "training", "exercise", "exercises", "joint", "by",
            "hosted", "u", "s", "japan", "a", "for", "to", "etc"}
    return {t for t in re.findall(r"[a-z0-9]+", name.lower()) if t not in stop}


def _months(a: str, b: str) -> int:
    return abs((int(a[:4]) * 12 + int(a[5:7])) - (int(b[:4]) * 12 + int(b[5:7])))


def _same(a: Occ, b: Occ, once: set) -> int | bool:
    """Whether two occurrences are one exercise (merge rules 1 and 2): False, or the
    strength of the link (0 strongest: same series and start month).

    ``once`` holds the (series, fiscal year) pairs that no table lists twice
    for one year: for those, editions that print the start a month or two
    apart (a month-only date against the exact dates) still name one exercise.
    """
    if (a.row["kind"] != b.row["kind"] or a.fy != b.fy or len(a.start or "") < 7
            or len(b.start or "") < 7):
        return False            # a start without its month (an undated row) links by no rule
    if a.partner != b.partner:
        return False            # bilateral: never two partners in one exercise
    same_table = a.row["edition"] == b.row["edition"] and a.row["reference"] == b.row["reference"]
    if same_table and a.row["branch"] == b.row["branch"]:
        return False            # two rows of one section are two exercises
    if (not same_table and a.series == b.series and (a.series, a.fy) in once
            and _months(a.start, b.start) <= 2):
        return 1
    if a.start[:7] != b.start[:7]:
        return False
    if same_table and len(a.start) == len(b.start) == 10 and a.start != b.start:
        # branch sections of one table: the same exercise starts on the same day
        return False
    if a.series == b.series:
        return 0
    ca, cb = _country_list(a.row["designation"]), _country_list(b.row["designation"])
    if not same_table and len(ca) >= 3 and ca == cb:
        return 2
    ta, tb = _tokens(a.row["designation"]), _tokens(b.row["designation"])
    if bool(ta and tb) and len(ta & tb) / len(ta | tb) >= 0.5:
        return 3
    return False


def _with_fy_year(date: str, scope: str) -> tuple[str, str | None]:
    """Add the year a fiscal-year table implies to a date printed without one."""
    if re.search(r"\d{4}", date) or not scope.startswith("FY"):
        return date, None
    fy = int(scope[2:])
    m = re.search(_MONTH_RX, date)
    if not m:
        return date, None
    year = fy if MONTHS[m.group(1)[:3].lower()] >= 4 else fy + 1
    return f"{date}, {year}", f"year not printed (\"{date}\"); taken from the table's {scope}"


def _partner(r: dict, names: dict[str, str]) -> str | None:
    """ISO3 of a per-country (bilateral) table's partner, from its header, or None."""
    name = re.sub(r"^the\s+", "", r.get("partner_country", "").strip(), flags=re.I).lower()
    code = names.get(name)
    if code == "org:eu":       # EU NAVFOR: the state is named in the designation
        inner = re.findall(r"\(([^)]+)\)", r["designation"])
        code = next((names[i.lower()] for i in reversed(inner) if i.lower() in names
                     and not names[i.lower()].startswith("org:")), None)
    return code if code and not code.startswith("org:") and code != "USA" else None


def occurrences(rows: list[dict], names: dict[str, str] | None = None) -> list[Occ]:
    out = []
    names = names if names is not None else load_states()
    for r in rows:
        r = dict(r, designation=clean(r["designation"]), location=clean(r["location"]),
                 countries=clean(r["countries"]))
        partner = ""
        if r["kind"] == "bilateral":
            partner = _partner(r, names) or ""
            if not partner or len(_country_list(r["designation"])) >= 3:
                continue            # no partner state (NATO), or a multilateral row
        where = (int(r["edition"]), int(r["line"]))
        if where in UNDATED_ROWS and not r["date"].strip():
            year, fy, why = UNDATED_ROWS[where]
            sid, label = series_of(r["designation"], r["kind"], partner)
            out.append(Occ(r, str(year), str(year), None, fy, sid, label, why, partner))
            continue
        date, fix = r["date"], None
        if (int(r["edition"]), int(r["line"])) in DATE_FIXES:
            date, fix = DATE_FIXES[(int(r["edition"]), int(r["line"]))]
        date, fix2 = _with_fy_year(date, r["scope"])
        fix = fix or fix2
        pieces = [re.sub(r"^and\s+", "", p) for p in split_dates(date)]
        dated = [parse_date(p) for p in pieces]
        fys = {fiscal_year(st) for st, _ in dated if st and len(st) >= 7}
        if (len(pieces) > 1 and len(fys) == 1 and all(st for st, _ in dated)
                and not re.search(r"\band\b", date)):
            # phases of one exercise printed in one row ("Sep. 17-29, 2019 Oct. 15-23, 2019");
            # "December 2018 and March 2019" are two exercises (a later edition lists both)
            pieces, dated = [date], [(dated[0][0], dated[-1][1] or dated[-1][0])]
        for piece, (start, end) in zip(pieces, dated, strict=True):
            fy = fiscal_year(start) if start and len(start) >= 7 else None
            if fy is None and r["scope"].startswith("FY"):
                fy = int(r["scope"][2:])
            sid, label = series_of(r["designation"], r["kind"], partner)
            out.append(Occ(r, piece, start, end, fy, sid, label, fix, partner))
    return out


def merge(occs: list[Occ]) -> list[Exercise]:
    """Group occurrences into exercises (union of every pair :func:`_same` links)."""
    parent = list(range(len(occs)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_fy = defaultdict(list)
    per_table = defaultdict(int)
    for i, o in enumerate(occs):
        by_fy[(o.row["kind"], o.fy)].append(i)
        per_table[(o.series, o.fy, o.row["edition"], o.row["reference"], o.row["branch"])] += 1
    once = {(s, fy) for (s, fy, *_), n in per_table.items()} - {
        (s, fy) for (s, fy, *_), n in per_table.items() if n > 1}
    links = []
    for idx in by_fy.values():
        for x in range(len(idx)):
            for y in range(x + 1, len(idx)):
                strength = _same(occs[idx[x]], occs[idx[y]], once)
                if strength is not False:
                    links.append((strength, idx[x], idx[y]))
    # strongest links first; never join two groups that hold rows of one table section
    # (two rows of one section are two exercises, whatever links them through a third)
    sections = {i: {(o.row["edition"], o.row["reference"], o.row["branch"])}
                for i, o in enumerate(occs)}
    at = {(int(o.row["edition"]), int(o.row["line"])): i for i, o in enumerate(occs)}
    for a, (b, _) in DUPLICATE_ROWS.items():
        if a in at and b in at:
            ra, rb = find(at[a]), find(at[b])
            if ra != rb:
                parent[ra] = rb
                sections[rb] |= sections.pop(ra)
    for _, x, y in sorted(links):
        rx, ry = find(x), find(y)
        if rx == ry or sections[rx] & sections[ry]:
            continue
        parent[rx] = ry
        sections[ry] |= sections.pop(rx)
    groups = defaultdict(list)
    for i, o in enumerate(occs):
        groups[find(i)].append(o)
    exs = [Exercise(sorted(g, key=lambda o: (-int(o.row["edition"]), int(o.row["line"]))))
           for g in groups.values()]
    exs.sort(key=lambda e: (e.fy or 0, e.kind, min(o.start or "" for o in e.occs), e.key))
    return exs


# ---------------------------------------------------------------- output

def source_id(row: dict) -> str:
    ref = slug(row["reference"].replace("Reference", "ref").replace("Fig.", "fig"))
    return f"doj-{row['edition']}-{ref}"


def _q(v) -> str:
    """A YAML scalar: quoted with double quotes, escaped."""
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def build(rows: list[dict], names: dict[str, str], matches: dict[str, str]) -> dict:
    """Everything the YAML file holds, plus what the run found (for reports and tests)."""
    occs = [o for o in occurrences(rows, names) if o.fy is not None and o.fy <= LAST_FY]
    exs = merge(occs)
    sources, series, records, counts, problems, matched = {}, {}, [], defaultdict(int), [], {}
    taken = set(existing_exercises())
    used_ids: dict[str, int] = {}
    for ex in exs:
        counts[(ex.fy, ex.kind)] += 1
        for o in ex.occs:
            sources.setdefault(source_id(o.row), o.row)
        if ex.key in matches:
            matched[matches[ex.key]] = ex
            continue
        latest = ex.occs[0]
        r = latest.row
        sid, slabel = latest.series, latest.series_label
        series.setdefault(sid, (slabel, r["kind"]))
        notes = []
        if r["kind"] == "us":
            parts, orgs, complete, unread = ["JPN", "USA"], [], True, []
        elif r["kind"] == "bilateral":
            parts, complete, unread = ["JPN", latest.partner], True, []
            orgs = ["eu"] if r["partner_country"] == "EU" else []
            notes.append(f"Japan and {r['partner_country']} from the table "
                         f"({r['table']}); the partner is named in its column header")
        else:
            cell = next((o.row["countries"] for o in ex.occs if o.row["countries"]), "")
            parts, orgs, complete, unread = parse_countries(cell, names)
            read = [u for u in unread if MISPRINTS.get(u.lower())]
            lost = [u for u in unread if u not in read]
            if read:
                notes.append("country cell misprint read: " + ", ".join(
                    f"{u} as {MISPRINTS[u.lower()]}" for u in read))
            if lost:
                notes.append(f"country cell names groups or text not read as states "
                             f"({', '.join(lost)}); list marked partial")
            if not cell:
                complete = False
                notes.append("the country cell is empty in the text conversion")
        observers = []
        units = " ".join(o.row["units"] for o in ex.occs)
        if "JPN" not in parts:
            if re.search(r"as observers?\b", units, re.I) and "including observers" not in units:
                observers.append("JPN")
            else:
                parts.insert(0, "JPN")
                notes.append("Japan taken from the table's scope (SDF participation); the "
                             "country cell lists the partners only")
        start, end = latest.start, latest.end
        others = sorted({(o.start, o.end) for o in ex.occs} - {(start, end)})
        if others:
            notes.append("other editions print " + "; ".join(
                f"{o.row['date']} ({o.row['edition']})" for o in ex.occs[1:]
                if (o.start, o.end) != (start, end)))
        if end and end[:len(start)] < start[:len(end)]:
            notes.append(f"end as printed ({latest.date}) is before the start; left out")
            end = None
        year = int(start[:4])
        base = f"{sid}-{year}"
        n = used_ids.get(base, 0)
        rid = base
        while rid in taken:
            n += 1
            rid = base if n == 1 else f"{base}-{n}"
        used_ids[base] = n
        taken.add(rid)
        branches = sorted({o.row["branch"] for o in ex.occs if o.row["branch"]})
        editions = sorted({int(o.row["edition"]) for o in ex.occs})
        if len(branches) > 1:
            notes.append(f"listed under {', '.join(branches)}: one exercise, as MOD counts")
        names_printed = sorted({o.row["designation"] for o in ex.occs})
        label = r["designation"] if sid in {s for _, s, _ in NAMED_SERIES} and re.search(
            r"\d", r["designation"]) else f"{r['designation']} ({latest.date})"
        if any("carried" in o.row and "countries" in o.row["carried"] for o in ex.occs):
            notes.append("countries carried down from the table's first row for this exercise")
        notes += sorted({o.fix for o in ex.occs if o.fix})
        notes += sorted({f"listed in the {o.row['scope']} table, though it began in FY{ex.fy} as printed (the year may be misprinted)"
                         for o in ex.occs if o.row["scope"].startswith("FY")
                         and o.row["scope"] != f"FY{ex.fy}"})
        notes += sorted({DUPLICATE_ROWS[k][1] for o in ex.occs
                         if (k := (int(o.row["edition"]), int(o.row["line"]))) in DUPLICATE_ROWS})
        if any(o.row["parse"] == "lost-name" for o in ex.occs):
            notes.append("the exercise's name is lost in the text conversion of one edition; "
                         "read from the editions that print it")
        if any(o.row["parse"] == "text" for o in ex.occs):
            notes.append("row jumbled in the text conversion, read by hand")
        forces = [{"GSDF": "JPN-GSDF", "MSDF": "JPN-MSDF", "ASDF": "JPN-ASDF"}[b]
                  for b in branches if b in ("GSDF", "MSDF", "ASDF")]
        domain = sorted({{"GSDF": "land", "MSDF": "sea", "ASDF": "air", "Joint": "joint"}[b]
                         for b in branches})
        extra = [EXTRA_FORCES[k] for o in ex.occs
                 if (k := (int(o.row["edition"]), int(o.row["line"]))) in EXTRA_FORCES]
        for force, area, why in extra:
            forces = sorted({*forces, force})
            domain = sorted({*domain, area})
            notes.append(why)
        if r["kind"] == "bilateral":
            # the per-country tables' branch sections are not reliable in the conversion
            # (naval rows under a GSDF heading), so no forces or domain are taken from them
            forces, domain = [], []
        rec = {"id": rid, "series": sid, "label": label, "year": year, "start": start,
               "end": end, "fiscal_year": ex.fy if len(start) < 7 else None,
               "participants": parts, "participant_orgs": orgs, "observers": observers,
               "participants_complete": None if complete else False,
               "forces": forces if "JPN" in parts else [], "location": r["location"] or None,
               "domain": domain,
               "sources": sorted({source_id(o.row) for o in ex.occs},
                                 key=lambda s: (int(s.split("-")[1]), s)),
               "note": "; ".join([f"Defense of Japan {', '.join(map(str, editions))}: "
                                  + " / ".join(names_printed)] + notes),
               "_key": ex.key}
        records.append(rec)
    return {"sources": sources, "series": series, "records": records, "counts": dict(counts),
            "exercises": exs, "matched": matched, "problems": problems, "match_keys": matches}


def render(result: dict) -> str:
    """The YAML text of data/exercises/official-defense-of-japan.yaml."""
    out = ["# Japan's exercises from the official record: the exercise tables of the Defense of",
           "# Japan white papers (Japan-U.S. and multilateral tables), FY2005-FY2019.",
           "# GENERATED by data-raw/defense_of_japan_curate.py from data-raw/defense-of-japan-"
           "exercises.csv;", "# do not edit by hand (see data-raw/README.md).", "", "sources:"]
    for sid, row in sorted(result["sources"].items(), key=lambda kv: (int(kv[1]["edition"]), kv[0])):
        out += [f"  - id: {sid}",
                f"    title: {_q('Defense of Japan ' + row['edition'] + ', ' + row['reference'] + ': ' + row['table'])}",
                f"    publisher: {PUBLISHER}",
                f'    issued: "{row["edition"]}"',
                f"    locator: {_q(row['reference'])}",
                "    note: " + _q("English edition of the annual white paper; the text gives no "
                                 "address for this edition." + _scope_note(row))]
    out += ["", "series:"]
    existing = _existing_series()
    for sid, (label, kind) in sorted(result["series"].items()):
        if sid in existing:
            continue
        desc = ("Japan-U.S. bilateral training of this name, as the Defense of Japan Japan-U.S. "
                "tables list it." if kind == "us" else
                "Multilateral exercise of this name, as the Defense of Japan multilateral tables "
                "list it.")
        out += [f"  - id: {sid}", f"    label: {_q(label)}", f"    description: {_q(desc)}"]
    out += ["", "exercises:"]
    for rec in result["records"]:
        out.append(f"  - id: {rec['id']}")
        for k in ("series", "label", "year", "start", "end", "fiscal_year", "participants",
                  "participant_orgs", "observers", "participants_complete", "forces", "location",
                  "domain", "sources", "note"):
            v = rec.get(k)
            if v is None or v == []:
                continue
            if isinstance(v, bool):
                out.append(f"    {k}: {'true' if v else 'false'}")
            elif isinstance(v, int):
                out.append(f"    {k}: {v}")
            elif isinstance(v, list):
                out.append(f"    {k}: [{', '.join(v)}]")
            elif k in ("series",):
                out.append(f"    {k}: {v}")
            else:
                out.append(f"    {k}: {_q(v)}")
    out += ["", "official_counts:"]
    us_years = {int(r["scope"][2:]) for r in result["sources"].values() if r["kind"] == "us"}
    for (fy, kind), n in sorted(result["counts"].items()):
        if (kind, fy) in PARTIAL_FY or (kind == "us" and fy not in us_years):
            continue            # a row a table of another year lists: no table covers this year
        srcs = sorted({source_id(o.row) for e in result["exercises"] if (e.fy, e.kind) == (fy, kind)
                       for o in e.occs}, key=lambda s: (int(s.split("-")[1]), s))
        out += [f"  - id: doj-table-rows-{kind}-fy{fy}", "    state: JPN", f"    category: {kind}",
                f"    fiscal_year: {fy}", f"    count: {n}", "    basis: table-rows",
                "    rule: " + _q("exercises the Defense of Japan " + (
                    {"us": "Japan-U.S. table", "multilateral": "multilateral tables",
                     "bilateral": "per-country exchange tables (other states than the U.S.)"}[kind])
                    + f" list for FY{fy}, rows repeated by branch or by later editions merged "
                    "(data-raw/defense_of_japan_curate.py)"),
                f"    sources: [{', '.join(srcs)}]"]
    return "\n".join(out) + "\n"


def _scope_note(row: dict) -> str:
    """A sentence when a table's heading names another fiscal year than its rows."""
    m = re.search(r"FY ?(\d{4})", row["table"])
    if m and row["scope"].startswith("FY") and m.group(1) != row["scope"][2:]:
        return (f" The heading prints FY{m.group(1)}, a misprint: the rows run from April "
                f"{row['scope'][2:]} to March {int(row['scope'][2:]) + 1}.")
    return ""


def _existing_series() -> set[str]:
    sys.path.insert(0, str(REPO))
    from kg.ingest.curated import read_records

    ids = set()
    for p in sorted((REPO / "data").rglob("*.yaml")):
        if p.resolve() == OUT.resolve():
            continue
        for rec in read_records(p).get("series") or []:
            ids.add(str(rec["id"]))
    return ids


def existing_exercises() -> dict[str, dict]:
    """Exercise records of data/ other than the generated file, by id (with their file)."""
    sys.path.insert(0, str(REPO))
    from kg.ingest.curated import read_records

    out = {}
    for p in sorted((REPO / "data").rglob("*.yaml")):
        if p.resolve() == OUT.resolve():
            continue
        for rec in read_records(p).get("exercises") or []:
            out[str(rec["id"])] = dict(rec, _file=p)
    return out


def propose(result: dict, existing: dict[str, dict]) -> list[tuple[str, str, str]]:
    """Candidate (merge key, existing id, why) pairs: same series, start within two months."""
    out = []
    for ex in result["exercises"]:
        o = ex.occs[0]
        if not o.start:
            continue
        for rid, rec in existing.items():
            if rec["series"] != o.series:
                continue
            st = str(rec.get("start") or rec["year"])
            if len(st) >= 7:
                close = _months(st, o.start) <= 2
            else:
                close = int(st[:4]) == int(o.start[:4])
            if close:
                out.append((ex.key, rid, f"{st} vs {o.date} ({o.row['edition']})"))
    return out


def cite_in_existing(result: dict, existing: dict[str, dict], *, check: bool = False) -> list[str]:
    """Add the official sources to the ``sources`` line of each matched existing record.

    A small line edit (the record's one-line ``sources: [...]`` list gains the
    ids it lacks); returns the ids of records that lacked some (with ``check``,
    nothing is written).
    """
    changed = []
    by_file: dict[Path, list[tuple[str, list[str]]]] = defaultdict(list)
    for rid in sorted(result["matched"]):
        if rid not in existing:
            raise SystemExit(f"defense-of-japan-matches.csv: no exercise {rid} in data/")
        srcs = sorted({source_id(o.row) for e in result["exercises"] if e.key in
                       {k for k, v in result["match_keys"].items() if v == rid} for o in e.occs})
        by_file[existing[rid]["_file"]].append((rid, srcs))
    for path, items in by_file.items():
        lines = path.read_text(encoding="utf-8").split("\n")
        for rid, srcs in items:
            i = lines.index(f"  - id: {rid}")
            j = i + 1
            while j < len(lines) and not lines[j].startswith("  - ") and lines[j].strip():
                if lines[j].startswith("    sources: ["):
                    have = [x.strip() for x in lines[j][len("    sources: ["):-1].split(",")]
                    missing = [s for s in srcs if s not in have]
                    if missing:
                        changed.append(rid)
                        lines[j] = "    sources: [" + ", ".join(have + missing) + "]"
                    break
                j += 1
            else:
                raise SystemExit(f"{path.name}: record {rid} has no one-line sources list")
        if not check:
            path.write_text("\n".join(lines), encoding="utf-8", newline="")
    return changed


def load_matches() -> dict[str, str]:
    if not MATCHES.exists():
        return {}
    with MATCHES.open(encoding="utf-8") as fh:
        return {r["key"]: r["record"] for r in csv.DictReader(fh)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the YAML file is stale")
    ap.add_argument("--print", action="store_true", help="print the merged exercises")
    ap.add_argument("--propose", action="store_true",
                    help="print candidate matches with records already in data/")
    args = ap.parse_args(argv)
    with CSV_IN.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    result = build(rows, load_states(), load_matches())
    text = render(result)
    if args.propose:
        for key, rid, why in propose(result, existing_exercises()):
            print(f"{key},{rid},{why}")
        return 0
    if args.print:
        for e in result["exercises"]:
            print(e.fy, e.kind, e.key, "|", " || ".join(
                f"{o.row['edition']}/{o.row['branch']}:{o.row['designation'][:50]} [{o.date}]"
                for o in e.occs))
        return 0
    stale = cite_in_existing(result, existing_exercises(), check=args.check)
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text and not stale
        if not same:
            print(f"{OUT.name} is stale; run python data-raw/defense_of_japan_curate.py",
                  file=sys.stderr)
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8", newline="")
    print(f"wrote {OUT.name}: {len(result['records'])} exercises", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
