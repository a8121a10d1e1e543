"""Deterministic benchmark data: N points spread over Xilingol League, with a few properties.

Examples
--------
>>> gdf = bench_points(5)
>>> len(gdf), list(gdf.columns)
(5, ['name', 'category', 'investment', 'year', 'geometry'])
>>> bool(gdf.geometry.x.between(111, 120).all() and gdf.geometry.y.between(41.5, 46.8).all())
True
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np

from layers.catalog import PROJECT_CATEGORIES

#: The League's bounding box (degrees, WGS 84).
LEAGUE_BBOX = (111.0, 41.5, 120.0, 46.8)


def bench_points(n: int, seed: int = 20230101) -> gpd.GeoDataFrame:
    """``n`` points uniformly spread over :data:`LEAGUE_BBOX` (same seed → same points)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = LEAGUE_BBOX
    lon = np.round(rng.uniform(minx, maxx, n), 6)
    lat = np.round(rng.uniform(miny, maxy, n), 6)
    cats = np.array([c.value for c in PROJECT_CATEGORIES])
    return gpd.GeoDataFrame({
        "name": np.char.add("site-", np.arange(1, n + 1).astype(str)).astype(object),
        "category": cats[rng.integers(0, len(cats), n)].astype(object),
        "investment": np.round(rng.gamma(2.0, 3.0, n), 2),
        "year": rng.integers(2015, 2024, n),
    }, geometry=gpd.points_from_xy(lon, lat), crs=4326)


def write_gpkg(path: str, n: int, layer: str = "bench_points") -> str:
    """Write :func:`bench_points` as a standard GeoPackage (GDAL), unless already there."""
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        if os.path.exists(tmp):
            os.unlink(tmp)
        bench_points(n).to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
        os.replace(tmp, path)
    return path


def count_in_bbox(gdf: gpd.GeoDataFrame, bbox: tuple[float, float, float, float]) -> int:
    """How many points fall in ``bbox``."""
    minx, miny, maxx, maxy = bbox
    x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    return int(((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)).sum())
