"""The AP syslog receiver: UDP and TCP servers on the bot's event loop.

Why in the bot process: the AP's own log is the one certain sign of
CSCwd80290 (an AP Downloading for 10 minutes may just be downloading), so a
failure line lets the alert fire at once instead of after the stuck
threshold, and a "not yet valid" line tells a running time-back that it went
too far back while the operator is still in the thread.

Shape, and why:
- protocols only count, bound and enqueue (they run inside the loop's I/O
  callbacks and must be cheap); one worker task parses, matches and
  correlates, yielding to the loop every `yield_every` messages, so a flood
  cannot starve Slack or the scheduler;
- the queue is bounded in messages and bytes; beyond it messages are dropped
  and counted (`dropped_queue_full`), never buffered;
- a per-sender token bucket (`rate_per_sender`, on by default) keeps one
  noisy device from filling the queue and hiding the APs' lines;
- TCP connections are capped, idle ones closed, frames bounded (framing.py).

Settings: `CCERT_SYSLOG_LISTEN` (e.g. `udp://0.0.0.0:5514,tcp://0.0.0.0:5514`),
off by default; `listen_spec.parse_listen_spec` turns it into `ListenSpec`s with
errors an operator can act on.

Beside this module (the server: sockets, queue, worker, hooks): `listen_spec`
(the address parser), `rate_limit` (the per-sender bucket) and `protocols` (the
asyncio protocols that frame and hand messages to `accept`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import inspect
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType

from bot.domain.ap_log import APLogEntry
from bot.domain.models import AccessPoint, ControllerSnapshot
from bot.syslog.correlate import Correlator, UnknownSender
from bot.syslog.listen_spec import ListenSpec, Transport, parse_listen_spec
from bot.syslog.messages import DEFAULT_MAX_BYTES
from bot.syslog.pipeline import (
    DEFAULT_NOTIFY_COOLDOWN,
    SyslogCounters,
    SyslogEvent,
    SyslogProcessor,
    utcnow,
)
from bot.syslog.protocols import TcpProtocol, UdpProtocol
from bot.syslog.rate_limit import SenderRateLimiter
from bot.syslog.signatures import SignatureSet

log = logging.getLogger(__name__)


# A hook gets (controller name or None, the AP from the snapshot or None, the event).
SyslogHook = Callable[[str | None, AccessPoint | None, SyslogEvent], Awaitable[None] | None]


class SyslogListenError(OSError):
    """A socket could not be opened; the message names the address and a likely fix."""


@dataclass(frozen=True)
class ListenerOptions:
    """Bounds and knobs; the defaults suit a bot with thousands of APs.

    Worst-case memory held by the queue is `max_queue_bytes` (plus a small
    per-item overhead), whatever arrives.
    """

    queue_size: int = 10_000
    max_queue_bytes: int = 8 * 1024 * 1024
    max_message_bytes: int = DEFAULT_MAX_BYTES
    max_tcp_connections: int = 256
    tcp_idle_timeout: float | None = 600.0
    rate_per_sender: float | None = 1000.0
    rate_burst: float = 2000.0
    max_rate_senders: int = 4096
    yield_every: int = 64
    max_hook_tasks: int = 32
    notify_cooldown: timedelta = DEFAULT_NOTIFY_COOLDOWN
    udp_receive_buffer: int | None = 1 << 20

    def __post_init__(self) -> None:
        for name in ("queue_size", "max_queue_bytes", "max_message_bytes", "max_tcp_connections", "yield_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.rate_per_sender is not None and self.rate_per_sender <= 0:
            raise ValueError("rate_per_sender must be positive (or None for no limit)")


@dataclass(frozen=True)
class SyslogStatus:
    """For `/ccert`-level reporting: where it listens, what it counted, who it could not place."""

    listening: tuple[str, ...]
    counters: SyslogCounters
    tracked_aps: int
    known_aps: int
    queued: int
    tcp_connections: int
    unknown_senders: tuple[UnknownSender, ...] = field(default=())


class SyslogListener:
    """UDP/TCP syslog servers + the worker that feeds the correlator.

    Use as `async with SyslogListener(specs, ...) as listener:` or call
    `start()`/`stop()`. After start, `bound` lists the actual addresses
    (port 0 resolved) and `port("udp")` gives one.

    Hooks, each `hook(controller, ap, event)`, sync or async (an async one
    runs as a task, at most `max_hook_tasks` at a time, beyond that dropped
    and counted):
    - `on_not_yet_valid`: a `%PKI-3-CERTIFICATE_INVALID_NOT_YET_VALID` line,
      at most once per AP (or unknown sender) per `notify_cooldown`;
      `controller`/`ap` are None when the sender is unknown.
    - `on_failure`: an AP starts a failure episode (its first image-cert
      failure, or the first after a success or after the window lapsed).
    A hook that raises is counted (`hook_errors`) and logged, never fatal.
    """

    def __init__(
        self,
        specs: Sequence[ListenSpec] | str,
        *,
        correlator: Correlator | None = None,
        signatures: SignatureSet | None = None,
        options: ListenerOptions | None = None,
        on_not_yet_valid: SyslogHook | None = None,
        on_failure: SyslogHook | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.specs: list[ListenSpec] = parse_listen_spec(specs) if isinstance(specs, str) else list(specs)
        self.options = options or ListenerOptions()
        self.counters = SyslogCounters()
        self.correlator = correlator or Correlator(clock=clock)
        self.processor = SyslogProcessor(
            signatures,
            self.correlator,
            self.counters,
            max_message_bytes=self.options.max_message_bytes,
            notify_cooldown=self.options.notify_cooldown,
            clock=clock,
        )
        self.on_not_yet_valid = on_not_yet_valid
        self.on_failure = on_failure
        self.limiter = (
            SenderRateLimiter(self.options.rate_per_sender, self.options.rate_burst, self.options.max_rate_senders)
            if self.options.rate_per_sender is not None
            else None
        )
        self.bound: list[ListenSpec] = []
        self._udp: list[asyncio.DatagramTransport] = []
        self._servers: list[asyncio.Server] = []
        self._connections: set[TcpProtocol] = set()
        self._queue: asyncio.Queue[tuple[bytes, str, str]] | None = None
        self._queued_bytes = 0
        self._worker: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._hook_tasks: set[asyncio.Future[None]] = set()

    # -------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        return self._worker is not None

    async def start(self) -> None:
        """Open every socket, then start the worker. On any bind error nothing stays open."""
        if self._worker is not None:
            return
        loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(self.options.queue_size)
        self._queued_bytes = 0
        try:
            for spec in self.specs:
                self.bound.append(await self._open(loop, spec))
        except OSError as exc:
            failed = self.specs[len(self.bound)]
            await self._close_endpoints()
            self._queue = None
            raise SyslogListenError(exc.errno, _bind_error(failed, exc)) from exc
        self._worker = asyncio.create_task(self._run_worker(), name="syslog-worker")
        if self._servers and self.options.tcp_idle_timeout:
            self._sweeper = asyncio.create_task(self._sweep_idle(self.options.tcp_idle_timeout), name="syslog-idle")
        if self.bound:
            log.info("syslog listening on %s", ", ".join(map(str, self.bound)))

    async def stop(self, hook_grace: float = 1.0) -> None:
        """Close the sockets and connections, stop the worker, give running hooks
        `hook_grace` seconds, then cancel them. Idempotent."""
        await self._close_endpoints()
        for task in (self._worker, self._sweeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._worker = self._sweeper = None
        if self._hook_tasks:
            pending = set(self._hook_tasks)
            _, still = await asyncio.wait(pending, timeout=hook_grace)
            for hook_task in still:
                hook_task.cancel()
            if still:
                await asyncio.wait(still, timeout=hook_grace)
        self._queue = None
        self._queued_bytes = 0

    async def __aenter__(self) -> SyslogListener:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _open(self, loop: asyncio.AbstractEventLoop, spec: ListenSpec) -> ListenSpec:
        if spec.transport == "udp":
            transport, _ = await loop.create_datagram_endpoint(
                lambda: UdpProtocol(self), local_addr=(spec.host, spec.port)
            )
            self._udp.append(transport)
            sock = transport.get_extra_info("socket")
            if self.options.udp_receive_buffer:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.options.udp_receive_buffer)
            port = sock.getsockname()[1]
        else:
            server = await loop.create_server(
                lambda: TcpProtocol(self), spec.host, spec.port, reuse_address=True, backlog=128
            )
            self._servers.append(server)
            port = server.sockets[0].getsockname()[1]
        return ListenSpec(spec.transport, spec.host, int(port))

    async def _close_endpoints(self) -> None:
        for transport in self._udp:
            transport.close()
        self._udp.clear()
        for server in self._servers:
            server.close()
        for conn in list(self._connections):
            if conn.transport is not None:
                conn.transport.abort()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        self._servers.clear()
        self._connections.clear()
        self.bound = []
        await asyncio.sleep(0)  # let transports run their connection_lost callbacks

    def port(self, transport: Transport = "udp") -> int:
        """The actual port of the first bound address of `transport`."""
        for spec in self.bound:
            if spec.transport == transport:
                return spec.port
        raise LookupError(f"not listening on {transport}")

    # ------------------------------------------------------- feeding the worker

    @property
    def max_message_bytes(self) -> int:
        """The longest message kept (the TCP framer's bound too)."""
        return self.options.max_message_bytes

    def accept(self, data: bytes, source: str, transport: str) -> None:
        """Called from protocol callbacks (`protocols.py`): count, bound, enqueue. Never blocks."""
        counters = self.counters
        counters.received += 1
        size = len(data)
        if size > self.options.max_message_bytes:
            counters.oversized += 1
            return
        if self.limiter is not None and not self.limiter.allow(source):
            counters.dropped_rate_limited += 1
            return
        queue = self._queue
        if queue is None or self._queued_bytes + size > self.options.max_queue_bytes:
            counters.dropped_queue_full += 1
            return
        try:
            queue.put_nowait((data, source, transport))
        except asyncio.QueueFull:
            counters.dropped_queue_full += 1
            return
        self._queued_bytes += size

    async def _run_worker(self) -> None:
        queue = self._queue
        assert queue is not None
        handle = self.processor.handle
        every = self.options.yield_every
        n = 0
        while True:
            data, source, transport = await queue.get()
            self._queued_bytes -= len(data)
            try:
                event = handle(data, source, transport)
                if event is not None:
                    self._dispatch(event)
            except Exception:
                self.counters.internal_errors += 1
                if _power_of_two(self.counters.internal_errors):  # bounded logging under a flood
                    log.exception("syslog: message from %s could not be processed", source)
            finally:
                queue.task_done()
            n += 1
            if n >= every:
                n = 0
                await asyncio.sleep(0)  # a non-empty queue never suspends get(): yield explicitly

    async def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is processed (tests, shutdown). False on timeout."""
        if self._queue is None:
            return True
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------------ hooks

    def _dispatch(self, event: SyslogEvent) -> None:
        if event.notify and self.on_not_yet_valid is not None:
            self._call(self.on_not_yet_valid, event)
        if event.newly_confirmed and self.on_failure is not None:
            self._call(self.on_failure, event)

    def _call(self, hook: SyslogHook, event: SyslogEvent) -> None:
        try:
            result = hook(event.controller, event.ap, event)
        except Exception:
            self.counters.hook_errors += 1
            log.exception("syslog hook %r failed for %s", getattr(hook, "__name__", hook), event.ap_name)
            return
        if not inspect.isawaitable(result):
            return
        if len(self._hook_tasks) >= self.options.max_hook_tasks:
            self.counters.hooks_dropped += 1
            if inspect.iscoroutine(result):
                result.close()
            return
        task = asyncio.ensure_future(result)
        self._hook_tasks.add(task)
        task.add_done_callback(self._hook_done)

    def _hook_done(self, task: asyncio.Future[None]) -> None:
        self._hook_tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.counters.hook_errors += 1
            log.error("syslog hook failed: %s", exc, exc_info=exc)

    # ------------------------------------------------------------ TCP clients

    def register(self, conn: TcpProtocol) -> bool:
        if len(self._connections) >= self.options.max_tcp_connections or self._queue is None:
            self.counters.connections_rejected += 1
            return False
        self._connections.add(conn)
        return True

    def unregister(self, conn: TcpProtocol) -> None:
        self._connections.discard(conn)

    async def _sweep_idle(self, idle: float) -> None:
        """Close TCP connections silent for `idle` seconds, so idle clients cannot hold every slot."""
        while True:
            await asyncio.sleep(max(idle / 4, 0.05))
            cutoff = time.monotonic() - idle
            for conn in list(self._connections):
                if conn.last_activity < cutoff and conn.transport is not None:
                    conn.transport.close()

    # ---------------------------------------------------------------- reading

    def update_inventory(self, snapshots: Iterable[ControllerSnapshot]) -> None:
        """Feed the latest snapshots (after every fleet check) so senders map to APs."""
        self.correlator.update_inventory(snapshots)

    def confirmed(self, controller: str, now: datetime | None = None) -> dict[str, datetime]:
        """AP name → confirmed-since, for `evaluate_alerts(confirmed=...)` (see Correlator.confirmed)."""
        return self.correlator.confirmed(controller, now)

    def logged(self, controller: str, ap: str, now: datetime | None = None) -> APLogEntry | None:
        """What the AP logged to begin its confirmed failure, for the alert's thread (see Correlator.logged)."""
        return self.correlator.logged(controller, ap, now)

    def status(self, unknown_limit: int = 20) -> SyslogStatus:
        return SyslogStatus(
            listening=tuple(str(s) for s in self.bound),
            counters=self.counters.snapshot(),
            tracked_aps=self.correlator.tracked_aps,
            known_aps=self.correlator.known_aps,
            queued=self._queue.qsize() if self._queue is not None else 0,
            tcp_connections=len(self._connections),
            unknown_senders=tuple(self.correlator.unknown_senders()[:unknown_limit]),
        )


def _power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _bind_error(spec: ListenSpec, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    hint = ""
    if exc.errno in (errno.EACCES, errno.EPERM) and 0 < spec.port < 1024:
        hint = (
            "; ports below 1024 need root or CAP_NET_BIND_SERVICE: listen on e.g. 5514 and point the "
            "AP syslog host there (or redirect 514 to it)"
        )
    elif exc.errno == errno.EADDRINUSE:
        hint = "; another process already listens there: pick another port in CCERT_SYSLOG_LISTEN"
    elif exc.errno == errno.EADDRNOTAVAIL:
        hint = "; this host has no such address: use 0.0.0.0 or one of its own addresses"
    return f"cannot listen on {spec}: {reason}{hint}"


__all__ = [
    "ListenerOptions",
    "SyslogHook",
    "SyslogListenError",
    "SyslogListener",
    "SyslogStatus",
]
