"""Run every benchmark once, print the table, write benchmarks/results/latest.json.

``python -m benchmarks.run [--only items,postgis,volume,encoded,pages,overlay,tiles,load] [--budget 570]``
(``make bench``; a partial ``--only`` run writes ``results/latest-<sections>.json``).
``--full`` (``make bench-full``) adds the sections' large sizes — PostGIS at 10M
points beside tipg, the 1M-site overlay and the 1M-point layer through HTTP under a
memory cap — and writes ``results/latest-full.json``.  Each comparison gets a share of the time budget and is
skipped, with the reason in the table, when the budget is spent; every server
started is killed at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import signal
import sys
import time
import traceback
from datetime import UTC, datetime

from .common import ROOT, kill_all

RESULTS = os.path.join(ROOT, "benchmarks", "results", "latest.json")

#: (name, module, seconds it may take at most, roughly)
SECTIONS = (
    ("items", "benchmarks.items_api", 150),
    ("postgis", "benchmarks.postgis_api", 180),
    ("volume", "benchmarks.volume", 60),
    ("encoded", "benchmarks.encoded_bench", 30),
    ("overlay", "benchmarks.overlay", 120),
    ("tiles", "benchmarks.tiles", 120),
    ("pages", "benchmarks.pages", 150),
    ("load", "benchmarks.load", 100),
)


def _on_signal(signum, frame):  # turn SIGTERM into an exception so finally blocks run
    raise KeyboardInterrupt(f"signal {signum}")


def format_table(rows: list[dict]) -> str:
    """A Markdown table of the result rows."""
    head = ["comparison", "atlas", "other", "ratio", "target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        met = {True: "yes", False: "**no**", None: "–"}[r.get("met")]
        cells = [str(r.get(h, "")) for h in head[:-1]] + [met]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated sections to run")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds for the whole run (default 570: make bench stays under 10"
                             " minutes; 5400 with --full)")
    parser.add_argument("--full", action="store_true",
                        help="add the 1M/10M sizes (make bench-full)")
    args = parser.parse_args(argv)
    if args.budget is None:
        args.budget = 5400.0 if args.full else 570.0
    only = {s for s in args.only.split(",") if s}
    signal.signal(signal.SIGTERM, _on_signal)

    started = time.monotonic()
    results: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform(),
                                 "load_avg_at_start": os.getloadavg()},
                     "command": ("make bench-full  (python -m benchmarks.run --full"
                                 if args.full else "make bench  (python -m benchmarks.run")
                                + (f" --only {args.only}" if only else "") + ")",
                     "sections": {}}
    rows: list[dict] = []
    try:
        sections = [s for s in SECTIONS if not only or s[0] in only]
        for i, (name, module_name, share) in enumerate(sections):
            left = args.budget - (time.monotonic() - started)
            later = sum(s[2] for s in sections[i + 1:]) * 0.5
            if args.full:
                share *= 8  # the large sizes: 10M rows to write, 1M-feature requests
            budget = min(share, left - later)
            if budget < share * 0.3:
                rows.append({"comparison": name, "atlas": "skipped: time budget spent",
                             "met": None})
                continue
            print(f"== {name} (≤ {budget:.0f} s)", flush=True)
            t0 = time.monotonic()
            try:
                module = __import__(module_name, fromlist=["run"])
                # A section may read the figures of earlier ones (postgis: items).
                params = inspect.signature(module.run).parameters
                extra = {"sections": results["sections"]} if "sections" in params else {}
                if "full" in params:
                    extra["full"] = args.full
                res = module.run(budget_s=budget, **extra)
                res["elapsed_s"] = round(time.monotonic() - t0, 1)
                results["sections"][name] = res
                rows += module.table_rows(res)
            except KeyboardInterrupt:
                raise
            except Exception as e:  # one broken comparison must not hide the others
                traceback.print_exc()
                results["sections"][name] = {"error": f"{type(e).__name__}: {e}"}
                rows.append({"comparison": name, "atlas": f"failed: {type(e).__name__}: {e}",
                             "met": False})
            finally:
                kill_all()
            print(f"   {name} took {time.monotonic() - t0:.0f} s", flush=True)
    finally:
        kill_all()
    results["rows"] = rows
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    # A partial run (--only) keeps the full run's latest.json and writes beside it.
    suffix = "-".join((["full"] if args.full else []) + sorted(only))
    path = RESULTS if not suffix else RESULTS.replace("latest.json", f"latest-{suffix}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(results, fh, ensure_ascii=False, indent=1, default=str)
    os.replace(tmp, path)
    print()
    print(format_table(rows))
    print(f"\n{len(rows)} rows in {results['elapsed_s']:.0f} s; written to "
          f"{os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
