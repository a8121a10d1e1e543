"""The whole pure pipeline of a reference replacement on files as the offices have them,
and the blank templates.

Each fixture is written from the committed reference data, so the answers are known:
the seed article's totals, the committed features by name, the gazetteer's towns in
their counties (by the admin polygons), the basins' outlines.
"""

from __future__ import annotations

import io
import json

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely

from geo.crs import DISTANCE_CRS
from geo.errors import GeoInputError
from geo.read import read_file
from geo.water.gb3838 import PARAMETERS
from layers.catalog import CATALOG, SEED_PROJECT_TOTALS, get_spec
from layers.mapping import map_columns
from layers.reference_hooks import hook_for
from layers.replace import merge_append, prepare_replacement
from layers.template import example_from, template_xlsx
from tests import ingest_fixtures as fx
from tests.fixtures.make_fixtures import DUOLUN

CURRENT = {s.id: fx.reference(s.id) for s in CATALOG}


def _prepare(layer: str, data: bytes, name: str, read_kw: dict | None = None, **kw):
    res = read_file(data, filename=name, keep_unlocated=True, trace=True, **(read_kw or {}))
    return prepare_replacement(layer, res, CURRENT, **kw)


@pytest.mark.parametrize("variant", [dict(unit="亿元"), dict(unit="万元"),
                                     dict(unit="万元", unit_in="title"),
                                     dict(merge_categories=True)])
def test_registry_replacement_reproduces_the_seed_table(variant):
    rep = _prepare("projects", fx.registry_xlsx(**variant), "registry.xlsx")
    assert rep.ok, rep.issues.to_dict()["errors"][:3]
    assert rep.to_commit().keys() == {"projects"}
    t = rep.totals["total"]
    assert t["new"] == {k: SEED_PROJECT_TOTALS[k] for k in ("count", "total_investment_yi",
                                                             "plan_2023_yi", "permits_complete")}
    assert all(v == 0 for v in t["difference"].values())
    for split in ("by_category", "by_status", "by_investor"):
        for row in rep.totals[split]:
            assert row["difference"] == {"count": 0, "plan_2023_yi": 0.0}, (split, row)
    # Same ids (from 序号), same positions and amounts: only what the sheet lacks differs.
    assert rep.diff["counts"]["added"] == rep.diff["counts"]["removed"] == 0
    assert set(rep.diff["fields_changed"]) <= {"name_en", "source", "accuracy_m", "illustrative"}
    json.dumps(rep.preview())


def test_registry_in_wan_under_yi_headers_is_refused_with_the_fix():
    rep = _prepare("projects", fx.registry_xlsx("亿元", values_in="万元"), "registry.xlsx")
    assert not rep.ok and rep.issues.codes("error") == {"amount_unit"}
    body = rep.preview()
    assert body["ok"] is False and body["counts"]["features"] == 150
    assert body["errors"][0]["suggestion"] in (1568.0, 365.0)


def test_place_only_sheet_is_placed_inside_the_named_counties():
    rep = _prepare("projects", fx.place_only_xlsx(), "places.xlsx",
                   defaults={"source": "盟发改委新增项目", "illustrative": False})
    assert rep.ok, rep.issues.to_dict()["errors"]
    g = rep.gdf
    units = CURRENT["admin"][CURRENT["admin"]["level"] != "league"].set_index("name_zh")
    assert shapely.contains(units.loc[g["county"]].geometry.values, g.geometry.values).all()
    assert g["county"].tolist() == ["多伦县", "正蓝旗", "苏尼特右旗", "东乌珠穆沁旗", "多伦县",
                                    "乌拉盖管理区"]
    # 多伦县医院扩建 at 多伦诺尔镇: within its stated accuracy of the town's known position.
    m = gpd.GeoSeries([g.geometry[4], shapely.Point(*DUOLUN)], crs=4326).to_crs(DISTANCE_CRS)
    assert m[0].distance(m[1]) <= g["accuracy_m"][4] == 3000
    assert g["accuracy_m"][3] > 100_000  # 东乌旗 alone: the county's extent
    assert g["category"].tolist() == ["energy", "ecology", "energy", "infrastructure", "social",
                                      "industry"]
    assert g["total_investment_yi"].tolist() == [5.1, 5.2, 5.3, 5.4, 5.5, 5.6]
    assert g["source"].unique().tolist() == ["盟发改委新增项目"]
    assert [p["row"] for p in rep.preview()["placements"]] == [3, 4, 5, 6, 7, 8]


def test_an_unplaceable_row_blocks_the_commit_with_its_row():
    rep = _prepare("projects", fx.place_only_xlsx(unplaceable=True), "places.xlsx")
    assert [(i.code, i.row) for i in rep.issues.errors] == [("unplaceable", 9)]
    assert rep.issues.rows_in_error() == [9]


def test_basins_shapefile_in_gauss_kruger_with_gbk_attributes():
    rep = _prepare("basins", fx.basins_shapefile_zip(), "basins.zip")
    assert rep.ok
    b = CURRENT["basins"]
    assert rep.gdf["name_zh"].tolist() == b["name_zh"].tolist()  # GBK decoded
    assert rep.gdf["id"].tolist() == b["id"].tolist()
    assert np.allclose(rep.gdf["area_km2"], b["area_km2"], atol=0.15)
    assert rep.diff["fields_changed"].get("geometry", 0) == 0
    assert rep.report.source["crs"] == "EPSG:4548"


def test_basins_shapefile_without_prj_needs_its_crs():
    with pytest.raises(GeoInputError) as e:
        read_file(fx.basins_shapefile_zip(prj=False), filename="basins.zip")
    assert e.value.status == 422 and "4548" in e.value.hint
    rep = _prepare("basins", fx.basins_shapefile_zip(prj=False), "basins.zip",
                   read_kw={"crs": "EPSG:4548"})
    assert rep.ok and np.allclose(rep.gdf["area_km2"], CURRENT["basins"]["area_km2"], atol=0.15)


def test_scenic_road_from_a_gps_track_commits_its_dependents():
    rep = _prepare("scenic_road", fx.road_gpx(), "road.gpx")
    assert rep.ok
    commit = rep.to_commit()
    assert set(commit) == {"scenic_road", "stations", "attractions"}
    road = commit["scenic_road"]
    assert len(road) == 1 and road["name_zh"][0] == "千里草原风景大道"
    assert road["seq"][0] == 1 and road["km_start"][0] == 0.0
    assert list(commit["stations"].columns) == list(get_spec("stations").field_names) + ["geometry"]
    assert rep.preview()["dependents"]["stations"]["changed"]["km"] >= 1


def test_stations_csv_in_dms_rederives_km_and_county():
    rep = _prepare("stations", fx.stations_csv_dms(), "stations.csv")
    assert rep.ok
    st = CURRENT["stations"].set_index("id")
    new = rep.gdf.set_index("id").loc[st.index]
    assert np.allclose(new["km"], st["km"], atol=0.1)
    assert (new["county"] == st["county"]).all() and (new["county_en"] == st["county_en"]).all()
    # Hundredths of a second round to 0.15 m; accuracy is floored at 1 m.
    assert (new["accuracy_m"] == 1.0).all()


def test_append_mode_updates_and_adds_by_id():
    text = ("编号,项目名称,类别,总投资,2023年计划投资,经度,纬度\n"
            "P001,二连浩特市储能电站(更新),能源,12.5,3.0,111.99,43.66\n"
            "P151,新项目,能源,1.0,0.5,116.1,43.9\n")
    rep = _prepare("projects", text.encode(), "monthly.csv", mode="append")
    assert rep.ok and rep.appended == {"updated": 1, "added": 1}
    assert len(rep.gdf) == 151
    assert rep.diff["added"] == ["P151"]
    assert [c["id"] for c in rep.diff["changed"]] == ["P001"]
    p1 = rep.gdf.set_index("id").loc["P001"]
    assert p1["total_investment_yi"] == 12.5 and p1["county"] == "二连浩特市"
    m, updated, added = merge_append(CURRENT["stations"], CURRENT["stations"].iloc[:2])
    assert (updated, added, len(m)) == (2, 0, 10)


# -- templates -------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", [s.id for s in CATALOG])
def test_template_maps_back_onto_the_catalog(layer):
    spec = get_spec(layer)
    data = template_xlsx(layer)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["数据", "代码表", "说明"]
    heads = [c.value for c in wb["数据"][1]]
    for f in spec.fields:
        if f.required and not f.derived:
            assert f"*{f.label_zh}" in "".join(heads)
    gdf, report = read_file(data, filename="t.xlsx", keep_unlocated=True, trace=True)
    if hook_for(layer) is not None:
        # a layer read by its own step (a monitoring sheet): every column but the remarks
        # feeds a field, and the example row is a valid replacement
        rep = prepare_replacement(layer, (gdf, report), CURRENT)
        assert rep.ok, rep.issues.to_dict()["errors"]
        assert rep.mapping.unmapped == ["备注"] and len(rep.gdf) == 1
        assert set(rep.mapping.matches) >= {"sampled_on", "section", *PARAMETERS}
        return
    m = map_columns(gdf, spec)
    assert m.mapping.unmapped == [] and m.issues.ok
    assert {f for f in m.mapping.matches if f != "place"} >= {f.name for f in spec.fields
                                                             if not f.derived}
    # The example row is a valid replacement on its own.
    rep = prepare_replacement(layer, (gdf, report), CURRENT)
    assert rep.ok, rep.issues.to_dict()["errors"]


def test_template_lists_the_coded_values():
    wb = openpyxl.load_workbook(io.BytesIO(template_xlsx("projects")))
    rows = [[c.value for c in r] for r in wb["代码表"].iter_rows(min_row=2)]
    cats = [r for r in rows if r[0] == "类别"]
    assert [r[2] for r in cats] == [c.value for c in get_spec("projects").field("category").codes]
    assert ["建设性质", "Status", "new", "新建", "New"] == [rows[i][:5] for i in range(len(rows))
                                                      if rows[i][2] == "new"][0]
    assert any(r[0] == "手续齐备" and r[3] == "是" for r in rows)
    data = wb["数据"]
    assert data.data_validations.dataValidation  # drop-downs on the coded columns


def test_template_example_from_a_stored_feature():
    p = CURRENT["projects"].iloc[0]
    data = template_xlsx("projects", example_from(p.to_dict(), p.geometry))
    gdf, _ = read_file(data, filename="t.xlsx", keep_unlocated=True, trace=True)
    assert gdf.geometry.iloc[0].equals_exact(p.geometry, 1e-6)
    assert gdf["*类别"].iloc[0] == "能源" and gdf["*项目名称"].iloc[0] == p["name_zh"]


# -- anything a person may upload ------------------------------------------------------------

_CELLS = ("", " ", "合计", "一、能源", "注：x", "116.4", "42.2", "1,234", "１２", "能源", "多伦县",
          "大北沟镇", "是", "序号", "项目名称", "经度", "纬度", "X", "Y", "4866828", "单位：万元",
          "总投资（万元）", "类别", "河流", "名称")


def test_any_table_gives_an_answer_or_a_clear_read_error():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    cell = st.one_of(st.sampled_from(_CELLS), st.text(max_size=5))

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.lists(cell, min_size=1, max_size=6), min_size=1, max_size=6),
           st.sampled_from([None, "EPSG:4548"]), st.sampled_from([s.id for s in CATALOG]))
    def run(rows, crs, layer):
        text = "\n".join(",".join(r) for r in rows).encode()
        try:
            res = read_file(text, filename="f.csv", keep_unlocated=True, trace=True, crs=crs)
        except GeoInputError as e:
            assert 400 <= e.status < 500
            return
        rep = prepare_replacement(layer, res, CURRENT)
        json.dumps(rep.preview(), default=str)
        if not rep.ok:
            assert all(i.message and i.message_zh for i in rep.issues.errors)

    run()
