"""The app's settings: one typed :class:`Settings`, built once, validated at start-up.

Read from environment variables (Flask's ``from_prefixed_env`` habit) and from the
overrides given to :func:`webmap.create_app`, then passed down: the store is opened
from :attr:`Settings.store`, uploads are read with :attr:`Settings.read_limits`, pages
get their basemaps from it.  Nothing below ``create_app`` reads ``os.environ``.
Every setting has a default that works on a single machine with no internet.

======================  ======================  =============================================
Variable                Setting                 Meaning
======================  ======================  =============================================
ATLAS_STORE             ``store``               GeoPackage path of the embedded store
                                                (default var/atlas.gpkg)
ATLAS_DATABASE_URL      ``store``               postgresql://… moves the store to PostGIS
                                                (wins over ATLAS_STORE)
ATLAS_WRITE_TOKEN       ``write_token``         bearer token that allows writes; unset =
                                                writes refused (403)
ATLAS_MAX_UPLOAD_MB     ``max_upload_mb``       upload size limit in MB (default 50), 413
ATLAS_MAX_UNZIPPED_MB   ``max_unzipped_mb``     what a zip may unpack to, in MB (default 500)
ATLAS_TILE_URL          ``tile_url``            self-hosted XYZ tile URL for intranets
ATLAS_TILE_ATTRIBUTION  ``tile_attribution``    attribution shown with ATLAS_TILE_URL
ATLAS_TILE_CACHE_MB     ``tile_cache_mb``       memory for vector tiles, in MB (default 64)
ATLAS_MIN_FREE_MB       ``min_free_mb``         space kept free on the GeoPackage store's
                                                disk: writes pause below it (default 16)
TIANDITU_KEY            ``tianditu_key``        Tianditu key; the Tianditu basemaps are hidden
                                                without one
ATLAS_HOST              ``host``                listen address of ``python -m
                                                webmap.core.serving`` (default 127.0.0.1)
ATLAS_PORT              ``port``                listen port (default 5000)
ATLAS_THREADS           ``threads``             worker threads (default 8)
ATLAS_CONNECTION_LIMIT  ``connection_limit``    open connections in all (default 1000)
ATLAS_CONNECTIONS_PER_  ``connections_per_      open connections per client address
CLIENT                  client``                (default 64; 0 = no cap)
ATLAS_IDLE_TIMEOUT      ``idle_timeout``        seconds a connection may idle (default 20)
ATLAS_HEADER_TIMEOUT    ``header_timeout``      seconds for a request's headers (default 10)
ATLAS_BODY_TIMEOUT      ``body_timeout``        grace in seconds for a body (default 30)
ATLAS_BODY_MIN_RATE     ``body_min_rate``       bytes/s a body must average after the grace
                                                (default 2048)
ATLAS_TRUSTED_PROXY     ``trusted_proxy``       address of a reverse proxy whose
                                                X-Forwarded-* headers are believed
ATLAS_OVERLAY_MAX_SITES ``overlay_max_sites``   sites in one JSON overlay answer (default
                                                100000); more: stream or run a job
ATLAS_JOB_WORKERS       ``job_workers``         jobs this app server runs at once (default
                                                1; 0: none)
ATLAS_JOBS_PER_CLIENT   ``jobs_per_client``     unfinished jobs per client address
                                                (default 2)
ATLAS_JOB_QUEUE         ``job_queue``           unfinished jobs in the store (default 20)
ATLAS_JOB_KEEP_HOURS    ``job_keep_hours``      hours a finished job's results are kept
                                                (default 24)
ATLAS_LAYER_MEMORY_MB   ``layer_memory_mb``     memory for layers held in memory per app
                                                server (default 2048)
ATLAS_CORS_ORIGINS      ``cors_origins``        origins whose pages may read the open routes
                                                (``*``, the default; a comma-separated
                                                list; empty: none)
ATLAS_CHROMIUM          ``chromium``            the Chromium ``flask atlas print`` drives
                                                (default: /usr/bin/chromium or on PATH)
======================  ======================  =============================================

Examples
--------
>>> s = Settings.from_env({"ATLAS_MAX_UPLOAD_MB": "5"})
>>> s.max_upload_mb, s.max_content_length
(5.0, 5242880)
>>> Settings.from_env({"ATLAS_MAX_UPLOAD_MB": "lots"})
Traceback (most recent call last):
...
webmap.core.config.SettingsError: ATLAS_MAX_UPLOAD_MB must be a number of megabytes greater than 0, got 'lots'
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from flask import current_app

from geo.read.archive import Limits

_MB = 1024 * 1024


class SettingsError(ValueError):
    """A setting with a value the app cannot start with (named, with what was given)."""


def _megabytes(name: str, raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise SettingsError(f"{name} must be a number of megabytes greater than 0, got {raw!r}")
    return value


def _text(name: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise SettingsError(f"{name} must be text, got {raw!r}")
    return raw.strip() or None


def _number(name: str, raw: Any, *, integer: bool, minimum: float, what: str) -> Any:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value >= minimum) or (integer and value != int(value)):
        raise SettingsError(f"{name} must be {what}, got {raw!r}")
    return int(value) if integer else value


def _count(name: str, raw: Any) -> int:
    return _number(name, raw, integer=True, minimum=1, what="a whole number of at least 1")


def _cap(name: str, raw: Any) -> int:
    return _number(name, raw, integer=True, minimum=0,
                   what="a whole number of at least 0 (0: no cap)")


def _port(name: str, raw: Any) -> int:
    port = _number(name, raw, integer=True, minimum=1, what="a port number 1-65535")
    if port > 65535:
        raise SettingsError(f"{name} must be a port number 1-65535, got {raw!r}")
    return port


def _seconds(name: str, raw: Any) -> float:
    value = _number(name, raw, integer=False, minimum=0,
                    what="a number of seconds greater than 0")
    if value <= 0:
        raise SettingsError(f"{name} must be a number of seconds greater than 0, got {raw!r}")
    return value


def _hours(name: str, raw: Any) -> float:
    value = _number(name, raw, integer=False, minimum=0, what="a number of hours greater than 0")
    if value <= 0:
        raise SettingsError(f"{name} must be a number of hours greater than 0, got {raw!r}")
    return value


def _megabytes_or_zero(name: str, raw: Any) -> float:
    return _number(name, raw, integer=False, minimum=0,
                   what="a number of megabytes, 0 or more")


def _host(name: str, raw: Any) -> str:
    return _text(name, raw) or "127.0.0.1"  # empty: the default, loopback


def _flag(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _origins(name: str, raw: Any) -> tuple[str, ...]:
    """``*`` or a comma-separated list of origins (``scheme://host[:port]``).

    Examples
    --------
    >>> _origins("X", "http://gis.lan:8080, https://maps.example.org")
    ('http://gis.lan:8080', 'https://maps.example.org')
    >>> _origins("X", "*"), _origins("X", "")
    (('*',), ())
    """
    if isinstance(raw, (tuple, list)):
        items = [str(v).strip() for v in raw]
    elif isinstance(raw, str):
        items = [v.strip() for v in raw.split(",")]
    else:
        raise SettingsError(f"{name} must be * or a comma-separated list of origins, "
                            f"got {raw!r}")
    out = []
    for item in filter(None, items):
        if item != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", item):
            raise SettingsError(f"{name} must be * or origins like http://gis.lan:8080 "
                                f"(scheme, host and port, no path), got {item!r}")
        out.append(item.rstrip("/"))
    return tuple(dict.fromkeys(out))


#: Environment variable (or override key) → (setting, parser).  The README's
#: configuration table lists the same variables (a test checks it).
VARIABLES: dict[str, tuple[str, Callable[[str, Any], Any]]] = {
    "ATLAS_STORE": ("store", _text),
    "ATLAS_DATABASE_URL": ("store", _text),
    "ATLAS_WRITE_TOKEN": ("write_token", _text),
    "ATLAS_MAX_UPLOAD_MB": ("max_upload_mb", _megabytes),
    "ATLAS_MAX_UNZIPPED_MB": ("max_unzipped_mb", _megabytes),
    "ATLAS_TILE_URL": ("tile_url", _text),
    "ATLAS_TILE_ATTRIBUTION": ("tile_attribution", _text),
    "ATLAS_TILE_CACHE_MB": ("tile_cache_mb", _megabytes),
    "ATLAS_MIN_FREE_MB": ("min_free_mb", _megabytes_or_zero),
    "TIANDITU_KEY": ("tianditu_key", _text),
    # serving (webmap.core.serving: waitress with connection limits and timeouts)
    "ATLAS_HOST": ("host", _host),
    "ATLAS_PORT": ("port", _port),
    "ATLAS_THREADS": ("threads", _count),
    "ATLAS_CONNECTION_LIMIT": ("connection_limit", _count),
    "ATLAS_CONNECTIONS_PER_CLIENT": ("connections_per_client", _cap),
    "ATLAS_IDLE_TIMEOUT": ("idle_timeout", _seconds),
    "ATLAS_HEADER_TIMEOUT": ("header_timeout", _seconds),
    "ATLAS_BODY_TIMEOUT": ("body_timeout", _seconds),
    "ATLAS_BODY_MIN_RATE": ("body_min_rate", _count),
    "ATLAS_TRUSTED_PROXY": ("trusted_proxy", _text),
    # volume (issue 12): answers and jobs of any size in bounded memory
    "ATLAS_OVERLAY_MAX_SITES": ("overlay_max_sites", _count),
    "ATLAS_JOB_WORKERS": ("job_workers", _cap),
    "ATLAS_JOBS_PER_CLIENT": ("jobs_per_client", _count),
    "ATLAS_JOB_QUEUE": ("job_queue", _count),
    "ATLAS_JOB_KEEP_HOURS": ("job_keep_hours", _hours),
    "ATLAS_LAYER_MEMORY_MB": ("layer_memory_mb", _megabytes),
    "ATLAS_CORS_ORIGINS": ("cors_origins", _origins),
    "ATLAS_CHROMIUM": ("chromium", _text),
}


@dataclass(frozen=True)
class Settings:
    """Everything the app is configured with.

    Attributes
    ----------
    store : str or None
        GeoPackage path or ``postgresql://`` URL (None: ``var/atlas.gpkg``).
    write_token : str or None
        Bearer token that allows writes (None: writes refused).
    max_upload_mb, max_unzipped_mb : float
        Upload size limit, and what a zip may unpack to.
    tile_url, tile_attribution : str or None
        A self-hosted XYZ basemap and its attribution.
    tile_cache_mb : float
        Memory for cached vector tiles.
    min_free_mb : float
        Space the GeoPackage store keeps free on its disk: below it writes are refused
        (503, ``Retry-After``) until space is freed, reads go on (0: writes always tried).
    tianditu_key : str or None
        Key for the Tianditu basemaps.
    cors_origins : tuple of str
        Origins whose web pages may read the read-only routes (:mod:`webmap.core.cors`):
        ``("*",)`` for any, ``()`` for none.
    chromium : str or None
        The Chromium binary that prints pages to PDF (None: the usual places).
    testing : bool
        Test mode (Flask's ``TESTING``; ``/healthz`` also checks the store's integrity).
    host, port, threads : str, int, int
        Where ``python -m webmap.core.serving`` listens, and its worker threads.
    connection_limit : int
        Open connections in all.
    connections_per_client : int
        Open connections per client IP address (IPv6 per /64); 0 = no cap.
    idle_timeout : float
        Seconds a connection may stay open with no request under way, and a client
        may take none of its response.
    header_timeout : float
        Seconds from a request's first byte until its headers are complete.
    body_timeout : float
        Grace in seconds for a body, extended by one second per ``body_min_rate``
        bytes received.
    body_min_rate : int
        Bytes per second a body must average after the grace.
    trusted_proxy : str or None
        Address of a reverse proxy in front: its ``X-Forwarded-*`` headers are
        believed and its connections are not capped per client.
    overlay_max_sites : int
        Most sites ``POST /api/overlay`` answers as one JSON document (rows, summary
        and GeoJSON); above it 413 points to ``format=csv|ndjson|geojson`` (streamed,
        any size) and ``POST /api/jobs/overlay``.
    job_workers : int
        Jobs this app server runs at once (threads; 0: it only queues them for the
        other app servers of the same store).
    jobs_per_client : int
        Unfinished (queued or running) jobs one client address may have (429 above).
    job_queue : int
        Unfinished jobs in the whole store, every app server's together (503 above).
    job_keep_hours : float
        How long a finished job and its result files are kept.
    layer_memory_mb : float
        Memory for layers held in memory by this app server (features, their index,
        encoded features); the least recently used are dropped beyond it.
    """

    store: str | None = None
    write_token: str | None = None
    max_upload_mb: float = 50.0
    max_unzipped_mb: float = 500.0
    tile_url: str | None = None
    tile_attribution: str | None = None
    tile_cache_mb: float = 64.0
    min_free_mb: float = 16.0
    tianditu_key: str | None = None
    cors_origins: tuple[str, ...] = ("*",)
    chromium: str | None = None
    testing: bool = False
    host: str = "127.0.0.1"
    port: int = 5000
    threads: int = 8
    connection_limit: int = 1000
    connections_per_client: int = 64
    idle_timeout: float = 20.0
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    body_min_rate: int = 2048
    trusted_proxy: str | None = None
    overlay_max_sites: int = 100_000
    job_workers: int = 1
    jobs_per_client: int = 2
    job_queue: int = 20
    job_keep_hours: float = 24.0
    layer_memory_mb: float = 2048.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None,
                 overrides: Mapping[str, Any] | None = None) -> Settings:
        """Settings from ``environ`` (default ``os.environ``), then ``overrides``.

        ``overrides`` take the environment's names (``ATLAS_STORE`` …), the settings'
        own names (``store`` …), Flask's ``TESTING`` and ``MAX_CONTENT_LENGTH`` (bytes).

        Raises
        ------
        SettingsError
            For a value that is not valid, naming the variable.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        # ATLAS_DATABASE_URL wins over ATLAS_STORE: it is read last.
        for var in ("ATLAS_STORE", *[v for v in VARIABLES if v != "ATLAS_STORE"]):
            raw = env.get(var)
            if raw is not None and (var != "ATLAS_DATABASE_URL" or raw.strip()):
                setting, parse = VARIABLES[var]
                values[setting] = parse(var, raw)
        settings = cls(**values)
        return settings.with_overrides(overrides) if overrides else settings

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        """A copy with ``overrides`` applied (see :meth:`from_env`)."""
        own = {f.name for f in fields(self)}
        values: dict[str, Any] = {}
        for key, raw in overrides.items():
            if key in VARIABLES:
                setting, parse = VARIABLES[key]
                values[setting] = parse(key, raw) if raw is not None else None
            elif key == "TESTING":
                values["testing"] = _flag(key, raw)
            elif key == "MAX_CONTENT_LENGTH":
                values["max_upload_mb"] = _megabytes(key, float(raw) / _MB)
            elif key in own:
                values[key] = raw
            # other keys are plain Flask configuration, handled by create_app
        return replace(self, **values)

    @property
    def max_content_length(self) -> int:
        """The upload limit in bytes (Flask's ``MAX_CONTENT_LENGTH``)."""
        return int(self.max_upload_mb * _MB)

    @property
    def max_request_body(self) -> int:
        """The largest body the server reads: the upload limit plus 1 MiB of form overhead,
        so that a larger upload is refused with 413 before it is buffered to disk."""
        return self.max_content_length + _MB

    @property
    def read_limits(self) -> Limits:
        """Limits for reading uploaded files (zip bombs)."""
        return Limits(max_uncompressed=int(self.max_unzipped_mb * _MB))

    @property
    def writes_enabled(self) -> bool:
        """Whether a write token is configured."""
        return bool(self.write_token)


def current_settings() -> Settings:
    """The settings of the current app."""
    return current_app.extensions["atlas_settings"]
