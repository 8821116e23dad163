"""Rendering claim results: text, JSON and Markdown for the CLI; HTML and Markdown for the report.

Tables go through :func:`kg.results.format_rows` (one table renderer); everything that
comes from data or claim files is escaped for the format it lands in.
"""

from __future__ import annotations

import json

from kg import escape
from kg.claims.checks import VERDICTS, window_label
from kg.results import format_rows

__all__ = ["format_claim_list", "format_check", "grid_table_rows", "render_claims_md",
           "render_claims_html", "render_scorecard_md", "render_scorecard_html"]

def _md(s) -> str:
    """Inline Markdown text, one line: :func:`kg.escape.markdown` of ``str(s)``.

    >>> _md("a|b <i>x</i> & #1")
    'a\\\\|b &lt;i&gt;x&lt;/i&gt; &amp; \\\\#1'
    """
    return escape.markdown(str(s))


def _h(s) -> str:
    """HTML text (:func:`kg.escape.html`); None as nothing."""
    return escape.html("" if s is None else str(s))


def format_claim_list(claims) -> str:
    """``kg claims list``: number, id, test kind, side of the debate and title, one a line."""
    if not claims:
        return ""
    w = max(len(c.id) for c in claims)
    lines = [f"{c.number:>2}  {c.id.ljust(w)}  {c.test['kind']:<6}  "
             f"{(c.signature or {}).get('side', '-'):<18}  {c.title}" for c in claims]
    return _on_terminal(lines)


def _on_terminal(lines: list[str]) -> str:
    """Lines of text output, each through :func:`kg.escape.terminal` (claim texts and
    caveats come from claim files, labels from the data)."""
    return "".join(escape.terminal(line) + "\n" for line in "\n".join(lines).split("\n"))


def _value_text(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value_text(x)}" for k, x in v.items() if k != "partners")
    if isinstance(v, list):
        return " -> ".join(_value_text(x) for x in v)
    if isinstance(v, float):
        return f"{v:.4g}"
    return "n/a" if v is None else str(v)


def grid_table_rows(claim_result: dict) -> tuple[list[str], list[dict]]:
    """The robustness grid of one claim as table columns and flat rows."""
    rows = (claim_result.get("robustness") or {}).get("variants") or []
    if not rows:
        return [], []
    if "rule" in rows[0]:
        cols = ["variant", "rule", "as_of", "value", "reading"]
    else:
        cols = ["variant", "windows", "window_years", "projection", "sources", "unverified",
                "observers", "value", "reading", "coverage", "same_as"]
    return cols, [{**r, "value": _value_text(r["value"])} for r in rows]


def _uncertainty_lines(c: dict) -> list[str]:
    u = c.get("uncertainty") or {}
    if not u.get("applies"):
        return [f"uncertainty: {u.get('why', 'n/a')}"] if u else []
    if u.get("interval") is None:
        return [f"uncertainty: {u.get('why', 'not computed')}"]
    out = []
    records = " (the records' reading; the verdict is insufficient data)" if u.get(
        "records_only") else ""
    for k, obs in u["observed"].items():
        iv = u["interval"].get(k)
        p = u["p_value"].get(k)
        name = "" if k == "value" else f"{k.replace('_', ' ')}: "
        out.append(f"uncertainty{records}: {name}change {obs:+.4g}, 95% bootstrap interval "
                   f"[{iv[0]:+.4g}, {iv[1]:+.4g}], permutation p = {p:.4g} "
                   f"({u['replicates']} replicates, seed {u['seed']})")
    return out


def _ref_text(r: dict) -> str:
    return (f"{r['author']} ({r['date']}), \"{r['title']}\", {r['venue']}, {r['address']}"
            + (f" [{r['role']}]" if r.get("role") else ""))


def _completeness_lines(c: dict) -> list[str]:
    comp = (c.get("coverage") or {}).get("completeness") or {}
    out = []
    for w, d in (comp.get("windows") or {}).items():
        ratio = "n/a" if d["ratio"] is None else f"{d['ratio']:.0%}"
        out.append(f"completeness {w} {window_label(d['window'])}: {d['status']} "
                   f"({d['records']} records of {d['official']} official, {ratio}; "
                   f"kinds {', '.join(d['kinds'])}; threshold {d['threshold']:.0%})")
    return out  # when not checked, the caveats say so


def _quality_lines(c: dict) -> list[tuple[str, bool]]:
    """A claim's completeness, uncertainty, robustness and caveat lines as ``(text, is_caveat)``."""
    out = [(line[0].upper() + line[1:], False)
           for line in _completeness_lines(c) + _uncertainty_lines(c)]
    rob = c.get("robustness") or {}
    if rob.get("summary"):
        out.append((f"Robustness: {rob['summary']}", False))
    out += [(f"Caveat: {cav}", True) for cav in c["coverage"]["caveats"]]
    return out


def _windows_text(c: dict) -> str:
    """A claim's windows in words, e.g. ``baseline 2010-2014, recent 2019-2023``."""
    return ", ".join(f"{k} {window_label(v)}" for k, v in c["windows"].items())


def _text(result: dict) -> str:
    out = []
    for c in result["claims"]:
        out.append(f"[{c['number']}] {c['id']}: {c['verdict'].upper()}")
        out.append(f"    {c['claim']}")
        out.append(f"    why: {c['reason']}")
        out += [f"    evidence: {line}" for line in c["evidence_lines"]]
        out.append(f"    windows: {_windows_text(c)}; graphs: {', '.join(c['graphs'])}")
        out.append(f"    coverage: {c['coverage']['status']}; "
                   + "; ".join(c["coverage"]["notes"]))
        for line in _completeness_lines(c):
            out.append(f"    {line}")
        rob = c.get("robustness") or {}
        if rob.get("summary"):
            out.append(f"    robustness: {rob['summary']}")
        for line in _uncertainty_lines(c):
            out.append(f"    {line}")
        for cav in c["coverage"]["caveats"]:
            out.append(f"    caveat: {cav}")
        for r in c.get("references", []):
            out.append(f"    reference: {_ref_text(r)}")
        out.append("")
    s = result.get("summary", {})
    out.append("summary: " + ", ".join(f"{s.get(v, 0)} {v}" for v in VERDICTS))
    sc = result.get("scorecard")
    if sc:
        out.append("")
        out.append("SCORECARD: hedging against alliance extension")
        out.append(format_rows(_score_rows(sc), _SCORE_COLS, "table").rstrip("\n"))
        out.append(sc["sentence"])
        for cav in sc["caveats"]:
            out.append(f"caveat: {cav}")
    fp = ((result.get("citation") or {}).get("dataset") or {}).get("fingerprint")
    if fp:
        out.append(f"dataset fingerprint: {fp}")
    return _on_terminal(out)


_SCORE_COLS = ["side", "signature", "verdict", "records", "robustness", "counts_for"]


def _score_rows(sc: dict) -> list[dict]:
    return [{"side": r["side"], "signature": f"{r['title']} ({r['id']})", "verdict": r["verdict"],
             "records": r["reading"], "robustness": r["robustness"],
             "counts_for": r["counts_for"]} for r in sc["rows"]]


def format_check(result: dict, fmt: str = "table") -> str:
    """Render :func:`check_claims` output as ``table`` (text), ``json`` or ``md``."""
    if fmt == "json":
        return json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "md":
        return render_claims_md(result)
    return _text(result)


# ---------------------------------------------------------------- Markdown


def render_scorecard_md(sc: dict) -> str:
    """The scorecard as Markdown: table, overall reading, caveats."""
    rows = [{k: v for k, v in r.items()} for r in _score_rows(sc)]
    out = [format_rows(rows, _SCORE_COLS, "md").rstrip("\n"), "", _md(sc["sentence"]), ""]
    out += [f"- Caveat: {_md(c)}" for c in sc["caveats"]]
    return "\n".join(out) + "\n"


def render_claims_md(result: dict, level: int = 3) -> str:
    """The claims section as Markdown: summary table, each claim with its grid, scorecard."""
    hx = "#" * level
    claims = result["claims"]
    rows = [{"#": c["number"], "claim": f"{c['title']} ({c['id']})",
             "verdict": c["verdict"],
             "robustness": (c.get("robustness") or {}).get("summary", ""),
             "evidence": c["reason"]} for c in claims]
    out = [format_rows(rows, ["#", "claim", "verdict", "robustness", "evidence"], "md")]
    for c in claims:
        out.append(f"{hx} {c['number']}. {_md(c['title'])}: {c['verdict']}")
        out.append("")
        out.append(f"> {_md(c['claim'])}")
        out.append("")
        if c["source"].get("quote"):
            out.append(f"- Quote: {_md(c['source']['quote'])}")
        for r in c.get("references", []):
            out.append(f"- Reference: {_md(_ref_text(r))}")
        out.append(f"- Test ({c['test']['kind']}): {_md(c['test']['statistic'])}")
        out.append(f"- Expected: {_md(c['expected'].get('rule', ''))}")
        out += [f"- Evidence: {_md(line)}" for line in c["evidence_lines"]]
        out.append(f"- Windows: {_windows_text(c)}; graphs: {_md(', '.join(c['graphs']))}")
        out += [f"- {_md(line)}" for line, _caveat in _quality_lines(c)]
        cols, grid = grid_table_rows(c)
        if grid:
            out += ["", f"Robustness grid ({len(grid)} variants):", "",
                    format_rows(grid, cols, "md").rstrip("\n")]
        out.append("")
    if result.get("scorecard"):
        out += [f"{hx} Scorecard: hedging against alliance extension", "",
                render_scorecard_md(result["scorecard"])]
    fp = ((result.get("citation") or {}).get("dataset") or {}).get("fingerprint")
    if fp:
        out += [f"Dataset fingerprint: {fp}", ""]
    return "\n".join(out)


# ---------------------------------------------------------------- HTML


def render_scorecard_html(sc: dict) -> str:
    """The scorecard as an HTML fragment (escaped)."""
    out = ["<div class=\"scorecard\">", format_rows(_score_rows(sc), _SCORE_COLS, "html"),
           f"<p><strong>{_h(sc['sentence'])}</strong></p>", "<ul>"]
    out += [f"<li>{_h(c)}</li>" for c in sc["caveats"]]
    out += ["</ul>", "</div>"]
    return "\n".join(out)


def render_claims_html(result: dict, level: int = 3) -> str:
    """The claims section as an HTML fragment: each claim with evidence, grid, references.

    Every string from data or claim files is escaped (:func:`kg.escape.html`).
    """
    hx = f"h{level}"
    out = []
    for c in result["claims"]:
        out.append(f"<{hx} id=\"claim-{_h(c['id'])}\">{_h(c['number'])}. {_h(c['title'])}: "
                   f"<span class=\"verdict\">{_h(c['verdict'])}</span></{hx}>")
        out.append(f"<blockquote>{_h(c['claim'])}</blockquote>")
        out.append("<ul>")
        out.append(f"<li>Why: {_h(c['reason'])}</li>")
        for line in c["evidence_lines"]:
            out.append(f"<li>Evidence: {_h(line)}</li>")
        out += [("<li class=\"note\">" if caveat else "<li>") + f"{_h(line)}</li>"
                for line, caveat in _quality_lines(c)]
        for r in c.get("references", []):
            addr = r.get("address", "")
            link = (f"<a href=\"{_h(addr)}\">{_h(addr)}</a>"
                    if addr.startswith(("https://", "http://")) else _h(addr))
            out.append(f"<li>Reference: {_h(r['author'])} ({_h(r['date'])}), "
                       f"&ldquo;{_h(r['title'])}&rdquo;, <em>{_h(r['venue'])}</em>, {link}"
                       + (f" [{_h(r['role'])}]" if r.get("role") else "") + "</li>")
        out.append("</ul>")
        cols, grid = grid_table_rows(c)
        if grid:
            out.append(f"<details><summary>Robustness grid ({len(grid)} variants)</summary>")
            out.append(format_rows(grid, cols, "html"))
            out.append("</details>")
    if result.get("scorecard"):
        out.append(f"<{hx} id=\"scorecard\">Scorecard: hedging against alliance extension</{hx}>")
        out.append(render_scorecard_html(result["scorecard"]))
    return "\n".join(out) + "\n"
