"""What every benchmark needs: servers that always die, a load generator, percentiles.

Servers run as child processes in their own process group and are killed
(SIGTERM, then SIGKILL) when the ``Servers`` block ends, on errors and on
Ctrl-C too, so ``make bench`` never leaves a process behind.  Everything listens
on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "benchmarks", ".work")
VENV_PY = sys.executable

_LIVE: set[subprocess.Popen] = set()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and anything it started
    except ProcessLookupError:
        return
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)


def kill_all() -> None:
    """Kill every server still running (also called at exit)."""
    for proc in list(_LIVE):
        _kill(proc)
        _LIVE.discard(proc)


class Servers:
    """Start servers as child processes; all are killed when the block ends.

    Examples
    --------
    >>> with Servers() as servers:  # doctest: +SKIP
    ...     url = servers.start([sys.executable, "-m", "http.server"], port=8000)
    """

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        self.ports: list[int] = []
        self.logs: list[str] = []

    def __enter__(self) -> Servers:
        return self

    def start(self, argv: Sequence[str], port: int, env: dict | None = None,
              ready_path: str = "/", timeout: float = 120.0,
              limit_as_mb: float | None = None) -> str:
        """Run ``argv`` (which must serve 127.0.0.1:``port``) and wait until it answers.

        ``limit_as_mb`` caps the server's address space (``RLIMIT_AS``), a safety
        net for requests that may exhaust memory; see :mod:`benchmarks.memory`.
        """
        log = tempfile.NamedTemporaryFile("w+", prefix="bench-server-", suffix=".log",
                                          delete=False)
        self.logs.append(log.name)
        preexec = None
        if limit_as_mb is not None:
            from .memory import limit_address_space

            preexec = limit_address_space(limit_as_mb)
        proc = subprocess.Popen(list(argv), env={**os.environ, **(env or {})}, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=preexec)
        self.procs.append(proc)
        self.ports.append(port)
        _LIVE.add(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server {argv[0]} exited: {log.read()[-2000:]}")
            try:
                status, _, _ = get(url + ready_path, timeout=30)
                if status < 500:
                    return url
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {' '.join(argv)} did not answer in {timeout:.0f} s")
            time.sleep(0.2)

    def pid(self, url: str) -> int:
        """Process id of the server answering at ``url`` (started by this block)."""
        port = urlsplit(url).port
        for proc, p in zip(self.procs, self.ports, strict=True):
            if p == port:
                return proc.pid
        raise KeyError(url)

    def alive(self, url: str) -> bool:
        """Whether the server at ``url`` is still running."""
        port = urlsplit(url).port
        return any(p == port and proc.poll() is None
                   for proc, p in zip(self.procs, self.ports, strict=True))

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            _kill(proc)
            _LIVE.discard(proc)
        for name in self.logs:
            try:
                os.unlink(name)
            except OSError:
                pass


def get(url: str, headers: dict | None = None, timeout: float = 60) -> tuple[int, dict, bytes]:
    """One GET: (status, headers, body)."""
    parts = urlsplit(url)
    con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        con.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                    headers=headers or {})
        resp = con.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        con.close()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values`` (NaN when empty)."""
    return float(np.percentile(values, q)) if len(values) else float("nan")


# -- load generation ----------------------------------------------------------------------
_WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write("WRKJSON{")
  io.write(string.format('"requests":%d,"duration_us":%d,"bytes":%d,', summary.requests,
    summary.duration, summary.bytes))
  io.write(string.format('"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,',
    e.connect, e.read, e.write, e.status, e.timeout))
  io.write(string.format('"p50":%d,"p90":%d,"p99":%d,"max":%d}\n', latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def load(url: str, seconds: float = 10.0, connections: int = 8,
         headers: dict | None = None) -> dict:
    """Hammer ``url`` with ``connections`` keep-alive connections for ``seconds``.

    Uses wrk when installed (its own C threads measure without Python's GIL),
    else a bounded thread pool of ``http.client`` connections.

    Returns
    -------
    dict
        ``rps``, ``p50_ms``, ``p99_ms``, ``errors`` (failed connections, timeouts
        and non-2xx/3xx answers), ``requests``, ``tool``.
    """
    if shutil.which("wrk"):
        return _load_wrk(url, seconds, connections, headers or {})
    return _load_python(url, seconds, connections, headers or {})


def _load_wrk(url: str, seconds: float, connections: int, headers: dict) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_WRK_LUA)
        script = fh.name
    try:
        argv = ["wrk", "-t", str(min(2, connections)), "-c", str(connections),
                "-d", f"{seconds:.0f}s", "--timeout", "10s", "-s", script]
        for k, v in headers.items():
            argv += ["-H", f"{k}: {v}"]
        out = subprocess.run(argv + [url], capture_output=True, text=True,
                             timeout=seconds + 30, check=True).stdout
    finally:
        os.unlink(script)
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON"))
    r = json.loads(line[len("WRKJSON"):])
    duration = r["duration_us"] / 1e6
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return {"rps": r["requests"] / duration, "p50_ms": r["p50"] / 1000,
            "p99_ms": r["p99"] / 1000, "errors": errors, "requests": r["requests"],
            "tool": f"wrk -c{connections}"}


def _load_python(url: str, seconds: float, connections: int, headers: dict) -> dict:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def worker() -> None:
        con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine: list[float] = []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                con.request("GET", path, headers=headers)
                resp = con.getresponse()
                resp.read()
                ok = resp.status < 400
            except (OSError, http.client.HTTPException):
                ok = False
                con.close()
                con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            if ok:
                mine.append(time.perf_counter() - t0)
            else:
                with lock:
                    errors[0] += 1
        con.close()
        with lock:
            latencies.extend(mine)

    t0 = time.monotonic()
    with ThreadPoolExecutor(connections) as pool:
        for f in [pool.submit(worker) for _ in range(connections)]:
            f.result()
    elapsed = time.monotonic() - t0
    ms = [v * 1000 for v in latencies]
    return {"rps": len(ms) / elapsed, "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99),
            "errors": errors[0], "requests": len(ms) + errors[0],
            "tool": f"python http.client x{connections}"}


def sequential_latency(url: str, n: int = 300, headers: dict | None = None,
                       max_seconds: float = 10.0) -> dict:
    """Latency of ``n`` requests one after another on one keep-alive connection."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    out: list[float] = []
    stop = time.monotonic() + max_seconds
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            con.request("GET", path, headers=headers or {})
            resp = con.getresponse()
            resp.read()
            out.append((time.perf_counter() - t0) * 1000)
            if time.monotonic() > stop:
                break
    finally:
        con.close()
    return {"p50_ms": percentile(out, 50), "p99_ms": percentile(out, 99), "n": len(out)}


def peak_rss_mb_of_children() -> float:
    """Peak resident memory (MB) of the largest finished child process."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
