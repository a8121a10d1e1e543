"""The server side of the field pages (issue 15): search, trips between chosen stations,
their downloads, and every error code as a sentence the pages can show.

Checked against independent computations where there are any: pyproj.Geod for track
lengths, geo.crs's inverse transform for GCJ-02 files, the gazetteer's own records.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pyproj
import pytest

from geo.crs import gcj02_to_wgs84
from geo.errors import MESSAGES

GEOD = pyproj.Geod(ellps="WGS84")
GPX = {"g": "http://www.topografix.com/GPX/1/1"}
#: A query parameter as a request writes it (``max_km=``, ``datum=``).
PARAMETER = re.compile(r"\b(max_km|every_km|start|end|direction|stage|datum|limit|lang|q|basin|bbox"
                       r"|zoom|crs|layer)\s*=")


# -- search ---------------------------------------------------------------------------------
def test_search_answers_places_first_in_the_asked_language(client):
    body = client.get("/api/search?q=xilinhaote&lang=en&limit=5").json
    assert body["query"] == "xilinhaote" and body["lang"] == "en"
    first = body["results"][0]
    assert first["layer"] == "towns" and first["name_zh"] == "锡林浩特市区"
    assert first["name"] == "Xilinhot (city) (锡林浩特市区)" and first["layer_title"] == "Towns and sumu"
    assert first["accuracy_m"] == 3000 and first["county_en"] == "Xilinhot City"
    assert len(body["results"]) <= 5
    zh = client.get("/api/search?q=二连口岸").json["results"][0]
    assert (zh["name"], zh["layer_title"]) == ("二连浩特口岸", "口岸")


def test_search_of_nothing_is_an_empty_list(client):
    assert client.get("/api/search").json["results"] == []
    assert client.get("/api/search?q=%20%20").json["results"] == []
    assert client.get("/api/search?q=qwertyzz").json["results"] == []


def test_search_limit(client):
    assert len(client.get("/api/search?q=xi&limit=50").json["results"]) == 50
    assert len(client.get("/api/search?q=xi").json["results"]) == 10
    assert client.get("/api/search?q=xi&limit=0").status_code == 400


def test_towns_come_from_the_gazetteer(client):
    from geo.gazetteer import Gazetteer

    gz = Gazetteer.load()
    for place in list(gz.places.values())[::10]:
        hits = client.get(f"/api/search?q={place.name_zh}&limit=3").json["results"]
        town = next(h for h in hits if h["layer"] == "towns")
        assert town["id"] == place.id and (town["lon"], town["lat"]) == (place.lon, place.lat)


def test_user_layers_are_searched_by_their_name_field(make_app, token):
    app = make_app(ATLAS_WRITE_TOKEN=token)
    c = app.test_client()
    csv = "站点名称,经度,纬度\n巴彦淖尔监测点,116.2,43.8\n阿尔山样地,117.1,44.9\n".encode()
    r = c.put("/api/layers/field_sites", data={"file": (io.BytesIO(csv), "s.csv")},
              headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    hit = c.get("/api/search?q=aershanyangdi").json["results"][0]
    assert (hit["layer"], hit["name_zh"]) == ("field_sites", "阿尔山样地")
    assert (hit["lon"], hit["lat"]) == (117.1, 44.9)


# -- trips ----------------------------------------------------------------------------------
def test_stages_between_chosen_stations_run_their_way(client):
    body = client.get("/api/route/stages?max_km=150&start=st_wulagai&end=st_shangdu").json
    assert (body["start"], body["end"], body["direction"]) == ("st_wulagai", "st_shangdu",
                                                                "reverse")
    st = body["stages"]
    assert st[0]["from_id"] == "st_wulagai" and st[-1]["to_id"] == "st_shangdu"
    assert all(s["km_end"] < s["km_start"] for s in st)
    # the stages tile the trip: each starts where the last ended
    assert all(a["km_end"] == b["km_start"] for a, b in zip(st, st[1:], strict=False))
    whole = client.get("/api/route/stages?max_km=150").json
    assert whole["direction"] == "forward" and whole["start"] is None
    back = client.get("/api/route/stages?max_km=150&direction=reverse").json
    assert back["stages"][0]["km_start"] == pytest.approx(whole["stages"][-1]["km_end"])


def test_over_limit_stages_offer_places_within_the_day(client):
    body = client.get("/api/route/stages?max_km=100").json
    over = [s for s in body["stages"] if s["over_max"]]
    assert len(over) == 3
    for s in over:
        assert s["reason_en"].startswith("No station within 100 km") and s["reason_zh"]
        assert s["station_after"]["id"] == s["to_id"]
        for a in s["alternatives"]:
            assert a["layer"] in ("towns", "attractions") and a["day_km"] <= 100
            # what the day's ride measures: along the road to the place's km, then off it
            assert a["day_km"] == pytest.approx(a["km"] - s["km_start"] + a["detour_km"], abs=0.01)
    assert any(a["id"] == "at_wulagai_wetland" for a in over[-1]["alternatives"])


def _tracks(gpx: bytes) -> list[list[tuple[float, float]]]:
    root = ET.fromstring(gpx)
    return [[(float(p.get("lon")), float(p.get("lat"))) for p in trk.iterfind(".//g:trkpt", GPX)]
            for trk in root.findall("g:trk", GPX)]


def test_trip_gpx_tracks_measure_the_stages(client):
    body = client.get("/api/route/stages?max_km=120").json
    r = client.get("/api/route/trip.gpx?max_km=120")
    assert r.status_code == 200 and r.headers["Content-Disposition"] == \
        'attachment; filename="trip.gpx"'
    tracks = _tracks(r.data)
    assert len(tracks) == len(body["stages"])
    for pts, st in zip(tracks, body["stages"], strict=True):
        lons, lats = zip(*pts, strict=True)
        assert GEOD.line_length(lons, lats) / 1000 == pytest.approx(st["length_km"], rel=0.005)
    # the trip's stops as waypoints: the start, each stage's stops passed and its end
    wpts = ET.fromstring(r.data).findall("g:wpt", GPX)
    assert len(wpts) == 1 + sum(len(s["stops"]) + 1 for s in body["stages"])


def test_one_stage_in_gcj02_for_chinese_apps(client):
    wgs = _tracks(client.get("/api/route/trip.gpx?max_km=120&stage=2").data)
    r = client.get("/api/route/trip.gpx?max_km=120&stage=2&datum=gcj02&lang=en")
    assert r.headers["Content-Disposition"] == 'attachment; filename="stage-2-gcj02.gpx"'
    gcj = _tracks(r.data)
    assert len(wgs) == len(gcj) == 1
    lon, lat = zip(*gcj[0], strict=True)
    back_lon, back_lat = gcj02_to_wgs84(list(lon), list(lat))
    w_lon, w_lat = zip(*wgs[0], strict=True)
    # GCJ-02 is hundreds of metres off; converting back lands on the WGS 84 track
    _, _, off = GEOD.inv(w_lon[0], w_lat[0], lon[0], lat[0])
    assert 100 < off < 1000
    _, _, err = GEOD.inv(list(w_lon), list(w_lat), list(back_lon), list(back_lat))
    assert max(err) < 1.0
    assert b"Stage 2:" in r.data  # names in the asked language


def test_trip_kml(client):
    r = client.get("/api/route/trip.kml?max_km=250&start=st_xilinhot")
    assert r.status_code == 200 and r.mimetype == "application/vnd.google-earth.kml+xml"
    assert r.headers["Content-Disposition"] == 'attachment; filename="trip.kml"'
    assert r.data.count(b"<LineString") == len(client.get(
        "/api/route/stages?max_km=250&start=st_xilinhot").json["stages"])


@pytest.mark.parametrize("url,code", [
    ("/api/route/stages?start=st_atlantis", "no_such_station"),
    ("/api/route/stages?end=" + "x" * 65, "no_such_station"),
    ("/api/route/stages?direction=sideways", "bad_direction"),
    ("/api/route/stages?start=st_baochang&end=st_wulagai&direction=reverse", "direction_conflict"),
    ("/api/route/stages?start=st_baochang&end=st_baochang", "empty_trip"),
    ("/api/route/trip.gpx?stage=99", "no_such_stage"),
    ("/api/route/trip.shp", "unsupported_format"),
    ("/api/route/trip.gpx?datum=klingon", "bad_datum"),
])
def test_trip_errors_have_their_codes(client, url, code):
    r = client.get(url)
    assert r.status_code == 400 and r.json["code"] == code, r.json


# -- every code, as the pages show it ---------------------------------------------------------
def test_pages_have_a_sentence_for_every_error_code():
    from webmap.pages.maps.i18n import strings

    for lang, col in (("zh", 0), ("en", 1)):
        s = strings(lang)
        for code, pair in MESSAGES.items():
            assert s["err_" + code] == pair[col], code
            text = s["err_" + code]
            assert not PARAMETER.search(text), (code, text)  # for a person
            assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), (code, text)  # no identifiers
