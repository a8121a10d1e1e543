"""Offline search over the reference layers: places first, then projects, then road segments.

:func:`build_index` turns named features (a mapping of layer id → GeoDataFrame)
into a :class:`SearchIndex`; :meth:`SearchIndex.search` answers a query with
JSON-ready results (``id``, ``layer``, ``name_zh``, ``name_en``, ``lon``, ``lat``,
``bounds``, ``match``).  A query matches

* Chinese names and aliases as a substring (二连口岸 → 二连浩特口岸 by its alias,
  and, weaker, any name holding the query's characters in order);
* English names case-insensitively;
* pinyin, with or without tone marks, tone numbers or spaces (``xilinhaote``,
  ``Xī lín hào tè``, ``xi1lin2``) and the initials (``xlht``).

Pinyin is computed with ``pypinyin`` once, when the index is built, never per query.
Results are ranked by tier — places (towns, attractions, ports, stations, county
units) first, then rivers, basins and sections, then projects, then road segments —
then by how well they match (exact, prefix, substring, initials, characters in
order), then by the shorter name.  :func:`index_for` keeps one index per store,
rebuilt when a layer version changes.

Towns, sumu and farms, and the short forms people write for the League's units
(东乌旗, 锡市) and towns, come from the offline gazetteer (:mod:`geo.gazetteer`,
``data/sources/gazetteer.json``): :func:`towns` gives the places as points for the
index and, the cities and towns, for the stage planner's overnight alternatives.
Every ranking is made here: ``GET /api/search`` answers with it and the pages show
it as it comes.

Examples
--------
>>> import geopandas as gpd, shapely
>>> ports = gpd.GeoDataFrame({"id": ["port_erenhot"], "name_zh": ["二连浩特口岸"],
...     "name_en": ["Erenhot port"]}, geometry=[shapely.Point(111.97, 43.65)], crs=4326)
>>> road = gpd.GeoDataFrame({"id": ["r1"], "name_zh": ["二连口岸公路段"], "name_en": ["x"]},
...     geometry=[shapely.LineString([(111, 43), (112, 44)])], crs=4326)
>>> idx = build_index({"ports": ports, "scenic_road": road})
>>> [(r["name_zh"], r["match"]) for r in idx.search("二连口岸")]
[('二连浩特口岸', 'alias'), ('二连口岸公路段', 'name')]
>>> idx.search("erlian")[0]["id"]
'port_erenhot'
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.gazetteer import Gazetteer

from .describe import spec_for
from .store import Store

#: Rank of each layer's features (lower first): places, water, projects, the road.
TIERS: dict[str, int] = {
    "towns": 0, "attractions": 0, "ports": 0, "stations": 0, "admin": 0,
    "rivers": 1, "basins": 1, "sections": 1,
    "projects": 2,
    "scenic_road": 3,
}
#: Order among the places of one tier, for equally good matches.
LAYER_ORDER: tuple[str, ...] = ("towns", "attractions", "ports", "stations", "admin", "rivers",
                                "basins", "sections", "projects", "scenic_road")
#: Tier of a layer not listed (user layers): with the projects.
DEFAULT_TIER = 2

#: Other names people use for features the gazetteer does not hold (ports, sights), by
#: feature id; the counties' and towns' come from the gazetteer (:func:`all_aliases`).
ALIASES: dict[str, tuple[str, ...]] = {
    "port_erenhot": ("二连口岸", "二连", "二连浩特", "Erlian port", "Erlianhot", "Erenhot"),
    "port_zhuengadabuqi": ("珠恩口岸", "珠恩嘎达布其", "东乌口岸", "Zhuengadabuqi"),
    "at_xanadu": ("元上都", "上都遗址", "Shangdu", "Xanadu"),
}

#: Characters that only separate words in a pinyin or English query.
_SEPARATORS = re.compile(r"[\s'’\-_.,·/()（）]+")
_TONE_DIGITS = re.compile(r"[1-5]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SEP = "\x1f"  # joins a feature's keys into one searchable string

# -- towns and other names, from the gazetteer ------------------------------------------------
@functools.lru_cache(maxsize=1)
def _gazetteer() -> Gazetteer:
    return Gazetteer.load()


#: Kinds of gazetteer places a traveller can expect a bed in (overnight alternatives).
OVERNIGHT_KINDS: tuple[str, ...] = ("city", "town")


def towns(kinds: tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
    """The League's towns, sumu, townships and farms of the gazetteer as points (EPSG:4326).

    From ``data/sources/gazetteer.json`` (:mod:`geo.gazetteer`): ``id``, ``name_zh``,
    ``name_en``, ``kind`` (``city``, ``town``, ``sumu``, ``township``, ``farm``),
    ``county``/``county_en`` (the county-level unit), ``seat`` (the unit's seat),
    ``source``, ``accuracy_m`` and ``illustrative`` (authored positions, honest to a
    few km: good for a search hit or an overnight suggestion, not for surveying).

    Parameters
    ----------
    kinds : tuple of str, optional
        Only places of these kinds (default: all).

    Examples
    --------
    >>> t = towns()
    >>> t.crs.to_epsg(), int(t["seat"].sum())
    (4326, 13)
    >>> bool(towns(OVERNIGHT_KINDS)["kind"].isin(["city", "town"]).all())
    True
    """
    gz = _gazetteer()
    seats = {c.seat for c in gz.counties.values()}
    rows = [p for p in gz.places.values() if kinds is None or p.kind in kinds]
    county = [gz.counties.get(p.county) for p in rows]
    return gpd.GeoDataFrame(
        {"id": [p.id for p in rows], "name_zh": [p.name_zh for p in rows],
         "name_en": [p.name_en for p in rows], "kind": [p.kind for p in rows],
         "county": [c.name_zh if c else "" for c in county],
         "county_en": [c.name_en if c else "" for c in county],
         "seat": [p.id in seats for p in rows], "source": [p.source for p in rows],
         "accuracy_m": [p.accuracy_m for p in rows],
         "illustrative": [p.illustrative for p in rows]},
        geometry=gpd.points_from_xy([p.lon for p in rows], [p.lat for p in rows]), crs=4326)


def all_aliases() -> dict[str, tuple[str, ...]]:
    """Other names people use, by feature id: :data:`ALIASES` and the gazetteer's short
    forms of the League (``152500``), its county-level units (by adcode: 东乌旗, 锡市 …)
    and its places (by the gazetteer's id).

    Examples
    --------
    >>> a = all_aliases()
    >>> "东乌旗" in a["152525"], "二连口岸" in a["port_erenhot"], "锡林浩特" in a["xilinhot"]
    (True, True, True)
    """
    gz = _gazetteer()
    out: dict[str, tuple[str, ...]] = dict(ALIASES)
    league = gz.league
    if league.get("adcode"):
        out[str(league["adcode"])] = tuple(league.get("aliases", ()))
    for c in gz.doc["counties"]:
        out[str(c["adcode"])] = tuple(c.get("aliases", ()))
    for p in gz.doc["places"]:
        if p.get("aliases"):
            out[str(p["id"])] = tuple(p["aliases"])
    return out


# -- normalising ---------------------------------------------------------------------------
def latin_key(text: str) -> str:
    """A pinyin or English string reduced for matching: lower case, no tone marks or
    numbers, no spaces or apostrophes, ü as u.

    Examples
    --------
    >>> latin_key("Xī lín hào tè"), latin_key("xi1 lin2"), latin_key("Lǜ"), latin_key("lv")
    ('xilinhaote', 'xilin', 'lu', 'lu')
    """
    text = unicodedata.normalize("NFD", str(text).lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _TONE_DIGITS.sub("", _SEPARATORS.sub("", text))
    return text.replace("v", "u")


def english_key(text: str) -> str:
    """An English name for case-insensitive matching (spaces kept, accents dropped).

    Examples
    --------
    >>> english_key("  Site of  Xanadu ")
    'site of xanadu'
    """
    text = unicodedata.normalize("NFD", str(text).lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.split())


#: Most readings of one name indexed (characters with several readings multiply them).
MAX_READINGS = 16


def _pinyin(names: list[str]) -> tuple[list[str], list[str]]:
    """Toneless pinyin (joined) and initials of each name (pypinyin, at build time)."""
    _, pinyin, lazy_pinyin = _pypinyin()
    full, initials = [], []
    for name in names:  # one call per name: pypinyin segments the phrase itself
        syll = [s for s in lazy_pinyin(name, style=0, errors="ignore") if s]
        full.append(latin_key("".join(syll)))
        initials.append("".join(s[0] for s in syll).lower())
    return full, initials


def _pypinyin():
    # Imported when an index is built, not when the app starts (its dictionaries are big).
    from pypinyin import Style, lazy_pinyin, pinyin

    return Style, pinyin, lazy_pinyin


def _other_readings(name: str, first: str) -> list[str]:
    """Pinyin of ``name`` with the other readings of its polyphonic characters.

    Place names keep old readings a phrase dictionary does not know: 上都 is Shàngdū,
    while 都 alone reads dōu first.

    Examples
    --------
    >>> "yuanshangdu" in [r[:11] for r in _other_readings("元上都", "yuanshangdou")]
    True
    """
    import itertools

    Style, pinyin, _ = _pypinyin()
    per_char = [[latin_key(r) for r in dict.fromkeys(rs)] for rs in
                pinyin(name, style=Style.NORMAL, heteronym=True, errors="ignore") if rs]
    out, combos = [], 1
    for i, rs in enumerate(per_char):  # keep the product bounded: extra readings go first
        if combos * len(rs) > MAX_READINGS:
            per_char[i] = rs[:1]
        else:
            combos *= len(rs)
    for combo in itertools.product(*per_char):
        joined = "".join(combo)
        if joined != first and joined not in out:
            out.append(joined)
    return out


def _text(frame: gpd.GeoDataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), "", dtype=object)
    return frame[col].astype("string").fillna("").astype(str).to_numpy(dtype=object)


# -- the index -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SearchIndex:
    """Searchable names of features, one row per feature (see :func:`build_index`).

    Attributes
    ----------
    table : pandas.DataFrame
        ``id``, ``layer``, ``tier``, ``order``, ``name_zh``, ``name_en``, ``lon``,
        ``lat``, ``minx`` … ``maxy`` and the match keys: ``zh_keys`` (name and
        Chinese aliases joined by U+001F), ``en_keys`` (English name and aliases),
        ``pinyin`` (the name's, joined, toneless), ``pinyin_keys`` (with the other
        readings of polyphonic characters and the aliases') and ``initials``.
    """

    table: pd.DataFrame

    def __len__(self) -> int:
        return len(self.table)

    def search(self, query: str, limit: int = 10) -> list[dict[str, Any]]:
        """The features matching ``query``, best first, as JSON-ready dicts.

        Each result has ``id``, ``layer``, ``name_zh``, ``name_en``, ``lon``,
        ``lat`` (a point on the feature), ``bounds`` ([minx, miny, maxx, maxy]),
        ``match`` (``name``, ``alias``, ``english``, ``pinyin``, ``initials`` or
        ``characters``) and the feature's ``county``, ``county_en`` and
        ``accuracy_m`` (None where it has none).  An empty query finds nothing.
        """
        q = str(query or "").strip()
        tab = self.table
        if not q or tab.empty:
            return []
        n = len(tab)
        inf = 99
        quality = np.full(n, inf, dtype=np.int64)
        how = np.full(n, "", dtype=object)

        def better(mask: np.ndarray, score: int, label: str) -> None:
            hit = mask & (score < quality)
            quality[hit] = score
            how[hit] = label

        if _CJK.search(q):
            zq = "".join(q.split())
            keys = tab["zh_keys"].to_numpy(dtype=str)
            name = tab["name_zh"].to_numpy(dtype=str)
            wrapped = np.char.add(np.char.add(_SEP, keys), _SEP)
            better(name == zq, 0, "name")
            better(np.char.find(wrapped, _SEP + zq + _SEP) >= 0, 1, "alias")
            better(np.char.startswith(name, zq), 2, "name")
            better(np.char.find(wrapped, _SEP + zq) >= 0, 3, "alias")
            better(np.char.find(name, zq) >= 0, 4, "name")
            better(np.char.find(keys, zq) >= 0, 5, "alias")
            # Weakest: the query's characters in order (二连口岸 in 二连浩特口岸).
            pattern = ".*".join(map(re.escape, zq))
            better(tab["zh_keys"].str.contains(pattern, regex=True).to_numpy(), 20, "characters")
        else:
            lq, eq = latin_key(q), english_key(q)
            if lq:
                en = tab["en_keys"].to_numpy(dtype=str)
                en_name = tab["en_name"].to_numpy(dtype=str)
                py = tab["pinyin"].to_numpy(dtype=str)
                py_keys = np.char.add(_SEP, tab["pinyin_keys"].to_numpy(dtype=str))
                ini = tab["initials"].to_numpy(dtype=str)
                better(en_name == eq, 0, "english")
                better(py == lq, 0, "pinyin")
                better(np.char.find(np.char.add(py_keys, _SEP), _SEP + lq + _SEP) >= 0, 1,
                       "pinyin")
                better(np.char.startswith(en_name, eq), 2, "english")
                better(np.char.startswith(py, lq), 2, "pinyin")
                better(np.char.find(py_keys, _SEP + lq) >= 0, 3, "pinyin")
                # A word of the English name or an alias starting with the query.
                better(np.char.find(np.char.add(" ", np.char.replace(en, _SEP, " ")),
                                    " " + eq) >= 0, 3, "english")
                better(np.char.find(en, eq) >= 0, 4, "english")
                better(np.char.find(py_keys, lq) >= 0, 4, "pinyin")
                if len(lq) >= 2:
                    better(ini == lq, 6, "initials")
                    better(np.char.startswith(ini, lq) & (len(lq) >= 3), 8, "initials")
        found = np.flatnonzero(quality < inf)
        if not len(found):
            return []
        weak = (quality[found] >= 20).astype(np.int64)
        key_len = tab["name_zh"].str.len().to_numpy()[found]
        order = np.lexsort((tab["name_zh"].to_numpy(dtype=str)[found], key_len,
                            tab["order"].to_numpy()[found], quality[found],
                            tab["tier"].to_numpy()[found], weak))
        rows = found[order][: max(int(limit), 0)]
        out = []
        for i in rows:
            r = tab.iloc[int(i)]
            out.append({
                "id": r["id"], "layer": r["layer"], "name_zh": r["name_zh"],
                "name_en": r["name_en"], "lon": round(float(r["lon"]), 6),
                "lat": round(float(r["lat"]), 6),
                "bounds": [round(float(r[k]), 6) for k in ("minx", "miny", "maxx", "maxy")],
                "match": how[int(i)],
                "county": r["county"] or None, "county_en": r["county_en"] or None,
                "accuracy_m": (None if pd.isna(r["accuracy_m"]) else float(r["accuracy_m"])),
            })
        return out


def build_index(layers: Mapping[str, gpd.GeoDataFrame],
                aliases: Mapping[str, tuple[str, ...]] | None = None) -> SearchIndex:
    """A :class:`SearchIndex` of every named feature of ``layers`` (layer id → frame).

    Features are named by ``name_zh``/``name_en`` (else ``name``); unnamed ones
    are left out.  The id is the ``id`` column (``adcode`` for ``admin``), else the
    row's index.  ``aliases`` (default :func:`all_aliases`) adds other names by id.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> towns = gpd.GeoDataFrame({"id": ["t"], "name_zh": ["锡林浩特"], "name_en": ["Xilinhot"]},
    ...     geometry=[shapely.Point(116.09, 43.93)], crs=4326)
    >>> idx = build_index({"towns": towns})
    >>> idx.table[["pinyin", "initials"]].values.tolist()
    [['xilinhaote', 'xlht']]
    >>> idx.search("XILINHOT")[0]["match"], idx.search("xlht")[0]["match"]
    ('english', 'initials')
    """
    aliases = all_aliases() if aliases is None else aliases
    parts = []
    for layer, frame in layers.items():
        if frame is None or len(frame) == 0:
            continue
        if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
            frame = frame.to_crs(4326)
        zh = _text(frame, "name_zh")
        en = _text(frame, "name_en")
        plain = _text(frame, "name")
        zh = np.where(zh == "", np.where([bool(_CJK.search(p)) for p in plain], plain, ""), zh)
        en = np.where(en == "", np.where(zh == "", plain, ""), en)
        id_col = "adcode" if layer == "admin" and "adcode" in frame else "id"
        ids = _text(frame, id_col) if id_col in frame else np.array(
            [str(i) for i in frame.index], dtype=object)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        # A point on the feature: a line's middle, a polygon's inside point.
        mid = shapely.point_on_surface(geoms)
        lines = shapely.get_dimensions(geoms) == 1
        mid[lines] = shapely.line_interpolate_point(geoms[lines], 0.5, normalized=True)
        bounds = shapely.bounds(geoms)
        parts.append(pd.DataFrame({
            "id": ids, "layer": layer, "tier": TIERS.get(layer, DEFAULT_TIER),
            "order": (LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER)),
            "name_zh": zh, "name_en": en,
            "lon": shapely.get_x(mid), "lat": shapely.get_y(mid),
            "minx": bounds[:, 0], "miny": bounds[:, 1], "maxx": bounds[:, 2], "maxy": bounds[:, 3],
            # What a hit's popup says when the page does not draw the feature.
            "county": _text(frame, "county"), "county_en": _text(frame, "county_en"),
            "accuracy_m": (pd.to_numeric(frame["accuracy_m"], errors="coerce").to_numpy(
                dtype="float64") if "accuracy_m" in frame else np.full(len(frame), np.nan)),
        }))
    columns = ["id", "layer", "tier", "order", "name_zh", "name_en", "lon", "lat", "minx",
               "miny", "maxx", "maxy", "county", "county_en", "accuracy_m"]
    tab = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    tab = tab[(tab["name_zh"] != "") | (tab["name_en"] != "")].reset_index(drop=True)
    extra = [aliases.get(i, ()) for i in tab["id"]]
    zh_alias = [[a for a in al if _CJK.search(a)] for al in extra]
    en_alias = [[a for a in al if not _CJK.search(a)] for al in extra]
    tab["zh_keys"] = [_SEP.join([z, *a]) for z, a in zip(tab["name_zh"], zh_alias, strict=True)]
    tab["en_name"] = [english_key(e) for e in tab["name_en"]]
    tab["en_keys"] = [_SEP.join([english_key(e), *map(english_key, a)])
                      for e, a in zip(tab["name_en"], en_alias, strict=True)]
    py, ini = _pinyin(tab["name_zh"].tolist())
    # Aliases' pinyin too: 二连口岸 → erliankouan finds the port.
    alias_py = [_pinyin(a)[0] if a else [] for a in zh_alias]
    tab["pinyin"] = py
    others = [_other_readings(n, p) for n, p in zip(tab["name_zh"], py, strict=True)]
    tab["pinyin_keys"] = [_SEP.join([p, *o, *a])
                          for p, o, a in zip(py, others, alias_py, strict=True)]
    tab["initials"] = ini
    return SearchIndex(tab)


# -- one index per store -------------------------------------------------------------------
#: The reference layers searched (catalog ids), besides the gazetteer's :func:`towns`.
SEARCH_LAYERS: tuple[str, ...] = ("attractions", "stations", "ports", "admin", "rivers",
                                  "basins", "sections", "projects", "scenic_road")
#: Largest user layer searched (features): pinyin for every name costs ~50 µs, so a
#: layer of a million sites would hold the first search up for a minute.
MAX_USER_FEATURES = 20_000

_CACHE: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], SearchIndex]] = \
    weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def index_for(store: Store) -> SearchIndex:
    """The search index of ``store``: the reference layers, the gazetteer's towns and the
    user layers of at most :data:`MAX_USER_FEATURES` features (named by their layer's
    name field), cached until a layer's version changes or a layer comes or goes.

    Examples
    --------
    >>> import tempfile, os
    >>> from layers.open import open_store
    >>> from layers.prepare import prepare_store
    >>> store = open_store(os.path.join(tempfile.mkdtemp(), "s.gpkg"))
    >>> _ = prepare_store(store)
    >>> index_for(store).search("xilinhaote", 1)[0]["name_zh"]
    '锡林浩特市区'
    >>> index_for(store) is index_for(store)
    True
    """
    infos = {i.name: i for i in store.list_layers()}
    wanted = [n for n in SEARCH_LAYERS if n in infos]
    wanted += sorted(n for n, i in infos.items()
                     if i.user_layer and 0 < i.count <= MAX_USER_FEATURES)
    key = tuple((n, infos[n].version) for n in wanted)
    with _LOCK:
        hit = _CACHE.get(store)
    if hit is not None and hit[0] == key:
        return hit[1]
    frames: dict[str, gpd.GeoDataFrame] = {"towns": towns()}
    for name in wanted:
        frame = store.get(name)
        info = infos[name]
        if info.user_layer:  # named by the layer's name field, whatever it is called
            field = spec_for(store, info).name_field
            if field and field in frame and field not in ("name_zh", "name_en", "name"):
                frame = frame.assign(name=frame[field])
        frames[name] = frame
    index = build_index(frames)
    with _LOCK:
        _CACHE[store] = (key, index)
    return index
