"""The ``sections`` layer: the four national water-quality sections, on their rivers.

Each authored ``near`` point is moved onto its river (the nearest point of the line,
in metres, at least 2 km from either end) with :func:`layers.derive.snap_to_lines`
— as a section is when a user replaces the rivers — so the written point lies on the
river line (to the 1e-6° output grid, ~0.1 m).
"""

from __future__ import annotations

import numpy as np
import shapely

from layers.derive import SECTION_END_MARGIN_M, snap_to_lines

from .admin import Admin
from .provenance import authored
from .rivers import Rivers
from .sources import load


def build_sections(admin: Admin, rivers: Rivers) -> tuple[list[dict], np.ndarray]:
    """Records and points of the sections, in the order of ``sections.json``."""
    spec = load("sections")["sections"]
    lines = np.asarray([rivers.by_id(s["river_id"]) for s in spec], dtype=object)
    near = shapely.points([s["near"] for s in spec])
    # Kept off the very ends of a clipped river (the League border), where the county
    # lookup would be ambiguous.
    points, _ = snap_to_lines(near, lines, SECTION_END_MARGIN_M)
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
            "accuracy_m": float(s["accuracy_m"]), "illustrative": authored(s, f"sections.json {s['id']}"),
        })
    return records, points
