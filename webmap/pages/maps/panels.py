"""Side-panel HTML shared by the pages (escaped UI strings; the loader fills the data).

Only UI strings from :mod:`webmap.pages.maps.i18n` and catalog labels go into this
HTML, always through :func:`markupsafe.escape`; feature properties never do —
the page's script writes them with ``textContent``.

Examples
--------
>>> '>图例</h2>' in box("legend", "legend")
True
>>> box("x", "legend", '<p id="p"></p>', lang="en")
'<section class="atlas-box" id="x" aria-labelledby="x-h"><h2 id="x-h">Legend</h2><p id="p"></p></section>'
"""

from __future__ import annotations

from markupsafe import escape

from .i18n import t


def box(box_id: str, title_key: str, inner: str = "", lang: str = "zh") -> str:
    """A titled section of the side panel; ``inner`` must already be escaped HTML."""
    return (f'<section class="atlas-box" id="{escape(box_id)}" '
            f'aria-labelledby="{escape(box_id)}-h">'
            f'<h2 id="{escape(box_id)}-h">{escape(t(title_key, lang))}</h2>{inner}</section>')


def side(*sections: str, lang: str = "zh") -> str:
    """The side panel holding ``sections``: a bottom sheet on phones (its handle shows
    and hides it), the skip link's target (focusable, labelled)."""
    handle = (f'<button type="button" class="atlas-sheet-toggle" id="atlas-sheet-toggle" '
              f'aria-controls="atlas-side" aria-expanded="false">'
              f'<span class="atlas-sheet-grip" aria-hidden="true"></span>'
              f'{escape(t("sheet_toggle", lang))}</button>')
    return (f'<aside class="atlas-side" id="atlas-side" tabindex="-1" '
            f'aria-label="{escape(t("side_panel", lang))}">{handle}{"".join(sections)}</aside>')


def search_box(lang: str) -> str:
    """Search places, projects and road segments (ranked as :mod:`layers.search`)."""
    return box("atlas-search", "search",
               f'<label class="atlas-sr" for="atlas-search-input">'
               f'{escape(t("search_label", lang))}</label>'
               f'<input type="search" id="atlas-search-input" autocomplete="off" '
               f'aria-controls="atlas-search-results" '
               f'placeholder="{escape(t("search", lang))}">'
               '<ol id="atlas-search-results" class="atlas-list atlas-hits" '
               f'aria-label="{escape(t("search_results", lang))}"></ol>'
               '<p id="atlas-search-status" class="atlas-sr" role="status"></p>', lang)


def legend_box(lang: str) -> str:
    """Legend of the drawn layers (filled from /api/layers)."""
    return box("atlas-legend", "legend", '<div id="atlas-legend-body"></div>', lang)


def provenance_box(lang: str) -> str:
    """Source, licence, datum, accuracy and date of each layer (filled from /api/layers)."""
    return box("atlas-provenance", "provenance",
               '<div id="atlas-provenance-body" class="atlas-prov"></div>', lang)
