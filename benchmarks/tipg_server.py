"""tipg 1.6.1 (developmentseed's OGC Features + Tiles API for PostGIS) beside the atlas.

Installed by the benchmark into ``benchmarks/.work/tipg-venv`` (its own venv,
from PyPI, like pygeoapi) and served by uvicorn (one worker) on 127.0.0.1 over
the same tables of the bench's throwaway cluster: the atlas's version tables in
schema ``atlas``, whose primary key ``fid`` tipg takes as the feature id, so both
services answer with the same ids.  tipg's defaults are kept (exact
``numberMatched``, at most 10,000 features per tile, no thinning).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .common import WORK, Servers, free_port

TIPG_VERSION = "1.6.1"


def tipg_python() -> str:
    """The python of tipg's own environment, installed on first use.

    Raises
    ------
    RuntimeError
        When the environment cannot be made (no package index).
    """
    venv = os.path.join(WORK, "tipg-venv")
    py = os.path.join(venv, "bin", "python")
    marker = os.path.join(venv, f".tipg-{TIPG_VERSION}")
    if os.path.exists(marker):
        return py
    print(f"  installing tipg {TIPG_VERSION} into {venv} …", flush=True)
    base = getattr(sys, "_base_executable", sys.executable)
    if not os.path.exists(py):
        subprocess.run([base, "-m", "venv", venv], check=True, timeout=120)
    done = subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           f"tipg=={TIPG_VERSION}", "uvicorn"], capture_output=True, text=True,
                          timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"pip install tipg=={TIPG_VERSION} failed: {done.stderr[-1500:]}")
    open(marker, "w").close()
    return py


def start_tipg(servers: Servers, database_url: str, tables: list[str],
               schema: str = "atlas", limit_as_mb: float | None = None) -> str:
    """Serve ``schema.tables`` with tipg; returns its base URL.

    Collections are named ``<schema>.<table>``.
    """
    py = tipg_python()
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "TIPG_DB_SCHEMAS": json.dumps([schema]),
        "TIPG_DB_TABLES": json.dumps([f"{schema}.{t}" for t in tables]),
        "TIPG_DB_FUNCTIONS": "[]",
        "TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS": json.dumps(["public", "pg_catalog"]),
        "TIPG_DEBUG": "FALSE",
    }
    return servers.start([py, "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1",
                          "--port", str(port), "--workers", "1", "--log-level", "warning",
                          "--no-access-log"], port, env=env, ready_path="/collections?f=json",
                         timeout=180, limit_as_mb=limit_as_mb)


def items_url(base: str, table: str, bbox: tuple, limit: int, schema: str = "atlas",
              properties: list[str] | None = None) -> str:
    """tipg's items URL for the same query as the atlas's."""
    b = ",".join(map(str, bbox))
    props = f"&properties={','.join(properties)}" if properties else ""
    return f"{base}/collections/{schema}.{table}/items?bbox={b}&limit={limit}&f=geojson{props}"


def tile_url(base: str, table: str, z: int, x: int, y: int, schema: str = "atlas",
             properties: list[str] | None = None) -> str:
    """tipg's vector tile URL (WebMercatorQuad) of the same tile."""
    props = f"?properties={','.join(properties)}" if properties else ""
    return (f"{base}/collections/{schema}.{table}/tiles/WebMercatorQuad/{z}/{x}/{y}{props}")
