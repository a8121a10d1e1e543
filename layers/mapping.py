"""Map a user's columns onto a catalog layer: headers, units, coded values, ids, places.

A development office's registry says ``序号 | 项目名称 | 旗县市区 | 类别 | 建设性质 |
投资主体 | 总投资（万元） | 2023年计划投资（万元） | 手续是否办结``; the catalog says
``id, name_zh, county, category, status, investor, total_investment_yi,
plan_2023_yi, permits_complete``.  This module joins the two:

* :func:`match_columns` matches headers to fields from each field's Chinese and
  English labels, its name and the aliases the catalog declares
  (:class:`layers.spec.Field`), after normalising them (full-width brackets,
  spaces, a unit in brackets: ``总投资（万元）`` is ``总投资`` in 万元).  Exact matches
  win over a header that contains a label (``项目总投资额``), which wins over a close
  spelling; each column feeds one field.  An explicit ``{"catalog_field": "source
  column"}`` mapping overrides.  A column naming the place (地点, 建设地点, 所在乡镇 …)
  maps to the pseudo-field :data:`PLACE`, for the gazetteer.
* :func:`map_columns` builds the catalog's columns from the matched ones:
  numbers from text (``1,568``, ``３．５亿元``), units converted (万元 → 亿元 ÷ 10,000,
  also when the sheet only says ``单位：万元`` above its header), coded values from
  their value, Chinese or English label or a declared alias (``政府`` → government,
  ``在建`` → continuing), yes/no from 是/否, 已办结/未办结 …; what cannot be read is an
  :class:`~layers.issues.Issue` with the row, the value and the nearest valid value.
  What a Chinese sheet does not have is filled where it can be derived — ids from
  序号/编号 or generated stably from the name, English labels of coded values,
  ``accuracy_m`` from the coordinates' precision, ``source``/``illustrative`` from the
  upload's own provenance — and otherwise left empty.
* :func:`place_rows` places rows without coordinates from their county and place
  columns with :class:`geo.gazetteer.Gazetteer`, one line per row.

Examples
--------
>>> from layers.catalog import get_spec
>>> m = match_columns(["序号", "项目名称", "旗县市区", "类别", "总投资（万元）", "2023年计划投资(万元)",
...                    "手续是否办结", "备注"], get_spec("projects"))
>>> {f: c.column for f, c in m.matches.items()}["total_investment_yi"], m.unmapped
('总投资（万元）', ['备注'])
>>> m.matches["total_investment_yi"].factor
0.0001
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.gazetteer import Gazetteer
from geo.read import PRECISION_COLUMN, ROW_COLUMN

from .issues import Issues, plain
from .spec import Field, LayerSpec

#: Pseudo-field: a column naming the place (town, sumu) of rows without coordinates.
PLACE = "place"
PLACE_LABELS = ("地点", "Place")
PLACE_ALIASES = ("建设地点", "项目地点", "项目建设地点", "所在乡镇", "乡镇", "乡镇苏木", "苏木乡镇", "苏木镇",
                 "镇苏木", "所在苏木镇", "位置", "具体位置", "详细地址", "地址", "location", "town")
#: Private columns the mapped frame carries for the next steps (dropped before storing).
COUNTY_TEXT = "_county_text"
PLACE_TEXT = "_place_text"
PRIVATE_COLUMNS = (ROW_COLUMN, PRECISION_COLUMN, COUNTY_TEXT, PLACE_TEXT)

#: Units a column may be written in, per quantity, in a common base unit.
UNIT_TABLES: tuple[dict[str, float], ...] = (
    {"亿元": 1e8, "亿": 1e8, "百万元": 1e6, "十万元": 1e5, "万元": 1e4, "万": 1e4, "千元": 1e3,
     "元": 1.0},
    {"km": 1e3, "公里": 1e3, "千米": 1e3, "m": 1.0, "米": 1.0},
    {"km²": 1e6, "km2": 1e6, "平方公里": 1e6, "平方千米": 1e6, "万亩": 1e4 * 10000 / 15,
     "亩": 10000 / 15, "公顷": 1e4, "ha": 1e4, "m²": 1.0, "m2": 1.0, "平方米": 1.0},
)
_UNIT_WORDS = sorted({u for t in UNIT_TABLES for u in t}, key=len, reverse=True)

#: How ids look in the built-in data, for ids made from a 序号 column or generated.
ID_PREFIX: dict[str, str] = {"projects": "P", "stations": "st_", "attractions": "at_",
                             "sections": "sec_", "rivers": "river_", "basins": "basin_",
                             "scenic_road": "road_", "ports": "port_"}

_TRUE = {"是", "已办结", "办结", "已完成", "完成", "齐全", "已齐全", "齐备", "已齐备", "完备", "具备", "已具备",
         "有", "已办理", "已批复", "已取得", "已办", "y", "yes", "true", "t", "1", "√", "✓", "✔", "对"}
_FALSE = {"否", "未办结", "未完成", "不齐全", "未齐全", "不齐备", "未齐备", "不完备", "不具备", "无", "没有",
          "未办理", "办理中", "正在办理", "在办", "部分办结", "未", "n", "no", "false", "f", "0", "×",
          "✗", "✘", "x"}

_ORDINAL = re.compile(r"^(?:[一二三四五六七八九十百]+\s*[、.．]|[(（][一二三四五六七八九十百\d]+[)）]|"
                      r"\d+\s*[、.．]|第[一二三四五六七八九十百]+[类部分项批]\s*)")
_CODE_SUFFIXES = ("类项目", "项目", "类", "领域", "行业", "产业")


# -- headers ----------------------------------------------------------------------------------

def header_key(name: Any) -> tuple[str, str]:
    """A column header reduced for matching, and the unit it states.

    Full-width forms are folded, spaces, ``*`` and punctuation removed, case
    ignored; a known unit in brackets (or after ``/``, or at the end) is split off.

    Examples
    --------
    >>> header_key(" 总投资（万元） "), header_key("2023年计划投资/亿元"), header_key("*项目名称")
    (('总投资', '万元'), ('2023年计划投资', '亿元'), ('项目名称', ''))
    >>> header_key("旗县(市、区)"), header_key("Total investment (100M yuan)")
    (('旗县', ''), ('totalinvestment', ''))
    """
    s = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "").strip().lower()
    s = s.strip("*＊ ")
    unit = ""
    m = re.search(r"[(\[]([^()\[\]]*)[)\]]\s*$", s)
    if m:
        inner = re.sub(r"\s+", "", m.group(1))
        unit = next((u for u in _UNIT_WORDS if inner == u.lower()), "")
        s = s[:m.start()]
    else:
        m = re.search(r"[/,，:：、]\s*(" + "|".join(map(re.escape, _UNIT_WORDS)) + r")\s*$", s)
        if m:
            unit, s = m.group(1), s[:m.start()]
        else:
            for u in ("亿元", "万元"):
                if s.endswith(u) and len(s) > len(u) + 1:
                    unit, s = u, s[: -len(u)]
                    break
    base = re.sub(r"[\s_\-.:：、/\\|]", "", s)
    return base, unit


def convert_units(values: np.ndarray | float, unit: str, target: str) -> np.ndarray | float:
    """``values`` in ``unit`` expressed in ``target``, without the binary noise of a factor.

    ``3500 万元`` is ``3500 × 10⁴ / 10⁸ = 0.35 亿元`` exactly (multiplying by 0.0001
    would give 0.35000000000000003).  Unknown or unrelated units leave values as they are.

    Examples
    --------
    >>> convert_units(3500.0, "万元", "亿元"), convert_units(np.array([1500.0]), "m", "km").tolist()
    (0.35, [1.5])
    """
    for table in UNIT_TABLES:
        if unit in table and target in table:
            return values * table[unit] / table[target]
    return values


def unit_factor(unit: str, target: str) -> float | None:
    """Multiplier from ``unit`` to ``target`` (None when they measure different things).

    Examples
    --------
    >>> unit_factor("万元", "亿元"), unit_factor("亿元", "亿元"), unit_factor("m", "km"), unit_factor("个", "亿元")
    (0.0001, 1.0, 0.001, None)
    """
    for table in UNIT_TABLES:
        if unit in table and target in table:
            return table[unit] / table[target]
    return None


@dataclass
class ColumnMatch:
    """Which source column feeds a field, how it was found, and its unit.

    Attributes
    ----------
    field : str
        Catalog field (or :data:`PLACE`).
    column : str
        Source column.
    how : {"explicit", "label", "alias", "contains", "similar"}
    score : float
        Match strength (1 exact label … 0.4 a close spelling).
    unit : str
        The column's unit (from its header, or the sheet's ``单位：…`` line).
    factor : float
        Multiplier to the field's unit (1 when none).
    """

    field: str
    column: str
    how: str
    score: float
    unit: str = ""
    factor: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"field": self.field, "column": self.column, "how": self.how,
                "score": round(self.score, 3), "unit": self.unit, "factor": self.factor}


@dataclass
class ColumnMapping:
    """The answer to "which column fed which field".

    Attributes
    ----------
    matches : dict
        Field → :class:`ColumnMatch`.
    unmapped : list of str
        Source columns that feed nothing.
    missing : list of str
        Catalog fields no column feeds.
    missing_required : list of str
        Required fields among ``missing``.
    """

    matches: dict[str, ColumnMatch]
    unmapped: list[str]
    missing: list[str]
    missing_required: list[str]

    def column(self, name: str) -> str | None:
        """The source column of field ``name`` (None when unmapped)."""
        m = self.matches.get(name)
        return m.column if m else None

    def as_mapping(self) -> dict[str, str]:
        """The mapping as the endpoint's ``mapping`` parameter takes it."""
        return {f: m.column for f, m in self.matches.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the preview (the dropdowns of the /data page)."""
        return {"fields": {f: m.to_dict() for f, m in self.matches.items()},
                "unmapped_columns": self.unmapped, "missing_fields": self.missing,
                "missing_required": self.missing_required}


def _candidates(f: Field) -> list[tuple[str, str, float]]:
    """(normalised spelling, how, score) of a field's labels, name and aliases."""
    out = [(header_key(f.label_zh)[0], "label", 1.0), (header_key(f.label_en)[0], "label", 1.0),
           (header_key(f.name)[0], "label", 1.0)]
    out += [(header_key(a)[0], "alias", 0.97 - 0.002 * k) for k, a in enumerate(f.aliases)]
    return [c for c in out if c[0]]


def _place_field() -> Field:
    return Field(PLACE, *PLACE_LABELS, aliases=PLACE_ALIASES)


def _score(base: str, cands: list[tuple[str, str, float]]) -> tuple[float, str]:
    best, how = 0.0, ""
    for cand, kind, score in cands:
        if base == cand:
            s, h = score, kind
        elif len(cand) >= (2 if not cand.isascii() else 4) and cand in base:
            # A header that contains the label: 项目总投资额 ⊃ 总投资.
            s, h = 0.5 + 0.4 * len(cand) / len(base), "contains"
        else:
            r = difflib.SequenceMatcher(None, base, cand).ratio()
            s, h = (0.5 * r, "similar") if r >= 0.8 and min(len(base), len(cand)) >= 3 else (0, "")
        if s > best:
            best, how = s, h
    return best, how


def match_columns(columns: Sequence[Any], spec: LayerSpec,
                  mapping: Mapping[str, Any] | None = None, *, unit_hint: str | None = None,
                  issues: Issues | None = None, min_score: float = 0.45) -> ColumnMapping:
    """Match source columns to the fields of ``spec`` (see the module docstring).

    Parameters
    ----------
    columns : sequence
        Source column names (private columns such as ``_row`` are ignored).
    spec : LayerSpec
        The catalog layer.
    mapping : dict, optional
        ``{"catalog_field": "source column"}`` that overrides the automatic
        matching; a field mapped to ``None`` or ``""`` is left unmapped.  Unknown
        fields or columns are errors in ``issues``.
    unit_hint : str, optional
        The unit a sheet declares above its header (``万元``), for amount columns
        whose header states none.
    issues : Issues, optional
        Receives file-level errors and warnings.

    Returns
    -------
    ColumnMapping
    """
    issues = issues if issues is not None else Issues()
    cols = [str(c) for c in columns if str(c) not in PRIVATE_COLUMNS and str(c) != "geometry"]
    fields = [f for f in spec.fields] + [_place_field()]
    by_name = {f.name: f for f in fields}
    keys = {c: header_key(c) for c in cols}
    matches: dict[str, ColumnMatch] = {}
    taken: set[str] = set()
    blocked: set[str] = set()
    for fname, col in (mapping or {}).items():
        if fname not in by_name:
            close = difflib.get_close_matches(str(fname), list(by_name), n=1)
            issues.error("mapping_unknown_field", f"the mapping names {fname!r}, which is not a "
                         f"field of {spec.id}", f"映射中的“{fname}”不是{spec.title_zh}的字段",
                         hint="fields: " + ", ".join(by_name), hint_zh="可用字段：" + "、".join(by_name),
                         field=str(fname), suggestion=close[0] if close else None)
            continue
        if col is None or str(col).strip() == "":
            blocked.add(fname)
            continue
        found = str(col) if str(col) in cols else next(
            (c for c in cols if keys[c] == header_key(col)), None)
        if found is None:
            close = difflib.get_close_matches(str(col), cols, n=1, cutoff=0.5)
            issues.error("mapping_unknown_column", f"the mapping gives column {str(col)!r} for "
                         f"{fname}, but the file has no such column",
                         f"映射中为“{fname}”指定的列“{col}”在文件中不存在",
                         hint="columns: " + ", ".join(cols[:40]),
                         hint_zh="文件的列：" + "、".join(cols[:40]), field=fname, value=str(col),
                         suggestion=close[0] if close else None)
            continue
        matches[fname] = ColumnMatch(fname, found, "explicit", 1.0)
        taken.add(found)
    scored = []
    for fi, f in enumerate(fields):
        if f.name in matches or f.name in blocked:
            continue
        cands = _candidates(f)
        for ci, c in enumerate(cols):
            if c in taken:
                continue
            s, how = _score(keys[c][0], cands)
            if s >= min_score:
                scored.append((-s, fi, ci, f.name, c, how, s))
    for _, _, _, fname, c, how, s in sorted(scored):
        if fname in matches or c in taken:
            continue
        matches[fname] = ColumnMatch(fname, c, how, s)
        taken.add(c)
    # Units: the header's, else the sheet's declared unit for money columns.
    for fname, m in matches.items():
        f = by_name[fname]
        unit = keys[m.column][1]
        if not unit and unit_hint and f.unit and unit_factor(unit_hint, f.unit) is not None:
            unit = unit_hint
        m.unit = unit or f.unit
        if f.unit and unit:
            factor = unit_factor(unit, f.unit)
            if factor is None:
                issues.warn("unit_unknown", f"column {m.column!r} is in {unit}, which is not a unit "
                            f"of {fname} ({f.unit}): its numbers are taken as {f.unit}",
                            f"“{m.column}”列的单位“{unit}”不是{f.label_zh}的单位（{f.unit}），按{f.unit}读取",
                            column=m.column, field=fname)
                factor = 1.0
            m.factor = factor
    ordered = {f.name: matches[f.name] for f in fields if f.name in matches}
    unmapped = [c for c in cols if c not in taken]
    missing = [f.name for f in spec.fields if f.name not in ordered]
    missing_required = [f for f in missing if by_name[f].required]
    return ColumnMapping(ordered, unmapped, missing, missing_required)


# -- values -----------------------------------------------------------------------------------

def _norm_code(text: Any) -> str:
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    s = _ORDINAL.sub("", s)
    s = re.sub(r"[(\[（【].*?[)\]）】]", "", s)
    return re.sub(r"[\s_\-·.,，、:：]", "", s)


def _strip_suffix(s: str) -> str:
    for suf in _CODE_SUFFIXES:
        if s.endswith(suf) and len(s) > len(suf):
            return s[: -len(suf)]
    return s


def code_spellings(f: Field) -> dict[str, str]:
    """Every accepted spelling of ``f``'s coded values (normalised) → the value.

    Examples
    --------
    >>> from layers.catalog import get_spec
    >>> sp = code_spellings(get_spec("projects").field("investor"))
    >>> sp["政府投资"], sp["社会"], sp["socialinvestment"]
    ('government', 'social', 'social')
    """
    out: dict[str, str] = {}
    for c in f.codes:
        for s in (c.value, c.label_zh, c.label_en):
            out.setdefault(_norm_code(s), c.value)
    for s, v in f.code_aliases:
        out.setdefault(_norm_code(s), v)
    return out


def match_codes(values: Sequence[Any] | pd.Series, f: Field
                ) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Coded values of ``f`` from what people write; unknown ones with the nearest valid value.

    Returns
    -------
    (ndarray of object, ndarray of bool, list)
        The values (None where empty or unknown), which were unknown, and for each
        value the suggestion (a code's Chinese label and value) or None.

    Examples
    --------
    >>> from layers.catalog import get_spec
    >>> v, bad, sug = match_codes(["一、能源项目（57项）", "Energy", "工业", "能原", ""],
    ...                           get_spec("projects").field("category"))
    >>> v.tolist(), bad.tolist(), sug[3]
    (['energy', 'energy', 'industry', None, None], [False, False, False, True, False], '能源 (energy)')
    """
    spellings = code_spellings(f)
    labels = {c.value: c for c in f.codes}
    arr = np.asarray(values, dtype=object)
    out = np.full(len(arr), None, dtype=object)
    bad = np.zeros(len(arr), dtype=bool)
    sug: list[str | None] = [None] * len(arr)
    cache: dict[str, tuple[str | None, str | None]] = {}
    seen: dict[Any, str] = {}  # raw value → normalised key (a column repeats a few values)
    for i, v in enumerate(arr):
        if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == "":
            continue
        key = seen.get(v)
        if key is None:
            key = seen[v] = _norm_code(v)
        if key not in cache:
            hit = spellings.get(key) or spellings.get(_strip_suffix(key))
            guess = None
            if hit is None:
                close = difflib.get_close_matches(key, list(spellings), n=1, cutoff=0.0)
                if close:
                    c = labels.get(spellings[close[0]])
                    guess = f"{c.label_zh} ({c.value})" if c else spellings[close[0]]
            cache[key] = (hit, guess)
        hit, guess = cache[key]
        if hit is None:
            bad[i], sug[i] = True, guess
        else:
            out[i] = hit
    return out, bad, sug


_AMOUNT = re.compile(r"^([+-]?(?:\d+(?:,\d{3})*|\d*)(?:\.\d+)?)\s*(" + "|".join(
    map(re.escape, _UNIT_WORDS)) + r")?$")


def parse_amounts(values: Sequence[Any] | pd.Series, unit: str, target: str
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Numbers in ``target`` units from cells in ``unit``; a cell may carry its own unit.

    Returns
    -------
    (ndarray of float, ndarray of bool)
        The values (NaN where empty or unreadable) and which were unreadable.

    Examples
    --------
    >>> v, bad = parse_amounts([1568, "1,200.5", "３５００万元", "3.5亿", "约3亿", None], "亿元", "亿元")
    >>> v.tolist(), bad.tolist()
    ([1568.0, 1200.5, 0.35, 3.5, nan, nan], [False, False, False, False, True, False])
    """
    arr = np.asarray(values, dtype=object)
    out = np.full(len(arr), np.nan)
    bad = np.zeros(len(arr), dtype=bool)
    for i, v in enumerate(arr):
        if v is None or isinstance(v, bool):
            if isinstance(v, bool):
                bad[i] = True
            continue
        if isinstance(v, (int, float, np.integer, np.floating)):
            if np.isfinite(v):
                out[i] = convert_units(float(v), unit, target)
            continue
        s = unicodedata.normalize("NFKC", str(v)).strip().replace(" ", "")
        if not s or s in ("-", "—", "/"):
            continue
        m = _AMOUNT.match(s)
        if not m or not re.search(r"\d", m.group(1)):
            bad[i] = True
            continue
        num = float(m.group(1).replace(",", ""))
        cell_unit = m.group(2)
        own = cell_unit and target and unit_factor(cell_unit, target) is not None
        out[i] = convert_units(num, cell_unit if own else unit, target)
    return out, bad


def parse_bools(values: Sequence[Any] | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Yes/no from 是/否, 已办结/未办结, √/×, yes/no, 1/0 …; unknown ones flagged.

    Examples
    --------
    >>> v, bad = parse_bools(["是", "否", "已办结", True, 0, "待定", None])
    >>> v.tolist(), bad.tolist()
    ([True, False, True, True, False, None, None], [False, False, False, False, False, True, False])
    """
    arr = np.asarray(values, dtype=object)
    out = np.full(len(arr), None, dtype=object)
    bad = np.zeros(len(arr), dtype=bool)
    for i, v in enumerate(arr):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        if isinstance(v, (bool, np.bool_)):
            out[i] = bool(v)
            continue
        if isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
            out[i] = bool(v)
            continue
        s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(v)).lower())
        if not s:
            continue
        if s in _TRUE:
            out[i] = True
        elif s in _FALSE:
            out[i] = False
        else:
            bad[i] = True
    return out, bad


def _text(values: Sequence[Any]) -> np.ndarray:
    """Cells as text: whole floats without '.0' (序号 1.0 → "1"), empty as None."""
    out = np.full(len(values), None, dtype=object)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        s = str(v).strip()
        out[i] = s or None
    return out


@dataclass
class MappedLayer:
    """A user's rows as the catalog's columns, with what was done and what is wrong.

    Attributes
    ----------
    gdf : GeoDataFrame
        The catalog's fields in catalog order, ``geometry`` (empty for rows still to
        be placed) and the private columns :data:`PRIVATE_COLUMNS`.
    mapping : ColumnMapping
        Which column fed which field.
    filled : dict
        Field → how values were filled without a column (``"generated"``,
        ``"from coordinate precision"`` …).
    issues : Issues
    """

    gdf: gpd.GeoDataFrame
    mapping: ColumnMapping
    filled: dict[str, str] = field(default_factory=dict)
    issues: Issues = field(default_factory=Issues)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (not the rows)."""
        return {"mapping": self.mapping.to_dict(), "filled": self.filled,
                "issues": self.issues.to_dict()}


def _row_numbers(gdf: pd.DataFrame) -> np.ndarray:
    if ROW_COLUMN in gdf:
        return gdf[ROW_COLUMN].to_numpy()
    return np.arange(1, len(gdf) + 1)


def stable_id(layer: str, *parts: Any) -> str:
    """An id made from what identifies a row (its name, its county): the same row, the same id.

    Examples
    --------
    >>> stable_id("projects", "多伦县风电项目", "多伦县") == stable_id("projects", " 多伦县风电项目", "多伦县")
    True
    >>> stable_id("projects", "甲")[:2]
    'P-'
    """
    key = "|".join(_norm_code(p) for p in parts if p is not None)
    h = hashlib.sha1(f"{layer}|{key}".encode()).hexdigest()[:8]
    prefix = ID_PREFIX.get(layer, f"{layer}_").rstrip("_")
    return f"{prefix}-{h}"


def map_columns(gdf: gpd.GeoDataFrame, spec: LayerSpec, mapping: Mapping[str, Any] | None = None,
                *, unit_hint: str | None = None, where: str = "row",
                defaults: Mapping[str, Any] | None = None) -> MappedLayer:
    """The user's rows as the catalog layer's columns (see the module docstring).

    Parameters
    ----------
    gdf : GeoDataFrame
        What :func:`geo.read.read_file` gave (with ``trace=True`` for row numbers and
        precision, ``keep_unlocated=True`` for rows placed by name).
    spec : LayerSpec
        The catalog layer to fill.
    mapping : dict, optional
        ``{"catalog_field": "source column"}`` overriding the automatic matching.
    unit_hint : str, optional
        ``report.source.get("unit")`` of the read: the sheet's ``单位：…``.
    where : str
        What the row numbers count (``report.source["row_kind"]``).
    defaults : dict, optional
        Values for fields no column gives: ``source``, ``illustrative`` … (the
        upload's own provenance).

    Returns
    -------
    MappedLayer
    """
    issues = Issues()
    cmap = match_columns(list(gdf.columns), spec, mapping, unit_hint=unit_hint, issues=issues)
    rows = _row_numbers(gdf)
    n = len(gdf)
    out: dict[str, Any] = {}
    filled: dict[str, str] = {}
    real_fields = [m for f, m in cmap.matches.items() if f != PLACE]
    if not real_fields and len(gdf.columns) > 1:
        shown = [c for c in map(str, gdf.columns) if c not in PRIVATE_COLUMNS and c != "geometry"]
        labels = [f.label_zh for f in spec.fields]
        issues.error("no_columns_matched", f"none of the file's columns ({', '.join(shown[:20])}) "
                     f"matches a field of {spec.title_en}", f"文件的列（{'、'.join(shown[:20])}）"
                     f"与{spec.title_zh}的字段均不对应",
                     hint="name the columns as the template does (" + ", ".join(labels) + "), or "
                     "give a mapping {\"field\": \"column\"}; check that this file is for this layer",
                     hint_zh="请按模板命名各列（" + "、".join(labels) + "），或提供列映射；并确认文件对应此图层")
    for f in spec.fields:
        m = cmap.matches.get(f.name)
        if m is None:
            out[f.name] = np.full(n, None, dtype=object)
            continue
        raw = gdf[m.column].to_numpy(dtype=object)
        out[f.name] = _convert(raw, f, m, spec, issues, rows, where)
        if m.factor != 1.0:
            issues.warn("unit_converted", f"column {m.column!r} is in {m.unit}: converted to "
                        f"{f.unit} (× {m.factor:g})", f"“{m.column}”列单位为{m.unit}，已换算为{f.unit}"
                        f"（× {m.factor:g}）", column=m.column, field=f.name,
                        detail={"unit": m.unit, "factor": m.factor})
    frame = pd.DataFrame(out, index=gdf.index)
    # Where a sheet's place is (its county column is derived again from the position later).
    county_col = cmap.column("county")
    place_col = cmap.column(PLACE)
    frame[COUNTY_TEXT] = _text(gdf[county_col].to_numpy(dtype=object)) if county_col \
        else np.full(n, None, dtype=object)
    frame[PLACE_TEXT] = _text(gdf[place_col].to_numpy(dtype=object)) if place_col \
        else np.full(n, None, dtype=object)
    frame[ROW_COLUMN] = rows
    if PRECISION_COLUMN in gdf:
        frame[PRECISION_COLUMN] = gdf[PRECISION_COLUMN].to_numpy()
    _fill(frame, spec, cmap, filled, defaults or {}, issues)
    geometry = gdf.geometry if gdf.geometry.name in gdf else gpd.GeoSeries([None] * n)
    result = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry.values, index=gdf.index,
                                                            crs=gdf.crs or "EPSG:4326"))
    return MappedLayer(result.reset_index(drop=True), cmap, filled, issues)


def _convert(raw: np.ndarray, f: Field, m: ColumnMatch, spec: LayerSpec, issues: Issues,
             rows: np.ndarray, where: str) -> np.ndarray:
    """One column's values as field ``f`` wants them; unreadable cells become issues."""
    if f.codes:
        values, bad, sug = match_codes(raw, f)
        allowed = "、".join(c.label_zh for c in f.codes)
        allowed_en = ", ".join(f"{c.label_en} ({c.value})" for c in f.codes)
        for i in np.flatnonzero(bad):
            issues.error("unknown_code", f"{plain(raw[i])!r} is not a {f.label_en.lower()} "
                         f"of {spec.title_en}" + (f"; did you mean {sug[i]}?" if sug[i] else ""),
                         f"“{plain(raw[i])}”不是有效的{f.label_zh}" + (f"，是否为“{sug[i]}”？"
                                                                   if sug[i] else ""),
                         hint=f"use one of: {allowed_en}", hint_zh=f"可填：{allowed}",
                         row=int(rows[i]), where=where, column=m.column, field=f.name,
                         value=raw[i], suggestion=sug[i])
        return values
    if f.kind in ("float", "int"):
        values, bad = parse_amounts(raw, m.unit if f.unit else "", f.unit)
        if f.kind == "int":
            frac = np.isfinite(values) & (values % 1 != 0)
            bad |= frac
            values = np.where(frac, np.nan, values)
        unit = f" in {f.unit}" if f.unit else ""
        for i in np.flatnonzero(bad):
            issues.error("not_a_number", f"{plain(raw[i])!r} is not a{'n whole' if f.kind == 'int' else ''}"
                         f" number", f"“{plain(raw[i])}”不是{'整数' if f.kind == 'int' else '数字'}",
                         hint=f"write {f.label_en.lower()} as a number{unit}, e.g. 12.5",
                         hint_zh=f"{f.label_zh}请填写数字" + (f"（{f.unit}）" if f.unit else ""),
                         row=int(rows[i]), where=where, column=m.column, field=f.name,
                         value=raw[i])
        return values
    if f.kind == "bool":
        values, bad = parse_bools(raw)
        for i in np.flatnonzero(bad):
            issues.error("not_yes_no", f"{plain(raw[i])!r} is not yes or no",
                         f"“{plain(raw[i])}”不是“是/否”", hint="write 是 or 否 (yes or no)",
                         hint_zh="请填写“是”或“否”", row=int(rows[i]), where=where,
                         column=m.column, field=f.name, value=raw[i])
        return values
    return _text(raw)


def _fill(frame: pd.DataFrame, spec: LayerSpec, cmap: ColumnMapping, filled: dict[str, str],
          defaults: Mapping[str, Any], issues: Issues) -> None:
    """Fill, in place, what a Chinese sheet does not have but can be derived."""
    names = set(spec.field_names)
    n = len(frame)
    # Ids: 序号 numbers in the layer's style, empty ones (or all) generated from the name.
    if "id" in names:
        ids = frame["id"].to_numpy(dtype=object).copy()
        col = cmap.column("id")
        if col is not None and header_key(col)[0] in ("序号", "no", "序", "顺序号"):
            present = [v for v in ids if v is not None]
            if len(set(present)) < len(present):
                # A serial numbered per group (一、能源 1…57, 二、工业 1…19) names no row:
                # ids from the names instead.
                issues.warn("serial_not_unique", f"column {col!r} repeats its numbers (numbered "
                            "per group?): ids are generated from the names instead",
                            f"“{col}”列序号有重复（可能按分组编号），编号改按名称生成",
                            column=col, field="id")
                ids = np.full(n, None, dtype=object)
                col = None
            elif ID_PREFIX.get(spec.id) == "P":
                ids = np.array([f"P{int(v):03d}" if v is not None and str(v).isdigit() else v
                                for v in ids], dtype=object)
                filled["id"] = "from 序号, written P001 …"
        empty = np.array([v is None for v in ids], dtype=bool)
        if empty.any():
            keys = frame["name_zh"].to_numpy(dtype=object) if "name_zh" in frame else \
                np.full(n, None, dtype=object)
            place = frame[COUNTY_TEXT].to_numpy(dtype=object)
            made = [stable_id(spec.id, k, p) if k is not None else None
                    for k, p in zip(keys, place, strict=True)]
            seen: dict[str, int] = {}
            for i in np.flatnonzero(empty):
                v = made[i]
                if v is None:
                    v = f"{ID_PREFIX.get(spec.id, spec.id + '_').rstrip('_')}-row{frame[ROW_COLUMN].iat[i]}"
                seen[v] = seen.get(v, 0) + 1
                ids[i] = v if seen[v] == 1 else f"{v}-{seen[v]}"
            filled["id"] = ("generated from the name (stable: the same name, the same id)"
                            if col is None else filled.get("id", "from the id column") +
                            f"; {int(empty.sum())} empty ones generated from the name")
        frame["id"] = ids
    # English labels of coded values from their Chinese companion (theme_zh → theme_en …).
    for f in spec.fields:
        if not f.codes or f.name in cmap.matches:
            continue
        base = f.name[:-3] if f.name.endswith("_en") else None
        companion = f"{base}_zh" if base and f"{base}_zh" in names else base
        if companion and companion in cmap.matches:
            values, bad, _ = match_codes(frame[companion].to_numpy(dtype=object), f)
            frame[f.name] = values
            filled[f.name] = f"from {companion} (the catalog's labels)"
    # Provenance: the file's own columns win; else the upload's; accuracy from precision.
    for key in ("source", "illustrative"):
        if key in names and key not in cmap.matches and key in defaults:
            frame[key] = [defaults[key]] * n
            filled[key] = "from the upload's provenance"
    if "accuracy_m" in names:
        acc = pd.to_numeric(frame["accuracy_m"], errors="coerce").to_numpy(dtype="float64").copy()
        if PRECISION_COLUMN in frame:
            prec = frame[PRECISION_COLUMN].to_numpy(dtype="float64")
            use = ~np.isfinite(acc) & np.isfinite(prec)
            if use.any():
                # The rounding of the coordinates bounds their accuracy from below; 1 m at least.
                acc[use] = np.maximum(np.round(prec[use], 1), 1.0)
                filled["accuracy_m"] = "from the coordinates' precision (the rounding they were "\
                    "written with)"
        frame["accuracy_m"] = acc


# -- placing rows by name ---------------------------------------------------------------------

def place_rows(mapped: MappedLayer, gazetteer: Gazetteer | None = None, *,
               where: str = "row") -> pd.DataFrame:
    """Place rows without a geometry from their county and place text (in place).

    Each such row gets the gazetteer's point and, unless the file gave one, its
    ``accuracy_m`` (the town's, or the county's extent when only the county
    matched); rows that cannot be placed are errors in ``mapped.issues``, rows
    placed by their county alone are warnings.

    Returns
    -------
    pandas.DataFrame
        One line per placed (or unplaceable) row: ``row``, ``county_text``,
        ``place_text``, ``matched_zh``, ``county_zh``, ``match``, ``accuracy_m``,
        ``status`` — the preview's placement report.
    """
    gdf = mapped.gdf
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    todo = np.flatnonzero(np.array([g is None or g.is_empty for g in geoms], dtype=bool))
    cols = ["row", "county_text", "place_text", "matched_zh", "county_zh", "match",
            "accuracy_m", "status"]
    if not len(todo):
        return pd.DataFrame(columns=cols)
    gz = gazetteer or Gazetteer.load()
    county = gdf[COUNTY_TEXT].to_numpy(dtype=object)[todo]
    place = gdf[PLACE_TEXT].to_numpy(dtype=object)[todo]
    found = gz.place(county, place)
    rows = gdf[ROW_COLUMN].to_numpy()[todo]
    ok = (found["status"] == "ok").to_numpy()
    if ok.any():
        pts = gpd.points_from_xy(found["lon"][ok], found["lat"][ok], crs="EPSG:4326")
        new = geoms.copy()
        new[todo[ok]] = np.asarray(pts, dtype=object)
        mapped.gdf = gdf = gdf.set_geometry(gpd.GeoSeries(new, index=gdf.index, crs="EPSG:4326"))
        if "accuracy_m" in gdf:
            acc = gdf["accuracy_m"].to_numpy(dtype="float64").copy()
            give = todo[ok][~np.isfinite(acc[todo[ok]])]
            acc[give] = found["accuracy_m"].to_numpy()[ok][~np.isfinite(acc[todo[ok]])]
            gdf["accuracy_m"] = acc
            mapped.filled["accuracy_m"] = (mapped.filled.get("accuracy_m", "") + "; " if
                                           "accuracy_m" in mapped.filled else "") + \
                "from the gazetteer match for rows placed by name"
    issues = mapped.issues
    for k in range(len(todo)):
        r = found.iloc[k]
        said = " / ".join(str(x) for x in (county[k], place[k]) if x) or "(nothing)"
        row = int(rows[k])
        if r["status"] != "ok":
            why = {"empty": ("the row has no coordinates and no place", "该行既无坐标也无地名"),
                   "unknown_county": (f"{said!r} is not a county-level unit of the League",
                                      f"“{said}”不是锡林郭勒盟的旗县市区"),
                   "unknown_place": (f"{said!r} is not in the gazetteer", f"地名库中没有“{said}”"),
                   "league": ("the place is the whole League", "地点为全盟，无法定位"),
                   "ambiguous": (f"{said!r} is the name of several places: "
                                 + ", ".join(r["candidates"]),
                                 f"“{said}”对应多个地点：" + "、".join(r["candidates"]))}[r["status"]]
            issues.error("unplaceable", f"cannot place the row: {why[0]}", f"无法定位：{why[1]}",
                         hint="add 经度/纬度 (longitude/latitude), or name the banner/county "
                         "(旗县市区, e.g. 多伦县) and the town or sumu (地点, e.g. 大北沟镇)",
                         hint_zh="请补充经度/纬度，或填写旗县市区（如多伦县）和乡镇苏木（如大北沟镇）",
                         row=row, where=where, value=said)
        elif r["match"] == "county_seat":
            extra = (f"; {str(place[k])!r} is not in the gazetteer" if r["note"] == "place_not_found"
                     else "")
            issues.warn("placed_at_county_seat", f"placed at the seat of {r['county_zh']} "
                        f"({r['matched_zh']}), ±{r['accuracy_m'] / 1000:.0f} km{extra}",
                        f"按旗县市区定位于{r['county_zh']}驻地（{r['matched_zh']}），"
                        f"精度约±{r['accuracy_m'] / 1000:.0f}公里",
                        hint="add 经度/纬度 or the town/sumu for a better position",
                        hint_zh="补充经度/纬度或乡镇苏木可提高定位精度", row=row, where=where,
                        value=said)
    return pd.DataFrame({"row": rows, "county_text": county, "place_text": place,
                         "matched_zh": found["matched_zh"].to_numpy(),
                         "county_zh": found["county_zh"].to_numpy(),
                         "match": found["match"].to_numpy(),
                         "accuracy_m": found["accuracy_m"].to_numpy(),
                         "status": found["status"].to_numpy()}, columns=cols)
