"""Unit tests of kg.sparql: the lexer, term serialization, parameter binding, query form, guard."""

from __future__ import annotations

import pytest

from kg.errors import QueryRefused, UsageError
from kg.sparql import Iri, Lit, bind_values, check_query_safe, query_form, term_to_sparql, tokens

JPN = "https://w3id.org/secpart/id/state/JPN"


def test_tokens_keep_strings_iris_comments_whole():
    text = 'SELECT ?x # SERVICE here\nWHERE { ?x <http://e/{x}> "a } b" }'
    kinds = [(k, t) for k, t, _ in tokens(text) if k != "ws"]
    assert ("comment", "# SERVICE here") in kinds
    assert ("string", '"a } b"') in kinds
    assert ("var", "?x") in kinds
    # '{' is not allowed inside an IRI, so <http://e/{x}> is not one IRI token
    assert ("iri", "<http://e/{x}>") not in kinds
    assert "".join(t for _, t, _ in tokens(text)) == text  # nothing skipped


def test_tokens_iri_with_codepoint_escape():
    toks = [(k, t) for k, t, _ in tokens(r"FROM <\u0066ile:///x>") if k != "ws"]
    assert toks[1] == ("iri", r"<\u0066ile:///x>")


def test_tokens_remembered_only_for_texts_within_the_query_limit():
    from kg import sparql

    short = "SELECT ?s WHERE { ?s ?p 'remembered' }"
    first = tokens(short)
    assert tokens(short) is first  # the second reader gets the same tokens
    long = "SELECT ?s WHERE { ?s ?p 'x' }" + " " * sparql.MAX_QUERY_LENGTH
    size = sparql._remembered_tokens.cache_info().currsize
    toks = tokens(long)
    assert "".join(t for _, t, _ in toks) == long
    assert tokens(long) is not toks  # tokenized again: never held
    assert sparql._remembered_tokens.cache_info().currsize == size


@pytest.mark.parametrize("term,expected", [
    (Iri(JPN), f"<{JPN}>"),
    (Lit("plain"), '"plain"'),
    (Lit('say "hi"\\ \n\r\t'), r'"say \"hi\"\\ \n\r\t"'),
    (Lit("\x00\x7f"), r'"\u0000\u007F"'),
    (Lit("2019", datatype="http://www.w3.org/2001/XMLSchema#integer"),
     '"2019"^^<http://www.w3.org/2001/XMLSchema#integer>'),
    (Lit("Japan", lang="en-GB"), '"Japan"@en-GB'),
])
def test_term_to_sparql(term, expected):
    assert term_to_sparql(term) == expected


@pytest.mark.parametrize("term", [
    Iri("relative/iri"), Iri(""), Iri("http://x/a> } DROP ALL #"), Iri("http://x/ a"),
    Iri('http://x/"'), Lit("x", lang="en } DROP"), Lit("x", datatype="not an iri"),
    Lit("\ud800"),
])
def test_term_to_sparql_refuses(term):
    with pytest.raises(UsageError):
        term_to_sparql(term)


def test_bind_values_after_where():
    q = "SELECT ?x WHERE { ?x ?p ?state }"
    assert bind_values(q, {"state": Iri(JPN)}) == (
        f"SELECT ?x WHERE {{ VALUES ?state {{ <{JPN}> }} ?x ?p ?state }}")


def test_bind_values_without_where_and_ask():
    assert bind_values("ASK { ?s ?p ?o }", {"o": Lit("a")}) == 'ASK { VALUES ?o { "a" } ?s ?p ?o }'
    assert bind_values("SELECT * { ?s ?p ?o }", {"o": Lit("a")}).startswith(
        'SELECT * { VALUES ?o { "a" }')


def test_bind_values_construct_binds_in_where_not_template():
    q = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    out = bind_values(q, {"o": Lit("a")})
    assert out == 'CONSTRUCT { ?s ?p ?o } WHERE { VALUES ?o { "a" } ?s ?p ?o }'


def test_bind_values_ignores_braces_in_strings_and_comments():
    q = '# WHERE { here\nSELECT ?x WHERE { BIND("WHERE {" AS ?x) ?x ?p ?y }'
    out = bind_values(q, {"y": Lit("1")})
    assert out.endswith('WHERE { VALUES ?y { "1" } BIND("WHERE {" AS ?x) ?x ?p ?y }')


def test_bind_values_sorted_and_empty():
    assert bind_values("SELECT * WHERE { }", {}) == "SELECT * WHERE { }"
    out = bind_values("SELECT * WHERE { ?a ?p ?b }", {"b": Lit("2"), "a": Lit("1")})
    assert out.index("?a") < out.index("?b")


def test_bind_values_without_group_is_usage_error():
    with pytest.raises(UsageError):
        bind_values("SELECT ?x", {"x": Lit("1")})


@pytest.mark.parametrize("text,form", [
    ("PREFIX a: <http://a/>\nSELECT * { }", "SELECT"),
    ("# SELECT\nconstruct where { ?s ?p ?o }", "CONSTRUCT"),
    ("ASK {}", "ASK"),
    ("DESCRIBE <http://x>", "DESCRIBE"),
    ("INSERT DATA { <a:b> <a:c> <a:d> }", "UPDATE"),
    ("DROP ALL", "UPDATE"),
    ("PREFIX drop: <http://d/>\nSELECT * { ?s drop:x ?o }", "SELECT"),
])
def test_query_form(text, form):
    assert query_form(text) == form


def test_query_form_not_a_query():
    with pytest.raises(UsageError):
        query_form("# nothing")


@pytest.mark.parametrize("text", [
    "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }",
    "LOAD <http://x/data.ttl>",
    "SELECT * FROM </etc/passwd> { ?s ?p ?o }",
    "SELECT * FROM <./data.ttl> { ?s ?p ?o }",
    "DELETE { ?s ?p ?o } USING <file:///x> WHERE { ?s ?p ?o }",
    r"SELECT * FROM NAMED <\u0066\u0069\u006C\u0065:///etc/passwd> { ?s ?p ?o }",
])
def test_check_query_safe_refuses(text):
    with pytest.raises(QueryRefused) as err:
        check_query_safe(text)
    assert "--allow-network" in str(err.value)
    check_query_safe(text, allow_network=True)


@pytest.mark.parametrize("text", [
    "SELECT * FROM <https://w3id.org/secpart/graph/curated> { ?s ?p ?o }",
    # a FROM NAMED was refused as "FROM <default>" (rdflib's CompValue.get of a missing
    # key), a prefixed name as "FROM <pname_pname_{...}>", whatever they named
    "SELECT * FROM NAMED <https://w3id.org/secpart/graph/curated> { ?s ?p ?o }",
    "PREFIX g: <https://w3id.org/secpart/graph/> SELECT * FROM g:curated { ?s ?p ?o }",
    "PREFIX : <https://w3id.org/secpart/graph/> SELECT * FROM NAMED :mme { ?s ?p ?o }",
])
def test_check_query_safe_allows_http_from(text):
    check_query_safe(text)


@pytest.mark.parametrize("text, shown", [
    ("PREFIX f: <file:///etc/> SELECT * FROM f:passwd { ?s ?p ?o }", "FROM f:passwd"),
    ("PREFIX : <file:///etc/> SELECT * FROM NAMED :passwd { ?s ?p ?o }", "FROM :passwd"),
    # a prefix declared twice: judged by each of its IRIs
    ("PREFIX f: <https://x/> PREFIX f: <file:///etc/> SELECT * FROM f:passwd { ?s ?p ?o }",
     "FROM f:passwd"),
])
def test_check_query_safe_refuses_a_prefixed_file_name_as_written(text, shown):
    with pytest.raises(QueryRefused) as err:
        check_query_safe(text)
    assert str(err.value).startswith(f"query refused: {shown} names a local file")


def test_bind_values_skips_subquery_where():
    """The VALUES block goes in the outer group, not in a sub-select's WHERE."""
    q = "SELECT * { { SELECT ?x ?o WHERE { ?x ?p ?o } } }"
    assert bind_values(q, {"o": Lit("a")}) == (
        'SELECT * { VALUES ?o { "a" } { SELECT ?x ?o WHERE { ?x ?p ?o } } }')
    q2 = "SELECT ?x WHERE { { SELECT ?x WHERE { ?x ?p ?o } } ?x ?q ?state }"
    assert bind_values(q2, {"state": Iri(JPN)}).startswith(
        f"SELECT ?x WHERE {{ VALUES ?state {{ <{JPN}> }} {{ SELECT")


@pytest.mark.parametrize("query,shown", [
    # used only inside a sub-select that does not project it: the outer VALUES would not
    # reach it, and every state gave the same count
    ("SELECT (COUNT(?ex) AS ?n) WHERE { { SELECT DISTINCT ?ex WHERE { ?ex ?p ?state } } }",
     "occurs only inside a sub-select"),
    ("SELECT ?n { { SELECT (COUNT(?state) AS ?n) { ?ex ?p ?state } } }",
     "occurs only inside a sub-select"),
    ("SELECT ?x WHERE { ?x ?p ?o }", "does not occur in the query"),
])
def test_bind_values_refuses_a_parameter_out_of_scope(query, shown):
    with pytest.raises(UsageError) as err:
        bind_values(query, {"state": Iri(JPN)})
    assert str(err.value).startswith("parameter state: ?state ")
    assert shown in str(err.value)


@pytest.mark.parametrize("query", [
    "SELECT ?n { { SELECT ?state (COUNT(?ex) AS ?n) { ?ex ?p ?state } GROUP BY ?state } }",
    "SELECT ?n { { SELECT * { ?ex ?p ?state } } }",
    "SELECT ?n { { SELECT (?s AS ?state) { ?ex ?p ?s } } }",
    "SELECT ?x { ?x ?p ?s FILTER(?s = ?state) }",
    "SELECT ?x { ?x ?p ?s FILTER EXISTS { ?s ?q ?state } }",
])
def test_bind_values_takes_a_parameter_in_scope(query):
    assert "VALUES ?state" in bind_values(query, {"state": Iri(JPN)})


def test_a_parameter_inside_a_sub_select_is_refused_not_ignored(cli_runner, tmp_path):
    """Through kg query run on the built store: the sub-select's count used to be the
    same whatever the state (803 for JPN, USA and GBR alike)."""
    head = "#+ summary: s\n#+ param: state = JPN (ISO3 code)\nPREFIX sp: <https://w3id.org/secpart/ontology#>\n"
    top = tmp_path / "top.rq"
    top.write_text(head + "SELECT (COUNT(DISTINCT ?ex) AS ?n) WHERE { ?ex a sp:Exercise ; sp:participant ?state }")
    counts = {s: cli_runner("query", "run", top, "--param", f"state={s}", "--format", "csv")
              for s in ("JPN", "GBR")}
    assert all(r.exit_code == 0 for r in counts.values())
    assert counts["JPN"].stdout != counts["GBR"].stdout
    inner = tmp_path / "inner.rq"
    inner.write_text(head + "SELECT (COUNT(?ex) AS ?n) WHERE { { SELECT DISTINCT ?ex WHERE "
                     "{ ?ex a sp:Exercise ; sp:participant ?state } } }")
    res = cli_runner("query", "run", inner, "--param", "state=JPN")
    assert res.exit_code == 2
    assert "parameter state: ?state occurs only inside a sub-select" in res.stderr


#: queries that made the engine send a request while the guard passed them (a security
#: review): an escape read differently by rdflib (decoded everywhere) and the engine
#: (inside strings only), a keyword glued to a prefixed name, an "IRI" that the engine
#: reads as a comparison, a bracket and a comment
GUARD_BYPASSES = [
    ('PREFIX : <http://127.0.0.1:9/> SELECT ?s WHERE { FILTER(!BOUND(?z) || ?z != "\\u005C") '
     'SERVICE:y{?s ?p ?o} FILTER(!BOUND(?z) || ?z != "|| ?z !=\\u0022") }', "escape \\u005C"),
    ("PREFIX : <http://127.0.0.1:9/> SELECT ?s WHERE { SERVICE:y{?s ?p ?o} }", "SERVICE"),
    ("PREFIX : <http://127.0.0.1:9/> SELECT ?s WHERE { service:y {?s ?p ?o} }", "SERVICE"),
    ("SELECT * WHERE { ?s ?p ?a FILTER(!BOUND(?a)||?a<1)SERVICE#>\n?svc{?s ?p ?o} }", "SERVICE"),
    ('SELECT * WHERE { ?s ?p "\\u0027" }', "escape \\u0027"),
]


@pytest.mark.parametrize("text,shown", GUARD_BYPASSES)
def test_guard_refuses_what_the_engine_would_read_as_service(text, shown):
    with pytest.raises(QueryRefused) as err:
        check_query_safe(text)
    assert shown in str(err.value)


@pytest.mark.parametrize("text", [
    'SELECT * WHERE { ?s ?p "caf\\u00e9" }',
    "SELECT * WHERE { ?s <http://dbpedia.org/resource/Foo_(bar)> ?o }",
    'SELECT * WHERE { ?s ?p ?o FILTER(CONTAINS(?o, "service")) }',
    "PREFIX serviceA: <http://a/> SELECT * WHERE { ?s serviceA:x ?o }",
    # taken again after a review: an escaped symbol that is not a quote, a comment, an IRI
    # with ')' and 'service' before it, a prefix named service or load
    'SELECT * { BIND("50\\u0025" AS ?x) }',
    "SELECT * { ?s ?p ?o } # \\u0028",
    "SELECT * { ?s <http://example.org/service/x(1)> ?o }",
    "PREFIX service: <http://x/> SELECT * { ?s service:x ?o }",
    "PREFIX load: <http://x/> SELECT * { ?s load:x ?o }",
])
def test_guard_still_takes_plain_queries(text):
    check_query_safe(text)


def test_the_bypass_sends_no_request_through_kg_query(cli_runner, tmp_path):
    """End to end: a listener on the loopback sees no connection; kg refuses, exit 2."""
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.setblocking(False)
    port = srv.getsockname()[1]
    try:
        q = GUARD_BYPASSES[0][0].replace("127.0.0.1:9", f"127.0.0.1:{port}")
        res = cli_runner("query", "sparql", q)
        assert res.exit_code == 2, res.output
        assert "query refused" in res.stderr
        with pytest.raises(BlockingIOError):
            srv.accept()
    finally:
        srv.close()



@pytest.mark.parametrize("text", [
    "PREFIX a.b: <x:> SELECT * { ?s a.b:c ?o . ?s :x ?y . ?s a.:b ?z }",
    "ASK { " + "a." * 300 + " }", "ASK { " + "a." * 300 + "a:b }", "ASK { " + "a." * 300 + ":x }",
    "sp:State]SERVICE<http:", "SELECT * { ?s rdfs:label 'a:b' ; owl:sameAs <a:b> } # c:d",
    "x.y.z:w.v.:u _:b1.c:d é.é:é",
])
def test_the_linear_tokenizer_reads_as_the_grammar_regex_does(text):
    """The tokenizer skips the prefix branch inside a run of name characters no ':' ends
    (`ASK { a.a.a... }`, 98 KB, took 71 s in kg serve's HTTP thread before any deadline:
    each token re-scanned the run); its tokens are those of the full regex at every step."""
    from kg.sparql import _TOKEN, _tokenize

    full, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        full.append((m.lastgroup or "other", m.group(), pos))
        pos = m.end()
    assert _tokenize(text) == tuple(full)


@pytest.mark.parametrize("query", [
    # also projected, or grouped on, outside the sub-select: still 16,811 for every state
    "SELECT ?state ?n { { SELECT (COUNT(*) AS ?n) { ?e ?p ?state } } }",
    "SELECT (COUNT(*) AS ?n) { { SELECT ?e { ?e ?p ?state } } } GROUP BY ?state",
])
def test_a_parameter_hidden_in_a_sub_select_is_refused_even_when_projected(query):
    with pytest.raises(UsageError) as err:
        bind_values(query, {"state": Iri(JPN)})
    assert "occurs only inside a sub-select" in str(err.value)
