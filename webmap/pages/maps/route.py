"""``/route``: the scenic road for tourism planners.

The 千里草原风景大道 in its themed segments, kilometre posts, stations and
attractions with their road km, a stage planner (``?max_km=250`` draws the stages
from ``/api/route/stages`` and lists them; a form changes ``max_km``), the
projects inside the road's view corridor flagged (``POST /api/overlay``), and
GPX/KML downloads (``/api/export/scenic_road.gpx`` …).

Examples
--------
>>> parse_max_km("250"), parse_max_km(""), parse_max_km("abc")
(250.0, None, 'abc')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import folium
from markupsafe import escape

from layers.catalog import get_spec

from ...core.config import Settings
from .base import build_map, page_query
from .i18n import t
from .panels import box, legend_box, provenance_box, search_box, side

PAGE = "route"
LAYERS = ("admin", "scenic_road", "stations", "attractions", "projects")
#: Downloads offered: (layer, format, i18n key of the label, extra query).  The road's
#: GPX carries the stations and attractions as waypoints: one file for the drivers.
DOWNLOADS = (("scenic_road", "gpx", "gpx_with_stops", "with=stations,attractions"),
             ("scenic_road", "kml", "kml_with_stops", "with=stations,attractions"),
             ("stations", "gpx", "gpx", ""), ("attractions", "kml", "kml", ""))


def parse_max_km(raw: str | None) -> float | str | None:
    """``max_km`` as a number, None when absent, or the raw text (the API explains why not)."""
    if raw is None or raw.strip() == "":
        return None
    try:
        return float(raw)
    except ValueError:
        return raw[:40]


#: The daily limit the form accepts: the range ``GET /api/route/stages`` accepts
#: (``webmap.api.route.MAX_KM_RANGE``; tests/test_field_pages.py checks they agree).
MAX_KM = (20, 1000)


def _planner_html(lang: str, max_km: float | str | None, query: Mapping[str, str]) -> str:
    """The stage planner's form: daily limit, start and end (shown once the page has filled
    them with the road's stations), the stage list and the trip's downloads."""
    value = "" if max_km is None else escape(f"{max_km:g}" if isinstance(max_km, float)
                                             else max_km)
    lang_field = '<input type="hidden" name="lang" value="en">' if lang == "en" else ""

    def select(name: str, first_key: str) -> str:
        chosen = escape(query.get(name, ""))
        return (f'<label class="atlas-field" for="atlas-stage-{name}">'
                f'{escape(t(name, lang))}</label>'
                f'<select name="{name}" id="atlas-stage-{name}" data-value="{chosen}">'
                f'<option value="">{escape(t(first_key, lang))}</option></select>')

    ends = (f'<div id="atlas-stage-ends" class="atlas-stage-ends" hidden>'
            f'{select("start", "road_start")}{select("end", "road_end")}'
            f'<button type="button" id="atlas-stage-swap" class="atlas-secondary">'
            f'{escape(t("swap", lang))}</button>'
            f'<input type="hidden" name="direction" id="atlas-stage-direction" '
            f'value="{escape(query.get("direction", ""))}"></div>')
    form = (f'<form id="atlas-stage-form" method="get" action="/route">{lang_field}'
            f'<label for="atlas-max-km">{escape(t("max_km", lang))}</label> '
            f'<input type="number" name="max_km" id="atlas-max-km" min="{MAX_KM[0]}" '
            f'max="{MAX_KM[1]}" step="10" value="{value}" placeholder="250" '
            f'aria-describedby="atlas-max-km-hint"> '
            f'<button type="submit">{escape(t("plan", lang))}</button>'
            f'<p id="atlas-max-km-hint" class="atlas-note">'
            f'{escape(t("max_km_hint", lang).format(min=MAX_KM[0], max=MAX_KM[1]))}</p>'
            f'{ends}</form>'
            '<p id="atlas-stage-total" class="atlas-note" role="status" aria-live="polite"></p>'
            '<ol id="atlas-stage-list" class="atlas-list atlas-stage-list"></ol>'
            '<div id="atlas-trip-downloads" class="atlas-trip-downloads" hidden></div>')
    return box("atlas-stages", "stage_planner", form, lang)


def _downloads_html(lang: str) -> str:
    def href(layer: str, fmt: str, query: str) -> str:
        q = "&".join(p for p in (query, "lang=en" if lang == "en" else "") if p)
        return f"/api/export/{layer}.{fmt}" + (f"?{q}" if q else "")

    items = "".join(
        f'<li><a class="atlas-download" href="{escape(href(layer, fmt, query))}" download>'
        f'{escape(get_spec(layer).title(lang))} · '
        f'{escape(t(key, lang))}</a></li>'
        for layer, fmt, key, query in DOWNLOADS)
    return box("atlas-downloads", "downloads", f'<ul class="atlas-list">{items}</ul>', lang)


def build(lang: str, settings: Settings, *, static_url: Callable[[str], str],
          url_for_page: Callable[[str, str], str], args: Mapping[str, str] | None = None
          ) -> folium.Map:
    """The route page's map (see the module docstring)."""
    max_km = parse_max_km((args or {}).get("max_km"))
    query = page_query(args)
    panels = side(
        search_box(lang),
        _planner_html(lang, max_km, query),
        box("atlas-corridor", "corridor_projects",
            '<p id="atlas-corridor-note" class="atlas-note"></p>'
            '<ol id="atlas-corridor-list" class="atlas-list"></ol>', lang),
        _downloads_html(lang), legend_box(lang), provenance_box(lang), lang=lang)
    return build_map(PAGE, lang, settings, static_url=static_url, url_for_page=url_for_page,
                     page_config={"layers": list(LAYERS), "cluster": [], "max_km": max_km,
                                  "km_every": 50, "max_km_range": list(MAX_KM)},
                     scripts=["atlas/route.js"], panels_html=panels, args=args)
