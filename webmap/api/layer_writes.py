"""Saving users' layers: ``PUT /api/layers/<name>``, ``POST /api/layers``, ``DELETE /api/layers/<name>``.

The handlers parse the request and call the one ingest path (:mod:`layers.ingest`):
the upload is read by :func:`geo.read.read_file` (any format it knows, repaired and
reported), made storable and saved with :meth:`layers.store.Store.put` — one
transaction, so a failed or killed write leaves the previous version whole.  The
answer carries the read report.  Every route here needs the write token
(:func:`webmap.core.security.require_write_token`); the listing (``GET /api/layers``)
lives in :mod:`webmap.api.layers`.

Catalog layers (``layers.catalog``) cannot be replaced or deleted here: that
answers 409 (their own route replaces them with versions).

Request forms
    * multipart/form-data: field ``file`` (the file), optional ``name`` (required
      for POST), ``title``, ``description``, ``datum`` (``wgs84``/``cgcs2000``/``gcj02``/``bd09``),
      ``crs`` (e.g. ``EPSG:4490``), ``layer`` (a layer inside a GeoPackage/KML);
    * a raw body (GeoJSON, zip, CSV …) with the same options as query parameters,
      plus ``filename`` when the content type does not say the format.

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> app.test_client().delete("/api/layers/x").json["code"]
'writes_disabled'
"""

from __future__ import annotations

from typing import Any

import numpy as np
from flask import Blueprint, Response, jsonify, request, url_for

from layers.errors import LayerNotFound
from layers.ingest import (
    check_user_layer_name,
    clean_text,
    read_upload,
    save_user_layer,
    user_meta,
)
from layers.records import LayerInfo
from layers.spec import LayerMeta

from ..core.config import current_settings
from ..core.errors import ApiError
from ..core.security import require_write_token
from ..core.store import get_store

bp = Blueprint("layers_write", __name__)
bp.before_request(require_write_token)

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

_NAME_HINT = ("layer names are 1-64 lowercase letters, digits, '_' or '-', starting with a "
              "letter or digit, e.g. 'my_sites_2023'")


def _option(key: str) -> str | None:
    value = request.form.get(key) if request.mimetype == "multipart/form-data" else None
    value = value if value not in (None, "") else request.args.get(key)
    value = clean_text(value.strip()) if isinstance(value, str) else None
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
                           "e.g. curl -F file=@sites.geojson", code="upload_missing",
                           message_zh="上传内容里没有文件", hint_zh="请选择要上传的文件")
        return storage.read(), clean_text(storage.filename) or _option("filename")
    data = request.get_data(cache=False)
    filename = _option("filename")
    if filename is None:
        ext = _EXT_BY_MIMETYPE.get(request.mimetype)
        filename = f"upload{ext}" if ext else None
    return data, filename


def _layer_json(info: LayerInfo, report: dict | None = None, created: bool = False
                ) -> dict[str, Any]:
    meta = LayerMeta.from_dict(info.meta)
    bounds = [None if not np.isfinite(b) else b for b in info.bounds]
    out: dict[str, Any] = {
        "name": info.name,
        "title": meta.title or info.name,
        "created": created,
        "count": info.count,
        "bounds": bounds,
        "version": info.version,
        "updated": info.updated,
        "filename": meta.source_file or None,
        "provenance": meta.provenance(),
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
    check_user_layer_name(name)
    store = get_store()
    if create_only and store.exists(name):  # early answer; the store decides it again
        raise _exists(name)
    data, filename = _upload()
    if not data:
        raise ApiError("the upload is empty", 400,
                       "choose a GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, GPX, CSV "
                       "or XLSX file that is not empty", code="file_empty",
                       message_zh="上传的文件是空的",
                       hint_zh="请选择一个非空的 GeoJSON、压缩的 Shapefile、GeoPackage、"
                               "KML/KMZ、GPX、CSV 或 Excel 文件")
    upload = read_upload(data, filename, layer=_option("layer"), datum=_option("datum"),
                         crs=_option("crs"), limits=current_settings().read_limits)
    meta = user_meta(name, upload, title=_option("title"), description=_option("description"))
    info = save_user_layer(store, name, upload, meta, create_only=create_only)
    # Version 1 is the write that created the layer: exactly one writer is told so, even
    # when several race (the store numbers versions inside its write transaction).
    created = info.version_number == 1
    resp = jsonify(_layer_json(info, upload.report.to_dict(), created=created))
    resp.status_code = 201 if created else 200
    resp.headers["Location"] = url_for("layers_write.put_layer", name=name)
    return resp


def _exists(name: str) -> ApiError:
    return ApiError(f"a layer called {name!r} exists already", 409,
                    f"PUT /api/layers/{name} replaces it; or choose another name",
                    code="layer_exists", message_zh=f"已经有名为 {name!r} 的图层",
                    hint_zh="要替换它请用“替换”；否则换一个名称")


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
                       f"add a form field or query parameter 'name'; {_NAME_HINT}",
                       code="bad_layer_name", message_zh="图层需要一个名称",
                       hint_zh="请填写图层名称：1–64 个小写字母、数字、下划线或连字符，"
                               "例如 my_sites_2023")
    return save_layer(name, create_only=True)


@bp.delete("/api/layers/<name>")
def delete_layer(name: str) -> Response:
    """Delete the user layer ``name``."""
    check_user_layer_name(name)
    if not get_store().delete(name):
        raise LayerNotFound(f"no layer called {name!r}", message_zh=f"没有名为 {name!r} 的图层")
    return jsonify({"deleted": name})
