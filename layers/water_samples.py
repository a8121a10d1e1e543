"""Monitoring sheets (监测报表) as the next version of ``wq_samples``: the layer's own step.

The generic replacement (:mod:`layers.replace`) maps columns onto fields and places
rows by their coordinates or place names.  A monitoring sheet has neither: it names a
section (断面名称 or 断面编号) and a date (采样日期/监测时间), then one column per
GB 3838 item with its unit in the header (``氨氮(mg/L)``, ``汞(μg/L)``), and values
such as ``<0.01`` or ``0.01L`` below the detection limit.  :data:`HOOK` is the layer's
:class:`~layers.reference_hooks.ReferenceHook`: its ``map`` step (:func:`map_samples`,
around :func:`read_samples`) replaces the generic mapping and placing, with the
option ``sampled_on`` (the date of a sheet without a date column); every later step
(validation, ``append`` merged by id, diff, one ``put_many``) is the generic one.
:func:`read_samples`:

1. the cells are read by :func:`geo.water.sheet.read_sheet` (headers and units,
   values and detection limits, sections by id or name with the nearest names
   suggested for a misspelt one, dates);
2. every problem becomes a row-level issue (:class:`layers.issues.Issues`) at the
   row of the user's file, with the suggestions;
3. impossible values (negative concentrations, pH outside 0–14) are row errors;
4. each sample becomes a point at its section, with the section's names, an id
   ``wq_<section>_<YYYYMMDD>`` (one sample per section and day: appending a month's
   sheet again updates it), every ``<item>_lt`` flag, and its provenance: the upload's
   ``source``, the section's ``accuracy_m`` and ``illustrative`` (the position is the
   section's, so is its accuracy).

:data:`TEMPLATE_COLUMNS` and :data:`TEMPLATE_EXAMPLE` are the blank sheet a station
fills in (:func:`layers.template.template_xlsx`).

Examples
--------
>>> import geopandas as gpd
>>> from layers.prepare import layer_path
>>> sections = gpd.read_file(layer_path("sections"))
>>> sheet = pd.DataFrame({"断面名称": ["锡林河锡林浩特下游断面", "锡林河锡林浩特下断面"],
...                       "采样日期": ["2024-01-09", "2024-01-09"],
...                       "氨氮(mg/L)": [2.31, 0.4], "挥发酚(mg/L)": ["<0.0003", "0.001"],
...                       "_row": [2, 3]})
>>> got = read_samples(sheet, sections)
>>> got.gdf[["id", "sampled_on", "nh3_n", "phenols", "phenols_lt"]].values.tolist()
[['wq_xilinhe_xilinhot_20240109', '2024-01-09', 2.31, 0.0003, True]]
>>> [(i.row, i.code, i.suggestion) for i in got.issues.errors]
[(3, 'unknown_section', '锡林河锡林浩特下游断面(示意)')]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.report import ReadResult
from geo.water.gb3838 import BELOW_DETECTION, ITEMS, PARAMETERS, item_arrays
from geo.water.sheet import read_sheet

from .catalog import get_spec
from .issues import Issues
from .mapping import ROW_COLUMN, ColumnMapping, ColumnMatch, MappedLayer
from .reference_hooks import HookContext, ReferenceHook

LAYER = "wq_samples"

#: Source recorded on imported samples when the upload does not say one.
DEFAULT_SOURCE = "断面监测报表导入 / imported monitoring sheet"

#: The blank sheet's columns (header, key): the section, the date, then every item with
#: the unit of GB 3838 Table 1 in its header.
TEMPLATE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("*断面名称", "section"), ("*采样日期", "sampled_on"),
    *((f"{ITEMS[p].zh}({ITEMS[p].unit or '无量纲'})", p) for p in PARAMETERS),
    ("备注", "note"),
)
#: The blank sheet's example row (what a station would write, ``<`` for below detection).
TEMPLATE_EXAMPLE: dict[str, Any] = {
    "section": "锡林河锡林浩特下游断面", "sampled_on": "2024-01-09", "water_temp": 0.4,
    "ph": 7.9, "do": 5.6, "codmn": 6.2, "cod": 22, "bod5": 3.8, "nh3_n": 1.42, "tp": 0.19,
    "tn": 3.1, "fluoride": 0.9, "copper": "<0.001", "zinc": "<0.005", "selenium": "<0.0004",
    "arsenic": 0.003, "mercury": "<0.00004", "cadmium": "<0.0001", "chromium6": "<0.004",
    "lead": "<0.001", "cyanide": "<0.004", "phenols": "<0.0003", "petroleum": 0.02,
    "surfactants": "<0.05", "sulfide": "<0.005", "fecal_coliform": 2400, "note": "冰下采样",
}

#: Notes of the blank sheet's columns ("*": every item column).
TEMPLATE_NOTES: dict[str, str] = {
    "section": "断面名称或编号(如 sec_xilinhe_xilinhot)；写错时提示最接近的名称 / the section's "
               "name or id; a misspelt name is answered with the nearest names",
    "sampled_on": "年-月-日(2024-01-09)，也可写 2024/1/9、2024年1月9日；一张表一个月亦可 / "
                  "YYYY-MM-DD",
    "note": "备注，不导入 / remarks, not imported",
    "*": "表头括号内写单位(mg/L、μg/L、个/L …)按单位换算；低于检出限写作 <检出限 或 检出限L；未测留空 / "
         "the unit in brackets is converted; below detection: <limit or limitL; empty when "
         "not measured",
}


@dataclass
class SamplesRead:
    """A monitoring sheet read as ``wq_samples`` rows.

    Attributes
    ----------
    gdf : GeoDataFrame
        The samples in the layer's fields (catalog order) with ``_row`` (the row of the
        user's file), points at their sections; rows with an error are left out.
    issues : Issues
        Every problem, by row and column.
    columns : dict
        Field → header as written.
    ignored : list of str
        Headers that name no field (a remarks column …).
    """

    gdf: gpd.GeoDataFrame
    issues: Issues
    columns: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def _impossible(frame: pd.DataFrame) -> list[tuple[int, str, str, str]]:
    """(position, item, why, why_zh) of values no sample can have."""
    out = []
    for name, (v, _lt) in item_arrays(frame, tuple(p for p in PARAMETERS if p in frame)).items():
        with np.errstate(invalid="ignore"):
            if name == "ph":
                bad, why, zh = (v < 0) | (v > 14), "outside 0-14", "不在0~14之间"
            elif name == "water_temp":
                bad, why, zh = v < -5, "below -5 ℃", "低于-5℃"
            else:
                bad, why, zh = v < 0, "negative", "为负值"
        out += [(int(i), name, why, zh) for i in np.flatnonzero(bad)]
    return out


def read_samples(table: pd.DataFrame, sections: pd.DataFrame, *, sampled_on: Any = None,
                 defaults: Mapping[str, Any] | None = None, where: str = "row") -> SamplesRead:
    """Read a monitoring sheet into ``wq_samples`` rows (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        The sheet as :func:`geo.read.read_file` read it (``keep_unlocated=True,
        trace=True``: headers as columns, ``_row`` the row in the file); without
        ``_row``, rows count from 2 (the header is row 1).
    sections : DataFrame
        The current sections layer (``id``, ``name_zh``, ``name_en``, geometry,
        ``accuracy_m``, ``illustrative``).
    sampled_on : date, optional
        The date of every row of a sheet without a date column.
    defaults : mapping, optional
        ``source`` (and ``illustrative``) from the upload's provenance.
    where : str
        What ``_row`` counts (``row``, ``line``).

    Returns
    -------
    SamplesRead
    """
    defaults = dict(defaults or {})
    spec = get_spec(LAYER)
    n = len(table)
    rows = table[ROW_COLUMN].to_numpy(dtype=np.int64) if ROW_COLUMN in table else \
        np.arange(2, n + 2, dtype=np.int64)
    cells = table.drop(columns=[c for c in (ROW_COLUMN, "geometry") if c in table])
    cells = cells.drop(columns=[c for c in cells.columns if str(c).startswith("_")])
    sheet = read_sheet(pd.DataFrame(cells).reset_index(drop=True), sections, sampled_on,
                       first_row=0)
    issues = Issues()
    bad = np.zeros(n, dtype=bool)
    for e in sheet.errors:
        row = int(rows[e.row]) if e.row is not None else None
        if e.row is not None:
            bad[e.row] = True
        issues.error(e.code, e.message, e.message_zh, hint=e.hint, hint_zh=e.hint_zh, row=row,
                     where=where if row is not None else None, column=e.column,
                     suggestion=(e.suggestions[0] if len(e.suggestions) == 1 else
                                 e.suggestions or None))
    # read_sheet left out the rows in error: put the kept ones back at their positions.
    kept = np.flatnonzero(~bad)
    samples = sheet.samples.set_axis(kept[:len(sheet.samples)])
    for i, item, why, zh in _impossible(samples):
        col = sheet.columns.get(item)
        issues.error("impossible_value", f"{item} is {why}", f"{ITEMS[item].zh}{zh}",
                     hint="correct the value (concentrations in mg/L, faecal coliforms per "
                          "litre, water temperature in ℃)",
                     hint_zh="请更正数值（浓度单位 mg/L，粪大肠菌群 个/L，水温 ℃）",
                     row=int(rows[i]), where=where, column=col, field=item,
                     value=float(samples.at[i, item]))
        bad[i] = True
    samples = samples.loc[[i for i in samples.index if not bad[i]]]
    dup = samples.duplicated(["section_id", "sampled_on"], keep="first")
    for i in samples.index[dup.to_numpy()]:
        first = samples.index[(samples["section_id"] == samples.at[i, "section_id"])
                              & (samples["sampled_on"] == samples.at[i, "sampled_on"])][0]
        issues.error("duplicate_sample", "a second sample of the same section on the same day",
                     "同一断面同一天有两条样品",
                     hint=f"keep one of rows {int(rows[first])} and {int(rows[i])}",
                     hint_zh=f"请保留第{int(rows[first])}行和第{int(rows[i])}行中的一条",
                     row=int(rows[i]), where=where, column=sheet.columns.get("section"))
        bad[i] = True
    samples = samples.loc[[i for i in samples.index if not bad[i]]]
    return SamplesRead(_as_layer(samples, rows, sections, defaults, spec), issues,
                       sheet.columns, sheet.ignored)


def _as_layer(samples: pd.DataFrame, rows: np.ndarray, sections: pd.DataFrame,
              defaults: Mapping[str, Any], spec: Any) -> gpd.GeoDataFrame:
    """The samples in catalog order, at their sections, with ids and provenance."""
    sec = gpd.GeoDataFrame(sections).set_index(sections["id"].astype(str))
    ids = samples["section_id"].astype(str)
    at = sec.reindex(ids.to_numpy())
    data: dict[str, Any] = {
        "id": ["wq_" + s.removeprefix("sec_") + "_" + d.replace("-", "")
               for s, d in zip(ids, samples["sampled_on"], strict=True)],
        "section_id": ids.to_numpy(dtype=object),
        "section_zh": at["name_zh"].to_numpy(dtype=object),
        "section_en": (at["name_en"] if "name_en" in at else at["name_zh"]).to_numpy(
            dtype=object),
        "sampled_on": samples["sampled_on"].astype(str).to_numpy(dtype=object),
    }
    for p in PARAMETERS:
        data[p] = samples[p].to_numpy(dtype="float64") if p in samples else \
            np.full(len(samples), np.nan)
        if p in BELOW_DETECTION:
            data[f"{p}_lt"] = samples[f"{p}_lt"].to_numpy(dtype=bool) \
                if f"{p}_lt" in samples else np.zeros(len(samples), dtype=bool)
    data["source"] = np.full(len(samples), str(defaults.get("source") or DEFAULT_SOURCE),
                             dtype=object)
    data["accuracy_m"] = pd.to_numeric(at.get("accuracy_m"), errors="coerce").to_numpy(
        dtype="float64") if "accuracy_m" in at else np.full(len(samples), np.nan)
    ill = defaults.get("illustrative")
    data["illustrative"] = np.full(len(samples), bool(ill)) if ill is not None else \
        at["illustrative"].fillna(False).astype(bool).to_numpy() if "illustrative" in at \
        else np.zeros(len(samples), dtype=bool)
    order = [f.name for f in spec.fields]
    frame = pd.DataFrame({k: data[k] for k in order if k in data})
    frame[ROW_COLUMN] = rows[samples.index.to_numpy(dtype=np.int64)] if len(samples) else \
        np.zeros(0, dtype=np.int64)
    return gpd.GeoDataFrame(frame, geometry=at.geometry.to_numpy(), crs=4326)


def map_samples(read: ReadResult, context: HookContext) -> MappedLayer:
    """The hook's ``map`` step: :func:`read_samples` on the file as read, with the
    current sections; ``context.options["sampled_on"]`` dates a sheet without a date
    column.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from geo.report import Report
    >>> from layers.prepare import layer_path
    >>> sheet = gpd.GeoDataFrame({"断面编号": ["sec_luanhe_duolun"], "氨氮": ["0.3"],
    ...                           "_row": [2]}, geometry=[None])
    >>> ctx = HookContext("wq_samples", get_spec("wq_samples"),
    ...                   {"sections": gpd.read_file(layer_path("sections"))},
    ...                   options={"sampled_on": "2024-02-05"})
    >>> m = map_samples(ReadResult(sheet, Report()), ctx)
    >>> m.gdf[["id", "sampled_on", "nh3_n"]].values.tolist(), m.mapping.column("nh3_n")
    ([['wq_luanhe_duolun_20240205', '2024-02-05', 0.3]], '氨氮')
    """
    issues = Issues()
    sections = context.current.get("sections")
    if sections is None or not len(sections):
        issues.error("no_sections", "the sections layer is missing: samples cannot be placed",
                     "缺少国考断面图层，无法确定样品位置",
                     hint="load the reference layers first (python -m layers.prepare)",
                     hint_zh="请先载入参考图层")
        sections = gpd.GeoDataFrame({"id": [], "name_zh": []}, geometry=[], crs=4326)
    got = read_samples(pd.DataFrame(read.gdf), sections,
                       sampled_on=context.options.get("sampled_on") or None,
                       defaults=context.defaults, where=context.where)
    issues.extend(got.issues)
    mapping = ColumnMapping(
        matches={f: ColumnMatch(f, c, "sheet", 1.0) for f, c in got.columns.items()},
        unmapped=list(got.ignored), missing=[], missing_required=[])
    filled = {"id": "section and date", "geometry": "the section's position",
              "accuracy_m": "the section's accuracy"}
    return MappedLayer(got.gdf, mapping, filled, issues)


#: The layer's own step in the replacement pipeline (:mod:`layers.reference_hooks`).
HOOK = ReferenceHook(
    LAYER, map=map_samples, options=("sampled_on",),
    description="monitoring sheets (CSV/XLSX): 断面名称 or 断面编号, 采样日期, one column per "
                "GB 3838 item with its unit; <0.01 or 0.01L below detection; sampled_on= dates "
                "a sheet without a date column")
