"""A 1,000,000-point layer as vector tiles: tile latency over a fixed sample of tiles.

The layer is stored once in benchmarks/.work/tiles/atlas.gpkg (kept between
runs: the points are deterministic) and served by waitress on 127.0.0.1.  The
first tile request builds the layer's tile source (projection, property tables);
that one-off is reported apart.  Then a fixed, seeded sample of tiles at zooms
5–13 over the League is fetched twice on one keep-alive connection with gzip:
the first fetch computes each tile ("cold"), the second comes from the LRU
("cached").
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from geo.vector_tiles import tile_for_lonlat
from layers.open import open_store
from layers.prepare import prepare_store

from .common import WORK, Servers, free_port, get, percentile
from .data import LEAGUE_BBOX, bench_points

N_POINTS = 1_000_000
LAYER = "bench_million"
ZOOMS = (5, 7, 9, 11, 13)
PER_ZOOM = 16


def _store(path: str) -> str:
    store = open_store(path)
    if not (store.exists(LAYER) and store.info(LAYER).count == N_POINTS):
        prepare_store(store)
        store.put(LAYER, bench_points(N_POINTS, seed=1_000_000),
                  meta={"title": "1,000,000 benchmark points"})
    return path


def sample_tiles(seed: int = 5) -> list[tuple[int, int, int]]:
    """A fixed sample of tiles over the League: up to PER_ZOOM per zoom."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = LEAGUE_BBOX
    out = []
    for z in ZOOMS:
        x0, y0 = tile_for_lonlat(minx, maxy, z)
        x1, y1 = tile_for_lonlat(maxx, miny, z)
        every = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        if len(every) > PER_ZOOM:
            every = [every[i] for i in sorted(rng.choice(len(every), PER_ZOOM, replace=False))]
        out += every
    return out


def run(budget_s: float = 120.0) -> dict:
    folder = os.path.join(WORK, "tiles")
    os.makedirs(folder, exist_ok=True)
    t0 = time.monotonic()
    store_path = _store(os.path.join(folder, "atlas.gpkg"))
    res: dict = {"n_points": N_POINTS, "store_s": round(time.monotonic() - t0, 1)}
    tiles = sample_tiles()
    gz = {"Accept-Encoding": "gzip"}
    with Servers() as servers:
        port = free_port()
        t0 = time.monotonic()
        url = servers.start([sys.executable, "-m", "benchmarks.serve", "--store", store_path,
                             "--port", str(port), "--threads", "4", "--warm", LAYER],
                            port, ready_path="/healthz", timeout=max(60.0, budget_s * 0.6))
        res["server_start_s"] = round(time.monotonic() - t0, 1)
        t0 = time.perf_counter()
        status, _, _ = get(f"{url}/tiles/{LAYER}/0/0/0.mvt", gz)
        res["first_tile_s"] = round(time.perf_counter() - t0, 2)  # builds the tile source
        cold, cached, sizes, statuses = [], [], [], {}
        for z, x, y in tiles:
            for bucket in (cold, cached):
                t = time.perf_counter()
                status, headers, body = get(f"{url}/tiles/{LAYER}/{z}/{x}/{y}.mvt", gz)
                bucket.append((time.perf_counter() - t) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
            sizes.append(len(body))
        by_zoom = {}
        for z in ZOOMS:
            idx = [i for i, t in enumerate(tiles) if t[0] == z]
            by_zoom[z] = {"n": len(idx), "cold_p50_ms": percentile([cold[i] for i in idx], 50),
                          "max_kb": max(sizes[i] for i in idx) / 1024}
        res.update({"tiles": len(tiles), "statuses": statuses,
                    "cold_p50_ms": percentile(cold, 50), "cold_p99_ms": percentile(cold, 99),
                    "cached_p50_ms": percentile(cached, 50),
                    "cached_p99_ms": percentile(cached, 99),
                    "mean_kb": float(np.mean(sizes)) / 1024, "max_kb": max(sizes) / 1024,
                    "by_zoom": by_zoom})
    return res


def table_rows(res: dict) -> list[dict]:
    zooms = ", ".join(f"z{z} {v['cold_p50_ms']:.0f} ms" for z, v in res["by_zoom"].items())
    return [{
        "comparison": f"1M-point layer as vector tiles ({res['tiles']} tiles, z5–13)",
        "atlas": f"computed p50 {res['cold_p50_ms']:.0f} ms / p99 {res['cold_p99_ms']:.0f} ms; "
                 f"cached p50 {res['cached_p50_ms']:.1f} ms / p99 {res['cached_p99_ms']:.1f} ms; "
                 f"≤ {res['max_kb']:.0f} KB gzipped",
        "other": f"first tile (builds the layer's tile source) {res['first_tile_s']:.1f} s; "
                 f"p50 by zoom: {zooms}",
        "ratio": "", "target": "browser stays responsive (tiles, not 1M markers)",
        "met": None,
    }]
