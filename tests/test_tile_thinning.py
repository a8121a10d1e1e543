"""Point thinning on the world-aligned grid: tiles agree across their edges.

The expected points are recomputed here independently of ``geo.vector_tiles``:
Web Mercator positions from pyproj, one point per 8×8-pixel cell of the whole
world grid (the lowest id, by a pandas group-by), then cut to each tile plus its
buffer.
"""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from geo.vector_tiles import (
    BUFFER,
    EXTENT,
    MAX_ZOOM,
    THIN_CELLS_PER_POINT,
    TileSource,
    thin_max_zoom,
    tile_for_lonlat,
)

_R_HALF = 20037508.342789244  # half the Web Mercator world, metres
_MERC = pyproj.Transformer.from_crs(4326, 3857, always_xy=True)


def world(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised Web Mercator (0..1, y down) through pyproj."""
    mx, my = _MERC.transform(lon, lat)
    return (np.asarray(mx) + _R_HALF) / (2 * _R_HALF), (_R_HALF - np.asarray(my)) / (2 * _R_HALF)


def expected_kept(ids, wx, wy, z) -> set[int]:
    """Ids of the points the whole-layer grid keeps at zoom ``z``: lowest id per cell."""
    cells = 32 * 2**z
    frame = pd.DataFrame({"id": ids, "cx": np.floor(wx * cells), "cy": np.floor(wy * cells)})
    return set(frame.groupby(["cx", "cy"])["id"].min())


def in_window(wx, wy, z, x, y) -> np.ndarray:
    """Points within tile z/x/y plus its buffer."""
    n, b = 2**z, BUFFER / EXTENT
    return (wx * n >= x - b) & (wx * n <= x + 1 + b) & (wy * n >= y - b) & (wy * n <= y + 1 + b)


def tile_ids(src: TileSource, z: int, x: int, y: int) -> set[int]:
    body = src.tile(z, x, y)
    if not body:
        return set()
    return {f["id"] for f in mapbox_vector_tile.decode(body)["sites"]["features"]}


@pytest.fixture(scope="module")
def dense():
    """20,000 points in a 2 km band straddling the edge between two z10 tiles, ids shuffled."""
    z = 10
    x, y = tile_for_lonlat(116.09, 43.94, z)
    edge_lon = (x + 1) / 2**z * 360.0 - 180.0  # the tiles' shared (east) edge
    rng = np.random.default_rng(12)
    n = 20_000
    lon = edge_lon + rng.normal(0, 0.004, n)
    lat = 43.94 + rng.uniform(-0.01, 0.01, n)
    ids = rng.permutation(n) + 1  # ids unrelated to position order
    src = TileSource("sites", shapely.points(lon, lat),
                     pd.DataFrame({"name": [f"s{i}" for i in ids]}), ids=ids)
    wx, wy = world(lon, lat)
    return {"z": z, "x": x, "y": y, "ids": ids, "wx": wx, "wy": wy, "src": src,
            "lon": lon, "lat": lat}


def test_adjacent_tiles_keep_what_the_whole_layer_grid_keeps(dense):
    z, x, y = dense["z"], dense["x"], dense["y"]
    ids, wx, wy, src = dense["ids"], dense["wx"], dense["wy"], dense["src"]
    assert src.thin_max_zoom >= z  # the layer is thinned at this zoom
    kept = expected_kept(ids, wx, wy, z)
    assert len(kept) < len(ids) * 0.8  # the test exercises thinning
    west, east = tile_ids(src, z, x, y), tile_ids(src, z, x + 1, y)
    for tx, got in ((x, west), (x + 1, east)):
        want = {int(i) for i in ids[in_window(wx, wy, z, tx, y)]} & kept
        assert got == want
    # Points in the band both tiles draw (the shared edge plus both buffers): the same ones.
    n = 2**z
    band = np.abs(wx * n - (x + 1)) <= BUFFER / EXTENT
    shared = {int(i) for i in ids[band & in_window(wx, wy, z, x, y)]} & kept
    assert shared and shared <= west and shared <= east


@pytest.mark.parametrize("z", [6, 8, 12, 14, 17])
def test_every_zoom_draws_the_whole_layer_grid(dense, z):
    """Over every tile of the layer at zoom z: thinned zooms the grid, deeper zooms all."""
    ids, wx, wy, src, lon, lat = (dense[k] for k in ("ids", "wx", "wy", "src", "lon", "lat"))
    x0, y0 = tile_for_lonlat(lon.min(), lat.max(), z)
    x1, y1 = tile_for_lonlat(lon.max(), lat.min(), z)
    want = expected_kept(ids, wx, wy, z) if z <= src.thin_max_zoom else {int(i) for i in ids}
    for tx in range(x0, x1 + 1):
        for ty in range(y0, y1 + 1):
            expected = {int(i) for i in ids[in_window(wx, wy, z, tx, ty)]} & want
            assert tile_ids(src, z, tx, ty) == expected, (z, tx, ty)


def test_thinned_zooms_follow_the_cell_count_rule():
    """Thinned while the layer's extent holds fewer than 5 cells per point (hand count)."""
    bounds = (116.0, 43.9, 116.02, 43.92)
    n = 6000
    wx, wy = world(np.array([bounds[0], bounds[2]]), np.array([bounds[3], bounds[1]]))
    deepest = max(z for z in range(MAX_ZOOM + 1)
                  if ((wx[1] - wx[0]) * 32 * 2**z + 1) * ((wy[1] - wy[0]) * 32 * 2**z + 1)
                  < THIN_CELLS_PER_POINT * n)
    assert thin_max_zoom(n, bounds) == deepest
    assert thin_max_zoom(5000, bounds) == -1  # 5,000 points or fewer: never


def test_a_dense_spot_in_a_sparse_layer_is_capped_at_the_lowest_ids():
    """Unthinned tiles carry at most max_features features, the lowest ids."""
    rng = np.random.default_rng(3)
    lon = 116.0 + rng.uniform(0, 1e-3, 300)
    lat = 44.0 + rng.uniform(0, 1e-3, 300)
    ids = rng.permutation(300) + 1
    src = TileSource("sites", shapely.points(lon, lat), pd.DataFrame({"name": ids.astype(str)}),
                     ids=ids, max_features=50)
    x, y = tile_for_lonlat(116.0005, 44.0005, 16)
    assert tile_ids(src, 16, x, y) == set(range(1, 51))
