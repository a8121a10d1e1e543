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
>>> StoreFull("/srv/atlas.gpkg", free_bytes=4096).message
"the store's disk is full (4.0 KB left): the layer was not saved"
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


def human_size(n: int) -> str:
    """``n`` bytes for people.

    Examples
    --------
    >>> human_size(512), human_size(5 * 1024 ** 2), human_size(3 * 1024 ** 3)
    ('512 B', '5.0 MB', '3.0 GB')
    """
    for unit, scale in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _is_database(where: str) -> bool:
    return where.startswith(("postgresql://", "postgres://"))


class StoreFull(StoreError):
    """A write ran out of space on the store's disk (the web layer answers 507).

    Nothing of the write is kept (it was one transaction) and earlier layers are
    intact; reads go on.  The original error is chained (``__cause__``) and logged by
    the store.

    Parameters
    ----------
    where : str
        The store as shown to people (a path, or a database URL without password).
    free_bytes : int, optional
        Free space left on the store's disk (None for PostGIS, whose disk the service
        cannot see).
    """

    default_code = "store_full"

    def __init__(self, where: str, free_bytes: int | None = None) -> None:
        left = "" if free_bytes is None else f" ({human_size(free_bytes)} left)"
        left_zh = "" if free_bytes is None else f"（剩余 {human_size(free_bytes)}）"
        if _is_database(where):
            hint = (f"free space on the database server of {where} (or grow its volume); "
                    "earlier layers are intact and reads go on")
            hint_zh = f"请为数据库服务器 {where} 释放磁盘空间或扩容；已有图层完好，浏览不受影响"
        else:
            hint = (f"free space on the disk holding {where}, or move the store (ATLAS_STORE) "
                    "to a larger disk; earlier layers are intact and reads go on")
            hint_zh = (f"请释放 {where} 所在磁盘的空间，或把存储（ATLAS_STORE）移到更大的磁盘；"
                       "已有图层完好，浏览不受影响")
        super().__init__(f"the store's disk is full{left}: the layer was not saved", hint,
                         message_zh=f"存储所在的磁盘已满{left_zh}：图层未保存", hint_zh=hint_zh)
        self.free_bytes = free_bytes


class StoreReadOnly(StoreError):
    """The store cannot be written just now, so the write was not tried (the web layer
    answers 503 with ``Retry-After``); reads go on.

    Raised when the store was opened read-only (its disk was full or its filesystem
    read-only at start), when its filesystem or file cannot be written, and when its
    disk has less free space than the store keeps in reserve (``ATLAS_MIN_FREE_MB``).
    Writes resume by themselves once the cause is gone.

    Parameters
    ----------
    where : str
        The store as shown to people.
    reason, reason_zh : str
        Why, in English and Chinese ("its disk has 3.0 MB free …").
    full : bool
        Whether the cause is a lack of space (the hint then says to free space or move
        the store) rather than a read-only filesystem or file.
    retry_after : int
        Seconds a client should wait before trying again.
    """

    default_code = "store_read_only"

    def __init__(self, where: str, reason: str, reason_zh: str, *, full: bool = False,
                 retry_after: int = 60) -> None:
        if full and not _is_database(where):
            hint = (f"try again later; the operator must free space on the disk holding "
                    f"{where} or move the store (ATLAS_STORE) to a larger disk")
            hint_zh = (f"请稍后重试；管理员需要释放 {where} 所在磁盘的空间，"
                       "或把存储（ATLAS_STORE）移到更大的磁盘")
        else:
            hint = (f"try again later; the operator must make {where} writable again "
                    "(free disk space, or remount its filesystem read-write)")
            hint_zh = f"请稍后重试；管理员需要让 {where} 重新可写（释放磁盘空间或以读写方式重新挂载）"
        super().__init__(f"the store cannot be written just now ({reason}): writes are paused, "
                         "reads go on", hint,
                         message_zh=f"存储暂时无法写入（{reason_zh}）：写入已暂停，浏览不受影响",
                         hint_zh=hint_zh)
        self.reason = reason
        self.reason_zh = reason_zh
        self.full = full
        self.retry_after = retry_after
