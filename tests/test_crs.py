"""Datum conversions (geo.crs) against published pairs, and round trips measured in metres."""

from __future__ import annotations

import numpy as np
import pyproj
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    normalise_datum,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = pyproj.Geod(ellps="WGS84")
# The League's extent with a margin (lon 111–120.5°E, lat 41–46.8°N).
LON = st.floats(111.0, 120.5, allow_nan=False)
LAT = st.floats(41.0, 46.8, allow_nan=False)


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres (pyproj.Geod, WGS 84 ellipsoid)."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_published_wgs84_gcj02_pair():
    # Tiananmen: the widely quoted WGS 84 (116.391248, 39.907202) ↔ GCJ-02 ≈ (116.397477,
    # 39.908692).  The quoted GCJ-02 value is itself approximate: the transform lands
    # 9.9 m from it (0.00009° in latitude), against an offset of about 550 m.
    glon, glat = wgs84_to_gcj02(116.391248, 39.907202)
    assert metres(116.391248, 39.907202, glon, glat) > 500
    assert metres(glon, glat, 116.397477, 39.908692) < 12.0
    wlon, wlat = gcj02_to_wgs84(116.397477, 39.908692)
    assert metres(wlon, wlat, 116.391248, 39.907202) < 12.0


def test_published_gcj02_bd09_pair():
    blon, blat = gcj02_to_bd09(116.404, 39.915)
    assert metres(blon, blat, 116.41036949371029, 39.92133699351021) < 0.01
    glon, glat = bd09_to_gcj02(116.41036949371029, 39.92133699351021)
    assert metres(glon, glat, 116.404, 39.915) < 0.5


def test_gcj02_offset_is_hundreds_of_metres_in_the_league():
    glon, glat = wgs84_to_gcj02(116.0861, 43.9334)  # Xilinhot
    assert 100 < metres(116.0861, 43.9334, glon, glat) < 1000


@settings(max_examples=300, deadline=None)
@given(LON, LAT)
def test_gcj02_round_trip_under_half_a_metre(lon, lat):
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat) < 0.5
    # and GCJ-02 → WGS 84 → GCJ-02
    g2 = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert metres(lon, lat, *g2) < 0.5


@settings(max_examples=300, deadline=None)
@given(LON, LAT)
def test_bd09_round_trips_under_half_a_metre(lon, lat):
    assert metres(lon, lat, *bd09_to_gcj02(*gcj02_to_bd09(lon, lat))) < 0.5
    assert metres(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat))) < 0.5
    assert metres(lon, lat, *to_wgs84(*from_wgs84(lon, lat, "baidu"), "BD-09")) < 0.5


def test_vectorised_over_arrays():
    rng = np.random.default_rng(7)
    lon = rng.uniform(111, 120.5, 5000)
    lat = rng.uniform(41, 46.8, 5000)
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon.shape == lon.shape == glat.shape
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat).max() < 0.5
    # arrays give the same answers as scalars
    one = wgs84_to_gcj02(lon[3], lat[3])
    assert float(one[0]) == glon[3] and float(one[1]) == glat[3]
    two_d = wgs84_to_gcj02(lon.reshape(50, 100), lat.reshape(50, 100))[0]
    assert two_d.shape == (50, 100)


def test_outside_china_is_identity():
    lon = np.array([2.35, -74.0, 151.2])  # Paris, New York, Sydney
    lat = np.array([48.85, 40.7, -33.9])
    for fn in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = fn(lon, lat)
        assert np.array_equal(out_lon, lon) and np.array_equal(out_lat, lat)


def test_datum_names():
    assert normalise_datum("Gaode") == "gcj02"
    assert normalise_datum("BD-09") == "bd09"
    assert normalise_datum("4490") == "cgcs2000"
    lon, lat = to_wgs84(116.0, 43.9, "cgcs2000")
    assert float(lon) == 116.0 and float(lat) == 43.9
