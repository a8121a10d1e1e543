"""The temporal side of a layer: which property ``datetime`` filters on, and its span.

OGC API – Features lets a client ask for the features of an instant or an interval
(``datetime=2023-05-01``, ``datetime=2023-01-01/..``).  A layer's temporal property is
the one its catalog entry names (:attr:`layers.spec.LayerSpec.temporal`); a user layer's
is its first ``date`` or ``datetime`` column (text the stores recognised as ISO 8601
dates or timestamps when it was written, see :func:`layers.memory.sql_type_of`).  A
layer without one has no temporal extent, and ``datetime`` (still checked) selects
every feature, as OGC API – Features asks of features without temporal information.

Both stores turn ``datetime`` into a CQL2 condition here (:func:`query_filter`) and
evaluate it with the rest of the filter, so they select the same features.

Examples
--------
>>> temporal_property("my_sites", {"name": "str", "visited": "date", "seen": "datetime"})
('visited', 'date')
>>> temporal_property("projects", {"visited": "date"}) is None  # catalog: only the declared one
True
>>> query_filter("my_sites", {"visited": "date"}, None, "2023-01-01/..").text
"visited >= DATE('2023-01-01')"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .catalog import get_spec, layer_ids
from .filter import CqlFilter, and_filters, column_values, datetime_filter, parse_filter
from .records import TemporalExtent

#: Field kinds a temporal property may have.
TEMPORAL_KINDS: tuple[str, ...] = ("date", "datetime")


def temporal_property(name: str, kinds: Mapping[str, str]) -> tuple[str, str] | None:
    """``(property, kind)`` of layer ``name``'s temporal property, or None.

    Parameters
    ----------
    name : str
        The layer.
    kinds : mapping
        Its property kinds (:meth:`layers.store.Store.properties`).
    """
    if name in layer_ids():
        prop = get_spec(name).temporal
        if prop is None or prop not in kinds:
            return None
        field = get_spec(name).field(prop)
        kind = field.kind if field is not None and field.kind in TEMPORAL_KINDS else kinds[prop]
        return (prop, kind) if kind in TEMPORAL_KINDS else None
    for prop, kind in kinds.items():
        if kind in TEMPORAL_KINDS:
            return prop, kind
    return None


def declared_kinds(name: str, kinds: Mapping[str, str]) -> dict[str, str]:
    """``kinds`` with the catalog's temporal field read as its declared date/datetime kind.

    A catalog field declared ``date`` may be kept as plain text: filters then read its
    ISO text as dates.

    Examples
    --------
    >>> declared_kinds("my_sites", {"n": "int"})
    {'n': 'int'}
    """
    out = dict(kinds)
    found = temporal_property(name, kinds)
    if found is not None:
        out[found[0]] = found[1]
    return out


def query_filter(name: str, kinds: Mapping[str, str], where: Any, datetime: Any
                 ) -> CqlFilter | None:
    """The CQL2 filter a store evaluates for ``where`` and ``datetime`` together.

    Parameters
    ----------
    name : str
        The layer.
    kinds : mapping
        Its property kinds.
    where : CqlFilter, str, mapping or None
        A parsed filter (:func:`layers.filter.parse_filter`), or CQL2 text/JSON to parse
        (geometry literals in CRS84).
    datetime : str or None
        An RFC 3339 instant or interval (``..`` for an open end).

    Raises
    ------
    FilterError
        For a filter that does not parse or a ``datetime`` that is not an instant or
        interval (checked even on a layer without a temporal property).
    """
    if where is not None and not isinstance(where, CqlFilter):
        where = parse_filter(where)
    when = None
    if datetime is not None:
        found = temporal_property(name, kinds)
        # Checked for its syntax even where it has no property to select on.
        when = datetime_filter(str(datetime), *(found or ("_", "datetime")))
        if found is None:
            when = None
    return and_filters(where, when)


def iso_instant(value: Any, kind: str) -> str | None:
    """A date as ``YYYY-MM-DD``, a timestamp as RFC 3339 UTC (``…Z``); None for missing.

    Examples
    --------
    >>> iso_instant(np.datetime64("2023-05-01T08:00:00"), "datetime")
    '2023-05-01T08:00:00Z'
    >>> iso_instant("2023-05-01", "date")
    '2023-05-01'
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if kind == "date":
        return str(value)[:10]
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        return None
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    text = ts.strftime("%Y-%m-%dT%H:%M:%S")
    if ts.microsecond:
        text += f".{ts.microsecond:06d}".rstrip("0")
    return text + "Z"


def frame_extent(name: str, gdf: pd.DataFrame, kinds: Mapping[str, str],
                 cache: dict | None = None) -> TemporalExtent | None:
    """The temporal extent of a layer held as a frame (the in-memory copy of a version).

    Examples
    --------
    >>> df = pd.DataFrame({"visited": ["2023-06-01", None, "2021-03-04"]})
    >>> frame_extent("my_sites", df, {"visited": "date"})
    TemporalExtent(property='visited', kind='date', start='2021-03-04', end='2023-06-01')
    """
    found = temporal_property(name, kinds)
    if found is None:
        return None
    prop, kind = found
    values, valid = column_values(gdf, prop, kind, cache)
    present = values[valid]
    if not len(present):
        return TemporalExtent(prop, kind)
    return TemporalExtent(prop, kind, iso_instant(present.min(), kind),
                          iso_instant(present.max(), kind))
