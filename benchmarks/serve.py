"""Serve the atlas on 127.0.0.1 with waitress for a benchmark.

``python -m benchmarks.serve --store PATH --port N [--threads 4] [--warm LAYER ...]``
(layers named by ``--warm`` are loaded with their spatial index before serving).
"""

from __future__ import annotations

import argparse

from waitress import serve

from webmap import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--warm", nargs="*", default=[])
    args = parser.parse_args()
    app = create_app({"ATLAS_STORE": args.store})
    store = app.extensions["atlas_store"]
    for name in args.warm:
        loaded = getattr(store, "loaded", None)
        if loaded is not None:
            loaded(name)
    serve(app, host="127.0.0.1", port=args.port, threads=args.threads,
          connection_limit=200, channel_timeout=30, _quiet=True)


if __name__ == "__main__":
    main()
