"""Load-test section of ``make bench``: wraps :mod:`benchmarks.load_test`.

16 concurrent clients on loopback mix page loads, items queries, overlays and
authenticated uploads against the atlas served by waitress (8 threads) for
:data:`SECONDS` seconds, then every acknowledged upload is checked in the store.
The server gets a copy of a store freshly prepared from ``data/xilingol``, so the
run does not depend on ``var/atlas.gpkg``.  The server is stopped when the run
ends, on errors too (``ServerProcess`` is a context manager).

Then the attack of issue 13 against the same server (``python -m webmap.core.serving``
at the settings ``make run`` uses): 200 idle connections and 20 slowloris ones from the
same address, while a normal client asks ``/healthz`` and the atlas page
(:func:`slow_clients`); ``tests/test_serving.py`` asserts the answers, this reports how
fast they came.

Run alone: ``python -m benchmarks.run --only load``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time

from tools.slowclients import Attack, time_to_answer

from . import load_test

#: Clients and duration of issue 6's load test (its own defaults).
CLIENTS = 16
SECONDS = 60.0
#: Server start-up, the store check afterwards and slack, on top of the clients' time.
OVERHEAD_S = 30.0
#: The slow-client attack: connections held, and the normal client's requests per path.
IDLE, SLOW, SAMPLES = 200, 20, 5
#: What the attack measurement takes, roughly (a server start, a few seconds of attack).
SLOW_CLIENTS_S = 25.0


def _store(tmp: str) -> str:
    from layers.open import open_store
    from layers.prepare import prepare_store

    path = os.path.join(tmp, "atlas.gpkg")
    prepare_store(open_store(path))
    return path


def slow_clients(store: str) -> dict:
    """:data:`IDLE` idle and :data:`SLOW` slowloris connections held from 127.0.0.1, then
    :data:`SAMPLES` requests each of ``/healthz`` and ``/`` from the same address."""
    out: dict = {"idle": IDLE, "slow": SLOW}
    with load_test.ServerProcess(store) as server, \
            Attack("127.0.0.1", server.port, idle=IDLE, slow=SLOW) as attack:
        out["opened"] = attack.opened
        for path in ("/healthz", "/"):
            times, outcomes = [], []
            for _ in range(SAMPLES):
                t, outcome = time_to_answer("127.0.0.1", server.port, path, give_up_s=60)
                times.append(t * 1000)
                outcomes.append(outcome)
                time.sleep(0.2)
            out[path] = {"p50_ms": round(statistics.median(times), 1),
                         "max_ms": round(max(times), 1),
                         "answered": outcomes.count("200"), "asked": SAMPLES}
        out["closed_by_server"] = attack.closed_by_server
    return out


def run(budget_s: float = 100.0) -> dict:
    """Run the load test for :data:`SECONDS` (or less when the budget is short), then
    :func:`slow_clients`."""
    seconds = max(10.0, min(SECONDS, budget_s - OVERHEAD_S - SLOW_CLIENTS_S))
    tmp = tempfile.mkdtemp(prefix="bench-load-")
    try:
        store = _store(tmp)
        summary = load_test.run(seconds=seconds, clients=CLIENTS, store=store, quiet=True)
        summary["slow_clients"] = slow_clients(store)
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
    }] + _slow_rows(res.get("slow_clients"))


def _slow_rows(slow: dict | None) -> list[dict]:
    """One row for the slow-client attack, when it ran."""
    if not slow:
        return []
    h, p = slow["/healthz"], slow["/"]
    answered = h["answered"] + p["answered"]
    asked = h["asked"] + p["asked"]
    return [{
        "comparison": f"slow clients: {slow['idle']} idle + {slow['slow']} slowloris "
                      "connections from one address, a normal client from the same one",
        "atlas": f"/healthz p50 {h['p50_ms']} ms (max {h['max_ms']}), / p50 {p['p50_ms']} ms "
                 f"(max {p['max_ms']}); {answered} of {asked} answered 200; "
                 f"{slow['closed_by_server']} attacking connections closed by the server",
        "other": "plain waitress as make run started it before: no answer to /healthz in "
                 "200 s (issue 13)", "ratio": "",
        "target": "every request answered (no lock-out)",
        "met": answered == asked,
    }]
