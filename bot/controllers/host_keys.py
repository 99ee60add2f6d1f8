"""Controller SSH host keys: fetch them (like `ssh-keyscan`) and merge them into a known_hosts file.

With strict host keys a fresh machine trusts no controller, and an operator
typing 300 `ssh-keyscan` lines by hand is how a wrong key gets trusted. This
module does the three careful parts once:

- `fetch_host_key`: only the SSH key exchange, no credentials, with one-line
  reasons for failures an engineer recognises (refused, timed out, ...).
- `known_hosts_line`: `host` for port 22, `[host]:port` otherwise, which is
  what asyncssh (the bot's sessions) looks up.
- `merge_known_hosts`: a pure function deciding, with asyncssh's own matching
  rules (hashed names, patterns, the `[host]:port` -> `host` fallback,
  `@revoked`), whether a fetched key is already trusted, new, or *different*
  from what the file trusts. A different key is never written: it is a
  conflict for the operator to judge (re-keyed controller or man-in-the-middle).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncssh

DEFAULT_SSH_PORT = 22


@dataclass(frozen=True)
class HostKey:
    """A public host key as OpenSSH writes it: algorithm name and base64 blob."""

    algorithm: str
    data: str

    @classmethod
    def from_ssh_key(cls, key: asyncssh.SSHKey) -> HostKey:
        algorithm, data, *_comment = key.export_public_key("openssh").decode("ascii").split()
        return cls(algorithm, data)

    @property
    def blob(self) -> bytes:
        return base64.b64decode(self.data)

    @property
    def openssh(self) -> str:
        return f"{self.algorithm} {self.data}"

    @property
    def fingerprint(self) -> str:
        """`SHA256:...` exactly as `ssh`/`ssh-keygen -l` print it, to compare with the controller's console."""
        digest = hashlib.sha256(self.blob).digest()
        return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class FetchedKey:
    """What one controller presented, plus the addresses its name resolved to (asyncssh matches those too)."""

    key: HostKey
    addresses: tuple[str, ...]


class HostKeyFetchError(Exception):
    """A controller whose key could not be fetched, with a reason fit for one output line.

    `kind` lets a caller react to a class of failure (e.g. "kex": the
    controller offers none of the requested key types) without parsing words.
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def known_hosts_host(host: str, port: int) -> str:
    """The host field asyncssh looks up: `[host]:port` unless the port is 22."""
    return host if port == DEFAULT_SSH_PORT else f"[{host}]:{port}"


def known_hosts_line(host: str, port: int, key: HostKey) -> str:
    return f"{known_hosts_host(host, port)} {key.openssh}"


def classify_fetch_failure(exc: BaseException, timeout: float) -> HostKeyFetchError:
    """One line an engineer recognises; never exception repr soup (and never a traceback)."""
    if isinstance(exc, TimeoutError):
        return HostKeyFetchError("timeout", f"timed out after {timeout:g}s (no SSH answer: host down or filtered?)")
    if isinstance(exc, socket.gaierror):
        return HostKeyFetchError("unresolved", "name not resolved (check the host in the inventory, or DNS)")
    if isinstance(exc, ConnectionRefusedError):
        return HostKeyFetchError("refused", "connection refused (nothing listening: SSH disabled or wrong port?)")
    if isinstance(exc, asyncssh.ConnectionLost | ConnectionResetError | EOFError):
        return HostKeyFetchError(
            "closed", "connection closed before the SSH key exchange (not an SSH server, or no free SSH session?)"
        )
    if isinstance(exc, asyncssh.KeyExchangeFailed):
        return HostKeyFetchError("kex", f"SSH key exchange failed: {exc.reason}")
    if isinstance(exc, asyncssh.DisconnectError):
        return HostKeyFetchError("handshake", f"SSH handshake failed: {exc.reason} (not an SSH server?)")
    if isinstance(exc, OSError):
        return HostKeyFetchError("network", (exc.strerror or type(exc).__name__).lower())
    return HostKeyFetchError("unexpected", f"unexpected {type(exc).__name__} during the SSH key exchange")


async def fetch_host_key(
    host: str,
    port: int,
    *,
    timeout: float,
    algorithms: Sequence[str] = (),
) -> FetchedKey:
    """Connect, run the key exchange only, and return the server's host key.

    `algorithms` restricts the host key algorithms offered, as the bot's own
    sessions do once known_hosts holds a key for the host: a controller with
    both RSA and Ed25519 keys is then asked for the type the file already pins.
    Raises HostKeyFetchError with the reason in words.
    """
    try:
        async with asyncio.timeout(timeout):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
            key = await asyncssh.get_server_host_key(
                host,
                port,
                server_host_key_algs=list(algorithms) or (),
                config=None,  # the operator's ~/.ssh/config is not what the bot's sessions use
                # asyncssh would otherwise load ~/.ssh/id_* and the agent: a key scan needs neither
                options=asyncssh.SSHClientConnectionOptions(client_keys=None, agent_path=None, config=None),
            )
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        raise classify_fetch_failure(exc, timeout) from None
    if key is None:
        raise HostKeyFetchError("no_key", "the server finished the key exchange without presenting a host key")
    return FetchedKey(HostKey.from_ssh_key(key), addresses)


# ------------------------------------------------------------------ known_hosts files


@dataclass(frozen=True)
class Target:
    """A fetched key to record for one controller endpoint."""

    name: str
    host: str
    port: int
    key: HostKey
    addresses: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        return known_hosts_line(self.host, self.port, self.key)


@dataclass(frozen=True)
class StoredKey:
    """A key line of the file that applies to a target (1-based line number)."""

    line_number: int
    key: HostKey
    revoked: bool
    text: str


@dataclass(frozen=True)
class Conflict:
    """The file trusts other key(s) for the target, or marks the fetched key `@revoked`."""

    target: Target
    stored: tuple[StoredKey, ...]
    revoked: bool


@dataclass(frozen=True)
class MergeResult:
    text: str
    added: tuple[Target, ...]
    known: tuple[Target, ...]
    conflicts: tuple[Conflict, ...]


@dataclass(frozen=True)
class KnownHostsProblem:
    line_number: int
    message: str


class KnownHostsFileError(Exception):
    """Lines asyncssh cannot read: the bot's sessions would fail on this file too, so nothing is merged."""

    def __init__(self, problems: list[KnownHostsProblem]) -> None:
        super().__init__("; ".join(f"line {p.line_number}: {p.message}" for p in problems))
        self.problems = problems


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, content) of each line holding an entry; comments and blank lines are skipped."""
    out = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append((number, line))
    return out


def check_known_hosts(text: str) -> None:
    """Raise KnownHostsFileError naming every line asyncssh would reject."""
    problems = []
    for number, line in _lines(text):
        try:
            asyncssh.import_known_hosts(line)
        except ValueError as exc:
            problems.append(KnownHostsProblem(number, str(exc)))
    if problems:
        raise KnownHostsFileError(problems)


def _matches(
    known: asyncssh.SSHKnownHosts, host: str, port: int, addresses: Iterable[str]
) -> tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey]]:
    """Trusted and revoked keys for the endpoint, by asyncssh's rules (so exactly what a session would use).

    One lookup per resolved address, as a session matches its peer address.
    Revocations are also looked up under `[host]:port` alone: asyncssh's
    fallback to the plain host drops a port entry that holds only `@revoked`
    keys, and a revoked key must never be written back as trusted.
    """
    asyncssh_port = None if port == DEFAULT_SSH_PORT else port
    names = list(dict.fromkeys([host, *addresses]))
    trusted: list[asyncssh.SSHKey] = []
    revoked: list[asyncssh.SSHKey] = []
    for addr in list(addresses) or [""]:
        host_keys, _ca_keys, revoked_keys, *_x509 = known.match(host, addr, asyncssh_port)
        trusted.extend(host_keys)
        revoked.extend(revoked_keys)
    if asyncssh_port is not None:
        for name in names:
            revoked.extend(known.match(known_hosts_host(name, port), "", None)[2])
    return trusted, revoked


def _stored_lines(text: str, host: str, port: int, addresses: Sequence[str], keys: Sequence[bytes]) -> list[StoredKey]:
    """The lines holding `keys` for this endpoint: what to show an operator deciding about a conflict."""
    stored: dict[tuple[int, bytes, bool], StoredKey] = {}  # a line matching by name and address counts once
    for number, line in _lines(text):
        try:
            single = asyncssh.import_known_hosts(line)
        except ValueError:
            continue
        trusted, revoked = _matches(single, host, port, addresses)
        for key, is_revoked in [(k, False) for k in trusted] + [(k, True) for k in revoked]:
            if key.public_data in keys:
                entry = StoredKey(number, HostKey.from_ssh_key(key), is_revoked, line)
                stored.setdefault((number, key.public_data, is_revoked), entry)
    return list(stored.values())


def pinned_algorithms(text: str, endpoints: Iterable[tuple[str, int]]) -> dict[tuple[str, int], list[str]]:
    """Host key algorithms of the keys the file already trusts, per (host, port) (absent: nothing pinned).

    Fetching with these asks the controller for the key type a bot session
    would negotiate with this file (asyncssh offers only the trusted types),
    so "already known" and "changed" compare like with like. Matched by the
    inventory's host name only: the address is not known before the fetch.
    """
    known_hosts = asyncssh.import_known_hosts(text)
    pinned: dict[tuple[str, int], list[str]] = {}
    for host, port in endpoints:
        trusted, _revoked = _matches(known_hosts, host, port, ())
        algorithms = list(dict.fromkeys(alg.decode("ascii") for key in trusted for alg in key.sig_algorithms))
        if algorithms:
            pinned[(host, port)] = algorithms
    return pinned


def stored_keys(text: str, host: str, port: int, addresses: Sequence[str] = ()) -> list[StoredKey]:
    """Every key line (trusted or revoked) the file applies to the endpoint."""
    trusted, revoked = _matches(asyncssh.import_known_hosts(text), host, port, addresses)
    return _stored_lines(text, host, port, addresses, [k.public_data for k in trusted + revoked])


def merge_known_hosts(text: str, targets: Sequence[Target]) -> MergeResult:
    """Append what is new, keep what is known once, refuse what differs.

    Pure: takes the current file text, returns the new text (the old text
    byte for byte, plus appended lines) and what happened to each target.
    Raises KnownHostsFileError if the existing text has lines asyncssh rejects.
    """
    check_known_hosts(text)
    known_hosts = asyncssh.import_known_hosts(text)
    appended: list[str] = []
    added: list[Target] = []
    known: list[Target] = []
    conflicts: list[Conflict] = []
    for target in targets:
        blob = target.key.blob
        trusted, revoked = _matches(known_hosts, target.host, target.port, target.addresses)
        if any(k.public_data == blob for k in revoked):
            lines = _stored_lines(text, target.host, target.port, target.addresses, [blob])
            conflicts.append(Conflict(target, tuple(lines), revoked=True))
        elif any(k.public_data == blob for k in trusted):
            known.append(target)
        elif trusted:
            others = [k.public_data for k in trusted]
            lines = _stored_lines(text, target.host, target.port, target.addresses, others)
            conflicts.append(Conflict(target, tuple(lines), revoked=False))
        else:
            appended.append(target.line)
            known_hosts.load(target.line)  # a later target for the same endpoint sees it
            added.append(target)
    new_text = text
    if appended:
        if new_text and not new_text.endswith("\n"):
            new_text += "\n"
        new_text += "\n".join(appended) + "\n"
    return MergeResult(new_text, tuple(added), tuple(known), tuple(conflicts))
