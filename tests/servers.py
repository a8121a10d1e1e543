"""The atlas as ``make run`` serves it, in a child process, for tests that need a real server.

``served(store, **env)`` starts ``python -m webmap.core.serving`` on a free port of
127.0.0.1 with ``ATLAS_STORE`` and ``env`` (nothing else of the test's own ``ATLAS_…``
environment), waits until ``/healthz`` answers and stops it afterwards (SIGTERM, as an
operator's ``kill`` would).  :func:`request` is one plain HTTP exchange.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 120
            ) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of one request on a fresh connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Accept-Encoding": "identity",
                                                        **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@contextmanager
def served(store: str, **env: str) -> Iterator[int]:
    """``python -m webmap.core.serving`` on a free port with ``env``; yields the port."""
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
    full_env.update({"ATLAS_STORE": store, "PYTHONUNBUFFERED": "1", **env})
    proc = subprocess.Popen(
        [sys.executable, "-m", "webmap.core.serving", "--host", HOST, "--port", str(port)],
        cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"the server exited with {proc.returncode}:\n{out[-3000:]}")
            try:
                if request(port, "GET", "/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not answer /healthz")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        if proc.stdout:
            proc.stdout.close()
