"""Serve the atlas with waitress, hardened against clients that hold connections.

``python -m webmap.core.serving`` (what ``make run`` and the benchmarks start) or
``serve(app, settings)``, configured by the serving fields of
:class:`webmap.core.config.Settings` (``ATLAS_HOST`` … ``ATLAS_TRUSTED_PROXY``).  waitress stays the server — the two-command quick
start needs no front server — with what it lacks added around its own hooks:

- **a time bound on every request's arrival**, whatever trickle of bytes the
  client sends: the headers within ``header_timeout`` seconds of the request's
  first byte, the body at an average of at least ``body_min_rate`` bytes/s after
  a ``body_timeout`` grace.  waitress's own ``channel_timeout`` is reset by every
  byte, so a slowloris client sending a byte a second held a connection forever;
  here it gets ``408 Request Timeout`` and is closed.
- **an idle timeout** (``idle_timeout``) for connections with no request under
  way, checked every second (waitress checks every 30 s), and the same bound on
  a client that stops reading its response.
- **a per-client connection cap** (``connections_per_client``, per IP address, IPv6 per /64):
  waitress has none.  A client at its cap that opens another connection gives up
  its own oldest idle (or still-in-headers) connection; only when every one of
  its connections has a request in flight is the new one refused with ``503``.
- **a total connection limit** (``connection_limit``) that evicts instead of
  locking out: at the limit an idle (or still-in-headers) connection of the
  client holding the most connections is closed to admit the new one.  Only
  when every connection has a request in flight does the server stop accepting,
  and new connections wait in the listen backlog as with plain waitress.  Plain
  waitress simply stops accepting at 100 connections, so 99 idle sockets from one
  client locked everyone else out.

Connections with a request in flight are never evicted or timed out here: how
long a request takes is the application's business.  Connections from
``trusted_proxy`` are exempt from the per-client cap (a reverse proxy carries
many users' requests; cap them at the proxy) but not from the rest.

Examples
--------
>>> s = Settings.from_env({"ATLAS_CONNECTION_LIMIT": "500", "ATLAS_HEADER_TIMEOUT": "5"})
>>> s.connection_limit, s.connections_per_client, s.header_timeout, s.idle_timeout
(500, 64, 5.0, 20.0)
>>> client_key("::ffff:192.0.2.7"), client_key("2001:db8:1:2:aaaa::1")
('192.0.2.7', '2001:db8:1:2::/64')
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import resource
import select
import socket
import sys
import threading
import time
from dataclasses import replace
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from .config import Settings, SettingsError
from .memory import limit_arenas

log = logging.getLogger("webmap.core.serving")

def adjustments(settings: Settings) -> dict[str, Any]:
    """waitress ``Adjustments`` keyword arguments for ``settings``.

    Examples
    --------
    >>> adj = adjustments(Settings(max_upload_mb=2))
    >>> adj["max_request_body_size"], adj["asyncore_use_poll"], adj["cleanup_interval"]
    (3145728, True, 1)
    """
    adj: dict[str, Any] = {
        "host": settings.host, "port": settings.port, "threads": settings.threads,
        # our own accounting decides; waitress's counter includes its own sockets
        "connection_limit": settings.connection_limit + 16,
        "channel_timeout": max(1, int(settings.idle_timeout)),
        "cleanup_interval": 1,
        # select() cannot watch descriptors above 1023; poll() can
        "asyncore_use_poll": True,
        "max_request_body_size": settings.max_request_body,
        "clear_untrusted_proxy_headers": True,
        "ident": "atlas",
    }
    if settings.trusted_proxy:
        adj.update(trusted_proxy=settings.trusted_proxy, trusted_proxy_count=1,
                   trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto",
                                          "x-forwarded-host", "x-forwarded-port"})
    return adj


def client_key(address: str) -> str:
    """Whose connection this is: the IPv4 address, or the IPv6 /64 (one host's usual share).

    Examples
    --------
    >>> client_key("127.0.0.1"), client_key("::1"), client_key("not an address")
    ('127.0.0.1', '::/64', 'not an address')
    """
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


_REFUSED_BODY = b"Too many connections from your address; retry in a few seconds.\n"
_REFUSED = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nConnection: close\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: " + str(len(_REFUSED_BODY)).encode() + b"\r\n\r\n" + _REFUSED_BODY)
_TIMEOUT_BODY = b"The request did not arrive in time.\n"
_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY)


class AtlasChannel(HTTPChannel):
    """waitress's HTTP channel, plus when its current request started arriving."""

    client = ""
    #: When the first byte of the request being received arrived (0: none under way).
    request_started = 0.0
    #: When that request's headers were complete (0: still in its headers).
    body_started = 0.0
    #: When the channel last finished serving a request (a pipelined request's
    #: bytes may have arrived while an earlier one ran: its clock starts here).
    served_at = 0.0
    #: When this channel was answered 408 (0: never).
    timed_out_at = 0.0
    #: When a response started waiting to be sent with nothing else pending (a worker
    #: thread's first bytes): a client is stalled only if it takes none for the idle
    #: timeout after that, not after its last byte read or sent.
    output_since = 0.0
    _tracked: object = None
    _booked = False

    def __init__(self, server: AtlasServer, sock: socket.socket, addr: tuple, adj: Adjustments,
                 map: dict | None = None) -> None:
        self.client = client_key(addr[0])  # before waitress's __init__ registers the channel
        super().__init__(server, sock, addr, adj, map=map)

    def received(self, data: bytes) -> bool:
        result = super().received(data)
        req = self.request  # the request still arriving, if any
        if req is None:
            self._tracked = None
            return result
        now = time.time()
        if req is not self._tracked:
            self._tracked, self.request_started, self.body_started = req, now, 0.0
        if req.headers_finished and not self.body_started:
            self.body_started = now
        return result

    def write_soon(self, data: Any) -> int:
        if data and not self.total_outbufs_len:
            self.output_since = time.time()
        return super().write_soon(data)

    def service(self) -> None:
        super().service()
        self.served_at = time.time()

    def socket_full(self) -> bool:
        """Whether the kernel would take no byte now: the client has not read what it was sent."""
        try:
            poller = select.poll()
            poller.register(self.socket.fileno(), select.POLLOUT)
            return not poller.poll(0)  # POLLOUT, or an error/hang-up waitress will see: not full
        except (OSError, ValueError, AttributeError):  # closed meanwhile: waitress handles it
            return False

    def bytes_waiting(self) -> bool:
        """Whether bytes (or the client's close) wait unread in the socket's receive buffer."""
        try:
            self.socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)  # b"" is a close
        except OSError:  # nothing there (EAGAIN), or the connection is broken
            return False
        return True

    def evictable(self) -> bool:
        """Idle or still in its headers: closing it loses no request the app has seen."""
        if self.requests or self.will_close or self.close_when_flushed or self.total_outbufs_len:
            return False
        return self.request is None or not self.request.headers_finished

    def overdue(self, now: float, settings: Settings) -> str | None:
        """Why this channel must go now, or None.

        ``"idle"``: no request and nothing sent or received for ``idle_timeout``;
        ``"headers"``/``"body"``: the request is not arriving in time;
        ``"stalled"``: a response waits to be sent, the client's socket takes no
        byte now and has taken none for ``idle_timeout`` (a client that does not read would
        otherwise hold a worker thread once the response outgrows waitress's
        16 MB buffer).
        """
        if self.total_outbufs_len or self.will_close or self.close_when_flushed:
            # Bytes wait to be sent (or a close waits for them to go): the client is stalled
            # only if its socket takes nothing now and has taken nothing for idle_timeout.
            # A socket that would take bytes is never stalled: the worker thread may be in
            # the middle of sending them (waitress sends from the worker, and a response
            # queued behind others may start long after the client's last byte), or the
            # main loop is about to.  The clock starts at the later of the last byte sent,
            # the response's first bytes queued and a 408.
            if not self.socket_full():
                return None
            since = max(self.last_activity, self.output_since, self.timed_out_at)
            return "stalled" if now - since > settings.idle_timeout else None
        if self.requests:  # a request in flight: how long it runs is the app's business
            return None
        req = self.request
        if req is None:
            return "idle" if now - self.last_activity > settings.idle_timeout else None
        if not req.headers_finished:
            started = max(self.request_started, self.served_at)
            return "headers" if now - started > settings.header_timeout else None
        started = max(self.body_started, self.served_at)
        allowed = settings.body_timeout + req.body_bytes_received / settings.body_min_rate
        return "body" if now - started > allowed else None

    def time_out(self) -> None:
        """Answer 408 and close once it is flushed (main loop thread only)."""
        if self.request is not None:
            self.request.close()
            self.request = None
        with self.outbuf_lock:
            self.outbufs[-1].append(_TIMEOUT)
            self.total_outbufs_len += len(_TIMEOUT)
            self.current_outbuf_count += len(_TIMEOUT)
        self.close_when_flushed = True
        self.timed_out_at = time.time()

    def drop(self) -> None:
        """Close now, without an answer (main loop thread only)."""
        if self.request is not None:
            self.request.close()
            self.request = None
        self.handle_close()

    def add_channel(self, map: dict | None = None) -> None:
        super().add_channel(map)
        self.server.book.add(self)
        self._booked = True

    def del_channel(self, map: dict | None = None) -> None:
        if self._booked:
            self._booked = False
            self.server.book.remove(self)
        super().del_channel(map)


class ConnectionBook:
    """Open channels per client key, shared by the listening sockets of one server."""

    def __init__(self) -> None:
        self.by_client: dict[str, set[AtlasChannel]] = {}
        self.total = 0
        self._lock = threading.Lock()

    def add(self, ch: AtlasChannel) -> None:
        with self._lock:
            self.by_client.setdefault(ch.client, set()).add(ch)
            self.total += 1

    def remove(self, ch: AtlasChannel) -> None:
        with self._lock:
            chans = self.by_client.get(ch.client)
            if chans is not None and ch in chans:
                chans.remove(ch)
                self.total -= 1
                if not chans:
                    del self.by_client[ch.client]

    def count(self, client: str) -> int:
        with self._lock:
            return len(self.by_client.get(client, ()))

    def victim(self, client: str | None = None) -> AtlasChannel | None:
        """The connection to close for a newcomer: of ``client``, or of the heaviest client.

        Idle ones first, the longest idle first; then those still sending
        headers, the oldest request first.
        """
        with self._lock:
            if client is not None:
                groups = [list(self.by_client.get(client, ()))]
            else:
                groups = [list(c) for c in
                          sorted(self.by_client.values(), key=len, reverse=True)]
        for chans in groups:
            candidates = [c for c in chans if c.evictable()]
            if candidates:
                idle = [c for c in candidates if c.request is None]
                if idle:
                    return min(idle, key=lambda c: c.last_activity)
                return min(candidates, key=lambda c: c.request_started)
        return None


class AtlasServer(TcpWSGIServer):
    """waitress's TCP server with the limits of :class:`Settings` (see the module docstring)."""

    channel_class = AtlasChannel

    def __init__(self, application: Any, settings: Settings, book: ConnectionBook,
                 **kw: Any) -> None:
        self.settings = settings
        self.book = book
        self.exempt = {client_key(settings.trusted_proxy)} if settings.trusted_proxy else set()
        self.refused = 0
        self.evicted = 0
        self.timed_out: dict[str, int] = {"idle": 0, "headers": 0, "body": 0, "stalled": 0}
        self._last_warning = 0.0
        self._overflow = False
        super().__init__(application, **kw)

    def readable(self) -> bool:
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        full = (self.book.total >= self.settings.connection_limit
                and self.book.victim() is None)
        if full != self._overflow:
            self._overflow = full
            (log.warning if full else log.info)(
                "every one of %d connections has a request in flight: new connections wait"
                " in the backlog" if full else "accepting connections again",
                self.book.total)
        return not full

    def maintenance(self, now: float) -> None:
        """Close idle connections and requests that did not arrive in time."""
        for ch in list(self.active_channels.values()):
            why = ch.overdue(now, self.settings)
            if why == "idle" and ch.bytes_waiting():
                # The client did send: its bytes wait in the kernel for this loop (which a
                # loaded machine may have kept from running); not idle, read them first.
                continue
            if why in ("idle", "stalled"):
                # Closed here and now: waitress's will_close acts only once the socket is
                # writable, which it never is again for a client that stopped reading.  A
                # task blocked writing to it wakes up to ClientDisconnected.
                ch.drop()
            elif why is not None:
                ch.time_out()
            if why is not None:
                self.timed_out[why] += 1

    def handle_accept(self) -> None:
        try:
            accepted = self.accept()
            if accepted is None:
                return
            conn, addr = accepted
            self.set_socket_options(conn)
        except OSError:
            if self.adj.log_socket_errors:
                self.logger.warning("server accept() threw an exception", exc_info=True)
            return
        addr = self.fix_addr(addr)
        client = client_key(addr[0])
        cap = self.settings.connections_per_client
        if cap and client not in self.exempt and self.book.count(client) >= cap:
            if not self._make_room(client):
                self._refuse(conn, client)
                return
        if self.book.total >= self.settings.connection_limit and not self._make_room(None):
            self._refuse(conn, client)
            return
        self.channel_class(self, conn, addr, self.adj, map=self._map)

    def _make_room(self, client: str | None) -> bool:
        victim = self.book.victim(client)
        if victim is None:
            return False
        victim.drop()
        self.evicted += 1
        return True

    def _refuse(self, conn: socket.socket, client: str) -> None:
        self.refused += 1
        try:
            conn.setblocking(False)
            conn.send(_REFUSED)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            conn.close()
        now = time.time()
        if now - self._last_warning > 10:
            self._last_warning = now
            log.warning("refused a connection from %s: its %d connections all have requests in"
                        " flight (%d refused so far)", client, self.book.count(client),
                        self.refused)


def _raise_fd_limit(settings: Settings) -> Settings:
    """Make room for the connections: a socket each, plus a body file, plus the app's own."""
    need = 2 * settings.connection_limit + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < need:
        limit = max(16, (soft - 256) // 2)
        log.warning("open-file limit %d: serving at most %d connections instead of %d",
                    soft, limit, settings.connection_limit)
        return replace(settings, connection_limit=limit)
    return settings


def create_server(app: Any, settings: Settings) -> AtlasServer | MultiSocketServer:
    """A waitress server for ``app`` with the limits of ``settings`` (not yet running).

    Call ``.run()`` to serve, ``.close()`` to stop.  Like waitress's own
    ``create_server``, a host name that resolves to several addresses gets a
    listening socket each; they share one connection book.
    """
    settings = _raise_fd_limit(settings)
    adj = Adjustments(**adjustments(settings))
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    book = ConnectionBook()
    sockets: dict[int, Any] = {}
    servers = [AtlasServer(app, settings, book, map=sockets, dispatcher=dispatcher, adj=adj,
                           sockinfo=info) for info in adj.listen]
    if len(servers) == 1:
        return servers[0]
    return MultiSocketServer(sockets, adj, [(s.effective_host, s.effective_port) for s in servers],
                             dispatcher, servers[-1].log_info)


def serve(app: Any, settings: Settings) -> None:
    """Serve ``app`` until interrupted (waitress's ``serve`` with the atlas's limits)."""
    server = create_server(app, settings)
    server.print_listen("Serving on http://{}:{}")
    server.run()


def main(argv: list[str] | None = None) -> int:
    """``python -m webmap.core.serving [--host H] [--port P] [--threads N]``.

    Serves the atlas of ``ATLAS_STORE`` / ``ATLAS_DATABASE_URL``; every setting comes
    from the environment (:class:`webmap.core.config.Settings`), the options win over
    ``ATLAS_HOST``/``ATLAS_PORT``/``ATLAS_THREADS``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m webmap.core.serving",
        description="Serve the atlas with waitress and connection limits; every other "
                    "setting comes from the ATLAS_… environment variables (README, "
                    "Deployment).")
    parser.add_argument("--host", help="listen address (ATLAS_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (ATLAS_PORT, default 5000)")
    parser.add_argument("--threads", type=int, help="worker threads (ATLAS_THREADS, default 8)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from webmap import create_app  # the app factory sits above this module: imported late

    # Two malloc arenas for the whole server instead of up to eight per core: each thread's
    # freed memory otherwise stays in its own arena (webmap.core.memory).
    limit_arenas(2)

    overrides = {var: value for var, value in (("ATLAS_HOST", args.host),
                                               ("ATLAS_PORT", args.port),
                                               ("ATLAS_THREADS", args.threads))
                 if value is not None}
    try:
        app = create_app(overrides)
    except SettingsError as e:
        print(f"the atlas cannot start: {e}", file=sys.stderr)
        return 2
    settings: Settings = app.extensions["atlas_settings"]
    log.info("connections: %d in all, %s per client; timeouts: idle %g s, headers %g s, body %g s"
             " + 1 s per %d bytes", settings.connection_limit,
             settings.connections_per_client or "no cap", settings.idle_timeout,
             settings.header_timeout, settings.body_timeout, settings.body_min_rate)
    serve(app, settings)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
