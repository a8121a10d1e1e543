"""The ``basins`` layer: an authored partition of the League into river basins.

No DEM is available offline, so the divides are authored: a Voronoi diagram of
the densified river vertices (labelled with their river's basin) and of the
divide seed points in ``data/sources/basins.json``, dissolved by basin and
clipped to the League.  Voronoi cells never overlap, so the basins form a
partition by construction, and every river lies in its own basin as long as no
other basin's seed is nearer to it than its own vertices (seeds are kept well
away from other basins' rivers; the tests check containment).
"""

from __future__ import annotations

import numpy as np
import shapely

from geo import measure as metric

from .provenance import authored
from .sources import load

#: Spacing (m) of river vertices used as Voronoi seeds.
DENSIFY_M = 1000.0


def build_basins(league: shapely.Geometry, river_geoms: np.ndarray,
                 river_basins: list[str]) -> tuple[list[dict], np.ndarray]:
    """Records and polygons of the basins, in the order of ``basins.json``."""
    spec = load("basins")["basins"]
    ids = [b["id"] for b in spec]

    # Seeds in metres: densified river vertices plus the authored divide seeds.
    rivers_m = shapely.segmentize(metric.to_metric(river_geoms), DENSIFY_M)
    pts, which = shapely.get_coordinates(rivers_m, return_index=True)
    labels = [ids.index(river_basins[i]) for i in which]
    for k, b in enumerate(spec):
        seeds = metric.to_metric(shapely.points(b["seeds"]))
        pts = np.vstack([pts, shapely.get_coordinates(seeds)])
        labels += [k] * len(b["seeds"])
    labels = np.asarray(labels)
    # Duplicate seeds (e.g. a junction shared by two rivers) would give empty cells.
    pts, first = np.unique(pts, axis=0, return_index=True)
    labels = labels[first]

    league_m = metric.to_metric([league])[0]
    cells = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=league_m.buffer(1e5),
                                     ordered=True)
    cells = np.asarray(cells.geoms)
    parts = [shapely.intersection(shapely.union_all(cells[labels == k]), league_m)
             for k in range(len(spec))]
    geoms = shapely.make_valid(metric.from_metric(parts))
    # Clip again in lon/lat: reprojection of the clipped rings is not exactly the League.
    geoms = shapely.intersection(geoms, league)
    areas = metric.area_km2(geoms)

    records = []
    for b, a in zip(spec, areas, strict=True):
        records.append({
            "id": b["id"], "name_zh": b["name_zh"], "name_en": b["name_en"],
            "drainage": b["drainage"], "area_km2": round(float(a), 1),
            "published_area_km2": b["published_area_km2"],
            "published_citation": b["published_citation"], "source": b["source"],
            "accuracy_m": float(b["accuracy_m"]), "illustrative": authored(b, f"basins.json {b['id']}"),
        })
    return records, geoms
