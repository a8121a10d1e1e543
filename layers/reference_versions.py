"""The catalog layers' versions: replace one from a user's file, list, restore, delete.

The web API (``/api/reference/{layer}``), the command line (``flask atlas reference``)
and the ``/data`` page all go through here; the pure work is
:func:`layers.replace.prepare_replacement`, the storage :meth:`layers.store.Store.put_many`.

Replacing (:func:`replace_reference`)
    The file is read (:func:`layers.reference_hooks.read_reference`: the layer's own
    reader, or :func:`geo.read.read_file`), mapped, placed, derived and validated
    against the current versions of every catalog layer.  A dry run stops there.  A
    commit without errors writes the new version *and* the re-derived dependents in
    one ``put_many`` — all land or none — each with its :class:`~layers.spec.LayerMeta`:
    the replaced layer carries the upload's provenance (source, licence, date, note,
    author, illustrative, datum, file), each dependent the note of what re-derived it
    (``derived_from``) and keeps its own provenance.

Restoring (:func:`restore_reference`) — how dependents follow
    Restoring version *k* of a layer writes version *n + 1* as a copy of *k*
    (``restored_from = k``, *k*'s provenance).  Its dependents are then re-derived
    against the restored copy exactly as after a replacement — from their *current*
    features, so a station's name or a project's amounts edited since are kept, only
    the derived fields (road km, county, section positions …) follow — and the
    restored layer's own derived fields are re-derived against the current versions
    of the layers it depends on.  Everything that changes is written in one
    ``put_many``.  Derivation is deterministic and the built-in data is its fixed
    point, so restoring the built-in version of a layer (and of anything else
    replaced since) brings back the built-in answers byte for byte.  When nothing but
    the copy changes, the store's own :meth:`~layers.store.Store.restore` writes it
    (an exact copy made inside the database).

Examples
--------
>>> import tempfile, os
>>> from layers.open import open_store
>>> from layers.prepare import prepare_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "v.gpkg"))
>>> _ = prepare_store(store)
>>> sheet = "名称,旗县市区,经度,纬度\\n二连浩特公路口岸,二连浩特市,111.98,43.65\\n".encode()
>>> out = replace_reference(store, "ports", sheet, "ports.csv",
...                         form=ReplacementForm(source="口岸办 2024", note="试"))
>>> out.status, out.infos["ports"].version_number, out.infos["ports"].count
(201, 2, 1)
>>> [(v["version"], v["current"], v["source"]) for v in version_records(store, "ports")][:1]
[(2, True, '口岸办 2024')]
>>> r = restore_reference(store, "ports", 1)
>>> r.infos["ports"].version_number, r.infos["ports"].count, store.versions("ports")[0].restored_from
(3, 2, 1)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np

from geo.read.archive import Limits

from .catalog import CATALOG
from .derive import derive_dependents, derive_layer
from .describe import version_provenance
from .errors import LayerNotFound, VersionNotFound
from .issues import Issues
from .prepare import is_builtin
from .records import LayerInfo, VersionInfo
from .reference_hooks import ReadRequest, hook_options, read_reference
from .replace import MODES, Replacement, prepare_replacement, storable
from .spec import LayerMeta
from .store import Store
from .validate_ref import reference_spec


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ReplacementForm:
    """What a person says about a replacement (the form of ``PUT /api/reference/{layer}``).

    Attributes
    ----------
    mapping : dict or None
        ``{"catalog_field": "source column"}`` overrides.
    crs, datum, layer, sheet : str or None
        How to read the file (a projected CRS for X/Y columns, GCJ-02/BD-09, a layer
        in a GeoPackage, a sheet in a workbook).
    header_row : int or None
        The header's row when it is not found on its own.
    source, licence, date, note, author : str
        The version's provenance.
    illustrative : bool
        Whether the positions are authored rather than surveyed (default False).
    mode : {"replace", "append"}
    options : dict
        The layer hook's own fields (:func:`layers.reference_hooks.hook_options`).
    """

    mapping: Mapping[str, Any] | None = None
    crs: str | None = None
    datum: str | None = None
    layer: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    source: str = ""
    licence: str = ""
    date: str = ""
    note: str = ""
    author: str = ""
    illustrative: bool = False
    mode: str = "replace"
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    """What a replacement or a restore did.

    Attributes
    ----------
    layer : str
    status : int
        200 (dry run), 201 (committed) or 422 (errors: nothing stored).
    replacement : Replacement or None
        The preview's source (None for a restore).
    infos : dict
        Layer → :class:`LayerInfo` of each version written (empty when nothing was).
    rederived : list of str
        Dependents written with it (their derived fields changed).
    warnings : list of dict
        For a restore: the re-derivation's warnings (dependents that no longer fit).
    """

    layer: str
    status: int
    replacement: Replacement | None = None
    infos: dict[str, LayerInfo] = field(default_factory=dict)
    rederived: list[str] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def committed(self) -> bool:
        """Whether versions were written."""
        return bool(self.infos)


def current_layers(store: Store) -> dict[str, gpd.GeoDataFrame]:
    """The current version of every catalog layer in ``store``, by id."""
    out = {}
    for spec in CATALOG:
        try:
            out[spec.id] = store.get(spec.id)
        except LayerNotFound:
            continue
    return out


def _datum_words(form: ReplacementForm) -> str:
    if form.crs:
        return f"WGS 84 (EPSG:4326), converted from {form.crs} on import"
    if form.datum and form.datum.lower() not in ("wgs84", "cgcs2000"):
        return f"WGS 84 (EPSG:4326), converted from {form.datum} on import"
    return "WGS 84 (EPSG:4326) / CGCS2000 as given"


def _accuracy_words(gdf: gpd.GeoDataFrame) -> str:
    acc = np.asarray(gdf["accuracy_m"], dtype="float64") if "accuracy_m" in gdf else \
        np.array([])
    acc = acc[np.isfinite(acc)]
    if not len(acc):
        return "not stated in the file"
    lo, hi = float(acc.min()), float(acc.max())
    return f"±{lo:,.0f} m" if lo == hi else f"±{lo:,.0f}–{hi:,.0f} m per feature (accuracy_m)"


def replacement_meta(layer: str, rep: Replacement, form: ReplacementForm,
                     filename: str | None) -> LayerMeta:
    """The metadata of a replacement's new version: the upload's provenance."""
    spec = reference_spec(layer)
    fmt = rep.report.source.get("format", "")
    source = form.source or f"用户上传 {filename or ''}".strip()
    return LayerMeta(
        title=spec.title_zh, title_en=spec.title_en, catalog=True,
        source=source[:500],
        source_en=form.source[:500] if form.source else
        "User upload" + (f" ({filename})" if filename else ""),
        source_file=(filename or "")[:200], licence=form.licence[:200],
        datum=_datum_words(form), accuracy=_accuracy_words(rep.gdf),
        date=(form.date or _now()[:10])[:40], author=form.author[:200], note=form.note[:2000],
        uploaded=_now(), illustrative=bool(form.illustrative), mode=rep.mode,
        report={"counts": rep.report.to_dict()["counts"], "format": fmt,
                "features": int(len(rep.gdf)), **({"appended": rep.appended}
                                                   if rep.appended else {})})


def dependent_meta(current: Mapping[str, Any], *, because: str, author: str = "",
                   note: str = "") -> LayerMeta:
    """A re-derived dependent's metadata: its own provenance kept, what re-derived it said.

    The built-in data's marker (``sha256``) is dropped: a dependent re-derived from a
    user's version is no longer the built-in data (and is not replaced by it on start).
    """
    meta = {k: v for k, v in current.items() if k not in ("sha256", "restored_from")}
    base = LayerMeta.from_dict(meta)
    return dataclasses.replace(base, derived_from=because, mode="derive", uploaded=_now(),
                               author=author[:200] or base.author, note=note[:2000],
                               report={})


def replace_reference(store: Store, layer: str, source: bytes | str | os.PathLike,
                      filename: str | None = None, *, form: ReplacementForm | None = None,
                      dry_run: bool = False, limits: Limits | None = None) -> Outcome:
    """Read ``source`` as the next version of catalog layer ``layer``; commit unless a dry run.

    Returns
    -------
    Outcome
        ``status`` 200 for a dry run (nothing stored), 422 when the replacement has
        errors (nothing stored), 201 when the new versions were written.

    Raises
    ------
    LayerNotFound
        For a layer that is not in the catalog (answered 404).
    geo.errors.GeoInputError
        For a file that cannot be read (answered 4xx).
    """
    form = form or ReplacementForm()
    reference_spec(layer)
    if form.mode not in MODES:
        from geo.errors import GeoInputError

        raise GeoInputError(f"mode must be replace or append, not {form.mode!r}",
                            "mode=replace takes the file as the whole layer; mode=append adds "
                            "its rows and updates those whose id exists", code="bad_parameter",
                            message_zh=f"模式只能是 replace（替换）或 append（追加），不是 {form.mode!r}",
                            hint_zh="replace：文件作为整个图层；append：追加文件中的行，编号相同的行被更新")
    options = {k: v for k, v in form.options.items() if k in hook_options(layer)}
    read = read_reference(layer, ReadRequest(
        source, filename=filename, sheet=form.sheet, layer=form.layer, crs=form.crs,
        datum=form.datum, header_row=form.header_row, limits=limits, options=options))
    current = current_layers(store)
    defaults = {"illustrative": bool(form.illustrative)}
    if form.source:
        defaults["source"] = form.source
    rep = prepare_replacement(layer, read, current, mapping=form.mapping, mode=form.mode,
                              defaults=defaults, options=options)
    if dry_run:
        return Outcome(layer, 200, rep)
    if not rep.ok:
        return Outcome(layer, 422, rep)
    return commit_replacement(store, rep, form, filename)


def commit_replacement(store: Store, rep: Replacement, form: ReplacementForm | None = None,
                       filename: str | None = None) -> Outcome:
    """Write a replacement without errors: the layer and its changed dependents, one ``put_many``.

    Each layer gets its :class:`~layers.spec.LayerMeta`: the replaced one the form's
    provenance (:func:`replacement_meta`), each dependent what re-derived it
    (:func:`dependent_meta`).
    """
    form = form or ReplacementForm()
    layer = rep.layer
    if not rep.ok:
        return Outcome(layer, 422, rep)
    meta = replacement_meta(layer, rep, form, filename)
    title = reference_spec(layer).title_zh
    writes: dict[str, tuple[gpd.GeoDataFrame, dict[str, Any] | None]] = {}
    for name, gdf in rep.to_commit().items():
        if name == layer:
            writes[name] = (gdf, meta.to_dict())
        else:
            writes[name] = (gdf, dependent_meta(
                store.info(name).meta, because=layer, author=form.author,
                note=f"派生字段随“{title}”的新版本重算 — derived fields re-derived after "
                     f"{layer} was replaced").to_dict())
    infos = store.put_many(writes)
    return Outcome(layer, 201, rep, infos, sorted(n for n in infos if n != layer))


def restore_reference(store: Store, layer: str, version: int, *, author: str = "",
                      note: str = "") -> Outcome:
    """Write version ``version`` of ``layer`` again as its next version, dependents following.

    See the module docstring for how dependents are re-derived.  Restoring the
    current version is allowed (it writes a copy; nothing changes but the number).

    Raises
    ------
    LayerNotFound, VersionNotFound
        For a layer or version that does not exist (answered 404).
    """
    spec = reference_spec(layer)
    old = next((v for v in store.versions(layer) if v.number == int(version)), None)
    if old is None:
        raise VersionNotFound(f"layer {layer!r} has no version {version}",
                              f"GET /api/reference/{layer}/versions lists them",
                              message_zh=f"图层 {layer!r} 没有第 {version} 版")
    copy = store.get(layer, old.number)
    current = current_layers(store)
    context = {k: v for k, v in current.items() if k != layer}
    own = derive_layer(layer, storable(copy, spec), context, where="feature")
    restored = storable(own.gdf, spec) if own.changed else None
    base = storable(copy, spec) if restored is None else restored
    deps = derive_dependents(layer, base, context)
    changed = {n: d for n, d in deps.items() if d.changed}
    issues = Issues()
    issues.extend(own.issues)
    for d in deps.values():
        issues.extend(d.issues)
    meta = {**old.meta, "restored_from": old.number, "mode": "restore", "uploaded": _now()}
    if author:
        meta["author"] = author[:200]
    if note:
        meta["note"] = note[:2000]
    elif not is_builtin(old.meta):
        meta["note"] = f"恢复第 {old.number} 版 — restored version {old.number}"
    if restored is None and not changed:
        info = store.restore(layer, old.number, meta)
        return Outcome(layer, 201, infos={layer: info},
                       warnings=[i.to_dict() for i in issues.warnings])
    writes: dict[str, tuple[gpd.GeoDataFrame, dict[str, Any] | None]] = {
        layer: (copy if restored is None else restored, meta)}
    for name, d in changed.items():
        writes[name] = (storable(d.gdf, reference_spec(name)), dependent_meta(
            store.info(name).meta, because=f"{layer} (restore)", author=author,
            note=f"派生字段随“{spec.title_zh}”恢复第 {old.number} 版重算 — derived fields "
                 f"re-derived after {layer} was restored to version {old.number}").to_dict())
    infos = store.put_many(writes)
    return Outcome(layer, 201, infos=infos, rederived=sorted(n for n in infos if n != layer),
                   warnings=[i.to_dict() for i in issues.warnings])


def version_record(layer: str, v: VersionInfo) -> dict[str, Any]:
    """One version as ``GET /api/reference/{layer}/versions`` lists it."""
    spec = reference_spec(layer)
    meta = LayerMeta.from_dict(v.meta)
    prov = version_provenance(spec, v.meta)
    return {
        "version": v.number,
        "created": v.created,
        "author": meta.author or None,
        "count": v.count,
        "source": prov.source_zh,
        "source_en": prov.source_en,
        "note": meta.note or None,
        "current": v.current,
        "restored_from": v.restored_from,
        "builtin": meta.builtin,
        "mode": meta.mode or ("builtin" if meta.builtin else None),
        "derived_from": meta.derived_from or None,
        "provenance": {"source": prov.source_zh, "source_en": prov.source_en,
                       "licence": prov.licence, "datum": prov.datum,
                       "accuracy": prov.accuracy, "date": prov.date,
                       "illustrative": prov.authored, "file": meta.source_file or None,
                       "uploaded": meta.uploaded or None},
        "download": f"/api/reference/{layer}/versions/{v.number}.geojson",
    }


def version_records(store: Store, layer: str) -> list[dict[str, Any]]:
    """Every version of catalog layer ``layer``, newest first (:func:`version_record`)."""
    reference_spec(layer)
    return [version_record(layer, v) for v in store.versions(layer)]


def delete_reference_version(store: Store, layer: str, version: int) -> bool:
    """Remove a version that is not current; False when there was none.

    Raises
    ------
    layers.errors.VersionConflict
        For the current version (answered 409).
    """
    reference_spec(layer)
    return store.delete_version(layer, int(version))
