"""The ``sections`` layer: the four national water-quality sections, on their rivers.

Each authored ``near`` point is projected onto its river with
:func:`shapely.line_locate_point` / :func:`shapely.line_interpolate_point`, so
the written point lies on the river line (to the 1e-6° output grid, ~0.1 m).
"""

from __future__ import annotations

import numpy as np
import shapely

from .admin import Admin
from .rivers import Rivers
from .sources import load

#: About 2 km: how far (in degrees along the line) a section stays from a river's ends.
END_MARGIN_DEG = 0.02


def build_sections(admin: Admin, rivers: Rivers) -> tuple[list[dict], np.ndarray]:
    """Records and points of the sections, in the order of ``sections.json``."""
    spec = load("sections")["sections"]
    lines = np.asarray([rivers.by_id(s["river_id"]) for s in spec], dtype=object)
    near = shapely.points([s["near"] for s in spec])
    # Keep sections off the very ends of a clipped river (the League border), where
    # the county lookup would be ambiguous: at least END_MARGIN_DEG from either end.
    along = np.clip(shapely.line_locate_point(lines, near), END_MARGIN_DEG,
                    shapely.length(lines) - END_MARGIN_DEG)
    points = shapely.line_interpolate_point(lines, along)
    counties = admin.county_of(points)
    by_id = {r["id"]: r for r in rivers.records}
    records = []
    for s, county, county_en in zip(spec, counties, admin.english(counties), strict=True):
        river = by_id[s["river_id"]]
        records.append({
            "id": s["id"], "name_zh": s["name_zh"], "name_en": s["name_en"],
            "river_id": s["river_id"], "river_zh": river["name_zh"],
            "river_en": river["name_en"], "basin_id": river["basin_id"], "county": county,
            "county_en": county_en,
            "target_class": s["target_class"], "source": s["source"],
            "accuracy_m": float(s["accuracy_m"]), "illustrative": bool(s["illustrative"]),
        })
    return records, points
