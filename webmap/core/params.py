"""Request values every API module parses the same way: numbers in a range, datums.

Each parser raises the one error body (:class:`webmap.core.errors.ApiError`, code
``bad_parameter``) with an English message naming the parameter (for programs) and a
Chinese one phrased for a person.

Examples
--------
>>> number_value("max_km", "250", None, 20, 1000, "e.g. max_km=250")
250.0
>>> number_value("max_km", "2000", None, 20, 1000, "e.g. max_km=250")
Traceback (most recent call last):
...
webmap.core.errors.ApiError: max_km must be a number from 20 to 1000, got '2000'
"""

from __future__ import annotations

import math

from flask import request

from geo.crs import normalise_datum

from .errors import ApiError

#: Datums a page can ask its overlays in (the basemap's datum).
PAGE_DATUMS = ("wgs84", "gcj02")
#: What people call each parameter, for the Chinese messages.
_ZH_NAMES = {
    "max_km": "每日最长里程", "every_km": "里程桩间隔", "river_buffer_m": "河流缓冲距离",
    "corridor_m": "道路视野走廊宽度", "lon": "经度", "lat": "纬度", "zoom": "缩放级别",
    "limit": "要素数量上限", "stage": "分段编号",
}


def number_value(name: str, raw: str | None, default: float | None, lo: float, hi: float,
                 hint: str) -> float:
    """``raw`` as a finite number in ``[lo, hi]`` (``default`` when absent), else a 400."""
    zh = _ZH_NAMES.get(name, "数值")
    if raw is None or str(raw).strip() == "":
        if default is None:
            raise ApiError(f"{name} is required", 400, hint=hint, code="bad_parameter",
                           message_zh=f"缺少{zh}", hint_zh=f"请填写{zh}（{lo:g}–{hi:g}）")
        return default
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and lo <= value <= hi):
        shown = str(raw) if len(str(raw)) <= 40 else str(raw)[:40] + "…"
        raise ApiError(f"{name} must be a number from {lo:g} to {hi:g}, got {shown!r}", 400,
                       hint=hint, code="bad_parameter",
                       message_zh=f"{zh}应是 {lo:g} 到 {hi:g} 之间的数，收到的是 {shown!r}",
                       hint_zh=f"请填写 {lo:g} 到 {hi:g} 之间的数")
    return value


def int_value(name: str, lo: int, hi: int) -> int | None:
    """The query-string value ``name`` as a whole number in ``[lo, hi]``, None when absent."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    zh = _ZH_NAMES.get(name, "数值")
    try:
        value = int(float(raw))
    except ValueError:
        raise ApiError(f"{name} must be a whole number, got {raw!r}", 400,
                       hint=f"e.g. {name}={lo if name == 'zoom' else 1000}",
                       code="bad_parameter", message_zh=f"{zh}应是整数，收到的是 {raw!r}"
                       ) from None
    if not lo <= value <= hi:
        raise ApiError(f"{name} must lie between {lo} and {hi}, got {value}", 400,
                       code="bad_parameter", message_zh=f"{zh}应在 {lo} 到 {hi} 之间")
    return value


def datum_value(raw: str | None) -> str:
    """A datum a user declared (wgs84, cgcs2000, gcj02, bd09; default wgs84)."""
    try:
        return normalise_datum(raw)
    except ValueError as e:
        raise ApiError(str(e), 400, hint="datum=wgs84 (GPS), gcj02 (AMap/Gaode, Tencent) "
                       "or bd09 (Baidu)", code="bad_datum",
                       hint_zh="可选：WGS 84（GPS）、GCJ-02（高德、腾讯）、BD-09（百度）") from None


def page_datum() -> str:
    """The datum of the page's basemap (``datum`` in the query string): wgs84 or gcj02."""
    raw = request.args.get("datum") or "wgs84"
    try:
        datum = normalise_datum(raw)
    except ValueError as e:
        raise ApiError(str(e), 400, hint="datum=wgs84 or datum=gcj02", code="bad_datum",
                       hint_zh="底图坐标基准可选 WGS 84 或 GCJ-02") from None
    if datum == "cgcs2000":  # identical to WGS 84 at map scale
        datum = "wgs84"
    if datum not in PAGE_DATUMS:
        raise ApiError(f"datum {raw!r} is not offered for map overlays", 400,
                       hint="datum=wgs84 (OSM, Esri, Tianditu) or datum=gcj02 (AMap/Gaode)",
                       code="bad_datum", message_zh=f"地图叠加不提供坐标基准 {raw!r}",
                       hint_zh="可选 WGS 84（OSM、Esri、天地图）或 GCJ-02（高德）")
    return datum
