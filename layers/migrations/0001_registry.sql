-- 0001: the layer registry of the PostGIS store (layers/postgis.py).
--
-- One row per layer points at the table holding its current version
-- (atlas."<name>__v<token>", one table per version, GiST-indexed).  A write fills
-- a new table, then switches table_name and drops the old table in one
-- transaction, so readers always see a whole version.
CREATE TABLE atlas.layers (
    name          text PRIMARY KEY,
    table_name    text NOT NULL UNIQUE,
    feature_count bigint NOT NULL,
    minx          double precision,
    miny          double precision,
    maxx          double precision,
    maxy          double precision,
    updated       timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- json, not jsonb: metadata keeps its key order, as in the GeoPackage store.
    meta          json NOT NULL DEFAULT '{}',
    -- [[property, column, sql type, null count], ...] in property order.
    columns       jsonb NOT NULL DEFAULT '[]',
    geometry_type text NOT NULL DEFAULT 'GEOMETRY'
);

COMMENT ON TABLE atlas.layers IS
    'Xilingol Grassland Atlas: each layer name and the table of its current version';
