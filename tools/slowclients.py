"""Clients that hold connections without finishing a request: idle ones and slowloris.

Used by ``tests/test_serving.py`` against a real server on 127.0.0.1 (asserting the
answers) and by the load section of ``make bench`` (``benchmarks/load.py``, reporting
how fast a normal client is answered meanwhile).  Everything is bounded: a fixed number
of sockets, a background thread that stops when the ``with`` block ends, every socket
closed.

Examples
--------
>>> Attack("127.0.0.1", 9, idle=0, slow=0).open_count()
0
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass, field


def _connect(host: str, port: int, source: str | None = None,
             timeout: float = 5.0) -> socket.socket | None:
    try:
        s = socket.create_connection((host, port), timeout=timeout,
                                     source_address=(source, 0) if source else None)
    except OSError:
        return None
    s.setblocking(False)
    return s


def _closed_by_peer(s: socket.socket) -> bool:
    """Whether the server closed (or reset) ``s``; reads and drops whatever it sent."""
    try:
        data = s.recv(4096)
    except BlockingIOError:
        return False
    except OSError:
        return True
    return data == b""


@dataclass
class Attack:
    """``idle`` connections that send nothing and ``slow`` slowloris connections.

    A slowloris connection sends a request line and then one header byte every
    ``tick`` seconds, never the blank line that ends the headers.  With
    ``reconnect`` the attacker replaces every connection the server closes (as
    the slowloris tool does), once per tick.  ``source`` is the local address to
    connect from (any 127.x.y.z is loopback on Linux: several "clients").

    Attributes
    ----------
    opened, closed_by_server : int
        Connections made, and connections the server closed, over the attack.
    """

    host: str
    port: int
    idle: int = 200
    slow: int = 20
    tick: float = 1.0
    reconnect: bool = True
    source: str | None = None
    opened: int = 0
    closed_by_server: int = 0
    _idle: list = field(default_factory=list)
    _slow: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def open_count(self) -> int:
        """Connections currently held open (as far as the attacker knows)."""
        return sum(s is not None for s in self._idle + self._slow)

    def _open_idle(self) -> socket.socket | None:
        s = _connect(self.host, self.port, self.source)
        self.opened += s is not None
        return s

    def _open_slow(self) -> socket.socket | None:
        s = _connect(self.host, self.port, self.source)
        if s is None:
            return None
        self.opened += 1
        try:
            s.send(b"GET / HTTP/1.1\r\nHost: atlas\r\nX-a: ")
        except OSError:
            s.close()
            return None
        return s

    def __enter__(self) -> Attack:
        self._idle = [self._open_idle() for _ in range(self.idle)]
        self._slow = [self._open_slow() for _ in range(self.slow)]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            for pool, opener, trickle in ((self._idle, self._open_idle, False),
                                          (self._slow, self._open_slow, True)):
                for i, s in enumerate(pool):
                    if self._stop.is_set():
                        return
                    if s is not None and trickle:
                        try:
                            s.send(b"a")  # one header byte per tick
                        except (BlockingIOError, InterruptedError):
                            pass
                        except OSError:
                            s.close()
                            pool[i] = s = None
                            self.closed_by_server += 1
                    if s is not None and _closed_by_peer(s):
                        s.close()
                        pool[i] = s = None
                        self.closed_by_server += 1
                    if s is None and self.reconnect:
                        pool[i] = opener()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        for s in self._idle + self._slow:
            if s is not None:
                s.close()
        self._idle, self._slow = [], []


def get(host: str, port: int, path: str, timeout: float,
        source: str | None = None) -> tuple[int, bytes]:
    """A normal client's GET on a fresh connection: (status, body); OSError when none came."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def time_to_answer(host: str, port: int, path: str, give_up_s: float) -> tuple[float, str]:
    """Seconds until ``path`` answered and what (``"200"``, ``"timeout"``, an error), for reports."""
    t0 = time.monotonic()
    try:
        status, _ = get(host, port, path, timeout=give_up_s)
        outcome = str(status)
    except TimeoutError:
        outcome = "timeout"
    except OSError as e:
        outcome = type(e).__name__
    return time.monotonic() - t0, outcome
