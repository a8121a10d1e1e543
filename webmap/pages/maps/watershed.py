"""``/watershed``: basins, rivers, sections and projects for ecology staff.

Projects are coloured by basin; picking a basin (click or the select) zooms to it
and shows its project summary from ``/api/stats/projects?basin=`` as a Chart.js
chart and a table; a file of sites uploaded with its datum goes to
``POST /api/overlay`` and comes back as a report table, markers and CSV/GeoJSON
downloads; projects can be filtered by category and status.

Examples
--------
>>> "gcj02" in DATUM_CHOICES
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import folium
from markupsafe import escape

from layers.catalog import get_spec

from ...core.config import Settings
from .base import build_map
from .i18n import t
from .panels import box, legend_box, provenance_box, side

PAGE = "watershed"
LAYERS = ("admin", "basins", "rivers", "sections", "projects")
DATUM_CHOICES = ("wgs84", "cgcs2000", "gcj02", "bd09")
STATUSES = ("new", "continuing")


def _basin_html(lang: str) -> str:
    inner = (f'<select id="atlas-basin-select"><option value="">'
             f'{escape(t("all_basins", lang))}</option></select>'
             '<div class="atlas-chart-wrap"><canvas id="atlas-basin-chart" height="180">'
             '</canvas></div><table id="atlas-basin-table" class="atlas-table"></table>')
    return box("atlas-basin", "summary", inner, lang)


def _filters_html(lang: str) -> str:
    cats = get_spec("projects").style.categories
    boxes = "".join(
        f'<label class="atlas-check"><input type="checkbox" name="category" '
        f'value="{escape(c.value)}" checked><i style="background:{escape(c.color)}"></i>'
        f'{escape(c.label(lang))}</label>' for c in cats)
    options = "".join(f'<option value="{s}">{escape(t("status_" + s, lang))}</option>'
                      for s in STATUSES)
    status = (f'<label>{escape(t("status", lang))} <select id="atlas-status-filter">'
              f'<option value="">{escape(t("all", lang))}</option>{options}</select></label>')
    return box("atlas-filters", "filters",
               f'<form id="atlas-filter-form"><div>{boxes}</div>{status}</form>', lang)


def _upload_html(lang: str) -> str:
    datums = "".join(f'<option value="{d}">{escape(t(d, lang))}</option>'
                     for d in DATUM_CHOICES)
    inner = (
        '<form id="atlas-upload-form" enctype="multipart/form-data">'
        f'<input type="file" name="file" id="atlas-upload-file" '
        'accept=".csv,.txt,.geojson,.json,.zip,.kml,.kmz,.gpx,.gpkg,.xlsx,.xls">'
        f'<p class="atlas-note">{escape(t("upload_hint", lang))}</p>'
        f'<label>{escape(t("datum_of_file", lang))} '
        f'<select name="datum" id="atlas-upload-datum">{datums}</select></label> '
        f'<button type="submit" id="atlas-upload-submit">{escape(t("overlay", lang))}</button>'
        '</form>'
        '<progress id="atlas-upload-progress" hidden></progress>'
        '<p id="atlas-upload-status" class="atlas-note" role="status"></p>'
        '<div id="atlas-upload-downloads" hidden>'
        f'<a id="atlas-download-csv" download="overlay.csv" href="#">'
        f'{escape(t("download_csv", lang))}</a> · '
        f'<a id="atlas-download-geojson" download="overlay.geojson" href="#">'
        f'{escape(t("download_geojson", lang))}</a></div>'
        '<table id="atlas-report-table" class="atlas-table"></table>'
        # Eight columns do not fit the side panel: the table scrolls sideways instead
        # of wrapping names one character per line.
        '<div class="atlas-table-scroll">'
        '<table id="atlas-sites-table" class="atlas-table"></table></div>'
    )
    return box("atlas-upload", "upload", inner, lang)


def build(lang: str, settings: Settings, *, static_url: Callable[[str], str],
          url_for_page: Callable[[str, str], str], args: Mapping[str, str] | None = None
          ) -> folium.Map:
    """The watershed page's map (see the module docstring)."""
    basin = (args or {}).get("basin") or None
    panels = side(_basin_html(lang), _upload_html(lang), _filters_html(lang),
                  legend_box(lang), provenance_box(lang))
    return build_map(PAGE, lang, settings, static_url=static_url, url_for_page=url_for_page,
                     page_config={"layers": list(LAYERS), "cluster": [],
                                  "color_projects_by_basin": True, "basin": basin},
                     scripts=["atlas/watershed.js"], panels_html=panels)
