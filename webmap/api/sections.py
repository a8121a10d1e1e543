"""The national water-quality sections (国考断面): what drains to them, and their water.

``GET /api/sections/{id}/upstream[?geometry=true]``
    The section's drainage area in km² (:func:`geo.upstream.section_upstream`: every
    place in a basin with rivers whose nearest reach of its own basin drains to it, no
    distance cap), the basins' parts, the rivers upstream (cut at the section) and the
    projects upstream with ids, names and investment, their totals and the drainage
    rule in both languages; ``geometry=true`` adds the area as GeoJSON.
``GET /api/sections/{id}/quality[?from=YYYY-MM-DD&to=YYYY-MM-DD]``
    The section's samples (both dates inclusive), each with ``sampled_on``, ``class``
    (``Ⅰ`` … ``Ⅴ``, ``劣Ⅴ``), ``class_en`` (``I`` … ``V``, ``worse than V``),
    ``class_number`` (1–6), the controlling items and the exceedances of the target
    class; the monthly and annual classes (from means, as the national assessment
    takes them); the share of samples meeting the target; each item's limit for the
    target (for charts); the assessment rule (:mod:`geo.water`).
``GET /api/sections/quality[?year=2023]``
    Every section's annual class against its target (default: the latest year with
    samples), the months meeting it, and its latest sample's class — what the
    watershed page colours the sections by.

Answers are cached by the versions of the layers they come from (the reference
bundle's, plus ``wq_samples`` for quality): the ETag names them, a revalidation is a
304, and the body is computed once per version.  Errors carry a code of
:data:`geo.errors.MESSAGES` and both languages (``section_not_found``, ``bad_date``,
``bad_parameter``, ``unknown_parameter``).

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> c = app.test_client()
>>> q = c.get("/api/sections/sec_xilinhe_xilinhot/quality?from=2023-01-01&to=2023-01-31").json
>>> [(s["sampled_on"], s["class"], s["class_en"]) for s in q["samples"]]
[('2023-01-07', '劣Ⅴ', 'worse than V')]
>>> c.get("/api/sections/nope/upstream").json["code"]
'section_not_found'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from flask import Blueprint, request

from geo.errors import GeoInputError
from geo.geojson import dumps
from geo.upstream import section_upstream
from geo.water.gb3838 import (
    ASSESSMENT_RULE,
    CLASS_COLOURS,
    CLASS_EN,
    CLASS_ZH,
    ITEMS,
    PARAMETERS,
    class_label,
    parse_class,
)
from geo.water.series import (
    annual_summary,
    sample_classes,
    sample_dates,
    section_quality,
    to_records,
)
from layers.reference import Reference, reference
from layers.store import LayerNotFound, Store

from ..core.errors import ApiError
from ..core.http import REVALIDATE, ByteLRU, cached_response, make_etag
from ..core.store import get_store

bp = Blueprint("sections", __name__)

#: The layer of samples.
SAMPLES = "wq_samples"
#: Years a request may ask for.
YEAR_RANGE = (1990, 2100)
#: Bodies computed per (endpoint, layer versions, parameters): a few hundred KB at most.
_BODIES = ByteLRU(8 * 1024 * 1024)

#: Fields of the projects listed upstream, in this order.
PROJECT_FIELDS: tuple[str, ...] = (
    "id", "name_zh", "name_en", "category", "county", "basin_id", "total_investment_yi",
    "plan_2023_yi", "drain_river_id", "accuracy_m", "illustrative",
)


# -- request values -----------------------------------------------------------------------
def _only(allowed: Iterable[str]) -> None:
    """Refuse query parameters this address does not know (a typo gives a 400, not a
    silently unfiltered answer)."""
    allowed = set(allowed)
    unknown = sorted(k for k in request.args if k not in allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise ApiError(f"unknown parameter {unknown[0]!r}", 400,
                       hint=f"this address takes: {known}", code="unknown_parameter",
                       message_zh=f"无法识别的选项 {unknown[0]!r}",
                       hint_zh=f"可用的选项：{known}")


def _flag(name: str) -> bool:
    raw = (request.args.get(name) or "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ApiError(f"{name} must be true or false, got {raw!r}", 400,
                   hint=f"{name}=true", code="bad_parameter",
                   message_zh=f"{name} 只能是 true 或 false", hint_zh=f"例如 {name}=true")


def _year() -> int | None:
    raw = (request.args.get("year") or "").strip()
    if not raw:
        return None
    lo, hi = YEAR_RANGE
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise ApiError(f"year must be a year from {lo} to {hi}, got {raw!r}", 400,
                       hint="e.g. year=2023", code="bad_parameter",
                       message_zh=f"年份应在 {lo} 到 {hi} 之间，收到的是 {raw!r}",
                       hint_zh="例如 year=2023")
    return int(raw)


# -- the layers -------------------------------------------------------------------------
def _section_table(ref: Reference) -> pd.DataFrame:
    """The sections layer (id, names, river, target class) without geometry."""
    sections = ref.sections
    if sections.empty:
        raise LayerNotFound("no layer called 'sections' (or it is empty)")
    return pd.DataFrame(sections.drop(columns=[sections.geometry.name]))


def _section_row(ref: Reference, section_id: str) -> dict[str, Any]:
    table = _section_table(ref)
    hit = table[table["id"].astype(str) == section_id]
    if hit.empty:
        known = ", ".join(table["id"].astype(str))
        raise ApiError(f"no national section with id {section_id!r}", 404,
                       hint=f"use one of: {known} (GET /api/sections/quality lists them)",
                       code="section_not_found",
                       message_zh=f"没有编号为 {section_id!r} 的国考断面",
                       hint_zh=f"可用的断面编号：{known}")
    return to_records(hit.iloc[[0]])[0]


def _target_labels(target: Any) -> dict[str, Any]:
    """The target class as the API and pages write it: ``Ⅲ`` / ``III`` / 3 and
    ``Ⅲ类`` / ``Class III``."""
    if target in (None, ""):
        return {"target_class": None, "target_class_en": None, "target_class_number": None,
                "target_label_zh": None, "target_label_en": None}
    t = parse_class(target)
    return {"target_class": CLASS_ZH[t - 1], "target_class_en": CLASS_EN[t - 1],
            "target_class_number": t,
            "target_label_zh": class_label([t], "zh", suffix=True)[0],
            "target_label_en": class_label([t], "en", suffix=True)[0]}


def _samples_version(store: Store) -> str:
    try:
        return store.info(SAMPLES).version
    except LayerNotFound:
        return ""


def _samples(store: Store, version: str) -> pd.DataFrame:
    """The samples without geometry (empty when the layer is missing)."""
    if not version:
        return pd.DataFrame(columns=["section_id", "sampled_on"])
    gdf = store.get(SAMPLES)
    return pd.DataFrame(gdf.drop(columns=[gdf.geometry.name]))


def classes_legend() -> list[dict[str, Any]]:
    """The six classes with their labels and conventional colours (pages draw from it).

    Examples
    --------
    >>> classes_legend()[2]
    {'number': 3, 'class': 'Ⅲ', 'class_en': 'III', 'label_zh': 'Ⅲ类', 'label_en': 'Class III', 'color': '#2ca02c'}
    """
    zh = class_label(range(1, 7), "zh", suffix=True)
    en = class_label(range(1, 7), "en", suffix=True)
    return [{"number": i + 1, "class": CLASS_ZH[i], "class_en": CLASS_EN[i],
             "label_zh": zh[i], "label_en": en[i], "color": CLASS_COLOURS[i]}
            for i in range(6)]


def _cached(etag: str, produce) -> Any:
    """``produce()`` once per ETag (the layer versions and parameters), then from memory."""
    def body() -> bytes:
        found = _BODIES.get(etag)
        if found is None:
            found = produce()
            _BODIES.put(etag, found)
        return found
    # layer-derived: revalidated on every use, so a replaced layer shows at once (issue 13)
    return cached_response(etag, body, "application/json", cache_control=REVALIDATE)


# -- upstream ---------------------------------------------------------------------------
def upstream_answer(ref: Reference, section_id: str, geometry: bool = False) -> dict[str, Any]:
    """The body of ``GET /api/sections/{id}/upstream``."""
    row = _section_row(ref, section_id)
    try:
        up = section_upstream(ref.overlay_index, section_id, ref.projects_overlay)
    except GeoInputError as e:  # a section not placed on any river
        raise ApiError(e.message, 404, hint=e.hint, code="section_not_found",
                       message_zh=e.message_zh, hint_zh=e.hint_zh) from None
    d = up.to_dict(geometry=geometry)
    sites = d.pop("sites")
    projects = [{k: s.get(k) for k in PROJECT_FIELDS if k in s} for s in sites]
    projects.sort(key=lambda p: (-(p.get("total_investment_yi") or 0.0), str(p.get("id"))))
    return {
        "section_id": section_id, "name_zh": d["name_zh"], "name_en": d["name_en"],
        "river_id": d["river_id"], "river_zh": row.get("river_zh"),
        "river_en": row.get("river_en"), "county": row.get("county"),
        **_target_labels(row.get("target_class")),
        "area_km2": d["area_km2"], "basins": d["basins"], "rivers": d["rivers"],
        "projects": projects, "totals": d["totals"],
        "accuracy": {"section_accuracy_m": row.get("accuracy_m"),
                     "section_illustrative": row.get("illustrative"),
                     "spacing_m": d["spacing_m"]},
        "rule": d["rule"],
        **({"geometry": d["geometry"]} if geometry else {}),
    }


@bp.get("/api/sections/<section_id>/upstream")
def upstream(section_id: str):
    """Area, basin parts, rivers and projects upstream of one national section."""
    _only(("geometry",))
    geometry = _flag("geometry")
    ref = reference(get_store())
    _section_row(ref, section_id)  # a 404 before any work
    etag = make_etag("section-upstream", section_id, geometry, *ref.versions)
    return _cached(etag, lambda: dumps(upstream_answer(ref, section_id, geometry)))


# -- quality ------------------------------------------------------------------------------
def _parameters(samples: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The items present in the samples with their names and units."""
    return {p: {"zh": ITEMS[p].zh, "en": ITEMS[p].en, "unit": ITEMS[p].unit,
                "classifying": ITEMS[p].classifying}
            for p in PARAMETERS if p in samples}


def quality_answer(ref: Reference, samples: pd.DataFrame, section_id: str,
                   date_from: str | None, date_to: str | None) -> dict[str, Any]:
    """The body of ``GET /api/sections/{id}/quality``."""
    row = _section_row(ref, section_id)
    target = row.get("target_class")
    q = section_quality(samples, section_id, target, date_from, date_to)
    missed = [{"period": m["period"], "class": m["class"], "class_en": m["class_en"],
               "exceeding": m["exceeding"], "exceedance": m["exceedance"]}
              for m in q["monthly"] if m.get("meets_target") is False]
    n_ok = sum(1 for s in q["samples"] if s.get("meets_target") is True)
    return {
        "section_id": section_id, "name_zh": row.get("name_zh"), "name_en": row.get("name_en"),
        "river_id": row.get("river_id"), "river_zh": row.get("river_zh"),
        "river_en": row.get("river_en"),
        **_target_labels(target),
        "from": q["from"], "to": q["to"],
        "n_samples": len(q["samples"]), "n_meeting_target": n_ok,
        "share_meeting_target": q["share_meeting_target"],
        "months_missing_target": missed,
        "samples": q["samples"], "monthly": q["monthly"], "annual": q["annual"],
        "parameters": _parameters(samples),
        "limits": q["limits"], "classes": classes_legend(), "rule": q["rule"],
    }


@bp.get("/api/sections/<section_id>/quality")
def quality(section_id: str):
    """Samples, classes and targets of one national section between two dates."""
    _only(("from", "to"))
    date_from = (request.args.get("from") or "").strip() or None
    date_to = (request.args.get("to") or "").strip() or None
    store = get_store()
    ref = reference(store)
    _section_row(ref, section_id)
    version = _samples_version(store)
    etag = make_etag("section-quality", section_id, date_from, date_to, version, *ref.versions)

    def produce() -> bytes:
        body = quality_answer(ref, _samples(store, version), section_id, date_from, date_to)
        if body["from"] and body["to"] and body["from"] > body["to"]:
            raise ApiError(f"from={date_from} is after to={date_to}", 400,
                           hint="give from before to, e.g. from=2023-01-01&to=2023-12-31",
                           code="bad_date", message_zh="起始日期晚于截止日期",
                           hint_zh="起始日期应早于截止日期，例如 from=2023-01-01&to=2023-12-31")
        return dumps(body)

    return _cached(etag, produce)


def summary_answer(ref: Reference, samples: pd.DataFrame, year: int | None) -> dict[str, Any]:
    """The body of ``GET /api/sections/quality``."""
    table = _section_table(ref)
    targets = dict(zip(table["id"].astype(str), table["target_class"], strict=True)) \
        if "target_class" in table else {s: None for s in table["id"].astype(str)}
    summary = annual_summary(samples, targets, year) if len(samples) else None
    by_id = {r["section_id"]: r for r in to_records(summary)} if summary is not None else {}
    latest = _latest(samples, targets)
    rows = []
    for rec in to_records(table):
        sid = str(rec["id"])
        s = by_id.get(sid, {})
        cls = s.get("class")
        rows.append({
            "section_id": sid, "name_zh": rec.get("name_zh"), "name_en": rec.get("name_en"),
            "river_id": rec.get("river_id"), "river_zh": rec.get("river_zh"),
            "river_en": rec.get("river_en"), "county": rec.get("county"),
            **_target_labels(rec.get("target_class")),
            "year": s.get("year", year),
            "class": s.get("class_zh") or None, "class_en": s.get("class_en") or None,
            "class_number": int(cls) if cls is not None else None,
            "meets_target": s.get("meets_target"),
            "n_samples": s.get("n_samples", 0), "n_months": s.get("n_months", 0),
            "n_months_meeting": s.get("n_months_meeting", 0),
            "exceeding": s.get("exceeding") or [],
            "latest": latest.get(sid),
        })
    years = sorted({int(y) for y in pd.to_datetime(samples["sampled_on"]).dt.year}) \
        if len(samples) else []
    return {"year": rows[0]["year"] if rows and year is None else year, "years": years,
            "sections": rows, "classes": classes_legend(), "rule": ASSESSMENT_RULE}


def _latest(samples: pd.DataFrame, targets: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each section's latest sample: date, class and whether it met the target (the
    latest samples classified together)."""
    if not len(samples):
        return {}
    dates = sample_dates(samples)
    last = samples.assign(_d=dates.to_numpy()).sort_values("_d", kind="stable") \
        .groupby(samples["section_id"].astype(str), sort=False).tail(1)
    cls = sample_classes(last.drop(columns=["_d"]), targets)
    out = {}
    for rec, day in zip(to_records(cls), last["_d"], strict=True):
        out[str(rec["section_id"])] = {
            "sampled_on": day.strftime("%Y-%m-%d"), "class": rec["class_zh"] or None,
            "class_en": rec["class_en"] or None, "class_number": rec["class"],
            "meets_target": rec["meets_target"], "controlling": rec["controlling"],
            "exceeding": rec["exceeding"]}
    return out


@bp.get("/api/sections/quality")
def quality_summary():
    """Every national section's annual class against its target, and its latest class."""
    _only(("year",))
    year = _year()
    store = get_store()
    ref = reference(store)
    version = _samples_version(store)
    etag = make_etag("sections-quality", year, version, *ref.versions)
    return _cached(etag, lambda: dumps(summary_answer(ref, _samples(store, version), year)))
