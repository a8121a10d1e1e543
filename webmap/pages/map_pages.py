"""The three map pages: ``/`` (atlas), ``/route`` (scenic road), ``/watershed`` (basins).

Chinese by default, English with ``?lang=en``.  Each page is a Folium map built
by its module in :mod:`webmap.pages.maps`; the HTML holds no layer data (the page
fetches features from ``/api/layers/<id>/features``), so it stays small whatever
the layers weigh.

To draw sooner, a page starts with a small inline script (``static/atlas/boot.js``)
carrying the layer list (the ``/api/layers`` body, a few tens of KB, left out
above :data:`MAX_INLINE_CATALOG`) and the feature URLs of the layers it shows
first: their downloads start before Leaflet and the plugins have loaded.

Examples
--------
>>> boot_script({"layers": []}, [], "wgs84").startswith("<script nonce=")
True
"""

from __future__ import annotations

import os
from typing import Any

import folium
import orjson
from branca.element import Element
from flask import Blueprint, Response, current_app, request, url_for

from geo.validate import LEAGUE_BBOX

from ..core.config import current_settings
from ..core.http import ByteLRU
from ..core.listing import layer_listing
from ..core.security import nonce_attribute, with_nonce
from ..core.store import get_store
from .maps import atlas, route, watershed
from .maps.base import AtlasPage, render, safe_json
from .maps.i18n import lang_of
from .nonces import mark_own_scripts

bp = Blueprint("pages", __name__)

_BUILDERS = {"atlas": atlas.build, "route": route.build, "watershed": watershed.build}
_ENDPOINTS = {"atlas": "pages.atlas_page", "route": "pages.route_page",
              "watershed": "pages.watershed_page", "data": "data_page.data_page"}


def url_for_page(page: str, lang: str) -> str:
    """The URL of page ``page`` (atlas, route, watershed, data) in ``lang``."""
    return url_for(_ENDPOINTS[page], lang="en") if lang == "en" else url_for(_ENDPOINTS[page])


def static_url(path: str) -> str:
    """The URL of a file under ``webmap/static/``."""
    return url_for("static", filename=path)


#: Largest layer list carried in the page (bytes of JSON); a bigger one is fetched.
MAX_INLINE_CATALOG = 64 * 1024
#: The map's box in ``static/atlas/atlas.css`` (header height, side panel width, and
#: the window width at or below which the panel moves under the map): boot.js
#: guesses the first zoom from it.  A wrong guess only loses the head start.
LAYOUT = {"header": 44, "side": 340, "narrow": 800}
#: Zoom at which the loader asks for point layers (``POINT_ZOOM`` in atlas.js).
POINT_ZOOM = 14

_STATIC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")
with open(os.path.join(_STATIC, "atlas", "boot.js"), encoding="utf-8") as _fh:
    # The file's header comment is for readers of the file, not for every page.
    _BOOT_JS = _fh.read().split("*/", 1)[1].strip()


def boot_script(catalog: dict[str, Any] | None, layers: list[tuple[str, str]], datum: str,
                lang: str = "zh", zoom: tuple[int, int] = (3, 18)) -> str:
    """The page's first ``<script>``: boot.js with the layer list and the URLs to prefetch.

    Parameters
    ----------
    catalog : dict or None
        The ``/api/layers`` body for the page's language (None: the loader fetches it).
    layers : list of (features_url, geometry_type)
        Layers drawn when the page opens (prefetched at the zoom the map opens at).
    datum : str
        Datum of the default basemap (``datum=`` of the feature URLs).
    """
    minx, miny, maxx, maxy = LEAGUE_BBOX
    boot = {"catalog": catalog, "lang": lang, "layers": layers, "datum": datum,
            "bounds": [minx, miny, maxx, maxy], "zoom": list(zoom),
            "point_zoom": POINT_ZOOM, "layout": LAYOUT}
    return (f"<script{nonce_attribute()}>" + _BOOT_JS.replace("(BOOT)", "(" + safe_json(boot) + ")")
            + "</script>")


def _add_boot(m: folium.Map, lang: str) -> None:
    """Put :func:`boot_script` first in the page's head (right after the charset)."""
    cfg = next((el.config for el in m._children.values() if isinstance(el, AtlasPage)), None)
    if cfg is None:
        return
    _, body = layer_listing(get_store(), lang)
    listing = orjson.loads(body)
    wanted = cfg.get("layers", "all")
    first = [(d["features_url"], d["geometry_type"]) for d in listing["layers"]
             if d.get("default_visible") and not d.get("tiles_url")
             and (wanted == "all" or d["id"] in wanted)]
    default = next((b for b in cfg["basemaps"] if b.get("default")), None)
    datum = default["datum"] if default else "wgs84"
    catalog = listing if len(body) <= MAX_INLINE_CATALOG else None
    script = boot_script(catalog, first, datum, lang)
    m.get_root().header.add_child(Element(script), name="atlas_boot", index=1)


def _page(page: str) -> Response:
    lang = lang_of(request.args.get("lang"))

    # A page is a pure function of (page, query, layer versions, app config): building it
    # with Folium costs ~30 ms, so each app keeps the rendered bytes, with a placeholder
    # where each response puts its own script nonce (webmap.core.security).
    listing_key, _ = layer_listing(get_store(), lang)
    key = (page, tuple(sorted(request.args.items(multi=True))), listing_key)
    pages: ByteLRU = current_app.extensions.setdefault("atlas_pages", ByteLRU(8 * 1024 * 1024))
    html = pages.get(key)
    if html is None:
        m = _BUILDERS[page](lang, current_settings(), static_url=static_url,
                            url_for_page=url_for_page, args=request.args)
        _add_boot(m, lang)
        # A notice while writes are paused (a full disk …): a hook file reading /healthz.
        m.get_root().header.add_child(Element(
            f'<script src="{static_url("atlas/store_status.js")}" defer></script>'),
            name="atlas_store_status")
        mark_own_scripts(m)
        html = render(m, lang).encode()
        pages.put(key, html)
    resp = Response(with_nonce(html), mimetype="text/html")
    resp.headers["Content-Language"] = "en" if lang == "en" else "zh-CN"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/")
def atlas_page() -> Response:
    """The atlas: every layer."""
    return _page("atlas")


@bp.get("/route")
def route_page() -> Response:
    """The scenic road and the stage planner."""
    return _page("route")


@bp.get("/watershed")
def watershed_page() -> Response:
    """Basins, project summaries and the site upload."""
    return _page("watershed")
