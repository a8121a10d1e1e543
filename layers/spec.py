"""What a layer is: :class:`LayerSpec` and its parts.

A :class:`LayerSpec` says everything the atlas needs to know about a layer in one
place: titles in Chinese and English, geometry type, fields with their labels,
style and legend, zoom range and provenance.  Pages, the OGC API, exports and the
data build all read it from :mod:`layers.catalog`; nothing else defines a layer.

Examples
--------
>>> f = Field("name_zh", "名称", "Name")
>>> f.label("en")
'Name'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

Lang = Literal["zh", "en"]
#: Value types of a field.
FieldKind = Literal["str", "int", "float", "bool", "date", "datetime"]
FIELD_KINDS: tuple[str, ...] = ("str", "int", "float", "bool", "date", "datetime")
GeometryType = Literal["Point", "LineString", "Polygon"]


@dataclass(frozen=True)
class Field:
    """One attribute of a layer.

    Parameters
    ----------
    name : str
        Property name in the data.
    label_zh, label_en : str
        Labels shown in popups, tooltips, tables and the OGC API schema.
    kind : {"str", "int", "float", "bool", "date", "datetime"}
        Value type, used for the OpenAPI schema and for parsing query filters;
        ``date`` and ``datetime`` values are ISO 8601 text (``2023-05-17``,
        ``2023-05-17T08:30:00Z``).
    popup, tooltip : bool
        Whether the field appears in the popup / the hover tooltip.
    unit : str
        Unit shown after the value ("km", "亿元" …), empty for none.
    required : bool
        A replacement file must give a value in every row (:mod:`layers.validate_ref`).
    aliases : tuple of str
        Other column headers that feed this field when a user's file is mapped
        (:mod:`layers.mapping`), in order of preference, besides the labels and name.
    codes : tuple of Category
        The field's coded values, when it only takes these (a user's file may give
        the value, its Chinese or its English label); often the style's categories.
    code_aliases : tuple of (str, str)
        Other spellings of coded values, as ``(spelling, value)`` pairs.
    derived : bool
        Recomputed from the geometry or from other layers (:mod:`layers.derive`),
        never taken from a user's file.

    Examples
    --------
    >>> Field("length_km", "长度", "Length", "float", unit="km").kind
    'float'
    >>> f = Field("status", "建设性质", "Status", codes=(Category("new", "新建", "New", ""),))
    >>> f.code_values(), f.required
    (('new',), False)
    """

    name: str
    label_zh: str
    label_en: str
    kind: FieldKind = "str"
    popup: bool = True
    tooltip: bool = False
    unit: str = ""
    required: bool = False
    aliases: tuple[str, ...] = ()
    codes: tuple[Category, ...] = ()
    code_aliases: tuple[tuple[str, str], ...] = ()
    derived: bool = False

    def label(self, lang: Lang = "zh") -> str:
        """Label in ``lang`` ("zh" or "en")."""
        return self.label_en if lang == "en" else self.label_zh

    def code_values(self) -> tuple[str, ...]:
        """The coded values (empty when the field is free)."""
        return tuple(c.value for c in self.codes)


@dataclass(frozen=True)
class Category:
    """A value of a categorical field with its colour and labels (legend entry)."""

    value: str
    label_zh: str
    label_en: str
    color: str

    def label(self, lang: Lang = "zh") -> str:
        """Label in ``lang``."""
        return self.label_en if lang == "en" else self.label_zh


@dataclass(frozen=True)
class Style:
    """How a layer is drawn.

    ``category_field`` with ``categories`` colours features by a property value;
    otherwise every feature uses ``color``/``fill_color``.

    Examples
    --------
    >>> s = Style(color="#1f78b4", categories=(Category("a", "甲", "A", "#f00"),),
    ...           category_field="kind")
    >>> s.color_for({"kind": "a"}), s.color_for({"kind": "zzz"})
    ('#f00', '#1f78b4')
    """

    color: str = "#3388ff"
    weight: float = 2.0
    opacity: float = 0.9
    fill_color: str | None = None
    fill_opacity: float = 0.2
    radius: float = 6.0
    dash_array: str | None = None
    category_field: str | None = None
    categories: tuple[Category, ...] = ()

    def color_for(self, properties: dict[str, Any]) -> str:
        """Colour of a feature with these properties."""
        if self.category_field:
            value = properties.get(self.category_field)
            for cat in self.categories:
                if cat.value == value:
                    return cat.color
        return self.color


@dataclass(frozen=True)
class Provenance:
    """Where a layer came from and how far to trust it.

    Attributes
    ----------
    source_zh, source_en : str
        The source in words (package, publication, authored from what).
    licence : str
        Licence of the source (SPDX id where there is one).
    datum : str
        Datum of the source before conversion, and what the atlas stores.
    accuracy : str
        Expected positional accuracy in words; features carry ``accuracy_m``.
    date : str
        Date or year the source describes.
    authored : bool
        True when features were authored for the atlas from published facts
        (per-feature ``source``/``accuracy_m``/``illustrative`` say more).
    """

    source_zh: str
    source_en: str
    licence: str
    datum: str
    accuracy: str
    date: str
    authored: bool = False
    notes: str = ""

    def source(self, lang: Lang = "zh") -> str:
        """Source description in ``lang``."""
        return self.source_en if lang == "en" else self.source_zh


@dataclass(frozen=True)
class LayerSpec:
    """Everything the atlas knows about one layer.

    ``temporal`` names the field (a ``date`` or ``datetime`` one) that the OGC API's
    ``datetime`` parameter filters on and whose span is the collection's temporal
    extent; None for a layer without one (then ``datetime`` selects every feature).

    Examples
    --------
    >>> from layers.catalog import get_spec
    >>> get_spec("rivers").geometry_type
    'LineString'
    >>> get_spec("rivers").temporal is None
    True
    """

    id: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    geometry_type: GeometryType
    group: str
    fields: tuple[Field, ...]
    style: Style
    provenance: Provenance
    name_field: str = "name_zh"
    min_zoom: int = 0
    max_zoom: int = 18
    default_visible: bool = True
    user_layer: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    temporal: str | None = None

    def title(self, lang: Lang = "zh") -> str:
        """Title in ``lang``."""
        return self.title_en if lang == "en" else self.title_zh

    def description(self, lang: Lang = "zh") -> str:
        """Description in ``lang``."""
        return self.description_en if lang == "en" else self.description_zh

    def field(self, name: str) -> Field | None:
        """The field called ``name``, or None."""
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def field_names(self) -> tuple[str, ...]:
        """Names of all declared fields, in order."""
        return tuple(f.name for f in self.fields)

    def popup_fields(self) -> tuple[Field, ...]:
        """Fields shown in popups."""
        return tuple(f for f in self.fields if f.popup)

    def tooltip_fields(self) -> tuple[Field, ...]:
        """Fields shown in hover tooltips."""
        return tuple(f for f in self.fields if f.tooltip)

    def to_dict(self, lang: Lang | None = None) -> dict[str, Any]:
        """Plain-JSON description (for the pages and the API).

        With ``lang`` the titles are resolved to that language as ``title`` and
        ``description`` besides the zh/en pairs.
        """
        d = asdict(self)
        if lang:
            d["title"] = self.title(lang)
            d["description"] = self.description(lang)
        return d


@dataclass(frozen=True)
class LayerMeta:
    """The metadata stored with a layer version: where it came from, who wrote it, why.

    One record for every writer (the upload API, the command line, the reference
    loader), so every reader (the map's provenance panel, the OGC API, the version
    history) finds the same keys.  :data:`META_KEYS` is the one list of them.

    Attributes
    ----------
    title, title_en, description, description_en : str
        How the layer is named and described (Chinese first).
    source, source_en : str
        The source in words (Chinese / English).
    source_file : str
        The file the version was read from.
    licence, datum, accuracy, date : str
        Licence, datum (and any conversion), positional accuracy in words, and the
        date the data describes.
    author, note : str
        Who wrote this version and why.
    uploaded : str
        ISO 8601 UTC time of the upload.
    illustrative : bool or None
        Whether the positions are authored or not surveyed (None: not said).
    catalog : bool
        True for the catalog's reference layers.
    sha256 : str
        Digest of the committed file a reference version was loaded from.
    report : dict
        Counts of the read report (warnings, repairs, dropped) and the source format.
    restored_from : int or None
        The version this one copies, for a restore.
    derived_from : str
        For a catalog layer re-derived because another was replaced or restored:
        that layer (its own features unchanged, its derived fields recomputed).
    mode : str
        How a catalog layer's version was made: ``replace``, ``append``,
        ``restore`` or ``derive`` (empty for the built-in data).

    A version whose ``sha256`` is set holds the built-in data (:attr:`builtin`).

    Examples
    --------
    >>> m = LayerMeta(title="我的点位", source_file="a.csv")
    >>> m.to_dict()
    {'title': '我的点位', 'source_file': 'a.csv', 'filename': 'a.csv'}
    >>> LayerMeta.from_dict({"title": "t", "provenance": {"source": "s"}, "x": 1}).source
    's'
    """

    title: str = ""
    title_en: str = ""
    description: str = ""
    description_en: str = ""
    source: str = ""
    source_en: str = ""
    source_file: str = ""
    licence: str = ""
    datum: str = ""
    accuracy: str = ""
    date: str = ""
    author: str = ""
    note: str = ""
    uploaded: str = ""
    illustrative: bool | None = None
    catalog: bool = False
    sha256: str = ""
    report: dict[str, Any] = field(default_factory=dict)
    restored_from: int | None = None
    derived_from: str = ""
    mode: str = ""

    @property
    def builtin(self) -> bool:
        """Whether the version holds the built-in data (loaded from a committed file, or a
        restore of such a version, which copies its metadata)."""
        return bool(self.sha256)

    def to_dict(self) -> dict[str, Any]:
        """The keys that are set, in declaration order (what a store keeps).

        ``filename`` repeats ``source_file``: the upload API has always answered with it.
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in ("", None, {}) or (f.name == "catalog" and not value):
                continue
            out[f.name] = value
        if self.source_file:
            out["filename"] = self.source_file
        return out

    @classmethod
    def from_dict(cls, meta: dict[str, Any] | None) -> LayerMeta:
        """Read what a store kept (unknown keys ignored; older nested ``provenance`` read)."""
        meta = dict(meta or {})
        nested = meta.pop("provenance", None)
        if isinstance(nested, dict):  # written by the command line before one record existed
            meta = {**nested, **meta}
        if not meta.get("source_file") and meta.get("filename"):
            meta["source_file"] = meta["filename"]
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in meta.items() if k in known})

    def provenance(self) -> dict[str, Any]:
        """The provenance keys that are set (source, licence, datum, accuracy, date …)."""
        d = self.to_dict()
        return {k: d[k] for k in PROVENANCE_KEYS if k in d}


#: Every metadata key a layer version may carry (the one list; ``filename`` is the
#: upload API's name for ``source_file``).
META_KEYS: tuple[str, ...] = (*(f.name for f in fields(LayerMeta)), "filename")
#: The keys that say where a layer came from.
PROVENANCE_KEYS: tuple[str, ...] = ("source", "source_en", "source_file", "datum", "date",
                                    "licence", "accuracy", "author", "note", "illustrative")
