"""Monitoring sheets as the stations send them: values, headers, sections, dates.

A monitoring sheet (监测报表) is a table with one row per sample: the section
(断面名称 or its code), the sampling date (采样日期, 监测时间 …) and one column per
item, the unit in the header (``氨氮(mg/L)``, ``粪大肠菌群(个/L)``, ``汞(μg/L)``).
Values below the detection limit are written ``<0.01`` or ``0.01L`` (the limit with
an L, as Chinese reports do); ``ND`` / ``未检出`` without the limit cannot be stored
and is an error that asks for it.  Everything here is pure: it takes cell values
(as read from CSV or XLSX, text or numbers) and returns arrays plus row-level
errors, so the import can answer every bad cell at once.

* :func:`parse_value` / :func:`parse_column` — one cell / one column of an item.
* :func:`match_header` / :func:`match_headers` — header → field and unit scale.
* :func:`match_sections` — section names or codes → ids, with the nearest names
  suggested for a misspelt one.
* :func:`parse_dates` — dates as stations write them.
* :func:`read_sheet` — all of it: a table → samples in the ``wq_samples`` layer's
  fields, and the errors.

Examples
--------
>>> parse_value("<0.01"), parse_value("0.01L"), parse_value("7.8"), parse_value("")
((0.01, True), (0.01, True), (7.8, False), (None, False))
>>> m = match_header("氨氮（mg/L）")
>>> m.field, m.scale
('nh3_n', 1.0)
>>> match_header("汞(μg/L)").scale
0.001
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import GeoInputError
from .gb3838 import BELOW_DETECTION, ITEMS, PARAMETERS

#: Row number of the first data row in messages (a sheet's header is row 1).
FIRST_ROW = 2


@dataclass
class SheetError:
    """A problem with one cell, row or column of a sheet.

    ``row`` is the spreadsheet row (header = 1; None for a whole column),
    ``column`` the header as written.
    """

    code: str
    message: str
    message_zh: str
    row: int | None = None
    column: str | None = None
    hint: str = ""
    hint_zh: str = ""
    suggestions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        d = {"code": self.code, "row": self.row, "column": self.column,
             "error": self.message, "error_zh": self.message_zh, "hint": self.hint,
             "hint_zh": self.hint_zh}
        if self.suggestions:
            d["suggestions"] = self.suggestions
        return d


# -- values --------------------------------------------------------------------------------
_MISSING = {"", "-", "--", "—", "/", "\\", "NAN", "NA", "N/A", "NULL", "NONE", "无", "未测",
            "未监测", "缺测"}
_ND = re.compile(r"^(ND|N\.D\.?|未检出|未检|低于检出限|<DL|<LOD)(?:\s*[(\[]?\s*<?\s*"
                 r"(?P<limit>[0-9.eE+-]+)\s*L?\s*[)\]]?)?$", re.IGNORECASE)
_LT = re.compile(r"^(?:<|＜|≤|<=)\s*(?P<v>[0-9.eE+-]+)$")
_L_SUFFIX = re.compile(r"^(?P<v>[0-9.eE+-]+)\s*L$", re.IGNORECASE)
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


def _number(text: str) -> float | None:
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def parse_value(value: Any, item: str | None = None) -> tuple[float | None, bool]:
    """One cell: ``(value, below_detection)``; ``(None, False)`` when empty.

    Accepts numbers, ``<0.01`` / ``＜0.01``, ``0.01L``, ``ND(0.01)`` / ``未检出(0.01)``
    (the limit given), thousands separators (``2,400``) and full-width digits.

    Raises
    ------
    GeoInputError
        ``ND`` / ``未检出`` without a limit (the limit is needed: the value stored is
        the limit), or text that is not a value.

    Examples
    --------
    >>> parse_value("未检出(0.005)"), parse_value("2,400"), parse_value(0.5)
    ((0.005, True), (2400.0, False), (0.5, False))
    >>> parse_value("ND", "phenols")
    Traceback (most recent call last):
    ...
    geo.errors.GeoInputError: 'ND' (phenols) is below detection but gives no detection limit
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, False
    if isinstance(value, (bool, np.bool_)):
        raise GeoInputError(f"{value!r} is not a measured value", status=422,
                            message_zh=f"{value!r} 不是监测值", code="unprocessable")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value), False
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text.upper() in _MISSING:
        return None, False
    what = f" ({item})" if item else ""
    m = _ND.match(text)
    if m:
        limit = _number(m.group("limit")) if m.group("limit") else None
        if limit is None:
            raise GeoInputError(
                f"{value!r}{what} is below detection but gives no detection limit",
                hint="write the detection limit, e.g. <0.01 or 0.01L (the atlas stores the "
                     "limit and flags the value as below it)",
                message_zh=f"{value!r}{what} 为未检出, 但未给出检出限",
                hint_zh="请写出检出限, 如 <0.01 或 0.01L(图集按检出限保存并标记为未检出)",
                status=422, code="unprocessable")
        return limit, True
    for pattern in (_LT, _L_SUFFIX):
        m = pattern.match(text)
        if m:
            limit = _number(m.group("v"))
            if limit is not None:
                return limit, True
    number = _number(text)
    if number is None:
        raise GeoInputError(
            f"{value!r}{what} is not a value", status=422,
            hint="write a number, <limit or limitL for below detection, or leave it empty",
            message_zh=f"{value!r}{what} 不是监测值",
            hint_zh="请填写数字; 未检出写作 <检出限 或 检出限L; 未测请留空", code="unprocessable")
    return number, False


@dataclass
class ParsedColumn:
    """One item's column: values (NaN: empty), below-detection flags and errors."""

    values: NDArray[np.float64]
    below: NDArray[np.bool_]
    errors: list[SheetError]


def parse_column(cells: Any, item: str, column: str | None = None, scale: float = 1.0,
                 first_row: int = FIRST_ROW) -> ParsedColumn:
    """Parse every cell of one item's column; bad cells become errors, not exceptions.

    Parameters
    ----------
    cells : sequence
        The cells, in sheet order.
    item : str
        The item (:data:`geo.water.gb3838.PARAMETERS`).
    column : str, optional
        The header as written (for messages).
    scale : float
        Multiplier to the atlas unit (0.001 for μg/L).
    first_row : int
        Sheet row of the first cell.

    Examples
    --------
    >>> c = parse_column(["0.2", "<0.02", "ND", "abc"], "nh3_n", "氨氮")
    >>> c.values.tolist(), c.below.tolist(), [(e.row, e.code) for e in c.errors]
    ([0.2, 0.02, nan, nan], [False, True, False, False], [(4, 'no_detection_limit'), (5, 'not_a_value')])
    """
    cells = list(cells)
    values = np.full(len(cells), np.nan)
    below = np.zeros(len(cells), dtype=bool)
    errors: list[SheetError] = []
    # Cells are few (a sheet holds a few hundred rows): a plain loop over text cells.
    for i, cell in enumerate(cells):
        try:
            v, lt = parse_value(cell, item)
        except GeoInputError as e:
            code = "no_detection_limit" if "detection limit" in e.message else "not_a_value"
            errors.append(SheetError(code, e.message, e.message_zh, first_row + i,
                                     column or item, e.hint, e.hint_zh))
            continue
        if v is None:
            continue
        if lt and not ITEMS[item].below_detection:
            errors.append(SheetError(
                "no_detection_limit_for_item",
                f"{cell!r}: {item} has no detection limit", f"{cell!r}: {ITEMS[item].zh}不适用检出限",
                first_row + i, column or item, "write the measured value",
                "请填写实测值"))
            continue
        values[i], below[i] = v * scale, lt
    return ParsedColumn(values, below, errors)


# -- headers ---------------------------------------------------------------------------------
#: Other names of the fields a sheet may use (compared after normalising: NFKC,
#: lower case, no spaces or brackets).
ALIASES: dict[str, tuple[str, ...]] = {
    "section": ("断面名称", "断面", "监测断面", "点位名称", "点位", "监测点位", "站点名称",
                "section", "section name", "station", "站名"),
    "section_id": ("断面编号", "断面代码", "点位编号", "点位代码", "section_id", "section id",
                   "section code", "code"),
    "sampled_on": ("采样日期", "采样时间", "监测日期", "监测时间", "日期", "时间", "采样日",
                   "sampled_on", "date", "sampling date", "sample date"),
    "water_temp": ("水温", "温度", "water temperature", "temperature", "temp", "wt"),
    "ph": ("ph", "ph值", "酸碱度"),
    "do": ("溶解氧", "do", "dissolved oxygen"),
    "codmn": ("高锰酸盐指数", "codmn", "cod mn", "permanganate index", "高锰酸钾指数"),
    "cod": ("化学需氧量", "cod", "codcr", "cod cr", "chemical oxygen demand"),
    "bod5": ("五日生化需氧量", "生化需氧量", "bod5", "bod", "bod₅"),
    "nh3_n": ("氨氮", "nh3-n", "nh3n", "nh3_n", "氨氮(以n计)", "ammonia nitrogen", "ammonia",
              "nh4-n"),
    "tp": ("总磷", "tp", "总磷(以p计)", "total phosphorus"),
    "tn": ("总氮", "tn", "总氮(以n计)", "total nitrogen"),
    "copper": ("铜", "cu", "copper"),
    "zinc": ("锌", "zn", "zinc"),
    "fluoride": ("氟化物", "氟化物(以f-计)", "氟化物(以f计)", "f-", "fluoride"),
    "selenium": ("硒", "se", "selenium"),
    "arsenic": ("砷", "as", "arsenic"),
    "mercury": ("汞", "hg", "mercury"),
    "cadmium": ("镉", "cd", "cadmium"),
    "chromium6": ("铬(六价)", "六价铬", "铬六价", "cr6+", "cr(vi)", "crvi", "chromium6",
                  "hexavalent chromium"),
    "lead": ("铅", "pb", "lead"),
    "cyanide": ("氰化物", "cn-", "cyanide"),
    "phenols": ("挥发酚", "挥发性酚", "volatile phenols", "phenols"),
    "petroleum": ("石油类", "石油", "petroleum", "oil"),
    "surfactants": ("阴离子表面活性剂", "阴离子表面活性剂(las)", "las", "anionic surfactants",
                    "surfactants"),
    "sulfide": ("硫化物", "sulfide", "sulphide"),
    "fecal_coliform": ("粪大肠菌群", "粪大肠菌", "fecal coliform", "faecal coliform",
                       "fecal coliforms", "faecal coliforms", "fecal_coliform"),
}

#: Units understood in headers, per unit of the atlas: multiplier to the atlas unit.
UNITS: dict[str, dict[str, float]] = {
    "mg/L": {"mg/l": 1.0, "mg/dm3": 1.0, "ppm": 1.0, "μg/l": 0.001, "µg/l": 0.001,
             "ug/l": 0.001, "ppb": 0.001, "g/l": 1000.0},
    "个/L": {"个/l": 1.0, "mpn/l": 1.0, "cfu/l": 1.0, "/l": 1.0, "个/100ml": 10.0,
             "mpn/100ml": 10.0, "cfu/100ml": 10.0, "/100ml": 10.0, "个/ml": 1000.0},
    "℃": {"℃": 1.0, "°c": 1.0, "c": 1.0, "度": 1.0},
    "": {"无量纲": 1.0, "": 1.0, "-": 1.0},
}

_BRACKETS = re.compile(r"^(?P<name>.*?)\s*[(\[（【]\s*(?P<unit>[^()\[\]（）【】]*)\s*[)\]）】]\s*$")


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s_]+", " ", text).strip()


_LOOKUP: dict[str, str] = {}
for _field, _names in ALIASES.items():
    for _n in _names:
        _LOOKUP[_key(_n)] = _field
        _LOOKUP[_key(_n).replace(" ", "")] = _field


@dataclass
class HeaderMatch:
    """What a header means: the field, the unit written, and the scale to the atlas unit."""

    column: str
    field: str
    unit: str
    scale: float


def _unit_of(field: str) -> str | None:
    item = ITEMS.get(field)
    return item.unit if item is not None else None


def match_header(header: Any) -> HeaderMatch | None:
    """The field a header names (None when it names none).

    Raises
    ------
    GeoInputError
        When the header names an item but its unit is not understood.

    Examples
    --------
    >>> [match_header(h).field for h in ("断面名称", "监测时间", "溶解氧(mg/L)", "pH(无量纲)",
    ...                                 "粪大肠菌群(MPN/100mL)", "COD", "铬（六价）")]
    ['section', 'sampled_on', 'do', 'ph', 'fecal_coliform', 'cod', 'chromium6']
    >>> match_header("粪大肠菌群(MPN/100mL)").scale, match_header("备注") is None
    (10.0, True)
    >>> match_header("*断面名称").field
    'section'

    """
    raw = str(header)
    # a template's mark of a required column (*断面名称) is not part of the name
    bare = unicodedata.normalize("NFKC", raw).strip().lstrip("*").strip()
    key = _key(bare)
    field_, unit = _LOOKUP.get(key) or _LOOKUP.get(key.replace(" ", "")), ""
    if field_ is None:
        m = _BRACKETS.match(bare)
        if m:
            name = _key(m.group("name"))
            field_ = _LOOKUP.get(name) or _LOOKUP.get(name.replace(" ", ""))
            unit = m.group("unit").strip()
        if field_ is None:
            # "氨氮 mg/L": a trailing unit after a space.
            parts = key.rsplit(" ", 1)
            if len(parts) == 2 and parts[0] in _LOOKUP and "/" in parts[1]:
                field_, unit = _LOOKUP[parts[0]], parts[1]
    if field_ is None:
        return None
    atlas_unit = _unit_of(field_)
    if atlas_unit is None:  # section, date …: no unit
        return HeaderMatch(raw, field_, unit, 1.0)
    ukey = _key(unit).replace(" ", "").replace("mg/dm³", "mg/dm3")
    scales = UNITS[atlas_unit]
    if ukey == "":  # no unit written: the standard's own unit
        return HeaderMatch(raw, field_, atlas_unit, 1.0)
    if ukey not in scales:
        raise GeoInputError(
            f"the unit {unit!r} of column {raw!r} is not understood",
            hint=f"give {field_} in {atlas_unit or 'no unit'} "
                 f"(understood: {', '.join(k for k in scales if k)})",
            message_zh=f"列 {raw!r} 的单位 {unit!r} 无法识别",
            hint_zh=f"请使用 {atlas_unit or '无量纲'}", status=422, code="unprocessable")
    return HeaderMatch(raw, field_, unit, scales[ukey])


def match_headers(headers: Any) -> tuple[dict[str, HeaderMatch], list[str], list[SheetError]]:
    """Match every header: ``(field → match, headers ignored, errors)``.

    Two columns for one field, and units not understood, are errors.

    Examples
    --------
    >>> found, ignored, errors = match_headers(["断面名称", "采样日期", "氨氮(mg/L)", "备注"])
    >>> sorted(found), ignored, errors
    (['nh3_n', 'sampled_on', 'section'], ['备注'], [])
    """
    found: dict[str, HeaderMatch] = {}
    ignored: list[str] = []
    errors: list[SheetError] = []
    for h in headers:
        try:
            m = match_header(h)
        except GeoInputError as e:
            errors.append(SheetError("unit", e.message, e.message_zh, None, str(h), e.hint,
                                     e.hint_zh))
            continue
        if m is None:
            ignored.append(str(h))
        elif m.field in found:
            errors.append(SheetError(
                "duplicate_column", f"columns {found[m.field].column!r} and {str(h)!r} both "
                f"give {m.field}", f"列 {found[m.field].column!r} 与 {str(h)!r} 重复({m.field})",
                None, str(h), "keep one of them", "请只保留其中一列"))
        else:
            found[m.field] = m
    return found, ignored, errors


# -- sections and dates ------------------------------------------------------------------------
def _name_key(text: Any) -> str:
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s()（）\[\]【】·._-]+|示意|illustrative", "", text)


def match_sections(values: Any, sections: pd.DataFrame, first_row: int = FIRST_ROW,
                   column: str = "section") -> tuple[NDArray[np.object_], list[SheetError]]:
    """Section ids for names or codes as written; misspelt ones get the nearest names.

    Parameters
    ----------
    values : sequence
        The cells of the section column.
    sections : DataFrame
        The sections layer: ``id`` and ``name_zh`` (``name_en`` used when present).

    Returns
    -------
    (ndarray of str, list of SheetError)
        The ids ("" where not matched) and one error per unmatched row, with
        ``suggestions`` (the closest names).

    Examples
    --------
    >>> secs = pd.DataFrame({"id": ["sec_a"], "name_zh": ["锡林河锡林浩特下游断面(示意)"],
    ...                      "name_en": ["Xilin River below Xilinhot"]})
    >>> ids, errors = match_sections(["sec_a", "锡林河锡林浩特下游断面", "锡林河锡林浩特下断面"], secs)
    >>> ids.tolist(), errors[0].row, errors[0].suggestions
    (['sec_a', 'sec_a', ''], 4, ['锡林河锡林浩特下游断面(示意)'])
    """
    ids = sections["id"].astype(str).tolist()
    zh = sections["name_zh"].astype(str).tolist() if "name_zh" in sections else ids
    en = sections["name_en"].astype(str).tolist() if "name_en" in sections else []
    table: dict[str, str] = {}
    for sid in ids:
        table[_name_key(sid)] = sid
    for sid, name in zip(ids, zh, strict=True):
        table.setdefault(_name_key(name), sid)
    for sid, name in zip(ids, en, strict=False):  # English names, when there are any
        table.setdefault(_name_key(name), sid)
    names = {_name_key(n): n for n in zh}
    out = np.full(len(list(values)) if not hasattr(values, "__len__") else len(values), "",
                  dtype=object)
    errors: list[SheetError] = []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
            errors.append(SheetError("no_section", "the section is empty", "断面为空",
                                     first_row + i, column, "write the section's name or id",
                                     "请填写断面名称或编号"))
            continue
        key = _name_key(v)
        if key in table:
            out[i] = table[key]
            continue
        near = difflib.get_close_matches(key, list(names), n=3, cutoff=0.5)
        suggestions = [names[k] for k in near]
        shown = "、".join(suggestions) if suggestions else "、".join(zh)
        errors.append(SheetError(
            "unknown_section", f"no section called {str(v)!r}" + (
                f"; did you mean {', '.join(suggestions)}?" if suggestions else ""),
            f"没有名为 {str(v)!r} 的断面" + (f", 是否为: {shown}?" if suggestions else ""),
            first_row + i, column,
            "use a section's name or id as the atlas lists them: " + ", ".join(zh),
            "请使用图集中的断面名称或编号: " + "、".join(zh), suggestions))
    return out, errors


_CN_DATE = re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?:(?P<d>\d{1,2})\s*日)?")
_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def parse_dates(values: Any, first_row: int = FIRST_ROW, column: str = "sampled_on"
                ) -> tuple[NDArray[np.object_], list[SheetError]]:
    """Sampling dates as ``YYYY-MM-DD`` strings ("" where unreadable) and the errors.

    Understood: ``2023-01-15``, ``2023/1/15``, ``2023.1.15``, ``2023年1月15日``,
    ``20230115``, date and datetime values, Excel serial day numbers, and a month
    alone (``2023年1月``, ``2023-01``) as its first day.

    Examples
    --------
    >>> dates, errors = parse_dates(["2023年1月15日", "2023/2/3", 44941, "2023-03", 20230405,
    ...                              "soon"])
    >>> dates.tolist(), [e.row for e in errors]
    (['2023-01-15', '2023-02-03', '2023-01-15', '2023-03-01', '2023-04-05', ''], [7])
    """
    vals = list(values)
    out = np.full(len(vals), "", dtype=object)
    errors: list[SheetError] = []
    for i, v in enumerate(vals):
        ts = _one(v)
        if ts is None:
            errors.append(SheetError(
                "bad_date", f"{v!r} is not a date", f"{v!r} 不是日期", first_row + i, column,
                "write the sampling date as YYYY-MM-DD", "采样日期请写作 年-月-日"))
        else:
            out[i] = ts.strftime("%Y-%m-%d")
    return out, errors


def _one(v: Any) -> pd.Timestamp | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "year"):
        ts = pd.Timestamp(v)
        return None if pd.isna(ts) else ts
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        if 20_000 < float(v) < 80_000:  # an Excel serial day (1954 … 2119)
            return _EXCEL_EPOCH + pd.Timedelta(days=int(v))
        if float(v).is_integer() and 19_000_101 <= v <= 21_001_231:  # 20240109 as a number
            v = str(int(v))
        else:
            return None
    text = unicodedata.normalize("NFKC", str(v)).strip()
    m = _CN_DATE.match(text)
    if m:
        y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d") or 1)
    else:
        m = _COMPACT.match(text)
        if m:
            y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
        else:
            parts = re.split(r"[-/.]", text.split(" ")[0].split("T")[0])
            if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts) \
                    or len(parts[0]) != 4:
                return None
            y, mo = int(parts[0]), int(parts[1])
            d = int(parts[2]) if len(parts) == 3 else 1
    try:
        return pd.Timestamp(year=y, month=mo, day=d)
    except ValueError:
        return None


# -- a whole sheet ------------------------------------------------------------------------------
@dataclass
class SheetResult:
    """A sheet read into samples.

    Attributes
    ----------
    samples : DataFrame
        Rows without errors: ``section_id``, ``sampled_on`` (``YYYY-MM-DD``), the
        items found (mg/L, 个/L, ℃) and a ``<name>_lt`` flag for every item that can
        be below detection (False where not).
    errors : list of SheetError
        Every problem, by row and column; rows with an error are not in ``samples``.
    columns : dict
        Field → header as written.
    ignored : list of str
        Headers that name no field.
    """

    samples: pd.DataFrame
    errors: list[SheetError]
    columns: dict[str, str]
    ignored: list[str]

    @property
    def ok(self) -> bool:
        """No errors."""
        return not self.errors


def read_sheet(table: pd.DataFrame, sections: pd.DataFrame, sampled_on: Any = None,
               first_row: int = FIRST_ROW) -> SheetResult:
    """Read a monitoring sheet (one row per sample) into the ``wq_samples`` fields.

    Parameters
    ----------
    table : DataFrame
        The sheet as read (headers as columns, cells as text or numbers).
    sections : DataFrame
        The sections layer (``id``, ``name_zh``, optionally ``name_en``).
    sampled_on : date, optional
        The date for every row when the sheet has no date column (a sheet per
        month named after it).
    first_row : int
        Sheet row of the first data row (header in row 1: 2).

    Returns
    -------
    SheetResult

    Examples
    --------
    >>> secs = pd.DataFrame({"id": ["sec_a"], "name_zh": ["甲断面"]})
    >>> sheet = pd.DataFrame({"断面名称": ["甲断面", "乙断面"], "采样日期": ["2023-01-15", "2023-01-15"],
    ...                       "氨氮(mg/L)": ["0.32", "0.4"], "挥发酚(mg/L)": ["<0.0003", "0.001"]})
    >>> r = read_sheet(sheet, secs)
    >>> r.samples[["section_id", "sampled_on", "nh3_n", "phenols", "phenols_lt"]].values.tolist()
    [['sec_a', '2023-01-15', 0.32, 0.0003, True]]
    >>> [(e.row, e.code) for e in r.errors]
    [(3, 'unknown_section')]
    """
    found, ignored, errors = match_headers(table.columns)
    n = len(table)
    bad = np.zeros(n, dtype=bool)

    def flag(errs: list[SheetError]) -> None:
        errors.extend(errs)
        for e in errs:
            if e.row is not None:
                bad[e.row - first_row] = True

    if "section_id" in found or "section" in found:
        col = found.get("section_id") or found["section"]
        ids, errs = match_sections(table[col.column].tolist(), sections, first_row, col.column)
        flag(errs)
    else:
        ids = np.full(n, "", dtype=object)
        errors.append(SheetError(
            "no_section_column", "the sheet has no section column",
            "表中没有断面列", None, None, "add a column 断面名称 (or 断面编号) naming each "
            "row's section", "请加入“断面名称”(或“断面编号”)列"))
        bad[:] = True
    if "sampled_on" in found:
        col = found["sampled_on"]
        dates, errs = parse_dates(table[col.column].tolist(), first_row, col.column)
        flag(errs)
    elif sampled_on is not None:
        dates, errs = parse_dates([sampled_on] * n, first_row)
        flag(errs)
    else:
        dates = np.full(n, "", dtype=object)
        errors.append(SheetError(
            "no_date_column", "the sheet has no sampling-date column", "表中没有采样日期列",
            None, None, "add a column 采样日期 (YYYY-MM-DD), or give the sheet's date",
            "请加入“采样日期”列(年-月-日), 或给出本表的采样日期"))
        bad[:] = True
    data: dict[str, Any] = {"section_id": ids, "sampled_on": dates}
    items = [p for p in PARAMETERS if p in found]
    if not items:
        errors.append(SheetError(
            "no_items", "the sheet has no column of a GB 3838 item", "表中没有GB 3838监测项目列",
            None, None, "name the columns as in the standard: 溶解氧, 氨氮(mg/L) …",
            "请按标准命名列: 溶解氧、氨氮(mg/L) …"))
        bad[:] = True
    for p in items:
        col = found[p]
        parsed = parse_column(table[col.column].tolist(), p, col.column, col.scale, first_row)
        flag(parsed.errors)
        data[p] = parsed.values
        if p in BELOW_DETECTION:
            data[f"{p}_lt"] = parsed.below
    for p in BELOW_DETECTION:  # every flag present, False where not measured
        data.setdefault(f"{p}_lt", np.zeros(n, dtype=bool))
    frame = pd.DataFrame(data, index=range(n))
    empty = np.isnan(frame[items].to_numpy(dtype="float64")).all(axis=1) if items else \
        np.ones(n, dtype=bool)
    for i in np.flatnonzero(empty & ~bad):
        errors.append(SheetError("no_values", "the row has no measured value", "该行没有监测值",
                                 first_row + i, None, "fill in the values or delete the row",
                                 "请填写监测值或删除该行"))
        bad[i] = True
    errors.sort(key=lambda e: (e.row is not None, e.row or 0))
    return SheetResult(frame[~bad].reset_index(drop=True), errors,
                       {f: m.column for f, m in found.items()}, ignored)
