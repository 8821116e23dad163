"""The ``kg`` command line: a thin click layer over the library.

Each command parses its options and calls one library function; library
errors (:mod:`kg.errors`) become a one-line message on stderr and the exit
code DESIGN.md fixes (0 ok, 1 not conforming / claim not supported under
--strict, 2 bad usage or input). Heavy libraries are imported inside the
commands so that ``kg --help`` starts fast.
"""

from __future__ import annotations

import sys

import click

from kg import __version__
from kg.errors import KgError
from kg.errors import UsageError as KgUsageError

__all__ = ["cli", "main"]

OUTPUT_FORMATS = ("table", "csv", "tsv", "json", "md", "latex")


class KgGroup(click.Group):
    """A click group that turns library errors into one line and an exit code."""

    def main(self, *args, **kwargs):
        _whole_writes()
        return super().main(*args, **kwargs)

    def invoke(self, ctx):
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a refused last write surfaces here, not at the exit
            return result
        except KgError as exc:
            from kg.escape import terminal

            click.echo(f"kg: error: {terminal(exc.one_line())}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:  # the reader left (`kg ... | head`): quietly, as a tool
            _quiet_stdout()      # killed by SIGPIPE would (128 + 13)
            ctx.exit(141)
        except KeyboardInterrupt:
            ctx.exit(130)
        except OSError as exc:  # the system refused (disk full, permission...): one line, exit 2
            click.echo(f"kg: error: {_os_error_line(exc)}", err=True)
            ctx.exit(2)
        except RecursionError:
            click.echo("kg: error: the input is nested too deeply to process", err=True)
            ctx.exit(2)


def _whole_writes() -> None:
    """Give stdout a buffered layer when it has none (``PYTHONUNBUFFERED``, ``-u``;
    :func:`kg.resources.whole_writes`): unbuffered, a short write to a pipe whose reader
    left goes unnoticed and kg would exit 0 having dropped the rest. Flushed at each
    line, the output still comes as it is made."""
    import io

    from kg.resources import whole_writes

    raw = getattr(sys.stdout, "buffer", None)
    buffered = whole_writes(raw)
    if buffered is not raw:
        sys.stdout = io.TextIOWrapper(buffered, encoding=sys.stdout.encoding,
                                      errors=sys.stdout.errors, line_buffering=True)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush of what is still
    buffered for the closed pipe raises nothing (the Python documentation's recipe for
    SIGPIPE)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _os_error_line(exc: OSError) -> str:
    """One line for an OSError that reached the command line (a write is rolled back first)."""
    import errno

    from kg.escape import terminal

    text = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)
    if exc.errno == errno.ENOSPC or "No space left" in text:
        text += " (any store write was rolled back; free some space and try again)"
    return terminal(text)


class Settings:
    """Options of the ``kg`` group, shared with every command."""

    def __init__(self, store, endpoint, update_endpoint, timeout):
        self.store_path = store
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint
        self.update_given = update_endpoint is not None
        self.timeout = timeout

    def open(self, *, write: bool = False, create: bool | None = None):
        from kg.store import open_store

        if write:
            self.check_local_write()
        return open_store(self.store_path, endpoint=self.endpoint,
                          update_endpoint=self.update_endpoint, write=write, create=create,
                          timeout=self.timeout)

    def check_local_write(self) -> None:
        """Refuse the options of a remote store for a command that writes the local one."""
        if self.endpoint:
            raise click.UsageError("this command writes to the local store; drop --endpoint")
        if self.update_given:
            # kg writes (and validates) locally; `kg push` copies the graphs to the remote
            raise click.UsageError("this command writes to the local store, not to "
                                   "--update-endpoint; write locally, then send the graphs "
                                   "there with `kg push`")


pass_settings = click.make_pass_decorator(Settings)


# ---------------------------------------------------------------- shared options

def graphs_option(help: str = "Read only these graphs (default all)."):
    """``--graph NAME`` (repeatable) into ``graphs``: the graphs a command reads."""
    return click.option("--graph", "graphs", multiple=True, metavar="NAME", help=help)


def format_option(choices, default: str = "table", help: str | None = None):
    """``--format`` into ``fmt``, one of ``choices``."""
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default,
                        show_default=True, help=help)


def window_options(first: str = "First year (inclusive).", last: str = "Last year (inclusive)."):
    """``--from YEAR`` and ``--to YEAR`` into ``year_from`` and ``year_to``."""
    def decorate(f):
        f = click.option("--to", "year_to", type=int, metavar="YEAR", help=last)(f)
        return click.option("--from", "year_from", type=int, metavar="YEAR", help=first)(f)
    return decorate


def _write(text: str, out: str | None = None) -> None:
    if out:
        with open(out, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)


@click.group(cls=KgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
@click.option("--store", "store", metavar="DIR", envvar="KG_STORE",
              help="Local store folder (default ./.kg, or $KG_STORE).")
@click.option("--endpoint", metavar="URL", envvar="KG_ENDPOINT",
              help="Read from a remote SPARQL 1.1 query endpoint instead of the local store.")
@click.option("--update-endpoint", metavar="URL", envvar="KG_UPDATE_ENDPOINT",
              help="SPARQL 1.1 update endpoint of the remote store (for writes).")
@click.option("--timeout", type=float, default=None, metavar="SECONDS",
              help="Timeout for remote requests (default 60).")
@click.pass_context
def cli(ctx, store, endpoint, update_endpoint, timeout):
    """kg: a knowledge graph of security partnerships.

    Load states, armed forces, exercises and agreements (each fact with its
    source) into one RDF graph, query it with SPARQL, measure the partner
    network, test claims about it and draw maps.

    Start with `kg build`, then `kg query run partners --param state=JPN`.
    """
    if store and endpoint:
        raise click.UsageError("--store and --endpoint exclude each other")
    if timeout is not None and not (timeout > 0 and timeout != float("inf")):  # also NaN
        raise KgUsageError(f"--timeout {timeout}: a positive number of seconds")
    ctx.obj = Settings(store, endpoint, update_endpoint, timeout)
    # given on the command line, it is meant for this command; from $KG_UPDATE_ENDPOINT, it
    # is a default for `kg push` and no reason to refuse a local write
    ctx.obj.update_given = (update_endpoint is not None and ctx.get_parameter_source(
        "update_endpoint") == click.core.ParameterSource.COMMANDLINE)


# ---------------------------------------------------------------- build / ingest / validate

@cli.command()
@pass_settings
def build(settings):
    """Load the ontology and the bundled curated data (validated).

    Idempotent: running it twice gives the same graphs and fingerprint.

    Example: kg build
    """
    from kg.ingest import build as do_build

    with settings.open(write=True) as store:
        report = do_build(store)
        sizes = store.graph_sizes()
    for g in sorted(report.graphs):
        click.echo(f"{g}: {sizes.get(g, 0)} triples")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", metavar="FORMAT",
              help="mme, atop, cow, cow-states, yaml, csv, or an RDF format (ttl, nt, nq, trig, jsonld, rdfxml); "
                   "default: from the file extension.")
@click.option("--graph", metavar="NAME",
              help="Target graph (default: by kind: user, mme, atop, cow, cow-states); not "
                   "ontology or curated, which kg build replaces whole.")
@click.option("--replace", is_flag=True,
              help="Replace the target graph instead of adding to it (refused if that leaves "
                   "a subject of another graph invalid).")
@click.option("--strict", is_flag=True, help="Stop at the first bad row of a field dataset.")
@click.option("--from-endpoint", metavar="URL", help="Run a CONSTRUCT query on this endpoint and store the result.")
@click.option("--query", "query_file", metavar="FILE.rq", help="The CONSTRUCT query for --from-endpoint.")
@pass_settings
def ingest(settings, paths, fmt, graph, replace, strict, from_endpoint, query_file):
    """Add data: RDF files, curated YAML/CSV, or a field dataset (--format mme|atop|cow|cow-states).

    All or nothing: the store keeps nothing unless every input conforms (big
    N-Triples/Turtle files are loaded into a new state of the store while they
    are validated, and that state is dropped if they do not); a bad file or
    record stops the ingest with a one-line message and exit code 2, and the
    store is left as it was.

    Example: kg ingest --format mme MME.csv
    """
    if query_file and not from_endpoint:
        raise click.UsageError("--query goes with --from-endpoint (it is the CONSTRUCT to run there)")
    if from_endpoint:
        if not query_file or not graph:
            raise click.UsageError("--from-endpoint needs --query FILE.rq and --graph NAME")
        if paths:
            raise click.UsageError("--from-endpoint takes no files: ingest them separately")
        from kg.ingest.endpoint import ingest_from_endpoint

        with settings.open(write=True) as store:
            report = ingest_from_endpoint(store, from_endpoint, query_file, graph=graph,
                                          replace=replace, timeout=settings.timeout)
    else:
        if not paths:
            raise click.UsageError("give one or more files to ingest (or --from-endpoint)")
        from kg.ingest import ingest as do_ingest

        with settings.open(write=True) as store:
            report = do_ingest(store, list(paths), fmt=fmt, graph=graph, replace=replace,
                               strict=strict)
    for w in report.warnings:
        click.echo(f"kg: warning: {w}", err=True)
    for g, n in sorted(report.graphs.items()):
        already = report.already.get(g)
        click.echo(f"{g}: {'replaced with' if report.replaced else 'added'} {n} triples"
                   + (f" ({already} of the input already there)" if already else ""))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--engine", type=click.Choice(["oxigraph", "pyshacl"]), default="oxigraph",
              show_default=True, help="Run the shapes as SPARQL in Oxigraph, or through pySHACL.")
@graphs_option("Validate only these graphs.")
@pass_settings
def validate(settings, paths, engine, graphs):
    """SHACL report over the store, or over the given files (exit 1 if it does not conform).

    Example: kg validate my-exercises.yaml
    """
    from kg.errors import StoreError
    from kg.ingest.check import validate_files
    from kg.validate import validate_store_report

    if paths:
        store = None
        if not settings.endpoint:
            try:
                store = settings.open()  # the store's graphs give the files context
            except StoreError:
                store = None
        try:
            violations = validate_files(list(paths), engine=engine, store=store)
        finally:
            if store is not None:
                store.close()
    else:
        with settings.open() as store:
            violations = validate_store_report(store, engine=engine,
                                               graphs=list(graphs) or None)
    if not violations:
        click.echo("conforms: 0 violations")
        return
    from kg.escape import terminal

    for v in violations:
        click.echo(terminal(f"{v.focus}: {v.message} [{v.constraint}]"))
    click.echo(f"does not conform: {len(violations)} violation(s)")
    sys.exit(1)


# ---------------------------------------------------------------- query

@cli.group(cls=KgGroup)
def query():
    """Saved and ad hoc SPARQL queries."""


@query.command("list")
def query_list():
    """Saved queries with their one-line summaries.

    Example: kg query list
    """
    from kg.queries import list_queries

    qs = list_queries()
    width = max([len(q.name) for q in qs] + [4])
    for q in qs:
        params = " ".join(f"{p.name}={p.default}" for p in q.params)
        click.echo(f"{q.name.ljust(width)}  {q.summary}" + (f"  [{params}]" if params else ""))


def _params(values) -> dict[str, str]:
    out = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"{item!r} is not k=v", param_hint="--param")
        k, v = item.split("=", 1)
        if k.strip() in out:
            raise click.BadParameter(f"{k.strip()!r} given twice", param_hint="--param")
        out[k.strip()] = v
    return out


def query_options(f):
    """The options of ``kg query run`` and ``kg query sparql``: format, graphs, guard, timeout."""
    f = click.option("--timeout", "query_timeout", type=float, metavar="SECONDS",
                     help="Stop the query after SECONDS (exit 2); Ctrl-C stops it at any time.")(f)
    f = click.option("--allow-network", is_flag=True,
                     help="Permit SERVICE, LOAD and FROM <file:> (off by default).")(f)
    return format_option(OUTPUT_FORMATS, help="For SELECT and ASK; a CONSTRUCT or DESCRIBE "
                         "prints N-Triples. csv and tsv hold each value's text (blank nodes "
                         "as _:label); tsv writes tab, newline, CR and backslash in a value "
                         "as \\t \\n \\r \\\\.")(graphs_option()(f))


@query.command("run")
@click.argument("name")
@click.option("--param", "params", multiple=True, metavar="K=V", help="A query parameter (repeatable).")
@query_options
@pass_settings
def query_run(settings, name, params, fmt, graphs, allow_network, query_timeout):
    """Run a saved query NAME (see `kg query list`) or a FILE.rq.

    Example: kg query run partners --param state=JPN --format csv
    """
    from kg.queries import run_saved

    with settings.open() as store:
        res = run_saved(store, name, _params(params), graphs=list(graphs) or None,
                        allow_network=allow_network, timeout=query_timeout)
    _print_result(res, fmt)


def _print_result(res, fmt):
    from kg.results import format_results

    if isinstance(res, (bytes, bytearray)):  # a CONSTRUCT or DESCRIBE: N-Triples
        if fmt != "table":
            raise KgUsageError(f"--format {fmt} is for the rows of a SELECT or ASK; a CONSTRUCT "
                               "or DESCRIBE prints N-Triples (leave --format out)")
        click.echo(res.decode("utf-8"), nl=False)
    else:
        click.echo(format_results(res, fmt), nl=False)


@query.command("sparql")
@click.argument("text")
@query_options
@pass_settings
def query_sparql(settings, text, fmt, graphs, allow_network, query_timeout):
    """Run an ad hoc query given as TEXT, or read from stdin with `-`.

    Example: kg query sparql 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }'
    """
    if text == "-":
        text = sys.stdin.read()
    with settings.open() as store:
        res = store.query(text, graphs=list(graphs) or None, allow_network=allow_network,
                          timeout=query_timeout)
    _print_result(res, fmt)


# ---------------------------------------------------------------- info / export

@cli.command()
@format_option(["text", "json"], default="text")
@pass_settings
def info(settings, fmt):
    """Triples per graph, dataset fingerprint (SHA-256 of canonical N-Quads), versions.

    Example: kg info --format json
    """
    from kg.info import format_info, store_info

    with settings.open() as store:
        data = store_info(store)
    click.echo(format_info(data, fmt), nl=False)


@cli.command()
@format_option(["table", "csv", "json", "md"])
@click.option("--focus", metavar="ISO3", default="JPN", show_default=True,
              help="The state whose exercises are counted; the official columns show only "
                   "counts of that state's exercises (MOD's are Japan's).")
@graphs_option()
@pass_settings
def coverage(settings, fmt, focus, graphs):
    """Exercises per fiscal year and kind against the official tables and counts.

    Example: kg coverage --format md
    """
    from kg.coverage import fiscal_coverage, fiscal_result_set

    with settings.open() as store:
        rows = fiscal_coverage(store, focus=focus, graphs=list(graphs) or None)
    _print_result(fiscal_result_set(rows), fmt)


@cli.command()
@click.option("--format", "fmt", required=True,
              type=click.Choice(["ttl", "nt", "nq", "trig", "jsonld", "graphml", "gexf", "csv",
                                 "dyad-year"]),
              help="RDF (nq, trig, jsonld keep each graph's name; ttl, nt hold their union), "
                   "a network (graphml, gexf, csv) or a dyad-year panel (dyad-year: CSV, or "
                   ".dta/.parquet by --out's suffix).")
@click.option("--out", metavar="FILE", help="Write to FILE instead of stdout.")
@click.option("--codebook", metavar="FILE",
              help="Write the Markdown codebook here (default: beside --out as "
                   "<file name>.codebook.md, for network and panel formats).")
@graphs_option("Export only these graphs; for networks and panels, count only their facts.")
@click.option("--relation", type=click.Choice(["exercise", "agreement", "all"]),
              help="For network formats: which ties (default: exercise).")
@window_options("For network and panel formats: first year.",
                "For network and panel formats: last year.")
@click.option("--include-observers", is_flag=True, help="For network formats: count observers as participants.")
@click.option("--agreement-type", "agreement_types", multiple=True, metavar="TYPE",
              help="For network formats: only these agreement types (e.g. ReciprocalAccessAgreement).")
@click.option("--dynamic", is_flag=True,
              help="With --format gexf: the network over time, with yearly spells for Gephi's timeline.")
@click.option("--directed", is_flag=True, help="dyad-year: both orders of every pair.")
@click.option("--states", "states", multiple=True, metavar="ISO3",
              help="dyad-year: only the dyads of these states.")
@click.option("--all-dyads", is_flag=True,
              help="dyad-year: every pair of state-system members each year "
                   "(needs kg ingest --format cow-states).")
@pass_settings
def export(settings, fmt, out, codebook, graphs, relation, year_from, year_to, include_observers,
           agreement_types, dynamic, directed, states, all_dyads):
    """Export RDF, the state network (graphml, gexf, csv) or a dyad-year panel.

    \b
    Examples:
      kg export --format ttl --graph curated --out curated.ttl
      kg export --format gexf --dynamic --from 1990 --to 2025 --out japan.gexf
      kg export --format dyad-year --graph mme --graph atop --directed --out panel.dta
    """
    from kg.export import run_export

    with settings.open() as store:
        res = run_export(store, fmt, out=out, codebook=codebook, graphs=list(graphs) or None,
                         relation=relation, year_from=year_from, year_to=year_to,
                         include_observers=include_observers,
                         agreement_types=list(agreement_types) or None, dynamic=dynamic,
                         directed=directed, states=list(states) or None, all_dyads=all_dyads)
    for w in res.warnings:
        click.echo(f"kg: warning: {w}", err=True)
    if res.data is not None:
        sys.stdout.buffer.write(res.data)  # buffered: all of it, or an error (_whole_writes)
    if res.codebook:
        click.echo(f"codebook: {res.codebook}", err=True)


# ---------------------------------------------------------------- commands added by later modules
# (metrics, claims, map, report, push, serve, cite register below)


@cli.command("map")
@click.option("--out", metavar="FILE", default="map.html", show_default=True,
              help="The HTML file to write.")
@click.option("--focus", metavar="ISO3",
              help="Open the page with this state and its partners highlighted, and the "
                   "state named in the title; every other state and tie is still drawn, "
                   "dimmed, not removed (the page's focus menu changes or clears it). The "
                   "state must be in the network of --from..--to.")
@window_options("First year of the window.", "Last year of the window.")
@click.option("--relation", type=click.Choice(["exercise", "agreement", "all"]),
              default="exercise", show_default=True, help="What ties two states.")
@click.option("--layout", type=click.Choice(["geo", "force"]), default="geo", show_default=True,
              help="geo: capitals' coordinates; force: seeded spring layout.")
@click.option("--size-by", type=click.Choice(["degree", "strength", "betweenness", "pagerank"]),
              default="degree", show_default=True, help="Node size.")
@click.option("--color-by", type=click.Choice(["region", "community", "alliance"]),
              default="region", show_default=True, help="Node colour.")
@click.option("--min-weight", type=float, default=1, show_default=True,
              help="Draw only ties at least this heavy.")
@graphs_option()
@click.option("--year", type=int, metavar="YEAR", help="Year shown first (default the last).")
@click.option("--window", type=click.Choice(["1", "3", "5"]), default="1", show_default=True,
              help="Years in the window shown first (ending at --year).")
@click.option("--png", metavar="FILE", help="Also save the first view as PNG (headless Chromium).")
@click.option("--svg", metavar="FILE", help="Also save the first view as SVG (headless Chromium).")
@pass_settings
def map_(settings, out, focus, year_from, year_to, relation, layout, size_by, color_by,
         min_weight, graphs, year, window, png, svg):
    """Interactive HTML network map through time (offline, one file, every label escaped).

    Example: kg map --from 1990 --to 2025 --focus JPN --window 5 --svg jpn.svg
    """
    from kg.map import check_out, export_view, render_map

    for path, option in ((png, "--png"), (svg, "--svg")):
        if path is not None:  # before the map's work, not after it
            check_out(path, option)
    with settings.open() as store:
        res = render_map(store, out=out, focus=focus, year_from=year_from, year_to=year_to,
                         relation=relation, layout=layout, size_by=size_by, color_by=color_by,
                         min_weight=min_weight, graphs=list(graphs) or None, year=year,
                         window=int(window))
    click.echo(res.summary())
    for path in export_view(out, png=png, svg=svg) if (png or svg) else []:
        click.echo(f"{path}: the first view")


# ---------------------------------------------------------------- push / serve (kg.remote, kg.serve)

@cli.command()
@click.argument("update_url", required=False)
@graphs_option("Push only these graphs (default all).")
@click.option("--replace", is_flag=True, help="Empty each remote graph first (DROP SILENT GRAPH).")
@click.option("--batch", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Triples per request (Virtuoso's parser needs 1000 or fewer).")
@click.option("--gsp", metavar="URL", help="Send the data with the Graph Store Protocol to URL instead.")
@pass_settings
def push(settings, update_url, graphs, replace, batch, gsp):
    """Copy the local store's named graphs to a remote store (SPARQL 1.1 Update at UPDATE_URL).

    UPDATE_URL defaults to the global --update-endpoint. With --gsp URL the
    data goes to that Graph Store Protocol endpoint instead, and UPDATE_URL is
    not needed. Progress goes to stderr; a remote
    that refuses stops the push with a one-line error (exit 2). Run it again
    with --replace to start over.

    Example: kg push http://127.0.0.1:7878/update --replace
    """
    if settings.endpoint:
        raise click.UsageError("kg push copies the local store; drop --endpoint")
    from kg.remote import push as do_push

    def progress(name, done, total):
        click.echo(f"{name}: {done}/{total} triples", err=True)

    with settings.open() as store:
        sent = do_push(store, update_url or settings.update_endpoint, list(graphs) or None, replace=replace, batch=batch,
                       gsp=gsp, progress=progress, timeout=settings.timeout)
    for g, n in sent.items():
        click.echo(f"{g}: pushed {n} triples")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (::1 for IPv6; any other than the loopback is warned of: reachable from other machines).")
@click.option("--port", type=click.IntRange(0, 65535), default=7878, show_default=True,
              help="Port (0 picks a free one).")
@click.option("--timeout", "query_timeout", type=float, default=30.0, show_default=True,
              metavar="SECONDS", help="Answer HTTP 503 to a query still running after this.")
@click.option("--allow-network", is_flag=True, help="Permit SERVICE, LOAD and FROM <file:> (off by default).")
@click.option("--quiet", is_flag=True, help="Do not log requests to stderr.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also answer requests whose Host header is NAME (repeatable); by default only "
                   "127.0.0.1, localhost, [::1] and the --host address.")
@pass_settings
def serve(settings, host, port, query_timeout, allow_network, quiet, allow_hosts):
    """Read-only SPARQL 1.1 Protocol endpoint over the local store.

    Prints the endpoint URL (http://HOST:PORT/query) as its first line, then
    answers GET and POST queries until interrupted. Updates get HTTP 403,
    SERVICE queries HTTP 400, queries over --timeout HTTP 503.

    Example: kg serve --port 7878
    """
    if settings.endpoint:
        raise click.UsageError("kg serve serves the local store; drop --endpoint")
    from kg.serve import serve as do_serve

    with settings.open() as store:
        do_serve(store, host, port, timeout=query_timeout, allow_network=allow_network,
                 log=None if quiet else sys.stderr, allow_hosts=allow_hosts)


# ---------------------------------------------------------------- claims / report (kg.claims, kg.report)

@cli.group(cls=KgGroup)
def claims():
    """Claims about Japan's partner network, tested against the graph."""


_CLAIMS_DIR = click.option("--claims-dir", "claims_dir", metavar="DIR", default=None,
                           type=click.Path(file_okay=False),
                           help="Read claim files from DIR instead of queries/claims/.")


@claims.command("list")
@_CLAIMS_DIR
def claims_list(claims_dir):
    """The claims in queries/claims/ with their number, id, test kind, side and title.

    Example: kg claims list
    """
    from kg.claims import format_claim_list, load_claims

    click.echo(format_claim_list(load_claims(claims_dir)), nl=False)


@claims.command("check")
@click.argument("ids", nargs=-1, metavar="[ID|NUMBER]...")
@format_option(["table", "json", "md"])
@click.option("--strict", is_flag=True,
              help="Exit 1 unless every checked claim is supported (insufficient data fails too).")
@graphs_option()
@_CLAIMS_DIR
@pass_settings
def claims_check(settings, ids, fmt, strict, graphs, claims_dir):
    """Verdict per claim (supported / not supported / insufficient data) with its evidence.

    Prints the numbers behind each verdict, the windows and graphs used, the
    coverage of each window (records against official counts), the robustness
    grid's share of agreeing variants, bootstrap intervals, the references, and
    ends with the scorecard (hedging against alliance extension).

    Example: kg claims check us-share-fell --format json
    """
    from kg.claims import check_claims, format_check, raise_if_not_supported

    if claims_dir is not None:
        from kg.claims import load_claims

        load_claims(claims_dir)  # a malformed file is refused before the store is opened
    with settings.open() as store:
        result = check_claims(store, list(ids) or None, list(graphs) or None,
                              directory=claims_dir)
    click.echo(format_check(result, fmt), nl=False)
    if strict:
        raise_if_not_supported(result)


@cli.command()
@click.option("--out", "out_dir", metavar="DIR", default="report", show_default=True,
              help="Folder to write the report into.")
@click.option("--focus", metavar="ISO3", default="JPN", show_default=True,
              help="The focal state of the metrics tables and plots.")
@graphs_option()
@pass_settings
def report(settings, out_dir, focus, graphs):
    """The main job: build the store if empty, then claims, metrics, plots and map into DIR.

    Writes index.html (readable on its own), report.md, the metrics tables as
    CSV, the plots as PNG and SVG, map.html and map.png, with a citation block
    carrying the dataset fingerprint. Running it twice gives identical tables.

    Example: kg report --out report --focus JPN
    """
    from kg.report import build_report

    def progress(step, i, n):
        click.echo(f"kg report: [{i}/{n}] {step}", err=True)

    from kg.errors import StoreError
    from kg.ingest import build_if_empty

    if not settings.endpoint:
        settings.check_local_write()  # it may build the store
    built = False if settings.endpoint else build_if_empty(settings.store_path)
    with settings.open() as store:
        if settings.endpoint and not store.graph_names():
            raise StoreError("the remote store is empty: push or ingest data first")
        res = build_report(store, out_dir, progress=progress if sys.stderr.isatty() else None,
                           focus=focus, graphs=list(graphs) or None)
    res.built = res.built or built
    for note in res.notes:
        click.echo(f"kg: note: {note}", err=True)
    click.echo(f"report written to {res.index}")


@cli.command()
@click.option("--focus", metavar="ISO3", help="A focal state: ego metrics, partner shares, HHI, US share.")
@window_options()
@click.option("--by-year", is_flag=True, help="One network per year (a time series).")
@click.option("--window", type=int, metavar="N", help="Rolling windows of N years (a time series).")
@click.option("--relation", type=click.Choice(["exercise", "agreement", "all"]), default="exercise",
              show_default=True, help="Which ties make the network.")
@click.option("--include-observers", is_flag=True, help="Count exercise observers as participants.")
@click.option("--agreement-type", "agreement_types", multiple=True, metavar="TYPE",
              help="Only these agreement types (repeatable), e.g. ReciprocalAccessAgreement.")
@click.option("--include-pending", is_flag=True,
              help="Count signed agreements not yet in force, from their signing year.")
@graphs_option()
@format_option(["table", "csv", "json", "md", "latex"],
               help="csv is the bare table; the others carry the citation block.")
@click.option("--out", metavar="FILE", help="Write to FILE instead of stdout.")
@pass_settings
def metrics(settings, focus, year_from, year_to, by_year, window, relation, include_observers,
            agreement_types, include_pending, graphs, fmt, out):
    """Network metrics per state: degree, strength, betweenness, closeness, eigenvector,
    PageRank, community (see `kg cite` for the definitions and references).

    Example: kg metrics --focus JPN --from 2015 --to 2024 --by-year --format csv
    """
    from kg.metrics import format_metrics
    from kg.metrics import metrics as do_metrics

    with settings.open() as store:
        res = do_metrics(store, relation=relation, year_from=year_from, year_to=year_to,
                         by_year=by_year, window=window, focus=focus,
                         include_observers=include_observers,
                         agreement_types=list(agreement_types) or None,
                         graphs=list(graphs) or None, cite=fmt != "csv",
                         include_pending=include_pending)
    _write(format_metrics(res, fmt), out)


@cli.command()
@format_option(["bibtex", "cff", "text"], default="text")
@graphs_option("Fingerprint only these graphs.")
@pass_settings
def cite(settings, fmt, graphs):
    """How to cite kg and the data in the store (fingerprint, versions, definitions).

    Example: kg cite --format bibtex
    """
    from kg.citation import citation_block, format_citation
    from kg.errors import StoreBusyError, StoreError

    try:
        with settings.open() as store:
            block = citation_block(store, list(graphs) or None, {})
    except StoreError as exc:
        # Only with no store named and nothing at ./.kg: the software alone, said so. A store
        # named (--store, $KG_STORE, --endpoint) or busy is an error: a script writing
        # refs.bib would otherwise get a citation without the data, exit 0.
        from kg.store import resolve_store_path

        if (graphs or settings.store_path or settings.endpoint
                or isinstance(exc, StoreBusyError) or resolve_store_path(None).exists()):
            raise  # (a ./.kg that is there but not a store is an error too)
        click.echo(f"kg cite: {exc.one_line()}; citing the software alone", err=True)
        block = citation_block(None, None, {})
    click.echo(format_citation(block, fmt), nl=False)


def main() -> None:
    """Entry point for ``python -m kg``."""
    cli(prog_name="kg")

