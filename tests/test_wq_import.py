"""A month's monitoring sheet through the replacement pipeline of the catalog layers
(layers.replace with wq_samples' own reading step, layers.water_samples): a CSV and an
XLSX as a station sends them — Chinese headers with units, ``<0.01`` and ``0.01L``
values, a misspelt section — read by geo.read, checked row by row, appended to the
stored samples and answered by GET /api/sections/{id}/quality.

Expected values are the sheet's own cells; the suggestion is the section's name as the
committed sections layer spells it.
"""

from __future__ import annotations

import io
import json

import geopandas as gpd
import openpyxl
import pytest

from geo.read import read_file
from layers.open import open_store
from layers.prepare import layer_path
from layers.replace import prepare_replacement

XILIN = "sec_xilinhe_xilinhot"
HEADERS = ["断面名称", "采样日期", "水温(℃)", "pH(无量纲)", "溶解氧(mg/L)", "高锰酸盐指数(mg/L)",
           "氨氮（mg/L）", "总磷(mg/L)", "挥发酚(mg/L)", "汞(μg/L)", "备注"]
ROWS = [
    ["锡林河锡林浩特下游断面", "2024-01-09", "0.3", "7.92", "5.1", "7.2", "2.31", "0.21",
     "<0.0003", "0.04L", "冰下采样"],
    ["sec_luanhe_duolun", "2024/1/10", "0.4", "8.05", "10.3", "3.1", "0.32", "<0.01",
     "0.0004", "<0.04", ""],
    ["锡林河锡林浩特下游段面", "2024-01-23", "0.5", "7.9", "5.0", "7.0", "1.9", "0.2",
     "<0.0003", "<0.04", "断面名写错"],
    ["乌拉盖河乌拉盖断面", "2024年1月12日", "0.2", "8.1", "9.0", "5.2", "0.41", "0.08",
     "ND", "<0.04", "酚未给检出限"],
]


def sheet_csv() -> bytes:
    lines = [",".join(HEADERS)] + [",".join(r) for r in ROWS]
    return ("\n".join(lines) + "\n").encode("gbk")  # as a station's Excel saves CSV


def sheet_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2024年1月"
    ws.append(HEADERS)
    for r in ROWS:
        ws.append([float(c) if c.replace(".", "").isdigit() else c for c in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture()
def current(ref_store_path):
    store = open_store(ref_store_path)
    return {n: store.get(n) for n in ("sections", "wq_samples", "admin")}


@pytest.mark.parametrize("name, data", [("一月.csv", sheet_csv), ("一月.xlsx", sheet_xlsx)])
def test_a_months_sheet_with_errors_by_row(current, name, data):
    read = read_file(data(), filename=name, keep_unlocated=True, trace=True)
    rep = prepare_replacement("wq_samples", read, current, mode="append")
    assert not rep.ok
    errors = {(e.row, e.code): e for e in rep.issues.errors}
    assert set(errors) == {(4, "unknown_section"), (5, "no_detection_limit")}
    typo = errors[(4, "unknown_section")]
    assert typo.suggestion == "锡林河锡林浩特下游断面(示意)"  # the nearest name, as stored
    assert "锡林河锡林浩特下游段面" in typo.message_zh and "锡林河锡林浩特下游断面(示意)" in typo.text("zh")
    assert errors[(5, "no_detection_limit")].column == "挥发酚(mg/L)"
    preview = rep.preview()
    assert preview["rows_in_error"] == [4, 5] and preview["mode"] == "append"
    assert preview["mapping"]["unmapped_columns"] == ["备注"]
    # the good rows as they would be stored: values, detection limits, units converted
    good = rep.rows.set_index("_row")
    assert list(good.index) == [2, 3]
    assert good.loc[2, "section_id"] == XILIN and good.loc[2, "sampled_on"] == "2024-01-09"
    assert good.loc[2, "nh3_n"] == 2.31 and good.loc[2, "phenols"] == 0.0003
    assert bool(good.loc[2, "phenols_lt"]) and not bool(good.loc[2, "nh3_n_lt"])
    assert good.loc[2, "mercury"] == pytest.approx(0.00004) and bool(good.loc[2, "mercury_lt"])
    assert good.loc[3, "tp"] == 0.01 and bool(good.loc[3, "tp_lt"])
    assert good.loc[3, "sampled_on"] == "2024-01-10"
    with open(layer_path("sections"), encoding="utf-8") as fh:
        sections = {f["properties"]["id"]: f for f in json.load(fh)["features"]}
    pos = sections[XILIN]["geometry"]["coordinates"]
    assert (good.loc[2].geometry.x, good.loc[2].geometry.y) == pytest.approx(tuple(pos), abs=1e-6)
    assert good.loc[2, "accuracy_m"] == sections[XILIN]["properties"]["accuracy_m"]


def test_corrected_sheet_appends_and_the_api_answers(make_app, store_path):
    """The station corrects the two rows, the sheet is appended (as PUT
    /api/reference/wq_samples?mode=append will) and the quality API answers with it."""
    rows = [r[:] for r in ROWS]
    rows[2][0] = "锡林河锡林浩特下游断面"
    rows[3][8] = "<0.0003"
    lines = [",".join(HEADERS)] + [",".join(r) for r in rows]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    client = make_app().test_client()  # the app prepares its store copy
    store = open_store(store_path)
    current = {n: store.get(n) for n in ("sections", "wq_samples")}
    read = read_file(data, filename="一月.csv", keep_unlocated=True, trace=True)
    rep = prepare_replacement("wq_samples", read, current, mode="append",
                              defaults={"source": "锡林浩特站 2024年1月监测报表"})
    assert rep.ok, rep.issues.to_dict()["errors"]
    assert rep.appended == {"updated": 0, "added": 4} and len(rep.gdf) == 52
    store.put("wq_samples", rep.to_commit()["wq_samples"])
    # appending the same sheet again updates the four samples instead of adding them
    again = prepare_replacement("wq_samples", read_file(data, filename="一月.csv",
                                                        keep_unlocated=True, trace=True),
                                {"sections": current["sections"],
                                 "wq_samples": store.get("wq_samples")}, mode="append")
    assert again.appended == {"updated": 4, "added": 0} and len(again.gdf) == 52
    q = client.get(f"/api/sections/{XILIN}/quality?from=2024-01-01&to=2024-01-31").json
    assert [s["sampled_on"] for s in q["samples"]] == ["2024-01-09", "2024-01-23"]
    first = q["samples"][0]
    assert first["nh3_n"] == 2.31 and first["phenols_lt"] is True
    # 2.31 mg/L ammonia is over Ⅴ's 2.0: 劣Ⅴ, against the Ⅳ target (1.5) by (2.31-1.5)/1.5
    assert (first["class"], first["class_en"]) == ("劣Ⅴ", "worse than V")
    assert first["exceedance"]["nh3_n"] == pytest.approx(0.54, abs=0.001)
    stored = store.get("wq_samples")
    mine = stored[stored["sampled_on"] == "2024-01-09"]
    assert mine["source"].tolist() == ["锡林浩特站 2024年1月监测报表"]
    assert isinstance(stored, gpd.GeoDataFrame) and stored.geometry.notna().all()
