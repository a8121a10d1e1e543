"""What a layer is, in words and JSON: the catalog's spec, or one made for a user layer.

The pages, the layer list and the exports describe every layer the same way:
reference layers by their :class:`~layers.spec.LayerSpec` in :mod:`layers.catalog`,
user layers by a spec made from their stored metadata (:class:`~layers.spec.LayerMeta`)
and their properties, without reading their features.

Examples
--------
>>> from layers.catalog import get_spec
>>> d = describe_spec(get_spec("projects"), "en")
>>> d["title"], d["legend"][0]["label"]
('2023 major projects', 'Energy')
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .catalog import GROUPS, get_spec, layer_ids
from .records import LayerInfo
from .spec import Field, LayerMeta, LayerSpec, Provenance, Style
from .store import Store

#: Colours of user layers, in order of their names (stable per name).
USER_COLORS = ("#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
_NAME_FIELDS = ("name_zh", "name", "名称", "title", "id")


def simple_geometry_type(geometry_type: str) -> str:
    """``Point``, ``LineString`` or ``Polygon`` for a store's geometry type name.

    Examples
    --------
    >>> simple_geometry_type("MULTIPOLYGON"), simple_geometry_type("GEOMETRY")
    ('Polygon', 'Point')
    """
    name = geometry_type.upper().removeprefix("MULTI")
    return {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon"}.get(name,
                                                                                   "Point")


def user_layer_spec(info: LayerInfo, columns: list[str], geometry_type: str = "Point"
                    ) -> LayerSpec:
    """A :class:`LayerSpec` for a layer saved by a user (not in the catalog).

    Titles and provenance come from the metadata saved with the layer; the fields are
    its columns, labelled by name.

    Examples
    --------
    >>> info = LayerInfo("my_sites", 2, (116, 43, 117, 44), "v1", "2024", {"title": "我的点位"})
    >>> spec = user_layer_spec(info, ["name", "geometry"])
    >>> spec.title("en"), spec.name_field, spec.group
    ('我的点位', 'name', 'user')
    """
    meta = LayerMeta.from_dict(info.meta)
    cols = [c for c in columns if c != "geometry"]
    name_field = next((c for c in _NAME_FIELDS if c in cols), cols[0] if cols else "")
    fields = tuple(Field(c, c, c, tooltip=(c == name_field)) for c in cols)
    color = USER_COLORS[sum(map(ord, info.name)) % len(USER_COLORS)]
    title_zh = meta.title or info.name
    return LayerSpec(
        id=info.name,
        title_zh=title_zh,
        title_en=meta.title_en or title_zh,
        description_zh=meta.description or "用户上传的图层",
        description_en=meta.description_en or "Layer uploaded by a user",
        geometry_type=geometry_type if geometry_type in ("Point", "LineString", "Polygon")
        else "Point",
        group="user",
        fields=fields,
        style=Style(color=color, fill_color=color, fill_opacity=0.6, radius=6),
        provenance=Provenance(
            source_zh=meta.source or "用户上传",
            source_en=meta.source_en or meta.source or "User upload",
            licence=meta.licence or "unknown",
            datum=meta.datum or "WGS 84 (EPSG:4326) after import",
            accuracy=meta.accuracy or "unknown",
            date=meta.date or info.updated[:10],
            authored=False,
        ),
        name_field=name_field,
        user_layer=True,
    )


def version_provenance(spec: LayerSpec, meta: dict[str, Any] | None) -> Provenance:
    """The provenance of one version of a catalog layer.

    The built-in data's is the catalog's; a user's version (a replacement, or a
    restore of one) says its own — each key its metadata sets (``source``,
    ``licence``, ``datum``, ``accuracy``, ``date``, ``illustrative``, ``note``)
    wins over the catalog's.  A version re-derived from another layer's
    replacement sets none of them: its features are still the catalog's.

    Examples
    --------
    >>> from layers.catalog import get_spec
    >>> p = version_provenance(get_spec("projects"), {"source": "盟发改委 2024年台账",
    ...                                                "illustrative": False})
    >>> p.source_zh, p.source_en, p.authored
    ('盟发改委 2024年台账', '盟发改委 2024年台账', False)
    >>> version_provenance(get_spec("projects"), {"sha256": "ab"}) == get_spec("projects").provenance
    True
    """
    prov = spec.provenance
    m = LayerMeta.from_dict(meta)
    if m.builtin:
        return prov
    return Provenance(
        source_zh=m.source or prov.source_zh,
        source_en=m.source_en or m.source or prov.source_en,
        licence=m.licence or prov.licence,
        datum=m.datum or prov.datum,
        accuracy=m.accuracy or prov.accuracy,
        date=m.date or prov.date,
        authored=prov.authored if m.illustrative is None else bool(m.illustrative),
        notes=m.note or prov.notes,
    )


def catalog_spec_for(info: LayerInfo) -> LayerSpec:
    """The catalog spec of a reference layer with its current version's provenance
    (:func:`version_provenance`)."""
    spec = get_spec(info.name)
    prov = version_provenance(spec, info.meta)
    return spec if prov == spec.provenance else dataclasses.replace(spec, provenance=prov)


def spec_for(store: Store, info: LayerInfo) -> LayerSpec:
    """Catalog spec of a reference layer (with its current version's provenance), or a spec
    made for a user layer (no features read)."""
    if info.name in layer_ids():
        return catalog_spec_for(info)
    return user_layer_spec(info, list(store.properties(info.name)),
                           simple_geometry_type(info.geometry_type))


def describe_spec(spec: LayerSpec, lang: str = "zh") -> dict[str, Any]:
    """JSON description of a layer for the pages: titles, style, legend, fields, provenance.

    Examples
    --------
    >>> from layers.catalog import get_spec
    >>> d = describe_spec(get_spec("rivers"))
    >>> d["legend"], d["group_title"]
    ([{'value': None, 'label': '河流', 'label_zh': '河流', 'label_en': 'Rivers', 'color': '#2171b5'}], '水系与流域')
    """
    style = spec.style
    if style.category_field and style.categories:
        legend = [{"value": c.value, "label": c.label(lang), "label_zh": c.label_zh,
                   "label_en": c.label_en, "color": c.color} for c in style.categories]
    else:
        legend = [{"value": None, "label": spec.title(lang), "label_zh": spec.title_zh,
                   "label_en": spec.title_en, "color": style.fill_color or style.color}]
    group = GROUPS.get(spec.group, (spec.group, spec.group))
    prov = spec.provenance
    return {
        "id": spec.id,
        "title": spec.title(lang),
        "title_zh": spec.title_zh,
        "title_en": spec.title_en,
        "description": spec.description(lang),
        "geometry_type": spec.geometry_type,
        "group": spec.group,
        "group_title": group[1] if lang == "en" else group[0],
        "name_field": spec.name_field,
        "min_zoom": spec.min_zoom,
        "max_zoom": spec.max_zoom,
        "default_visible": spec.default_visible,
        "user_layer": spec.user_layer,
        "style": {
            "color": style.color, "weight": style.weight, "opacity": style.opacity,
            "fill_color": style.fill_color, "fill_opacity": style.fill_opacity,
            "radius": style.radius, "dash_array": style.dash_array,
            "category_field": style.category_field,
        },
        "legend": legend,
        "fields": [{"name": f.name, "label": f.label(lang), "label_zh": f.label_zh,
                    "label_en": f.label_en, "kind": f.kind, "popup": f.popup,
                    "tooltip": f.tooltip, "unit": f.unit} for f in spec.fields],
        "provenance": {
            "source": prov.source(lang), "source_zh": prov.source_zh,
            "source_en": prov.source_en, "licence": prov.licence, "datum": prov.datum,
            "accuracy": prov.accuracy, "date": prov.date, "authored": prov.authored,
            "illustrative": prov.authored, "notes": prov.notes,
        },
    }
