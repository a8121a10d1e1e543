"""The ``projects`` layer: the 150 major projects of 2023, matching the seed exactly.

The seed article publishes only totals (:data:`layers.catalog.SEED_PROJECT_TOTALS`).
The registry is allocated so every published aggregate is reproduced number for
number, in integer 0.01 亿元 units until the very end:

1. a joint count table category × status × investor (IPF + integer repair,
   :mod:`data.allocate`) whose margins are the published counts;
2. a joint table of 2023 planned investment with the published margins, with at
   least 0.10 亿元 per project in every non-empty cell;
3. each cell split among its projects with a seeded :class:`numpy.random.Generator`;
4. total investment: the published 1568 亿元 minus the planned 365 亿元 spread over
   the projects (so no project's total is below its 2023 plan);
5. 113 with permits complete: every continuing project plus a seeded choice of
   new ones.

Named entries are the projects the seed article names; the others are
illustrative stand-ins named from templates and placed near a fitting place of
their county (``data/sources/places.json``), inside it and away from its border.
"""

from __future__ import annotations

import numpy as np
import shapely

from geo import measure as metric
from layers.catalog import PROJECT_CATEGORIES, SEED_PROJECT_TOTALS

from .admin import Admin
from .allocate import integerise, ipf, largest_remainder
from .provenance import AUTHORED, illustrative
from .sources import load

CATEGORIES = tuple(c.value for c in PROJECT_CATEGORIES)
STATUSES = ("new", "continuing")
INVESTORS = ("government", "social")
#: Smallest 2023 plan of a project, in 0.01 亿元 (0.10 亿元 = 1,000万元).
MIN_PLAN_CENTS = 10
#: Projects are kept at least this far (m) inside their county's border.
BORDER_MARGIN_M = 3000.0
ORDINALS = ("二期", "三期", "四期", "五期")
#: The same ordinals in English project names.
ORDINALS_EN = (" phase II", " phase III", " phase IV", " phase V")


def _targets(key: str, names: tuple[str, ...], idx: int) -> list[int]:
    table = SEED_PROJECT_TOTALS[key]
    return [int(round(table[n][idx] * (100 if idx else 1))) for n in names]


def allocation_tables(spec: dict) -> tuple[np.ndarray, np.ndarray]:
    """Count and planned-investment (cents) tables category × status × investor."""
    count_targets = (_targets("by_category", CATEGORIES, 0), _targets("by_status", STATUSES, 0),
                     _targets("by_investor", INVESTORS, 0))
    cents_targets = (_targets("by_category", CATEGORIES, 1), _targets("by_status", STATUSES, 1),
                     _targets("by_investor", INVESTORS, 1))
    sp, gp = spec["status_prior"], spec["government_prior"]
    seed = np.array([[[sp[c] * gp[c], sp[c] * (1 - gp[c])],
                      [(1 - sp[c]) * gp[c], (1 - sp[c]) * (1 - gp[c])]] for c in CATEGORIES])
    floor = np.zeros(seed.shape, dtype=np.int64)
    for n in spec["named"]:
        floor[CATEGORIES.index(n["category"]), STATUSES.index(n["status"]),
              INVESTORS.index(n["investor"])] += 1
    counts = integerise(ipf(seed, count_targets), count_targets, floor=floor)

    w = spec["amount_weight"]
    weight = np.array([[[w[c] * w[s] * w["government" if i == "government" else "social_investor"]
                         for i in INVESTORS] for s in STATUSES] for c in CATEGORIES])
    fitted = ipf(counts * weight, cents_targets)
    cents = integerise(fitted, cents_targets, floor=counts * MIN_PLAN_CENTS)
    return counts, cents


def _pick_sites(rng: np.random.Generator, inner: shapely.Geometry,
                anchor_m: shapely.Point, radius_m: float) -> shapely.Point:
    """A random point near the anchor inside ``inner`` (the county shrunk by the margin)."""
    n = 256
    angle = rng.uniform(0, 2 * np.pi, n)
    r = radius_m * np.sqrt(rng.uniform(0, 1, n))
    cand = shapely.points(anchor_m.x + r * np.cos(angle), anchor_m.y + r * np.sin(angle))
    ok = shapely.contains(inner, cand)
    if ok.any():
        return cand[int(np.argmax(ok))]
    if inner.contains(anchor_m):
        return anchor_m
    # The anchor itself is near the border: take the nearest well-inside point.
    return shapely.Point(shapely.ops.nearest_points(inner, anchor_m)[0].coords[0])


def build_projects(admin: Admin) -> tuple[list[dict], np.ndarray]:
    """Records and points of the 150 projects (ids P001…P150, by category and county)."""
    spec = load("projects")
    places = load("places")["places"]
    rng = np.random.default_rng(spec["seed"])
    counts, cents = allocation_tables(spec)

    # 1. The list of projects: (category, county, named entry or None).
    rows: list[dict] = []
    for c in CATEGORIES:
        named = [n for n in spec["named"] if n["category"] == c]
        per_county = dict(spec["county_counts"][c])
        for n in named:
            per_county[n["county"]] -= 1
        rows += [{"category": c, "county": n["county"], "named": n} for n in named]
        for county, k in per_county.items():
            rows += [{"category": c, "county": county, "named": None} for _ in range(k)]

    # 2. Status and investor: named entries keep theirs, the rest draw the remaining cells.
    for ci, c in enumerate(CATEGORIES):
        left = counts[ci].copy()
        mine = [r for r in rows if r["category"] == c]
        for r in mine:
            if r["named"]:
                r["status"], r["investor"] = r["named"]["status"], r["named"]["investor"]
                left[STATUSES.index(r["status"]), INVESTORS.index(r["investor"])] -= 1
        slots = [(s, i) for si, s in enumerate(STATUSES) for ii, i in enumerate(INVESTORS)
                 for _ in range(int(left[si, ii]))]
        free = [r for r in mine if not r["named"]]
        for r, k in zip(free, rng.permutation(len(slots)), strict=True):
            r["status"], r["investor"] = slots[k]

    # 3. Split each cell's planned investment among its projects.
    for ci, c in enumerate(CATEGORIES):
        for si, s in enumerate(STATUSES):
            for ii, i in enumerate(INVESTORS):
                cell = [r for r in rows if (r["category"], r["status"], r["investor"]) == (c, s, i)]
                if not cell:
                    continue
                weights = rng.lognormal(0.0, 0.7, len(cell))
                spare = int(cents[ci, si, ii]) - MIN_PLAN_CENTS * len(cell)
                for r, extra in zip(cell, largest_remainder(weights, spare), strict=True):
                    r["plan"] = MIN_PLAN_CENTS + int(extra)

    # 4. Total investment = plan + a share of the rest (new projects: first year of several).
    plan = np.array([r["plan"] for r in rows])
    ratio = rng.lognormal(np.log(3.0), 0.5, len(rows)) * \
        np.where([r["status"] == "new" for r in rows], 1.6, 1.0)
    total_cents = int(SEED_PROJECT_TOTALS["total_investment_yi"]) * 100
    extra = largest_remainder(plan * ratio, total_cents - int(plan.sum()))
    for r, e in zip(rows, extra, strict=True):
        r["total"] = r["plan"] + int(e)

    # 5. Permits: continuing projects have theirs; a seeded choice of new ones too.
    for r in rows:
        r["permits"] = r["named"]["permits_complete"] if r["named"] else r["status"] == "continuing"
    need = int(SEED_PROJECT_TOTALS["permits_complete"]) - sum(r["permits"] for r in rows)
    pool = [r for r in rows if r["status"] == "new" and not r["named"] and not r["permits"]]
    for k in rng.choice(len(pool), size=need, replace=False):
        pool[int(k)]["permits"] = True

    # 6. Names and sites.
    templates = spec["templates"]
    names_seen: set[str] = set()
    used: set[tuple[str, str]] = set()
    points = []
    names, polys = admin.units()
    county_en = dict(zip(names, admin.english(names), strict=True))
    inner = dict(zip(names, shapely.buffer(metric.to_metric(polys), -BORDER_MARGIN_M),
                     strict=True))
    for r in rows:
        if r["named"]:
            n = r["named"]
            # A real project, but its site is authored (at the place the article names).
            r["name_zh"], r["source"] = n["name_zh"], n["source"]
            r["illustrative"] = illustrative(AUTHORED)
            r["name_en"] = n["name_en"]
            points.append(shapely.Point(n["lon"], n["lat"]))
            names_seen.add(r["name_zh"])
            continue
        anchors = [p for p in places if p["county"] == r["county"]]
        options = [(t, p) for t in templates[r["category"]] for p in anchors
                   if set(t["tags"]) & set(p["tags"])
                   and r["county"] in t.get("counties", [r["county"]])]
        # Prefer a template not yet used in this county (two airports in one banner
        # would not be believable); repeat with "二期" only when nothing else fits.
        fresh = [(t, p) for t, p in options if (t["name"], r["county"]) not in used]
        fresh = [(t, p) for t, p in fresh if t.get("prefer")] or fresh
        t, p = (fresh or options)[int(rng.integers(len(fresh or options)))]
        used.add((t["name"], r["county"]))
        town = "town" in p["tags"]
        loc = r["county"] if town else r["county"] + p["name_zh"]
        loc_en = county_en[r["county"]]
        loc_en = loc_en if town else p["loc_en"].format(county=loc_en)
        # One draw for both names (the draw sequence fixes every later site and amount).
        cap = int(rng.choice(t["cap"])) if t.get("cap") else 0
        name = t["name"].format(loc=loc, cap=cap or "")
        name_en = t["en"].format(loc=loc_en, mw=cap * 10)
        base, base_en = name, name_en
        for suffix, suffix_en in zip(ORDINALS, ORDINALS_EN, strict=True):
            if name not in names_seen:
                break
            name, name_en = base + suffix, base_en + suffix_en
        names_seen.add(name)
        r["name_zh"], r["source"] = name, spec["illustrative_source"]
        r["illustrative"] = illustrative(AUTHORED)
        r["name_en"] = name_en
        anchor_m = metric.to_metric([shapely.Point(p["lon"], p["lat"])])[0]
        site = _pick_sites(rng, inner[r["county"]], anchor_m, p["radius_km"] * 1000.0)
        points.append(metric.from_metric([site])[0])

    records = []
    for k, r in enumerate(rows, 1):
        records.append({
            "id": f"P{k:03d}", "name_zh": r["name_zh"], "name_en": r["name_en"],
            "category": r["category"], "county": r["county"],
            "county_en": county_en[r["county"]], "status": r["status"], "investor": r["investor"],
            # Exact: integer cents divided once, rounded to the 2 decimals they have.
            "total_investment_yi": round(r["total"] / 100, 2),
            "plan_2023_yi": round(r["plan"] / 100, 2),
            "permits_complete": bool(r["permits"]), "source": r["source"],
            "accuracy_m": 1000.0 if r["named"] else 20000.0,
            "illustrative": r["illustrative"],
        })
    return records, np.asarray(points, dtype=object)
