"""Bounded serving for the miner's axon: a connection cap, per-phase read deadlines, a header
size limit, and accept errors that are counted instead of logged per accept.

aiohttp's server has a keep-alive timeout and body/line size limits, but no connection cap and
no deadline for a request that is still arriving: an attacker who opens connections and sends
nothing, or one header byte a second, holds a socket (and a file descriptor) for as long as he
likes, and once the process runs out of descriptors no validator gets in.

The seam is the asyncio protocol. :class:`BoundedSite` is an ``aiohttp.web.BaseSite`` that
listens with ``loop.create_server`` and wraps each of aiohttp's per-connection
``RequestHandler`` protocols in a :class:`_GuardedConnection`. The guard forwards the five
``asyncio.Protocol`` callbacks unchanged and only watches the bytes go by. We chose this seam
over the alternatives because it relies only on the asyncio protocol contract and on
``BaseSite``/``runner.server``, which are public and stable across aiohttp 3.x; subclassing
``RequestHandler`` or hooking its parser would tie us to private attributes that change
between minor releases (3.14 alone reworked its keep-alive and message queue).

Per connection the guard follows HTTP/1.1 framing just far enough to time each phase:

* **idle**: connected but no byte of a request yet; closed after ``idle_timeout``. Between
  requests on a kept-alive connection aiohttp's own ``keepalive_timeout`` (set to the same
  value) does this job, since only aiohttp knows when its response is complete.
* **headers**: from the first byte until the blank line; closed after ``header_timeout``,
  or at once with 431 when the header block exceeds ``max_header_bytes``.
* **body**: ``Content-Length`` bytes; closed after ``body_timeout``. A chunked body cannot be
  framed without a full parser, so on such a connection the guard stops timing later requests
  and leaves them to aiohttp's keep-alive timeout and the axon's body size limit.

At the cap, a new connection first displaces the oldest connection that has not yet sent a
complete request header (an idle or slow-loris socket costs its owner nothing to reopen, and a
real caller sends its request within milliseconds of connecting); only when every connection
is busy with a real request is the newcomer refused, with a canned 503 and no traceback.
"""

from __future__ import annotations

import asyncio
import errno
import re
import resource
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from aiohttp import web

from common.listen import ListenError, listen_problem

# Descriptors kept back from the connection cap for everything else the process opens (the
# listening sockets, the metrics listener and its scrapes, the chain websocket, log files)
# and for sockets in flight: asyncio accepts a batch before our factory sees any of them, and
# a closed socket's descriptor is released a loop iteration later. At least this many, and
# at least a quarter of the limit.
FD_RESERVE = 128

_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:[ \t]*(\d+)[ \t]*(?=\r\n)", re.I)
_TRANSFER_ENCODING = re.compile(rb"\r\ntransfer-encoding[ \t]*:", re.I)

# Answers written straight to the socket: no request object, no handler, no log line.
_OVER_CAPACITY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Connection: close\r\nRetry-After: 1\r\nContent-Length: 80\r\n\r\n"
    b'{"error": "too_many_connections", "detail": "miner is at its connection cap"}  \n'
)
_HEADER_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\n"
    b"Connection: close\r\nContent-Length: 68\r\n\r\n"
    b'{"error": "header_too_large", "detail": "request header too large"}\n'
)

# Why the guard closed a connection: the ``reason`` label of the closed-connections counter.
CLOSE_REASONS = (
    "over_capacity",
    "displaced",
    "idle_timeout",
    "header_timeout",
    "body_timeout",
    "header_too_large",
)


@dataclass(frozen=True)
class ServingLimits:
    max_connections: int
    idle_timeout: float
    header_timeout: float
    body_timeout: float
    max_header_bytes: int


class ConnectionEvents(Protocol):
    """Where the guard reports what it did; NeuronMetrics implements it for the miner."""

    def connection_closed(self, reason: str) -> None: ...

    def accept_error(self, error: str) -> None: ...


def fd_budget(wanted_connections: int, *, reserve: int = FD_RESERVE) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE towards the hard limit as far as ``wanted_connections``
    needs, and return ``(connection cap that fits, soft limit)``.

    A cap above the descriptor limit is no cap: accept() fails with EMFILE first, and then
    nobody gets in. Raising soft up to hard needs no privilege; the hard limit is the
    operator's (systemd ``LimitNOFILE``).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(wanted_connections + reserve, wanted_connections * 4 // 3)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if target > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    if soft == resource.RLIM_INFINITY:
        return wanted_connections, soft
    return max(1, min(wanted_connections, soft - max(reserve, soft // 4))), soft


class ConnectionGuard:
    """The shared state of one listener: open connections, the cap, and who can be displaced."""

    def __init__(
        self,
        limits: ServingLimits,
        events: ConnectionEvents,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
    ):
        self.limits = limits
        self.events = events
        self.open = 0
        self._loop = loop
        # Connections without a complete request header, oldest first: the ones a newcomer
        # may displace at the cap.
        self._waiting: OrderedDict[_GuardedConnection, None] = OrderedDict()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def protocol(self, make_handler: Callable[[], asyncio.Protocol]) -> asyncio.Protocol:
        """A protocol for a just-accepted socket (the ``loop.create_server`` factory)."""
        if self.open >= self.limits.max_connections:
            if not self._waiting:
                self.events.connection_closed("over_capacity")
                return _Refuse()
            oldest = next(iter(self._waiting))
            oldest.close("displaced")
        return _GuardedConnection(self, make_handler())

    # --- bookkeeping called by the connections

    def opened(self, conn: _GuardedConnection) -> None:
        self.open += 1
        self._waiting[conn] = None

    def closed(self, conn: _GuardedConnection) -> None:
        # Called at close time, not at connection_lost (a loop iteration later), so a
        # displaced connection frees its place for the newcomer at once.
        self.open -= 1
        self._waiting.pop(conn, None)

    def waiting(self, conn: _GuardedConnection, is_waiting: bool) -> None:
        if is_waiting:
            self._waiting[conn] = None
            self._waiting.move_to_end(conn)
        else:
            self._waiting.pop(conn, None)


class _Refuse(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(_OVER_CAPACITY)
        transport.close()


_IDLE, _HEADERS, _BODY, _AFTER, _UNFRAMED = range(5)


class _GuardedConnection(asyncio.Protocol):
    """aiohttp's protocol for one connection, with deadlines on each read phase."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol):
        self._guard = guard
        self._inner = inner
        self._transport: asyncio.Transport | None = None
        self._state = _IDLE
        self._header = bytearray()  # the current request's header block so far
        self._body_left = 0
        self._timer: asyncio.TimerHandle | None = None
        self._closed_reason: str | None = None

    # --- asyncio.Protocol, forwarded

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._guard.opened(self)
        self._arm(self._guard.limits.idle_timeout, "idle_timeout")
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._closed_reason is None:
            self._closed_reason = "lost"
            self._guard.closed(self)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def data_received(self, data: bytes) -> None:
        if self._closed_reason is not None:
            return
        if self._state != _UNFRAMED and not self._track(data):
            return
        self._inner.data_received(data)

    # --- framing, just enough to time the phases

    def _track(self, data: bytes) -> bool:
        """Advance the phase over ``data``; False if the connection was closed for it."""
        view = memoryview(data)
        while view and self._state not in (_UNFRAMED,):
            if self._state in (_IDLE, _AFTER):
                self._start_headers()
            if self._state == _HEADERS:
                view = self._feed_header(view)
                if view is None:
                    return False
            elif self._state == _BODY:
                used = min(len(view), self._body_left)
                self._body_left -= used
                view = view[used:]
                if self._body_left == 0:
                    self._end_request()
        return True

    def _start_headers(self) -> None:
        self._state = _HEADERS
        self._header.clear()
        self._guard.waiting(self, True)
        self._arm(self._guard.limits.header_timeout, "header_timeout")

    def _feed_header(self, view: memoryview) -> memoryview | None:
        # Search only the new bytes plus the three before them: a terminator may straddle.
        start = max(0, len(self._header) - 3)
        self._header += view
        end = self._header.find(_HEADER_END, start)
        limit = self._guard.limits.max_header_bytes
        if end < 0:
            if len(self._header) > limit:
                self.close("header_too_large", answer=_HEADER_TOO_LARGE)
                return None
            return memoryview(b"")
        if end + 4 > limit:
            self.close("header_too_large", answer=_HEADER_TOO_LARGE)
            return None
        block = bytes(self._header[: end + 2])
        rest = memoryview(bytes(self._header[end + 4 :]))
        self._header.clear()
        self._guard.waiting(self, False)
        if _TRANSFER_ENCODING.search(block):
            self._state = _UNFRAMED
            self._disarm()
            return memoryview(b"")
        match = _CONTENT_LENGTH.search(block)
        self._body_left = int(match.group(1)) if match else 0
        if self._body_left:
            self._state = _BODY
            self._arm(self._guard.limits.body_timeout, "body_timeout")
        else:
            self._end_request()
        return rest

    def _end_request(self) -> None:
        # The response is aiohttp's business now; its keep-alive timeout closes the
        # connection if no next request follows.
        self._state = _AFTER
        self._disarm()

    # --- deadlines

    def _arm(self, seconds: float, reason: str) -> None:
        self._disarm()
        self._timer = self._guard.loop.call_later(seconds, self.close, reason)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self, reason: str, *, answer: bytes | None = None) -> None:
        if self._closed_reason is not None or self._transport is None:
            return
        self._closed_reason = reason
        self._disarm()
        self._guard.closed(self)
        self._guard.events.connection_closed(reason)
        if answer is not None:
            self._transport.write(answer)
            self._transport.close()
        else:
            # A socket that stalled owes us no graceful goodbye: drop it without lingering.
            self._transport.abort()


class BoundedSite(web.BaseSite):
    """A TCP listener for an aiohttp runner whose connections go through a ConnectionGuard."""

    __slots__ = ("_guard", "_host", "_port", "_reuse_address")

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        guard: ConnectionGuard,
        *,
        # asyncio accepts up to ``backlog`` sockets per loop tick before reading any of them;
        # a smaller batch lets a real caller's request bytes be read before a flood of
        # newcomers has displaced it.
        backlog: int = 128,
        reuse_address: bool = True,
    ):
        super().__init__(runner, backlog=backlog)
        self._host = host
        self._port = port
        self._guard = guard
        self._reuse_address = reuse_address

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        sockets = self._server.sockets if self._server else []
        return sockets[0].getsockname()[1] if sockets else self._port

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None, "runner.setup() first"
        self._server = await asyncio.get_running_loop().create_server(
            lambda: self._guard.protocol(server),
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
        )


class AcceptErrorReporter:
    """A loop exception handler that turns accept() failures into a counter and one log line
    per interval, and passes every other error on.

    When the process is out of descriptors asyncio reports each failed accept() through the
    loop's exception handler with a full traceback; under a connection flood that is a
    disk-filling attack of its own.
    """

    def __init__(
        self,
        events: ConnectionEvents,
        interval: float,
        log: structlog.typing.FilteringBoundLogger,
        *,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._events = events
        self._interval = interval
        self._log = log
        self._clock = clock
        self._previous: Callable | None = None
        self._last_logged: float | None = None
        self._unlogged = 0

    @staticmethod
    def is_accept_error(context: dict) -> bool:
        exc = context.get("exception")
        if isinstance(exc, OSError) and "accept" in str(context.get("message", "")):
            return True
        # After EMFILE asyncio retries the accept on a timer; if the listener closed in the
        # meantime each pending retry fails with "Invalid file descriptor" and a traceback.
        return isinstance(exc, ValueError) and "_start_serving" in repr(context.get("handle"))

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        if not self.is_accept_error(context):
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        exc = context["exception"]
        code = getattr(exc, "errno", None)
        name = errno.errorcode.get(code, "other") if code else "closed_listener"
        self._events.accept_error(name)
        self._unlogged += 1
        now = self._clock()
        if self._last_logged is None or now - self._last_logged >= self._interval:
            self._log.error(
                "accept failing; new connections are not being served",
                error=name,
                detail=getattr(exc, "strerror", None) or str(exc),
                failures_since_last_report=self._unlogged,
                next_report_in_seconds=self._interval,
            )
            self._last_logged = now
            self._unlogged = 0

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """For the rest of the loop's life: accept retries outlive the listener (see above)."""
        self._previous = loop.get_exception_handler()
        loop.set_exception_handler(self)

    def uninstall(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop.get_exception_handler() is self:
            loop.set_exception_handler(self._previous)


async def start_site(
    app: web.Application, host: str, port: int, *, section: str
) -> tuple[web.AppRunner, int]:
    """Start ``app`` on host:port; returns the runner and the bound port (port 0 = any).

    A bind that fails raises :class:`~common.listen.ListenError` naming ``section.host`` or
    ``section.port``, the config fields that set this address.
    """
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await _start_or_explain(site, runner, host, port, section)
    sockets = site._server.sockets if site._server else []  # aiohttp keeps no public accessor
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, bound


async def _start_or_explain(
    site: web.BaseSite, runner: web.AppRunner, host: str, port: int, section: str
) -> None:
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        problem = listen_problem(
            exc, host, port, host_field=f"{section}.host", port_field=f"{section}.port"
        )
        raise ListenError(problem) from None


async def start_bounded_site(
    app: web.Application, host: str, port: int, guard: ConnectionGuard, *, section: str = "axon"
) -> tuple[web.AppRunner, int]:
    """Start ``app`` behind ``guard``; returns the runner and the bound port (port 0 = any)."""
    limits = guard.limits
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        # Between requests the idle deadline is aiohttp's: only it knows a response is done.
        keepalive_timeout=limits.idle_timeout,
        # An early refusal leaves the body unread; aiohttp drains it for this long at most.
        lingering_time=min(10.0, limits.body_timeout),
        max_field_size=limits.max_header_bytes,
    )
    await runner.setup()
    site = BoundedSite(runner, host, port, guard)
    await _start_or_explain(site, runner, host, port, section)
    return runner, site.port
