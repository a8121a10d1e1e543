"""Lines and polygons placed by their largest part (geo.overlay with geo.shares).

Sites are built across real county, basin and League borders so that the side holding
the majority is known by construction: a straight 10 km line crossing a border once at
a chosen point, 7 km on one side and 3 km on the other.  Which county holds the long
end is read with a plain point-in-polygon test, never with the overlay's own code.
"""

from __future__ import annotations

from functools import cache

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo.crs import DISTANCE_CRS
from geo.overlay import OverlayIndex, overlay_sites
from geo.shares import polygon_shares
from layers.prepare import layer_path

LONG_M, SHORT_M = 7000.0, 3000.0
_TO_M = Transformer.from_crs(4326, DISTANCE_CRS, always_xy=True)
_TO_LL = Transformer.from_crs(DISTANCE_CRS, 4326, always_xy=True)


@cache
def layer(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(layer_path(name))


@pytest.fixture(scope="module")
def idx() -> OverlayIndex:
    return OverlayIndex.from_layers(**{k: layer(k) for k in (
        "admin", "basins", "rivers", "sections", "scenic_road")})


def to_m(geom):
    return shapely.transform(geom, lambda c: np.column_stack(_TO_M.transform(c[:, 0], c[:, 1])))


def to_ll(geom):
    return shapely.transform(geom, lambda c: np.column_stack(_TO_LL.transform(c[:, 0], c[:, 1])))


def crossings(polys: gpd.GeoDataFrame, key: str, per_border: int, min_border_m: float = 40_000
              ) -> list[tuple[shapely.LineString, str, str, float]]:
    """Lines (metric) crossing the shared borders of ``polys`` once, 7 km on one side.

    Returns (line, long-side polygon, short-side polygon, long share).  The long side
    alternates, and a line is kept only when it crosses the border exactly once and
    lies within the two polygons.
    """
    geoms = [to_m(g) for g in polys.geometry]
    names = polys[key].tolist()
    out = []
    flip = False
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            border = shapely.line_merge(shapely.intersection(geoms[i].boundary,
                                                             geoms[j].boundary))
            if border.is_empty or border.length < min_border_m:
                continue
            parts = [border] if border.geom_type == "LineString" else list(border.geoms)
            line = max(parts, key=lambda g: g.length)
            for f in np.linspace(0.15, 0.85, per_border):
                p = line.interpolate(f, normalized=True)
                a, b = line.interpolate(f * line.length - 300), line.interpolate(
                    f * line.length + 300)
                t = np.array([b.x - a.x, b.y - a.y])
                n = np.array([-t[1], t[0]]) / np.hypot(*t)
                flip = not flip
                sign = 1.0 if flip else -1.0
                start = np.array([p.x, p.y]) + sign * LONG_M * n
                end = np.array([p.x, p.y]) - sign * SHORT_M * n
                site = shapely.LineString([start, end])
                hits = shapely.intersection(site, shapely.union(geoms[i].boundary,
                                                                geoms[j].boundary))
                if shapely.get_num_geometries(hits) != 1 or hits.geom_type != "Point":
                    continue
                if shapely.difference(site, shapely.union(geoms[i], geoms[j])).length > 1.0:
                    continue
                long_side = names[i] if shapely.contains_xy(geoms[i], *start) else \
                    names[j] if shapely.contains_xy(geoms[j], *start) else None
                if long_side is None:
                    continue
                short_side = names[j] if long_side == names[i] else names[i]
                out.append((site, long_side, short_side, LONG_M / (LONG_M + SHORT_M)))
    return out


def test_lines_across_county_borders_take_the_majority_county(idx):
    units = layer("admin")[layer("admin")["level"] != "league"].reset_index(drop=True)
    cases = crossings(units, "name_zh", per_border=3)
    assert len(cases) >= 15
    sites = gpd.GeoDataFrame({"n": range(len(cases))},
                             geometry=[to_ll(c[0]) for c in cases], crs=4326)
    out = overlay_sites(sites, idx)
    assert out["county"].tolist() == [c[1] for c in cases]
    assert out["in_league"].all()
    for shares, (_, long_side, short_side, share) in zip(out["county_shares"], cases,
                                                        strict=True):
        parts = dict(s.split(":") for s in shares.split(";"))
        assert list(parts) == [long_side, short_side]  # largest first
        assert float(parts[long_side]) == pytest.approx(share, abs=0.002)
        assert float(parts[short_side]) == pytest.approx(1 - share, abs=0.002)
    # the anchor point GEOS picks for a two-vertex line is an end: half of these lines
    # have their minority end there, so a point-based answer would be wrong for them
    ends = shapely.point_on_surface(sites.geometry.values)
    by_point = [units.loc[shapely.contains(units.geometry.values, e), "name_zh"].tolist()
                for e in ends]
    assert sum(bp != [c[1]] for bp, c in zip(by_point, cases, strict=True)) >= len(cases) // 3


def test_polygons_across_a_border_take_the_majority_by_area(idx):
    units = layer("admin")[layer("admin")["level"] != "league"].reset_index(drop=True)
    cases = crossings(units, "name_zh", per_border=1)
    # a 10 km × 1 km strip around each crossing line: 70 % on its long side by area
    polys = [shapely.buffer(c[0], 500, cap_style="flat") for c in cases]
    out = overlay_sites(gpd.GeoDataFrame(geometry=[to_ll(p) for p in polys], crs=4326), idx)
    ok = [c for c, p in zip(cases, polys, strict=True)
          if shapely.difference(p, shapely.union_all([to_m(g) for g in units.geometry])).area
          < 1.0]
    assert len(ok) >= 8
    got = dict(zip(map(id, cases), out["county"], strict=True))
    assert all(got[id(c)] == c[1] for c in ok)
    shares = dict(zip(map(id, cases), out["county_shares"], strict=True))
    for c in ok:
        first, share = shares[id(c)].split(";")[0].split(":")
        assert first == c[1] and float(share) == pytest.approx(0.7, abs=0.02)


def test_basin_by_share_and_drainage_of_every_part(idx):
    basins = layer("basins")
    cases = crossings(basins, "id", per_border=2, min_border_m=30_000)
    pairs = {frozenset((c[1], c[2])) for c in cases}
    assert frozenset(("abaga", "xilin")) in pairs
    out = overlay_sites(gpd.GeoDataFrame(geometry=[to_ll(c[0]) for c in cases], crs=4326), idx)
    assert out["basin_id"].tolist() == [c[1] for c in cases]
    assert all(s.split(";")[0].split(":")[0] == c[1]
               for s, c in zip(out["basin_shares"], cases, strict=True))
    # a line mostly in an inland basin with its short end in a river basin drains
    # through that end: it is upstream when that part is
    inland = {"hunshandake", "abaga", "sunite"}
    rivers = layer("rivers")
    for (line, long_side, short_side, _), (_, row) in zip(cases, out.iterrows(), strict=True):
        if long_side in inland and short_side in inland:
            assert row["upstream_status"] == "no" and row["upstream_reason"] == "inland_basin"
        if long_side in inland and short_side not in inland:
            part = shapely.intersection(line, to_m(basins.set_index("id").geometry[short_side]))
            own = rivers[rivers["basin_id"] == short_side]
            d = [shapely.distance(part, to_m(g)) for g in own.geometry]
            assert row["drain_river_id"] == own["id"].iloc[int(np.argmin(d))]
            assert row["upstream_status"] in ("yes", "no")
            assert row["basin_id"] == long_side


def test_in_league_by_share(idx):
    admin = layer("admin")
    league = admin[admin["level"] == "league"]
    outside = gpd.GeoDataFrame({"name_zh": ["outside"]},
                               geometry=[shapely.box(100, 30, 130, 55).difference(
                                   league.geometry.iloc[0])], crs=4326)
    both = gpd.GeoDataFrame(
        {"name_zh": ["League", "outside"]},
        geometry=[league.geometry.iloc[0], outside.geometry.iloc[0]], crs=4326)
    cases = crossings(both, "name_zh", per_border=6, min_border_m=200_000)
    assert len(cases) >= 6
    out = overlay_sites(gpd.GeoDataFrame(geometry=[to_ll(c[0]) for c in cases], crs=4326), idx)
    assert out["in_league"].tolist() == [c[1] == "League" for c in cases]
    # out of the League: no county, but the part inside is listed
    for (_, long_side, _, _), (_, row) in zip(cases, out.iterrows(), strict=True):
        if long_side == "outside":
            assert row["county"] == "" and row["basin_id"] == ""
            assert float(row["county_shares"].split(":")[1]) == pytest.approx(0.3, abs=0.01)
            assert row["upstream_status"] in ("unknown", "yes")


def test_polygon_shares_by_hand():
    west, east = shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)
    sites = [shapely.LineString([(2, 5), (12, 5)]),           # 8 west, 2 east
             shapely.box(9, 0, 13, 1),                          # area 1 west, 3 east
             shapely.LineString([(25, 0), (25, 5)]),            # outside both
             shapely.LineString([(5, 5), (5, 5)]),              # no length
             shapely.Point(1, 1), None]
    s = polygon_shares(sites, [west, east], measure_crs=None)
    assert s.largest.tolist() == [0, 1, -1, -1, -1, -1]
    assert s.largest_share.round(3).tolist()[:2] == [0.8, 0.75]
    assert s.inside[:3].tolist() == [1.0, 1.0, 0.0]
    assert np.isnan(s.inside[3:]).all()
    assert s.listing(["W", "E"]).tolist() == ["W:0.8;E:0.2", "E:0.75;W:0.25", "", "", "", ""]
    # a part outside every polygon is implied (1 minus the listed shares)
    half = polygon_shares([shapely.LineString([(15, 5), (25, 5)])], [west, east],
                          measure_crs=None)
    assert half.listing(["W", "E"]).tolist() == ["E:0.5"] and half.inside.tolist() == [0.5]
