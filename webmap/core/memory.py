"""Returning memory to the system: glibc's ``malloc_trim`` and a cap on malloc arenas.

Python hands the memory of freed objects back to the C allocator, and glibc keeps
it: a request that built a few hundred MB of rows leaves the process that much
larger, and with one malloc arena per thread (up to eight per core) each of the
server's threads keeps its own leftovers.  Upload/read/delete cycles of a
million-point layer grew a server from 5.6 to 15.3 GB that way (issue 12).

* :func:`trim` — ``malloc_trim(0)``: give every arena's free pages back.
* :func:`check` — after every request (:func:`init_app`), a streamed answer and a
  job: when the resident memory grew by more than :data:`GROW_MB` since the last
  trim, a background thread trims (a trim walks the whole heap, a few ms to tens of
  ms, so never on the request's own time), at most every :data:`TRIM_INTERVAL_S`.
* :func:`limit_arenas` — ``mallopt(M_ARENA_MAX, n)``: at most ``n`` arenas, set by the
  serving entry point (:mod:`webmap.core.serving`) before it starts its threads; the
  same as ``MALLOC_ARENA_MAX`` in the environment.

Both do nothing where the C library is not glibc.

Examples
--------
>>> trim() in (True, False)
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time

#: At most one trim per this many seconds (after big requests).
TRIM_INTERVAL_S = 1.0
_M_ARENA_MAX = -8  # glibc's mallopt parameter
_lock = threading.Lock()
_last = 0.0  # when the trimmer last ran (monotonic)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def trim() -> bool:
    """Return the C allocator's free memory to the system; whether it could."""
    if _LIBC is None:
        return False
    _LIBC.malloc_trim(0)
    return True


#: Resident growth (MB) since the last trim that makes the trimmer run.
GROW_MB = 64.0
_wake = threading.Event()
_thread: threading.Thread | None = None
_baseline = 0.0


def rss_mb() -> float:
    """The process's resident memory in MB (0 where /proc is not there).

    Examples
    --------
    >>> rss_mb() >= 0
    True
    """
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * _PAGE / 2**20


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _trimmer() -> None:
    global _baseline, _last
    while True:
        _wake.wait()
        _wake.clear()
        wait = TRIM_INTERVAL_S - (time.monotonic() - _last)
        if wait > 0:
            time.sleep(wait)
        trim()
        _last = time.monotonic()
        _baseline = rss_mb()


def check(grow_mb: float = GROW_MB) -> bool:
    """Ask the trimmer to run if resident memory grew by ``grow_mb`` since the last trim;
    whether it was asked.  Cheap (one read of /proc/self/statm); never blocks."""
    global _thread
    if _LIBC is None:
        return False
    if rss_mb() - _baseline < grow_mb:
        return False
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_trimmer, name="atlas-malloc-trim", daemon=True)
            _thread.start()
    _wake.set()
    return True


def init_app(app: object) -> None:
    """Check the memory after every request of ``app`` (:func:`check`)."""

    def _after(_exc: object = None) -> None:
        check()

    app.teardown_request(_after)  # type: ignore[attr-defined]


def limit_arenas(n: int = 2) -> bool:
    """At most ``n`` malloc arenas for the process (call before starting threads)."""
    if _LIBC is None or not hasattr(_LIBC, "mallopt"):
        return False
    return bool(_LIBC.mallopt(_M_ARENA_MAX, int(n)))
