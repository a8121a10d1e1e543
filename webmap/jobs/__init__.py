"""The runner: worker threads of an app server that execute the store's queued jobs.

Jobs live in the store (:mod:`layers.jobs`); every app server of a store has one
:class:`JobRunner` with ``ATLAS_JOB_WORKERS`` worker threads (default 1; 0: this app
server only queues jobs and serves their results).  A worker claims the oldest queued
job of the whole store, runs its kind's handler (:data:`HANDLERS`, one module per
kind: :mod:`webmap.jobs.overlay`), reports progress (which doubles as a heartbeat and
as the check for a cancel), writes result files into the store and marks the job done
— or failed with the error body a person gets for the same mistake through the
synchronous API.

Threads, not a process pool: a job's memory is bounded by its chunks (a million-site
overlay is read, overlaid and written a chunk at a time), the heavy steps are NumPy,
shapely and pyproj calls that release the GIL, and a thread shares the app server's
warm reference layers instead of loading them again.

The runner starts on the first job request this app server sees (submit or poll),
never at import or in ``create_app``: tests and commands that build apps start no
threads.  A housekeeping thread refreshes the heartbeat of the running jobs, marks
interrupted ones failed (:func:`layers.jobs.interrupted`: a runner of this host
that is gone — the server was restarted — or a heartbeat older than two minutes)
and removes jobs past ``ATLAS_JOB_KEEP_HOURS``.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from geo.errors import MESSAGES, ExplainedError
from layers.errors import JobNotFound, StoreError, StoreReadOnly
from layers.jobs import (
    Job,
    ResultWriter,
    interrupted,
    local_runner_alive,
    register_runner,
    runner_id,
)
from layers.store import Store

from ..core.memory import check

log = logging.getLogger("webmap.jobs")

#: Job kind → ``module:function`` of its handler, ``run(job, context) -> results``.
HANDLERS: dict[str, str] = {"overlay": "webmap.jobs.overlay:run"}
#: Seconds between housekeeping rounds (heartbeat, interrupted jobs, expiry).
HOUSEKEEPING_S = 15.0
#: Seconds an idle worker waits before looking for queued jobs again (other app servers'
#: submissions; its own wake it at once).
POLL_S = 2.0


class Cancelled(Exception):
    """The job was cancelled or taken from this runner: stop quietly."""


@dataclass
class JobContext:
    """What a handler gets besides its job: the store, the settings, and the runner's hooks.

    Attributes
    ----------
    store : Store
    settings : Settings
    owner : str
        This runner's id (the job's owner in the store).
    """

    store: Store
    settings: Any
    owner: str
    job: Job

    def input(self) -> bytes:
        """The job's uploaded input."""
        return self.store.jobs().read_input(self.job.id)

    def progress(self, value: float) -> None:
        """Report progress 0–1; raises :class:`Cancelled` when the job is no longer ours."""
        if not self.store.jobs().progress(self.job.id, self.owner, value):
            raise Cancelled(self.job.id)

    def result_file(self, name: str, media_type: str, filename: str) -> ResultWriter:
        """A result file of the job, written into the store part by part."""
        return self.store.jobs().result_file(self.job.id, self.owner, name, media_type,
                                             filename)


def error_body(error: BaseException) -> dict[str, Any]:
    """The house error body of what stopped a job (``internal_error`` for a bug)."""
    if isinstance(error, ExplainedError):
        status = getattr(error, "status", None) or 422
        return {"error": error.message, "error_zh": error.message_zh, "code": error.code,
                "status": status, "hint": error.hint, "hint_zh": error.hint_zh}
    zh, en = MESSAGES["internal_error"]
    return {"error": en, "error_zh": zh, "code": "internal_error", "status": 500,
            "hint": "submit it again later; the server log has the details",
            "hint_zh": "请稍后重新提交；服务器日志里有详细信息"}


def _handler(kind: str) -> Callable[[Job, JobContext], Mapping[str, Any]]:
    module, _, name = HANDLERS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


class JobRunner:
    """The worker threads of one app server (see the module docstring).

    Parameters
    ----------
    store : Store
    settings : Settings
        ``job_workers``, ``job_keep_hours`` and whatever the handlers read.
    """

    def __init__(self, store: Store, settings: Any) -> None:
        self.store = store
        self.settings = settings
        self.owner = runner_id()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def started(self) -> bool:
        return bool(self._threads)

    def ensure_started(self) -> None:
        """Start the workers and the housekeeping thread (once)."""
        with self._lock:
            if self._threads or self._stop.is_set():
                return
            register_runner(self.owner)
            self.recover()
            n = int(self.settings.job_workers)
            for i in range(n):
                t = threading.Thread(target=self._work, name=f"atlas-job-{i}", daemon=True)
                t.start()
                self._threads.append(t)
            t = threading.Thread(target=self._housekeeping, name="atlas-jobs-housekeeping",
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def wake(self) -> None:
        """A job was queued: let an idle worker look now."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the threads (a running job stops at its next progress report)."""
        self._stop.set()
        self._wake.set()
        register_runner(self.owner, running=False)
        for t in self._threads:
            t.join(timeout)

    # -- what other app servers left behind ------------------------------------------------
    def alive(self, owner: str) -> bool:
        """Whether the runner ``owner`` may still be running its jobs."""
        return local_runner_alive(owner)

    def check(self, job: Job) -> Job:
        """``job``, marked failed first if it lost its runner (any app server may do it)."""
        if interrupted(job, time.time(), self.alive):
            self._fail_interrupted(job)
            try:
                return self.store.jobs().get(job.id)
            except JobNotFound:
                return job
        return job

    def recover(self) -> int:
        """Mark every running job that lost its runner failed; how many."""
        n = 0
        try:
            running = self.store.jobs().list("running")
        except StoreError:
            return 0
        now = time.time()
        for job in running:
            if interrupted(job, now, self.alive):
                n += self._fail_interrupted(job)
        return n

    def _fail_interrupted(self, job: Job) -> int:
        zh, en = MESSAGES["job_failed"]
        body = {"error": f"{en} Its app server stopped while running it (restarted or failed).",
                "error_zh": zh + "运行它的服务器中途停止了（重启或故障）。", "code": "job_failed",
                "status": 500, "hint": "submit it again",
                "hint_zh": "请重新提交"}
        ok = self.store.jobs().fail(job.id, body, owner=job.owner,
                                    keep_hours=self.settings.job_keep_hours)
        if ok:
            log.warning("job %s was interrupted (runner %s gone): marked failed", job.id,
                        job.owner)
        return int(ok)

    # -- the threads ------------------------------------------------------------------------
    def _housekeeping(self) -> None:
        last_expire = 0.0
        while not self._stop.wait(HOUSEKEEPING_S):
            try:
                jobs = self.store.jobs()
                jobs.heartbeat(self.owner)
                self.recover()
                if time.time() - last_expire > 600:
                    jobs.expire()
                    last_expire = time.time()
            except StoreReadOnly:  # writes paused (full disk …): /healthz says why
                pass
            except Exception:  # keep the thread alive through a database hiccup
                log.exception("job housekeeping failed")

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.store.jobs().claim(self.owner)
            except StoreReadOnly:  # writes paused: no job can run until they resume
                job = None
            except Exception:
                log.exception("could not look for queued jobs")
                job = None
            if job is None:
                self._wake.wait(POLL_S)
                self._wake.clear()
                continue
            self.run(job)

    def run(self, job: Job) -> None:
        """Run one claimed job to its end (done, failed, or stopped when cancelled)."""
        jobs = self.store.jobs()
        ctx = JobContext(self.store, self.settings, self.owner, job)
        try:
            results = _handler(job.kind)(job, ctx)
            jobs.finish(job.id, self.owner, results, keep_hours=self.settings.job_keep_hours)
            log.info("job %s (%s) done", job.id, job.kind)
        except (Cancelled, JobNotFound):
            log.info("job %s stopped: cancelled or taken over", job.id)
        except Exception as e:  # noqa: BLE001 - every failure becomes the job's error
            if not isinstance(e, ExplainedError):
                log.exception("job %s (%s) failed", job.id, job.kind)
            try:
                jobs.fail(job.id, error_body(e), owner=self.owner,
                          keep_hours=self.settings.job_keep_hours)
            except Exception:
                log.exception("could not record the failure of job %s", job.id)
        finally:
            release_memory()


def release_memory() -> None:
    """Give freed heap back to the system after a job (glibc's malloc_trim, in the
    background: :func:`webmap.core.memory.check`).

    Python frees a million-row chunk's objects to the C allocator, which keeps the
    pages; trimming returns them, so the app server's resident memory comes back down.
    """
    check()
