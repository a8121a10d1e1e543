-- 0003: background jobs kept in the store, so every app server sees them (layers/jobs.py).
--
-- One row per job (an overlay of a million sites …): its state, progress, the runner
-- that claimed it and its heartbeat, its results and error; times in seconds since the
-- epoch.  atlas.job_files holds each job's uploaded input and its result files as gzip
-- members of a few MB, streamed out part by part.  Finished jobs are removed after
-- ATLAS_JOB_KEEP_HOURS (default 24) with their files.
CREATE TABLE atlas.jobs (
    id          text PRIMARY KEY,
    kind        text NOT NULL,
    status      text NOT NULL,
    progress    double precision NOT NULL DEFAULT 0,
    client      text NOT NULL,
    params      text NOT NULL DEFAULT '{}',
    input_name  text NOT NULL DEFAULT '',
    owner       text,
    results     text NOT NULL DEFAULT '{}',
    error       text,
    created     double precision NOT NULL,
    updated     double precision NOT NULL,
    heartbeat   double precision,
    finished    double precision,
    expires     double precision
);
CREATE INDEX jobs_status ON atlas.jobs (status, created);

CREATE TABLE atlas.job_files (
    job_id  text NOT NULL,
    name    text NOT NULL,
    seq     integer NOT NULL,
    data    bytea NOT NULL,
    PRIMARY KEY (job_id, name, seq)
);
-- Compressed already: no TOAST compression on top.
ALTER TABLE atlas.job_files ALTER COLUMN data SET STORAGE EXTERNAL;

COMMENT ON TABLE atlas.jobs IS 'Xilingol Grassland Atlas: background jobs (overlays of many sites)';
