"""Deterministic RFC 7946 GeoJSON output for the reference layers.

The committed files under ``data/xilingol/`` must be reproduced byte for byte by
``python -m data.build``, so everything that could vary is fixed here: the
property order (the catalog's field order), the key order of features and
geometries, coordinates rounded to 6 decimals (about 0.1 m) on a 1e-6° grid,
polygon exteriors counter-clockwise, UTF-8 without ASCII escapes and a trailing
newline.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from layers.spec import LayerSpec

#: Decimal places of every written coordinate (RFC 7946 recommends 6: about 0.1 m).
DECIMALS = 6
GRID = 10.0 ** -DECIMALS


def normalise_geometries(geoms: Sequence[shapely.Geometry]) -> np.ndarray:
    """Snap geometries to the 1e-6° output grid and orient polygons for RFC 7946.

    Snapping *before* writing keeps the written polygons valid (GEOS repairs any
    collapse caused by the grid) and makes shared borders byte-identical.

    Examples
    --------
    >>> g = normalise_geometries([shapely.Polygon([(0, 0), (0, 1), (1, 1.0000004)])])
    >>> bool(shapely.is_ccw(g[0].exterior)), g[0].exterior.coords[2]
    (True, (1.0, 1.0))
    """
    arr = shapely.set_precision(np.asarray(geoms, dtype=object), GRID)
    return shapely.orient_polygons(arr, exterior_cw=False)


def _num(value: float) -> float:
    # round() gives the double nearest the 6-decimal value, whose repr is short.
    r = round(float(value), DECIMALS)
    return 0.0 if r == 0 else r


def _coords(geom: shapely.Geometry) -> Any:
    kind = geom.geom_type
    if kind == "Point":
        return [_num(geom.x), _num(geom.y)]
    if kind == "LineString":
        return [[_num(x), _num(y)] for x, y in geom.coords]
    if kind == "Polygon":
        return [[[_num(x), _num(y)] for x, y in ring.coords]
                for ring in (geom.exterior, *geom.interiors)]
    if kind.startswith("Multi"):
        return [_coords(part) for part in geom.geoms]
    raise ValueError(f"unsupported geometry type {kind}")


def _value(value: Any, kind: str) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    if kind in ("date", "datetime"):
        # RFC 3339 text: YYYY-MM-DD for dates (what GDAL reads as a Date field).
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return text[:10] if kind == "date" else text
    return str(value)


def feature_collection(spec: LayerSpec, records: Sequence[dict[str, Any]],
                       geoms: Sequence[shapely.Geometry]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection dict with exactly the catalog fields of ``spec``.

    Raises
    ------
    ValueError
        If a record lacks a catalog field or carries one the catalog does not know.
    """
    names = spec.field_names
    geoms = normalise_geometries(geoms)
    features = []
    for rec, geom in zip(records, geoms, strict=True):
        if set(rec) != set(names):
            raise ValueError(
                f"{spec.id}: properties {sorted(set(rec) ^ set(names))} differ from the catalog"
            )
        props = {f.name: _value(rec[f.name], f.kind) for f in spec.fields}
        features.append({
            "type": "Feature",
            "properties": props,
            "geometry": {"type": geom.geom_type, "coordinates": _coords(geom)},
        })
    return {"type": "FeatureCollection", "features": features}


def write_layer(out_dir: str, spec: LayerSpec, records: Sequence[dict[str, Any]],
                geoms: Sequence[shapely.Geometry]) -> str:
    """Write ``<out_dir>/<spec.id>.geojson`` deterministically; return its path."""
    fc = feature_collection(spec, records, geoms)
    # One feature per line: still one JSON document, but diffs stay readable.
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
             for f in fc["features"]]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}"
    path = os.path.join(out_dir, f"{spec.id}.geojson")
    os.makedirs(out_dir, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text + "\n")
    return path
