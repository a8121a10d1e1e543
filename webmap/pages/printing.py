"""A map page as a PDF, rendered by headless Chromium: what ``flask atlas print`` runs.

:func:`render_pdf` opens a page of the atlas in print mode (``print=a4-landscape`` in
its query: ``static/atlas/print.js`` lays out the sheet — title, map, scale bar, north
arrow, legend, sources, date, the view's URL), waits until the sheet says it is drawn
(``body[data-atlas-print-ready]``) and prints it to PDF: the same sheet the browser's
print dialog gives.  It drives Chromium through Playwright (``requirements.txt``);
Chromium itself comes from Debian's ``chromium`` package, and without it
:class:`PrintError` says so.  Chinese text needs a CJK font (Debian's
``fonts-wqy-microhei``).

Examples
--------
>>> print_url("http://127.0.0.1:5000/route?max_km=100#map=7/44/116", "A3", "portrait")
'http://127.0.0.1:5000/route?max_km=100&print=a3-portrait#map=7/44/116'
>>> print_url("http://x/?print=a4-landscape&lang=en")
'http://x/?lang=en&print=a4-landscape'
>>> find_chromium("/nonexistent/chromium", candidates=())
Traceback (most recent call last):
...
webmap.pages.printing.PrintError: printing needs headless Chromium, which is not installed: install Debian's 'chromium' package (apt-get install chromium) or set ATLAS_CHROMIUM to a Chromium binary
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Where Chromium is looked for after the configured one (``Settings.chromium``).
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
#: Flags of an offline, headless, root run (as the tests and screenshots launch it).
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
PAPERS = ("a4", "a3")
ORIENTATIONS = ("landscape", "portrait")


class PrintError(RuntimeError):
    """Printing is not possible here (no Chromium) or the page failed to get ready."""


def find_chromium(wanted: str | None = None, candidates: Sequence[str] | None = None) -> str:
    """Path of a Chromium binary: ``wanted`` if it is one, else the first of ``candidates``.

    Raises
    ------
    PrintError
        Naming the Debian package to install when there is none.
    """
    if candidates is None:
        candidates = CHROMIUM_CANDIDATES
    for cand in ((wanted,) if wanted else ()) + tuple(candidates):
        path = cand if os.path.isabs(cand) else shutil.which(cand)
        if path and os.path.exists(path) and os.access(path, os.X_OK):
            return path
    raise PrintError("printing needs headless Chromium, which is not installed: install "
                     "Debian's 'chromium' package (apt-get install chromium) or set "
                     "ATLAS_CHROMIUM to a Chromium binary")


def print_url(url: str, paper: str = "a4", orientation: str = "landscape") -> str:
    """``url`` with ``print=<paper>-<orientation>`` in its query (fragment kept)."""
    paper, orientation = paper.lower(), orientation.lower()
    if paper not in PAPERS or orientation not in ORIENTATIONS:
        raise ValueError(f"paper must be one of {PAPERS} and orientation one of {ORIENTATIONS}")
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "print"]
    query.append(("print", f"{paper}-{orientation}"))
    return urlunsplit(parts._replace(query=urlencode(query, safe=",")))


def render_pdf(url: str, out_path: str | None = None, *, paper: str = "a4",
               orientation: str = "landscape", chromium: str | None = None,
               timeout_s: float = 60.0, same_origin_only: bool = False) -> bytes:
    """Print the atlas page at ``url`` to PDF and return the bytes (also written to ``out_path``).

    Parameters
    ----------
    url : str
        A map page (``/``, ``/route?max_km=100#map=…``): the view it opens is printed.
    paper, orientation : str
        ``a4``/``a3`` and ``landscape``/``portrait``.
    chromium : str, optional
        The Chromium binary (``Settings.chromium``); else the usual places.
    timeout_s : float
        Longest wait for the page to lay out and draw.
    same_origin_only : bool
        Refuse every request to another host (map tiles): for machines without
        internet, where tile requests would only time out.

    Raises
    ------
    PrintError
        Without Chromium (naming the package), or when the page does not become ready.
    """
    binary = find_chromium(chromium)
    target = print_url(url, paper, orientation)
    # Playwright's sync API refuses to start in a thread that already runs an event loop
    # (a test session driving a browser, a notebook): print from a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        data = pool.submit(_render, binary, target, timeout_s, same_origin_only).result()
    if not data.startswith(b"%PDF"):
        raise PrintError(f"Chromium did not produce a PDF for {url}")
    if out_path:
        with open(out_path, "wb") as fh:
            fh.write(data)
    return data


def _render(chromium: str, url: str, timeout_s: float, same_origin_only: bool) -> bytes:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    origin = urlsplit(url).netloc
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                         headless=True)
        except PlaywrightError as exc:
            raise PrintError(f"Chromium ({chromium}) did not start: {exc}") from exc
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            if same_origin_only:
                page.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).netloc
                           in (origin, "") else r.abort())
            answer = page.goto(url, timeout=timeout_s * 1000)
            if answer is not None and answer.status >= 400:
                raise PrintError(f"{url} answered HTTP {answer.status}: not a page to print")
            page.wait_for_selector("body[data-atlas-print-ready]", state="attached",
                                   timeout=timeout_s * 1000)
            # The sheet's own @page rule sets the paper size and orientation.
            return page.pdf(prefer_css_page_size=True, print_background=True)
        except PlaywrightError as exc:
            raise PrintError(f"the page did not get ready to print: {exc}") from exc
        finally:
            browser.close()
