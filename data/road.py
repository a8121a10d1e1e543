"""The scenic road and its points: ``scenic_road``, ``stations`` and ``attractions``.

The 千里草原风景大道 is authored in ``data/sources/scenic_road.json`` as themed
segments, each a path through named places and shape points, digitised from
its start (宝昌, 太仆寺旗) to its end (乌拉盖).  Lengths and kilometre posts are
measured in :data:`geo.crs.DISTANCE_CRS`; a station's or attraction's ``km`` is
the road distance from the start to the road point nearest it.
"""

from __future__ import annotations

import numpy as np
import shapely

from . import metric
from .admin import Admin
from .sources import load


def _path_coords(path: list, places: dict) -> list[tuple[float, float]]:
    out = []
    for step in path:
        if isinstance(step, str):
            out.append((places[step]["lon"], places[step]["lat"]))
        else:
            out.append((float(step[0]), float(step[1])))
    return out


def road_line(geoms: np.ndarray) -> shapely.LineString:
    """The whole road as one line in lon/lat (segments joined in order)."""
    coords = [np.asarray(g.coords) for g in geoms]
    return shapely.LineString(np.vstack([coords[0]] + [c[1:] for c in coords[1:]]))


def road_km(road: shapely.LineString, points: np.ndarray) -> np.ndarray:
    """Kilometre along ``road`` of the road point nearest each point."""
    road_m = metric.to_metric([road])[0]
    return shapely.line_locate_point(road_m, metric.to_metric(points)) / 1e3


def build_scenic_road() -> tuple[list[dict], np.ndarray]:
    """Records and lines of the scenic road segments, in travel order."""
    src = load("scenic_road")
    places = src["places"]
    geoms = np.asarray([shapely.LineString(_path_coords(s["path"], places))
                        for s in src["segments"]], dtype=object)
    lengths = metric.length_km(geoms)
    starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    records = []
    for seq, (s, km0, km) in enumerate(zip(src["segments"], starts, lengths, strict=True), 1):
        records.append({
            "id": s["id"], "name_zh": s["name_zh"], "name_en": s["name_en"],
            "theme_zh": s["theme_zh"], "theme_en": s["theme_en"], "road": s["road"],
            "seq": seq, "km_start": round(float(km0), 1), "length_km": round(float(km), 1),
            "source": src["source"], "accuracy_m": float(src["accuracy_m"]),
            "illustrative": bool(src["illustrative"]),
        })
    return records, geoms


def build_stations(admin: Admin, road: shapely.LineString) -> tuple[list[dict], np.ndarray]:
    """Records and points of the stations (at places on the road), in road order."""
    src = load("stations")
    places = load("scenic_road")["places"]
    pts = shapely.points([_path_coords([s["place"]], places)[0] for s in src["stations"]])
    kms = road_km(road, pts)
    counties = admin.county_of(pts)
    records = []
    for s, km, county, county_en in zip(src["stations"], kms, counties,
                                        admin.english(counties), strict=True):
        records.append({
            "id": s["id"], "name_zh": s["name_zh"], "name_en": s["name_en"],
            "county": county, "county_en": county_en, "km": round(float(km), 1), "services": s["services"],
            "source": src["source"], "accuracy_m": float(src["accuracy_m"]),
            "illustrative": bool(src["illustrative"]),
        })
    order = np.argsort(kms, kind="stable")
    return [records[i] for i in order], pts[order]


def build_attractions(admin: Admin, road: shapely.LineString) -> tuple[list[dict], np.ndarray]:
    """Records and points of the attractions, in the order of ``attractions.json``."""
    src = load("attractions")
    items = src["attractions"]
    pts = shapely.points([(a["lon"], a["lat"]) for a in items])
    kms = road_km(road, pts)
    counties = admin.county_of(pts)
    records = []
    for a, km, county, county_en in zip(items, kms, counties, admin.english(counties),
                                        strict=True):
        records.append({
            "id": a["id"], "name_zh": a["name_zh"], "name_en": a["name_en"],
            "kind": a["kind"], "kind_en": a["kind_en"], "county": county,
            "county_en": county_en, "km": round(float(km), 1),
            "description_zh": a["description_zh"], "source": src["source"],
            "accuracy_m": float(a["accuracy_m"]), "illustrative": bool(a["illustrative"]),
        })
    return records, pts
