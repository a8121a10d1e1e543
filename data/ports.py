"""The ``ports`` layer: 二连浩特 and 珠恩嘎达布其 with the seed article's 2023 facts."""

from __future__ import annotations

import numpy as np
import shapely

from .admin import Admin
from .provenance import authored
from .sources import load

FIELDS = ("id", "name_zh", "name_en", "county", "kinds_zh", "kinds_en", "facts_zh",
          "facts_en", "source")


def build_ports(admin: Admin) -> tuple[list[dict], np.ndarray]:
    """Records and points of the ports, in the order of ``ports.json``."""
    ports = load("ports")["ports"]
    county_en = admin.english([p["county"] for p in ports])
    records = [{k: p[k] for k in FIELDS} | {"county_en": en,
                                           "accuracy_m": float(p["accuracy_m"]),
                                           "illustrative": authored(p, f"ports.json {p['id']}")}
               for p, en in zip(ports, county_en, strict=True)]
    return records, shapely.points([(p["lon"], p["lat"]) for p in ports])
