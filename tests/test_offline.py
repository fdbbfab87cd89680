"""The kit teaches data residency; it must itself reach nothing outside this machine."""

import socket
import threading

import pytest
from conftest import run_guarded
from pytest_socket import SocketBlockedError, SocketConnectBlockedError


def test_outbound_network_is_blocked_in_tests():
    with pytest.raises((SocketBlockedError, SocketConnectBlockedError)):
        socket.create_connection(("198.51.100.7", 443), timeout=1)


def test_loopback_still_works():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    t = threading.Thread(target=lambda: server.accept()[0].sendall(b"ok"))
    t.start()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        assert c.recv(2) == b"ok"
    t.join()
    server.close()


def test_netguard_catches_egress_in_subprocesses(tmp_path):
    code = "import socket; socket.create_connection(('198.51.100.7', 80), timeout=1)"
    proc, attempts = run_guarded(["-c", code], tmp_path)
    assert proc.returncode != 0 and attempts == ["('198.51.100.7', 80)"]


def test_every_cli_command_makes_no_outbound_connection(tmp_path):
    for argv in (
        ["recommend", "--profile", "logistics", "--json"],
        ["size", "--params-b", "8", "--bits", "8", "--gpu", "L4"],
        ["profiles"],
        ["prices"],
        ["params"],
    ):
        proc, attempts = run_guarded(["-m", "kit", *argv], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert attempts == [], argv
