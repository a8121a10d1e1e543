"""Load test on loopback: 16 clients mixing pages, items queries, overlays and uploads.

Starts the atlas with waitress in a subprocess on 127.0.0.1 with its own copy of
the store and a one-off write token, then lets ``--clients`` threads (default 16)
loop for ``--seconds`` (default 60) over a weighted mix of

* map page loads (``/``, ``/route``, ``/watershed``),
* items queries (``/api/layers/<id>/features`` and
  ``/ogcapi/collections/<id>/items`` with random bounding boxes),
* overlay requests (``POST /api/overlay`` with a small GeoJSON of sites),
* uploads (``PUT /api/layers/load-c<k>-<n>`` with a random number of points).

Afterwards it checks what must hold — no 5xx and no dropped connection, and
every acknowledged upload present in the store with exactly the acknowledged
feature count, the store's integrity check clean — and prints p50/p99 latency
per kind and requests per second.  The exit status is 0 when everything held.

Run: ``python -m benchmarks.load_test [--seconds 60] [--clients 16]``.  The
numbers depend on the machine; nothing here asserts a time.

Examples
--------
>>> percentile([1.0, 2.0, 3.0, 4.0], 50)
2.5
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEAGUE_BBOX = (111.15, 41.57, 119.99, 46.78)
PAGES = ("/", "/route", "/watershed")
# Weights of the request kinds in the mix.
MIX = {"page": 15, "items": 50, "overlay": 15, "upload": 20}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` (linear interpolation), NaN when empty."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


class ServerProcess:
    """The atlas served by waitress in a child process on 127.0.0.1 (``python -m webmap.core.serving``,
    the server and connection limits of ``make run``).

    Parameters
    ----------
    store : str
        GeoPackage path the server uses (``ATLAS_STORE``).
    token : str, optional
        ``ATLAS_WRITE_TOKEN`` of the server.
    threads : int
        waitress worker threads.
    log : str, optional
        File that receives the server's output.
    """

    def __init__(self, store: str, token: str | None = None, threads: int = 8,
                 log: str | None = None, extra_env: dict[str, str] | None = None) -> None:
        self.store = store
        self.token = token
        self.threads = threads
        self.log = log
        self.extra_env = extra_env or {}
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> ServerProcess:
        """Start the server and wait until ``/healthz`` answers."""
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ATLAS_")}
        env.update({"ATLAS_STORE": self.store, "PYTHONUNBUFFERED": "1", **self.extra_env})
        if self.token:
            env["ATLAS_WRITE_TOKEN"] = self.token
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "webmap.core.serving", "--host", "127.0.0.1", "--port",
             str(self.port), "--threads", str(self.threads)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}"
                                   + (f"; see {self.log}" if self.log else ""))
            try:
                status, _, _ = request(self.url, "GET", "/healthz", timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout} s")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, exactly like a crash or the OOM killer."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), killing after 10 s."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def request(base: str, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 60,
            conn: http.client.HTTPConnection | None = None) -> tuple[int, dict, bytes]:
    """One HTTP request; returns (status, headers, body)."""
    own = conn is None
    if conn is None:
        host, port = base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, dict(resp.getheaders()), data
    finally:
        if own:
            conn.close()


def points_geojson(n: int, rng: random.Random) -> bytes:
    """``n`` random points inside the League as a GeoJSON FeatureCollection."""
    minx, miny, maxx, maxy = LEAGUE_BBOX
    feats = [{"type": "Feature",
              "properties": {"name": f"点{i}", "seq": i},
              "geometry": {"type": "Point",
                           "coordinates": [round(rng.uniform(minx, maxx), 5),
                                           round(rng.uniform(miny, maxy), 5)]}}
             for i in range(n)]
    return json.dumps({"type": "FeatureCollection", "features": feats},
                      ensure_ascii=False).encode()


def random_bbox(rng: random.Random) -> str:
    minx, miny, maxx, maxy = LEAGUE_BBOX
    w, h = rng.uniform(0.2, 4), rng.uniform(0.2, 3)
    x, y = rng.uniform(minx, maxx - w), rng.uniform(miny, maxy - h)
    return f"{x:.4f},{y:.4f},{x + w:.4f},{y + h:.4f}"


@dataclass
class Results:
    """What the clients saw."""

    samples: dict[str, list[tuple[int, float]]] = field(
        default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    acked: dict[str, int] = field(default_factory=dict)  # upload name → last acknowledged count
    acks: int = 0  # acknowledged uploads in all
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.samples[kind].append((status, seconds))


def client_loop(k: int, base: str, token: str, layers: list[str], deadline: float,
                budget: list[int], results: Results, seed: int) -> None:
    """One client: weighted random requests on a keep-alive connection until the deadline."""
    rng = random.Random(seed * 1000 + k)
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    kinds, weights = list(MIX), list(MIX.values())
    n_upload = 0
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"}
    while time.monotonic() < deadline:
        with results.lock:
            if budget[0] <= 0:
                break
            budget[0] -= 1
        kind = rng.choices(kinds, weights)[0]
        name = None
        count = 0
        if kind == "page":
            method, path, body, headers = "GET", rng.choice(PAGES), None, {}
        elif kind == "items":
            layer = rng.choice(layers)
            bbox = random_bbox(rng)
            if rng.random() < 0.5:
                path = f"/api/layers/{layer}/features?bbox={bbox}&zoom={rng.randint(5, 12)}"
            else:
                path = f"/ogcapi/collections/{layer}/items?bbox={bbox}&limit={rng.randint(1, 100)}"
            method, body, headers = "GET", None, {"Accept-Encoding": "gzip"}
        elif kind == "overlay":
            method, path = "POST", "/api/overlay"
            body, headers = points_geojson(rng.randint(1, 30), rng), \
                {"Content-Type": "application/geo+json"}
        else:
            # Three names per client, replaced in turn: creates and replacements both happen.
            name = f"load-c{k}-{n_upload % 3}"
            n_upload += 1
            count = rng.randint(1, 300)
            method, path, body, headers = "PUT", f"/api/layers/{name}", \
                points_geojson(count, rng), auth
        t0 = time.perf_counter()
        try:
            status, _, data = request(base, method, path, body, headers, conn=conn)
        except (OSError, http.client.HTTPException) as e:
            results.add(kind, 0, time.perf_counter() - t0)
            with results.lock:
                results.errors.append(f"{kind} {method} {path}: {type(e).__name__}: {e}")
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=120)
            continue
        results.add(kind, status, time.perf_counter() - t0)
        if status >= 500:
            with results.lock:
                results.errors.append(f"{kind} {method} {path}: {status} {data[:200]!r}")
        if name and status in (200, 201):
            acked = json.loads(data)["count"]
            with results.lock:
                results.acked[name] = acked
                results.acks += 1
            if acked != count:
                with results.lock:
                    results.errors.append(f"upload {name}: sent {count}, acknowledged {acked}")
    conn.close()


def discover_layers(base: str) -> list[str]:
    """Layer ids to query: from ``GET /api/layers`` if it answers, else the catalog."""
    try:
        status, _, data = request(base, "GET", "/api/layers", timeout=30)
        if status == 200:
            doc = json.loads(data)
            items = doc.get("layers", doc) if isinstance(doc, dict) else doc
            ids = [i.get("id") or i.get("name") for i in items if isinstance(i, dict)]
            ids = [i for i in ids if i]
            if ids:
                return ids
    except (OSError, ValueError, AttributeError):
        pass
    sys.path.insert(0, ROOT)
    from layers.catalog import layer_ids

    return list(layer_ids())


def verify(store_path: str, results: Results) -> list[str]:
    """Problems with acknowledged uploads and the store after the run (empty = all held)."""
    sys.path.insert(0, ROOT)
    from layers.open import open_store
    from layers.store import LayerNotFound

    store = open_store(store_path)
    problems = list(store.check())
    for name, count in sorted(results.acked.items()):
        try:
            info = store.info(name)
        except LayerNotFound:
            problems.append(f"acknowledged upload {name!r} is missing")
            continue
        stored = len(store.get(name))
        if info.count != count or stored != count:
            problems.append(f"upload {name!r}: acknowledged {count} features, "
                            f"registry says {info.count}, table holds {stored}")
    return problems


def run(seconds: float = 60, clients: int = 16, store: str | None = None,
        max_requests: int = 1_000_000, seed: int = 1, log: str | None = None,
        quiet: bool = False) -> dict[str, Any]:
    """Run the load test; returns the summary (see :func:`main` for the printout).

    Parameters
    ----------
    seconds : float
        How long the clients loop.
    clients : int
        Concurrent clients (threads, one keep-alive connection each).
    store : str, optional
        GeoPackage to copy as the server's store (default ``var/atlas.gpkg`` when it
        exists; otherwise the server loads ``data/xilingol`` into a fresh one), or a
        ``postgresql://`` URL of a scratch PostGIS database, used in place.
    max_requests : int
        Upper bound on the number of requests, whatever the duration.
    """
    tmp = tempfile.mkdtemp(prefix="atlas-load-")
    try:
        if store and store.startswith(("postgresql://", "postgres://")):
            store_path = store  # a database the caller gave for this run: used in place
        else:
            store_path = os.path.join(tmp, "atlas.gpkg")
            source = store or os.path.join(ROOT, "var", "atlas.gpkg")
            if os.path.exists(source):
                shutil.copy(source, store_path)
        token = secrets.token_urlsafe(24)
        results = Results()
        with ServerProcess(store_path, token=token, threads=8,
                           log=log or os.path.join(tmp, "server.log")) as server:
            layers = discover_layers(server.url)
            budget = [max_requests]
            deadline = time.monotonic() + seconds
            t0 = time.perf_counter()
            threads = [threading.Thread(target=client_loop, daemon=True,
                                        args=(k, server.url, token, layers, deadline, budget,
                                              results, seed)) for k in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(seconds + 300)
            elapsed = time.perf_counter() - t0
            alive = sum(t.is_alive() for t in threads)
        problems = verify(store_path, results)
        if alive:
            problems.append(f"{alive} clients did not finish")
        summary = summarise(results, elapsed, clients, problems)
        if not quiet:
            print_summary(summary)
        return summary
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def summarise(results: Results, elapsed: float, clients: int, problems: list[str]
              ) -> dict[str, Any]:
    """Counts, status classes, p50/p99 per kind, throughput and what failed."""
    kinds = {}
    total = 0
    for kind, samples in sorted(results.samples.items()):
        lat = [s for _, s in samples]
        statuses: dict[str, int] = defaultdict(int)
        for status, _ in samples:
            statuses[str(status)] += 1
        kinds[kind] = {"requests": len(samples), "statuses": dict(sorted(statuses.items())),
                       "p50_ms": round(percentile(lat, 50) * 1000, 1),
                       "p99_ms": round(percentile(lat, 99) * 1000, 1)}
        total += len(samples)
    all_lat = [s for samples in results.samples.values() for _, s in samples]
    n5xx = sum(1 for samples in results.samples.values() for st, _ in samples if st >= 500)
    dropped = sum(1 for samples in results.samples.values() for st, _ in samples if st == 0)
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": total,
        "requests_per_s": round(total / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(all_lat, 50) * 1000, 1),
        "p99_ms": round(percentile(all_lat, 99) * 1000, 1),
        "status_5xx": n5xx,
        "connection_errors": dropped,
        "uploads_acknowledged": results.acks,
        "upload_layers_verified": len(results.acked),
        "kinds": kinds,
        "errors": results.errors[:20],
        "problems": problems,
        "ok": n5xx == 0 and dropped == 0 and not problems and not results.errors,
    }


def print_summary(s: dict[str, Any]) -> None:
    """The summary as a small table."""
    print(f"load test: {s['clients']} clients, {s['seconds']} s, {s['requests']} requests, "
          f"{s['requests_per_s']} req/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms")
    print(f"{'kind':<8} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for kind, k in s["kinds"].items():
        print(f"{kind:<8} {k['requests']:>8} {k['p50_ms']:>8} {k['p99_ms']:>8}  {k['statuses']}")
    print(f"5xx: {s['status_5xx']}, connection errors: {s['connection_errors']}, "
          f"acknowledged uploads: {s['uploads_acknowledged']}, their "
          f"{s['upload_layers_verified']} layers verified against the store")
    for line in s["errors"] + s["problems"]:
        print("  FAIL:", line)
    print("held: zero 5xx, every acknowledged upload retrievable with its exact count"
          if s["ok"] else "NOT HELD")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; exit status 0 when everything held."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60, help="duration (default 60)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--store", help="GeoPackage to copy for the server (default var/atlas.gpkg)"
                   " or postgresql:// URL of a scratch database")
    p.add_argument("--max-requests", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print the summary as JSON too")
    args = p.parse_args(argv)
    summary = run(args.seconds, args.clients, args.store, args.max_requests, args.seed)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
