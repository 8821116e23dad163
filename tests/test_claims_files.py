"""Claims: a user's claim file (``kg claims check --claims-dir DIR``) held to its check.

Each broken variant below is a shipped claim file with one common mistake. Before, they
crashed with a traceback (exit 1), ran for hours, or were taken silently (a wrong direction,
a window out of range, a second claim with the same number); now each is refused when the
file is read, exit 2, with one line naming the file and the field.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg.claims import load_claims
from kg.errors import InputError
from kg.resources import claims_dir

PG, RAA = "partners-grew", "raa-three-by-2025"
SHARE, NEW = "us-share-fell", "new-partners-us-aligned"
BTW, MIX, ALLIES = "indo-pacific-betweenness-rose", "us-minilateral-dominant", "agreements-follow-us"
RECENT = "    recent: [2020, 2024]\n"

#: (claim, text in the shipped file, what replaces it, the field the message must name)
BROKEN = [
    # crashed with a traceback
    (RAA, "threshold: 3", "threshold: three", "field 'test.threshold': 'three' is not a whole"),
    (RAA, "number: 4", "number: four", "field 'number'"),
    (RAA, "agreement_records: 1", "agreement_records: x", "field 'minimum.agreement_records'"),
    (PG, "exercises_per_window: 5", "exercises_per_window: five",
     "field 'minimum.exercises_per_window'"),
    (RAA, "params: {state: JPN}", "params: [JPN]", "field 'test.params'"),
    (PG, "params: {state: JPN, us: USA}", "params: [JPN, USA]", "field 'test.params'"),
    (PG, "value: partners", "value: widgets", "field 'test.value'"),
    (PG, RECENT, "", "field 'test.windows'"),
    (PG, RECENT, RECENT + "    other: [2010, 2012]\n", "field 'test.windows'"),
    (SHARE, RECENT, "", "field 'test.windows'"),
    (NEW, RECENT, "", "field 'test.windows'"),
    (BTW, RECENT, "", "field 'test.windows'"),
    (PG, "caveats:", "uncertainty: {replicates: 0}\ncaveats:", "field 'uncertainty.replicates'"),
    (BTW, "replicates: 200", "replicates: 0", "field 'uncertainty.replicates'"),
    (PG, "caveats:", "robustness: {widths: [0]}\ncaveats:", "field 'robustness.widths[0]'"),
    (PG, "caveats:", "robustness: {widths: [-3]}\ncaveats:", "field 'robustness.widths[0]'"),
    (PG, "kinds: [us, multilateral, bilateral]", "kinds: [[us]]", "field 'coverage.kinds'"),
    (PG, "check: window_change", "check: [window_change]", "field 'test.check'"),
    (PG, "{key: bosack-2019, role: makes the claim}", "{key: [bosack-2019], role: makes it}",
     "field 'references[0].key'"),
    (NEW, "new_partners: 3", "new_partners: three", "field 'minimum.new_partners'"),
    (NEW, "query: [partners_in_window.rq, agreements_with_state.rq]",
     "query: partners_in_window.rq", "field 'test.query'"),
    (SHARE, "query: partners_per_year.rq", "query: [partners_per_year.rq]", "field 'test.query'"),
    (BTW, "states_per_window: 5", "states_per_window: 5.5", "field 'minimum.states_per_window'"),
    (MIX, "decide_window: recent", "decide_window: latest", "field 'test.decide_window'"),
    (ALLIES, "agreement_partners: 3", "agreement_partners: many",
     "field 'minimum.agreement_partners'"),
    (ALLIES, "as_of: 2025\n", "as_of: twenty\n", "field 'test.as_of'"),
    # taken silently, though wrong
    (PG, "direction: increase", "direction: up", "field 'expected.direction'"),
    (SHARE, "direction: decrease (US share) and increase (non-US partners)",
     "direction: decrease", "field 'expected.direction'"),
    (MIX, "direction: greater", "direction: less", "field 'expected.direction'"),
    (BTW, "direction: increase", "direction: decrease", "field 'expected.direction'"),
    (RAA, "threshold: 3", "threshold: -1", "field 'test.threshold'"),
    (RAA, "threshold: 3", "threshold: true", "field 'test.threshold'"),
    (RAA, "threshold: 3", "threshold: 2.5", "field 'test.threshold'"),
    (PG, "baseline: [2005, 2009]", "baseline: [1700, 1750]", "field 'test.windows.baseline'"),
    (RAA, "as_of: 2025\n", "as_of: 3000\n", "field 'test.as_of'"),
    (ALLIES, "as_of: [2025, 2025]", "as_of: [2024, 2024]", "field 'test.windows'"),
    (PG, "baseline: [2005, 2009]", "baseline: [2018, 2022]", "field 'test.windows'"),
    (PG, "baseline: [2005, 2009]", "baseline: [2025, 2029]", "field 'test.windows'"),
    (PG, "years_with_data_per_window: 3", "years_with_data_per_window: 3\n  widgets: 4",
     "field 'minimum.widgets'"),
    (MIX, "exercises_per_window: 5", "exercises_per_window: 5\n  years_with_data_per_window: 3",
     "field 'minimum.years_with_data_per_window'"),
    (PG, "value: partners", "value: partners\n  threshold: 3", "field 'test.threshold'"),
    (PG, "params: {state: JPN, us: USA}", "params: {state: JPN, us: USA, stat: JPN}",
     "field 'test.params.stat'"),
    (PG, "caveats:", "robustness: {shifts: [302]}\ncaveats:", "field 'robustness.shifts[0]'"),
    (PG, "caveats:", "robustness: {widths: [500]}\ncaveats:", "field 'robustness.widths[0]'"),
    (PG, "caveats:", "robustness: {threshold: true}\ncaveats:", "field 'robustness.threshold'"),
    (PG, "caveats:", "robustness: {as_of_shifts: [1]}\ncaveats:",
     "field 'robustness.as_of_shifts'"),
    (RAA, "caveats:", "robustness: {as_of_shifts: [500]}\ncaveats:",
     "field 'robustness.as_of_shifts[0]'"),
    (PG, "caveats:", "uncertainty: {replicates: 100, sede: 5}\ncaveats:",
     "field 'uncertainty.sede'"),
    (BTW, "focus: JPN", "focus: Japan", "field 'test.focus'"),
    (BTW, "robustness_extra: [CAN]", "robustness_extra: [Canada]",
     "field 'test.robustness_extra[0]'"),
    (BTW, "relation: exercise", "relation: friendship", "field 'test.relation'"),
    (ALLIES, "types: [ReciprocalAccessAgreement, LogisticsAgreement]", "types: [Friendship]",
     "field 'test.types'"),
    (PG, "id: partners-grew", "id: partners-grew\nid: partners-grew", "duplicate key 'id'"),
    # a state parameter: its form when read, the store when checked (named neither file
    # nor field; the unknown code was called "--focus ZZZ", an option never given)
    (PG, "params: {state: JPN, us: USA}", "params: {state: jpn, us: USA}",
     "field 'test.params.state': 'jpn' is not an ISO3 code"),
    (RAA, "params: {state: JPN}", "params: {state: ZZZ}",
     "field 'test.params.state': ZZZ: no state with that ISO3 code in the store"),
    (PG, "params: {state: JPN, us: USA}", "params: {state: ZZZ, us: USA}",
     "field 'test.params.state': ZZZ: no state"),
    (PG, "params: {state: JPN, us: USA}", "params: {state: JPN, us: ZZZ}",
     "field 'test.params.us': ZZZ: no state"),
    (BTW, "focus: JPN", "focus: ZZZ", "field 'test.focus': ZZZ: no state"),
]


def _folder(tmp_path: Path, *files: tuple[str, str]) -> Path:
    """A --claims-dir with ``references.yaml``, the shipped queries and the given claim files."""
    d = tmp_path / "cl"
    d.mkdir()
    shutil.copy(claims_dir() / "references.yaml", d)
    for q in claims_dir().glob("*.rq"):
        shutil.copy(q, d)
    for name, text in files:
        (d / name).write_text(text, encoding="utf-8")
    return d


def _variant(stem: str, old: str, new: str) -> str:
    text = (claims_dir() / f"{stem}.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, (stem, old)  # the shipped file still holds what we break
    return text.replace(old, new)


def _refused(res, path: Path, needle: str) -> str:
    """Exit 2, nothing on stdout, one stderr line naming ``path`` and ``needle``."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"kg: error: {path}:"), lines[0]
    assert needle in lines[0], lines[0]
    assert "Traceback" not in res.output
    return lines[0]


@pytest.mark.parametrize(("stem", "old", "new", "needle"), BROKEN,
                         ids=[f"{s}:{(n.strip() or 'without ' + o.strip())[:40]}"
                              for s, o, n, _f in BROKEN])
def test_a_broken_claim_file_is_refused_naming_the_file_and_field(cli_runner, tmp_path, stem,
                                                                   old, new, needle):
    d = _folder(tmp_path, (f"{stem}.yaml", _variant(stem, old, new)))
    res = cli_runner("claims", "check", "--claims-dir", d)
    _refused(res, d / f"{stem}.yaml", needle)


def test_the_message_is_one_line_naming_file_field_and_value(cli_runner, tmp_path):
    d = _folder(tmp_path, (f"{RAA}.yaml", _variant(RAA, "threshold: 3", "threshold: three")))
    res = cli_runner("claims", "check", "--claims-dir", d)
    assert res.stderr == (f"kg: error: {d / RAA}.yaml: field 'test.threshold': 'three' is not "
                          "a whole number\n")


def test_replicates_without_bound_are_refused_when_read(cli_runner, tmp_path):
    """Before, 100,000,000 replicates were taken and the check ran for days (``claims list``
    here: on the old code it returns, where ``claims check`` would not)."""
    d = _folder(tmp_path, (f"{BTW}.yaml",
                           _variant(BTW, "replicates: 200", "replicates: 100000000")))
    res = cli_runner("claims", "list", "--claims-dir", d)
    _refused(res, d / f"{BTW}.yaml", "field 'uncertainty.replicates': 100000000 is not from 1 to")


def test_two_claims_with_one_number_are_refused(cli_runner, tmp_path):
    """Before, ``kg claims check 4`` picked one of them without a word."""
    d = _folder(tmp_path, (f"{PG}.yaml", _variant(PG, "number: 1", "number: 4")),
                (f"{RAA}.yaml", (claims_dir() / f"{RAA}.yaml").read_text(encoding="utf-8")))
    res = cli_runner("claims", "check", "4", "--claims-dir", d)
    line = _refused(res, d / f"{RAA}.yaml", "field 'number': claim number 4 also used by")
    assert line.endswith(f"{d / PG}.yaml")


def test_a_duplicate_key_in_references_is_refused(tmp_path):
    refs = (claims_dir() / "references.yaml").read_text(encoding="utf-8")
    entry = refs[refs.index("liff-2019:"):refs.index("cronin-2013:")]
    d = _folder(tmp_path)
    (d / "references.yaml").write_text(refs + entry, encoding="utf-8")
    shutil.copy(claims_dir() / f"{PG}.yaml", d)
    with pytest.raises(InputError, match=r"references.yaml:\d+: duplicate key 'liff-2019'"):
        load_claims(d)


def test_every_shipped_claim_passes_from_a_folder_of_its_own(tmp_path):
    """The rules hold the shipped files as they are: copied, they load unchanged."""
    shipped = load_claims()
    d = _folder(tmp_path, *[(Path(c.path).name, Path(c.path).read_text(encoding="utf-8"))
                            for c in shipped])
    mine = load_claims(d)
    assert [(c.id, c.number, c.test, c.minimum, c.expected) for c in mine] == [
        (c.id, c.number, c.test, c.minimum, c.expected) for c in shipped]


def test_every_registered_check_has_its_rules():
    from kg.claims import CHECKS
    from kg.claims.definitions import _CHECK_RULES

    assert set(_CHECK_RULES) == set(CHECKS)
    shipped = {c.test["check"] for c in load_claims()}
    assert shipped == set(CHECKS)  # every rule set is exercised by a shipped file


def test_claim_texts_reach_the_terminal_escaped(cli_runner, tmp_path):
    """A claim file's title, text and caveats are shown, not obeyed, on a terminal (an
    outsider's probe saw a colour escape and a bidi override printed raw)."""
    text = _variant(PG, "title: Japan's exercise partners per year have grown",
                    "title: \"Japan \\e[31mRED\\e[0m \\u202eRLO\"")
    text = text.replace("caveats:\n", "caveats:\n  - \"\\e[42mCAVEAT\"\n", 1)
    d = _folder(tmp_path, (f"{PG}.yaml", text))
    listed = cli_runner("claims", "list", "--claims-dir", d)
    assert listed.exit_code == 0, listed.output
    assert "Japan \\x1b[31mRED\\x1b[0m \\u202eRLO" in listed.stdout
    checked = cli_runner("claims", "check", PG, "--claims-dir", d)
    assert checked.exit_code == 0, checked.output
    for out in (listed.stdout, checked.stdout):
        assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[42mCAVEAT" in checked.stdout
