"""Screenshots of the three map pages for the README: ``python -m tools.screenshots DIR``.

Starts the app with waitress on 127.0.0.1 (the store named by ``ATLAS_STORE`` or
``var/atlas.gpkg``), opens each page in Debian's Chromium with Playwright, waits
until the page says every layer is drawn, and writes ``atlas.png``, ``route.png``,
``watershed.png`` and ``water.png`` (``--only water`` for one of them).  The machine has no internet, so map tiles are answered
with a plain light tile: the screenshots show the atlas's own layers.

Examples
--------
>>> png = solid_png(2, 2, (238, 240, 234))
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import threading
import zlib
from collections.abc import Callable
from urllib.parse import urlparse

from .browser import launch

#: (file name, path, what to wait for on the page, the side-panel part scrolled into view).
SHOTS: tuple[tuple[str, str, str, str], ...] = (
    ("atlas", "/", "", ""),
    ("route", "/route?max_km=250", "stages && window.atlas.corridor", ""),
    ("watershed", "/watershed?basin=xilin", "summary", ""),
    ("water", "/watershed?section=sec_xilinhe_xilinhot",
     "water && window.atlas.water.upstream", "#atlas-wq-title"),
)


def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour (the stand-in map tile)."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _serve(app) -> tuple[str, Callable[[], None]]:
    from waitress.server import create_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return f"http://127.0.0.1:{port}", server.close


def _wait_for(page, expr: str, timeout_ms: int = 15_000) -> None:
    """Poll ``expr`` in the page (the pages' CSP forbids wait_for_function's eval)."""
    waited = 0
    while waited < timeout_ms and not page.evaluate(expr):
        page.wait_for_timeout(100)
        waited += 100


def take(out_dir: str, width: int = 1280, height: int = 800,
         only: tuple[str, ...] = ()) -> list[str]:
    """Write a PNG of each page (of ``only``, when given) into ``out_dir``; return the paths."""
    from playwright.sync_api import sync_playwright

    from webmap import create_app

    os.makedirs(out_dir, exist_ok=True)
    tile = solid_png(256, 256, (236, 239, 231))
    url, stop = _serve(create_app())
    written: list[str] = []
    try:
        with sync_playwright() as pw:
            browser = launch(pw)
            context = browser.new_context(viewport={"width": width, "height": height},
                                          locale="zh-CN", device_scale_factor=1)

            def _route(route):
                if urlparse(route.request.url).hostname == "127.0.0.1":
                    return route.continue_()
                return route.fulfill(status=200, content_type="image/png", body=tile)

            context.route("**/*", _route)
            for name, path, wait, scroll in SHOTS:
                if only and name not in only:
                    continue
                page = context.new_page()
                page.goto(url + path)
                page.wait_for_selector("body[data-atlas-ready]", state="attached",
                                       timeout=30_000)
                if wait:
                    _wait_for(page, f"window.atlas.{wait}")
                if scroll:
                    page.locator(scroll).evaluate("e => e.scrollIntoView({block: 'start'})")
                page.wait_for_timeout(600)  # let the last draws and the chart settle
                target = os.path.join(out_dir, f"{name}.png")
                page.screenshot(path=target)
                written.append(target)
                page.close()
            browser.close()
    finally:
        stop()
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="docs/screenshots")
    parser.add_argument("--only", action="append", default=[],
                        choices=[name for name, *_ in SHOTS], help="just this page (repeatable)")
    args = parser.parse_args(argv)
    for path in take(args.out_dir, only=tuple(args.only)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
