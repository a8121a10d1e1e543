"""POST /api/overlay streamed: csv, ndjson and geojson equal the JSON answer row for row.

The JSON answer overlays every site at once (:func:`geo.overlay.overlay_sites`); the
streamed formats overlay chunk by chunk (chunks of 700 sites here, so a few thousand
sites cross several chunk edges).  Each streamed row is compared with the JSON row of
the same site, value by value, after parsing with the standard library's csv and json.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

import webmap.api.analysis as analysis

N = 2500


def _sites_csv(n: int = N, seed: int = 3) -> bytes:
    """Sites over the League and beyond, with names a CSV must quote or guard."""
    rng = np.random.default_rng(seed)
    lon = np.round(rng.uniform(110.0, 121.0, n), 6)
    lat = np.round(rng.uniform(41.0, 47.0, n), 6)
    names = [f"站点{i}" for i in range(n)]
    names[1], names[2], names[3], names[4] = 'say "hi", twice', "=HYPERLINK(1)", "-12.5", "a\nb"
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["name", "lon", "lat", "note"])
    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        w.writerow([names[i], x, y, "" if i % 7 else f"n{i}"])
    return out.getvalue().encode("utf-8")


@pytest.fixture(scope="module")
def answers(app):
    """The JSON answer and the three streamed ones for the same upload (small chunks)."""
    client = app.test_client()
    data = _sites_csv()
    out = {}
    old = analysis.CHUNK_ROWS
    analysis.CHUNK_ROWS = 700
    try:
        for fmt in (None, "csv", "ndjson", "geojson"):
            form = {"file": (io.BytesIO(data), "sites.csv"), "river_buffer_m": "2500"}
            if fmt:
                form["format"] = fmt
            r = client.post("/api/overlay", data=form, content_type="multipart/form-data")
            assert r.status_code == 200, r.get_data(as_text=True)[:500]
            r.get_data()  # read the stream now
            out[fmt or "json"] = r
    finally:
        analysis.CHUNK_ROWS = old
    return out


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return a == b


def test_json_answer_is_the_page_answer(answers):
    body = answers["json"].get_json()
    assert body["count"] == N and len(body["rows"]) == N
    assert body["parameters"]["river_buffer_m"] == 2500.0
    assert len(body["geojson"]["features"]) == N
    assert [f["id"] for f in body["geojson"]["features"]] == list(range(N))
    assert sum(r["count"] for r in body["summary"]["by_basin"]) == N


def test_ndjson_equals_the_json_answer_row_for_row(answers):
    r = answers["ndjson"]
    assert r.mimetype == "application/geo+json-seq"
    lines = r.get_data(as_text=True).split("\n")
    assert lines[-1] == "" and len(lines) == N + 1
    features = [json.loads(line) for line in lines[:-1]]
    expected = answers["json"].get_json()
    assert features == expected["geojson"]["features"]
    assert [f["properties"] for f in features] == expected["rows"]


def test_geojson_equals_the_json_answer_row_for_row(answers):
    body = answers["geojson"].get_json()
    expected = answers["json"].get_json()
    assert body["type"] == "FeatureCollection"
    assert body["features"] == expected["geojson"]["features"]
    assert body["count"] == N and body["parameters"] == expected["parameters"]
    assert body["report"] == expected["report"]


def test_csv_equals_the_json_answer_row_for_row(answers):
    r = answers["csv"]
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    raw = r.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese as UTF-8
    table = list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
    expected = answers["json"].get_json()
    assert len(table) == N
    columns = list(expected["rows"][0])
    assert list(table[0]) == ["lon", "lat", *columns]
    for row, want, feature in zip(table, expected["rows"], expected["geojson"]["features"],
                                  strict=True):
        lon, lat = feature["geometry"]["coordinates"]
        assert float(row["lon"]) == lon and float(row["lat"]) == lat
        for col in columns:
            value, cell = want[col], row[col]
            if value is None:
                assert cell == "", col
            elif isinstance(value, bool):
                assert cell == str(value), col
            elif isinstance(value, (int, float)):
                assert _same(float(cell), float(value)), col
            elif value and value[0] in "=+-@" and not value.lstrip("-")[:1].isdigit():
                assert cell == "'" + value, col  # a formula stays text in a spreadsheet
            else:
                assert cell == value, col
    assert table[1]["name"] == 'say "hi", twice' and table[2]["name"] == "'=HYPERLINK(1)"
    assert table[3]["name"] == "-12.5" and table[4]["name"] == "a\nb"


def test_more_sites_than_one_json_answer_holds(make_app):
    app = make_app(ATLAS_OVERLAY_MAX_SITES=100)
    client = app.test_client()
    data = _sites_csv(150)
    r = client.post("/api/overlay", data={"file": (io.BytesIO(data), "s.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 413
    body = r.get_json()
    assert body["code"] == "overlay_too_large" and "/api/jobs/overlay" in body["hint"]
    assert "format=csv" in body["hint"] and body["error_zh"] and body["hint_zh"]
    # Streamed, the same upload is answered whole.
    r = client.post("/api/overlay?format=csv", data={"file": (io.BytesIO(data), "s.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and r.get_data().count(b"\r\n") == 151


def test_unknown_format_is_refused(client):
    r = client.post("/api/overlay?format=xlsx", data=json.dumps({
        "type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                   "geometry": {"type": "Point",
                                                                "coordinates": [116, 44]}}]}),
        content_type="application/geo+json")
    assert r.status_code == 400 and r.get_json()["code"] == "bad_parameter"


def test_polygons_stream_as_wkt(client):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"n": 1}, "geometry": {
            "type": "Polygon", "coordinates": [[[116, 44], [116.1, 44], [116.1, 44.1],
                                                [116, 44]]]}},
        {"type": "Feature", "properties": {"n": 2},
         "geometry": {"type": "Point", "coordinates": [116.5, 44.5]}}]}
    r = client.post("/api/overlay?format=csv", data=json.dumps(fc),
                    content_type="application/geo+json")
    table = list(csv.DictReader(io.StringIO(r.get_data()[3:].decode("utf-8"), newline="")))
    assert list(table[0])[0] == "wkt" and table[0]["wkt"].startswith("POLYGON ((116 44")
    assert table[1]["wkt"] == "POINT (116.5 44.5)"
