"""Basemaps through xyzservices: OpenStreetMap, Esri imagery, Tianditu, AMap/Gaode, self-hosted.

Each basemap says which datum its tiles are drawn in: Tianditu uses CGCS2000
(the same as WGS 84 at map scale), AMap/Gaode uses GCJ-02, so when a page shows
a Gaode basemap it asks the API for its overlays in GCJ-02.  Tianditu needs a key
(``TIANDITU_KEY``) and is left out without one; ``ATLAS_TILE_URL`` adds a
self-hosted basemap and makes it the default (intranets).

Examples
--------
>>> from webmap.core.config import Settings
>>> [b.id for b in basemaps(Settings())]
['osm', 'esri_imagery', 'gaode_vec', 'gaode_img']
>>> bms = basemaps(Settings(tianditu_key="k", tile_url="http://tiles.lan/{z}/{x}/{y}.png"))
>>> bms[0].id, bms[0].default, [b.id for b in bms if b.labels_url]
('self_hosted', True, ['tianditu_vec', 'tianditu_img'])
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import xyzservices
import xyzservices.providers as xyz

from ...core.config import Settings
from .i18n import t


@dataclass(frozen=True)
class Basemap:
    """One basemap of the pages' layer control.

    Attributes
    ----------
    id : str
        Stable id (also the i18n key of its title).
    url : str
        XYZ URL template (``{s}``, ``{z}``, ``{x}``, ``{y}``).
    attribution : str
        Plain-text attribution (no markup, no links).
    datum : {"wgs84", "gcj02"}
        Datum the tiles are drawn in; overlays are served in it.
    subdomains : str
        Values of ``{s}``.
    max_zoom : int
        Deepest zoom the provider serves.
    labels_url : str
        Optional label overlay drawn above the tiles (Tianditu annotation layers).
    default : bool
        Shown when the page opens.
    """

    id: str
    url: str
    attribution: str
    datum: str = "wgs84"
    subdomains: str = "abc"
    max_zoom: int = 18
    labels_url: str = ""
    default: bool = False

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """JSON for the page's script, with the title in ``lang``."""
        d = asdict(self)
        d["title"] = t(self.id, lang)
        return d


def _plain(text: str) -> str:
    """Attribution as plain text: tags dropped, entities for © resolved."""
    text = re.sub(r"<[^>]+>", "", text).replace("&copy;", "©").replace("(C)", "©")
    return re.sub(r"\s+", " ", text).strip()


def _from_provider(id_: str, provider: xyzservices.TileProvider, datum: str = "wgs84",
                   **kw: Any) -> Basemap:
    fields: dict[str, Any] = {
        "subdomains": "".join(provider.get("subdomains", "abc")),
        "max_zoom": int(provider.get("max_zoom", 18)),
    }
    fields.update(kw)
    return Basemap(id=id_, url=provider.build_url(fill_subdomain=False),
                   attribution=_plain(provider.get("attribution", "")), datum=datum, **fields)


def _tianditu(layer: str, key: str) -> xyzservices.TileProvider:
    """Tianditu WMTS (Web Mercator matrix set ``w``) as an xyzservices provider."""
    return xyzservices.TileProvider(
        name=f"Tianditu.{layer}",
        url=(f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
             f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
             "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"),
        attribution="© 天地图 Tianditu (National Platform for Common GeoSpatial Information "
                    "Services)",
        subdomains="01234567", max_zoom=18, key=key,
    )


def basemaps(settings: Settings) -> list[Basemap]:
    """The basemaps a page offers under the app's ``settings``, default first."""
    out: list[Basemap] = []
    own = settings.tile_url
    if own:
        out.append(Basemap("self_hosted", own, _plain(settings.tile_attribution
                                                      or "Self-hosted tiles"),
                           subdomains="abc", max_zoom=19, default=True))
    out.append(_from_provider("osm", xyz.OpenStreetMap.Mapnik, max_zoom=19, default=not own))
    out.append(_from_provider("esri_imagery", xyz.Esri.WorldImagery))
    key = settings.tianditu_key
    if key:
        for base, labels, id_ in (("vec", "cva", "tianditu_vec"), ("img", "cia", "tianditu_img")):
            bm = _from_provider(id_, _tianditu(base, key))
            out.append(Basemap(**{**asdict(bm), "labels_url":
                                  _tianditu(labels, key).build_url(fill_subdomain=False)}))
    for id_, provider in (("gaode_vec", xyz.Gaode.Normal), ("gaode_img", xyz.Gaode.Satellite)):
        bm = _from_provider(id_, provider, datum="gcj02", subdomains="1234")
        # AMap serves the same tiles over HTTPS from webrd01–04 / webst01–04; the pages'
        # CSP and mixed-content rules only let HTTPS tiles in.
        url = re.sub(r"^http://(web(?:rd|st))0\d", r"https://\g<1>0{s}", bm.url)
        out.append(Basemap(**{**asdict(bm), "url": url}))
    return out
