"""The catalog layers replaced by the League's own data, with versions: ``/api/reference``.

========================================================  =========================================
``GET  /api/reference``                                    every catalog layer: current version,
                                                           provenance, fields (for the /data page)
``PUT  /api/reference/{layer}``                            replace (or append to) a layer from a file
``GET  /api/reference/{layer}/versions``                   its versions, newest first
``GET  /api/reference/{layer}/versions/{n}.{fmt}``         one version in any export format
``POST /api/reference/{layer}/restore``                    version n+1 as a copy of version k
``DELETE /api/reference/{layer}/versions/{n}``             remove a mistaken version (not current)
``GET  /api/reference/{layer}/template.xlsx``              the blank sheet with the catalog's headers
========================================================  =========================================

``PUT``, ``POST`` and ``DELETE`` need the write token
(:func:`webmap.core.security.require_write_token`), the dry run too (it reads a whole
upload).  The work is :mod:`layers.reference_versions`; this module parses the request
and shapes the answer.

``PUT /api/reference/{layer}`` takes a multipart ``file`` (or the raw body with
``?filename=``) and the form fields ``mapping`` (JSON ``{"catalog_field": "source
column"}``), ``crs``, ``datum``, ``layer`` (inside a GeoPackage), ``sheet`` (inside a
workbook), ``header_row``, ``source``, ``licence``, ``date``, ``note``, ``author``,
``illustrative`` (default false), ``mode`` (``replace`` | ``append``), ``dry_run``
(``1`` = preview only), ``features`` (``1``: the file's rows as GeoJSON in the preview,
errors flagged, for a map) and the layer hook's own fields.  It answers

* a dry run: **200** with the preview (counts, mapping, errors, warnings, diff,
  totals beside the seed for the registry) and ``"stored": false``;
* a commit whose file has errors: **422** with the same body plus the error keys
  (``error``, ``error_zh``, ``code``, ``status``, ``hint``, ``hint_zh``), nothing stored;
* a commit: **201** with the new version, every layer written (``versions``), which
  dependents were re-derived, and the preview.

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> c = app.test_client()
>>> [v["version"] for v in c.get("/api/reference/projects/versions").json["versions"]]
[1]
>>> c.put("/api/reference/projects").json["code"]
'writes_disabled'
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import quote

import orjson
from flask import Blueprint, Response, jsonify, request

from geo.errors import MESSAGES
from geo.export import ARCHIVE_FORMATS, FORMATS, to_bytes
from layers.catalog import CATALOG
from layers.describe import describe_spec, version_provenance
from layers.errors import LayerNotFound
from layers.ingest import clean_text
from layers.reference_hooks import hook_for, hook_options
from layers.reference_versions import (
    Outcome,
    ReplacementForm,
    delete_reference_version,
    replace_reference,
    restore_reference,
    version_record,
    version_records,
)
from layers.replace import preview_features
from layers.spec import LayerMeta
from layers.template import template_xlsx
from layers.validate_ref import reference_spec

from ..core.config import current_settings
from ..core.errors import ApiError
from ..core.http import cached_response, make_etag
from ..core.security import require_write_token
from ..core.store import get_store

bp = Blueprint("reference", __name__)

_TRUE = {"1", "true", "yes", "on", "是", "y"}
_FALSE = {"0", "false", "no", "off", "否", "n", ""}
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _writes() -> None:
    """Refuse the request (403/401) unless it carries the write token."""
    refused = require_write_token()
    if refused is not None:
        raise _Refused(refused)


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("refused")
        self.response = response


@bp.errorhandler(_Refused)
def _refused(e: _Refused) -> Response:
    return e.response


def _field(key: str) -> str | None:
    value = request.form.get(key) if request.mimetype in _FORMS else None
    if value in (None, ""):
        value = request.args.get(key)
    if value is None and request.is_json:
        body = request.get_json(silent=True)
        value = body.get(key) if isinstance(body, dict) else None
        value = None if value is None else str(value)
    value = clean_text(value.strip()) if isinstance(value, str) else None
    return value or None


def _flag(key: str, default: bool = False) -> bool:
    raw = _field(key)
    if raw is None:
        return default
    low = raw.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ApiError(f"{key} must be 1/true or 0/false, not {raw[:40]!r}", 400,
                   f"send {key}=1 or {key}=0", code="bad_parameter",
                   message_zh=f"{key} 只能是 1（是）或 0（否）", hint_zh=f"请填写 {key}=1 或 {key}=0")


def _mapping() -> dict[str, str | None] | None:
    raw = _field("mapping")
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str | None)
                                              for k, v in value.items()):
        raise ApiError("mapping must be a JSON object {\"catalog_field\": \"source column\"}",
                       400, 'e.g. mapping={"name_zh": "项目名称", "total_investment_yi": "总投资"}',
                       code="bad_parameter", message_zh="列映射应是 JSON 对象 {\"字段\": \"列名\"}",
                       hint_zh='例如 {"name_zh": "项目名称", "total_investment_yi": "总投资"}')
    return value  # a field mapped to "" or null is left unmapped (not matched automatically)


def _int_field(key: str, lo: int, hi: int) -> int | None:
    raw = _field(key)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not lo <= value <= hi:
        raise ApiError(f"{key} must be a whole number from {lo} to {hi}, not {raw[:40]!r}", 400,
                       code="bad_parameter", message_zh=f"{key} 应是 {lo} 到 {hi} 之间的整数")
    return value


def _upload() -> tuple[bytes, str | None]:
    if request.mimetype == "multipart/form-data":
        storage = request.files.get("file")
        if storage is None:
            raise ApiError("no file in the upload", 400,
                           "send the file in a multipart/form-data field called 'file', "
                           "e.g. curl -F file=@项目台账.xlsx", code="upload_missing",
                           message_zh="上传内容里没有文件", hint_zh="请选择要上传的文件")
        data, name = storage.read(), clean_text(storage.filename) or _field("filename")
    else:
        data, name = request.get_data(cache=False), _field("filename")
    if not data:
        raise ApiError("the upload is empty", 400, "choose a spreadsheet, shapefile zip, "
                       "GeoPackage, GeoJSON, KML or GPX file that is not empty",
                       code="file_empty", message_zh="上传的文件是空的",
                       hint_zh="请选择一个非空的 Excel、CSV、Shapefile 压缩包、GeoPackage、GeoJSON、"
                               "KML 或 GPX 文件")
    return data, name


def _form(layer: str) -> ReplacementForm:
    return ReplacementForm(
        mapping=_mapping(), crs=_field("crs"), datum=_field("datum"), layer=_field("layer"),
        sheet=_field("sheet"), header_row=_int_field("header_row", 1, 1000),
        source=_field("source") or "", licence=_field("licence") or "",
        date=_field("date") or "", note=_field("note") or "", author=_field("author") or "",
        illustrative=_flag("illustrative"), mode=_field("mode") or "replace",
        options={k: v for k in hook_options(layer) if (v := _field(k)) is not None})


# -- the error keys of a 422 preview ------------------------------------------------------

def _error_keys(preview: dict[str, Any]) -> dict[str, Any]:
    """The one error body's keys for a replacement refused for its errors."""
    errors = preview.get("errors") or []
    first = errors[0] if errors else {}
    n = preview.get("counts", {}).get("errors", len(errors))
    code = first.get("code") if first.get("code") in MESSAGES else "replacement_invalid"
    head = first.get("text", "the file has errors")
    head_zh = first.get("text_zh", head)
    more = f" (and {n - 1} more)" if n > 1 else ""
    more_zh = f"（另有 {n - 1} 处）" if n > 1 else ""
    return {"error": f"{n} error(s) in the file, nothing stored: {head}{more}",
            "error_zh": f"文件中有 {n} 处错误，未保存：{head_zh}{more_zh}",
            "code": code, "status": 422,
            "hint": "correct the rows listed in 'errors' (or the column mapping) and upload "
                    "again; dry_run=1 previews without storing",
            "hint_zh": "请按“errors”所列修改文件中的行（或列映射）后重新上传；"
                       "可先用预览（dry_run=1）检查"}


def _version_json(layer: str) -> dict[str, Any]:
    store = get_store()
    v = store.versions(layer)[0]
    return version_record(layer, v)


def _outcome_json(out: Outcome) -> dict[str, Any]:
    body: dict[str, Any] = {"layer": out.layer}
    if out.committed:
        info = out.infos[out.layer]
        body.update({
            "stored": True,
            "version": info.version_number,
            "versions": {n: i.version_number for n, i in out.infos.items()},
            "rederived": out.rederived,
            "current": _version_json(out.layer),
        })
    else:
        body["stored"] = False
    if out.replacement is not None:
        body["preview"] = out.replacement.preview() if out.committed else None
    if out.warnings:
        body["warnings"] = out.warnings
    return body


@bp.put("/api/reference/<layer>")
def put_reference(layer: str) -> Response:
    """Replace (or append to) catalog layer ``layer`` from the uploaded file."""
    reference_spec(layer)  # 404 for a layer not in the catalog, before the token
    _writes()
    form = _form(layer)
    dry_run = _flag("dry_run")
    want_features = _flag("features")
    data, filename = _upload()
    out = replace_reference(get_store(), layer, data, filename, form=form, dry_run=dry_run,
                            limits=current_settings().read_limits)
    if out.status in (200, 422):
        assert out.replacement is not None
        body = {**out.replacement.preview(), "dry_run": dry_run, "stored": False}
        if want_features:  # the /data page's preview map: the file's rows, errors flagged
            body["features"] = orjson.loads(preview_features(out.replacement))
        if out.status == 422:
            body = {**_error_keys(body), **body}
        resp = jsonify(body)
        resp.status_code = out.status
        return resp
    resp = jsonify(_outcome_json(out))
    resp.status_code = 201
    resp.headers["Location"] = f"/api/reference/{layer}/versions"
    return resp


@bp.get("/api/reference")
def list_reference() -> Response:
    """Every catalog layer with its current version and provenance, and its fields."""
    store = get_store()
    lang = "en" if request.args.get("lang") == "en" else "zh"
    out = []
    for spec in CATALOG:
        try:
            info = store.info(spec.id)
        except LayerNotFound:
            continue
        meta = LayerMeta.from_dict(info.meta)
        prov = version_provenance(spec, info.meta)
        hook = hook_for(spec.id)
        d = describe_spec(spec, lang)
        out.append({
            "id": spec.id, "title": d["title"], "title_zh": spec.title_zh,
            "title_en": spec.title_en, "geometry_type": spec.geometry_type,
            "count": info.count, "version": info.version_number, "updated": info.updated,
            "builtin": meta.builtin, "author": meta.author or None, "note": meta.note or None,
            "provenance": {"source": prov.source(lang), "source_zh": prov.source_zh,
                           "source_en": prov.source_en, "licence": prov.licence,
                           "datum": prov.datum, "accuracy": prov.accuracy, "date": prov.date,
                           "illustrative": prov.authored},
            "fields": [{"name": f.name, "label_zh": f.label_zh, "label_en": f.label_en,
                        "kind": f.kind, "unit": f.unit, "required": f.required,
                        "derived": f.derived,
                        "codes": [{"value": c.value, "label_zh": c.label_zh,
                                   "label_en": c.label_en} for c in f.codes]}
                       for f in spec.fields],
            "hook": ({"description": hook.description, "options": list(hook.options)}
                     if hook else None),
            "links": {"versions": f"/api/reference/{spec.id}/versions",
                      "template": f"/api/reference/{spec.id}/template.xlsx",
                      "features": f"/api/layers/{spec.id}/features",
                      "replace": f"/api/reference/{spec.id}"},
        })
    return jsonify({"layers": out})


@bp.get("/api/reference/<layer>/versions")
def list_versions(layer: str) -> Response:
    """The layer's versions, newest first."""
    records = version_records(get_store(), layer)
    current = next((r["version"] for r in records if r["current"]), None)
    return jsonify({"layer": layer, "current": current, "versions": records})


def _split_version(target: str) -> tuple[int, str]:
    number, dot, fmt = target.partition(".")
    fmt = fmt.lower()
    if not dot or not number.isdigit() or fmt not in {**FORMATS, **ARCHIVE_FORMATS}:
        formats = ", ".join([*FORMATS, *ARCHIVE_FORMATS])
        raise ApiError(f"ask for /versions/<number>.<format>, not {target[:60]!r}", 400,
                       f"formats: {formats}; e.g. /versions/1.geojson", code="unsupported_format",
                       message_zh="下载地址应为 /versions/版本号.格式", hint_zh=f"可选格式：{formats}")
    return int(number), fmt


@bp.get("/api/reference/<layer>/versions/<path:target>")
def download_version(layer: str, target: str) -> Response:
    """One version of the layer as a file (GeoJSON, CSV, GPX, KML, GeoPackage, shapefile zip)."""
    spec = reference_spec(layer)
    number, fmt = _split_version(target)
    store = get_store()
    version = next((v for v in store.versions(layer) if v.number == number), None)
    if version is None:
        store.get(layer, number)  # VersionNotFound, in the store's words (404)
        raise ApiError(f"layer {layer!r} has no version {number}", 404, code="version_not_found")
    lang = "en" if request.args.get("lang") == "en" else "zh"
    key = make_etag("reference-version", version.token, fmt, lang)
    holder: dict[str, str] = {}

    def produce() -> bytes:
        vspec = dataclasses.replace(spec, provenance=version_provenance(spec, version.meta))
        data, _mimetype, filename = to_bytes(store.get(layer, number), fmt,
                                             name=f"{layer}_v{number}", spec=vspec, lang=lang)
        holder["filename"] = filename
        return data

    mimetype = {**FORMATS, **ARCHIVE_FORMATS}[fmt][1]
    resp = cached_response(key, produce, mimetype, max_age=3600,
                           compress=fmt not in ("gpkg", "shp.zip"))
    filename = holder.get("filename", f"{layer}_v{number}.{fmt}")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def _version_param() -> int:
    raw = _field("version")
    if raw is None or not raw.isdigit():
        raise ApiError("say which version to restore: a form field or JSON 'version'", 400,
                       'e.g. curl -F version=1 …/restore, or {"version": 1}',
                       code="bad_parameter", message_zh="请指定要恢复的版本号",
                       hint_zh="例如 version=1")
    return int(raw)


@bp.post("/api/reference/<layer>/restore")
def restore(layer: str) -> Response:
    """Write version n+1 of the layer as a copy of the version asked for."""
    reference_spec(layer)
    _writes()
    number = _version_param()
    out = restore_reference(get_store(), layer, number, author=_field("author") or "",
                            note=_field("note") or "")
    body = _outcome_json(out)
    body["restored_from"] = number
    resp = jsonify(body)
    resp.status_code = 201
    resp.headers["Location"] = f"/api/reference/{layer}/versions"
    return resp


# The same rule as the download's (GET …/versions/2.geojson): one URL, so a method it
# does not take is a 405 naming both, and a bad number is this route's own 400.
@bp.delete("/api/reference/<layer>/versions/<path:target>")
def delete_version(layer: str, target: str) -> Response:
    """Remove a version that is not current."""
    reference_spec(layer)
    _writes()
    if not target.isdigit():
        raise ApiError(f"delete /versions/<number>, not {target[:60]!r}", 400,
                       f"e.g. DELETE /api/reference/{layer}/versions/2",
                       code="bad_parameter", message_zh="删除地址应为 /versions/版本号",
                       hint_zh=f"例如 DELETE /api/reference/{layer}/versions/2")
    version = int(target)
    if not delete_reference_version(get_store(), layer, version):
        raise ApiError(f"layer {layer!r} has no version {version}", 404,
                       f"GET /api/reference/{layer}/versions lists them",
                       code="version_not_found", message_zh=f"图层 {layer!r} 没有第 {version} 版",
                       hint_zh="版本列表见“数据管理”页")
    return jsonify({"layer": layer, "deleted": version})


@bp.get("/api/reference/<layer>/template.xlsx")
def template(layer: str) -> Response:
    """The blank template workbook of the layer."""
    spec = reference_spec(layer)
    key = make_etag("template", repr(spec))  # the workbook follows the catalog entry

    def produce() -> bytes:
        return template_xlsx(spec)

    resp = cached_response(key, produce, _XLSX, max_age=3600, compress=False)
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"{spec.id}_template.xlsx\"; "
        f"filename*=UTF-8''{_quote(spec.title_zh)}_{spec.id}.xlsx")
    return resp


def _quote(text: str) -> str:
    return quote(text, safe="")

