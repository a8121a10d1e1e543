"""Serve the atlas on 127.0.0.1 with waitress for a benchmark.

``python -m benchmarks.serve --store PATH --port N [--threads 4] [--warm LAYER ...]``
(layers named by ``--warm`` are loaded with their spatial index before serving).
The server is :func:`webmap.core.serving.serve` with the settings ``make run`` uses
(connection limits and timeouts from ``ATLAS_…``, else the defaults); only the
address and thread count are the benchmark's, so that both servers of a comparison
get the same.
"""

from __future__ import annotations

import argparse

from webmap import create_app
from webmap.core.serving import serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--warm", nargs="*", default=[])
    args = parser.parse_args()
    app = create_app({"ATLAS_STORE": args.store, "ATLAS_HOST": "127.0.0.1",
                      "ATLAS_PORT": args.port, "ATLAS_THREADS": args.threads})
    store = app.extensions["atlas_store"]
    for name in args.warm:
        store.in_memory(name)  # the GeoPackage store loads it with its index; PostGIS: None
    serve(app, app.extensions["atlas_settings"])


if __name__ == "__main__":
    main()
