"""layers.validate_ref: a replacement checked against the catalog, row by row.

Each case is a file with a known fault at a known row of the user's file (counted
after the title rows), and the answer must name that row, the column and the value.
"""

from __future__ import annotations

import io

import geopandas as gpd
import pytest
import shapely

from geo.read import read_file
from layers.catalog import get_spec
from layers.errors import LayerNotFound
from layers.issues import Issues
from layers.replace import prepare_replacement
from layers.validate_ref import conform_geometries, league_area, reference_spec, validate_layer
from tests import ingest_fixtures as fx

CURRENT = {n: fx.reference(n) for n in ("admin", "basins", "rivers", "sections", "scenic_road",
                                        "stations", "attractions", "projects", "ports")}


def _prepare(layer: str, data: bytes, name: str, **kw):
    return prepare_replacement(layer, read_file(data, filename=name, keep_unlocated=True,
                                                trace=True, **kw), CURRENT)


def _sheet(rows: list[list]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2023年重大项目表"])
    ws.append(["单位：亿元"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


HEAD = ["编号", "项目名称", "类别", "总投资", "2023年计划投资", "经度", "纬度"]


def test_a_river_file_given_to_projects_is_one_clear_error():
    with open(fx.layer_path("rivers"), "rb") as fh:
        rep = _prepare("projects", fh.read(), "rivers.geojson")
    assert [i.code for i in rep.issues.errors] == ["wrong_geometry"]
    e = rep.issues.errors[0]
    assert e.row is None and "rivers" in e.hint and "scenic_road" in e.hint
    assert "线" in e.message_zh and "点" in e.message_zh


def test_required_fields_missing_in_cells_and_as_columns():
    rep = _prepare("projects", _sheet([HEAD, ["A1", "甲", "能源", 10, 2, 116.4, 42.2],
                                       ["A2", "", "能源", 10, 2, 116.4, 42.2],
                                       ["A3", "丙", "", None, 2, 116.4, 42.2]]), "r.xlsx")
    missing = sorted((i.row, i.field, i.column) for i in rep.issues.errors
                     if i.code == "required_missing")
    assert missing == [(5, "name_zh", "项目名称"), (6, "category", "类别"),
                       (6, "total_investment_yi", "总投资")]
    rep = _prepare("projects", _sheet([["项目名称", "总投资", "经度", "纬度"],
                                       ["甲", 10, 116.4, 42.2]]), "r.xlsx")
    cols = {i.field for i in rep.issues.errors if i.code == "required_column_missing"}
    assert cols == {"category", "plan_2023_yi"}


def test_duplicate_ids_name_both_rows():
    rep = _prepare("projects", _sheet([HEAD, ["X1", "甲", "能源", 10, 2, 116.4, 42.2],
                                       ["X2", "乙", "能源", 10, 2, 116.4, 42.2],
                                       ["X1", "丙", "能源", 10, 2, 116.4, 42.2]]), "r.xlsx")
    dup = [i for i in rep.issues.errors if i.code == "duplicate_id"]
    assert [(i.row, i.value, i.detail["first_row"], i.column) for i in dup] == [(6, "X1", 4, "编号")]


def test_outside_the_league_with_a_tolerance():
    # 二连浩特口岸 sits on the border (inside the tolerance); 北京 does not.
    rep = _prepare("projects", _sheet([HEAD, ["B1", "口岸", "能源", 10, 2, 111.97, 43.65],
                                       ["B2", "北京", "能源", 10, 2, 116.40, 39.90],
                                       ["B3", "边境外5公里", "能源", 10, 2, 111.90, 43.72]]), "r.xlsx")
    out = [i for i in rep.issues.errors if i.code == "outside_league"]
    assert [i.row for i in out] == [5]
    assert 200 < out[0].detail["distance_km"] < 220  # 北京 to the League's southern tip
    assert "gcj02" in out[0].hint


def test_amounts_in_wan_where_yi_is_expected_are_flagged_with_the_fix():
    rep = _prepare("projects", fx.registry_xlsx("亿元", values_in="万元"), "r.xlsx")
    errs = [i for i in rep.issues.errors if i.code == "amount_unit"]
    assert {i.field for i in errs} == {"total_investment_yi", "plan_2023_yi"}
    total = next(i for i in errs if i.field == "total_investment_yi")
    assert total.detail["ratio"] == 10_000 and total.suggestion == pytest.approx(1568.0)
    assert "(万元)" in total.hint and "万元" in total.message_zh
    # The same sheet headed in 万元 is converted and passes.
    assert _prepare("projects", fx.registry_xlsx("万元"), "r.xlsx").ok


def test_a_totals_row_that_disagrees_with_the_rows():
    rows = [HEAD, ["C1", "甲", "能源", 10, 2, 116.4, 42.2], ["C2", "乙", "能源", 5, 1, 116.4, 42.2],
            ["合计", None, None, 16, 3, None, None]]
    rep = _prepare("projects", _sheet(rows), "r.xlsx")
    w = [i for i in rep.issues.warnings if i.code == "totals_row_differs"]
    assert [(i.field, i.value, i.suggestion, i.row) for i in w] == [("total_investment_yi", 16.0,
                                                                     15.0, 6)]


def test_rows_the_reader_dropped_are_errors():
    rows = [HEAD, ["D1", "甲", "能源", 10, 2, "东经116度x", 42.2], ["D2", "乙", "能源", 1, 1, 116.4, 42.2]]
    rep = _prepare("projects", _sheet(rows), "r.xlsx")
    dropped = [i for i in rep.issues.errors if i.code == "dropped_bad_coordinate"]
    assert [i.row for i in dropped] == [4] and len(rep.gdf) == 1


def test_plan_larger_than_total_and_negative_amounts():
    rep = _prepare("projects", _sheet([HEAD, ["E1", "甲", "能源", 1, 2, 116.4, 42.2],
                                       ["E2", "乙", "能源", -1, 0, 116.4, 42.2]]), "r.xlsx")
    assert [i.row for i in rep.issues.warnings if i.code == "plan_exceeds_total"] == [4]
    assert [i.row for i in rep.issues.errors if i.code == "negative"] == [5]


def test_unknown_layer_and_league_area():
    with pytest.raises(LayerNotFound) as e:
        reference_spec("project")
    assert "projects" in e.value.hint and e.value.code == "layer_not_found"
    # The League outline widened by the tolerance holds every committed feature.
    area = league_area(CURRENT["admin"])
    from geo import measure
    for name in ("projects", "ports", "stations", "sections"):
        assert shapely.within(measure.to_metric(CURRENT[name].geometry.values), area).all()


def test_every_committed_layer_passes_its_own_validation():
    for name, gdf in CURRENT.items():
        spec = get_spec(name)
        iss = Issues()
        g = conform_geometries(gdf, spec, iss, where="feature")
        validate_layer(g, spec, issues=iss, where="feature", admin=CURRENT["admin"],
                       context=CURRENT)
        assert iss.ok, (name, iss.to_dict()["errors"][:3])


def test_single_part_multis_become_simple_and_river_pieces_are_joined():
    spec = get_spec("rivers")
    pieces = shapely.MultiLineString([[(116.0, 43.5), (116.1, 43.7)], [(116.12, 43.72), (116.2, 44.0)]])
    gdf = gpd.GeoDataFrame({"name_zh": ["甲河", "乙河"]},
                           geometry=[pieces, shapely.MultiLineString([[(115, 43), (115.5, 43.2)]])],
                           crs=4326)
    iss = Issues()
    out = conform_geometries(gdf, spec, iss)
    assert out.geom_type.tolist() == ["LineString", "LineString"]
    w = [i for i in iss.warnings if i.code == "parts_joined"]
    assert len(w) == 1 and 2.5 < w[0].detail["gap_km"] < 3.5  # the 0.02°/0.02° gap
