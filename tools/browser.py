"""Debian's Chromium, headless, as the screenshots, tests and benchmarks launch it.

Playwright's own browser download does not work offline, so every caller
launches ``/usr/bin/chromium`` (``make test`` installs it) with the flags below:
without the background-networking flags Chromium keeps dialling Google's hosts,
which this closed network refuses.

Examples
--------
>>> "--headless=new" in CHROMIUM_ARGS
True
>>> TILE_PNG[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import base64
import os

#: The Chromium binary (``ATLAS_CHROMIUM`` overrides it).
CHROMIUM = os.environ.get("ATLAS_CHROMIUM", "/usr/bin/chromium")

#: Launch flags for a root, offline, headless run.
CHROMIUM_ARGS: list[str] = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]

#: Instead of ``--disable-gpu``: WebGL through SwiftShader (software), for MapLibre GL.
WEBGL_ARGS: list[str] = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                         "--ignore-gpu-blocklist"]

#: A 1x1 transparent PNG served in place of every map tile (there is no internet here).
TILE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def launch(playwright, webgl: bool = False, **kwargs):
    """Launch Debian's Chromium through a Playwright instance with the flags above.

    ``webgl=True`` gives pages a (software) WebGL context, which MapLibre GL needs.
    """
    args = CHROMIUM_ARGS
    if webgl:
        args = [a for a in CHROMIUM_ARGS if a != "--disable-gpu"] + WEBGL_ARGS
    return playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True,
                                      **kwargs)
