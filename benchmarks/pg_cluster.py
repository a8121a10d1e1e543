"""The benchmark's throwaway PostgreSQL: the tests' cluster with settings sized for 10M rows.

:class:`tests.pg.PgCluster` runs with 64 MB of shared buffers, enough for the
tests; the benchmark's cluster gets sane values for a table of ten million rows
on a shared 2-core machine, and bounded memory: shared buffers 256 MB (the OS
page cache holds the rest of the ~1.5 GB table), ``work_mem`` 16 MB per sort,
256 MB for index builds, JIT off (it costs tens of ms on queries that take a
few), SSD page costs.  Durability is off as in the tests (a throwaway cluster).
"""

from __future__ import annotations

import atexit

from tests.pg import EMPTY_TEMPLATE, PgCluster, _free_port

SETTINGS = {
    "shared_buffers": "256MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "effective_cache_size": "2GB",
    "random_page_cost": "1.1",
    "jit": "off",
    "max_connections": "200",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "30min",
}


class BenchCluster(PgCluster):
    """A :class:`tests.pg.PgCluster` started with :data:`SETTINGS`."""

    def start(self) -> BenchCluster:
        self._run("initdb", "-D", self.datadir, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        for attempt in range(2):
            self.port = _free_port()
            opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                    + " ".join(f"-c {k}={v}" for k, v in SETTINGS.items()))
            try:
                self._run("pg_ctl", "-D", self.datadir, "-l", self.logfile, "-w", "-t", "60",
                          "-o", opts, "start")
                break
            except RuntimeError:
                if attempt:
                    raise
        self.running = True
        atexit.register(self.stop)
        self.execute("postgres", f"CREATE DATABASE {EMPTY_TEMPLATE}")
        self.execute(EMPTY_TEMPLATE, "CREATE EXTENSION postgis")
        from layers.postgis import PostGISStore

        PostGISStore(self.url(EMPTY_TEMPLATE)).close()
        return self

    def server_pids(self) -> list[int]:
        """The postmaster and its children (backends, background workers)."""
        import os

        try:
            with open(os.path.join(self.datadir, "postmaster.pid")) as fh:
                master = int(fh.readline())
        except (OSError, ValueError):
            return []
        pids = [master]
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/stat") as fh:
                        ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                if ppid == master:
                    pids.append(int(name))
        return pids
