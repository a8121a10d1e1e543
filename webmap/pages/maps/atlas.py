"""``/``: the atlas — every catalog layer and the saved user layers on one map.

Grouped layer control (groups from :data:`layers.catalog.GROUPS`), legends,
popups and tooltips from the catalog fields, clustered project markers coloured
by category, search by name, measure, fullscreen, minimap, scale bar and a
provenance panel.

Examples
--------
>>> from webmap.pages.maps.atlas import PAGE
>>> PAGE
'atlas'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import folium

from ...core.config import Settings
from .base import build_map
from .panels import legend_box, provenance_box, search_box, side

PAGE = "atlas"


def build(lang: str, settings: Settings, *, static_url: Callable[[str], str],
          url_for_page: Callable[[str, str], str], args: Mapping[str, str] | None = None
          ) -> folium.Map:
    """The atlas page's map (see the module docstring)."""
    panels = side(search_box(lang), legend_box(lang), provenance_box(lang), lang=lang)
    return build_map(PAGE, lang, settings, static_url=static_url, url_for_page=url_for_page,
                     page_config={"layers": "all", "cluster": ["projects"]},
                     panels_html=panels, args=args)
