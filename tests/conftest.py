"""Shared fixtures: a real GeoPackage store, the app, a live server, a real browser.

Nothing is mocked: the store is a GeoPackage file loaded from ``data/xilingol``,
the live server is waitress on 127.0.0.1, and the browser is Debian's Chromium
driven by Playwright.  Only map tiles are stubbed (the machine has no internet).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from layers.open import open_store
from layers.prepare import prepare_store
from tests.pg import (  # noqa: F401  PostgreSQL/PostGIS fixtures, see tests/pg.py
    TEST_BACKEND,
    any_app,
    any_client,
    backend,
    backend_ref_url,
    backend_store_url,
    gpkg_ref_path,
    pg_cluster,
    pg_empty_url,
    pg_ref_template,
    pg_ref_url,
    pg_store_url,
)
from tools.browser import CHROMIUM, TILE_PNG, launch
from webmap import create_app


@pytest.fixture(scope="session")
def ref_store_path(tmp_path_factory, request) -> str:
    """A GeoPackage holding every catalog layer, built once per test session (worker).

    With ``ATLAS_TEST_BACKEND=postgis``: the URL of a PostGIS database holding them.
    """
    if TEST_BACKEND == "postgis":
        return request.getfixturevalue("pg_ref_url")
    path = str(tmp_path_factory.mktemp("store") / "atlas.gpkg")
    prepare_store(open_store(path))
    return path


@pytest.fixture()
def store_path(ref_store_path, tmp_path, request) -> str:
    """A private copy of the reference store for a test that writes (PostGIS: a URL)."""
    if TEST_BACKEND == "postgis":
        return request.getfixturevalue("pg_store_url")
    path = str(tmp_path / "atlas.gpkg")
    shutil.copy(ref_store_path, path)
    return path


@pytest.fixture(scope="session")
def app(ref_store_path):
    """The app on the shared reference store (read-only tests)."""
    return create_app({"ATLAS_STORE": ref_store_path, "TESTING": True})


@pytest.fixture()
def client(app):
    """Flask test client of :func:`app`."""
    return app.test_client()


@pytest.fixture()
def make_app(store_path):
    """Factory for an app with its own store copy and extra config (writes, limits …)."""

    def _make(**config):
        cfg = {"ATLAS_STORE": store_path, "TESTING": True}
        cfg.update(config)
        return create_app(cfg)

    return _make


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def token() -> str:
    """A write token made at run time: no token is ever written into the repository."""
    return secrets.token_urlsafe(24)


@pytest.fixture()
def wapp(make_app, token):
    """An app with writes enabled (``ATLAS_WRITE_TOKEN``), on its own store copy."""
    return make_app(ATLAS_WRITE_TOKEN=token)


class LiveServer:
    """waitress serving a WSGI app on 127.0.0.1 in a background thread."""

    def __init__(self, wsgi_app, threads: int = 4) -> None:
        from waitress.server import create_server

        self.port = free_port()
        self.server = create_server(wsgi_app, host="127.0.0.1", port=self.port,
                                    threads=threads, clear_untrusted_proxy_headers=True)
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.close()


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[LiveServer]:
    """The reference app served over real HTTP on loopback."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def playwright_session():
    """One Playwright driver per test process (the sync API allows only one at a time)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_session):
    """Debian's Chromium, headless, driven by Playwright."""
    b = launch(playwright_session)
    yield b
    b.close()


@pytest.fixture(scope="session")
def gl_browser(playwright_session):
    """The same Chromium with a (software) WebGL context, for MapLibre GL."""
    b = launch(playwright_session, webgl=True)
    yield b
    b.close()


class PageWatch:
    """What a page did: console errors and requests that left localhost (tiles excepted)."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.outside_requests: list[str] = []
        self.tile_requests: list[str] = []


def _is_tile(url: str) -> bool:
    u = urlparse(url)
    path = u.path.lower()
    return (path.endswith((".png", ".jpg", ".jpeg", ".webp")) or "/tile" in path
            or "wmts" in path or "tile" in u.netloc or "tianditu" in u.netloc
            or "amap" in u.netloc or "autonavi" in u.netloc or "arcgisonline" in u.netloc)


@pytest.fixture()
def page(browser, live_server):
    """A fresh page whose tile requests are stubbed and whose outside requests are recorded.

    Yields ``(page, watch)``; tests assert ``watch.console_errors == []`` and
    ``watch.outside_requests == []``.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    pg = context.new_page()
    watch = PageWatch()

    def _route(route):
        url = route.request.url
        host = urlparse(url).hostname or ""
        if host in ("127.0.0.1", "localhost") or url.startswith(("data:", "blob:")):
            return route.continue_()
        if _is_tile(url):
            watch.tile_requests.append(url)
            return route.fulfill(status=200, content_type="image/png", body=TILE_PNG)
        watch.outside_requests.append(url)
        return route.abort()

    context.route("**/*", _route)
    pg.on("console", lambda m: m.type == "error" and watch.console_errors.append(m.text))
    pg.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    yield pg, watch
    context.close()
