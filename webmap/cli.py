"""Command line for the long jobs: ``flask --app webmap atlas import|export|overlay|layers|reference|print``.

Examples (shell)::

    flask --app webmap atlas layers
    flask --app webmap atlas import sites.xlsx --layer my_sites --datum gcj02
    flask --app webmap atlas export scenic_road --format gpx -o scenic_road.gpx
    flask --app webmap atlas overlay sites.csv -o sites_overlay.csv
    flask --app webmap atlas reference import projects 台账.xlsx --dry-run
    flask --app webmap atlas reference import basins 流域.zip --crs EPSG:4548 --source 水利局
    flask --app webmap atlas reference versions projects
    flask --app webmap atlas reference restore projects 1
    flask --app webmap atlas print "/route?max_km=100&lang=en" trip.pdf --paper a3
    flask --app webmap atlas print "http://atlas.example/watershed?basin=xilin#map=9/43.9/116.1" basin.pdf

Every failure is one line on stderr (``Error: what — hint``) and a non-zero exit
status; bad input never prints a traceback.  Work that takes more than a moment
(reading and storing a large file, overlaying sites in chunks) shows a progress
bar on stderr.

Examples
--------
>>> [c for c in sorted(atlas.commands)]
['export', 'import', 'layers', 'overlay', 'print', 'reference']
>>> sorted(reference_group.commands)
['import', 'restore', 'versions']
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import click
import geopandas as gpd
import pandas as pd
from flask import Flask, current_app
from flask.cli import AppGroup
from werkzeug.serving import WSGIRequestHandler, make_server

from geo.accuracy import round_overlay
from geo.crs import normalise_datum, transform_geometries
from geo.errors import ExplainedError
from geo.export import FORMATS, to_bytes
from geo.overlay import overlay_sites, summarise
from geo.read import read_file
from layers.describe import spec_for
from layers.ingest import check_user_layer_name, read_upload, save_user_layer, user_meta
from layers.reference import reference
from layers.reference_versions import (
    ReplacementForm,
    commit_replacement,
    replace_reference,
    restore_reference,
    version_records,
)
from layers.store import parse_bbox, validate_layer_name
from layers.validate_ref import reference_spec

from .core.config import current_settings
from .core.store import get_store
from .pages.printing import ORIENTATIONS, PAPERS, PrintError, render_pdf

atlas = AppGroup("atlas", help="Import, export and overlay layers of the atlas store.")

#: Sites per overlay chunk: big enough to keep the vectorised overlay efficient,
#: small enough for the progress bar to move.
OVERLAY_CHUNK = 5_000


def _fail(message: str, hint: str = "") -> click.ClickException:
    # The reader's hints name the API parameters; say the options' names instead.
    hint = hint.replace("layer=<name>", "--source-layer <name>").replace("(crs=", "(--crs ")
    return click.ClickException(f"{message} — {hint}" if hint else message)


def friendly(func: Callable) -> Callable:
    """Turn the errors a user can fix into one-line messages with exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ExplainedError as e:  # the reader's, the store's and the API's errors alike
            raise _fail(e.message, e.hint or "`flask --app webmap atlas layers` lists the "
                        "layers") from None
        except OSError as e:
            raise _fail(f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")) from None

    return wrapper


def _progress(length: int, label: str):
    # On stderr, so `export -o -` style piping of stdout stays clean.
    return click.progressbar(length=length, label=label, file=sys.stderr,
                             show_eta=False, show_percent=True)


def _print_report(report: dict[str, Any]) -> None:
    counts = report.get("counts", {})
    click.echo(f"report: {counts.get('warnings', 0)} warnings, {counts.get('repairs', 0)} "
               f"repairs, {counts.get('dropped', 0)} dropped")
    for kind in ("warnings", "repairs", "dropped"):
        shown: dict[str, int] = {}
        for entry in report.get(kind, []):
            shown[entry["code"]] = shown.get(entry["code"], 0) + 1
            if shown[entry["code"]] <= 3:
                detail = entry.get("detail", {})
                where = (f" [line {detail['line']}]" if "line" in detail
                         else f" [row {detail['row']}]" if "row" in detail
                         else f" [feature {entry['index']}]" if "index" in entry else "")
                click.echo(f"  {kind[:-1] if kind != 'dropped' else 'dropped'}:"
                           f" {entry['message']}{where}")
        for code, n in shown.items():
            if n > 3:
                click.echo(f"  … and {n - 3} more {code}")


def _read(path: str, *, layer: str | None, datum: str | None, crs: str | None):
    with _progress(2, f"reading {os.path.basename(path)}") as bar:
        result = read_file(path, layer=layer, datum=datum, crs=crs,
                           limits=current_settings().read_limits)
        bar.update(2)
    return result


@atlas.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--layer", "name", required=True, help="Name of the layer to create or replace.")
@click.option("--datum", default=None, help="Datum of the coordinates: wgs84, cgcs2000, "
              "gcj02 (AMap/Gaode, Tencent) or bd09 (Baidu).")
@click.option("--crs", default=None, help="CRS of the coordinates, e.g. EPSG:4547.")
@click.option("--source-layer", default=None,
              help="Layer/sheet inside a GeoPackage, KML, GPX, XLSX or zip.")
@click.option("--title", default=None, help="Title shown on the map (default: the name).")
@friendly
def import_command(file: str, name: str, datum: str | None, crs: str | None,
                   source_layer: str | None, title: str | None) -> None:
    """Read FILE (any format the atlas reads), validate it and store it as a layer."""
    check_user_layer_name(name)
    if not os.path.isfile(file):
        raise _fail(f"no such file: {file}")
    with _progress(2, f"reading {os.path.basename(file)}") as bar:
        upload = read_upload(file, layer=source_layer, datum=datum, crs=crs,
                             limits=current_settings().read_limits)
        bar.update(2)
    meta = user_meta(name, upload, title=title, source="flask atlas import")
    with _progress(1, f"storing {len(upload.gdf):,} features") as bar:
        info = save_user_layer(get_store(), name, upload, meta)
        bar.update(1)
    report = upload.report.to_dict()
    click.echo(f"{'created' if info.version_number == 1 else 'replaced'} layer {info.name!r}: "
               f"{info.count:,} features ({report['source'].get('format', '?')})")
    _print_report(report)


@atlas.command("export")
@click.argument("layer")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default=None,
              help="Output format (default: from the -o extension, else geojson).")
@click.option("-o", "--output", default=None, help="Output file (default LAYER.FORMAT).")
@click.option("--bbox", default=None, help="Only features in minx,miny,maxx,maxy (WGS 84).")
@click.option("--datum", default=None, help="Write coordinates in gcj02 or bd09 instead of "
              "WGS 84 (for AMap/Baidu navigation apps).")
@friendly
def export_command(layer: str, fmt: str | None, output: str | None, bbox: str | None,
                   datum: str | None) -> None:
    """Write LAYER as GeoJSON, CSV, GPX, KML or GeoPackage."""
    if fmt is None:
        ext = os.path.splitext(output or "")[1].lower().lstrip(".")
        fmt = ext if ext in FORMATS else "geojson"
    validate_layer_name(layer)
    store = get_store()
    info = store.info(layer)
    box = parse_bbox(bbox)
    gdf = store.get(layer) if box is None else store.query(layer, bbox=box).features
    try:
        d = normalise_datum(datum)
    except ValueError as e:
        raise _fail(str(e)) from None
    if d in ("gcj02", "bd09"):
        gdf = gdf.set_geometry(transform_geometries(gdf.geometry.values, "wgs84", d),
                               crs=gdf.crs)
    data, _mimetype, filename = to_bytes(gdf, fmt, name=layer, spec=spec_for(store, info),
                                         timestamp=info.updated)
    target = output or filename
    with open(target, "wb") as fh:
        fh.write(data)
    click.echo(f"wrote {len(gdf):,} features of {layer!r} to {target} ({len(data):,} bytes)")


@atlas.command("overlay")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", default=None,
              help="Write the per-site rows here (.csv, .geojson, .gpkg, .kml, .gpx).")
@click.option("--datum", default=None, help="Datum of the sites: wgs84, gcj02, bd09.")
@click.option("--crs", default=None, help="CRS of the sites, e.g. EPSG:4547.")
@click.option("--source-layer", default=None, help="Layer/sheet inside the file.")
@click.option("--river-buffer-m", default=1000.0, show_default=True, type=float)
@click.option("--corridor-m", default=5000.0, show_default=True, type=float)
@click.option("--by", type=click.Choice(["basin", "county"]), default="basin", show_default=True)
@friendly
def overlay_command(file: str, output: str | None, datum: str | None, crs: str | None,
                    source_layer: str | None, river_buffer_m: float, corridor_m: float,
                    by: str) -> None:
    """Overlay the sites in FILE on basins, counties, rivers, sections and the scenic road."""

    if not os.path.isfile(file):
        raise _fail(f"no such file: {file}")
    if river_buffer_m < 0 or corridor_m < 0:
        raise _fail("distances must be zero or positive")
    sites = _read(file, layer=source_layer, datum=datum, crs=crs).gdf
    ref = reference(get_store())
    parts = []
    with _progress(len(sites), f"overlaying {len(sites):,} sites") as bar:
        for start in range(0, len(sites), OVERLAY_CHUNK):
            chunk = sites.iloc[start:start + OVERLAY_CHUNK]
            parts.append(overlay_sites(chunk, ref, river_buffer_m=river_buffer_m,
                                       corridor_m=corridor_m))
            bar.update(len(chunk))

    result = gpd.GeoDataFrame(pd.concat(parts), crs=parts[0].crs)
    # The same rounding as POST /api/overlay: each distance to its reference's accuracy.
    result = round_overlay(result)
    summary = summarise(result, by=by)
    click.echo(f"{len(result):,} sites overlaid; summary by {by}:")
    click.echo(pd.DataFrame(summary).to_string(index=False) if len(summary) else "  (empty)")
    if output:
        ext = os.path.splitext(output)[1].lower().lstrip(".")
        if ext not in FORMATS:
            raise _fail(f"unknown output format {ext!r}", "use .csv, .geojson, .gpkg, .kml or "
                        ".gpx")
        data, _mimetype, _filename = to_bytes(result, ext, name="overlay")
        with open(output, "wb") as fh:
            fh.write(data)
        click.echo(f"wrote {len(result):,} rows to {output}")


@atlas.command("layers")
@friendly
def layers_command() -> None:
    """List the layers in the store."""
    for info in get_store().list_layers():
        kind = "user" if info.user_layer else "catalog"
        title = info.meta.get("title", "")
        click.echo(f"{info.name:<24} {kind:<8} {info.count:>9,}  {title}")


# -- reference layers: replace, list versions, restore ---------------------------------------
@atlas.group("reference")
def reference_group() -> None:
    """Replace a catalog layer with your own data; list and restore its versions."""


def _stage_bar(label: str):
    return click.progressbar(length=3, label=label, file=sys.stderr, show_eta=False,
                             show_percent=False, item_show_func=lambda s: s)


def _issue_lines(preview: dict[str, Any], kind: str, limit: int = 10) -> None:
    items = preview.get(kind) or []
    total = preview.get("counts", {}).get(kind, len(items))
    for issue in items[:limit]:
        click.echo(f"  {kind[:-1]}: {issue['text']}  |  {issue['text_zh']}")
    if total > limit:
        click.echo(f"  … and {total - limit} more {kind}")


def _print_preview(preview: dict[str, Any]) -> None:
    c = preview["counts"]
    click.echo(f"{preview['layer']}: {c['rows_read']:,} rows read, {c['features']:,} features, "
               f"{c['errors']} errors, {c['warnings']} warnings"
               + (f", {c['placed_by_name']} placed by name" if c.get("placed_by_name") else "")
               + (f", appended {c['appended']}" if c.get("appended") else ""))
    fields = preview["mapping"]["fields"]
    if fields:
        click.echo("columns: " + ", ".join(f"{f} ← {m['column']}" + (
            f" (× {m['factor']:g})" if m.get("factor", 1) != 1 else "")
            for f, m in fields.items()))
    if preview["mapping"].get("unmapped_columns"):
        click.echo("not used: " + ", ".join(map(str, preview["mapping"]["unmapped_columns"])))
    diff = preview.get("diff")
    if diff:
        d = diff["counts"]
        click.echo(f"against the current version: {d.get('added', 0)} added, "
                   f"{d.get('removed', 0)} removed, {d.get('changed', 0)} changed")
    totals = preview.get("totals")
    if totals:
        t = totals["total"]
        click.echo("totals (new / seed article): " + ", ".join(
            f"{k} {t['new'][k]:,} / {t['seed'][k]:,}" for k in t["seed"]))
    deps = [n for n in preview.get("commits", []) if n != preview["layer"]]
    if deps:
        click.echo("re-derived with it: " + ", ".join(deps))
    _issue_lines(preview, "errors")
    _issue_lines(preview, "warnings", 5)


@reference_group.command("import")
@click.argument("layer")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--mapping", "mapping_file", type=click.Path(dir_okay=False), default=None,
              help='JSON file {"catalog_field": "source column"} overriding the automatic '
                   "column matching.")
@click.option("--dry-run", is_flag=True, help="Preview only: nothing is stored.")
@click.option("--mode", type=click.Choice(["replace", "append"]), default="replace",
              show_default=True, help="append: add the rows, update those whose id exists.")
@click.option("--source", default="", help="Where the data comes from (provenance).")
@click.option("--licence", default="", help="Licence of the data.")
@click.option("--date", default="", help="Date the data describes.")
@click.option("--note", default="", help="Why this version (shown in the history).")
@click.option("--author", default="", help="Who imports it.")
@click.option("--illustrative", is_flag=True, help="Positions are authored, not surveyed.")
@click.option("--crs", default=None, help="CRS of X/Y columns or of a file without .prj, "
              "e.g. EPSG:4548 (CGCS2000 Gauss-Krüger 117°E).")
@click.option("--datum", default=None, help="gcj02 (AMap/Gaode) or bd09 (Baidu) coordinates.")
@click.option("--sheet", default=None, help="Sheet of a workbook (name or number).")
@click.option("--source-layer", default=None, help="Layer inside a GeoPackage, KML or zip.")
@click.option("--header-row", type=int, default=None, help="Row of the header in a table.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="An option of the layer's own reader (e.g. sampled_on=2024-05-01).")
@friendly
def reference_import(layer: str, file: str, mapping_file: str | None, dry_run: bool, mode: str,
                     source: str, licence: str, date: str, note: str, author: str,
                     illustrative: bool, crs: str | None, datum: str | None, sheet: str | None,
                     source_layer: str | None, header_row: int | None,
                     options: tuple[str, ...]) -> None:
    """Replace catalog LAYER (projects, basins …) with FILE, as its next version."""
    reference_spec(layer)
    if not os.path.isfile(file):
        raise _fail(f"no such file: {file}")
    mapping = None
    if mapping_file:
        with open(mapping_file, encoding="utf-8") as fh:
            try:
                mapping = json.load(fh)
            except ValueError as e:
                raise _fail(f"{mapping_file} is not JSON ({e})",
                            '{"name_zh": "项目名称", "total_investment_yi": "总投资"}') from None
        if not isinstance(mapping, dict):
            raise _fail(f"{mapping_file} must hold one JSON object {{field: column}}")
    opts = {}
    for item in options:
        key, eq, value = item.partition("=")
        if not eq:
            raise _fail(f"--option {item!r} is not KEY=VALUE")
        opts[key.strip()] = value.strip()
    form = ReplacementForm(mapping=mapping, crs=crs, datum=datum, layer=source_layer,
                           sheet=sheet, header_row=header_row, source=source, licence=licence,
                           date=date, note=note, author=author, illustrative=illustrative,
                           mode=mode, options=opts)
    size = os.path.getsize(file)
    with _stage_bar(f"{os.path.basename(file)} ({size / 1e6:.1f} MB)") as bar:
        bar.update(1, "reading, mapping, validating")
        out = replace_reference(get_store(), layer, file, os.path.basename(file), form=form,
                                dry_run=True, limits=current_settings().read_limits)
        bar.update(1, "storing" if not dry_run and out.replacement.ok else "done")
        if not dry_run and out.replacement.ok:
            out = commit_replacement(get_store(), out.replacement, form, os.path.basename(file))
        bar.update(1, "done")
    preview = out.replacement.preview()
    _print_preview(preview)
    if not preview["ok"]:
        raise _fail(f"{preview['counts']['errors']} error(s) in {os.path.basename(file)}: "
                    "nothing stored", "correct the rows listed above (or --mapping) and run "
                    "again; --dry-run previews")
    if dry_run:
        click.echo("dry run: nothing stored")
        return
    info = out.infos[layer]
    others = ", ".join(f"{n} v{i.version_number}" for n, i in out.infos.items() if n != layer)
    click.echo(f"stored {layer} version {info.version_number} ({info.count:,} features)"
               + (f"; re-derived: {others}" if others else ""))


@reference_group.command("versions")
@click.argument("layer")
@friendly
def reference_versions(layer: str) -> None:
    """List the versions of catalog LAYER, newest first."""
    for v in version_records(get_store(), layer):
        mark = "*" if v["current"] else " "
        extra = f"  restored from {v['restored_from']}" if v["restored_from"] else ""
        extra += f"  re-derived ({v['derived_from']})" if v["derived_from"] else ""
        click.echo(f"{mark} v{v['version']:<4} {v['created'][:19]}  {v['count']:>8,}  "
                   f"{(v['author'] or '-'):<12} {v['source'][:40]}"
                   f"{('  — ' + v['note']) if v['note'] else ''}{extra}")


@reference_group.command("restore")
@click.argument("layer")
@click.argument("version", type=int)
@click.option("--author", default="", help="Who restores it.")
@click.option("--note", default="", help="Why.")
@friendly
def reference_restore(layer: str, version: int, author: str, note: str) -> None:
    """Write version VERSION of catalog LAYER again as its newest version."""
    out = restore_reference(get_store(), layer, version, author=author, note=note)
    info = out.infos[layer]
    others = ", ".join(f"{n} v{i.version_number}" for n, i in out.infos.items() if n != layer)
    click.echo(f"restored {layer} version {version} as version {info.version_number} "
               f"({info.count:,} features)" + (f"; re-derived: {others}" if others else ""))
    for w in out.warnings[:5]:
        click.echo(f"  warning: {w['text']}")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # the page's many requests
        pass


@contextlib.contextmanager
def _serving(app: Flask) -> Iterator[str]:
    """This app served on a free loopback port for as long as the block runs: its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@atlas.command("print")
@click.argument("url")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--paper", type=click.Choice(PAPERS, case_sensitive=False), default="a4",
              show_default=True, help="Paper size.")
@click.option("--orientation", type=click.Choice(ORIENTATIONS, case_sensitive=False),
              default="landscape", show_default=True)
@click.option("--timeout", default=60.0, show_default=True, help="Longest wait for the "
              "page to draw, in seconds.")
@click.option("--no-tiles", is_flag=True, help="Leave the basemap out (for machines without "
              "internet, where tile requests only time out).")
@friendly
def print_command(url: str, out: str, paper: str, orientation: str, timeout: float,
                  no_tiles: bool) -> None:
    """Print the map page at URL to the PDF file OUT, as the page's print view lays it out.

    URL is a page of a running atlas (http://…, its #map= view included) or a path such
    as "/route?max_km=100&lang=en", which this command serves itself while it prints.
    Needs headless Chromium (Debian's chromium package, or ATLAS_CHROMIUM).
    """
    serving = (_serving(current_app._get_current_object()) if url.startswith("/")
               else contextlib.nullcontext(""))
    try:
        with serving as base:
            data = render_pdf(base + url, out, paper=paper, orientation=orientation,
                              chromium=current_settings().chromium, timeout_s=timeout,
                              same_origin_only=no_tiles)
    except PrintError as e:
        raise _fail(str(e)) from None
    click.echo(f"wrote {out}: {paper.upper()} {orientation}, {len(data):,} bytes")


def init_app(app: Flask) -> None:
    """Add the ``atlas`` command group to ``app.cli``."""
    app.cli.add_command(atlas)
