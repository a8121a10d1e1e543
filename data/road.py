"""The scenic road and its points: ``scenic_road``, ``stations`` and ``attractions``.

The 千里草原风景大道 is authored in ``data/sources/scenic_road.json`` as themed
segments, each a path through named places and shape points, digitised from
its start (宝昌, 太仆寺旗) to its end (乌拉盖).  Lengths and kilometre posts are
measured in :data:`geo.crs.DISTANCE_CRS` by :mod:`layers.derive` (as for a road a user
uploads): a station's or attraction's ``km`` is the road distance from the start to
the road point nearest it.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.route import ScenicRoute
from layers.derive import road_km, road_route, segment_measures

from .admin import Admin
from .provenance import authored
from .sources import load


def _path_coords(path: list, places: dict) -> list[tuple[float, float]]:
    out = []
    for step in path:
        if isinstance(step, str):
            out.append((places[step]["lon"], places[step]["lat"]))
        else:
            out.append((float(step[0]), float(step[1])))
    return out


def road_of(geoms: np.ndarray) -> ScenicRoute:
    """The road's segments (in travel order) as one measured route."""
    return road_route(gpd.GeoDataFrame({"seq": np.arange(1, len(geoms) + 1)},
                                       geometry=list(geoms), crs=4326))


def build_scenic_road() -> tuple[list[dict], np.ndarray]:
    """Records and lines of the scenic road segments, in travel order."""
    src = load("scenic_road")
    places = src["places"]
    geoms = np.asarray([shapely.LineString(_path_coords(s["path"], places))
                        for s in src["segments"]], dtype=object)
    starts, lengths = segment_measures(road_of(geoms))
    records = []
    for seq, (s, km0, km) in enumerate(zip(src["segments"], starts, lengths, strict=True), 1):
        records.append({
            "id": s["id"], "name_zh": s["name_zh"], "name_en": s["name_en"],
            "theme_zh": s["theme_zh"], "theme_en": s["theme_en"], "road": s["road"],
            "road_en": s["road_en"],
            "seq": seq, "km_start": round(float(km0), 1), "length_km": round(float(km), 1),
            "source": src["source"], "accuracy_m": float(src["accuracy_m"]),
            "illustrative": authored(src, "scenic_road.json"),
        })
    return records, geoms


def build_stations(admin: Admin, road: ScenicRoute) -> tuple[list[dict], np.ndarray]:
    """Records and points of the stations (at places on the road), in road order."""
    src = load("stations")
    places = load("scenic_road")["places"]
    pts = shapely.points([_path_coords([s["place"]], places)[0] for s in src["stations"]])
    kms, _ = road_km(road, gpd.GeoSeries(pts, crs=4326))
    counties = admin.county_of(pts)
    records = []
    for s, km, county, county_en in zip(src["stations"], kms, counties,
                                        admin.english(counties), strict=True):
        records.append({
            "id": s["id"], "name_zh": s["name_zh"], "name_en": s["name_en"],
            "county": county, "county_en": county_en, "km": round(float(km), 1),
            "services": s["services"], "services_en": s["services_en"],
            "source": src["source"], "accuracy_m": float(src["accuracy_m"]),
            "illustrative": authored(src, "stations.json"),
        })
    order = np.argsort(kms, kind="stable")
    return [records[i] for i in order], pts[order]


def build_attractions(admin: Admin, road: ScenicRoute) -> tuple[list[dict], np.ndarray]:
    """Records and points of the attractions, in the order of ``attractions.json``."""
    src = load("attractions")
    items = src["attractions"]
    pts = shapely.points([(a["lon"], a["lat"]) for a in items])
    kms, _ = road_km(road, gpd.GeoSeries(pts, crs=4326))
    counties = admin.county_of(pts)
    records = []
    for a, km, county, county_en in zip(items, kms, counties, admin.english(counties),
                                        strict=True):
        records.append({
            "id": a["id"], "name_zh": a["name_zh"], "name_en": a["name_en"],
            "kind": a["kind"], "kind_en": a["kind_en"], "county": county,
            "county_en": county_en, "km": round(float(km), 1),
            "description_zh": a["description_zh"], "description_en": a["description_en"],
            "source": src["source"],
            "accuracy_m": float(a["accuracy_m"]), "illustrative": authored(a, f"attractions.json {a['id']}"),
        })
    return records, pts
