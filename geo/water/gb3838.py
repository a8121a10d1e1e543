"""GB 3838-2002 地表水环境质量标准: Table 1 as data and the classification of samples.

:data:`TABLE_1` holds the limits of the 24 basic items (基本项目) by class, once;
everything else — the layer's fields, the sheet reader's header names, the
classification — reads it from here.  The assessment follows the national method
for rivers (地表水环境质量评价办法, 2011):

* **Single factor** (单因子评价): a sample's class is the worst class over the items
  assessed.  For rivers those are the 21 items other than water temperature, total
  nitrogen and faecal coliforms, which are reported (their item classes are given)
  but do not set the class (:attr:`Item.classifying`).
* A value **equal to a limit meets it** (≤, or ≥ for dissolved oxygen); where two
  classes share a limit (COD Ⅰ/Ⅱ = 15, BOD5 Ⅰ/Ⅱ = 3 …) the value gets the better
  class.  pH meets every class inside 6–9 and is 劣Ⅴ outside.  Worse than Ⅴ is 劣Ⅴ.
* A value **below the detection limit** (``<name>_lt`` true, the value being the
  limit) meets class Ⅰ for that item in a single sample (means: see
  :mod:`geo.water.series`).  A missing value is not assessed.
* Items worse than the **target class** are its exceedances (超标项目) with the
  multiple (C − limit) / limit, for dissolved oxygen (limit − C) / limit, against
  the target class's limit; pH outside 6–9 exceeds with no multiple.  The items at
  the sample's class (when worse than Ⅰ) are its controlling items (定类因子).

Classes are integers 1–6 (6 = 劣Ⅴ) in the arrays, labelled ``Ⅰ`` … ``Ⅴ``, ``劣Ⅴ`` and
``I`` … ``V``, ``worse than V`` (:func:`class_label`).

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"nh3_n": [0.5, 1.2], "do": [7.5, 4.0], "tn": [3.0, 3.0],
...                   "tp": [0.02, 0.02], "tp_lt": [True, False]})
>>> out = classify(s, target="Ⅲ类")
>>> out[["class_zh", "class_en", "meets_target"]].values.tolist()
[['Ⅱ', 'II', True], ['Ⅳ', 'IV', False]]
>>> out["controlling"].tolist(), out["exceedance"].tolist()
([['nh3_n'], ['do', 'nh3_n']], [{}, {'do': 0.2, 'nh3_n': 0.2}])
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import GeoInputError

Rule = Literal["max", "min", "range", "none"]
Waterbody = Literal["river", "lake"]

#: Class labels, index = class − 1.
CLASS_ZH: tuple[str, ...] = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "劣Ⅴ")
CLASS_EN: tuple[str, ...] = ("I", "II", "III", "IV", "V", "worse than V")
#: The class worse than Ⅴ.
WORSE_THAN_V = 6
#: The conventional colours of the classes on maps and charts, index = class − 1: the
#: national assessment's scale (地表水环境质量评价办法, 2011) — Ⅰ–Ⅱ blue (优), Ⅲ green
#: (良好), Ⅳ yellow (轻度污染), Ⅴ orange (中度污染), 劣Ⅴ red (重度污染) — with Ⅰ a
#: lighter blue than Ⅱ so that every class has its own colour.
CLASS_COLOURS: tuple[str, ...] = ("#5bc0f8", "#1f5fbf", "#2ca02c", "#f2c500", "#ff7f0e",
                                  "#d62728")


@dataclass(frozen=True)
class Item:
    """One row of GB 3838-2002 Table 1.

    Attributes
    ----------
    name : str
        Property name in the atlas (``nh3_n``, ``do`` …).
    no : int
        Row number in Table 1.
    zh, en : str
        Names.
    unit : str
        ``mg/L``, ``个/L`` (faecal coliforms, per litre), ``℃`` or ``""`` (pH).
    rule : {"max", "min", "range", "none"}
        A value meets class k when ≤ the limit (``max``), ≥ it (``min``, dissolved
        oxygen), inside ``limits`` for every class (``range``, pH); ``none`` has no
        class limits (water temperature).
    limits : tuple of float
        Limits of classes Ⅰ–Ⅴ (``range``: the low and high bound).
    classifying : bool
        Whether the item sets a river section's class.
    below_detection : bool
        Whether a value may be below a detection limit (``<name>_lt``).
    lake_limits : tuple of float
        Limits for lakes and reservoirs where they differ (total phosphorus).
    """

    name: str
    no: int
    zh: str
    en: str
    unit: str
    rule: Rule
    limits: tuple[float, ...]
    classifying: bool = True
    below_detection: bool = True
    lake_limits: tuple[float, ...] = ()

    def limits_for(self, waterbody: Waterbody = "river") -> tuple[float, ...]:
        """The limits that apply to ``waterbody``."""
        return self.lake_limits if waterbody == "lake" and self.lake_limits else self.limits


_MG = "mg/L"

#: GB 3838-2002 Table 1 (basic items), in the standard's order.
TABLE_1: tuple[Item, ...] = (
    Item("water_temp", 1, "水温", "Water temperature", "℃", "none", (),
         classifying=False, below_detection=False),
    Item("ph", 2, "pH", "pH", "", "range", (6.0, 9.0), below_detection=False),
    Item("do", 3, "溶解氧", "Dissolved oxygen", _MG, "min", (7.5, 6.0, 5.0, 3.0, 2.0),
         below_detection=False),
    Item("codmn", 4, "高锰酸盐指数", "Permanganate index (CODMn)", _MG, "max",
         (2.0, 4.0, 6.0, 10.0, 15.0)),
    Item("cod", 5, "化学需氧量", "Chemical oxygen demand (COD)", _MG, "max",
         (15.0, 15.0, 20.0, 30.0, 40.0)),
    Item("bod5", 6, "五日生化需氧量", "Five-day biochemical oxygen demand (BOD5)", _MG, "max",
         (3.0, 3.0, 4.0, 6.0, 10.0)),
    Item("nh3_n", 7, "氨氮", "Ammonia nitrogen (NH3-N)", _MG, "max",
         (0.15, 0.5, 1.0, 1.5, 2.0)),
    Item("tp", 8, "总磷", "Total phosphorus (as P)", _MG, "max",
         (0.02, 0.1, 0.2, 0.3, 0.4), lake_limits=(0.01, 0.025, 0.05, 0.1, 0.2)),
    Item("tn", 9, "总氮", "Total nitrogen (as N)", _MG, "max",
         (0.2, 0.5, 1.0, 1.5, 2.0), classifying=False),
    Item("copper", 10, "铜", "Copper", _MG, "max", (0.01, 1.0, 1.0, 1.0, 1.0)),
    Item("zinc", 11, "锌", "Zinc", _MG, "max", (0.05, 1.0, 1.0, 2.0, 2.0)),
    Item("fluoride", 12, "氟化物", "Fluoride (as F-)", _MG, "max", (1.0, 1.0, 1.0, 1.5, 1.5)),
    Item("selenium", 13, "硒", "Selenium", _MG, "max", (0.01, 0.01, 0.01, 0.02, 0.02)),
    Item("arsenic", 14, "砷", "Arsenic", _MG, "max", (0.05, 0.05, 0.05, 0.1, 0.1)),
    Item("mercury", 15, "汞", "Mercury", _MG, "max", (0.00005, 0.00005, 0.0001, 0.001, 0.001)),
    Item("cadmium", 16, "镉", "Cadmium", _MG, "max", (0.001, 0.005, 0.005, 0.005, 0.01)),
    Item("chromium6", 17, "铬(六价)", "Chromium (hexavalent)", _MG, "max",
         (0.01, 0.05, 0.05, 0.05, 0.1)),
    Item("lead", 18, "铅", "Lead", _MG, "max", (0.01, 0.01, 0.05, 0.05, 0.1)),
    Item("cyanide", 19, "氰化物", "Cyanide", _MG, "max", (0.005, 0.05, 0.2, 0.2, 0.2)),
    Item("phenols", 20, "挥发酚", "Volatile phenols", _MG, "max",
         (0.002, 0.002, 0.005, 0.01, 0.1)),
    Item("petroleum", 21, "石油类", "Petroleum", _MG, "max", (0.05, 0.05, 0.05, 0.5, 1.0)),
    Item("surfactants", 22, "阴离子表面活性剂", "Anionic surfactants", _MG, "max",
         (0.2, 0.2, 0.2, 0.3, 0.3)),
    Item("sulfide", 23, "硫化物", "Sulfide", _MG, "max", (0.05, 0.1, 0.2, 0.5, 1.0)),
    Item("fecal_coliform", 24, "粪大肠菌群", "Faecal coliforms", "个/L", "max",
         (200.0, 2000.0, 10000.0, 20000.0, 40000.0), classifying=False),
)

ITEMS: dict[str, Item] = {item.name: item for item in TABLE_1}

#: Parameter names in the order of the ``wq_samples`` layer.
PARAMETERS: tuple[str, ...] = (
    "ph", "do", "codmn", "cod", "bod5", "nh3_n", "tp", "tn", "fluoride", "copper", "zinc",
    "selenium", "arsenic", "mercury", "cadmium", "chromium6", "lead", "cyanide", "phenols",
    "petroleum", "surfactants", "sulfide", "fecal_coliform", "water_temp",
)
#: Parameters that may be below a detection limit: each has a ``<name>_lt`` flag.
BELOW_DETECTION: tuple[str, ...] = tuple(p for p in PARAMETERS if ITEMS[p].below_detection)
#: Items that set a river section's class.
CLASSIFYING: tuple[str, ...] = tuple(p for p in PARAMETERS if ITEMS[p].classifying)
#: Items with class limits (all but water temperature), in :data:`PARAMETERS` order.
GRADED: tuple[str, ...] = tuple(p for p in PARAMETERS if ITEMS[p].rule != "none")

#: How the atlas applies the standard, in words (for API descriptions and pages).
ASSESSMENT_RULE = {
    "zh": ("按GB 3838-2002表1单因子评价: 取参评项目中最差的类别; 等于限值即达到该类; "
           "COD、BOD5等相邻类别限值相同时取较好类别; pH 6~9; 溶解氧为下限; 总氮、水温、"
           "粪大肠菌群只报告不参与河流定类; 单个样品中低于检出限的项目按Ⅰ类计, 均值中按检出限"
           "的一半计(全部未检出时均值记为未检出); 超标倍数=(C−限值)/限值, 溶解氧为"
           "(限值−C)/限值。"),
    "en": ("Single-factor assessment on GB 3838-2002 Table 1: the worst class over the items "
           "assessed; a value equal to a limit meets it; where classes share a limit (COD, "
           "BOD5 …) the better class; pH 6-9; dissolved oxygen is a lower bound; total "
           "nitrogen, water temperature and faecal coliforms are reported but do not set a "
           "river's class; a below-detection value meets class I in a single sample and "
           "counts as half its detection limit in means (a mean of only below-detection "
           "values is below detection); exceedance multiple = (C - limit) / limit, for "
           "dissolved oxygen (limit - C) / limit."),
}


def class_label(cls: ArrayLike, lang: Literal["zh", "en"] = "zh", suffix: bool = False
                ) -> NDArray[np.object_]:
    """Labels of classes 1–6: ``Ⅲ`` / ``III``, or with ``suffix`` ``Ⅲ类`` / ``Class III``.

    Missing classes (NaN, None, 0) give "".

    Examples
    --------
    >>> class_label([1, 6, None]).tolist(), class_label([3, 6], "en", suffix=True).tolist()
    (['Ⅰ', '劣Ⅴ', ''], ['Class III', 'Worse than class V'])
    >>> class_label([3], "zh", suffix=True).tolist()
    ['Ⅲ类']
    """
    arr = pd.to_numeric(pd.Series(np.atleast_1d(np.asarray(cls, dtype=object))),
                        errors="coerce").to_numpy(dtype="float64")
    ok = np.isfinite(arr) & (arr >= 1) & (arr <= WORSE_THAN_V)
    k = np.where(ok, arr, 1).astype(int) - 1
    if lang == "en":
        names = np.array([f"Class {c}" for c in CLASS_EN[:5]] + ["Worse than class V"]
                         if suffix else list(CLASS_EN), dtype=object)
    else:
        names = np.array([c + "类" for c in CLASS_ZH] if suffix else list(CLASS_ZH),
                         dtype=object)
    return np.where(ok, names[k], "").astype(object)


def limits_for_class(cls: object, waterbody: Waterbody = "river") -> dict[str, dict]:
    """Every graded item's limit for one class (for charts of values against a target).

    Parameters
    ----------
    cls : class
        ``Ⅲ类``, ``III``, 3 … (劣Ⅴ has no limits: the Ⅴ limits are given).
    waterbody : {"river", "lake"}

    Returns
    -------
    dict
        Item → ``{"limit", "rule", "unit", "zh", "en", "classifying"}``; ``limit`` is
        ``[6.0, 9.0]`` for pH.

    Examples
    --------
    >>> lim = limits_for_class("Ⅲ类")
    >>> lim["nh3_n"]["limit"], lim["do"]["rule"], lim["ph"]["limit"], lim["tn"]["classifying"]
    (1.0, 'min', [6.0, 9.0], False)
    """
    k = min(parse_class(cls), 5) - 1
    out = {}
    for name in GRADED:
        item = ITEMS[name]
        lim = item.limits_for(waterbody)
        out[name] = {"limit": list(lim) if item.rule == "range" else lim[k],
                     "rule": item.rule, "unit": item.unit, "zh": item.zh, "en": item.en,
                     "classifying": item.classifying}
    return out


_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}


def parse_class(value: object) -> int:
    """A class given as ``Ⅲ类``, ``Ⅲ``, ``III``, ``Class III``, ``3``, ``劣Ⅴ`` … → 1–6.

    Raises
    ------
    GeoInputError
        For anything else.

    Examples
    --------
    >>> [parse_class(v) for v in ("Ⅲ类", "IV", "class ii", 2, "劣Ⅴ类", "worse than V", "Ⅰ")]
    [3, 4, 2, 2, 6, 6, 1]
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if 1 <= int(value) <= WORSE_THAN_V:
            return int(value)
    elif isinstance(value, (float, np.floating)) and float(value).is_integer() \
            and 1 <= value <= WORSE_THAN_V:
        return int(value)
    elif isinstance(value, str):
        # NFKC turns the Roman numeral characters Ⅰ–Ⅴ into I … V.
        text = unicodedata.normalize("NFKC", value).strip().upper().replace(" ", "")
        worse = text.startswith("劣") or text.startswith("WORSETHAN")
        text = text.removeprefix("劣").removeprefix("WORSETHAN").removeprefix("CLASS")
        text = text.removesuffix("类")
        if worse and text in ("V", "5"):
            return WORSE_THAN_V
        if not worse and text in _ROMAN:
            return _ROMAN[text]
        if not worse and text.isdigit() and 1 <= int(text) <= 5:
            return int(text)
    raise GeoInputError(
        f"{value!r} is not a water-quality class",
        hint="write the class as Ⅰ … Ⅴ or 劣Ⅴ (Ⅲ类, III, Class III and 3 are understood)",
        message_zh=f"{value!r} 不是水质类别", hint_zh="请写作 Ⅰ … Ⅴ 或 劣Ⅴ(也接受 Ⅲ类、III、3)",
        code="bad_parameter")


def _targets(target: object, n: int) -> NDArray[np.float64]:
    """Target classes as floats (NaN: none), one per sample."""
    if target is None:
        return np.full(n, np.nan)
    if isinstance(target, (str, int, np.integer, float)):
        if isinstance(target, float) and np.isnan(target):
            return np.full(n, np.nan)
        return np.full(n, float(parse_class(target)))
    values = list(target)
    if len(values) != n:
        raise GeoInputError(f"{len(values)} targets for {n} samples",
                            hint="give one target class for all or one per sample",
                            code="bad_parameter")
    return np.array([np.nan if v is None or (isinstance(v, float) and np.isnan(v))
                     or v == "" else float(parse_class(v)) for v in values])


def _values(samples: pd.DataFrame, name: str) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """An item's values (NaN: missing) and below-detection flags."""
    return item_arrays(samples, (name,))[name]


def _flags(column: pd.Series) -> NDArray[np.bool_]:
    """A below-detection flag column as booleans: True, 1, 1.0 or the text "true"."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return column.fillna(False).to_numpy(dtype=bool)
    arr = column.to_numpy(dtype=object)
    return (arr == True) | (arr == "true") | (arr == "True")  # noqa: E712 - objects


def item_arrays(samples: pd.DataFrame, names: tuple[str, ...] | None = None
                ) -> dict[str, tuple[NDArray[np.float64], NDArray[np.bool_]]]:
    """Each item's values (float, NaN: missing) and below-detection flags, read once.

    Examples
    --------
    >>> a = item_arrays(pd.DataFrame({"tp": ["0.02", None], "tp_lt": [True, None]}), ("tp",))
    >>> a["tp"][0].tolist(), a["tp"][1].tolist()
    ([0.02, nan], [True, False])
    """
    n = len(samples)
    out = {}
    for name in PARAMETERS if names is None else names:
        v = pd.to_numeric(samples[name], errors="coerce").to_numpy(dtype="float64") \
            if name in samples else np.full(n, np.nan)
        col = f"{name}_lt"
        lt = _flags(samples[col]) if col in samples else np.zeros(n, dtype=bool)
        out[name] = (v, lt)
    return out


def check_samples(samples: pd.DataFrame,
                  arrays: dict[str, tuple[NDArray, NDArray]] | None = None) -> None:
    """Refuse values no sample can have: negative concentrations, pH outside 0–14,
    a below-detection flag on pH, dissolved oxygen or water temperature.

    Raises
    ------
    GeoInputError
        Naming the rows (positions) and items.

    Examples
    --------
    >>> check_samples(pd.DataFrame({"nh3_n": [0.1, -0.2]}))
    Traceback (most recent call last):
    ...
    geo.errors.GeoInputError: impossible values: nh3_n in row 1 (negative)
    """
    arrays = item_arrays(samples) if arrays is None else arrays
    problems = []
    for item in TABLE_1:
        v, lt = arrays[item.name]
        if item.name == "ph":
            bad = np.flatnonzero((v < 0) | (v > 14))
            why = "outside 0-14"
        elif item.name == "water_temp":
            bad = np.flatnonzero(v < -5)
            why = "below -5 ℃"
        else:
            bad = np.flatnonzero(v < 0)
            why = "negative"
        if len(bad):
            problems.append(f"{item.name} in row {', '.join(map(str, bad[:5]))} ({why})")
        if not item.below_detection and lt.any():
            problems.append(f"{item.name} in row {', '.join(map(str, np.flatnonzero(lt)[:5]))} "
                            "(no detection limit applies)")
    if problems:
        raise GeoInputError("impossible values: " + "; ".join(problems),
                            hint="correct the values in the sheet (concentrations in mg/L, "
                                 "faecal coliforms per litre)",
                            message_zh="不可能的监测值: " + "; ".join(problems),
                            hint_zh="请更正表中数值(浓度单位mg/L, 粪大肠菌群 个/L)",
                            status=422, code="unprocessable")


def item_classes(samples: pd.DataFrame, waterbody: Waterbody = "river",
                 arrays: dict[str, tuple[NDArray, NDArray]] | None = None) -> pd.DataFrame:
    """The class (1–6, NaN when not measured) of every graded item of every sample.

    Vectorised per item over the samples.  Below-detection values meet class Ⅰ.

    Parameters
    ----------
    samples : DataFrame
        Item columns named as in :data:`PARAMETERS` (others ignored), with
        optional ``<name>_lt`` flags.
    waterbody : {"river", "lake"}
        Which total-phosphorus limits apply.

    Returns
    -------
    DataFrame
        One float column per item of :data:`GRADED`, same index as ``samples``.

    Examples
    --------
    >>> item_classes(pd.DataFrame({"cod": [15.0, 15.01, 40.0, 40.01]}))["cod"].tolist()
    [1.0, 3.0, 5.0, 6.0]
    """
    arrays = item_arrays(samples) if arrays is None else arrays
    out = {}
    for name in GRADED:  # 23 items; each line below runs over every sample at once
        item = ITEMS[name]
        v, lt = arrays[name]
        lim = np.asarray(item.limits_for(waterbody), dtype="float64")
        if item.rule == "max":
            cls = 1.0 + (v[:, None] > lim[None, :]).sum(axis=1)
        elif item.rule == "min":
            cls = 1.0 + (v[:, None] < lim[None, :]).sum(axis=1)
        else:  # range: pH meets every class inside its bounds
            cls = np.where((v >= lim[0]) & (v <= lim[1]), 1.0, float(WORSE_THAN_V))
        cls = np.where(lt & item.below_detection, 1.0, cls)
        out[name] = np.where(np.isnan(v) & ~lt, np.nan, cls)
    return pd.DataFrame(out, index=samples.index)


def classify(samples: pd.DataFrame, target: object = None,
             waterbody: Waterbody = "river", items: tuple[str, ...] = CLASSIFYING
             ) -> pd.DataFrame:
    """The class of each sample, its controlling items and exceedances of a target.

    Parameters
    ----------
    samples : DataFrame
        One row per sample (or per mean), items as in :data:`PARAMETERS`.
    target : str, int or sequence, optional
        The target class, for all samples or one per sample (``Ⅲ类``, ``III``, 3 …).
    waterbody : {"river", "lake"}
        Which limits apply (total phosphorus).
    items : tuple of str
        The items that set the class (default :data:`CLASSIFYING`, rivers).

    Returns
    -------
    DataFrame
        Same index, columns ``class`` (1–6, <NA> when nothing was assessed),
        ``class_zh``, ``class_en``, ``n_items`` (items assessed), ``controlling``
        (list of the items at the sample's class when worse than Ⅰ),
        ``target_class`` (<NA> without a target), ``meets_target`` (<NA> without a
        target or class), ``exceeding`` (list of the assessed items worse than the
        target) and ``exceedance`` (dict item → multiple, pH without one).

    Raises
    ------
    GeoInputError
        For impossible values (:func:`check_samples`) or an unreadable target.
    """
    arrays = item_arrays(samples)  # every column read once for the three steps
    check_samples(samples, arrays)
    n = len(samples)
    classes = item_classes(samples, waterbody, arrays)
    use = [c for c in items if c in classes]
    mat = classes[use].to_numpy(dtype="float64") if use else np.full((n, 0), np.nan)
    assessed = ~np.isnan(mat)
    n_items = assessed.sum(axis=1)
    worst = np.where(n_items > 0, np.nanmax(np.where(assessed, mat, -np.inf), axis=1)
                     if mat.shape[1] else np.nan, np.nan)
    t = _targets(target, n)
    with np.errstate(invalid="ignore"):
        controlling = assessed & (mat == worst[:, None]) & (worst[:, None] > 1)
        exceeding = assessed & (mat > t[:, None])
    multiple = np.full(mat.shape, np.nan)
    for j, name in enumerate(use):  # the multiple against the target's limit, per item
        item = ITEMS[name]
        if item.rule not in ("max", "min"):
            continue
        v, _ = arrays[name]
        lim = np.asarray(item.limits_for(waterbody))
        ok = exceeding[:, j]
        limit_t = lim[np.clip(np.nan_to_num(t, nan=1).astype(int), 1, 5) - 1]
        m = (v - limit_t) / limit_t if item.rule == "max" else (limit_t - v) / limit_t
        multiple[:, j] = np.where(ok, m, np.nan)
    names = np.asarray(use, dtype=object)
    has_t = ~np.isnan(t)
    meets = pd.array(np.where(has_t & (n_items > 0), worst <= t, False), dtype="boolean")
    meets[~(has_t & (n_items > 0))] = pd.NA
    return pd.DataFrame({
        "class": pd.array(np.where(n_items > 0, worst, np.nan), dtype="Int8"),
        "class_zh": class_label(worst),
        "class_en": class_label(worst, "en"),
        "n_items": n_items.astype(int),
        "controlling": [list(names[row]) for row in controlling],
        "target_class": pd.array(t, dtype="Int8"),
        "meets_target": meets,
        "exceeding": [list(names[row]) for row in exceeding],
        "exceedance": [{str(names[j]): (round(float(multiple[i, j]), 3)
                                        if np.isfinite(multiple[i, j]) else None)
                        for j in np.flatnonzero(exceeding[i])} for i in range(n)],
    }, index=samples.index)
