"""Overlay throughput section of ``make bench``: wraps :mod:`benchmarks.overlay_bench`.

Each size (10k, 100k, 1M sites) runs in its own child process, so its peak
memory (``ru_maxrss``) is its own; the growth exponent is the slope of
log(seconds) on log(n).
"""

from __future__ import annotations

from . import overlay_bench

SIZES = (10_000, 100_000, 1_000_000)


def run(budget_s: float = 120.0) -> dict:
    """Measure every size; a size that would blow the budget is cut by its timeout."""
    return overlay_bench.run(SIZES, timeout_s=max(30.0, budget_s * 0.6))


def table_rows(res: dict) -> list[dict]:
    """Rows for the summary table."""
    rows = []
    for r in res["rows"]:
        if "seconds" not in r:
            rows.append({"comparison": f"overlay {r['n']:,} sites",
                         "atlas": f"failed: {r.get('error')}", "met": False})
            continue
        big = r["n"] == 1_000_000
        rows.append({
            "comparison": f"overlay {r['n']:,} sites",
            "atlas": f"{r['seconds']:.2f} s ({r['cpu_seconds']:.2f} s CPU, best of "
                     f"{r.get('runs', 1)}), {r['sites_per_s']:,} sites/s, "
                     f"peak {r['peak_rss_mb']:.0f} MB"
                     + (f"; reference side prepared once per layer version in "
                        f"{r['prepare_s']:.1f} s, not timed" if big else ""),
            "other": "", "ratio": "",
            "target": "≤ 10 s, < 2 GB" if big else "",
            "met": (r["seconds"] <= overlay_bench.TARGET_1M_S
                    and r["peak_rss_mb"] < overlay_bench.TARGET_PEAK_MB) if big else None,
        })
    g = res.get("growth_exponent")
    gc = res.get("growth_exponent_cpu")
    rows.append({"comparison": "overlay growth exponent (log t / log n)",
                 "atlas": f"{g} wall, {gc} CPU", "other": "", "ratio": "",
                 "target": "near-linear (≤ 1.15)",
                 "met": None if g is None else g <= 1.15})
    return rows
