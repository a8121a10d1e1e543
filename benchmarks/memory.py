"""Server memory in the benchmarks: RSS sampled from /proc, and caps that kill a runaway server.

``VmRSS`` (now) and ``VmHWM`` (the peak so far, kept by the kernel) come from
``/proc/<pid>/status``; a server's figure is its whole process group (waitress
is one process, uvicorn may fork).  :class:`MemoryWatch` samples a server every
few tens of milliseconds, keeps the peak and, above a cap, kills the server's
process group so that a request that would take the machine down (a million
sites posted to today's overlay endpoint) ends as a recorded "killed at N MB"
instead.  A loose ``RLIMIT_AS`` (:func:`limit_address_space`) is the safety net
for allocations faster than the sampling; it is loose because allocator arenas
reserve address space they never touch.

Examples
--------
>>> status_kb(os.getpid(), "VmRSS") > 0
True
"""

from __future__ import annotations

import os
import resource
import signal
import threading
import time
from collections.abc import Callable


def status_kb(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` field in kB (0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def group_pids(pgid: int) -> list[int]:
    """Processes of process group ``pgid`` (a server started in its own session)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.getpgid(int(name)) == pgid:
                    out.append(int(name))
            except (ProcessLookupError, PermissionError):
                continue
    return out


def rss_mb(pid: int, group: bool = True) -> float:
    """Resident memory (MB) of ``pid``, or of its whole process group."""
    pids = group_pids(pid) if group else [pid]
    return sum(status_kb(p, "VmRSS") for p in pids) / 1024


def hwm_mb(pid: int, group: bool = True) -> float:
    """Peak resident memory (MB) the kernel recorded: the largest process's (groups: summed)."""
    pids = group_pids(pid) if group else [pid]
    return sum(status_kb(p, "VmHWM") for p in pids) / 1024


def pss_mb(pids: list[int]) -> float:
    """Proportional set size (MB) of several processes: shared pages counted once.

    PostgreSQL backends all map the shared buffers; their RSS summed would count
    them once per backend.
    """
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total / 1024


def limit_address_space(mb: float) -> Callable[[], None]:
    """A ``preexec_fn`` setting ``RLIMIT_AS`` to ``mb`` megabytes in the child."""
    limit = int(mb * 1024 * 1024)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


class MemoryWatch:
    """Sample a server's resident memory; kill its process group above ``cap_mb``.

    Parameters
    ----------
    pid : int
        The server (leader of its process group).
    cap_mb : float or None
        Resident memory at which the server is killed (None: only measure).
    interval : float
        Seconds between samples.

    Attributes
    ----------
    peak_mb : float
        Largest resident memory seen.
    killed_at_mb : float or None
        Set when the cap killed the server.
    """

    def __init__(self, pid: int, cap_mb: float | None = None, interval: float = 0.02) -> None:
        self.pid = pid
        self.cap_mb = cap_mb
        self.interval = interval
        self.peak_mb = 0.0
        self.killed_at_mb: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self.peak_mb = rss_mb(self.pid, group=False)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)

    def reset(self) -> float:
        """Start a new peak from the current RSS; returns it."""
        self.peak_mb = rss_mb(self.pid, group=False)
        return self.peak_mb

    def _run(self) -> None:
        while not self._stop.is_set():
            now = rss_mb(self.pid, group=False)
            if now == 0:
                return  # gone
            self.peak_mb = max(self.peak_mb, now)
            if self.cap_mb is not None and now > self.cap_mb:
                self.killed_at_mb = now
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return
            time.sleep(self.interval)
