"""A store's disk filled for real: what SQLite and PostgreSQL raise, and how to still read.

The filesystems are small tmpfs mounts made for the test (root only; skipped
otherwise) and removed after it; the SQLite cases that need no mount use
``PRAGMA max_page_count``.  Free space is checked against ``df``, the errors
against the stores' own behaviour: nothing is simulated.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.diskspace import (
    LOW_SPACE_BYTES,
    connect_for_reading,
    disk_space,
    error_kind,
    sqlite_header,
    to_store_error,
)
from layers.errors import StoreFull, StoreReadOnly
from layers.gpkg import GeoPackageStore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: About the GeoPackage file and the test machine's disks, not the app's store: run once,
#: in the first pass of make test (the PostgreSQL test below starts its own cluster).
pytestmark = pytest.mark.gpkg_only


@contextmanager
def tmpfs(size: str, owner: str | None = None) -> Iterator[str]:
    """A tmpfs of ``size`` (e.g. ``"1m"``) mounted on a fresh directory, unmounted after."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small filesystem needs root")
    d = tempfile.mkdtemp(prefix="atlas-smallfs-")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", d],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        os.rmdir(d)
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        if owner:
            shutil.chown(d, owner, owner)
        yield d
    finally:
        if subprocess.run(["umount", d], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", d], capture_output=True, check=False)
        os.rmdir(d)


def _remount(d: str, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", d], check=True)


def fill(d: str) -> OSError:
    """Write a file in ``d`` until the filesystem refuses; return the refusal."""
    fd = os.open(os.path.join(d, "filler"), os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as e:
        while True:  # the last partial block
            try:
                os.write(fd, b"\0" * 512)
            except OSError:
                return e
    finally:
        os.close(fd)


def _df(d: str, field: str) -> int:
    out = subprocess.run(["df", "-B1", f"--output={field}", d], capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[-1])


def _layer(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    return gpd.GeoDataFrame(
        {"note": [f"{'草原' * 40}{i}" for i in range(n)], "value": rng.uniform(0, 1, n)},
        geometry=shapely.points(rng.uniform(115, 118, n), rng.uniform(42, 45, n)), crs=4326)


def _closed(store: GeoPackageStore) -> None:
    """Close the reading connection ``store`` keeps for this thread (its writes close
    their own): a clean shutdown, after which SQLite has removed -wal and -shm."""
    con = getattr(store._local, "con", None)
    if con is not None:
        con.close()
        store._local.con = None
    gc.collect()


# -- free space -----------------------------------------------------------------------------
def test_free_space_is_what_df_reports():
    with tmpfs("1m") as d:
        assert disk_space(d).free_bytes == _df(d, "avail")
        assert disk_space(d).total_bytes == _df(d, "size")
        with open(os.path.join(d, "quarter"), "wb") as fh:
            fh.write(b"\1" * 256 * 1024)
        assert disk_space(os.path.join(d, "later", "a.gpkg")).free_bytes == _df(d, "avail")
        assert _df(d, "avail") <= 1024 * 1024 - 256 * 1024
        assert not disk_space(d).read_only
        _remount(d, "ro")
        assert disk_space(d).read_only


def test_os_errors_of_a_full_and_a_read_only_filesystem():
    with tmpfs("256k") as d:
        refused = fill(d)
        assert error_kind(refused) == "full" and disk_space(d).free_bytes == 0
        os.remove(os.path.join(d, "filler"))
        _remount(d, "ro")
        with pytest.raises(OSError) as info:
            open(os.path.join(d, "new"), "wb")  # noqa: SIM115
        assert error_kind(info.value) == "readonly"


# -- SQLite ---------------------------------------------------------------------------------
def test_max_page_count_full_is_found_under_the_rollback_error(tmp_path):
    """The GeoPackage store's write pattern: SQLite rolls back on SQLITE_FULL, so the
    caller's ROLLBACK fails and hides it; the classification still finds it."""
    con = sqlite3.connect(tmp_path / "small.gpkg", isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("CREATE TABLE t (x BLOB)")
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.execute(f"PRAGMA max_page_count = {pages + 4}")
    with pytest.raises(sqlite3.Error) as info:
        con.execute("BEGIN IMMEDIATE")
        try:
            for _ in range(20):
                con.execute("INSERT INTO t VALUES (randomblob(4000))")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")  # what layers/gpkg.py does today
            raise
    raised = info.value
    assert "cannot rollback" in str(raised)  # the mask
    assert raised.__context__.sqlite_errorname == "SQLITE_FULL"
    assert error_kind(raised) == "full"
    assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)  # nothing half-written


def test_read_only_connection(tmp_path):
    path = tmp_path / "ro.gpkg"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    with pytest.raises(sqlite3.Error) as info:
        con.execute("INSERT INTO t VALUES (1)")
    assert error_kind(info.value) == "readonly"
    err = to_store_error(info.value, str(path), path)
    assert isinstance(err, StoreReadOnly) and err.code == "store_read_only"
    assert err.retry_after > 0 and not err.full


def test_geopackage_filled_by_writes_then_grown(tmp_path):
    """Writes until the store's own disk is full: the error says so, earlier layers stay
    whole, reads go on, and writing works again once the filesystem has room."""
    with tmpfs("2m") as d:
        path = os.path.join(d, "atlas.gpkg")
        store = GeoPackageStore(path)
        first = _layer(50)
        store.put("first", first)
        before = store.get("first").copy()
        failure = None
        for i in range(200):
            try:
                store.put(f"more{i}", _layer(400, seed=i))
            except StoreFull as e:
                failure = e
                break
        assert failure is not None, "2 MB should not hold 200 layers"
        saved = i
        # SQLite's own error is kept as the cause, not masked by a failed ROLLBACK
        assert isinstance(failure.__cause__, sqlite3.Error)
        assert failure.__cause__.sqlite_errorname == "SQLITE_FULL"
        assert error_kind(failure, path) == "full" and failure.code == "store_full"
        err = failure
        assert err.free_bytes is not None and err.free_bytes < LOW_SPACE_BYTES
        assert "ATLAS_STORE" in err.hint and "磁盘" in err.message_zh
        # nothing acknowledged was lost, the failed layer left nothing behind
        names = {info.name for info in store.list_layers()}
        assert names == {"first", *(f"more{k}" for k in range(saved))}
        assert store.check() == []
        with sqlite3.connect(path) as other:  # another reader sees the same registry
            assert other.execute("SELECT feature_count FROM atlas_layers WHERE name = 'first'"
                                 ).fetchone() == (len(first),)
        other.close()
        pd_equal = store.get("first").drop(columns="geometry").equals(
            before.drop(columns="geometry"))
        assert pd_equal and store.get("first").geometry.equals(before.geometry)
        # room again: the same store object writes (no restart)
        _remount(d, "size=8m")
        store.put(f"more{saved}", _layer(400, seed=saved))
        assert store.info(f"more{saved}").count == 400
        _closed(store)


def test_full_disk_at_start_still_reads(tmp_path):
    """The restart case: a cleanly closed store, then the disk fills up.  A plain open
    cannot even read (no -shm can be made); connect_for_reading can."""
    with tmpfs("1m") as d:
        path = os.path.join(d, "atlas.gpkg")
        store = GeoPackageStore(path)
        for name in ("alpha", "beta"):
            store.put(name, _layer(20))
        _closed(store)
        assert sorted(os.listdir(d)) == ["atlas.gpkg"]  # clean: no -wal, no -shm
        fill(d)
        header = sqlite_header(path)
        assert header is not None and header.geopackage and header.wal  # no DDL needed
        with pytest.raises(sqlite3.Error) as info:
            con = sqlite3.connect(path)
            try:
                con.execute("SELECT name FROM atlas_layers").fetchall()
            finally:
                con.close()
        assert info.value.sqlite_errorname == "SQLITE_IOERR_SHMSIZE"
        assert error_kind(info.value, path) == "full"
        con, how = connect_for_reading(path)
        try:
            assert how == "immutable"
            rows = con.execute("SELECT name, feature_count FROM atlas_layers ORDER BY name")
            assert rows.fetchall() == [("alpha", 20), ("beta", 20)]
            with pytest.raises(sqlite3.Error) as write:
                con.execute("DELETE FROM atlas_layers")
            assert error_kind(write.value, path) == "readonly"
        finally:
            con.close()


def test_full_disk_with_commits_in_a_wal_and_no_shm(tmp_path):
    """A store copied without its -shm (or whose -shm went away) on a full disk: the
    commits in the -wal must be read, so only the exclusive, heap-indexed way works."""
    with tmpfs("2m") as d:
        path = os.path.join(d, "atlas.gpkg")
        store = GeoPackageStore(path)
        store.put("alpha", _layer(20))
        _closed(store)
        _crash_after_write(path, "beta")
        assert os.path.getsize(path + "-wal") > 0
        os.remove(path + "-shm")
        fill(d)
        con, how = connect_for_reading(path)
        try:
            assert how == "exclusive"
            names = [n for (n,) in con.execute("SELECT name FROM atlas_layers ORDER BY name")]
            assert names == ["alpha", "beta"]  # beta lives only in the -wal
        finally:
            con.close()


def _crash_after_write(path: str, name: str) -> None:
    """A child process writes a layer and is killed: its commit stays in the -wal file.

    As in the server, a reading connection is open during the write, so closing
    the writer's connection does not checkpoint the -wal into the file.
    """
    code = (
        "import os, signal, sys\n"
        f"sys.path.insert(0, {ROOT!r})\n"
        "import geopandas as gpd, shapely\n"
        "from layers.gpkg import GeoPackageStore\n"
        f"s = GeoPackageStore({path!r})\n"
        "s.list_layers()\n"
        f"s.put({name!r}, gpd.GeoDataFrame(geometry=[shapely.Point(116, 44)], crs=4326))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    subprocess.run([sys.executable, "-c", code], check=False, timeout=120)


def test_read_only_filesystem_still_reads(tmp_path):
    with tmpfs("4m") as d:
        path = os.path.join(d, "atlas.gpkg")
        store = GeoPackageStore(path)
        store.put("alpha", _layer(10))
        _closed(store)
        _remount(d, "ro")
        with pytest.raises(sqlite3.Error) as info:
            con = sqlite3.connect(path)
            try:
                con.execute("SELECT count(*) FROM atlas_layers").fetchone()
            finally:
                con.close()
        assert error_kind(info.value, path) == "readonly"
        con, how = connect_for_reading(path)
        assert how == "immutable"  # no -wal: nothing an immutable reader could miss
        assert con.execute("SELECT name FROM atlas_layers").fetchall() == [("alpha",)]
        con.close()
        # after a crash the last commit lives in the -wal file: it must still be seen
        _remount(d, "rw")
        _crash_after_write(path, "beta")
        assert os.path.getsize(path + "-wal") > 0
        _remount(d, "ro")
        con, how = connect_for_reading(path)
        try:
            assert how != "immutable"
            names = [n for (n,) in con.execute("SELECT name FROM atlas_layers ORDER BY name")]
            assert names == ["alpha", "beta"]
        finally:
            con.close()


# -- the GeoPackage store on a disk it cannot write -----------------------------------------
def _names(store: GeoPackageStore) -> list[str]:
    return sorted(i.name for i in store.list_layers())


def _same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> bool:
    return a.drop(columns="geometry").equals(b.drop(columns="geometry")) and \
        bool(a.geometry.geom_equals_exact(b.geometry, 0).all())


def test_store_opened_on_a_full_disk_reads_then_writes_once_space_is_freed():
    """The restart case through the store: a clean shutdown, the disk fills, the store is
    opened again.  It reads (another thread too), refuses writes without trying, and
    writes again once space is freed, with no reopening by the caller."""
    with tmpfs("2m") as d:
        path = os.path.join(d, "atlas.gpkg")
        store = GeoPackageStore(path)
        store.put("alpha", _layer(20))
        store.put("beta", _layer(30, seed=1))
        before = store.get("alpha").copy()
        _closed(store)
        fill(d)
        reopened = GeoPackageStore(path, min_free_mb=0.25)
        status = reopened.status()
        assert not status.writable and status.free_bytes < LOW_SPACE_BYTES
        assert "full" in status.reason and "磁盘" in status.reason_zh
        other = ThreadPoolExecutor(1)  # one more thread, keeping its own connection
        assert other.submit(_names, reopened).result() == ["alpha", "beta"] == _names(reopened)
        assert _same(reopened.get("alpha"), before) and reopened.check() == []
        with pytest.raises(StoreReadOnly) as refused:
            reopened.put("gamma", _layer(5))
        assert refused.value.full and "ATLAS_STORE" in refused.value.hint
        assert refused.value.code == "store_read_only" and refused.value.retry_after > 0
        os.remove(os.path.join(d, "filler"))
        assert reopened.status().writable  # no restart
        assert reopened.put("gamma", _layer(5)).count == 5
        assert other.submit(_names, reopened).result() == ["alpha", "beta", "gamma"]
        assert _same(reopened.get("alpha"), before) and reopened.check() == []
        other.shutdown()
        reopened.close()
        _closed(reopened)


def test_store_on_a_read_only_filesystem_reads_then_writes_once_remounted():
    with tmpfs("4m") as d:
        path = os.path.join(d, "atlas.gpkg")
        store = GeoPackageStore(path)
        store.put("alpha", _layer(10))
        _closed(store)
        _remount(d, "ro")
        reopened = GeoPackageStore(path)
        status = reopened.status()
        assert not status.writable and "read-only" in status.reason
        assert _names(reopened) == ["alpha"]
        with pytest.raises(StoreReadOnly) as refused:
            reopened.delete("alpha")
        assert not refused.value.full and "remount" in refused.value.hint
        _remount(d, "rw")
        assert reopened.status().writable
        reopened.put("beta", _layer(3))
        assert _names(reopened) == ["alpha", "beta"]
        reopened.close()
        _closed(reopened)


def test_store_with_commits_in_a_wal_and_no_shm_on_a_full_disk():
    """Only the exclusive, heap-indexed way reads such a file: the store shares that one
    connection between threads, and lets go of it when space is back."""
    with tmpfs("2m") as d:
        path = os.path.join(d, "atlas.gpkg")
        store = GeoPackageStore(path)
        store.put("alpha", _layer(20))
        _closed(store)
        _crash_after_write(path, "beta")
        os.remove(path + "-shm")
        fill(d)
        reopened = GeoPackageStore(path)
        with ThreadPoolExecutor(4) as pool:
            seen = list(pool.map(lambda _: _names(reopened), range(8)))
        assert seen == [["alpha", "beta"]] * 8  # beta lives only in the -wal
        assert reopened.get("beta").shape[0] == 1 and not reopened.status().writable
        with pytest.raises(StoreReadOnly):
            reopened.put("gamma", _layer(2))
        os.remove(os.path.join(d, "filler"))
        reopened.put("gamma", _layer(2))
        assert _names(reopened) == ["alpha", "beta", "gamma"] and reopened.check() == []
        reopened.close()
        _closed(reopened)


def test_jobs_on_a_full_disk_answer_507_then_wait_for_space():
    """Jobs live in the store's file: a submission that does not fit is StoreFull (507)
    with nothing of it kept, not SQLite's rollback error; while writes are paused, new
    jobs are refused at once (503, over HTTP too) and the stored ones still read; jobs
    resume with the space."""
    import io

    from webmap import create_app

    with tmpfs("2m") as d:
        path = os.path.join(d, "atlas.gpkg")
        store = GeoPackageStore(path)
        store.put("alpha", _layer(20))
        jobs = store.jobs()
        first = jobs.submit("overlay", {}, "127.0.0.1", "sites.csv", b"lon,lat\n116.1,44.0\n")
        fill(d)
        rng = np.random.default_rng(0)
        big = rng.integers(0, 256, 2**20, dtype=np.uint8).tobytes()  # does not compress
        with pytest.raises(StoreFull) as full:
            jobs.submit("overlay", {}, "127.0.0.1", "sites.csv", big)
        assert full.value.code == "store_full" and "ATLAS_STORE" in full.value.hint
        assert error_kind(full.value.__cause__, path) == "full"
        assert [j.id for j in jobs.list()] == [first.id]  # reads go on; nothing kept
        # this thread had no reading connection yet, and SQLite cannot open a normal one
        # now: the store reads another way, layers too, from any thread
        with ThreadPoolExecutor(1) as other:
            assert other.submit(_names, store).result() == ["alpha"]
        assert not store.status().writable
        # a server with space kept in reserve: writes paused, new jobs refused without a
        # wait, the jobs there are read as layers are
        paused = GeoPackageStore(path, min_free_mb=0.25)
        assert paused.jobs().get(first.id).status == "queued"
        with pytest.raises(StoreReadOnly) as refused:
            paused.jobs().submit("overlay", {}, "127.0.0.1", "sites.csv", b"lon,lat\n")
        assert refused.value.full and refused.value.code == "store_read_only"
        app = create_app({"ATLAS_STORE": path, "ATLAS_MIN_FREE_MB": "0.25", "TESTING": True})
        try:
            resp = app.test_client().post(
                "/api/jobs/overlay", content_type="multipart/form-data",
                data={"file": (io.BytesIO(b"lon,lat\n116.1,44.0\n"), "sites.csv")})
            assert resp.status_code == 503 and int(resp.headers["Retry-After"]) > 0
            assert resp.get_json()["code"] == "store_read_only"
            os.remove(os.path.join(d, "filler"))
            # no restart
            assert paused.jobs().submit("overlay", {}, "127.0.0.2", "s.csv", b"x").status == "queued"
            assert jobs.submit("overlay", {}, "127.0.0.3", "sites.csv", big).status == "queued"
        finally:
            app.extensions["atlas_job_runner"].stop()
            for s in (store, paused, app.extensions["atlas_store"]):
                s.close()
                _closed(s)


# -- through the server -------------------------------------------------------------------
def _upload(n: int, seed: int = 0) -> bytes:
    """A GeoJSON upload of ``n`` points, each with a long Chinese note (bulk for the store)."""
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(115, 118, n), rng.uniform(42, 45, n)
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"note": f"{'草原' * 40}{i}", "k": i},
         "geometry": {"type": "Point", "coordinates": [float(x), float(y)]}}
        for i, (x, y) in enumerate(zip(lon, lat, strict=True))]}, ensure_ascii=False).encode()


def _leave_free(d: str, keep: int) -> None:
    """Fill ``d`` with a file until about ``keep`` bytes are left."""
    with open(os.path.join(d, "filler"), "ab") as fh:
        fh.write(b"\0" * max(0, disk_space(d).free_bytes - keep))


def test_a_full_disk_through_the_server(ref_store_path, token):
    """Issue 13: the write that fills the disk answers 507 with a hint, later writes 503
    with Retry-After, reads go on unchanged, a restart on the full disk serves reads, and
    writes work again once space is freed — without a restart."""
    import hashlib

    from tests.servers import request, served

    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/geo+json"}

    def health(port):
        status, headers, body = request(port, "GET", "/healthz")
        assert status == 200 and headers["cache-control"] == "no-store"
        return json.loads(body)

    def reads(port):
        """What a reader gets: every layer's features (hashed), the list, the page."""
        out = {}
        for layer in ("early", "admin", "projects"):
            status, _, body = request(port, "GET", f"/api/layers/{layer}/features?zoom=8")
            assert status == 200
            out[layer] = hashlib.sha256(body).hexdigest()
        status, _, body = request(port, "GET", "/api/layers")
        out["layers"] = sorted(lyr["id"] for lyr in json.loads(body)["layers"])
        assert request(port, "GET", "/")[0] == 200
        return out

    with tmpfs("8m") as d:
        path = os.path.join(d, "atlas.gpkg")
        shutil.copy(ref_store_path, path)
        env = {"ATLAS_WRITE_TOKEN": token, "ATLAS_MIN_FREE_MB": "1"}
        with served(path, **env) as port:
            assert request(port, "PUT", "/api/layers/early", _upload(50), auth)[0] == 201
            assert health(port)["writable"]
            before = reads(port)
            # 2 MB left, above the 1 MB kept free: the write is tried, and does not fit
            _leave_free(d, 2 * 2**20)
            status, _, body = request(port, "PUT", "/api/layers/big", _upload(20_000), auth)
            err = json.loads(body)
            assert status == 507 and err["status"] == 507 and err["code"] == "store_full"
            assert "ATLAS_STORE" in err["hint"] and "磁盘" in err["error_zh"]
            fill(d)
            h = health(port)
            assert (h["status"], h["writable"]) == ("degraded", False)
            assert h["free_bytes"] < 2**20 and "ATLAS_MIN_FREE_MB" in h["reason"]
            status, headers, body = request(port, "PUT", "/api/layers/small", _upload(3), auth)
            assert status == 503 and int(headers["retry-after"]) > 0
            assert json.loads(body)["code"] == "store_read_only"
            assert reads(port) == before  # earlier layers identical, the failed one absent
        with served(path, **env) as port:  # a restart on the full disk
            assert not health(port)["writable"]
            assert reads(port) == before
            assert request(port, "PUT", "/api/layers/small", _upload(3), auth)[0] == 503
            os.remove(os.path.join(d, "filler"))
            assert health(port)["writable"]  # no restart
            status, _, body = request(port, "PUT", "/api/layers/small", _upload(3), auth)
            assert status == 201 and json.loads(body)["count"] == 3
            assert reads(port) == before | {"layers": sorted([*before["layers"], "small"])}
        store = GeoPackageStore(path)
        assert store.check() == [] and "big" not in _names(store)
        store.close()
        _closed(store)


# -- PostgreSQL -----------------------------------------------------------------------------
@pytest.mark.slow
def test_postgres_disk_full_is_sqlstate_53100(pg_cluster, pg_empty_url):
    """A tablespace on a 1 MB filesystem: the insert that does not fit gets disk_full."""
    import psycopg

    with tmpfs("1m", owner="postgres") as d:
        space = f"tiny_{os.getpid()}"
        with psycopg.connect(pg_empty_url, autocommit=True) as con:
            con.execute(f"CREATE TABLESPACE {space} LOCATION '{d}'")
            try:
                con.execute(f"CREATE TABLE filler (n bigint, s text) TABLESPACE {space}")
                with pytest.raises(psycopg.Error) as info:
                    con.execute("INSERT INTO filler SELECT g, md5(g::text)"
                                " FROM generate_series(1, 200000) g")
                con.execute("DROP TABLE filler")
            finally:
                con.execute(f"DROP TABLESPACE IF EXISTS {space}")
        e = info.value
        assert isinstance(e, psycopg.errors.DiskFull) and e.sqlstate == "53100"
        assert "No space left on device" in str(e)
        assert error_kind(e) == "full"
        err = to_store_error(e, "postgresql://127.0.0.1:5432/atlas")
        assert isinstance(err, StoreFull) and err.free_bytes is None
        assert "database server" in err.hint


@pytest.mark.slow
def test_postgis_store_on_a_full_disk_raises_store_full(pg_cluster, pg_empty_url):
    """New version tables go to a tablespace on a 1 MB filesystem: a layer that does not fit
    is StoreFull (507) with the database's hint, earlier layers stay whole, nothing is left."""
    import psycopg

    from layers.postgis import PostGISStore

    with tmpfs("1m", owner="postgres") as d:
        space = f"tiny_{os.getpid()}"
        with psycopg.connect(pg_empty_url, autocommit=True) as con:
            (db,) = con.execute("SELECT current_database()").fetchone()
            con.execute(f"CREATE TABLESPACE {space} LOCATION '{d}'")
        store = PostGISStore(pg_empty_url)
        try:
            store.put("small", _layer(10))
            before = store.get("small").copy()
            with psycopg.connect(pg_empty_url, autocommit=True) as con:
                con.execute(f'ALTER DATABASE "{db}" SET default_tablespace = {space}')
            store.close()  # new sessions put new tables on the tiny tablespace
            with pytest.raises(StoreFull) as full:
                store.put("large", _layer(20_000))
            err = full.value
            assert err.code == "store_full" and err.free_bytes is None
            assert "database server" in err.hint and "数据库" in err.hint_zh
            assert err.__cause__.sqlstate == "53100"
            assert _names(store) == ["small"] and _same(store.get("small"), before)
            assert store.check() == []
        finally:
            store.close()
            with psycopg.connect(pg_empty_url, autocommit=True) as con:
                con.execute(f'ALTER DATABASE "{db}" RESET default_tablespace')
                con.execute(f"DROP TABLESPACE IF EXISTS {space}")
