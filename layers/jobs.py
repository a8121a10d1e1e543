"""Background jobs kept in the store, so that every app server of a store sees them.

A job (an overlay of a million sites …) is submitted by one app server, claimed and
run by whichever app server has a free worker (:mod:`webmap.jobs`), and polled and
downloaded through any of them: its state, its uploaded input and its result files
all live in the store — two tables beside the layers (``atlas_jobs`` and
``atlas_job_files`` in the GeoPackage, ``atlas.jobs`` and ``atlas.job_files`` on
PostGIS, migration ``0003_jobs.sql``).  Like pygeoapi's process manager: submit,
progress, result, cancel.

Life of a job
    ``queued`` (submitted; its input stored) → ``running`` (claimed by one runner,
    its ``owner``, which reports ``progress`` and a heartbeat) → ``done`` (result
    files written, input dropped) or ``failed`` (an error body in the house shape).
    A running job whose runner stopped — the server was restarted, or its heartbeat
    is older than ``stale_s`` — is marked failed (:func:`interrupted`).  Finished jobs
    are kept ``keep_hours`` (default 24) and then removed with their files
    (:meth:`JobStore.expire`).  Cancelling (:meth:`JobStore.cancel`) removes a job at
    once; a runner notices at its next progress report or write and stops.

Limits, checked inside the submitting transaction (so concurrent submits through
several app servers cannot exceed them): at most ``per_client`` unfinished jobs per
client address (:class:`~layers.errors.TooManyJobs`, 429) and ``queue_limit``
unfinished jobs in the whole store (:class:`~layers.errors.JobQueueFull`, 503).

Result files are stored as gzip members of about :data:`PART_BYTES` of text each
(``gzip`` concatenates members into one valid stream): an app server streams a file
part by part, as stored to a client that accepts gzip, inflated otherwise, and never
holds the file whole.  A million-site overlay's CSV (hundreds of MB of text) takes
tens of MB in the store.

Examples
--------
>>> import sqlite3, tempfile, os
>>> from contextlib import closing
>>> path = os.path.join(tempfile.mkdtemp(), "jobs.sqlite")
>>> jobs = JobStore(lambda: closing(sqlite3.connect(path, isolation_level=None)), "sqlite")
>>> job = jobs.submit("overlay", {"datum": "wgs84"}, "127.0.0.1", "sites.csv", b"lon,lat\\n")
>>> job.status, jobs.claim("runner-1").id == job.id
('queued', True)
>>> with jobs.result_file(job.id, "runner-1", "csv", "text/csv", "overlay.csv") as out:
...     out.write(b"lon,lat\\r\\n116.1,44.0\\r\\n")
>>> jobs.finish(job.id, "runner-1", {"csv": out.meta}).status
'done'
>>> b"".join(jobs.read(job.id, "csv"))
b'lon,lat\\r\\n116.1,44.0\\r\\n'
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from .errors import JobNotDone, JobNotFound, JobQueueFull, TooManyJobs

log = logging.getLogger(__name__)

#: The states of a job.
STATUSES = ("queued", "running", "done", "failed")
#: Text per stored gzip member of a result file (and per part of an input).
PART_BYTES = 8 * 1024 * 1024
#: A running job whose heartbeat is older than this (seconds) has lost its runner.
STALE_S = 120.0
_LOCK_JOBS = 0x41544C4A  # "ATLJ": PostgreSQL advisory lock of the submitting transaction
_INPUT = "_input"
_COLUMNS = ("id, kind, status, progress, client, params, input_name, owner, results, error,"
            " created, updated, heartbeat, finished, expires")
_DDL_SQLITE = (
    "CREATE TABLE IF NOT EXISTS atlas_jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    " status TEXT NOT NULL, progress REAL NOT NULL DEFAULT 0, client TEXT NOT NULL,"
    " params TEXT NOT NULL DEFAULT '{}', input_name TEXT NOT NULL DEFAULT '', owner TEXT,"
    " results TEXT NOT NULL DEFAULT '{}', error TEXT, created REAL NOT NULL,"
    " updated REAL NOT NULL, heartbeat REAL, finished REAL, expires REAL)",
    "CREATE INDEX IF NOT EXISTS atlas_jobs_status ON atlas_jobs (status, created)",
    "CREATE TABLE IF NOT EXISTS atlas_job_files (job_id TEXT NOT NULL, name TEXT NOT NULL,"
    " seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (job_id, name, seq))",
)


@dataclass(frozen=True)
class Job:
    """One job as the store holds it.

    Attributes
    ----------
    id : str
        Unguessable identifier (the job's URL is its only key).
    kind : str
        What it does (``overlay``).
    status : str
        One of :data:`STATUSES`.
    progress : float
        0–1.
    client : str
        Who submitted it (the client address, for the per-client limit).
    params : dict
        The job's parameters as submitted.
    input_name : str
        File name of the uploaded input.
    owner : str or None
        The runner that claimed it (:func:`runner_id`).
    results : dict
        Result file name → ``{"media_type", "filename", "size", "stored", "parts"}``,
        plus any small JSON results under their own names.
    error : dict or None
        The error body of a failed job (``error``, ``error_zh``, ``code``, ``status``,
        ``hint``, ``hint_zh``).
    created, updated, heartbeat, finished, expires : float or None
        Seconds since the epoch.
    """

    id: str
    kind: str
    status: str
    progress: float
    client: str
    params: dict = field(default_factory=dict)
    input_name: str = ""
    owner: str | None = None
    results: dict = field(default_factory=dict)
    error: dict | None = None
    created: float = 0.0
    updated: float = 0.0
    heartbeat: float | None = None
    finished: float | None = None
    expires: float | None = None

    @property
    def unfinished(self) -> bool:
        return self.status in ("queued", "running")


def runner_id() -> str:
    """An id for one runner in one process: ``host:pid:random`` (see :func:`interrupted`).

    Examples
    --------
    >>> runner_id().split(":")[1] == str(os.getpid())
    True
    """
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def interrupted(job: Job, now: float, alive: Callable[[str], bool] | None = None,
                stale_s: float = STALE_S) -> bool:
    """Whether a running ``job`` has lost its runner.

    Its heartbeat is older than ``stale_s``, or its runner was on this host and
    ``alive(owner)`` says it is gone (the app server was restarted: its jobs are
    known lost at once, without waiting out the heartbeat).

    Examples
    --------
    >>> j = Job("a", "overlay", "running", 0.5, "c", owner="h:1:x", heartbeat=100.0)
    >>> interrupted(j, 110.0), interrupted(j, 1000.0), interrupted(j, 110.0, lambda o: False)
    (False, True, True)
    """
    if job.status != "running":
        return False
    if job.heartbeat is None or now - job.heartbeat > stale_s:
        return True
    return alive is not None and not alive(job.owner or "")


#: Runners running in this process (:func:`register_runner`), for :func:`local_runner_alive`.
_LOCAL_RUNNERS: set[str] = set()


def register_runner(owner: str, running: bool = True) -> None:
    """Say that runner ``owner`` of this process runs jobs (or, ``running=False``, stopped)."""
    if running:
        _LOCAL_RUNNERS.add(owner)
    else:
        _LOCAL_RUNNERS.discard(owner)


def local_runner_alive(owner: str) -> bool:
    """Whether the runner ``owner`` may still run its jobs: on another host (unknown: yes),
    a registered runner of this process, or a live process on this host other than this one.

    Examples
    --------
    >>> me = runner_id()
    >>> register_runner(me)
    >>> local_runner_alive(me), local_runner_alive("elsewhere:1:x")
    (True, True)
    >>> local_runner_alive(f"{socket.gethostname()}:{os.getpid()}:old")  # an earlier app
    False
    >>> register_runner(me, running=False)
    """
    host, _, rest = owner.partition(":")
    if host != socket.gethostname():
        return True
    pid_text = rest.partition(":")[0]
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return owner in _LOCAL_RUNNERS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ResultWriter:
    """A result file being written: text in, gzip members of :data:`PART_BYTES` out.

    Use :meth:`JobStore.result_file`.  :attr:`meta` describes the file once closed.
    """

    def __init__(self, jobs: JobStore, job_id: str, owner: str, name: str, media_type: str,
                 filename: str, level: int = 1) -> None:
        self.jobs, self.job_id, self.owner, self.name = jobs, job_id, owner, name
        self.level = level
        self.meta: dict[str, Any] = {"media_type": media_type, "filename": filename,
                                     "size": 0, "stored": 0, "parts": 0}
        self._buffer: list[bytes] = []
        self._buffered = 0

    def write(self, data: bytes) -> None:
        """Add ``data``; a full part is compressed and stored (JobNotFound if cancelled)."""
        if not data:
            return
        self._buffer.append(data)
        self._buffered += len(data)
        self.meta["size"] += len(data)
        if self._buffered >= PART_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._buffered:
            return
        raw = b"".join(self._buffer)
        self._buffer, self._buffered = [], 0
        comp = zlib.compressobj(self.level, zlib.DEFLATED, 31)  # one gzip member
        part = comp.compress(raw) + comp.flush()
        del raw
        self.jobs.write_part(self.job_id, self.owner, self.name, self.meta["parts"], part)
        self.meta["parts"] += 1
        self.meta["stored"] += len(part)

    def close(self) -> None:
        self._flush()
        if self.meta["parts"] == 0:  # an empty file is one empty gzip member
            self._flush_empty()

    def _flush_empty(self) -> None:
        comp = zlib.compressobj(self.level, zlib.DEFLATED, 31)
        part = comp.compress(b"") + comp.flush()
        self.jobs.write_part(self.job_id, self.owner, self.name, 0, part)
        self.meta["parts"], self.meta["stored"] = 1, len(part)

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None:
            self.close()


class JobStore:
    """Jobs in a SQL database: the GeoPackage's SQLite or the PostGIS store's PostgreSQL.

    Parameters
    ----------
    connection : callable
        Returns a context manager giving an autocommit connection (``sqlite3`` with
        ``isolation_level=None``, or ``psycopg`` with ``autocommit=True``).
    dialect : {"sqlite", "postgres"}
        SQLite tables are created on first use; PostgreSQL's by the store's migration.
    """

    def __init__(self, connection: Callable[[], AbstractContextManager[Any]],
                 dialect: str,
                 reading: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
        if dialect not in ("sqlite", "postgres"):
            raise ValueError(f"unknown dialect {dialect!r}")
        self._connection = connection
        #: Where a job's state and results are read (default: ``connection``): a store whose
        #: disk is full still serves finished jobs through the connection it reads layers with.
        self._reading = reading
        self.dialect = dialect
        self.jobs_table = "atlas_jobs" if dialect == "sqlite" else "atlas.jobs"
        self.files_table = "atlas_job_files" if dialect == "sqlite" else "atlas.job_files"
        self._ready = dialect == "postgres"

    # -- plumbing ---------------------------------------------------------------------------
    def _sql(self, text: str) -> str:
        text = text.replace("{jobs}", self.jobs_table).replace("{files}", self.files_table)
        return text if self.dialect == "sqlite" else text.replace("?", "%s")

    @contextmanager
    def _con(self) -> Iterator[Any]:
        with self._connection() as con:
            if not self._ready:
                for statement in _DDL_SQLITE:
                    con.execute(statement)
                self._ready = True
            yield con

    @contextmanager
    def _read(self) -> Iterator[Any]:
        """A connection to read jobs with (no DDL, no write)."""
        if self._reading is None:
            with self._con() as con:
                yield con
            return
        with self._reading() as con:
            if not self._ready and self.dialect == "sqlite" and con.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = ?",
                    (self.jobs_table,)).fetchone() is None:
                con = None  # no job was ever submitted: make the tables first
            if con is not None:
                yield con
                return
        with self._con() as con:
            yield con

    @contextmanager
    def _tx(self, con: Any, lock: bool = False) -> Iterator[None]:
        """A write transaction (SQLite: the database's one writer; PostgreSQL: with the
        jobs' advisory lock when ``lock``)."""
        if self.dialect == "sqlite":
            con.execute("BEGIN IMMEDIATE")
            try:
                yield
                con.execute("COMMIT")
            except BaseException as e:
                # SQLite has rolled back already on some errors (a full disk): a ROLLBACK
                # then fails and would hide the real error, which the store maps to 507.
                if con.in_transaction:
                    try:
                        con.execute("ROLLBACK")
                    except Exception:
                        log.exception("rolling back after %r failed too", e)
                raise
        else:
            with con.transaction():
                if lock:
                    con.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_JOBS,))
                yield

    def _exec(self, con: Any, text: str, args: tuple = ()) -> Any:
        return con.execute(self._sql(text), args)

    @staticmethod
    def _job(row: tuple) -> Job:
        (jid, kind, status, progress, client, params, input_name, owner, results, error,
         created, updated, heartbeat, finished, expires) = row
        return Job(id=jid, kind=kind, status=status, progress=float(progress),
                   client=client, params=json.loads(params or "{}"),
                   input_name=input_name or "", owner=owner,
                   results=json.loads(results or "{}"),
                   error=json.loads(error) if error else None,
                   created=float(created), updated=float(updated),
                   heartbeat=None if heartbeat is None else float(heartbeat),
                   finished=None if finished is None else float(finished),
                   expires=None if expires is None else float(expires))

    # -- submitting and reading -------------------------------------------------------------
    def submit(self, kind: str, params: Mapping[str, Any], client: str, input_name: str,
               data: bytes, *, per_client: int = 2, queue_limit: int = 20) -> Job:
        """Queue a job with its input; raises TooManyJobs / JobQueueFull at the limits."""
        now = time.time()
        job = Job(id=uuid.uuid4().hex, kind=kind, status="queued", progress=0.0,
                  client=client, params=dict(params), input_name=input_name,
                  created=now, updated=now)
        parts = [data[i:i + PART_BYTES] for i in range(0, len(data), PART_BYTES)] or [b""]
        stored = [zlib.compress(p, 1) for p in parts]
        with self._con() as con, self._tx(con, lock=True):
            (mine,) = self._exec(con, "SELECT count(*) FROM {jobs} WHERE client = ?"
                                 " AND status IN ('queued', 'running')", (client,)).fetchone()
            if mine >= per_client:
                raise TooManyJobs(
                    f"this client has {mine} jobs queued or running, the most it may have",
                    "wait for one to finish (GET /api/jobs/{id}) or cancel one "
                    "(DELETE /api/jobs/{id}), then submit again",
                    message_zh=f"您已有 {mine} 个任务在排队或运行，已达上限",
                    hint_zh="请等其中一个完成或取消后再提交")
            (total,) = self._exec(con, "SELECT count(*) FROM {jobs}"
                                  " WHERE status IN ('queued', 'running')").fetchone()
            if total >= queue_limit:
                raise JobQueueFull(
                    f"the server holds {total} unfinished jobs, the most it queues",
                    "try again in a few minutes",
                    message_zh="服务器的任务队列已满", hint_zh="请过几分钟再试")
            self._exec(con, "INSERT INTO {jobs} (id, kind, status, progress, client, params,"
                            " input_name, results, created, updated) VALUES"
                            " (?, ?, 'queued', 0, ?, ?, ?, '{}', ?, ?)",
                       (job.id, kind, client, json.dumps(job.params, ensure_ascii=False),
                        input_name, now, now))
            for seq, part in enumerate(stored):
                self._exec(con, "INSERT INTO {files} (job_id, name, seq, data)"
                                " VALUES (?, ?, ?, ?)", (job.id, _INPUT, seq, part))
        return job

    def get(self, job_id: str) -> Job:
        """The job ``job_id``; raises JobNotFound."""
        with self._read() as con:
            row = self._exec(con, f"SELECT {_COLUMNS} FROM {{jobs}} WHERE id = ?",
                             (str(job_id),)).fetchone()
        if row is None:
            raise JobNotFound(f"no job {job_id!r}",
                              "jobs and their results are kept for a day after they end; "
                              "submit it again", message_zh="没有这个任务，或它已过期删除",
                              hint_zh="任务结束后保留一天；请重新提交")
        return self._job(row)

    def list(self, status: str | None = None) -> list[Job]:
        """Jobs (with ``status``), oldest first."""
        where, args = ("WHERE status = ?", (status,)) if status else ("", ())
        with self._read() as con:
            rows = self._exec(con, f"SELECT {_COLUMNS} FROM {{jobs}} {where}"
                                   " ORDER BY created, id", args).fetchall()
        return [self._job(r) for r in rows]

    def read_input(self, job_id: str) -> bytes:
        """The uploaded input of a job (while it is queued or running)."""
        with self._con() as con:
            rows = self._exec(con, "SELECT data FROM {files} WHERE job_id = ? AND name = ?"
                                   " ORDER BY seq", (job_id, _INPUT)).fetchall()
        if not rows:
            self.get(job_id)  # JobNotFound if it went
            return b""
        return b"".join(zlib.decompress(bytes(r[0])) for r in rows)

    # -- running ----------------------------------------------------------------------------
    def claim(self, owner: str) -> Job | None:
        """The oldest queued job, now running for ``owner``; None when none waits."""
        now = time.time()
        with self._con() as con, self._tx(con):
            lock = "" if self.dialect == "sqlite" else " FOR UPDATE SKIP LOCKED"
            row = self._exec(con, "SELECT id FROM {jobs} WHERE status = 'queued'"
                                  f" ORDER BY created, id LIMIT 1{lock}").fetchone()
            if row is None:
                return None
            self._exec(con, "UPDATE {jobs} SET status = 'running', owner = ?, heartbeat = ?,"
                            " updated = ? WHERE id = ?", (owner, now, now, row[0]))
            got = self._exec(con, f"SELECT {_COLUMNS} FROM {{jobs}} WHERE id = ?",
                             (row[0],)).fetchone()
        return self._job(got)

    def progress(self, job_id: str, owner: str, value: float) -> bool:
        """Record progress (0–1) and a heartbeat; False when the job is no longer ``owner``'s
        to run (cancelled, or marked failed as interrupted): the runner then stops."""
        now = time.time()
        with self._con() as con:
            cur = self._exec(con, "UPDATE {jobs} SET progress = ?, heartbeat = ?, updated = ?"
                                  " WHERE id = ? AND owner = ? AND status = 'running'",
                             (min(max(float(value), 0.0), 1.0), now, now, job_id, owner))
            return cur.rowcount > 0

    def heartbeat(self, owner: str) -> int:
        """Refresh the heartbeat of every job ``owner`` runs; how many."""
        now = time.time()
        with self._con() as con:
            cur = self._exec(con, "UPDATE {jobs} SET heartbeat = ? WHERE owner = ?"
                                  " AND status = 'running'", (now, owner))
            return cur.rowcount

    def write_part(self, job_id: str, owner: str, name: str, seq: int, data: bytes) -> None:
        """Store part ``seq`` of result file ``name``; JobNotFound when the job is no longer
        ``owner``'s to run."""
        with self._con() as con, self._tx(con):
            cur = self._exec(con, "UPDATE {jobs} SET heartbeat = ? WHERE id = ? AND owner = ?"
                                  " AND status = 'running'", (time.time(), job_id, owner))
            if cur.rowcount == 0:
                raise JobNotFound(f"job {job_id!r} is no longer running here",
                                  message_zh="任务已取消或已中断")
            self._exec(con, "INSERT INTO {files} (job_id, name, seq, data) VALUES (?, ?, ?, ?)",
                       (job_id, name, int(seq), data))

    def result_file(self, job_id: str, owner: str, name: str, media_type: str,
                    filename: str) -> ResultWriter:
        """A writer of result file ``name`` (a context manager; ``.meta`` once closed)."""
        return ResultWriter(self, job_id, owner, name, media_type, filename)

    def finish(self, job_id: str, owner: str, results: Mapping[str, Any],
               keep_hours: float = 24.0) -> Job:
        """Mark the job done with ``results`` (file metas and small JSON results); its input
        goes.  JobNotFound when it is no longer ``owner``'s."""
        now = time.time()
        with self._con() as con, self._tx(con):
            cur = self._exec(con, "UPDATE {jobs} SET status = 'done', progress = 1, results = ?,"
                                  " updated = ?, finished = ?, expires = ?"
                                  " WHERE id = ? AND owner = ? AND status = 'running'",
                             (json.dumps(dict(results), ensure_ascii=False), now, now,
                              now + keep_hours * 3600, job_id, owner))
            if cur.rowcount == 0:
                raise JobNotFound(f"job {job_id!r} is no longer running here",
                                  message_zh="任务已取消或已中断")
            self._exec(con, "DELETE FROM {files} WHERE job_id = ? AND name = ?",
                       (job_id, _INPUT))
        return self.get(job_id)

    def fail(self, job_id: str, error: Mapping[str, Any], owner: str | None = None,
             keep_hours: float = 24.0) -> bool:
        """Mark an unfinished job failed with ``error`` (the house error body); its input
        and any partial results go.  With ``owner``, only if it still runs for that
        runner.  False when there was nothing to mark."""
        now = time.time()
        cond = " AND owner = ?" if owner is not None else ""
        args: tuple = (json.dumps(dict(error), ensure_ascii=False), now, now,
                       now + keep_hours * 3600, job_id)
        with self._con() as con, self._tx(con):
            cur = self._exec(con, "UPDATE {jobs} SET status = 'failed', error = ?, updated = ?,"
                                  " finished = ?, expires = ? WHERE id = ?"
                                  f" AND status IN ('queued', 'running'){cond}",
                             args + ((owner,) if owner is not None else ()))
            if cur.rowcount == 0:
                return False
            self._exec(con, "DELETE FROM {files} WHERE job_id = ?", (job_id,))
        return True

    def cancel(self, job_id: str) -> Job:
        """Remove a job with its files at once (a running one stops at its next report);
        the job as it was.  Raises JobNotFound."""
        job = self.get(job_id)
        with self._con() as con, self._tx(con):
            self._exec(con, "DELETE FROM {jobs} WHERE id = ?", (job_id,))
            self._exec(con, "DELETE FROM {files} WHERE job_id = ?", (job_id,))
        return job

    def expire(self, now: float | None = None) -> int:
        """Remove finished jobs past their time, and files of jobs that are gone; how many
        jobs went."""
        now = time.time() if now is None else now
        with self._con() as con, self._tx(con):
            cur = self._exec(con, "DELETE FROM {jobs} WHERE expires IS NOT NULL AND expires < ?",
                             (now,))
            n = cur.rowcount
            self._exec(con, "DELETE FROM {files} WHERE job_id NOT IN (SELECT id FROM {jobs})")
        return max(n, 0)

    # -- results ----------------------------------------------------------------------------
    def parts(self, job_id: str, name: str) -> Iterator[bytes]:
        """The stored gzip members of result file ``name``, one at a time (JobNotDone before
        the job is done, JobNotFound for a file it does not have)."""
        job = self.get(job_id)
        if job.status != "done":
            raise JobNotDone(f"job {job_id!r} is {job.status}: its results are not ready",
                             "poll GET /api/jobs/{id} until its status is done",
                             message_zh="任务尚未完成，结果还不能下载",
                             hint_zh="请等任务状态变为“完成”后再下载")
        meta = job.results.get(name)
        if not isinstance(meta, dict) or "parts" not in meta:
            raise JobNotFound(f"job {job_id!r} has no result {name!r}",
                              "GET /api/jobs/{id} lists its results",
                              message_zh=f"任务没有名为 {name!r} 的结果")
        return self._iter_parts(job_id, name, int(meta["parts"]))

    def _iter_parts(self, job_id: str, name: str, n: int) -> Iterator[bytes]:
        for seq in range(n):
            with self._read() as con:
                row = self._exec(con, "SELECT data FROM {files} WHERE job_id = ? AND name = ?"
                                      " AND seq = ?", (job_id, name, seq)).fetchone()
            if row is None:  # expired or cancelled meanwhile: the stream just ends
                return
            yield bytes(row[0])

    def read(self, job_id: str, name: str) -> Iterator[bytes]:
        """Result file ``name`` as text, inflated one part at a time."""
        for part in self.parts(job_id, name):
            yield from gunzip_members(part)


def gunzip_members(data: bytes) -> Iterator[bytes]:
    """The text of concatenated gzip members (as :class:`ResultWriter` stores them).

    Examples
    --------
    >>> import gzip
    >>> b"".join(gunzip_members(gzip.compress(b"ab") + gzip.compress(b"c")))
    b'abc'
    """
    while data:
        d = zlib.decompressobj(31)
        yield d.decompress(data)
        data = d.unused_data
