"""Monitoring sheets as stations send them (geo.water.sheet): CSV and XLSX files written
and read back as a station's spreadsheet would be, Chinese headers with units, values
below detection, a misspelt section and the errors a person gets."""

from __future__ import annotations

import io
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.errors import GeoInputError
from geo.water.gb3838 import classify
from geo.water.sheet import (
    match_header,
    match_headers,
    match_sections,
    parse_column,
    parse_dates,
    parse_value,
    read_sheet,
)
from layers.catalog import get_spec
from layers.prepare import layer_path

XILIN = "锡林河锡林浩特下游断面(示意)"
LUAN = "滦河多伦出境断面(示意)"

SHEET = [
    # 断面名称, 监测时间, 水温(℃), pH(无量纲), 溶解氧(mg/L), 高锰酸盐指数, 氨氮（mg/L）,
    # 总磷(mg/L), 挥发酚(mg/L), 汞(μg/L), 粪大肠菌群(MPN/100mL), 备注
    [XILIN, "2024-01-09", "0.3", "7.92", "5.1", "7.2", "2.31", "0.21", "<0.0003", "0.04L",
     "1,600", "冰下采样"],
    ["锡林河锡林浩特下游断面", "2024/2/7", "0.2", "7.95", "4.8", "7.0", "1.98", "0.23",
     "0.0003L", "<0.04", "", ""],
    ["锡林河锡林浩特下游段面", "2024年3月11日", "1.5", "8.01", "5.6", "6.8", "1.42", "0.19",
     "0.0012", "未检出(0.04)", "", "断面名写错"],
    ["sec_luanhe_duolun", "20240110", "0.4", "8.05", "10.3", "3.1", "0.32", "0.06",
     "ND", "<0.04", "800", "酚未给检出限"],
    [LUAN, "2024-02-08", "0.3", "8.10", "10.6", "—", "0.28", "0.05", "<0.0003", "<0.04",
     "", "高锰酸盐指数未测"],
]
HEADERS = ["断面名称", "监测时间", "水温(℃)", "pH(无量纲)", "溶解氧(mg/L)", "高锰酸盐指数",
           "氨氮（mg/L）", "总磷(mg/L)", "挥发酚(mg/L)", "汞(μg/L)", "粪大肠菌群(MPN/100mL)",
           "备注"]


@cache
def sections() -> gpd.GeoDataFrame:
    return gpd.read_file(layer_path("sections"))


def as_csv(encoding: str) -> pd.DataFrame:
    buf = io.BytesIO()
    pd.DataFrame(SHEET, columns=HEADERS).to_csv(buf, index=False, encoding=encoding)
    return pd.read_csv(io.BytesIO(buf.getvalue()), dtype=str, keep_default_na=False,
                       encoding=encoding)


def as_xlsx() -> pd.DataFrame:
    # Excel keeps numbers as numbers and dates as dates: write them so.
    rows = []
    for r in SHEET:
        r = list(r)
        for j in (2, 3, 4, 6, 7):
            r[j] = float(r[j])
        rows.append(r)
    rows[0][1] = pd.Timestamp("2024-01-09")
    buf = io.BytesIO()
    pd.DataFrame(rows, columns=HEADERS).to_excel(buf, index=False)
    return pd.read_excel(io.BytesIO(buf.getvalue()))


@pytest.mark.parametrize("table", [as_csv("utf-8-sig"), as_csv("gbk"), as_xlsx()],
                         ids=["csv-utf8", "csv-gbk", "xlsx"])
def test_a_station_sheet(table):
    r = read_sheet(table, sections())
    assert r.columns["nh3_n"] == "氨氮（mg/L）" and r.ignored == ["备注"]
    s = r.samples
    assert s["section_id"].tolist() == ["sec_xilinhe_xilinhot", "sec_xilinhe_xilinhot",
                                        "sec_luanhe_duolun"]
    assert s["sampled_on"].tolist() == ["2024-01-09", "2024-02-07", "2024-02-08"]
    assert s["nh3_n"].tolist() == [2.31, 1.98, 0.28]
    # <0.0003 and 0.0003L are the same: the detection limit, flagged
    assert s["phenols"].tolist() == [0.0003, 0.0003, 0.0003]
    assert s["phenols_lt"].tolist() == [True, True, True]
    # mercury in μg/L is stored in mg/L
    assert np.allclose(s["mercury"], [0.00004] * 3) and s["mercury_lt"].all()
    # faecal coliforms per 100 mL → per litre; empty cells are missing, not zero
    assert s["fecal_coliform"].tolist()[0] == 16_000.0
    assert np.isnan(s["fecal_coliform"].tolist()[1])
    assert np.isnan(s.loc[2, "codmn"]) and not s.loc[2, "codmn_lt"]
    # every below-detection flag exists, false where not measured or measured
    spec_lt = {f.name for f in get_spec("wq_samples").fields if f.name.endswith("_lt")}
    assert spec_lt <= set(s.columns)
    assert set(s.columns) <= set(get_spec("wq_samples").field_names)
    # row-level errors: the misspelt section with the nearest name, ND without a limit
    by_row = {e.row: e for e in r.errors}
    assert sorted(by_row) == [4, 5]
    assert by_row[4].code == "unknown_section" and by_row[4].suggestions[0] == XILIN
    assert XILIN in by_row[4].message and "段面" in by_row[4].message_zh
    assert by_row[5].code == "no_detection_limit" and by_row[5].column == "挥发酚(mg/L)"
    assert "<0.01" in by_row[5].hint and "检出限" in by_row[5].message_zh
    assert all(e.to_dict()["row"] == e.row for e in r.errors)
    # and the samples classify
    out = classify(s, "Ⅳ")
    assert out["class_zh"].tolist()[:2] == ["劣Ⅴ", "Ⅴ"]   # NH3-N 2.31 > 2.0; 1.98 ≤ 2.0


def test_values():
    assert parse_value("<0.01") == (0.01, True)
    assert parse_value("＜0.01") == (0.01, True)          # full-width
    assert parse_value("0.01L") == (0.01, True)
    assert parse_value("0.01 l") == (0.01, True)
    assert parse_value("ND(0.005)") == (0.005, True)
    assert parse_value("未检出<0.005") == (0.005, True)
    assert parse_value("７.５") == (7.5, False)           # full-width digits
    assert parse_value("2,400") == (2400.0, False)
    assert parse_value(3) == (3.0, False)
    for empty in ("", "-", "—", "/", None, float("nan"), "未测"):
        assert parse_value(empty) == (None, False)
    for nd in ("ND", "未检出", "n.d.", "低于检出限"):
        with pytest.raises(GeoInputError) as e:
            parse_value(nd, "cyanide")
        assert e.value.status == 422 and "detection limit" in e.value.message
    with pytest.raises(GeoInputError):
        parse_value("0,01")
    with pytest.raises(GeoInputError):
        parse_value("high")


def test_column_errors_and_items_without_detection_limits():
    c = parse_column(["8.1", "<6", "x"], "ph", "pH")
    assert c.values[0] == 8.1 and np.isnan(c.values[1:]).all()
    assert [(e.row, e.code) for e in c.errors] == [(3, "no_detection_limit_for_item"),
                                                   (4, "not_a_value")]
    c = parse_column(["1.2"], "mercury", scale=0.001)
    assert c.values.tolist() == [0.0012]


def test_headers():
    cases = {
        "断面名称": "section", "断面": "section", "点位名称": "section",
        "断面编号": "section_id", "采样日期": "sampled_on", "监测时间": "sampled_on",
        "溶解氧": "do", "DO(mg/L)": "do", "氨氮(mg/L)": "nh3_n", "氨氮（mg/L）": "nh3_n",
        "NH3-N": "nh3_n", "氨氮 mg/L": "nh3_n", "高锰酸盐指数(mg/L)": "codmn",
        "化学需氧量": "cod", "CODcr": "cod", "五日生化需氧量": "bod5", "BOD5": "bod5",
        "总磷(以P计)(mg/L)": "tp", "总氮": "tn", "铬(六价)": "chromium6", "六价铬": "chromium6",
        "氟化物(以F-计)": "fluoride", "阴离子表面活性剂": "surfactants", "石油类": "petroleum",
        "挥发酚": "phenols", "硫化物": "sulfide", "氰化物": "cyanide", "粪大肠菌群(个/L)":
        "fecal_coliform", "水温(℃)": "water_temp", "水温（°C）": "water_temp", "pH值": "ph",
        "pH(无量纲)": "ph", "铜": "copper", "锌": "zinc", "硒": "selenium", "砷": "arsenic",
        "汞": "mercury", "镉": "cadmium", "铅": "lead",
    }
    for header, want in cases.items():
        m = match_header(header)
        assert m is not None and m.field == want, header
    assert match_header("汞(ug/L)").scale == 0.001
    assert match_header("粪大肠菌群(MPN/100mL)").scale == 10.0
    assert match_header("氨氮(mg/L)").unit == "mg/L"
    with pytest.raises(GeoInputError) as e:
        match_header("氨氮(mmol/L)")
    assert "mmol/L" in e.value.message and e.value.message_zh
    found, ignored, errors = match_headers(["断面", "溶解氧", "DO", "备注", "氨氮(kg)"])
    assert sorted(found) == ["do", "section"] and ignored == ["备注"]
    assert [e.code for e in errors] == ["duplicate_column", "unit"]


def test_sections_by_id_or_name():
    ids, errors = match_sections(
        ["sec_wulagaihe_wulagai", "乌拉盖河乌拉盖断面", "Xilin River below Xilinhot",
         "闪电河正兰旗断面", "", "黄河断面"], sections())
    assert ids.tolist() == ["sec_wulagaihe_wulagai", "sec_wulagaihe_wulagai",
                            "sec_xilinhe_xilinhot", "", "", ""]
    assert [(e.row, e.code) for e in errors] == [(5, "unknown_section"), (6, "no_section"),
                                                 (7, "unknown_section")]
    assert errors[0].suggestions[0] == "闪电河正蓝旗断面(示意)"
    assert "did you mean" in errors[0].message


def test_dates():
    dates, errors = parse_dates(["2024-01-09", "2024/1/9", "2024.1.9", "2024年1月9日", "20240109",
                                 pd.Timestamp("2024-01-09 10:30"), 45300, "2024年2月",
                                 "2024-02-30", "yesterday", None])
    assert dates.tolist()[:6] == ["2024-01-09"] * 6
    assert dates.tolist()[6:8] == ["2024-01-09", "2024-02-01"]
    assert [e.row for e in errors] == [10, 11, 12]


def test_a_sheet_without_the_needed_columns():
    r = read_sheet(pd.DataFrame({"氨氮": ["0.1"]}), sections())
    assert r.samples.empty and {e.code for e in r.errors} == {"no_section_column",
                                                             "no_date_column"}
    # a sheet per month: the date given for all its rows
    r = read_sheet(pd.DataFrame({"断面名称": [XILIN], "氨氮": ["0.1"]}), sections(),
                   sampled_on="2024年3月")
    assert r.ok and r.samples["sampled_on"].tolist() == ["2024-03-01"]
    r = read_sheet(pd.DataFrame({"断面名称": [XILIN], "采样日期": ["2024-03-01"],
                                 "备注": ["x"]}), sections())
    assert [e.code for e in r.errors] == ["no_items"]
    r = read_sheet(pd.DataFrame({"断面名称": [XILIN], "采样日期": ["2024-03-01"],
                                 "氨氮": [""]}), sections())
    assert [(e.row, e.code) for e in r.errors] == [(2, "no_values")]
