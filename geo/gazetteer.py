"""Place rows that name a place but have no coordinates, from an offline gazetteer.

A registry kept by a development office says where a project is in words —
``旗县市区 = 多伦县``, ``地点 = 大北沟镇`` or ``所在地 = 多伦县大北沟镇`` — not in
degrees.  :class:`Gazetteer` holds the League's county-level units (with the short
forms people write: 东乌旗, 苏左旗, 锡市 …) and their towns and sumu with approximate
positions (``data/sources/gazetteer.json``), and :meth:`Gazetteer.place` turns
(county, place) text into a point with an honest ``accuracy_m``:

* a town or sumu found by its name, its name without the suffix (大北沟镇 ↔ 大北沟)
  or an alias, inside the county given (or anywhere, when it is unique): the
  town's position and accuracy;
* only the county known (no place, or a place not in the gazetteer): the county
  seat, with the county's extent as accuracy (the root-mean-square distance from
  the seat to the county's area) — coarse, and said so;
* nothing recognisable, the whole League, or a town name shared by several
  counties with none given: not placed, with the reason.

Matching works on unique (county, place) pairs, so a sheet of ten thousand rows
naming a hundred places costs a hundred look-ups.

Examples
--------
>>> gz = Gazetteer.load()
>>> p = gz.place(["多伦县", "东乌旗", "", "某某县"], ["大北沟镇", "", "大北沟", "甲镇"])
>>> p[["county_zh", "matched_zh", "match"]].values.tolist()
[['多伦县', '大北沟镇', 'place'], ['东乌珠穆沁旗', '乌里雅斯太镇', 'county_seat'], ['多伦县', '大北沟镇', 'place_stem'], ['', '', 'none']]
>>> p["accuracy_m"].tolist()[:2]
[25000.0, 121000.0]
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: The gazetteer authored for the atlas.
DEFAULT_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "data", "sources", "gazetteer.json")

#: Suffixes of place names, longest first (大北沟镇 → 大北沟, 贺斯格乌拉牧场 → 贺斯格乌拉).
PLACE_SUFFIXES = ("农牧场", "管理区", "办事处", "街道", "苏木", "牧场", "林场", "镇", "乡", "村",
                  "嘎查", "社区", "区")
#: Suffixes of county-level names.
COUNTY_SUFFIXES = ("管理区", "旗", "县", "市", "区")
#: Words around a place that do not change where it is (境内, 一带 …).
_NOISE = re.compile(r"[(（\[【].*?[)）\]】]|境内|辖区|一带|附近|周边|地区|区域|范围内|以北|以南|以东|以西|"
                    r"北部|南部|东部|西部")

#: Placement kinds, best first.
MATCHES = ("place", "place_stem", "place_alias", "county_seat", "none")


def normalise(text: Any) -> str:
    """Text reduced for matching: NFKC, no spaces, no brackets or 'in the area of' words.

    Examples
    --------
    >>> normalise(" 多伦县 大北沟镇（北部） "), normalise(None), normalise("East  Ujimqin")
    ('多伦县大北沟镇', '', 'eastujimqin')
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = unicodedata.normalize("NFKC", str(text)).lower()
    s = _NOISE.sub("", s)
    return re.sub(r"[\s_\-·・.,，、]", "", s)


def stem(name: str, suffixes: Sequence[str] = PLACE_SUFFIXES) -> str:
    """``name`` without its administrative suffix (kept when nothing else would remain).

    Examples
    --------
    >>> stem("大北沟镇"), stem("贺斯格乌拉牧场"), stem("镇"), stem("多伦县", COUNTY_SUFFIXES)
    ('大北沟', '贺斯格乌拉', '镇', '多伦')
    """
    for suf in suffixes:
        if name.endswith(suf) and len(name) > len(suf) + 1:
            return name[: -len(suf)]
    return name


@dataclass(frozen=True)
class County:
    """A county-level unit of the League."""

    adcode: str
    name_zh: str
    name_en: str
    seat: str
    extent_m: float


@dataclass(frozen=True)
class Place:
    """A town, sumu, township or state farm (or a county seat)."""

    id: str
    name_zh: str
    name_en: str
    kind: str
    county: str
    lon: float
    lat: float
    accuracy_m: float
    source: str
    illustrative: bool


class Gazetteer:
    """The League's county-level units and places, with name look-ups.

    Parameters
    ----------
    doc : dict
        The parsed gazetteer file (see ``data/sources/gazetteer.json``).
    """

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.league = doc.get("league", {})
        self.counties: dict[str, County] = {}
        self.places: dict[str, Place] = {}
        self._county_names: dict[str, str] = {}
        for c in doc["counties"]:
            county = County(c["adcode"], c["name_zh"], c["name_en"], c["seat"],
                            float(c["extent_m"]))
            self.counties[county.adcode] = county
            for name in (c["name_zh"], c["name_en"], stem(normalise(c["name_zh"]),
                                                          COUNTY_SUFFIXES),
                         c["adcode"], *c.get("aliases", ())):
                self._county_names.setdefault(normalise(name), county.adcode)
        self._league_names = {normalise(n) for n in (self.league.get("name_zh", ""),
                                                     self.league.get("name_en", ""),
                                                     *self.league.get("aliases", ())) if n}
        # name → [place ids] (several counties may share a town name), by how it matched.
        self._by_name: dict[str, dict[str, list[str]]] = {"place": {}, "place_stem": {},
                                                          "place_alias": {}}
        for p in doc["places"]:
            place = Place(p["id"], p["name_zh"], p["name_en"], p["kind"], p["county"],
                          float(p["lon"]), float(p["lat"]), float(p["accuracy_m"]),
                          p.get("source", ""), bool(p.get("illustrative", True)))
            self.places[place.id] = place
            full = normalise(place.name_zh)
            self._by_name["place"].setdefault(full, []).append(place.id)
            self._by_name["place"].setdefault(normalise(place.name_en), []).append(place.id)
            self._by_name["place_stem"].setdefault(stem(full), []).append(place.id)
            for a in p.get("aliases", ()):
                self._by_name["place_alias"].setdefault(normalise(a), []).append(place.id)
        # Longest names first for finding a place named inside a longer text.
        self._county_search = sorted(((n, a) for n, a in self._county_names.items()
                                      if len(n) >= 2 and not n.isdigit()),
                                     key=lambda t: -len(t[0]))
        self._place_search = sorted(((n, ids) for kind in ("place", "place_alias", "place_stem")
                                     for n, ids in self._by_name[kind].items() if len(n) >= 2),
                                    key=lambda t: -len(t[0]))

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Gazetteer:
        """The gazetteer in ``path`` (default: the atlas's ``data/sources/gazetteer.json``)."""
        with open(path or DEFAULT_PATH, encoding="utf-8") as fh:
            return cls(json.load(fh))

    # -- look-ups --------------------------------------------------------------------------
    def county(self, text: Any) -> County | None:
        """The county-level unit ``text`` names (full name, short form, English, adcode).

        Examples
        --------
        >>> gz = Gazetteer.load()
        >>> gz.county("苏左旗").name_zh, gz.county("Duolun").adcode, gz.county("北京") is None
        ('苏尼特左旗', '152531', True)
        """
        adcode = self._county_names.get(normalise(text))
        return self.counties[adcode] if adcode else None

    def seat(self, county: County) -> Place:
        """The seat of a county-level unit."""
        return self.places[county.seat]

    def _find_county_in(self, text: str) -> tuple[str | None, str]:
        """A county named at the start of (or inside) ``text``, and the rest of the text."""
        if text in self._county_names:
            return self._county_names[text], ""
        for name, adcode in self._county_search:
            k = text.find(name)
            if k >= 0:
                return adcode, (text[:k] + text[k + len(name):])
        return None, text

    def _find_place(self, text: str, adcode: str | None, contained: bool = True
                    ) -> tuple[list[str], str]:
        """Places ``text`` names (exact, stem, alias, then contained), within ``adcode``."""
        for kind in ("place", "place_stem", "place_alias"):
            ids = self._by_name[kind].get(text) or self._by_name[kind].get(stem(text))
            if ids:
                inside = [i for i in ids if adcode is None or self.places[i].county == adcode]
                if inside or adcode is None:
                    return inside, kind
        if contained:
            for name, ids in self._place_search:  # a village below a town: 大北沟镇某某村
                if name in text:
                    inside = [i for i in ids if adcode is None or self.places[i].county == adcode]
                    if inside:
                        return inside, "place"
        return [], "none"

    def locate(self, county: Any = None, place: Any = None) -> dict[str, Any]:
        """Where one (county, place) pair is; see :meth:`place` for the keys.

        Examples
        --------
        >>> gz = Gazetteer.load()
        >>> r = gz.locate("", "多伦县大北沟镇")
        >>> r["county_zh"], r["matched_zh"], r["match"]
        ('多伦县', '大北沟镇', 'place')
        >>> gz.locate("", "多伦诺尔镇")["match"], gz.locate("锡林郭勒盟", "")["status"]
        ('place', 'league')
        """
        c_text, p_text = normalise(county), normalise(place)
        adcode = None
        problem = ""
        if c_text:
            if c_text in self._league_names:
                problem = "league"
            else:
                adcode, rest = self._find_county_in(c_text)
                if adcode is None:
                    problem = "unknown_county"
                elif rest and not p_text:
                    p_text = rest  # 所在地 = 多伦县大北沟镇 in the county column
        ids: list[str] = []
        kind = "none"
        if p_text:
            ids, kind = self._find_place(p_text, adcode, contained=False)
            if not ids and adcode is None:
                if p_text in self._league_names:
                    problem, p_text = "league", ""
                else:
                    found, rest = self._find_county_in(p_text)
                    if found is not None:
                        adcode, p_text = found, rest
            if not ids and p_text:
                ids, kind = self._find_place(p_text, adcode)
        if len(ids) == 1:
            pl = self.places[ids[0]]
            c = self.counties[pl.county]
            return self._answer(pl, c, kind, "ok",
                                "county_not_recognised" if problem == "unknown_county" else "")
        if len(ids) > 1:
            return self._empty("ambiguous", candidates=[
                f"{self.places[i].name_zh} ({self.counties[self.places[i].county].name_zh})"
                for i in ids])
        if adcode is not None:
            c = self.counties[adcode]
            return self._answer(self.seat(c), c, "county_seat", "ok",
                                "place_not_found" if p_text else "")
        return self._empty(problem or ("unknown_place" if p_text else "empty"))

    def _answer(self, pl: Place, c: County, kind: str, status: str, note: str) -> dict[str, Any]:
        acc = c.extent_m if kind == "county_seat" else pl.accuracy_m
        return {"lon": pl.lon, "lat": pl.lat, "accuracy_m": acc, "adcode": c.adcode,
                "county_zh": c.name_zh, "county_en": c.name_en,
                "matched_zh": pl.name_zh,
                "matched_en": pl.name_en, "place_id": pl.id, "match": kind,
                "status": status, "note": note, "candidates": []}

    @staticmethod
    def _empty(status: str, candidates: list[str] | None = None) -> dict[str, Any]:
        return {"lon": np.nan, "lat": np.nan, "accuracy_m": np.nan, "adcode": "",
                "county_zh": "", "county_en": "", "matched_zh": "", "matched_en": "",
                "place_id": "", "match": "none", "status": status, "note": "",
                "candidates": candidates or []}

    def place(self, county: Sequence[Any] | pd.Series | None = None,
              place: Sequence[Any] | pd.Series | None = None) -> pd.DataFrame:
        """Positions of rows given their county and/or place text.

        Parameters
        ----------
        county, place : sequences of the same length (either may be None)
            What a row says about where it is.

        Returns
        -------
        pandas.DataFrame
            One row per input row: ``lon``, ``lat`` (WGS 84; NaN when not placed),
            ``accuracy_m``, ``adcode``, ``county_zh``, ``county_en``, ``matched_zh``,
            ``matched_en``, ``place_id``, ``match`` (one of :data:`MATCHES`),
            ``status`` (``ok``, ``empty``, ``unknown_county``, ``unknown_place``,
            ``ambiguous``, ``league``), ``note`` (``place_not_found`` when a place was
            given but only its county matched, ``county_not_recognised`` when the
            place alone placed it) and ``candidates`` (for ``ambiguous``).
        """
        n = len(county) if county is not None else len(place) if place is not None else 0
        c = list(county) if county is not None else [""] * n
        p = list(place) if place is not None else [""] * n
        keys = [(normalise(a), normalise(b)) for a, b in zip(c, p, strict=True)]
        cache: dict[tuple[str, str], dict[str, Any]] = {}
        for key in dict.fromkeys(keys):  # unique pairs, in order
            cache[key] = self.locate(*key)
        return pd.DataFrame([cache[k] for k in keys],
                            columns=list(self._empty("empty")))
