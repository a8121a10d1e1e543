"""Binary COPY built with NumPy (layers/pg_copy.py), read back by a real PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

from layers.pg_copy import HEADER, TRAILER, Column, encode_rows

psycopg = pytest.importorskip("psycopg")


def test_rows_of_every_type_with_nulls_read_back(pg_empty_url):
    rng = np.random.default_rng(4)
    n = 5000
    fid = np.arange(1, n + 1)
    x, y = rng.uniform(111, 120, n), rng.uniform(41.5, 46.8, n)
    names = [None if i % 7 == 0 else f"站点-{i}-{'x' * (i % 13)}" for i in fid]
    values = rng.normal(size=n)
    null_f = fid % 5 == 0
    flags = fid % 2 == 0
    null_b = fid % 11 == 0
    zoom = (fid % 23).astype("int16")
    chunk = encode_rows([Column.int8(fid), Column.points(x, y), Column.text(names),
                         Column.float8(values, null=null_f), Column.boolean(flags, null=null_b),
                         Column.int2(zoom), Column.bytea([b"\x00\x01" if i % 3 else None
                                                          for i in fid])])
    with psycopg.connect(pg_empty_url, autocommit=True) as con:
        con.execute("CREATE TABLE t (fid bigint, geom geometry(Geometry, 4326), name text,"
                    " v double precision, ok boolean, z smallint, raw bytea)")
        with con.cursor().copy("COPY t FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(HEADER)
            copy.write(chunk[: len(chunk) // 2])  # chunks may split rows anywhere
            copy.write(chunk[len(chunk) // 2:])
            copy.write(TRAILER)
        rows = con.execute("SELECT fid, ST_X(geom), ST_Y(geom), ST_SRID(geom), name, v, ok, z,"
                           " raw FROM t ORDER BY fid").fetchall()
    assert len(rows) == n
    for r in rows:
        i = r[0] - 1
        assert (r[1], r[2], r[3]) == (x[i], y[i], 4326)
        assert r[4] == names[i]
        assert r[5] == (None if null_f[i] else values[i])
        assert r[6] == (None if null_b[i] else bool(flags[i]))
        assert r[7] == zoom[i]
        assert r[8] == (b"\x00\x01" if (i + 1) % 3 else None)


def test_text_refuses_nul():
    with pytest.raises(ValueError, match="NUL"):
        Column.text(["a\x00b"])
