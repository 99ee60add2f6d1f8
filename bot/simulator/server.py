"""The simulator's SSH server: one process, many controllers, one port each.

    async with SimulatorServer(scenario, time_scale=600) as sim:
        port = sim.ports["wlc-a1"]
        wlc = sim.controllers["wlc-a1"]     # the live model (model.Controller)

Each controller gets its own listening socket (127.0.0.1 unless the scenario
or `host=` says otherwise) with a large backlog. Ports that are 0 in the
scenario are picked free below 32768 (the kernel's ephemeral range would
clash with client ports) and then kept for the whole run, so a refused port
reopens on the same number. One host key per server run (generated, or
loaded from `host_key=` / the scenario) keeps known_hosts checks meaningful:
`sim.host_public_key`, `sim.known_hosts()`.

One task advances every controller's model (`tick_interval` real seconds);
each SSH session runs one shell task; `stop()` (or leaving the `async with`)
closes listeners and connections and waits for every task it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncssh

from bot.simulator.aireos import AireOSShell
from bot.simulator.iosxe import IOSXEShell
from bot.simulator.model import AIREOS, Controller
from bot.simulator.scenario import Scenario
from bot.simulator.statefile import read_saved, write_state
from bot.simulator.syslog import SyslogSender
from bot.simulator.terminal import Terminal
from bot.simulator.timebase import TimeBase

log = logging.getLogger(__name__)

DEFAULT_PORT_RANGE = (20000, 32000)
DEFAULT_BACKLOG = 1024


class SimulatorServer:
    """Serves every controller of a scenario over SSH.

    Args:
        scenario: what to serve (`Scenario.load`, `.from_dict`, `.fleet`, `.demo`).
        host: listen address for every controller (default: each scenario entry's
            `host`, itself 127.0.0.1 by default).
        time_scale: simulated seconds per real second.
        state_file: JSON file of saved configuration, read at start, written on change.
        tick_interval: real seconds between two model steps.
        host_key: path of an OpenSSH private key to use instead of a fresh one.
        port_range: where free ports are picked for scenario ports of 0.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        host: str | None = None,
        time_scale: float = 60.0,
        state_file: str | Path | None = None,
        tick_interval: float = 0.05,
        host_key: str | Path | None = None,
        port_range: tuple[int, int] = DEFAULT_PORT_RANGE,
        backlog: int = DEFAULT_BACKLOG,
    ) -> None:
        self.scenario = scenario
        self.timebase = TimeBase(time_scale)
        self.state_file = Path(state_file) if state_file is not None else None
        self.tick_interval = tick_interval
        self.port_range = port_range
        self.backlog = backlog
        key_path = Path(host_key) if host_key is not None else scenario.host_key
        self._host_key = (
            asyncssh.read_private_key(key_path) if key_path else asyncssh.generate_private_key("ssh-ed25519")
        )
        self.controllers: dict[str, Controller] = {}
        self._initial_clocks: dict[str, datetime | None] = {}
        for controller, clock in scenario.build():
            if host is not None:
                controller.host = host
            self.controllers[controller.name] = controller
            self._initial_clocks[controller.name] = clock
        self._listeners: dict[str, _Listener] = {}
        self._connections: set[asyncssh.SSHServerConnection] = set()
        # SSH connections accepted per controller: lets a test prove nothing touched a device.
        self.connections_accepted: dict[str, int] = dict.fromkeys(self.controllers, 0)
        self._blackholes: set[asyncio.Transport] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._tick_task: asyncio.Task[None] | None = None
        self._syslog = SyslogSender()
        self._started = False

    # ------------------------------------------------------------- inspection

    @property
    def ports(self) -> dict[str, int]:
        """Controller name -> TCP port it listens on."""
        return {name: c.port for name, c in self.controllers.items()}

    def address(self, name: str) -> tuple[str, int]:
        c = self.controllers[name]
        return c.host, c.port

    @property
    def host_public_key(self) -> str:
        """The server's public host key, OpenSSH format (`ssh-ed25519 AAAA...`)."""
        return self._host_key.export_public_key("openssh").decode().strip()

    def known_hosts(self) -> str:
        """known_hosts lines for every controller, in both forms clients use:
        plain host (scrapli matches that) and `[host]:port` (OpenSSH, asyncssh)."""
        key = " ".join(self.host_public_key.split()[:2])
        lines = {f"{c.host} {key}" for c in self.controllers.values()}
        lines |= {f"[{c.host}]:{c.port} {key}" for c in self.controllers.values()}
        return "\n".join(sorted(lines)) + "\n"

    def write_known_hosts(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.known_hosts(), encoding="utf-8")
        return path

    @property
    def syslog_sent(self) -> int:
        """Datagrams sent to AP syslog targets so far."""
        return self._syslog.sent

    def ready_line(self) -> str:
        """`ready wlc-a1=127.0.0.1:2201 ...` (what `ccert-bot simulate` prints)."""
        parts = [f"{name}={self._fmt(c.host)}:{c.port}" for name, c in self.controllers.items()]
        return "ready " + " ".join(parts)

    @staticmethod
    def _fmt(host: str) -> str:
        return f"[{host}]" if ":" in host else host

    # -------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Load saved state, start the clock and open every port."""
        if self._started:
            raise RuntimeError("simulator already started")
        self._started = True
        saved = read_saved(self.state_file) if self.state_file else {}
        for name, controller in self.controllers.items():
            if name in saved:
                controller.load_saved(saved[name])
            controller.attach(self.timebase, initial_clock=self._initial_clocks[name])
            controller.syslog_sink = self._syslog.send
            controller.add_change_listener(self._on_change)
        try:
            for controller in self.controllers.values():
                listener = _Listener(self, controller)
                self._listeners[controller.name] = listener  # so that stop() closes a half-open one
                await listener.start()
        except BaseException:
            await self.stop()
            raise
        self._tick_task = asyncio.create_task(self._tick_loop(), name="simulator-tick")
        if self.state_file:
            self._write_state()

    async def stop(self) -> None:
        """Close everything this server opened and wait for its tasks."""
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
            self._tick_task = None
        for listener in self._listeners.values():
            listener.close()
        self._listeners.clear()
        for conn in list(self._connections):
            conn.close()
        for transport in list(self._blackholes):
            transport.abort()
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.wait_closed(), timeout=2)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._syslog.close()
        if self.state_file and self._started:
            self._write_state()

    async def _tick_loop(self) -> None:
        while True:
            sim_t = self.timebase.sim_now()
            for controller in self.controllers.values():
                try:
                    controller.step(sim_t)
                except Exception:  # keep the world turning for the other controllers
                    log.exception("simulator step failed for %s", controller.name)
            await asyncio.sleep(self.tick_interval)

    def step(self) -> None:
        """Advance every model to now, at once (tests call this instead of waiting a tick)."""
        sim_t = self.timebase.sim_now()
        for controller in self.controllers.values():
            controller.step(sim_t)

    def _on_change(self, _controller: Controller) -> None:
        if self.state_file:
            self._write_state()

    def _write_state(self) -> None:
        assert self.state_file is not None
        try:
            write_state(self.state_file, list(self.controllers.values()))
        except OSError:
            log.exception("cannot write simulator state file %s", self.state_file)

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class _Listener:
    """The listening socket of one controller, closed and reopened by the
    `refuse_connections` fault, and the protocol choice per connection
    (`hang_on_connect` gets a silent TCP peer instead of SSH)."""

    def __init__(self, sim: SimulatorServer, controller: Controller) -> None:
        self.sim = sim
        self.controller = controller
        self._server: asyncio.AbstractServer | None = None
        self._options: asyncssh.SSHServerConnectionOptions | None = None
        self._pending: asyncio.Task[None] | None = None
        self._pending_sock: socket.socket | None = None
        self._closed = False

    async def start(self) -> None:
        c = self.controller
        self._options = await asyncssh.SSHServerConnectionOptions.construct(
            server_host_keys=[self.sim._host_key],
            server_factory=lambda: _SSHServer(self.sim, c),
            line_editor=False,
            encoding=None,
            keepalive_interval=0,
            login_timeout=30,
        )
        sock = self._bind()
        if not c.faults.refuse_connections:
            await self._serve(sock)
        else:
            sock.close()
        c.faults.subscribe(self._fault_changed)

    def _bind(self) -> socket.socket:
        c = self.controller
        family = socket.AF_INET6 if ":" in c.host else socket.AF_INET
        candidates = [c.port] if c.port else random.sample(range(*self.sim.port_range), 400)
        last_error: OSError | None = None
        for port in candidates:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((c.host, port))
                sock.listen(self.sim.backlog)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            c.port = sock.getsockname()[1]
            return sock
        raise OSError(f"{c.name}: cannot listen on {c.host}:{c.port or 'any free port'}: {last_error}")

    async def _serve(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, sock=sock, backlog=self.sim.backlog)
        self._pending_sock = None

    def _protocol(self) -> asyncio.BaseProtocol:
        if self.controller.faults.hang_on_connect:
            return _BlackHole(self.sim._blackholes)
        # What asyncssh.listen() builds per connection; used directly so that a
        # connection can be swapped for a silent peer before any SSH byte is sent.
        assert self._options is not None
        return asyncssh.SSHServerConnection(asyncio.get_running_loop(), self._options)

    def _fault_changed(self, name: str) -> None:
        """Apply `refuse_connections` at once: close the listening socket, or
        bind it again (connections queue in the backlog until accepting
        resumes on the next turn of the event loop)."""
        if name != "refuse_connections" or self._closed:
            return
        if self.controller.faults.refuse_connections:
            self._stop_listening()
        elif self._server is None and self._pending_sock is None:
            self._pending_sock = self._bind()
            self._pending = asyncio.get_running_loop().create_task(self._serve(self._pending_sock))
            self.sim._track(self._pending)

    def _stop_listening(self) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
        self._pending = None
        if self._pending_sock is not None:
            self._pending_sock.close()
            self._pending_sock = None
        if self._server is not None:
            self._server.close()  # closes the listening socket now: new connects are refused
            self._server = None

    def close(self) -> None:
        self._closed = True
        self.controller.faults.unsubscribe(self._fault_changed)
        self._stop_listening()


class _BlackHole(asyncio.Protocol):
    """A TCP peer that accepts and reads but never writes (the `hang` fault)."""

    def __init__(self, registry: set[asyncio.Transport]) -> None:
        self._registry = registry
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._registry.add(transport)

    def data_received(self, data: bytes) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._registry.discard(self._transport)


class _SSHServer(asyncssh.SSHServer):
    """Authentication and session creation for one SSH connection."""

    def __init__(self, sim: SimulatorServer, controller: Controller) -> None:
        self.sim = sim
        self.controller = controller
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.sim._connections.add(conn)
        accepted = self.sim.connections_accepted
        accepted[self.controller.name] = accepted.get(self.controller.name, 0) + 1

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.sim._connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        """False (no SSH-level auth) for an AireOS controller in `ssh_auth: none` mode."""
        return self.controller.ssh_auth == "password"

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return self.controller.accepts(username, password)

    def session_requested(self) -> asyncssh.SSHServerSession[bytes]:
        assert self.conn is not None
        return _ShellSession(self.sim, self.controller, self.conn)


class _ShellSession(asyncssh.SSHServerSession[bytes]):
    """Bridges one SSH channel to a platform shell through a `Terminal`."""

    def __init__(self, sim: SimulatorServer, controller: Controller, conn: asyncssh.SSHServerConnection) -> None:
        self.sim = sim
        self.controller = controller
        self.conn = conn
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.terminal = Terminal(self._write)
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any) -> bool:
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        return False

    def session_started(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"shell-{self.controller.name}")
        self.sim._track(self._task)

    def data_received(self, data: bytes, datatype: Any) -> None:
        self.terminal.feed(data)

    def eof_received(self) -> bool:
        self.terminal.feed_eof()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.terminal.feed_eof()

    def _write(self, data: bytes) -> None:
        if self.chan is None:
            return
        with contextlib.suppress(Exception):
            self.chan.write(data)

    async def _run(self) -> None:
        peer = (self.conn.get_extra_info("peername") or ("127.0.0.1",))[0]
        username = self.conn.get_extra_info("username") or self.controller.username
        shell_class = AireOSShell if self.controller.platform == AIREOS else IOSXEShell
        shell = shell_class(
            self.controller,
            self.terminal,
            username=username,
            peer=peer,
            close=self.conn.close,
            abort=self.conn.abort,
        )
        try:
            await shell.run()
        except Exception:
            log.exception("simulated shell of %s failed", self.controller.name)
            self.conn.close()
