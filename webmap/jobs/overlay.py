"""The overlay job: ``POST /api/jobs/overlay``'s work, written as result files in the store.

The same overlay as ``POST /api/overlay`` (:mod:`webmap.api.analysis`), run a chunk
of sites at a time (:func:`webmap.api.analysis.overlay_stream`), each chunk written at
once into three results:

* ``csv`` — byte for byte the ``format=csv`` answer;
* ``geojson`` — byte for byte the ``format=geojson`` answer;
* ``summary`` — JSON kept with the job: ``count``, ``parameters``, ``rules``,
  ``accuracy``, ``summary`` (``by_basin``, ``by_county``) and ``report``, as in the
  page's JSON answer, computed from the few columns the summaries read (kept across
  chunks: bytes per site, not the rows).

Progress: reading the upload counts for the first 5 %, the chunks for the rest.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from geo.accuracy import OVERLAY_ROUNDING
from geo.overlay import overlay_rules
from layers.jobs import Job
from layers.reference import reference

from ..api.analysis import (
    FORMATS,
    SUMMARY_COLUMNS,
    OverlayRequest,
    accuracy_summary,
    all_points,
    format_chunk,
    format_head,
    format_tail,
    overlay_stream,
    read_sites,
    stream_tail_members,
    summary,
)

#: Share of the progress bar taken by reading the upload.
READ_SHARE = 0.05


def _summary_columns(result: pd.DataFrame) -> list[str]:
    """The columns the summaries read: areas, category, money, accuracy and status."""
    return [c for c in result.columns
            if c in SUMMARY_COLUMNS or c in OVERLAY_ROUNDING
            or c.endswith(("_accuracy_m", "_illustrative"))
            or c in ("in_river_buffer_status", "in_corridor_status")]


def run(job: Job, ctx: Any) -> dict[str, Any]:
    """Run an overlay job; its results (file metas and the summary)."""
    req = OverlayRequest(**{k: v for k, v in job.params.items()
                            if k in ("datum", "river_buffer_m", "corridor_m")})
    data = ctx.input()
    sites, report = read_sites(data, job.input_name, req.datum, ctx.settings.read_limits)
    del data
    n = len(sites)
    ctx.progress(READ_SHARE)
    ref = reference(ctx.store)
    points = all_points(sites)
    kept: list[pd.DataFrame] = []
    count = 0
    with ctx.result_file("csv", FORMATS["csv"], "overlay.csv") as csv_out, \
            ctx.result_file("geojson", FORMATS["geojson"], "overlay.geojson") as gj_out:
        for part in overlay_stream(sites, ref, req):
            first = part.start == 0
            if first:
                csv_out.write(format_head("csv", part.props, points))
                gj_out.write(format_head("geojson", part.props, points))
            csv_out.write(format_chunk("csv", part.props, part.geoms, part.start, points, first))
            gj_out.write(format_chunk("geojson", part.props, part.geoms, part.start, points,
                                      first))
            kept.append(pd.DataFrame(part.result[_summary_columns(part.result)]))
            count = part.start + len(part.props)
            ctx.progress(READ_SHARE + (1 - READ_SHARE) * count / n)
        tail = stream_tail_members(count, req, report)
        csv_out.write(format_tail("csv", tail))
        gj_out.write(format_tail("geojson", tail))
    table = pd.concat(kept, ignore_index=True)
    return {
        "csv": csv_out.meta,
        "geojson": gj_out.meta,
        "summary": {"count": count, "parameters": req.parameters, "rules": overlay_rules(),
                    "accuracy": accuracy_summary(table), "summary": summary(table),
                    "report": report.to_dict()},
    }
