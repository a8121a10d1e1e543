"""Command line for the long jobs: ``flask --app webmap atlas import|export|overlay|layers``.

Examples (shell)::

    flask --app webmap atlas layers
    flask --app webmap atlas import sites.xlsx --layer my_sites --datum gcj02
    flask --app webmap atlas export scenic_road --format gpx -o scenic_road.gpx
    flask --app webmap atlas overlay sites.csv -o sites_overlay.csv

Every failure is one line on stderr (``Error: what — hint``) and a non-zero exit
status; bad input never prints a traceback.  Work that takes more than a moment
(reading and storing a large file, overlaying sites in chunks) shows a progress
bar on stderr.

Examples
--------
>>> [c for c in sorted(atlas.commands)]
['export', 'import', 'layers', 'overlay']
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click
import geopandas as gpd
import pandas as pd
from flask import Flask
from flask.cli import AppGroup

from geo.accuracy import round_overlay
from geo.crs import normalise_datum, transform_geometries
from geo.errors import ExplainedError
from geo.export import FORMATS, to_bytes
from geo.overlay import overlay_sites, summarise
from geo.read import read_file
from layers.describe import spec_for
from layers.ingest import check_user_layer_name, read_upload, save_user_layer, user_meta
from layers.reference import reference
from layers.store import parse_bbox, validate_layer_name

from .core.config import current_settings
from .core.store import get_store

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
    data, _mimetype, filename = to_bytes(gdf, fmt, name=layer, spec=spec_for(store, info))
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


def init_app(app: Flask) -> None:
    """Add the ``atlas`` command group to ``app.cli``."""
    app.cli.add_command(atlas)
