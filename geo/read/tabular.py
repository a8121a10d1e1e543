"""Tables with coordinates: CSV (any delimiter, UTF-8 or GBK/GB18030, BOM) and XLSX.

A table becomes points from its longitude/latitude columns
(:mod:`geo.read.coords`), or geometries from a WKT column.  Blank rows and rows
whose coordinates are missing or unreadable are dropped, each with its line or
sheet row in the report.  Other columns keep their names and values; columns
whose every value is a plain number become numbers (codes with leading zeros,
such as ``"0152"``, stay text).

Examples
--------
>>> from geo.report import Report
>>> text = "名称,经度,纬度\\n锡林浩特,116°05′30″,43°57′N\\n,,\\n".encode("gbk")
>>> r = Report()
>>> gdf = read_csv(text, report=r)
>>> gdf["名称"].tolist(), round(float(gdf.geometry.x[0]), 4), r.dropped[0].code
(['锡林浩特'], 116.0917, 'blank_row')
"""

from __future__ import annotations

import codecs
import csv
import io
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import GeoInputError
from ..report import Report
from .coords import find_columns, find_wkt_column, parse_degrees

_HINT_COLUMNS = ("name the coordinate columns lon/lat, longitude/latitude or 经度/纬度 "
                 "(decimal degrees or 116°05′30″), or add a WKT column")
_HINT_COLUMNS_ZH = ("表格需要经度、纬度两列（列名如“经度/纬度”“lon/lat”“x/y”），"
                    "数值可以是十进制度或度分秒")


def decode_text(data: bytes) -> tuple[str, str]:
    """Text of ``data`` and the encoding used: UTF-8 (with or without BOM), else GB18030.

    GB18030 is a superset of GBK and GB2312, so Chinese Excel/WPS exports decode.

    Examples
    --------
    >>> decode_text("经度".encode("gbk"))
    ('经度', 'gb18030')
    >>> decode_text(codecs.BOM_UTF8 + b"lon")
    ('lon', 'utf-8-sig')
    """
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise GeoInputError("the text file is neither UTF-8 nor GBK/GB18030",
                        hint="save it again as 'CSV UTF-8' in Excel or WPS", status=400, code="file_encoding", message_zh="文本文件既不是 UTF-8 也不是 GBK/GB18030 编码", hint_zh="请在 Excel 或 WPS 中另存为“CSV UTF-8”")


def read_csv(data: bytes, *, report: Report) -> gpd.GeoDataFrame:
    """Points (or WKT geometries) from CSV/TSV bytes; see the module docstring."""
    text, encoding = decode_text(data)
    report.source["encoding"] = encoding
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as e:
        raise GeoInputError(f"the CSV cannot be parsed: {str(e).strip()[:200]}",
                            hint="check that every row has as many fields as the header and "
                            "that quotes are balanced", status=422, code="file_unreadable", message_zh="CSV 文件无法解析", hint_zh="请检查每一行的字段数是否与表头一致、引号是否成对") from e
    # Data rows start on line 2 of the file (line 1 is the header).
    return table_to_geodataframe(frame, report=report, first_row=2, where="line")


def read_xlsx(data: bytes, *, sheet: str | None, report: Report) -> gpd.GeoDataFrame:
    """Points from the sheet of an XLSX workbook that has coordinate columns.

    With ``sheet`` that sheet is read; otherwise the first sheet with coordinate
    (or WKT) columns.
    """
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object,
                               engine="openpyxl")
    except Exception as e:  # openpyxl raises many kinds for damaged workbooks
        raise GeoInputError(f"the Excel workbook cannot be read ({str(e)[:200]})",
                            hint="open it in Excel/WPS and save it again as .xlsx, or export "
                            "CSV (UTF-8)", status=422, code="file_unreadable", message_zh="Excel 工作簿无法读取", hint_zh="请在 Excel/WPS 中打开后另存为 .xlsx，或导出 UTF-8 CSV") from e
    names = list(sheets)
    if sheet is not None:
        if sheet not in sheets:
            raise GeoInputError(f"the workbook has no sheet {sheet!r}",
                                hint="sheets: " + ", ".join(names), status=422, code="layer_not_in_file", message_zh=f"工作簿里没有名为 {sheet!r} 的工作表", hint_zh="可选工作表：" + "、".join(names))
        chosen = sheet
    else:
        usable = [n for n in names if find_columns(sheets[n].columns)
                  or find_wkt_column(sheets[n].columns)]
        if not usable:
            cols = ", ".join(str(c) for c in sheets[names[0]].columns[:20]) if names else ""
            raise GeoInputError(f"no sheet of the workbook has coordinate columns (first sheet "
                                f"has: {cols})", hint=_HINT_COLUMNS, status=422, code="no_coordinates", message_zh="工作簿的各个工作表都没有经纬度列", hint_zh=_HINT_COLUMNS_ZH)
        chosen = usable[0]
        if len(names) > 1:
            report.warn("sheet_chosen", f"read sheet {chosen!r} of {len(names)}",
                        f"读取了工作表{chosen}", sheets=names)
    report.source["layer"] = chosen
    frame = sheets[chosen]
    # Excel row numbers: the header is row 1.
    return table_to_geodataframe(frame, report=report, first_row=2, where="row")


_IS_SPACE = np.frompyfunc(lambda v: v.__class__ is str and v.isspace(), 1, 1)


def _blank(frame: pd.DataFrame) -> pd.DataFrame:
    """Cell-wise: empty or whitespace-only (or missing)."""
    arr = frame.to_numpy(dtype=object)
    blank = pd.isna(arr) | (arr == "")
    if arr.size:
        # frompyfunc: one C-level loop; pandas' string methods cost far more per cell here.
        blank |= _IS_SPACE(arr).astype(bool)
    return pd.DataFrame(blank, index=frame.index, columns=frame.columns)


def table_to_geodataframe(frame: pd.DataFrame, *, report: Report, first_row: int,
                          where: str) -> gpd.GeoDataFrame:
    """Geometries from a table's coordinate or WKT columns; other columns become properties."""
    frame = frame.rename(columns=lambda c: str(c).replace("\ufeff", "").strip())
    frame.index = pd.RangeIndex(len(frame))
    lines = frame.index.to_numpy() + first_row
    blank_cells = _blank(frame)
    blank_rows = blank_cells.all(axis=1).to_numpy()
    report.drop_many("blank_row", "blank row", "空行", frame.index[blank_rows],
                     [{where: int(n)} for n in lines[blank_rows]])
    pair = find_columns(frame.columns)
    wkt_col = find_wkt_column(frame.columns) if pair is None else None
    if pair is None and wkt_col is None:
        cols = ", ".join(str(c) for c in frame.columns[:20])
        raise GeoInputError(f"no longitude/latitude columns found (columns: {cols})",
                            hint=_HINT_COLUMNS, status=422, code="no_coordinates", message_zh=f"没有找到经纬度列（现有列：{cols}）", hint_zh=_HINT_COLUMNS_ZH)
    keep = ~blank_rows
    if pair is not None:
        lon_col, lat_col = pair
        report.source["columns"] = [str(lon_col), str(lat_col)]
        lon, lon_axis = parse_degrees(frame[lon_col])
        lat, lat_axis = parse_degrees(frame[lat_col])
        # Hemisphere letters can prove the columns are the wrong way round (43°57'N
        # in the longitude column).
        if (lon_axis == "lat").sum() > len(frame) / 2 and (lat_axis == "lon").sum() > len(frame) / 2:
            lon, lat = lat, lon
            report.repair("swapped_columns",
                          f"the columns {lon_col!r}/{lat_col!r} hold latitude/longitude the other "
                          "way round (by their N/E letters); swapped",
                          "经纬度列内容相反（据N/E字母判断），已交换")
        missing = (blank_cells[lon_col] | blank_cells[lat_col]).to_numpy() & keep
        report.drop_many("missing_coordinate", "longitude or latitude is missing",
                         "缺少经度或纬度", frame.index[missing],
                         [{where: int(n)} for n in lines[missing]])
        keep &= ~missing
        bad = keep & ~(np.isfinite(lon) & np.isfinite(lat))
        report.drop_many(
            "bad_coordinate", "coordinate cannot be read as degrees", "坐标无法识别为度",
            frame.index[bad],
            [{where: int(n), "lon": str(a)[:50], "lat": str(b)[:50]} for n, a, b in
             zip(lines[bad], frame[lon_col].to_numpy()[bad], frame[lat_col].to_numpy()[bad],
                 strict=True)])
        keep &= ~bad
        geoms = np.full(len(frame), None, dtype=object)
        geoms[keep] = shapely.points(lon[keep], lat[keep])
        props = frame.drop(columns=[lon_col, lat_col])
    else:
        report.source["columns"] = [str(wkt_col)]
        text = frame[wkt_col].astype("string").fillna("").str.strip().to_numpy(dtype=object)
        geoms = np.full(len(frame), None, dtype=object)
        geoms[keep] = shapely.from_wkt(text[keep], on_invalid="ignore")
        bad = keep & shapely.is_missing(geoms)
        report.drop_many("bad_wkt", "geometry text (WKT) cannot be read", "WKT几何无法读取",
                         frame.index[bad], [{where: int(n)} for n in lines[bad]])
        keep &= ~bad
        props = frame.drop(columns=[wkt_col])
    props = infer_types(props.loc[keep])
    return gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(geoms[keep], index=props.index))


_LEADING_ZERO = re.compile(r"^[+-]?0\d")


def infer_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of plain numbers as numbers; everything else unchanged.

    Examples
    --------
    >>> t = infer_types(pd.DataFrame({"a": ["1", "2.5"], "code": ["0152", "0153"]}))
    >>> [str(t["a"].dtype), type(t["code"][0]).__name__]
    ['float64', 'str']
    """
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
            continue
        arr = series.to_numpy(dtype=object)
        present = ~_blank(series.to_frame()).to_numpy()[:, 0]
        filled = arr[present]
        if not len(filled) or any(isinstance(v, bool) for v in filled):
            continue  # booleans stay booleans, not 1.0/0.0
        try:
            nums = filled.astype("float64")  # raises at the first non-number: cheap refusal
        except (TypeError, ValueError):
            continue
        if any(isinstance(v, str) and _LEADING_ZERO.match(v.strip()) for v in filled):
            continue  # codes such as "0152" stay text
        full = np.full(len(arr), np.nan)
        full[present] = nums
        if present.all() and np.isfinite(nums).all() and (nums % 1 == 0).all():
            out[col] = full.astype("int64")
        else:
            out[col] = full
    return out
