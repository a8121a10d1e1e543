"""Load-test section of ``make bench``: wraps :mod:`benchmarks.load_test`.

16 concurrent clients on loopback mix page loads, items queries, overlays and
authenticated uploads against the atlas served by waitress (8 threads) for
:data:`SECONDS` seconds, then every acknowledged upload is checked in the store.
The server gets a copy of a store freshly prepared from ``data/xilingol``, so the
run does not depend on ``var/atlas.gpkg``.  The server is stopped when the run
ends, on errors too (``ServerProcess`` is a context manager).

Run alone: ``python -m benchmarks.run --only load``.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from . import load_test

#: Clients and duration of issue 6's load test (its own defaults).
CLIENTS = 16
SECONDS = 60.0
#: Server start-up, the store check afterwards and slack, on top of the clients' time.
OVERHEAD_S = 30.0


def _store(tmp: str) -> str:
    from layers.open import open_store
    from layers.prepare import prepare_store

    path = os.path.join(tmp, "atlas.gpkg")
    prepare_store(open_store(path))
    return path


def run(budget_s: float = 100.0) -> dict:
    """Run the load test for :data:`SECONDS`, or less when the budget is short."""
    seconds = max(10.0, min(SECONDS, budget_s - OVERHEAD_S))
    tmp = tempfile.mkdtemp(prefix="bench-load-")
    try:
        summary = load_test.run(seconds=seconds, clients=CLIENTS, store=_store(tmp),
                                quiet=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_test.print_summary(summary)
    summary["planned_seconds"] = seconds
    return summary


def table_rows(res: dict) -> list[dict]:
    """One row: throughput and latency, met when nothing failed and no upload was lost."""
    planned = res.get("planned_seconds", SECONDS)
    short = "" if planned >= SECONDS else f" (shortened from {SECONDS:.0f} s to fit the budget)"
    kinds = ", ".join(f"{k} p99 {v['p99_ms']:.0f} ms" for k, v in res["kinds"].items())
    return [{
        "comparison": f"load test: {res['clients']} clients × {planned:.0f} s on loopback "
                      f"(pages, items, overlays, uploads){short}",
        "atlas": f"{res['requests_per_s']} req/s, p50 {res['p50_ms']} ms, "
                 f"p99 {res['p99_ms']} ms ({kinds}); {res['status_5xx']} 5xx, "
                 f"{res['connection_errors']} dropped; {res['uploads_acknowledged']} "
                 f"uploads acknowledged, {res['upload_layers_verified']} layers verified",
        "other": "", "ratio": "",
        "target": "zero 5xx, every acknowledged upload retrievable",
        "met": bool(res["ok"]),
    }]
