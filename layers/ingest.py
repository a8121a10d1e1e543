"""The one ingest path: a user's file → a validated, storable layer → a saved version.

The upload API, the command line and the data page all call this module:

1. :func:`read_upload` reads any format :func:`geo.read.read_file` knows (repaired and
   reported), then :func:`make_storable` adapts it to what every store accepts
   (column names SQLite accepts, no NUL characters or lone surrogates, 2D geometries),
   recording each change in the read report;
2. :func:`user_meta` builds the version's :class:`~layers.spec.LayerMeta`;
3. :func:`save_user_layer` writes it with :meth:`layers.store.Store.put` — one
   transaction, so a failed or killed write leaves the previous version whole.

Errors are the store's (:mod:`layers.errors`) and the reader's
(:class:`geo.errors.GeoInputError`); the web layer maps them to HTTP.

Examples
--------
>>> storable_name(" Name ", {"name"})
'Name_2'
>>> storable_name("geom", set())
'geom_'
>>> import tempfile, os
>>> from layers.open import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "i.gpkg"))
>>> upload = read_upload(b"lon,lat,name\\n116.1,43.9,a\\n", "sites.csv")
>>> info = save_user_layer(store, "my_sites", upload,
...                        user_meta("my_sites", upload, title="站点"))
>>> info.count, info.meta["title"], info.meta["source_en"]
(1, '站点', 'User upload (sites.csv)')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo.read import read_file
from geo.read.archive import Limits
from geo.report import Report

from .catalog import layer_ids
from .errors import CatalogLayerError, UnusableLayer
from .records import LayerInfo, validate_layer_name
from .spec import LayerMeta
from .store import Store

#: More properties than this is a spreadsheet, not a layer (SQLite allows 2000 columns).
MAX_PROPERTIES = 500
#: Features with more vertices than this get a warning: they are stored whole, the
#: map simplifies them per zoom, but downloads stay heavy.
HEAVY_VERTICES = 100_000


@dataclass
class Upload:
    """A file read and made storable, with its report.

    Attributes
    ----------
    gdf : geopandas.GeoDataFrame
        The features in EPSG:4326, ready for :meth:`Store.put`.
    report : geo.report.Report
        What was repaired, dropped or warned about while reading and adapting.
    filename : str or None
        The file's name as the user gave it.
    datum : str or None
        The datum the user declared (converted to WGS 84 on reading).
    """

    gdf: gpd.GeoDataFrame
    report: Report
    filename: str | None = None
    datum: str | None = None


def clean_text(value: Any) -> Any:
    """Text without NUL characters or lone surrogates (other values unchanged).

    NUL ends a C string in GDAL's readers and PostgreSQL text cannot hold it.

    Examples
    --------
    >>> clean_text("a\\x00b"), clean_text(3)
    ('ab', 3)
    """
    if isinstance(value, str):
        value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates from a JSON "\\ud800" escape
            return value.encode("utf-8", "replace").decode("utf-8")
    return value


def storable_name(name: Any, taken: set[str]) -> str:
    """A column name SQLite accepts and that is unique (case-insensitively) among ``taken``.

    ``taken`` holds lowercased names already used and is updated.
    """
    base = str(name).replace("\x00", "").strip() or "field"
    base = base.encode("utf-8", "replace").decode("utf-8")  # lone surrogates
    if base.lower() in ("fid", "geom"):
        base += "_"  # the store's own columns
    out, n = base, 1
    while out.lower() in taken:
        n += 1
        out = f"{base}_{n}"
    taken.add(out.lower())
    return out


def make_storable(gdf: gpd.GeoDataFrame, report: Report) -> gpd.GeoDataFrame:
    """Adapt a read layer to what any store accepts, recording each change in ``report``.

    Column names become unique case-insensitively (SQLite's rule) and lose NUL
    characters; text loses NUL characters and lone surrogates; integers beyond 64
    bits become text; Z/M coordinates are dropped (the store keeps 2D, as the maps do).

    Raises
    ------
    UnusableLayer
        When there are no features or too many properties (answered 422).
    """
    geom_name = gdf.geometry.name
    props = [c for c in gdf.columns if c != geom_name]
    if len(gdf) == 0:
        raise UnusableLayer(
            "the file holds no usable features",
            "check that the file has geometries or coordinate columns (lon/lat, 经度/纬度, "
            "x/y); the report lists every dropped row",
            code="no_features", message_zh="文件里没有可用的要素",
            hint_zh="请检查文件是否有几何图形或经纬度列（经度/纬度、lon/lat、x/y）；"
                    "报告里列出了每一行被舍弃的原因")
    if len(props) > MAX_PROPERTIES:
        raise UnusableLayer(
            f"the file has {len(props)} attribute columns; at most {MAX_PROPERTIES} are stored",
            "keep only the columns you need, or split the table", code="too_many_columns",
            message_zh=f"文件有 {len(props)} 个属性列，最多只能保存 {MAX_PROPERTIES} 个",
            hint_zh="只保留需要的列，或把表格拆开")
    taken: set[str] = set()
    renames = {c: storable_name(c, taken) for c in props}
    changed = {old: new for old, new in renames.items() if str(old) != new}
    out = gdf.rename(columns=changed) if changed else gdf.copy()
    for old, new in changed.items():
        report.repair("renamed_column", f"column {str(old)!r} stored as {new!r}",
                      f"字段 {str(old)!r} 存为 {new!r}", old=str(old), new=new)
    for col in renames.values():
        series = out[col]
        if series.dtype.kind == "O":
            out[col] = series.map(clean_text)
        elif series.dtype.kind == "u" and len(series) and series.max() > np.iinfo("int64").max:
            out[col] = series.astype(str)
    geoms = out.geometry.values
    has_z = shapely.has_z(geoms)
    if has_z.any():
        out = out.set_geometry(shapely.force_2d(geoms), crs=out.crs)
        report.repair("dropped_z", f"{int(has_z.sum())} features had heights (Z); "
                      "they are stored in 2D", f"{int(has_z.sum())} 个要素含高程(Z)，按二维保存")
    vertices = shapely.get_num_coordinates(out.geometry.values)
    heavy = np.flatnonzero(vertices > HEAVY_VERTICES)
    for i in heavy[:10]:
        report.warn("heavy_feature", f"feature {int(i)} has {int(vertices[i]):,} vertices; the "
                    "map simplifies it per zoom but downloads stay large",
                    f"要素 {int(i)} 有 {int(vertices[i]):,} 个顶点", index=int(i))
    return out


def read_upload(source: bytes | str | os.PathLike, filename: str | None = None, *,
                layer: str | None = None, datum: str | None = None, crs: str | None = None,
                limits: Limits | None = None) -> Upload:
    """Read a user's file (bytes or a path) and make it storable.

    Parameters
    ----------
    source : bytes or path
        The file's contents, or its path.
    filename : str, optional
        Its name (says the format when ``source`` is bytes).
    layer : str, optional
        A layer/sheet inside a GeoPackage, KML, workbook or zip.
    datum, crs : str, optional
        What the user declared about the coordinates.
    limits : geo.read.archive.Limits, optional
        Upload limits (unpacked zip size …) from the app's settings.
    """
    result = read_file(source, filename=filename, layer=layer, datum=datum, crs=crs,
                       limits=limits)
    gdf = make_storable(result.gdf, result.report)
    if filename is None and isinstance(source, (str, os.PathLike)):
        filename = os.path.basename(os.fspath(source))
    return Upload(gdf=gdf, report=result.report, filename=filename, datum=datum)


def user_meta(name: str, upload: Upload, *, title: str | None = None,
              description: str | None = None, author: str | None = None,
              source: str | None = None) -> LayerMeta:
    """The metadata of a user layer version read from ``upload``."""
    uploaded = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    report = upload.report.to_dict()
    filename = upload.filename
    datum = upload.datum
    return LayerMeta(
        title=(title or name)[:200],
        description=(description or "")[:2000],
        source=source or "用户上传 user upload",
        source_en="User upload" + (f" ({filename})" if filename else ""),
        source_file=filename or "",
        datum="WGS 84 (EPSG:4326)" + (f", converted from {datum} on upload" if datum else ""),
        date=uploaded[:10],
        author=(author or "")[:200],
        uploaded=uploaded,
        report={"counts": report["counts"], "source": report.get("source", {})},
    )


def check_user_layer_name(name: str) -> str:
    """``name`` if a user layer may be called so (valid, not a catalog layer's id)."""
    validate_layer_name(name)
    if name in layer_ids():
        raise CatalogLayerError(
            f"{name!r} is a catalog layer and cannot be replaced or deleted through the API",
            f"replace the reference layer through PUT /api/reference/{name} (it keeps "
            f"versions you can restore); or save your own layer under another name, "
            f"e.g. '{name}_mine'",
            message_zh=f"{name!r} 是图集的参考图层，不能作为用户图层替换或删除",
            hint_zh="请在“数据管理”页替换参考图层（保留可恢复的版本），"
                    f"或者用另一个名称保存，例如 {name}_mine")
    return name


def save_user_layer(store: Store, name: str, upload: Upload, meta: LayerMeta, *,
                    create_only: bool = False) -> LayerInfo:
    """Write ``upload`` as the next version of user layer ``name``.

    Raises :class:`~layers.errors.LayerExists` for ``create_only`` when the layer is
    there (decided inside the store's write transaction).
    """
    check_user_layer_name(name)
    return store.put(name, upload.gdf, meta=meta.to_dict(), create_only=create_only)
