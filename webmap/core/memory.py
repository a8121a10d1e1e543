"""Returning memory to the system: glibc's ``malloc_trim`` and a cap on malloc arenas.

Python hands the memory of freed objects back to the C allocator, and glibc keeps
it: a request that built a few hundred MB of rows leaves the process that much
larger, and with one malloc arena per thread (up to eight per core) each of the
server's threads keeps its own leftovers.  Upload/read/delete cycles of a
million-point layer grew a server from 5.6 to 15.3 GB that way (issue 12).

* :func:`trim` — ``malloc_trim(0)``: give every arena's free pages back.  Called
  after big requests and jobs (:func:`trim_after`), at most every
  :data:`TRIM_INTERVAL_S` seconds (a trim walks the whole heap: a few ms).
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
import threading
import time

#: At most one trim per this many seconds (after big requests).
TRIM_INTERVAL_S = 1.0
_M_ARENA_MAX = -8  # glibc's mallopt parameter
_lock = threading.Lock()
_last = 0.0


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


def trim_after(min_interval_s: float = TRIM_INTERVAL_S) -> bool:
    """:func:`trim`, unless one ran less than ``min_interval_s`` ago; whether it ran."""
    global _last
    now = time.monotonic()
    with _lock:
        if now - _last < min_interval_s:
            return False
        _last = now
    return trim()


def limit_arenas(n: int = 2) -> bool:
    """At most ``n`` malloc arenas for the process (call before starting threads)."""
    if _LIBC is None or not hasattr(_LIBC, "mallopt"):
        return False
    return bool(_LIBC.mallopt(_M_ARENA_MAX, int(n)))
