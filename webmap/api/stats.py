"""GET /api/stats/projects: the major-project registry summarised.

Totals and breakdowns by category (with the catalog's labels and colours), by
status (new / continuing), by investor (government / social), by county and by
basin, optionally filtered by ``basin``, ``county``, ``category``, ``status`` and
``investor``.  Unfiltered, the figures are the seed article's table
(:data:`layers.catalog.SEED_PROJECT_TOTALS`) — when the registry is the built-in one; a
registry replaced by the League's own data has its own figures, and the unfiltered
answer carries ``seed`` (the article's table) and ``difference`` (registry − seed)
beside them.  Each project's basin comes from the overlay
(:func:`geo.overlay.overlay_sites`), computed once per layer version.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from flask import Blueprint, request

from geo.geojson import dumps
from layers.catalog import PROJECT_CATEGORIES, PROJECT_INVESTORS, PROJECT_STATUSES
from layers.preview import totals_beside_seed
from layers.reference import Reference, reference

from ..core.errors import ApiError
from ..core.http import REVALIDATE, cached_response, make_etag
from ..core.store import get_store

bp = Blueprint("stats", __name__)

#: Labels of the registry's status and investor values (legend/table text): the catalog's
#: coded values, so a label changed there changes here.
STATUS_LABELS: dict[str, tuple[str, str]] = {c.value: (c.label_zh, c.label_en)
                                             for c in PROJECT_STATUSES}
INVESTOR_LABELS: dict[str, tuple[str, str]] = {c.value: (c.label_zh, c.label_en)
                                               for c in PROJECT_INVESTORS}
_MONEY = ("plan_2023_yi", "total_investment_yi")


def _money(frame: pd.DataFrame, col: str) -> pd.Series:
    if col in frame:
        return pd.to_numeric(frame[col], errors="coerce").fillna(0.0)
    return pd.Series(0.0, index=frame.index)


def _figures(frame: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {"count": int(len(frame))}
    for m in _MONEY:
        out[m] = round(float(_money(frame, m).sum()), 2)
    return out


def breakdown(frame: pd.DataFrame, key: str | list[str],
              order: list[str] | None = None) -> list[dict[str, Any]]:
    """Count and investment per value of ``key`` (one groupby), in ``order`` if given.

    Values in ``order`` missing from ``frame`` appear with zeros, so a chart keeps
    its categories when a filter empties one.
    """
    keys = [key] if isinstance(key, str) else list(key)
    data = pd.DataFrame({k: frame[k].fillna("").astype(str).to_numpy() for k in keys})
    for m in _MONEY:
        data[m] = _money(frame, m).to_numpy()
    data["count"] = 1
    grouped = data.groupby(keys, sort=False)[["count", *_MONEY]].sum().reset_index()
    rows = [{**{k: r[k] for k in keys}, "count": int(r["count"]),
             **{m: round(float(r[m]), 2) for m in _MONEY}}
            for r in grouped.to_dict("records")]
    if order is not None:
        have = {r[keys[0]]: r for r in rows}
        rows = [have.get(v, {keys[0]: v, "count": 0, **{m: 0.0 for m in _MONEY}})
                for v in order] + [r for r in rows if r[keys[0]] not in set(order)]
    else:
        rows.sort(key=lambda r: (-r["count"], r[keys[0]]))
    return rows


def _labelled(rows: list[dict], key: str, labels: dict[str, tuple[str, str]]) -> list[dict]:
    for r in rows:
        zh, en = labels.get(r[key], (r[key], r[key]))
        r["label_zh"], r["label_en"] = zh, en
    return rows


def category_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Per-category figures in catalog order with ``label_zh``, ``label_en``, ``color``."""
    rows = breakdown(frame, "category", [c.value for c in PROJECT_CATEGORIES])
    colours = {c.value: (c.label_zh, c.label_en, c.color) for c in PROJECT_CATEGORIES}
    for r in rows:
        zh, en, colour = colours.get(r["category"], (r["category"], r["category"], "#999999"))
        r.update(label_zh=zh, label_en=en, color=colour)
    return rows


def _allowed(name: str, value: str, allowed: dict[str, str]) -> str:
    """Canonical form of filter ``value`` among ``allowed`` (alias → canonical)."""
    if value in allowed:
        return allowed[value]
    shown = value if len(value) <= 60 else value[:60] + "…"
    choices = sorted(set(allowed.values()))
    zh = {"basin": "流域", "county": "旗县市区", "category": "项目类别", "status": "建设性质",
          "investor": "投资主体"}.get(name, "筛选条件")
    raise ApiError(f"unknown {name} {shown!r}", 400,
                   hint=f"{name} must be one of: {', '.join(choices)}", code="bad_parameter",
                   message_zh=f"没有这个{zh}：{shown!r}",
                   hint_zh=f"{zh}可选：{'、'.join(choices)}")


def _filters(ref: Reference, frame: pd.DataFrame) -> dict[str, str]:
    """Validated filters from the query string (canonical values)."""
    out: dict[str, str] = {}
    basins = ref.basins
    admin = ref.admin[ref.admin.get("level", pd.Series("", index=ref.admin.index))
                      .astype(str) != "league"]
    vocab: dict[str, dict[str, str]] = {
        "basin": {**{str(v): str(v) for v in basins.get("id", [])},
                  **{str(z): str(i) for i, z in zip(basins.get("id", []),
                                                   basins.get("name_zh", []), strict=False)}},
        "county": {**{str(v): str(v) for v in admin.get("name_zh", [])},
                   **{str(a): str(z) for a, z in zip(admin.get("adcode", []),
                                                    admin.get("name_zh", []), strict=False)},
                   **{str(e): str(z) for e, z in zip(admin.get("name_en", []),
                                                    admin.get("name_zh", []), strict=False)}},
        "category": {c.value: c.value for c in PROJECT_CATEGORIES},
        "status": {**{k: k for k in STATUS_LABELS},
                   **{str(v): str(v) for v in frame["status"].dropna().unique()}}
        if "status" in frame else {k: k for k in STATUS_LABELS},
        "investor": {**{k: k for k in INVESTOR_LABELS},
                     **{str(v): str(v) for v in frame["investor"].dropna().unique()}}
        if "investor" in frame else {k: k for k in INVESTOR_LABELS},
    }
    for name, allowed in vocab.items():
        value = request.args.get(name, "").strip()
        if value:
            out[name] = _allowed(name, value, allowed)
    return out


def project_stats(frame: pd.DataFrame) -> dict[str, Any]:
    """The summary of a (filtered) project table with overlay columns.

    Examples
    --------
    >>> f = pd.DataFrame({"category": ["energy", "ecology"], "status": ["new", "new"],
    ...     "investor": ["social", "government"], "county": ["甲", "甲"], "adcode": ["1", "1"],
    ...     "basin_id": ["b", "b"], "basin_zh": ["乙", "乙"], "plan_2023_yi": [2.0, 1.0],
    ...     "total_investment_yi": [5.0, 3.0], "permits_complete": [True, False]})
    >>> s = project_stats(f)
    >>> s["total"], s["by_category"][0]["count"], s["by_status"][0]["label_en"]
    ({'count': 2, 'plan_2023_yi': 3.0, 'total_investment_yi': 8.0, 'permits_complete': 1}, 1, 'New')
    """
    total = _figures(frame)
    if "permits_complete" in frame:
        permits = frame["permits_complete"].map(lambda v: v is True or v == 1 or v == "true")
        total["permits_complete"] = int(np.count_nonzero(permits.to_numpy(dtype=bool)))
    return {
        "total": total,
        "by_category": category_rows(frame),
        "by_status": _labelled(breakdown(frame, "status", list(STATUS_LABELS)), "status",
                               STATUS_LABELS),
        "by_investor": _labelled(breakdown(frame, "investor", list(INVESTOR_LABELS)),
                                 "investor", INVESTOR_LABELS),
        "by_county": breakdown(frame, ["county", "adcode"]) if "adcode" in frame
        else breakdown(frame, "county"),
        "by_basin": breakdown(frame, ["basin_id", "basin_zh"]),
    }


def seed_beside(frame: pd.DataFrame) -> tuple[dict[str, Any], dict[str, Any]]:
    """The seed article's table and the registry's difference from it (registry − seed).

    ``seed`` and ``difference`` have the shape of the answer's own figures: ``total``
    (count, total investment, 2023 plan, permits) and ``by_category``, ``by_status``,
    ``by_investor`` rows (count and 2023 plan: what the article publishes per split).

    Examples
    --------
    >>> f = pd.DataFrame({"category": ["energy"], "status": ["new"], "investor": ["social"],
    ...     "plan_2023_yi": [2.0], "total_investment_yi": [5.0], "permits_complete": [True]})
    >>> seed, diff = seed_beside(f)
    >>> seed["total"]["count"], diff["total"]["count"], diff["by_category"][0]
    (150, -149, {'category': 'energy', 'label_zh': '能源', 'label_en': 'Energy', 'count': -56, 'plan_2023_yi': -269.0})
    """
    t = totals_beside_seed(frame)
    seed: dict[str, Any] = {"total": t["total"]["seed"]}
    diff: dict[str, Any] = {"total": t["total"]["difference"]}
    for split, key in (("by_category", "category"), ("by_status", "status"),
                       ("by_investor", "investor")):
        seed[split], diff[split] = [], []
        for row in t[split]:
            if row["seed"] is None:
                continue
            head = {key: row["key"], "label_zh": row["label_zh"], "label_en": row["label_en"]}
            seed[split].append({**head, **row["seed"]})
            diff[split].append({**head, **row["difference"]})
    return seed, diff


@bp.get("/api/stats/projects")
def projects_stats():
    """Registry summary, optionally filtered by basin, county, category, status, investor."""
    store = get_store()
    ref = reference(store)
    frame = ref.projects_overlay
    filters = _filters(ref, frame)
    key = make_etag("stats-projects", *ref.versions, *sorted(filters.items()))

    def produce() -> bytes:
        sel = np.ones(len(frame), dtype=bool)
        column = {"basin": "basin_id"}
        for name, value in filters.items():
            col = column.get(name, name)
            sel &= frame[col].fillna("").astype(str).to_numpy() == value
        body = {"filters": filters, **project_stats(frame[sel])}
        # The seed article's figures are the whole registry's: beside the unfiltered answer.
        seed, diff = seed_beside(frame) if not filters else (None, None)
        body.update(seed=seed, difference=diff)
        return dumps(body)

    return cached_response(key, produce, "application/json",
                           cache_control=REVALIDATE)
