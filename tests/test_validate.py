"""geo.validate: repairs with reasons, empties dropped, far features flagged (issue 3 item 3)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.validate import LEAGUE_BBOX, validate

BOWTIE = shapely.Polygon([(116, 43), (117, 44), (117, 43), (116, 44)])
SQUARE = shapely.box(116, 43, 116.5, 43.5)


def frame(geoms, index=None, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=list(geoms), index=index, crs=4326)


def test_invalid_repaired_with_original_reason():
    out, report = validate(frame([BOWTIE, SQUARE], index=[10, 11], name=["bow", "ok"]))
    assert out.index.tolist() == [10, 11] and out.geometry.is_valid.all()
    # make_valid keeps the bowtie's area, now as two triangles of 0.25 square degrees
    assert out.geometry[10].geom_type == "MultiPolygon"
    assert abs(out.geometry[10].area - 0.5) < 1e-9
    entry = report.repairs[0]
    assert entry.index == 10 and entry.code == "repaired_invalid"
    assert entry.detail["reason"].startswith("Self-intersection")
    assert entry.detail["type_changed"] is True  # Polygon → MultiPolygon


def test_degenerate_collapses_to_a_drop():
    flat = shapely.Polygon([(116, 43), (117, 43), (116.5, 43), (116, 43)])  # zero area
    out, report = validate(frame([flat, SQUARE]))
    assert out.index.tolist() == [1]
    assert [e.code for e in report.dropped] == ["degenerate_geometry"]


def test_empty_and_missing_dropped_with_labels():
    out, report = validate(frame([None, shapely.Point(), SQUARE], index=[5, 6, 7]))
    assert out.index.tolist() == [7]
    assert [(e.code, e.index) for e in report.dropped] == [("empty_geometry", 5),
                                                          ("empty_geometry", 6)]


def test_outside_region_flag_default_and_custom():
    gdf = frame([shapely.Point(116, 44), shapely.Point(121.0, 44), shapely.Point(2.35, 48.85)])
    out, report = validate(gdf)
    # 121°E is a degree east of the League's box (119.99°E), beyond the 0.5° margin
    assert out["outside_region"].tolist() == [False, True, True]
    assert report.warnings[0].detail["count"] == 2
    out2, _ = validate(gdf, region=(0, 40, 10, 50))
    assert out2["outside_region"].tolist() == [True, True, False]
    out3, report3 = validate(gdf, region=False)
    assert "outside_region" not in out3.columns and not report3.warnings


def test_all_inside_adds_no_column():
    out, report = validate(frame([shapely.Point(116, 44)]))
    assert "outside_region" not in out.columns and report.to_dict()["counts"]["warnings"] == 0


def test_mixed_types_warned_but_polygon_multipolygon_not():
    _, r1 = validate(frame([SQUARE, shapely.MultiPolygon([SQUARE])]))
    assert "mixed_geometry_types" not in r1.codes()
    _, r2 = validate(frame([SQUARE, shapely.Point(116, 44)]))
    assert "mixed_geometry_types" in r2.codes()


def test_region_box_is_the_league():
    minx, miny, maxx, maxy = LEAGUE_BBOX
    assert 111 < minx < 112 and 119 < maxx < 121 and 41 < miny < 42 and 46 < maxy < 47


def test_many_features_in_one_pass():
    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(112, 119, 20_000), rng.uniform(42, 46, 20_000)
    geoms = shapely.buffer(shapely.points(xs, ys), 0.01, quad_segs=2)
    geoms[::1000] = BOWTIE
    out, report = validate(frame(geoms))
    assert len(out) == 20_000 and report.count("repairs", "repaired_invalid") == 20
