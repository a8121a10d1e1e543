"""The ``wq_samples`` catalog layer as the stores and the APIs serve it."""

from __future__ import annotations

import json
import re

from layers.prepare import layer_path


def test_sample_dates_are_iso_dates_on_the_store(client):
    """``sampled_on`` reads back as the committed ``YYYY-MM-DD`` text (not a timestamp)
    through the layer API, on either backend."""
    with open(layer_path("wq_samples"), encoding="utf-8") as fh:
        committed = [f["properties"]["sampled_on"] for f in json.load(fh)["features"]]
    r = client.get("/api/layers/wq_samples/features")
    assert r.status_code == 200
    got = sorted(f["properties"]["sampled_on"] for f in r.json["features"])
    assert got == sorted(committed)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in got)
    assert len(got) == 48


def test_samples_have_a_temporal_extent_and_filter_by_date(ref_store_path):
    """``wq_samples`` declares ``sampled_on`` as its temporal field (LayerSpec.temporal):
    the store gives its span and ``datetime`` selects the samples of an interval — the
    expected ids counted from the committed file."""
    from layers.open import open_store

    with open(layer_path("wq_samples"), encoding="utf-8") as fh:
        committed = [f["properties"] for f in json.load(fh)["features"]]
    store = open_store(ref_store_path)
    extent = store.temporal("wq_samples")
    dates = sorted(p["sampled_on"] for p in committed)
    assert (extent.property, extent.kind) == ("sampled_on", "date")
    assert (extent.start, extent.end) == (dates[0], dates[-1])
    spring = sorted(p["id"] for p in committed if "2023-03-01" <= p["sampled_on"] <= "2023-05-31")
    got = store.query("wq_samples", datetime="2023-03-01/2023-05-31")
    assert sorted(got.features["id"]) == spring and len(spring) == 12
    day = store.query("wq_samples", datetime=dates[0])
    assert sorted(day.features["sampled_on"].unique()) == [dates[0]]


def test_ogc_collection_filters_by_sampled_on_and_gives_its_interval(client):
    """OGC API – Features: ``datetime`` selects samples by ``sampled_on`` and the
    collection's extent has the samples' temporal interval (the committed dates)."""
    with open(layer_path("wq_samples"), encoding="utf-8") as fh:
        committed = [f["properties"] for f in json.load(fh)["features"]]
    dates = sorted(p["sampled_on"] for p in committed)
    doc = client.get("/ogcapi/collections/wq_samples?f=json").json
    assert doc["extent"]["temporal"]["interval"] == [[f"{dates[0]}T00:00:00Z",
                                                      f"{dates[-1]}T23:59:59Z"]]
    url = "/ogcapi/collections/wq_samples/items?limit=100"
    july = client.get(f"{url}&datetime=2023-07-01T00:00:00Z/2023-07-31T23:59:59Z").json
    want = sorted(p["id"] for p in committed if p["sampled_on"].startswith("2023-07"))
    assert sorted(f["properties"]["id"] for f in july["features"]) == want
    assert july["numberMatched"] == 4
    xilin = client.get(f"{url}&datetime=2023-12-01/..&section_id=sec_xilinhe_xilinhot").json
    assert [f["properties"]["sampled_on"] for f in xilin["features"]] == [
        p["sampled_on"] for p in committed
        if p["section_id"] == "sec_xilinhe_xilinhot" and p["sampled_on"] >= "2023-12-01"]
    everything = client.get(f"{url}&datetime=2023-01-01/..").json
    assert everything["numberMatched"] == len(committed) == 48
