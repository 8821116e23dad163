"""Typed errors raised by the library; the CLI maps them to messages and exit codes.

Exit codes (DESIGN.md): 0 success; 1 the data does not conform (validation) or a
claim is not supported under ``--strict``; 2 bad usage or bad input.
"""

from __future__ import annotations

__all__ = [
    "KgError",
    "InputError",
    "UsageError",
    "ComputationError",
    "ShapeViolation",
    "StoreBusyError",
    "StoreError",
    "RemoteError",
    "QueryRefused",
    "QueryTimeout",
]


class KgError(Exception):
    """Base class of every error the library raises on purpose.

    ``exit_code`` is what the command line exits with; ``str(err)`` is the
    one-line message it prints.
    """

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None):
        self.file = file
        self.where = where
        self.message = message
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message as one line: ``file:where: message``."""
        prefix = ""
        if self.file:
            prefix = f"{self.file}:"
            if self.where:
                prefix += f"{self.where}:"
            prefix += " "
        elif self.where:
            prefix = f"{self.where}: "
        return (prefix + self.message).replace("\n", " ").replace("\r", " ")


class InputError(KgError):
    """Bad input data: a syntax error, a missing field, an unknown code."""


class UsageError(KgError):
    """Bad usage: an unknown query, a malformed parameter, conflicting options."""


class ShapeViolation(KgError):
    """Data that parses but breaks a SHACL shape (exit code 1)."""

    exit_code = 1

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None,
                 violations: list | None = None):
        self.violations = violations or []
        super().__init__(message, file=file, where=where)


class StoreError(KgError):
    """The store cannot be opened or read."""


class StoreBusyError(StoreError):
    """Another process holds the store (a writer, or readers while we want to write)."""


class RemoteError(KgError):
    """A remote SPARQL endpoint failed: down, slow, refused or answered garbage."""


class QueryTimeout(KgError):
    """A query still running when its ``--timeout`` ran out (exit code 2)."""


class ComputationError(KgError):
    """A numerical method that did not reach an answer (e.g. an iteration that does not converge)."""


class QueryRefused(KgError):
    """A query that would reach the network or local files (SERVICE, LOAD, FROM <file:>)."""
