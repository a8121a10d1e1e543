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
