"""Content coding negotiation (RFC 9110 §12.5.3) and its ETags, over raw HTTP.

Requests go through ``http.client`` to the real app under waitress on 127.0.0.1
(the ``live_server`` fixture), so what is checked is the bytes a client gets:
which ``Content-Encoding``, which strong ETag, and a gzip body that Python's own
``gzip`` decodes to exactly the identity body.

Rules under test (webmap/http.py): q-values honoured, ``*`` stands for codings
not listed, ``x-gzip`` is gzip, no header means identity, nothing acceptable
means identity (never 406), the gzip body's ETag is the identity ETag with a
``-gzip`` suffix, and ``If-None-Match`` (weak comparison) revalidates the
representation the request may be given.
"""

from __future__ import annotations

import gzip
import http.client

import pytest

#: A text response well over 1 KB (gzipped when accepted) and one under 1 KB.
BIG = "/api/layers/projects/features"
SMALL = "/api/layers/projects/features?bbox=0,0,0.001,0.001"
#: A binary static file: gzip is never on offer for it.
PNG = "/static/vendor/leaflet/images/layers.png"


def _get(server, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """One GET on a fresh connection; header names lower-cased."""
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        # skip_accept_encoding: http.client would otherwise send "identity" itself
        conn.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name.replace("_", "-"), value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def plain(live_server) -> tuple[str, bytes]:
    """(ETag, body) of the identity representation of :data:`BIG`."""
    status, headers, body = _get(live_server, BIG)
    assert status == 200 and "content-encoding" not in headers
    assert len(body) > 4096
    return headers["etag"], body


def _gzip_tag(etag: str) -> str:
    return etag[:-1] + '-gzip"'


@pytest.mark.parametrize("accept", [
    "gzip",
    "gzip, deflate, br",
    "x-gzip",
    "*",
    "br;q=1, gzip;q=0.5",
    "GZIP;Q=0.8, identity;q=0.5",
    "gzip;q=0.5, identity;q=0.5",  # a tie goes to the smaller body
    "identity;q=0, gzip",
])
def test_gzip_when_its_weight_wins(live_server, plain, accept):
    etag, body = plain
    status, headers, data = _get(live_server, BIG, Accept_Encoding=accept)
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(data) == body
    assert headers["etag"] == _gzip_tag(etag)
    assert "Accept-Encoding" in headers["vary"]


@pytest.mark.parametrize("accept", [
    None,                      # absent: identity (the RFC allows any; curl cannot decode)
    "",                        # empty: identity only
    "identity",
    "gzip;q=0",
    "gzip;q=0, *",             # the explicit gzip entry beats the wildcard
    "*;q=0",                   # nothing acceptable: identity, not 406
    "identity;q=0",            # likewise
    "br, *;q=0",
    "gzip;q=0.5, identity",    # identity preferred
    "gzip;q=0.5, *",           # the wildcard gives identity q=1
    "gzip;q=2",                # an invalid qvalue is no preference
])
def test_identity_otherwise(live_server, plain, accept):
    etag, body = plain
    headers_in = {} if accept is None else {"Accept_Encoding": accept}
    status, headers, data = _get(live_server, BIG, **headers_in)
    assert status == 200
    assert "content-encoding" not in headers
    assert data == body and headers["etag"] == etag


def test_small_body_is_identity_unless_identity_is_refused(live_server):
    status, headers, small = _get(live_server, SMALL, Accept_Encoding="gzip")
    assert status == 200 and len(small) < 1024
    assert "content-encoding" not in headers and not headers["etag"].endswith('-gzip"')
    status, forced, data = _get(live_server, SMALL, Accept_Encoding="identity;q=0, gzip")
    assert status == 200 and forced["content-encoding"] == "gzip"
    assert gzip.decompress(data) == small
    assert forced["etag"] == _gzip_tag(headers["etag"])


def test_binary_file_never_gzipped(live_server):
    status, headers, data = _get(live_server, PNG, Accept_Encoding="gzip")
    assert status == 200 and "content-encoding" not in headers
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and not headers["etag"].endswith('-gzip"')
    status, again, _ = _get(live_server, PNG, Accept_Encoding="gzip",
                            If_None_Match=headers["etag"])
    assert status == 304 and again["etag"] == headers["etag"]


def test_revalidation_of_each_encoding(live_server, plain):
    etag, body = plain
    gz = _gzip_tag(etag)
    # each client revalidates what it holds: 304 with its own tag, no body
    status, headers, data = _get(live_server, BIG, Accept_Encoding="gzip", If_None_Match=gz)
    assert (status, headers["etag"], data) == (304, gz, b"")
    status, headers, data = _get(live_server, BIG, If_None_Match=etag)
    assert (status, headers["etag"], data) == (304, etag, b"")
    # weak comparison: W/ and lists match as well
    status, headers, _ = _get(live_server, BIG, Accept_Encoding="gzip",
                              If_None_Match=f'"other", W/{gz}')
    assert (status, headers["etag"]) == (304, gz)
    # a cache holding both variants sends both tags; the 304 names the one it may use
    status, headers, _ = _get(live_server, BIG, Accept_Encoding="gzip",
                              If_None_Match=f"{etag}, {gz}")
    assert (status, headers["etag"]) == (304, gz)
    status, headers, _ = _get(live_server, BIG, Accept_Encoding="gzip;q=0",
                              If_None_Match=f"{etag}, {gz}")
    assert (status, headers["etag"]) == (304, etag)


def test_a_validator_of_the_other_encoding(live_server, plain):
    etag, body = plain
    gz = _gzip_tag(etag)
    # holding gzip but no longer accepting it: the whole identity body
    status, headers, data = _get(live_server, BIG, Accept_Encoding="gzip;q=0", If_None_Match=gz)
    assert status == 200 and "content-encoding" not in headers and data == body
    status, headers, data = _get(live_server, BIG, If_None_Match=gz)
    assert status == 200 and data == body and headers["etag"] == etag
    # holding identity and now accepting gzip: identity is still acceptable, so the
    # stored identity body stays good (304 naming it)
    status, headers, data = _get(live_server, BIG, Accept_Encoding="gzip", If_None_Match=etag)
    assert (status, headers["etag"], data) == (304, etag, b"")
    # ... unless identity is refused: the gzip body
    status, headers, data = _get(live_server, BIG, Accept_Encoding="identity;q=0, gzip",
                                 If_None_Match=etag)
    assert status == 200 and headers["etag"] == gz and gzip.decompress(data) == body


def test_wildcard_if_none_match(live_server, plain):
    etag, _ = plain
    status, headers, _ = _get(live_server, BIG, Accept_Encoding="gzip", If_None_Match="*")
    assert (status, headers["etag"]) == (304, _gzip_tag(etag))
    status, headers, _ = _get(live_server, BIG, If_None_Match="*")
    assert (status, headers["etag"]) == (304, etag)


def test_tiles_revalidate_per_encoding(live_server):
    from geo.vector_tiles import tile_for_lonlat

    tx, ty = tile_for_lonlat(116.09, 43.94, 6)
    url = f"/tiles/admin/6/{tx}/{ty}.mvt"
    status, plain_h, plain_body = _get(live_server, url)
    assert status == 200 and len(plain_body) > 1024
    status, gz_h, gz_body = _get(live_server, url, Accept_Encoding="gzip")
    assert gz_h["content-encoding"] == "gzip" and gzip.decompress(gz_body) == plain_body
    assert gz_h["etag"] == _gzip_tag(plain_h["etag"])
    # twice: the second gzip answer comes from the gzip memo, same tag, same bytes
    status, again_h, again_body = _get(live_server, url, Accept_Encoding="gzip")
    assert (again_h["etag"], again_body) == (gz_h["etag"], gz_body)
    for accept, tag in (("gzip", gz_h["etag"]), (None, plain_h["etag"])):
        hdrs = {"If_None_Match": tag} | ({"Accept_Encoding": accept} if accept else {})
        status, h, data = _get(live_server, url, **hdrs)
        assert (status, h["etag"], data) == (304, tag, b"")
