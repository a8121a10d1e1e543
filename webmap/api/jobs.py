"""Background jobs over HTTP: submit, poll, cancel, download.

``POST /api/jobs/overlay``
    The same fields as ``POST /api/overlay`` (a multipart ``file`` with ``datum``,
    ``river_buffer_m``, ``corridor_m``, or a GeoJSON body with them in the query
    string) → ``202 Accepted``, ``Location: /api/jobs/{id}`` and ``{"id", "url",
    "status"}``.  At most ``ATLAS_JOBS_PER_CLIENT`` (2) unfinished jobs per client
    address (429) and ``ATLAS_JOB_QUEUE`` (20) in the store (503).
``GET /api/jobs/{id}``
    ``{"id", "kind", "status": "queued|running|done|failed", "progress": 0–1,
    "results": {"csv": url, "geojson": url, "summary": url}, "files": {name: {size,
    media_type}}, "error": {the error body} | null, "created", "updated", "finished",
    "expires", "parameters", "input"}``; ``results`` appear when the job is done.
``DELETE /api/jobs/{id}``
    Cancels the job (a running one stops at its next chunk) and removes it with its
    results → ``{"id", "status": "cancelled"}``.
``GET /api/jobs/{id}/results/{name}``
    A result file, streamed from the store part by part: gzip as stored when the
    client accepts it (``Content-Encoding: gzip``), inflated otherwise; ``summary`` is
    JSON.  409 ``job_not_done`` before the job is done.

Jobs are kept in the store (:mod:`layers.jobs`), so any app server of the store
answers for any job and serves its results; this app server's runner
(:mod:`webmap.jobs`) starts with the first job request it sees.  A job id is the
key to the job (unguessable, like a private link): anyone holding it may read or
cancel the job, as anyone may post an overlay.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from flask.blueprints import BlueprintSetupState

from geo.geojson import dumps
from layers.jobs import Job, gunzip_members

from ..core.config import current_settings
from ..core.serving import client_key
from ..core.store import get_store
from ..jobs import JobRunner
from .analysis import overlay_request, read_upload, request_params

bp = Blueprint("jobs", __name__)

_RUNNER_KEY = "atlas_job_runner"
#: Small JSON results kept with the job (not files).
JSON_RESULTS = ("summary",)


@bp.record_once
def _make_runner(state: BlueprintSetupState) -> None:
    """Give the app its job runner (not started: it starts with the first job request)."""
    state.app.extensions[_RUNNER_KEY] = JobRunner(state.app.extensions["atlas_store"],
                                                  state.app.extensions["atlas_settings"])


def runner() -> JobRunner:
    """This app server's job runner, started."""
    r: JobRunner = current_app.extensions[_RUNNER_KEY]
    r.ensure_started()
    return r


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat().replace(
        "+00:00", "Z")


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def job_document(job: Job) -> dict[str, Any]:
    """What ``GET /api/jobs/{id}`` answers."""
    results: dict[str, str] = {}
    files: dict[str, Any] = {}
    if job.status == "done":
        for name, meta in job.results.items():
            results[name] = _url("jobs.job_result", job_id=job.id, name=name)
            if isinstance(meta, dict) and "parts" in meta:
                files[name] = {"size": meta["size"], "media_type": meta["media_type"],
                               "filename": meta["filename"]}
    return {
        "id": job.id, "kind": job.kind, "status": job.status,
        "progress": round(job.progress, 4),
        "results": results, "files": files, "error": job.error,
        "created": _iso(job.created), "updated": _iso(job.updated),
        "finished": _iso(job.finished), "expires": _iso(job.expires),
        "parameters": job.params, "input": job.input_name,
        "links": [{"href": _url("jobs.job_status", job_id=job.id), "rel": "self",
                   "type": "application/json"}],
    }


#: A job's address: ids are 32 hex digits (uuid4), so ``/api/jobs/overlay`` is never read
#: as a job id — a GET there answers 405 (POST only), not "no such job".
JOB = "/api/jobs/<string(length=32):job_id>"


def _json(doc: Any, status: int = 200) -> Response:
    resp = Response(dumps(doc), status=status, mimetype="application/json")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/api/jobs/overlay")
def submit_overlay():
    """Queue an overlay of an uploaded file of sites; 202 with the job's address."""
    req = overlay_request(request_params(), allow_format=False)
    settings = current_settings()
    data, filename = read_upload()
    job = get_store().jobs().submit(
        "overlay", {"datum": req.datum, "river_buffer_m": req.river_buffer_m,
                    "corridor_m": req.corridor_m},
        client_key(request.remote_addr or ""), filename, data,
        per_client=settings.jobs_per_client, queue_limit=settings.job_queue)
    del data
    r = runner()
    r.wake()
    url = _url("jobs.job_status", job_id=job.id)
    resp = _json({"id": job.id, "url": url, "status": job.status}, 202)
    resp.headers["Location"] = url
    return resp


@bp.get(JOB)
def job_status(job_id: str):
    """A job's status, progress, results and error."""
    job = runner().check(get_store().jobs().get(job_id))
    return _json(job_document(job))


@bp.delete(JOB)
def job_cancel(job_id: str):
    """Cancel a job and remove it with its results."""
    runner()
    job = get_store().jobs().cancel(job_id)
    return _json({"id": job.id, "status": "cancelled", "was": job.status})


@bp.get(JOB + "/results/<name>")
def job_result(job_id: str, name: str):
    """A job's result file, streamed from the store."""
    runner()
    jobs = get_store().jobs()
    if name in JSON_RESULTS:
        job = jobs.get(job_id)
        if job.status == "done" and name in job.results:
            return _json(job.results[name])
    parts = jobs.parts(job_id, name)  # JobNotDone / JobNotFound before anything is sent
    meta = jobs.get(job_id).results[name]
    gzip_ok = "gzip" in (request.headers.get("Accept-Encoding") or "").lower()
    if gzip_ok:
        body = parts
    else:
        body = (text for part in parts for text in gunzip_members(part))
    resp = Response(body, mimetype=meta["media_type"])
    if gzip_ok:
        resp.headers["Content-Encoding"] = "gzip"
        resp.headers["Content-Length"] = str(meta["stored"])
    else:
        resp.headers["Content-Length"] = str(meta["size"])
    resp.headers["Vary"] = "Accept-Encoding"
    resp.headers["Content-Disposition"] = f"attachment; filename={meta['filename']}"
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp

