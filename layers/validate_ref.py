"""Validate a replacement of a catalog layer against the catalog, row by row.

What a catalog layer promises its readers — pages, legends, statistics, the
overlay, the river network, the route planner — is checked on a user's file before
it may take the built-in data's place:

* the geometry type (:func:`conform_geometries`: a river file given to ``projects``
  is one clear error naming the layers it would fit; single-part multi-geometries
  become simple ones, a river's pieces are joined);
* required fields (declared in :mod:`layers.catalog`), coded values, numbers;
* every feature inside the League, with a tolerance (:func:`league_area`);
* ids unique; amounts in the unit the catalog says (:func:`check_amount_units`:
  a registry in 万元 where 亿元 is expected sums to about 10⁴ times the seed
  article's table) and, where the sheet has a 合计 row, equal to it.

Each problem is an :class:`~layers.issues.Issue` with the row in the user's file,
the column, the value, what is wrong and how to fix it, in Chinese and English.

Examples
--------
>>> import geopandas as gpd, shapely
>>> from layers.catalog import get_spec
>>> rivers = gpd.GeoDataFrame({"name_zh": ["锡林河"]},
...     geometry=[shapely.LineString([(116, 43.5), (116.2, 44)])], crs=4326)
>>> iss = Issues()
>>> _ = conform_geometries(rivers, get_spec("projects"), iss)
>>> iss.errors[0].code, iss.errors[0].hint
('wrong_geometry', 'choose a layer of lines: rivers, scenic_road; or give a table with 经度/纬度 or a file of points')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import measure
from geo.report import Report
from geo.validate import LEAGUE_BBOX

from .catalog import CATALOG, SEED_PROJECT_TOTALS, get_spec
from .derive import league_outline
from .errors import LayerNotFound
from .issues import Issues, plain
from .mapping import ROW_COLUMN, ColumnMapping, parse_amounts
from .spec import LayerSpec

#: How far (m) outside the League a feature may lie (ports sit on the border; the
#: League outline is generalised at 500 m).
LEAGUE_TOLERANCE_M = 10_000.0
#: A registry whose total investment is between these multiples of the seed's was
#: given in 万元 (× 10⁴) where 亿元 is expected.
WAN_RATIO = (2_000.0, 50_000.0)
#: One project above this (亿元) is implausible (the whole seed registry is 1568 亿元).
MAX_PROJECT_YI = 1000.0

_FAMILY = {"Point": "Point", "MultiPoint": "Point", "LineString": "LineString",
           "MultiLineString": "LineString", "LinearRing": "LineString", "Polygon": "Polygon",
           "MultiPolygon": "Polygon"}
_WORDS = {"Point": ("points", "点"), "LineString": ("lines", "线"), "Polygon": ("polygons", "面")}


def reference_spec(layer: str) -> LayerSpec:
    """The catalog layer ``layer`` can replace, or a clear error naming the ones there are.

    Raises
    ------
    LayerNotFound
        (answered 404) for a name that is not a catalog layer.

    Examples
    --------
    >>> reference_spec("projects").title_en
    '2023 major projects'
    >>> reference_spec("project")
    Traceback (most recent call last):
    ...
    layers.errors.LayerNotFound: 'project' is not a reference layer of the atlas
    """
    try:
        return get_spec(layer)
    except KeyError:
        ids = [s.id for s in CATALOG]
        raise LayerNotFound(
            f"{str(layer)[:64]!r} is not a reference layer of the atlas",
            "reference layers: " + ", ".join(ids), message_zh=f"“{str(layer)[:64]}”不是图集的参考图层",
            hint_zh="参考图层：" + "、".join(ids)) from None


def _rows(gdf: pd.DataFrame) -> np.ndarray:
    return gdf[ROW_COLUMN].to_numpy() if ROW_COLUMN in gdf else np.arange(1, len(gdf) + 1)


def _join_parts(geom: shapely.MultiLineString) -> shapely.LineString:
    """A multi-line as one line: parts chained in order (each turned to continue the
    last), gaps bridged by straight lines."""
    parts = [np.asarray(p.coords) for p in geom.geoms if not p.is_empty]
    chain = [parts[0]]
    if len(parts) > 1:
        # Orient the first part towards the second, then each towards its predecessor.
        a, b = parts[0], parts[1]
        if min(np.hypot(*(a[0] - b[0])), np.hypot(*(a[0] - b[-1]))) < \
                min(np.hypot(*(a[-1] - b[0])), np.hypot(*(a[-1] - b[-1]))):
            chain[0] = a[::-1]
    for p in parts[1:]:
        end = chain[-1][-1]
        if np.hypot(*(p[-1] - end)) < np.hypot(*(p[0] - end)):
            p = p[::-1]
        chain.append(p)
    return shapely.LineString(np.vstack(chain))


def conform_geometries(gdf: gpd.GeoDataFrame, spec: LayerSpec, issues: Issues, *,
                       where: str = "row") -> gpd.GeoDataFrame:
    """Check the geometry type against the catalog and simplify what is safely simplified.

    A file of another geometry type is one file-level ``wrong_geometry`` error (with
    the layers it would fit); single rows of another type are row errors.  One-part
    multi-geometries become simple ones; a point layer's multi-point rows of
    several points are errors; the pieces of a river (or other line) are joined in
    order, bridging gaps, with a warning.  The scenic road keeps its multi-lines
    (each becomes a segment when derived).
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return gdf
    types = np.array([g.geom_type if p else "" for g, p in zip(geoms, present, strict=True)],
                     dtype=object)
    family = np.array([_FAMILY.get(t, t) for t in types], dtype=object)
    want = spec.geometry_type
    wrong = present & (family != want)
    rows = _rows(gdf)
    if wrong.all() or wrong[present].mean() > 0.5:
        got = pd.Series(family[present]).value_counts().index[0]
        fits = [s.id for s in CATALOG if s.geometry_type == got]
        w, wz = _WORDS.get(want, (want, want))
        g, gz = _WORDS.get(got, (got, got))
        alt = {"Point": "or give a table with 经度/纬度 or a file of points",
               "LineString": "or a shapefile/GeoJSON/GPX of lines",
               "Polygon": "or a shapefile/GeoJSON of polygons"}[want]
        issues.error("wrong_geometry", f"the file holds {g} ({got}), but {spec.title_en} "
                     f"({spec.id}) are {w} ({want})",
                     f"文件中是{gz}要素（{got}），而“{spec.title_zh}”是{wz}图层（{want}）",
                     hint=(f"choose a layer of {g}: {', '.join(fits)}; " if fits else "")
                     + alt, hint_zh=(f"{gz}要素可替换：{'、'.join(fits)}；" if fits else "")
                     + f"或上传{wz}数据", detail={"found": got, "expected": want,
                                                 "layers": fits})
        return gdf
    for i in np.flatnonzero(wrong)[:200]:
        issues.error("wrong_geometry", f"this feature is a {types[i]}, but {spec.id} takes "
                     f"{want}s", f"该要素为{types[i]}，而此图层为{want}", row=int(rows[i]),
                     where=where, value=types[i])
    out = geoms.copy()
    multi = present & ~wrong & np.isin(types, ["MultiPoint", "MultiLineString", "MultiPolygon"])
    parts = shapely.get_num_geometries(geoms)
    single = multi & (parts == 1)
    out[single] = shapely.get_geometry(geoms[single], 0)
    if want == "Point":
        for i in np.flatnonzero(multi & (parts > 1))[:200]:
            issues.error("multi_point", f"the row holds {parts[i]} points; one point per row",
                         f"该行有{parts[i]}个点，每行只能一个点", row=int(rows[i]), where=where,
                         hint="split it into one row per point", hint_zh="请拆分为每行一个点")
    if want == "LineString":
        many = np.flatnonzero(multi & (parts > 1))
        if len(many):
            merged = shapely.line_merge(geoms[many])
            for k, i in enumerate(many):
                m = merged[k]
                if m.geom_type == "LineString":
                    out[i] = m
                elif spec.id != "scenic_road":
                    line = _join_parts(m)
                    gap_m = _gap_m(m, line)
                    out[i] = line
                    issues.warn("parts_joined", f"the line has {len(m.geoms)} pieces: joined in "
                                f"order, bridging {gap_m / 1000:.1f} km of gaps",
                                f"该线由{len(m.geoms)}段组成，已按顺序连接（跨越空隙{gap_m / 1000:.1f}公里）",
                                row=int(rows[i]), where=where,
                                detail={"pieces": len(m.geoms), "gap_km": round(gap_m / 1000, 2)})
                else:
                    out[i] = m
    return gdf.set_geometry(gpd.GeoSeries(out, index=gdf.index, crs=gdf.crs))


def _gap_m(multi: shapely.MultiLineString, joined: shapely.LineString) -> float:
    """Metres the joined line adds to the pieces (the bridged gaps), measured in DISTANCE_CRS."""
    pieces = float(measure.length_km([multi])[0])
    whole = float(measure.length_km([joined])[0])
    return max(0.0, (whole - pieces) * 1000)


def league_area(admin: gpd.GeoDataFrame | None = None,
                tolerance_m: float = LEAGUE_TOLERANCE_M) -> shapely.Geometry:
    """The League (from the admin layer, else :data:`geo.validate.LEAGUE_BBOX`), widened by
    ``tolerance_m``, in :data:`geo.crs.DISTANCE_CRS`.

    Examples
    --------
    >>> a = league_area(None, 0)
    >>> round(a.area / 1e6, -4)  # the bounding box, km²
    410000.0
    """
    outline = league_outline(admin)
    if outline is None:
        outline = shapely.box(*LEAGUE_BBOX)
    return measure.to_metric([outline])[0].buffer(tolerance_m)


def _empty(values: np.ndarray) -> np.ndarray:
    return np.array([v is None or (isinstance(v, float) and np.isnan(v)) or
                     (isinstance(v, str) and not v.strip()) for v in values], dtype=bool)


def validate_layer(gdf: gpd.GeoDataFrame, spec: LayerSpec, *, issues: Issues | None = None,
                   mapping: ColumnMapping | None = None, where: str = "row",
                   admin: gpd.GeoDataFrame | None = None, context: Mapping[str, Any] | None = None,
                   read_report: Report | None = None,
                   tolerance_m: float = LEAGUE_TOLERANCE_M) -> Issues:
    """Check a (mapped, placed, derived) replacement of ``spec`` row by row.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer as it would be stored (with ``_row`` from the mapping).
    spec : LayerSpec
        The catalog layer it replaces.
    issues : Issues, optional
        Where to add the findings (and what is already known: rows that could not be
        placed are not reported again for their missing geometry).
    mapping : ColumnMapping, optional
        Which column fed which field (names the column in each issue; a required
        field without a column is one file-level error).
    where : str
        What ``_row`` counts.
    admin : GeoDataFrame, optional
        The admin layer (the League outline); else the League's bounding box.
    context : mapping, optional
        Other current layers by id (``basins`` for the rivers' basin ids …).
    read_report : geo.report.Report, optional
        The read report: a sheet's 合计 row is compared with the sum of its rows.

    Returns
    -------
    Issues
    """
    issues = issues if issues is not None else Issues()
    context = context or {}
    rows = _rows(gdf)
    col = (lambda f: mapping.column(f)) if mapping is not None else (lambda f: None)
    n = len(gdf)
    if n == 0:
        issues.error("no_rows", "the file has no rows to store", "文件中没有可保存的行",
                     hint="check the sheet (the right one?) and the report of dropped rows",
                     hint_zh="请检查工作表是否正确，以及被舍弃行的说明")
        return issues

    # Required fields: a missing column is one error, empty cells one per row.
    for f in spec.fields:
        if not f.required or f.derived or f.name not in gdf:
            continue
        empty = _empty(gdf[f.name].to_numpy(dtype=object))
        if mapping is not None and col(f.name) is None and f.name != "id":
            issues.error("required_column_missing", f"no column gives {f.label_en.lower()} "
                         f"({f.name}), which {spec.title_en} need", f"缺少必填列“{f.label_zh}”",
                         hint=f"add a column headed {f.label_zh}" + (f"({f.unit})" if f.unit else "")
                         + f", or map one: mapping={{\"{f.name}\": \"<your column>\"}}",
                         hint_zh=f"请添加“{f.label_zh}”列，或在列映射中指定", field=f.name)
            continue
        already = {(i.row, i.field) for i in issues.errors}
        for i in np.flatnonzero(empty):
            if (int(rows[i]), f.name) in already:
                continue  # unreadable there: said already
            issues.error("required_missing", f"{f.label_en} is empty", f"{f.label_zh}为空",
                         hint=f"fill in {f.label_en.lower()}", hint_zh=f"请填写{f.label_zh}",
                         row=int(rows[i]), where=where, column=col(f.name), field=f.name)

    # Coded values (when the rows did not come through the mapping, or were derived).
    for f in spec.fields:
        if not f.codes or f.name not in gdf:
            continue
        allowed = set(f.code_values())
        vals = gdf[f.name].to_numpy(dtype=object)
        bad = ~_empty(vals) & np.array([v not in allowed for v in vals], dtype=bool)
        for i in np.flatnonzero(bad)[:200]:
            if any(x.row == int(rows[i]) and x.field == f.name for x in issues.errors):
                continue
            issues.error("unknown_code", f"{plain(vals[i])!r} is not a valid {f.label_en.lower()}",
                         f"“{plain(vals[i])}”不是有效的{f.label_zh}",
                         hint="use one of: " + ", ".join(f.code_values()),
                         hint_zh="可填：" + "、".join(c.label_zh for c in f.codes),
                         row=int(rows[i]), where=where, column=col(f.name), field=f.name,
                         value=vals[i])

    # Geometry: present, and inside the League (with a tolerance).
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    placed_err = {i.row for i in issues.errors if i.code == "unplaceable"}
    for i in np.flatnonzero(missing):
        if int(rows[i]) in placed_err:
            continue
        issues.error("no_geometry", "the row has no position", "该行没有位置",
                     hint="add 经度/纬度, or a county (旗县市区) and place (地点)"
                     if spec.geometry_type == "Point" else "the feature has no geometry",
                     hint_zh="请补充经度/纬度，或旗县市区和地点" if spec.geometry_type == "Point"
                     else "该要素没有几何", row=int(rows[i]), where=where)
    ok = ~missing
    if ok.any():
        area = league_area(admin, tolerance_m)
        shapely.prepare(area)
        metric = measure.to_metric(geoms[ok])
        inside = shapely.intersects(area, metric)
        far = np.flatnonzero(ok)[~inside]
        if len(far):
            dist = shapely.distance(league_area(admin, 0), metric[~inside]) / 1000
            for k, i in enumerate(far[:200]):
                c = shapely.get_coordinates(geoms[i])[0]
                issues.error("outside_league", f"the feature at ({c[0]:.4f}, {c[1]:.4f}) lies "
                             f"{dist[k]:.0f} km outside the League",
                             f"位置（{c[0]:.4f}, {c[1]:.4f}）在锡林郭勒盟外{dist[k]:.0f}公里",
                             hint="check the coordinates: degrees of longitude and latitude the "
                             "right way round, the CRS of X/Y columns (crs=EPSG:4548 …), datum="
                             "gcj02 for AMap/Tencent coordinates",
                             hint_zh="请核对坐标：经纬度是否颠倒、X/Y列的坐标系（如EPSG:4548）、"
                             "高德/腾讯坐标请声明datum=gcj02", row=int(rows[i]), where=where,
                             value=[round(float(c[0]), 6), round(float(c[1]), 6)],
                             detail={"distance_km": round(float(dist[k]), 1)})

    # Ids unique.
    if "id" in gdf:
        ids = gdf["id"].to_numpy(dtype=object)
        first: dict[str, int] = {}
        for i, v in enumerate(ids):
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            key = str(v)
            if key in first:
                issues.error("duplicate_id", f"id {key!r} repeats {where} {first[key]}",
                             f"编号“{key}”与第{first[key]}行重复",
                             hint="give every row its own id, or leave the id column out to have "
                             "ids generated from the names", hint_zh="请为每行填写不同的编号，或删除编号列以自动生成",
                             row=int(rows[i]), where=where, column=col("id"), field="id", value=key,
                             detail={"first_row": first[key]})
            else:
                first[key] = int(rows[i])
    if "name_zh" in gdf and spec.id == "projects":
        names = gdf["name_zh"].fillna("").astype(str)
        dup = names.duplicated(keep="first") & (names != "")
        firsts = {v: int(r) for v, r in zip(names[~dup], rows[~dup.to_numpy()], strict=True)}
        for i in np.flatnonzero(dup.to_numpy())[:200]:
            issues.warn("duplicate_name", f"the project name repeats {where} {firsts.get(names.iat[i])}",
                        f"项目名称与第{firsts.get(names.iat[i])}行重复", hint="a project listed twice?",
                        hint_zh="是否重复填报？", row=int(rows[i]), where=where,
                        column=col("name_zh"), field="name_zh", value=names.iat[i])

    _check_numbers(gdf, spec, issues, rows, where, col)
    if spec.id == "projects":
        check_amount_units(gdf, issues, mapping=mapping)
        check_totals_row(gdf, issues, mapping=mapping, read_report=read_report)
    if spec.id == "rivers":
        _check_rivers(gdf, issues, rows, where, context.get("basins"), col)
    return issues


def _check_numbers(gdf: gpd.GeoDataFrame, spec: LayerSpec, issues: Issues, rows: np.ndarray,
                   where: str, col) -> None:
    for f in spec.fields:
        if f.kind not in ("float", "int") or f.derived or f.name not in gdf:
            continue
        v = pd.to_numeric(gdf[f.name], errors="coerce").to_numpy(dtype="float64")
        for i in np.flatnonzero(v < 0)[:200]:
            issues.error("negative", f"{f.label_en} is negative ({v[i]:g})",
                         f"{f.label_zh}为负数（{v[i]:g}）", hint="check the value",
                         hint_zh="请核对数值", row=int(rows[i]), where=where, column=col(f.name),
                         field=f.name, value=float(v[i]))
    if {"total_investment_yi", "plan_2023_yi"} <= set(gdf.columns):
        t = pd.to_numeric(gdf["total_investment_yi"], errors="coerce").to_numpy(dtype="float64")
        p = pd.to_numeric(gdf["plan_2023_yi"], errors="coerce").to_numpy(dtype="float64")
        for i in np.flatnonzero((p > t + 0.005) & (t >= 0))[:200]:
            issues.warn("plan_exceeds_total", f"the 2023 plan ({p[i]:g} 亿元) exceeds the total "
                        f"investment ({t[i]:g} 亿元)", f"2023年计划投资（{p[i]:g}亿元）超过总投资（{t[i]:g}亿元）",
                        hint="check the two amounts (and their units)", hint_zh="请核对两项金额及单位",
                        row=int(rows[i]), where=where, column=col("plan_2023_yi"),
                        field="plan_2023_yi", value=float(p[i]))


def check_amount_units(gdf: pd.DataFrame, issues: Issues, *, mapping: ColumnMapping | None = None,
                       seed: Mapping[str, Any] = SEED_PROJECT_TOTALS) -> None:
    """Flag amounts given in 万元 where 亿元 is expected (about 10⁴ times too large).

    The registry's sums are compared with the seed article's table; a sum between
    :data:`WAN_RATIO` times the seed's is a unit error (an error: nothing would be
    right on any page).  Without that, single projects above :data:`MAX_PROJECT_YI`
    亿元 are warnings.

    Examples
    --------
    >>> iss = Issues()
    >>> check_amount_units(pd.DataFrame({"total_investment_yi": [15_680_000.0],
    ...                                  "plan_2023_yi": [3_650_000.0]}), iss)
    >>> sorted(i.code for i in iss.errors), iss.errors[0].detail["ratio"]
    (['amount_unit', 'amount_unit'], 10000.0)
    """
    rows = _rows(gdf)
    for name, seed_key in (("total_investment_yi", "total_investment_yi"),
                           ("plan_2023_yi", "plan_2023_yi")):
        if name not in gdf:
            continue
        v = pd.to_numeric(gdf[name], errors="coerce").to_numpy(dtype="float64")
        total = float(np.nansum(v))
        expected = float(seed[seed_key])
        ratio = total / expected if expected else 0.0
        column = mapping.column(name) if mapping is not None else None
        unit = mapping.matches[name].unit if mapping is not None and name in mapping.matches \
            else "亿元"
        if WAN_RATIO[0] <= ratio <= WAN_RATIO[1]:
            label = "total investment" if name == "total_investment_yi" else "2023 planned investment"
            label_zh = "总投资" if name == "total_investment_yi" else "2023年计划投资"
            issues.error("amount_unit", f"{label} sums to {total:,.0f} 亿元, about "
                         f"{ratio:,.0f} times the seed article's {expected:,.0f} 亿元: the amounts "
                         f"look like 万元 (the column is read as {unit})",
                         f"{label_zh}合计{total:,.0f}亿元，约为原文{expected:,.0f}亿元的{ratio:,.0f}倍："
                         f"金额似为万元（该列按{unit}读取）",
                         hint=f"head the column {label_zh}(万元) to have it converted, or divide "
                         "the amounts by 10,000", hint_zh=f"请将列名改为“{label_zh}(万元)”以自动换算，或将金额除以10000",
                         column=column, field=name, value=round(total, 2),
                         suggestion=round(total / 10_000, 2),
                         detail={"sum": round(total, 2), "seed": expected,
                                 "ratio": round(ratio, -2) if ratio > 100 else round(ratio, 2)})
            continue
        for i in np.flatnonzero(v > MAX_PROJECT_YI)[:200]:
            issues.warn("amount_implausible", f"{v[i]:,.2f} 亿元 for one project is more than "
                        f"{MAX_PROJECT_YI:,.0f} 亿元: a 万元 figure?",
                        f"单个项目{v[i]:,.2f}亿元超过{MAX_PROJECT_YI:,.0f}亿元：是否为万元？",
                        hint="check the amount and the column's unit", hint_zh="请核对金额及单位",
                        row=int(rows[i]), column=column, field=name, value=float(v[i]))


def check_totals_row(gdf: pd.DataFrame, issues: Issues, *, mapping: ColumnMapping | None,
                     read_report: Report | None) -> None:
    """Compare a sheet's own 合计 row with the sum of its rows (a warning when they differ)."""
    if read_report is None or mapping is None:
        return
    totals = read_report.source.get("totals") or []
    if not totals:
        return
    last = totals[-1]  # the grand total closes the sheet; 小计 rows come before it
    for name in ("total_investment_yi", "plan_2023_yi"):
        m = mapping.matches.get(name)
        if m is None or name not in gdf or m.column not in last:
            continue
        said, bad = parse_amounts([last[m.column]], m.unit, "亿元")
        if bad[0] or not np.isfinite(said[0]):
            continue
        total = float(np.nansum(pd.to_numeric(gdf[name], errors="coerce")))
        if abs(total - said[0]) > max(0.01, 0.005 * abs(said[0])):
            where = read_report.source.get("row_kind", "row")
            issues.warn("totals_row_differs", f"the sheet's totals row says {said[0]:,.2f} 亿元, "
                        f"its rows sum to {total:,.2f} 亿元", f"表中合计行为{said[0]:,.2f}亿元，"
                        f"各行之和为{total:,.2f}亿元", hint="a row missing, or counted twice?",
                        hint_zh="是否漏填或重复了某行？", row=last.get(where), where=where,
                        column=m.column, field=name, value=round(said[0], 2),
                        suggestion=round(total, 2))


def _check_rivers(gdf: gpd.GeoDataFrame, issues: Issues, rows: np.ndarray, where: str,
                  basins: gpd.GeoDataFrame | None, col) -> None:
    ids = set(gdf["id"].dropna().astype(str)) if "id" in gdf else set()
    if "flows_into" in gdf:
        for i, v in enumerate(gdf["flows_into"].to_numpy(dtype=object)):
            if v not in (None, "") and str(v) not in ids:
                issues.warn("unknown_river", f"flows into {v!r}, which is not a river of the file",
                            f"汇入的“{v}”不是文件中的河流", hint="use the id of a river in the file",
                            hint_zh="请填写文件中河流的编号", row=int(rows[i]), where=where,
                            column=col("flows_into"), field="flows_into", value=v)
    if basins is not None and "basin_id" in gdf and "id" in basins:
        known = set(basins["id"].astype(str))
        for i, v in enumerate(gdf["basin_id"].to_numpy(dtype=object)):
            if v not in (None, "") and str(v) not in known:
                issues.warn("unknown_basin", f"basin {v!r} is not in the basins layer",
                            f"流域“{v}”不在流域图层中", hint="basins: " + ", ".join(sorted(known)),
                            hint_zh="流域编号：" + "、".join(sorted(known)), row=int(rows[i]),
                            where=where, column=col("basin_id"), field="basin_id", value=v)


def errors_from_read(report: Report, issues: Issues) -> None:
    """Rows the reader dropped (unreadable coordinates, bad geometry …) as errors.

    Replacing a registry must not silently lose rows: a row dropped while reading is
    an error of the replacement (blank, totals, group and note rows are not rows).
    """
    skip = {"blank_row", "totals_row", "group_row", "note_row"}
    where = report.source.get("row_kind", "row")
    for e in report.dropped:
        if e.code in skip:
            continue
        row = e.detail.get(where)
        if row is None and e.index is not None:
            row = int(e.index) + 1
        issues.error(f"dropped_{e.code}", e.message, e.message_zh or e.message,
                     hint="correct the row in the file", hint_zh="请修改文件中的该行",
                     row=row, where=where if e.detail.get(where) is not None else "feature",
                     detail={k: plain(v) for k, v in e.detail.items() if k != where})
    for code in report.codes("dropped") - skip:
        kept = sum(1 for e in report.dropped if e.code == code)
        extra = report.count("dropped", code) - kept
        for _ in range(extra):
            issues.error(f"dropped_{code}", "a row was dropped while reading", "读取时舍弃了一行")
