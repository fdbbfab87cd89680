"""Loaded by subprocesses under test: refuse and log any connection to a non-loopback address.

Set KIT_NETGUARD_LOG to a file path; each refused attempt is appended there, so a test can
assert that the kit tried to reach nothing outside this machine.
"""

import ipaddress
import os
import socket

_LOG = os.environ.get("KIT_NETGUARD_LOG")
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _loopback(address) -> bool:
    if not isinstance(address, tuple):  # unix sockets
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost


def _record(address) -> None:
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{address!r}\n")


def connect(self, address):
    if not _loopback(address):
        _record(address)
        raise ConnectionRefusedError(f"netguard: outbound connection to {address!r} blocked")
    return _connect(self, address)


def connect_ex(self, address):
    if not _loopback(address):
        _record(address)
        return 111
    return _connect_ex(self, address)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
_getaddrinfo = socket.getaddrinfo


def getaddrinfo(host, *args, **kw):
    if host not in (None, "localhost") and not _loopback((host, 0)):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            _record((host, "dns"))
            raise socket.gaierror(f"netguard: name lookup of {host!r} blocked")
    return _getaddrinfo(host, *args, **kw)


socket.getaddrinfo = getaddrinfo
