"""The atlas's layer style as QGIS reads it: QML and SLD, and a GeoPackage ``layer_styles`` table.

QGIS keeps the default style of a GeoPackage layer in a ``layer_styles`` table (the
convention it shares with PostGIS): ``styleQML`` is QGIS's own style document,
``styleSLD`` the OGC Styled Layer Descriptor other tools read.  A GeoPackage exported
with such a row opens in QGIS in the map's colours: categories by the same property and
colours, legend labels in both languages, point size and line width in pixels as drawn
in the browser.

``style`` is any object with the attributes of :class:`layers.spec.Style` (``color``,
``weight``, ``opacity``, ``fill_color``, ``fill_opacity``, ``radius``, ``dash_array``,
``category_field`` and ``categories`` of ``value``/``label_zh``/``label_en``/``color``);
``geo`` does not import ``layers``.

Examples
--------
>>> from types import SimpleNamespace as NS
>>> st = NS(color="#3182bd", weight=2.0, opacity=0.9, fill_color=None, fill_opacity=0.85,
...         radius=6.0, dash_array=None, category_field="category",
...         categories=(NS(value="energy", label_zh="能源", label_en="Energy", color="#e6550d"),))
>>> doc = qml(st, "Point")
>>> 'type="categorizedSymbol"' in doc and 'attr="category"' in doc and "230,85,13,217" in doc
True
"""

from __future__ import annotations

import sqlite3
from typing import Any
from xml.sax.saxutils import escape, quoteattr

# Geometry families as QGIS names its symbol types.
_SYMBOL_TYPE = {"Point": "marker", "LineString": "line", "Polygon": "fill"}


def _family(geometry_type: str) -> str:
    g = geometry_type.replace("Multi", "")
    if g not in _SYMBOL_TYPE:
        raise ValueError(f"no QGIS symbol for geometry type {geometry_type!r}")
    return g


def _rgba(hex_color: str | None, alpha: float = 1.0) -> str:
    """``"#e6550d"`` → ``"230,85,13,255"`` (QGIS colour strings)."""
    h = (hex_color or "#3388ff").lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(max(0.0, min(1.0, alpha)) * 255)}"


def paint(style: Any, geometry_type: str, category_color: str | None) -> dict[str, Any]:
    """Stroke and fill of one feature, as the map page draws it (webmap/static/atlas/atlas.js).

    Points: categories fill the marker, outlined in white.  Polygons with a fill colour of
    their own take the category colour on the outline (admin levels), otherwise the
    category fills them (basins).  Lines take the category colour.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> st = NS(color="#636363", weight=1.5, opacity=0.9, fill_color="#f0f0f0",
    ...         fill_opacity=0.05, radius=6, dash_array=None)
    >>> paint(st, "Polygon", "#252525")["stroke"], paint(st, "Polygon", "#252525")["fill"]
    ('#252525', '#f0f0f0')
    """
    fam = _family(geometry_type)
    cat = category_color
    if fam == "Point":
        return {"stroke": "#ffffff" if cat else style.color, "stroke_opacity": 1.0,
                "width": 1.0 if cat else min(style.weight, 3.0),
                "fill": cat or style.fill_color or style.color,
                "fill_opacity": style.fill_opacity if style.fill_opacity > 0.3 else 0.85,
                "size": 2.0 * style.radius}
    if fam == "Polygon":
        return {"stroke": (cat or style.color) if style.fill_color else style.color,
                "stroke_opacity": style.opacity, "width": style.weight,
                "fill": style.fill_color or cat or style.color,
                "fill_opacity": style.fill_opacity}
    return {"stroke": cat or style.color, "stroke_opacity": style.opacity,
            "width": style.weight, "dash": style.dash_array}


def _props(props: dict[str, str]) -> str:
    return "".join(f"<prop k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in props.items())


def _symbol(name: str, fam: str, p: dict[str, Any]) -> str:
    """One QGIS symbol (one symbol layer), sizes in pixels like the browser map."""
    if fam == "Point":
        layer = ("SimpleMarker", {
            "name": "circle", "color": _rgba(p["fill"], p["fill_opacity"]),
            "outline_color": _rgba(p["stroke"], p["stroke_opacity"]),
            "outline_style": "solid", "outline_width": p["width"], "outline_width_unit": "Pixel",
            "size": p["size"], "size_unit": "Pixel", "scale_method": "diameter", "angle": 0,
            "offset": "0,0", "offset_unit": "Pixel", "joinstyle": "bevel",
            "horizontal_anchor_point": 1, "vertical_anchor_point": 1})
        kind = "marker"
    elif fam == "LineString":
        dash = p.get("dash")
        props = {"line_color": _rgba(p["stroke"], p["stroke_opacity"]), "line_width": p["width"],
                 "line_width_unit": "Pixel", "line_style": "solid", "capstyle": "round",
                 "joinstyle": "round", "offset": 0, "offset_unit": "Pixel"}
        if dash:
            props.update({"use_custom_dash": 1, "customdash": ";".join(
                str(float(x)) for x in str(dash).replace(",", " ").split()),
                "customdash_unit": "Pixel"})
        layer = ("SimpleLine", props)
        kind = "line"
    else:
        layer = ("SimpleFill", {
            "color": _rgba(p["fill"], p["fill_opacity"]), "style": "solid",
            "outline_color": _rgba(p["stroke"], p["stroke_opacity"]),
            "outline_style": "solid", "outline_width": p["width"], "outline_width_unit": "Pixel",
            "joinstyle": "round", "offset": "0,0", "offset_unit": "Pixel"})
        kind = "fill"
    cls, props = layer
    return (f'<symbol type="{kind}" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
            f'force_rhr="0"><layer class="{cls}" enabled="1" locked="0" pass="0">'
            f"{_props(props)}</layer></symbol>")


def _label(cat: Any, lang: str | None) -> str:
    if lang == "en":
        return cat.label_en
    if lang == "zh":
        return cat.label_zh
    return f"{cat.label_zh} {cat.label_en}" if cat.label_en != cat.label_zh else cat.label_zh


def qml(style: Any, geometry_type: str, lang: str | None = None) -> str:
    """QGIS's style document (QML) for a layer drawn with ``style``.

    Parameters
    ----------
    style : Style-like
        The catalog layer's style.
    geometry_type : {"Point", "LineString", "Polygon"} (or the Multi- forms)
        The layer's geometry family.
    lang : {"zh", "en"}, optional
        Legend labels in one language; both ("能源 Energy") by default.
    """
    fam = _family(geometry_type)
    cats = tuple(getattr(style, "categories", ()) or ())
    field = getattr(style, "category_field", None)
    if field and cats:
        symbols = [_symbol(str(i), fam, paint(style, fam, c.color)) for i, c in enumerate(cats)]
        symbols.append(_symbol(str(len(cats)), fam, paint(style, fam, None)))
        categories = "".join(
            f'<category render="true" symbol="{i}" value={quoteattr(str(c.value))} '
            f'label={quoteattr(_label(c, lang))} type="string"/>' for i, c in enumerate(cats))
        # The empty value is QGIS's "all other values": drawn in the layer's own colour.
        categories += f'<category render="true" symbol="{len(cats)}" value="" label="" />'
        renderer = (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} '
                    f'forceraster="0" symbollevels="0" enableorderby="0">'
                    f"<categories>{categories}</categories><symbols>{''.join(symbols)}</symbols>"
                    f"</renderer-v2>")
    else:
        renderer = ('<renderer-v2 type="singleSymbol" forceraster="0" symbollevels="0" '
                    f'enableorderby="0"><symbols>{_symbol("0", fam, paint(style, fam, None))}'
                    "</symbols></renderer-v2>")
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            '<qgis version="3.22.0" styleCategories="Symbology">'
            f"{renderer}<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode>"
            "<layerOpacity>1</layerOpacity></qgis>\n")


def sld(style: Any, geometry_type: str, layer: str, lang: str | None = None) -> str:
    """The same style as an OGC SLD 1.1 document (for GeoServer, ArcGIS and friends)."""
    fam = _family(geometry_type)
    cats = tuple(getattr(style, "categories", ()) or ())
    field = getattr(style, "category_field", None)

    def symbolizer(p: dict[str, Any]) -> str:
        stroke = (f'<se:Stroke><se:SvgParameter name="stroke">{p["stroke"]}</se:SvgParameter>'
                  f'<se:SvgParameter name="stroke-opacity">{p["stroke_opacity"]}</se:SvgParameter>'
                  f'<se:SvgParameter name="stroke-width">{p["width"]}</se:SvgParameter>'
                  + (f'<se:SvgParameter name="stroke-dasharray">{escape(str(p["dash"]))}'
                     "</se:SvgParameter>" if p.get("dash") else "") + "</se:Stroke>")
        if fam == "LineString":
            return f"<se:LineSymbolizer>{stroke}</se:LineSymbolizer>"
        fill = (f'<se:Fill><se:SvgParameter name="fill">{p["fill"]}</se:SvgParameter>'
                f'<se:SvgParameter name="fill-opacity">{p["fill_opacity"]}</se:SvgParameter>'
                "</se:Fill>")
        if fam == "Polygon":
            return f"<se:PolygonSymbolizer>{fill}{stroke}</se:PolygonSymbolizer>"
        return ("<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>circle"
                f"</se:WellKnownName>{fill}{stroke}</se:Mark><se:Size>{p['size']}</se:Size>"
                "</se:Graphic></se:PointSymbolizer>")

    rules = []
    if field and cats:
        for c in cats:
            rules.append(
                f"<se:Rule><se:Name>{escape(str(c.value))}</se:Name><se:Description><se:Title>"
                f"{escape(_label(c, lang))}</se:Title></se:Description>"
                '<ogc:Filter xmlns:ogc="http://www.opengis.net/ogc"><ogc:PropertyIsEqualTo>'
                f"<ogc:PropertyName>{escape(field)}</ogc:PropertyName><ogc:Literal>"
                f"{escape(str(c.value))}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>"
                f"{symbolizer(paint(style, fam, c.color))}</se:Rule>")
        rules.append("<se:Rule><se:Name>other</se:Name><se:ElseFilter/>"
                     f"{symbolizer(paint(style, fam, None))}</se:Rule>")
    else:
        rules.append(f"<se:Rule><se:Name>{escape(layer)}</se:Name>"
                     f"{symbolizer(paint(style, fam, None))}</se:Rule>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<StyledLayerDescriptor xmlns="http://www.opengis.net/sld" version="1.1.0" '
            'xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.opengis.net/sld '
            'http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">'
            f"<NamedLayer><se:Name>{escape(layer)}</se:Name><UserStyle>"
            f"<se:Name>{escape(layer)}</se:Name><se:FeatureTypeStyle>{''.join(rules)}"
            "</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n")


# The table exactly as QGIS 3.22 creates it in a GeoPackage (saveStyleToDatabase).
_LAYER_STYLES_DDL = (
    'CREATE TABLE IF NOT EXISTS "layer_styles" ( "id" INTEGER PRIMARY KEY AUTOINCREMENT '
    'NOT NULL, "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" '
    'TEXT(256), "f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, '
    '"styleSLD" TEXT, "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), '
    '"ui" TEXT(30), "update_time" DATETIME DEFAULT (strftime(\'%Y-%m-%dT%H:%M:%fZ\',\'now\')))')


def add_layer_styles(path: str, table: str, style: Any, geometry_type: str,
                     geometry_column: str = "geom", title: str = "",
                     lang: str | None = None) -> None:
    """Write ``style`` as the default QGIS style of ``table`` in the GeoPackage at ``path``.

    Creates QGIS's ``layer_styles`` table if needed and registers it in
    ``gpkg_contents`` as an attributes table, as QGIS does, so GDAL lists it as a
    plain table and QGIS applies the row when it opens ``table``.

    Examples
    --------
    >>> import tempfile, os, geopandas as gpd, shapely, pyogrio
    >>> from types import SimpleNamespace as NS
    >>> p = os.path.join(tempfile.mkdtemp(), "t.gpkg")
    >>> pyogrio.write_dataframe(gpd.GeoDataFrame({"k": ["a"]}, geometry=[shapely.Point(1, 2)],
    ...                         crs=4326), p, layer="t")
    >>> st = NS(color="#3182bd", weight=2.0, opacity=0.9, fill_color=None, fill_opacity=0.85,
    ...         radius=6.0, dash_array=None, category_field=None, categories=())
    >>> add_layer_styles(p, "t", st, "Point")
    >>> sqlite3.connect(p).execute("SELECT f_table_name, useAsDefault FROM layer_styles").fetchall()
    [('t', 1)]
    """
    con = sqlite3.connect(path)
    try:
        with con:
            con.execute(_LAYER_STYLES_DDL)
            con.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "description, last_change) VALUES ('layer_styles', 'attributes', "
                "'layer_styles', '', strftime('%Y-%m-%dT%H:%M:%fZ','now'))")
            con.execute(
                'INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, '
                'f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, '
                'owner, ui) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, NULL)',
                ("", "", table, geometry_column, table[:30], qml(style, geometry_type, lang),
                 sld(style, geometry_type, table, lang),
                 title or "Xilingol Grassland Atlas style", "atlas"))
    finally:
        con.close()
