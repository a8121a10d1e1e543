"""What the replacement tests upload and what they compare: edited copies of the committed
layers (so the expected answers are computed here, independently, with pandas and
shapely) and the answers of every page and API that reads the reference layers.

* :func:`edited_registry` — the registry as the development office updates it: ten
  projects dropped, one moved to another county, amounts revised.
* :func:`edited_basins` — the water bureau's basins: part of the Abag inland basin
  assigned to the Xilin River basin (:data:`MOVED_BOX`); the partition stays whole.
* :data:`SITES` — known points, some inside :data:`MOVED_BOX`.
* :func:`answers` — every answer that must change with a replacement and come back
  byte for byte with a restore (OGC items without their write-time ``timeStamp``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import geopandas as gpd
import shapely

from tests import ingest_fixtures as fx

#: Part of the Abag inland basin that the edited basins give to the Xilin River basin.
MOVED_BOX = shapely.box(115.4, 44.4, 116.4, 45.0)
#: Known sites (lon, lat): two inside MOVED_BOX's Abag part, others elsewhere.
SITES = [(115.6, 44.7), (116.0, 44.8), (116.07, 43.94), (116.48, 42.2), (112.0, 43.65),
         (117.3, 45.2)]
#: The registry edit: these projects are dropped …
DROPPED = [f"P{n:03d}" for n in range(141, 151)]
#: … this one's 2023 plan is revised (亿元) …
REVISED = ("P001", 9.99)
#: … and this one is moved (lon, lat) to 多伦县.
MOVED = ("P002", (116.45, 42.18))


def edited_registry() -> gpd.GeoDataFrame:
    """The committed registry with :data:`DROPPED`, :data:`REVISED` and :data:`MOVED` applied."""
    p = fx.reference("projects").copy()
    p = p[~p["id"].isin(DROPPED)].reset_index(drop=True)
    p.loc[p["id"] == REVISED[0], "plan_2023_yi"] = REVISED[1]
    i = p.index[p["id"] == MOVED[0]][0]
    p.loc[i, "geometry"] = shapely.Point(*MOVED[1])
    p.loc[i, "county"] = "多伦县"
    return p


def edited_basins() -> gpd.GeoDataFrame:
    """The committed basins with the Abag part inside :data:`MOVED_BOX` given to the Xilin."""
    b = fx.reference("basins").copy().set_index("id")
    part = shapely.intersection(b.geometry["abaga"], MOVED_BOX)
    b.loc["xilin", "geometry"] = shapely.union(b.geometry["xilin"], part)
    b.loc["abaga", "geometry"] = shapely.difference(b.geometry["abaga"], MOVED_BOX)
    return b.reset_index()


def basin_of(basins: gpd.GeoDataFrame, lon: float, lat: float) -> str | None:
    """The id of the basin containing a point, by shapely (the independent answer)."""
    hit = basins[shapely.contains(basins.geometry.values, shapely.Point(lon, lat))]
    return str(hit["id"].iloc[0]) if len(hit) else None


def sites_geojson() -> bytes:
    """:data:`SITES` as the overlay's GeoJSON body."""
    feats = [{"type": "Feature", "properties": {"name": f"s{i}"},
              "geometry": {"type": "Point", "coordinates": list(p)}} for i, p in enumerate(SITES)]
    return json.dumps({"type": "FeatureCollection", "features": feats}).encode()


def registry_totals(p: gpd.GeoDataFrame) -> dict:
    """count, investment, 2023 plan and permits of a registry, by pandas."""
    return {"count": len(p), "plan_2023_yi": round(float(p["plan_2023_yi"].sum()), 2),
            "total_investment_yi": round(float(p["total_investment_yi"].sum()), 2),
            "permits_complete": int(p["permits_complete"].astype(bool).sum())}


def _items(body: bytes) -> bytes:
    doc = json.loads(body)
    doc.pop("timeStamp", None)  # the time the version was written: a restore is a new write
    return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()


#: GET paths whose answers follow the reference layers (besides the overlay POST).
PATHS = {
    "stats": "/api/stats/projects",
    "stats_basin": "/api/stats/projects?basin=xilin",
    "stages": "/api/route/stages?max_km=250",
    "locate": "/api/route/locate?lon=116.0&lat=43.9",
    "projects_features": "/api/layers/projects/features?zoom=14",
    "basins_features": "/api/layers/basins/features?zoom=8",
    "stations_features": "/api/layers/stations/features?zoom=14",
    "projects_items": "/ogcapi/collections/projects/items?limit=1000",
    "basins_items": "/ogcapi/collections/basins/items?limit=100",
    "road_items": "/ogcapi/collections/scenic_road/items?limit=100",
    "stations_items": "/ogcapi/collections/stations/items?limit=100",
    "projects_export": "/api/export/projects.geojson",
    "tile": "/tiles/basins/6/52/23.mvt",
}


def answers(get: Callable[[str], tuple[int, bytes]],
            post_json: Callable[[str, bytes], tuple[int, bytes]]) -> dict[str, bytes]:
    """Every answer of :data:`PATHS` and the overlay of :data:`SITES`, as bytes.

    ``get(path) -> (status, body)`` and ``post_json(path, body) -> (status, body)``
    talk to an app (test client or a real server).
    """
    out = {}
    for key, path in PATHS.items():
        status, body = get(path)
        assert status == 200, (path, status, body[:300])
        out[key] = _items(body) if "/items" in path else body
    status, body = post_json("/api/overlay", sites_geojson())
    assert status == 200, body[:300]
    out["overlay"] = body
    return out


def overlay_basins(body: bytes) -> list[str | None]:
    """The basin id of each site in an overlay answer."""
    rows = json.loads(body)["rows"]
    return [r.get("basin_id") or None for r in rows]


def changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    """The keys whose answers differ."""
    return {k for k in before if before[k] != after[k]}


def flask_io(client) -> tuple[Callable, Callable]:
    """``get`` and ``post_json`` of :func:`answers` for a Flask test client."""

    def get(path: str) -> tuple[int, bytes]:
        r = client.get(path)
        return r.status_code, r.data

    def post_json(path: str, body: bytes) -> tuple[int, bytes]:
        r = client.post(path, data=body, content_type="application/geo+json")
        return r.status_code, r.data

    return get, post_json



