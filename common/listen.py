"""Why a listener could not start, said in terms of the config fields that fix it."""

from __future__ import annotations

import errno
import socket


class ListenError(Exception):
    """A listen address that cannot be used; ``str()`` names the field and the fix."""


def listen_problem(exc: OSError, host: str, port: int, *, host_field: str, port_field: str) -> str:
    """Describe a failed bind of ``host:port``, naming ``host_field`` or ``port_field``."""
    if isinstance(exc, socket.gaierror):
        return (
            f"{host_field}: cannot resolve {host!r} ({exc.strerror}); use an IP address such "
            "as 127.0.0.1 or a name this machine resolves"
        )
    if exc.errno == errno.EADDRINUSE:
        return (
            f"{port_field}: {host}:{port} is already in use; pick another {port_field} or stop "
            "the process that holds it"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"{host_field}: {host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 "
            "or one of its own addresses"
        )
    if exc.errno == errno.EACCES:
        return f"{port_field}: port {port} needs privileges to listen on; pick one above 1023"
    return f"{host_field}, {port_field}: cannot listen on {host}:{port}: {exc.strerror or exc}"


def resolve_listen_address(host: str, port: int, *, host_field: str, port_field: str) -> None:
    """Fail early, before anything starts, when ``host`` names no address."""
    try:
        # "" is every interface to asyncio's create_server, as None is to getaddrinfo.
        socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise ListenError(
            listen_problem(exc, host, port, host_field=host_field, port_field=port_field)
        ) from None
