"""``GET /api/search?q=&lang=&limit=``: places first, then water, projects, road segments.

One ranking for every page (:mod:`layers.search`): Chinese names and the short forms
people write (二连口岸, 东乌旗), English names, pinyin with or without tones
(``xilinhaote``) and initials, over the reference layers, the gazetteer's towns and
the smaller user layers.  Answers ``{"query", "lang", "results": [...]}``, each result
with ``id``, ``layer``, ``layer_title`` and ``name`` in the asked language,
``name_zh``, ``name_en``, ``lon``, ``lat``, ``bounds``, ``match``, ``county``,
``county_en`` and ``accuracy_m``.

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> hit = app.test_client().get("/api/search?q=二连口岸&lang=en&limit=1").json["results"][0]
>>> hit["name"], hit["layer_title"]
('Erenhot port (二连浩特口岸)', 'Ports of entry')
>>> app.test_client().get("/api/search?q=x&limit=51").json["code"]
'bad_parameter'
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from layers.catalog import get_spec, layer_ids
from layers.describe import spec_for
from layers.search import index_for
from layers.store import LayerNotFound

from ..core.errors import ApiError
from ..core.params import int_value
from ..core.store import get_store

bp = Blueprint("search", __name__)

#: Most results one request may ask for (``limit``), and the default.
MAX_LIMIT = 50
DEFAULT_LIMIT = 10
#: Longest query (characters): names are short; a longer query is a mistake.
MAX_QUERY = 100
#: Title of the gazetteer's places, which are not a layer of the store.
TOWNS_TITLE = ("城镇苏木", "Towns and sumu")


def _layer_title(layer: str, lang: str, titles: dict[str, str]) -> str:
    if layer not in titles:
        if layer == "towns":
            titles[layer] = TOWNS_TITLE[1 if lang == "en" else 0]
        elif layer in layer_ids():
            titles[layer] = get_spec(layer).title(lang)
        else:
            store = get_store()
            try:
                titles[layer] = spec_for(store, store.info(layer)).title(lang)
            except LayerNotFound:  # deleted since the index was built
                titles[layer] = layer
    return titles[layer]


@bp.get("/api/search")
def search():
    """Features whose names match ``q``, best first (at most ``limit``)."""
    q = (request.args.get("q") or "").strip()
    if len(q) > MAX_QUERY:
        raise ApiError(f"q is longer than {MAX_QUERY} characters", 400,
                       hint="search for a name, e.g. q=锡林浩特 or q=xilinhaote",
                       code="bad_parameter", message_zh="搜索的文字太长",
                       hint_zh="请输入一个地名，例如“锡林浩特”")
    limit = int_value("limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
    lang = "en" if request.args.get("lang") == "en" else "zh"
    results = index_for(get_store()).search(q, limit) if q else []
    titles: dict[str, str] = {}
    for r in results:
        zh, en = r["name_zh"], r["name_en"]
        r["name"] = (f"{en} ({zh})" if en and zh and en != zh else en or zh) if lang == "en" \
            else (zh or en)
        r["layer_title"] = _layer_title(r["layer"], lang, titles)
    resp = jsonify({"query": q, "lang": lang, "results": results})
    resp.headers["Cache-Control"] = "no-cache"
    return resp
