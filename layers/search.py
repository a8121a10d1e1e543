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
rebuilt when a layer version changes (the phase-2 ``GET /api/search`` endpoint
calls it).

The League's county seats are not a layer of the store yet: :func:`county_towns`
gives them (authored, with ``source`` and ``accuracy_m``) for the index and for the
stage planner's overnight alternatives.

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

#: Other names people use, by feature id (Chinese short forms, English spellings).
ALIASES: dict[str, tuple[str, ...]] = {
    "port_erenhot": ("二连口岸", "二连", "二连浩特", "Erlian port", "Erlianhot", "Erenhot"),
    "port_zhuengadabuqi": ("珠恩口岸", "珠恩嘎达布其", "东乌口岸", "Zhuengadabuqi"),
    "152500": ("锡盟", "Xilin Gol League", "Xilinguole"),
    "152501": ("二连", "Erlian"),
    "152502": ("锡市", "Xilinhaote"),
    "152522": ("阿旗", "Abaga"),
    "152523": ("苏左旗", "东苏旗", "Sunite Left"),
    "152524": ("苏右旗", "西苏旗", "Sunite Right"),
    "152525": ("东乌旗", "Dong Ujimqin"),
    "152526": ("西乌旗", "Xi Ujimqin"),
    "152527": ("太旗", "Taipusi"),
    "152528": ("黄旗", "Xianghuang"),
    "152529": ("白旗", "Zhengxiangbai"),
    "152530": ("蓝旗", "Zhenglan"),
    "at_xanadu": ("元上都", "上都遗址", "Shangdu", "Xanadu"),
    "town_xilinhot": ("锡市", "Xilinhaote"),
    "town_erenhot": ("二连", "Erlian", "Erlianhaote"),
}

#: Characters that only separate words in a pinyin or English query.
_SEPARATORS = re.compile(r"[\s'’\-_.,·/()（）]+")
_TONE_DIGITS = re.compile(r"[1-5]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SEP = "\x1f"  # joins a feature's keys into one searchable string

# -- county seats --------------------------------------------------------------------------
_SOURCE_TOWNS = ("编绘: 旗县市政府驻地城镇中心, 据公开地名位置取整 / authored: centres of the county "
                 "seats from published place positions, rounded")
#: The League's county seats: (id, 城镇, town, 旗县市, county, lon, lat) in WGS 84.
COUNTY_SEATS: tuple[tuple[str, str, str, str, str, float, float], ...] = (
    ("town_erenhot", "二连浩特", "Erenhot (city)", "二连浩特市", "Erenhot City", 111.977, 43.653),
    ("town_xilinhot", "锡林浩特", "Xilinhot (city)", "锡林浩特市", "Xilinhot City",
     116.086, 43.933),
    ("town_bieligutai", "别力古台镇", "Bieligutai", "阿巴嘎旗", "Abag Banner", 114.970, 44.022),
    ("town_mandulatu", "满都拉图镇", "Mandulatu", "苏尼特左旗", "Sonid Left Banner",
     113.653, 43.854),
    ("town_saihantala", "赛汉塔拉镇", "Saihantala", "苏尼特右旗", "Sonid Right Banner",
     112.656, 42.742),
    ("town_uliastai", "乌里雅斯太镇", "Uliastai", "东乌珠穆沁旗", "East Ujimqin Banner",
     116.972, 45.510),
    ("town_balgargol", "巴拉嘎尔高勒镇", "Balgar Gol", "西乌珠穆沁旗", "West Ujimqin Banner",
     117.615, 44.586),
    ("town_baochang", "宝昌镇", "Baochang", "太仆寺旗", "Taibus Banner", 115.283, 41.877),
    ("town_xinbaolage", "新宝拉格镇", "Xinbaolage", "镶黄旗", "Xianghuang Banner",
     113.847, 42.239),
    ("town_mingantu", "明安图镇", "Ming'antu", "正镶白旗", "Zhengxiangbai Banner",
     115.031, 42.287),
    ("town_shangdu", "上都镇", "Shangdu", "正蓝旗", "Zhenglan Banner", 116.003, 42.241),
    ("town_dolonnur", "多伦诺尔镇", "Dolonnur", "多伦县", "Duolun County", 116.486, 42.203),
    ("town_bayanhushuo", "巴音胡硕镇", "Bayanhushuo", "乌拉盖管理区", "Ulgai Management Area",
     118.850, 45.720),
)


def county_towns() -> gpd.GeoDataFrame:
    """The county seats as points (EPSG:4326) with ``source``, ``accuracy_m``, ``illustrative``.

    Authored from the towns' published positions, rounded to 0.001° and honest
    to about 3 km: good for a search hit or an overnight suggestion, not for
    surveying.  (Phase 2: a ``towns`` layer of the data build.)

    Examples
    --------
    >>> t = county_towns()
    >>> len(t), t.crs.to_epsg(), t.loc[t["id"] == "town_xilinhot", "county"].item()
    (13, 4326, '锡林浩特市')
    """
    ids, zh, en, county, county_en, lon, lat = zip(*COUNTY_SEATS, strict=True)
    return gpd.GeoDataFrame(
        {"id": ids, "name_zh": zh, "name_en": en, "county": county, "county_en": county_en,
         "kind": "county_seat", "source": _SOURCE_TOWNS, "accuracy_m": 3000.0,
         "illustrative": False},
        geometry=gpd.points_from_xy(lon, lat), crs=4326)


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
        ``lat`` (a point on the feature), ``bounds`` ([minx, miny, maxx, maxy])
        and ``match`` (``name``, ``alias``, ``english``, ``pinyin``,
        ``initials`` or ``characters``).  An empty query finds nothing.
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
            })
        return out


def build_index(layers: Mapping[str, gpd.GeoDataFrame],
                aliases: Mapping[str, tuple[str, ...]] | None = None) -> SearchIndex:
    """A :class:`SearchIndex` of every named feature of ``layers`` (layer id → frame).

    Features are named by ``name_zh``/``name_en`` (else ``name``); unnamed ones
    are left out.  The id is the ``id`` column (``adcode`` for ``admin``), else the
    row's index.  ``aliases`` (default :data:`ALIASES`) adds other names by id.

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
    aliases = ALIASES if aliases is None else aliases
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
        }))
    columns = ["id", "layer", "tier", "order", "name_zh", "name_en", "lon", "lat", "minx",
               "miny", "maxx", "maxy"]
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
#: The store layers searched (catalog ids), besides :func:`county_towns`.
SEARCH_LAYERS: tuple[str, ...] = ("attractions", "stations", "ports", "admin", "rivers",
                                  "basins", "sections", "projects", "scenic_road")

_CACHE: weakref.WeakKeyDictionary[Any, tuple[tuple[str, ...], SearchIndex]] = \
    weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def index_for(store: Any) -> SearchIndex:
    """The search index of ``store``'s reference layers and the county seats, cached
    until one of the layers' versions changes (a layer missing from the store is skipped).
    """
    from .store import LayerNotFound

    versions = []
    for name in SEARCH_LAYERS:
        try:
            versions.append(store.info(name).version)
        except LayerNotFound:
            versions.append("")
    key = tuple(versions)
    with _LOCK:
        hit = _CACHE.get(store)
    if hit is not None and hit[0] == key:
        return hit[1]
    frames: dict[str, gpd.GeoDataFrame] = {"towns": county_towns()}
    for name, version in zip(SEARCH_LAYERS, key, strict=True):
        if version:
            frames[name] = store.get(name)
    index = build_index(frames)
    with _LOCK:
        _CACHE[store] = (key, index)
    return index
