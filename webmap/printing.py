"""A map page as a PDF, rendered by headless Chromium: what ``flask atlas print`` runs.

:func:`render_pdf` opens a page of the atlas in print mode (``print=a4-landscape`` in
its query: ``static/atlas/print.js`` lays out the sheet — title, map, scale bar, north
arrow, legend, sources, date, the view's URL) and prints it to PDF, the same sheet the
browser's print dialog gives.  It drives Chromium through Playwright when that is
installed (it waits until the sheet says it is drawn), else runs the ``chromium``
binary with ``--print-to-pdf`` (with a time budget instead).  Chromium comes from
Debian's ``chromium`` package; without it :class:`PrintError` says so.  Chinese text
needs a CJK font (Debian's ``fonts-wqy-microhei``).

:func:`pdf_to_png` renders a PDF page to PNG (``pypdfium2`` from PyPI, else poppler's
``pdftoppm`` from Debian's ``poppler-utils``) to look at or test the result.

Examples
--------
>>> print_url("http://127.0.0.1:5000/route?max_km=100#map=7/44/116", "A3", "portrait")
'http://127.0.0.1:5000/route?max_km=100&print=a3-portrait#map=7/44/116'
>>> print_url("http://x/?print=a4-landscape&lang=en")
'http://x/?lang=en&print=a4-landscape'
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

#: Where Chromium is looked for (``ATLAS_CHROMIUM`` first).
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
    """Printing is not possible here (no Chromium, no renderer) or the page failed."""


def find_chromium() -> str:
    """Path of a Chromium binary.

    Raises
    ------
    PrintError
        Naming the Debian package to install when there is none.
    """
    wanted = os.environ.get("ATLAS_CHROMIUM")
    for cand in ((wanted,) if wanted else ()) + CHROMIUM_CANDIDATES:
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
               orientation: str = "landscape", timeout_s: float = 60.0,
               same_origin_only: bool = False) -> bytes:
    """Print the atlas page at ``url`` to PDF and return the bytes (also written to ``out_path``).

    Parameters
    ----------
    url : str
        A map page (``/``, ``/route?max_km=100#map=…``): the view it opens is printed.
    paper, orientation : str
        ``a4``/``a3`` and ``landscape``/``portrait``.
    timeout_s : float
        Longest wait for the page to lay out and draw.
    same_origin_only : bool
        Refuse every request to another host (map tiles): for machines without
        internet, where tile requests would only time out.  Playwright only.

    Raises
    ------
    PrintError
        Without Chromium (naming the package), or when the page does not become ready.
    """
    chromium = find_chromium()
    target = print_url(url, paper, orientation)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        data = _render_cli(chromium, target, timeout_s)
    else:
        data = _in_own_thread(_render_playwright, chromium, target, timeout_s, same_origin_only)
    if not data.startswith(b"%PDF"):
        raise PrintError(f"Chromium did not produce a PDF for {url}")
    if out_path:
        with open(out_path, "wb") as fh:
            fh.write(data)
    return data


def _in_own_thread(fn, *args):
    """Run ``fn`` in a thread of its own: Playwright's sync API refuses to start in a thread
    that already drives a browser (a test session, a notebook's event loop)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


def _render_playwright(chromium: str, url: str, timeout_s: float, same_origin_only: bool
                       ) -> bytes:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    origin = urlsplit(url).netloc
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            if same_origin_only:
                page.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).netloc
                           in (origin, "") else r.abort())
            page.goto(url, timeout=timeout_s * 1000)
            page.wait_for_selector("body[data-atlas-print-ready]", state="attached",
                                   timeout=timeout_s * 1000)
            # The sheet's own @page rule sets the paper size and orientation.
            return page.pdf(prefer_css_page_size=True, print_background=True)
        except PlaywrightError as exc:
            raise PrintError(f"the page did not get ready to print: {exc}") from exc
        finally:
            browser.close()


def _render_cli(chromium: str, url: str, timeout_s: float) -> bytes:
    with tempfile.TemporaryDirectory(prefix="atlas-print-") as tmp:
        out = os.path.join(tmp, "page.pdf")
        cmd = [chromium, *CHROMIUM_ARGS, "--no-pdf-header-footer",
               f"--virtual-time-budget={int(min(timeout_s, 30) * 1000)}",
               f"--print-to-pdf={out}", url]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=timeout_s + 30)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise PrintError(f"Chromium failed to print {url}: {exc}") from exc
        with open(out, "rb") as fh:
            return fh.read()


def pdf_to_png(pdf: bytes, page: int = 0, dpi: int = 100) -> bytes:
    """Page ``page`` of ``pdf`` as PNG bytes.

    Raises
    ------
    PrintError
        When neither ``pypdfium2`` (PyPI) nor ``pdftoppm`` (Debian ``poppler-utils``) is there.
    """
    try:
        import pypdfium2 as pdfium
    except ImportError:
        pdfium = None
    if pdfium is not None:
        doc = pdfium.PdfDocument(pdf)
        try:
            bitmap = doc[page].render(scale=dpi / 72, rev_byteorder=True)
            pixels = bitmap.to_numpy()  # rows × columns × (RGB or RGBA), no PIL needed
        finally:
            doc.close()
        return png_bytes(pixels)
    tool = shutil.which("pdftoppm")
    if not tool:
        raise PrintError("rendering a PDF to PNG needs the PyPI package 'pypdfium2' or "
                         "poppler's pdftoppm (Debian package 'poppler-utils')")
    with tempfile.TemporaryDirectory(prefix="atlas-png-") as tmp:
        src = os.path.join(tmp, "in.pdf")
        with open(src, "wb") as fh:
            fh.write(pdf)
        stem = os.path.join(tmp, "out")
        subprocess.run([tool, "-png", "-r", str(dpi), "-f", str(page + 1), "-l", str(page + 1),
                        "-singlefile", src, stem], check=True, capture_output=True)
        with open(stem + ".png", "rb") as fh:
            return fh.read()


def png_bytes(pixels) -> bytes:
    """A PNG of an RGB or RGBA ``uint8`` array (rows × columns × channels), with zlib only.

    Examples
    --------
    >>> import numpy as np
    >>> png_bytes(np.zeros((2, 3, 3), dtype=np.uint8))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    import struct
    import zlib

    import numpy as np

    arr = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width, channels = arr.shape
    color = {3: 2, 4: 6}[channels]
    raw = np.hstack([np.zeros((height, 1), dtype=np.uint8), arr.reshape(height, -1)]).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def pdf_text(pdf: bytes) -> str:
    """The text of every page of ``pdf`` (pypdfium2, else poppler's ``pdftotext``)."""
    try:
        import pypdfium2 as pdfium
    except ImportError:
        tool = shutil.which("pdftotext")
        if not tool:
            raise PrintError("reading a PDF's text needs 'pypdfium2' (PyPI) or pdftotext "
                             "(Debian 'poppler-utils')") from None
        return subprocess.run([tool, "-", "-"], input=pdf, capture_output=True,
                              check=True).stdout.decode("utf-8", "replace")
    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()
