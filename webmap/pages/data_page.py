"""The data page, ``/data`` (数据管理 / Data): the catalog layers replaced by one's own data.

Per catalog layer: its current version, source and accuracy, the blank template, and
its history with restore; a form to upload a file, see the automatic column mapping as
drop-downs one can change, preview the result on a map (rows in error highlighted) with
the diff and the totals beside the seed article, then commit.  Writes need the write
token, typed into the page and kept in ``sessionStorage`` (this browser tab only).

The HTML is a small static shell in the page's language; everything else is drawn by
``static/atlas/data.js`` from ``/api/reference``.  The page carries no inline script
and no event-handler attribute (its configuration is a JSON data block), and loads
only the app's own files: Leaflet from ``static/vendor`` for the preview map.

Examples
--------
>>> html = data_html("en", {"lang": "en"}, lambda p: "/static/" + p, lambda p, l: "/" + p)
>>> "<h1" in html and 'id="data-token"' in html and "onclick" not in html
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request
from markupsafe import escape

from ..core.config import current_settings
from .map_pages import static_url, url_for_page
from .maps.base import header_html, safe_json
from .maps.basemaps import basemaps
from .maps.i18n import lang_of, strings, t

bp = Blueprint("data_page", __name__)

#: UI strings of the page (keys of :data:`webmap.pages.maps.i18n.STRINGS`).
DATA_STRINGS = tuple(k for k in strings("zh") if k.startswith("data_")) + (
    "yes", "no", "source", "licence", "datum", "accuracy", "date", "features", "error",
    "warnings", "illustrative", "app_title", "list_sep", "wgs84", "cgcs2000", "gcj02", "bd09",
    "total", "category", "status", "page_atlas", "page_route", "page_watershed", "loading")


def _label(for_id: str, key: str, lang: str) -> str:
    return f'<label for="{for_id}">{escape(t(key, lang))}</label>'


def data_html(lang: str, config: dict[str, Any], static_url: Callable[[str], str],
              url_for_page: Callable[[str, str], str]) -> str:
    """The page's HTML (escaped UI strings only; data.js fills in the rest)."""
    L = lambda key: escape(t(key, lang))  # noqa: E731 - a local shorthand
    datum_options = "".join(
        f'<option value="{v}">{escape(t(v, lang))}</option>'
        for v in ("wgs84", "cgcs2000", "gcj02", "bd09"))
    html_lang = "en" if lang == "en" else "zh-CN"
    return f"""<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{L("page_data")} · {L("app_title")}</title>
<link rel="stylesheet" href="{escape(static_url("vendor/leaflet/leaflet.css"))}">
<link rel="stylesheet" href="{escape(static_url("atlas/atlas.css"))}">
<script type="application/json" id="atlas-data-config">{safe_json(config)}</script>
<script src="{escape(static_url("vendor/leaflet/leaflet.js"))}" defer></script>
<script src="{escape(static_url("atlas/data.js"))}" defer></script>
<script src="{escape(static_url("atlas/store_status.js"))}" defer></script>
</head>
<body class="atlas-data-page">
<a class="atlas-skip" href="#data-main">{L("data_skip")}</a>
{header_html("data", lang, url_for_page)}
<main id="data-main" class="atlas-data" tabindex="-1">
<h1>{L("data_title")}</h1>
<p class="atlas-note">{L("data_intro")}</p>

<section class="atlas-data-box" aria-labelledby="data-token-h">
<h2 id="data-token-h">{L("data_token")}</h2>
<form id="data-token-form" class="atlas-data-row" autocomplete="off">
{_label("data-token", "data_token_label", lang)}
<input type="password" id="data-token" name="token" autocomplete="off" spellcheck="false">
<button type="submit" id="data-token-save">{L("data_token_save")}</button>
<button type="button" id="data-token-clear">{L("data_token_clear")}</button>
</form>
<p class="atlas-note" id="data-token-state" role="status"></p>
</section>

<section class="atlas-data-box" aria-labelledby="data-layers-h">
<h2 id="data-layers-h">{L("data_layers")}</h2>
<div class="atlas-table-scroll"><table class="atlas-table" id="data-layers">
<thead><tr><th scope="col">{L("data_layer")}</th><th scope="col">{L("data_version")}</th>
<th scope="col" class="num">{L("features")}</th><th scope="col">{L("source")}</th>
<th scope="col">{L("accuracy")}</th><th scope="col">{L("data_actions")}</th></tr></thead>
<tbody></tbody></table></div>
<p class="atlas-note" id="data-layers-state" role="status">{L("loading")}</p>
</section>

<section class="atlas-data-box" id="data-replace" aria-labelledby="data-replace-h" hidden>
<h2 id="data-replace-h">{L("data_replace")} <span id="data-replace-layer"></span></h2>
<p class="atlas-note" id="data-replace-hint"></p>
<form id="data-form" class="atlas-data-form" enctype="multipart/form-data">
<div>{_label("data-file", "data_file", lang)}
<input type="file" id="data-file" name="file" required></div>
<div>{_label("data-mode", "data_mode", lang)}
<select id="data-mode" name="mode"><option value="replace">{L("data_mode_replace")}</option>
<option value="append">{L("data_mode_append")}</option></select></div>
<div>{_label("data-source", "data_source", lang)}
<input type="text" id="data-source" name="source" maxlength="500"></div>
<div>{_label("data-licence", "licence", lang)}
<input type="text" id="data-licence" name="licence" maxlength="200"></div>
<div>{_label("data-date", "date", lang)}
<input type="text" id="data-date" name="date" maxlength="40" placeholder="2024-03"></div>
<div>{_label("data-author", "data_author", lang)}
<input type="text" id="data-author" name="author" maxlength="200"></div>
<div class="atlas-data-span">{_label("data-note", "data_note", lang)}
<input type="text" id="data-note" name="note" maxlength="2000"></div>
<div>{_label("data-crs", "data_crs", lang)}
<input type="text" id="data-crs" name="crs" placeholder="EPSG:4548"></div>
<div>{_label("data-datum", "datum", lang)}
<select id="data-datum" name="datum">{datum_options}</select></div>
<div>{_label("data-sheet", "data_sheet", lang)}
<input type="text" id="data-sheet" name="sheet"></div>
<div><input type="checkbox" id="data-illustrative" name="illustrative" value="1">
{_label("data-illustrative", "data_illustrative", lang)}</div>
<div id="data-hook-options" class="atlas-data-wide"></div>
<div class="atlas-data-wide">
<button type="submit" id="data-preview">{L("data_preview")}</button>
<button type="button" id="data-commit" disabled>{L("data_commit")}</button>
<button type="button" id="data-cancel">{L("data_cancel")}</button></div>
</form>
<p id="data-status" role="status" aria-live="polite"></p>
<div id="data-result" hidden>
<h3>{L("data_mapping")}</h3>
<p class="atlas-note">{L("data_mapping_hint")}</p>
<div class="atlas-table-scroll"><table class="atlas-table" id="data-mapping">
<thead><tr><th scope="col">{L("data_field")}</th><th scope="col">{L("data_column")}</th>
<th scope="col">{L("data_how")}</th></tr></thead><tbody></tbody></table></div>
<h3>{L("data_preview_map")}</h3>
<p class="atlas-note">{L("data_preview_map_hint")}</p>
<div id="data-map" class="atlas-data-map" role="region"
     aria-label="{L("data_preview_map")}"></div>
<h3>{L("data_diff")}</h3><div id="data-diff"></div>
<div id="data-totals"></div>
<h3>{L("data_errors")}</h3><ol id="data-errors" class="atlas-list"></ol>
<details><summary>{L("warnings")} <span id="data-warning-count"></span></summary>
<ol id="data-warnings" class="atlas-list"></ol></details>
</div>
</section>

<section class="atlas-data-box" id="data-history" aria-labelledby="data-history-h" hidden>
<h2 id="data-history-h">{L("data_history")} <span id="data-history-layer"></span></h2>
<div class="atlas-table-scroll"><table class="atlas-table" id="data-versions">
<thead><tr><th scope="col">{L("data_version")}</th><th scope="col">{L("data_created")}</th>
<th scope="col">{L("data_author")}</th><th scope="col" class="num">{L("features")}</th>
<th scope="col">{L("source")}</th><th scope="col">{L("data_note")}</th>
<th scope="col">{L("data_actions")}</th></tr></thead><tbody></tbody></table></div>
<p id="data-history-status" role="status" aria-live="polite"></p>
</section>
</main>
</body>
</html>
"""


def _config(lang: str) -> dict[str, Any]:
    bms = basemaps(current_settings())
    default = next((b for b in bms if b.default and b.datum == "wgs84"),
                   next(b for b in bms if b.datum == "wgs84"))
    return {"lang": lang, "api": "/api/reference",
            "strings": {k: t(k, lang) for k in DATA_STRINGS},
            "basemap": {"url": default.url, "attribution": default.attribution,
                        "subdomains": default.subdomains, "max_zoom": default.max_zoom},
            "pages": {"atlas": "/", "route": "/route", "watershed": "/watershed"}}


@bp.get("/data")
def data_page() -> Response:
    """数据管理 / Data: replace the reference layers with one's own data."""
    lang = lang_of(request.args.get("lang"))
    cache = current_app.extensions.setdefault("atlas_data_page", {})
    html = cache.get(lang)
    if html is None:  # a pure function of the language and the app's settings
        html = cache[lang] = data_html(lang, _config(lang), static_url, url_for_page).encode()
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Language"] = "en" if lang == "en" else "zh-CN"
    resp.headers["Cache-Control"] = "no-cache"
    return resp

