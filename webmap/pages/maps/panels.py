"""Side-panel HTML shared by the pages (escaped UI strings; the loader fills the data).

Only UI strings from :mod:`webmap.pages.maps.i18n` and catalog labels go into this
HTML, always through :func:`markupsafe.escape`; feature properties never do —
the page's script writes them with ``textContent``.

Examples
--------
>>> "<h3>图例</h3>" in box("legend", "legend")
True
>>> box("x", "legend", '<p id="p"></p>', lang="en")
'<section class="atlas-box" id="x"><h3>Legend</h3><p id="p"></p></section>'
"""

from __future__ import annotations

from markupsafe import escape

from .i18n import t


def box(box_id: str, title_key: str, inner: str = "", lang: str = "zh") -> str:
    """A titled section of the side panel; ``inner`` must already be escaped HTML."""
    return (f'<section class="atlas-box" id="{escape(box_id)}">'
            f'<h3>{escape(t(title_key, lang))}</h3>{inner}</section>')


def side(*sections: str) -> str:
    """The side panel holding ``sections``."""
    return f'<aside class="atlas-side" id="atlas-side">{"".join(sections)}</aside>'


def search_box(lang: str) -> str:
    """Search by name across the loaded layers (offline, in the page)."""
    return box("atlas-search", "search",
               f'<input type="search" id="atlas-search-input" autocomplete="off" '
               f'placeholder="{escape(t("search", lang))}">'
               '<ol id="atlas-search-results" class="atlas-list"></ol>', lang)


def legend_box(lang: str) -> str:
    """Legend of the drawn layers (filled from /api/layers)."""
    return box("atlas-legend", "legend", '<div id="atlas-legend-body"></div>', lang)


def provenance_box(lang: str) -> str:
    """Source, licence, datum, accuracy and date of each layer (filled from /api/layers)."""
    return box("atlas-provenance", "provenance",
               '<div id="atlas-provenance-body" class="atlas-prov"></div>', lang)
