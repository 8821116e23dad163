"""Claims about Japan's partner network, tested against the graph.

A claim lives in ``queries/claims/<id>.yaml`` (schema and a worked example in
``queries/claims/README.md``): the statement, the works that make it
(``references``), how the graph tests it (a saved query, a network metric over
windows of years, or both, and the registered check that turns the numbers into a
verdict), the direction expected, the minimum data needed, and which side of the
hedging / alliance-extension debate its signature belongs to.

The package, one concern a module:

* :mod:`~kg.claims.definitions`: the schema, loading and validation (errors name the field);
* :mod:`~kg.claims.coverage`: dataset spans and completeness against official counts;
* :mod:`~kg.claims.checks`: the checks, a typed :class:`CheckResult`, the registry;
* :mod:`~kg.claims.readings`: exercise statistics under a specification;
* :mod:`~kg.claims.robustness`: the grid of reasonable alternatives;
* :mod:`~kg.claims.uncertainty`: bootstrap interval and permutation p-value;
* :mod:`~kg.claims.scorecard`: hedging against alliance extension;
* :mod:`~kg.claims.evaluate`: :func:`check_claims` (what the CLI calls) and
  :func:`start_claims` (its first half: the resampling started in worker processes, while
  the report draws the map);
* :mod:`~kg.claims.format`: text, JSON, Markdown and HTML.

>>> [c.id for c in load_claims()][:2]
['partners-grew', 'us-share-fell']
"""

from __future__ import annotations

from kg.claims.checks import CHECKS, INSUFFICIENT, NOT_SUPPORTED, SUPPORTED, VERDICTS
from kg.claims.checks import CheckResult as CheckResult
from kg.claims.checks import register as register
from kg.claims.checks import run_claim_query as run_claim_query
from kg.claims.coverage import data_coverage, window_status
from kg.claims.definitions import Claim, Reference, load_claim, load_claims, select_claims
from kg.claims.evaluate import ClaimNotSupported, check_claim, check_claims, raise_if_not_supported
from kg.claims.evaluate import ClaimsCheck as ClaimsCheck
from kg.claims.evaluate import start_claims as start_claims
from kg.claims.format import format_check, format_claim_list, render_claims_html, render_claims_md

__all__ = [
    "VERDICTS", "SUPPORTED", "NOT_SUPPORTED", "INSUFFICIENT", "CHECKS", "CheckResult", "register",
    "Claim", "Reference", "ClaimNotSupported", "load_claim", "load_claims", "select_claims",
    "data_coverage", "window_status", "check_claim", "check_claims", "format_check",
    "format_claim_list", "raise_if_not_supported", "render_claims_html", "render_claims_md",
    "run_claim_query", "start_claims", "ClaimsCheck",
]
