"""kg: a knowledge graph of security partnerships.

A library first (``kg.store``, ``kg.ingest``, ``kg.queries``, ``kg.network``,
``kg.metrics``, ``kg.claims``, ``kg.map``, ``kg.report``); the ``kg`` command
line is a thin layer over it.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
