"""Authored source files of the reference dataset (JSON, read by :mod:`data.build`)."""

from __future__ import annotations

import json
import os
from typing import Any

SOURCES_DIR = os.path.dirname(os.path.abspath(__file__))


def load(name: str) -> dict[str, Any]:
    """The parsed authored source file ``data/sources/<name>.json``."""
    with open(os.path.join(SOURCES_DIR, f"{name}.json"), encoding="utf-8") as fh:
        return json.load(fh)
