-- 0002: every write is a version; none is overwritten (layers/postgis.py).
--
-- atlas.layers keeps pointing each layer at the table of its current version and now
-- carries that version's number; atlas.versions lists every version ever written with
-- its own metadata (provenance), column map and what it was restored from.  Old version
-- tables stay in the schema until their version is deleted.
ALTER TABLE atlas.layers ADD COLUMN version integer NOT NULL DEFAULT 1;

CREATE TABLE atlas.versions (
    name          text NOT NULL,
    version       integer NOT NULL,
    table_name    text NOT NULL UNIQUE,
    feature_count bigint NOT NULL,
    minx          double precision,
    miny          double precision,
    maxx          double precision,
    maxy          double precision,
    created       timestamptz NOT NULL DEFAULT clock_timestamp(),
    meta          json NOT NULL DEFAULT '{}',
    columns       jsonb NOT NULL DEFAULT '[]',
    geometry_type text NOT NULL DEFAULT 'GEOMETRY',
    restored_from integer,
    PRIMARY KEY (name, version)
);

INSERT INTO atlas.versions (name, version, table_name, feature_count, minx, miny, maxx, maxy,
                            created, meta, columns, geometry_type)
SELECT name, 1, table_name, feature_count, minx, miny, maxx, maxy, updated, meta, columns,
       geometry_type
FROM atlas.layers;

COMMENT ON TABLE atlas.versions IS
    'Xilingol Grassland Atlas: every version of every layer, newest number = current';
