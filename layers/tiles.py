"""Vector tiles of a layer version held in memory (what :meth:`Store.tile` serves).

A :class:`geo.vector_tiles.TileSource` is built once per (layer version, datum) and
kept in the version's cache (:attr:`layers.memory.MemoryLayer.cache`), so it goes
when the layer changes.  Each tile feature carries its fid as the tile feature id
and at most three properties, ``id``, ``name`` and ``category`` (the catalog's name
and category fields; user layers are matched by common column names), so a tile of
a million-point layer stays small; popups fetch the rest from the API.

Examples
--------
>>> import shapely, mapbox_vector_tile
>>> from layers.memory import MemoryLayer
>>> gdf = gpd.GeoDataFrame({"name_zh": ["锡林浩特"]}, geometry=[shapely.Point(116.09, 43.93)],
...                        crs=4326, index=pd.Index([7], name="fid"))
>>> body = memory_tile(MemoryLayer.build(None, gdf), "sites", 8, 210, 93)
>>> mapbox_vector_tile.decode(body)["sites"]["features"][0]["properties"]
{'name': '锡林浩特'}
"""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import transform_geometries
from geo.vector_tiles import TileSource, tile_property_columns

from .catalog import get_spec, layer_ids
from .memory import MemoryLayer

#: Bump when the tile contents change for the same layer version (ETags follow).
TILE_SCHEMA = "mvt3"  # mvt2: whole-layer thinning, feature cap; mvt3: decided on WGS 84
# One builder at a time: a cold layer is built once, not once per waiting thread.
_BUILD_LOCK = threading.Lock()


def tile_columns(name: str, columns: list[str]) -> dict[str, str]:
    """``{tile key: column}`` of a layer: the catalog's name and category fields where the
    catalog defines the layer, else common column names
    (:func:`geo.vector_tiles.tile_property_columns`, which PostGIS's SQL tiles use too).

    Examples
    --------
    >>> tile_columns("projects", ["name_zh", "category", "x"])
    {'name': 'name_zh', 'category': 'category'}
    """
    spec = get_spec(name) if name in layer_ids() else None
    return tile_property_columns(columns, spec.name_field if spec else None,
                                 spec.style.category_field if spec else None)


def tile_properties(name: str, gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """The properties a tile carries: ``id``, ``name`` and ``category`` where the layer has them.

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"name_zh": ["甲"], "category": ["energy"], "x": [1]},
    ...                      geometry=[None])
    >>> tile_properties("projects", g).columns.tolist()
    ['name', 'category']
    """
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    return pd.DataFrame({key: gdf[col] for key, col in tile_columns(name, columns).items()},
                        index=gdf.index)


def tile_source(layer: MemoryLayer, name: str, datum: str = "wgs84") -> TileSource:
    """The :class:`TileSource` of ``layer`` for basemaps in ``datum``, built once per version."""
    key = ("tile_source", datum)
    src = layer.cache.get(key)
    if src is None:
        with _BUILD_LOCK:
            src = layer.cache.get(key)
            if src is None:
                geoms, tree = layer.gdf.geometry.values, layer.tree
                thinning = None
                if datum != "wgs84":  # a basemap in another datum: own geometries and index
                    geoms = transform_geometries(np.asarray(geoms, dtype=object), "wgs84",
                                                 datum)
                    tree = None
                    # Which point stands for a cluster is decided on WGS 84 positions, on
                    # every basemap (as PostGIS decides it, from the stored first zoom).
                    base = layer.cache.get(("tile_source", "wgs84")) or TileSource(
                        name, layer.gdf.geometry.values, tile_properties(name, layer.gdf),
                        ids=layer.gdf.index.to_numpy(), tree=layer.tree)
                    thinning = (base.thin_max_zoom, base.minzoom)
                src = TileSource(name, geoms, tile_properties(name, layer.gdf),
                                 ids=layer.gdf.index.to_numpy(), tree=tree, thinning=thinning)
                layer.cache[key] = src
    return src


def memory_tile(layer: MemoryLayer, name: str, z: int, x: int, y: int,
                datum: str = "wgs84") -> bytes:
    """The MVT bytes of tile ``z/x/y`` of ``layer`` (empty bytes for an empty tile)."""
    return tile_source(layer, name, datum).tile(z, x, y)
