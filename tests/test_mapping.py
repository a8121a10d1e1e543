"""layers.mapping: a user's columns onto the catalog's fields, values as the catalog wants them.

The registry fixture is written from the committed projects layer, so every mapped
value is checked against that layer (by name), not against the mapping's own output.
"""

from __future__ import annotations

import numpy as np
import pytest

from geo.read import read_file
from layers.catalog import SEED_PROJECT_TOTALS, get_spec
from layers.mapping import (
    PLACE,
    header_key,
    map_columns,
    match_codes,
    match_columns,
    parse_amounts,
    parse_bools,
    place_rows,
    stable_id,
)
from tests import ingest_fixtures as fx
from tests.fixtures.make_fixtures import DUOLUN

PROJECTS = get_spec("projects")


def _mapped(data: bytes, name: str = "r.xlsx", **kw):
    gdf, report = read_file(data, filename=name, keep_unlocated=True, trace=True)
    return map_columns(gdf, PROJECTS, unit_hint=report.source.get("unit"),
                       where=report.source["row_kind"], **kw), report


def test_registry_headers_map_to_the_catalog_fields():
    m = match_columns(["序号", "项目名称", "旗县市区", "类别", "建设性质", "投资主体", "总投资（亿元）",
                       "2023年计划投资（亿元）", "手续是否办结", "备注", "地点"], PROJECTS)
    assert m.as_mapping() == {
        "id": "序号", "name_zh": "项目名称", "category": "类别", "county": "旗县市区",
        "status": "建设性质", "investor": "投资主体", "total_investment_yi": "总投资（亿元）",
        "plan_2023_yi": "2023年计划投资（亿元）", "permits_complete": "手续是否办结", PLACE: "地点"}
    assert m.unmapped == ["备注"] and m.missing_required == []


@pytest.mark.parametrize("headers, field, column", [
    (["编号", "序号", "项目名称"], "id", "编号"),                     # 编号 beats 序号
    (["所在地", "项目名称"], "county", "所在地"),
    (["行业", "项目"], "category", "行业"),
    (["项目总投资额（万元）", "项目名称"], "total_investment_yi", "项目总投资额（万元）"),
    (["2023年计划完成投资", "计划总投资"], "plan_2023_yi", "2023年计划完成投资"),
    (["2023年计划完成投资", "计划总投资"], "total_investment_yi", "计划总投资"),
    (["手续办结", "名称"], "permits_complete", "手续办结"),
    (["Project", "Category", "Total investment"], "name_zh", "Project"),
])
def test_aliases_and_containment(headers, field, column):
    assert match_columns(headers, PROJECTS).column(field) == column


def test_explicit_mapping_overrides_and_reports_its_mistakes():
    m = match_columns(["名字", "金额", "备注"], PROJECTS,
                      {"name_zh": "名字", "total_investment_yi": "金额", "county": None})
    assert m.matches["total_investment_yi"].how == "explicit" and m.column("county") is None
    from layers.issues import Issues
    iss = Issues()
    match_columns(["名字"], PROJECTS, {"nmae_zh": "名字", "category": "类型"}, issues=iss)
    by_code = {i.code: i for i in iss.errors}
    assert by_code["mapping_unknown_field"].suggestion == "name_zh"
    assert by_code["mapping_unknown_column"].value == "类型"


def test_units_in_headers_and_above_them():
    assert header_key("总投资（万元）") == ("总投资", "万元")
    m = match_columns(["总投资", "2023年计划投资(亿元)"], PROJECTS, unit_hint="万元")
    assert m.matches["total_investment_yi"].factor == pytest.approx(1e-4)
    assert m.matches["plan_2023_yi"].factor == 1.0  # its own unit wins


@pytest.mark.parametrize("variant", [dict(unit="亿元"), dict(unit="万元"),
                                     dict(unit="万元", unit_in="title"),
                                     dict(merge_categories=True)])
def test_registry_values_equal_the_source_layer(variant):
    mapped, _ = _mapped(fx.registry_xlsx(**variant))
    assert mapped.issues.ok, mapped.issues.to_dict()
    got = mapped.gdf.set_index("name_zh")
    p = fx.reference("projects").set_index("name_zh").loc[got.index]
    for col in ("category", "status", "investor"):
        assert (got[col] == p[col]).all(), col
    cents = lambda s: np.round(s.to_numpy(dtype=float) * 100).astype(int)  # noqa: E731
    assert (cents(got["total_investment_yi"]) == cents(p["total_investment_yi"])).all()
    assert (cents(got["plan_2023_yi"]) == cents(p["plan_2023_yi"])).all()
    assert (got["permits_complete"].astype(bool) == p["permits_complete"]).all()
    # The seed article's totals, in integer 0.01 亿元.
    assert cents(got["total_investment_yi"]).sum() == SEED_PROJECT_TOTALS["total_investment_yi"] * 100
    assert cents(got["plan_2023_yi"]).sum() == SEED_PROJECT_TOTALS["plan_2023_yi"] * 100


def test_ids_from_the_serial_number_in_the_catalog_style():
    mapped, _ = _mapped(fx.registry_xlsx())
    assert mapped.gdf["id"].iloc[:3].tolist() == ["P001", "P002", "P003"]
    assert mapped.filled["id"].startswith("from 序号")


def test_ids_generated_stably_from_the_name():
    text = "项目名称,旗县市区,类别,总投资,2023年计划投资,经度,纬度\n甲项目,多伦县,能源,1,1,116.4,42.2\n" \
           "乙项目,多伦县,能源,1,1,116.4,42.2\n甲项目,多伦县,能源,1,1,116.4,42.2\n"
    a, _ = _mapped(text.encode(), "a.csv")
    b, _ = _mapped(text.encode(), "a.csv")
    ids = a.gdf["id"].tolist()
    assert ids == b.gdf["id"].tolist()
    assert ids[0] == stable_id("projects", "甲项目", "多伦县") and ids[2] == ids[0] + "-2"
    assert len(set(ids)) == 3


def test_coded_values_from_labels_aliases_and_english_with_suggestions():
    f = PROJECTS.field("category")
    values, bad, sug = match_codes(["能源", "Energy", "energy", "工业和信息化", "社会民生",
                                    "生态环保类", "三、基础设施建设项目（31项）", "能原", "交通运输业"], f)
    assert values[:7].tolist() == ["energy", "energy", "energy", "industry", "social", "ecology",
                                   "infrastructure"]
    assert bad.tolist() == [False] * 7 + [True, True]
    assert sug[7] == "能源 (energy)"
    v, b, _ = match_codes(["新建", "续建", "在建", "new", "New"], PROJECTS.field("status"))
    assert v.tolist() == ["new", "continuing", "continuing", "new", "new"] and not b.any()
    v, b, _ = match_codes(["政府投资", "政府", "社会投资", "企业投资", "Social investment"],
                          PROJECTS.field("investor"))
    assert v.tolist() == ["government", "government", "social", "social", "social"]
    v, b, _ = match_codes(["Ⅲ类", "III类", "3类", "三类", "IV", "劣V类"],
                          get_spec("sections").field("target_class"))
    assert v.tolist() == ["Ⅲ类", "Ⅲ类", "Ⅲ类", "Ⅲ类", "Ⅳ类", "劣Ⅴ类"]


def test_unreadable_values_are_row_errors_with_the_sheet_row():
    text = ("2023年项目表,,,,\n项目名称,类别,总投资（万元）,手续是否办结,经度,纬度\n"
            "甲,能原,十二,待定,116.4,42.2\n乙,能源,\"3,500\",是,116.4,42.2\n")
    mapped, _ = _mapped(text.encode(), "a.csv")
    errs = {i.code: i for i in mapped.issues.errors}
    assert errs["unknown_code"].row == 3 and errs["unknown_code"].suggestion == "能源 (energy)"
    assert errs["not_a_number"].column == "总投资（万元）" and errs["not_a_number"].value == "十二"
    assert errs["not_yes_no"].value == "待定"
    assert mapped.gdf["total_investment_yi"].iloc[1] == 0.35
    assert "第3行" in errs["unknown_code"].text("zh")


def test_amount_cells_with_their_own_units_and_bools():
    v, bad = parse_amounts(["3.5亿元", "3500万元", "35,000,000元", "", "-"], "亿元", "亿元")
    assert v[:3].tolist() == [3.5, 0.35, 0.35] and not bad.any()
    v, bad = parse_bools(["是", "否", "已办结", "未办结", "√", "×", "1", "0", "yes", "?"])
    assert v.tolist()[:9] == [True, False, True, False, True, False, True, False, True]
    assert bad.tolist()[-1]


def test_accuracy_from_coordinate_precision_and_provenance_defaults():
    text = "项目名称,类别,总投资,2023年计划投资,经度,纬度\n甲,能源,1,1,116.48,42.20\n乙,能源,1,1,116.4859,42.2030\n"
    mapped, _ = _mapped(text.encode(), "a.csv", defaults={"source": "盟发改委", "illustrative": False})
    # 0.005° and 0.00005° of latitude, the rounding the coordinates were written with.
    assert mapped.gdf["accuracy_m"].tolist() == pytest.approx([556.6, 5.6], abs=0.1)
    assert mapped.gdf["source"].tolist() == ["盟发改委"] * 2
    assert mapped.gdf["illustrative"].tolist() == [False, False]


def test_english_labels_of_coded_values_from_the_chinese_column():
    spec = get_spec("scenic_road")
    import geopandas as gpd
    import shapely
    gdf = gpd.GeoDataFrame({"路段名称": ["甲段"], "主题": ["典型草原"]},
                           geometry=[shapely.LineString([(116, 44), (116.5, 44)])], crs=4326)
    mapped = map_columns(gdf, spec)
    assert mapped.gdf["theme_zh"].tolist() == ["典型草原"]
    assert mapped.gdf["theme_en"].tolist() == ["Typical steppe"]


def test_rows_placed_by_name_with_one_line_each():
    mapped, _ = _mapped(fx.place_only_xlsx(unplaceable=True))
    lines = place_rows(mapped)
    assert lines["row"].tolist() == list(range(3, 3 + len(fx.PLACE_ROWS) + 1))
    assert lines["status"].tolist() == ["ok"] * len(fx.PLACE_ROWS) + ["unknown_county"]
    assert lines["matched_zh"].tolist()[:3] == ["大北沟镇", "桑根达来镇", "朱日和镇"]
    err = [i for i in mapped.issues.errors if i.code == "unplaceable"]
    assert [i.row for i in err] == [3 + len(fx.PLACE_ROWS)]
    seat = [i for i in mapped.issues.warnings if i.code == "placed_at_county_seat"]
    assert [i.row for i in seat] == [6]  # 东乌旗 without a town
    # 多伦诺尔镇 lies within its stated accuracy of the town's known position.
    import geopandas as gpd
    g = gpd.GeoSeries([mapped.gdf.geometry.iloc[4], gpd.points_from_xy([DUOLUN[0]], [DUOLUN[1]])[0]],
                      crs=4326).to_crs("EPSG:4548")
    assert g.iloc[0].distance(g.iloc[1]) <= mapped.gdf["accuracy_m"].iloc[4] == 3000


def test_a_sheet_whose_columns_map_to_nothing():
    text = "甲,乙,丙,经度,纬度\n1,2,3,116.4,42.2\n"
    mapped, _ = _mapped(text.encode(), "a.csv")
    assert "no_columns_matched" in mapped.issues.codes("error")
