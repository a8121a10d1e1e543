"""The layer list as ``/api/layers`` answers it and the map pages carry it.

Each layer is described by :mod:`layers.describe` plus what the store knows (count,
bounds, version) and where the page fetches it (its features URL, and its vector
tiles for large point layers).  The body is built once per (language, layer
versions) and kept in a small memo keyed by its ETag, so neither the API nor a page
view rebuilds it.

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> with app.app_context():
...     from webmap.core.store import get_store
...     etag, body = layer_listing(get_store(), "en")
>>> b'"title":"Administrative units"' in body
True
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from geo.geojson import dumps
from layers.catalog import GROUPS
from layers.describe import describe_spec, spec_for
from layers.records import LayerInfo
from layers.spec import LayerMeta
from layers.store import Store

from .http import ByteLRU, make_etag

#: Point layers above this many features are drawn from vector tiles.
TILE_THRESHOLD = 20_000


def version_tag(info: LayerInfo) -> str:
    """A short tag of the layer's current version, for URLs that must change with it.

    Examples
    --------
    >>> version_tag(LayerInfo("a", 1, (0, 0, 1, 1), "a__v1", "2024"))
    '962da433b4'
    """
    return hashlib.blake2b(info.version.encode(), digest_size=5).hexdigest()


def names_current_version(info: LayerInfo, tag: str | None) -> bool:
    """Whether a request's ``?v=`` tag names ``info``'s current version (its answer may then
    be kept a year: :data:`webmap.core.http.IMMUTABLE`).

    Examples
    --------
    >>> info = LayerInfo("a", 1, (0, 0, 1, 1), "a__v1", "2024")
    >>> names_current_version(info, version_tag(info)), names_current_version(info, None)
    (True, False)
    """
    return tag is not None and tag == version_tag(info)


def describe_layer(store: Store, info: LayerInfo, lang: str = "zh") -> dict[str, Any]:
    """:func:`layers.describe.describe_spec` plus what the store knows: count, bounds,
    version, and the URLs the page draws it from."""
    d = describe_spec(spec_for(store, info), lang)
    bounds = [None if math.isnan(b) else b for b in info.bounds]
    d.update({
        "count": info.count,
        "bounds": bounds,
        "version": info.version,
        "version_number": info.version_number,
        "updated": info.updated,
        # The version in the URL: a page made after a replacement fetches the new
        # features, never a copy the browser kept (such URLs are cached for good).
        "features_url": f"/api/layers/{info.name}/features?v={version_tag(info)}",
    })
    if not d["user_layer"]:
        # Which version the map shows and who made it (the provenance panel says so).
        meta = LayerMeta.from_dict(info.meta)
        d["provenance"].update({
            "version": info.version_number, "builtin": meta.builtin,
            "author": meta.author or None, "note": meta.note or None,
            "uploaded": meta.uploaded or None, "restored_from": meta.restored_from,
            "derived_from": meta.derived_from or None})
    if d["geometry_type"] == "Point" and info.count > TILE_THRESHOLD:
        d["tiles_url"] = f"/tiles/{info.name}/{{z}}/{{x}}/{{y}}.mvt?v={version_tag(info)}"
    return d


def layer_listing(store: Store, lang: str) -> tuple[str, bytes]:
    """(ETag, body) of ``/api/layers`` in ``lang``; the body is built once per layer versions."""
    infos = store.list_layers()
    key = make_etag("layers", lang, *(i.version for i in infos))
    body = _LISTINGS.get(key)
    if body is None:
        layers = [describe_layer(store, i, lang) for i in infos]
        groups = [{"id": g, "title": (t[1] if lang == "en" else t[0])}
                  for g, t in GROUPS.items()]
        body = dumps({"layers": layers, "groups": groups})
        _LISTINGS.put(key, body)
    return key, body


#: Layer-list bodies by ETag (a few languages × layer versions).
_LISTINGS = ByteLRU(4 * 1024 * 1024)
