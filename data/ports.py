"""The ``ports`` layer: 二连浩特 and 珠恩嘎达布其 with the seed article's 2023 facts."""

from __future__ import annotations

import numpy as np
import shapely

from .sources import load

FIELDS = ("id", "name_zh", "name_en", "county", "kinds_zh", "kinds_en", "facts_zh",
          "facts_en", "source")


def build_ports() -> tuple[list[dict], np.ndarray]:
    """Records and points of the ports, in the order of ``ports.json``."""
    ports = load("ports")["ports"]
    records = [{k: p[k] for k in FIELDS} | {"accuracy_m": float(p["accuracy_m"]),
                                           "illustrative": bool(p["illustrative"])}
               for p in ports]
    return records, shapely.points([(p["lon"], p["lat"]) for p in ports])
