"""Tables with coordinates: CSV (any delimiter, UTF-8 or GBK/GB18030, BOM) and XLSX.

A table becomes points from its coordinate columns (:mod:`geo.read.coords`:
longitude/latitude in decimal degrees or DMS; projected X/Y in metres with a
declared CRS, :mod:`geo.read.projected`), or geometries from a WKT column.
Spreadsheets are read as governments keep them (:mod:`geo.read.sheet`): the header
is found below any title rows, a two-row header is combined, a ``单位：万元`` line is
noted, merged cells down a column are filled, and totals (合计/总计/小计), group
(一、能源) and note (注：…) rows are set aside — each reported with its row in the
user's file.  Blank rows and rows whose coordinates are missing or unreadable are
dropped, each with its line or sheet row in the report (or, with
``keep_unlocated``, rows without coordinates are kept without a geometry, for a
gazetteer to place).  Other columns keep their names and values; columns whose
every value is a number become numbers, also when the numbers are text with
thousands separators or full-width digits (codes with leading zeros, such as
``"0152"``, stay text).

Examples
--------
>>> from geo.report import Report
>>> text = "名称,经度,纬度\\n锡林浩特,116°05′30″,43°57′N\\n,,\\n".encode("gbk")
>>> r = Report()
>>> gdf = read_csv(text, report=r)
>>> gdf["名称"].tolist(), round(float(gdf.geometry.x[0]), 4), r.dropped[0].code
(['锡林浩特'], 116.0917, 'blank_row')
>>> sheet = "2023年项目表,,\\n名称,经度,纬度\\n甲,116.1,43.9\\n合计,,\\n".encode()
>>> r = Report()
>>> read_csv(sheet, report=r)["名称"].tolist(), sorted(r.codes())
(['甲'], ['title_rows', 'totals_row'])
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ..errors import GeoInputError
from ..report import Report
from ..validate import RegionLike
from .coords import (
    CoordinateColumns,
    find_coordinate_columns,
    find_wkt_column,
    parse_degrees,
    parse_numbers,
    precision_m,
)
from .projected import arrange_projected
from .sheet import (
    HEADER_SCAN_ROWS,
    Header,
    blank_cells,
    cell_text,
    classify_rows,
    is_number_text,
    locate_header,
    merged_ranges,
    unique_names,
)

_HINT_COLUMNS = ("name the coordinate columns lon/lat, longitude/latitude or 经度/纬度 "
                 "(decimal degrees or 116°05′30″), X/Y with a declared crs (EPSG:4548 …), "
                 "or add a WKT column")
_HINT_COLUMNS_ZH = ("请把坐标列命名为经度/纬度（十进制度或116°05′30″），投影坐标X/Y请声明坐标系（如EPSG:4548），"
                    "或添加WKT列")

#: Columns added with ``trace=True``: the row (or line) of each feature in the user's
#: file, and the precision its coordinates were written with (m).
ROW_COLUMN = "_row"
PRECISION_COLUMN = "_precision_m"
#: Column holding the label of the group row (一、能源项目) above each data row.
GROUP_COLUMN = "分组"


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


def read_csv(data: bytes, *, report: Report, crs: pyproj.CRS | None = None,
             keep_unlocated: bool = False, trace: bool = False, header_row: int | None = None,
             region: RegionLike = None) -> gpd.GeoDataFrame:
    """Points (or WKT geometries) from CSV/TSV bytes; see the module docstring.

    ``header_row`` is the header's line number (1-based) when the caller knows it;
    the other parameters are those of :func:`table_to_geodataframe`.
    """
    text, encoding = decode_text(data)
    report.source["encoding"] = encoding
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    head_lines = _first_lines(text, HEADER_SCAN_ROWS + 2)
    try:
        head = list(csv.reader(head_lines, delimiter=delimiter))
    except csv.Error:
        head = [line.split(delimiter) for line in head_lines]
    header = locate_header(head, None if header_row is None else header_row - 1)
    skip = list(range(header.row)) + ([header.row + 1] if header.depth == 2 else [])
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, skipinitialspace=True, skiprows=skip or None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as e:
        raise GeoInputError(f"the CSV cannot be parsed: {str(e).strip()[:200]}",
                            hint="check that every row has as many fields as the header and "
                            "that quotes are balanced", status=422, code="file_unreadable",
                            message_zh="CSV 文件无法解析",
                            hint_zh="请检查每一行的字段数是否与表头一致、引号是否成对") from e
    if header.row or header.depth == 2:
        names = header.names + [str(c) for c in frame.columns[len(header.names):]]
        frame.columns = unique_names(names[:frame.shape[1]])
    _report_header(header, report, "line")
    lines = np.arange(len(frame)) + header.data_start + 1
    return table_to_geodataframe(frame, report=report, rows=lines, where="line", crs=crs,
                                 keep_unlocated=keep_unlocated, trace=trace, region=region)


def _first_lines(text: str, k: int) -> list[str]:
    """``text.splitlines()[:k]`` without splitting the whole text (a million-row CSV).

    Examples
    --------
    >>> _first_lines("a\\nb\\r\\nc\\rd\\n", 3), _first_lines("a", 3)
    (['a', 'b', 'c'], ['a'])
    """
    end = -1
    for _ in range(k):
        end = text.find("\n", end + 1)
        if end < 0:
            return text.splitlines()[:k]
    # k newlines: at least k whole lines before them whatever else breaks lines.
    return text[:end + 1].splitlines()[:k]


def _report_header(header: Header, report: Report, where: str) -> None:
    """Say where the header was found and what stood above it."""
    report.source["header_row"] = header.row + 1
    if header.title:
        report.source["title"] = header.title
        report.warn("title_rows", f"the header is on {where} {header.row + 1}; the "
                    f"{header.row} {where}(s) above it were read as the title: "
                    + " / ".join(header.title)[:200],
                    f"表头位于第{header.row + 1}行，其上{header.row}行作为标题：" + " / ".join(header.title)[:200],
                    **{where: header.row + 1}, title=header.title)
    if header.depth == 2:
        report.warn("two_row_header", f"the header spans {where}s {header.row + 1}–{header.row + 2}; "
                    "the column names combine them: " + ", ".join(header.names)[:300],
                    f"表头占第{header.row + 1}–{header.row + 2}行，列名已合并",
                    names=header.names)
    if header.unit:
        report.source["unit"] = header.unit
        report.warn("unit_declared", f"the sheet says its amounts are in {header.unit} "
                    f"(单位：{header.unit})", f"表格注明单位：{header.unit}", unit=header.unit)


def _sheet_rows(ws: Any, max_row: int | None = None) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(min_row=1, min_col=1, max_row=max_row,
                                          values_only=True)]


def _has_coordinates(names: list[str]) -> bool:
    return find_coordinate_columns(names) is not None or find_wkt_column(names) is not None


def read_xlsx(data: bytes, *, sheet: str | None, report: Report, crs: pyproj.CRS | None = None,
              keep_unlocated: bool = False, trace: bool = False, header_row: int | None = None,
              region: RegionLike = None) -> gpd.GeoDataFrame:
    """Points from a sheet of an XLSX workbook (see the module docstring).

    With ``sheet`` (a name, or a 1-based position) that sheet is read; otherwise the
    first sheet with coordinate (or WKT) columns, or — with ``keep_unlocated`` — the
    first sheet with a header.  Merged cells down one column of the data (a category
    merged over its projects) are filled with their value.
    """
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for damaged workbooks
        raise GeoInputError(f"the Excel workbook cannot be read ({str(e)[:200]})",
                            hint="open it in Excel/WPS and save it again as .xlsx, or export "
                            "CSV (UTF-8)", status=422, code="file_unreadable",
                            message_zh="Excel 工作簿无法读取",
                            hint_zh="请在 Excel/WPS 中打开后另存为 .xlsx，或导出 UTF-8 CSV") from e
    try:
        names = list(wb.sheetnames)
        if sheet is not None:
            chosen = _pick_sheet(names, str(sheet))
        else:
            heads = {}
            for n in names:
                ws = wb[n]
                ws.reset_dimensions()
                heads[n] = locate_header(_sheet_rows(ws, HEADER_SCAN_ROWS + 2))
            usable = [n for n in names if _has_coordinates(heads[n].names)]
            if not usable and keep_unlocated:
                usable = [n for n in names if sum(bool(x) for x in heads[n].names) >= 2]
            if not usable:
                cols = ", ".join(x for x in heads[names[0]].names[:20] if x) if names else ""
                raise GeoInputError(f"no sheet of the workbook has coordinate columns (first "
                                    f"sheet has: {cols})", hint=_HINT_COLUMNS, status=422,
                                    code="no_coordinates", message_zh="工作簿的各个工作表都没有经纬度列",
                                    hint_zh=_HINT_COLUMNS_ZH)
            chosen = usable[0]
            if len(names) > 1:
                report.warn("sheet_chosen", f"read sheet {chosen!r} of {len(names)}",
                            f"读取了工作表{chosen}", sheets=names)
        ws = wb[chosen]
        ws.reset_dimensions()
        grid = _sheet_rows(ws)
    finally:
        wb.close()
    report.source["layer"] = chosen
    report.source["sheet"] = chosen
    header = locate_header(grid, None if header_row is None else header_row - 1)
    _report_header(header, report, "row")
    body = grid[header.data_start:]
    width = max([header.width] + [len(r) for r in body])
    frame = pd.DataFrame([r + [None] * (width - len(r)) for r in body], columns=range(width),
                         dtype=object)
    # Columns past the header that hold nothing at all are not columns of the table.
    extra = [c for c in frame.columns[header.width:]
             if blank_cells(frame[[c]].to_numpy(dtype=object)).all()]
    frame = frame.drop(columns=extra)
    _fill_merged(frame, merged_ranges(data, chosen), header.data_start, report)
    frame.columns = unique_names(header.names + [""] * (frame.shape[1] - len(header.names)))
    rows = np.arange(len(frame)) + header.data_start + 1
    return table_to_geodataframe(frame, report=report, rows=rows, where="row", crs=crs,
                                 keep_unlocated=keep_unlocated, trace=trace, region=region)


def _pick_sheet(names: list[str], sheet: str) -> str:
    if sheet in names:
        return sheet
    if sheet.isdigit() and 1 <= int(sheet) <= len(names):
        return names[int(sheet) - 1]
    raise GeoInputError(f"the workbook has no sheet {sheet!r}",
                        hint="sheets: " + ", ".join(names), status=422, code="layer_not_in_file",
                        message_zh=f"工作簿中没有工作表“{sheet}”", hint_zh="工作表：" + "、".join(names))


def _column_letters(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def _fill_merged(frame: pd.DataFrame, ranges: list[tuple[int, int, int, int]], start: int,
                 report: Report) -> None:
    """Fill cells merged down one column of the data with the merged value (in place)."""
    for r0, c0, r1, c1 in ranges:
        if c0 != c1 or r1 <= r0 or r0 < start or c0 >= frame.shape[1]:
            continue
        a, b = r0 - start, min(r1 - start, len(frame) - 1)
        value = frame.iat[a, c0]
        if value is None or b <= a:
            continue
        # Only rows with something else in them: a blank row inside the merge stays blank.
        body = frame.iloc[a + 1:b + 1].drop(columns=frame.columns[c0])
        filled = ~blank_cells(body.to_numpy(dtype=object)).all(axis=1)
        frame.iloc[a + 1 + np.flatnonzero(filled), c0] = value
        ref = f"{_column_letters(c0)}{r0 + 1}:{_column_letters(c1)}{r1 + 1}"
        report.repair("merged_cells_filled", f"cells {ref} are merged: their value "
                      f"{str(value)[:40]!r} was given to each row", f"合并单元格{ref}的值已填入每一行",
                      range=ref, value=str(value)[:100])


def _drop_rows(report: Report, code: str, message: str, message_zh: str, mask: np.ndarray,
               rows: np.ndarray, where: str, frame: pd.DataFrame, with_values: bool = False
               ) -> None:
    idx = np.flatnonzero(mask)
    details = []
    for i in idx:
        d: dict[str, Any] = {where: int(rows[i])}
        if with_values:
            d["values"] = {str(c): _plain(v) for c, v in zip(frame.columns, frame.iloc[i],
                                                             strict=True)
                           if v is not None and str(v).strip() != ""}
        details.append(d)
    report.drop_many(code, message, message_zh, frame.index[idx], details)


def _plain(v: Any) -> Any:
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    if isinstance(v, (int, float, str, bool)):
        return v
    return str(v)


def table_to_geodataframe(frame: pd.DataFrame, *, report: Report, first_row: int = 2,
                          where: str = "line", rows: np.ndarray | None = None,
                          crs: pyproj.CRS | None = None, keep_unlocated: bool = False,
                          trace: bool = False, region: RegionLike = None) -> gpd.GeoDataFrame:
    """Geometries from a table's coordinate or WKT columns; other columns become properties.

    Parameters
    ----------
    frame : DataFrame
        The cells below the header, named by the header.
    report : Report
        Receives every row set aside or dropped, with its ``where`` number.
    first_row, rows :
        Row numbers in the user's file: ``rows`` per row, or consecutive from ``first_row``.
    where : {"line", "row"}
        What the numbers count (CSV lines, sheet rows).
    crs : pyproj.CRS, optional
        Declared CRS; a projected one makes X/Y columns metres in it (the frame then
        comes back in that CRS for :func:`geo.read.finish.finish` to transform).
    keep_unlocated : bool
        Keep rows without coordinates (both columns blank, or no coordinate columns
        at all) with an empty geometry instead of dropping them: a gazetteer can
        place them from their place columns.
    trace : bool
        Add :data:`ROW_COLUMN` (row in the user's file) and, for coordinate columns,
        :data:`PRECISION_COLUMN`.
    region : optional
        Where the points should be, for telling swapped X/Y apart.
    """
    frame = frame.rename(columns=lambda c: str(c).replace("\ufeff", "").strip())
    frame.index = pd.RangeIndex(len(frame))
    report.source["row_kind"] = where
    lines = np.asarray(rows) if rows is not None else frame.index.to_numpy() + first_row
    blank = blank_cells(frame.to_numpy(dtype=object))
    kinds = classify_rows(frame, blank)
    kind = kinds.kind
    _drop_rows(report, "blank_row", "blank row", "空行",
               (kind == "blank") | (kind == "trailing_blank"), lines, where, frame)
    _drop_rows(report, "totals_row", "totals row (合计/总计/小计): not a feature; its figures "
               "are kept in the report to check the sum", "合计/小计行不是要素，已略过（数值保留于报告中以便核对）",
               kind == "total", lines, where, frame, with_values=True)
    if (kind == "total").any():
        report.source["totals"] = [
            {where: int(lines[i]), **{str(c): _plain(v) for c, v in zip(frame.columns, frame.iloc[i],
                                                                       strict=True)
                                      if v is not None and str(v).strip() != ""}}
            for i in np.flatnonzero(kind == "total")[:20]]
    _drop_rows(report, "group_row", "group heading row (一、…): its label is given to the rows "
               f"below in the column {GROUP_COLUMN}", f"分组标题行，其名称已填入下方各行的“{GROUP_COLUMN}”列",
               kind == "group", lines, where, frame, with_values=True)
    _drop_rows(report, "note_row", "note row (注：…), not a feature", "注释行，不是要素",
               kind == "note", lines, where, frame, with_values=True)
    data = kind == "data"
    if (kind == "group").any() and GROUP_COLUMN not in frame:
        frame[GROUP_COLUMN] = kinds.group
        blank = np.column_stack([blank, kinds.group == ""])

    cols = find_coordinate_columns(frame.columns)
    wkt_col = find_wkt_column(frame.columns) if cols is None else None
    if cols is None and wkt_col is None and not keep_unlocated:
        shown = ", ".join(str(c) for c in frame.columns[:20])
        raise GeoInputError(f"no longitude/latitude columns found (columns: {shown})",
                            hint=_HINT_COLUMNS, status=422, code="no_coordinates",
                            message_zh=f"没有找到经纬度列（现有列：{shown}）", hint_zh=_HINT_COLUMNS_ZH)
    keep = data.copy()
    geoms = np.full(len(frame), None, dtype=object)
    precision = np.full(len(frame), np.nan)
    drop_cols: list[str] = []
    if cols is not None:
        report.source["columns"] = [str(cols.first), str(cols.second)]
        drop_cols = [cols.first, cols.second]
        col_pos = [list(frame.columns).index(c) for c in drop_cols]
        missing_any = blank[:, col_pos].any(axis=1) & keep
        missing_all = blank[:, col_pos].all(axis=1) & keep
        if keep_unlocated:
            unlocated = missing_all
            partial = missing_any & ~missing_all
            report.drop_many("missing_coordinate", "longitude or latitude is missing",
                             "缺少经度或纬度", frame.index[partial],
                             [{where: int(n)} for n in lines[partial]])
            keep &= ~partial
            located = keep & ~unlocated
            if unlocated.any():
                report.warn("unlocated_rows", f"{int(unlocated.sum())} rows have no coordinates: "
                            "kept without a geometry, to be placed from their place columns",
                            f"{int(unlocated.sum())}行无坐标，保留待按地名定位",
                            count=int(unlocated.sum()),
                            rows=[int(n) for n in lines[unlocated][:100]])
        else:
            report.drop_many("missing_coordinate", "longitude or latitude is missing",
                             "缺少经度或纬度", frame.index[missing_any],
                             [{where: int(n)} for n in lines[missing_any]])
            keep &= ~missing_any
            located = keep.copy()
        geoms, good, precision = _points(frame, cols, located, lines, where, report, crs, region)
        bad = located & ~good
        report.drop_many(
            "bad_coordinate", "coordinate cannot be read as degrees" if not _projected(crs)
            else "coordinate cannot be read as a number of metres", "坐标无法识别",
            frame.index[bad],
            [{where: int(n), "lon": str(a)[:50], "lat": str(b)[:50]} for n, a, b in
             zip(lines[bad], frame[cols.first].to_numpy()[bad], frame[cols.second].to_numpy()[bad],
                 strict=True)])
        keep &= ~bad
    elif wkt_col is not None:
        report.source["columns"] = [str(wkt_col)]
        drop_cols = [wkt_col]
        text = frame[wkt_col].astype("string").fillna("").str.strip().to_numpy(dtype=object)
        if keep_unlocated:
            empty_text = keep & (text == "")
            located = keep & ~empty_text
        else:
            located = keep
        geoms[located] = shapely.from_wkt(text[located], on_invalid="ignore")
        bad = located & shapely.is_missing(geoms)
        report.drop_many("bad_wkt", "geometry text (WKT) cannot be read", "WKT几何无法读取",
                         frame.index[bad], [{where: int(n)} for n in lines[bad]])
        keep &= ~bad
    else:
        report.source["columns"] = []
        report.warn("no_coordinates", "the table has no coordinate columns: its rows are kept "
                    "without a geometry, to be placed from their place columns",
                    "表格没有坐标列：各行保留待按地名定位", columns=[str(c) for c in frame.columns[:30]])
    props = infer_types(frame.drop(columns=drop_cols).loc[keep], report=report)
    if trace:
        props[ROW_COLUMN] = lines[keep].astype("int64")
        if cols is not None:
            props[PRECISION_COLUMN] = precision[keep]
    out = gpd.GeoDataFrame(props, geometry=gpd.GeoSeries(geoms[keep], index=props.index))
    return out


def _projected(crs: pyproj.CRS | None) -> bool:
    return crs is not None and crs.is_projected


def _points(frame: pd.DataFrame, cols: CoordinateColumns, located: np.ndarray, lines: np.ndarray,
            where: str, report: Report, crs: pyproj.CRS | None, region: RegionLike
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points of the located rows; which could be read; and their precision (m)."""
    geoms = np.full(len(frame), None, dtype=object)
    a_raw, b_raw = frame[cols.first], frame[cols.second]
    if _projected(crs):
        a, _ = parse_numbers(a_raw)
        b, _ = parse_numbers(b_raw)
        good = located & np.isfinite(a) & np.isfinite(b)
        e, n = arrange_projected(a[good], b[good], cols.kind, crs, report=report,
                                 rows=lines[good], where=where, region=region)
        geoms[good] = shapely.points(e, n)
        precision = np.maximum(precision_m(a_raw, metres=True), precision_m(b_raw, metres=True))
        return geoms, good, precision
    lon, lon_axis = parse_degrees(a_raw)
    lat, lat_axis = parse_degrees(b_raw)
    # Hemisphere letters can prove the columns are the wrong way round (43°57'N
    # in the longitude column).
    if (lon_axis == "lat").sum() > len(frame) / 2 and (lat_axis == "lon").sum() > len(frame) / 2:
        lon, lat = lat, lon
        report.repair("swapped_columns",
                      f"the columns {cols.first!r}/{cols.second!r} hold latitude/longitude the other "
                      "way round (by their N/E letters); swapped",
                      "经纬度列内容相反（据N/E字母判断），已交换")
    good = located & np.isfinite(lon) & np.isfinite(lat)
    geoms[good] = shapely.points(lon[good], lat[good])
    precision = np.maximum(precision_m(a_raw), precision_m(b_raw))
    return geoms, good, precision


_LEADING_ZERO = re.compile(r"^[+-]?0\d")


def infer_types(frame: pd.DataFrame, report: Report | None = None) -> pd.DataFrame:
    """Columns of plain numbers as numbers; everything else unchanged.

    Numbers kept as text the way spreadsheets keep them — ``1,568.5``, full-width
    ``１２，３４５`` — count as numbers (said in ``report`` as ``numbers_from_text``).

    Examples
    --------
    >>> t = infer_types(pd.DataFrame({"a": ["1", "2.5"], "code": ["0152", "0153"],
    ...                               "yi": ["1,568", "３６５．０"]}))
    >>> [str(t["a"].dtype), type(t["code"][0]).__name__, t["yi"].tolist()]
    ['float64', 'str', [1568, 365]]
    """
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
            continue
        arr = series.to_numpy(dtype=object)
        present = ~blank_cells(arr.reshape(-1, 1))[:, 0]
        filled = arr[present]
        if not len(filled) or any(isinstance(v, bool) for v in filled):
            continue  # booleans stay booleans, not 1.0/0.0
        cleaned = 0
        try:
            nums = filled.astype("float64")  # raises at the first non-number: cheap refusal
        except (TypeError, ValueError):
            # Text numbers with separators: only worth the cleaning when a sample reads so.
            if not all(not isinstance(v, str) or is_number_text(cell_text(v).replace(" ", ""))
                       for v in filled[:50]):
                continue
            nums, was_text = parse_numbers(filled)
            if np.isnan(nums).any():
                continue
            cleaned = int(was_text.sum())
        if any(isinstance(v, str) and _LEADING_ZERO.match(v.strip()) for v in filled):
            continue  # codes such as "0152" stay text
        full = np.full(len(arr), np.nan)
        full[present] = nums
        if present.all() and np.isfinite(nums).all() and (nums % 1 == 0).all():
            out[col] = full.astype("int64")
        else:
            out[col] = full
        if cleaned and report is not None:
            report.repair("numbers_from_text", f"column {str(col)[:40]!r}: {cleaned} numbers written "
                          "as text (thousands separators, full-width digits) read as numbers",
                          f"“{str(col)[:40]}”列中{cleaned}个以文本形式存储的数字已按数字读取",
                          column=str(col), count=cleaned)
    return out
