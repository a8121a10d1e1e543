#!/usr/bin/python3
"""QGIS as a client of the atlas: open every OGC API – Features collection and files, print JSON.

Run with Debian's system Python (``python3-qgis`` is not in the virtualenv), headless::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_client.py \\
        --oapif http://127.0.0.1:8000/ogcapi [--subset '"category" = \\'energy\\''] \\
        [--crs EPSG:4548] [--file export.gpkg --file export.shp.zip]

For each collection it builds a ``QgsVectorLayer`` with QGIS's ``OAPIF`` provider (the
``WFS`` provider library, ``url=… typename=…``), and for each file one with the ``ogr``
provider (every layer of a GeoPackage; a ``.zip`` through ``/vsizip/``), and prints::

    {"qgis": "3.22.16-Białowieża", "gdal": "3.6.2",
     "collections": [{"id": "projects", "valid": true, "count": 150,
                      "fields": [["id", "String"], …], "crs": "EPSG:4326",
                      "subset": {"expression": "…", "accepted": true, "count": 57}}],
     "files": [{"path": "…", "layers": [{"name": …, "valid": …, "count": …, "fields": …,
                "crs": …, "crs_name": …, "renderer": {"type": "categorizedSymbol", …}}]}],
     "messages": [[tag, level, text], …]}

``--subset`` is applied with ``setSubsetString`` (QGIS expression syntax); the server's
log shows whether QGIS turned it into request parameters or filtered the pages itself.
The collection list comes from ``/collections`` read with Python's urllib (QGIS offers
no public call for it).  Nothing here imports the atlas: it is a client.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _collections(base: str) -> list[str]:
    req = urllib.request.Request(base.rstrip("/") + "/collections?f=json",
                                 headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        doc = json.load(resp)
    return [c["id"] for c in doc.get("collections", [])]


def _fields(layer) -> list[list[str]]:
    return [[f.name(), f.typeName()] for f in layer.fields()]


def _renderer(layer) -> dict:
    r = layer.renderer()
    if r is None:
        return {}
    out = {"type": r.type()}
    if r.type() == "categorizedSymbol":
        out["attribute"] = r.classAttribute()
        out["categories"] = [[str(c.value()), c.label(), c.symbol().color().name()]
                             for c in r.categories()]
    elif r.type() == "singleSymbol":
        out["color"] = r.symbol().color().name()
    return out


def _describe(layer, count: bool = True) -> dict:
    d = {"valid": layer.isValid()}
    if not layer.isValid():
        return d
    # featureCount() may be -1 (unknown) for a web layer: count by iterating then.
    n = layer.featureCount()
    if count and n < 0:
        n = sum(1 for _ in layer.getFeatures())
    d.update(count=n, fields=_fields(layer), crs=layer.crs().authid(),
             crs_name=layer.crs().description(), geometry=layer.geometryType())
    return d


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--oapif", help="landing page URL of the OGC API (…/ogcapi)")
    ap.add_argument("--collection", action="append", default=[],
                    help="only these collections (default: all)")
    ap.add_argument("--subset", help="a QGIS filter expression applied to each collection")
    ap.add_argument("--subset-collection", default="projects",
                    help="collection the subset is applied to (default projects)")
    ap.add_argument("--crs", help="ask the OAPIF provider for this CRS (srsname)")
    ap.add_argument("--page-size", type=int, default=0, help="OAPIF pageSize (0: default)")
    ap.add_argument("--file", action="append", default=[],
                    help="a GeoPackage, Shapefile or zipped Shapefile to open with ogr")
    args = ap.parse_args(argv)

    from qgis.core import Qgis, QgsApplication, QgsProviderRegistry, QgsVectorLayer

    app = QgsApplication([], False)
    app.initQgis()
    messages: list[list] = []
    QgsApplication.messageLog().messageReceived.connect(
        lambda text, tag, level: messages.append([tag, int(level), text]))
    out: dict = {"qgis": Qgis.QGIS_VERSION, "providers": sorted(
        p for p in QgsProviderRegistry.instance().providerList() if p in ("OAPIF", "WFS",
                                                                         "ogr"))}
    try:
        from osgeo import gdal  # python3-gdal comes with python3-qgis

        out["gdal"] = gdal.__version__
    except ImportError:  # pragma: no cover - only without python3-gdal
        out["gdal"] = None

    if args.oapif:
        ids = args.collection or _collections(args.oapif)
        out["collections"] = []
        for cid in ids:
            uri = f"url='{args.oapif}' typename='{cid}'"
            if args.crs:
                uri += f" srsname='{args.crs}'"
            if args.page_size:
                uri += f" pageSize='{args.page_size}'"
            layer = QgsVectorLayer(uri, cid, "OAPIF")
            entry = {"id": cid, "uri": uri, **_describe(layer)}
            if args.subset and cid == args.subset_collection and layer.isValid():
                accepted = layer.setSubsetString(args.subset)
                entry["subset"] = {"expression": args.subset, "accepted": bool(accepted),
                                   "count": sum(1 for _ in layer.getFeatures()),
                                   "subset_string": layer.subsetString()}
            out["collections"].append(entry)

    if args.file:
        out["files"] = []
        for path in args.file:
            src = f"/vsizip/{path}" if path.endswith(".zip") else path
            entry: dict = {"path": path, "layers": []}
            probe = QgsVectorLayer(src, "probe", "ogr")
            subs = probe.dataProvider().subLayers() if probe.isValid() else []
            # subLayers(): "index!!::!!name!!::!!count!!::!!geometry type!!::!!…"
            names = [s.split("!!::!!")[1] for s in subs]
            if not names and probe.isValid():
                names = [probe.name()]
            for name in names:
                uri = f"{src}|layername={name}" if len(names) > 1 or path.endswith(".gpkg") \
                    else src
                layer = QgsVectorLayer(uri, name, "ogr")
                d = {"name": name, **_describe(layer)}
                if layer.isValid():
                    d["renderer"] = _renderer(layer)
                entry["layers"].append(d)
            out["files"].append(entry)

    out["messages"] = messages
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    code = main()
    # QGIS 3.22 tends to crash in exitQgis()/interpreter teardown while provider objects
    # are being destroyed (SIGSEGV after the work is done): leave without tearing down.
    os._exit(code)
