"""Load the committed reference layers (``data/xilingol/*.geojson``) into the store.

Run as ``python -m layers.prepare [--if-missing] [--store PATH]``.  A layer is
(re)loaded when it is missing or when its GeoJSON file changed since it was
loaded (the file's SHA-256 is kept in the layer's metadata), so ``make run``
after a ``git pull`` picks up new data without touching saved user layers.

Examples
--------
>>> import tempfile, os
>>> from layers.open import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "s.gpkg"))
>>> sorted(prepare_store(store))[:2]
['admin', 'attractions']
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Callable, Iterable

import geopandas as gpd
import pyogrio

from .catalog import CATALOG
from .open import open_store
from .spec import LayerSpec
from .store import Store

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "data", "xilingol")


def layer_path(layer_id: str) -> str:
    """Path of the committed GeoJSON file of a catalog layer."""
    return os.path.join(DATA_DIR, f"{layer_id}.geojson")


def _sha256(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def read_committed(path: str) -> gpd.GeoDataFrame:
    """A committed GeoJSON file as a frame, its date and time values kept as ISO text.

    GDAL reads a GeoJSON ``"2023-01-09"`` as a timestamp, which the stores would keep as
    ``2023-01-09 00:00:00``; read as strings, a ``date`` field stays ``2023-01-09`` on
    both stores (the text the file, the API and the data build agree on).

    Examples
    --------
    >>> read_committed(layer_path("wq_samples"))["sampled_on"].iloc[0]
    '2023-01-09'
    """
    return pyogrio.read_dataframe(path, datetime_as_string=True)


def prepare_store(store: Store, force: bool = False,
                  progress: Callable[[Iterable[LayerSpec]], Iterable[LayerSpec]] | None = None
                  ) -> list[str]:
    """Load every catalog layer whose file is new or changed; return the ids loaded.

    Parameters
    ----------
    store : Store
        Destination store.
    force : bool
        Reload every layer even if unchanged.
    progress : callable, optional
        Wraps the iteration over the catalog, e.g. ``tqdm`` for a progress bar.
    """
    loaded: list[str] = []
    for spec in (CATALOG if progress is None else progress(CATALOG)):
        path = layer_path(spec.id)
        if not os.path.exists(path):
            continue
        digest = _sha256(path)
        if not force and store.exists(spec.id) and \
                store.info(spec.id).meta.get("sha256") == digest:
            continue
        gdf = read_committed(path)
        store.put(spec.id, gdf, meta={"catalog": True, "sha256": digest,
                                      "title": spec.title_zh, "source_file": path})
        loaded.append(spec.id)
    return loaded


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="GeoPackage path or postgresql:// URL "
                        "(default: $ATLAS_DATABASE_URL, $ATLAS_STORE or var/atlas.gpkg)")
    parser.add_argument("--if-missing", action="store_true",
                        help="only load layers that are missing or changed (the default)")
    parser.add_argument("--force", action="store_true", help="reload every layer")
    args = parser.parse_args(argv)
    store = open_store(args.store or os.environ.get("ATLAS_DATABASE_URL")
                       or os.environ.get("ATLAS_STORE"))
    loaded = prepare_store(store, force=args.force)
    where = store.location
    if loaded:
        print(f"Loaded {len(loaded)} layer(s) into {where}: {', '.join(loaded)}")
    else:
        print(f"Store {where} is up to date ({len(store.list_layers())} layers).")
    problems = store.check()
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
