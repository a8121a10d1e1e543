"""Files that look like what the League's offices have, made by code for the replacement tests.

Every fixture is made from the committed reference data (``data/xilingol``), so the
tests know the answer independently of the code under test: the 150 projects and
their seed totals, the basins' outlines, the road's course, the stations' positions.

* :func:`registry_xlsx` — the development office's registry: a title merged across
  the sheet, a ``单位：…`` line, Chinese headers, categories as Chinese words, amounts
  partly as text with thousands separators and full-width digits, a blank row, a
  合计 row; in 亿元, in 万元 (said in the headers or only in the 单位 line), or in
  万元 under 亿元 headers (the mistake to catch); optionally the category merged down
  over each group of rows.
* :func:`place_only_xlsx` — a sheet with 旗县市区 + 地点 and no coordinates.
* :func:`basins_shapefile_zip` — the water bureau's basins: CGCS2000 3-degree
  Gauss-Krüger CM 117°E (EPSG:4548), GBK attributes without a ``.cpg``, with or
  without the ``.prj``.
* :func:`road_gpx` — the tourism bureau's GPS track of the scenic road, a few
  thousand points.
* :func:`stations_csv_dms` — the stations with 经度/纬度 in degrees-minutes-seconds.
"""

from __future__ import annotations

import io
import os
import zipfile
from functools import cache

import geopandas as gpd
import numpy as np
import shapely

from layers.catalog import PROJECT_CATEGORIES, PROJECT_INVESTORS, PROJECT_STATUSES
from layers.prepare import layer_path
from tests.fixtures.make_fixtures import make_shapefile_zip

CATEGORY_ZH = {c.value: c.label_zh for c in PROJECT_CATEGORIES}
STATUS_ZH = {c.value: c.label_zh for c in PROJECT_STATUSES}
INVESTOR_ZH = {c.value: c.label_zh for c in PROJECT_INVESTORS}
REGISTRY_TITLE = "锡林郭勒盟2023年自治区重大项目计划表"
REGISTRY_HEADERS = ("序号", "项目名称", "旗县市区", "类别", "建设性质", "投资主体", "总投资", "2023年计划投资",
                    "手续是否办结", "经度", "纬度")
#: The sheet row of the first project in :func:`registry_xlsx` (title, unit line, header).
FIRST_DATA_ROW = 4


@cache
def reference(layer: str) -> gpd.GeoDataFrame:
    """A committed reference layer (read once per test process)."""
    return gpd.read_file(layer_path(layer))


def _fullwidth(text: str) -> str:
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789.,"})


def registry_xlsx(unit: str = "亿元", *, unit_in: str = "header", values_in: str | None = None,
                  merge_categories: bool = False, coordinates: bool = True,
                  totals: bool = True, blank_row: bool = True,
                  projects: gpd.GeoDataFrame | None = None) -> bytes:
    """The registry of the 150 projects as a government workbook.

    Parameters
    ----------
    unit : {"亿元", "万元"}
        The unit the sheet *says* its amounts are in.
    unit_in : {"header", "title"}
        Where it says so: in the headers (``总投资（万元）``) or only in the ``单位：…``
        line above them.
    values_in : {"亿元", "万元"}, optional
        The unit the numbers are really in (default: ``unit``); ``values_in="万元"``
        with ``unit="亿元"`` is the slip the validation must catch.
    merge_categories : bool
        Sort by category and merge the 类别 cells down over each group.
    coordinates, totals, blank_row : bool
        Whether the sheet has 经度/纬度 columns, a 合计 row and a blank row in the list.
    projects : GeoDataFrame, optional
        The registry to write (default: the committed one); 序号 numbers its rows.
    """
    import openpyxl
    from openpyxl.styles import Alignment

    values_in = values_in or unit
    p = reference("projects") if projects is None else projects
    if merge_categories:
        order = {c.value: k for k, c in enumerate(PROJECT_CATEGORIES)}
        p = p.iloc[np.argsort([order[c] for c in p["category"]], kind="stable")]
    scale = 10_000 if values_in == "万元" else 1
    heads = list(REGISTRY_HEADERS if coordinates else REGISTRY_HEADERS[:-2])
    if unit_in == "header":
        heads[6] = f"总投资（{unit}）"
        heads[7] = f"2023年计划投资（{unit}）"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "重大项目"
    width = len(heads)
    ws.append([REGISTRY_TITLE] + [None] * (width - 1))
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([None] * (width - 2) + ["填报单位：盟发展改革委", f"单位：{unit}"])
    ws.append(heads)
    k = 0
    for i, (_, r) in enumerate(p.iterrows()):
        total = round(r["total_investment_yi"] * scale, 2)
        plan = round(r["plan_2023_yi"] * scale, 2)
        # Numbers kept as text the way WPS exports keep them: separators, full-width digits.
        if i % 7 == 1:
            total = f"{total:,.2f}"
        elif i % 11 == 2:
            plan = _fullwidth(f"{plan:,.2f}")
        # 序号 as the office numbers its projects: the registry's own number (P007 → 7).
        pid = str(r.get("id", ""))
        number = int(pid[1:]) if pid[:1] == "P" and pid[1:].isdigit() else i + 1
        row = [number, r["name_zh"], r["county"], CATEGORY_ZH[r["category"]],
               STATUS_ZH[r["status"]], INVESTOR_ZH[r["investor"]], total, plan,
               "是" if r["permits_complete"] else "否"]
        if coordinates:
            row += [round(r.geometry.x, 6), round(r.geometry.y, 6)]
        ws.append(row)
        k += 1
        if blank_row and i == 40:
            ws.append([None] * width)
    if merge_categories:
        # Merge 类别 (column D) down over each run of the same category.
        first = FIRST_DATA_ROW
        cats = [ws.cell(row=r, column=4).value for r in range(first, ws.max_row + 1)]
        start = first
        for j in range(1, len(cats) + 1):
            if j == len(cats) or cats[j] != cats[start - first] and cats[j] is not None:
                end = first + j - 1
                if end > start:
                    ws.merge_cells(start_row=start, start_column=4, end_row=end, end_column=4)
                start = first + j
    if totals:
        ws.append(["合计", None, None, None, None, None,
                   round(float(p["total_investment_yi"].sum()) * scale, 2),
                   round(float(p["plan_2023_yi"].sum()) * scale, 2),
                   int(p["permits_complete"].sum())] + [None] * (width - 9))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


#: Rows of :func:`place_only_xlsx`: (name, 旗县市区, 地点, category), and where the gazetteer
#: should put them (the place's id, or the county seat's).
PLACE_ROWS = (
    ("大北沟风电项目", "多伦县", "大北沟镇", "能源", "dabeigou"),
    ("桑根达来光伏治沙项目", "正蓝旗", "桑根达来", "生态保护与发展", "sanggendalai"),
    ("朱日和储能电站", "苏右旗", "朱日和镇", "能源", "zhurihe"),
    ("东乌旗城区供热改造", "东乌旗", "", "基础设施", "uliastai"),
    ("多伦县医院扩建", "", "多伦诺尔镇", "社会事业", "dolonnur"),
    ("贺斯格乌拉矿区配套", "乌拉盖管理区", "贺斯格乌拉牧场", "工业及信息化", "hesigewula"),
)


def place_only_xlsx(unplaceable: bool = False) -> bytes:
    """Projects placed by name only: 旗县市区 and 地点, no coordinates (amounts in 万元)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2023年新增项目（无坐标）"])
    ws.append(["序号", "项目名称", "旗县市区", "地点", "行业", "总投资（万元）", "2023年计划投资（万元）"])
    for k, (name, county, place, cat, _) in enumerate(PLACE_ROWS, 1):
        ws.append([k, name, county, place, cat, 50000 + 1000 * k, 10000 + 100 * k])
    if unplaceable:
        ws.append([len(PLACE_ROWS) + 1, "某某项目", "海淀区", "中关村", "能源", 1000, 100])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def basins_shapefile_zip(prj: bool = True, basins: gpd.GeoDataFrame | None = None) -> bytes:
    """The basins in EPSG:4548 with GBK Chinese attribute names and values, no .cpg.

    ``basins`` (default: the committed layer) are the outlines to write.
    """
    b = reference("basins") if basins is None else basins
    gdf = gpd.GeoDataFrame({"流域编号": b["id"], "流域名称": b["name_zh"], "水系": b["drainage"]},
                           geometry=b.geometry.values, crs=4326).to_crs("EPSG:4548")
    drop = (".cpg",) if prj else (".cpg", ".prj")
    return make_shapefile_zip(gdf, drop=drop, encoding="GBK")


def _road_line() -> shapely.LineString:
    road = reference("scenic_road").sort_values("seq")
    coords = [np.asarray(g.coords) for g in road.geometry]
    return shapely.LineString(np.vstack([coords[0]] + [c[1:] for c in coords[1:]]))


def road_gpx(points: int = 3000, shift_deg: tuple[float, float] = (0.0, 0.0),
             seed: int = 7) -> bytes:
    """The scenic road as one GPS track of ``points`` points (±10 m of jitter).

    ``shift_deg`` moves the whole track (to make the stations fall off a new road).
    """
    line = _road_line()
    d = np.linspace(0, line.length, points)
    pts = shapely.get_coordinates(shapely.line_interpolate_point(line, d))
    rng = np.random.default_rng(seed)
    pts = pts + rng.normal(0, 0.0001, pts.shape) + np.asarray(shift_deg)
    seg = "\n".join(f'<trkpt lat="{y:.6f}" lon="{x:.6f}"><ele>1200</ele></trkpt>'
                    for x, y in pts)
    gpx = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<gpx version="1.1" creator="GPS" xmlns="http://www.topografix.com/GPX/1/1">\n'
           f'<trk><name>千里草原风景大道</name><trkseg>\n{seg}\n</trkseg></trk>\n</gpx>\n')
    return gpx.encode("utf-8")


def _dms(value: float, pos: str, neg: str) -> str:
    hemi = pos if value >= 0 else neg
    # Whole hundredths of a second first, so 59.999″ carries into the minute.
    total = round(abs(value) * 360_000)
    d, rest = divmod(total, 360_000)
    m, cs = divmod(rest, 6000)
    return f"{d}°{m:02d}′{cs / 100:05.2f}″{hemi}"


def stations_csv_dms() -> bytes:
    """The stations as a CSV with 经度/纬度 in DMS (GBK, as Excel saves CSV in China)."""
    st = reference("stations")
    lines = ["编号,驿站名称,经度,纬度,服务"]
    for _, r in st.iterrows():
        lines.append(f"{r['id']},{r['name_zh']},{_dms(r.geometry.x, 'E', 'W')},"
                     f"{_dms(r.geometry.y, 'N', 'S')},\"{r['services']}\"")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def write_all(directory: str) -> list[str]:
    """Write every fixture to ``directory`` (for a look in Excel or QGIS)."""
    os.makedirs(directory, exist_ok=True)
    files = {"registry.xlsx": registry_xlsx(), "registry_wan.xlsx": registry_xlsx("万元"),
             "registry_wan_in_yi.xlsx": registry_xlsx("亿元", values_in="万元"),
             "place_only.xlsx": place_only_xlsx(), "basins_4548.zip": basins_shapefile_zip(),
             "basins_noprj.zip": basins_shapefile_zip(prj=False), "road.gpx": road_gpx(),
             "stations_dms.csv": stations_csv_dms()}
    out = []
    for name, data in files.items():
        path = os.path.join(directory, name)
        with open(path, "wb") as fh:
            fh.write(data)
        out.append(path)
    return out


def zip_names(data: bytes) -> list[str]:
    """Member names of a zip (for asserting what a fixture holds)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return sorted(zf.namelist())
