"""UI strings of the map pages in Chinese (default) and English, in one small table.

Layer titles, field labels, legend entries and provenance come from the layer
catalog; this table holds only the words of the pages themselves.

Examples
--------
>>> t("search", "en"), t("search")
('Search by name', '按名称搜索')
>>> lang_of("en"), lang_of("fr"), lang_of(None)
('en', 'zh', 'zh')
"""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("锡林郭勒草原图集", "Xilingol Grassland Atlas"),
    "page_atlas": ("图集", "Atlas"),
    "page_route": ("风景大道", "Scenic road"),
    "page_watershed": ("流域", "Watersheds"),
    "switch_lang": ("English", "中文"),
    "basemaps": ("底图", "Basemaps"),
    "layers": ("图层", "Layers"),
    "legend": ("图例", "Legend"),
    "provenance": ("数据来源", "Data sources"),
    "source": ("来源", "Source"),
    "licence": ("许可", "Licence"),
    "datum": ("坐标基准", "Datum"),
    "accuracy": ("精度", "Accuracy"),
    "date": ("日期", "Date"),
    "illustrative": ("示意数据", "Illustrative data"),
    "illustrative_note": ("含编绘/示意要素，非官方数据", "contains authored or illustrative "
                          "features, not official data"),
    "features": ("要素数", "Features"),
    "search": ("按名称搜索", "Search by name"),
    "no_results": ("无结果", "No results"),
    "loading": ("加载中…", "Loading…"),
    "load_error": ("图层加载失败", "Could not load layer"),
    "measure": ("测量距离与面积", "Measure distance and area"),
    "measure_hint": ("在地图上依次点击测量；再点按钮结束", "Click points on the map; click the button "
                     "again to stop"),
    "area": ("面积", "Area"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "km": ("公里", "km"),
    "km_post": ("里程桩", "Kilometre post"),
    "km_posts": ("里程桩", "Kilometre posts"),
    "stages": ("行程分段", "Stages"),
    "stage_planner": ("行程规划", "Stage planner"),
    "max_km": ("每日最远(公里)", "Max km per day"),
    "plan": ("规划", "Plan"),
    "stage": ("第{n}段", "Stage {n}"),
    "from": ("起点", "From"),
    "to": ("终点", "To"),
    "length": ("长度", "Length"),
    "stops": ("途经", "Stops"),
    "total_km": ("全程", "Total"),
    "corridor_projects": ("风景道廊道内的项目", "Projects in the road's view corridor"),
    "in_corridor": ("位于风景道廊道内", "inside the scenic road's view corridor"),
    "downloads": ("下载", "Downloads"),
    "gpx": ("GPX 轨迹", "GPX track"),
    "kml": ("KML", "KML"),
    "gpx_with_stops": ("GPX 轨迹(含驿站、景点)", "GPX track with stations and sights"),
    "kml_with_stops": ("KML(含驿站、景点)", "KML with stations and sights"),
    "basin": ("流域", "Basin"),
    "pick_basin": ("选择流域", "Pick a basin"),
    "all_basins": ("全部流域", "All basins"),
    "summary": ("项目汇总", "Project summary"),
    "category": ("类别", "Category"),
    "count": ("项目数", "Projects"),
    "plan_2023": ("2023年计划投资(亿元)", "2023 planned investment (100M yuan)"),
    "total_investment": ("总投资(亿元)", "Total investment (100M yuan)"),
    "total": ("合计", "Total"),
    "filters": ("筛选", "Filters"),
    "status": ("建设性质", "Status"),
    "all": ("全部", "All"),
    "status_new": ("新建", "New"),
    "status_continuing": ("续建", "Continuing"),
    "upload": ("上传点位文件", "Upload a file of sites"),
    "upload_hint": ("CSV(经度/纬度列)、GeoJSON、Shapefile(zip)、KML、XLSX …",
                    "CSV (longitude/latitude columns), GeoJSON, zipped shapefile, KML, XLSX …"),
    "datum_of_file": ("文件坐标基准", "Datum of the file"),
    "overlay": ("叠加分析", "Overlay"),
    "running": ("分析中…", "Running…"),
    "report": ("分析报告", "Report"),
    "warnings": ("警告", "Warnings"),
    "repairs": ("已修复", "Repaired"),
    "dropped": ("已舍弃", "Dropped"),
    "no_warnings": ("无警告", "No warnings"),
    "kind": ("类型", "Kind"),
    "row": ("行/要素", "Row"),
    "message": ("说明", "Message"),
    "hint": ("提示", "Hint"),
    "list_sep": ("、", ", "),
    "sites": ("点位", "Sites"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "download_geojson": ("下载 GeoJSON", "Download GeoJSON"),
    "name": ("名称", "Name"),
    "river": ("河流", "River"),
    "river_distance": ("距河流(米)", "To river (m)"),
    "section": ("断面", "Section"),
    "upstream_of": ("位于断面上游", "Upstream of section"),
    "road_distance": ("距风景道(米)", "To scenic road (m)"),
    "county": ("旗县市", "County"),
    "error": ("出错", "Error"),
    "wgs84": ("WGS 84 / GPS", "WGS 84 / GPS"),
    "cgcs2000": ("CGCS2000(国家2000)", "CGCS2000"),
    "gcj02": ("GCJ-02(高德/腾讯)", "GCJ-02 (AMap/Gaode, Tencent)"),
    "bd09": ("BD-09(百度)", "BD-09 (Baidu)"),
    "osm": ("OpenStreetMap", "OpenStreetMap"),
    "esri_imagery": ("Esri 影像", "Esri imagery"),
    "tianditu_vec": ("天地图 矢量", "Tianditu vector"),
    "tianditu_img": ("天地图 影像", "Tianditu imagery"),
    "gaode_vec": ("高德 地图(GCJ-02)", "AMap/Gaode map (GCJ-02)"),
    "gaode_img": ("高德 影像(GCJ-02)", "AMap/Gaode imagery (GCJ-02)"),
    "self_hosted": ("本地底图", "Local basemap"),
    # Coded values shown as words in popups ("value_<field>_<code>") and units in English.
    "value_status_new": ("新建", "New"),
    "value_status_continuing": ("续建", "Continuing"),
    "value_investor_government": ("政府投资", "Government investment"),
    "value_investor_social": ("社会投资", "Social investment"),
    "unit_亿元": ("亿元", "× 100M yuan"),
}


def lang_of(value: str | None) -> str:
    """The page language for a ``?lang=`` value: "en" or the default "zh"."""
    return "en" if value == "en" else "zh"


def t(key: str, lang: str = "zh") -> str:
    """The UI string ``key`` in ``lang``."""
    zh, en = STRINGS[key]
    return en if lang == "en" else zh


def strings(lang: str = "zh") -> dict[str, str]:
    """Every UI string in ``lang`` (handed to the page's script)."""
    return {k: (en if lang == "en" else zh) for k, (zh, en) in STRINGS.items()}
