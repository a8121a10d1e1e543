"""Load the reference layers (``data/xilingol/*.geojson``) into a PostGIS database.

Run as ``python -m data.load [--database-url postgresql://…] [--force]``; the URL
defaults to ``$ATLAS_DATABASE_URL``.  Opening the store creates or migrates the
schema; then every catalog layer that is missing, or whose file changed since it
was loaded (SHA-256 in the layer's metadata), is written in its own transaction.
Running it again loads nothing, so it is safe in deployment scripts and when
several app servers start at once.  Saved user layers are never touched.

This is :func:`layers.prepare.prepare_store` with a progress bar and a report; any
store URL works (a GeoPackage path too).

Examples
--------
>>> parse_args(["--database-url", "postgresql://atlas@db/atlas"]).database_url
'postgresql://atlas@db/atlas'
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable

from tqdm import tqdm

from layers.open import open_store
from layers.prepare import prepare_store
from layers.spec import LayerSpec
from layers.store import Store, StoreError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m data.load",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("ATLAS_DATABASE_URL"),
                        help="postgresql://user:password@host:port/database "
                             "(default: $ATLAS_DATABASE_URL)")
    parser.add_argument("--force", action="store_true",
                        help="reload every reference layer even if unchanged")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def load(store: Store, force: bool = False, quiet: bool = False) -> list[str]:
    """Load the reference layers into ``store`` with a progress bar; the ids loaded."""

    def progress(specs: Iterable[LayerSpec]) -> Iterable[LayerSpec]:
        bar = tqdm(list(specs), desc="reference layers", unit="layer", disable=quiet,
                   file=sys.stderr)
        for spec in bar:
            bar.set_postfix_str(spec.id)
            yield spec

    return prepare_store(store, force=force, progress=progress)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; exit status 1 if the database cannot be used."""
    args = parse_args(argv)
    if not args.database_url:
        print("error: no database: pass --database-url postgresql://… or set "
              "ATLAS_DATABASE_URL", file=sys.stderr)
        return 2
    try:
        store = open_store(args.database_url)
        loaded = load(store, force=args.force, quiet=args.quiet)
        layers = store.list_layers()
        problems = store.check()
    except StoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    where = store.location
    if loaded:
        print(f"Loaded {len(loaded)} layer(s) into {where}: {', '.join(loaded)}")
    else:
        print(f"{where} is up to date: nothing to load.")
    for info in layers:
        print(f"  {info.name:<14} {info.count:>8} features  {info.version}")
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    store.close()
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
