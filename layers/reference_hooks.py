"""Per-layer steps of a reference replacement: how one catalog layer reads and maps a file.

Most catalog layers take any file :func:`geo.read.read_file` reads, mapped onto their
fields by :mod:`layers.mapping` (labels, aliases, units, coded values, places from the
gazetteer).  Some files are not a table of features: a water-quality monitoring sheet
is one row per sample whose section is *named* (no coordinates), with values like
``<0.01``.  Such a layer brings its own steps as a :class:`ReferenceHook`:

``read(request) -> ReadResult``
    Reads the file instead of :func:`geo.read.read_file` (with every option of the
    upload: sheet, crs, datum …, and the hook's own form fields in
    ``request.options``).
``map(read, context) -> MappedLayer``
    Turns what was read into the catalog layer's fields with a geometry, instead of
    :func:`layers.mapping.map_columns` and :func:`layers.mapping.place_rows`; it has
    the current versions of every catalog layer (``context.current``: e.g. the
    sections, to find a sample's position) and reports row-level problems in the
    returned :class:`~layers.mapping.MappedLayer`'s ``issues`` (errors stop a commit).

Everything after it is the same for every layer (:func:`layers.replace.prepare_replacement`):
geometry check, derived fields, validation against the catalog, ``append`` merged by
``id``, dependents re-derived, the diff, one ``put_many``.

Hooks are assembled explicitly, like :data:`webmap.BLUEPRINTS`: :data:`HOOK_MODULES`
names each module, which defines ``HOOK``; a module that is missing or defines no
hook fails loudly (:class:`HookError`) the first time hooks are looked up.  Tests
may add one for a while with :func:`registered`.

Examples
--------
>>> import geopandas as gpd, shapely
>>> from geo.report import ReadResult, Report
>>> from layers.mapping import map_columns
>>> def upper_names(read, context):
...     gdf = read.gdf.assign(名称=read.gdf["名称"].str.upper())
...     return map_columns(gdf, context.spec, context.mapping, defaults=context.defaults)
>>> hook = ReferenceHook("ports", map=upper_names)
>>> with registered(hook):
...     hook_for("ports") is hook
True
>>> hook_for("ports") is None
True
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

from geo.gazetteer import Gazetteer
from geo.read import read_file
from geo.read.archive import Limits
from geo.report import ReadResult

from .mapping import MappedLayer
from .spec import LayerSpec

#: Modules that define a ``HOOK`` (a :class:`ReferenceHook`), in order.  A layer's
#: colleague adds its module here (e.g. ``"layers.wq_hook"`` for ``wq_samples``).
HOOK_MODULES: tuple[str, ...] = ("layers.water_samples",)


class HookError(RuntimeError):
    """A module of :data:`HOOK_MODULES` that cannot be imported, defines no hook, or a
    second hook for the same layer (a programming error, not bad input)."""


@dataclass(frozen=True)
class ReadRequest:
    """Everything an upload says about how to read its file.

    Attributes
    ----------
    source : bytes or path
        The file.
    filename : str or None
        Its name as the user gave it.
    sheet, layer : str or None
        A workbook's sheet; a layer inside a GeoPackage/KML/zip.
    crs, datum : str or None
        What the user declared about the coordinates.
    header_row : int or None
        The header's row in a table, when it is not found on its own.
    limits : Limits or None
        The app's upload limits.
    options : dict
        The hook's own form fields (:attr:`ReferenceHook.options`), as text.
    """

    source: bytes | str | os.PathLike
    filename: str | None = None
    sheet: str | None = None
    layer: str | None = None
    crs: str | None = None
    datum: str | None = None
    header_row: int | None = None
    limits: Limits | None = None
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HookContext:
    """What a hook's ``map`` step may use.

    Attributes
    ----------
    layer : str
        The catalog layer being replaced.
    spec : LayerSpec
        Its catalog definition.
    current : mapping
        The current version of every catalog layer in the store, by id.
    mapping : dict or None
        The user's ``{"field": "column"}`` overrides.
    defaults : dict
        Values for fields the file does not give (the upload's ``source``,
        ``illustrative``).
    options : dict
        The hook's own form fields.
    where : str
        What row numbers count in the file (``report.source["row_kind"]``).
    gazetteer : Gazetteer or None
        The offline gazetteer (None: the atlas's).
    """

    layer: str
    spec: LayerSpec
    current: Mapping[str, gpd.GeoDataFrame]
    mapping: Mapping[str, Any] | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)
    where: str = "row"
    gazetteer: Gazetteer | None = None


@dataclass(frozen=True)
class ReferenceHook:
    """A catalog layer's own reading and/or mapping step.

    Parameters
    ----------
    layer : str
        The catalog layer id.
    read : callable, optional
        ``read(ReadRequest) -> ReadResult``, instead of :func:`geo.read.read_file`.
        Raise :class:`geo.errors.GeoInputError` for a file that cannot be read.
    map : callable, optional
        ``map(ReadResult, HookContext) -> MappedLayer``: the catalog's fields (every
        one, in catalog order, missing ones None), a geometry per row (an empty one
        where a row cannot be placed: the validation reports it), the private
        ``_row`` column (the row in the user's file) and the row-level issues.
    options : tuple of str
        Extra form fields / command-line options the hook reads (e.g.
        ``"sampled_on"``), passed as text in :attr:`ReadRequest.options` and
        :attr:`HookContext.options`.
    description : str
        One line for the ``/data`` page and ``--help`` (what files the layer takes).
    """

    layer: str
    read: Callable[[ReadRequest], ReadResult] | None = None
    map: Callable[[ReadResult, HookContext], MappedLayer] | None = None
    options: tuple[str, ...] = ()
    description: str = ""


_HOOKS: dict[str, ReferenceHook] = {}
_EXTRA: dict[str, ReferenceHook] = {}
_LOADED = False
_LOCK = threading.Lock()


def _load() -> None:
    global _LOADED
    with _LOCK:
        if _LOADED:
            return
        found: dict[str, ReferenceHook] = {}
        for name in HOOK_MODULES:
            try:
                module = importlib.import_module(name)
            except Exception as e:
                raise HookError(f"reference hook module {name!r} failed to import "
                                f"({type(e).__name__}: {e})") from e
            hook = vars(module).get("HOOK")
            if not isinstance(hook, ReferenceHook):
                raise HookError(f"{name!r} defines no ReferenceHook 'HOOK'")
            if hook.layer in found:
                raise HookError(f"two reference hooks for layer {hook.layer!r}")
            found[hook.layer] = hook
        _HOOKS.update(found)
        _LOADED = True


def hook_for(layer: str) -> ReferenceHook | None:
    """The hook of catalog layer ``layer``, or None when it uses the generic steps."""
    _load()
    return _EXTRA.get(layer) or _HOOKS.get(layer)


def hook_options(layer: str) -> tuple[str, ...]:
    """The extra form fields the layer's hook reads (empty without a hook).

    Examples
    --------
    >>> hook_options("projects")
    ()
    """
    hook = hook_for(layer)
    return hook.options if hook else ()


@contextmanager
def registered(hook: ReferenceHook) -> Iterator[ReferenceHook]:
    """Use ``hook`` for its layer inside the ``with`` block (tests, notebooks)."""
    with _LOCK:
        before = _EXTRA.get(hook.layer)
        _EXTRA[hook.layer] = hook
    try:
        yield hook
    finally:
        with _LOCK:
            if before is None:
                _EXTRA.pop(hook.layer, None)
            else:
                _EXTRA[hook.layer] = before


def read_reference(layer: str, request: ReadRequest) -> ReadResult:
    """Read a file meant to replace catalog layer ``layer`` (its hook's reader, if any).

    Without a hook this is :func:`geo.read.read_file` with ``keep_unlocated=True``
    (rows without coordinates are placed from their county and place) and
    ``trace=True`` (row numbers in the file, coordinate precision).

    Examples
    --------
    >>> res = read_reference("projects", ReadRequest("name,lon,lat\\na,116,44\\n".encode(), "a.csv"))
    >>> res.gdf["_row"].tolist(), res.report.source["row_kind"]
    ([2], 'line')
    """
    hook = hook_for(layer)
    if hook is not None and hook.read is not None:
        return hook.read(request)
    return read_file(request.source, filename=request.filename, layer=request.layer,
                     sheet=request.sheet, datum=request.datum, crs=request.crs,
                     limits=request.limits, header_row=request.header_row,
                     keep_unlocated=True, trace=True)
