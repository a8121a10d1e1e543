"""Self-hosted browser assets: the one place Folium's CDN links are replaced.

Folium's map and plugins link Leaflet, jQuery, Bootstrap, Font Awesome and the
plugins from public CDNs.  :func:`use_local_assets` rewrites every such link in a
map's element tree to a file under ``webmap/static/vendor/`` (see its
``VENDOR.md``), so a page loads nothing from outside except map tiles.  A link
this module does not know raises :class:`LookupError` rather than reaching a CDN.

Examples
--------
>>> local_path("leaflet")
'vendor/leaflet/leaflet.js'
>>> "glyphicons_css" in DROPPED
True
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from branca.element import Element

#: Folium's asset names → files under ``webmap/static/``.
LOCAL: dict[str, str] = {
    # folium.Map
    "leaflet": "vendor/leaflet/leaflet.js",
    "jquery": "vendor/jquery/jquery.min.js",
    "bootstrap": "vendor/bootstrap/bootstrap.bundle.min.js",
    "awesome_markers": "vendor/leaflet.awesome-markers/leaflet.awesome-markers.min.js",
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "bootstrap_css": "vendor/bootstrap/bootstrap.min.css",
    "awesome_markers_font_css": "vendor/fontawesome-free/css/all.min.css",
    "awesome_markers_css": "vendor/leaflet.awesome-markers/leaflet.awesome-markers.css",
    # folium.plugins
    "Control.Fullscreen.js": "vendor/leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "vendor/leaflet.fullscreen/Control.FullScreen.css",
    "Control_MiniMap_js": "vendor/leaflet-minimap/Control.MiniMap.min.js",
    "Control_MiniMap_css": "vendor/leaflet-minimap/Control.MiniMap.min.css",
    "markerclusterjs": "vendor/leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "vendor/leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "vendor/leaflet.markercluster/MarkerCluster.Default.css",
    "leaflet.groupedlayercontrol.min.js":
        "vendor/leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.js",
    "leaflet.groupedlayercontrol.min.css":
        "vendor/leaflet-groupedlayercontrol/leaflet.groupedlayercontrol.min.css",
    "vectorGrid": "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js",
    "chartjs": "vendor/chart.js/chart.umd.min.js",
}

#: English build of a file, where a plugin bakes its UI language in (none vendored now).
LOCAL_EN: dict[str, str] = {}

#: Folium assets left out: not self-hostable here and not needed by the pages.
DROPPED: frozenset[str] = frozenset({"glyphicons_css", "awesome_rotate_css"})

#: Folium defaults the atlas pages never use (no Bootstrap widgets, no jQuery, no
#: awesome-markers icons; the measure button draws its own SVG): about 480 KB a page
#: view would otherwise download and parse before drawing.
UNUSED_BY_PAGES: frozenset[str] = frozenset({
    "jquery", "bootstrap", "bootstrap_css", "awesome_markers", "awesome_markers_css",
    "awesome_markers_font_css"})


def local_path(name: str, lang: str = "zh") -> str:
    """Path under ``static/`` of the asset Folium calls ``name``.

    Raises
    ------
    LookupError
        For an asset with no local copy (add it to ``static/vendor`` and :data:`LOCAL`).
    """
    if lang == "en" and name in LOCAL_EN:
        return LOCAL_EN[name]
    try:
        return LOCAL[name]
    except KeyError:
        raise LookupError(f"no self-hosted copy of the asset {name!r}: vendor it under "
                          "webmap/static/vendor and list it in webmap.pages.maps.assets.LOCAL"
                          ) from None


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def use_local_assets(root: Element, static_url: Callable[[str], str], lang: str = "zh",
                     drop: Collection[str] = ()) -> None:
    """Point every JS/CSS link of ``root``'s element tree at the app's own copies.

    Parameters
    ----------
    root : branca.element.Element
        A folium map (its plugins are children).
    static_url : callable
        Turns a path under ``static/`` into a URL (``url_for('static', filename=…)``).
    lang : {"zh", "en"}
        Picks the language build of plugins that bake their UI text in.
    drop : collection of str
        More asset names to leave out besides :data:`DROPPED` (e.g. :data:`UNUSED_BY_PAGES`).
    """
    for el in _walk(root):
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if not links:
                continue
            setattr(el, attr, [
                (name, url if not url.startswith(("http://", "https://", "//"))
                 else static_url(local_path(name, lang)))
                for name, url in links if name not in DROPPED and name not in drop
            ])
