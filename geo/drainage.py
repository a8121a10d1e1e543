"""Where a site's water goes, in words: upstream status and reason of every overlay row.

The rule (:data:`DRAINAGE_RULE`): a site inside a basin with rivers drains through
the nearest reach of *its own* basin's rivers, however far away that reach is (no
distance cap); the sections downstream of that point of the network are the
sections it lies upstream of.  A site in an inland basin without rivers
(浑善达克, 阿巴嘎, 苏尼特-二连 内流区) is upstream of no section.  A site outside every
basin (the basins cover the League only) is ``unknown``.  A line or polygon site
drains through each of its parts in a basin with rivers; it is upstream of every
section any part drains to.

:func:`label_drainage` turns the per-site numbers the overlay computes into the
status and reason columns.  Distinct answers are few (a handful of basins, rivers
and section patterns), so each string is built once per distinct answer and the
million-row columns are gathers.

Examples
--------
>>> import numpy as np
>>> names = DrainageNames(basin_zh=["乙流域", "内流区"], basin_en=["B basin", "Inland"],
...     river_zh=["丙河"], river_en=["Bing River"], section_id=["s"], section_zh=["丁断面"],
...     section_en=["Ding section"])
>>> mat = np.array([[True], [False], [False], [False]])
>>> out = label_drainage(mat, reason=np.array([0, 1, 2, 3]), basin=np.array([0, 0, 1, -1]),
...                      river=np.array([0, 0, -1, -1]), names=names)
>>> out["upstream_status"].tolist()
['yes', 'no', 'no', 'unknown']
>>> out["upstream_sections"].tolist()
['s', '', '', '']
>>> print(out["upstream_reason_en"][0])
drains through the nearest reach of its basin (Bing River, B basin) to Ding section
>>> print(out["upstream_reason_zh"][2])
位于无河流的内流区(内流区)，不汇入任何断面
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Values of ``upstream_status``.
UPSTREAM_STATUSES: tuple[str, ...] = ("yes", "no", "unknown")

#: Reason code → (status, Chinese template, English template).  Templates take
#: ``basin``, ``river`` and ``sections`` in their language.
REASONS: dict[str, tuple[str, str, str]] = {
    "drains_to_section": (
        "yes", "经本流域最近的河段({river}，{basin})汇入断面: {sections}",
        "drains through the nearest reach of its basin ({river}, {basin}) to {sections}"),
    "below_sections": (
        "no", "经本流域最近的河段({river}，{basin})排水，不经过任何国考断面",
        "drains through the nearest reach of its basin ({river}, {basin}), which passes no "
        "national section"),
    "inland_basin": (
        "no", "位于无河流的内流区({basin})，不汇入任何断面",
        "in an inland basin without rivers ({basin}): drains to no section"),
    "outside_basins": (
        "unknown", "不在任何流域分区内(流域分区只覆盖锡林郭勒盟)，无法判断",
        "outside every basin (the basins cover Xilingol League only): cannot tell"),
    "no_geometry": ("unknown", "没有几何，无法判断", "no geometry: cannot tell"),
    "no_rivers": ("unknown", "没有河流图层，无法判断", "no river layer: cannot tell"),
}
#: Reason codes in the order of their integer numbers in :func:`label_drainage`.
REASON_CODES: tuple[str, ...] = tuple(REASONS)

#: The rule in words, for the API description, the overlay report and the page.
DRAINAGE_RULE = {
    "zh": ("有河流的流域内的地点，经本流域最近的河段排水(不设距离上限)，其下游的国考断面即"
           "该地点所在上游的断面；位于无河流内流区(浑善达克、阿巴嘎、苏尼特-二连内流区)的地点"
           "不在任何断面上游；不在任何流域分区内(盟外)的地点为“未知”。线状、面状地点按其在各"
           "流域内的部分分别判断，任一部分汇入的断面都计入。"),
    "en": ("A site in a basin with rivers drains through the nearest reach of its own basin's "
           "rivers, at any distance (no cap); it is upstream of the national sections "
           "downstream of that reach. A site in an inland basin without rivers (Hunshandake, "
           "Abag, Sonid-Erenhot) is upstream of no section. A site outside every basin "
           "(outside the League) is 'unknown'. A line or polygon site drains through each of "
           "its parts in a basin; every section any part drains to counts."),
}

# Sections per site pattern packed into one integer while this many fit with the
# other keys (beyond it: unique rows, slower).
_MAX_BITS = 40


@dataclass
class DrainageNames:
    """Names the reasons quote, by position (basins, rivers, sections of the index)."""

    basin_zh: ArrayLike
    basin_en: ArrayLike
    river_zh: ArrayLike
    river_en: ArrayLike
    section_id: ArrayLike
    section_zh: ArrayLike
    section_en: ArrayLike


def _at(values: ArrayLike, i: int) -> str:
    values = np.asarray(values, dtype=object)
    return str(values[i]) if 0 <= i < len(values) else ""


def label_drainage(mat: NDArray[np.bool_], reason: NDArray, basin: NDArray, river: NDArray,
                   names: DrainageNames, sep: str = ";") -> dict[str, NDArray]:
    """Status, reason and section columns from per-site numbers.

    Parameters
    ----------
    mat : ndarray of bool, shape (n, k)
        Does site i drain to section j.
    reason : ndarray of int
        Position of each site's reason in :data:`REASON_CODES`.
    basin, river : ndarray of int
        The basin and the river the reason names (-1: none).
    names : DrainageNames
    sep : str
        Separator of the section ids in ``upstream_sections``.

    Returns
    -------
    dict of ndarray
        ``upstream_status``, ``upstream_reason`` (code), ``upstream_reason_zh``,
        ``upstream_reason_en`` and ``upstream_sections`` (ids joined by ``sep``).
    """
    n, k = mat.shape
    reason = np.asarray(reason, dtype=np.int64)
    nb = len(np.asarray(names.basin_zh, dtype=object))
    nr = len(np.asarray(names.river_zh, dtype=object))
    small = (reason * (nb + 1) + (np.asarray(basin) + 1)) * (nr + 1) + (np.asarray(river) + 1)
    m = len(REASON_CODES) * (nb + 1) * (nr + 1)
    if k <= _MAX_BITS and m < 2 ** (63 - _MAX_BITS):
        # Each site's sections as bits of one integer: np.unique on integers is a plain
        # sort, where unique rows of a boolean matrix sort records (~100x slower).
        pattern = np.zeros(n, dtype=np.int64)
        for j in range(k):
            pattern |= mat[:, j].astype(np.int64) << j
        patterns = None
    else:
        patterns, pattern = np.unique(mat, axis=0, return_inverse=True)
        pattern = pattern.ravel().astype(np.int64)
    keys, inverse = np.unique(pattern * m + small, return_inverse=True)
    ids = np.asarray(names.section_id, dtype=object)
    sec_zh = np.asarray(names.section_zh, dtype=object)
    sec_en = np.asarray(names.section_en, dtype=object)
    cols: dict[str, list[str]] = {c: [] for c in (
        "upstream_status", "upstream_reason", "upstream_reason_zh", "upstream_reason_en",
        "upstream_sections")}
    for key in keys.tolist():  # one pass per distinct answer (a few dozen)
        p, rest = divmod(int(key), m)
        rb, r_river = divmod(rest, nr + 1)
        r, b = divmod(rb, nb + 1)
        hit = patterns[p] if patterns is not None else \
            np.array([(p >> j) & 1 for j in range(k)], dtype=bool)
        code = REASON_CODES[r]
        status, zh, en = REASONS[code]
        cols["upstream_status"].append(status)
        cols["upstream_reason"].append(code)
        cols["upstream_reason_zh"].append(zh.format(
            basin=_at(names.basin_zh, b - 1), river=_at(names.river_zh, r_river - 1),
            sections="、".join(sec_zh[hit])))
        cols["upstream_reason_en"].append(en.format(
            basin=_at(names.basin_en, b - 1), river=_at(names.river_en, r_river - 1),
            sections=", ".join(sec_en[hit])))
        cols["upstream_sections"].append(sep.join(ids[hit]))
    inverse = inverse.ravel()
    return {c: np.asarray(v, dtype=object)[inverse] if len(v) else np.zeros(0, dtype=object)
            for c, v in cols.items()}
