"""The Hilbert order of geo.sfc: a path of unit steps through every cell, once."""

from __future__ import annotations

import numpy as np
import shapely

from geo.sfc import hilbert_index, spatial_order


def test_hilbert_curve_visits_every_cell_once_in_unit_steps():
    order = 5
    n = 1 << order
    ix, iy = np.meshgrid(np.arange(n), np.arange(n))
    d = hilbert_index(ix.ravel(), iy.ravel(), order)
    assert sorted(d.tolist()) == list(range(n * n))  # a bijection onto 0..n²-1
    path = np.column_stack([ix.ravel(), iy.ravel()])[np.argsort(d)]
    steps = np.abs(np.diff(path, axis=0)).sum(axis=1)
    assert (steps == 1).all()  # each next cell is a neighbour (Manhattan distance 1)


def test_spatial_order_keeps_neighbours_in_few_pages():
    """Points in a small box land in few 100-row pages once written in that order."""
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(111, 120, 100_000), rng.uniform(41.5, 46.8, 100_000)
    order = spatial_order(shapely.points(lon, lat))
    assert sorted(order.tolist()) == list(range(100_000))
    row_of = np.empty(100_000, dtype="int64")
    row_of[order] = np.arange(100_000)
    inside = (lon > 116) & (lon < 116.3) & (lat > 44) & (lat < 44.2)
    pages = np.unique(row_of[inside] // 100)
    random_pages = np.unique(np.flatnonzero(inside) // 100)
    assert len(pages) * 5 < len(random_pages)


def test_missing_geometries_go_last():
    geoms = np.array([None, shapely.Point(1, 1), shapely.Point(0, 0)], dtype=object)
    assert spatial_order(geoms).tolist()[-1] == 0
