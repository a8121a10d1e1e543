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
from geo.vector_tiles import TileSource

from .catalog import get_spec, layer_ids
from .memory import MemoryLayer

#: Bump when the tile contents change for the same layer version (ETags follow).
TILE_SCHEMA = "mvt1"
_NAME_COLUMNS = ("name_zh", "name", "name_en", "NAME", "名称")
_CATEGORY_COLUMNS = ("category", "type", "level")
# One builder at a time: a cold layer is built once, not once per waiting thread.
_BUILD_LOCK = threading.Lock()


def tile_properties(name: str, gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """The properties a tile carries: ``id``, ``name`` and ``category`` where the layer has them.

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"name_zh": ["甲"], "category": ["energy"], "x": [1]},
    ...                      geometry=[None])
    >>> tile_properties("projects", g).columns.tolist()
    ['name', 'category']
    """
    spec = get_spec(name) if name in layer_ids() else None
    columns = set(gdf.columns) - {gdf.geometry.name}
    out: dict[str, pd.Series] = {}
    if "id" in columns:
        out["id"] = gdf["id"]
    name_col = spec.name_field if spec and spec.name_field in columns else next(
        (c for c in _NAME_COLUMNS if c in columns), None)
    if name_col:
        out["name"] = gdf[name_col]
    cat_col = (spec.style.category_field if spec and spec.style.category_field in columns
               else next((c for c in _CATEGORY_COLUMNS if c in columns), None))
    if cat_col:
        out["category"] = gdf[cat_col]
    return pd.DataFrame(out, index=gdf.index)


def tile_source(layer: MemoryLayer, name: str, datum: str = "wgs84") -> TileSource:
    """The :class:`TileSource` of ``layer`` for basemaps in ``datum``, built once per version."""
    key = ("tile_source", datum)
    src = layer.cache.get(key)
    if src is None:
        with _BUILD_LOCK:
            src = layer.cache.get(key)
            if src is None:
                geoms, tree = layer.gdf.geometry.values, layer.tree
                if datum != "wgs84":  # a basemap in another datum: own geometries and index
                    geoms = transform_geometries(np.asarray(geoms, dtype=object), "wgs84",
                                                 datum)
                    tree = None
                src = TileSource(name, geoms, tile_properties(name, layer.gdf),
                                 ids=layer.gdf.index.to_numpy(), tree=tree)
                layer.cache[key] = src
    return src


def memory_tile(layer: MemoryLayer, name: str, z: int, x: int, y: int,
                datum: str = "wgs84") -> bytes:
    """The MVT bytes of tile ``z/x/y`` of ``layer`` (empty bytes for an empty tile)."""
    return tile_source(layer, name, datum).tile(z, x, y)
