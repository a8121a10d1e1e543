"""A store's disk: its free space, and which errors mean "full" or "read-only".

Both stores map their write errors through :func:`to_store_error` (a full disk is
:class:`~layers.errors.StoreFull`, a read-only one
:class:`~layers.errors.StoreReadOnly`); the GeoPackage store measures its disk with
:func:`disk_space` and opens a file it cannot write with :func:`connect_for_reading`.
What it knows, measured on Linux with SQLite 3.40 and PostgreSQL 15:

- **SQLite on a full disk** raises ``sqlite3.OperationalError("database or disk
  is full")`` with ``sqlite_errorcode`` 13 (``SQLITE_FULL``), and has already
  rolled the transaction back: a ``ROLLBACK`` in the caller's ``except`` then
  raises "cannot rollback - no transaction is active", which replaces the real
  error unless the caller checks ``connection.in_transaction`` first.
  :func:`error_kind` looks through ``__cause__``/``__context__``, so it finds
  the SQLITE_FULL under such a rollback error too.
- **Opening a WAL database on a full disk** can fail before any SQL runs: with
  no ``-shm`` file left (a clean shutdown removes it) SQLite cannot size a new
  one and even a read raises "disk I/O error" (``SQLITE_IOERR_SHMSIZE``).  On a
  read-only filesystem the same open raises ``SQLITE_CANTOPEN``.
  :func:`connect_for_reading` finds a way to read such a file anyway.
- **PostgreSQL on a full disk** answers SQLSTATE ``53100`` (``disk_full``,
  psycopg's ``errors.DiskFull``: "could not extend file …: No space left on
  device") when a table cannot grow (measured with a tablespace on a full
  tmpfs).  When the WAL's own disk is full the server PANICs and restarts
  instead (PostgreSQL's documentation; not measured here): the client sees a
  lost connection, whose message may name the ENOSPC.

Examples
--------
>>> import errno, sqlite3
>>> error_kind(OSError(errno.ENOSPC, "No space left on device"))
'full'
>>> e = sqlite3.OperationalError("database or disk is full")
>>> e.sqlite_errorcode = 13
>>> error_kind(e)
'full'
>>> error_kind(ValueError("bad input")) is None
True
"""

from __future__ import annotations

import errno
import os
import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from .errors import StoreError, StoreFull, StoreReadOnly

#: What :func:`error_kind` tells apart.
ErrorKind = Literal["full", "readonly"]

# SQLite result codes (https://www.sqlite.org/rescode.html): primary code in the low byte.
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_IOERR_SHMSIZE = SQLITE_IOERR | (19 << 8)
#: PostgreSQL SQLSTATEs: disk_full, read_only_sql_transaction (a standby, or
#: default_transaction_read_only).
PG_DISK_FULL = "53100"
PG_READ_ONLY = "25006"
#: An I/O error on a filesystem with less than this free counts as "full".
LOW_SPACE_BYTES = 1024 * 1024

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_READONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}


@dataclass(frozen=True)
class DiskSpace:
    """Space on the filesystem holding a store.

    Attributes
    ----------
    path : str
        The directory measured (the store file's, or its nearest existing ancestor).
    free_bytes : int
        Bytes the service may still write (``f_bavail``: what an unprivileged
        user may use, so blocks reserved for root are not counted).
    total_bytes : int
        Size of the filesystem.
    read_only : bool
        Whether the filesystem is mounted read-only.
    """

    path: str
    free_bytes: int
    total_bytes: int
    read_only: bool


def _existing_dir(path: str | os.PathLike) -> str:
    d = os.path.abspath(os.fspath(path))
    if not os.path.isdir(d):
        d = os.path.dirname(d)
    while not os.path.isdir(d) and d != os.path.dirname(d):
        d = os.path.dirname(d)
    return d


def disk_space(path: str | os.PathLike) -> DiskSpace:
    """Free and total bytes of the filesystem holding ``path`` (a file or directory).

    ``path`` need not exist yet: its nearest existing ancestor is measured, as
    a GeoPackage about to be created will live there.

    Examples
    --------
    >>> import tempfile
    >>> ds = disk_space(os.path.join(tempfile.gettempdir(), "not", "yet", "a.gpkg"))
    >>> 0 <= ds.free_bytes <= ds.total_bytes, ds.path == tempfile.gettempdir()
    (True, True)
    """
    d = _existing_dir(path)
    st = os.statvfs(d)
    return DiskSpace(path=d, free_bytes=st.f_bavail * st.f_frsize,
                     total_bytes=st.f_blocks * st.f_frsize,
                     read_only=bool(st.f_flag & os.ST_RDONLY))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it was raised from or during, without looping."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack += [c for c in (e.__cause__, e.__context__) if c is not None]


def _sqlite_kind(e: sqlite3.Error, path: str | os.PathLike | None) -> ErrorKind | None:
    code = getattr(e, "sqlite_errorcode", None)
    if code is None:  # set by Python >= 3.11; the message is all older ones give
        text = str(e).lower()
        return ("full" if "disk is full" in text
                else "readonly" if "readonly database" in text else None)
    primary = code & 0xFF
    if primary == SQLITE_FULL:
        return "full"
    if primary == SQLITE_READONLY:
        return "readonly"
    space = disk_space(path) if path is not None else None
    if primary == SQLITE_IOERR:
        # SQLite maps ENOSPC on its own writes to SQLITE_FULL; the -shm file's
        # sizing (and some other paths) report an I/O error instead.
        if space is not None:
            return "full" if space.free_bytes < LOW_SPACE_BYTES else None
        return "full" if code == SQLITE_IOERR_SHMSIZE else None
    if primary == SQLITE_CANTOPEN and space is not None:
        d = space.path
        if space.read_only or not os.access(d, os.W_OK):
            return "readonly"
    return None


def error_kind(exc: BaseException, path: str | os.PathLike | None = None) -> ErrorKind | None:
    """``"full"``, ``"readonly"`` or None: whether ``exc`` says the store cannot be written.

    Looks at ``exc`` and at the exceptions it was raised from or while handling
    (a failed ROLLBACK hides SQLite's SQLITE_FULL that way).  Understands
    ``OSError`` (ENOSPC, EDQUOT; EROFS, EACCES, EPERM), ``sqlite3.Error`` (by
    result code) and psycopg errors (by SQLSTATE, without importing psycopg).

    Parameters
    ----------
    exc : BaseException
        The error a write (or an open) raised.
    path : str or os.PathLike, optional
        The store's file: lets an SQLite I/O error count as "full" when its disk
        has (nearly) no space left, and "unable to open" as "readonly" when its
        directory cannot be written.

    Examples
    --------
    >>> class DiskFull(Exception):  # psycopg.errors.DiskFull has sqlstate "53100"
    ...     sqlstate = "53100"
    >>> try:
    ...     try:
    ...         raise DiskFull("could not extend file")
    ...     finally:
    ...         raise RuntimeError("cleanup failed")
    ... except RuntimeError as e:
    ...     error_kind(e)
    'full'
    """
    for e in _chain(exc):
        if isinstance(e, sqlite3.Error):
            kind = _sqlite_kind(e, path)
        elif isinstance(e, OSError):
            kind = ("full" if e.errno in _FULL_ERRNOS
                    else "readonly" if e.errno in _READONLY_ERRNOS else None)
        else:
            state = getattr(e, "sqlstate", None)
            kind = ("full" if state == PG_DISK_FULL
                    else "readonly" if state == PG_READ_ONLY
                    # a server that PANICked on a full WAL disk: the connection is gone
                    # and only the message says why
                    else "full" if state is None and hasattr(e, "sqlstate")
                    and "no space left on device" in str(e).lower() else None)
        if kind is not None:
            return kind
    return None


def to_store_error(exc: BaseException, where: str,
                   path: str | os.PathLike | None = None) -> StoreError | None:
    """:class:`StoreFull` or :class:`StoreReadOnly` for ``exc``, or None for other errors.

    Parameters
    ----------
    exc : BaseException
        What the write raised.
    where : str
        The store as shown to people (a path, or a URL without its password).
    path : str or os.PathLike, optional
        The GeoPackage file, to measure its disk (None for PostGIS).

    Examples
    --------
    >>> import errno
    >>> err = to_store_error(OSError(errno.ENOSPC, "full"), "postgresql://db:5432/atlas")
    >>> type(err).__name__, err.code, "database server" in err.hint
    ('StoreFull', 'store_full', True)
    """
    kind = error_kind(exc, path)
    if kind == "full":
        return StoreFull(where, disk_space(path).free_bytes if path is not None else None)
    if kind == "readonly":
        if path is None:
            return StoreReadOnly(where, "the database is read-only", "数据库处于只读状态")
        return StoreReadOnly(where, "its file or filesystem is read-only", "文件或文件系统只读")
    return None


# -- reading a GeoPackage that cannot be written ------------------------------------------
@dataclass(frozen=True)
class SQLiteHeader:
    """The fields of an SQLite file's 100-byte header that say what the file is.

    Attributes
    ----------
    page_size : int
        Bytes per page.
    wal : bool
        Whether the file is in WAL mode (read/write versions 2).
    user_version, application_id : int
        ``PRAGMA user_version`` / ``application_id`` (GeoPackage: 10300 / 0x47504B47).
    """

    page_size: int
    wal: bool
    user_version: int
    application_id: int

    @property
    def geopackage(self) -> bool:
        """Whether the application id says GeoPackage (``GPKG``)."""
        return self.application_id == 0x47504B47


def sqlite_header(path: str | os.PathLike) -> SQLiteHeader | None:
    """The header of the SQLite file at ``path``, read as bytes (no SQLite, no lock, no write).

    None when the file is missing, empty or not an SQLite database.  A store can
    tell from it that a file is an initialised GeoPackage already in WAL mode,
    and skip the DDL and ``PRAGMA journal_mode`` that would need to write.

    Examples
    --------
    >>> import tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "h.gpkg")
    >>> con = sqlite3.connect(p)
    >>> con.execute("PRAGMA application_id = 1196444487").fetchall()
    []
    >>> con.execute("PRAGMA journal_mode = WAL").fetchall()
    [('wal',)]
    >>> con.close()
    >>> h = sqlite_header(p)
    >>> h.geopackage, h.wal, h.page_size
    (True, True, 4096)
    >>> sqlite_header(os.path.join(tempfile.mkdtemp(), "none.gpkg")) is None
    True
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
    except OSError:
        return None
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return None
    page_size = struct.unpack(">H", head[16:18])[0]
    return SQLiteHeader(page_size=65536 if page_size == 1 else page_size,
                        wal=head[18] == 2 and head[19] == 2,
                        user_version=struct.unpack(">i", head[60:64])[0],
                        application_id=struct.unpack(">i", head[68:72])[0])


def connect_for_reading(path: str | os.PathLike, timeout: float = 30
                        ) -> tuple[sqlite3.Connection, str]:
    """A connection that can read the SQLite file at ``path`` even if nothing can be written.

    Tries, in order, and keeps the first that reads ``sqlite_master``:

    1. ``"normal"``: an ordinary connection (also on a full disk whose ``-shm``
       file is still there: after a crash, or a shutdown whose checkpoint failed);
    2. ``"read-only"``: ``mode=ro`` (a read-only filesystem where ``-shm`` and
       ``-wal`` exist);
    3. ``"immutable"``: ``immutable=1``, no locks and no ``-shm`` (a full disk or a
       read-only filesystem after a clean shutdown) — only when no ``-wal`` file
       holds data, since an immutable connection would not see the transactions
       committed there.  Any number of such connections may read at once, but they
       assume nobody writes: close them before the file is written again;
    4. ``"exclusive"``: ``PRAGMA locking_mode=EXCLUSIVE`` before the first read, so
       the WAL index lives in the heap instead of a ``-shm`` file (a full disk, a
       ``-wal`` holding commits, no ``-shm``: a copied store).  It must open the
       file read-write and keeps the file locked until closed: it must be the
       process's only connection to the file (a second one gets SQLITE_BUSY).

    Returns
    -------
    (sqlite3.Connection, str)
        The connection (autocommit) and which of the four it is.

    Raises
    ------
    sqlite3.Error
        The first error, when no way works.

    Examples
    --------
    >>> import tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "r.gpkg")
    >>> sqlite3.connect(p).execute("CREATE TABLE t (x)").connection.close()
    >>> con, how = connect_for_reading(p)
    >>> how, con.execute("SELECT name FROM sqlite_master").fetchall()
    ('normal', [('t',)])
    >>> con.close()
    """
    path = os.path.abspath(os.fspath(path))
    uri = "file:" + path.replace("?", "%3f").replace("#", "%23")
    wal_file = path + "-wal"
    wal_empty = not os.path.exists(wal_file) or os.path.getsize(wal_file) == 0
    # "exclusive" must open read-write: a read-only descriptor cannot take the write
    # lock that exclusive WAL mode holds (SQLITE_IOERR_LOCK).
    attempts = [("normal", path, False, None), ("read-only", f"{uri}?mode=ro", True, None)]
    if wal_empty:
        attempts.append(("immutable", f"{uri}?mode=ro&immutable=1", True, None))
    attempts.append(("exclusive", path, False, "PRAGMA locking_mode = EXCLUSIVE"))
    first: sqlite3.Error | None = None
    for how, target, is_uri, pragma in attempts:
        con = None
        try:
            con = sqlite3.connect(target, uri=is_uri, timeout=timeout, isolation_level=None,
                                  check_same_thread=False)
            if pragma:
                con.execute(pragma)
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return con, how
        except sqlite3.Error as e:
            first = first or e
            if con is not None:
                con.close()
    assert first is not None
    raise first
