"""The map every page starts from: Folium map, controls, page chrome and the layer loader.

A page is a :class:`folium.Map` with Folium's fullscreen and minimap controls
(the loader adds a metric scale bar and a measure tool), a header (title, page
links, language switch) and an
:class:`AtlasPage` element that starts the atlas loader (``static/atlas/atlas.js``)
with a small JSON configuration.  The loader fetches the layers from
``/api/layers`` and their features from ``/api/layers/<id>/features``: no layer
data is inlined, so the first HTML stays a few tens of kilobytes whatever the
layers weigh.

Examples
--------
>>> safe_json({"a": "</script>"})
'{"a": "\\\\u003c/script>"}'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.map import FitBounds
from folium.plugins import Fullscreen, MiniMap
from folium.template import Template
from markupsafe import escape

from geo.validate import LEAGUE_BBOX

from ...core.config import Settings
from .assets import UNUSED_BY_PAGES, local_path, use_local_assets
from .basemaps import Basemap, basemaps
from .i18n import strings, t

#: Centre and zoom showing the whole League.
CENTER = (44.0, 115.8)
ZOOM = 6

#: The page object's hook files (``static/atlas/<name>.js``), loaded on every page after
#: ``atlas.js``: the view and page state in the URL and sharing, search, printing,
#: accuracy circles.  A page's own file (route.js, watershed.js) comes after them.
HOOKS: tuple[str, ...] = ("state", "search", "print", "uncertainty")

#: Pages in the header's navigation: (id, path).
PAGES: tuple[tuple[str, str], ...] = (("atlas", "/"), ("route", "/route"),
                                      ("watershed", "/watershed"), ("data", "/data"))


def safe_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>`` break-out)."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class AtlasPage(JSCSSMixin, MacroElement):
    """Loads the atlas scripts and starts the loader on the map with ``config``.

    Parameters
    ----------
    config : dict
        Page configuration handed to ``Atlas.start`` (JSON).
    scripts, styles : list of (name, url)
        The atlas's own JS and CSS files (already resolved to URLs).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
            window.atlas = Atlas.start({{ this._parent.get_name() }}, {{ this.config_json }});
        {% endmacro %}
    """)

    def __init__(self, config: dict[str, Any], scripts: list[tuple[str, str]],
                 styles: list[tuple[str, str]]) -> None:
        super().__init__()
        self._name = "AtlasPage"
        self.config = config  # read by webmap.pages (which layers the page starts with)
        self.config_json = safe_json(config)
        self.default_js = scripts
        self.default_css = styles


def skip_link(lang: str) -> str:
    """The map pages' first tab stop: a link to the side panel (shown when focused).

    Examples
    --------
    >>> skip_link("en")
    '<a class="atlas-skip" href="#atlas-side">Skip to the side panel</a>'
    """
    return f'<a class="atlas-skip" href="#atlas-side">{escape(t("skip_to_panel", lang))}</a>'


def header_html(page: str, lang: str, url_for_page: Callable[[str, str], str]) -> str:
    """The page header: title, links to the pages, language switch (escaped).

    The language link carries only ``lang`` here; on the map pages
    ``static/atlas/state.js`` adds the page's state (query and view) to it as the state
    changes.  Each page puts its own skip link before the header (:func:`skip_link`).
    """
    other = "zh" if lang == "en" else "en"
    links = "".join(
        f'<a class="atlas-nav{" active" if pid == page else ""}" '
        f'{"aria-current=" + chr(34) + "page" + chr(34) + " " if pid == page else ""}'
        f'href="{escape(url_for_page(pid, lang))}">{escape(t("page_" + pid, lang))}</a>'
        for pid, _ in PAGES)
    other_tag = "zh-CN" if other == "zh" else "en"
    return (
        f'<header class="atlas-header" lang="{"en" if lang == "en" else "zh-CN"}">'
        f'<h1 class="atlas-title">{escape(t("app_title", lang))}</h1>'
        f'<nav aria-label="{escape(t("pages_nav", lang))}">{links}</nav>'
        f'<a class="atlas-lang" id="atlas-lang" lang="{other_tag}" hreflang="{other_tag}" '
        f'href="{escape(url_for_page(page, other))}">{escape(t("switch_lang", lang))}</a>'
        '</header>'
    )


#: Query parameters that are page state (kept in the URL, carried by the language switch).
STATE_KEYS: tuple[str, ...] = ("max_km", "start", "end", "direction", "basin", "section", "year",
                               "category", "status", "print")


def page_query(args: Mapping[str, str] | None) -> dict[str, str]:
    """The page-state part of a request's query (``lang`` excluded), values trimmed.

    Examples
    --------
    >>> page_query({"max_km": " 100 ", "lang": "en", "x": "1", "basin": ""})
    {'max_km': '100'}
    """
    out = {}
    for key in STATE_KEYS:
        value = (args or {}).get(key)
        if value is not None and str(value).strip():
            out[key] = str(value).strip()[:80]
    return out


def build_map(
    page: str,
    lang: str,
    settings: Settings,
    *,
    static_url: Callable[[str], str],
    url_for_page: Callable[[str, str], str],
    page_config: dict[str, Any] | None = None,
    scripts: Sequence[str] = (),
    panels_html: str = "",
    args: Mapping[str, str] | None = None,
) -> folium.Map:
    """A page's Folium map with every shared part attached.

    Parameters
    ----------
    page : {"atlas", "route", "watershed"}
        Which page (navigation highlight, loader behaviour).
    lang : {"zh", "en"}
        Page language.
    settings : webmap.core.config.Settings
        The app's settings (basemaps: Tianditu key, self-hosted tiles).
    static_url : callable
        Path under ``static/`` → URL.
    url_for_page : callable
        ``(page id, lang)`` → URL of that page.
    page_config : dict, optional
        Extra configuration for the page's script (merged into the loader config).
    scripts : sequence of str
        Extra scripts under ``static/`` for this page, loaded after ``atlas/atlas.js``.
    panels_html : str
        Already escaped HTML of the page's side panels.
    args : mapping, optional
        The request's query: its page state (:func:`page_query`) reaches the script.
    """
    bms: list[Basemap] = basemaps(settings)
    default = next(b for b in bms if b.default)
    m = folium.Map(location=CENTER, zoom_start=ZOOM, tiles=None, control_scale=False,
                   min_zoom=3, max_zoom=18)
    # Open on the whole League whatever the window size (zoom 6 leaves it small on a laptop).
    # Without animation: the loader reads the zoom right after this line and would
    # otherwise fetch every layer at the animation's starting zoom, then again.
    minx, miny, maxx, maxy = LEAGUE_BBOX
    fit = FitBounds([[miny, minx], [maxy, maxx]])
    fit.options["animate"] = False
    fit.add_to(m)
    m.get_root().title = f'{t("page_" + page, lang)} · {t("app_title", lang)}'
    Fullscreen(position="topleft", title=t("fullscreen", lang),
               title_cancel=t("exit_fullscreen", lang)).add_to(m)
    MiniMap(tile_layer=folium.TileLayer(tiles=default.url, attr=default.attribution,
                                        subdomains=default.subdomains),
            toggle_display=True, zoom_level_offset=-5, position="bottomright",
            strings={"hideText": t("minimap_hide", lang),
                     "showText": t("minimap_show", lang)}).add_to(m)
    cfg: dict[str, Any] = {
        "page": page,
        "lang": lang,
        "api": "/api",
        "strings": strings(lang),
        "basemaps": [b.to_dict(lang) for b in bms],
        "center": list(CENTER),
        "zoom": ZOOM,
        "bounds": list(LEAGUE_BBOX),
        "query": page_query(args),
        "assets": {"qrcode": static_url("vendor/qrcode-generator/qrcode.js")},
        "endpoints": {"search": "/api/search", "trip": "/api/route/trip"},
    }
    cfg.update(page_config or {})
    # Plugin files the loader uses directly (not through a Folium plugin element).
    vendor_js = ["markerclusterjs", "leaflet.groupedlayercontrol.min.js", "vectorGrid"]
    if page == "watershed":
        vendor_js.append("chartjs")
    vendor_css = ["markerclustercss", "markerclusterdefaultcss",
                  "leaflet.groupedlayercontrol.min.css"]
    js = [(n, static_url(local_path(n, lang))) for n in vendor_js]
    js += [("atlas_js", static_url("atlas/atlas.js"))]
    js += [(f"atlas_hook_{name}", static_url(f"atlas/{name}.js")) for name in HOOKS]
    js += [(f"atlas_{i}", static_url(s)) for i, s in enumerate(scripts)]
    css = [(n, static_url(local_path(n, lang))) for n in vendor_css]
    css += [("atlas_css", static_url("atlas/atlas.css"))]
    root = m.get_root()
    root.html.add_child(Element(skip_link(lang) + header_html(page, lang, url_for_page)),
                       name="atlas_header")
    if panels_html:
        root.html.add_child(Element(panels_html), name="atlas_panels")
    AtlasPage(cfg, js, css).add_to(m)
    # Every Folium CDN link → the vendored files; Folium's defaults the pages never use go.
    use_local_assets(m, static_url, lang, drop=UNUSED_BY_PAGES)
    return m


#: Folium's viewport forbids zooming the page (``user-scalable=no``): people with low
#: vision need it (WCAG 1.4.4), and the map handles its own pinch zoom anyway.
_VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1.0" />'


def render(m: folium.Map, lang: str = "zh") -> str:
    """The page's full HTML."""
    html = m.get_root().render()
    html = re.sub(r'<meta name="viewport"[^>]*>', _VIEWPORT, html, count=1)
    return html.replace("<html>", f'<html lang="{"en" if lang == "en" else "zh-CN"}">', 1)
