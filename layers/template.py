"""The blank spreadsheet a person fills in to replace a catalog layer.

:func:`template_xlsx` writes, for one catalog layer, an ``.xlsx`` workbook with

* ``数据`` (data): the catalog's Chinese headers (``*`` before the required ones,
  units in brackets: ``*总投资(亿元)``), coordinate columns for point layers
  (``经度``/``纬度``, or ``旗县市区`` + ``地点`` to be placed by name), a WKT column
  for lines and polygons, and one example row; coded columns offer their values
  in a drop-down;
* ``代码表`` (codes): every coded value with its Chinese and English label and the
  other spellings accepted;
* ``说明`` (notes): per column its field, type, unit, whether it is required or
  recomputed, and how coordinates and places are read.

Derived fields (county, road km, lengths, areas …) are left out: they are
recomputed from the positions (:mod:`layers.derive`).  A filled-in template maps
back onto the catalog's fields exactly (:func:`layers.mapping.match_columns`).

Examples
--------
>>> import io, openpyxl
>>> wb = openpyxl.load_workbook(io.BytesIO(template_xlsx("projects")))
>>> wb.sheetnames
['数据', '代码表', '说明']
>>> [c.value for c in wb["数据"][1]][:6]
['编号', '*项目名称', '英文名', '*类别', '建设性质', '投资主体']
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import shapely

from . import water_samples
from .catalog import get_spec
from .mapping import PLACE_LABELS
from .spec import Field, LayerSpec

#: Example rows, by layer: what a person would write (labels, not codes).
_EXAMPLES: dict[str, dict[str, Any]] = {
    "projects": {"id": "P001", "name_zh": "多伦县大北沟10万千瓦风电项目",
                 "name_en": "Duolun Dabeigou 100 MW wind farm", "category": "能源",
                 "status": "新建", "investor": "社会投资", "total_investment_yi": 6.5,
                 "plan_2023_yi": 2.0, "permits_complete": "是", "county": "多伦县",
                 PLACE_LABELS[0]: "大北沟镇", "lon": 116.62, "lat": 42.0,
                 "source": "盟发展改革委2023年重大项目表"},
    "stations": {"id": "st_baochang", "name_zh": "宝昌驿站", "name_en": "Baochang station",
                 "services": "加油、餐饮、住宿", "lon": 115.28, "lat": 41.9},
    "attractions": {"id": "at_xanadu", "name_zh": "元上都遗址", "name_en": "Site of Xanadu",
                    "kind": "世界文化遗产", "kind_en": "World Heritage site",
                    "description_zh": "元代上都遗址", "lon": 116.18, "lat": 42.355},
    "sections": {"id": "sec_luanhe_duolun", "name_zh": "滦河多伦出境断面",
                 "river_id": "luanhe", "river_zh": "滦河", "target_class": "Ⅲ类",
                 "lon": 116.64, "lat": 41.95},
    "ports": {"id": "port_erenhot", "name_zh": "二连浩特口岸", "name_en": "Erenhot port",
              "kinds_zh": "公路口岸、铁路口岸", "lon": 111.98, "lat": 43.65},
    "rivers": {"id": "xilinhe", "name_zh": "锡林河", "name_en": "Xilin River",
               "basin_id": "xilin", "flows_into": "",
               "wkt": "LINESTRING (116.55 43.45, 116.3 43.7, 116.1 43.95, 115.9 44.1)"},
    "basins": {"id": "xilin", "name_zh": "锡林河流域", "name_en": "Xilin River basin",
               "drainage": "内流",
               "wkt": "POLYGON ((115.6 43.4, 116.9 43.4, 116.9 44.3, 115.6 44.3, 115.6 43.4))"},
    "scenic_road": {"id": "road_01", "name_zh": "宝昌—御马苑—贡宝拉格段", "theme_zh": "最美游牧之路",
                    "road": "S207", "seq": 1,
                    "wkt": "LINESTRING (115.28 41.9, 115.33 41.99, 115.38 42.09)"},
    water_samples.LAYER: water_samples.TEMPLATE_EXAMPLE,
    "admin": {"adcode": "152531", "name_zh": "多伦县", "name_en": "Duolun County",
              "level": "旗县市",
              "wkt": "POLYGON ((116.0 41.8, 116.9 41.8, 116.9 42.6, 116.0 42.6, 116.0 41.8))"},
}

_KIND_ZH = {"str": "文本", "int": "整数", "float": "数字", "bool": "是/否", "date": "日期",
            "datetime": "日期时间"}


def template_fields(spec: LayerSpec) -> list[Field]:
    """The catalog fields a person fills in: all but the derived ones."""
    return [f for f in spec.fields if not f.derived]


def header(f: Field) -> str:
    """The template's header of a field: ``*`` when required, the unit in brackets.

    Examples
    --------
    >>> header(get_spec("projects").field("total_investment_yi"))
    '*总投资(亿元)'
    """
    unit = f"({f.unit})" if f.unit else ""
    return ("*" if f.required else "") + f.label_zh + unit


def _columns(spec: LayerSpec) -> list[tuple[str, str]]:
    """(header, key) of the data sheet, in order; key = field name or a coordinate key."""
    if spec.id == water_samples.LAYER:  # a monitoring sheet, read by its own step
        return list(water_samples.TEMPLATE_COLUMNS)
    cols = [(header(f), f.name) for f in template_fields(spec)]
    if spec.geometry_type == "Point":
        county = spec.field("county")
        where = [("经度", "lon"), ("纬度", "lat")]
        if county is not None:
            where += [("旗县市区", "county"), (PLACE_LABELS[0], PLACE_LABELS[0])]
        # Coordinates right after the names, before the provenance columns.
        k = next((i for i, (_, key) in enumerate(cols) if key == "source"), len(cols))
        cols[k:k] = where
    else:
        cols.append(("几何(WKT)", "wkt"))
    return cols


def _example_value(spec: LayerSpec, key: str, example: Mapping[str, Any]) -> Any:
    v = example.get(key)
    f = spec.field(key)
    if v is None or f is None:
        return v
    if f.codes and v in f.code_values():  # a code: shown as its Chinese label
        return next(c.label_zh for c in f.codes if c.value == v)
    if f.kind == "bool" and isinstance(v, (bool, np.bool_)):
        return "是" if v else "否"
    return v


def example_from(feature: Mapping[str, Any], geometry: shapely.Geometry | None = None
                 ) -> dict[str, Any]:
    """An example row from a stored feature (e.g. the current version's first one).

    Examples
    --------
    >>> example_from({"name_zh": "甲"}, shapely.Point(116.1, 43.9))["lon"]
    116.1
    """
    out = {k: v for k, v in feature.items() if k != "geometry"}
    if geometry is not None and not geometry.is_empty:
        if geometry.geom_type == "Point":
            out["lon"], out["lat"] = round(geometry.x, 6), round(geometry.y, 6)
        else:
            # A short WKT: an example, not the whole river.
            simple = shapely.simplify(geometry, 0.05)
            out["wkt"] = shapely.to_wkt(simple, rounding_precision=4)[:2000]
    return out


def template_xlsx(layer: str | LayerSpec, example: Mapping[str, Any] | None = None) -> bytes:
    """The blank template workbook of a catalog layer (see the module docstring).

    Parameters
    ----------
    layer : str or LayerSpec
        The catalog layer.
    example : mapping, optional
        The example row by field name (plus ``lon``/``lat`` or ``wkt``); default: a
        typical row of the layer (see :func:`example_from` to take a stored feature).

    Returns
    -------
    bytes
        The ``.xlsx`` file.
    """
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    spec = get_spec(layer) if isinstance(layer, str) else layer
    example = dict(example if example is not None else _EXAMPLES.get(spec.id, {}))
    cols = _columns(spec)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据"
    bold = Font(bold=True)
    red = Font(bold=True, color="C00000")
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    ws.append([h for h, _ in cols])
    ws.append([_example_value(spec, key, example) for _, key in cols])
    for j, (h, _key) in enumerate(cols, 1):
        cell = ws.cell(row=1, column=j)
        cell.font = red if h.startswith("*") else bold
        cell.fill = head_fill
        cell.alignment = Alignment(horizontal="center")
        ws.column_dimensions[get_column_letter(j)].width = max(10, min(40, 2 * len(h) + 4))
    ws.freeze_panes = "A2"

    codes = wb.create_sheet("代码表")
    codes.append(["字段", "Field", "代码 code", "中文", "English", "其他写法 other spellings"])
    for c in codes[1]:
        c.font = bold
    for j, (_h, key) in enumerate(cols, 1):
        f = spec.field(key)
        if f is None or not (f.codes or f.kind == "bool"):
            continue
        first = codes.max_row + 1
        if f.codes:
            for code in f.codes:
                others = "、".join(s for s, v in f.code_aliases if v == code.value)
                codes.append([f.label_zh, f.label_en, code.value, code.label_zh, code.label_en,
                              others])
        else:
            codes.append([f.label_zh, f.label_en, "true", "是", "yes", "已办结、齐全、√、1"])
            codes.append([f.label_zh, f.label_en, "false", "否", "no", "未办结、不齐全、×、0"])
        last = codes.max_row
        # A drop-down of the Chinese labels on the column (other spellings still accepted).
        dv = DataValidation(type="list", formula1=f"'代码表'!$D${first}:$D${last}",
                            allow_blank=True, showErrorMessage=False)
        letter = get_column_letter(j)
        dv.add(f"{letter}2:{letter}2000")
        ws.add_data_validation(dv)
    for j, w in enumerate((16, 22, 28, 18, 30, 40), 1):
        codes.column_dimensions[get_column_letter(j)].width = w

    notes = wb.create_sheet("说明")
    notes.append([f"{spec.title_zh}（{spec.title_en}）替换模板", "", "", "", "", ""])
    notes["A1"].font = Font(bold=True, size=13)
    notes.append(["列名 column", "字段 field", "类型 type", "单位 unit", "必填 required", "说明 notes"])
    for c in notes[2]:
        c.font = bold
    for h, key in cols:
        f = spec.field(key)
        if f is not None:
            note = {"id": "不填则按名称自动生成 / generated from the name when empty",
                    "accuracy_m": "不填则按坐标位数或地名定位精度计算 / from the coordinates' "
                                  "precision or the place matched when empty"}.get(key, "")
            if f.codes:
                note = "见“代码表” / see 代码表"
            if spec.id == water_samples.LAYER:
                note = water_samples.TEMPLATE_NOTES.get(key, water_samples.TEMPLATE_NOTES["*"])
            notes.append([h, f.name, _KIND_ZH.get(f.kind, f.kind), f.unit, "是" if f.required
                          else "", note])
        elif key in ("lon", "lat"):
            notes.append([h, key, "数字", "度", "", "WGS 84/CGCS2000 十进制度或度分秒(116°05′30″)；高德"
                          "坐标请上传时声明datum=gcj02；投影坐标请用X/Y列并声明坐标系(如EPSG:4548)"])
        elif key == "county":
            notes.append([h, "county", "文本", "", "", "无坐标时与“地点”一起按地名库定位；有坐标时旗县市区"
                          "按坐标重新计算 / with 地点 places rows without coordinates; recomputed "
                          "from the position otherwise"])
        elif key in water_samples.TEMPLATE_NOTES:  # a monitoring sheet's own columns
            notes.append([h, key, "文本", "", "是" if h.startswith("*") else "",
                          water_samples.TEMPLATE_NOTES[key]])
        elif key == PLACE_LABELS[0]:
            notes.append([h, "place", "文本", "", "", "镇、苏木名称，如大北沟镇 / town or sumu"])
        elif key == "wkt":
            notes.append([h, "geometry", "WKT", "度", "", "线、面请优先上传shapefile(zip)、GeoJSON、"
                          "GPX或KML；此列可填WKT / prefer a shapefile, GeoJSON, GPX or KML"])
    derived = [f for f in spec.fields if f.derived]
    if derived:
        notes.append([])
        notes.append(["自动计算、无需填写 / recomputed, not filled in:",
                      "、".join(f"{f.label_zh}({f.name})" for f in derived), "", "", "", ""])
    notes.append([])
    notes.append(["标*的列必填；金额列名写明(万元)时自动换算为亿元；标题行、合计行可保留。",
                  "", "", "", "", ""])
    for j, w in enumerate((22, 22, 10, 8, 10, 70), 1):
        notes.column_dimensions[get_column_letter(j)].width = w
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
