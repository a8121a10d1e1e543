"""geo.read on spreadsheets as governments keep them, and on coordinates as people have them.

Answers come from outside the reader: the committed projects layer the registry
fixture was written from, pyproj for Gauss-Krüger coordinates, openpyxl-written
workbooks whose row numbers are known by construction.
"""

from __future__ import annotations

import io

import numpy as np
import pyproj
import pytest

from geo.errors import GeoInputError
from geo.read import read_file
from geo.read.sheet import classify_rows, locate_header
from tests import ingest_fixtures as fx
from tests.fixtures.make_fixtures import DUOLUN, ERENHOT, XILINHOT


def _xlsx(rows: list[list], sheets: dict[str, list[list]] | None = None,
          merges: list[str] = ()) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "表1"
    for r in rows:
        ws.append(r)
    for m in merges:
        ws.merge_cells(m)
    for name, content in (sheets or {}).items():
        extra = wb.create_sheet(name)
        for r in content:
            extra.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_registry_with_merged_title_unit_line_blank_and_totals_rows():
    gdf, report = read_file(fx.registry_xlsx(), filename="registry.xlsx", trace=True)
    p = fx.reference("projects")
    assert len(gdf) == 150
    assert report.source["header_row"] == 3 and report.source["unit"] == "亿元"
    assert report.source["title"][0] == fx.REGISTRY_TITLE
    # Rows are numbered as the sheet numbers them: after the title, the unit line and the
    # header, with the blank row (after the 41st project) counted.
    assert gdf["_row"].iloc[0] == fx.FIRST_DATA_ROW
    assert gdf["_row"].iloc[41] == fx.FIRST_DATA_ROW + 42
    blank = [e for e in report.dropped if e.code == "blank_row"]
    assert [e.detail["row"] for e in blank] == [fx.FIRST_DATA_ROW + 41]
    totals = [e for e in report.dropped if e.code == "totals_row"]
    assert len(totals) == 1 and totals[0].detail["row"] == fx.FIRST_DATA_ROW + 151
    assert report.source["totals"][0]["总投资（亿元）"] == pytest.approx(1568.0)
    # Amounts kept as text ("1,234.56", full-width digits) are numbers, exactly.
    total, plan = gdf["总投资（亿元）"], gdf["2023年计划投资（亿元）"]  # headers as written
    assert total.dtype.kind == "f" and plan.dtype.kind == "f"
    assert np.allclose(total, p["total_investment_yi"])
    assert np.allclose(plan, p["plan_2023_yi"])
    assert "numbers_from_text" in report.codes("repairs")
    assert np.allclose(gdf.geometry.x, p.geometry.x, atol=1e-6)


def test_two_row_header_and_category_merged_down():
    rows = [["2023年项目表", None, None, None, None],
            ["序号", "项目名称", "类别", "投资（万元）", None],
            [None, None, None, "总投资", "2023年计划"],
            [1, "甲", "能源", 1000, 200],
            [2, "乙", None, 2000, 300],
            [3, "丙", "生态", 500, 50]]
    data = _xlsx([r + [116.0 + k / 10, 44.0] if k > 2 else r + (["经度", "纬度"] if k == 1 else
                                                                 [None, None])
                  for k, r in enumerate(rows)], merges=["A1:G1", "C4:C5", "D2:E2"])
    gdf, report = read_file(data, filename="t.xlsx", trace=True)
    assert list(gdf.columns[:5]) == ["序号", "项目名称", "类别", "总投资(万元)", "2023年计划(万元)"]
    assert gdf["类别"].tolist() == ["能源", "能源", "生态"]  # C4:C5 merged: filled
    assert gdf["_row"].tolist() == [4, 5, 6]
    assert "two_row_header" in report.codes("warnings")
    assert "merged_cells_filled" in report.codes("repairs")


def test_group_rows_and_notes_are_set_aside_with_their_label():
    rows = [["序号", "项目名称", "总投资", "经度", "纬度"],
            ["一、能源项目（2项）", None, None, None, None],
            [1, "风电", 3.5, *XILINHOT],
            [2, "光伏", 2.0, *DUOLUN],
            ["二、生态保护", None, None, None, None],
            [3, "治沙", 1.0, *ERENHOT],
            ["小计", None, 1.0, None, None],
            ["注：金额为估算", None, None, None, None]]
    gdf, report = read_file(_xlsx(rows), filename="g.xlsx", trace=True)
    assert gdf["项目名称"].tolist() == ["风电", "光伏", "治沙"]
    assert gdf["分组"].tolist() == ["一、能源项目（2项）"] * 2 + ["二、生态保护"]
    dropped = {e.code: [x.detail["row"] for x in report.dropped if x.code == e.code]
               for e in report.dropped}
    assert dropped == {"group_row": [2, 5], "totals_row": [7], "note_row": [8]}


def test_chosen_sheet_by_name_and_position():
    main = [["名称", "经度", "纬度"], ["甲", *XILINHOT]]
    other = [["名称", "经度", "纬度"], ["乙", *DUOLUN], ["丙", *ERENHOT]]
    data = _xlsx(main, sheets={"第二季度": other})
    assert read_file(data, filename="s.xlsx").gdf["名称"].tolist() == ["甲"]
    gdf, report = read_file(data, filename="s.xlsx", sheet="第二季度")
    assert gdf["名称"].tolist() == ["乙", "丙"] and report.source["sheet"] == "第二季度"
    assert read_file(data, filename="s.xlsx", sheet="2").gdf["名称"].tolist() == ["乙", "丙"]
    with pytest.raises(GeoInputError) as e:
        read_file(data, filename="s.xlsx", sheet="第三季度")
    assert e.value.status == 422 and e.value.code == "layer_not_in_file"
    assert "第二季度" in e.value.hint


def test_csv_title_row_full_width_and_separator_numbers():
    text = ("锡林郭勒盟驿站统计表,,,\n"
            "名称,经度,纬度,投资（万元）\n"
            f"甲,{XILINHOT[0]},{XILINHOT[1]},\"１２，３４５．５\"\n"
            f"乙,{DUOLUN[0]},{DUOLUN[1]},\"1,000\"\n"
            "合  计,,,\"13,345.5\"\n")
    gdf, report = read_file(text.encode("gbk"), filename="t.csv", trace=True)
    assert gdf["投资（万元）"].tolist() == [12345.5, 1000.0]
    assert gdf["_row"].tolist() == [3, 4] and report.source["row_kind"] == "line"
    assert {"title_rows", "totals_row", "numbers_from_text"} <= report.codes()


def test_header_row_given_explicitly():
    text = "说明文字,很长的一行,还有\n名称,经度,纬度\n甲,116.1,43.9\n"
    gdf, report = read_file(text.encode(), filename="t.csv", header_row=2)
    assert gdf["名称"].tolist() == ["甲"]
    with pytest.raises(GeoInputError) as e:
        read_file(text.encode(), filename="t.csv", header_row=0)
    assert e.value.code == "bad_parameter"


def test_locate_header_and_classify_rows_units():
    h = locate_header([[None, "标题", None], ["a", "b", "c"], [1, 2, 3]])
    assert (h.row, h.names) == (1, ["a", "b", "c"])
    r = classify_rows([["合 计", None], [None, None], ["x", 1]])
    assert r.kind.tolist() == ["total", "blank", "data"]


# -- Gauss-Krüger X/Y ------------------------------------------------------------------------

PLACES = [XILINHOT, DUOLUN, (117.61, 44.59), (118.85, 45.72)]


def _gk(crs: str = "EPSG:4548") -> list[tuple[float, float]]:
    """(easting, northing) of PLACES by pyproj, independently of the reader."""
    t = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return [t.transform(*p) for p in PLACES]


def test_gauss_kruger_columns_northing_first_as_epsg_4548_defines():
    rows = ["点名,X坐标,Y坐标"] + [f"p{k},{n:.3f},{e:.3f}" for k, (e, n) in enumerate(_gk())]
    gdf, report = read_file("\n".join(rows).encode(), filename="gk.csv", crs="EPSG:4548",
                            trace=True)
    assert np.allclose(gdf.geometry.x, [p[0] for p in PLACES], atol=1e-7)
    assert np.allclose(gdf.geometry.y, [p[1] for p in PLACES], atol=1e-7)
    assert report.source["crs"] == "EPSG:4548" and not report.codes("repairs")
    assert np.allclose(gdf["_precision_m"], 0.0005)


def test_gauss_kruger_swapped_columns_and_zone_prefix_are_repaired():
    gk = _gk()
    rows = ["名称,X,Y",
            f"a,{gk[0][1]:.2f},{gk[0][0]:.2f}",        # as EPSG defines
            f"b,{gk[1][0]:.2f},{gk[1][1]:.2f}",        # easting in X: swapped
            f"c,{gk[2][1]:.2f},{39e6 + gk[2][0]:.2f}",  # zone 39 in front of the easting
            f"d,\"{gk[3][1]:,.2f}\",\"{gk[3][0]:,.2f}\""]  # thousands separators
    gdf, report = read_file("\n".join(rows).encode(), filename="gk.csv", crs="EPSG:4548")
    assert np.allclose(gdf.geometry.x, [p[0] for p in PLACES], atol=1e-7)
    assert np.allclose(gdf.geometry.y, [p[1] for p in PLACES], atol=1e-7)
    repairs = {e.code: e.detail["line"] for e in report.repairs}
    assert repairs == {"swapped_xy": 3, "zone_prefix_removed": 4}


def test_utm_columns_are_easting_first():
    t = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    e, n = t.transform(*DUOLUN)
    gdf, _ = read_file(f"name,x,y\na,{e},{n}\n".encode(), filename="u.csv", crs="EPSG:32650")
    assert gdf.geometry.x[0] == pytest.approx(DUOLUN[0]) and gdf.geometry.y[0] == pytest.approx(DUOLUN[1])


def test_gauss_kruger_without_a_crs_is_a_clear_error():
    gk = _gk()
    text = "名称,X,Y\n" + "".join(f"p,{n},{e}\n" for e, n in gk)
    with pytest.raises(GeoInputError) as err:
        read_file(text.encode(), filename="gk.csv")
    assert err.value.status == 422 and "4548" in err.value.hint


def test_dms_columns_and_their_precision():
    gdf, _ = read_file(fx.stations_csv_dms(), filename="st.csv", trace=True)
    st = fx.reference("stations")
    assert np.allclose(gdf.geometry.x, st.geometry.x, atol=1e-5)
    assert np.allclose(gdf.geometry.y, st.geometry.y, atol=1e-5)
    # Hundredths of a second: half of one is 0.155 m.
    assert np.allclose(gdf["_precision_m"], 0.005 / 3600 * 111_320)


# -- no coordinates --------------------------------------------------------------------------

def test_rows_without_coordinates_are_kept_for_the_gazetteer():
    gdf, report = read_file(fx.place_only_xlsx(), filename="p.xlsx", keep_unlocated=True,
                            trace=True)
    assert len(gdf) == len(fx.PLACE_ROWS) and gdf.geometry.isna().all()
    assert gdf["_row"].tolist() == list(range(3, 3 + len(fx.PLACE_ROWS)))
    assert "no_coordinates" in report.codes("warnings")
    with pytest.raises(GeoInputError) as e:
        read_file(fx.place_only_xlsx(), filename="p.xlsx")
    assert e.value.code == "no_coordinates"


def test_some_rows_with_and_some_without_coordinates():
    text = (f"名称,经度,纬度,旗县市区\n甲,{XILINHOT[0]},{XILINHOT[1]},锡林浩特市\n乙,,,多伦县\n"
            f"丙,{ERENHOT[0]},,二连浩特市\n")
    gdf, report = read_file(text.encode(), filename="m.csv", keep_unlocated=True, trace=True)
    assert gdf["名称"].tolist() == ["甲", "乙"]
    assert gdf.geometry.isna().tolist() == [False, True]
    assert [e.detail["line"] for e in report.dropped if e.code == "missing_coordinate"] == [4]


def test_precision_of_plain_decimals_counts_the_written_digits():
    """The vectorised path for plain decimal text gives half the last written digit, as
    counted here from the text by hand (and the same as the regular-expression path)."""
    from geo.read.coords import _precision_m_text, precision_m

    texts = ["116.08", "-43.5", " 44 ", "+116.0861120", "116.", "0.000001", "１１６.０８",
             "116°05′30″", "1e5", ".5", "x", "", "1.2.3", "-", "+.5", "-0.5"]
    values = np.array([*texts, None, 116.5], dtype=object)

    def by_hand(s):
        s = s.strip().lstrip("+-")
        if not s or not s.replace(".", "", 1).isdigit() or s.startswith("."):
            return None
        return 0.5 * 10.0 ** -(len(s) - s.index(".") - 1 if "." in s else 0)

    got = precision_m(values, metres=True)
    for text, value in zip(texts, got, strict=False):
        expected = by_hand(text)
        if expected is not None:
            assert value == pytest.approx(expected), text
    assert np.allclose(got, _precision_m_text(values, True), equal_nan=True)
    assert np.allclose(precision_m(values), _precision_m_text(values, False), equal_nan=True)
