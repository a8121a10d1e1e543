"""CQL2 filters and sortby (layers/filter.py) on the real projects layer.

Each filter's NumPy mask is compared with the same selection written independently in
pandas/GeoPandas, and its SQL translation is run on a real PostGIS (the throwaway cluster
of tests/pg.py) against a table loaded here with plain psycopg, the ids compared with the
GeoPandas selection.
"""

from __future__ import annotations

import json
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from layers.filter import (
    FilterError,
    SqlColumn,
    check_filter,
    datetime_filter,
    filter_mask,
    filter_sql,
    infer_kinds,
    parse_filter,
    parse_sortby,
    quote_ident,
    sort_positions,
    sortby_sql,
    sql_columns,
)
from layers.store import QueryError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data", "xilingol")


@pytest.fixture(scope="module")
def projects() -> gpd.GeoDataFrame:
    return gpd.read_file(os.path.join(DATA, "projects.geojson"))


@pytest.fixture(scope="module")
def xilinhot() -> shapely.Geometry:
    admin = gpd.read_file(os.path.join(DATA, "admin.geojson"))
    # Simplified so the literal stays a reasonable query-string length.
    return admin.loc[admin.name_zh == "锡林浩特市"].geometry.iloc[0].simplify(0.01)


def _box():
    return shapely.box(115, 43, 117, 45)


# (filter, independent selection on the GeoDataFrame g)
CASES = [
    ("category = 'energy'", lambda g: g.category == "energy"),
    ("total_investment_yi > 10 AND plan_2023_yi <= 2.5",
     lambda g: (g.total_investment_yi > 10) & (g.plan_2023_yi <= 2.5)),
    ("total_investment_yi >= 5.775", lambda g: g.total_investment_yi >= 5.775),
    ("name_zh LIKE '%光伏%'", lambda g: g.name_zh.str.contains("光伏", regex=False)),
    ("name_en LIKE 'S%'", lambda g: g.name_en.str.startswith("S")),
    ("name_en LIKE '%o_e%'", lambda g: g.name_en.str.contains(r"o.e", regex=True)),
    ("name_en NOT LIKE '%City%'", lambda g: ~g.name_en.str.contains("City", regex=False)),
    ("category IN ('energy', 'ecology')", lambda g: g.category.isin(["energy", "ecology"])),
    ("category NOT IN ('energy')", lambda g: g.category != "energy"),
    ("total_investment_yi BETWEEN 5 AND 10", lambda g: g.total_investment_yi.between(5, 10)),
    ("total_investment_yi NOT BETWEEN 5 AND 10",
     lambda g: ~g.total_investment_yi.between(5, 10)),
    ("county IS NULL", lambda g: g.county.isna()),
    ("county IS NOT NULL", lambda g: g.county.notna()),
    ("NOT (category = 'energy' OR permits_complete = FALSE)",
     lambda g: ~((g.category == "energy") | ~g.permits_complete)),
    ("permits_complete = TRUE AND status <> 'new'",
     lambda g: g.permits_complete & (g.status != "new")),
    # AND binds tighter than OR
    ("id = 'P001' OR id = 'P002' AND category = 'industry'",
     lambda g: (g.id == "P001") | ((g.id == "P002") & (g.category == "industry"))),
    ("plan_2023_yi * 1 < 0", None),  # arithmetic: refused (checked below)
    ("plan_2023_yi < total_investment_yi / 4", None),
    ("plan_2023_yi > total_investment_yi", lambda g: g.plan_2023_yi > g.total_investment_yi),
    ("name_zh > '锡'", lambda g: g.name_zh > "锡"),
    ("county_en <= 'M'", lambda g: g.county_en <= "M"),
    ("S_INTERSECTS(geometry, POLYGON((115 43, 117 43, 117 45, 115 45, 115 43)))",
     lambda g: g.intersects(_box())),
    ("S_WITHIN(geometry, BBOX(115, 43, 117, 45))", lambda g: g.within(_box())),
    ("S_DISJOINT(geometry, BBOX(115, 43, 117, 45))", lambda g: g.disjoint(_box())),
    ("S_WITHIN(BBOX(115, 43, 117, 45), geometry)", lambda g: g.contains(_box())),
    ("S_CONTAINS(geometry, POINT(116.387518 43.520575))",
     lambda g: g.contains(shapely.Point(116.387518, 43.520575))),
    ("S_INTERSECTS(geometry, BBOX(115, 43, 117, 45)) AND category = 'energy' "
     "AND NOT permits_complete = TRUE",
     lambda g: g.intersects(_box()) & (g.category == "energy") & ~g.permits_complete),
    ("name_zh = 'It''s'", lambda g: g.name_zh == "It's"),
    ("TRUE", lambda g: pd.Series(True, index=g.index)),
    ("FALSE OR category = 'social'", lambda g: g.category == "social"),
    ("1 = 2 OR status = 'new'", lambda g: g.status == "new"),
    ("10 < total_investment_yi", lambda g: g.total_investment_yi > 10),
]
SUPPORTED = [(f, sel) for f, sel in CASES if sel is not None]


def _ids(g: gpd.GeoDataFrame, mask) -> list[str]:
    return sorted(g.loc[np.asarray(mask, dtype=bool), "id"].tolist())


@pytest.mark.parametrize("use_tree", [False, True])
@pytest.mark.parametrize(("text", "select"), SUPPORTED, ids=[c[0][:60] for c in SUPPORTED])
def test_mask_equals_geopandas_selection(projects, text, select, use_tree):
    tree = shapely.STRtree(projects.geometry.values) if use_tree else None
    mask = filter_mask(parse_filter(text), projects, tree=tree)
    assert mask.dtype == bool and mask.shape == (len(projects),)
    assert _ids(projects, mask) == _ids(projects, select(projects).fillna(False))


def test_the_cases_select_something_and_not_everything(projects):
    # Guard against a battery that passes because everything is empty.
    sizes = [int(filter_mask(parse_filter(t), projects).sum()) for t, _ in SUPPORTED]
    assert sum(0 < s < len(projects) for s in sizes) >= 20


def test_a_county_polygon_and_cql2_json(projects, xilinhot):
    lit = json.loads(shapely.to_geojson(xilinhot))
    flt = parse_filter({"op": "and", "args": [
        {"op": "s_within", "args": [{"property": "geometry"}, lit]},
        {"op": ">", "args": [{"property": "total_investment_yi"}, 3]}]})
    expected = projects.within(xilinhot) & (projects.total_investment_yi > 3)
    assert expected.sum() > 0
    assert _ids(projects, filter_mask(flt, projects)) == _ids(projects, expected)
    # The same as CQL2 text (WKT) and as a JSON string with filter-lang.
    text = f"S_WITHIN(geometry, {xilinhot.wkt}) AND total_investment_yi > 3"
    assert filter_mask(parse_filter(text), projects).tolist() == \
        filter_mask(parse_filter(json.dumps(flt.ast), "cql2-json"), projects).tolist()


def test_filter_crs_gauss_kruger_northing_first(projects):
    # A rectangle in CGCS2000 / 3-degree Gauss-Krüger CM 117E, written northing first.
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True)
    e0, n0 = to_gk.transform(116.0, 43.6)
    e1, n1 = to_gk.transform(117.5, 44.6)
    gk = projects.to_crs(4548)  # GeoPandas: x = easting, y = northing
    expected = gk.within(shapely.box(e0, n0, e1, n1))
    assert 0 < expected.sum() < len(projects)
    ring = [(n0, e0), (n0, e1), (n1, e1), (n1, e0), (n0, e0)]
    wkt = "POLYGON((" + ", ".join(f"{a:.3f} {b:.3f}" for a, b in ring) + "))"
    flt = parse_filter(f"S_WITHIN(geometry, {wkt})",
                       crs="http://www.opengis.net/def/crs/EPSG/0/4548")
    assert _ids(projects, filter_mask(flt, projects)) == _ids(projects, expected)
    # EPSG:4326 as filter-crs is latitude first.
    flt = parse_filter("S_WITHIN(geometry, BBOX(43, 115, 45, 117))", crs="EPSG:4326")
    assert _ids(projects, filter_mask(flt, projects)) == _ids(projects, projects.within(_box()))


@pytest.mark.parametrize(("text", "words"), [
    ("nope = 1", ["unknown property 'nope'", "未知属性", "`nope = 1`", "total_investment_yi"]),
    ("total_investment_yi > 'abc'", ["type mismatch", "类型不匹配", "is a number"]),
    ("category = 3", ["type mismatch", "category is text"]),
    ("permits_complete = 'yes'", ["type mismatch", "boolean"]),
    ("permits_complete > TRUE", ["only = and <>"]),
    ("total_investment_yi LIKE '1%'", ["LIKE needs a text property"]),
    ("name_en LIKE 'abc\\'", ["lone escape"]),
    ("plan_2023_yi * 1 < 0", ["arithmetic", "算术"]),
    ("T_AFTER(name_zh, DATE('2023-01-01'))", ["temporal operators", "T_AFTER"]),
    ("S_CROSSES(geometry, LINESTRING(116 44, 117 45))", ["spatial function", "S_CROSSES"]),
    ("CASEI(name_en) = CASEI('x')", ["CASEI", "不支持"]),
    ("foo(geometry)", ["unsupported function FOO", "不支持函数"]),
    ("categ ory = 'energy'", ["categ is a property, not a condition"]),
    ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", ["invalid geometry literal"]),
    ("S_INTERSECTS(name_zh, POINT(1 1))", ["not the geometry"]),
    ("geometry = 'x'", ["spatial functions"]),
    ("category = NULL", ["IS NULL"]),
    ("category = 'energy' AND", ["not valid CQL2 text", "line 1, column 24"]),
])
def test_errors_say_which_part_in_both_languages(projects, text, words):
    with pytest.raises(FilterError) as info:
        filter_mask(parse_filter(text), projects)
    e = info.value
    assert isinstance(e, QueryError)  # → 400 in the web layer
    msg = f"{e} {e.hint} {e.message_zh} {e.hint_zh}"
    for w in words:
        assert w in msg, msg
    assert e.code == "bad_filter" and e.hint and e.hint_zh, msg
    assert any("\u4e00" <= c <= "\u9fff" for c in e.message_zh), msg
    assert e.to_dict()["error_zh"] == e.message_zh


def test_filter_lang_crs_and_size_errors():
    with pytest.raises(FilterError, match="filter-lang"):
        parse_filter("a = 1", lang="ecql")
    with pytest.raises(FilterError, match="not valid CQL2 JSON"):
        parse_filter("{not json", lang="cql2-json")
    with pytest.raises(FilterError, match="filter-crs"):
        parse_filter("S_INTERSECTS(geometry, POINT(1 1))", crs="EPSG:0")
    with pytest.raises(FilterError, match="longer than"):
        parse_filter("a IN (" + ", ".join(["1"] * 20000) + ")")
    with pytest.raises(FilterError, match="nested deeper"):
        parse_filter("NOT " * 70 + "a = 1")
    with pytest.raises(FilterError, match="empty"):
        parse_filter("  ")


# -- SQL on a real PostGIS --------------------------------------------------------------------
_PG_TYPE = {"TEXT": "text", "REAL": "double precision", "BOOLEAN": "boolean",
            "INTEGER": "bigint"}


def _sql_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series.dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "INTEGER"
    if pd.api.types.is_float_dtype(series.dtype):
        return "REAL"
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    return {"boolean": "BOOLEAN", "integer": "INTEGER", "floating": "REAL"}.get(inferred, "TEXT")


def _load(url: str, table: str, gdf: gpd.GeoDataFrame) -> dict[str, SqlColumn]:
    """Create ``table`` (fid, geom, one typed column per property) and COPY ``gdf`` in."""
    import psycopg

    props = [c for c in gdf.columns if c != gdf.geometry.name]
    registry = [[p, p, _sql_type(gdf[p]), 0] for p in props]
    ddl = ", ".join(f"{quote_ident(p).replace('%%', '%')} {_PG_TYPE[t]}" for p, _, t, _ in registry)
    cols = ", ".join(quote_ident(p).replace("%%", "%") for p in props)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"CREATE TABLE {table} (fid bigint PRIMARY KEY, "
                    f"geom geometry(Geometry, 4326), {ddl})")
        geoms = shapely.set_srid(np.asarray(gdf.geometry.values, dtype=object), 4326)
        ewkb = shapely.to_wkb(geoms, hex=True, include_srid=True)
        values = [[None if pd.isna(v) else v for v in gdf[p].astype(object).tolist()]
                  for p in props]
        with con.cursor().copy(f"COPY {table} (fid, geom, {cols}) FROM STDIN") as copy:
            for i, row in enumerate(zip(ewkb, *values, strict=True), start=1):
                copy.write_row((i, *row))
    return sql_columns(registry)


def _sql_fids(url: str, table: str, where: str, args: list, order: str = "fid") -> list[int]:
    import psycopg

    with psycopg.connect(url) as con:
        return [r[0] for r in con.execute(
            f"SELECT fid FROM {table} WHERE {where} ORDER BY {order}", args).fetchall()]


@pytest.fixture(scope="module")
def pg_projects(pg_cluster, projects):
    url = pg_cluster.create_database()
    columns = _load(url, "projects", projects)
    yield url, columns
    pg_cluster.drop_database(url)


@pytest.mark.parametrize(("text", "select"), SUPPORTED, ids=[c[0][:60] for c in SUPPORTED])
def test_sql_equals_geopandas_selection(pg_projects, projects, text, select):
    url, columns = pg_projects
    where, args = filter_sql(parse_filter(text), columns)
    assert "'" not in where.replace("'YYYY-MM-DD'", "")  # values travel as parameters
    fids = _sql_fids(url, "projects", where, args)
    got = sorted(projects["id"].iloc[np.asarray(fids) - 1].tolist())
    assert got == _ids(projects, select(projects).fillna(False))


def test_sql_for_a_county_polygon_and_gauss_kruger_literal(pg_projects, projects, xilinhot):
    url, columns = pg_projects
    flt = parse_filter(f"S_WITHIN(geometry, {xilinhot.wkt})")
    fids = _sql_fids(url, "projects", *filter_sql(flt, columns))
    assert sorted(projects["id"].iloc[np.asarray(fids) - 1]) == \
        _ids(projects, projects.within(xilinhot))
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4527", always_xy=True)
    e0, n0 = to_gk.transform(115.5, 43.0)
    e1, n1 = to_gk.transform(118.0, 45.0)
    flt = parse_filter(f"S_INTERSECTS(geometry, BBOX({n0}, {e0}, {n1}, {e1}))", crs="EPSG:4527")
    expected = projects.to_crs(4527).intersects(shapely.box(e0, n0, e1, n1))
    fids = _sql_fids(url, "projects", *filter_sql(flt, columns))
    assert sorted(projects["id"].iloc[np.asarray(fids) - 1]) == _ids(projects, expected)


# -- nulls, dates and timestamps: the mask and PostgreSQL agree, and by hand ------------------
@pytest.fixture(scope="module")
def awkward() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "name": ["a_b1", "ab2", None, "A%b", "a\\b", "é"],
        "n": [1.0, None, 3.0, -2.5, 10.0, 3.0],
        "flag": [True, False, None, True, None, False],
        "opened": ["2023-01-15", "2023-03-01", None, "not a date", "2022-12-31 00:00:00",
                   "2023-03-01"],
        "seen": ["2023-01-01T08:00:00+08:00", "2023-01-01T00:00:00Z", "2023-01-01 01:00:00",
                 None, "garbage", "2022-12-31T23:59:59.5Z"],
    }, geometry=[shapely.Point(116, 44), None, shapely.Point(117, 45), shapely.Point(0, 0),
                 shapely.LineString([(115, 43), (118, 46)]), shapely.Point(116.5, 44.5)],
        crs=4326)


KINDS = {"opened": "date", "seen": "datetime"}
AWKWARD = [
    ("NOT (name = 'ab2')", [0, 3, 4, 5]),
    ("name LIKE 'a\\_b%'", [0]),
    ("name LIKE 'a_b%'", [0, 4]),  # '_' is any one character, a backslash too
    ("name LIKE 'A\\%b'", [3]),
    ("name LIKE 'a\\\\b'", [4]),
    ("name LIKE '_'", [5]),
    ("n IN (1, 3)", [0, 2, 5]),
    ("NOT n IN (1, 3)", [3, 4]),
    ("n BETWEEN -3 AND 3", [0, 2, 3, 5]),
    ("NOT n > 2", [0, 3]),
    ("n IS NULL OR flag IS NULL", [1, 2, 4]),
    ("flag = TRUE", [0, 3]),
    ("NOT flag = TRUE", [1, 5]),
    ("flag <> FALSE", [0, 3]),
    ("opened > DATE('2023-01-31')", [1, 5]),
    ("opened BETWEEN DATE('2022-12-31') AND DATE('2023-01-15')", [0, 4]),
    ("opened IN (DATE('2023-03-01'))", [1, 5]),
    ("opened IS NULL", [2]),
    ("NOT opened < DATE('2023-02-01')", [1, 5]),
    ("seen >= TIMESTAMP('2023-01-01T00:00:00Z')", [0, 1, 2]),
    ("seen < TIMESTAMP('2023-01-01T00:30:00Z')", [0, 1, 5]),
    ("seen = TIMESTAMP('2023-01-01T00:00:00Z')", [0, 1]),
    ("S_INTERSECTS(geometry, BBOX(116, 44, 117, 45))", [0, 2, 4, 5]),
    ("NOT S_INTERSECTS(geometry, BBOX(116, 44, 117, 45))", [3]),
    ("S_DISJOINT(geometry, BBOX(116, 44, 117, 45)) OR geometry IS NULL", [1, 3]),
    ("n > -5 AND name > 'a'", [0, 4, 5]),
]


@pytest.fixture(scope="module")
def pg_awkward(pg_cluster, awkward):
    url = pg_cluster.create_database()
    columns = _load(url, "awkward", awkward)
    yield url, sql_columns([[p, p, c.sql_type, 0] for p, c in columns.items()], KINDS)
    pg_cluster.drop_database(url)


@pytest.mark.parametrize(("text", "rows"), AWKWARD, ids=[c[0] for c in AWKWARD])
def test_three_valued_logic_dates_and_escapes(awkward, pg_awkward, text, rows):
    flt = parse_filter(text)
    kinds = infer_kinds(awkward) | KINDS
    assert np.flatnonzero(filter_mask(flt, awkward, kinds)).tolist() == rows
    tree = shapely.STRtree(awkward.geometry.values)
    assert np.flatnonzero(filter_mask(flt, awkward, kinds, tree=tree)).tolist() == rows
    url, columns = pg_awkward
    assert [f - 1 for f in _sql_fids(url, "awkward", *filter_sql(flt, columns))] == rows


# S_DWITHIN: features at known geodesic distances from a centre, laid out with pyproj.Geod
# (apart from the filter's own projection): points on both sides of each threshold, a
# radial line whose nearest point is its first vertex, a polygon around the centre, a
# missing geometry.
CENTRE = (116.07, 43.93)
POINT_DISTANCES = [0.0, 999.0, 1001.0, 4990.0, 5010.0, 29_950.0, 30_050.0, 200_000.0]


@pytest.fixture(scope="module")
def around() -> gpd.GeoDataFrame:
    geod = pyproj.Geod(ellps="WGS84")
    n = len(POINT_DISTANCES)
    az = np.linspace(0, 315, n)
    lon, lat, _ = geod.fwd([CENTRE[0]] * n, [CENTRE[1]] * n, az, POINT_DISTANCES)
    (l0, l1), (b0, b1), _ = geod.fwd([CENTRE[0]] * 2, [CENTRE[1]] * 2, [200, 200],
                                     [4000, 40_000])
    geoms = [*shapely.points(lon, lat), shapely.LineString([(l0, b0), (l1, b1)]),
             shapely.Point(*CENTRE).buffer(0.1), None]
    return gpd.GeoDataFrame({"k": np.arange(len(geoms))}, geometry=geoms, crs=4326)


@pytest.fixture(scope="module")
def pg_around(pg_cluster, around):
    url = pg_cluster.create_database()
    columns = _load(url, "around", around)
    yield url, columns
    pg_cluster.drop_database(url)


def _within(metres: float) -> list[int]:
    """Rows within ``metres`` of CENTRE, from the distances they were laid out at."""
    d = [*POINT_DISTANCES, 4000.0, 0.0]  # the line's first vertex, the polygon
    return [i for i, v in enumerate(d) if v <= metres]


@pytest.mark.parametrize(("text", "crs", "rows"), [
    (f"S_DWITHIN(geometry, POINT({CENTRE[0]} {CENTRE[1]}), 1000)", None, _within(1000)),
    (f"S_DWITHIN(geometry, POINT({CENTRE[0]} {CENTRE[1]}), 5000, 'meters')", None,
     _within(5000)),
    (f"S_DWITHIN(geometry, POINT({CENTRE[0]} {CENTRE[1]}), 30, 'kilometers')", None,
     _within(30_000)),
    (f"NOT S_DWITHIN(geometry, POINT({CENTRE[0]} {CENTRE[1]}), 5000)", None,
     [i for i in range(10) if i not in _within(5000)]),
    ("S_DWITHIN(geometry, POINT({n} {e}), 5000)", "EPSG:4548", _within(5000)),
])
def test_dwithin_is_a_geodesic_distance_in_metres(around, pg_around, text, crs, rows):
    if crs:  # the literal in Gauss-Krüger, northing first as EPSG:4548 defines it
        n, e = pyproj.Transformer.from_crs(4326, 4548).transform(CENTRE[1], CENTRE[0])
        text = text.format(n=n, e=e)
    flt = parse_filter(text, crs=crs)
    kinds = infer_kinds(around)
    assert np.flatnonzero(filter_mask(flt, around, kinds)).tolist() == rows
    tree = shapely.STRtree(around.geometry.values)
    assert np.flatnonzero(filter_mask(flt, around, kinds, tree=tree)).tolist() == rows
    # CQL2 JSON of the same filter, and PostGIS (geography on the spheroid).
    assert np.flatnonzero(filter_mask(parse_filter(flt.to_json()), around, kinds)).tolist() \
        == rows
    url, columns = pg_around
    assert [f - 1 for f in _sql_fids(url, "around", *filter_sql(flt, columns))] == rows


@pytest.mark.parametrize(("text", "words"), [
    ("S_DWITHIN(geometry, POINT(116 44), 0.1, 'degrees')", ["units", "never degrees"]),
    ("S_DWITHIN(geometry, POINT(116 44), -5)", ["0 to 1,000,000 m"]),
    ("S_DWITHIN(geometry, POINT(116 44), 'far')", ["0 to 1,000,000 m"]),
    ("S_DWITHIN(geometry, POINT(116 44))", ["distance in metres"]),
    ("S_DWITHIN(k, POINT(116 44), 5)", ["not the geometry"]),
])
def test_dwithin_errors_name_the_part(around, text, words):
    with pytest.raises(FilterError) as e:
        check_filter(parse_filter(text), infer_kinds(around))
    message = f"{e.value} {e.value.hint}"
    assert all(w in message for w in words), message
    assert "S_DWITHIN" in str(e.value) and e.value.message_zh


def test_datetime_parameter_as_a_filter(awkward, pg_awkward):
    kinds = infer_kinds(awkward) | KINDS
    url, columns = pg_awkward
    for value, prop, kind, rows in [("2023-03-01", "opened", "date", [1, 5]),
                                    ("2023-01-01/..", "opened", "date", [0, 1, 5]),
                                    ("../2023-01-01T00:00:00Z", "seen", "datetime", [0, 1, 5]),
                                    ("2023-01-01T00:00:00Z", "seen", "datetime", [0, 1])]:
        flt = datetime_filter(value, prop, kind)
        assert np.flatnonzero(filter_mask(flt, awkward, kinds)).tolist() == rows, value
        assert [f - 1 for f in _sql_fids(url, "awkward", *filter_sql(flt, columns))] == rows
    with pytest.raises(FilterError, match="RFC 3339"):
        datetime_filter("yesterday", "opened", "date")
    with pytest.raises(FilterError, match="instant or interval"):
        datetime_filter("../..", "opened", "date")


def test_check_filter_needs_no_data():
    check_filter(parse_filter("a > 1 AND S_INTERSECTS(geometry, POINT(1 1))"),
                 {"a": "int", "geometry": "geometry"})
    with pytest.raises(FilterError, match="unknown property 'b'"):
        check_filter(parse_filter("b > 1"), {"a": "int"})


# -- sortby -----------------------------------------------------------------------------------
SORTS = [
    ("+category,-total_investment_yi", ["category", "total_investment_yi"], [True, False]),
    (" county_en,name_en", ["county_en", "name_en"], [True, True]),  # '+' decoded to ' '
    ("-permits_complete,plan_2023_yi", ["permits_complete", "plan_2023_yi"], [False, True]),
    ("-name_zh", ["name_zh"], [False]),
]


@pytest.mark.parametrize(("sortby", "cols", "ascending"), SORTS, ids=[s[0] for s in SORTS])
def test_sortby_equals_pandas_and_sql(projects, pg_projects, sortby, cols, ascending):
    kinds = infer_kinds(projects)
    keys = parse_sortby(sortby, kinds)
    got = sort_positions(projects, keys, kinds)
    expected = projects.sort_values(cols, ascending=ascending, kind="mergesort",
                                    na_position="last").index.to_numpy()
    assert got.tolist() == expected.tolist()
    url, columns = pg_projects
    fids = _sql_fids(url, "projects", "TRUE", [], order=sortby_sql(keys, columns))
    assert [f - 1 for f in fids] == expected.tolist()


def test_sortby_with_missing_values_and_errors(awkward, pg_awkward):
    kinds = infer_kinds(awkward) | KINDS
    url, columns = pg_awkward
    for sortby, rows in [("-n", [4, 2, 5, 0, 3, 1]), ("n", [3, 0, 2, 5, 4, 1]),
                         ("name", [3, 4, 0, 1, 5, 2]), ("-opened", [1, 5, 0, 4, 2, 3])]:
        keys = parse_sortby(sortby, kinds)
        assert sort_positions(awkward, keys, kinds).tolist() == rows, sortby
        assert [f - 1 for f in _sql_fids(url, "awkward", "TRUE", [],
                                         order=sortby_sql(keys, columns))] == rows, sortby
    with pytest.raises(FilterError, match="cannot sort by 'geometry'"):
        parse_sortby("geometry", kinds)
    with pytest.raises(FilterError, match="cannot sort by 'nope'"):
        parse_sortby("+nope", kinds)
    with pytest.raises(FilterError, match="twice"):
        parse_sortby("n,-n", kinds)


@pytest.mark.parametrize("text", [
    "NOT " * 4000 + "a = 1",
    "(" * 3000 + "a = 1" + ")" * 3000,
    "a = " + "-" * 6000 + "1",
    "f(" * 3000 + "1" + ")" * 3000,
])
def test_deep_nesting_is_refused_before_the_parser_sees_it(text):
    # cql2 0.6 recurses on the stack: at these depths it kills the process (SIGSEGV).
    with pytest.raises(FilterError, match="nested deeper"):
        parse_filter(text)


def test_deep_json_is_refused():
    node: dict = {"op": "=", "args": [{"property": "a"}, 1]}
    for _ in range(3000):
        node = {"op": "not", "args": [node]}
    with pytest.raises(FilterError, match="nested deeper"):
        parse_filter(node)
    with pytest.raises(FilterError):
        parse_filter("[" * 20000 + "]" * 20000, "cql2-json")


# -- declared kinds over text storage (user layers): numbers, booleans, mixed text ---------------
@pytest.fixture(scope="module")
def texty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "num": ["3", " 4.5 ", "abc", None, "1e3", "-inf"],
        "yes": ["true", "FALSE", "maybe", None, " True ", "false"],
        "mixed": ["b", 3, None, "10", 2.5, "a"],
    }, geometry=[shapely.Point(116, 44)] * 6, crs=4326)


TEXT_KINDS = {"num": "float", "yes": "bool"}
TEXTY = [
    ("num > 3", [1, 4]),
    ("num <= 3", [0, 5]),
    ("num BETWEEN 0 AND 10", [0, 1]),
    ("num IN (3, 1000)", [0, 4]),
    ("NOT num > 3", [0, 5]),
    ("yes = TRUE", [0, 4]),
    ("NOT yes = TRUE", [1, 5]),
    ("mixed > '2'", [0, 1, 4, 5]),
    ("mixed IN ('3', '2.5')", [1, 4]),
    ("mixed LIKE '1%'", [3]),
]


@pytest.fixture(scope="module")
def pg_texty(pg_cluster, texty):
    import psycopg

    url = pg_cluster.create_database()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE TABLE texty (fid bigint PRIMARY KEY, geom geometry(Geometry, 4326),"
                    " num text, yes text, mixed text)")
        for i, row in enumerate(texty.itertuples(index=False), start=1):
            con.execute("INSERT INTO texty VALUES (%s, ST_GeomFromText(%s, 4326), %s, %s, %s)",
                        (i, row.geometry.wkt, row.num, row.yes,
                         None if row.mixed is None else str(row.mixed)))
    yield url, sql_columns([["num", "num", "TEXT", 0], ["yes", "yes", "TEXT", 0],
                            ["mixed", "mixed", "TEXT", 0]], TEXT_KINDS)
    pg_cluster.drop_database(url)


@pytest.mark.parametrize(("text", "rows"), TEXTY, ids=[c[0] for c in TEXTY])
def test_declared_kinds_over_text_columns(texty, pg_texty, text, rows):
    flt = parse_filter(text)
    kinds = infer_kinds(texty) | TEXT_KINDS
    assert kinds["mixed"] == "str"
    assert np.flatnonzero(filter_mask(flt, texty, kinds)).tolist() == rows
    url, columns = pg_texty
    assert [f - 1 for f in _sql_fids(url, "texty", *filter_sql(flt, columns))] == rows


def test_sorting_text_numbers_and_mixed(texty, pg_texty):
    kinds = infer_kinds(texty) | TEXT_KINDS
    url, columns = pg_texty
    for sortby, rows in [("-num", [4, 1, 0, 5, 2, 3]), ("mixed", [3, 4, 1, 5, 0, 2])]:
        keys = parse_sortby(sortby, kinds)
        assert sort_positions(texty, keys, kinds).tolist() == rows, sortby
        assert [f - 1 for f in _sql_fids(url, "texty", "TRUE", [],
                                         order=sortby_sql(keys, columns))] == rows, sortby
