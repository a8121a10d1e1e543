"""A throwaway PostgreSQL + PostGIS cluster for the tests, and the fixtures built on it.

Nothing is mocked: :class:`PgCluster` runs Debian's own ``initdb`` and ``pg_ctl``
(``make postgis`` installs ``postgresql`` and ``postgresql-15-postgis-3``) on a
temporary directory, listening on 127.0.0.1 on a free port with its Unix socket in
that directory, and removes everything when the session ends, failed or not.  As
root, the server runs as the ``postgres`` user (PostgreSQL refuses to run as root).

Each pytest(-xdist) worker starts its own cluster the first time a test asks for
one, so a run that touches only the GeoPackage never starts PostgreSQL.  Test
databases are copies of template databases (``CREATE DATABASE … TEMPLATE``), so a
fresh store with PostGIS, or with every reference layer loaded, costs a file copy.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import pytest

#: Template database with the PostGIS extension and the atlas schema.
EMPTY_TEMPLATE = "atlas_empty_tpl"
#: Template database with every reference layer loaded.
REF_TEMPLATE = "atlas_ref_tpl"


def find_pg_bin() -> str | None:
    """Directory of ``initdb``/``pg_ctl`` of a PostgreSQL that has PostGIS, newest first.

    ``ATLAS_PG_BIN`` overrides the search.
    """
    if os.environ.get("ATLAS_PG_BIN"):
        return os.environ["ATLAS_PG_BIN"]
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True,
                         key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0):
        major = bindir.split("/")[-2]
        if os.path.exists(os.path.join(bindir, "initdb")) and os.path.exists(
                f"/usr/share/postgresql/{major}/extension/postgis.control"):
            return bindir
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """A private PostgreSQL cluster in a temporary directory.

    Parameters
    ----------
    bindir : str
        Directory holding ``initdb`` and ``pg_ctl``.
    """

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="atlas-pg-")
        self.datadir = os.path.join(self.root, "data")
        self.logfile = os.path.join(self.root, "server.log")
        self.port = 0
        self.running = False
        # As root, initdb and postgres must run as an unprivileged user.
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        cmd = [*self.as_user, os.path.join(self.bindir, args[0]), *args[1:]]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            log = ""
            if os.path.exists(self.logfile):
                with open(self.logfile, encoding="utf-8", errors="replace") as fh:
                    log = fh.read()[-2000:]
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}\n{log}")

    def start(self) -> PgCluster:
        """initdb, then start the server on a free loopback port (one retry on a port race)."""
        self._run("initdb", "-D", self.datadir, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        for attempt in range(2):
            self.port = _free_port()
            # Durability is pointless for a throwaway cluster: no fsync makes it fast.
            opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"
                    " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                    " -c max_connections=200 -c shared_buffers=64MB")
            try:
                self._run("pg_ctl", "-D", self.datadir, "-l", self.logfile, "-w", "-t", "60",
                          "-o", opts, "start")
                break
            except RuntimeError:
                if attempt:
                    raise
        self.running = True
        atexit.register(self.stop)  # also when the session dies outside pytest's teardown
        self.execute("postgres", f"CREATE DATABASE {EMPTY_TEMPLATE}")
        self.execute(EMPTY_TEMPLATE, "CREATE EXTENSION postgis")
        from layers.postgis import PostGISStore

        PostGISStore(self.url(EMPTY_TEMPLATE)).close()  # schema migrated once, copied after
        return self

    def url(self, database: str) -> str:
        """``postgresql://`` URL of ``database`` on this cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, database: str, statement: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as con:
            con.execute(statement)

    def create_database(self, template: str = EMPTY_TEMPLATE, name: str | None = None) -> str:
        """A new database copied from ``template``; returns its URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        # The copy needs the template idle; a just-closed session may linger a moment.
        for attempt in range(50):
            try:
                self.execute("postgres", f'CREATE DATABASE "{name}" TEMPLATE "{template}"'
                             " STRATEGY file_copy")
                break
            except Exception as e:  # ObjectInUse while another session leaves the template
                if "being accessed by other users" not in str(e) or attempt == 49:
                    raise
                time.sleep(0.1)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database of ``url`` even if sessions are still connected."""
        name = url.rsplit("/", 1)[1]
        self.execute("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server at once and delete the cluster."""
        if self.running:
            self.running = False
            try:
                self._run("pg_ctl", "-D", self.datadir, "-m", "immediate", "-w", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A running throwaway PostgreSQL + PostGIS cluster (one per test worker)."""
    bindir = find_pg_bin()
    if bindir is None:
        pytest.fail("PostgreSQL with PostGIS is missing: `make postgis` (or `make test`) "
                    "installs Debian's postgresql and postgresql-15-postgis-3")
    cluster = PgCluster(bindir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_ref_template(pg_cluster) -> str:
    """Name of a template database holding every reference layer (loaded once)."""
    from layers.postgis import PostGISStore
    from layers.prepare import prepare_store

    url = pg_cluster.create_database(name=REF_TEMPLATE)
    store = PostGISStore(url)
    prepare_store(store)
    store.close()
    return REF_TEMPLATE


@pytest.fixture(scope="session")
def pg_ref_url(pg_cluster, pg_ref_template) -> str:
    """URL of a database with every reference layer, shared by read-only tests."""
    return pg_cluster.create_database(pg_ref_template, name="atlas_ref")


@pytest.fixture()
def pg_store_url(pg_cluster, pg_ref_template) -> Iterator[str]:
    """URL of a private copy of the reference database, for a test that writes."""
    url = pg_cluster.create_database(pg_ref_template)
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture()
def pg_empty_url(pg_cluster) -> Iterator[str]:
    """URL of a private database with PostGIS and the atlas schema but no layer."""
    url = pg_cluster.create_database(EMPTY_TEMPLATE)
    yield url
    pg_cluster.drop_database(url)


# -- choosing the backend ------------------------------------------------------------------
#: ``ATLAS_TEST_BACKEND=postgis`` moves the shared app/store fixtures of conftest.py
#: (``ref_store_path``, ``store_path`` and so ``app``, ``client``, ``make_app``,
#: ``live_server``) onto PostGIS: their "path" is then a ``postgresql://`` URL, which
#: :func:`layers.store.open_store` and ``create_app`` accept like a path.
TEST_BACKEND = os.environ.get("ATLAS_TEST_BACKEND", "gpkg").strip().lower() or "gpkg"
BACKENDS = ("gpkg", "postgis")
if TEST_BACKEND not in BACKENDS:
    raise RuntimeError(f"ATLAS_TEST_BACKEND must be one of {BACKENDS}, not {TEST_BACKEND!r}")


@pytest.fixture(scope="session")
def gpkg_ref_path(tmp_path_factory, request) -> str:
    """A GeoPackage with every reference layer, whatever ATLAS_TEST_BACKEND says."""
    from layers.gpkg import GeoPackageStore
    from layers.prepare import prepare_store

    if TEST_BACKEND == "gpkg":
        return request.getfixturevalue("ref_store_path")
    path = str(tmp_path_factory.mktemp("gpkg_ref") / "atlas.gpkg")
    prepare_store(GeoPackageStore(path))
    return path


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Each store backend in turn: ``"gpkg"`` then ``"postgis"``."""
    return request.param


@pytest.fixture()
def backend_store_url(backend, request, tmp_path) -> str:
    """An empty, private, writable store of ``backend`` (a path or a URL)."""
    if backend == "postgis":
        return request.getfixturevalue("pg_empty_url")
    return str(tmp_path / "atlas.gpkg")


@pytest.fixture()
def backend_ref_url(backend, request) -> str:
    """The shared read-only reference store of ``backend`` (a path or a URL)."""
    if backend == "postgis":
        return request.getfixturevalue("pg_ref_url")
    return request.getfixturevalue("gpkg_ref_path")


@pytest.fixture(scope="session", params=BACKENDS)
def any_app(request):
    """The app on the reference store of each backend in turn (read-only tests)."""
    from webmap import create_app

    url = request.getfixturevalue("pg_ref_url" if request.param == "postgis"
                                  else "gpkg_ref_path")
    app = create_app({"ATLAS_STORE": url, "TESTING": True})
    app.config["ATLAS_TEST_BACKEND"] = request.param
    return app


@pytest.fixture()
def any_client(any_app):
    """Flask test client of :func:`any_app` (each backend in turn)."""
    return any_app.test_client()
