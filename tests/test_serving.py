"""Serving under hostile connections: the limits of ``webmap/core/serving.py`` on a real server.

The issue's attack runs against ``python -m webmap.core.serving`` — what ``make run``
starts — in a child process at the default settings.  The other tests serve the same
atlas app (created once for the module) with the same server code,
:func:`webmap.core.serving.create_server`, in a thread with each test's own settings,
so that no test pays for a process start.  All talk to it over real sockets on
127.0.0.1.  What is asserted is what the clients get (answers, a 408, a 503, a closed
socket), never how fast: waits are bounded only so that a broken server fails the
test instead of hanging it.  Every socket is closed and the server stopped when a
test ends.  One xdist group, in the first pass of ``make test`` only (nothing here
depends on the store's backend).

Run them alone with ``.venv/bin/python -m pytest -q tests/test_serving.py``.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.servers import free_port as _free_port
from tests.servers import served
from tools.slowclients import Attack, get
from webmap.core.config import Settings, SettingsError
from webmap.core.serving import adjustments, create_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
#: Upper bound on any single wait (a hang guard, not an expectation).
GUARD_S = 60.0

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("serving"), pytest.mark.gpkg_only]


@pytest.fixture(scope="module")
def atlas(ref_store_path):
    """The atlas app on the reference store, shared by the module's in-process servers."""
    from webmap import create_app

    return create_app({"ATLAS_STORE": ref_store_path})


@contextmanager
def serving(app, **settings) -> Iterator[int]:
    """``app`` served by :func:`create_server` with ``settings`` in a thread; yields the port."""
    port = _free_port()
    server = create_server(app, Settings(host=HOST, port=port, **settings))
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    try:
        yield port
    finally:
        server.close()
        runner.join(10)


def _normal_client_served(port: int, source: str | None = None) -> None:
    """``/healthz`` and the atlas page, as a browser would get them."""
    status, body = get(HOST, port, "/healthz", timeout=GUARD_S, source=source)
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, body = get(HOST, port, "/", timeout=GUARD_S, source=source)
    assert status == 200
    assert "锡林郭勒草原图集".encode() in body or b"Xilingol Grassland Atlas" in body


def _read_until_closed(sock: socket.socket, keep_sending: bytes = b"", every: float = 0.5,
                       guard: float = GUARD_S) -> tuple[bytes, int]:
    """Read what the server sends until it closes; meanwhile send ``keep_sending`` every ``every`` s.

    Returns (everything received, bytes sent meanwhile).
    """
    sock.settimeout(every)
    got, sent = b"", 0
    end = time.monotonic() + guard
    while time.monotonic() < end:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            if keep_sending:
                try:
                    sent += sock.send(keep_sending)
                except OSError:
                    return got, sent
            continue
        except ConnectionResetError:
            return got, sent
        if not chunk:
            return got, sent
        got += chunk
    pytest.fail(f"the server kept the connection open for {guard:.0f} s")


def _is_open(sock: socket.socket) -> bool:
    """Whether the server still holds ``sock`` open (nothing to read, no EOF)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def _connect(port: int, source: str | None = None) -> socket.socket:
    return socket.create_connection((HOST, port), timeout=GUARD_S,
                                    source_address=(source, 0) if source else None)


def test_idle_and_slowloris_connections_do_not_starve_a_normal_client(ref_store_path):
    """Issue 13's attack at the default settings: 200 idle + 20 slowloris, all from 127.0.0.1."""
    with served(ref_store_path) as port, Attack(HOST, port, idle=200, slow=20) as attack:
        assert attack.opened == 220
        for _ in range(3):  # while the attacker trickles and reconnects what is closed
            _normal_client_served(port)
            time.sleep(1.0)
        # the server made room by closing the attacker's own idle connections
        assert attack.closed_by_server > 0


def test_many_attacking_addresses_at_the_connection_limit(atlas):
    """Ten addresses, each under its cap, together over the total: newcomers still get in."""
    with serving(atlas, connection_limit=100) as port:
        attacks = [Attack(HOST, port, idle=20, slow=2, source=f"127.0.0.{10 + i}")
                   for i in range(10)]
        try:
            for a in attacks:
                a.__enter__()
            assert sum(a.opened for a in attacks) == 220
            for _ in range(2):
                _normal_client_served(port)
                time.sleep(1.0)
            assert sum(a.closed_by_server for a in attacks) > 0
        finally:
            for a in attacks:
                a.__exit__(None, None, None)


def test_slowloris_headers_time_out_with_408(atlas):
    with serving(atlas, header_timeout=2) as port, _connect(port) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: atlas\r\nX-a: ")
        got, sent = _read_until_closed(s, keep_sending=b"a", every=0.5)
        assert got.startswith(b"HTTP/1.1 408 ")
        assert sent > 0  # it kept trickling and was cut off all the same


def test_slow_body_times_out_and_a_steady_one_is_served(atlas):
    # a 5 s grace: on a loaded machine the steady client may be held up for seconds
    with serving(atlas, body_timeout=5, body_min_rate=1000) as port:
        with _connect(port) as s:  # 100 kB announced, 10 bytes every 0.5 s
            s.sendall(b"POST /healthz HTTP/1.1\r\nHost: atlas\r\nContent-Length: 100000\r\n\r\n")
            got, sent = _read_until_closed(s, keep_sending=b"x" * 10, every=0.5)
            assert got.startswith(b"HTTP/1.1 408 ") and sent < 100000
        with _connect(port) as s:  # 6 kB at about 3 kB/s: above the floor, so it arrives
            s.sendall(b"POST /healthz HTTP/1.1\r\nHost: atlas\r\nContent-Length: 6000\r\n"
                      b"Connection: close\r\n\r\n")
            for _ in range(4):
                time.sleep(0.5)
                s.sendall(b"x" * 1500)
            got, _ = _read_until_closed(s)
            assert got.startswith(b"HTTP/1.1 405 ")  # the app saw the whole request


def test_idle_connections_are_closed(atlas):
    # 3 s rather than 1: on a loaded machine the test's own request must beat it
    # (both at once: the test waits out one idle timeout, not two)
    with serving(atlas, idle_timeout=3) as port, _connect(port) as never_asked, \
            _connect(port) as kept_alive:
        kept_alive.sendall(b"GET /healthz HTTP/1.1\r\nHost: atlas\r\n\r\n")
        got, _ = _read_until_closed(kept_alive)
        assert got.startswith(b"HTTP/1.1 200 ")  # answered, then closed once idle
        got, _ = _read_until_closed(never_asked)
        assert got == b""


def test_a_client_at_its_cap_gives_up_its_oldest_idle_connection(atlas):
    with serving(atlas, connections_per_client=4) as port:
        held = []
        try:
            for _ in range(4):
                held.append(_connect(port))
                time.sleep(0.05)  # distinct ages
            status, _ = get(HOST, port, "/healthz", timeout=GUARD_S)  # a fifth
            assert status == 200
            assert [_is_open(s) for s in held] == [False, True, True, True]
        finally:
            for s in held:
                s.close()


def _body_in_flight(port: int, source: str | None = None) -> socket.socket:
    """A connection whose request is half-way through its body: never evicted."""
    s = _connect(port, source)
    s.sendall(b"POST /healthz HTTP/1.1\r\nHost: atlas\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
    return s


def test_refused_with_503_when_every_connection_of_the_client_is_busy(atlas):
    with serving(atlas, connections_per_client=3) as port:
        busy = [_body_in_flight(port) for _ in range(3)]
        try:
            # a whole request from elsewhere: by its answer the server has read the three
            # bodies' first bytes (sent before it), so they are in flight, not idle
            _normal_client_served(port, source="127.0.0.2")
            with _connect(port) as extra:
                # read before sending: a request the server never reads would turn its
                # close into a reset that may discard the 503 (real clients just retry)
                got, _ = _read_until_closed(extra)
                assert got.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 2" in got
            # the cap is per client: another address is served
            _normal_client_served(port, source="127.0.0.2")
            assert all(_is_open(s) for s in busy)
        finally:
            for s in busy:
                s.close()


_FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
              "X-Forwarded-Host": "atlas.example.org", "X-Forwarded-Port": "443"}


def _self_link(port: int) -> str:
    """The ``self`` link of the OGC API landing page, asked with proxy headers."""
    import http.client

    conn = http.client.HTTPConnection(HOST, port, timeout=GUARD_S)
    try:
        conn.request("GET", "/ogcapi?f=json", headers=_FORWARDED)
        resp = conn.getresponse()
        assert resp.status == 200
        links = json.loads(resp.read())["links"]
    finally:
        conn.close()
    return next(link["href"] for link in links if link["rel"] == "self")


def test_a_trusted_proxy_is_not_capped_per_client(atlas):
    with serving(atlas, connections_per_client=3, trusted_proxy=HOST) as port:
        busy = [_body_in_flight(port) for _ in range(3)]
        try:
            _normal_client_served(port)
            # its X-Forwarded-* are believed: the links the atlas builds are the public ones
            assert _self_link(port).startswith("https://atlas.example.org/ogcapi")
        finally:
            for s in busy:
                s.close()


def test_proxy_headers_of_anyone_else_are_ignored(atlas):
    with serving(atlas) as port:
        assert _self_link(port).startswith(f"http://{HOST}:{port}/ogcapi")


def test_settings_from_the_environment():
    s = Settings.from_env({"ATLAS_PORT": "8080", "ATLAS_CONNECTIONS_PER_CLIENT": "0",
                           "ATLAS_BODY_MIN_RATE": "512", "ATLAS_MAX_UPLOAD_MB": "10",
                           "ATLAS_HOST": "", "ATLAS_TRUSTED_PROXY": " "})
    assert (s.port, s.connections_per_client, s.body_min_rate) == (8080, 0, 512)
    assert (s.host, s.trusted_proxy) == ("127.0.0.1", None)
    assert s.max_request_body == 11 * 1024 * 1024
    adj = adjustments(s)
    assert adj["asyncore_use_poll"] is True and adj["max_request_body_size"] == 11 * 1024 * 1024
    for var, bad in (("ATLAS_IDLE_TIMEOUT", "soon"), ("ATLAS_IDLE_TIMEOUT", "0"),
                     ("ATLAS_PORT", "70000"), ("ATLAS_THREADS", "2.5"),
                     ("ATLAS_CONNECTIONS_PER_CLIENT", "-1")):
        with pytest.raises(SettingsError, match=var):
            Settings.from_env({var: bad})


def test_a_bad_serving_setting_stops_the_server_with_its_name(ref_store_path, monkeypatch,
                                                            capsys):
    """``python -m webmap.core.serving`` (its main(), in this process) refuses to start."""
    from webmap.core.serving import main

    monkeypatch.setenv("ATLAS_STORE", ref_store_path)
    monkeypatch.setenv("ATLAS_HEADER_TIMEOUT", "soon")
    assert main(["--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "ATLAS_HEADER_TIMEOUT" in err and "'soon'" in err


def test_a_client_that_stops_reading_frees_its_worker_thread():
    """One worker thread streaming 24 MB that nobody reads: past waitress's 16 MB buffer
    the thread blocks; the stalled connection is closed and the next client served."""
    chunk, chunks = b"x" * (1024 * 1024), 24

    def app(environ, start_response):
        if environ["PATH_INFO"] != "/big":
            start_response("200 OK", [("Content-Length", "5")])
            return [b"small"]
        start_response("200 OK", [("Content-Length", str(len(chunk) * chunks))])
        return (chunk for _ in range(chunks))

    port = _free_port()
    server = create_server(app, Settings(port=port, threads=1, idle_timeout=2))
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    try:
        with socket.socket() as reader:
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            reader.connect((HOST, port))
            reader.sendall(b"GET /big HTTP/1.1\r\nHost: atlas\r\n\r\n")
            reader.settimeout(GUARD_S)
            start = b""
            while len(start) < 12:  # TCP may hand over the first bytes in pieces
                piece = reader.recv(12 - len(start))
                assert piece, "closed before the response started"
                start += piece
            assert start == b"HTTP/1.1 200"  # being served, then no more reading
            # the only worker thread is now stuck writing /big; another client still gets in
            status, body = get(HOST, port, "/small", timeout=GUARD_S)
            assert (status, body) == (200, b"small")
            got, _ = _read_until_closed(reader)
            assert len(got) < len(chunk) * chunks  # the stalled response was cut off
    finally:
        server.close()
        runner.join(10)


def test_a_late_response_is_not_taken_for_a_stalled_client():
    """What main's CI once hit: /small waited in the queue longer than the idle timeout
    (behind the stalled /big) and was cut off between its headers and its body, because
    the worker thread was still sending it while the main loop looked at a client whose
    last byte lay more than the idle timeout back.  A client is stalled only when its
    socket takes nothing: checked here on a real socket, at each state, without timing."""
    settings = Settings(host=HOST, port=_free_port(), threads=1, idle_timeout=1)
    server = create_server(lambda environ, start_response: [], settings)
    try:
        with socket.create_connection((HOST, settings.port), timeout=GUARD_S) as client:
            server.handle_accept()
            (ch,) = server.book.by_client[HOST]
            long_ago = time.time() - 100 * settings.idle_timeout
            ch.last_activity = long_ago  # the request arrived long ago, and waited
            ch.requests = [object()]  # it is being served now
            ch.total_outbufs_len = 100  # the worker has queued its first bytes
            assert ch.overdue(time.time(), settings) is None  # the socket takes them
            # the client reads nothing: the server's socket fills up
            ch.socket.setblocking(False)
            sent = 0
            try:
                while True:
                    sent += ch.socket.send(b"x" * 65536)
            except BlockingIOError:
                pass
            assert sent > 0 and ch.socket_full()
            ch.output_since = long_ago
            assert ch.overdue(time.time(), settings) == "stalled"
            # once the client has read it all, it is no longer stalled, however long ago
            # the server last managed to send
            client.settimeout(GUARD_S)
            got = 0
            while got < sent:
                piece = client.recv(1 << 20)
                assert piece
                got += len(piece)
            assert not ch.socket_full() and ch.overdue(time.time(), settings) is None
            ch.requests, ch.total_outbufs_len = [], 0
            ch.handle_close()
    finally:
        server.close()
