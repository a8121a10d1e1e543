"""Pre-encoded features of a point layer: one bytes object per feature vs one buffer.

Each mode runs in its own child process under an address-space limit
(``prlimit --as``), on the deterministic benchmark points, and reports the
encoding time, the text's size and the resident memory the encoded layer keeps
(RSS after minus before, garbage collected), per feature, and the process's
peak.

* ``list``: what the items API keeps today, ``geo.geojson.encode_features`` of the
  whole layer (one ``bytes`` per feature);
* ``compact``: :class:`layers.encoded.EncodedFeatures` (one buffer, int64 offsets,
  built in chunks).

``python -m benchmarks.encoded_bench [--sizes 100000] [--modes list,compact]
[--limit-gb 11]``; in ``make bench`` both modes at 100,000 points, in
``make bench-full`` the compact store at 1,000,000 and today's lists at 200,000
(their cost per feature does not change with size; a million of them take
8.6 GB, measured once under an 11 GB limit: see the report of issue 12).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(mode: str, n: int) -> dict:
    from .data import bench_points

    gdf = bench_points(n, seed=1_000_000)
    gdf.index = gdf.index + 1
    gc.collect()
    base = _rss_mb()
    t0 = time.perf_counter()
    if mode == "list":
        from geo.geojson import encode_features

        enc = encode_features(gdf)
        text = sum(len(b) for b in enc)
    else:
        from layers.encoded import EncodedFeatures

        enc = EncodedFeatures.build(gdf)
        text = len(enc.buffer)
    seconds = time.perf_counter() - t0
    gc.collect()
    after = _rss_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "n": n, "seconds": round(seconds, 2),
            "text_bytes_per_feature": round(text / n, 1),
            "kept_bytes_per_feature": round((after - base) * 1024 * 1024 / n, 1),
            "kept_mb": round(after - base, 1), "peak_mb": round(peak, 1),
            "peak_above_base_mb": round(peak - base, 1)}


def measure(mode: str, n: int, limit_gb: float = 11.0, timeout: float = 900) -> dict:
    """One mode in a child process under ``prlimit --as``."""
    done = subprocess.run(
        ["prlimit", f"--as={int(limit_gb * 1024 ** 3)}", sys.executable, "-m",
         "benchmarks.encoded_bench", "--child", mode, str(n)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        return {"mode": mode, "n": n, "error": (done.stderr.strip().splitlines() or ["?"])[-1],
                "limit_gb": limit_gb}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(budget_s: float = 60.0, full: bool = False) -> dict:
    plan = ([("compact", 1_000_000), ("list", 200_000)] if full
            else [("compact", 100_000), ("list", 100_000)])
    return {"rows": [measure(mode, n) for mode, n in plan]}


def table_rows(res: dict) -> list[dict]:
    by_mode = {r["mode"]: r for r in res.get("rows", [])}
    c, li = by_mode.get("compact"), by_mode.get("list")
    if not c or not li or "error" in c or "error" in li:
        return [{"comparison": "pre-encoded features", "atlas": json.dumps(res)[:300],
                 "met": None}]
    return [{
        "comparison": f"pre-encoded GeoJSON of a point layer kept in memory "
                      f"({c['n']:,} / {li['n']:,} points)",
        "atlas": f"one buffer: {c['kept_bytes_per_feature']:.0f} B/feature kept "
                 f"({c['kept_mb']:.0f} MB), built in {c['seconds']:.1f} s, peak "
                 f"+{c['peak_above_base_mb']:.0f} MB",
        "other": f"bytes per feature (today): {li['kept_bytes_per_feature']:.0f} B/feature "
                 f"({li['kept_mb']:.0f} MB), {li['seconds']:.1f} s",
        "ratio": f"{li['kept_bytes_per_feature'] / max(c['kept_bytes_per_feature'], 1):.0f}× "
                 "less memory",
        "target": "memory proportional to the text", "met": None}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--modes", default="list,compact")
    parser.add_argument("--limit-gb", type=float, default=11.0)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child[0], int(args.child[1]))))
        return 0
    for n in (int(s) for s in args.sizes.split(",")):
        for mode in args.modes.split(","):
            print(json.dumps(measure(mode, n, args.limit_gb)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
