"""Saving users' layers: ``PUT /api/layers/<name>``, ``POST /api/layers``, ``DELETE /api/layers/<name>``.

An upload is read by :func:`geo.read.read_file` (any format it knows, repaired
and reported), made storable (column names SQLite accepts, no lone surrogates,
2D geometries) and saved with :meth:`layers.store.Store.put` — one transaction,
so a failed or killed write leaves the previous version whole.  The answer
carries the read report.  Every route here needs the write token
(:func:`webmap.security.require_write_token`); the listing (``GET /api/layers``)
lives in :mod:`webmap.layers_api`.

Catalog layers (``layers.catalog``) are loaded from ``data/xilingol`` and cannot
be replaced or deleted through the API: that answers 409.

Request forms
    * multipart/form-data: field ``file`` (the file), optional ``name`` (required
      for POST), ``title``, ``description``, ``datum`` (``wgs84``/``cgcs2000``/``gcj02``/``bd09``),
      ``crs`` (e.g. ``EPSG:4490``), ``layer`` (a layer inside a GeoPackage/KML);
    * a raw body (GeoJSON, zip, CSV …) with the same options as query parameters,
      plus ``filename`` when the content type does not say the format.

Examples
--------
>>> storable_name(" Name ", {"name"})
'Name_2'
>>> storable_name("geom", set())
'geom_'
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from flask import Blueprint, Response, jsonify, request, url_for

from layers.catalog import layer_ids
from layers.store import LayerInfo, LayerNotFound, validate_layer_name

from . import get_store
from .errors import ApiError
from .security import require_write_token

bp = Blueprint("layers_write", __name__)
bp.before_request(require_write_token)

#: More properties than this is a spreadsheet, not a layer (SQLite allows 2000 columns).
MAX_PROPERTIES = 500

#: Features with more vertices than this get a warning: they are stored whole, the
#: map simplifies them per zoom, but downloads stay heavy.
HEAVY_VERTICES = 100_000

_EXT_BY_MIMETYPE = {
    "application/json": ".geojson",
    "application/geo+json": ".geojson",
    "text/csv": ".csv",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "application/vnd.google-earth.kml+xml": ".kml",
    "application/vnd.google-earth.kmz": ".kmz",
    "application/gpx+xml": ".gpx",
    "application/geopackage+sqlite3": ".gpkg",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}

#: Metadata keys that describe where a user layer came from.
PROVENANCE_KEYS = ("source", "source_en", "source_file", "datum", "date", "licence", "accuracy")

_NAME_HINT = ("layer names are 1-64 lowercase letters, digits, '_' or '-', starting with a "
              "letter or digit, e.g. 'my_sites_2023'")


def _option(key: str) -> str | None:
    value = request.form.get(key) if request.mimetype == "multipart/form-data" else None
    value = value if value not in (None, "") else request.args.get(key)
    value = _clean_text(value.strip()) if isinstance(value, str) else None
    return value or None


def _upload() -> tuple[bytes, str | None]:
    """The uploaded bytes and their file name (multipart ``file`` or the raw body)."""
    if request.mimetype == "multipart/form-data":
        storage = request.files.get("file")
        if storage is None and len(request.files) == 1:
            storage = next(iter(request.files.values()))
        if storage is None:
            raise ApiError("no file in the upload", 400,
                           "send the file in a multipart/form-data field called 'file', "
                           "e.g. curl -F file=@sites.geojson")
        return storage.read(), _clean_text(storage.filename) or _option("filename")
    data = request.get_data(cache=False)
    filename = _option("filename")
    if filename is None:
        ext = _EXT_BY_MIMETYPE.get(request.mimetype)
        filename = f"upload{ext}" if ext else None
    return data, filename


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


def _clean_text(value: Any) -> Any:
    if isinstance(value, str):
        # NUL ends a C string in GDAL's readers and PostgreSQL text cannot hold it.
        value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates from a JSON "\ud800" escape
            return value.encode("utf-8", "replace").decode("utf-8")
    return value


def make_storable(gdf: gpd.GeoDataFrame, report: Any) -> gpd.GeoDataFrame:
    """Adapt a read layer to what any store accepts, recording each change in ``report``.

    Column names become unique case-insensitively (SQLite's rule) and lose NUL
    characters; text loses NUL characters and lone surrogates; integers beyond 64 bits become text;
    Z/M coordinates are dropped (the store keeps 2D, as the maps do).

    Raises
    ------
    ApiError
        422 when there are no features or too many properties.
    """
    geom_name = gdf.geometry.name
    props = [c for c in gdf.columns if c != geom_name]
    if len(gdf) == 0:
        raise ApiError("the file holds no usable features", 422,
                       "check that the file has geometries or coordinate columns "
                       "(lon/lat, 经度/纬度, x/y); the report lists every dropped row")
    if len(props) > MAX_PROPERTIES:
        raise ApiError(f"the file has {len(props)} attribute columns; at most "
                       f"{MAX_PROPERTIES} are stored", 422,
                       "keep only the columns you need, or split the table")
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
            out[col] = series.map(_clean_text)
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


def _catalog_guard(name: str) -> None:
    if name in layer_ids():
        raise ApiError(
            f"{name!r} is a catalog layer and cannot be replaced or deleted through the API",
            409,
            "catalog layers come from data/xilingol and are reloaded by "
            f"'python -m layers.prepare'; save your version under another name, "
            f"e.g. '{name}_mine'",
        )


def _layer_json(info: LayerInfo, report: dict | None = None, created: bool = False
                ) -> dict[str, Any]:
    bounds = [None if not np.isfinite(b) else b for b in info.bounds]
    out: dict[str, Any] = {
        "name": info.name,
        "title": info.meta.get("title", info.name),
        "created": created,
        "count": info.count,
        "bounds": bounds,
        "version": info.version,
        "updated": info.updated,
        "filename": info.meta.get("filename"),
        "provenance": {k: info.meta[k] for k in PROVENANCE_KEYS if k in info.meta},
        "links": {
            "self": url_for("layers_write.put_layer", name=info.name),
            "features": f"/api/layers/{info.name}/features",
            "ogcapi": f"/ogcapi/collections/{info.name}/items",
        },
    }
    if report is not None:
        out["report"] = report
    return out


def save_layer(name: str, *, create_only: bool = False) -> Response:
    """Read the request's upload and store it as layer ``name``; the JSON answer."""
    validate_layer_name(name)
    _catalog_guard(name)
    store = get_store()
    existed = store.exists(name)
    if existed and create_only:
        raise ApiError(f"a layer called {name!r} exists already", 409,
                       f"PUT /api/layers/{name} replaces it; or choose another name")
    data, filename = _upload()
    if not data:
        raise ApiError("the upload is empty", 400,
                       "choose a GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, GPX, CSV "
                       "or XLSX file that is not empty")
    from geo.read import read_file  # imported here: the reader pulls in GDAL drivers

    datum = _option("datum")
    result = read_file(data, filename=filename, layer=_option("layer"), datum=datum,
                       crs=_option("crs"))
    gdf = make_storable(result.gdf, result.report)
    report = result.report.to_dict()
    uploaded = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Flat keys, as the pages (webmap.layers_api) and OGC API read a user layer's provenance.
    meta: dict[str, Any] = {
        "title": (_option("title") or name)[:200],
        "filename": filename,
        "source_file": filename,
        "uploaded": uploaded,
        "source": "用户上传 user upload",
        "source_en": "User upload" + (f" ({filename})" if filename else ""),
        "datum": "WGS 84 (EPSG:4326)" + (f", converted from {datum} on upload" if datum else ""),
        "date": uploaded[:10],
        "report": {"counts": report["counts"], "source": report.get("source", {})},
        "user": True,
    }
    description = _option("description")
    if description:
        meta["description"] = description[:2000]
    info = store.put(name, gdf, meta=meta)
    resp = jsonify(_layer_json(info, report, created=not existed))
    resp.status_code = 200 if existed else 201
    resp.headers["Location"] = url_for("layers_write.put_layer", name=name)
    return resp


@bp.put("/api/layers/<name>")
def put_layer(name: str) -> Response:
    """Create or replace the user layer ``name`` (201 created, 200 replaced)."""
    return save_layer(name)


@bp.post("/api/layers")
def post_layer() -> Response:
    """Create a new user layer named by the ``name`` field (409 if it exists)."""
    name = _option("name")
    if name is None:
        raise ApiError("the layer needs a name", 400,
                       f"add a form field or query parameter 'name'; {_NAME_HINT}")
    return save_layer(name, create_only=True)


@bp.delete("/api/layers/<name>")
def delete_layer(name: str) -> Response:
    """Delete the user layer ``name``."""
    validate_layer_name(name)
    _catalog_guard(name)
    if not get_store().delete(name):
        raise LayerNotFound(f"no layer called {name!r}")
    return jsonify({"deleted": name})
