"""Output CRSs of OGC API – Features Part 2 (geo.crs): URIs, axis order, coordinates.

The independent computation is pyproj called directly with ``always_xy=True`` (lon/lat
and easting/northing order) and the axis swap done by hand; the Gauss-Krüger false
eastings are checked by hand on the central meridians.
"""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import (
    CRS84_URI,
    OUTPUT_CRS,
    bbox_polygon,
    bbox_to_crs84,
    crs_uri,
    gk_zone,
    parse_crs,
    transform_coordinates,
    transform_geometries_crs,
)
from geo.errors import GeoInputError

# Points across the League (lon 111.1-120.0 E, lat 41.5-46.8 N), corners and inside.
RNG = np.random.default_rng(16)
LON = np.concatenate([[111.1, 120.0, 116.07, 117.0], RNG.uniform(111.1, 120.0, 200)])
LAT = np.concatenate([[41.5, 46.8, 43.93, 44.0], RNG.uniform(41.5, 46.8, 200)])

NORTH_FIRST = {"EPSG:4326", "EPSG:4490", "EPSG:4546", "EPSG:4547", "EPSG:4548", "EPSG:4549",
               "EPSG:4525", "EPSG:4526", "EPSG:4527", "EPSG:4528"}


def test_the_offered_list_and_uris():
    assert OUTPUT_CRS[0] == "OGC:CRS84"
    assert {"EPSG:4490", "EPSG:3857", "EPSG:4548", "EPSG:4527"} <= set(OUTPUT_CRS)
    assert crs_uri("EPSG:4548") == "http://www.opengis.net/def/crs/EPSG/0/4548"
    assert crs_uri("OGC:CRS84") == CRS84_URI
    for spelling in ("http://www.opengis.net/def/crs/EPSG/0/4548", "EPSG:4548", "epsg:4548",
                     "urn:ogc:def:crs:EPSG::4548", "urn:ogc:def:crs:EPSG:9.8.15:4548", 4548,
                     "[EPSG:4548]", "https://www.opengis.net/def/crs/EPSG/0/4548"):
        assert parse_crs(spelling).code == "EPSG:4548", spelling
    for spelling in ("CRS84", "OGC:CRS84", "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                     "urn:ogc:def:crs:OGC:1.3:CRS84"):
        assert parse_crs(spelling).code == "OGC:CRS84"


def test_names_and_axis_order_as_epsg_defines_them():
    for code in OUTPUT_CRS:
        info = parse_crs(code)
        assert info.first_axis_north == (code in NORTH_FIRST), code
        assert info.name == pyproj.CRS.from_user_input(code).name
    assert parse_crs("EPSG:4548").name == "CGCS2000 / 3-degree Gauss-Kruger CM 117E"
    assert parse_crs("EPSG:4527").name == "CGCS2000 / 3-degree Gauss-Kruger zone 39"
    assert parse_crs("EPSG:4490").geographic and not parse_crs("EPSG:4548").geographic


@pytest.mark.parametrize("code", OUTPUT_CRS[1:] + ("EPSG:32650", "EPSG:4214", "EPSG:2385"))
def test_coordinates_agree_with_pyproj_to_a_millimetre(code):
    xy = pyproj.Transformer.from_crs("OGC:CRS84", code, always_xy=True)
    east, north = xy.transform(LON, LAT)
    first, second = transform_coordinates(LON, LAT, "OGC:CRS84", code)
    if parse_crs(code).first_axis_north:
        exp_first, exp_second = north, east
    else:
        exp_first, exp_second = east, north
    tol = 1e-8 if parse_crs(code).geographic else 1e-3  # 1e-8 degree is about 1 mm
    assert np.max(np.abs(first - exp_first)) < tol
    assert np.max(np.abs(second - exp_second)) < tol


def test_gauss_kruger_by_hand_on_the_central_meridians():
    for cm, epsg_cm, epsg_zone, zone in [(111, 4546, 4525, 37), (114, 4547, 4526, 38),
                                         (117, 4548, 4527, 39), (120, 4549, 4528, 40)]:
        n, e = transform_coordinates([cm, cm], [42.0, 46.0], "OGC:CRS84", f"EPSG:{epsg_cm}")
        assert np.allclose(e, 500_000.0, atol=1e-6)  # on the central meridian
        nz, ez = transform_coordinates([cm], [44.0], "OGC:CRS84", f"EPSG:{epsg_zone}")
        assert abs(ez[0] - (zone * 1_000_000 + 500_000)) < 1e-6
        # Northing on the meridian is the meridian arc length from the equator (CGCS2000 ≈ GRS80).
        geod = pyproj.Geod(ellps="GRS80")
        arc = geod.inv(cm, 0.0, cm, 44.0)[2]
        assert abs(nz[0] - arc) < 1e-3


def test_geometries_keep_their_axis_order():
    geoms = np.array([shapely.Point(116.07, 43.93),
                      shapely.LineString([(115.0, 43.0), (117.5, 44.5)]),
                      shapely.box(116, 43, 117, 44), None], dtype=object)
    out = transform_geometries_crs(geoms, "OGC:CRS84", "EPSG:4548")
    xy = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:4548", always_xy=True)
    coords = shapely.get_coordinates(geoms)
    e, n = xy.transform(coords[:, 0], coords[:, 1])
    got = shapely.get_coordinates(out)
    assert np.max(np.abs(got[:, 0] - n)) < 1e-3 and np.max(np.abs(got[:, 1] - e)) < 1e-3
    assert out[3] is None
    back = transform_geometries_crs(out, "EPSG:4548", "OGC:CRS84")
    assert np.max(np.abs(shapely.get_coordinates(back) - coords)) < 1e-9
    lat_first = transform_geometries_crs(geoms[:1], "OGC:CRS84", "EPSG:4490")[0]
    assert (round(lat_first.x, 9), round(lat_first.y, 9)) == (43.93, 116.07)


@settings(max_examples=60, deadline=None)
@given(lon=st.floats(111.1, 120.0), lat=st.floats(41.5, 46.8))
def test_zone_choice_matches_the_nearest_central_meridian(lon, lat):
    z = gk_zone(lon)
    assert abs(lon - z.central_meridian) <= 1.5
    assert z.central_meridian in (111, 114, 117, 120)
    assert pyproj.CRS.from_epsg(z.epsg_cm).name.endswith(f"CM {z.central_meridian}E")
    assert pyproj.CRS.from_epsg(z.epsg_zone).name.endswith(f"zone {z.zone}")
    # The zone's own CRS puts the point within 1.5° of its meridian: |easting - 500 km| small.
    _, e = transform_coordinates([lon], [lat], "OGC:CRS84", f"EPSG:{z.epsg_cm}")
    assert abs(e[0] - 500_000) < 130_000  # 1.5° of longitude at 41.5°N is 125 km


def test_zone_errors():
    with pytest.raises(GeoInputError, match="no CGCS2000 3-degree"):
        gk_zone(10.0)
    with pytest.raises(GeoInputError, match="unknown CRS"):
        parse_crs("EPSG:123456")
    with pytest.raises(GeoInputError, match="unknown CRS"):
        parse_crs("not a crs")
    with pytest.raises(GeoInputError, match="not offered"):
        parse_crs("EPSG:32650", allowed=OUTPUT_CRS)


def test_bbox_crs():
    # EPSG:4326 bbox is lat/lon.
    assert bbox_to_crs84((43.0, 115.0, 44.5, 117.0), "EPSG:4326") == (115.0, 43.0, 117.0, 44.5)
    assert bbox_to_crs84((115.0, 43.0, 117.0, 44.5), "OGC:CRS84") == (115.0, 43.0, 117.0, 44.5)
    # A Gauss-Krüger box (northing first) becomes a curved quadrilateral in degrees: its
    # corners are where pyproj puts them.
    n0, e0, n1, e1 = 4_800_000.0, 420_000.0, 4_900_000.0, 560_000.0
    poly = bbox_polygon((n0, e0, n1, e1), "EPSG:4548")
    inv = pyproj.Transformer.from_crs("EPSG:4548", "OGC:CRS84", always_xy=True)
    for e, n in [(e0, n0), (e1, n0), (e1, n1), (e0, n1)]:
        lon, lat = inv.transform(e, n)
        assert shapely.distance(poly.exterior, shapely.Point(lon, lat)) < 1e-9
    # Densified: the middle of the top edge is on the boundary too (not the chord).
    lon, lat = inv.transform((e0 + e1) / 2, n1)
    assert shapely.distance(poly.exterior, shapely.Point(lon, lat)) < 1e-7
    minx, miny, maxx, maxy = bbox_to_crs84((n0, e0, n1, e1), "EPSG:4548")
    assert minx < 116.0 < 117.0 < maxx and 43.3 < miny < maxy < 44.3
