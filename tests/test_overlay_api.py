"""POST /api/overlay and `flask atlas overlay` with the issue-14 columns: accuracy of what
each answer was measured against, distances rounded to it, yes/no/uncertain, lines
placed by their largest part, drainage without a distance cap, and the rules stated.

Expected values come from the committed GeoJSON read with ``json`` and distances from
shapely in a UTM zone (pyproj), never from the overlay's own code.
"""

from __future__ import annotations

import csv
import io
import json
from functools import cache

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from layers.prepare import layer_path
from tests.test_overlay_shares import crossings, layer, to_ll

UTM50 = Transformer.from_crs(4326, 32650, always_xy=True)

KINDS = ("river", "section", "road", "basin", "county")


@cache
def features(name: str) -> dict[str, dict]:
    """Committed features of a layer by id (json, not GDAL)."""
    with open(layer_path(name), encoding="utf-8") as fh:
        fc = json.load(fh)
    return {f["properties"].get("id") or f["properties"].get("adcode"): f
            for f in fc["features"]}


def utm(geom):
    return shapely.transform(geom, lambda c: np.column_stack(UTM50.transform(c[:, 0], c[:, 1])))


def step_by_hand(acc: float) -> float:
    """The largest 1, 2, 5 × 10ⁿ ≤ acc / 10, at least 1 (written out, not geo.accuracy)."""
    best = 1.0
    for n in range(0, 6):
        for m in (1, 2, 5):
            if m * 10 ** n <= acc / 10:
                best = float(m * 10 ** n)
    return best


POINTS = [("xilinhot", 116.0861, 43.9334), ("duolun", 116.4856, 42.1977),
          ("taipusi", 115.2832, 41.8779), ("wulagai", 118.83, 45.72),
          ("abaga", 115.0, 44.85)]


def post(client, fc):
    r = client.post("/api/overlay", data=json.dumps(fc), content_type="application/geo+json")
    assert r.status_code == 200, r.json
    return r.json


def points_fc():
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": n}, "geometry": {"type": "Point",
                                                                  "coordinates": [x, y]}}
        for n, x, y in POINTS]}


def test_rows_carry_the_accuracy_they_were_measured_against(client):
    body = post(client, points_fc())
    rivers = features("rivers")
    sections = features("sections")
    for row, feat in zip(body["rows"], body["geojson"]["features"], strict=True):
        for kind in KINDS:
            assert f"{kind}_accuracy_m" in row and f"{kind}_illustrative" in row
        # the GeoJSON download carries the same columns and values
        assert {k: feat["properties"][k] for k in row} == row
        river = rivers[row["river_id"]]["properties"]
        assert row["river_accuracy_m"] == river["accuracy_m"]
        assert row["river_illustrative"] is river["illustrative"]
        section = sections[row["section_id"]]["properties"]
        assert row["section_accuracy_m"] == section["accuracy_m"]
        # distance: a multiple of the step for that accuracy, within half a step (plus
        # 0.3 % for the projection) of shapely's distance in UTM 50N
        site = utm(shapely.Point(feat["geometry"]["coordinates"]))
        d = shapely.distance(site, utm(shapely.geometry.shape(rivers[row["river_id"]]
                                                              ["geometry"])))
        step = step_by_hand(river["accuracy_m"])
        assert row["river_distance_m"] % step == 0
        assert abs(row["river_distance_m"] - d) <= step / 2 + 0.003 * d + 1
        # yes/no/uncertain against the 1 km buffer within ± the river's accuracy
        acc = river["accuracy_m"]
        want = "yes" if d + acc <= 1000 else "no" if d - acc > 1000 else "uncertain"
        if abs(abs(d - 1000) - acc) > 0.003 * d + 5:  # not on the edge of the band
            assert row["in_river_buffer_status"] == want, (row["id"], d, acc)
        if abs(d - 1000) > 0.003 * d + 5:
            assert row["in_river_buffer"] is bool(d <= 1000)
    # ± 5 km rivers give 500 m steps: no row claims a decimetre
    assert all(r["river_distance_m"] == round(r["river_distance_m"]) for r in body["rows"])
    acc = body["accuracy"]["river_distance_m"]
    assert acc["accuracy_m"][0] >= 2000 and acc["step_m"][0] >= 200


def test_rules_in_the_answer_and_the_description(client):
    body = post(client, points_fc())
    assert set(body["rules"]) == {"placement", "drainage", "accuracy"}
    assert "no cap" in body["rules"]["drainage"]["en"]
    assert "不设距离上限" in body["rules"]["drainage"]["zh"]
    d = client.get("/api/overlay").json
    assert d["rules"] == body["rules"]
    assert [c["name"] for c in d["columns"]] == body["columns"]
    assert all(c["zh"] and c["en"] for c in d["columns"])
    assert "river_accuracy_m" in body["columns"] and "upstream_status" in body["columns"]


def test_far_sites_in_a_basin_with_rivers_drain_to_it(client):
    """Projects of 太仆寺旗 more than 30 km from any river are upstream of the Luan
    sections (they were 'not upstream' under the old 30 km cap)."""
    with open(layer_path("projects"), encoding="utf-8") as fh:
        projects = [f for f in json.load(fh)["features"]
                    if f["properties"].get("county") == "太仆寺旗"]
    rivers = [utm(shapely.geometry.shape(f["geometry"])) for f in features("rivers").values()]
    far = [f for f in projects
           if min(shapely.distance(utm(shapely.geometry.shape(f["geometry"])), r)
                  for r in rivers) > 30_000]
    assert len(far) >= 5
    body = post(client, {"type": "FeatureCollection", "features": far})
    for row in body["rows"]:
        assert row["upstream_status"] == "yes" and row["upstream_of_section"] is True
        assert "sec_luanhe_duolun" in row["upstream_sections"].split(";")
        assert row["upstream_reason"] == "drains_to_section"
        assert row["upstream_reason_zh"] and row["upstream_reason_en"]
    # outside the League: unknown; an inland basin: no, with the reason
    rows = {r["id"]: r for r in post(client, {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "out"},
         "geometry": {"type": "Point", "coordinates": [108.0, 40.0]}},
        {"type": "Feature", "properties": {"id": "abaga"},
         "geometry": {"type": "Point", "coordinates": [115.0, 44.85]}}]})["rows"]}
    assert rows["out"]["upstream_status"] == "unknown"
    assert rows["out"]["upstream_of_section"] is False
    assert rows["abaga"]["upstream_status"] == "no"
    assert rows["abaga"]["upstream_reason"] == "inland_basin"


def test_a_line_across_a_county_border_takes_the_longer_side(client):
    units = layer("admin")[layer("admin")["level"] != "league"].reset_index(drop=True)
    cases = crossings(units, "name_zh", per_border=1)[:6]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"n": i},
         "geometry": shapely.geometry.mapping(to_ll(c[0]))} for i, c in enumerate(cases)]}
    body = post(client, fc)
    for row, (_, long_side, short_side, share) in zip(body["rows"], cases, strict=True):
        assert row["county"] == long_side
        parts = dict(p.split(":") for p in row["county_shares"].split(";"))
        assert list(parts) == [long_side, short_side]
        assert float(parts[long_side]) == pytest.approx(share, abs=0.002)


def test_cli_rounds_as_the_api_does(client, app, tmp_path):
    src = tmp_path / "sites.csv"
    src.write_text("name,lon,lat\n" + "".join(f"{n},{x},{y}\n" for n, x, y in POINTS),
                   encoding="utf-8")
    out = tmp_path / "overlay.csv"
    result = app.test_cli_runner().invoke(args=["atlas", "overlay", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    api = post(client, points_fc())["rows"]
    for got, want in zip(rows, api, strict=True):
        for col in ("river_distance_m", "section_distance_m", "road_distance_m", "road_km",
                    "river_accuracy_m", "in_river_buffer_status", "upstream_status"):
            if isinstance(want[col], float):
                assert float(got[col]) == want[col], col
            else:
                assert got[col] == str(want[col]), col


def test_streamed_downloads_carry_the_accuracy_columns(client):
    """format=csv and format=geojson (streamed downloads) carry the same rounded values
    and accuracy columns as the JSON rows."""
    rows = post(client, points_fc())["rows"]
    r = client.post("/api/overlay?format=csv", data=json.dumps(points_fc()),
                    content_type="application/geo+json")
    assert r.status_code == 200
    got = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    for row, want in zip(got, rows, strict=True):
        for kind in KINDS:
            assert float(row[f"{kind}_accuracy_m"]) == want[f"{kind}_accuracy_m"]
            assert row[f"{kind}_illustrative"] == str(want[f"{kind}_illustrative"])
        assert float(row["river_distance_m"]) == want["river_distance_m"]
        assert row["in_river_buffer_status"] == want["in_river_buffer_status"]
    r = client.post("/api/overlay?format=geojson", data=json.dumps(points_fc()),
                    content_type="application/geo+json")
    feats = json.loads(r.data)["features"]
    assert [f["properties"]["river_accuracy_m"] for f in feats] == [
        w["river_accuracy_m"] for w in rows]
    assert [f["properties"]["road_distance_m"] for f in feats] == [
        w["road_distance_m"] for w in rows]
