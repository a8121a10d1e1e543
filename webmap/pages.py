"""The three map pages: ``/`` (atlas), ``/route`` (scenic road), ``/watershed`` (basins).

Chinese by default, English with ``?lang=en``.  Each page is a Folium map built
by its module in :mod:`webmap.maps`; the HTML holds no layer data (the page
fetches it from ``/api/layers``), so it stays small whatever the layers weigh.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for

from .maps import atlas, route, watershed
from .maps.base import render
from .maps.i18n import lang_of

bp = Blueprint("pages", __name__)

_BUILDERS = {"atlas": atlas.build, "route": route.build, "watershed": watershed.build}
_ENDPOINTS = {"atlas": "pages.atlas_page", "route": "pages.route_page",
              "watershed": "pages.watershed_page"}


def _url_for_page(page: str, lang: str) -> str:
    return url_for(_ENDPOINTS[page], lang="en") if lang == "en" else url_for(_ENDPOINTS[page])


def _static_url(path: str) -> str:
    return url_for("static", filename=path)


def _page(page: str) -> Response:
    lang = lang_of(request.args.get("lang"))
    m = _BUILDERS[page](lang, current_app.config, static_url=_static_url,
                        url_for_page=_url_for_page, args=request.args)
    resp = Response(render(m, lang), mimetype="text/html")
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
