"""CLI tests with CliRunner: the must-show points of issue 2 that go through ``kg``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
import pytest

from kg.cli import cli

REPO = Path(__file__).resolve().parents[1]


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_build_then_partners_of_japan(tmp_path, cli_runner):
    """`kg build && kg query run partners --param state=JPN --format csv`."""
    store = tmp_path / "st"
    res = cli_runner("build", store=store)
    assert res.exit_code == 0, res.output
    assert "curated:" in res.stdout and "ontology:" in res.stdout
    res = cli_runner("query", "run", "partners", "--param", "state=JPN", "--format", "csv",
                     store=store)
    assert res.exit_code == 0, res.output
    rows = _csv(res.stdout)
    assert list(rows[0]) == ["partner", "name", "exercises", "first", "last"]
    partners = {r["partner"] for r in rows}
    assert {"AUS", "IND", "PHL", "GBR", "USA"} <= partners
    assert "JPN" not in partners
    names = {r["partner"]: r["name"] for r in rows}
    assert names["GBR"] == "United Kingdom" and names["PHL"] == "Philippines"
    # the four exercises of the article (2019) are all there
    for r in rows:
        assert int(r["exercises"]) >= 1 and int(r["first"]) <= int(r["last"])
    counts = [int(r["exercises"]) for r in rows]
    assert counts == sorted(counts, reverse=True)


def test_build_twice_same_fingerprint(tmp_path, cli_runner, fingerprint):
    store = tmp_path / "st"
    assert cli_runner("build", store=store).exit_code == 0
    first = fingerprint(store)
    assert cli_runner("build", store=store).exit_code == 0
    assert fingerprint(store) == first
    other = tmp_path / "st2"
    assert cli_runner("build", store=other).exit_code == 0
    assert fingerprint(other) == first


def test_build_restores_graphs_after_ingest(store_copy, cli_runner, fingerprint, built_store):
    """build replaces its own graphs; a user graph added meanwhile survives it."""
    base = fingerprint(built_store)
    src = Path(__file__).resolve().parent / "fixtures" / "bad" / "good.ttl"
    assert cli_runner("ingest", src, store=store_copy).exit_code == 0
    assert cli_runner("build", store=store_copy).exit_code == 0
    info = json.loads(cli_runner("info", "--format", "json", store=store_copy).stdout)
    assert set(info["graphs"]) == {"curated", "ontology", "user"}
    ref = json.loads(cli_runner("info", "--format", "json", store=built_store).stdout)
    assert info["graphs"]["curated"]["sha256"] == ref["graphs"]["curated"]["sha256"]
    assert fingerprint(store_copy) != base


@pytest.mark.parametrize("bad,where", [
    ("malformed.ttl", "6"), ("end-before-start.yaml", "10"), ("end-before-start.ttl", "8"),
    ("missing-field.yaml", "3"), ("unknown-state.yaml", "10"), ("unknown-state.ttl", "8"),
])
def test_ingest_rejects_with_exit_2(store_copy, expect_rejected, bad, where):
    path = Path(__file__).resolve().parent / "fixtures" / "bad" / bad
    expect_rejected(store_copy, ["ingest", path], str(path), where=where)


def test_info_text_and_json(cli_runner):
    res = cli_runner("info")
    assert res.exit_code == 0
    assert "fingerprint: sha256:" in res.stdout
    doc = json.loads(cli_runner("info", "--format", "json").stdout)
    assert doc["graphs"]["ontology"]["version"]
    assert doc["triples"] == sum(g["triples"] for g in doc["graphs"].values())
    assert len(doc["fingerprint"]) == 64
    assert doc["versions"]["kg"]


def test_query_list(cli_runner):
    res = cli_runner("query", "list")
    assert res.exit_code == 0
    names = {line.split()[0] for line in res.stdout.splitlines()}
    assert {"partners", "exercises", "agreements", "timeline"} <= names


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv", "json", "md", "latex"])
def test_query_formats(cli_runner, fmt):
    res = cli_runner("query", "run", "partners", "--param", "state=JPN", "--format", fmt)
    assert res.exit_code == 0, res.output
    assert "AUS" in res.stdout


def test_bad_param_is_exit_2(cli_runner):
    for args in (["--param", "state=Japan"], ["--param", "nope=1"], ["--param", "stateJPN"]):
        res = cli_runner("query", "run", "partners", *args)
        assert res.exit_code == 2, res.output
        assert len(res.stderr.strip().splitlines()) >= 1


def test_unknown_query_is_exit_2(cli_runner):
    res = cli_runner("query", "run", "no-such-query")
    assert res.exit_code == 2
    assert res.stderr.startswith("kg: error: no saved query named")


def test_no_store_is_a_clear_error(tmp_path, cli_runner):
    res = cli_runner("query", "run", "partners", store=tmp_path / "absent")
    assert res.exit_code == 2
    assert "kg build" in res.stderr and len(res.stderr.splitlines()) == 1


def test_validate_store_conforms(cli_runner):
    res = cli_runner("validate")
    assert res.exit_code == 0, res.output
    assert "conforms" in res.stdout


def test_validate_file_with_violation_exit_1(cli_runner):
    f = Path(__file__).resolve().parent / "fixtures" / "shapes" / "end-before-start.ttl"
    res = cli_runner("validate", f)
    assert res.exit_code == 1
    assert "EndBeforeStart" in res.stdout


# ---------------------------------------------------------------- help and README


def _walk(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in sorted(group.commands.items()):
        path = prefix + (name,)
        yield path, cmd
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, path)


COMMANDS = list(_walk(cli))


def test_there_are_commands():
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"build", "ingest", "validate", "query", "query run", "query list", "query sparql",
            "info"} <= names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help(path):
    from click.testing import CliRunner

    res = CliRunner().invoke(cli, [*path, "--help"])
    assert res.exit_code == 0, res.output
    cmd = dict(COMMANDS)[path]
    summary = (cmd.help or cmd.short_help or "").strip()
    assert len(summary) > 10, f"kg {' '.join(path)} has no help text"
    assert summary.split("\n")[0][:30] in " ".join(res.output.split())


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_is_in_the_readme(path):
    """The README mentions every command as ``kg <command> [<subcommand>]``.

    The lead writes README.md; this fails until it lists them all.
    """
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"kg {' '.join(path)}" in readme, f"README.md does not mention `kg {' '.join(path)}`"


@pytest.mark.parametrize("path", [p for p, c in COMMANDS if not isinstance(c, click.Group)],
                         ids=[" ".join(p) for p, c in COMMANDS if not isinstance(c, click.Group)])
def test_every_command_help_shows_an_example_of_itself(path):
    """Each command's --help has an ``Example:`` line that runs that very command."""
    from click.testing import CliRunner

    res = CliRunner().invoke(cli, [*path, "--help"])
    assert res.exit_code == 0, res.output
    lines = [x.strip() for x in res.output.splitlines()]
    at = [i for i, x in enumerate(lines) if x.startswith(("Example:", "Examples:"))]
    assert at, f"kg {' '.join(path)} --help has no Example: line"
    example = " ".join(lines[at[0]:at[0] + 2])
    assert f"kg {' '.join(path)}" in example, example


def _readme_block_after(marker: str) -> list[str]:
    """The lines of the README's first fenced block after ``marker``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    rest = text[text.index(marker):]
    start = rest.index("```\n") + 4
    return rest[start:rest.index("```", start)].splitlines()


def test_readme_demo_output_is_what_kg_prints(cli_runner, tmp_path):
    """The output the README shows for ``make demo`` (build, then Japan's partners, first
    ten) is what kg prints on the bundled data: a data change must update the README."""
    shown = _readme_block_after("`make demo` ends with")
    build = cli_runner("build", store=tmp_path / "st")
    assert build.exit_code == 0, build.output
    assert [x for x in build.stdout.splitlines() if x.startswith(("curated:", "ontology:"))] \
        == shown[:2]
    table = cli_runner("query", "run", "partners", "--param", "state=JPN", store=tmp_path / "st")
    assert table.exit_code == 0, table.output
    at = shown.index("...")
    assert table.stdout.splitlines()[:at - 2] == shown[2:at]


def test_readme_metrics_example_is_what_kg_prints(cli_runner):
    """The README's "Metrics you can cite" example prints these rows on the bundled data."""
    shown = _readme_block_after("### Metrics you can cite")
    assert shown[0].startswith("$ kg metrics ")
    res = cli_runner("metrics", "--relation", "exercise", "--from", "2015", "--to", "2024",
                     "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = [x for x in res.stdout.splitlines() if x.split(",")[0] in ("state", "JPN", "USA", "AUS")]
    assert rows == shown[1:]


def test_readme_claims_table_is_what_kg_prints(cli_runner):
    """The verdict table of "What the data says" is ``kg claims check --format md``'s."""
    shown = _readme_block_after_table("## What the data says")
    res = cli_runner("claims", "check", "--format", "md")
    assert res.exit_code == 0, res.output
    assert len(shown) > 5 and all(row in res.stdout.splitlines() for row in shown), \
        "update the README's claims table from `kg claims check --format md`"


def test_readme_scorecard_is_what_kg_prints(cli_runner):
    """The scorecard rows and its closing sentence in the README are ``kg claims check
    --format md``'s."""
    shown = _readme_block_after_table("ends with the scorecard", first="| hedging |")
    text = (REPO / "README.md").read_text(encoding="utf-8")
    sentence = next(x for x in text[text.index("ends with the scorecard"):].splitlines()
                    if x.startswith("Too few signatures") or x.startswith("The evidence"))
    res = cli_runner("claims", "check", "--format", "md")
    assert res.exit_code == 0, res.output
    printed = res.stdout.splitlines()
    assert len(shown) == 5 and [x for x in shown if x not in printed] == []
    assert sentence in printed


def test_readme_coverage_excerpt_is_what_kg_prints(cli_runner):
    """The rows of the README's `kg coverage` excerpt are rows of ``kg coverage --format md``."""
    shown = _readme_block_after_table("`kg coverage` shows the records", first="| 20")
    res = cli_runner("coverage", "--format", "md")
    assert res.exit_code == 0, res.output
    assert len(shown) > 5 and [x for x in shown if x not in res.stdout.splitlines()] == []


def _readme_block_after_table(marker: str, first: str = "| 1 |") -> list[str]:
    """The rows of the README's first Markdown table after ``marker``, from the first row
    that starts with ``first`` to the table's end."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    lines = text[text.index(marker):].splitlines()
    first = next(i for i, x in enumerate(lines) if x.startswith(first))
    rows = []
    for x in lines[first:]:
        if not x.startswith("| "):
            break
        rows.append(x)
    return rows


def test_top_level_help_is_fast_to_import():
    """`kg --help` does not import the heavy libraries."""
    import subprocess
    import sys

    code = ("import sys; from kg.cli import cli; "
            "heavy = [m for m in ('rdflib', 'networkx', 'pyvis', 'matplotlib', 'pyoxigraph', "
            "'pyshacl') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("args, says", [
    (["--query", "q.rq", "data.ttl"], "--query goes with --from-endpoint"),
    (["--from-endpoint", "http://127.0.0.1:9/q", "--query", "q.rq", "--graph", "g", "data.ttl"],
     "--from-endpoint takes no files"),
])
def test_ingest_options_that_would_be_ignored_are_refused(cli_runner, tmp_path, args, says):
    """`kg ingest --query c.rq my.yaml` ingested the file and dropped the query unsaid."""
    res = cli_runner("ingest", *args, store=tmp_path / "store")
    assert res.exit_code == 2 and says in res.stderr, res.output
    assert not (tmp_path / "store").exists()
