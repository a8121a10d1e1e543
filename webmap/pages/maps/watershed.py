"""``/watershed``: basins, rivers, sections and projects for ecology staff.

Projects are coloured by basin; picking a basin (click or the select) zooms to it
and shows its project summary from ``/api/stats/projects?basin=`` as a Chart.js
chart and a table; a file of sites uploaded with its datum goes to
``POST /api/overlay`` and comes back as a report table, markers and CSV/GeoJSON
downloads streamed by the server (``format=csv|geojson``, the same file posted again);
a file of more sites than one JSON answer holds (``ATLAS_OVERLAY_MAX_SITES``) runs as
a job (``POST /api/jobs/overlay``) with a progress bar, its downloads the job's result
files; projects can be filtered by category and status.

The water-quality panel (``static/atlas/water.js``) colours the national sections by
their latest class (GB 3838-2002, :mod:`geo.water`), lists them with their annual class
against the target (``/api/sections/quality``), and for a picked section (``?section=``,
kept in the URL) draws its classes over the year with the target as a line, each item
of a sample against its target limit, and — when the section misses its target — the
projects upstream of it (``/api/sections/{id}/upstream``).

Examples
--------
>>> "gcj02" in DATUM_CHOICES
True
>>> "劣Ⅴ类" in _water_html("zh") and "Worse than class V" in _water_html("en")
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import folium
from markupsafe import escape

from geo.water.gb3838 import CLASS_COLOURS, CLASS_EN, CLASS_ZH
from layers.catalog import get_spec

from ...core.config import Settings
from .base import build_map, page_query
from .i18n import t
from .panels import box, legend_box, provenance_box, search_box, side

PAGE = "watershed"
LAYERS = ("admin", "basins", "rivers", "sections", "projects")
DATUM_CHOICES = ("wgs84", "cgcs2000", "gcj02", "bd09")
STATUSES = ("new", "continuing")


def _basin_html(lang: str) -> str:
    inner = (f'<label class="atlas-field" for="atlas-basin-select">'
             f'{escape(t("pick_basin", lang))}</label>'
             f'<select id="atlas-basin-select" name="basin"><option value="">'
             f'{escape(t("all_basins", lang))}</option></select>'
             '<div class="atlas-chart-wrap"><canvas id="atlas-basin-chart" height="180">'
             '</canvas></div><table id="atlas-basin-table" class="atlas-table"></table>')
    return box("atlas-basin", "summary", inner, lang)


def class_label(number: int, lang: str) -> str:
    """A class as the pages write it: ``Ⅲ类`` / ``Class III``, ``劣Ⅴ类`` / ``Worse than
    class V`` (``number`` 1–6)."""
    if number == 6:
        return t("wq_worse_than_v", lang)
    return t("wq_class_zh", lang).format(c=(CLASS_EN if lang == "en" else CLASS_ZH)[number - 1])


def _scroll(table_id: str, label_key: str, lang: str) -> str:
    """A table that scrolls sideways in its own box on a phone: the box takes the
    keyboard focus (so arrow keys scroll it) and is named for screen readers."""
    return (f'<div class="atlas-table-scroll" tabindex="0" role="region" '
            f'aria-label="{escape(t(label_key, lang))}">'
            f'<table id="{table_id}" class="atlas-table"></table></div>')


def _water_html(lang: str) -> str:
    """The water-quality panel: the class legend, the sections' table and the picked
    section's chart, the projects upstream when it misses its target, and a sample's
    items against their limits (filled by ``water.js``)."""
    legend = "".join(
        f'<li><i class="atlas-swatch atlas-swatch-point" style="background:{c}"></i>'
        f'{escape(class_label(n, lang))}</li>' for n, c in enumerate(CLASS_COLOURS, start=1))
    inner = (
        f'<p class="atlas-note">{escape(t("wq_rule", lang))}</p>'
        f'<ul class="atlas-wq-legend" aria-label="{escape(t("legend", lang))}">{legend}</ul>'
        '<p id="atlas-wq-status" class="atlas-note" role="status"></p>'
        f'<label for="atlas-wq-year">{escape(t("wq_year", lang))}</label> '
        '<select id="atlas-wq-year"></select>'
        + _scroll("atlas-wq-sections", "water", lang) +
        '<div id="atlas-wq-detail" hidden>'
        '<h3 id="atlas-wq-title" tabindex="-1"></h3>'
        '<p id="atlas-wq-summary"></p>'
        f'<p id="atlas-wq-missed-title" class="atlas-wq-over" hidden>'
        f'{escape(t("wq_missed_months", lang))}</p>'
        '<ul id="atlas-wq-missed" class="atlas-list atlas-wq-over" hidden></ul>'
        '<div class="atlas-chart-wrap"><canvas id="atlas-wq-chart" role="img"></canvas></div>'
        '<div id="atlas-wq-upstream" hidden>'
        f'<h3>{escape(t("wq_upstream", lang))}</h3>'
        '<p id="atlas-wq-upstream-why"></p>'
        '<p id="atlas-wq-upstream-totals" class="atlas-note"></p>'
        + _scroll("atlas-wq-projects", "wq_upstream", lang) +
        '<p id="atlas-wq-upstream-rule" class="atlas-note"></p>'
        '</div>'
        f'<h3>{escape(t("wq_items", lang))}</h3>'
        f'<label for="atlas-wq-sample">{escape(t("wq_sample", lang))}</label> '
        '<select id="atlas-wq-sample"></select>'
        + _scroll("atlas-wq-items", "wq_items", lang) +
        '</div>'
    )
    return box("atlas-water", "water", inner, lang)


def _filters_html(lang: str, query: Mapping[str, str] | None = None) -> str:
    """Category and status filters of the projects, as the query string sets them
    (``category=energy,industry``: the categories shown; ``status=new``)."""
    query = query or {}
    cats = get_spec("projects").style.categories
    shown = set(query["category"].split(",")) if query.get("category") else None
    boxes = "".join(
        f'<label class="atlas-check"><input type="checkbox" name="category" '
        f'value="{escape(c.value)}"{"" if shown is not None and c.value not in shown else " checked"}>'
        f'<i style="background:{escape(c.color)}"></i>'
        f'{escape(c.label(lang))}</label>' for c in cats)
    status_now = query.get("status", "")
    options = "".join(f'<option value="{s}"{" selected" if s == status_now else ""}>'
                      f'{escape(t("status_" + s, lang))}</option>'
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
        f'<label class="atlas-field" for="atlas-upload-file">{escape(t("upload_file", lang))}'
        '</label>'
        f'<input type="file" name="file" id="atlas-upload-file" '
        'aria-describedby="atlas-upload-hint" '
        'accept=".csv,.txt,.geojson,.json,.zip,.kml,.kmz,.gpx,.gpkg,.xlsx,.xls">'
        f'<p class="atlas-note" id="atlas-upload-hint">{escape(t("upload_hint", lang))}</p>'
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
        # The overlay's rules as the answer states them (placement, drainage, accuracy).
        '<ul id="atlas-overlay-rules" class="atlas-list atlas-note" hidden></ul>'
    )
    return box("atlas-upload", "upload", inner, lang)


def build(lang: str, settings: Settings, *, static_url: Callable[[str], str],
          url_for_page: Callable[[str, str], str], args: Mapping[str, str] | None = None
          ) -> folium.Map:
    """The watershed page's map (see the module docstring)."""
    basin = (args or {}).get("basin") or None
    # An unknown id is the script's to report (it knows the sections); only its length is
    # bounded here, since the page cache keys on the query.
    section = ((args or {}).get("section") or "").strip()[:80] or None
    year = ((args or {}).get("year") or "").strip()
    year = year if year.isdigit() and len(year) == 4 else None
    panels = side(search_box(lang), _basin_html(lang), _water_html(lang), _upload_html(lang),
                  _filters_html(lang, page_query(args)), legend_box(lang), provenance_box(lang),
                  lang=lang)
    return build_map(PAGE, lang, settings, static_url=static_url, url_for_page=url_for_page,
                     page_config={"layers": list(LAYERS), "cluster": [],
                                  "color_projects_by_basin": True, "basin": basin,
                                  "section": section, "year": year,
                                  "overlay_max_sites": settings.overlay_max_sites},
                     scripts=["atlas/watershed.js", "atlas/water.js"], panels_html=panels,
                     args=args)
