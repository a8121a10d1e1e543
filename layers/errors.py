"""The store's errors: what went wrong with a layer, in words a person can act on.

Every store raises these and only these for what a caller can explain: the web layer
maps each class to an HTTP status (:mod:`webmap.core.errors`), the command line prints
its message and hint.  Each carries a stable ``code`` and Chinese texts
(:class:`geo.errors.ExplainedError`).

Examples
--------
>>> e = LayerNotFound("no layer called 'x'")
>>> str(e), e.code, isinstance(e, KeyError)
("no layer called 'x'", 'layer_not_found', True)
>>> NotSupported("no tiles here").code
'not_supported'
"""

from __future__ import annotations

from geo.errors import ExplainedError


class StoreError(ExplainedError):
    """Base class of store errors that a caller can explain to a person.

    Raised as itself when the store cannot be used at all (unreachable database,
    a schema newer than the code).
    """

    default_code = "store_unavailable"


class LayerNameError(StoreError, ValueError):
    """A layer name that is not allowed."""

    default_code = "bad_layer_name"
    default_hint = "choose a name like 'my_sites_2023'"
    default_hint_zh = "换一个名称，例如 my_sites_2023"


class LayerNotFound(StoreError, KeyError):
    """No layer of that name."""

    default_code = "layer_not_found"
    default_hint = "GET /api/layers lists the layers that exist"
    default_hint_zh = "图层列表见“图层”面板或 /api/layers"


class LayerExists(StoreError):
    """A create-only write found the layer there already (decided inside the write)."""

    default_code = "layer_exists"


class VersionNotFound(StoreError, KeyError):
    """The layer has no version of that number."""

    default_code = "version_not_found"


class VersionConflict(StoreError):
    """The version cannot be changed that way (e.g. deleting the current version)."""

    default_code = "version_current"


class QueryError(StoreError, ValueError):
    """A query the store cannot answer (bad bbox, unknown property …)."""

    default_code = "bad_query"


class NotSupported(StoreError):
    """A declared capability this store does not offer (yet): the web layer answers 501."""

    default_code = "not_supported"


class CatalogLayerError(StoreError):
    """A catalog (reference) layer written or deleted through a route meant for user layers."""

    default_code = "catalog_layer"


class UnusableLayer(StoreError, ValueError):
    """A file that was read but cannot become a layer (no features, too many columns …)."""

    default_code = "unprocessable"


class JobNotFound(StoreError, KeyError):
    """No job with that id (never submitted, cancelled, or expired with its results)."""

    default_code = "job_not_found"


class JobNotDone(StoreError):
    """A job's results were asked for before it finished."""

    default_code = "job_not_done"


class TooManyJobs(StoreError):
    """A client submitted a job while it has as many unfinished ones as it may."""

    default_code = "too_many_jobs"


class JobQueueFull(StoreError):
    """The store holds as many unfinished jobs as it may (every app server's together)."""

    default_code = "job_queue_full"
