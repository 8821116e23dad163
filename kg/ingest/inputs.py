"""Opening input files with bounds: regular files only, size and line limits, read once.

Every reader of user input goes through here, so a FIFO cannot block an
ingest forever (it holds the write lock), ``/dev/zero`` cannot be read until
memory runs out, and a small gzip bomb cannot expand without bound:

- only regular files are read (a FIFO, a device, a socket or ``/proc`` entry
  with no size is refused before it is read);
- a file, or what a gzip file expands to, may hold at most
  :data:`MAX_INPUT_BYTES` bytes (``KG_MAX_INPUT_BYTES``), and a text read line by line
  (:func:`open_text`: the field datasets' CSV files) at most :data:`MAX_INPUT_LINES`
  lines (``KG_MAX_INPUT_LINES``).

>>> import tempfile, os
>>> with tempfile.NamedTemporaryFile("wb", suffix=".ttl", delete=False) as fh:
...     _ = fh.write(b"<urn:a> <urn:b> <urn:c> .\\n")
>>> read_input(fh.name)
b'<urn:a> <urn:b> <urn:c> .\\n'
>>> os.unlink(fh.name)
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import stat
from pathlib import Path

from kg.errors import InputError
from kg.resources import MAX_INPUT_BYTES, MAX_INPUT_LINES, max_bytes, max_lines

__all__ = ["MAX_INPUT_BYTES", "MAX_INPUT_LINES", "check_regular", "read_input", "open_text",
           "max_bytes", "max_lines", "csv_reader", "csv_header", "csv_records", "csv_problem"]



_BAD_BYTE = re.compile("[\udc80-\udcff]")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def check_regular(path: str | os.PathLike) -> None:
    """Refuse anything but an existing regular file (symbolic links are followed)."""
    name = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError("no such file", file=name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a folder; pass the files in it", file=name)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"is {_kind(st.st_mode)}; kg reads only regular files", file=name)
    limit = max_bytes()
    if st.st_size > limit:
        raise InputError(f"{st.st_size:,} bytes is over the input limit of {limit:,} "
                         "(KG_MAX_INPUT_BYTES changes it)", file=name)
    if st.st_size == 0 and name.startswith("/proc/"):
        raise InputError("is a /proc entry with no size; kg reads only regular files", file=name)


def _open_regular(path: str | os.PathLike) -> int:
    """A read-only descriptor on a regular file, opened without blocking on a FIFO."""
    name = str(path)
    check_regular(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    st = os.fstat(fd)  # the file opened, not the name checked a moment ago
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise InputError(f"is {_kind(st.st_mode)}; kg reads only regular files", file=name)
    os.set_blocking(fd, True)
    return fd


def read_input(path: str | os.PathLike) -> bytes:
    """The bytes of a regular input file, read once, at most :func:`max_bytes` of them."""
    name = str(path)
    fd = _open_regular(path)
    limit = max_bytes()
    try:
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    if len(data) > limit:
        raise InputError(f"more than {limit:,} bytes (KG_MAX_INPUT_BYTES changes the limit)",
                         file=name)
    return data


class _Limited(io.RawIOBase):
    """A raw stream that stops with an InputError past ``limit`` bytes."""

    def __init__(self, inner, limit: int, name: str, what: str):
        self.inner, self.limit, self.name, self.what, self.seen = inner, limit, name, what, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        try:
            data = self.inner.read(len(buf))
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise InputError(f"cannot read: {exc}", file=self.name) from None
        self.seen += len(data)
        if self.seen > self.limit:
            raise InputError(f"{self.what} more than {self.limit:,} bytes "
                             "(KG_MAX_INPUT_BYTES changes the limit)", file=self.name)
        buf[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            super().close()


class _LineLimited:
    """A text stream that stops with an InputError past ``limit`` lines."""

    def __init__(self, inner: io.TextIOBase, limit: int, name: str):
        self.inner, self.limit, self.name, self.lines = inner, limit, name, 0

    def _count(self, line: str) -> str:
        if line:
            self.lines += 1
            if self.lines > self.limit:
                raise InputError(f"more than {self.limit:,} lines (KG_MAX_INPUT_LINES changes "
                                 "the limit)", file=self.name, where=str(self.lines))
            bad = _BAD_BYTE.search(line)
            if bad:  # decoded with surrogateescape: the line of the byte is known exactly
                byte = ord(bad.group()) - 0xDC00
                raise InputError(f"not valid UTF-8 (byte 0x{byte:02x}); the file must be UTF-8",
                                 file=self.name, where=str(self.lines))
        return line

    def readline(self, *args) -> str:
        return self._count(self.inner.readline(*args))

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def read(self, *args) -> str:
        text = self.inner.read(*args)
        bad = _BAD_BYTE.search(text)
        if bad:
            line = self.lines + text.count("\n", 0, bad.start()) + 1
            raise InputError(f"not valid UTF-8 (byte 0x{ord(bad.group()) - 0xDC00:02x}); the file "
                             "must be UTF-8", file=self.name, where=str(line))
        self.lines += text.count("\n")
        if self.lines > self.limit:
            raise InputError(f"more than {self.limit:,} lines (KG_MAX_INPUT_LINES changes "
                             "the limit)", file=self.name)
        return text

    def close(self) -> None:
        self.inner.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_text(path: str | os.PathLike, *, gunzip: bool = True, encoding: str = "utf-8-sig"):
    """Open a regular text file (gunzipped when it is gzip-compressed) with byte and line bounds.

    The result reads like a text file opened with ``newline=""`` (for the csv module).
    """
    name = str(Path(path))
    fd = _open_regular(path)
    raw = os.fdopen(fd, "rb")
    try:
        magic = raw.read(2)
        raw.seek(0)
    except OSError as exc:
        raw.close()
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    if gunzip and magic == b"\x1f\x8b":
        inner = _Limited(gzip.GzipFile(fileobj=raw, mode="rb"), max_bytes(), name,
                         "decompresses to")
    else:
        inner = _Limited(raw, max_bytes(), name, "holds")
    text = io.TextIOWrapper(io.BufferedReader(inner), encoding=encoding, newline="",
                            errors="surrogateescape")
    return _LineLimited(text, max_lines(), name)


# ---------------------------------------------------------------- CSV records, checked

_CSV_ERRORS = (csv.Error, UnicodeDecodeError, OSError, EOFError)


def csv_reader(fh):
    """A csv reader over ``fh`` that refuses what it would otherwise guess at.

    ``strict``: a quoted field still open at the end of the file, or text right after a
    closing quote (``"80"x``), is an error instead of a silently mended value.
    """
    return csv.reader(fh, strict=True)


def csv_problem(exc: Exception) -> str:
    """The one-line message for an error of the csv module (an unmatched quote, mostly)."""
    text = str(exc)
    if "unexpected end of data" in text:
        return "a quoted field is never closed (an unmatched quote); the rest of the file ran into it"
    if "expected after" in text:
        return f"text after the closing quote of a field (an unmatched quote?): {text}"
    if "field larger than field limit" in text:
        return (f"a field of more than {csv.field_size_limit():,} characters: an unmatched quote "
                "running into the lines after it?")
    return f"unreadable CSV: {text}"


def csv_header(reader, fname: str) -> list[str]:
    """The header row of :func:`csv_reader` ``reader``, names stripped.

    An empty file, an unreadable header, a header that runs over several lines (an
    unmatched quote) or a column named twice is an :class:`~kg.errors.InputError`.
    """
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty file", file=fname) from None
    except _CSV_ERRORS as e:
        raise InputError(f"not a CSV file: {csv_problem(e)}", file=fname, where="1") from None
    if reader.line_num != 1:
        raise InputError("the header holds a line break (an unmatched quote?)", file=fname,
                         where="1")
    header = [h.strip() for h in header]
    seen: set[str] = set()
    twice = [h for h in header if h and (h in seen or seen.add(h))]
    if twice:
        raise InputError(f"column {twice[0]!r} is named twice in the header", file=fname,
                         where="1")
    return header


def csv_records(reader, fname: str, width: int):
    """``(line, row)`` for each non-blank record of ``reader`` after its header.

    ``line`` is the line the record starts on. Every record must lie on one line and hold
    exactly ``width`` fields (the header's); anything else is an
    :class:`~kg.errors.InputError` naming that line, never a row read with its columns
    shifted. A line break inside a field (in the field datasets, always an unmatched quote
    swallowing the lines after it) and a record with a missing or an extra value are the
    same kind of damage: the file, not one value, is broken, and no row of it is stored.

    >>> rows = csv_reader(["a,b", "1,2", "", "3,4"])
    >>> _ = next(rows); list(csv_records(rows, "x.csv", 2))
    [(2, ['1', '2']), (4, ['3', '4'])]
    """
    prev = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except _CSV_ERRORS as e:
            raise InputError(csv_problem(e), file=fname, where=str(prev + 1)) from None
        line = prev + 1
        prev = reader.line_num
        if prev != line:
            raise InputError(f"a field holds a line break (the record runs from line {line} to "
                             f"{prev}): an unmatched quote?", file=fname, where=str(line))
        if len(row) != width:
            if not any(c.strip() for c in row):
                continue
            more = len(row) > width
            raise InputError(f"row has {len(row)} fields, the header {width} ("
                             + ("more values than columns" if more else "a value is missing")
                             + "; its columns would be misread)", file=fname, where=str(line))
        if any(row):
            yield line, row
