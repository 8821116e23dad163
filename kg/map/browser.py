"""Headless Chromium for maps: PNG screenshots and PNG/SVG exports of a view.

Debian's ``/usr/bin/chromium`` (no browser download). :func:`screenshot` runs it
alone, with its own ``--screenshot`` (no driver process: about half the
processor time of the Playwright path, and Playwright is not needed);
:func:`export_view` drives it through Playwright's Python package, which can
call the page's own PNG and SVG export. Neither reaches the network: Playwright
aborts every request that does not stay on ``file:`` or ``data:``, and the
screenshot's Chromium resolves no host name and sends everything else to a
proxy at a closed local port.
"""

from __future__ import annotations

import atexit
import base64
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from kg.errors import KgError, UsageError

__all__ = ["BrowserUnavailable", "CHROMIUM", "CHROMIUM_ARGS", "find_chromium", "screenshot",
           "export_view"]

#: Where Debian's chromium lives (``.ci/run`` installs it); ``KG_CHROMIUM`` overrides.
CHROMIUM = "/usr/bin/chromium"
#: Flags for a quiet, offline headless Chromium.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


class BrowserUnavailable(KgError):
    """No headless Chromium to take a screenshot with (install Debian's ``chromium``)."""


def find_chromium() -> str | None:
    """Path of the Chromium binary (``$KG_CHROMIUM``, ``/usr/bin/chromium``, or on PATH)."""
    env = os.environ.get("KG_CHROMIUM")
    for cand in (env, CHROMIUM, shutil.which("chromium"), shutil.which("chromium-browser")):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def _in_browser(html_path: Path, fragment: str, width: int, height: int, timeout: float,
                action) -> None:
    """Open ``html_path#fragment`` in headless Chromium and call ``action(page)``."""
    exe = find_chromium()
    if exe is None:
        raise BrowserUnavailable("no Chromium found for the screenshot "
                                 f"(install Debian's chromium at {CHROMIUM} or set KG_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a test dependency
        raise BrowserUnavailable("the PNG/SVG export needs the playwright package "
                                 "(pip install playwright; no browser download needed)") from exc
    if not html_path.is_file():
        raise UsageError(f"no such map: {html_path}")

    def run() -> None:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": int(width), "height": int(height)})
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith(("file:", "data:"))
                           else route.abort())
                url = html_path.as_uri() + (f"#{fragment}" if fragment else "")
                page.goto(url, timeout=timeout * 1000)
                try:
                    page.wait_for_function("window.kgMap && window.kgMap.ready === true",
                                           timeout=timeout * 1000)
                except Exception:  # a page that is not a kg map: take it as it is
                    pass
                action(page)
            finally:
                browser.close()

    # Playwright's sync API refuses to run inside an asyncio loop or a second sync
    # session in the same thread; a worker thread of its own works from anywhere.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


#: Flags that keep the screenshot's Chromium off the network: no host name resolves, and
#: every other request (an IP address, loopback included) goes to a proxy at a port
#: nothing serves (9, discard).
OFFLINE_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                "--proxy-bypass-list=<-loopback>"]
#: Virtual time the page is given to settle before the screenshot (a kg map is drawn
#: when its script has run; vis-network's first frames and the refit after the window
#: reaches its size follow within a few virtual frames).
SETTLE_MS = 3000


def screenshot(html_path: str | os.PathLike, png_path: str | os.PathLike, width: int = 1600,
               height: int = 1000, *, timeout: float = 30.0, fragment: str = "") -> Path:
    """Save a PNG of the whole page of an HTML map (header, map and legend).

    Chromium's own headless ``--screenshot``, with :data:`OFFLINE_ARGS` and a fresh
    profile; the PNG is written beside ``png_path`` and renamed into place, so a
    failed run leaves no partial file.

    :param fragment: a view such as ``year=2019&window=5&focus=JPN``.
    :param timeout: seconds before Chromium is stopped and the screenshot given up.
    :raises BrowserUnavailable: when Chromium is missing or fails.
    :returns: the PNG path.

    >>> screenshot("map.html", "map.png")  # doctest: +SKIP
    """
    html_path, png_path = Path(html_path).resolve(), Path(png_path)
    exe = find_chromium()
    if exe is None:
        raise BrowserUnavailable("no Chromium found for the screenshot "
                                 f"(install Debian's chromium at {CHROMIUM} or set KG_CHROMIUM)")
    if not html_path.is_file():
        raise UsageError(f"no such map: {html_path}")
    png_path.parent.mkdir(parents=True, exist_ok=True)
    url = html_path.as_uri() + (f"#{fragment}" if fragment else "")
    with tempfile.TemporaryDirectory(prefix="kg-chromium-") as profile:
        # Chromium picks the format by the suffix: .png last
        part = png_path.with_name(f".{png_path.stem}.{os.getpid()}.{threading.get_ident()}"
                                  ".part.png")
        args = [exe, *CHROMIUM_ARGS, *OFFLINE_ARGS, f"--user-data-dir={profile}",
                "--hide-scrollbars", f"--window-size={int(width)},{int(height)}",
                f"--virtual-time-budget={SETTLE_MS}", f"--screenshot={part}", url]
        # a session of its own: on a timeout the whole group (the browser, its renderer
        # and helpers) is stopped, not only the first process; and as it does not share
        # the terminal's Ctrl-C, a kg that leaves meanwhile stops it (_stop_live, at exit)
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        _LIVE[proc.pid] = part
        try:
            _, err = proc.communicate(timeout=timeout)
            if proc.returncode != 0 or not part.is_file() or part.stat().st_size == 0:
                lines = err.decode("utf-8", "replace").strip().splitlines()
                raise BrowserUnavailable(f"Chromium took no screenshot of {html_path.name} "
                                         f"(exit {proc.returncode}"
                                         f"{': ' + lines[-1][:200] if lines else ''})")
            os.replace(part, png_path)
        except subprocess.TimeoutExpired:
            raise BrowserUnavailable(f"Chromium took more than {timeout:g} s for the "
                                     f"screenshot of {html_path.name}") from None
        finally:
            _stop_group(proc)
            _LIVE.pop(proc.pid, None)
            part.unlink(missing_ok=True)
    return png_path


#: The screenshots' Chromium groups still running (pid -> their partial PNG).
_LIVE: dict[int, Path] = {}


def _stop_live() -> None:
    """At exit (Ctrl-C included): stop the screenshots still running, remove their parts."""
    for pid, part in list(_LIVE.items()):
        _kill_group(pid)
        part.unlink(missing_ok=True)
    _LIVE.clear()


atexit.register(_stop_live)


def _stop_group(proc: subprocess.Popen) -> None:
    """Kill what is left of ``proc``'s process group (nothing, after a normal exit) and reap it."""
    _kill_group(proc.pid)
    proc.wait()


def _kill_group(pgid: int) -> None:
    """SIGKILL to the process group ``pgid``, if it is still there."""
    import signal

    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def export_view(html_path: str | os.PathLike, *, png: str | os.PathLike | None = None,
                svg: str | os.PathLike | None = None, fragment: str = "", width: int = 1600,
                height: int = 1000, timeout: float = 30.0) -> list[Path]:
    """Save the map view itself (no header or legend) as PNG and/or SVG, as the page's
    own PNG and SVG buttons do.

    :param fragment: the view (``year=2019&window=5&focus=JPN``); default as the page opens.
    :returns: the files written.

    >>> export_view("map.html", svg="map.svg", fragment="year=2019")  # doctest: +SKIP
    """
    written: list[Path] = []

    def action(page) -> None:
        if page.evaluate("!(window.kgMap && window.kgMap.ready)"):
            raise KgError(f"{html_path} is not a kg map (no window.kgMap)")
        if png is not None:
            url = page.evaluate("window.kgMap.toPNG()")
            Path(png).write_bytes(base64.b64decode(url.split(",", 1)[1]))
            written.append(Path(png))
        if svg is not None:
            Path(svg).write_text(page.evaluate("window.kgMap.toSVG()"), encoding="utf-8")
            written.append(Path(svg))

    from kg.map.page import check_out

    for p, option in ((png, "--png"), (svg, "--svg")):
        if p is not None:
            check_out(p, option)
    _in_browser(Path(html_path).resolve(), fragment, width, height, timeout, action)
    return written
