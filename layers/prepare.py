"""Load the committed reference layers (``data/xilingol/*.geojson``) into the store.

Run as ``python -m layers.prepare [--if-missing] [--force] [--store PATH]``.  The
built-in data is each catalog layer's first version; users replace it with their own
(``PUT /api/reference/{layer}``, ``flask atlas reference import``), and their version
is never overwritten by the built-in data.  What happens on each start (``make run``,
``create_app``, ``python -m data.load``):

* a layer missing from the store is loaded (version 1);
* a layer whose committed file changed since it was loaded (its SHA-256 is kept in
  the version's metadata, :func:`is_builtin`) is loaded again as its next version
  **only while the current version is built-in data** — the built-in one, or a
  restore of it — so ``make run`` after a ``git pull`` picks up the project's new
  data and the old built-in version stays in the history;
* a layer whose current version is a user's (a replacement, a restore of one, or a
  dependent re-derived from one) is left alone, and reported as *kept*; the new
  built-in data can be taken by hand (``--force`` writes it as the next version of
  every layer, and the user's version stays restorable).

Examples
--------
>>> import tempfile, os
>>> from layers.open import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "s.gpkg"))
>>> sorted(prepare_store(store))[:2]
['admin', 'attractions']
>>> info = store.info("ports")
>>> info.version_number, is_builtin(info.meta)
(1, True)
>>> _ = store.put("ports", store.get("ports"), meta={"catalog": True, "source": "口岸办"})
>>> r = load_builtin(store)           # the user's version stays current
>>> r.loaded, r.kept, store.info("ports").meta["source"]
([], [], '口岸办')
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pyogrio

from .catalog import CATALOG
from .errors import StoreFull, StoreReadOnly
from .open import open_store
from .spec import LayerMeta, LayerSpec
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


def is_builtin(meta: Mapping[str, Any] | None) -> bool:
    """Whether a version holds the built-in data: loaded from a committed file (its
    SHA-256 recorded), or a restore of such a version (which copies its metadata).

    Examples
    --------
    >>> is_builtin({"catalog": True, "sha256": "ab12"}), is_builtin({"catalog": True})
    (True, False)
    """
    return LayerMeta.from_dict(dict(meta or {})).builtin


def builtin_meta(spec: LayerSpec, digest: str) -> dict[str, Any]:
    """The metadata of a built-in version of catalog layer ``spec``."""
    rel = os.path.relpath(layer_path(spec.id), os.path.dirname(DATA_DIR.rstrip(os.sep)))
    return LayerMeta(title=spec.title_zh, title_en=spec.title_en, catalog=True, sha256=digest,
                     source_file=os.path.join("data", rel),
                     note="图集内置数据 built-in data").to_dict()


@dataclass
class PrepareResult:
    """What :func:`load_builtin` did.

    Attributes
    ----------
    loaded : list of str
        Layers whose built-in data was written (a new layer's version 1, or the
        next version of a built-in layer whose file changed).
    kept : list of str
        Layers whose committed file changed (since their newest built-in version)
        while a user's version is current: left as they are.
    """

    loaded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def load_builtin(store: Store, force: bool = False,
                 progress: Callable[[Iterable[LayerSpec]], Iterable[LayerSpec]] | None = None
                 ) -> PrepareResult:
    """Load every catalog layer that is missing, or built-in and changed (see above).

    Parameters
    ----------
    store : Store
        Destination store.
    force : bool
        Write the committed data of every layer as its next version, even over a
        user's version (which stays in the history, restorable).
    progress : callable, optional
        Wraps the iteration over the catalog, e.g. ``tqdm`` for a progress bar.
    """
    result = PrepareResult()
    for spec in (CATALOG if progress is None else progress(CATALOG)):
        path = layer_path(spec.id)
        if not os.path.exists(path):
            continue
        digest = _sha256(path)
        if not force and store.exists(spec.id):
            meta = store.info(spec.id).meta
            if meta.get("sha256") == digest:
                continue
            if not is_builtin(meta):
                # A user's version is current: never replaced; worth a word only when
                # the built-in data changed since it was last loaded.
                last = next((v.meta.get("sha256") for v in store.versions(spec.id)
                             if is_builtin(v.meta)), None)
                if last != digest:
                    result.kept.append(spec.id)
                continue
        gdf = read_committed(path)
        store.put(spec.id, gdf, meta=builtin_meta(spec, digest))
        result.loaded.append(spec.id)
    return result


def prepare_store(store: Store, force: bool = False,
                  progress: Callable[[Iterable[LayerSpec]], Iterable[LayerSpec]] | None = None
                  ) -> list[str]:
    """:func:`load_builtin`, answering the ids loaded."""
    return load_builtin(store, force=force, progress=progress).loaded


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
    where = store.location
    try:
        result = load_builtin(store, force=args.force)
    except (StoreFull, StoreReadOnly) as e:
        # `make run` goes on: the server serves what the store holds and says why
        # writes are paused (/healthz, the pages).
        print(f"warning: the reference layers in {where} could not be brought up to date:"
              f" {e} ({e.hint})", file=sys.stderr)
        return 0
    loaded = result.loaded
    if loaded:
        print(f"Loaded {len(loaded)} layer(s) into {where}: {', '.join(loaded)}")
    else:
        print(f"Store {where} is up to date ({len(store.list_layers())} layers).")
    for name in result.kept:
        print(f"kept {name}: its current version is a user's; the built-in data in "
              f"{os.path.relpath(layer_path(name))} changed and was not loaded (--force loads "
              "it as the next version)")
    problems = store.check()
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
