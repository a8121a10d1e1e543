"""The offline search index (layers.search) on the reference layers of a real store."""

from __future__ import annotations

import json

import pytest
import shapely

from layers.open import open_store
from layers.search import TIERS, build_index, index_for, latin_key, towns


@pytest.fixture(scope="module")
def store(ref_store_path):
    return open_store(ref_store_path)


@pytest.fixture(scope="module")
def index(store):
    return index_for(store)


def _first(index, q):
    hits = index.search(q)
    assert hits, q
    return hits[0]


def test_yuanshangdu_finds_the_site_before_road_segments(index):
    hits = index.search("元上都")
    assert hits[0]["name_zh"] == "元上都遗址" and hits[0]["layer"] == "attractions"
    # the road segments named after it come after every place
    layers = [h["layer"] for h in hits]
    assert "scenic_road" in layers
    assert layers.index("scenic_road") > layers.index("attractions")


def test_erlian_port_by_its_short_name(index):
    hit = _first(index, "二连口岸")
    assert (hit["layer"], hit["name_zh"]) == ("ports", "二连浩特口岸")
    assert _first(index, "珠恩口岸")["name_zh"] == "珠恩嘎达布其口岸"


@pytest.mark.parametrize("q", ["xilinhaote", "XiLinHaoTe", "xi lin hao te", "Xīlínhàotè",
                               "xi1lin2hao4te4", "xi'lin'hao'te"])
def test_pinyin_with_and_without_tones_and_spaces(index, q):
    hit = _first(index, q)
    assert hit["name_zh"].startswith("锡林浩特") and hit["match"] == "pinyin"


def test_place_names_keep_their_old_readings(index):
    # 都 reads dōu alone, dū in 上都 (Shàngdū, Xanadu): both find the site
    assert _first(index, "yuanshangdu")["name_zh"] == "元上都遗址"
    assert _first(index, "yuanshangdou")["name_zh"] == "元上都遗址"


def test_english_is_case_insensitive(index):
    assert _first(index, "site of XANADU")["name_zh"] == "元上都遗址"
    assert _first(index, "erenhot port")["name_zh"] == "二连浩特口岸"


def test_places_then_projects_then_road_segments(index):
    for q in ("锡林浩特", "二连浩特", "多伦", "乌拉盖", "xilin", "上都"):
        tiers = [TIERS[h["layer"]] for h in index.search(q, limit=50) if h["match"] != "characters"]
        assert tiers == sorted(tiers), (q, tiers)


def test_results_are_json_with_a_point_on_the_feature(store, index):
    hits = index.search("锡林", limit=40)
    json.dumps(hits)  # JSON-ready
    assert {"id", "layer", "name_zh", "name_en", "lon", "lat", "bounds", "match"} <= set(hits[0])
    frames = {name: store.get(name) for name in {h["layer"] for h in hits} - {"towns"}}
    frames["towns"] = towns()
    for h in hits:
        gdf = frames[h["layer"]]
        col = "adcode" if h["layer"] == "admin" else "id"
        geom = gdf.loc[gdf[col].astype(str) == h["id"]].geometry.iloc[0]
        # the point lies on the feature (lines: on the line; polygons: inside)
        assert geom.distance(shapely.Point(h["lon"], h["lat"])) < 1e-6
        assert h["bounds"] == pytest.approx(list(geom.bounds), abs=1e-6)


def test_nothing_for_empty_or_unknown(index):
    assert index.search("") == [] and index.search("   ") == []
    assert index.search("qwertyzz") == []


def test_pinyin_is_computed_when_the_index_is_built_not_per_query(monkeypatch):
    import geopandas as gpd
    import pypinyin

    idx = build_index({"towns": towns(), "ports": gpd.GeoDataFrame(geometry=[], crs=4326)})

    def boom(*a, **k):
        raise AssertionError("pypinyin called at query time")

    monkeypatch.setattr(pypinyin, "lazy_pinyin", boom)
    assert idx.search("duolun")[0]["name_zh"] == "多伦诺尔镇"


def test_index_is_cached_per_store_version(store, index):
    assert index_for(store) is index
    assert len(index) > 200  # every named reference feature plus the gazetteer's towns


def test_latin_key_agrees_with_the_index_pinyin(index):
    row = index.table[index.table["name_zh"] == "锡林浩特市区"].iloc[0]
    assert row["pinyin"] == latin_key("Xī Lín Hào Tè Shì Qū")
