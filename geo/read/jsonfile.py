"""GeoJSON: checked as JSON here for precise messages, decoded by GDAL.

Python's parser says exactly where a JSON text breaks (line, column, whether it
was cut off), and what kind of JSON it is; GDAL then builds the features, which
is fast and copes with old-style ``crs`` members.  A FeatureCollection, a single
Feature, a bare geometry and a plain list of Features are all accepted.

Examples
--------
>>> check_geojson(b'{"type": "FeatureCollection", "features": [')
Traceback (most recent call last):
...
geo.errors.GeoInputError: the GeoJSON is not valid JSON: the text ends early at line 1, column 44 (the file looks cut off)
>>> prepare_geojson(b'{"type": "Point", "coordinates": [116, 44]}')[1]
1
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import GeoInputError
from .finish import parse_crs

_GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                   "MultiPolygon", "GeometryCollection"}
_HINT = ("a GeoJSON file holds {\"type\": \"FeatureCollection\", \"features\": [...]}; "
         "check that the whole file was saved")


def check_geojson(data: bytes) -> Any:
    """Parsed JSON of ``data``, or a :class:`GeoInputError` that says where it breaks."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise GeoInputError(f"the GeoJSON is not UTF-8 text (bad byte at position {e.start})",
                            hint="GeoJSON must be UTF-8 (RFC 7946); save it again as UTF-8",
                            status=400, code="file_encoding", message_zh="GeoJSON 文件不是 UTF-8 编码", hint_zh="请另存为 UTF-8 编码（GeoJSON 标准要求）") from e
    try:
        return json.loads(text)
    except RecursionError as e:
        raise GeoInputError("the JSON is nested too deeply to be GeoJSON", hint=_HINT,
                            status=422, code="geojson_invalid", message_zh="JSON 嵌套层数太多，不像 GeoJSON", hint_zh="请检查是否选对了文件") from e
    except json.JSONDecodeError as e:
        cut = e.pos >= len(text.rstrip()) - 1
        what = "the text ends early" if cut else e.msg
        tail = " (the file looks cut off)" if cut else ""
        raise GeoInputError(
            f"the GeoJSON is not valid JSON: {what} at line {e.lineno}, column {e.colno}{tail}",
            hint=_HINT, status=400, code="geojson_invalid", message_zh=f"GeoJSON 不是有效的 JSON：第 {e.lineno} 行第 {e.colno} 列有误" + ("（文件可能不完整）" if cut else ""), hint_zh="请用文本编辑器或 GIS 软件检查并重新导出") from e


def check_crs_member(doc: dict) -> None:
    """Refuse an old-style ``crs`` member naming a CRS that does not exist.

    GDAL ignores a ``crs`` it cannot resolve and reads the coordinates as
    degrees, which would turn "unknown EPSG code" into "coordinates out of range".

    Examples
    --------
    >>> check_crs_member({"crs": {"type": "name", "properties": {"name": "EPSG:999999"}}})
    Traceback (most recent call last):
    ...
    geo.errors.GeoInputError: unknown CRS 'EPSG:999999'
    """
    crs = doc.get("crs")
    props = crs.get("properties") if isinstance(crs, dict) else None
    name = props.get("name") if isinstance(props, dict) else None
    if isinstance(name, str):
        parse_crs(name)


def prepare_geojson(data: bytes) -> tuple[bytes, int, list[bool]]:
    """GeoJSON bytes GDAL can read, the feature count and which features have a geometry.

    Raises
    ------
    GeoInputError
        For invalid JSON (400) or JSON that is not GeoJSON (422).
    """
    doc = check_geojson(data)
    features: list[Any]
    if isinstance(doc, list):
        if not all(isinstance(f, dict) and f.get("type") == "Feature" for f in doc):
            raise GeoInputError("the JSON is a list, but not a list of GeoJSON Features",
                                hint=_HINT, status=422, code="geojson_invalid", message_zh="JSON 是一个列表，但不是 GeoJSON 要素的列表")
        features = doc
        data = json.dumps({"type": "FeatureCollection", "features": doc},
                          ensure_ascii=False, allow_nan=True).encode()
    elif isinstance(doc, dict):
        check_crs_member(doc)
        kind = doc.get("type")
        if kind == "FeatureCollection":
            features = doc.get("features")
            if not isinstance(features, list):
                raise GeoInputError("the FeatureCollection has no 'features' list",
                                    hint=_HINT, status=422, code="geojson_invalid", message_zh="要素集合（FeatureCollection）里没有 features 列表")
        elif kind == "Feature":
            features = [doc]
        elif kind in _GEOMETRY_TYPES:
            features = [{"type": "Feature", "geometry": doc}]
        else:
            keys = ", ".join(list(map(str, doc))[:8])
            raise GeoInputError(
                f"the JSON is not GeoJSON: its 'type' is {kind!r} (keys: {keys})",
                hint=_HINT, status=422, code="geojson_invalid", message_zh=f"JSON 的类型是 {kind!r}，不是 GeoJSON")
    else:
        raise GeoInputError("the JSON is not GeoJSON (not an object)", hint=_HINT, status=422, code="geojson_invalid", message_zh="JSON 内容不是 GeoJSON 对象")
    if not features:
        raise GeoInputError("the GeoJSON has no features", hint="add at least one feature",
                            status=422, code="no_features", message_zh="GeoJSON 里没有要素", hint_zh="至少加入一个要素")
    has_geometry = [isinstance(f, dict) and isinstance(f.get("geometry"), dict)
                    for f in features]
    if not any(isinstance(f, dict) for f in features):
        raise GeoInputError("the FeatureCollection's features are not objects", hint=_HINT,
                            status=422, code="geojson_invalid", message_zh="要素集合里的要素不是对象")
    return data, len(features), has_geometry
