"""GET /api/stats/projects: the seed article's table, number for number, and its filters."""

from __future__ import annotations

import pytest

from layers.catalog import PROJECT_CATEGORIES, SEED_PROJECT_TOTALS


def test_unfiltered_reproduces_the_seed_table(client):
    r = client.get("/api/stats/projects")
    assert r.status_code == 200
    body = r.json
    seed = SEED_PROJECT_TOTALS
    assert body["total"]["count"] == seed["count"]
    assert body["total"]["total_investment_yi"] == seed["total_investment_yi"]
    assert body["total"]["plan_2023_yi"] == seed["plan_2023_yi"]
    assert body["total"]["permits_complete"] == seed["permits_complete"]
    cats = {c["category"]: c for c in body["by_category"]}
    assert [c["category"] for c in body["by_category"]] == [c.value for c in PROJECT_CATEGORIES]
    for value, (count, plan) in seed["by_category"].items():
        assert (cats[value]["count"], cats[value]["plan_2023_yi"]) == (count, plan)
    for c in PROJECT_CATEGORIES:
        assert (cats[c.value]["label_zh"], cats[c.value]["label_en"], cats[c.value]["color"]) \
            == (c.label_zh, c.label_en, c.color)
    status = {s["status"]: (s["count"], s["plan_2023_yi"]) for s in body["by_status"]}
    assert status == seed["by_status"]
    investor = {s["investor"]: (s["count"], s["plan_2023_yi"]) for s in body["by_investor"]}
    assert investor == seed["by_investor"]
    # counties and basins partition the registry
    assert sum(c["count"] for c in body["by_county"]) == seed["count"]
    assert sum(b["count"] for b in body["by_basin"]) == seed["count"]
    assert sum(b["plan_2023_yi"] for b in body["by_basin"]) == pytest.approx(seed["plan_2023_yi"])
    assert {b["basin_id"] for b in body["by_basin"]} <= {
        "luan", "xilin", "wulagai", "hunshandake", "abaga", "sunite"}


def test_filters(client):
    whole = client.get("/api/stats/projects").json
    basins = {b["basin_id"]: b for b in whole["by_basin"]}
    xilin = client.get("/api/stats/projects?basin=xilin").json
    assert xilin["filters"] == {"basin": "xilin"}
    assert xilin["total"]["count"] == basins["xilin"]["count"]
    assert xilin["by_basin"] == [basins["xilin"]]
    # basin by Chinese name, county by adcode or name: the same answers
    by_name = client.get("/api/stats/projects?basin=锡林河流域").json
    assert by_name["total"] == xilin["total"]
    c1 = client.get("/api/stats/projects?county=152502").json
    c2 = client.get("/api/stats/projects?county=锡林浩特市").json
    assert c1["total"] == c2["total"] and c1["total"]["count"] > 0
    energy = client.get("/api/stats/projects?category=energy&status=new").json
    assert energy["total"]["count"] > 0
    cats = {c["category"]: c["count"] for c in energy["by_category"]}
    assert cats["energy"] == energy["total"]["count"] and cats["ecology"] == 0  # zeros kept
    assert len(energy["by_category"]) == len(PROJECT_CATEGORIES)
    gov = client.get("/api/stats/projects?investor=government").json
    assert gov["total"]["count"] == SEED_PROJECT_TOTALS["by_investor"]["government"][0]


@pytest.mark.parametrize("query", ["basin=nowhere", "county=000000", "category=mining",
                                   "status=abandoned", "investor=aliens"])
def test_unknown_filter_values(client, query):
    r = client.get(f"/api/stats/projects?{query}")
    assert r.status_code == 400
    assert "must be one of" in r.json["hint"]


def test_cached_with_etag(client):
    r = client.get("/api/stats/projects?category=energy")
    assert r.headers.get("ETag")
    again = client.get("/api/stats/projects?category=energy",
                       headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
