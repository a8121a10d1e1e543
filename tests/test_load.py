"""A short run of the load test (``benchmarks/load_test.py``): 16 clients for 5 seconds.

The full 60-second run belongs to ``make bench``; this one checks in ``make test``
that mixed concurrent traffic (pages, items queries, overlays, uploads) against a
real waitress server ends with zero 5xx and every acknowledged upload stored with
its exact feature count.  It prints the figures; it asserts no time.
"""

from __future__ import annotations

import random

import pytest

from benchmarks.load_test import MIX, print_summary, run

pytestmark = pytest.mark.slow


def test_five_seconds_of_mixed_load_hold(store_path):
    # Clients draw their request kinds from seeded generators: with seed 1 the
    # first draw of at least one client is an upload, so the upload check is never vacuous.
    first = [random.Random(1000 + k).choices(list(MIX), list(MIX.values()))[0]
             for k in range(16)]
    assert "upload" in first

    summary = run(seconds=5, clients=16, store=store_path, max_requests=5000, seed=1,
                  quiet=True)
    print_summary(summary)
    assert summary["status_5xx"] == 0, summary["errors"]
    assert summary["connection_errors"] == 0, summary["errors"]
    assert summary["problems"] == []
    assert summary["uploads_acknowledged"] >= 1
    assert set(summary["kinds"]) == set(MIX)
    assert summary["ok"]
